/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-matrix.c - the driver matrix: one list of I/O tests run over every
 * stack named in tests/matrix/matrix.list (see the top of that file for its
 * format).  Each row is a CUnit suite: unaligned reads and writes, writes
 * across 4K/64K/1M boundaries, write zeroes and discard, four concurrent
 * writers on disjoint ranges, resizing, flush, and reopening.  Expected data
 * is computed independently with tu_fill(), never read back from the stack
 * under test. */
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1024ull * 1024ull)
#define KiB 1024ull
#define MATRIX_MIN_SIZE (24 * MiB)

struct row {
    char name[64];
    char format[32];
    char image[256];
    char size[32];
    char create[1024];
    char config[256];
    char qemu[1024];
    char qemu_object[1024];
    char files[4][512];
    int nfiles;
    bool truncate;
    bool discard_zeroes;
};

static struct row rows[64];
static size_t nrows;
static char list_dir[PATH_MAX];

/* The row being run: suites run in registration order and CUnit calls each
 * one's init exactly once, so init advances this. */
static size_t cur = (size_t)-1;
static struct strata_node *node;
static char row_dir[PATH_MAX];
static char conf_path[PATH_MAX + 32];

/* ------------------------------------------------------------ the list */

static bool row_selected(const char *name)
{
    const char *sel = getenv("STRATA_MATRIX_ROWS");
    if (!sel || !*sel)
        return true;
    size_t n = strlen(name);
    for (const char *p = sel; (p = strstr(p, name)); p += n)
        if ((p == sel || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
            return true;
    return false;
}

static int parse_field(struct row *r, const char *f, const char *where)
{
    const char *eq = strchr(f, '=');
    if (!eq) {
        fprintf(stderr, "%s: field '%s' is not key=value\n", where, f);
        return -1;
    }
    size_t kl = (size_t)(eq - f);
    const char *v = eq + 1;
#define FIELD(key, dst)                                                    \
    if (kl == strlen(key) && strncmp(f, key, kl) == 0) {                   \
        snprintf(dst, sizeof dst, "%s", v);                                \
        return 0;                                                          \
    }
    FIELD("name", r->name)
    FIELD("format", r->format)
    FIELD("image", r->image)
    FIELD("size", r->size)
    FIELD("create", r->create)
    FIELD("config", r->config)
    FIELD("qemu", r->qemu)
    FIELD("qemu-object", r->qemu_object)
#undef FIELD
    if (kl == 4 && strncmp(f, "file", 4) == 0) {
        if (r->nfiles == 4 || !strchr(v, ':')) {
            fprintf(stderr, "%s: bad or too many file= fields\n", where);
            return -1;
        }
        snprintf(r->files[r->nfiles++], sizeof r->files[0], "%s", v);
        return 0;
    }
    if (kl == 8 && strncmp(f, "features", 8) == 0) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", v);
        for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (strcmp(t, "truncate") == 0)
                r->truncate = true;
            else if (strcmp(t, "discard-zeroes") == 0)
                r->discard_zeroes = true;
            else if (strcmp(t, "-") != 0) {
                fprintf(stderr, "%s: unknown feature '%s'\n", where, t);
                return -1;
            }
        }
        return 0;
    }
    fprintf(stderr, "%s: unknown field '%.*s'\n", where, (int)kl, f);
    return -1;
}

static int load_list(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open matrix list %s\n", path);
        return -1;
    }
    snprintf(list_dir, sizeof list_dir, "%s", path);
    char *slash = strrchr(list_dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(list_dir, sizeof list_dir, ".");

    char line[4096];
    int lineno = 0, ret = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char where[PATH_MAX + 32];
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        struct row r;
        memset(&r, 0, sizeof r);
        int nf = 0;
        for (char *save, *t = strtok_r(line, " \t\r\n", &save); t;
             t = strtok_r(NULL, " \t\r\n", &save), nf++)
            if (parse_field(&r, t, where) < 0)
                ret = -1;
        if (nf == 0)
            continue;
        if (!r.name[0] || !r.format[0] || !r.image[0] || !r.size[0] || !r.config[0] ||
            !r.qemu[0]) {
            fprintf(stderr, "%s: a row needs name, format, image, size, config and qemu\n",
                    where);
            ret = -1;
            continue;
        }
        if (!row_selected(r.name))
            continue;
        if (nrows == sizeof rows / sizeof rows[0]) {
            fprintf(stderr, "%s: too many rows\n", where);
            ret = -1;
            break;
        }
        rows[nrows++] = r;
    }
    fclose(f);
    return ret;
}

