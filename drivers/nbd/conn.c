/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* conn.c - the nbd driver's connection: libnbd's asynchronous API driven by
 * one poller thread, so that requests from many threads share a connection
 * and run in parallel on the server.  A request thread submits a command
 * and sleeps on a semaphore that the completion callback posts.
 *
 * When the connection drops, libnbd fails every command it had queued or
 * sent; their callers get EIO.  The next request reconnects with a bounded
 * number of attempts.  A command that could not even be sent (the handle
 * was already dead) is the only one resent, on the new connection.
 */
#include "nbd-int.h"

#include <errno.h>
#include <libnbd.h>
#include <poll.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *const nbd_op_names[] = {
    [NBD_OP_READ] = "read", [NBD_OP_WRITE] = "write", [NBD_OP_FLUSH] = "flush",
    [NBD_OP_TRIM] = "trim", [NBD_OP_ZERO] = "write-zeroes",
    [NBD_OP_BLOCK_STATUS] = "block-status",
};

static bool nbd_handle_gone(struct nbd_handle *h)
{
    return nbd_aio_is_dead(h) == 1 || nbd_aio_is_closed(h) == 1;
}

/* ------------------------------------------------------------ connecting */

int nbd_conn_connect(const struct nbd_addr *addr, struct nbd_handle **hp,
                     struct nbd_caps *caps, struct strata_error **errp)
{
    *hp = NULL;
    struct nbd_handle *h = nbd_create();
    if (!h)
        return strata_error_set(errp, ENOMEM, "%s: %s", addr->desc, nbd_get_error());

    const char *context = nbd_addr_context(addr);
    int r = nbd_add_meta_context(h, context);
    if (r == 0 && !addr->uri)
        r = nbd_set_export_name(h, addr->export_name);
    if (r == 0) {
        if (addr->uri)
            r = nbd_connect_uri(h, addr->uri);
        else if (addr->is_unix)
            r = nbd_connect_unix(h, addr->path);
        else
            r = nbd_connect_tcp(h, addr->host, addr->port);
    }
    if (r < 0) {
        int e = nbd_get_errno();
        int ret = strata_error_set(errp, e > 0 ? e : EIO, "%s: could not connect: %s",
                                   addr->desc, nbd_get_error());
        nbd_close(h);
        return ret;
    }

    int64_t size = nbd_get_size(h);
    if (size < 0) {
        int ret = strata_error_set(errp, EIO, "%s: server gave no export size: %s",
                                   addr->desc, nbd_get_error());
        nbd_close(h);
        return ret;
    }
    memset(caps, 0, sizeof *caps);
    caps->size = (uint64_t)size;
    caps->read_only = nbd_is_read_only(h) == 1;
    caps->can_flush = nbd_can_flush(h) == 1;
    caps->can_fua = nbd_can_fua(h) == 1;
    caps->can_trim = nbd_can_trim(h) == 1;
    caps->can_zero = nbd_can_zero(h) == 1;
    caps->can_fast_zero = nbd_can_fast_zero(h) == 1;
    caps->can_block_status = nbd_can_meta_context(h, context) == 1;
    int64_t v = nbd_get_block_size(h, LIBNBD_SIZE_MINIMUM);
    caps->min_block = v > 0 ? (uint32_t)v : 1;
    v = nbd_get_block_size(h, LIBNBD_SIZE_PREFERRED);
    caps->pref_block = v > 0 ? (uint32_t)v : 0;
    v = nbd_get_block_size(h, LIBNBD_SIZE_MAXIMUM);
    caps->max_block = v > 0 ? (uint32_t)v : 0;
    *hp = h;
    return 0;
}

/* ------------------------------------------------------------ poller */

static void nbd_conn_wake(struct nbd_state *s)
{
    uint64_t one = 1;
    ssize_t n = write(s->wake_fd, &one, sizeof one);
    (void)n; /* a full counter already means "wake up" */
}

/* Records that the connection is gone.  Acknowledged writes no flush has
 * covered may have been in the server's cache: the next flush says so. */
static void nbd_conn_lost(struct nbd_state *s)
{
    if (atomic_exchange(&s->broken, true))
        return;
    uint64_t done = atomic_load(&s->writes_done);
    if (s->caps.can_flush && done > atomic_load(&s->writes_flushed))
        atomic_store(&s->lost_writes, true);
    atomic_store(&s->writes_flushed, done);
    strata_debug("nbd: %s: connection lost", s->addr.desc);
}

