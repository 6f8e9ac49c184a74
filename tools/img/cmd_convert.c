/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_convert.c - strata-img convert: copies one or more images (joined end
 * to end) into a new or existing image, leaving out what reads as zeros. */
#include "crypt.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONVERT_BUF_SIZE (2u << 20)
#define CONVERT_MAX_SOURCES 64

struct convert {
    struct strata_node *dst;
    const char *dst_name;
    uint64_t min_sparse;        /* -S; 0 writes every byte */
    bool compress;              /* -c: data goes through strata_pwrite_compressed */
    uint64_t cluster;           /* -c: the target's cluster size */
    /* -B or -o backing_file: ranges the sources leave to their backing files
     * stay unallocated in the target, so that its backing file shows. */
    bool target_backing;
    bool target_new;
    /* --salvage: a range whose block status or data cannot be read is
     * narrowed down to 512-byte sectors; those are copied as data or, when
     * unreadable, as zeros, with a warning each unless -q. */
    bool salvage, quiet;
    uint8_t *zero_buf;          /* for -S 0 */
    uint64_t done, total;
    struct tool_progress progress;
};

/* True when the target already reads as zeros over [off, off+len): through
 * its backing chain, so that a format's unallocated clusters with nothing
 * below count, as they do for qemu-img, and stay unallocated.  A new target
 * with a backing file gets zeros written wherever its backing file reaches,
 * as qemu-img writes them: only past the backing file's end are they left
 * out. */
static bool target_reads_zero(struct convert *cv, uint64_t off, uint64_t len)
{
    bool past_backing_only = cv->target_backing && cv->target_new;
    while (len > 0) {
        struct strata_block_status bs = { 0 };
        int depth;
        if (strata_block_status_above(cv->dst, off, len, &bs, &depth, NULL) < 0 ||
            bs.pnum == 0)
            return false;
        if (!(bs.flags & STRATA_BS_ZERO))
            return false;
        if (past_backing_only && (depth > 0 || (bs.flags & STRATA_BS_ALLOCATED)))
            return false;
        uint64_t n = bs.pnum < len ? bs.pnum : len;
        off += n;
        len -= n;
    }
    return true;
}

static int put_zero(struct convert *cv, uint64_t off, uint64_t len,
                    struct strata_error **errp)
{
    if (cv->min_sparse == 0) {
        /* -S 0: the target gets every byte written, as qemu-img does. */
        while (len > 0) {
            uint64_t n = len < CONVERT_BUF_SIZE ? len : CONVERT_BUF_SIZE;
            int ret = strata_pwrite(cv->dst, off, n, cv->zero_buf, 0, errp);
            if (ret < 0)
                return ret;
            off += n;
            len -= n;
        }
        return 0;
    }
    if (target_reads_zero(cv, off, len))
        return 0;
    return strata_pwrite_zeroes(cv->dst, off, len, STRATA_REQ_MAY_UNMAP, errp);
}

/* Writes a buffer read from the source, turning zero runs of at least
 * min_sparse bytes (aligned in the target) into holes. */
static int put_data(struct convert *cv, uint64_t off, const uint8_t *buf,
                    uint64_t len, struct strata_error **errp)
{
    if (cv->min_sparse == 0)
        return cv->compress ? strata_pwrite_compressed(cv->dst, off, len, buf, errp)
                            : strata_pwrite(cv->dst, off, len, buf, 0, errp);
    uint64_t pos = 0;
    while (pos < len) {
        /* One run of chunks with the same zero-ness. */
        uint64_t chunk_end = ((off + pos) / cv->min_sparse + 1) * cv->min_sparse - off;
        if (chunk_end > len)
            chunk_end = len;
        bool zero = tool_buffer_is_zero(buf + pos, chunk_end - pos);
        uint64_t end = chunk_end;
        while (end < len) {
            uint64_t next = end + cv->min_sparse < len ? end + cv->min_sparse : len;
            if (tool_buffer_is_zero(buf + end, next - end) != zero)
                break;
            end = next;
        }
        int ret = zero ? put_zero(cv, off + pos, end - pos, errp)
                  : cv->compress ? strata_pwrite_compressed(cv->dst, off + pos, end - pos,
                                                            buf + pos, errp)
                                 : strata_pwrite(cv->dst, off + pos, end - pos, buf + pos,
                                                 0, errp);
        if (ret < 0)
            return ret;
        pos = end;
    }
    return 0;
}

