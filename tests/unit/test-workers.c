/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-workers.c - the core's worker pool: pieces run at once and each
 * exactly once, the first failure is what the caller gets, a job started
 * from a piece runs inline, the size follows STRATA_THREADS and the library
 * call; and the encryption paths that split a request across the pool
 * (LUKS1, LUKS2 with 512- and 4096-byte sectors, whose IVs count 512-byte
 * units, and LUKS-encrypted qcow2) write exactly the ciphertext the serial
 * path writes, and read back the plaintext, for requests of many sizes. */
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KiB 1024u
#define MiB (1024u * 1024u)

/* ------------------------------------------------------------ the pool */
struct meet {
    atomic_uint arrived;
    unsigned want;
    atomic_uint met;
};

/* Every piece waits (up to 10 s) until all have arrived: only pieces that
 * run at the same time can all meet. */
static int meet_piece(void *opaque, size_t i, struct strata_error **errp)
{
    struct meet *m = opaque;
    atomic_fetch_add(&m->arrived, 1);
    for (int k = 0; k < 10000 && atomic_load(&m->arrived) < m->want; k++)
        usleep(1000);
    if (atomic_load(&m->arrived) >= m->want)
        atomic_fetch_add(&m->met, 1);
    return 0;
}

static void test_concurrent(void)
{
    CU_ASSERT_EQUAL_FATAL(strata_workers_set_threads(4, NULL), 0);
    CU_ASSERT_EQUAL(strata_workers_threads(), 4);
    struct meet m = { .want = 4 };
    CU_ASSERT_EQUAL(strata_workers_run(4, meet_piece, &m, NULL), 0);
    CU_ASSERT_EQUAL(atomic_load(&m.met), 4);
}

struct count {
    atomic_uint hits[1000];
    pthread_t caller;
    atomic_uint on_caller;
};

static int count_piece(void *opaque, size_t i, struct strata_error **errp)
{
    struct count *c = opaque;
    atomic_fetch_add(&c->hits[i], 1);
    if (pthread_equal(pthread_self(), c->caller))
        atomic_fetch_add(&c->on_caller, 1);
    return 0;
}

static void test_each_once(void)
{
    static struct count c;
    for (unsigned threads = 1; threads <= 3; threads++) {
        memset(&c, 0, sizeof c);
        c.caller = pthread_self();
        CU_ASSERT_EQUAL_FATAL(strata_workers_set_threads(threads, NULL), 0);
        CU_ASSERT_EQUAL(strata_workers_run(1000, count_piece, &c, NULL), 0);
        for (size_t i = 0; i < 1000; i++)
            CU_ASSERT_EQUAL(atomic_load(&c.hits[i]), 1);
        /* One thread: the caller alone, no pool thread. */
        if (threads == 1)
            CU_ASSERT_EQUAL(atomic_load(&c.on_caller), 1000);
    }
}

static int fail_piece(void *opaque, size_t i, struct strata_error **errp)
{
    const size_t *bad = opaque;
    if (i == *bad)
        return strata_error_set(errp, EIO, "piece %zu: simulated failure", i);
    return 0;
}

static void test_error(void)
{
    CU_ASSERT_EQUAL_FATAL(strata_workers_set_threads(3, NULL), 0);
    for (size_t bad = 0; bad < 64; bad += 7) {
        struct strata_error *err = NULL;
        CU_ASSERT_EQUAL(strata_workers_run(64, fail_piece, &bad, &err), -EIO);
        CU_ASSERT_PTR_NOT_NULL_FATAL(err);
        char want[64];
        snprintf(want, sizeof want, "piece %zu: simulated failure", bad);
        CU_ASSERT_STRING_EQUAL(err->msg, want);
        CU_ASSERT_EQUAL(err->code, EIO);
        strata_error_free(err);
    }
    /* Without errp the code still comes back. */
    size_t bad = 5;
    CU_ASSERT_EQUAL(strata_workers_run(8, fail_piece, &bad, NULL), -EIO);
}

