/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_break.c - break, remove_break, resume and wait_break: qemu-io's
 * blkdebug breakpoints, which hold a request until it is resumed.  The
 * messages are qemu-io's. */
#include "io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* qemu-io prints the errno of a failure; strata's detail goes to the log. */
static int fail_with(const char *what, struct strata_error *err, int ret)
{
    if (err)
        strata_debug("%s", err->msg);
    strata_error_free(err);
    printf("%s: %s\n", what, strerror(-ret));
    return 1;
}

static int break_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    struct strata_error *err = NULL;
    int ret = strata_debug_breakpoint(ctx->node, argv[1], argv[2], &err);
    if (ret < 0)
        return fail_with("Could not set breakpoint", err, ret);
    if (!io_break_add(argv[2])) {
        printf("cannot allocate a breakpoint\n");
        return 1;
    }
    return 0;
}

static int remove_break_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    struct strata_error *err = NULL;
    int ret = strata_debug_remove_breakpoint(ctx->node, argv[1], &err);
    io_break_forget(argv[1]);
    if (ret < 0) {
        char what[256];
        snprintf(what, sizeof what, "Could not remove breakpoint %s", argv[1]);
        return fail_with(what, err, ret);
    }
    return 0;
}

static int resume_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    struct strata_error *err = NULL;
    int ret = strata_debug_resume(ctx->node, argv[1], &err);
    if (ret < 0)
        return fail_with("Could not resume request", err, ret);
    /* qemu-io's words, which blkdebug prints as the request goes on */
    printf("blkdebug: Resuming request '%s'\n", argv[1]);
    io_break_forget(argv[1]);
    return 0;
}

/* Waits until a request is held under the tag.  qemu-io would wait for
 * ever when none can be; strata-io says so once no request is in flight. */
static int wait_break_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)argc;
    for (;;) {
        io_aio_poll(ctx, IO_AIO_REPORT);
        if (strata_debug_is_suspended(ctx->node, argv[1]))
            return 0;
        if (!io_aio_pending()) {
            tool_error("wait_break %s: no request in flight can reach the breakpoint",
                       argv[1]);
            return 1;
        }
        struct timespec ts = { .tv_nsec = 1000000L };
        nanosleep(&ts, NULL);
    }
}

const struct io_command io_cmd_break = {
    .name = "break", .run = break_run, .argmin = 2, .argmax = 2, .args = "event tag",
    .oneline = "sets a breakpoint on event and tags the stopped request as tag",
};
const struct io_command io_cmd_remove_break = {
    .name = "remove_break", .run = remove_break_run, .argmin = 1, .argmax = 1,
    .args = "tag", .oneline = "remove a breakpoint by tag",
};
const struct io_command io_cmd_resume = {
    .name = "resume", .run = resume_run, .argmin = 1, .argmax = 1, .args = "tag",
    .oneline = "resumes the request tagged as tag",
};
const struct io_command io_cmd_wait_break = {
    .name = "wait_break", .run = wait_break_run, .argmin = 1, .argmax = 1, .args = "tag",
    .oneline = "waits for the suspension of a request",
};
