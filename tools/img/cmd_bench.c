/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_bench.c - strata-img bench: a simple I/O benchmark.  `depth`
 * requests are kept in flight by as many threads (every node is safe to use
 * from several threads). */
#include "img.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bench {
    struct strata_node *node;
    bool write;
    uint64_t count, size, offset, step, image_size;
    uint64_t flush_interval;
    bool no_drain;
    /* Every request holds it shared; a flush without --no-drain takes it
     * exclusively, so requests in flight complete first and none starts
     * until the flush is done, as qemu-img bench drains before a flush. */
    pthread_rwlock_t gate;
    int pattern;
    atomic_uint_fast64_t next;      /* next request number */
    atomic_int failed;
    pthread_mutex_t err_lock;
    struct strata_error *err;
    int err_ret;
};

static uint64_t request_offset(const struct bench *b, uint64_t i)
{
    /* Requests walk the image by `step` and wrap, as in qemu-img bench. */
    uint64_t span = b->image_size > b->offset + b->size
                    ? b->image_size - b->offset - b->size + 1 : 1;
    unsigned __int128 rel = (unsigned __int128)i * b->step;
    return b->offset + (uint64_t)(rel % span);
}

static void *worker(void *opaque)
{
    struct bench *b = opaque;
    uint8_t *buf = tool_alloc_buffer(b->size);
    struct strata_error *err = NULL;
    int ret = 0;

    if (!buf) {
        ret = -ENOMEM;
        goto fail;
    }
    memset(buf, b->pattern, b->size);
    for (;;) {
        if (atomic_load(&b->failed))
            break;
        uint64_t i = atomic_fetch_add(&b->next, 1);
        if (i >= b->count)
            break;
        uint64_t off = request_offset(b, i);
        pthread_rwlock_rdlock(&b->gate);
        ret = b->write ? strata_pwrite(b->node, off, b->size, buf, 0, &err)
                       : strata_pread(b->node, off, b->size, buf, 0, &err);
        pthread_rwlock_unlock(&b->gate);
        if (ret >= 0 && b->write && b->flush_interval &&
            (i + 1) % b->flush_interval == 0) {
            if (!b->no_drain)
                pthread_rwlock_wrlock(&b->gate);
            ret = strata_flush(b->node, &err);
            if (!b->no_drain)
                pthread_rwlock_unlock(&b->gate);
        }
        if (ret < 0)
            goto fail;
    }
    free(buf);
    return NULL;
fail:
    free(buf);
    atomic_store(&b->failed, 1);
    pthread_mutex_lock(&b->err_lock);
    if (!b->err && !b->err_ret) {
        b->err = err;
        b->err_ret = ret;
        err = NULL;
    }
    pthread_mutex_unlock(&b->err_lock);
    strata_error_free(err);
    return NULL;
}

enum { OPT_PATTERN = TOOL_OPT_FIRST_LOCAL, OPT_FLUSH_INTERVAL, OPT_NO_DRAIN };

static struct bench b = { .count = 75000, .size = 4096, .pattern = 0 };
static int64_t depth = 64;
static bool have_step;
/* -t and -n: qemu-img bench's default is writeback. */
static unsigned cache_flags;

static int option(struct img_args *a, int c, const char *arg)
{
    struct strata_error *err = NULL;
    int64_t v;
    switch (c) {
    case 'c':
        if (tool_parse_number(arg, "-c", 1, INT32_MAX, &v, &err) < 0)
            return tool_fail(err, -EINVAL, NULL);
        b.count = (uint64_t)v;
        break;
    case 'd':
        if (tool_parse_number(arg, "-d", 1, 1024, &v, &err) < 0)
            return tool_fail(err, -EINVAL, NULL);
        depth = v;
        break;
    case 'n':
        cache_flags = STRATA_O_DIRECT;
        break;
    case 'i':
        if (tool_check_aio("-i", arg) < 0)
            return 1;
        break;
    case 't':
        if (strata_cache_mode_flags(arg, &cache_flags, &err) < 0) {
            int status = tool_usage_error("bench", "-t: %s", err->msg);
            strata_error_free(err);
            return status;
        }
        break;
    case 'o':
        if (tool_parse_size(arg, "-o", &b.offset, &err) < 0)
            return tool_fail(err, -EINVAL, NULL);
        break;
    case 's':
        if (tool_parse_size(arg, "-s", &b.size, &err) < 0)
            return tool_fail(err, -EINVAL, NULL);
        if (b.size == 0 || b.size > (1u << 30))
            return tool_usage_error("bench", "-s: invalid buffer size '%s'", arg);
        break;
    case 'S':
        if (tool_parse_size(arg, "-S", &b.step, &err) < 0)
            return tool_fail(err, -EINVAL, NULL);
        have_step = true;
        break;
    case OPT_PATTERN:
        if (tool_parse_number(arg, "--pattern", 0, 255, &v, &err) < 0)
            return tool_fail(err, -EINVAL, NULL);
        b.pattern = (int)v;
        break;
    case OPT_FLUSH_INTERVAL:
        if (tool_parse_number(arg, "--flush-interval", 0, INT32_MAX, &v, &err) < 0)
            return tool_fail(err, -EINVAL, NULL);
        b.flush_interval = (uint64_t)v;
        break;
    case OPT_NO_DRAIN:
        b.no_drain = true;
        break;
    }
    return 0;
}

