/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-opts.c - dotted option strings (core/opts_parse.c, core/opts.c):
 * the input is what --image-opts or strata_open_string() takes.  It is
 * parsed, every value read as each option type, sizes parsed and printed,
 * and the whole checked against the qcow2 and file drivers' option tables
 * as an open would, without opening anything. */
#include "fuzz.h"

#include <stdlib.h>

#include <strata/driver.h>

static void ignore(struct strata_error *err)
{
    strata_error_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;

    struct strata_opts *o = strata_opts_new();
    struct strata_error *err = NULL;
    if (o && strata_opts_parse(o, text, "driver", &err) == 0) {
        const char *k, *v;
        for (size_t i = 0; strata_opts_entry(o, i, &k, &v); i++) {
            bool b;
            uint64_t u;
            int64_t s;
            strata_opts_get_bool(o, k, &b, &err), ignore(err), err = NULL;
            strata_opts_get_u64(o, k, &u, &err), ignore(err), err = NULL;
            strata_opts_get_i64(o, k, &s, &err), ignore(err), err = NULL;
            if (strata_opts_get_size(o, k, &u, &err) == 0) {
                char buf[64];
                strata_format_size(u, buf, sizeof buf);
            }
            ignore(err), err = NULL;
        }
        /* Looked up once: a registry search an input would cost more than
         * the parse. */
        static const char *const names[] = { "qcow2", "file" };
        static const struct strata_driver *drivers[2];
        static const char *const children[] = { "file", "backing", "data-file", NULL };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (!drivers[i])
                drivers[i] = strata_driver_find(names[i], NULL);
            const struct strata_driver *d = drivers[i];
            if (d && d->open_options)
                strata_opts_validate(o, d->open_options, children, names[i], &err);
            ignore(err), err = NULL;
        }
        struct strata_opts *sub = strata_opts_subset(o, "file");
        struct strata_opts *dup = strata_opts_dup(o);
        if (sub && dup)
            strata_opts_merge(dup, sub, "image");
        strata_opts_free(sub);
        strata_opts_free(dup);
    }
    ignore(err);
    strata_opts_free(o);
    free(text);
    return 0;
}