struct range_log {
    pthread_mutex_t lock;
    uint64_t off[64], len[64];
    unsigned n;
    uint64_t fail_at;       /* a piece holding this offset fails */
};

static int log_range(void *opaque, uint64_t off, uint64_t len, struct strata_error **errp)
{
    struct range_log *l = opaque;
    pthread_mutex_lock(&l->lock);
    if (l->n < 64) {
        l->off[l->n] = off;
        l->len[l->n] = len;
    }
    l->n++;
    pthread_mutex_unlock(&l->lock);
    if (l->fail_at >= off && l->fail_at < off + len)
        return strata_error_set(errp, EILSEQ, "range at %llu failed",
                                (unsigned long long)off);
    return 0;
}

/* The pieces of a split, sorted, tile [0, len) on `align` boundaries. */
static void check_tiling(struct range_log *l, uint64_t len, uint64_t align,
                         uint64_t min_piece, unsigned max_pieces)
{
    CU_ASSERT_FATAL(l->n >= 1 && l->n <= max_pieces);
    for (unsigned i = 0; i < l->n; i++)
        for (unsigned k = i + 1; k < l->n; k++)
            if (l->off[k] < l->off[i]) {
                uint64_t t = l->off[i]; l->off[i] = l->off[k]; l->off[k] = t;
                t = l->len[i]; l->len[i] = l->len[k]; l->len[k] = t;
            }
    uint64_t at = 0;
    for (unsigned i = 0; i < l->n; i++) {
        CU_ASSERT_EQUAL(l->off[i], at);
        CU_ASSERT_EQUAL(l->off[i] % align, 0);
        if (i + 1 < l->n)
            CU_ASSERT(l->len[i] >= min_piece);
        at += l->len[i];
    }
    CU_ASSERT_EQUAL(at, len);
}

static void test_split(void)
{
    static const uint64_t lens[] = { 4 * KiB, 64 * KiB, 127 * KiB, 128 * KiB,
                                     192 * KiB + 512, MiB + 4 * KiB, 3 * MiB + 3 * 512 };
    static struct range_log l;
    pthread_mutex_init(&l.lock, NULL);
    CU_ASSERT_EQUAL_FATAL(strata_workers_set_threads(4, NULL), 0);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        for (uint64_t align = 512; align <= 4096; align *= 8) {
            if (lens[i] % align)
                continue;
            l.n = 0;
            l.fail_at = UINT64_MAX;
            CU_ASSERT_EQUAL(strata_workers_split(lens[i], align, 64 * KiB, log_range, &l,
                                                 NULL), 0);
            unsigned most = lens[i] / (64 * KiB) < 4 ? (unsigned)(lens[i] / (64 * KiB)) : 4;
            check_tiling(&l, lens[i], align, 64 * KiB, most ? most : 1);
            if (lens[i] >= 4 * 64 * KiB)
                CU_ASSERT(l.n >= 3);
        }
    /* A failing piece in the middle is reported with its own message. */
    l.n = 0;
    l.fail_at = 2 * MiB;
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_workers_split(4 * MiB, 4096, 64 * KiB, log_range, &l, &err),
                    -EILSEQ);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_STRING_EQUAL(err->msg, "range at 2097152 failed");
    strata_error_free(err);
    pthread_mutex_destroy(&l.lock);
}

struct nest {
    atomic_uint inner;
    atomic_uint inner_elsewhere;
    pthread_t outer_thread[8];
};

static int inner_piece(void *opaque, size_t i, struct strata_error **errp)
{
    struct nest *n = opaque;
    atomic_fetch_add(&n->inner, 1);
    return 0;
}

struct inner_ctx {
    struct nest *n;
    pthread_t self;
};

static int inner_check(void *opaque, size_t i, struct strata_error **errp)
{
    struct inner_ctx *c = opaque;
    if (!pthread_equal(pthread_self(), c->self))
        atomic_fetch_add(&c->n->inner_elsewhere, 1);
    return inner_piece(c->n, i, errp);
}

