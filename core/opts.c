/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* opts.c - the flat, ordered list of dotted option keys and string values
 * that every way of describing a stack reduces to, its typed getters and
 * validation against option descriptors. */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct opt_entry {
    char *key;
    char *value;
};

struct strata_opts {
    struct opt_entry *v;
    size_t n, cap;
};

struct strata_opts *strata_opts_new(void)
{
    return calloc(1, sizeof(struct strata_opts));
}

void strata_opts_free(struct strata_opts *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].key);
        free(o->v[i].value);
    }
    free(o->v);
    free(o);
}

static ssize_t opts_find(const struct strata_opts *o, const char *key)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->v[i].key, key) == 0)
            return (ssize_t)i;
    return -1;
}

int strata_opts_set(struct strata_opts *o, const char *key, const char *value)
{
    if (!o || !key || !value)
        return -EINVAL;
    char *nv = strdup(value);
    if (!nv)
        return -ENOMEM;
    ssize_t i = opts_find(o, key);
    if (i >= 0) {
        free(o->v[i].value);
        o->v[i].value = nv;
        return 0;
    }
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 8;
        struct opt_entry *v = realloc(o->v, cap * sizeof *v);
        if (!v) {
            free(nv);
            return -ENOMEM;
        }
        o->v = v;
        o->cap = cap;
    }
    char *nk = strdup(key);
    if (!nk) {
        free(nv);
        return -ENOMEM;
    }
    o->v[o->n].key = nk;
    o->v[o->n].value = nv;
    o->n++;
    return 0;
}

int strata_opts_setf(struct strata_opts *o, const char *key, const char *fmt, ...)
{
    char *value = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&value, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -ENOMEM;
    int ret = strata_opts_set(o, key, value);
    free(value);
    return ret;
}

bool strata_opts_del(struct strata_opts *o, const char *key)
{
    if (!o || !key)
        return false;
    ssize_t i = opts_find(o, key);
    if (i < 0)
        return false;
    free(o->v[i].key);
    free(o->v[i].value);
    memmove(&o->v[i], &o->v[i + 1], (o->n - (size_t)i - 1) * sizeof o->v[0]);
    o->n--;
    return true;
}

const char *strata_opts_get(const struct strata_opts *o, const char *key)
{
    if (!o || !key)
        return NULL;
    ssize_t i = opts_find(o, key);
    return i >= 0 ? o->v[i].value : NULL;
}

size_t strata_opts_count(const struct strata_opts *o)
{
    return o ? o->n : 0;
}

bool strata_opts_entry(const struct strata_opts *o, size_t i, const char **key,
                       const char **value)
{
    if (!o || i >= o->n)
        return false;
    if (key)
        *key = o->v[i].key;
    if (value)
        *value = o->v[i].value;
    return true;
}

struct strata_opts *strata_opts_dup(const struct strata_opts *o)
{
    struct strata_opts *d = strata_opts_new();
    if (!d || !o)
        return d;
    if (strata_opts_merge(d, o, NULL) < 0) {
        strata_opts_free(d);
        return NULL;
    }
    return d;
}

struct strata_opts *strata_opts_subset(const struct strata_opts *o, const char *prefix)
{
    if (!prefix || !*prefix)
        return strata_opts_dup(o);
    struct strata_opts *s = strata_opts_new();
    if (!s || !o)
        return s;
    size_t pl = strlen(prefix);
    for (size_t i = 0; i < o->n; i++) {
        const char *k = o->v[i].key;
        if (strncmp(k, prefix, pl) == 0 && k[pl] == '.' && k[pl + 1]) {
            if (strata_opts_set(s, k + pl + 1, o->v[i].value) < 0) {
                strata_opts_free(s);
                return NULL;
            }
        }
    }
    return s;
}

