/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nbd-int.h - state and helpers shared by the nbd protocol driver's files. */
#ifndef STRATA_DRIVER_NBD_INT_H
#define STRATA_DRIVER_NBD_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <strata/driver.h>

#define NBD_DEFAULT_PORT           "10809"
#define NBD_DEFAULT_ATTEMPTS       5u
#define NBD_DEFAULT_DELAY_MS       500u
/* libnbd refuses requests over 64 MiB; servers commonly cap at 32 MiB. */
#define NBD_MAX_TRANSFER           (32u * 1024u * 1024u)

/* Where the export is: either a URI handed to libnbd as it is, or a server
 * address and an export name. */
struct nbd_addr {
    char *uri;                 /* nbd://..., nbd+unix://... */
    bool is_unix;
    char *path;                /* server.type=unix */
    char *host, *port;         /* server.type=inet */
    char *export_name;
    char *desc;                /* "unix:/run/nbd.sock" for messages */
    /* The metadata context block status reads (x-dirty-bitmap); NULL:
     * base:allocation. */
    char *meta_context;
};

/* What the server told us in the handshake; a reconnect must find the same. */
struct nbd_caps {
    uint64_t size;
    bool read_only;
    bool can_flush, can_fua, can_trim, can_zero, can_fast_zero;
    bool can_block_status;
    uint32_t min_block, pref_block, max_block;
};

struct nbd_state {
    struct nbd_addr addr;
    unsigned attempts;         /* reconnect attempts after a drop */
    unsigned delay_ms;         /* pause between them */
    unsigned timeout_s;        /* per request; 0 = wait for the server */
    bool rdwr;

    /* Requests hold conn_lock shared while they use `h`; replacing the
     * connection takes it exclusively, which waits for every request in
     * flight (they all finish: a dead handle fails what it had queued). */
    pthread_rwlock_t conn_lock;
    pthread_mutex_t reconnect_lock;  /* one reconnect at a time */
    struct nbd_handle *h;
    struct nbd_caps caps;
    pthread_t poller;
    bool poller_running;
    int wake_fd;               /* eventfd: wakes the poller */
    atomic_bool stopping;
    atomic_bool broken;        /* the connection died; reconnect before use */
    unsigned connection;       /* how many connections were made, for messages */
    atomic_uint reconnect_rounds;  /* reconnects tried, for queued callers */
    bool last_failed;          /* the last round gave up, with last_error */
    char last_error[512];

    /* No silent loss: writes the server acknowledged but that a flush has
     * not covered are lost with its cache when the connection drops.  A
     * flush after such a drop fails once. */
    atomic_uint_fast64_t writes_done;
    atomic_uint_fast64_t writes_flushed;
    atomic_bool lost_writes;
};

/* address.c */
/* Reads filename / server.* / export into addr, refusing contradictions
 * before anything connects. */
int nbd_addr_parse(struct nbd_addr *addr, const struct strata_opts *opts,
                   const char *filename, struct strata_error **errp);
void nbd_addr_clear(struct nbd_addr *addr);

/* conn.c */
/* Makes a connection and reads its capabilities; one attempt. */
int nbd_conn_connect(const struct nbd_addr *addr, struct nbd_handle **hp,
                     struct nbd_caps *caps, struct strata_error **errp);
/* Connects and starts the poller (open). */
int nbd_conn_start(struct nbd_state *s, struct strata_error **errp);
/* Stops the poller and closes the connection (close). */
void nbd_conn_stop(struct nbd_state *s);

enum nbd_op { NBD_OP_READ, NBD_OP_WRITE, NBD_OP_FLUSH, NBD_OP_TRIM, NBD_OP_ZERO,
              NBD_OP_BLOCK_STATUS };

/* The metadata context of addr's block status queries. */
const char *nbd_addr_context(const struct nbd_addr *addr);

struct nbd_extent {
    uint64_t len;
    uint32_t flags;            /* LIBNBD_STATE_* */
    bool found;
};

/* Sends one command and waits for its reply, reconnecting first when the
 * connection is known to be gone.  A command that was in flight when the
 * connection dropped fails with EIO; nothing is resent behind the caller's
 * back. */
int nbd_conn_request(struct nbd_state *s, enum nbd_op op, uint64_t off, uint64_t len,
                     void *buf, uint32_t nbd_flags, struct nbd_extent *ext,
                     struct strata_error **errp);

#endif
