/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* info.c - structured output (info, check, map, format-specific data) as a
 * small tree, rendered as qemu-img renders it: pretty JSON or indented
 * "key: value" text. */
#include "internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum info_type { INFO_OBJECT, INFO_LIST, INFO_STR, INFO_INT, INFO_UINT, INFO_BOOL };

struct strata_info {
    enum info_type type;
    char *key;                    /* NULL for list items and the root */
    union {
        char *s;
        int64_t i;
        uint64_t u;
        bool b;
    } v;
    struct strata_info **items;   /* OBJECT and LIST */
    size_t n, cap;
};

static void info_clear(struct strata_info *i)
{
    for (size_t k = 0; k < i->n; k++)
        strata_info_free(i->items[k]);
    free(i->items);
    i->items = NULL;
    i->n = i->cap = 0;
    if (i->type == INFO_STR)
        free(i->v.s);
}

void strata_info_free(struct strata_info *i)
{
    if (!i)
        return;
    info_clear(i);
    free(i->key);
    free(i);
}

struct strata_info *strata_info_new_object(void)
{
    struct strata_info *i = calloc(1, sizeof *i);
    if (i)
        i->type = INFO_OBJECT;
    return i;
}

/* Returns the slot for `key` in parent: an existing member of an object is
 * emptied and reused (keys stay unique, the first position is kept); otherwise
 * a new one is appended.  NULL if parent cannot take members. */
static struct strata_info *info_slot(struct strata_info *parent, const char *key,
                                     enum info_type type)
{
    if (!parent || (parent->type != INFO_OBJECT && parent->type != INFO_LIST))
        return NULL;
    bool is_obj = parent->type == INFO_OBJECT;
    if (is_obj && !key)
        return NULL;
    if (is_obj) {
        for (size_t k = 0; k < parent->n; k++) {
            struct strata_info *c = parent->items[k];
            if (strcmp(c->key, key) == 0) {
                info_clear(c);
                c->type = type;
                memset(&c->v, 0, sizeof c->v);
                return c;
            }
        }
    }
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        struct strata_info **v = realloc(parent->items, cap * sizeof *v);
        if (!v)
            return NULL;
        parent->items = v;
        parent->cap = cap;
    }
    struct strata_info *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (is_obj && !(c->key = strdup(key))) {
        free(c);
        return NULL;
    }
    c->type = type;
    parent->items[parent->n++] = c;
    return c;
}

void strata_info_add_str(struct strata_info *obj, const char *key, const char *val)
{
    struct strata_info *c = info_slot(obj, key, INFO_STR);
    if (c)
        c->v.s = strdup(val ? val : "");
}

void strata_info_add_int(struct strata_info *obj, const char *key, int64_t val)
{
    struct strata_info *c = info_slot(obj, key, INFO_INT);
    if (c)
        c->v.i = val;
}

void strata_info_add_uint(struct strata_info *obj, const char *key, uint64_t val)
{
    struct strata_info *c = info_slot(obj, key, INFO_UINT);
    if (c)
        c->v.u = val;
}

void strata_info_add_bool(struct strata_info *obj, const char *key, bool val)
{
    struct strata_info *c = info_slot(obj, key, INFO_BOOL);
    if (c)
        c->v.b = val;
}

struct strata_info *strata_info_add_object(struct strata_info *parent, const char *key)
{
    return info_slot(parent, key, INFO_OBJECT);
}

struct strata_info *strata_info_add_list(struct strata_info *parent, const char *key)
{
    return info_slot(parent, key, INFO_LIST);
}

const struct strata_info *strata_info_get(const struct strata_info *obj, const char *key)
{
    if (!obj || !key || obj->type != INFO_OBJECT)
        return NULL;
    for (size_t k = 0; k < obj->n; k++)
        if (strcmp(obj->items[k]->key, key) == 0)
            return obj->items[k];
    return NULL;
}