/* -m requests are in flight, each on a thread of its own that reads a
 * chunk (block status, then pread) and writes it.  Chunks are handed out in
 * order; without -W a chunk is written only once the one before it has
 * been, so the target sees exactly the requests of a serial copy while the
 * reads (and a source's decryption) overlap.  With -W each chunk is written
 * as soon as it has been read. */
#define CONVERT_MAX_INFLIGHT 16

struct convert_pipe {
    struct convert *cv;
    struct strata_node **srcs;
    const struct tool_image *imgs;
    int nsrc;
    bool in_order;
    /* Handing out chunks: the source and offset of the next one, and the
     * last extent block status gave, up to bs_end of source bs_src (asked
     * for the rest of the source, one answer serves many chunks: a round
     * trip each over NBD). */
    pthread_mutex_t next_lock;
    int src;
    uint64_t off, base, src_len;
    uint64_t next_seq;
    int bs_src;
    uint64_t bs_end;
    unsigned bs_flags;
    bool bs_below;              /* found in a backing file of the source */
    /* Writing: whose turn it is, progress and the first failure. */
    pthread_mutex_t lock;
    pthread_cond_t turn;
    uint64_t write_seq;
    bool stop;
    int ret;
    struct strata_error *err;
};

struct convert_chunk {
    uint64_t seq, dst_off, src_off, len;
    int src;
    bool zero;                  /* block status said zeros: nothing is read */
    bool skip;                  /* left to the target's backing file */
    bool counted;               /* counts for -p, as qemu-img counts it */
};

#define SALVAGE_SECTOR 512u

/* Block status of [off, len) of a source, through its backing chain.  With
 * --salvage a failing query is retried on a quarter of the range, down to
 * one sector, which is then taken as data, as qemu-img does. */
static int source_status(struct convert *cv, struct strata_node *src, const char *name,
                         uint64_t off, uint64_t len, struct strata_block_status *bs,
                         int *depth, struct strata_error **errp)
{
    uint64_t sectors = (len - off + SALVAGE_SECTOR - 1) / SALVAGE_SECTOR;
    for (;;) {
        struct strata_error *err = NULL;
        uint64_t n = sectors * SALVAGE_SECTOR < len - off ? sectors * SALVAGE_SECTOR : len - off;
        *bs = (struct strata_block_status){ 0 };
        *depth = 0;
        int ret = strata_block_status_above(src, off, n, bs, depth, &err);
        if (ret >= 0 && bs->pnum == 0)
            ret = strata_error_set(&err, EIO, "%s: block status at offset %" PRIu64
                                   " made no progress", name, off);
        if (ret >= 0)
            return 0;
        if (!cv->salvage) {
            strata_error_propagate(errp, &err);
            strata_error_prefix(errp, "error while reading block status at offset %" PRIu64,
                                off);
            return ret;
        }
        strata_error_free(err);
        if (sectors > 1) {
            sectors = (sectors + 3) / 4;
            continue;
        }
        if (!cv->quiet)
            tool_warning("error while reading block status at offset %" PRIu64 ": %s",
                         off, strerror(-ret));
        *bs = (struct strata_block_status){ .pnum = n,
                                            .flags = STRATA_BS_DATA | STRATA_BS_ALLOCATED };
        return 0;
    }
}

/* Reads a chunk the source failed to read in one request, sector by
 * sector; unreadable sectors read as zeros. */
