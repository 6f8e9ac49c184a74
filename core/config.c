/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.c - stack config files (strata.conf(5)): a libconfig file whose
 * `stack` group becomes flat dotted options and whose `secrets` list fills
 * the secret store. */
#include "internal.h"

#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cfg_ctx {
    const char *path;     /* the config file as the caller named it */
    char *dir;            /* its directory, "" when it has none */
};

static char *resolve_path(const struct cfg_ctx *c, const char *value);
static int setting_error(const struct cfg_ctx *c, const config_setting_t *s,
                         struct strata_error **errp, const char *fmt, ...)
    STRATA_PRINTF(4, 5);

static int setting_error(const struct cfg_ctx *c, const config_setting_t *s,
                         struct strata_error **errp, const char *fmt, ...)
{
    struct strata_error *err = NULL;
    va_list ap;
    va_start(ap, fmt);
    int ret = strata_error_setv(&err, EINVAL, fmt, ap);
    va_end(ap);
    /* libconfig names an included file as the @include line wrote it. */
    const char *f = config_setting_source_file(s);
    char *file = f && strcmp(f, c->path) ? resolve_path(c, f) : NULL;
    strata_error_prefix(&err, "%s:%u", file ? file : c->path,
                        config_setting_source_line(s));
    free(file);
    strata_error_propagate(errp, &err);
    return ret;
}

/* Paths in a config are relative to the config file, not to whatever
 * directory the program happens to run in.  URLs are left alone. */
static char *resolve_path(const struct cfg_ctx *c, const char *value)
{
    if (!*c->dir || !*value || value[0] == '/' || strstr(value, "://"))
        return strdup(value);
    size_t dl = strlen(c->dir);
    char *r = NULL;
    if (asprintf(&r, "%s%s%s", c->dir, c->dir[dl - 1] == '/' ? "" : "/", value) < 0)
        return NULL;
    return r;
}

static bool is_path_key(const char *name)
{
    return !strcmp(name, "filename") || !strcmp(name, "config");
}

/* Renders a scalar setting as the option string it stands for. */
static char *scalar_string(const config_setting_t *s)
{
    char *r = NULL;
    int n = 0;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
        n = asprintf(&r, "%d", config_setting_get_int(s));
        break;
    case CONFIG_TYPE_INT64:
        n = asprintf(&r, "%lld", config_setting_get_int64(s));
        break;
    case CONFIG_TYPE_FLOAT: {
        double d = config_setting_get_float(s);
        /* The shortest form that reads back as the same number. */
        for (int prec = 1; prec <= 17; prec++) {
            free(r);
            n = asprintf(&r, "%.*g", prec, d);
            if (n < 0 || strtod(r, NULL) == d)
                break;
        }
        break;
    }
    case CONFIG_TYPE_BOOL:
        r = strdup(config_setting_get_bool(s) ? "on" : "off");
        break;
    case CONFIG_TYPE_STRING:
        r = strdup(config_setting_get_string(s));
        break;
    default:
        return NULL;
    }
    return n < 0 ? NULL : r;
}

