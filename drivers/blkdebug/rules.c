/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rules.c - reading blkdebug rules from a libconfig file, from QEMU's
 * INI-style rule file, or from options.
 *
 * Every source is first turned into flat key/value lists, so one parser
 * checks every rule the same way and names where it came from.
 */
#include "blkdebug-int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const blkdebug_inject_keys[] = {
    "event", "errno", "once", "offset", "sector", "iotype", "state",
    "immediately", "skip", "count", NULL,
};
static const char *const blkdebug_set_state_keys[] = {
    "event", "state", "new_state", NULL,
};

static const struct {
    const char *name;
    unsigned bit;
} blkdebug_iotype_names[] = {
    { "read", BLKDEBUG_IO_READ },
    { "write", BLKDEBUG_IO_WRITE },
    { "flush", BLKDEBUG_IO_FLUSH },
    { "discard", BLKDEBUG_IO_DISCARD },
    { "zero", BLKDEBUG_IO_ZERO },
    { "write-zeroes", BLKDEBUG_IO_ZERO },   /* QEMU's spelling */
    { "block-status", BLKDEBUG_IO_BLOCK_STATUS },
};

static bool blkdebug_key_known(const char *const *keys, const char *k)
{
    for (; *keys; keys++)
        if (strcmp(*keys, k) == 0)
            return true;
    return false;
}

/* "EIO", "eio" or "5". */
static int blkdebug_parse_errno(const char *text, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*text && *end == 0 && errno == 0) {
        if (v <= 0 || v > 4095)
            return -ERANGE;
        *out = (int)v;
        return 0;
    }
    for (int e = 1; e < 200; e++) {
        const char *name = strerrorname_np(e);
        if (name && strcasecmp(name, text) == 0) {
            *out = e;
            return 0;
        }
    }
    return -EINVAL;
}

/* "read,write" or "read|write". */
static int blkdebug_parse_iotypes(const char *text, unsigned *out)
{
    unsigned mask = 0;
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, ",| ");
        if (n > 0) {
            bool found = false;
            for (size_t i = 0; i < sizeof blkdebug_iotype_names /
                                   sizeof blkdebug_iotype_names[0]; i++) {
                if (strlen(blkdebug_iotype_names[i].name) == n &&
                    strncmp(blkdebug_iotype_names[i].name, p, n) == 0) {
                    mask |= blkdebug_iotype_names[i].bit;
                    found = true;
                }
            }
            if (!found)
                return -EINVAL;
        }
        p += n;
        if (*p)
            p++;
    }
    if (!mask)
        return -EINVAL;
    *out = mask;
    return 0;
}

static int blkdebug_add_rule(struct blkdebug_state *s, const struct blkdebug_rule *r)
{
    struct blkdebug_rule *nr = realloc(s->rules, (s->nrules + 1) * sizeof *nr);
    if (!nr)
        return -ENOMEM;
    s->rules = nr;
    s->rules[s->nrules++] = *r;
    return 0;
}

static int blkdebug_get_int(const struct strata_opts *kv, const char *key, int min,
                            int *out, const char *where, struct strata_error **errp)
{
    int64_t v;
    if (!strata_opts_get(kv, key))
        return 0;
    int r = strata_opts_get_i64(kv, key, &v, errp);
    if (r < 0) {
        strata_error_prefix(errp, "blkdebug: %s", where);
        return r;
    }
    if (v < min || v > INT32_MAX)
        return strata_error_set(errp, EINVAL, "blkdebug: %s: %s = %" PRId64 " is out of "
                                "range (at least %d)", where, key, v, min);
    *out = (int)v;
    return 0;
}

/* Builds one rule from its keys; `where` names the source for messages. */
static int blkdebug_parse_rule(struct blkdebug_state *s, enum blkdebug_action action,
                               const struct strata_opts *kv, const char *where,
                               struct strata_error **errp)
{
    const char *const *keys = action == BLKDEBUG_INJECT_ERROR ? blkdebug_inject_keys
                                                              : blkdebug_set_state_keys;
    const char *what = action == BLKDEBUG_INJECT_ERROR ? "inject-error" : "set-state";
    const char *k, *v;
    int r;