bool strata_info_get_int(const struct strata_info *obj, const char *key, int64_t *out)
{
    const struct strata_info *m = strata_info_get(obj, key);
    if (m && m->type == INFO_INT) {
        *out = m->v.i;
        return true;
    }
    if (m && m->type == INFO_UINT && m->v.u <= INT64_MAX) {
        *out = (int64_t)m->v.u;
        return true;
    }
    return false;
}

bool strata_info_get_bool(const struct strata_info *obj, const char *key, bool *out)
{
    const struct strata_info *m = strata_info_get(obj, key);
    if (!m || m->type != INFO_BOOL)
        return false;
    *out = m->v.b;
    return true;
}

const char *strata_info_get_str(const struct strata_info *obj, const char *key)
{
    const struct strata_info *m = strata_info_get(obj, key);
    return m && m->type == INFO_STR ? m->v.s : NULL;
}

struct strata_info *strata_info_take(struct strata_info *obj, const char *key)
{
    if (!obj || !key || obj->type != INFO_OBJECT)
        return NULL;
    for (size_t k = 0; k < obj->n; k++)
        if (strcmp(obj->items[k]->key, key) == 0) {
            struct strata_info *m = obj->items[k];
            memmove(&obj->items[k], &obj->items[k + 1], (obj->n - k - 1) * sizeof *obj->items);
            obj->n--;
            free(m->key);
            m->key = NULL;
            return m;
        }
    return NULL;
}

bool strata_info_remove(struct strata_info *obj, const char *key)
{
    struct strata_info *m = strata_info_take(obj, key);
    strata_info_free(m);
    return m != NULL;
}

int strata_info_attach(struct strata_info *parent, const char *key, struct strata_info *child)
{
    struct strata_info *slot = info_slot(parent, key, child->type);
    if (!slot)
        return -EINVAL;
    /* The slot keeps its key and place; it takes the child's content. */
    slot->v = child->v;
    slot->items = child->items;
    slot->n = child->n;
    slot->cap = child->cap;
    free(child->key);
    free(child);
    return 0;
}

/* ------------------------------------------------------------ rendering */

struct sbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_puts(struct sbuf *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) STRATA_PRINTF(2, 3);
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->failed = true;
        return;
    }
    sb_putn(b, tmp, (size_t)n);
}

static void sb_indent(struct sbuf *b, int n)
{
    for (int k = 0; k < n; k++)
        sb_putn(b, " ", 1);
}

static char *sb_finish(struct sbuf *b)
{
    if (b->failed) {
        free(b->p);
        return NULL;
    }
    if (!b->p)
        return strdup("");
    return b->p;
}

/* Decodes one UTF-8 sequence; returns its length, or 0 if it is invalid. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    size_t n;
    uint32_t c, min;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    } else if ((s[0] & 0xe0) == 0xc0) {
        n = 2; c = s[0] & 0x1f; min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3; c = s[0] & 0x0f; min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 4; c = s[0] & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[k] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/* Like qemu's JSON writer, the output is pure ASCII: everything outside the
 * printable range becomes an escape, so file names that are not valid UTF-8
 * still give valid JSON (U+FFFD marks the bad bytes). */
static void json_string(struct sbuf *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    sb_putn(b, "\"", 1);
    while (*s) {
        uint32_t cp;
        size_t n = utf8_decode(s, &cp);
        if (n == 0) {
            cp = 0xfffd;
            n = 1;
        }
        s += n;
        switch (cp) {
        case '"':  sb_puts(b, "\\\""); continue;
        case '\\': sb_puts(b, "\\\\"); continue;
        case '\b': sb_puts(b, "\\b"); continue;
        case '\f': sb_puts(b, "\\f"); continue;
        case '\n': sb_puts(b, "\\n"); continue;
        case '\r': sb_puts(b, "\\r"); continue;
        case '\t': sb_puts(b, "\\t"); continue;
        default: break;
        }
        if (cp >= 0x20 && cp < 0x7f) {
            char ch = (char)cp;
            sb_putn(b, &ch, 1);
        } else if (cp < 0x10000) {
            sb_printf(b, "\\u%04X", (unsigned)cp);
        } else {
            cp -= 0x10000;
            sb_printf(b, "\\u%04X\\u%04X", (unsigned)(0xd800 | (cp >> 10)),
                      (unsigned)(0xdc00 | (cp & 0x3ff)));
        }
    }
    sb_putn(b, "\"", 1);
}

