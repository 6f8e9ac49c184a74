/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-stress-io.c - eight threads issue random reads, writes, zero writes,
 * discards and (on qcow2) compressed writes of random offsets and lengths
 * to one node, and every read is checked against a shadow copy of the disk
 * kept in memory.  Afterwards the image is closed and reopened, compared
 * whole with the shadow, checked by strata and qemu-img, and converted to
 * raw by qemu-img, which must give the shadow byte for byte.
 *
 * The shadow is guarded by one lock per 8 KiB block (a request holds at
 * most 33: ThreadSanitizer follows 64 locks per thread).  A writer holds the
 * locks of its blocks while it runs, so the expected content is known;
 * requests on different blocks run at once even when they share a cluster,
 * and a quarter of them go to a small hot region so that clusters are
 * allocated, copied and freed by several requests at the same time.  Some
 * reads hold no lock while they run: they race with the writers of their
 * blocks, and every byte must then be the one before or the one after
 * (never a cluster half allocated, freed or someone else's).
 *
 * Cases: qcow2 plain, 4 KiB clusters with lazy refcounts, extended L2
 * entries, over a backing file, LUKS encrypted, with compressed writes, and
 * a LUKS volume.  The seed is printed; STRATA_STRESS_SEED=N replays the
 * same request sequences (the interleaving is the scheduler's), and
 * STRATA_STRESS_OPS=N sets the requests per thread. */
#include "hostfile.h"
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024ull * 1024ull)
#define NTHREADS 8
#define BLOCK 8192u
#define DISK (24 * MiB)
#define NBLOCKS (DISK / BLOCK)
#define MAXREQ (256 * 1024u)
#define HOT (512 * 1024u)

static struct strata_node *node;
static uint8_t *shadow;
static uint32_t version[NBLOCKS];       /* writes completed per block */
static pthread_mutex_t locks[NBLOCKS];
static uint64_t seed;
static int ops_per_thread = 400;

/* What the running case allows. */
static struct {
    bool backing;       /* discard would expose the backing file */
    bool compress;      /* compressed writes of whole clusters */
    uint64_t cluster;
} cfg;

struct worker {
    pthread_t tid;
    uint64_t rng;
    int result;
    unsigned raced;     /* racing reads that overlapped a write */
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

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void lock_range(uint64_t off, uint64_t len)
{
    for (uint64_t b = off / BLOCK; b <= (off + len - 1) / BLOCK; b++)
        pthread_mutex_lock(&locks[b]);
}

static void unlock_range(uint64_t off, uint64_t len, bool wrote)
{
    for (uint64_t b = off / BLOCK; b <= (off + len - 1) / BLOCK; b++) {
        if (wrote)
            version[b]++;
        pthread_mutex_unlock(&locks[b]);
    }
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

/* A locked read: exactly the shadow. */
static int locked_read(struct worker *w, uint64_t off, uint64_t len, uint8_t *buf)
{
    struct strata_error *err = NULL;
    memset(buf, 0xee, len);
    if (strata_pread(node, off, len, buf, 0, &err) < 0)
        return fail(w, err, "read %" PRIu64 "+%" PRIu64, off, len);
    if (memcmp(buf, shadow + off, len) != 0)
        return fail(w, NULL, "read %" PRIu64 "+%" PRIu64 " differs from the shadow", off, len);
    return 0;
}

/* A read racing with writers: the shadow and block versions are taken
 * before and after; a block no write completed on in between must match
 * exactly, one with a single write each byte old or new, one with more is
 * not checked. */
static int racing_read(struct worker *w, uint64_t off, uint64_t len, uint8_t *buf,
                       uint8_t *before, uint32_t *vbefore)
{
    struct strata_error *err = NULL;
    uint64_t b0 = off / BLOCK, b1 = (off + len - 1) / BLOCK;
    lock_range(off, len);
    memcpy(before, shadow + off, len);
    for (uint64_t b = b0; b <= b1; b++)
        vbefore[b - b0] = version[b];
    unlock_range(off, len, false);
    memset(buf, 0xee, len);
    if (strata_pread(node, off, len, buf, 0, &err) < 0)
        return fail(w, err, "racing read %" PRIu64 "+%" PRIu64, off, len);
    lock_range(off, len);
    int r = 0;
    for (uint64_t b = b0; b <= b1 && r == 0; b++) {
        uint64_t lo = b * BLOCK > off ? b * BLOCK : off;
        uint64_t hi = (b + 1) * BLOCK < off + len ? (b + 1) * BLOCK : off + len;
        uint32_t d = version[b] - vbefore[b - b0];
        if (d > 1)
            continue;
        w->raced += d;
        for (uint64_t i = lo; i < hi; i++) {
            uint8_t got = buf[i - off];
            if (got == shadow[i] || (d == 1 && got == before[i - off]))
                continue;
            r = fail(w, NULL, "racing read %" PRIu64 "+%" PRIu64 ": byte %" PRIu64 " is 0x%02x, "
                     "neither the old 0x%02x nor the new 0x%02x (%u writes meanwhile)", off, len,
                     i, got, before[i - off], shadow[i], d);
            break;
        }
    }
    unlock_range(off, len, false);
    return r;
}

/* Data that compresses: runs of one byte with a marker every 64 bytes. */
static void fill_compressible(uint8_t *buf, uint64_t off, uint64_t len, uint32_t v)
{
    for (uint64_t i = 0; i < len; i++)
        buf[i] = ((off + i) & 63) ? (uint8_t)v : (uint8_t)((off + i) >> 6 ^ v);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint8_t *buf = malloc(MAXREQ), *before = malloc(MAXREQ);
    uint32_t *vbefore = malloc((MAXREQ / BLOCK + 2) * sizeof *vbefore);
    for (int i = 0; i < ops_per_thread && w->result == 0; i++) {
        uint64_t r = rnd(w);
        /* Mostly small requests, some spanning several clusters. */
        uint64_t len = (r >> 8) % 8 == 0 ? 1 + (r >> 16) % MAXREQ : 1 + (r >> 16) % 9000;
        uint64_t span = (r >> 40) % 4 == 0 ? HOT : DISK;
        if (len > span / 2)
            len = span / 2;
        uint64_t off = rnd(w) % (span - len);
        unsigned op = (unsigned)(r % 20);
        struct strata_error *err = NULL;
        if (op < 3) {
            w->result = racing_read(w, off, len, buf, before, vbefore);
            continue;
        }
        if (op == 19 && cfg.compress) {
            /* Whole clusters, compressed. */
            uint64_t c = cfg.cluster;
            off = off / c * c;
            len = c * (1 + (r >> 24) % 3);
            if (off + len > DISK)
                off = DISK - len;
        }
        lock_range(off, len);
        bool wrote = true;
        if (op < 9) {
            wrote = false;
            w->result = locked_read(w, off, len, buf);
        } else if (op < 16) {
            tu_fill(buf, off, len, (uint32_t)r);
            if (strata_pwrite(node, off, len, buf, 0, &err) < 0)
                w->result = fail(w, err, "write %" PRIu64 "+%" PRIu64, off, len);
            else
                memcpy(shadow + off, buf, len);
        } else if (op == 16) {
            if (strata_pwrite_zeroes(node, off, len, STRATA_REQ_MAY_UNMAP, &err) < 0)
                w->result = fail(w, err, "write zeroes %" PRIu64 "+%" PRIu64, off, len);
            else
                memset(shadow + off, 0, len);
        } else if (op == 19 && cfg.compress) {
            fill_compressible(buf, off, len, (uint32_t)(r >> 32));
            if (strata_pwrite_compressed(node, off, len, buf, &err) < 0)
                w->result = fail(w, err, "compressed write %" PRIu64 "+%" PRIu64, off, len);
            else
                memcpy(shadow + off, buf, len);
        } else {
            /* Discard: qcow2 drops whole clusters only, and what it drops
             * reads from the backing file or as zeros, so the shadow cannot
             * say what a discarded range holds.  Write zeros, then discard:
             * the range reads as zeros either way, except where it falls
             * back to a backing file; those runs discard only without one. */
            if (strata_pwrite_zeroes(node, off, len, 0, &err) < 0 ||
                (!cfg.backing && strata_pdiscard(node, off, len, &err) < 0))
                w->result = fail(w, err, "zero+discard %" PRIu64 "+%" PRIu64, off, len);
            else
                memset(shadow + off, 0, len);
        }
        unlock_range(off, len, wrote);
        if (i % 50 == 49 && strata_flush(node, &err) < 0)
            w->result = fail(w, err, "flush");
    }
    free(vbefore);
    free(before);
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

static void run_threads(const char *name, unsigned case_no)
{
    struct worker w[NTHREADS];
    unsigned raced = 0;
    for (int t = 0; t < NTHREADS; t++) {
        w[t] = (struct worker){ .rng = splitmix(seed + case_no * NTHREADS + (unsigned)t) | 1 };
        CU_ASSERT_EQUAL_FATAL(pthread_create(&w[t].tid, NULL, worker_main, &w[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(w[t].tid, NULL);
        if (w[t].result)
            fprintf(stderr, "\n    %s, thread %d (seed %" PRIu64 "): %s\n", name, t, seed,
                    w[t].msg);
        CU_ASSERT_EQUAL(w[t].result, 0);
        raced += w[t].raced;
    }
    printf("(%u reads raced a write) ", raced);
}

/* Fresh shadow; with `backing` a raw backing file of a pattern at img.base. */
static void new_shadow(const char *img, bool backing, char *base, size_t baselen)
{
    shadow = calloc(1, DISK);
    memset(version, 0, sizeof version);
    cfg.backing = backing;
    if (!backing)
        return;
    snprintf(base, baselen, "%s.base", img);
    tu_fill_file(base, 0, DISK, 77);
    uint8_t *b = tu_read_file(base, 0, DISK);
    memcpy(shadow, b, DISK);
    free(b);
}

/* qemu-img converts `spec` to raw: it must be the shadow. */
static void qemu_reads_shadow(const char *img, const char *spec, const char *secret)
{
    char raw[600];
    snprintf(raw, sizeof raw, "%s.raw", img);
    CU_ASSERT_EQUAL(tu_sh("qemu-img convert %s--image-opts '%s' -O raw '%s'", secret, spec,
                          raw), 0);
    uint8_t *b = tu_read_file(raw, 0, DISK);
    CU_ASSERT(memcmp(b, shadow, DISK) == 0);
    free(b);
    unlink(raw);
}

/* One qcow2 run: `create` are qcow2 create options, `open_extra` extra
 * dotted options for opening (encryption secret). */
static void run(const char *name, unsigned case_no, const char *create, const char *open_extra,
                bool backing, bool compress)
{
    const char *img = tu_path(name);
    char base[512] = "";
    struct strata_error *err = NULL;
    unlink(img);
    new_shadow(img, backing, base, sizeof base);
    cfg.compress = compress;
    const char *cs = strstr(create, "cluster_size=");
    cfg.cluster = cs ? strtoull(cs + 13, NULL, 10) : 65536;
    if (backing) {
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

    run_threads(name, case_no);
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

    const char *secret = strstr(open_extra, "key-secret=") ? "--object secret,id=sec0,"
                                                             "data=stress-pass " : "";
    CU_ASSERT_EQUAL(tu_sh("qemu-img check -q %s--image-opts '%s'", secret, spec), 0);
    qemu_reads_shadow(img, spec, secret);
    free(shadow);
    shadow = NULL;
}

static void test_plain(void)
{
    run("plain.qcow2", 0, "cluster_size=65536", "", false, false);
}

static void test_lazy_small_clusters(void)
{
    run("lazy.qcow2", 1, "cluster_size=4096,lazy_refcounts=on", "", false, false);
}

static void test_extended_l2(void)
{
    run("ext.qcow2", 2, "cluster_size=65536,extended_l2=on", "", false, false);
}

static void test_backing(void)
{
    run("over.qcow2", 3, "cluster_size=16384", "", true, false);
}

static void test_compressed(void)
{
    run("comp.qcow2", 4, "cluster_size=16384", "", false, true);
}

static void test_compressed_backing_zstd(void)
{
    run("zstd.qcow2", 5, "cluster_size=65536,compression_type=zstd", "", true, true);
}

static int add_secret(void)
{
    struct strata_error *err = NULL;
    int r = strata_secret_add("sec0", "stress-pass", 11, &err);
    strata_error_free(err);
    return r;
}

static void test_qcow2_luks(void)
{
    CU_ASSERT_EQUAL_FATAL(add_secret(), 0);
    run("luks.qcow2", 6, "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10",
        "encrypt.key-secret=sec0", false, false);
    strata_secret_remove("sec0");
}

static void test_luks_volume(void)
{
    const char *img = tu_path("vol.luks");
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(add_secret(), 0);
    unlink(img);
    new_shadow(img, false, NULL, 0);
    cfg.compress = false;
    struct strata_opts *o = strata_opts_new();
    CU_ASSERT_EQUAL_FATAL(strata_opts_parse(o, "key-secret=sec0,iter-time=10", NULL, &err), 0);
    CU_ASSERT_EQUAL_FATAL(strata_image_create("luks", img, DISK, o, &err), 0);
    strata_opts_free(o);
    char spec[1024];
    snprintf(spec, sizeof spec, "driver=luks,key-secret=sec0,file.filename=%s", img);
    CU_ASSERT_EQUAL_FATAL(strata_open_string(spec, STRATA_O_RDWR, &node, &err), 0);
    /* A new volume's payload decrypts to noise: that is the start. */
    CU_ASSERT_EQUAL_FATAL(strata_pread(node, 0, DISK, shadow, 0, &err), 0);
    run_threads("vol.luks", 7);
    CU_ASSERT(same_as_shadow(node));
    strata_close(node);
    node = NULL;
    qemu_reads_shadow(img, spec, "--object secret,id=sec0,data=stress-pass ");
    free(shadow);
    shadow = NULL;
    strata_secret_remove("sec0");
}

int main(void)
{
    const char *e = getenv("STRATA_STRESS_SEED");
    seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    if ((e = getenv("STRATA_STRESS_OPS")))
        ops_per_thread = atoi(e);
    printf("seed %" PRIu64 " (replay: STRATA_STRESS_SEED=%" PRIu64 "), %d requests per thread\n",
           seed, seed, ops_per_thread);
    for (size_t i = 0; i < NBLOCKS; i++)
        pthread_mutex_init(&locks[i], NULL);
    static const struct tu_test tests[] = {
        { "qcow2, 64 KiB clusters", test_plain },
        { "qcow2, 4 KiB clusters, lazy refcounts", test_lazy_small_clusters },
        { "qcow2, extended L2 entries", test_extended_l2 },
        { "qcow2 over a backing file", test_backing },
        { "qcow2 with compressed writes", test_compressed },
        { "qcow2, zstd compressed writes over a backing file", test_compressed_backing_zstd },
        { "qcow2, LUKS encrypted", test_qcow2_luks },
        { "LUKS volume", test_luks_volume },
        { NULL, NULL },
    };
    tu_add_suite("eight threads against a shadow copy", NULL, NULL, tests);
    return tu_run();
}
