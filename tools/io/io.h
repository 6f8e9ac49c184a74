/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io.h - strata-io: commands run against the open image, if any. */
#ifndef STRATA_TOOLS_IO_H
#define STRATA_TOOLS_IO_H

#include "../common/tool.h"

/* The session: at most one open image, as qemu-io keeps one. */
struct io_ctx {
    struct strata_node *node;   /* NULL: no image open */
    struct strata_opts *opts;   /* what node was opened from (reopen) */
    unsigned flags;             /* its open flags */
    bool snapshot;              /* under a temporary overlay (-s) */
    bool image_opts;            /* --image-opts: open's FILE is options */
    bool misalign;              /* -m: buffers start 16 bytes off alignment */
    bool quit;
};

/* The command needs no open image. */
#define IO_NOFILE_OK 0x01
/* The command writes: refused up front on a read-only image, as qemu-io
 * refuses it when it asks for the write permission. */
#define IO_WRITES    0x02

struct io_command {
    const char *name;
    const char *alias;      /* short form, or NULL */
    int (*run)(struct io_ctx *ctx, int argc, char **argv);
    int argmin, argmax;     /* words after the name; argmax -1: no limit */
    unsigned flags;
    const char *args;       /* "[-qv] [-P pattern] off len", or NULL */
    const char *oneline;
    const char *help;       /* printed by "help CMD" after the usage line */
};

/* In the order "help" lists them (by name). */
extern const struct io_command *const io_commands[];
extern const struct io_command io_cmd_abort, io_cmd_aio_flush, io_cmd_aio_read,
    io_cmd_aio_write, io_cmd_alloc, io_cmd_break, io_cmd_close, io_cmd_discard,
    io_cmd_flush, io_cmd_help, io_cmd_info, io_cmd_length, io_cmd_map, io_cmd_open,
    io_cmd_quit, io_cmd_read, io_cmd_readv, io_cmd_remove_break, io_cmd_reopen,
    io_cmd_resume, io_cmd_sigraise, io_cmd_sleep, io_cmd_truncate, io_cmd_wait_break,
    io_cmd_write, io_cmd_writev;

/* The command called (or abbreviated) name, or NULL. */
const struct io_command *io_find_command(const char *name);
/* Runs one command line; returns 0 or 1 (the command failed). */
int io_run_line(struct io_ctx *ctx, const char *line);

/* cmd_rw.c: one request of read, write and their variants. */
struct io_request {
    const char *name;       /* "CMD failed: ..." */
    int64_t off, count;
    int pattern;            /* reads: check it, or -1 */
    int64_t pat_off, pat_len;   /* the part of the buffer checked */
    unsigned flags;         /* writes: STRATA_REQ_* */
    bool zero, compressed;  /* writes: write zeroes, or compressed */
    bool vmstate;           /* -b: the VM state area, not the disk */
    bool quiet, verbose, machine;   /* -q, -v, -C */
};
/* Reads, checks the pattern, dumps and reports: 0, or 1 when the read
 * failed or the data differ. */
int io_do_read(struct io_ctx *ctx, const struct io_request *rq);
/* io_do_read and io_do_write in two halves, for aio_read and aio_write:
 * the request, timed and silent (on a thread of its own), then its report
 * (which frees buf). */
struct io_result {
    int ret;
    struct strata_error *err;
    double t0, t1;
};
void io_exec_read(struct io_ctx *ctx, const struct io_request *rq, uint8_t *buf,
                  struct io_result *res);
int io_report_read(struct io_ctx *ctx, const struct io_request *rq, uint8_t *buf,
                   struct io_result *res);
void io_exec_write(struct io_ctx *ctx, const struct io_request *rq, const uint8_t *buf,
                   struct io_result *res);
int io_report_write(struct io_ctx *ctx, const struct io_request *rq, uint8_t *buf,
                    struct io_result *res);

/* aio.c: requests in flight.  A request runs on a thread of its own and is
 * reported in the order requests were made, once it and those before it
 * are done.  After each command strata-io settles: it waits until every
 * request is done unless one is held at a breakpoint (which may hold up
 * others), so that output comes in a fixed order. */
/* Starts the request on buf (taken); false when no thread could start. */
bool io_aio_submit(struct io_ctx *ctx, const struct io_request *rq, uint8_t *buf,
                   bool write);
enum io_aio_wait {
    IO_AIO_REPORT,      /* report what is done, wait for nothing */
    IO_AIO_SETTLE,      /* wait unless a request is held at a breakpoint */
    IO_AIO_ALL,         /* wait for every request, releasing held ones */
};
void io_aio_poll(struct io_ctx *ctx, enum io_aio_wait how);
/* Whether a request is still in flight. */
bool io_aio_pending(void);
/* Breakpoints set with `break`, by tag, so that a request held at one is
 * announced (qemu-io's "blkdebug: Suspended request 'A'"). */
