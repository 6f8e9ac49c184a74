/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verify.c - the check that a crash state kept every byte that was
 * written and flushed before the cut, against a log of the guest's
 * requests (a logwrites node above the format). */
#include "replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The guest's expected content, and per byte whether anything goes there
 * (a write in flight, a discarded range). */
struct expect {
    uint8_t *data, *loose;
    uint64_t size, cap;
};

static int expect_resize(struct expect *e, uint64_t size)
{
    if (size > e->cap) {
        uint64_t cap = e->cap ? e->cap : 1 << 20;
        while (cap < size)
            cap *= 2;
        uint8_t *d = realloc(e->data, cap), *l = d ? realloc(e->loose, cap) : NULL;
        if (d)
            e->data = d;
        if (!d || !l) {
            fprintf(stderr, "strata-replay: out of memory for a %llu-byte guest\n",
                    (unsigned long long)size);
            return 1;
        }
        e->loose = l;
        e->cap = cap;
    }
    if (size > e->size) {
        memset(e->data + e->size, 0, size - e->size);
        memset(e->loose + e->size, 0, size - e->size);
    }
    e->size = size;
    return 0;
}

static int load_file(struct expect *e, const char *name)
{
    FILE *f = fopen(name, "rb");
    if (!f) {
        fprintf(stderr, "strata-replay: %s: %s\n", name, strerror(errno));
        return 1;
    }
    uint8_t buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        uint64_t at = e->size;
        if (expect_resize(e, at + n)) {
            fclose(f);
            return 1;
        }
        memcpy(e->data + at, buf, n);
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad)
        fprintf(stderr, "strata-replay: %s: read error\n", name);
    return bad;
}

/* Applies record r as having landed (loose: as maybe having landed). */
static int expect_apply(struct expect *e, const struct replay_log *log,
                        const struct wlog_rec *r, bool loose)
{
    if (r->type == WLOG_TRUNCATE)
        return expect_resize(e, r->offset);
    if (r->type == WLOG_FLUSH)
        return 0;
    uint64_t end = r->offset + r->length;
    if (r->type != WLOG_DISCARD && end > e->size && expect_resize(e, end))
        return 1;
    if (end > e->size)
        end = e->size;
    if (r->offset >= end)
        return 0;
    uint64_t len = end - r->offset;
    if (loose || r->type == WLOG_DISCARD) {
        memset(e->loose + r->offset, 1, len);
        return 0;
    }
    memset(e->loose + r->offset, 0, len);
    if (r->type == WLOG_ZERO) {
        memset(e->data + r->offset, 0, len);
        return 0;
    }
    if (fseek(log->f, r->data_pos, SEEK_SET) < 0 ||
        fread(e->data + r->offset, 1, len, log->f) != len) {
        fprintf(stderr, "strata-replay: %s: cannot read the data of a write\n", log->name);
        return 1;
    }
    return 0;
}

int replay_verify(const struct replay_log *log, unsigned stream, const struct replay_cut *c,
                  const char *base, const char *actual)
{
    struct expect e = { 0 }, a = { 0 };
    int ret = 1;
    size_t stable = replay_stable_end(log, c->cut, stream), next = log->n;
    bool resizing = false;

    for (size_t i = c->cut; i < log->n; i++)
        if (log->recs[i].stream == stream && log->recs[i].type == WLOG_FLUSH) {
            next = i;
            break;
        }
    if (load_file(&e, base) || load_file(&a, actual))
        goto out;
    for (size_t i = 0; i < next; i++) {
        const struct wlog_rec *r = &log->recs[i];
        if (r->stream != stream)
            continue;
        /* Flushed, or made stable by FUA before the cut: must be there.
         * Resizes before the cut are taken as done; one after it may or
         * may not have happened. */
        bool landed = i < stable || (i < c->cut && ((r->flags & WLOG_F_FUA) ||
                                                    r->type == WLOG_TRUNCATE));
        if (r->type == WLOG_TRUNCATE && !landed) {
            resizing = true;
            continue;
        }
        if (expect_apply(&e, log, r, !landed))
            goto out;
    }
    if (a.size != e.size && !resizing) {
        fprintf(stderr, "strata-replay: %s: %llu bytes, expected %llu\n", actual,
                (unsigned long long)a.size, (unsigned long long)e.size);
        goto out;
    }
    uint64_t n = a.size < e.size ? a.size : e.size;
    for (uint64_t o = 0; o < n; o++)
        if (!e.loose[o] && a.data[o] != e.data[o]) {
            fprintf(stderr, "strata-replay: %s: byte %llu is 0x%02x, expected 0x%02x "
                    "(flushed before record %zu)\n", actual, (unsigned long long)o,
                    a.data[o], e.data[o], stable);
            goto out;
        }
    ret = 0;
out:
    free(e.data);
    free(e.loose);
    free(a.data);
    free(a.loose);
    return ret;
}
