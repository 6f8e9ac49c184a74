/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* state.c - which records of a write log reached the disk in a crash
 * state, and the rebuild of the device from its initial image. */
#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t replay_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

int replay_log_open(struct replay_log *log, const char *name)
{
    memset(log, 0, sizeof *log);
    log->name = name;
    if (!(log->f = fopen(name, "rb"))) {
        fprintf(stderr, "strata-replay: %s: %s\n", name, strerror(errno));
        return -errno;
    }
    int r = wlog_read(log->f, name, &log->recs, &log->n);
    if (r < 0) {
        fclose(log->f);
        log->f = NULL;
    }
    return r;
}

void replay_log_close(struct replay_log *log)
{
    if (log->f)
        fclose(log->f);
    free(log->recs);
    memset(log, 0, sizeof *log);
}

size_t replay_stable_end(const struct replay_log *log, size_t cut, unsigned stream)
{
    for (size_t i = cut; i > 0; i--)
        if (log->recs[i - 1].type == WLOG_FLUSH && log->recs[i - 1].stream == stream)
            return i;
    return 0;
}

/* Writes before the last flush, FUA writes and resizes always land (a
 * resize's metadata is taken as stable: the model has no torn sizes).
 * Each other one is kept or lost by a coin of its own, so that any subset
 * can come out, and the same seed gives the same subset on every stream. */
bool replay_dropped(const struct replay_log *log, const struct replay_cut *c, size_t i)
{
    const struct wlog_rec *r = &log->recs[i];
    if (!c->seed || i >= c->cut || r->type == WLOG_FLUSH || r->type == WLOG_TRUNCATE ||
        (r->flags & WLOG_F_FUA))
        return false;
    if (i < replay_stable_end(log, c->cut, r->stream))
        return false;
    return replay_mix(c->seed ^ replay_mix(i)) & 1;
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        fprintf(stderr, "strata-replay: %s: %s\n", from, strerror(errno));
        return 1;
    }
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        fprintf(stderr, "strata-replay: %s: %s\n", to, strerror(errno));
        close(in);
        return 1;
    }
    static char buf[1 << 16];
    ssize_t n;
    int ret = 0;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) {
            fprintf(stderr, "strata-replay: %s: %s\n", to, strerror(errno));
            ret = 1;
            break;
        }
    if (n < 0) {
        fprintf(stderr, "strata-replay: %s: %s\n", from, strerror(errno));
        ret = 1;
    }
    close(in);
    if (close(out) < 0 && !ret) {
        fprintf(stderr, "strata-replay: %s: %s\n", to, strerror(errno));
        ret = 1;
    }
    return ret;
}

/* Copies a write's data from the log to `fd` at its offset. */
static int apply_write(const struct replay_log *log, const struct wlog_rec *r, int fd,
                       const char *out)
{
    static char buf[1 << 16];
    if (fseek(log->f, r->data_pos, SEEK_SET) < 0)
        goto log_err;
    for (uint64_t done = 0; done < r->length;) {
        size_t chunk = r->length - done < sizeof buf ? (size_t)(r->length - done) : sizeof buf;
        if (fread(buf, 1, chunk, log->f) != chunk)
            goto log_err;
        if (pwrite(fd, buf, chunk, (off_t)(r->offset + done)) != (ssize_t)chunk) {
            fprintf(stderr, "strata-replay: %s: %s\n", out, strerror(errno));
            return 1;
        }
        done += chunk;
    }
    return 0;
log_err:
    fprintf(stderr, "strata-replay: %s: cannot read the data of a write\n", log->name);
    return 1;
}

/* Zeroes [off, off+len) of `fd`, never growing it past `len`'s end when
 * it is shorter: a file's write-zeroes and discard past its end do not
 * extend it either. */
static int apply_zero(int fd, uint64_t off, uint64_t len, bool grow, const char *out)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        goto err;
    uint64_t end = off + len;
    if (!grow && end > (uint64_t)st.st_size)
        end = (uint64_t)st.st_size;
    static const char zeros[1 << 16];
    for (uint64_t o = off; o < end;) {
        size_t chunk = end - o < sizeof zeros ? (size_t)(end - o) : sizeof zeros;
        if (pwrite(fd, zeros, chunk, (off_t)o) != (ssize_t)chunk)
            goto err;
        o += chunk;
    }
    return 0;
err:
    fprintf(stderr, "strata-replay: %s: %s\n", out, strerror(errno));
    return 1;
}

int replay_build(const struct replay_log *log, unsigned stream, const struct replay_cut *c,
                 const char *base, const char *out)
{
    if (copy_file(base, out))
        return 1;
    int fd = open(out, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "strata-replay: %s: %s\n", out, strerror(errno));
        return 1;
    }
    int ret = 0;
    for (size_t i = 0; i < c->cut && i < log->n && !ret; i++) {
        const struct wlog_rec *r = &log->recs[i];
        if (r->stream != stream || replay_dropped(log, c, i))
            continue;
        switch (r->type) {
        case WLOG_WRITE:
            ret = apply_write(log, r, fd, out);
            break;
        case WLOG_ZERO:
            ret = apply_zero(fd, r->offset, r->length, true, out);
            break;
        case WLOG_DISCARD:
            /* A discarded range may read as anything; the file driver
             * punches a hole, so zeros are what it reads after a cut. */
            ret = apply_zero(fd, r->offset, r->length, false, out);
            break;
        case WLOG_TRUNCATE:
            if (ftruncate(fd, (off_t)r->offset) < 0) {
                fprintf(stderr, "strata-replay: %s: %s\n", out, strerror(errno));
                ret = 1;
            }
            break;
        case WLOG_FLUSH:
            break;
        }
    }
    if (close(fd) < 0 && !ret) {
        fprintf(stderr, "strata-replay: %s: %s\n", out, strerror(errno));
        ret = 1;
    }
    return ret;
}
