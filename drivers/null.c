/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* null.c - a protocol with no storage: reads return zeros (unless
 * read-zeroes=off), writes are accepted and dropped.  Useful for
 * benchmarks and for tests of the layers above.  It also answers to QEMU's
 * names, null-co and null-aio, with QEMU 7.2's default read-zeroes=off, so
 * that their command lines and json: names work unchanged.  The open flags
 * STRATA_O_DIRECT and STRATA_O_WRITETHROUGH need nothing here: with no
 * storage there is neither a cache to bypass nor data to make stable. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include <strata/driver.h>
#include <strata/plugin.h>
#include <strata/strata.h>

struct null_state {
    _Atomic uint64_t size;
    bool read_zeroes;
};

#define NULL_OPTION_DESCS(zeroes) \
    { .name = "size", .type = STRATA_OPT_SIZE, .def = "1G", \
      .help = "size of the device" }, \
    { .name = "read-zeroes", .type = STRATA_OPT_BOOL, .def = zeroes, \
      .help = "fill read buffers with zeros (off leaves them untouched)" }, \
    { NULL },
static const struct strata_opt_desc null_open_options[] = { NULL_OPTION_DESCS("on") };
static const struct strata_opt_desc qemu_open_options[] = { NULL_OPTION_DESCS("off") };

static int null_open(struct strata_node *node, const struct strata_opts *opts,
                     unsigned flags, struct strata_error **errp)
{
    struct null_state *s = strata_node_state(node);
    uint64_t size = 1ull << 30;
    int r;

    s->read_zeroes = strcmp(strata_node_driver_name(node), "null") == 0;
    if ((r = strata_opts_get_size(opts, "size", &size, errp)) < 0)
        return r;
    if ((r = strata_opts_get_bool(opts, "read-zeroes", &s->read_zeroes, errp)) < 0)
        return r;
    if (size > (uint64_t)INT64_MAX)
        return strata_error_set(errp, EINVAL, "null: size %llu is too large",
                                (unsigned long long)size);
    atomic_store(&s->size, size);
    return 0;
}

static void null_close(struct strata_node *node)
{
}

static int null_pread(struct strata_node *node, uint64_t off, uint64_t len, void *buf,
                      unsigned flags, struct strata_error **errp)
{
    struct null_state *s = strata_node_state(node);
    if (s->read_zeroes)
        memset(buf, 0, len);
    return 0;
}

static int null_pwrite(struct strata_node *node, uint64_t off, uint64_t len,
                       const void *buf, unsigned flags, struct strata_error **errp)
{
    return 0;
}

static int null_flush(struct strata_node *node, struct strata_error **errp)
{
    return 0;
}

static int null_pwrite_zeroes(struct strata_node *node, uint64_t off, uint64_t len,
                              unsigned flags, struct strata_error **errp)
{
    return 0;
}

static int null_pdiscard(struct strata_node *node, uint64_t off, uint64_t len,
                         struct strata_error **errp)
{
    return 0;
}

static int64_t null_length(struct strata_node *node, struct strata_error **errp)
{
    struct null_state *s = strata_node_state(node);
    return (int64_t)atomic_load(&s->size);
}

static int64_t null_allocated_size(struct strata_node *node, struct strata_error **errp)
{
    return 0;
}

static int null_truncate(struct strata_node *node, uint64_t size, bool exact,
                         enum strata_prealloc prealloc, struct strata_error **errp)
{
    struct null_state *s = strata_node_state(node);
    if (size > (uint64_t)INT64_MAX)
        return strata_error_set(errp, EINVAL, "null: size %llu is too large",
                                (unsigned long long)size);
    atomic_store(&s->size, size);
    return 0;
}

static int null_block_status(struct strata_node *node, uint64_t off, uint64_t len,
                             struct strata_block_status *bs, struct strata_error **errp)
{
    struct null_state *s = strata_node_state(node);
    bs->pnum = len;
    bs->offset = off;
    bs->file = node;
    /* Without read-zeroes nothing is known of what a read returns: nothing
     * is reported, as QEMU's null-co does. */
    bs->flags = s->read_zeroes ? STRATA_BS_OFFSET_VALID | STRATA_BS_ALLOCATED | STRATA_BS_ZERO
                               : 0;
    return 0;
}

#define NULL_DRIVER_BODY \
    .kind = STRATA_DRIVER_PROTOCOL, \
    .flags = STRATA_DRIVER_THREAD_SAFE, \
    .state_size = sizeof(struct null_state), \
    .open = null_open, \
    .close = null_close, \
    .pread = null_pread, \
    .pwrite = null_pwrite, \
    .flush = null_flush, \
    .pwrite_zeroes = null_pwrite_zeroes, \
    .pdiscard = null_pdiscard, \
    .length = null_length, \
    .allocated_size = null_allocated_size, \
    .truncate = null_truncate, \
    .block_status = null_block_status,

#define NULL_DRIVER(var, drv_name, desc, opts) \
    static const struct strata_driver var = { \
        STRATA_DRIVER_HEAD, .name = drv_name, .description = desc, \
        .open_options = opts, NULL_DRIVER_BODY \
    }
NULL_DRIVER(null_driver, "null", "no storage: reads zeros, drops writes", null_open_options);
NULL_DRIVER(null_co_driver, "null-co", "QEMU's name of null (read-zeroes off by default)",
            qemu_open_options);
NULL_DRIVER(null_aio_driver, "null-aio", "QEMU's name of null (read-zeroes off by default)",
            qemu_open_options);

STRATA_PLUGIN("null", .drivers = STRATA_DRIVERS(&null_driver, &null_co_driver, &null_aio_driver));
