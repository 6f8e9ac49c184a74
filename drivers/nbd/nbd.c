/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nbd.c - the nbd protocol driver: a disk exported by an NBD server
 * (nbdkit, qemu-nbd, nbd-server, another strata), reached with libnbd.
 *
 * Options: filename (an NBD URI) or server.type=unix|inet with server.path,
 * or server.host and server.port; export; reconnect-attempts,
 * reconnect-delay (ms) and timeout (s).  An export has a fixed size: writes
 * past its end fail and it cannot be resized.
 *
 * Open flags: STRATA_O_DIRECT holds as it is, since this client keeps no
 * cache: every request goes to the server when it is made (what the server
 * caches is its own affair, as with QEMU's nbd client).  STRATA_O_WRITETHROUGH
 * arrives as FUA on each write, sent natively or as a flush after it.
 */
#include "nbd-int.h"

#include <errno.h>
#include <libnbd.h>
#include <stdlib.h>
#include <string.h>

#include <strata/plugin.h>

static const char *const nbd_server_types[] = { "unix", "inet", NULL };

#define NBD_ADDRESS_OPTIONS                                                          \
    { .name = "server.type", .type = STRATA_OPT_ENUM,                               \
      .help = "unix (server.path) or inet (server.host, server.port)",             \
      .choices = nbd_server_types },                                                \
    { .name = "server.path", .type = STRATA_OPT_STRING,                             \
      .help = "Unix socket of the server" },                                        \
    { .name = "server.host", .type = STRATA_OPT_STRING,                             \
      .help = "host name or address of the server" },                               \
    { .name = "server.port", .type = STRATA_OPT_STRING, .def = NBD_DEFAULT_PORT,    \
      .help = "TCP port of the server" },                                           \
    { .name = "export", .type = STRATA_OPT_STRING, .def = "",                       \
      .help = "export name" }

static const struct strata_opt_desc nbd_open_options[] = {
    { .name = "filename", .type = STRATA_OPT_STRING,
      .help = "NBD URI: nbd://HOST[:PORT]/EXPORT or nbd+unix:///EXPORT?socket=PATH "
              "(instead of server.* and export)" },
    NBD_ADDRESS_OPTIONS,
    { .name = "reconnect-attempts", .type = STRATA_OPT_NUMBER, .def = "5",
      .help = "connection attempts after the connection drops before requests fail" },
    { .name = "reconnect-delay", .type = STRATA_OPT_NUMBER, .def = "500",
      .help = "milliseconds between reconnection attempts" },
    { .name = "timeout", .type = STRATA_OPT_NUMBER, .def = "0",
      .help = "seconds to wait for a reply before the connection is dropped "
              "(0: wait as long as the server is connected)" },
    { .name = "x-dirty-bitmap", .type = STRATA_OPT_STRING,
      .help = "metadata context that block status reads instead of base:allocation,\n"
              "its two low bits taken as hole and zero (qemu:dirty-bitmap:NAME,\n"
              "qemu:allocation-depth), as QEMU's client does" },
    { NULL },
};

static const struct strata_opt_desc nbd_create_options[] = {
    NBD_ADDRESS_OPTIONS,
    { NULL },
};

static int nbd_get_u32(const struct strata_opts *opts, const char *key, unsigned *out,
                       struct strata_error **errp)
{
    uint64_t v = *out;
    int r = strata_opts_get_u64(opts, key, &v, errp);
    if (r < 0)
        return r;
    if (v > 1000000)
        return strata_error_set(errp, EINVAL, "nbd: %s=%llu is too large", key,
                                (unsigned long long)v);
    *out = (unsigned)v;
    return 0;
}

/* ------------------------------------------------------------ open/close */

static int nbd_node_do_open(struct strata_node *node, const struct strata_opts *opts,
                       unsigned flags, struct strata_error **errp)
{
    struct nbd_state *s = strata_node_state(node);
    int r;

    s->attempts = NBD_DEFAULT_ATTEMPTS;
    s->delay_ms = NBD_DEFAULT_DELAY_MS;
    if ((r = nbd_get_u32(opts, "reconnect-attempts", &s->attempts, errp)) < 0 ||
        (r = nbd_get_u32(opts, "reconnect-delay", &s->delay_ms, errp)) < 0 ||
        (r = nbd_get_u32(opts, "timeout", &s->timeout_s, errp)) < 0)
        return r;
    r = nbd_addr_parse(&s->addr, opts, strata_opts_get(opts, "filename"), errp);
    if (r < 0)
        return r;
    const char *context = strata_opts_get(opts, "x-dirty-bitmap");
    if (context && !(s->addr.meta_context = strdup(context)))
        return strata_error_set(errp, ENOMEM, "out of memory");
    s->rdwr = flags & STRATA_O_RDWR;

    r = nbd_conn_start(s, errp);
    if (r < 0)
        return r;
    if (s->rdwr && s->caps.read_only)
        return strata_error_set(errp, EROFS, "%s: the export is read-only; open it "
                                "read-only", s->addr.desc);

    struct strata_limits lim = {
        .request_alignment = s->caps.min_block,
        .max_transfer = NBD_MAX_TRANSFER,
        .opt_transfer = s->caps.pref_block,
    };
    if (s->caps.max_block && s->caps.max_block < lim.max_transfer)
        lim.max_transfer = s->caps.max_block;
    strata_node_set_limits(node, &lim);
    return 0;
}

static void nbd_node_close(struct strata_node *node)
{
    struct nbd_state *s = strata_node_state(node);
    nbd_conn_stop(s);
    nbd_addr_clear(&s->addr);
    pthread_rwlock_destroy(&s->conn_lock);
    pthread_mutex_destroy(&s->reconnect_lock);
}

static int nbd_node_open(struct strata_node *node, const struct strata_opts *opts,
                    unsigned flags, struct strata_error **errp)
{
    struct nbd_state *s = strata_node_state(node);
    s->wake_fd = -1;
    /* Writers first, so that a reconnect is not starved by new requests. */
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->conn_lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&s->reconnect_lock, NULL);
    int r = nbd_node_do_open(node, opts, flags, errp);
    if (r < 0)
        nbd_node_close(node);
    return r;
}