static int outer_piece(void *opaque, size_t i, struct strata_error **errp)
{
    struct nest *n = opaque;
    struct inner_ctx c = { .n = n, .self = pthread_self() };
    /* Inline on this thread: the pool is busy with the outer job. */
    int r = strata_workers_run(16, inner_check, &c, errp);
    if (r == 0 && strata_workers_set_threads(2, NULL) != -EDEADLK)
        r = strata_error_set(errp, EINVAL, "resizing from a piece was not refused");
    return r;
}

static void test_nested(void)
{
    CU_ASSERT_EQUAL_FATAL(strata_workers_set_threads(4, NULL), 0);
    struct nest n = { 0 };
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_workers_run(8, outer_piece, &n, &err), 0);
    if (err)
        fprintf(stderr, "\n    %s\n", err->msg);
    strata_error_free(err);
    CU_ASSERT_EQUAL(atomic_load(&n.inner), 8 * 16);
    CU_ASSERT_EQUAL(atomic_load(&n.inner_elsewhere), 0);
}

static void test_size(void)
{
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_workers_set_threads(257, &err), -EINVAL);
    strata_error_free(err);
    setenv("STRATA_THREADS", "3", 1);
    CU_ASSERT_EQUAL(strata_workers_set_threads(0, NULL), 0);
    CU_ASSERT_EQUAL(strata_workers_threads(), 3);
    /* Nonsense falls back to the CPU count (with a warning). */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    static const char *const bad[] = { "0", "-2", "abc", "3x", "257" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("STRATA_THREADS", bad[i], 1);
        CU_ASSERT_EQUAL(strata_workers_set_threads(0, NULL), 0);
        unsigned t = strata_workers_threads();
        CU_ASSERT(t >= 1 && t <= (unsigned)cpus);
        CU_ASSERT(t != 3);
    }
    unsetenv("STRATA_THREADS");
    CU_ASSERT_EQUAL(strata_workers_set_threads(0, NULL), 0);
}

/* ------------------------------------------------------------ encryption */
static uint8_t *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return NULL;
    uint8_t *b = malloc((size_t)st.st_size + 1);
    ssize_t got = b ? pread(fd, b, (size_t)st.st_size, 0) : -1;
    close(fd);
    if (got != st.st_size) {
        free(b);
        return NULL;
    }
    *len = (size_t)st.st_size;
    return b;
}

/* Writes [off, off+len) with `threads` pool threads and returns the whole
 * file as it is then. */
static uint8_t *write_with(struct strata_node *n, const char *path, unsigned threads,
                           uint64_t off, uint8_t *buf, size_t len, size_t *flen)
{
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_workers_set_threads(threads, NULL), 0);
    int r = strata_pwrite(n, off, len, buf, 0, &err);
    if (r < 0)
        fprintf(stderr, "\n    write: %s\n", err ? err->msg : "?");
    strata_error_free(err);
    CU_ASSERT_EQUAL_FATAL(r, 0);
    return slurp(path, flen);
}

