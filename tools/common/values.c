/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* values.c - parsing the values of options and arguments. */
#include "tool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tool_parse_size(const char *text, const char *what, uint64_t *out,
                    struct strata_error **errp)
{
    int ret = strata_parse_size(text, out, errp);
    if (ret < 0)
        strata_error_prefix(errp, "%s", what);
    return ret;
}

int tool_parse_number(const char *text, const char *what, int64_t min,
                      int64_t max, int64_t *out, struct strata_error **errp)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 0);
    if (!*text || *end || errno)
        return strata_error_set(errp, EINVAL, "%s: invalid number '%s'", what, text);
    if (v < min || v > max)
        return strata_error_set(errp, ERANGE, "%s: %s is out of range [%lld, %lld]",
                                what, text, (long long)min, (long long)max);
    *out = v;
    return 0;
}

/* strata's file I/O is blocking calls made outside any event loop, which
 * is what QEMU's threads mode gives; the kernel's AIO interfaces are not
 * used, so asking for them is refused rather than quietly not done. */
int tool_check_aio(const char *opt, const char *mode)
{
    if (!strcmp(mode, "threads"))
        return 0;
    if (!strcmp(mode, "native") || !strcmp(mode, "io_uring"))
        tool_error("%s %s is not supported (use threads)", opt, mode);
    else
        tool_error("invalid aio mode '%s' (use threads, native or io_uring)", mode);
    return -1;
}

int tool_parse_output(const char *text, enum tool_output *out,
                      struct strata_error **errp)
{
    if (!strcmp(text, "human"))
        *out = TOOL_OUTPUT_HUMAN;
    else if (!strcmp(text, "json"))
        *out = TOOL_OUTPUT_JSON;
    else
        return strata_error_set(errp, EINVAL,
                                "--output must be used with human or json as argument.");
    return 0;
}

void tool_print_info_json(const struct strata_info *info)
{
    char *s = strata_info_to_json(info);
    if (!s)
        return;
    size_t n = strlen(s);
    fputs(s, stdout);
    if (n == 0 || s[n - 1] != '\n')
        fputc('\n', stdout);
    free(s);
}