int strata_opts_merge(struct strata_opts *dst, const struct strata_opts *src,
                      const char *prefix)
{
    if (!dst)
        return -EINVAL;
    if (!src)
        return 0;
    for (size_t i = 0; i < src->n; i++) {
        int ret;
        if (prefix && *prefix) {
            char *k = NULL;
            if (asprintf(&k, "%s.%s", prefix, src->v[i].key) < 0)
                return -ENOMEM;
            ret = strata_opts_set(dst, k, src->v[i].value);
            free(k);
        } else {
            ret = strata_opts_set(dst, src->v[i].key, src->v[i].value);
        }
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* ------------------------------------------------------------ typed values */

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "on", "true", "yes", "1" };
    static const char *const no[] = { "off", "false", "no", "0" };
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* Unsigned decimal or 0x hex, nothing else (no sign, no spaces). */
static int parse_u64(const char *s, uint64_t *out)
{
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return -EINVAL;
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (isdigit((unsigned char)*s))
            d = (unsigned)(*s - '0');
        else if (base == 16 && isxdigit((unsigned char)*s))
            d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
        else
            return -EINVAL;
        if (v > (UINT64_MAX - d) / (unsigned)base)
            return -ERANGE;
        v = v * (unsigned)base + d;
    }
    *out = v;
    return 0;
}

static int parse_i64(const char *s, int64_t *out)
{
    bool neg = *s == '-';
    if (neg)
        s++;
    uint64_t u;
    int ret = parse_u64(s, &u);
    if (ret < 0)
        return ret;
    if (neg) {
        if (u > (uint64_t)INT64_MAX + 1)
            return -ERANGE;
        *out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    } else {
        if (u > INT64_MAX)
            return -ERANGE;
        *out = (int64_t)u;
    }
    return 0;
}

static int bad_value(struct strata_error **errp, int err, const char *key,
                     const char *value, const char *expected)
{
    if (err == -ERANGE)
        return strata_error_set(errp, ERANGE, "value '%s' for option '%s' is out of range",
                                value, key);
    return strata_error_set(errp, EINVAL, "invalid value '%s' for option '%s': expected %s",
                            value, key, expected);
}

/* QEMU's words, though yes/no, true/false and 1/0 are taken too. */
static int bool_expected(struct strata_error **errp, const char *key)
{
    return strata_error_set(errp, EINVAL, "Parameter '%s' expects 'on' or 'off'", key);
}

int strata_opts_get_bool(const struct strata_opts *o, const char *key, bool *out,
                         struct strata_error **errp)
{
    const char *v = strata_opts_get(o, key);
    if (!v)
        return 0;
    if (!parse_bool(v, out))
        return bool_expected(errp, key);
    return 0;
}

int strata_opts_get_u64(const struct strata_opts *o, const char *key, uint64_t *out,
                        struct strata_error **errp)
{
    const char *v = strata_opts_get(o, key);
    if (!v)
        return 0;
    int ret = parse_u64(v, out);
    if (ret < 0)
        return bad_value(errp, ret, key, v, "an unsigned decimal or 0x hex number");
    return 0;
}

int strata_opts_get_i64(const struct strata_opts *o, const char *key, int64_t *out,
                        struct strata_error **errp)
{
    const char *v = strata_opts_get(o, key);
    if (!v)
        return 0;
    int ret = parse_i64(v, out);
    if (ret < 0)
        return bad_value(errp, ret, key, v, "a decimal or 0x hex number");
    return 0;
}

int strata_opts_get_size(const struct strata_opts *o, const char *key, uint64_t *out,
                         struct strata_error **errp)
{
    const char *v = strata_opts_get(o, key);
    if (!v)
        return 0;
    struct strata_error *err = NULL;
    uint64_t size;
    int ret = strata_parse_size(v, &size, &err);
    if (ret < 0) {
        strata_error_free(err);
        return bad_value(errp, ret, key, v,
                         "a size with an optional K, M, G, T, P or E suffix");
    }
    *out = size;
    return 0;
}

/* ------------------------------------------------------------ validation */

static bool is_child_key(const char *key, const char *const *children)
{
    if (!children)
        return false;
    for (size_t i = 0; children[i]; i++) {
        size_t l = strlen(children[i]);
        if (strncmp(key, children[i], l) == 0 && (key[l] == 0 || key[l] == '.'))
            return true;
    }
    return false;
}

