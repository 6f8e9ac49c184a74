/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* wlog.c - encoding and decoding of the write log (wlog.h). */
#include "wlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void st64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t ld64(const uint8_t *p)
{
    return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

void wlog_encode_header(uint8_t *buf)
{
    memcpy(buf, WLOG_MAGIC, 8);
    st32(buf + 8, WLOG_VERSION);
    st32(buf + 12, WLOG_HEADER_SIZE);
}

int wlog_check_header(const uint8_t *buf)
{
    if (memcmp(buf, WLOG_MAGIC, 8) || ld32(buf + 8) != WLOG_VERSION ||
        ld32(buf + 12) != WLOG_HEADER_SIZE)
        return -EINVAL;
    return 0;
}

void wlog_encode_rec(uint8_t *buf, enum wlog_type type, unsigned stream,
                     unsigned flags, uint64_t offset, uint64_t length)
{
    memcpy(buf, WLOG_REC_MAGIC, 4);
    buf[4] = (uint8_t)type;
    buf[5] = (uint8_t)stream;
    buf[6] = (uint8_t)flags;
    buf[7] = 0;
    st64(buf + 8, offset);
    st64(buf + 16, length);
}

int wlog_read(FILE *f, const char *name, struct wlog_rec **recsp, size_t *nrecsp)
{
    uint8_t hdr[WLOG_REC_SIZE];
    struct wlog_rec *recs = NULL;
    size_t n = 0, cap = 0;

    if (fseek(f, 0, SEEK_SET) < 0 || fread(hdr, 1, WLOG_HEADER_SIZE, f) != WLOG_HEADER_SIZE ||
        wlog_check_header(hdr) < 0) {
        fprintf(stderr, "%s: not a strata write log (bad or missing header)\n", name);
        return -EINVAL;
    }
    for (;;) {
        long pos = ftell(f);
        size_t got = fread(hdr, 1, WLOG_REC_SIZE, f);
        if (got == 0 && feof(f))
            break;
        if (got != WLOG_REC_SIZE || memcmp(hdr, WLOG_REC_MAGIC, 4) ||
            hdr[4] < WLOG_WRITE || hdr[4] > WLOG_TRUNCATE) {
            fprintf(stderr, "%s: record %zu at byte %ld is damaged or cut short\n",
                    name, n, pos);
            free(recs);
            return -EINVAL;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            struct wlog_rec *nr = realloc(recs, cap * sizeof *recs);
            if (!nr) {
                free(recs);
                fprintf(stderr, "%s: out of memory reading the log\n", name);
                return -ENOMEM;
            }
            recs = nr;
        }
        struct wlog_rec *r = &recs[n++];
        r->type = hdr[4];
        r->stream = hdr[5];
        r->flags = hdr[6];
        r->offset = ld64(hdr + 8);
        r->length = ld64(hdr + 16);
        r->data_pos = pos + (long)WLOG_REC_SIZE;
        if (r->type == WLOG_WRITE && fseek(f, (long)r->length, SEEK_CUR) < 0) {
            fprintf(stderr, "%s: record %zu: %s\n", name, n - 1, strerror(errno));
            free(recs);
            return -EIO;
        }
    }
    /* fseek past the end succeeds: a write cut short shows here. */
    if (n && recs[n - 1].type == WLOG_WRITE) {
        long end;
        if (fseek(f, 0, SEEK_END) < 0 || (end = ftell(f)) < 0 ||
            (uint64_t)end < (uint64_t)recs[n - 1].data_pos + recs[n - 1].length) {
            fprintf(stderr, "%s: record %zu: data cut short\n", name, n - 1);
            free(recs);
            return -EINVAL;
        }
    }
    *recsp = recs;
    *nrecsp = n;
    return 0;
}
