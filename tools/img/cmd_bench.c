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
        ret = b->write ? strata_pwrite(b->node, off, b->size, buf, 0, &err)
                       : strata_pread(b->node, off, b->size, buf, 0, &err);
        if (ret >= 0 && b->write && b->flush_interval &&
            (i + 1) % b->flush_interval == 0)
            ret = strata_flush(b->node, &err);
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

static int run(int argc, char **argv)
{
    enum { OPT_PATTERN = TOOL_OPT_FIRST_LOCAL, OPT_FLUSH_INTERVAL, OPT_NO_DRAIN };
    static const struct option longopts[] = {
        TOOL_COMMON_LONGOPTS,
        { "pattern", required_argument, NULL, OPT_PATTERN },
        { "flush-interval", required_argument, NULL, OPT_FLUSH_INTERVAL },
        { "no-drain", no_argument, NULL, OPT_NO_DRAIN },
        { NULL, 0, NULL, 0 },
    };
    struct tool_common tc = { 0 };
    struct strata_error *err = NULL;
    struct bench b = { .count = 75000, .size = 4096, .pattern = 0 };
    int64_t depth = 64, v;
    bool quiet = false, have_step = false;
    int c, ret, status = 1;

    while ((c = getopt_long(argc, argv, ":hc:d:f:ni:o:qs:S:t:wU", longopts, NULL)) != -1) {
        int r = tool_common_option(&tc, c, optarg);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        switch (c) {
        case 'h':
            return img_print_help(&img_cmd_bench);
        case 'c':
            if (tool_parse_number(optarg, "-c", 1, INT32_MAX, &v, &err) < 0)
                return tool_fail(err, -EINVAL, NULL);
            b.count = (uint64_t)v;
            break;
        case 'd':
            if (tool_parse_number(optarg, "-d", 1, 1024, &v, &err) < 0)
                return tool_fail(err, -EINVAL, NULL);
            depth = v;
            break;
        case 'n':
            break;      /* the file driver picks its own I/O method */
        case 'i':
            if (strcmp(optarg, "threads") && strcmp(optarg, "native") &&
                strcmp(optarg, "io_uring"))
                return tool_usage_error("bench", "-i: invalid aio mode '%s'", optarg);
            break;
        case 't':
            if (strcmp(optarg, "none") && strcmp(optarg, "writeback") &&
                strcmp(optarg, "writethrough") && strcmp(optarg, "directsync") &&
                strcmp(optarg, "unsafe"))
                return tool_usage_error("bench", "-t: invalid cache mode '%s'", optarg);
            break;
        case 'o':
            if (tool_parse_size(optarg, "-o", &b.offset, &err) < 0)
                return tool_fail(err, -EINVAL, NULL);
            break;
        case 'q': quiet = true; break;
        case 's':
            if (tool_parse_size(optarg, "-s", &b.size, &err) < 0)
                return tool_fail(err, -EINVAL, NULL);
            if (b.size == 0 || b.size > (1u << 30))
                return tool_usage_error("bench", "-s: invalid buffer size '%s'", optarg);
            break;
        case 'S':
            if (tool_parse_size(optarg, "-S", &b.step, &err) < 0)
                return tool_fail(err, -EINVAL, NULL);
            have_step = true;
            break;
        case 'w': b.write = true; break;
        case OPT_PATTERN:
            if (tool_parse_number(optarg, "--pattern", 0, 255, &v, &err) < 0)
                return tool_fail(err, -EINVAL, NULL);
            b.pattern = (int)v;
            break;
        case OPT_FLUSH_INTERVAL:
            if (tool_parse_number(optarg, "--flush-interval", 0, INT32_MAX, &v, &err) < 0)
                return tool_fail(err, -EINVAL, NULL);
            b.flush_interval = (uint64_t)v;
            break;
        case OPT_NO_DRAIN:
            break;      /* requests are synchronous: there is nothing to drain */
        default:
            return tool_getopt_error(c, argv, "bench");
        }
    }
    if (!have_step)
        b.step = b.size;
    if (b.flush_interval && !b.write)
        return tool_usage_error("bench", "--flush-interval is only available in write tests");
    if (b.write && tool_refuse_force_share(&tc, "bench"))
        return 1;
    if (tool_common_finish(&tc) < 0)
        return 1;
    struct tool_image img;
    int n = tool_image_collect_one(&tc, "bench", argv + optind, argc - optind, &img);
    if (n)
        return n;

    unsigned flags = (b.write ? STRATA_O_RDWR : 0) | (tc.force_share ? STRATA_O_FORCE_SHARE : 0);
    ret = tool_image_open(&img, flags, &b.node, &err);
    if (ret < 0)
        return tool_fail(err, ret, img.spec);
    int64_t len = strata_get_length(b.node);
    if (len < 0) {
        tool_error("%s: cannot read the image size: %s", img.spec, strerror((int)-len));
        goto out;
    }
    b.image_size = (uint64_t)len;
    if (b.offset + b.size > b.image_size) {
        tool_error("%s: requests of %" PRIu64 " bytes at offset %" PRIu64
                   " do not fit in the image (%" PRIu64 " bytes)", img.spec,
                   b.size, b.offset, b.image_size);
        goto out;
    }
    if (!quiet) {
        printf("Sending %" PRIu64 " %s requests, %" PRIu64 " bytes each, %" PRId64
               " in parallel (starting at offset %" PRIu64 ", step size %" PRIu64 ")\n",
               b.count, b.write ? "write" : "read", b.size, depth, b.offset, b.step);
        if (b.flush_interval)
            printf("Sending flush every %" PRIu64 " requests\n", b.flush_interval);
        fflush(stdout);
    }
    pthread_mutex_init(&b.err_lock, NULL);
    pthread_t *threads = calloc((size_t)depth, sizeof *threads);
    if (!threads) {
        tool_error("out of memory");
        goto out;
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
        goto out;
    }
    if (!b.failed && b.write)
        ret = strata_flush(b.node, &b.err) < 0 ? -EIO : 0;
    double elapsed = tool_now() - t0;
    if (b.failed || b.err) {
        status = tool_fail(b.err, b.err_ret ? b.err_ret : -EIO, img.spec);
        goto out;
    }
    if (!quiet)
        printf("Run completed in %3.3f seconds.\n", elapsed);
    status = 0;
out:
    strata_close(b.node);
    return status;
}

