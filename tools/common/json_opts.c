/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json_opts.c - QEMU's "json:{...}" image names as flat dotted options. */
#include "tool.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting deeper than this is refused rather than recursed into. */
#define JSON_MAX_DEPTH 32

struct json_in {
    const char *text;       /* the whole name, for offsets in messages */
    const char *p;
    struct strata_opts *out;
    struct strata_error **errp;
};

static int bad(struct json_in *in, const char *what)
{
    return strata_error_set(in->errp, EINVAL, "Could not parse the JSON options: %s "
                            "at offset %d", what, (int)(in->p - in->text));
}

static void skip_blank(struct json_in *in)
{
    while (isspace((unsigned char)*in->p))
        in->p++;
}

/* A string in double or (as QEMU takes them) single quotes; the result is
 * malloc()ed. */
static int read_string(struct json_in *in, char **out)
{
    char quote = *in->p++;
    size_t cap = 32, n = 0;
    char *s = malloc(cap);
    if (!s)
        return strata_error_set(in->errp, ENOMEM, "out of memory");
    for (;;) {
        char c = *in->p++;
        if (!c) {
            free(s);
            in->p--;
            return bad(in, "unterminated string");
        }
        if (c == quote)
            break;
        if (c == '\\') {
            c = *in->p++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case '"': case '\'': case '\\': case '/': break;
            default:
                free(s);
                return bad(in, "unsupported escape in a string");
            }
        }
        if (n + 2 > cap) {
            char *t = realloc(s, cap *= 2);
            if (!t) {
                free(s);
                return strata_error_set(in->errp, ENOMEM, "out of memory");
            }
            s = t;
        }
        s[n++] = c;
    }
    s[n] = 0;
    *out = s;
    return 0;
}

static int set(struct json_in *in, const char *key, const char *value)
{
    if (!*key)
        return bad(in, "a value outside an object");
    return strata_opts_set(in->out, key, value) < 0
               ? strata_error_set(in->errp, ENOMEM, "out of memory") : 0;
}

static int read_value(struct json_in *in, const char *key, int depth);

/* "{...}" or "[...]": members go under key (their index for arrays). */
static int read_container(struct json_in *in, const char *key, int depth)
{
    char close = *in->p == '{' ? '}' : ']';
    unsigned index = 0;
    in->p++;
    if (depth >= JSON_MAX_DEPTH)
        return bad(in, "nested too deeply");
    skip_blank(in);
    if (*in->p == close) {
        in->p++;
        return 0;
    }
    for (;;) {
        char *name = NULL, *sub = NULL;
        int ret;
        skip_blank(in);
        if (close == '}') {
            if (*in->p != '"' && *in->p != '\'')
                return bad(in, "expected a member name");
            if ((ret = read_string(in, &name)) < 0)
                return ret;
            skip_blank(in);
            if (*in->p++ != ':') {
                free(name);
                in->p--;
                return bad(in, "expected ':'");
            }
        } else if (asprintf(&name, "%u", index++) < 0) {
            return strata_error_set(in->errp, ENOMEM, "out of memory");
        }
        if (*key ? asprintf(&sub, "%s.%s", key, name) < 0 : !(sub = strdup(name))) {
            free(name);
            return strata_error_set(in->errp, ENOMEM, "out of memory");
        }
        free(name);
        ret = read_value(in, sub, depth + 1);
        free(sub);
        if (ret < 0)
            return ret;
        skip_blank(in);
        if (*in->p == ',') {
            in->p++;
            continue;
        }
        if (*in->p == close) {
            in->p++;
            return 0;
        }
        return bad(in, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int read_value(struct json_in *in, const char *key, int depth)
{
    skip_blank(in);
    char c = *in->p;
    if (c == '{' || c == '[') {
        if (c == '[' && !*key)
            return bad(in, "an array outside an object");
        return read_container(in, key, depth);
    }
    if (c == '"' || c == '\'') {
        char *s;
        int ret = read_string(in, &s);
        if (ret == 0)
            ret = set(in, key, s);
        free(s);
        return ret;
    }
    /* Numbers, true, false and null: their text is the value. */
    const char *start = in->p;
    while (*in->p && (isalnum((unsigned char)*in->p) || strchr("+-.", *in->p)))
        in->p++;
    if (in->p == start)
        return bad(in, "expected a value");
    char *word = strndup(start, (size_t)(in->p - start));
    if (!word)
        return strata_error_set(in->errp, ENOMEM, "out of memory");
    int ret = set(in, key, word);
    free(word);
    return ret;
}

int tool_json_opts(const char *name, struct strata_opts **optsp, struct strata_error **errp)
{
    struct json_in in = { .text = name, .p = name, .errp = errp };
    if (strncmp(name, "json:", 5) != 0)
        return strata_error_set(errp, EINVAL, "'%s' is not a json: name", name);
    in.p += 5;
    if (!(in.out = strata_opts_new()))
        return strata_error_set(errp, ENOMEM, "out of memory");
    skip_blank(&in);
    int ret = *in.p == '{' ? read_value(&in, "", 0) : bad(&in, "expected '{'");
    if (ret == 0) {
        skip_blank(&in);
        if (*in.p)
            ret = bad(&in, "text after the object");
    }
    if (ret < 0) {
        strata_opts_free(in.out);
        return ret;
    }
    *optsp = in.out;
    return 0;
}