/* ------------------------------------------------------------ set-up */

static int write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    if (!f || fwrite(text, 1, len, f) != len) {
        fprintf(stderr, "cannot write %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f);
}

/* text with every "@DIR@" replaced by the row's directory (malloc'ed). */
static char *subst_dir(const char *text)
{
    size_t cap = strlen(text) + 1, len = 0;
    for (const char *p = text; (p = strstr(p, "@DIR@")); p += 5)
        cap += strlen(row_dir);
    char *out = malloc(cap);
    for (const char *p = text; *p;) {
        if (strncmp(p, "@DIR@", 5) == 0) {
            memcpy(out + len, row_dir, strlen(row_dir));
            len += strlen(row_dir);
            p += 5;
        } else {
            out[len++] = *p++;
        }
    }
    out[len] = 0;
    return out;
}

/* Copies the template with @DIR@ replaced by the row's directory. */
static int instantiate_config(const struct row *r)
{
    char tmpl[PATH_MAX + 300];
    snprintf(tmpl, sizeof tmpl, "%s/%s", list_dir, r->config);
    FILE *f = fopen(tmpl, "r");
    if (!f) {
        fprintf(stderr, "row %s: cannot open config template %s\n", r->name, tmpl);
        return -1;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    char line[4096];
    while (fgets(line, sizeof line, f))
        fputs(line, mem);
    fclose(f);
    fclose(mem);
    char *out = subst_dir(text);
    int ret = write_text(conf_path, out, strlen(out));
    free(out);
    free(text);
    return ret;
}

static int row_init(void)
{
    struct row *r = &rows[++cur];
    struct strata_error *err = NULL;
    node = NULL;

    snprintf(row_dir, sizeof row_dir, "%s/%s", tu_tmpdir(), r->name);
    if (mkdir(row_dir, 0755) < 0 && errno != EEXIST)
        return 1;
    snprintf(conf_path, sizeof conf_path, "%s/stack.conf", row_dir);
    for (int i = 0; i < r->nfiles; i++) {
        char name[512], path[PATH_MAX + 512];
        const char *colon = strchr(r->files[i], ':');
        snprintf(name, sizeof name, "%.*s", (int)(colon - r->files[i]), r->files[i]);
        snprintf(path, sizeof path, "%s/%s", row_dir, name);
        if (write_text(path, colon + 1, strlen(colon + 1)) < 0)
            return 1;
    }
    if (instantiate_config(r) < 0)
        return 1;

    uint64_t size;
    struct strata_opts *copts = strata_opts_new(), *stack = NULL;
    char image[PATH_MAX + 300];
    snprintf(image, sizeof image, "%s/%s", row_dir, r->image);
    int ret = strata_parse_size(r->size, &size, &err);
    if (ret == 0 && r->create[0])
        ret = strata_opts_parse(copts, r->create, NULL, &err);
    if (ret == 0)
        ret = strata_config_load(conf_path, &stack, &err);
    if (ret == 0)
        ret = strata_image_create(r->format, image, size, copts, &err);
    if (ret == 0)
        ret = strata_open_config(conf_path, STRATA_O_RDWR, &node, &err);
    strata_opts_free(copts);
    strata_opts_free(stack);
    if (ret == 0 && strata_get_length(node) < (int64_t)MATRIX_MIN_SIZE) {
        fprintf(stderr, "row %s: the stack is %lld bytes, the tests need %llu\n", r->name,
                (long long)strata_get_length(node), MATRIX_MIN_SIZE);
        ret = -EINVAL;
    }
    if (ret < 0) {
        fprintf(stderr, "\nrow %s: set-up failed: %s\n", r->name, err ? err->msg : "");
        strata_error_free(err);
        return 1;
    }
    return 0;
}

static int row_clean(void)
{
    if (node)
        strata_close(node);
    node = NULL;
    return 0;
}

/* ------------------------------------------------------------ helpers */

static int write_pattern(uint64_t off, uint64_t len, uint32_t seed)
{
    const uint64_t chunk = MiB;
    uint8_t *b = malloc(chunk);
    int r = 0;
    for (uint64_t done = 0; done < len && r == 0;) {
        uint64_t n = len - done < chunk ? len - done : chunk;
        tu_fill(b, off + done, n, seed);
        struct strata_error *err = NULL;
        r = strata_pwrite(node, off + done, n, b, 0, &err);
        if (r < 0)
            fprintf(stderr, "\n    write %llu+%llu: %s\n", (unsigned long long)(off + done),
                    (unsigned long long)n, err ? err->msg : "");
        strata_error_free(err);
        done += n;
    }
    free(b);
    return r;
}

/* Reads [off, off+len) in odd-sized pieces and compares with exp; a byte
 * whose `loose` flag is set may also read as zero.  Returns the first bad
 * offset or -1. */
static int64_t verify(uint64_t off, uint64_t len, const uint8_t *exp, const uint8_t *loose)
{
    const uint64_t piece = 99991;
    uint8_t *b = malloc(piece + 1);
    int64_t bad = -1;
    for (uint64_t done = 0; done < len && bad < 0;) {
        uint64_t n = len - done < piece ? len - done : piece;
        struct strata_error *err = NULL;
        /* +1: the buffer is deliberately unaligned. */
        if (strata_pread(node, off + done, n, b + 1, 0, &err) < 0) {
            fprintf(stderr, "\n    read %llu+%llu: %s\n", (unsigned long long)(off + done),
                    (unsigned long long)n, err ? err->msg : "");
            bad = (int64_t)(off + done);
        }
        strata_error_free(err);
        for (uint64_t i = 0; i < n && bad < 0; i++) {
            uint8_t got = b[1 + i], want = exp[done + i];
            if (got != want && !(loose && loose[done + i] && got == 0))
                bad = (int64_t)(off + done + i);
        }
        done += n;
    }
    free(b);
    if (bad >= 0)
        fprintf(stderr, "\n    row %s: wrong data at offset %lld\n", rows[cur].name,
                (long long)bad);
    return bad;
}

struct extent {
    uint64_t off, len;
};

/* ------------------------------------------------------------ tests */

static void test_unaligned(void)
{
    const uint64_t base = 0, len = 4 * MiB;
    static const struct extent w[] = {
        { 1, 1 }, { 511, 3 }, { 4095, 4098 }, { 12345, 54321 }, { 200000, 333333 },
        { MiB - 1, 2 }, { 2 * MiB + 7, MiB + 9 },
    };
    uint8_t *exp = malloc(len);
    tu_fill(exp, base, len, 1);
    CU_ASSERT_EQUAL_FATAL(write_pattern(base, len, 1), 0);
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        CU_ASSERT_EQUAL(write_pattern(w[i].off, w[i].len, 2), 0);
        tu_fill(exp + (w[i].off - base), w[i].off, w[i].len, 2);
    }
    CU_ASSERT_EQUAL(verify(base, len, exp, NULL), -1);

    /* Each write read back exactly, into unaligned memory. */
    uint8_t *b = malloc(2 * MiB);
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        struct strata_error *err = NULL;
        CU_ASSERT_EQUAL(strata_pread(node, w[i].off, w[i].len, b + 3, 0, &err), 0);
        CU_ASSERT_EQUAL(tu_check(b + 3, w[i].off, w[i].len, 2), -1);
        strata_error_free(err);
    }
    free(b);
    free(exp);
}

