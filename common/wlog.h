/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* wlog.h - the write log that the logwrites filter appends to and
 * strata-replay reads: a file header, then one record per request.  The
 * layout is described in docs/reliability.md. */
#ifndef STRATA_COMMON_WLOG_H
#define STRATA_COMMON_WLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define WLOG_MAGIC       "STRWLOG1"
#define WLOG_HEADER_SIZE 16u   /* magic, u32 version, u32 header size */
#define WLOG_VERSION     1u
#define WLOG_REC_MAGIC   "SLWR"
#define WLOG_REC_SIZE    24u   /* record header; a write's data follows it */

enum wlog_type {
    WLOG_WRITE = 1,     /* data follows */
    WLOG_ZERO,          /* write-zeroes */
    WLOG_DISCARD,
    WLOG_FLUSH,         /* logged once the flush has completed */
    WLOG_TRUNCATE,      /* `offset` is the new size */
};

#define WLOG_F_FUA 0x01u    /* the write was stable when it completed */

struct wlog_rec {
    enum wlog_type type;
    unsigned stream;        /* the logging node's stream= (0..255) */
    unsigned flags;         /* WLOG_F_* */
    uint64_t offset;
    uint64_t length;
    long data_pos;          /* where a write's data starts in the log file */
};

/* Encodes the file header into buf[WLOG_HEADER_SIZE]. */
void wlog_encode_header(uint8_t *buf);
/* Encodes a record header into buf[WLOG_REC_SIZE]. */
void wlog_encode_rec(uint8_t *buf, enum wlog_type type, unsigned stream,
                     unsigned flags, uint64_t offset, uint64_t length);
/* Checks a file header: 0, or -EINVAL for something that is not a write
 * log of this version. */
int wlog_check_header(const uint8_t *buf);

/* Reads a whole log: its records in order, in a malloc'ed array.  0, or
 * -errno with a message naming the file and the record on stderr. */
int wlog_read(FILE *f, const char *name, struct wlog_rec **recsp, size_t *nrecsp);

#endif
