/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_create.c - strata-img create. */
#include "crypt.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A relative backing file name is relative to the new image's directory;
 * a json: name describes the backing node itself. */
static char *backing_path(const char *image, const char *backing)
{
    if (backing[0] == '/' || !strchr(image, '/') || strncmp(backing, "json:", 5) == 0)
        return strdup(backing);
    char *dup = strdup(image);
    if (!dup)
        return NULL;
    char *out = NULL;
    if (asprintf(&out, "%s/%s", dirname(dup), backing) < 0)
        out = NULL;
    free(dup);
    return out;
}

/* The first option of the format's own whose value is not one of its
 * choices.  qemu-img checks such values only when it makes the image, after
 * the 'Formatting' line, and names them by the create structure's field
 * (qcow2's compat is its version). */
static const struct strata_opt_desc *refused_choice(const struct strata_driver *drv,
                                                    const struct strata_opts *opts,
                                                    const char **valuep)
{
    for (const struct strata_opt_desc *d = drv->create_options; opts && d && d->name; d++) {
        const char *v = d->type == STRATA_OPT_ENUM && d->choices ? strata_opts_get(opts, d->name)
                                                                  : NULL;
        if (!v)
            continue;
        bool known = false;
        for (size_t i = 0; d->choices[i] && !known; i++)
            known = strcmp(v, d->choices[i]) == 0;
        if (!known) {
            *valuep = v;
            return d;
        }
    }
    return NULL;
}

static void report_refused_choice(const char *filename, const char *fmt,
                                  const struct strata_opt_desc *d, const char *value)
{
    char name[64];
    snprintf(name, sizeof name, "%s", strcmp(fmt, "qcow2") == 0 && !strcmp(d->name, "compat")
                                          ? "version" : d->name);
    for (char *c = name; *c; c++)
        if (*c == '_')
            *c = '-';
    tool_error("%s: Parameter '%s' does not accept value '%s'", filename, name, value);
}

static int backing_size(const char *image, const char *backing, const char *fmt,
                        uint64_t *size, struct strata_error **errp)
{
    char *path = backing_path(image, backing);
    if (!path)
        return strata_error_set(errp, ENOMEM, "out of memory");
    struct strata_node *n = NULL;
    int ret;
    if (fmt && !strata_driver_find(fmt, errp)) {
        ret = -ENOENT;
        goto out;
    }
    ret = strata_open_file(path, fmt, STRATA_O_NO_IO | STRATA_O_FORCE_SHARE, &n, errp);
    if (ret < 0) {
        strata_error_prefix(errp, "Could not open backing image");
        goto out;
    }
    int64_t len = strata_get_length(n);
    if (len < 0)
        ret = strata_error_set(errp, (int)-len, "%s: cannot read the size of the "
                               "backing image: %s", path, strerror((int)-len));
    else
        *size = (uint64_t)len;
    strata_close(n);
out:
    free(path);
    return ret;
}

/* qemu-img 7.2 no longer probes a backing file's format when it creates
 * an overlay: it names the format it detected and fails, so that the user
 * writes it down (-F).  Without -u the backing file must open. */
static void refuse_unnamed_backing_format(const char *image, const char *backing,
                                          bool unsafe_create)
{
    if (unsafe_create) {
        tool_error("%s: Backing file specified without backing format", image);
        return;
    }
    char *path = backing_path(image, backing);
    struct strata_node *n = NULL;
    struct strata_error *err = NULL;
    int r = path ? strata_open_file(path, NULL, STRATA_O_NO_IO | STRATA_O_FORCE_SHARE |
                                    STRATA_O_NO_PROBE_WARN, &n, &err)
                 : strata_error_set(&err, ENOMEM, "out of memory");
    free(path);
    if (r < 0) {
        tool_error("%s: %s\nCould not open backing image.", image,
                   err && err->msg ? err->msg : strerror(-r));
        strata_error_free(err);
        return;
    }
    tool_error("%s: Backing file specified without backing format\nDetected format of %s.",
               image, strata_node_driver_name(n));
    strata_close(n);
}

static const char *backing, *backing_fmt;
static bool unsafe;