static void salvage_read(struct convert *cv, struct strata_node *src, uint64_t off,
                         uint64_t len, uint8_t *buf)
{
    for (uint64_t pos = 0; pos < len; pos += SALVAGE_SECTOR) {
        uint64_t n = len - pos < SALVAGE_SECTOR ? len - pos : SALVAGE_SECTOR;
        int ret = strata_pread(src, off + pos, n, buf + pos, 0, NULL);
        if (ret < 0) {
            if (!cv->quiet)
                tool_warning("error while reading offset %" PRIu64 ": %s", off + pos,
                             strerror(-ret));
            memset(buf + pos, 0, n);
        }
    }
}

/* Takes the next chunk: 1, 0 when the sources are done, or -errno with
 * *errp set. */
static int next_chunk(struct convert_pipe *p, struct convert_chunk *c,
                      struct strata_error **errp)
{
    struct convert *cv = p->cv;
    while (p->src < p->nsrc && p->off >= p->src_len) {
        p->base += p->src_len;
        p->off = 0;
        if (++p->src < p->nsrc)
            p->src_len = (uint64_t)strata_get_length(p->srcs[p->src]);
    }
    if (p->src >= p->nsrc)
        return 0;
    int i = p->src;
    uint64_t off = p->off, len = p->src_len;
    uint64_t n = len - off < CONVERT_BUF_SIZE ? len - off : CONVERT_BUF_SIZE;
    if (p->bs_src != i || off >= p->bs_end) {
        struct strata_block_status bs;
        int depth;
        int ret = source_status(cv, p->srcs[i], p->imgs[i].spec, off, len, &bs, &depth, errp);
        if (ret < 0)
            return ret;
        p->bs_src = i;
        p->bs_end = off + bs.pnum;
        p->bs_flags = bs.flags;
        p->bs_below = depth > 0;
    }
    bool skip = cv->target_backing && p->bs_below;
    bool zero = (p->bs_flags & STRATA_BS_ZERO) && !cv->compress;
    bool forced = false;
    uint64_t avail = p->bs_end - off;
    if (cv->compress && cv->target_backing && cv->cluster) {
        /* Whole clusters are compressed: a range shorter than one is
         * copied with the rest of its cluster, as qemu-img does. */
        if (avail < cv->cluster) {
            n = len - off < cv->cluster ? len - off : cv->cluster;
            skip = false;
            forced = true;
        } else if (avail / cv->cluster * cv->cluster < n) {
            n = avail / cv->cluster * cv->cluster;
        }
    } else if (avail < n && (!cv->compress || cv->target_backing)) {
        n = avail;
    }
    *c = (struct convert_chunk){ .seq = p->next_seq++, .dst_off = p->base + off,
                                 .src_off = off, .len = n, .src = i,
                                 .zero = zero && !skip, .skip = skip,
                                 .counted = !skip && (forced || cv->min_sparse == 0 ||
                                                      !(p->bs_flags & STRATA_BS_ZERO)) };
    p->off += n;
    return 1;
}

static int write_chunk(struct convert *cv, const struct convert_chunk *c, const uint8_t *buf,
                       struct strata_error **errp)
{
    if (c->skip)
        return 0;
    int ret = c->zero ? put_zero(cv, c->dst_off, c->len, errp)
                      : put_data(cv, c->dst_off, buf, c->len, errp);
    if (ret < 0)
        strata_error_prefix(errp, "error while writing at byte %" PRIu64, c->dst_off);
    return ret;
}

/* The first failure stops every thread; later ones are dropped. */
static void pipe_fail(struct convert_pipe *p, int ret, struct strata_error *err)
{
    pthread_mutex_lock(&p->lock);
    if (!p->stop) {
        p->ret = ret;
        p->err = err;
        err = NULL;
    }
    p->stop = true;
    pthread_cond_broadcast(&p->turn);
    pthread_mutex_unlock(&p->lock);
    strata_error_free(err);
}

