/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* raw.c - the raw format: the image is the child's bytes, optionally a
 * window [offset, offset+size) of them. */
#include <errno.h>
#include <string.h>

#include <strata/plugin.h>
#include <strata/strata.h>

struct raw_state {
    struct strata_node *file;
    uint64_t offset;
    uint64_t size;
    bool has_size;     /* size fixed by the user; else follows the child */
    bool windowed;     /* offset or size given */
};

static const struct strata_child_role raw_children[] = {
    { "file", STRATA_CHILD_PROTOCOL | STRATA_CHILD_PRIMARY },
    { NULL },
};

static const struct strata_opt_desc raw_open_options[] = {
    { .name = "offset", .type = STRATA_OPT_SIZE, .def = "0",
      .help = "where the image starts in the file" },
    { .name = "size", .type = STRATA_OPT_SIZE,
      .help = "size of the image (default: up to the end of the file)" },
    { NULL },
};

static const struct strata_opt_desc raw_create_options[] = {
    { NULL },
};

static int raw_probe(const uint8_t *buf, size_t len, const char *filename)
{
    /* Anything is a raw image; every real format must outscore this. */
    return 1;
}

static int raw_open(struct strata_node *node, const struct strata_opts *opts,
                    unsigned flags, struct strata_error **errp)
{
    struct raw_state *s = strata_node_state(node);
    int r;

    if ((r = strata_opts_get_size(opts, "offset", &s->offset, errp)) < 0)
        return r;
    s->has_size = strata_opts_get(opts, "size") != NULL;
    if ((r = strata_opts_get_size(opts, "size", &s->size, errp)) < 0)
        return r;
    s->windowed = s->has_size || s->offset != 0;

    r = strata_node_open_child(node, "file", NULL, false, &s->file, errp);
    if (r < 0)
        return r;

    int64_t flen = strata_node_length(s->file, errp);
    const char *name = strata_node_filename(s->file);
    if (flen < 0)
        return (int)flen;
    if (s->offset > (uint64_t)flen)
        return strata_error_set(errp, EINVAL, "%s: offset %llu is past the end of the "
                                "file (%lld bytes)", name,
                                (unsigned long long)s->offset, (long long)flen);
    if (s->has_size && s->size > (uint64_t)flen - s->offset)
        return strata_error_set(errp, EINVAL, "%s: offset %llu + size %llu runs past "
                                "the end of the file (%lld bytes)", name,
                                (unsigned long long)s->offset,
                                (unsigned long long)s->size, (long long)flen);
    /* The file's alignment is the image's, as in QEMU: a read-modify-write
     * then happens here, and its events reach a blkdebug node below. */
    struct strata_limits fl, l;
    strata_node_get_limits(s->file, &fl);
    strata_node_get_limits(node, &l);
    if (fl.request_alignment > 1 && s->offset % fl.request_alignment == 0) {
        l.request_alignment = fl.request_alignment;
        strata_node_set_limits(node, &l);
    }
    return 0;
}

static void raw_close(struct strata_node *node)
{
}

static int64_t raw_length(struct strata_node *node, struct strata_error **errp)
{
    struct raw_state *s = strata_node_state(node);
    if (s->has_size)
        return (int64_t)s->size;
    int64_t len = strata_node_length(s->file, errp);
    if (len < 0)
        return len;
    /* Whole 512-byte sectors, as QEMU counts a node's length: a file whose
     * size is not a multiple reads as zeros up to the end of its last
     * sector (the file driver fills reads past its end), and a write there
     * makes the file longer. */
    int64_t n = (uint64_t)len > s->offset ? len - (int64_t)s->offset : 0;
    return n > INT64_MAX - 511 ? n : (n + 511) / 512 * 512;
}

static int raw_pread(struct strata_node *node, uint64_t off, uint64_t len, void *buf,
                     unsigned flags, struct strata_error **errp)
{
    struct raw_state *s = strata_node_state(node);
    return strata_pread(s->file, s->offset + off, len, buf, flags, errp);
}

static int raw_pwrite(struct strata_node *node, uint64_t off, uint64_t len,
                      const void *buf, unsigned flags, struct strata_error **errp)
{
    struct raw_state *s = strata_node_state(node);
    return strata_pwrite(s->file, s->offset + off, len, buf, flags, errp);
}

static int raw_pwrite_zeroes(struct strata_node *node, uint64_t off, uint64_t len,
                             unsigned flags, struct strata_error **errp)
{
    struct raw_state *s = strata_node_state(node);
    return strata_pwrite_zeroes(s->file, s->offset + off, len, flags, errp);
}

