/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-qcow2-threads.c - eight threads issue random reads, writes, zero
 * writes and discards of random (unaligned) offsets and lengths to one qcow2
 * node, and every result is checked against a shadow copy of the disk kept
 * in memory.  The shadow is guarded by one lock per 4 KiB block: a request
 * holds the locks of the blocks it touches while it runs, so requests on
 * different blocks run at once even when they share a cluster (64 KiB or
 * 4 KiB clusters here) and the expected content is always known.  At the
 * end the image is closed and reopened, compared whole with the shadow,
 * checked by strata and by qemu-img, and read back by qemu-img.
 *
 * Configurations: plain, lazy refcounts with 4 KiB clusters, extended L2
 * entries, over a backing file, and LUKS encryption. */
#include "hostfile.h"
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MiB (1024ull * 1024ull)
#define NTHREADS 8
#define OPS_PER_THREAD 400
#define BLOCK 4096u
#define DISK (24 * MiB)
#define NBLOCKS (DISK / BLOCK)
#define MAXREQ (300 * 1024u)

static struct strata_node *node;
static uint8_t *shadow;
static bool have_backing;
static pthread_mutex_t locks[NBLOCKS];

struct worker {
    pthread_t tid;
    uint64_t rng;
    int result;
    char msg[512];
};

static uint64_t rnd(struct worker *w)
{
    /* xorshift64*: each thread has its own reproducible sequence. */
    w->rng ^= w->rng >> 12;
    w->rng ^= w->rng << 25;
    w->rng ^= w->rng >> 27;
    return w->rng * 0x2545f4914f6cdd1dull;
}

static void lock_range(uint64_t off, uint64_t len)
{
    for (uint64_t b = off / BLOCK; b <= (off + len - 1) / BLOCK; b++)
        pthread_mutex_lock(&locks[b]);
}

static void unlock_range(uint64_t off, uint64_t len)
{
    for (uint64_t b = off / BLOCK; b <= (off + len - 1) / BLOCK; b++)
        pthread_mutex_unlock(&locks[b]);
}

static int fail(struct worker *w, struct strata_error *err, const char *fmt, ...)
    STRATA_PRINTF(3, 4);
static int fail(struct worker *w, struct strata_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->msg, sizeof w->msg, fmt, ap);
    va_end(ap);
    if (err && n > 0 && (size_t)n < sizeof w->msg)
        snprintf(w->msg + n, sizeof w->msg - (size_t)n, ": %s", err->msg);
    strata_error_free(err);
    return -1;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint8_t *buf = malloc(MAXREQ);
    for (int i = 0; i < OPS_PER_THREAD && w->result == 0; i++) {
        uint64_t r = rnd(w);
        /* Mostly small requests, some spanning several clusters. */
        uint64_t len = (r >> 8) % 8 == 0 ? 1 + (r >> 16) % MAXREQ : 1 + (r >> 16) % 9000;
        uint64_t off = rnd(w) % (DISK - len);
        unsigned op = (unsigned)(r % 16);
        struct strata_error *err = NULL;
        lock_range(off, len);
        if (op < 7) {
            memset(buf, 0xee, len);
            if (strata_pread(node, off, len, buf, 0, &err) < 0)
                w->result = fail(w, err, "read %llu+%llu", (unsigned long long)off,
                                 (unsigned long long)len);
            else if (memcmp(buf, shadow + off, len) != 0)
                w->result = fail(w, NULL, "read %llu+%llu differs from the shadow",
                                 (unsigned long long)off, (unsigned long long)len);
        } else if (op < 14) {
            tu_fill(buf, off, len, (uint32_t)r);
            if (strata_pwrite(node, off, len, buf, 0, &err) < 0)
                w->result = fail(w, err, "write %llu+%llu", (unsigned long long)off,
                                 (unsigned long long)len);
            else
                memcpy(shadow + off, buf, len);
        } else if (op == 14) {
            if (strata_pwrite_zeroes(node, off, len, STRATA_REQ_MAY_UNMAP, &err) < 0)
                w->result = fail(w, err, "write zeroes %llu+%llu", (unsigned long long)off,
                                 (unsigned long long)len);
            else
                memset(shadow + off, 0, len);
        } else {
            /* Discard: qcow2 drops whole clusters only, and what it drops
             * reads from the backing file or as zeros, so the shadow cannot
             * say what a discarded range holds.  Write zeros, then discard:
             * the range reads as zeros either way, except where it falls
             * back to a backing file; these runs discard only without one. */
            if (strata_pwrite_zeroes(node, off, len, 0, &err) < 0 ||
                (!have_backing && strata_pdiscard(node, off, len, &err) < 0))
                w->result = fail(w, err, "zero+discard %llu+%llu", (unsigned long long)off,
                                 (unsigned long long)len);
            else
                memset(shadow + off, 0, len);
        }
        unlock_range(off, len);
        if (i % 50 == 49) {
            if (strata_flush(node, &err) < 0)
                w->result = fail(w, err, "flush");
        }
    }
    free(buf);
    return NULL;
}

static bool same_as_shadow(struct strata_node *n)
{
    uint8_t *b = malloc(MiB);
    bool ok = true;
    for (uint64_t off = 0; off < DISK && ok; off += MiB) {
        struct strata_error *err = NULL;
        ok = strata_pread(n, off, MiB, b, 0, &err) == 0 && memcmp(b, shadow + off, MiB) == 0;
        if (!ok)
            fprintf(stderr, "\n    differs in the MiB at %llu%s%s\n", (unsigned long long)off,
                    err ? ": " : "", err ? err->msg : "");
        strata_error_free(err);
    }
    free(b);
    return ok;
}

