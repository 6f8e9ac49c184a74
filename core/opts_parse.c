/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* opts_parse.c - qemu's dotted option syntax:
 * "driver=qcow2,file.filename=disk.qcow2", where ",," stands for a literal
 * comma inside a value. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Reads a value starting at *pp up to a single ',' or the end, undoubling
 * ",,"; leaves *pp after the terminating comma. */
static char *parse_value(const char **pp)
{
    const char *p = *pp;
    char *v = malloc(strlen(p) + 1);
    if (!v)
        return NULL;
    size_t n = 0;
    for (;;) {
        if (*p == ',') {
            if (p[1] == ',') {
                v[n++] = ',';
                p += 2;
                continue;
            }
            p++;
            break;
        }
        if (!*p)
            break;
        v[n++] = *p++;
    }
    v[n] = 0;
    *pp = p;
    return v;
}

static bool key_valid(const char *k, size_t len)
{
    if (len == 0 || k[0] == '.' || k[len - 1] == '.')
        return false;
    for (size_t i = 0; i + 1 < len; i++)
        if (k[i] == '.' && k[i + 1] == '.')
            return false;
    return true;
}

int strata_opts_parse(struct strata_opts *o, const char *text, const char *implied_key,
                      struct strata_error **errp)
{
    if (!o)
        return strata_error_set(errp, EINVAL, "no option list to parse into");
    if (!text)
        return 0;
    const char *p = text;
    bool first = true;
    while (*p) {
        const char *start = p;
        size_t klen = strcspn(p, "=,");
        if (p[klen] != '=') {
            if (klen == 0)
                return strata_error_set(errp, EINVAL,
                                        "empty option before ','");
            if (first && implied_key) {
                char *v = parse_value(&p);
                if (!v)
                    return -ENOMEM;
                int ret = strata_opts_set(o, implied_key, v);
                free(v);
                if (ret < 0)
                    return strata_error_set(errp, -ret, "cannot store option '%s'",
                                            implied_key);
                first = false;
                continue;
            }
            return strata_error_set(errp, EINVAL,
                                    "option '%.*s' has no value: expected '%.*s=VALUE'",
                                    (int)klen, start, (int)klen, start);
        }
        if (klen == 0)
            return strata_error_set(errp, EINVAL, "missing option name before '='");
        if (!key_valid(start, klen))
            return strata_error_set(errp, EINVAL, "invalid option name '%.*s'",
                                    (int)klen, start);
        char *key = strndup(start, klen);
        if (!key)
            return -ENOMEM;
        p += klen + 1;
        char *v = parse_value(&p);
        if (!v) {
            free(key);
            return -ENOMEM;
        }
        int ret = strata_opts_set(o, key, v);
        if (ret < 0)
            strata_error_set(errp, -ret, "cannot store option '%s'", key);
        free(key);
        free(v);
        if (ret < 0)
            return ret;
        first = false;
    }
    return 0;
}
