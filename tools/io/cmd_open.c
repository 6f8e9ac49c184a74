/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_open.c - open, close and reopen: the session's one image. */
#include "io.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IO_CACHE_FLAGS (STRATA_O_DIRECT | STRATA_O_WRITETHROUGH | STRATA_O_NO_FLUSH)

void io_set_image(struct io_ctx *ctx, struct strata_node *node,
                  struct strata_opts *opts, unsigned flags)
{
    ctx->node = node;
    strata_opts_free(ctx->opts);
    ctx->opts = opts;
    ctx->flags = flags;
    /* A reopen must not probe again (nor warn again about a raw guess). */
    if (opts && !strata_opts_get(opts, "driver"))
        strata_opts_set(opts, "driver", strata_node_driver_name(node));
}

int io_open_failed(const char *label, const struct strata_opts *opts,
                   struct strata_error *err, int ret)
{
    const char *msg = err && err->msg ? err->msg : strerror(ret < 0 ? -ret : EIO);
    /* The line names the image already: not twice. */
    msg = tool_unprefixed(msg, label);
    if (opts && msg == (err ? err->msg : NULL))
        msg = tool_unprefixed(msg, strata_opts_get(opts, "file.filename"));
    if (label)
        tool_error("can't open device %s: %s", label, msg);
    else
        tool_error("can't open: %s", msg);
    strata_error_free(err);
    return 1;
}

int io_close_image(struct io_ctx *ctx)
{
    io_aio_poll(ctx, IO_AIO_ALL);
    struct strata_error *err = NULL;
    int status = 0;
    if (!ctx->node)
        return 0;
    /* Data must reach the image before the session reports success (qemu-io
     * says nothing of a failed flush at close). */
    if ((ctx->flags & STRATA_O_RDWR) && strata_flush(ctx->node, &err) < 0) {
        if (io_as_qemu())
            strata_error_free(err);
        else
            status = tool_fail(err, -EIO, NULL);
    }
    strata_close(ctx->node);
    ctx->node = NULL;
    strata_opts_free(ctx->opts);
    ctx->opts = NULL;
    ctx->snapshot = false;
    return status;
}

/* -s: a temporary qcow2 overlay above the image takes the writes, which
 * are gone when the session ends, and the image is only read.  The
 * overlay's file is removed as soon as it is open. */
static int open_snapshot(struct strata_opts **optsp, unsigned *flags,
                         struct strata_error **errp)
{
    struct strata_opts *base = *optsp;
    struct strata_node *node;
    int ret = strata_open_opts(base, (*flags & ~STRATA_O_RDWR) | STRATA_O_FORCE_SHARE,
                               &node, errp);
    if (ret < 0)
        return ret;
    const char *driver = strata_node_driver_name(node);
    int64_t size = strata_node_length(node, errp);
    const char *name = strata_opts_get(base, "file.filename");
    if (!name)
        name = strata_opts_get(base, "filename");
    char *abs = name ? realpath(name, NULL) : NULL;
    struct strata_opts *create = strata_opts_new(), *o = strata_opts_new();
    char tmp[PATH_MAX];
    const char *dir = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/vl.XXXXXX", dir && *dir ? dir : "/var/tmp");
    int fd = -1;
    if (size < 0) {
        ret = (int)size;
        goto out;
    }
    if (!create || !o) {
        ret = strata_error_set(errp, ENOMEM, "out of memory");
        goto out;
    }
    if ((fd = mkstemp(tmp)) < 0) {
        ret = strata_error_set(errp, errno, "Could not create a temporary overlay in %s: %s",
                               tmp, strerror(errno));
        goto out;
    }
    close(fd);
    /* The header names the image; the options below say how to open it. */
    strata_opts_set(create, "backing_file", abs ? abs : name ? name : "image");
    strata_opts_set(create, "backing_fmt", driver);
    ret = strata_image_create("qcow2", tmp, (uint64_t)size, create, errp);
    if (ret == 0) {
        strata_opts_set(o, "driver", "qcow2");
        strata_opts_set(o, "file.driver", "file");
        strata_opts_set(o, "file.filename", tmp);
        if (!strata_opts_get(base, "driver"))
            strata_opts_set(o, "backing.driver", driver);
        ret = strata_opts_merge(o, base, "backing");
        if (ret < 0)
            strata_error_set(errp, -ret, "out of memory");
    }
    if (ret == 0) {
        strata_opts_free(base);
        *optsp = o;
        o = NULL;
        *flags = (*flags | STRATA_O_RDWR) & ~STRATA_O_FORCE_SHARE;
    }
out:
    strata_close(node);
    strata_opts_free(create);
    strata_opts_free(o);
    free(abs);
    if (fd >= 0 && ret < 0)
        unlink(tmp);
    return ret;
}