static int raw_pdiscard(struct strata_node *node, uint64_t off, uint64_t len,
                        struct strata_error **errp)
{
    struct raw_state *s = strata_node_state(node);
    return strata_pdiscard(s->file, s->offset + off, len, errp);
}

static int64_t raw_allocated_size(struct strata_node *node, struct strata_error **errp)
{
    struct raw_state *s = strata_node_state(node);
    return strata_node_allocated_size(s->file, errp);
}

static int raw_truncate(struct strata_node *node, uint64_t size, bool exact,
                        enum strata_prealloc prealloc, struct strata_error **errp)
{
    struct raw_state *s = strata_node_state(node);
    if (s->windowed)
        return strata_error_set(errp, ENOTSUP, "%s: cannot resize a raw image with an "
                                "offset or size window", strata_node_filename(s->file));
    return strata_truncate(s->file, size, exact, prealloc, errp);
}

static int raw_block_status(struct strata_node *node, uint64_t off, uint64_t len,
                            struct strata_block_status *bs, struct strata_error **errp)
{
    struct raw_state *s = strata_node_state(node);
    int64_t flen = strata_node_length(s->file, errp);
    if (flen < 0)
        return (int)flen;
    if (s->offset + off >= (uint64_t)flen) {
        /* The rest of the last sector, past the end of the file. */
        *bs = (struct strata_block_status){ .pnum = len, .offset = s->offset + off,
                                            .file = s->file,
                                            .flags = STRATA_BS_ZERO | STRATA_BS_ALLOCATED |
                                                     STRATA_BS_OFFSET_VALID };
        return 0;
    }
    int r = strata_block_status(s->file, s->offset + off, len, bs, errp);
    if (r < 0)
        return r;
    if (bs->pnum > len)
        bs->pnum = len;
    /* Under O_DIRECT, data that ends at an unaligned end of file takes the
     * rest of its last sector with it, as in QEMU: such a file is read and
     * written in whole blocks.  With byte-granular I/O the tail stays apart. */
    struct strata_limits lim;
    strata_node_get_limits(s->file, &lim);
    if ((bs->flags & STRATA_BS_DATA) && !s->has_size && lim.request_alignment > 1 &&
        s->offset + off + bs->pnum == (uint64_t)flen && bs->pnum < len)
        bs->pnum += len - bs->pnum < 511 ? len - bs->pnum : 511;
    if (!(bs->flags & STRATA_BS_OFFSET_VALID)) {
        /* Without a host offset from below, the data is at ours in the child. */
        bs->flags |= STRATA_BS_OFFSET_VALID;
        bs->offset = s->offset + off;
        bs->file = s->file;
    }
    return r;
}

static int raw_create(struct strata_create *c, struct strata_error **errp)
{
    struct strata_node *file;
    /* Size and the protocol's options (preallocation) go to the protocol. */
    int r = strata_create_child(c, "file", strata_create_size(c), false, &file, errp);
    if (r < 0)
        return r;
    strata_close(file);
    return 0;
}

/* As qemu-img measure: the whole virtual size, in 512-byte sectors, both
 * required and fully allocated, since unallocated parts count too. */
static int raw_measure(const struct strata_opts *create_opts, uint64_t size,
                       struct strata_node *src, struct strata_measure *out,
                       struct strata_error **errp)
{
    if (src) {
        int64_t len = strata_node_length(src, errp);
        if (len < 0)
            return (int)len;
        size = (uint64_t)len;
    }
    if (size > UINT64_MAX - 511)
        return strata_error_set(errp, EFBIG, "raw: size %llu is too large",
                                (unsigned long long)size);
    out->required = (size + 511) / 512 * 512;
    out->fully_allocated = out->required;
    return 0;
}

static const struct strata_driver raw_driver = {
    STRATA_DRIVER_HEAD,
    .name = "raw",
    .description = "raw disk image",
    .kind = STRATA_DRIVER_FORMAT,
    .flags = STRATA_DRIVER_THREAD_SAFE,
    .state_size = sizeof(struct raw_state),
    .child_roles = raw_children,
    .open_options = raw_open_options,
    .create_options = raw_create_options,
    .probe = raw_probe,
    .open = raw_open,
    .close = raw_close,
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    /* no flush: the core flushes the child after the node */
    .pwrite_zeroes = raw_pwrite_zeroes,
    .pdiscard = raw_pdiscard,
    .length = raw_length,
    .allocated_size = raw_allocated_size,
    .truncate = raw_truncate,
    .block_status = raw_block_status,
    .create = raw_create,
    .measure = raw_measure,
};

STRATA_PLUGIN("raw", .drivers = STRATA_DRIVERS(&raw_driver));