    for (size_t i = 0; strata_opts_entry(kv, i, &k, &v); i++)
        if (!blkdebug_key_known(keys, k))
            return strata_error_set(errp, EINVAL, "blkdebug: %s: unknown key '%s' in "
                                    "%s rule", where, k, what);

    struct blkdebug_rule rule = {
        .action = action,
        .error = EIO,
        .offset = -1,
        .iotypes = BLKDEBUG_IO_ALL,
    };
    snprintf(rule.where, sizeof rule.where, "%s", where);

    const char *event = strata_opts_get(kv, "event");
    if (!event || !*event)
        return strata_error_set(errp, EINVAL, "blkdebug: %s: %s rule without 'event'",
                                where, what);
    /* Event "none" (QEMU's): an error rule that no event has to arm. */
    if (strcmp(event, "none") == 0)
        rule.active = action == BLKDEBUG_INJECT_ERROR;
    else if (strata_event_lookup(event, &rule.event) < 0)
        return strata_error_set(errp, EINVAL, "blkdebug: %s: unknown event '%s' (event "
                                "names are case-sensitive; see docs/blkdebug.md)",
                                where, event);
    if ((r = blkdebug_get_int(kv, "state", 0, &rule.state, where, errp)) < 0)
        return r;

    if (action == BLKDEBUG_SET_STATE) {
        if (!strata_opts_get(kv, "new_state"))
            return strata_error_set(errp, EINVAL, "blkdebug: %s: set-state rule without "
                                    "'new_state'", where);
        if ((r = blkdebug_get_int(kv, "new_state", 1, &rule.new_state, where, errp)) < 0)
            return r;
    } else {
        const char *e = strata_opts_get(kv, "errno");
        if (e && blkdebug_parse_errno(e, &rule.error) < 0)
            return strata_error_set(errp, EINVAL, "blkdebug: %s: errno '%s' is neither a "
                                    "positive number nor an error name such as EIO",
                                    where, e);
        const char *io = strata_opts_get(kv, "iotype");
        if (io && blkdebug_parse_iotypes(io, &rule.iotypes) < 0)
            return strata_error_set(errp, EINVAL, "blkdebug: %s: iotype '%s': expected "
                                    "read, write, flush, discard, zero or block-status, "
                                    "separated by commas", where, io);
        bool has_off = strata_opts_get(kv, "offset") != NULL;
        bool has_sec = strata_opts_get(kv, "sector") != NULL;
        if (has_off && has_sec)
            return strata_error_set(errp, EINVAL, "blkdebug: %s: give 'offset' or "
                                    "'sector', not both", where);
        uint64_t u;
        if (has_off || has_sec) {
            r = has_off ? strata_opts_get_size(kv, "offset", &u, errp)
                        : strata_opts_get_u64(kv, "sector", &u, errp);
            if (r < 0) {
                strata_error_prefix(errp, "blkdebug: %s", where);
                return r;
            }
            if (has_sec && u > (uint64_t)INT64_MAX / 512)
                return strata_error_set(errp, ERANGE, "blkdebug: %s: sector %" PRIu64
                                        " is too large", where, u);
            if (has_sec)
                u *= 512;
            if (u > (uint64_t)INT64_MAX)
                return strata_error_set(errp, ERANGE, "blkdebug: %s: offset %" PRIu64
                                        " is too large", where, u);
            rule.offset = (int64_t)u;
        }
        bool once = false;
        if ((r = strata_opts_get_bool(kv, "once", &once, errp)) < 0 ||
            (r = strata_opts_get_bool(kv, "immediately", &rule.immediately, errp)) < 0 ||
            (r = strata_opts_get_u64(kv, "skip", &rule.skip, errp)) < 0 ||
            (r = strata_opts_get_u64(kv, "count", &rule.count, errp)) < 0) {
            strata_error_prefix(errp, "blkdebug: %s", where);
            return r;
        }
        if (once) {
            if (rule.count > 1)
                return strata_error_set(errp, EINVAL, "blkdebug: %s: once = on and "
                                        "count = %" PRIu64 " contradict each other",
                                        where, rule.count);
            rule.count = 1;
        }
    }