static void *nbd_poller(void *opaque)
{
    struct nbd_state *s = opaque;
    struct nbd_handle *h = s->h;

    while (!atomic_load(&s->stopping)) {
        if (nbd_handle_gone(h))
            break;
        int fd = nbd_aio_get_fd(h);
        unsigned dir = nbd_aio_get_direction(h);
        if (fd < 0)
            break;
        struct pollfd p[2] = {
            { .fd = fd, .events = (short)(((dir & LIBNBD_AIO_DIRECTION_READ) ? POLLIN : 0) |
                                          ((dir & LIBNBD_AIO_DIRECTION_WRITE) ? POLLOUT : 0)) },
            { .fd = s->wake_fd, .events = POLLIN },
        };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents & POLLNVAL)
            break;
        if (p[1].revents & POLLIN) {
            uint64_t v;
            ssize_t n = read(s->wake_fd, &v, sizeof v);
            (void)n;
        }
        short re = p[0].revents;
        bool hup = re & (POLLHUP | POLLERR);
        /* The direction may have changed while we slept; libnbd ignores a
         * notification it was not waiting for. */
        if ((re & POLLIN) || (hup && (dir & LIBNBD_AIO_DIRECTION_READ)))
            nbd_aio_notify_read(h);
        else if ((re & POLLOUT) || (hup && (dir & LIBNBD_AIO_DIRECTION_WRITE)))
            nbd_aio_notify_write(h);
        else if (hup)
            break;
    }
    if (atomic_load(&s->stopping))
        return NULL;
    /* Leaving a live handle behind would leave its requests waiting for
     * ever: shut the socket and let libnbd fail them. */
    for (int i = 0; i < 4 && !nbd_handle_gone(h); i++) {
        int fd = nbd_aio_get_fd(h);
        if (fd >= 0)
            shutdown(fd, SHUT_RDWR);
        unsigned dir = nbd_aio_get_direction(h);
        if (dir & LIBNBD_AIO_DIRECTION_WRITE)
            nbd_aio_notify_write(h);
        else
            nbd_aio_notify_read(h);
    }
    nbd_conn_lost(s);
    return NULL;
}

static int nbd_poller_start(struct nbd_state *s, struct strata_error **errp)
{
    atomic_store(&s->stopping, false);
    int r = pthread_create(&s->poller, NULL, nbd_poller, s);
    if (r != 0)
        return strata_error_set(errp, r, "%s: cannot start the connection thread: %s",
                                s->addr.desc, strerror(r));
    s->poller_running = true;
    return 0;
}

/* Stops the poller and closes the handle; the caller excludes requests. */
static void nbd_conn_teardown(struct nbd_state *s, bool polite)
{
    if (s->poller_running) {
        atomic_store(&s->stopping, true);
        nbd_conn_wake(s);
        pthread_join(s->poller, NULL);
        s->poller_running = false;
    }
    if (s->h) {
        if (polite && !nbd_handle_gone(s->h))
            nbd_shutdown(s->h, 0);
        nbd_close(s->h);
        s->h = NULL;
    }
}

int nbd_conn_start(struct nbd_state *s, struct strata_error **errp)
{
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wake_fd < 0)
        return strata_error_set(errp, errno, "nbd: eventfd: %s", strerror(errno));
    int r = nbd_conn_connect(&s->addr, &s->h, &s->caps, errp);
    if (r < 0)
        return r;
    s->connection = 1;
    return nbd_poller_start(s, errp);
}

void nbd_conn_stop(struct nbd_state *s)
{
    nbd_conn_teardown(s, true);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    s->wake_fd = -1;
}

/* ------------------------------------------------------------ reconnecting */

/* The new connection must be the same disk: a different size or a lost
 * write permission would silently change what the layers above see. */
static int nbd_caps_check(const struct nbd_state *s, const struct nbd_caps *c,
                          struct strata_error **errp)
{
    if (c->size != s->caps.size)
        return strata_error_set(errp, EIO, "%s: export size changed from %llu to %llu "
                                "bytes across the reconnect", s->addr.desc,
                                (unsigned long long)s->caps.size,
                                (unsigned long long)c->size);
    if (s->rdwr && c->read_only)
        return strata_error_set(errp, EROFS, "%s: export became read-only across the "
                                "reconnect", s->addr.desc);
    /* Requests are built from the first connection's capabilities; one it
     * no longer has would be refused by the server (gained ones go unused). */
    static const struct { size_t off; const char *name; } flags[] = {
        { offsetof(struct nbd_caps, can_flush), "flush" },
        { offsetof(struct nbd_caps, can_fua), "FUA" },
        { offsetof(struct nbd_caps, can_trim), "trim" },
        { offsetof(struct nbd_caps, can_zero), "write-zeroes" },
        { offsetof(struct nbd_caps, can_fast_zero), "fast zeroing" },
        { offsetof(struct nbd_caps, can_block_status), "block status" },
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        bool had = *(const bool *)((const char *)&s->caps + flags[i].off);
        bool has = *(const bool *)((const char *)c + flags[i].off);
        if (had && !has)
            return strata_error_set(errp, EIO, "%s: the server no longer offers %s after "
                                    "the reconnect", s->addr.desc, flags[i].name);
    }
    return 0;
}