static void *pipe_main(void *arg)
{
    struct convert_pipe *p = arg;
    struct convert *cv = p->cv;
    uint8_t *buf = tool_alloc_buffer(CONVERT_BUF_SIZE);
    if (!buf) {
        struct strata_error *err = NULL;
        pipe_fail(p, strata_error_set(&err, ENOMEM, "out of memory"), err);
        return NULL;
    }
    for (;;) {
        struct strata_error *err = NULL;
        struct convert_chunk c = { 0 };
        pthread_mutex_lock(&p->lock);
        bool stop = p->stop;
        pthread_mutex_unlock(&p->lock);
        pthread_mutex_lock(&p->next_lock);
        int got = stop ? 0 : next_chunk(p, &c, &err);
        pthread_mutex_unlock(&p->next_lock);
        if (got < 0)
            pipe_fail(p, got, err);
        if (got <= 0)
            break;
        int ret = 0;
        if (!c.zero && !c.skip) {
            ret = strata_pread(p->srcs[c.src], c.src_off, c.len, buf, 0, &err);
            if (ret < 0 && cv->salvage) {
                strata_error_free(err);
                err = NULL;
                salvage_read(cv, p->srcs[c.src], c.src_off, c.len, buf);
                ret = 0;
            }
            if (ret < 0)
                strata_error_prefix(&err, "error while reading at byte %" PRIu64, c.src_off);
        }
        pthread_mutex_lock(&p->lock);
        while (p->in_order && !p->stop && p->write_seq != c.seq)
            pthread_cond_wait(&p->turn, &p->lock);
        stop = p->stop;
        pthread_mutex_unlock(&p->lock);
        if (stop) {
            strata_error_free(err);
            break;
        }
        /* A read failure is reported in its turn, after the chunks before
         * it have been written, as a serial copy would. */
        if (ret == 0)
            ret = write_chunk(cv, &c, buf, &err);
        if (ret < 0) {
            pipe_fail(p, ret, err);
            break;
        }
        pthread_mutex_lock(&p->lock);
        p->write_seq++;
        if (c.counted) {
            cv->done += c.len;
            tool_progress_update(&cv->progress, cv->done, cv->total);
        }
        pthread_cond_broadcast(&p->turn);
        pthread_mutex_unlock(&p->lock);
    }
    free(buf);
    return NULL;
}

/* As qemu-img, -p counts only what is copied as data (and with -S 0 the
 * zeros written too), so the sources' chunks are walked once before the
 * copy.  That walk is also where --salvage first warns of block status
 * that cannot be read. */
static int count_copied(struct convert *cv, struct strata_node **srcs,
                        const struct tool_image *imgs, int nsrc, struct strata_error **errp)
{
    struct convert_pipe p = { .cv = cv, .srcs = srcs, .imgs = imgs, .nsrc = nsrc,
                              .bs_src = -1,
                              .src_len = nsrc ? (uint64_t)strata_get_length(srcs[0]) : 0 };
    struct convert_chunk c;
    int got;
    cv->total = 0;
    while ((got = next_chunk(&p, &c, errp)) > 0)
        if (c.counted)
            cv->total += c.len;
    return got;
}

static int copy_sources(struct convert *cv, struct strata_node **srcs,
                        const struct tool_image *imgs, int nsrc, unsigned inflight,
                        bool in_order, struct strata_error **errp)
{
    struct convert_pipe p = { .cv = cv, .srcs = srcs, .imgs = imgs, .nsrc = nsrc,
                              .in_order = in_order, .bs_src = -1,
                              .src_len = nsrc ? (uint64_t)strata_get_length(srcs[0]) : 0 };
    pthread_mutex_init(&p.next_lock, NULL);
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.turn, NULL);
    /* This thread is one of them; a thread that cannot be started leaves
     * fewer requests in flight, not a failure. */
    pthread_t tids[CONVERT_MAX_INFLIGHT];
    unsigned started = 0;
    while (started + 1 < inflight &&
           pthread_create(&tids[started], NULL, pipe_main, &p) == 0)
        started++;
    pipe_main(&p);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    pthread_cond_destroy(&p.turn);
    pthread_mutex_destroy(&p.lock);
    pthread_mutex_destroy(&p.next_lock);
    if (p.ret < 0 && p.err)
        strata_error_propagate(errp, &p.err);
    else if (p.ret < 0)
        strata_error_set(errp, -p.ret, "%s: %s", cv->dst_name, strerror(-p.ret));
    return p.ret;
}