static int flatten_group(const struct cfg_ctx *c, const config_setting_t *g,
                         const char *prefix, struct strata_opts *o,
                         struct strata_error **errp)
{
    int count = config_setting_length(g);
    for (int i = 0; i < count; i++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        char *key = NULL;
        if (asprintf(&key, "%s%s%s", prefix, *prefix ? "." : "", name) < 0)
            return strata_error_set(errp, ENOMEM, "%s: out of memory", c->path);
        int ret = 0;
        int type = config_setting_type(s);
        if (type == CONFIG_TYPE_GROUP) {
            ret = flatten_group(c, s, key, o, errp);
        } else if (type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST) {
            ret = setting_error(c, s, errp,
                                "'stack.%s' is a list; stack settings must be "
                                "single values or groups", key);
        } else {
            char *v = scalar_string(s);
            if (v && type == CONFIG_TYPE_STRING && is_path_key(name)) {
                char *p = resolve_path(c, v);
                free(v);
                v = p;
            }
            if (!v)
                ret = strata_error_set(errp, ENOMEM, "%s: out of memory", c->path);
            else if (strata_opts_set(o, key, v) < 0)
                ret = strata_error_set(errp, ENOMEM, "%s: out of memory", c->path);
            free(v);
        }
        free(key);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* Checks one element of `secrets` and turns it into secret object options. */
static int secret_opts(const struct cfg_ctx *c, const config_setting_t *s,
                       unsigned idx, struct strata_opts *o,
                       struct strata_error **errp)
{
    if (config_setting_type(s) != CONFIG_TYPE_GROUP)
        return setting_error(c, s, errp, "secrets[%u] must be a group "
                             "{ id = \"...\"; file = \"...\"; }", idx);
    int count = config_setting_length(s);
    for (int i = 0; i < count; i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *name = config_setting_name(e);
        if (strcmp(name, "id") && strcmp(name, "file") && strcmp(name, "data") &&
            strcmp(name, "format"))
            return setting_error(c, e, errp,
                                 "secrets[%u]: unknown setting '%s' (expected id, "
                                 "file, data or format)", idx, name);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return setting_error(c, e, errp, "secrets[%u].%s must be a string",
                                 idx, name);
        const char *v = config_setting_get_string(e);
        char *val = !strcmp(name, "file") ? resolve_path(c, v) : strdup(v);
        if (!val || strata_opts_set(o, name, val) < 0) {
            free(val);
            return strata_error_set(errp, ENOMEM, "%s: out of memory", c->path);
        }
        free(val);
    }
    const char *id = strata_opts_get(o, "id");
    if (!id || !*id)
        return setting_error(c, s, errp, "secrets[%u] has no id", idx);
    if (!strata_opts_get(o, "file") == !strata_opts_get(o, "data"))
        return setting_error(c, s, errp,
                             "secret '%s' needs exactly one of 'file' and 'data'", id);
    return 0;
}

static int load(struct cfg_ctx *c, config_t *cfg, struct strata_opts **optsp,
                struct strata_error **errp)
{
    FILE *f = fopen(c->path, "r");
    if (!f)
        return strata_error_set(errp, errno, "%s: %s", c->path, strerror(errno));
    if (*c->dir)
        config_set_include_dir(cfg, c->dir);
    int ok = config_read(cfg, f);
    fclose(f);
    if (!ok) {
        /* libconfig names an included file as the @include line wrote it. */
        const char *efile = config_error_file(cfg);
        char *file = efile && strcmp(efile, c->path) ? resolve_path(c, efile) : NULL;
        int ret;
        if (config_error_type(cfg) == CONFIG_ERR_FILE_IO)
            ret = strata_error_set(errp, EIO, "%s: %s", file ? file : c->path,
                                   config_error_text(cfg));
        else
            ret = strata_error_set(errp, EINVAL, "%s:%d: %s", file ? file : c->path,
                                   config_error_line(cfg), config_error_text(cfg));
        free(file);
        return ret;
    }

    config_setting_t *root = config_root_setting(cfg);
    config_setting_t *stack = NULL, *secrets = NULL;
    int count = config_setting_length(root);
    for (int i = 0; i < count; i++) {
        config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s);
        if (!strcmp(name, "stack"))
            stack = s;
        else if (!strcmp(name, "secrets"))
            secrets = s;
        else
            return setting_error(c, s, errp, "unknown setting '%s' (only 'stack' "
                                 "and 'secrets' belong at the top level)", name);
    }
    if (!stack)
        return strata_error_set(errp, EINVAL, "%s: no 'stack' group", c->path);
    if (config_setting_type(stack) != CONFIG_TYPE_GROUP)
        return setting_error(c, stack, errp, "'stack' must be a group { ... }");

    size_t n_secrets = 0;
    struct strata_opts **sec = NULL;
    int ret = 0;
    if (secrets) {
        if (config_setting_type(secrets) != CONFIG_TYPE_LIST)
            return setting_error(c, secrets, errp, "'secrets' must be a list "
                                 "( { id = ...; file = ...; }, ... )");
        n_secrets = (size_t)config_setting_length(secrets);
        sec = calloc(n_secrets ? n_secrets : 1, sizeof *sec);
        if (!sec)
            return strata_error_set(errp, ENOMEM, "%s: out of memory", c->path);
        for (size_t i = 0; i < n_secrets && ret == 0; i++) {
            sec[i] = strata_opts_new();
            if (!sec[i])
                ret = strata_error_set(errp, ENOMEM, "%s: out of memory", c->path);
            else
                ret = secret_opts(c, config_setting_get_elem(secrets, (unsigned)i),
                                  (unsigned)i, sec[i], errp);
        }
    }

    struct strata_opts *o = NULL;
    if (ret == 0) {
        o = strata_opts_new();
        if (!o)
            ret = strata_error_set(errp, ENOMEM, "%s: out of memory", c->path);
        else
            ret = flatten_group(c, stack, "", o, errp);
    }
    /* Secrets go into the store only once the whole file is known good. */
    for (size_t i = 0; i < n_secrets && ret == 0; i++) {
        struct strata_error *err = NULL;
        ret = strata_secret_add_opts(sec[i], &err);
        if (ret < 0) {
            strata_error_prefix(&err, "%s", c->path);
            strata_error_propagate(errp, &err);
        }
    }
    for (size_t i = 0; i < n_secrets; i++)
        strata_opts_free(sec[i]);
    free(sec);
    if (ret < 0) {
        strata_opts_free(o);
        return ret;
    }
    *optsp = o;
    return 0;
}

int strata_config_load(const char *path, struct strata_opts **optsp,
                       struct strata_error **errp)
{
    if (!path || !optsp)
        return strata_error_set(errp, EINVAL, "no config file given");
    struct cfg_ctx c = { .path = path };
    const char *slash = strrchr(path, '/');
    c.dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path))
                  : strdup("");
    if (!c.dir)
        return strata_error_set(errp, ENOMEM, "%s: out of memory", path);
    config_t cfg;
    config_init(&cfg);
    int ret = load(&c, &cfg, optsp, errp);
    config_destroy(&cfg);
    free(c.dir);
    return ret;
}
