/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* args.c - reading the arguments of strata-io commands. */
#include "io.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void io_err(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

int io_parse_num(const char *cmd, const char *text, uint64_t *out)
{
    struct strata_error *err = NULL;
    if (strata_parse_size(text, out, &err) < 0) {
        io_err("%s: %s\n", cmd, err && err->msg ? err->msg : "invalid number");
        strata_error_free(err);
        return -EINVAL;
    }
    return 0;
}

int io_parse_pattern(const char *cmd, const char *text, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 0);
    if (!*text || *end || errno || v < 0 || v > 255) {
        io_err("%s: invalid pattern '%s' (a byte value: 0 to 255 or 0x00 to 0xff)\n",
               cmd, text);
        return -EINVAL;
    }
    *out = (int)v;
    return 0;
}

int io_usage(const struct io_command *cmd)
{
    io_err("%s: usage: %s %s\n", cmd->name, cmd->name, cmd->args);
    return 1;
}

int io_fail(const char *cmd, struct strata_error *err, int ret)
{
    fflush(stdout);
    if (err && err->msg)
        fprintf(stderr, "%s failed: %s\n", cmd, err->msg);
    else
        fprintf(stderr, "%s failed: %s\n", cmd, strerror(ret < 0 ? -ret : EIO));
    strata_error_free(err);
    return 1;
}