static int check_type(const struct strata_opt_desc *d, const char *key,
                      const char *value, struct strata_error **errp)
{
    int ret = 0;
    switch (d->type) {
    case STRATA_OPT_STRING:
        return 0;
    case STRATA_OPT_BOOL: {
        bool b;
        if (!parse_bool(value, &b))
            ret = bool_expected(errp, key);
        break;
    }
    case STRATA_OPT_NUMBER: {
        uint64_t u;
        ret = parse_u64(value, &u);
        if (ret < 0)
            ret = bad_value(errp, ret, key, value, "an unsigned decimal or 0x hex number");
        break;
    }
    case STRATA_OPT_SIZE: {
        uint64_t u;
        struct strata_error *err = NULL;
        ret = strata_parse_size(value, &u, &err);
        strata_error_free(err);
        if (ret < 0)
            ret = bad_value(errp, ret, key, value,
                            "a size with an optional K, M, G, T, P or E suffix");
        break;
    }
    case STRATA_OPT_ENUM: {
        if (d->choices)
            for (size_t i = 0; d->choices[i]; i++)
                if (strcmp(value, d->choices[i]) == 0)
                    return 0;
        /* List the choices so the user need not look them up. */
        size_t len = 1;
        if (d->choices)
            for (size_t i = 0; d->choices[i]; i++)
                len += strlen(d->choices[i]) + 2;
        char *list = malloc(len);
        if (!list)
            return strata_error_set(errp, EINVAL, "invalid value '%s' for option '%s'",
                                    value, key);
        list[0] = 0;
        if (d->choices)
            for (size_t i = 0; d->choices[i]; i++) {
                if (i)
                    strcat(list, ", ");
                strcat(list, d->choices[i]);
            }
        ret = strata_error_set(errp, EINVAL,
                               "invalid value '%s' for option '%s': expected one of %s",
                               value, key, list);
        free(list);
        break;
    }
    default:
        ret = strata_error_set(errp, EINVAL, "option '%s' has an unknown type", key);
        break;
    }
    return ret;
}

/* A description name matches a key exactly, except that a segment "N"
 * ("inject-error.N.event") stands for any list index ("inject-error.0.event"). */
static bool desc_matches(const char *name, const char *key)
{
    const char *start = name;
    while (*name && *key) {
        if (name[0] == 'N' && (name[1] == '.' || !name[1]) &&
            (name == start || name[-1] == '.') && isdigit((unsigned char)*key)) {
            while (isdigit((unsigned char)*key))
                key++;
            name++;
            continue;
        }
        if (*name++ != *key++)
            return false;
    }
    return !*name && !*key;
}

int strata_opts_validate(const struct strata_opts *o, const struct strata_opt_desc *descs,
                         const char *const *children, const char *owner,
                         struct strata_error **errp)
{
    if (!o)
        return 0;
    for (size_t i = 0; i < o->n; i++) {
        const char *key = o->v[i].key;
        if (is_child_key(key, children))
            continue;
        const struct strata_opt_desc *d = NULL;
        for (size_t j = 0; descs && descs[j].name; j++)
            if (desc_matches(descs[j].name, key)) {
                d = &descs[j];
                break;
            }
        if (!d) {
            if (owner)
                return strata_error_set(errp, EINVAL,
                                        "driver '%s' does not support option '%s'",
                                        owner, key);
            return strata_error_set(errp, EINVAL, "unknown option '%s'", key);
        }
        struct strata_error *err = NULL;
        int ret = check_type(d, key, o->v[i].value, &err);
        if (ret < 0) {
            /* QEMU's message for a bool names the parameter and stands
             * alone. */
            if (owner && d->type != STRATA_OPT_BOOL)
                strata_error_prefix(&err, "driver '%s'", owner);
            strata_error_propagate(errp, &err);
            return ret;
        }
    }
    return 0;
}