static void json_value(struct sbuf *b, const struct strata_info *i, int depth)
{
    switch (i->type) {
    case INFO_STR:
        json_string(b, i->v.s ? i->v.s : "");
        return;
    case INFO_INT:
        sb_printf(b, "%" PRId64, i->v.i);
        return;
    case INFO_UINT:
        sb_printf(b, "%" PRIu64, i->v.u);
        return;
    case INFO_BOOL:
        sb_puts(b, i->v.b ? "true" : "false");
        return;
    case INFO_OBJECT:
    case INFO_LIST: {
        bool obj = i->type == INFO_OBJECT;
        sb_puts(b, obj ? "{" : "[");
        for (size_t k = 0; k < i->n; k++) {
            sb_puts(b, k ? ",\n" : "\n");
            sb_indent(b, (depth + 1) * 4);
            if (obj) {
                json_string(b, i->items[k]->key);
                sb_puts(b, ": ");
            }
            json_value(b, i->items[k], depth + 1);
        }
        /* qemu closes even an empty container on its own line. */
        sb_puts(b, "\n");
        sb_indent(b, depth * 4);
        sb_puts(b, obj ? "}" : "]");
        return;
    }
    }
}

char *strata_info_to_json(const struct strata_info *i)
{
    if (!i)
        return NULL;
    struct sbuf b = { 0 };
    json_value(&b, i, 0);
    return sb_finish(&b);
}

static void text_scalar(struct sbuf *b, const struct strata_info *i)
{
    switch (i->type) {
    case INFO_STR:  sb_puts(b, i->v.s ? i->v.s : ""); break;
    case INFO_INT:  sb_printf(b, "%" PRId64, i->v.i); break;
    case INFO_UINT: sb_printf(b, "%" PRIu64, i->v.u); break;
    case INFO_BOOL: sb_puts(b, i->v.b ? "true" : "false"); break;
    default: break;
    }
    sb_puts(b, "\n");
}

static void text_members(struct sbuf *b, const struct strata_info *i, int indent)
{
    for (size_t k = 0; k < i->n; k++) {
        const struct strata_info *c = i->items[k];
        bool composite = c->type == INFO_OBJECT || c->type == INFO_LIST;
        sb_indent(b, indent);
        if (i->type == INFO_OBJECT) {
            /* qemu-img shows "cipher-alg" as "cipher alg". */
            for (const char *p = c->key; *p; p++)
                sb_putn(b, *p == '-' ? " " : p, 1);
        } else {
            sb_printf(b, "[%zu]", k);
        }
        sb_puts(b, composite ? ":\n" : ": ");
        if (composite)
            text_members(b, c, indent + 4);
        else
            text_scalar(b, c);
    }
}

char *strata_info_to_text(const struct strata_info *i, int indent)
{
    if (!i)
        return NULL;
    if (indent < 0)
        indent = 0;
    struct sbuf b = { 0 };
    if (i->type == INFO_OBJECT || i->type == INFO_LIST) {
        text_members(&b, i, indent);
    } else {
        sb_indent(&b, indent);
        text_scalar(&b, i);
    }
    return sb_finish(&b);
}

const struct strata_info *strata_info_at(const struct strata_info *obj, size_t i)
{
    if (!obj || (obj->type != INFO_OBJECT && obj->type != INFO_LIST) || i >= obj->n)
        return NULL;
    return obj->items[i];
}
