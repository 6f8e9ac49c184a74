/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_break.c - break, remove_break, resume and wait_break: qemu-io's
 * blkdebug breakpoints, which suspend a request until it is resumed.
 * strata runs each request to completion and its blkdebug cannot hold one
 * back, so these are refused, with qemu-io's words where it has them. */
#include "io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int break_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)ctx, (void)argc, (void)argv;
    printf("Could not set breakpoint: %s\n", strerror(ENOTSUP));
    return 1;
}

static int remove_break_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)ctx, (void)argc;
    printf("Could not remove breakpoint %s: %s\n", argv[1], strerror(ENOTSUP));
    return 1;
}

static int resume_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)ctx, (void)argc, (void)argv;
    printf("Could not resume request: %s\n", strerror(ENOTSUP));
    return 1;
}

/* qemu-io waits here until a request is suspended; none ever is. */
static int wait_break_run(struct io_ctx *ctx, int argc, char **argv)
{
    (void)ctx, (void)argc;
    tool_error("wait_break %s: no request can be suspended (breakpoints are not "
               "supported)", argv[1]);
    return 1;
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