static void test_boundaries(void)
{
    const uint64_t base = 4 * MiB, len = 4 * MiB;
    static const struct extent w[] = {
        { 4 * MiB + 40 * KiB - 1000, 4000 },                 /* one 4K boundary */
        { 4 * MiB + 100 * KiB - 5, 3 * 4 * KiB + 10 },       /* several 4K */
        { 5 * MiB + 192 * KiB - 1000, 4000 },                /* a 64K boundary */
        { 5 * MiB + 600 * KiB - 7, 128 * KiB + 14 },         /* two 64K */
        { 6 * MiB + 256 * KiB, 64 * KiB },                   /* exactly 64K */
        { 7 * MiB - 3000, 7000 },                            /* a 1M boundary */
        { 7 * MiB + 512 * KiB + 1, 512 * KiB - 2 },          /* up to the next 1M */
    };
    uint8_t *exp = malloc(len);
    tu_fill(exp, base, len, 3);
    CU_ASSERT_EQUAL_FATAL(write_pattern(base, len, 3), 0);
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        CU_ASSERT_EQUAL(write_pattern(w[i].off, w[i].len, 4), 0);
        tu_fill(exp + (w[i].off - base), w[i].off, w[i].len, 4);
    }
    CU_ASSERT_EQUAL(verify(base, len, exp, NULL), -1);
    free(exp);
}

