/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin.c - nbdkit-strata-plugin: serves a strata stack over NBD.
 *
 * One stack is opened for the whole server and shared by every connection
 * (strata nodes are thread-safe, so the thread model is PARALLEL and a flush
 * on any connection covers the writes of all: multi-conn is safe).  Format
 * and encryption work happen here, so clients see the guest's plaintext.
 *
 * The stack is opened in .after_fork: drivers may start threads (the nbd
 * driver does), and threads do not survive nbdkit's daemonizing fork.  To
 * still report a wrong file name, option or passphrase before the fork,
 * .get_ready opens it once (for metadata only unless a key is given, to
 * check the key) and closes it again.
 */
#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "nbdkit-strata.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

static struct strata_opts *srv_opts;
static struct strata_node *srv_node;
/* Connection handles carry nothing but nbdkit needs a non-NULL pointer. */
static int srv_handle;

static int srv_config(const char *key, const char *value)
{
    return srv_param(key, value);
}

static int srv_config_complete(void)
{
    srv_opts = srv_params_done();
    return srv_opts ? 0 : -1;
}

static unsigned srv_open_flags(void)
{
    return (srv_param_readonly() ? 0 : STRATA_O_RDWR) | srv_param_cache();
}

/* True when some node of the stack is given a key. */
static bool srv_has_key(void)
{
    const char *k, *v;
    for (size_t i = 0; strata_opts_entry(srv_opts, i, &k, &v); i++) {
        size_t n = strlen(k);
        if (n >= 10 && strcmp(k + n - 10, "key-secret") == 0)
            return true;
    }
    return false;
}

static int srv_get_ready(void)
{
    struct strata_error *err = NULL;
    struct strata_node *n = NULL;
    /* An encrypted stack is unlocked here too (and closed again), so that
     * a wrong passphrase fails nbdkit's start-up instead of the server
     * that clients already wait for. */
    unsigned flags = srv_has_key() ? 0 : STRATA_O_NO_IO;
    int r = strata_open_opts(srv_opts, flags | STRATA_O_NO_PROBE_WARN, &n, &err);
    if (r < 0)
        return srv_fail(err, r);
    strata_close(n);
    return 0;
}

static int srv_after_fork(void)
{
    struct strata_error *err = NULL;
    int r = strata_open_opts(srv_opts, srv_open_flags(), &srv_node, &err);
    if (r < 0)
        return srv_fail(err, r);
    nbdkit_debug("strata: serving %s (%s), %s", strata_node_filename(srv_node),
                 strata_node_driver_name(srv_node),
                 strata_node_writable(srv_node) ? "read-write" : "read-only");
    return 0;
}

static void srv_cleanup(void)
{
    if (srv_node) {
        struct strata_error *err = NULL;
        if (strata_flush(srv_node, &err) < 0)
            srv_fail(err, -EIO);
        strata_close(srv_node);
        srv_node = NULL;
    }
}

static void srv_unload(void)
{
    srv_cleanup();
    strata_opts_free(srv_opts);
    srv_opts = NULL;
    srv_params_free();
    strata_secret_clear_all();
}

static void srv_dump_plugin(void)
{
    printf("strata_version=%s\n", strata_version());
}

static void *srv_open(int readonly)
{
    return &srv_handle;
}

/* ------------------------------------------------------------ capabilities */

enum srv_cap { SRV_CAP_DISCARD, SRV_CAP_ZERO, SRV_CAP_BLOCK_STATUS };

/* Whether the top node does the work itself, looking through filters to the
 * node they forward to, as the core's request path does. */
static bool srv_stack_has(enum srv_cap cap)
{
    struct strata_node *n = srv_node;
    while (n) {
        const struct strata_driver *d = strata_node_driver(n);
        bool has = cap == SRV_CAP_DISCARD ? d->pdiscard != NULL
                 : cap == SRV_CAP_ZERO ? d->pwrite_zeroes != NULL
                 : d->block_status != NULL;
        if (has)
            return true;
        if (d->kind != STRATA_DRIVER_FILTER)
            return false;
        n = strata_node_child_with(n, STRATA_CHILD_PRIMARY);
    }
    return false;
}

static int64_t srv_get_size(void *handle)
{
    int64_t size = strata_get_length(srv_node);
    if (size < 0) {
        nbdkit_error("%s: cannot get size: %s", strata_node_filename(srv_node),
                     strerror((int)-size));
        nbdkit_set_error((int)-size);
        return -1;
    }
    return size;
}

static int srv_block_size(void *handle, uint32_t *minimum, uint32_t *preferred,
                          uint32_t *maximum)
{
    struct strata_limits lim;
    strata_node_get_limits(srv_node, &lim);
    /* Any request works (the core reads and rewrites partial blocks); the
     * preferred size avoids that work. */
    uint32_t pref = 4096;
    while (pref < lim.request_alignment && pref < (32u << 20))
        pref <<= 1;
    *minimum = 1;
    *preferred = pref;
    *maximum = 0xffffffff;
    return 0;
}

static int srv_can_write(void *handle)
{
    return strata_node_writable(srv_node);
}

static int srv_can_flush(void *handle)
{
    return 1;
}

static int srv_is_rotational(void *handle)
{
    return 0;
}