    if (blkdebug_add_rule(s, &rule) < 0)
        return strata_error_set(errp, ENOMEM, "blkdebug: out of memory");
    return 0;
}

/* Flattens one libconfig group into key/value text. */
static int blkdebug_flatten(const config_setting_t *g, struct strata_opts *kv,
                            const char *where, struct strata_error **errp)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(m);
        char buf[64];
        switch (config_setting_type(m)) {
        case CONFIG_TYPE_INT:
            snprintf(buf, sizeof buf, "%d", config_setting_get_int(m));
            strata_opts_set(kv, name, buf);
            break;
        case CONFIG_TYPE_INT64:
            snprintf(buf, sizeof buf, "%lld", config_setting_get_int64(m));
            strata_opts_set(kv, name, buf);
            break;
        case CONFIG_TYPE_BOOL:
            strata_opts_set(kv, name, config_setting_get_bool(m) ? "on" : "off");
            break;
        case CONFIG_TYPE_STRING:
            strata_opts_set(kv, name, config_setting_get_string(m));
            break;
        case CONFIG_TYPE_ARRAY:
        case CONFIG_TYPE_LIST: {
            /* iotype = [ "read", "write" ] */
            char joined[256] = "";
            int cnt = config_setting_length(m);
            for (int j = 0; j < cnt; j++) {
                const char *e = config_setting_get_string_elem(m, j);
                if (!e || strlen(joined) + strlen(e) + 2 > sizeof joined)
                    return strata_error_set(errp, EINVAL, "blkdebug: %s: '%s' must be "
                                            "a short list of strings", where, name);
                if (j)
                    strcat(joined, ",");
                strcat(joined, e);
            }
            strata_opts_set(kv, name, joined);
            break;
        }
        default:
            return strata_error_set(errp, EINVAL, "blkdebug: %s: '%s' has an unsupported "
                                    "type", where, name);
        }
    }
    return 0;
}

static int blkdebug_config_rules(struct blkdebug_state *s, const char *path,
                                 const config_setting_t *list, enum blkdebug_action action,
                                 struct strata_error **errp)
{
    /* A single group is a list of one. */
    bool single = config_setting_is_group(list);
    if (!single && !config_setting_is_list(list))
        return strata_error_set(errp, EINVAL, "blkdebug: %s:%d: '%s' must be a list of "
                                "groups: ( { ... }, { ... } )", path,
                                config_setting_source_line(list), config_setting_name(list));
    int n = single ? 1 : config_setting_length(list);
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = single ? list : config_setting_get_elem(list, (unsigned)i);
        char where[64];
        snprintf(where, sizeof where, "%s:%d", path, config_setting_source_line(g));
        if (!config_setting_is_group(g))
            return strata_error_set(errp, EINVAL, "blkdebug: %s: each rule must be a "
                                    "group { ... }", where);
        struct strata_opts *kv = strata_opts_new();
        if (!kv)
            return strata_error_set(errp, ENOMEM, "blkdebug: out of memory");
        int r = blkdebug_flatten(g, kv, where, errp);
        if (r == 0)
            r = blkdebug_parse_rule(s, action, kv, where, errp);
        strata_opts_free(kv);
        if (r < 0)
            return r;
    }
    return 0;
}