static int nbd_conn_reconnect(struct nbd_state *s, struct strata_error **errp)
{
    int r = 0;
    unsigned seen = atomic_load(&s->reconnect_rounds);
    pthread_mutex_lock(&s->reconnect_lock);
    if (!atomic_load(&s->broken))
        goto out;
    /* Callers that queued behind a reconnect that gave up meanwhile share
     * its verdict instead of each waiting through all the attempts again;
     * a later request tries afresh. */
    if (atomic_load(&s->reconnect_rounds) != seen && s->last_failed) {
        r = strata_error_set(errp, EIO, "%s", s->last_error);
        goto out;
    }
    pthread_rwlock_wrlock(&s->conn_lock);
    nbd_conn_teardown(s, false);

    struct strata_error *err = NULL;
    struct nbd_handle *h = NULL;
    struct nbd_caps caps;
    r = -EIO;
    for (unsigned i = 0; i < s->attempts; i++) {
        if (i > 0) {
            struct timespec ts = { s->delay_ms / 1000, (long)(s->delay_ms % 1000) * 1000000L };
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        }
        strata_error_free(err);
        err = NULL;
        r = nbd_conn_connect(&s->addr, &h, &caps, &err);
        if (r == 0) {
            r = nbd_caps_check(s, &caps, &err);
            if (r < 0) {
                nbd_close(h);
                h = NULL;
                break;
            }
            break;
        }
    }
    if (r == 0) {
        s->h = h;
        s->connection++;
        r = nbd_poller_start(s, &err);
        if (r < 0) {
            nbd_close(s->h);
            s->h = NULL;
        }
    }
    if (r == 0) {
        atomic_store(&s->broken, false);
        s->last_failed = false;
        strata_debug("nbd: %s: reconnected (connection %u)", s->addr.desc, s->connection);
    } else {
        if (s->attempts == 0)
            snprintf(s->last_error, sizeof s->last_error, "%s: connection lost and "
                     "reconnect-attempts=0", s->addr.desc);
        else
            snprintf(s->last_error, sizeof s->last_error, "%s: connection lost; "
                     "reconnecting failed after %u attempt%s: %s", s->addr.desc,
                     s->attempts, s->attempts == 1 ? "" : "s",
                     err ? err->msg : "unknown error");
        s->last_failed = true;
        r = strata_error_set(errp, EIO, "%s", s->last_error);
    }
    atomic_fetch_add(&s->reconnect_rounds, 1);
    strata_error_free(err);
    pthread_rwlock_unlock(&s->conn_lock);
out:
    pthread_mutex_unlock(&s->reconnect_lock);
    return r;
}

/* ------------------------------------------------------------ requests */

/* Shuts the socket down under libnbd, which then fails whatever it has in
 * flight and goes dead; the caller holds conn_lock. */
static void nbd_conn_force_down(struct nbd_state *s)
{
    int fd = nbd_aio_get_fd(s->h);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
    nbd_conn_wake(s);
}

/* One request; a large read goes out as several NBD commands at once, and
 * `done` is posted when the last of them (and the submitter) lets go. */
struct nbd_req {
    sem_t done;
    atomic_int err;            /* the first command's error */
    atomic_uint pending;       /* commands in flight, +1 while submitting */
    bool counts;               /* a write that a later flush must cover */
    struct nbd_state *s;
    struct nbd_extent *ext;
};

/* Reads of at least twice this size are split into pieces of about this
 * size (at most NBD_READ_PIECES) sent together, so that the server works on
 * them in parallel as it would for a client's queue of requests. */
#define NBD_READ_PIECE  (1u << 20)
#define NBD_READ_PIECES 4u
/* Piece boundaries: a multiple of any minimum block size (at most 64 KiB). */
#define NBD_PIECE_ALIGN (64u * 1024u)