/* One run: `create` are qcow2 create options, `open` extra dotted options
 * for opening (encryption secret), `backing` whether a backing file with a
 * pattern sits below. */
static void run(const char *name, const char *create, const char *open_extra, bool backing)
{
    const char *img = tu_path(name);
    char base[512] = "";
    struct strata_error *err = NULL;
    shadow = calloc(1, DISK);
    have_backing = backing;
    unlink(img);
    if (backing) {
        snprintf(base, sizeof base, "%s.base", img);
        uint8_t *b = malloc(DISK);
        tu_fill(b, 0, DISK, 77);
        int fd = open(base, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        CU_ASSERT_FATAL(fd >= 0);
        CU_ASSERT_EQUAL_FATAL(write(fd, b, DISK), (ssize_t)DISK);
        close(fd);
        memcpy(shadow, b, DISK);
        free(b);
        CU_ASSERT_EQUAL_FATAL(tu_sh("qemu-img create -q -f qcow2 -b '%s' -F raw -o '%s' '%s'",
                                 base, create, img), 0);
    } else {
        struct strata_opts *o = strata_opts_new();
        CU_ASSERT_EQUAL_FATAL(strata_opts_parse(o, create, NULL, &err), 0);
        int r = strata_image_create("qcow2", img, DISK, o, &err);
        if (r < 0)
            fprintf(stderr, "\n    create: %s\n", err ? err->msg : "?");
        CU_ASSERT_EQUAL_FATAL(r, 0);
        strata_opts_free(o);
    }
    char spec[1024];
    snprintf(spec, sizeof spec, "driver=qcow2,file.filename=%s%s%s", img,
             open_extra[0] ? "," : "", open_extra);
    CU_ASSERT_EQUAL_FATAL(strata_open_string(spec, STRATA_O_RDWR, &node, &err), 0);

    struct worker w[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        w[t] = (struct worker){ .rng = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1) ^
                                       (uint64_t)strlen(name) };
        CU_ASSERT_EQUAL_FATAL(pthread_create(&w[t].tid, NULL, worker_main, &w[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(w[t].tid, NULL);
        if (w[t].result)
            fprintf(stderr, "\n    %s, thread %d: %s\n", name, t, w[t].msg);
        CU_ASSERT_EQUAL(w[t].result, 0);
    }
    CU_ASSERT(same_as_shadow(node));
    strata_close(node);
    node = NULL;

    /* Reopened: the same content, and a clean image for strata and qemu. */
    CU_ASSERT_EQUAL_FATAL(strata_open_string(spec, 0, &node, &err), 0);
    CU_ASSERT(same_as_shadow(node));
    struct strata_check_result res = { 0 };
    CU_ASSERT_EQUAL(strata_image_check(node, &res, 0, &err), 0);
    CU_ASSERT_EQUAL(res.corruptions, 0);
    CU_ASSERT_EQUAL(res.leaks, 0);
    strata_check_result_clear(&res);
    strata_close(node);
    node = NULL;

    char raw[600];
    snprintf(raw, sizeof raw, "%s.raw", img);
    const char *secret = strstr(open_extra, "encrypt.key-secret=") ? "--object secret,id=sec0,"
                                                                     "data=thread-pass " : "";
    CU_ASSERT_EQUAL(tu_sh("qemu-img check -q %s--image-opts '%s'", secret, spec), 0);
    CU_ASSERT_EQUAL(tu_sh("qemu-img convert %s--image-opts '%s' -O raw '%s'", secret, spec, raw),
                    0);
    int fd = open(raw, O_RDONLY);
    uint8_t *b = malloc(DISK);
    CU_ASSERT_EQUAL(read(fd, b, DISK), (ssize_t)DISK);
    close(fd);
    CU_ASSERT(memcmp(b, shadow, DISK) == 0);
    free(b);
    free(shadow);
    shadow = NULL;
}

static void test_plain(void)
{
    run("plain.qcow2", "cluster_size=65536", "", false);
}

static void test_lazy_small_clusters(void)
{
    run("lazy.qcow2", "cluster_size=4096,lazy_refcounts=on", "", false);
}

static void test_extended_l2(void)
{
    run("ext.qcow2", "cluster_size=65536,extended_l2=on", "", false);
}

static void test_backing(void)
{
    run("over.qcow2", "cluster_size=16384", "", true);
}

static void test_luks(void)
{
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_secret_add("sec0", "thread-pass", 11, &err), 0);
    run("luks.qcow2", "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10",
        "encrypt.key-secret=sec0", false);
    strata_secret_remove("sec0");
}

int main(void)
{
    for (size_t i = 0; i < NBLOCKS; i++)
        pthread_mutex_init(&locks[i], NULL);
    static const struct tu_test tests[] = {
        { "64 KiB clusters", test_plain },
        { "4 KiB clusters, lazy refcounts", test_lazy_small_clusters },
        { "extended L2 entries", test_extended_l2 },
        { "over a backing file", test_backing },
        { "LUKS encrypted", test_luks },
        { NULL, NULL },
    };
    tu_add_suite("qcow2 eight threads against a shadow copy", NULL, NULL, tests);
    return tu_run();
}