static int open_target(const struct tool_image *t, bool create, const char *fmt,
                       uint64_t size, const struct strata_opts *opts, unsigned flags,
                       struct strata_node **dstp, struct strata_error **errp)
{
    if (create) {
        const struct strata_driver *drv = img_find_format(fmt, errp);
        if (!drv)
            return -ENOENT;
        if (!tool_driver_has(drv, offsetof(struct strata_driver, create)))
            return strata_error_set(errp, ENOTSUP, "%s: image creation is not "
                                    "supported by format '%s'", t->spec, fmt);
        /* The new image's key from --key-file or the terminal, when no
         * option names one. */
        struct strata_opts *keyed = opts ? strata_opts_dup(opts) : strata_opts_new();
        if (!keyed)
            return strata_error_set(errp, ENOMEM, "out of memory");
        int ret = img_crypt_create_key(fmt, keyed, t->spec, errp);
        opts = keyed;
        if (ret == 0)
            ret = strata_image_create(fmt, t->spec, size, opts, errp);
        if (ret < 0) {
            strata_opts_free(keyed);
            return ret;
        }
        /* Creation options that are open options too (the key of an
         * encrypted target: key-secret, encrypt.key-secret) open the new
         * image, as qemu-img does. */
        struct strata_opts *o = strata_opts_new();
        const char *k, *v;
        for (size_t i = 0; opts && strata_opts_entry(opts, i, &k, &v); i++) {
            for (const struct strata_opt_desc *d = drv->open_options; d && d->name; d++)
                if (strcmp(d->name, k) == 0)
                    strata_opts_set(o, k, v);
            /* A detached header made at create is where the key is. */
            if (strncmp(k, "header.", 7) == 0)
                strata_opts_set(o, k, v);
        }
        if (strata_opts_entry(o, 0, &k, &v)) {
            strata_opts_set(o, "driver", fmt);
            strata_opts_set(o, "file.filename", t->spec);
            ret = strata_open_opts(o, STRATA_O_RDWR | STRATA_O_NO_PROBE_WARN | flags, dstp,
                                   errp);
            strata_opts_free(o);
            strata_opts_free(keyed);
            return ret;
        }
        strata_opts_free(o);
        strata_opts_free(keyed);
    }
    return tool_image_open(t, STRATA_O_RDWR | STRATA_O_NO_PROBE_WARN | flags, dstp, errp);
}

enum { OPT_TARGET_IMAGE_OPTS = TOOL_OPT_FIRST_LOCAL, OPT_TARGET_CONFIG, OPT_SALVAGE };

static const char *out_fmt, *target_config, *backing, *backing_fmt;
static bool no_create, compress, target_opts, salvage;
static struct img_snapshot_ref snap;
static uint64_t min_sparse = 4096;
/* -m and -W, as qemu-img's: requests in flight, and writes out of order. */
static unsigned inflight = 8;
static bool out_of_order;
/* As qemu-img convert: the target's cache mode defaults to unsafe, so the
 * copy ends in the page cache and no fdatasync waits for the disk. */
static unsigned dst_flags = STRATA_O_NO_FLUSH;

static int option(struct img_args *a, int c, const char *arg)
{
    struct strata_error *err = NULL;
    switch (c) {
    case 'S':
        if (tool_parse_size(arg, "-S: invalid sparse size", &min_sparse, &err) < 0)
            return tool_fail(err, -EINVAL, NULL);
        break;
    case 'm': {
        /* qemu-img reads it as a C integer (0x10 is 16) and says the same
         * for every value it refuses. */
        char *end;
        errno = 0;
        long v = strtol(arg, &end, 0);
        if (errno || end == arg || *end || v < 1 || v > CONVERT_MAX_INFLIGHT) {
            tool_error("Invalid number of coroutines. Allowed number of coroutines is "
                       "between 1 and %d", CONVERT_MAX_INFLIGHT);
            return 1;
        }
        inflight = (unsigned)v;
        break;
    }
    case 'l':
        return img_snapshot_arg(arg, &snap);
    case 't':
        if (strata_cache_mode_flags(arg, &dst_flags, &err) < 0) {
            int status = tool_usage_error("convert", "-t: %s", err->msg);
            strata_error_free(err);
            return status;
        }
        break;
    }
    return 0;
}

