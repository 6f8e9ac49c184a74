/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vectors.c - reader for the files in tests/vectors (see vectors.h). */
#include "vectors.h"
#include "testutil.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC_MAX_FIELDS 16

struct vec_record {
    size_t n;
    char *key[VEC_MAX_FIELDS];
    char *val[VEC_MAX_FIELDS];
    char where[128];
};

struct tu_vec {
    size_t n, cap;
    struct vec_record *rec;
};

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static struct vec_record *vec_new_record(struct tu_vec *v, const char *name, int line)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 16;
        v->rec = realloc(v->rec, v->cap * sizeof(*v->rec));
    }
    struct vec_record *r = &v->rec[v->n++];
    memset(r, 0, sizeof(*r));
    snprintf(r->where, sizeof(r->where), "%s:%d", name, line);
    return r;
}

struct tu_vec *tu_vec_load(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "tests/vectors/%s", name);
    FILE *f = fopen(tu_src_path(rel), "r");
    if (!f)
        return NULL;
    struct tu_vec *v = calloc(1, sizeof(*v));
    struct vec_record *cur = NULL;
    char line[4096];
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (line[0] == '#')
            continue;
        bool cont = line[0] == ' ' || line[0] == '\t';
        char *t = trim(line);
        if (!*t) {
            if (!cont)
                cur = NULL;
            continue;
        }
        if (cont && cur && cur->n) {
            char **val = &cur->val[cur->n - 1];
            size_t a = strlen(*val), b = strlen(t);
            *val = realloc(*val, a + b + 1);
            memcpy(*val + a, t, b + 1);
            continue;
        }
        char *eq = strchr(t, '=');
        if (!eq)
            continue;
        *eq = '\0';
        if (!cur)
            cur = vec_new_record(v, name, lineno);
        if (cur->n < VEC_MAX_FIELDS) {
            cur->key[cur->n] = strdup(trim(t));
            cur->val[cur->n] = strdup(trim(eq + 1));
            cur->n++;
        }
    }
    fclose(f);
    return v;
}

void tu_vec_free(struct tu_vec *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        for (size_t k = 0; k < v->rec[i].n; k++) {
            free(v->rec[i].key[k]);
            free(v->rec[i].val[k]);
        }
    free(v->rec);
    free(v);
}

size_t tu_vec_count(const struct tu_vec *v)
{
    return v ? v->n : 0;
}

const char *tu_vec_get(const struct tu_vec *v, size_t i, const char *key)
{
    if (!v || i >= v->n)
        return NULL;
    for (size_t k = 0; k < v->rec[i].n; k++)
        if (strcmp(v->rec[i].key[k], key) == 0)
            return v->rec[i].val[k];
    return NULL;
}

uint8_t *tu_vec_hex(const struct tu_vec *v, size_t i, const char *key, size_t *len)
{
    const char *s = tu_vec_get(v, i, key);
    if (!s || strlen(s) % 2)
        return NULL;
    size_t n = strlen(s) / 2;
    uint8_t *out = malloc(n ? n : 1);
    for (size_t k = 0; k < n; k++) {
        unsigned b;
        if (!isxdigit((unsigned char)s[2 * k]) || !isxdigit((unsigned char)s[2 * k + 1]) ||
            sscanf(s + 2 * k, "%2x", &b) != 1) {
            free(out);
            return NULL;
        }
        out[k] = (uint8_t)b;
    }
    *len = n;
    return out;
}

uint64_t tu_vec_num(const struct tu_vec *v, size_t i, const char *key, uint64_t def)
{
    const char *s = tu_vec_get(v, i, key);
    return s ? strtoull(s, NULL, 0) : def;
}

const char *tu_vec_where(const struct tu_vec *v, size_t i)
{
    return v && i < v->n ? v->rec[i].where : "?";
}