const struct img_command img_cmd_bench = {
    .name = "bench",
    .run = run,
    .synopsis = "bench [--object OBJ] [--image-opts | --config FILE] [-U] [-q] [-w]\n"
                "                 [-c COUNT] [-d DEPTH] [-f FMT] [--flush-interval=N]\n"
                "                 [--no-drain] [-i AIO] [-n] [-o OFFSET] [--pattern=N]\n"
                "                 [-s SIZE] [-S STEP] [-t CACHE] FILENAME",
    .summary = "Run a simple sequential read or write benchmark on FILENAME.",
    .help =
        "  -c COUNT              number of requests (default 75000)\n"
        "  -d DEPTH              requests in flight at once (default 64; one\n"
        "                        thread each)\n"
        "  -s SIZE               bytes per request (default 4k)\n"
        "  -o OFFSET             offset of the first request (default 0)\n"
        "  -S STEP               distance between requests (default SIZE); requests\n"
        "                        wrap at the end of the image\n"
        "  -w                    write instead of read (the image is opened read-write)\n"
        "  --pattern=N           byte written by write requests (default 0)\n"
        "  --flush-interval=N    flush after every N write requests\n"
        "  --no-drain            accepted for compatibility (requests are synchronous)\n"
        "  -n, -i AIO, -t CACHE  accepted for compatibility; the file driver chooses\n"
        "                        its own I/O and caching\n"
        "  -f FMT                image format (probed when omitted)\n"
        "  -q                    quiet\n"
        "  -U, --force-share     open without taking image locks\n"
        "  --image-opts          FILENAME is dotted options\n"
        "  --config FILE         the image is the stack described by FILE\n"
        "  --object secret,...   define a secret\n",
};