static int run(struct img_args *a)
{
    const struct tool_common tc = a->tc;
    struct img_create_opts *co = &a->co;
    struct strata_error *err = NULL;
    struct strata_node *srcs[CONVERT_MAX_SOURCES] = { 0 };
    struct tool_image imgs[CONVERT_MAX_SOURCES + 1];
    int nsrc = 0, ret, status = 1;
    struct convert cv = { 0 };
    if ((target_opts || target_config) && !no_create) {
        status = tool_usage_error("convert", "--target-image-opts and --target-config "
                                  "require -n (the target must exist)");
        goto out;
    }
    if (target_opts && target_config) {
        status = tool_usage_error("convert", "--target-image-opts and --target-config "
                                  "are mutually exclusive");
        goto out;
    }
    if (target_opts && out_fmt) {
        status = tool_usage_error("convert", "--target-image-opts and -O are mutually exclusive");
        goto out;
    }
    int nwords = a->nwords;
    int n = tool_images_collect(&tc, "convert", a->words,
                                target_config ? nwords : nwords - (nwords > 0),
                                imgs, CONVERT_MAX_SOURCES);
    if (n < 0)
        goto out;
    if (n == 0 || (!target_config && nwords < 1)) {
        status = tool_usage_error("convert", "Expecting source and target image names");
        goto out;
    }
    nsrc = n;
    struct tool_image target;
    if (target_config) {
        target.kind = TOOL_IMAGE_CONFIG;
        target.spec = target_config;
        target.format = NULL;
    } else {
        target.kind = target_opts ? TOOL_IMAGE_OPTS : TOOL_IMAGE_FILE;
        target.spec = a->words[nwords - 1];
        target.format = target_opts ? NULL : (out_fmt ? out_fmt : "raw");
    }
    if (!out_fmt)
        out_fmt = "raw";
    if (no_create && (co->opts || co->want_help)) {
        tool_error("-o has no effect when skipping image creation");
        goto out;
    }
    if (co->want_help) {
        const struct strata_driver *drv = img_find_format(out_fmt, &err);
        if (!drv) {
            status = tool_fail(err, -ENOENT, NULL);
            goto out;
        }
        img_opts_print_create_help(drv);
        status = 0;
        goto out;
    }
    if (compress && !no_create &&
        !tool_driver_has(img_find_format(out_fmt, NULL),
                         offsetof(struct strata_driver, pwrite_compressed))) {
        tool_error("%s: compressed output (-c) is not supported by format '%s'",
                   target.spec, out_fmt);
        goto out;
    }
    if (!no_create && !img_find_format(out_fmt, &err)) {
        status = tool_fail(err, -ENOENT, NULL);
        goto out;
    }

    unsigned sflags = tc.force_share ? STRATA_O_FORCE_SHARE : 0;
    uint64_t total = 0;
    for (int i = 0; i < nsrc; i++) {
        ret = tool_image_open(&imgs[i], sflags, &srcs[i], &err);
        if (ret < 0) {
            status = tool_fail(err, ret, imgs[i].spec);
            goto out;
        }
        int64_t len = strata_get_length(srcs[i]);
        if (len < 0) {
            tool_error("%s: cannot read the image size: %s", imgs[i].spec,
                       strerror((int)-len));
            goto out;
        }
        total += (uint64_t)len;
    }

    if (snap.given) {
        /* As qemu-img: the plain form refuses several sources, the
         * snapshot.* form applies to the first. */
        if (snap.id_or_name && nsrc > 1) {
            tool_error("No support for concatenating multiple snapshot");
            goto out;
        }
        if (img_snapshot_load(srcs[0], &snap) != 0)
            goto out;
    }

    /* -B and -F are -o backing_file and backing_fmt; with -n, -B alone
     * says that the existing target has a backing file. */
    if (!no_create && img_opts_add_backing(co, backing, backing_fmt) < 0)
        goto out;
    const char *target_backing = no_create ? backing
                                 : co->opts ? strata_opts_get(co->opts, "backing_file") : NULL;
    if (target_backing && nsrc > 1) {
        tool_error("Having a backing file for the target makes no sense when "
                   "concatenating multiple input images");
        goto out;
    }
    if (target_backing && !no_create && !strata_opts_get(co->opts, "backing_fmt")) {
        tool_error("Use of backing file requires explicit backing format");
        goto out;
    }
    cv.target_backing = target_backing != NULL;
    cv.target_new = !no_create;

    ret = open_target(&target, !no_create, out_fmt, total, co->opts, dst_flags,
                      &cv.dst, &err);
    if (ret < 0) {
        status = tool_fail(err, ret, target.spec);
        goto out;
    }
    cv.dst_name = target.spec;
    int64_t dlen = strata_get_length(cv.dst);
    if (dlen < 0 || (uint64_t)dlen < total) {
        tool_error("%s: the target (%" PRId64 " bytes) is smaller than the "
                   "source (%" PRIu64 " bytes)", target.spec, dlen, total);
        goto out;
    }
    cv.min_sparse = min_sparse;
    if (compress) {
        /* Whole clusters are compressed, so zeros are found per cluster. */
        struct strata_node *fmt = tool_format_node(cv.dst, offsetof(struct strata_driver,
                                                                    pwrite_compressed));
        if (!tool_driver_has(strata_node_driver(fmt),
                             offsetof(struct strata_driver, pwrite_compressed))) {
            tool_error("%s: compressed output (-c) is not supported by format '%s'",
                       target.spec, strata_node_driver_name(fmt));
            goto out;
        }
        struct strata_info *info = strata_info_new_object();
        int64_t cs = 0;
        if (info && strata_image_info(fmt, info, NULL) == 0 &&
            strata_info_get_int(info, "cluster-size", &cs) && cs > 0 && min_sparse)
            cv.min_sparse = (uint64_t)cs;
        cv.cluster = cs > 0 ? (uint64_t)cs : 0;
        strata_info_free(info);
        cv.compress = true;
    }
    cv.total = total;
    cv.zero_buf = min_sparse ? NULL : tool_alloc_buffer(CONVERT_BUF_SIZE);
    if (!min_sparse && !cv.zero_buf) {
        tool_error("out of memory");
        goto out;
    }
    if (cv.zero_buf)
        memset(cv.zero_buf, 0, CONVERT_BUF_SIZE);

    cv.salvage = salvage;
    cv.quiet = a->quiet;
    tool_progress_start(&cv.progress, a->progress);
    if ((a->progress || salvage) && (ret = count_copied(&cv, srcs, imgs, nsrc, &err)) < 0) {
        tool_progress_end(&cv.progress);
        status = tool_fail(err, ret, target.spec);
        goto out;
    }
    /* Compressed clusters are appended to the image as they come: kept in
     * order, so that the layout does not depend on thread timing. */
    /* --salvage copies one request at a time, so that its warnings come in
     * the order of the offsets they name. */
    ret = copy_sources(&cv, srcs, imgs, nsrc, salvage ? 1 : inflight,
                       !out_of_order || compress, &err);
    if (ret < 0) {
        tool_progress_end(&cv.progress);
        status = tool_fail(err, ret, target.spec);
        goto out;
    }
    /* Also with -t unsafe: format metadata still reaches the OS here, where
     * an error can change the exit status. */
    ret = strata_flush(cv.dst, &err);
    tool_progress_end(&cv.progress);
    if (ret < 0) {
        status = tool_fail(err, ret, target.spec);
        goto out;
    }
    status = 0;
out:
    if (cv.dst)
        strata_close(cv.dst);
    for (int i = 0; i < nsrc; i++)
        if (srcs[i])
            strata_close(srcs[i]);
    free(cv.zero_buf);
    img_snapshot_ref_free(&snap);
    return status;
}