static void nbd_req_release(struct nbd_req *q)
{
    if (atomic_fetch_sub(&q->pending, 1) == 1)
        sem_post(&q->done);
}

static bool nbd_is_write(enum nbd_op op)
{
    return op == NBD_OP_WRITE || op == NBD_OP_TRIM || op == NBD_OP_ZERO;
}

static int nbd_req_complete(void *opaque, int *error)
{
    struct nbd_req *q = opaque;
    int none = 0;
    if (*error)
        atomic_compare_exchange_strong(&q->err, &none, *error);
    /* Counted here, in the thread that read the reply, so that a drop the
     * same thread notices afterwards sees this write as unflushed. */
    if (*error == 0 && q->counts)
        atomic_fetch_add(&q->s->writes_done, 1);
    nbd_req_release(q);
    return 1;
}

/* How many commands a request goes out as, and the size of all but the
 * last. */
static unsigned nbd_pieces(enum nbd_op op, uint64_t len, uint64_t *piece)
{
    *piece = len;
    if (op != NBD_OP_READ || len < 2 * NBD_READ_PIECE)
        return 1;
    uint64_t n = len / NBD_READ_PIECE < NBD_READ_PIECES ? len / NBD_READ_PIECE
                                                        : NBD_READ_PIECES;
    uint64_t sz = (len / n + NBD_PIECE_ALIGN - 1) / NBD_PIECE_ALIGN * NBD_PIECE_ALIGN;
    *piece = sz;
    return (unsigned)((len + sz - 1) / sz);
}

static int nbd_req_extent(void *opaque, const char *context, uint64_t off,
                          uint32_t *entries, size_t n, int *error)
{
    struct nbd_req *q = opaque;
    if (strcmp(context, nbd_addr_context(&q->s->addr)) != 0 || n < 2 || q->ext->found)
        return 0;
    q->ext->len = entries[0];
    q->ext->flags = entries[1];
    q->ext->found = true;
    return 0;
}

/* "a flush", "a write of 4096 bytes at offset 0": the request in messages. */
static void nbd_describe_req(char *buf, size_t size, enum nbd_op op, uint64_t off,
                             uint64_t len)
{
    if (op == NBD_OP_FLUSH)
        snprintf(buf, size, "a flush");
    else
        snprintf(buf, size, "a %s of %llu bytes at offset %llu", nbd_op_names[op],
                 (unsigned long long)len, (unsigned long long)off);
}

static int64_t nbd_submit(struct nbd_handle *h, struct nbd_req *q, enum nbd_op op,
                          uint64_t off, uint64_t len, void *buf, uint32_t flags)
{
    nbd_completion_callback cb = { .callback = nbd_req_complete, .user_data = q };
    switch (op) {
    case NBD_OP_READ:
        return nbd_aio_pread(h, buf, len, off, cb, flags);
    case NBD_OP_WRITE:
        return nbd_aio_pwrite(h, buf, len, off, cb, flags);
    case NBD_OP_FLUSH:
        return nbd_aio_flush(h, cb, flags);
    case NBD_OP_TRIM:
        return nbd_aio_trim(h, len, off, cb, flags);
    case NBD_OP_ZERO:
        return nbd_aio_zero(h, len, off, cb, flags);
    case NBD_OP_BLOCK_STATUS: {
        nbd_extent_callback ecb = { .callback = nbd_req_extent, .user_data = q };
        return nbd_aio_block_status(h, len, off, ecb, cb, flags);
    }
    }
    return -1;
}

/* Waits for the reply.  With a timeout, a server that does not answer gets
 * its socket shut down: libnbd then fails everything in flight, this
 * request included, and the next request reconnects. */
static bool nbd_req_wait(struct nbd_state *s, struct nbd_req *q)
{
    bool timed_out = false;
    if (s->timeout_s) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += s->timeout_s;
        while (sem_timedwait(&q->done, &ts) < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ETIMEDOUT) {
                nbd_conn_force_down(s);
                timed_out = true;
            }
            break;
        }
        if (!timed_out)
            return false;
    }
    while (sem_wait(&q->done) < 0 && errno == EINTR)
        ;
    return timed_out;
}

int nbd_conn_request(struct nbd_state *s, enum nbd_op op, uint64_t off, uint64_t len,
                     void *buf, uint32_t nbd_flags, struct nbd_extent *ext,
                     struct strata_error **errp)
{
    char what[96];
    bool resent = false;
    int r;

