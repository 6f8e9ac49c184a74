/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* formatting.c - create's "Formatting ..." line, laid out as qemu-img lays
 * it out: the creation options of the format and then of the file
 * protocol, in qemu-img's order, each with its value or its default. */
#include "img.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum shown_as {
    AS_GIVEN,       /* bool, enum: the text as given */
    AS_STRING,      /* commas doubled, as qemu-img escapes them */
    AS_NUMBER,      /* size or number: as a plain number once parsed */
};

struct line_opt {
    const char *name;
    enum shown_as as;
    const char *def;        /* printed when not given; NULL: left out */
};

#define LUKS_OPTS(prefix)                                                     \
    { prefix "key-secret", AS_STRING, NULL }, { prefix "cipher-alg", AS_STRING, NULL }, \
    { prefix "cipher-mode", AS_STRING, NULL }, { prefix "ivgen-alg", AS_STRING, NULL }, \
    { prefix "ivgen-hash-alg", AS_STRING, NULL }, { prefix "hash-alg", AS_STRING, NULL }, \
    { prefix "iter-time", AS_NUMBER, NULL }

#define FILE_OPTS                                                             \
    { "nocow", AS_GIVEN, NULL }, { "preallocation", AS_STRING, NULL },         \
    { "extent_size_hint", AS_NUMBER, NULL }

static const struct line_opt qcow2_line[] = {
    { "encryption", AS_GIVEN, NULL }, { "encrypt.format", AS_STRING, NULL },
    LUKS_OPTS("encrypt."),
    { "cluster_size", AS_NUMBER, "65536" }, { "extended_l2", AS_GIVEN, "off" },
    { "preallocation", AS_STRING, NULL }, { "compression_type", AS_STRING, "zlib" },
    { "size", AS_NUMBER, NULL }, { "compat", AS_STRING, NULL },
    { "backing_file", AS_STRING, NULL }, { "backing_fmt", AS_STRING, NULL },
    { "data_file", AS_STRING, NULL }, { "data_file_raw", AS_GIVEN, NULL },
    { "lazy_refcounts", AS_GIVEN, "off" }, { "refcount_bits", AS_NUMBER, "16" },
    FILE_OPTS, { NULL, 0, NULL },
};

static const struct line_opt qcow_line[] = {
    { "size", AS_NUMBER, NULL }, { "backing_file", AS_STRING, NULL },
    { "backing_fmt", AS_STRING, NULL }, { "encryption", AS_GIVEN, NULL },
    { "encrypt.format", AS_STRING, NULL }, { "encrypt.key-secret", AS_STRING, NULL },
    FILE_OPTS, { NULL, 0, NULL },
};

static const struct line_opt raw_line[] = {
    { "size", AS_NUMBER, NULL }, FILE_OPTS, { NULL, 0, NULL },
};

static const struct line_opt luks_line[] = {
    { "size", AS_NUMBER, NULL }, LUKS_OPTS(""), FILE_OPTS, { NULL, 0, NULL },
};

static const struct {
    const char *format;
    const struct line_opt *opts;
} lines[] = {
    { "qcow2", qcow2_line }, { "qcow", qcow_line }, { "raw", raw_line },
    { "luks", luks_line },
};

static void print_value(const char *name, enum shown_as as, const char *v, bool given)
{
    printf(" %s=", name);
    uint64_t n;
    struct strata_error *err = NULL;
    if (as == AS_NUMBER && given && tool_parse_size(v, name, &n, &err) == 0) {
        printf("%" PRIu64, n);
        return;
    }
    strata_error_free(err);
    for (; *v; v++) {
        if (*v == ',' && as == AS_STRING)
            putchar(',');
        putchar(*v);
    }
}

/* A typed or --key-file key has no id to show. */
static const char *shown(const struct strata_opts *opts, const char *name)
{
    const char *v = opts ? strata_opts_get(opts, name) : NULL;
    return v && v[0] == '%' ? NULL : v;
}

void img_print_formatting(const char *filename, const char *fmt, uint64_t size,
                          const struct strata_opts *opts)
{
    const struct line_opt *table = NULL;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (!strcmp(lines[i].format, fmt))
            table = lines[i].opts;
    printf("Formatting '%s', fmt=%s", filename, fmt);
    char sizebuf[24];
    snprintf(sizebuf, sizeof sizebuf, "%" PRIu64, size);
    if (!table)
        printf(" size=%s", sizebuf);
    for (size_t i = 0; table && table[i].name; i++) {
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || !strcmp(table[j].name, table[i].name);
        if (dup)
            continue;
        const char *v = !strcmp(table[i].name, "size") ? sizebuf : shown(opts, table[i].name);
        if (v)
            print_value(table[i].name, table[i].as, v, true);
        else if (table[i].def)
            print_value(table[i].name, table[i].as, table[i].def, false);
    }
    /* Options qemu-img does not have, in the order given. */
    const char *k, *v;
    for (size_t i = 0; opts && strata_opts_entry(opts, i, &k, &v); i++) {
        bool known = false;
        for (size_t j = 0; table && table[j].name; j++)
            known = known || !strcmp(table[j].name, k);
        if (!known && v[0] != '%')
            printf(" %s=%s", k, v);
    }
    putchar('\n');
    fflush(stdout);
}