static void crypt_case(const char *format, const char *file, const char *create,
                       const char *open_spec, uint32_t sector)
{
    struct strata_error *err = NULL;
    const char *path = tu_path(file);
    struct strata_opts *o = strata_opts_new();
    CU_ASSERT_EQUAL_FATAL(strata_opts_parse(o, create, NULL, &err), 0);
    int r = strata_image_create(format, path, 8 * MiB, o, &err);
    if (r < 0)
        fprintf(stderr, "\n    create: %s\n", err ? err->msg : "?");
    strata_opts_free(o);
    CU_ASSERT_EQUAL_FATAL(r, 0);
    char spec[512];
    snprintf(spec, sizeof spec, "driver=%s,file.filename=%s,%s", format, path, open_spec);
    struct strata_node *n = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_string(spec, STRATA_O_RDWR, &n, &err), 0);

    const uint64_t sizes[] = { sector, 16 * KiB, 64 * KiB, 128 * KiB, 192 * KiB + sector,
                               MiB, MiB + 5 * sector, 3 * MiB + 3 * sector };
    uint8_t *buf = malloc(4 * MiB), *back = malloc(4 * MiB);
    CU_ASSERT_FATAL(buf && back);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t off = 3 * (uint64_t)sector, len = sizes[i];
        uint32_t seed = (uint32_t)(i + 1);
        tu_fill(buf, off, len, seed);
        size_t la = 0, lb = 0, lc = 0;
        uint8_t *a = write_with(n, path, 1, off, buf, len, &la);
        /* Something else in between, so that a write that did nothing
         * cannot pass. */
        memset(back, 0xa5, len);
        uint8_t *mid = write_with(n, path, 1, off, back, len, &lc);
        uint8_t *b = write_with(n, path, 4, off, buf, len, &lb);
        CU_ASSERT_FATAL(a && b && mid);
        CU_ASSERT_EQUAL(la, lb);
        if (la == lb && memcmp(a, b, la) != 0) {
            size_t k = 0;
            while (a[k] == b[k])
                k++;
            fprintf(stderr, "\n    %s, %llu bytes: ciphertext differs at file byte %zu\n",
                    file, (unsigned long long)len, k);
            CU_FAIL("the pool's ciphertext differs from the serial path's");
        }
        CU_ASSERT(la != lc || memcmp(a, mid, la) != 0);
        /* The plaintext is nowhere in the file. */
        CU_ASSERT_PTR_NULL(memmem(a, la, buf, len < 4096 ? len : 4096));
        free(a);
        free(b);
        free(mid);
        for (unsigned threads = 1; threads <= 4; threads += 3) {
            CU_ASSERT_EQUAL_FATAL(strata_workers_set_threads(threads, NULL), 0);
            memset(back, 0, len);
            CU_ASSERT_EQUAL(strata_pread(n, off, len, back, 0, NULL), 0);
            CU_ASSERT_EQUAL(tu_check(back, off, len, seed), -1);
        }
    }
    free(buf);
    free(back);
    strata_close(n);
    CU_ASSERT_EQUAL(strata_workers_set_threads(0, NULL), 0);
}

static void test_luks1(void)
{
    crypt_case("luks", "v1.luks", "key-secret=k,iter-time=10", "key-secret=k", 512);
}

static void test_luks2_512(void)
{
    crypt_case("luks", "v2-512.luks", "key-secret=k,luks-version=2,sector-size=512,"
               "pbkdf=pbkdf2,pbkdf-force-iterations=1000", "key-secret=k", 512);
}

static void test_luks2_4096(void)
{
    crypt_case("luks", "v2-4096.luks", "key-secret=k,luks-version=2,sector-size=4096,"
               "pbkdf=pbkdf2,pbkdf-force-iterations=1000", "key-secret=k", 4096);
}

static void test_qcow2_luks(void)
{
    crypt_case("qcow2", "luks.qcow2", "encrypt.format=luks,encrypt.key-secret=k,"
               "encrypt.iter-time=10", "encrypt.key-secret=k", 512);
}

static int crypt_init(void)
{
    return strata_secret_add("k", "pool-pass", 9, NULL) < 0;
}

static int crypt_clean(void)
{
    strata_secret_remove("k");
    return 0;
}

int main(void)
{
    static const struct tu_test pool_tests[] = {
        { "pieces run at the same time", test_concurrent },
        { "every piece exactly once, 1 to 3 threads", test_each_once },
        { "the failing piece's error reaches the caller", test_error },
        { "a split tiles the range on aligned pieces", test_split },
        { "a job from inside a piece runs inline", test_nested },
        { "STRATA_THREADS and the size call", test_size },
        { NULL, NULL },
    };
    static const struct tu_test crypt_tests[] = {
        { "LUKS1, 512-byte sectors", test_luks1 },
        { "LUKS2, 512-byte sectors", test_luks2_512 },
        { "LUKS2, 4096-byte sectors, 512-byte IV unit", test_luks2_4096 },
        { "LUKS-encrypted qcow2", test_qcow2_luks },
        { NULL, NULL },
    };
    tu_add_suite("worker pool", NULL, NULL, pool_tests);
    tu_add_suite("encryption split across the pool equals the serial path", crypt_init,
                 crypt_clean, crypt_tests);
    return tu_run();
}