static void test_zero_discard(void)
{
    const uint64_t base = 8 * MiB, len = 2 * MiB;
    uint8_t *exp = malloc(len), *loose = calloc(1, len);
    tu_fill(exp, base, len, 5);
    CU_ASSERT_EQUAL_FATAL(write_pattern(base, len, 5), 0);
    struct strata_error *err = NULL;

    CU_ASSERT_EQUAL(strata_pwrite_zeroes(node, base + 1000, 300000, 0, &err), 0);
    memset(exp + 1000, 0, 300000);
    CU_ASSERT_EQUAL(strata_pwrite_zeroes(node, base + 512 * KiB, 256 * KiB,
                                         STRATA_REQ_MAY_UNMAP, &err), 0);
    memset(exp + 512 * KiB, 0, 256 * KiB);
    CU_ASSERT_EQUAL(strata_pwrite_zeroes(node, base + 800 * KiB + 3, 5000,
                                         STRATA_REQ_MAY_UNMAP, &err), 0);
    memset(exp + 800 * KiB + 3, 0, 5000);

    /* Discard: zeros where the stack promises them, else old data or zeros;
     * unaligned edges may always keep their data. */
    CU_ASSERT_EQUAL(strata_pdiscard(node, base + MiB, 512 * KiB, &err), 0);
    if (rows[cur].discard_zeroes)
        memset(exp + MiB, 0, 512 * KiB);
    else
        memset(loose + MiB, 1, 512 * KiB);
    CU_ASSERT_EQUAL(strata_pdiscard(node, base + MiB + 600 * KiB + 1, 10000, &err), 0);
    memset(loose + MiB + 600 * KiB + 1, 1, 10000);
    if (err)
        fprintf(stderr, "\n    %s\n", err->msg);
    strata_error_free(err);
    CU_ASSERT_EQUAL(verify(base, len, exp, loose), -1);
    free(exp);
    free(loose);
}

#define NTHREADS 4

struct writer {
    pthread_t tid;
    uint64_t start, end;
    uint32_t seed;
    int result;
    char msg[512];
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    static const uint64_t sizes[] = { 4095, 65537, 1000, 131075, 512, 7, 262144 };
    uint8_t *b = malloc(262144);
    size_t k = 0;
    for (uint64_t off = w->start; off < w->end && w->result == 0; k++) {
        uint64_t n = sizes[k % (sizeof sizes / sizeof sizes[0])];
        if (n > w->end - off)
            n = w->end - off;
        tu_fill(b, off, n, w->seed);
        struct strata_error *err = NULL;
        w->result = strata_pwrite(node, off, n, b, 0, &err);
        if (err)
            snprintf(w->msg, sizeof w->msg, "%s", err->msg);
        strata_error_free(err);
        off += n;
    }
    free(b);
    return NULL;
}

static void test_concurrent(void)
{
    /* Neighbouring ranges meet 333 bytes off a 4K boundary, so writers
     * share aligned blocks and depend on the core's read-modify-write
     * being serialised. */
    const uint64_t base = 10 * MiB, span = 2 * MiB + 333;
    struct writer w[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        w[t] = (struct writer){ .start = base + t * span, .end = base + (t + 1) * span,
                                .seed = 10u + (uint32_t)t };
    }
    for (int t = 0; t < NTHREADS; t++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&w[t].tid, NULL, writer_main, &w[t]), 0);
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(w[t].tid, NULL);
        if (w[t].result)
            fprintf(stderr, "\n    writer %d: %s\n", t, w[t].msg);
        CU_ASSERT_EQUAL(w[t].result, 0);
    }
    uint64_t len = NTHREADS * span;
    uint8_t *exp = malloc(len);
    for (int t = 0; t < NTHREADS; t++)
        tu_fill(exp + t * span, w[t].start, span, w[t].seed);
    CU_ASSERT_EQUAL(verify(base, len, exp, NULL), -1);
    free(exp);
}