    for (;;) {
        if (atomic_load(&s->broken) && (r = nbd_conn_reconnect(s, errp)) < 0)
            return r;
        pthread_rwlock_rdlock(&s->conn_lock);
        if (atomic_load(&s->broken) || !s->h) {
            pthread_rwlock_unlock(&s->conn_lock);
            if (resent)
                return strata_error_set(errp, EIO, "%s: connection lost again at once",
                                        s->addr.desc);
            resent = true;
            continue;
        }

        struct nbd_req q = { .ext = ext, .s = s, .counts = nbd_is_write(op) };
        atomic_init(&q.err, 0);
        atomic_init(&q.pending, 1);
        sem_init(&q.done, 0, 0);
        /* A flush covers the writes that completed before it was sent. */
        uint64_t mark = atomic_load(&s->writes_done);
        uint64_t piece;
        unsigned n = nbd_pieces(op, len, &piece), sent = 0;
        int e = 0;
        char msg[256] = "";
        for (; sent < n; sent++) {
            uint64_t at = (uint64_t)sent * piece;
            uint64_t plen = len - at < piece ? len - at : piece;
            atomic_fetch_add(&q.pending, 1);
            if (nbd_submit(s->h, &q, op, off + at, plen, (uint8_t *)buf + at, nbd_flags) < 0) {
                e = nbd_get_errno();
                snprintf(msg, sizeof msg, "%s", nbd_get_error());
                atomic_fetch_sub(&q.pending, 1);
                break;
            }
        }
        if (sent == 0) {
            bool gone = nbd_handle_gone(s->h);
            pthread_rwlock_unlock(&s->conn_lock);
            sem_destroy(&q.done);
            if (gone && !resent) {
                /* Never sent: resending on a new connection is safe. */
                nbd_conn_lost(s);
                resent = true;
                continue;
            }
            nbd_describe_req(what, sizeof what, op, off, len);
            return strata_error_set(errp, e > 0 ? e : EIO, "%s: %s could not be sent: %s",
                                    s->addr.desc, what, msg);
        }
        nbd_req_release(&q);
        nbd_conn_wake(s);
        bool timed_out = nbd_req_wait(s, &q);
        if (sent < n) {
            /* Part of a split read went out and has been answered; the
             * rest could not be sent. */
            bool gone = timed_out || nbd_handle_gone(s->h);
            pthread_rwlock_unlock(&s->conn_lock);
            sem_destroy(&q.done);
            if (gone)
                nbd_conn_lost(s);
            nbd_describe_req(what, sizeof what, op, off, len);
            return strata_error_set(errp, e > 0 ? e : EIO, "%s: %s could not be sent "
                                    "whole: %s", s->addr.desc, what, msg);
        }
        int qerr = atomic_load(&q.err);
        /* ENOTCONN is not among the errors the NBD protocol carries, so
         * only libnbd gives it, to commands it fails because the connection
         * died; the handle may not report dead yet when the waiter wakes. */
        bool gone = qerr == ENOTCONN || (qerr && nbd_handle_gone(s->h));
        /* ESHUTDOWN: the server is going away and will take no more
         * commands here; drop the connection so the next request makes a
         * new one. */
        bool closing = qerr == ESHUTDOWN && !gone;
        if (closing)
            nbd_conn_force_down(s);
        pthread_rwlock_unlock(&s->conn_lock);
        sem_destroy(&q.done);
        if (timed_out || closing || gone || qerr)
            nbd_describe_req(what, sizeof what, op, off, len);

        if (timed_out) {
            nbd_conn_lost(s);
            return strata_error_set(errp, ETIMEDOUT, "%s: no reply to %s within %u s; the "
                                    "connection was closed and the request failed",
                                    s->addr.desc, what, s->timeout_s);
        }
        if (closing) {
            nbd_conn_lost(s);
            return strata_error_set(errp, EIO, "%s: the server is shutting down; %s failed",
                                    s->addr.desc, what);
        }
        if (gone) {
            nbd_conn_lost(s);
            return strata_error_set(errp, EIO, "%s: connection lost with %s in flight; "
                                    "the request failed", s->addr.desc, what);
        }
        if (qerr)
            return strata_error_set(errp, qerr, "%s: server failed %s: %s", s->addr.desc,
                                    what, strerror(qerr));
        if (op == NBD_OP_FLUSH) {
            /* Everything completed before this flush was sent is stable. */
            uint_fast64_t cur = atomic_load(&s->writes_flushed);
            while (cur < mark &&
                   !atomic_compare_exchange_weak(&s->writes_flushed, &cur, mark))
                ;
        }
        return 0;
    }
}
