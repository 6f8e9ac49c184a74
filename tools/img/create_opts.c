/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create_opts.c - the -o option lists of create, convert, amend and measure. */
#include "img.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* qemu-img refuses a list that is empty, starts with a comma or ends with
 * one that is not doubled (an escaped comma), before it looks at the keys. */
static bool valid_option_list(const char *arg)
{
    if (!arg[0] || arg[0] == ',')
        return false;
    size_t len = strlen(arg), i = len;
    while (i > 0 && arg[i - 1] == ',')
        i--;
    return (len - i) % 2 == 0;
}

int img_opts_add(struct img_create_opts *co, const char *arg,
                 struct strata_error **errp)
{
    if (!valid_option_list(arg)) {
        char *shown = tool_hide_secrets(arg);
        strata_error_set(errp, EINVAL, "Invalid option list: %s", shown ? shown : "...");
        free(shown);
        return -EINVAL;
    }
    if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
        co->want_help = true;
        return 0;
    }
    if (!co->opts && !(co->opts = strata_opts_new()))
        return strata_error_set(errp, ENOMEM, "-o: out of memory");
    int ret = strata_opts_parse(co->opts, arg, NULL, errp);
    if (ret < 0) {
        char *shown = tool_hide_secrets(arg);
        strata_error_prefix(errp, "-o '%s'", shown ? shown : "...");
        free(shown);
        return ret;
    }
    const char *h = strata_opts_get(co->opts, "help");
    if (h) {
        co->want_help = true;
        strata_opts_del(co->opts, "help");
    }
    return 0;
}

void img_opts_free(struct img_create_opts *co)
{
    strata_opts_free(co->opts);
    co->opts = NULL;
}

static const char *type_name(enum strata_opt_type t)
{
    switch (t) {
    case STRATA_OPT_STRING: return "str";
    case STRATA_OPT_BOOL:   return "bool (on/off)";
    case STRATA_OPT_NUMBER: return "num";
    case STRATA_OPT_SIZE:   return "size";
    case STRATA_OPT_ENUM:   return "enum";
    }
    return "?";
}

static void print_descs(const struct strata_opt_desc *descs);

void img_opts_print_help(const char *format, const char *what,
                         const struct strata_opt_desc *descs)
{
    printf("%s options for '%s':\n", what, format);
    if (!descs || !descs[0].name) {
        printf("  (none)\n");
        return;
    }
    print_descs(descs);
}

static void print_descs(const struct strata_opt_desc *descs)
{
    for (size_t i = 0; descs[i].name; i++) {
        const struct strata_opt_desc *d = &descs[i];
        printf("  %-24s <%s>", d->name, type_name(d->type));
        if (d->help)
            printf(" - %s", d->help);
        if (d->type == STRATA_OPT_ENUM && d->choices) {
            printf(" (");
            for (size_t k = 0; d->choices[k]; k++)
                printf("%s%s", k ? ", " : "", d->choices[k]);
            printf(")");
        }
        if (d->def)
            printf(" (default: %s)", d->def);
        putchar('\n');
    }
}

static bool desc_has(const struct strata_opt_desc *d, const char *name)
{
    for (; d && d->name; d++)
        if (!strcmp(d->name, name))
            return true;
    return false;
}

void img_opts_print_create_help(const struct strata_driver *drv)
{
    img_opts_print_help(drv->name, "Creation", drv->create_options);
    if (drv->kind != STRATA_DRIVER_FORMAT)
        return;
    const struct strata_driver *file = strata_driver_find("file", NULL);
    if (!file || !file->create_options)
        return;
    bool any = false;
    for (const struct strata_opt_desc *d = file->create_options; d->name; d++)
        if (strcmp(d->name, "filename") && !desc_has(drv->create_options, d->name))
            any = true;
    if (!any)
        return;
    printf("\nThe following options are passed to the 'file' protocol:\n");
    for (const struct strata_opt_desc *d = file->create_options; d->name; d++) {
        if (!strcmp(d->name, "filename") || desc_has(drv->create_options, d->name))
            continue;
        const struct strata_opt_desc one[2] = { *d, { 0 } };
        print_descs(one);
    }
}

int img_opts_add_backing(struct img_create_opts *co, const char *backing,
                         const char *backing_fmt)
{
    if (!backing && !backing_fmt)
        return 0;
    if (!co->opts && !(co->opts = strata_opts_new())) {
        tool_error("out of memory");
        return -ENOMEM;
    }
    if (backing)
        strata_opts_set(co->opts, "backing_file", backing);
    if (backing_fmt)
        strata_opts_set(co->opts, "backing_fmt", backing_fmt);
    return 0;
}

void img_report_bad_size(void)
{
    tool_error("Invalid image size specified. You may use k, M, G, T, P or E suffixes for");
    tool_error("kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
}

int img_opts_take_size(struct img_create_opts *co, const char *key,
                       uint64_t *out, bool *found, struct strata_error **errp)
{
    *found = false;
    const char *v = co->opts ? strata_opts_get(co->opts, key) : NULL;
    if (!v)
        return 0;
    int ret = tool_parse_size(v, "-o size", out, errp);
    if (ret < 0)
        return ret;
    strata_opts_del(co->opts, key);
    *found = true;
    return 0;
}

const struct strata_driver *img_find_format(const char *name,
                                            struct strata_error **errp)
{
    const struct strata_driver *drv = strata_driver_find(name, errp);
    if (!drv)
        strata_error_set(errp, ENOENT, "Unknown format '%s'", name);
    return drv;
}
