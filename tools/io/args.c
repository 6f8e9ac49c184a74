/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* args.c - reading the arguments of strata-io commands, and their buffers. */
#include "io.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IO_MISALIGN 16

int64_t io_cvtnum(const char *text)
{
    uint64_t v;
    const char *p = text;
    /* qemu-io splits at spaces only and takes a number after a tab. */
    while (isspace((unsigned char)*p))
        p++;
    int ret = strata_parse_size(p, &v, NULL);
    if (ret == 0 && v > INT64_MAX)
        ret = -ERANGE;
    if (ret == 0)
        return (int64_t)v;
    /* The test suites expect qemu-io's words, on stdout. */
    if (ret == -ERANGE)
        printf("Parsing error: argument too large -- %s\n", text);
    else
        printf("Parsing error: non-numeric argument, or extraneous/unrecognized "
               "suffix -- %s\n", text);
    return ret < 0 ? ret : -EINVAL;
}

int io_parse_pattern(const char *text)
{
    char *end;
    long v = strtol(text, &end, 0);
    if (v < 0 || v > 255 || *end) {
        printf("%s is not a valid pattern byte\n", text);
        return -1;
    }
    return (int)v;
}

int io_usage(const struct io_command *cmd)
{
    printf("%s %s -- %s\n", cmd->name, cmd->args ? cmd->args : "", cmd->oneline);
    return 1;
}

bool io_as_qemu(void)
{
    return strcmp(tool_progname(), "qemu-io") == 0;
}

int io_fail(const char *cmd, struct strata_error *err, int ret)
{
    /* qemu-io gives the bare errno text, which QEMU's tests expect; under
     * its own name strata-io gives the library's message, which names the
     * image and the problem. */
    if (!io_as_qemu() && err && err->msg)
        printf("%s failed: %s\n", cmd, err->msg);
    else
        printf("%s failed: %s\n", cmd, strerror(ret < 0 ? -ret : EIO));
    strata_error_free(err);
    return 1;
}

uint8_t *io_alloc(const struct io_ctx *ctx, uint64_t len, int pattern)
{
    size_t extra = ctx->misalign ? IO_MISALIGN : 0;
    uint8_t *buf = tool_alloc_buffer(len + extra);
    if (!buf) {
        printf("cannot allocate %" PRIu64 " bytes\n", len);
        return NULL;
    }
    memset(buf, pattern, len + extra);
    return buf + extra;
}

void io_free(const struct io_ctx *ctx, uint8_t *buf)
{
    if (buf)
        free(buf - (ctx->misalign ? IO_MISALIGN : 0));
}

int64_t io_vector_length(char **argv, int n)
{
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        int64_t len = io_cvtnum(argv[i]);
        if (len < 0)
            return -1;
        if ((uint64_t)len > IO_REQUEST_MAX) {
            printf("Argument '%s' exceeds maximum size %" PRIu64 "\n", argv[i],
                   IO_REQUEST_MAX);
            return -1;
        }
        if ((uint64_t)total > IO_REQUEST_MAX - (uint64_t)len) {
            printf("The total number of bytes exceed the maximum size %" PRIu64 "\n",
                   IO_REQUEST_MAX);
            return -1;
        }
        total += len;
    }
    return total;
}

bool io_all_bytes(const uint8_t *buf, uint64_t len, int pattern)
{
    for (uint64_t i = 0; i < len; i++)
        if (buf[i] != (uint8_t)pattern)
            return false;
    return true;
}

int64_t io_length(const struct io_ctx *ctx)
{
    int64_t size = strata_get_length(ctx->node);
    return size < 0 || !io_as_qemu() ? size : (size + 511) / 512 * 512;
}

int io_check_range(const struct io_ctx *ctx, int64_t off, int64_t len)
{
    if (!io_as_qemu())
        return 0;       /* the library says what is wrong, and how */
    int64_t size = io_length(ctx);
    if (size >= 0 && (off > size || len > size - off))
        return -EIO;
    return 0;
}

int io_pread(const struct io_ctx *ctx, int64_t off, int64_t len, uint8_t *buf,
             struct strata_error **errp)
{
    int ret = io_check_range(ctx, off, len);
    if (ret < 0)
        return ret;
    /* The tail of the last sector past a shorter image reads as zeroes. */
    int64_t size = strata_get_length(ctx->node);
    if (io_as_qemu() && size >= 0 && off + len > size) {
        int64_t have = off < size ? size - off : 0;
        memset(buf + have, 0, (size_t)(len - have));
        len = have;
    }
    return len ? strata_pread(ctx->node, (uint64_t)off, (uint64_t)len, buf, 0, errp) : 0;
}