/* The text of line with the blanks at both ends cut off (in place). */
static char *blkdebug_trim(char *line)
{
    while (isspace((unsigned char)*line))
        line++;
    size_t n = strlen(line);
    while (n > 0 && isspace((unsigned char)line[n - 1]))
        line[--n] = 0;
    return line;
}

/* Ends the INI section in kv (if any) as a rule. */
static int blkdebug_ini_flush(struct blkdebug_state *s, struct strata_opts **kv,
                              enum blkdebug_action action, const char *where,
                              struct strata_error **errp)
{
    int r = *kv ? blkdebug_parse_rule(s, action, *kv, where, errp) : 0;
    strata_opts_free(*kv);
    *kv = NULL;
    return r;
}

/* QEMU's rule file: [inject-error] and [set-state] sections of
 * key = "value" lines (the quotes may be left out), '#' starting comments. */
static int blkdebug_read_ini(struct blkdebug_state *s, const char *path, FILE *f,
                             struct strata_error **errp)
{
    char buf[1024], where[PATH_MAX + 32];
    struct strata_opts *kv = NULL;
    enum blkdebug_action action = BLKDEBUG_INJECT_ERROR;
    int r = 0, lineno = 0;

    snprintf(where, sizeof where, "%s", path);
    while (r == 0 && fgets(buf, sizeof buf, f)) {
        char *line = blkdebug_trim(buf), *eq;
        lineno++;
        if (!*line || *line == '#')
            continue;
        if (*line == '[') {
            r = blkdebug_ini_flush(s, &kv, action, where, errp);
            snprintf(where, sizeof where, "%s:%d", path, lineno);
            if (r < 0)
                break;
            if (strcmp(line, "[inject-error]") == 0)
                action = BLKDEBUG_INJECT_ERROR;
            else if (strcmp(line, "[set-state]") == 0)
                action = BLKDEBUG_SET_STATE;
            else
                r = strata_error_set(errp, EINVAL, "blkdebug: %s: unknown section %s "
                                     "(expected [inject-error] or [set-state])", where,
                                     line);
            if (r == 0 && !(kv = strata_opts_new()))
                r = strata_error_set(errp, ENOMEM, "blkdebug: out of memory");
            continue;
        }
        if (!kv || !(eq = strchr(line, '='))) {
            r = strata_error_set(errp, EINVAL, "blkdebug: %s:%d: expected a [section] "
                                 "or key = \"value\"", path, lineno);
            break;
        }
        *eq = 0;
        char *key = blkdebug_trim(line), *value = blkdebug_trim(eq + 1);
        size_t n = strlen(value);
        if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
            value[n - 1] = 0;
            value++;
        }
        if (strata_opts_set(kv, key, value) < 0)
            r = strata_error_set(errp, ENOMEM, "blkdebug: out of memory");
    }
    if (r == 0 && ferror(f))
        r = strata_error_set(errp, EIO, "blkdebug: cannot read rule file '%s'", path);
    if (r == 0)
        return blkdebug_ini_flush(s, &kv, action, where, errp);
    strata_opts_free(kv);
    return r;
}

/* True when the file's first significant character opens an INI section. */
static bool blkdebug_is_ini(FILE *f)
{
    int c;
    bool comment = false;
    while ((c = getc(f)) != EOF) {
        if (comment) {
            comment = c != '\n';
        } else if (c == '#') {
            comment = true;
        } else if (!isspace(c)) {
            break;
        }
    }
    rewind(f);
    return c == '[';
}

int blkdebug_read_config(struct blkdebug_state *s, const char *path,
                         struct strata_error **errp)
{
    config_t cfg;
    int r = 0;