static int srv_can_trim(void *handle)
{
    return srv_stack_has(SRV_CAP_DISCARD);
}

/* The core writes zeros itself when a driver has no cheaper way. */
static int srv_can_zero(void *handle)
{
    return 1;
}

static int srv_can_fast_zero(void *handle)
{
    return srv_stack_has(SRV_CAP_ZERO);
}

/* A FUA write becomes write + flush of the stack: correct whatever each
 * layer does with the flag. */
static int srv_can_fua(void *handle)
{
    return NBDKIT_FUA_EMULATE;
}

static int srv_can_multi_conn(void *handle)
{
    return 1;
}

static int srv_can_extents(void *handle)
{
    return srv_stack_has(SRV_CAP_BLOCK_STATUS);
}

/* ------------------------------------------------------------ I/O */

static int srv_pread(void *handle, void *buf, uint32_t count, uint64_t offset,
                     uint32_t flags)
{
    struct strata_error *err = NULL;
    int r = strata_pread(srv_node, offset, count, buf, 0, &err);
    return r < 0 ? srv_fail(err, r) : 0;
}

static int srv_pwrite(void *handle, const void *buf, uint32_t count, uint64_t offset,
                      uint32_t flags)
{
    struct strata_error *err = NULL;
    int r = strata_pwrite(srv_node, offset, count, buf, 0, &err);
    return r < 0 ? srv_fail(err, r) : 0;
}

static int srv_flush(void *handle, uint32_t flags)
{
    struct strata_error *err = NULL;
    int r = strata_flush(srv_node, &err);
    return r < 0 ? srv_fail(err, r) : 0;
}

static int srv_trim(void *handle, uint32_t count, uint64_t offset, uint32_t flags)
{
    struct strata_error *err = NULL;
    int r = strata_pdiscard(srv_node, offset, count, &err);
    return r < 0 ? srv_fail(err, r) : 0;
}

static int srv_zero(void *handle, uint32_t count, uint64_t offset, uint32_t flags)
{
    struct strata_error *err = NULL;
    unsigned f = 0;
    if (flags & NBDKIT_FLAG_MAY_TRIM)
        f |= STRATA_REQ_MAY_UNMAP;
    if (flags & NBDKIT_FLAG_FAST_ZERO)
        f |= STRATA_REQ_NO_FALLBACK;
    int r = strata_pwrite_zeroes(srv_node, offset, count, f, &err);
    if (r == -ENOTSUP && (flags & NBDKIT_FLAG_FAST_ZERO)) {
        /* Expected: the client falls back to writing; not worth a message. */
        strata_error_free(err);
        nbdkit_set_error(ENOTSUP);
        return -1;
    }
    return r < 0 ? srv_fail(err, r) : 0;
}

/* As qemu-nbd: HOLE where no layer holds data, ZERO where reads give zeros. */
static int srv_extents(void *handle, uint32_t count, uint64_t offset, uint32_t flags,
                       struct nbdkit_extents *extents)
{
    uint64_t end = offset + count;
    while (offset < end) {
        struct strata_error *err = NULL;
        struct strata_block_status bs;
        int depth;
        int r = strata_block_status_above(srv_node, offset, end - offset, &bs, &depth, &err);
        if (r < 0)
            return srv_fail(err, r);
        uint32_t type = 0;
        if (!(bs.flags & STRATA_BS_DATA))
            type |= NBDKIT_EXTENT_HOLE;
        if (bs.flags & STRATA_BS_ZERO)
            type |= NBDKIT_EXTENT_ZERO;
        if (nbdkit_add_extent(extents, offset, bs.pnum, type) < 0)
            return -1;
        offset += bs.pnum;
        if (flags & NBDKIT_FLAG_REQ_ONE)
            break;
    }
    return 0;
}

static struct nbdkit_plugin plugin = {
    .name = "strata",
    .longname = "strata block storage stack",
    .version = STRATA_VERSION,
    .description = "Serves a strata stack (qcow2, LUKS, raw, ... over file, nbd, ...)",
    .unload = srv_unload,
    .config = srv_config,
    .config_complete = srv_config_complete,
    .config_help = srv_param_help,
    .magic_config_key = "config",
    .get_ready = srv_get_ready,
    .after_fork = srv_after_fork,
    .cleanup = srv_cleanup,
    .dump_plugin = srv_dump_plugin,
    .open = srv_open,
    .get_size = srv_get_size,
    .block_size = srv_block_size,
    .can_write = srv_can_write,
    .can_flush = srv_can_flush,
    .is_rotational = srv_is_rotational,
    .can_trim = srv_can_trim,
    .can_zero = srv_can_zero,
    .can_fast_zero = srv_can_fast_zero,
    .can_fua = srv_can_fua,
    .can_multi_conn = srv_can_multi_conn,
    .can_extents = srv_can_extents,
    .pread = srv_pread,
    .pwrite = srv_pwrite,
    .flush = srv_flush,
    .trim = srv_trim,
    .zero = srv_zero,
    .extents = srv_extents,
    .errno_is_preserved = 0,
};

/* Defined by the macro below; declared for -Wmissing-prototypes. */
NBDKIT_DLL_PUBLIC struct nbdkit_plugin *plugin_init(void);
NBDKIT_REGISTER_PLUGIN(plugin)