bool io_break_add(const char *tag);
void io_break_forget(const char *tag);
/* Whether a request is held at a known breakpoint; announces new ones. */
bool io_break_any_held(struct io_ctx *ctx);
/* readv, and with `async` aio_read (-i too, and a failure or mismatch
 * leaves the status 0): the command's arguments, then io_do_read. */
int io_vector_read(struct io_ctx *ctx, int argc, char **argv,
                   const struct io_command *cmd, bool async);
/* Writes buf (taken; NULL with zero) and reports: 0, or 1 on failure. */
int io_do_write(struct io_ctx *ctx, const struct io_request *rq, uint8_t *buf);
/* A length, at most IO_REQUEST_MAX unless no_limit ("length cannot exceed
 * N<limit_note>, given X" otherwise); the value or -errno after the message. */
int64_t io_cvtlen(const char *text, bool no_limit, const char *limit_note);

/* cmd_open.c */
/* Makes node, opened from opts (taken) with flags, the session's image. */
void io_set_image(struct io_ctx *ctx, struct strata_node *node,
                  struct strata_opts *opts, unsigned flags);
/* io_open's modes: under a temporary overlay that takes the writes (-s);
 * under a copy-on-read filter (-C). */
#define IO_OPEN_SNAPSHOT 0x01u
#define IO_OPEN_COR      0x02u
/* Opens opts (taken) with flags as the session's image, in the IO_OPEN_*
 * `mode`; on failure prints qemu-io's message naming `label` (NULL: options
 * only) and returns 1. */
int io_open(struct io_ctx *ctx, const char *label, struct strata_opts *opts,
            unsigned flags, unsigned mode);
/* qemu-io's message for a failed open of `label` (NULL: options only),
 * without the image's name (label, or opts' file.filename) leading the
 * library's message a second time; frees err; returns 1. */
int io_open_failed(const char *label, const struct strata_opts *opts,
                   struct strata_error *err, int ret);
/* Flushes (when writable) and closes the session's image; 0 or 1. */
int io_close_image(struct io_ctx *ctx);

/* report.c */
/* qemu-io's number style: "64 KiB", "2.003 KiB", "40 bytes". */
void io_cvtstr(double value, char *buf, size_t len);
/* The two result lines ("wrote 512/512 bytes at offset 0" and the
 * statistics), or with `machine` the one line of -C. */
void io_print_report(const char *op, double secs, uint64_t off, uint64_t count,
                     uint64_t total, int ops, bool machine);
/* Hex and ASCII dump, 16 bytes a line, offsets absolute. */
void io_dump_buffer(const uint8_t *buf, uint64_t off, uint64_t len);

/* args.c */
/* Run under the name qemu-io, strata-io gives qemu-io's view where the two
 * differ: the image in whole 512-byte sectors, a request past its end
 * refused with EIO, failed I/O reported with the bare errno text.  Under
 * its own name it reports the library's messages. */
bool io_as_qemu(void);
/* Offset or length with an optional size suffix: the value, or -errno
 * after qemu-io's "Parsing error" line on stdout. */
int64_t io_cvtnum(const char *text);
/* A byte value for -P: the value, or -1 after "X is not a valid pattern
 * byte". */
int io_parse_pattern(const char *text);
/* Prints "CMD ARGS -- ONELINE", qemu-io's usage line; returns 1. */
int io_usage(const struct io_command *cmd);
/* "CMD failed: REASON" on stdout, as qemu-io reports failed I/O; frees err;
 * returns 1. */
int io_fail(const char *cmd, struct strata_error *err, int ret);
/* Data buffers (page aligned, or 16 bytes off with -m) filled with
 * pattern; NULL after a message when len cannot be had. */
uint8_t *io_alloc(const struct io_ctx *ctx, uint64_t len, int pattern);
void io_free(const struct io_ctx *ctx, uint8_t *buf);
/* The lengths of readv/writev/aio (argv words): their sum, or -1 after
 * qemu-io's message. */
int64_t io_vector_length(char **argv, int n);
/* The image's length; as qemu-io sees it, in whole 512-byte sectors. */
int64_t io_length(const struct io_ctx *ctx);
/* As qemu-io, a request past the end of the image fails with EIO before
 * it is made; 0 or -EIO. */
int io_check_range(const struct io_ctx *ctx, int64_t off, int64_t len);
/* Reads [off, off+len) after that check; as qemu-io, the part of the last
 * sector that lies past the image's true end reads as zeroes. */
int io_pread(const struct io_ctx *ctx, int64_t off, int64_t len, uint8_t *buf,
             struct strata_error **errp);
/* True when every byte of buf[0..len) is `pattern`. */
bool io_all_bytes(const uint8_t *buf, uint64_t len, int pattern);

/* The largest request qemu-io passes on (BDRV_REQUEST_MAX_BYTES). */
#define IO_REQUEST_MAX ((uint64_t)((1u << 31) - 512))

#endif