const struct img_command img_cmd_convert = {
    .name = "convert",
    .synopsis = "convert [--object OBJ] [--image-opts | --config FILE] [-U] [-p] [-q] [-n]\n"
                "                   [-f FMT] [-t CACHE] [-O OUTPUT_FMT] [-B BACKING [-F BACKING_FMT]]\n"
                "                   [-o OPTIONS] [-l SNAPSHOT] [-S SPARSE_SIZE] [-c]\n"
                "                   [-m NUM] [-W] [--salvage]\n"
                "                   [--target-image-opts | --target-config FILE]\n"
                "                   FILENAME [FILENAME2 ...] OUTPUT_FILENAME",
    .summary = "Copy one or more images (joined end to end) into OUTPUT_FILENAME.",
    .flags = IMG_TAKES_O | IMG_TAKES_P | IMG_TAKES_Q,
    .options = (const struct img_option[]){
        { 'O', NULL, "OUTPUT_FMT", .value = &out_fmt,
          .help = "format of the target (default: raw)" },
        { 'B', NULL, "BACKING", .value = &backing,
          .help = "the new target's backing file; ranges the source\n"
                  "leaves to its own backing file stay unallocated (with\n"
                  "-n: the target already has this backing file)" },
        { 'F', NULL, "BACKING_FMT", .value = &backing_fmt,
          .help = "format of the backing file (required with -B\n"
                  "unless -o backing_fmt= names it)" },
        { 'l', NULL, "SNAPSHOT",
          .help = "copy this internal snapshot of the source (ID or\n"
                  "NAME, or snapshot.id=ID,snapshot.name=NAME)" },
        { 't', NULL, "CACHE",
          .help = "the target's cache mode: unsafe (default, as qemu-img:\n"
                  "the data is left in the host page cache) or writeback,\n"
                  "writethrough, none, directsync (the target is flushed\n"
                  "to stable storage before convert exits)" },
        { 'n', NULL, NULL, .flag = &no_create,
          .help = "do not create the target; it must exist and be\n"
                  "large enough" },
        { 'S', NULL, "SPARSE_SIZE",
          .help = "zero runs of at least this size (default 4k) are not\n"
                  "written, keeping the target sparse; 0 writes every byte" },
        { 'c', NULL, NULL, .flag = &compress,
          .help = "compress the target's clusters (formats with\n"
                  "compressed clusters: qcow, qcow2)" },
        { 'm', NULL, "NUM",
          .help = "requests in flight at once, 1 to 16 (default 8)" },
        { 'W', NULL, NULL, .flag = &out_of_order,
          .help = "write chunks as soon as they are read, out of order\n"
                  "(default: the target is written in order)" },
        { OPT_SALVAGE, "salvage", NULL, .flag = &salvage,
          .help = "go on past read errors: a sector whose block status\n"
                  "cannot be read is copied as data, one that cannot be\n"
                  "read is written as zeros, each with a warning (not\n"
                  "with -q); requests are then made one at a time" },
        { OPT_TARGET_IMAGE_OPTS, "target-image-opts", NULL, .flag = &target_opts,
          .help = "OUTPUT_FILENAME is dotted options (requires -n)" },
        { OPT_TARGET_CONFIG, "target-config", "FILE", .value = &target_config,
          .help = "the target is the stack described by FILE (requires -n;\n"
                  "then every positional argument is a source)" },
        { 0 },
    },
    .notes = "-f, -U, --image-opts and --config are about the sources; -o holds the\n"
             "target's creation options.  --config may be repeated; its sources come\n"
             "before the positional ones.\n",
    .option = option,
    .run = run,
};