static void test_truncate(void)
{
    struct strata_error *err = NULL;
    int64_t len = strata_get_length(node);
    CU_ASSERT_FATAL(len >= (int64_t)MATRIX_MIN_SIZE);
    if (!rows[cur].truncate) {
        CU_ASSERT(strata_truncate(node, (uint64_t)len + MiB, false, STRATA_PREALLOC_OFF,
                                  &err) < 0);
        CU_ASSERT_PTR_NOT_NULL(err);
        strata_error_free(err);
        CU_ASSERT_EQUAL(strata_get_length(node), len);
        return;
    }
    uint64_t l = (uint64_t)len;
    CU_ASSERT_EQUAL_FATAL(write_pattern(l - 8192, 8192, 6), 0);
    CU_ASSERT_EQUAL(strata_truncate(node, l + MiB, false, STRATA_PREALLOC_OFF, &err), 0);
    CU_ASSERT_EQUAL(strata_get_length(node), (int64_t)(l + MiB));
    uint8_t *exp = calloc(1, MiB + 8192);
    tu_fill(exp, l - 8192, 8192, 6);
    CU_ASSERT_EQUAL(verify(l - 8192, MiB + 8192, exp, NULL), -1);
    CU_ASSERT_EQUAL(write_pattern(l + MiB - 100, 100, 7), 0);
    tu_fill(exp + 8192 + MiB - 100, l + MiB - 100, 100, 7);
    CU_ASSERT_EQUAL(verify(l - 8192, MiB + 8192, exp, NULL), -1);
    /* Back to the old size: the new tail is gone, the old one stays. */
    CU_ASSERT_EQUAL(strata_truncate(node, l, false, STRATA_PREALLOC_OFF, &err), 0);
    CU_ASSERT_EQUAL(strata_get_length(node), len);
    CU_ASSERT_EQUAL(verify(l - 8192, 8192, exp, NULL), -1);
    uint8_t b[16];
    CU_ASSERT(strata_pread(node, l, sizeof b, b, 0, &err) < 0);
    if (err && err->code != EINVAL)
        fprintf(stderr, "\n    %s\n", err->msg);
    strata_error_free(err);
    free(exp);
}

static void test_flush(void)
{
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(write_pattern(18 * MiB + 5, 12345, 8), 0);
    CU_ASSERT_EQUAL(strata_flush(node, &err), 0);
    if (err)
        fprintf(stderr, "\n    %s\n", err->msg);
    strata_error_free(err);
}

static void test_reopen(void)
{
    const uint64_t base = 19 * MiB + 123, len = 700000;
    CU_ASSERT_EQUAL_FATAL(write_pattern(base, len, 9), 0);
    int64_t size = strata_get_length(node);
    strata_close(node);
    node = NULL;

    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_config(conf_path, 0, &node, &err), 0);
    uint8_t *exp = malloc(len);
    tu_fill(exp, base, len, 9);
    CU_ASSERT_EQUAL(strata_get_length(node), size);
    CU_ASSERT_EQUAL(verify(base, len, exp, NULL), -1);
    /* Everything the earlier tests left is still there. */
    uint8_t *e2 = malloc(12345);
    tu_fill(e2, 18 * MiB + 5, 12345, 8);
    CU_ASSERT_EQUAL(verify(18 * MiB + 5, 12345, e2, NULL), -1);
    free(e2);
    strata_close(node);
    node = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_config(conf_path, STRATA_O_RDWR, &node, &err), 0);
    CU_ASSERT_EQUAL(verify(base, len, exp, NULL), -1);
    free(exp);
    if (err)
        fprintf(stderr, "\n    %s\n", err->msg);
    strata_error_free(err);
}

