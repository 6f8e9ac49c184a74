/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image.c - turning an image argument (file name, dotted options or stack
 * config) into an open node, and finding the node that does the work for
 * image-level operations. */
#include "tool.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void tool_image_from_word(const struct tool_common *tc, const char *word,
                          struct tool_image *img)
{
    img->kind = tc->image_opts ? TOOL_IMAGE_OPTS : TOOL_IMAGE_FILE;
    img->spec = word;
    img->format = tc->image_opts ? NULL : tc->format;
}

int tool_images_collect(const struct tool_common *tc, const char *cmd,
                        char **words, int nwords, struct tool_image *imgs,
                        int max)
{
    int n = 0;
    if (tc->nconfigs + nwords > max) {
        tool_usage_error(cmd, "too many image arguments (%d; at most %d, "
                         "counting --config files)", tc->nconfigs + nwords, max);
        return -1;
    }
    for (int i = 0; i < tc->nconfigs; i++, n++) {
        imgs[n].kind = TOOL_IMAGE_CONFIG;
        imgs[n].spec = tc->configs[i];
        imgs[n].format = NULL;
    }
    for (int i = 0; i < nwords; i++, n++)
        tool_image_from_word(tc, words[i], &imgs[n]);
    return n;
}

int tool_image_collect_one(const struct tool_common *tc, const char *cmd, char **words,
                           int nwords, struct tool_image *img)
{
    int n = tool_images_collect(tc, cmd, words, nwords, img, 1);
    if (n < 0)
        return 1;
    if (n == 0)
        return tool_usage_error(cmd, "Expecting one image file name");
    return 0;
}

char *tool_path_beside(const char *image, const char *name)
{
    if (name[0] == '/' || !image || !strchr(image, '/'))
        return strdup(name);
    char *dup = strdup(image), *out = NULL;
    if (dup && asprintf(&out, "%s/%s", dirname(dup), name) < 0)
        out = NULL;
    free(dup);
    return out;
}

bool tool_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (!a || !b || stat(a, &sa) < 0 || stat(b, &sb) < 0)
        return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

const char *tool_image_label(const struct tool_image *img)
{
    return img->spec;
}

static int open_once(const struct tool_image *img, unsigned flags,
                     struct strata_node **nodep, struct strata_error **errp)
{
    switch (img->kind) {
    case TOOL_IMAGE_OPTS:
        return strata_open_string(img->spec, flags, nodep, errp);
    case TOOL_IMAGE_CONFIG:
        return strata_open_config(img->spec, flags, nodep, errp);
    default:
        if (img->format) {
            /* Name an unknown format before the file, as the more useful
             * of the two problems. */
            if (!strata_driver_find(img->format, errp))
                return -ENOENT;
        }
        struct strata_opts *o = NULL;
        int ret = tool_file_opts(img->spec, img->format, &o, errp);
        if (ret == 0)
            ret = strata_open_opts(o, flags, nodep, errp);
        strata_opts_free(o);
        return ret;
    }
}

int tool_image_opts(const struct tool_image *img, struct strata_opts **optsp,
                    struct strata_error **errp)
{
    struct strata_opts *o = NULL;
    int ret = 0;
    switch (img->kind) {
    case TOOL_IMAGE_OPTS:
        o = strata_opts_new();
        ret = o ? strata_opts_parse(o, img->spec, NULL, errp) : -ENOMEM;
        break;
    case TOOL_IMAGE_CONFIG:
        ret = strata_config_load(img->spec, &o, errp);
        break;
    default:
        return tool_file_opts(img->spec, img->format, optsp, errp);
    }
    if (ret < 0) {
        strata_opts_free(o);
        return ret == -ENOMEM ? strata_error_set(errp, ENOMEM, "out of memory") : ret;
    }
    *optsp = o;
    return 0;
}

/* Opens the image with the key option of the encrypted format at its top
 * (a luks volume, or qcow's and qcow2's encrypt.) set, when the image's own
 * options name no key, to the key from --key-file or typed at the terminal;
 * and, with a keyslot, that key slot option. */