/* -C: the stack under a copy-on-read filter, which needs it writable. */
static int wrap_copy_on_read(struct strata_opts **optsp, unsigned flags,
                             struct strata_error **errp)
{
    if (!(flags & STRATA_O_RDWR))
        return strata_error_set(errp, EROFS, "Can't use copy-on-read on read-only device");
    struct strata_opts *o = strata_opts_new();
    if (!o || strata_opts_set(o, "driver", "copy-on-read") < 0 ||
        strata_opts_merge(o, *optsp, STRATA_ROLE_FILE) < 0) {
        strata_opts_free(o);
        return strata_error_set(errp, ENOMEM, "out of memory");
    }
    strata_opts_free(*optsp);
    *optsp = o;
    return 0;
}

int io_open(struct io_ctx *ctx, const char *label, struct strata_opts *opts,
            unsigned flags, unsigned mode)
{
    struct strata_node *node;
    struct strata_error *err = NULL;
    bool snapshot = mode & IO_OPEN_SNAPSHOT;
    int ret = snapshot ? open_snapshot(&opts, &flags, &err) : 0;
    bool overlay = snapshot && ret == 0;
    char *overlay_file = overlay ? strdup(strata_opts_get(opts, "file.filename")) : NULL;
    if (ret == 0 && (mode & IO_OPEN_COR))
        ret = wrap_copy_on_read(&opts, flags, &err);
    if (ret == 0)
        ret = strata_open_opts(opts, flags, &node, &err);
    if (overlay_file)
        unlink(overlay_file);
    free(overlay_file);
    if (ret < 0) {
        io_open_failed(label, opts, err, ret);
        strata_opts_free(opts);
        return 1;
    }
    io_set_image(ctx, node, opts, flags);
    ctx->snapshot = snapshot;
    return 0;
}

/* A cache mode (-t, -c) in place of the one in *flags. */
static int set_cache_mode(const char *text, unsigned *flags)
{
    struct strata_error *err = NULL;
    unsigned cache;
    if (strata_cache_mode_flags(text, &cache, &err) < 0) {
        strata_error_free(err);
        tool_error("Invalid cache option: %s", text);
        return -1;
    }
    *flags = (*flags & ~IO_CACHE_FLAGS) | cache;
    return 0;
}

static int parse_into(struct strata_opts *o, const char *text)
{
    struct strata_error *err = NULL;
    if (strata_opts_parse(o, text, NULL, &err) < 0) {
        tool_error("%s", err && err->msg ? err->msg : "invalid options");
        strata_error_free(err);
        return -1;
    }
    return 0;
}

static int open_run(struct io_ctx *ctx, int argc, char **argv)
{
    struct strata_error *err = NULL;
    struct strata_opts *extra = strata_opts_new();
    unsigned flags = 0;
    bool readonly = false, force_share = false;
    unsigned mode = 0;
    int c;

    if (!extra)
        return 1;
    while ((c = getopt(argc, argv, "snCro:ki:t:d:U")) != -1) {
        switch (c) {
        case 's': mode |= IO_OPEN_SNAPSHOT; break;
        case 'C': mode |= IO_OPEN_COR; break;
        case 'n': flags = (flags & ~IO_CACHE_FLAGS) | STRATA_O_DIRECT; break;
        case 'r': readonly = true; break;
        case 'k':
            tool_check_aio("-i", "native");
            goto fail;
        case 'i':
            if (tool_check_aio("-i", optarg) < 0)
                goto fail;
            break;
        case 't':
            if (set_cache_mode(optarg, &flags) < 0)
                goto fail;
            break;
        case 'd':
            /* Discards always reach the image: only that mode is had. */
            if (strcmp(optarg, "unmap") && strcmp(optarg, "on")) {
                if (strcmp(optarg, "ignore") && strcmp(optarg, "off"))
                    tool_error("Invalid discard option: %s", optarg);
                else
                    tool_error("open -d %s: discards cannot be ignored "
                               "(only -d unmap is supported)", optarg);
                goto fail;
            }
            break;
        case 'o':
            if (ctx->image_opts) {
                printf("--image-opts and 'open -o' are mutually exclusive\n");
                goto fail;
            }
            if (parse_into(extra, optarg) < 0)
                goto fail;
            break;
        case 'U': force_share = true; break;
        default:
            io_usage(&io_cmd_open);
            goto fail;
        }
    }
    if (ctx->image_opts && optind == argc - 1) {
        if (parse_into(extra, argv[optind]) < 0)
            goto fail;
        optind++;
    }
    if (optind < argc - 1) {
        io_usage(&io_cmd_open);
        goto fail;
    }
    if (ctx->node) {
        tool_error("file open already, try 'help close'");
        goto fail;
    }
    const char *path = optind == argc - 1 ? argv[optind] : NULL;
    struct strata_opts *o;
    if (path) {
        if (tool_file_opts(path, strata_opts_get(extra, "driver"), &o, &err) < 0) {
            io_open_failed(path, NULL, err, -EINVAL);
            goto fail;
        }
        /* Options given with -o win over those the name holds. */
        if (strata_opts_merge(o, extra, NULL) < 0) {
            strata_opts_free(o);
            tool_error("out of memory");
            goto fail;
        }
        strata_opts_free(extra);
    } else {
        o = extra;
    }
    flags |= (readonly ? 0 : STRATA_O_RDWR) | (force_share ? STRATA_O_FORCE_SHARE : 0);
    return io_open(ctx, path, o, flags, mode);
fail:
    strata_opts_free(extra);
    return 1;
}

