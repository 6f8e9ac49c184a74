/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* copy-on-read.c - a filter whose reads copy what they find below the
 * image (in its backing chain, or unallocated) into the image, as QEMU's
 * copy-on-read: a later read of the same range no longer needs the backing
 * file.  The copy covers whole clusters of the image and is written through
 * the image's own write path (zeros as write-zeroes), so the image is
 * changed only where it defined nothing.  Its callbacks are serialised
 * (the driver is not marked thread-safe), so that a write through the
 * filter cannot land between a copy's read and its write and be undone by
 * it.  Needs a writable image.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <strata/plugin.h>
#include <strata/strata.h>

/* Bounce buffer of one copy step: a 2 GiB read is copied in pieces. */
#define COR_CHUNK (1u << 20)

struct cor_state {
    struct strata_node *file;
    uint64_t cluster;   /* the image's cluster size, 1 when it has none */
};

static const struct strata_child_role cor_children[] = {
    { STRATA_ROLE_FILE, STRATA_CHILD_PRIMARY },
    { NULL },
};

static const struct strata_opt_desc cor_open_options[] = {
    { NULL },
};

static uint64_t image_cluster_size(struct strata_node *file)
{
    int64_t cs = 0;
    struct strata_info *info = strata_info_new_object();
    if (info && strata_image_info(file, info, NULL) == 0)
        strata_info_get_int(info, "cluster-size", &cs);
    strata_info_free(info);
    return cs > 0 ? (uint64_t)cs : 1;
}

static int cor_open(struct strata_node *node, const struct strata_opts *opts,
                    unsigned flags, struct strata_error **errp)
{
    struct cor_state *s = strata_node_state(node);
    int r = strata_node_open_child(node, STRATA_ROLE_FILE, NULL, false, &s->file, errp);
    if (r < 0)
        return r;
    if (!(flags & STRATA_O_RDWR))
        return strata_error_set(errp, EROFS, "Block node is read-only");
    s->cluster = image_cluster_size(s->file);
    return 0;
}

static void cor_close(struct strata_node *node)
{
}

static bool all_zero(const uint8_t *p, uint64_t len)
{
    return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

/* Reads [pos, pos+n) of the image, which it does not define, and stores
 * it there. */
static int copy_up(struct cor_state *s, uint64_t pos, uint64_t n, uint8_t *bounce,
                   struct strata_error **errp)
{
    int r = strata_pread(s->file, pos, n, bounce, 0, errp);
    if (r < 0)
        return r;
    /* QEMU names the event on the image's file. */
    struct strata_node *below = strata_node_child_with(s->file, STRATA_CHILD_PRIMARY);
    if (below)
        strata_node_raise_event(below, STRATA_EV_COR_WRITE);
    if (all_zero(bounce, n))
        return strata_pwrite_zeroes(s->file, pos, n, 0, errp);
    return strata_pwrite(s->file, pos, n, bounce, 0, errp);
}

static int cor_pread(struct strata_node *node, uint64_t off, uint64_t len, void *buf,
                     unsigned flags, struct strata_error **errp)
{
    struct cor_state *s = strata_node_state(node);
    int64_t size = strata_node_length(s->file, errp);
    if (size < 0)
        return (int)size;
    uint64_t start = off / s->cluster * s->cluster;
    uint64_t end = off + len;
    end = end % s->cluster ? (end / s->cluster + 1) * s->cluster : end;
    if (end > (uint64_t)size)
        end = (uint64_t)size;
    uint8_t *bounce = NULL;
    int r = 0;

    for (uint64_t pos = start; pos < end && r == 0;) {
        struct strata_block_status bs;
        r = strata_block_status(s->file, pos, end - pos, &bs, errp);
        if (r < 0)
            break;
        uint64_t n = bs.pnum;
        if (!(bs.flags & STRATA_BS_ALLOCATED)) {
            /* Whole clusters, each piece no larger than the bounce buffer. */
            uint64_t step = COR_CHUNK / s->cluster * s->cluster;
            if (step == 0)
                step = s->cluster;
            if (n > step)
                n = step;
            if (!bounce && !(bounce = malloc(step))) {
                r = strata_error_set(errp, ENOMEM, "out of memory");
                break;
            }
            r = copy_up(s, pos, n, bounce, errp);
        }
        uint64_t a = pos > off ? pos : off;
        uint64_t b = pos + n < off + len ? pos + n : off + len;
        if (r == 0 && a < b) {
            if (bs.flags & STRATA_BS_ALLOCATED)
                r = strata_pread(s->file, a, b - a, (uint8_t *)buf + (a - off), flags, errp);
            else
                memcpy((uint8_t *)buf + (a - off), bounce + (a - pos), b - a);
        }
        pos += n;
    }
    free(bounce);
    return r;
}

/* Writes pass through the filter (not around it) so that they are
 * serialised with the copies. */
static int cor_pwrite(struct strata_node *node, uint64_t off, uint64_t len, const void *buf,
                      unsigned flags, struct strata_error **errp)
{
    struct cor_state *s = strata_node_state(node);
    return strata_pwrite(s->file, off, len, buf, flags, errp);
}

static int cor_pwrite_zeroes(struct strata_node *node, uint64_t off, uint64_t len,
                             unsigned flags, struct strata_error **errp)
{
    struct cor_state *s = strata_node_state(node);
    return strata_pwrite_zeroes(s->file, off, len, flags, errp);
}

static int cor_pdiscard(struct strata_node *node, uint64_t off, uint64_t len,
                        struct strata_error **errp)
{
    struct cor_state *s = strata_node_state(node);
    return strata_pdiscard(s->file, off, len, errp);
}

static const struct strata_driver cor_driver = {
    STRATA_DRIVER_HEAD,
    .name = "copy-on-read",
    .description = "copies what reads find in the backing chain into the image",
    .kind = STRATA_DRIVER_FILTER,
    .state_size = sizeof(struct cor_state),
    .child_roles = cor_children,
    .open_options = cor_open_options,
    .open = cor_open,
    .close = cor_close,
    .pread = cor_pread,
    .pwrite = cor_pwrite,
    .pwrite_zeroes = cor_pwrite_zeroes,
    .pdiscard = cor_pdiscard,
};

STRATA_PLUGIN("copy-on-read", .drivers = STRATA_DRIVERS(&cor_driver));