/* ------------------------------------------------------------ I/O */

static int nbd_past_end(struct nbd_state *s, const char *what, uint64_t off, uint64_t len,
                        struct strata_error **errp)
{
    if (off <= s->caps.size && len <= s->caps.size - off)
        return 0;
    return strata_error_set(errp, ENOSPC, "%s: %s of %llu bytes at offset %llu is past "
                            "the end of the export (%llu bytes); NBD exports cannot grow",
                            s->addr.desc, what, (unsigned long long)len,
                            (unsigned long long)off, (unsigned long long)s->caps.size);
}

static int nbd_node_pread(struct strata_node *node, uint64_t off, uint64_t len, void *buf,
                     unsigned flags, struct strata_error **errp)
{
    struct nbd_state *s = strata_node_state(node);
    /* A protocol reads zeros past its end, as a file does. */
    if (off >= s->caps.size) {
        memset(buf, 0, len);
        return 0;
    }
    if (len > s->caps.size - off) {
        uint64_t in = s->caps.size - off;
        memset((uint8_t *)buf + in, 0, len - in);
        len = in;
    }
    return nbd_conn_request(s, NBD_OP_READ, off, len, buf, 0, NULL, errp);
}

/* FUA natively when the server has it, else as a flush afterwards. */
static int nbd_fua_flags(struct nbd_state *s, unsigned flags, bool *flush_after)
{
    *flush_after = false;
    if (!(flags & STRATA_REQ_FUA))
        return 0;
    if (s->caps.can_fua)
        return LIBNBD_CMD_FLAG_FUA;
    *flush_after = s->caps.can_flush;
    return 0;
}

static int nbd_node_flush(struct strata_node *node, struct strata_error **errp);

static int nbd_node_pwrite(struct strata_node *node, uint64_t off, uint64_t len,
                      const void *buf, unsigned flags, struct strata_error **errp)
{
    struct nbd_state *s = strata_node_state(node);
    int r = nbd_past_end(s, "write", off, len, errp);
    if (r < 0)
        return r;
    bool flush_after;
    uint32_t f = (uint32_t)nbd_fua_flags(s, flags, &flush_after);
    r = nbd_conn_request(s, NBD_OP_WRITE, off, len, (void *)buf, f, NULL, errp);
    if (r == 0 && flush_after)
        r = nbd_node_flush(node, errp);
    return r;
}

