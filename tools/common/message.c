/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* message.c - how the tools report errors and warnings: one line on
 * stderr, led by the program name, as qemu-img does. */
#include "tool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *progname = "strata";
static bool flush_stdout = true;

void tool_set_progname(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    progname = slash ? slash + 1 : argv0;
}

const char *tool_progname(void)
{
    return progname;
}

void tool_keep_stdout_buffered(void)
{
    flush_stdout = false;
}

static void vreport(const char *kind, const char *fmt, va_list ap)
{
    /* stdout may hold a half-drawn progress line; keep the order readable. */
    if (flush_stdout)
        fflush(stdout);
    fprintf(stderr, "%s: %s", progname, kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void tool_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
}

void tool_warning(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("warning: ", fmt, ap);
    va_end(ap);
}

const char *tool_unprefixed(const char *msg, const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n && !strncmp(msg, name, n) && !strncmp(msg + n, ": ", 2))
        return msg + n + 2;
    return msg;
}

int tool_fail(struct strata_error *err, int ret, const char *fallback)
{
    if (err && err->msg)
        tool_error("%s", err->msg);
    else if (fallback)
        tool_error("%s: %s", fallback, strerror(ret < 0 ? -ret : (ret ? ret : EIO)));
    else
        tool_error("%s", strerror(ret < 0 ? -ret : (ret ? ret : EIO)));
    strata_error_free(err);
    return 1;
}

static void warning_to_stderr(const char *msg, void *opaque)
{
    (void)opaque;
    tool_warning("%s", msg);
}

void tool_install_warning_handler(void)
{
    strata_set_warning_handler(warning_to_stderr, NULL);
}

static void try_help(const char *cmd)
{
    if (cmd)
        fprintf(stderr, "Try '%s %s --help' for more information.\n", progname, cmd);
    else
        fprintf(stderr, "Try '%s --help' for more information.\n", progname);
}

int tool_getopt_error(int c, char **argv, const char *cmd)
{
    const char *word = optind > 0 ? argv[optind - 1] : "";
    bool is_long = word && word[0] == '-' && word[1] == '-';

    if (c == ':') {
        if (is_long)
            tool_error("option '%s' requires an argument", word);
        else
            tool_error("option requires an argument -- '%c'", optopt);
    } else if (optopt && optopt < 0x100 && !is_long) {
        tool_error("invalid option -- '%c'", optopt);
    } else if (is_long && optopt) {
        /* a long option that takes no argument was given one */
        tool_error("option '%s' does not take an argument", word);
    } else {
        tool_error("unrecognized option '%s'", word);
    }
    try_help(cmd);
    return 1;
}

int tool_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
    try_help(cmd);
    return 1;
}
