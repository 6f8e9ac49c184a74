/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* logwrites.c - a filter that records every write, write-zeroes, discard,
 * resize and flush passing through it, in order and with the data, into a
 * write log (the idea of Linux's dm-log-writes).  strata-replay rebuilds
 * from the log the states a power cut could leave the device in; the log
 * layout is in docs/reliability.md.
 *
 * A request is logged once it has completed, so the order in the log is
 * the order of completion, and a flush is logged after the child's flush
 * has returned: every write logged before a flush record is stable at that
 * point.  Several nodes may share one log (each with its own stream=), for
 * example one above a format and one below it; each record is one append,
 * so their records interleave in the order they happened.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <strata/plugin.h>
#include <strata/strata.h>

#include "wlog.h"

struct logwrites_state {
    struct strata_node *file;
    int fd;
    unsigned stream;
    char *log;
};

static const struct strata_child_role logwrites_children[] = {
    { STRATA_ROLE_FILE, STRATA_CHILD_PRIMARY | STRATA_CHILD_PROTOCOL },
    { NULL },
};

static const struct strata_opt_desc logwrites_open_options[] = {
    { .name = "log", .type = STRATA_OPT_STRING,
      .help = "write log to append to (created with its header when absent or empty)" },
    { .name = "stream", .type = STRATA_OPT_NUMBER, .def = "0",
      .help = "number (0-255) that tags this node's records in a shared log" },
    { NULL },
};

/* One record, header and data in one append, so that nodes sharing the log
 * never interleave inside a record. */
static int logwrites_append(struct logwrites_state *s, enum wlog_type type,
                            unsigned flags, uint64_t off, uint64_t len,
                            const void *data, struct strata_error **errp)
{
    uint8_t hdr[WLOG_REC_SIZE];
    wlog_encode_rec(hdr, type, s->stream, flags, off, len);
    struct iovec iov[2] = {
        { .iov_base = hdr, .iov_len = sizeof hdr },
        { .iov_base = (void *)data, .iov_len = data ? (size_t)len : 0 },
    };
    size_t want = iov[0].iov_len + iov[1].iov_len;
    ssize_t n;
    do {
        n = writev(s->fd, iov, data ? 2 : 1);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return strata_error_set(errp, errno, "logwrites: %s: cannot append to the log: %s",
                                s->log, strerror(errno));
    if ((size_t)n != want)
        /* A short append to a regular file means the disk is full; the
         * record is cut short and the log ends there. */
        return strata_error_set(errp, ENOSPC, "logwrites: %s: record cut short "
                                "(%zd of %zu bytes)", s->log, n, want);
    return 0;
}

/* Starts an empty log with its header, or checks an existing one, under a
 * lock so that two nodes opening the same log agree. */
static int logwrites_open_log(struct logwrites_state *s, struct strata_error **errp)
{
    s->fd = open(s->log, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (s->fd < 0)
        return strata_error_set(errp, errno, "logwrites: %s: cannot open the log: %s",
                                s->log, strerror(errno));
    int r = 0;
    flock(s->fd, LOCK_EX);
    struct stat st;
    uint8_t hdr[WLOG_HEADER_SIZE];
    if (fstat(s->fd, &st) < 0) {
        r = strata_error_set(errp, errno, "logwrites: %s: %s", s->log, strerror(errno));
    } else if (st.st_size == 0) {
        wlog_encode_header(hdr);
        if (write(s->fd, hdr, sizeof hdr) != (ssize_t)sizeof hdr)
            r = strata_error_set(errp, EIO, "logwrites: %s: cannot write the log header",
                                 s->log);
    } else if (pread(s->fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr ||
               wlog_check_header(hdr) < 0) {
        r = strata_error_set(errp, EINVAL, "logwrites: %s: exists and is not a strata "
                             "write log", s->log);
    }
    flock(s->fd, LOCK_UN);
    return r;
}

static void logwrites_close(struct strata_node *node)
{
    struct logwrites_state *s = strata_node_state(node);
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    free(s->log);
    s->log = NULL;
}

static int logwrites_open(struct strata_node *node, const struct strata_opts *opts,
                          unsigned flags, struct strata_error **errp)
{
    struct logwrites_state *s = strata_node_state(node);
    s->fd = -1;
    const char *log = strata_opts_get(opts, "log");
    if (!log || !*log)
        return strata_error_set(errp, EINVAL, "logwrites: the 'log' option names the "
                                "write log and is required");
    uint64_t stream = 0;
    int r = strata_opts_get_u64(opts, "stream", &stream, errp);
    if (r < 0)
        return r;
    if (stream > 255)
        return strata_error_set(errp, EINVAL, "logwrites: stream=%llu is not in 0-255",
                                (unsigned long long)stream);
    s->stream = (unsigned)stream;
    if (!(s->log = strdup(log)))
        return strata_error_set(errp, ENOMEM, "logwrites: out of memory");

    r = strata_node_open_child(node, STRATA_ROLE_FILE, NULL, false, &s->file, errp);
    /* A read-only stack writes nothing: the log is not even created. */
    if (r >= 0 && (flags & STRATA_O_RDWR))
        r = logwrites_open_log(s, errp);
    if (r < 0) {
        logwrites_close(node);
        return r;
    }
    struct strata_limits lim;
    strata_node_get_limits(s->file, &lim);
    strata_node_set_limits(node, &lim);
    return 0;
}

static int logwrites_pwrite(struct strata_node *node, uint64_t off, uint64_t len,
                            const void *buf, unsigned flags, struct strata_error **errp)
{
    struct logwrites_state *s = strata_node_state(node);
    int r = strata_pwrite(s->file, off, len, buf, flags, errp);
    if (r < 0)
        return r;
    return logwrites_append(s, WLOG_WRITE, (flags & STRATA_REQ_FUA) ? WLOG_F_FUA : 0,
                            off, len, buf, errp);
}

/* Logged as the plain write of the guest data it is: the compressed form is
 * what the format below stores, and a log below the format records that. */
static int logwrites_pwrite_compressed(struct strata_node *node, uint64_t off,
                                       uint64_t len, const void *buf,
                                       struct strata_error **errp)
{
    struct logwrites_state *s = strata_node_state(node);
    int r = strata_pwrite_compressed(s->file, off, len, buf, errp);
    if (r < 0)
        return r;
    return logwrites_append(s, WLOG_WRITE, 0, off, len, buf, errp);
}

static int logwrites_pwrite_zeroes(struct strata_node *node, uint64_t off, uint64_t len,
                                   unsigned flags, struct strata_error **errp)
{
    struct logwrites_state *s = strata_node_state(node);
    int r = strata_pwrite_zeroes(s->file, off, len, flags, errp);
    if (r < 0)
        return r;
    return logwrites_append(s, WLOG_ZERO, (flags & STRATA_REQ_FUA) ? WLOG_F_FUA : 0,
                            off, len, NULL, errp);
}

static int logwrites_pdiscard(struct strata_node *node, uint64_t off, uint64_t len,
                              struct strata_error **errp)
{
    struct logwrites_state *s = strata_node_state(node);
    int r = strata_pdiscard(s->file, off, len, errp);
    if (r < 0)
        return r;
    return logwrites_append(s, WLOG_DISCARD, 0, off, len, NULL, errp);
}

static int logwrites_truncate(struct strata_node *node, uint64_t size, bool exact,
                              enum strata_prealloc prealloc, struct strata_error **errp)
{
    struct logwrites_state *s = strata_node_state(node);
    int r = strata_truncate(s->file, size, exact, prealloc, errp);
    if (r < 0)
        return r;
    return logwrites_append(s, WLOG_TRUNCATE, 0, size, 0, NULL, errp);
}

/* The child is flushed here, not after return as the core would, so that
 * the record marks a flush that has completed.  The core's own flush of
 * the child that follows finds nothing left to do. */
static int logwrites_flush(struct strata_node *node, struct strata_error **errp)
{
    struct logwrites_state *s = strata_node_state(node);
    int r = strata_flush(s->file, errp);
    if (r < 0 || s->fd < 0)
        return r;
    return logwrites_append(s, WLOG_FLUSH, 0, 0, 0, NULL, errp);
}

static const struct strata_driver logwrites_driver = {
    STRATA_DRIVER_HEAD,
    .name = "logwrites",
    .description = "records writes and flushes in a write log (crash testing)",
    .kind = STRATA_DRIVER_FILTER,
    .flags = STRATA_DRIVER_THREAD_SAFE,
    .state_size = sizeof(struct logwrites_state),
    .child_roles = logwrites_children,
    .open_options = logwrites_open_options,
    .open = logwrites_open,
    .close = logwrites_close,
    .pwrite = logwrites_pwrite,
    .pwrite_compressed = logwrites_pwrite_compressed,
    .pwrite_zeroes = logwrites_pwrite_zeroes,
    .pdiscard = logwrites_pdiscard,
    .truncate = logwrites_truncate,
    .flush = logwrites_flush,
};

STRATA_PLUGIN("logwrites", .drivers = STRATA_DRIVERS(&logwrites_driver));