static int nbd_node_flush(struct strata_node *node, struct strata_error **errp)
{
    struct nbd_state *s = strata_node_state(node);
    int r = 0;
    if (s->caps.can_flush)
        r = nbd_conn_request(s, NBD_OP_FLUSH, 0, 0, NULL, 0, NULL, errp);
    if (r == 0 && atomic_exchange(&s->lost_writes, false))
        r = strata_error_set(errp, EIO, "%s: the connection dropped after writes the "
                             "server had acknowledged but not yet flushed; they may be "
                             "lost", s->addr.desc);
    return r;
}

static int nbd_node_pwrite_zeroes(struct strata_node *node, uint64_t off, uint64_t len,
                             unsigned flags, struct strata_error **errp)
{
    struct nbd_state *s = strata_node_state(node);
    int r = nbd_past_end(s, "write-zeroes", off, len, errp);
    if (r < 0)
        return r;
    if (!s->caps.can_zero)
        return strata_error_set(errp, ENOTSUP, "%s: the server cannot write zeroes",
                                s->addr.desc);
    bool flush_after;
    uint32_t f = (uint32_t)nbd_fua_flags(s, flags, &flush_after);
    if (!(flags & STRATA_REQ_MAY_UNMAP))
        f |= LIBNBD_CMD_FLAG_NO_HOLE;
    if (flags & STRATA_REQ_NO_FALLBACK) {
        if (!s->caps.can_fast_zero)
            return strata_error_set(errp, ENOTSUP, "%s: the server cannot promise fast "
                                    "zeroing", s->addr.desc);
        f |= LIBNBD_CMD_FLAG_FAST_ZERO;
    }
    r = nbd_conn_request(s, NBD_OP_ZERO, off, len, NULL, f, NULL, errp);
    if (r == 0 && flush_after)
        r = nbd_node_flush(node, errp);
    return r;
}

static int nbd_node_pdiscard(struct strata_node *node, uint64_t off, uint64_t len,
                        struct strata_error **errp)
{
    struct nbd_state *s = strata_node_state(node);
    if (!s->caps.can_trim || off >= s->caps.size)
        return 0;
    if (len > s->caps.size - off)
        len = s->caps.size - off;
    return nbd_conn_request(s, NBD_OP_TRIM, off, len, NULL, 0, NULL, errp);
}

static int64_t nbd_node_length(struct strata_node *node, struct strata_error **errp)
{
    struct nbd_state *s = strata_node_state(node);
    return (int64_t)s->caps.size;
}

/* As on a block device: shrinking is a promise to use less, growing is
 * impossible. */
static int nbd_node_truncate(struct strata_node *node, uint64_t size, bool exact,
                        enum strata_prealloc prealloc, struct strata_error **errp)
{
    struct nbd_state *s = strata_node_state(node);
    if (prealloc != STRATA_PREALLOC_OFF)
        return strata_error_set(errp, ENOTSUP, "%s: preallocation is not supported on "
                                "NBD exports", s->addr.desc);
    if (size > s->caps.size)
        return strata_error_set(errp, ENOSPC, "%s: cannot grow the export (%llu bytes) "
                                "to %llu bytes", s->addr.desc,
                                (unsigned long long)s->caps.size,
                                (unsigned long long)size);
    if (exact && size != s->caps.size)
        return strata_error_set(errp, ENOTSUP, "%s: cannot resize the export (%llu "
                                "bytes) to exactly %llu bytes", s->addr.desc,
                                (unsigned long long)s->caps.size,
                                (unsigned long long)size);
    return 0;
}