    FILE *f = fopen(path, "r");
    if (f && blkdebug_is_ini(f)) {
        r = blkdebug_read_ini(s, path, f, errp);
        fclose(f);
        return r;
    }
    if (f)
        fclose(f);
    config_init(&cfg);
    if (config_read_file(&cfg, path) != CONFIG_TRUE) {
        if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
            r = strata_error_set(errp, ENOENT, "blkdebug: cannot read rule file '%s'",
                                 path);
        else
            r = strata_error_set(errp, EINVAL, "blkdebug: %s:%d: %s", path,
                                 config_error_line(&cfg), config_error_text(&cfg));
        config_destroy(&cfg);
        return r;
    }
    const config_setting_t *root = config_root_setting(&cfg);
    int n = config_setting_length(root);
    for (int i = 0; i < n && r == 0; i++) {
        const config_setting_t *m = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(m);
        if (strcmp(name, "inject-error") == 0)
            r = blkdebug_config_rules(s, path, m, BLKDEBUG_INJECT_ERROR, errp);
        else if (strcmp(name, "set-state") == 0)
            r = blkdebug_config_rules(s, path, m, BLKDEBUG_SET_STATE, errp);
        else
            r = strata_error_set(errp, EINVAL, "blkdebug: %s:%d: unknown setting '%s' "
                                 "(expected inject-error or set-state)", path,
                                 config_setting_source_line(m), name);
    }
    config_destroy(&cfg);
    return r;
}

/* The list indices N that keys "prefix.N.KEY" use, ascending, in idx. */
static size_t list_indices(const struct strata_opts *opts, const char *prefix, long *idx,
                           size_t max)
{
    size_t n = 0, plen = strlen(prefix);
    const char *k, *v;
    for (size_t i = 0; strata_opts_entry(opts, i, &k, &v); i++) {
        if (strncmp(k, prefix, plen) != 0 || k[plen] != '.' || !isdigit((unsigned char)k[plen + 1]))
            continue;
        char *end;
        long x = strtol(k + plen + 1, &end, 10);
        if (*end != '.')
            continue;
        size_t j = 0;
        while (j < n && idx[j] < x)
            j++;
        if ((j < n && idx[j] == x) || n == max)
            continue;
        memmove(idx + j + 1, idx + j, (n - j) * sizeof *idx);
        idx[j] = x;
        n++;
    }
    return n;
}

static int inline_rule(struct blkdebug_state *s, const struct strata_opts *opts,
                       const char *prefix, enum blkdebug_action action,
                       struct strata_error **errp)
{
    struct strata_opts *kv = strata_opts_subset(opts, prefix);
    if (!kv)
        return strata_error_set(errp, ENOMEM, "blkdebug: out of memory");
    /* The list entries ("0.event") are rules of their own. */
    const char *k, *v;
    for (size_t i = 0; strata_opts_entry(kv, i, &k, &v);)
        if (isdigit((unsigned char)k[0]))
            strata_opts_del(kv, k);
        else
            i++;
    int r = 0;
    if (strata_opts_count(kv) > 0) {
        char where[64];
        snprintf(where, sizeof where, "%s options", prefix);
        r = blkdebug_parse_rule(s, action, kv, where, errp);
    }
    strata_opts_free(kv);
    return r;
}

int blkdebug_inline_rules(struct blkdebug_state *s, const struct strata_opts *opts,
                          struct strata_error **errp)
{
    static const struct {
        const char *prefix;
        enum blkdebug_action action;
    } kinds[] = {
        { "inject-error", BLKDEBUG_INJECT_ERROR },
        { "set-state", BLKDEBUG_SET_STATE },
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        int r = inline_rule(s, opts, kinds[i].prefix, kinds[i].action, errp);
        long idx[64];
        size_t n = list_indices(opts, kinds[i].prefix, idx, 64);
        for (size_t j = 0; j < n && r == 0; j++) {
            char p[64];
            snprintf(p, sizeof p, "%s.%ld", kinds[i].prefix, idx[j]);
            r = inline_rule(s, opts, p, kinds[i].action, errp);
        }
        if (r < 0)
            return r;
    }
    return 0;
}

void blkdebug_free_rules(struct blkdebug_state *s)
{
    free(s->rules);
    s->rules = NULL;
    s->nrules = 0;
}
