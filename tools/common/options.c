/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* options.c - the options every command takes for its image arguments:
 * -f, -U, --object, --image-opts and --config. */
#include "tool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* True for an option that holds a secret's value: data=, as --object
 * secret takes it, at any depth of a dotted name. */
static bool is_secret_key(const char *key, size_t len)
{
    return (len == 4 && !memcmp(key, "data", 4)) ||
           (len > 4 && !memcmp(key + len - 5, ".data", 5));
}

char *tool_hide_secrets(const char *text)
{
    size_t len = strlen(text);
    /* "<hidden>" may be longer than the value it replaces. */
    char *out = malloc(len * 2 + 16), *w = out;
    if (!out)
        return NULL;
    const char *p = text;
    while (*p) {
        /* One option: up to a comma that is not doubled (",," is a comma
         * inside a value). */
        const char *end = p;
        while (*end && !(end[0] == ',' && end[1] != ',')) {
            if (end[0] == ',' && end[1] == ',')
                end++;
            end++;
        }
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq && is_secret_key(p, (size_t)(eq - p))) {
            memcpy(w, p, (size_t)(eq - p) + 1);
            w += eq - p + 1;
            w = stpcpy(w, "<hidden>");
        } else {
            memcpy(w, p, (size_t)(end - p));
            w += end - p;
        }
        if (*end == ',')
            *w++ = *end++;
        p = end;
    }
    *w = '\0';
    return out;
}

static int tool_add_object_shown(const char *arg, const char *shown,
                                 struct strata_error **errp);

int tool_add_object(const char *arg, struct strata_error **errp)
{
    char *shown = tool_hide_secrets(arg);
    int ret = tool_add_object_shown(arg, shown ? shown : "...", errp);
    free(shown);
    return ret;
}

static int tool_add_object_shown(const char *arg, const char *shown,
                                 struct strata_error **errp)
{
    struct strata_opts *o = strata_opts_new();
    if (!o)
        return strata_error_set(errp, ENOMEM, "--object: out of memory");
    int ret = strata_opts_parse(o, arg, "qom-type", errp);
    if (ret < 0) {
        strata_error_prefix(errp, "--object '%s'", shown);
        goto out;
    }
    const char *type = strata_opts_get(o, "qom-type");
    if (!type) {
        ret = strata_error_set(errp, EINVAL,
                               "--object '%s': the object type must come first "
                               "(e.g. 'secret,id=sec0,file=key.txt')", shown);
        goto out;
    }
    if (strcmp(type, "secret") != 0) {
        ret = strata_error_set(errp, EINVAL,
                               "--object: unknown object type '%s' "
                               "(only 'secret' is supported)", type);
        goto out;
    }
    strata_opts_del(o, "qom-type");
    ret = strata_secret_add_opts(o, errp);
    if (ret < 0)
        strata_error_prefix(errp, "--object secret");
out:
    strata_opts_free(o);
    return ret;
}

int tool_common_option(struct tool_common *tc, int c, const char *arg)
{
    struct strata_error *err = NULL;

    switch (c) {
    case 'f':
        tc->format = arg;
        return 1;
    case 'U':
        tc->force_share = true;
        return 1;
    case TOOL_OPT_IMAGE_OPTS:
        tc->image_opts = true;
        return 1;
    case TOOL_OPT_KEY_FILE:
        tool_set_key_file(arg);
        return 1;
    case TOOL_OPT_CONFIG:
        if (tc->nconfigs == TOOL_MAX_CONFIGS) {
            tool_error("--config: at most %d config files", TOOL_MAX_CONFIGS);
            return -1;
        }
        tc->configs[tc->nconfigs++] = arg;
        return 1;
    case TOOL_OPT_OBJECT: {
        int ret = tool_add_object(arg, &err);
        if (ret < 0) {
            tool_fail(err, ret, "--object");
            return -1;
        }
        return 1;
    }
    default:
        return 0;
    }
}

int tool_common_finish(const struct tool_common *tc)
{
    if (tc->format && tc->image_opts) {
        tool_error("--image-opts and --format are mutually exclusive");
        return -1;
    }
    return 0;
}

int tool_refuse_force_share(const struct tool_common *tc, const char *cmd)
{
    if (!tc->force_share)
        return 0;
    return tool_usage_error(cmd, "-U (--force-share) cannot be used when writing to an "
                            "image");
}