int tool_image_open_keyed(const struct tool_image *img, unsigned flags, int keyslot,
                          struct strata_node **nodep, struct strata_error **errp)
{
    struct strata_opts *o = NULL;
    int ret = tool_image_opts(img, &o, errp);
    if (ret < 0)
        return ret;
    if (!strata_opts_get(o, "driver")) {
        struct strata_node *probe;
        ret = strata_open_opts(o, STRATA_O_NO_IO | STRATA_O_FORCE_SHARE |
                               STRATA_O_NO_PROBE_WARN, &probe, errp);
        if (ret < 0)
            goto out;
        strata_opts_set(o, "driver", strata_node_driver_name(probe));
        strata_close(probe);
    }
    const char *prefix = strcmp(strata_opts_get(o, "driver"), "luks") == 0 ? "" : "encrypt.";
    char key[64], id[32];
    snprintf(key, sizeof key, "%skey-secret", prefix);
    if (!strata_opts_get(o, key)) {
        ret = tool_supply_key(img->spec, false, id, sizeof id, errp);
        if (ret < 0) {
            strata_error_prefix(errp, "%s", img->spec);
            goto out;
        }
        strata_opts_set(o, key, id);
    }
    if (keyslot >= 0) {
        snprintf(key, sizeof key, "%skeyslot", prefix);
        strata_opts_setf(o, key, "%d", keyslot);
    }
    ret = strata_open_opts(o, flags, nodep, errp);
out:
    strata_opts_free(o);
    return ret;
}

int tool_image_open(const struct tool_image *img, unsigned flags,
                    struct strata_node **nodep, struct strata_error **errp)
{
    struct strata_error *err = NULL;
    int ret = open_once(img, flags, nodep, &err);
    if (ret == -ENOKEY && (tool_key_file_given() || tool_can_prompt())) {
        strata_error_free(err);
        err = NULL;
        ret = tool_image_open_keyed(img, flags, -1, nodep, &err);
    }
    if (ret == -ENOKEY && err && err->msg) {
        /* The library names its option; the tools have a shorter one. */
        struct strata_error *e2 = NULL;
        strata_error_set(&e2, ENOKEY, "%s (or give --key-file FILE)", err->msg);
        strata_error_free(err);
        err = e2;
    }
    char *shown = ret < 0 ? tool_hide_secrets(img->spec) : NULL;
    const char *label = shown ? shown : "the image";
    const char *rest = ret < 0 && err && err->msg ? tool_unprefixed(err->msg, img->spec) : NULL;
    if (rest && rest != err->msg) {
        /* A driver message led by the file name becomes qemu-img's
         * "Could not open 'FILE': MSG", naming the file once. */
        struct strata_error *e2 = NULL;
        strata_error_set(&e2, err->code, "Could not open '%s': %s", label,
                         rest);
        strata_error_free(err);
        err = e2;
    } else if (ret < 0 && err && err->msg && !strstr(err->msg, img->spec))
        strata_error_prefix(&err, "Could not open '%s'", label);
    else if (ret < 0 && !err)
        strata_error_set(&err, -ret, "Could not open '%s': %s", label, strerror(-ret));
    free(shown);
    if (errp)
        *errp = err;
    else
        strata_error_free(err);
    return ret;
}

bool tool_driver_has(const struct strata_driver *drv, size_t member)
{
    if (!drv || drv->struct_size < member + sizeof(void (*)(void)))
        return false;
    void (*fn)(void);
    memcpy(&fn, (const char *)drv + member, sizeof fn);
    return fn != NULL;
}

struct strata_node *tool_format_node(struct strata_node *top, size_t member)
{
    struct strata_node *n = top;
    for (int depth = 0; n && depth < 64; depth++) {
        const struct strata_driver *drv = strata_node_driver(n);
        if (tool_driver_has(drv, member) || !drv || drv->kind != STRATA_DRIVER_FILTER)
            return n;
        struct strata_node *below = strata_node_child(n, "image");
        if (!below)
            below = strata_node_child(n, "file");
        if (!below)
            return n;
        n = below;
    }
    return top;
}

int tool_not_supported(const char *what, struct strata_node *node,
                       struct strata_error **errp)
{
    return strata_error_set(errp, ENOTSUP, "%s: %s is not supported by format '%s'",
                            strata_node_filename(node), what,
                            strata_node_driver_name(node));
}