static int prepare(struct img_args *a)
{
    if (!have_step)
        b.step = b.size;
    if (b.flush_interval && !b.write)
        return tool_usage_error("bench", "--flush-interval is only available in write tests");
    if (b.write && tool_refuse_force_share(&a->tc, "bench"))
        return 1;
    return -1;
}

static unsigned open_flags(const struct img_args *a)
{
    return (b.write ? STRATA_O_RDWR : 0) | cache_flags;
}

static int run(struct img_args *a)
{
    const char *spec = a->img.spec;
    b.node = a->node;
    int64_t len = strata_get_length(b.node);
    if (len < 0) {
        tool_error("%s: cannot read the image size: %s", spec, strerror((int)-len));
        return 1;
    }
    b.image_size = (uint64_t)len;
    if (b.offset + b.size > b.image_size) {
        tool_error("%s: requests of %" PRIu64 " bytes at offset %" PRIu64
                   " do not fit in the image (%" PRIu64 " bytes)", spec,
                   b.size, b.offset, b.image_size);
        return 1;
    }
    if (!a->quiet) {
        printf("Sending %" PRIu64 " %s requests, %" PRIu64 " bytes each, %" PRId64
               " in parallel (starting at offset %" PRIu64 ", step size %" PRIu64 ")\n",
               b.count, b.write ? "write" : "read", b.size, depth, b.offset, b.step);
        if (b.flush_interval)
            printf("Sending flush every %" PRIu64 " requests\n", b.flush_interval);
        fflush(stdout);
    }
    pthread_mutex_init(&b.err_lock, NULL);
    pthread_rwlockattr_t ga;
    pthread_rwlockattr_init(&ga);
    /* A waiting flush holds back new requests. */
    pthread_rwlockattr_setkind_np(&ga, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&b.gate, &ga);
    pthread_rwlockattr_destroy(&ga);
    pthread_t *threads = calloc((size_t)depth, sizeof *threads);
    if (!threads) {
        tool_error("out of memory");
        return 1;
    }
    double t0 = tool_now();
    int64_t started = 0;
    for (; started < depth; started++)
        if (pthread_create(&threads[started], NULL, worker, &b) != 0)
            break;
    for (int64_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    if (started == 0) {
        tool_error("cannot start the benchmark threads");
        return 1;
    }
    if (!b.failed && b.write)
        strata_flush(b.node, &b.err);
    double elapsed = tool_now() - t0;
    if (b.failed || b.err)
        return tool_fail(b.err, b.err_ret ? b.err_ret : -EIO, spec);
    if (!a->quiet)
        printf("Run completed in %3.3f seconds.\n", elapsed);
    return 0;
}

const struct img_command img_cmd_bench = {
    .name = "bench",
    .synopsis = "bench [--object OBJ] [--image-opts | --config FILE] [-U] [-q] [-w]\n"
                "                 [-c COUNT] [-d DEPTH] [-f FMT] [--flush-interval=N]\n"
                "                 [--no-drain] [-i AIO] [-n] [-o OFFSET] [--pattern=N]\n"
                "                 [-s SIZE] [-S STEP] [-t CACHE] FILENAME",
    .summary = "Run a simple sequential read or write benchmark on FILENAME.",
    .flags = IMG_TAKES_Q | IMG_ONE_IMAGE | IMG_OPEN,
    .options = (const struct img_option[]){
        { 'c', NULL, "COUNT", .help = "number of requests (default 75000)" },
        { 'd', NULL, "DEPTH",
          .help = "requests in flight at once (default 64; one\nthread each)" },
        { 's', NULL, "SIZE", .help = "bytes per request (default 4k)" },
        { 'o', NULL, "OFFSET", .help = "offset of the first request (default 0)" },
        { 'S', NULL, "STEP",
          .help = "distance between requests (default SIZE); requests\n"
                  "wrap at the end of the image" },
        { 'w', NULL, NULL, .flag = &b.write,
          .help = "write instead of read (the image is opened read-write)" },
        { OPT_PATTERN, "pattern", "N", .help = "byte written by write requests (default 0)" },
        { OPT_FLUSH_INTERVAL, "flush-interval", "N",
          .help = "flush after every N write requests" },
        { OPT_NO_DRAIN, "no-drain", NULL,
          .help = "flush without waiting for the requests in flight" },
        { 'n', NULL, NULL, .help = "the same as -t none" },
        { 'i', NULL, "AIO",
          .help = "I/O mode: threads (native and io_uring are refused)" },
        { 't', NULL, "CACHE",
          .help = "cache mode: writeback (default), none, writethrough,\n"
                  "directsync or unsafe, as in strata-io" },
        { 0 },
    },
    .notes = "Each of the DEPTH requests in flight is made by a thread of its own.  A\n"
             "flush first waits for the requests in flight to complete and holds back\n"
             "new ones, unless --no-drain.\n",
    .option = option,
    .prepare = prepare,
    .open_flags = open_flags,
    .run = run,
};