static int nbd_node_block_status(struct strata_node *node, uint64_t off, uint64_t len,
                            struct strata_block_status *bs, struct strata_error **errp)
{
    struct nbd_state *s = strata_node_state(node);
    bs->file = node;
    bs->offset = off;
    bs->pnum = len;
    bs->flags = STRATA_BS_OFFSET_VALID | STRATA_BS_ALLOCATED;
    if (!s->caps.can_block_status) {
        bs->flags |= STRATA_BS_DATA;
        return 0;
    }
    /* NBD lengths are 32 bits. */
    uint64_t ask = len < 0x80000000u ? len : 0x80000000u;
    struct nbd_extent ext = { 0 };
    int r = nbd_conn_request(s, NBD_OP_BLOCK_STATUS, off, ask, NULL,
                             LIBNBD_CMD_FLAG_REQ_ONE, &ext, errp);
    if (r < 0)
        return r;
    if (!ext.found || ext.len == 0) {
        bs->flags |= STRATA_BS_DATA;
        bs->pnum = ask;
        return 0;
    }
    bs->pnum = ext.len < ask ? ext.len : ask;
    if (!(ext.flags & LIBNBD_STATE_HOLE))
        bs->flags |= STRATA_BS_DATA;
    if (ext.flags & LIBNBD_STATE_ZERO)
        bs->flags |= STRATA_BS_ZERO;
    /* A hole that does not read as zeros says nothing of the data: not
     * allocated here, as QEMU's client has it (x-dirty-bitmap's "local"). */
    if (!(bs->flags & (STRATA_BS_DATA | STRATA_BS_ZERO)))
        bs->flags &= ~(STRATA_BS_ALLOCATED | STRATA_BS_OFFSET_VALID);
    return 0;
}

/* ------------------------------------------------------------ create */

/* An export exists before anyone formats it: "creating" checks that it can
 * be written and is large enough, and zeroes its first sector so that an
 * old header there cannot be probed as the new image's format. */
static int nbd_node_create(struct strata_create *c, struct strata_error **errp)
{
    struct nbd_addr addr;
    struct nbd_handle *h = NULL;
    struct nbd_caps caps;
    uint64_t size = strata_create_size(c);
    int r = nbd_addr_parse(&addr, strata_create_opts(c), strata_create_filename(c), errp);
    if (r == 0)
        r = nbd_conn_connect(&addr, &h, &caps, errp);
    if (r == 0 && caps.read_only)
        r = strata_error_set(errp, EROFS, "%s: the export is read-only", addr.desc);
    if (r == 0 && size > caps.size)
        r = strata_error_set(errp, ENOSPC, "%s: the export (%llu bytes) is smaller than "
                             "the %llu bytes requested", addr.desc,
                             (unsigned long long)caps.size, (unsigned long long)size);
    if (r == 0 && caps.size > 0) {
        static const uint8_t zeros[512];
        uint64_t n = caps.size < sizeof zeros ? caps.size : sizeof zeros;
        if (nbd_pwrite(h, zeros, n, 0, 0) < 0 ||
            (caps.can_flush && nbd_flush(h, 0) < 0)) {
            int e = nbd_get_errno();
            r = strata_error_set(errp, e > 0 ? e : EIO, "%s: cannot write to the export: %s",
                                 addr.desc, nbd_get_error());
        }
    }
    if (h) {
        nbd_shutdown(h, 0);
        nbd_close(h);
    }
    nbd_addr_clear(&addr);
    return r;
}

/* The URI schemes libnbd's nbd_connect_uri takes (NBD URI specification). */
static const char *const nbd_uri_schemes[] = {
    "nbd", "nbds", "nbd+unix", "nbds+unix", "nbd+vsock", "nbds+vsock", NULL,
};

static const struct strata_driver nbd_driver = {
    STRATA_DRIVER_HEAD,
    .name = "nbd",
    .description = "disk exported by an NBD server (libnbd)",
    .kind = STRATA_DRIVER_PROTOCOL,
    .flags = STRATA_DRIVER_THREAD_SAFE,
    .state_size = sizeof(struct nbd_state),
    .open_options = nbd_open_options,
    .create_options = nbd_create_options,
    .open = nbd_node_open,
    .close = nbd_node_close,
    .pread = nbd_node_pread,
    .pwrite = nbd_node_pwrite,
    .flush = nbd_node_flush,
    .pwrite_zeroes = nbd_node_pwrite_zeroes,
    .pdiscard = nbd_node_pdiscard,
    .length = nbd_node_length,
    .truncate = nbd_node_truncate,
    .block_status = nbd_node_block_status,
    .create = nbd_node_create,
    .uri_schemes = nbd_uri_schemes,
};

STRATA_PLUGIN("nbd", .drivers = STRATA_DRIVERS(&nbd_driver));