static int close_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)argc, (void)argv;
    return io_close_image(ctx);
}

/* Takes a bool key out of o into *flags (set: `bit`, or clear with
 * `invert`); 1 when it was there, 0 when not, -1 after a message. */
static int take_bool(struct strata_opts *o, const char *key, unsigned bit, bool invert,
                     unsigned *flags)
{
    struct strata_error *err = NULL;
    bool v = false;
    if (!strata_opts_get(o, key))
        return 0;
    if (strata_opts_get_bool(o, key, &v, &err) < 0) {
        tool_error("%s", err && err->msg ? err->msg : "invalid option value");
        strata_error_free(err);
        return -1;
    }
    strata_opts_del(o, key);
    if (v != invert)
        *flags |= bit;
    else
        *flags &= ~bit;
    return 1;
}

/* The node an option path ("backing.file.driver") names, with *leaf set
 * to the last segment; NULL when no open node is there. */
static struct strata_node *node_at(struct strata_node *n, const char *key, const char **leaf)
{
    const char *p = key, *dot;
    while (n && (dot = strchr(p, '.'))) {
        char role[128];
        size_t len = (size_t)(dot - p);
        if (len >= sizeof role)
            return NULL;
        memcpy(role, p, len);
        role[len] = 0;
        n = strata_node_child(n, role);
        p = dot + 1;
    }
    *leaf = p;
    return n;
}

/* As QEMU: reopening keeps every node's driver and node name. */
static int check_unchanged(struct strata_node *top, const struct strata_opts *extra)
{
    const char *k, *v, *leaf;
    for (size_t i = 0; strata_opts_entry(extra, i, &k, &v); i++) {
        struct strata_node *n = node_at(top, k, &leaf);
        if (!n)
            continue;
        const char *now = NULL;
        if (strcmp(leaf, "driver") == 0)
            now = strata_node_driver_name(n);
        else if (strcmp(leaf, "node-name") == 0)
            now = strata_node_name(n) ? strata_node_name(n) : "";
        else
            continue;
        if (strcmp(now, v) != 0) {
            tool_error("Cannot change the option '%s'", leaf);
            return -1;
        }
    }
    return 0;
}

/* strata has no in-place reopen: the stack is closed and opened again
 * with the new flags and options, and the old one is restored when that
 * fails.  Nothing is in flight between commands, so nothing is lost. */
