/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io.h - strata-io: commands run against one open image. */
#ifndef STRATA_TOOLS_IO_H
#define STRATA_TOOLS_IO_H

#include "../common/tool.h"

struct io_ctx {
    struct strata_node *node;
    const char *name;       /* as the user gave it */
    bool quit;
};

struct io_command {
    const char *name;
    const char *alias;      /* short form, or NULL */
    int (*run)(struct io_ctx *ctx, int argc, char **argv);
    const char *args;       /* "[-qv] [-P pattern] off len" */
    const char *oneline;
    const char *help;       /* longer text for "help CMD", may be NULL */
};

/* NULL-terminated, in the order "help" lists them. */
extern const struct io_command *const io_commands[];
extern const struct io_command io_cmd_read, io_cmd_readv, io_cmd_write,
    io_cmd_writev, io_cmd_discard, io_cmd_flush, io_cmd_length, io_cmd_map,
    io_cmd_info, io_cmd_truncate, io_cmd_help, io_cmd_quit;

/* Runs one command line; returns 0 or 1 (the command failed). */
int io_run_line(struct io_ctx *ctx, const char *line);

/* report.c */
/* qemu-io's number style: "64 KiB", "2.003 KiB", "7.938 MiB", "40 bytes". */
void io_cvtstr(double value, char *buf, size_t len);
/* "64 KiB, 1 ops; 00.00 sec (168.645 MiB/sec and 2698.3270 ops/sec)" */
void io_print_report(const char *op, uint64_t bytes, uint64_t off, double secs,
                     int ops, bool quiet);
/* Hex and ASCII dump, 16 bytes a line, offsets absolute. */
void io_dump_buffer(const uint8_t *buf, uint64_t off, uint64_t len);

/* args.c */
/* Offset or length with an optional size suffix; prints the problem. */
int io_parse_num(const char *cmd, const char *text, uint64_t *out);
/* A byte value for -P (decimal, 0x hex, or 0 octal); prints the problem. */
int io_parse_pattern(const char *cmd, const char *text, int *out);
/* A command's complaint about its arguments, on stderr. */
void io_err(const char *fmt, ...) STRATA_PRINTF(1, 2);
/* Prints "CMD: usage: CMD ARGS". */
int io_usage(const struct io_command *cmd);
/* Prints a library error prefixed by the command name, frees it; returns 1. */
int io_fail(const char *cmd, struct strata_error *err, int ret);

#endif