/* Runs argv; returns the exit status, output (stdout and stderr) in out. */
static int run(char *const argv[], char *out, size_t len)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    size_t have = 0;
    ssize_t n;
    while ((n = read(p[0], out + have, len - 1 - have)) > 0) {
        have += (size_t)n;
        if (have == len - 1)
            have = 0;
    }
    out[have] = 0;
    close(p[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* qemu-io, opening the same image its own way (the row's qemu= options),
 * reads what strata wrote, and strata reads what qemu-io wrote. */
static void test_peer(void)
{
    const uint64_t a = 20 * MiB + 1, alen = 300000;
    const uint64_t b = 21 * MiB, blen = 65536, c = 21 * MiB + 512 * KiB + 3, clen = 1000;
    uint8_t *buf = malloc(alen);
    memset(buf, 0xab, alen);
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_pwrite(node, a, alen, buf, 0, &err), 0);
    CU_ASSERT_EQUAL_FATAL(strata_flush(node, &err), 0);
    strata_close(node);
    node = NULL;

    char *opts = subst_dir(rows[cur].qemu), *obj = subst_dir(rows[cur].qemu_object);
    char c1[128], c2[128], c3[128];
    snprintf(c1, sizeof c1, "read -P 0xab %llu %llu", (unsigned long long)a,
             (unsigned long long)alen);
    snprintf(c2, sizeof c2, "write -P 0xcd %llu %llu", (unsigned long long)b,
             (unsigned long long)blen);
    snprintf(c3, sizeof c3, "write -P 0xef %llu %llu", (unsigned long long)c,
             (unsigned long long)clen);
    char *argv[16];
    int i = 0;
    argv[i++] = "qemu-io";
    if (*obj) {
        argv[i++] = "--object";
        argv[i++] = obj;
    }
    argv[i++] = "--image-opts";
    argv[i++] = "-c";
    argv[i++] = c1;
    argv[i++] = "-c";
    argv[i++] = c2;
    argv[i++] = "-c";
    argv[i++] = c3;
    argv[i++] = opts;
    argv[i] = NULL;
    char out[16384];
    int rc = run(argv, out, sizeof out);
    bool ok = rc == 0 && !strstr(out, "Pattern verification failed") &&
              !strstr(out, "qemu-io:");
    if (!ok)
        fprintf(stderr, "\n    qemu-io (exit %d):\n%s\n", rc, out);
    CU_ASSERT(ok);
    free(opts);
    free(obj);

    CU_ASSERT_EQUAL_FATAL(strata_open_config(conf_path, STRATA_O_RDWR, &node, &err), 0);
    CU_ASSERT_EQUAL(strata_pread(node, b, blen, buf, 0, &err), 0);
    CU_ASSERT(tu_all_byte(buf, blen, 0xcd));
    CU_ASSERT_EQUAL(strata_pread(node, c, clen, buf + 1, 0, &err), 0);
    CU_ASSERT(tu_all_byte(buf + 1, clen, 0xef));
    CU_ASSERT_EQUAL(strata_pread(node, a, alen, buf, 0, &err), 0);
    CU_ASSERT(tu_all_byte(buf, alen, 0xab));
    if (err)
        fprintf(stderr, "\n    %s\n", err->msg);
    strata_error_free(err);
    free(buf);
}

int main(int argc, char **argv)
{
    const char *list = argc > 1 ? argv[1] : getenv("STRATA_MATRIX");
    if (!list || !*list)
        list = tu_src_path("tests/matrix/matrix.list");
    if (load_list(list) < 0)
        return 1;
    if (nrows == 0) {
        fprintf(stderr, "%s: no rows to run\n", list);
        return 1;
    }
    static const struct tu_test tests[] = {
        { "unaligned reads and writes", test_unaligned },
        { "writes across 4K/64K/1M boundaries", test_boundaries },
        { "write zeroes and discard read back", test_zero_discard },
        { "4 concurrent writers on disjoint ranges", test_concurrent },
        { "truncate and grow", test_truncate },
        { "flush", test_flush },
        { "reopen and re-verify", test_reopen },
        { "qemu-io reads and writes the same image", test_peer },
        { NULL, NULL },
    };
    for (size_t i = 0; i < nrows; i++) {
        char name[96];
        snprintf(name, sizeof name, "matrix %.63s", rows[i].name);
        tu_add_suite(name, row_init, row_clean, tests);
    }
    return tu_run();
}