static int reopen_run(struct io_ctx *ctx, int argc, char **argv)
{
    struct strata_error *err = NULL;
    struct strata_opts *extra = strata_opts_new();
    unsigned flags = ctx->flags;
    bool have_rw = false, have_cache = false;
    int c;

    if (!extra)
        return 1;
    if (ctx->snapshot) {
        tool_error("reopen: the image is under a temporary overlay (-s), which "
                   "cannot be opened again");
        goto fail;
    }
    while ((c = getopt(argc, argv, "c:o:rw")) != -1) {
        switch (c) {
        case 'c':
            if (set_cache_mode(optarg, &flags) < 0)
                goto fail;
            have_cache = true;
            break;
        case 'o':
            if (parse_into(extra, optarg) < 0)
                goto fail;
            break;
        case 'r':
        case 'w':
            if (have_rw) {
                tool_error("Only one -r/-w option may be given");
                goto fail;
            }
            flags = c == 'w' ? flags | STRATA_O_RDWR : flags & ~STRATA_O_RDWR;
            have_rw = true;
            break;
        default:
            io_usage(&io_cmd_reopen);
            goto fail;
        }
    }
    if (optind != argc) {
        io_usage(&io_cmd_reopen);
        goto fail;
    }
    if (strata_opts_get(extra, "read-only") && have_rw) {
        tool_error("Cannot set both -r/-w and 'read-only'");
        goto fail;
    }
    if ((strata_opts_get(extra, "cache.direct") || strata_opts_get(extra, "cache.no-flush")) &&
        have_cache) {
        tool_error("Cannot set both -c and the cache options");
        goto fail;
    }
    if (check_unchanged(ctx->node, extra) < 0)
        goto fail;
    if (take_bool(extra, "read-only", STRATA_O_RDWR, true, &flags) < 0 ||
        take_bool(extra, "cache.direct", STRATA_O_DIRECT, false, &flags) < 0 ||
        take_bool(extra, "cache.no-flush", STRATA_O_NO_FLUSH, false, &flags) < 0)
        goto fail;
    if ((flags & STRATA_O_RDWR) && (flags & STRATA_O_FORCE_SHARE)) {
        tool_error("Cannot make a shared (-U) image writable");
        goto fail;
    }

    struct strata_opts *o = strata_opts_dup(ctx->opts);
    if (!o || strata_opts_merge(o, extra, NULL) < 0) {
        strata_opts_free(o);
        tool_error("out of memory");
        goto fail;
    }
    strata_opts_free(extra);
    struct strata_opts *old = strata_opts_dup(ctx->opts);
    unsigned old_flags = ctx->flags;
    if (!old || io_close_image(ctx) != 0) {
        strata_opts_free(old);
        strata_opts_free(o);
        return 1;
    }
    struct strata_node *node;
    int ret = strata_open_opts(o, flags, &node, &err);
    if (ret == 0) {
        strata_opts_free(old);
        io_set_image(ctx, node, o, flags);
        return 0;
    }
    strata_opts_free(o);
    tool_error("%s", err && err->msg ? err->msg : strerror(-ret));
    strata_error_free(err);
    err = NULL;
    if (strata_open_opts(old, old_flags, &node, &err) < 0) {
        tool_error("the image could not be opened again as it was: %s; no file is open",
                   err && err->msg ? err->msg : "error");
        strata_error_free(err);
        strata_opts_free(old);
        return 1;
    }
    io_set_image(ctx, node, old, old_flags);
    return 1;
fail:
    strata_opts_free(extra);
    return 1;
}

const struct io_command io_cmd_open = {
    .name = "open", .alias = "o", .run = open_run, .argmin = 1, .argmax = -1,
    .flags = IO_NOFILE_OK,
    .args = "[-rsCnkU] [-t cache] [-d discard] [-o options] [path]",
    .oneline = "open the file specified by path",
    .help =
        "\n"
        " Opens an image for the commands that follow (one at a time: 'close'\n"
        " the open one first).  PATH is a file name, or with --image-opts the\n"
        " options of the stack; -o gives options (driver=qcow2,...) too.\n"
        " -r  read-only\n"
        " -U  take no image locks (with -r)\n"
        " -n  no host cache, the same as -t none\n"
        " -t  cache mode: none, writeback, writethrough, directsync or unsafe\n"
        " -i  I/O mode: threads (the only one)\n"
        " -d  discard mode: unmap (the only one)\n"
        " -s  writes go to a temporary overlay, the image is only read\n"
        " -C  copy-on-read: reads copy what they find in the backing chain\n"
        "     into the image\n"
        " -k  (native AIO) is refused\n"
        "\n",
};

const struct io_command io_cmd_close = {
    .name = "close", .alias = "c", .run = close_run,
    .oneline = "close the current open file",
};

const struct io_command io_cmd_reopen = {
    .name = "reopen", .run = reopen_run, .argmin = 0, .argmax = -1,
    .args = "[(-r|-w)] [-c cache] [-o options]",
    .oneline = "reopens an image with new options",
    .help =
        "\n"
        " Opens the image again with other flags or options.\n"
        " -r  read-only\n"
        " -w  read-write\n"
        " -c  cache mode (as open -t)\n"
        " -o  options to add or change (read-only, cache.direct, cache.no-flush,\n"
        "     or the driver's own)\n"
        "\n",
};