static int run(struct img_args *a)
{
    struct img_create_opts *co = &a->co;
    struct strata_error *err = NULL;
    int ret = 1;
    const struct tool_common tc = a->tc;
    const char *fmt = tc.format ? tc.format : "raw";
    int nargs = a->nwords;
    if (co->want_help && nargs == 0) {
        const struct strata_driver *drv = img_find_format(fmt, &err);
        if (!drv) {
            ret = tool_fail(err, -ENOENT, NULL);
            goto out;
        }
        img_opts_print_create_help(drv);
        ret = 0;
        goto out;
    }
    if (nargs < 1 || nargs > 2) {
        ret = tool_usage_error("create", nargs < 1 ? "Expecting image file name"
                                                   : "Unexpected argument '%s'",
                               nargs > 2 ? a->words[2] : "");
        goto out;
    }
    const char *filename = a->words[0];

    const struct strata_driver *drv = img_find_format(fmt, &err);
    if (!drv) {
        ret = tool_fail(err, -ENOENT, NULL);
        goto out;
    }
    if (co->want_help) {
        img_opts_print_create_help(drv);
        ret = 0;
        goto out;
    }
    if (!tool_driver_has(drv, offsetof(struct strata_driver, create))) {
        tool_error("%s: image creation is not supported by format '%s'", filename, fmt);
        goto out;
    }

    /* In qemu-img's order and words: the SIZE argument, then -o size=,
     * which may not give it a second time. */
    uint64_t size = 0, osize = 0;
    bool have_size = false, have_osize = false;
    if (nargs == 2) {
        if (tool_parse_size(a->words[1], "SIZE", &size, &err) < 0 || size > INT64_MAX) {
            strata_error_free(err);
            img_report_bad_size();
            goto out;
        }
        have_size = true;
    }
    if (img_opts_take_size(co, "size", &osize, &have_osize, &err) < 0 || osize > INT64_MAX) {
        strata_error_free(err);
        tool_error("%s: Parameter 'size' expects a non-negative number below 2^64\n"
                   "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, "
                   "peta-\nand exabytes, respectively.", filename);
        goto out;
    }
    if (have_osize && have_size) {
        tool_error("%s: The image size must be specified only once", filename);
        goto out;
    }
    if (have_osize) {
        size = osize;
        have_size = true;
    }
    if (img_opts_add_backing(co, backing, backing_fmt) < 0)
        goto out;
    const char *b = co->opts ? strata_opts_get(co->opts, "backing_file") : NULL;
    if (b && !*b) {
        tool_error("%s: Expected backing file name, got empty string", filename);
        goto out;
    }
    if (b && !strata_opts_get(co->opts, "backing_fmt")) {
        refuse_unnamed_backing_format(filename, b, unsafe);
        goto out;
    }
    if (!have_size && b && !unsafe) {
        const char *bf = strata_opts_get(co->opts, "backing_fmt");
        if (backing_size(filename, b, bf, &size, &err) < 0) {
            ret = tool_fail(err, -EINVAL, NULL);
            goto out;
        }
        have_size = true;
    }
    if (!have_size) {
        tool_error("%s: Image creation needs a size parameter", filename);
        goto out;
    }
    if (!co->opts && !(co->opts = strata_opts_new())) {
        tool_error("out of memory");
        goto out;
    }
    if (img_crypt_create_key(fmt, co->opts, filename, &err) < 0) {
        ret = tool_fail(err, -EINVAL, filename);
        goto out;
    }
    /* As qemu-img: an unknown option or a value of the wrong type prints
     * only its error; a value the format refuses comes after the
     * 'Formatting' line, which comes before the image is made. */
    const char *refused_value = NULL;
    const struct strata_opt_desc *refused = refused_choice(drv, co->opts, &refused_value);
    int r = refused ? 0 : strata_image_create_check(fmt, co->opts, &err);
    if (refused) {
        if (!a->quiet)
            img_print_formatting(filename, fmt, size, co->opts);
        report_refused_choice(filename, fmt, refused, refused_value);
        goto out;
    }
    if (r < 0) {
        ret = tool_fail(err, r, filename);
        goto out;
    }
    if (!a->quiet)
        img_print_formatting(filename, fmt, size, co->opts);
    /* qemu-img makes whole 512-byte sectors and names the size asked for. */
    uint64_t made = size > UINT64_MAX - 511 ? size : (size + 511) / 512 * 512;
    r = strata_image_create(fmt, filename, made, co->opts, &err);
    if (r == -EFBIG) {
        /* qemu-img's words for any size the format cannot hold. */
        strata_error_free(err);
        err = NULL;
        bool clusters = false;
        for (const struct strata_opt_desc *d = drv->create_options; d && d->name; d++)
            clusters |= !strcmp(d->name, "cluster_size");
        strata_error_set(&err, EFBIG, "%s: The image size is too large for file format "
                         "'%s'%s", filename, fmt, clusters ? " (try using a larger cluster size)" : "");
    }
    if (r < 0) {
        ret = tool_fail(err, r, filename);
        goto out;
    }
    ret = 0;
out:
    return ret;
}

const struct img_command img_cmd_create = {
    .name = "create",
    .synopsis = "create [-q] [--object OBJ] [-f FMT] [-b BACKING [-F BACKING_FMT]] [-u]\n"
                "                  [-o OPTIONS] FILENAME [SIZE]",
    .summary = "Create a new disk image FILENAME of SIZE bytes in format FMT.",
    .flags = IMG_TAKES_O | IMG_TAKES_Q | IMG_WRITES | IMG_FILE_NAMES,
    .options = (const struct img_option[]){
        { 'b', NULL, "BACKING", .value = &backing,
          .help = "backing file (stored in the image; relative names\n"
                  "are relative to FILENAME's directory)" },
        { 'F', NULL, "BACKING_FMT", .value = &backing_fmt,
          .help = "format of the backing file" },
        { 'u', NULL, NULL, .flag = &unsafe,
          .help = "do not open the backing file (SIZE is then required)" },
        { 0 },
    },
    .notes = "FMT defaults to raw; -q leaves out the 'Formatting' line; --object defines\n"
             "the secrets of encryption options (key-secret=ID).\n"
             "SIZE is in bytes, or with a suffix K, M, G, T, P, E (binary); it is taken\n"
             "from the backing file when omitted.\n",
    .run = run,
};
