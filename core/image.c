/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image.c - whole-image operations: create, info, check, amend, measure.
 *
 * Creation mirrors qemu: the format driver lays out its metadata on a
 * protocol node it asks the core to create; -o options the format does not
 * know but its protocol does (preallocation for raw) go to the protocol.
 */
#include "node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Files a failed create made and so removes again: the image file and a
 * detached header at most. */
#define CREATED_MAX 4

struct strata_create {
    const struct strata_driver *drv;
    struct strata_opts *opts;
    uint64_t size;
    const char *filename;
    char *created[CREATED_MAX];
    int ncreated;
};

static bool desc_has(const struct strata_opt_desc *d, const char *key)
{
    for (; d && d->name; d++)
        if (strcmp(d->name, key) == 0)
            return true;
    return false;
}

/* The keys of o that `protocol` declares for creation and `format` does not. */
static void protocol_create_keys(const struct strata_driver *format,
                                 const struct strata_driver *protocol,
                                 const struct strata_opts *o, struct strata_opts *out)
{
    const char *k, *v;
    for (size_t i = 0; strata_opts_entry(o, i, &k, &v); i++)
        if (!strchr(k, '.') && desc_has(protocol->create_options, k) &&
            !desc_has(format->create_options, k))
            strata_opts_set(out, k, v);
}

/* Create options valid for a format: its own, its file protocol's, and
 * anything under a child role. */
static int validate_create_opts(const struct strata_driver *d, const struct strata_opts *o,
                                struct strata_error **errp)
{
    const struct strata_driver *file = NULL;
    if (d->kind == STRATA_DRIVER_FORMAT)
        file = strata_driver_find("file", NULL);
    const char *k, *v;
    for (size_t i = 0; strata_opts_entry(o, i, &k, &v); i++) {
        if (desc_has(d->create_options, k) || (file && desc_has(file->create_options, k)))
            continue;
        bool child = false;
        for (const char *const *c = d->children; c && *c; c++) {
            size_t n = strlen(*c);
            if (strncmp(k, *c, n) == 0 && k[n] == '.')
                child = true;
        }
        if (!child)
            return strata_error_set(errp, EINVAL,
                                    "Invalid option '%s' for format '%s' (see '-o help')",
                                    k, d->name);
    }
    /* Types and enum values of the format's own options. */
    struct strata_opts *own = strata_opts_new();
    for (size_t i = 0; strata_opts_entry(o, i, &k, &v); i++)
        if (desc_has(d->create_options, k))
            strata_opts_set(own, k, v);
    int r = strata_opts_validate(own, d->create_options, NULL, d->name, errp);
    strata_opts_free(own);
    return r;
}

/* The driver that creates `format` images in *dp, and a copy of opts in
 * *op (the caller frees it, also on failure) once they passed its checks. */
static int checked_create_opts(const char *format, const struct strata_opts *opts,
                               const struct strata_driver **dp, struct strata_opts **op,
                               struct strata_error **errp)
{
    *op = NULL;
    int r = strata_core_init(errp);
    if (r < 0)
        return r;
    const struct strata_driver *d = *dp = strata_driver_find(format, errp);
    if (!d)
        return -ENOENT;
    if (!d->create)
        return strata_error_set(errp, ENOTSUP, "Format '%s' does not support image creation",
                                format);
    *op = opts ? strata_opts_dup(opts) : strata_opts_new();
    return validate_create_opts(d, *op, errp);
}

int strata_image_create_check(const char *format, const struct strata_opts *opts,
                              struct strata_error **errp)
{
    const struct strata_driver *d;
    struct strata_opts *o;
    int r = checked_create_opts(format, opts, &d, &o, errp);
    strata_opts_free(o);
    return r;
}

int strata_image_create(const char *format, const char *filename, uint64_t size,
                        const struct strata_opts *opts, struct strata_error **errp)
{
    const struct strata_driver *d;
    struct strata_opts *o;
    int r = checked_create_opts(format, opts, &d, &o, errp);
    if (r == 0) {
        /* A format's image file is its primary role's node. */
        const char *primary = strata_role_with(d, STRATA_CHILD_PRIMARY);
        char key[256] = "filename";
        if (d->kind != STRATA_DRIVER_PROTOCOL && primary)
            snprintf(key, sizeof key, "%s.filename", primary);
        if (!filename)
            filename = strata_opts_get(o, key);
        if (!filename)
            r = strata_error_set(errp, EINVAL, "no file name given for the new image");
    }
    /* The path "file:NAME" stands for, for every driver below. */
    char *path = r == 0 && !strata_opts_get(o, "driver") &&
                 strcmp(strata_protocol_for(filename), "file") == 0
                     ? strata_file_name(filename) : NULL;
    if (r == 0) {
        struct strata_create c = { d, o, size, path ? path : filename, { NULL }, 0 };
        r = d->create(&c, errp);
        /* A refused create (bad cipher, missing key, no space) leaves no
         * half-made image behind; files that were there before stay. */
        for (int i = 0; i < c.ncreated; i++) {
            if (r < 0)
                unlink(c.created[i]);
            free(c.created[i]);
        }
        if (r < 0 && errp && *errp && (*errp)->msg && !strstr((*errp)->msg, filename))
            strata_error_prefix(errp, "%s", filename);
    }
    free(path);
    strata_opts_free(o);
    return r;
}

const struct strata_opts *strata_create_opts(struct strata_create *c)
{
    return c->opts;
}

uint64_t strata_create_size(struct strata_create *c)
{
    return c->size;
}

const char *strata_create_filename(struct strata_create *c)
{
    return c->filename;
}

int strata_create_child(struct strata_create *c, const char *role, uint64_t size,
                        bool optional, struct strata_node **childp,
                        struct strata_error **errp)
{
    *childp = NULL;
    struct strata_opts *sub = strata_opts_subset(c->opts, role);
    /* The primary role's node is the image file the create call names. */
    bool primary = strata_role_flags(c->drv, role) & STRATA_CHILD_PRIMARY;
    const char *fn = strata_opts_get(sub, "filename");
    if (!fn && primary)
        fn = c->filename;
    if (!fn) {
        strata_opts_free(sub);
        if (optional)
            return 0;
        return strata_error_set(errp, EINVAL, "format '%s' needs %s.filename to create",
                                c->drv->name, role);
    }
    const char *pname = strata_opts_get(sub, "driver");
    if (!pname)
        pname = strata_protocol_for(fn);
    char *filename = strcmp(pname, "file") == 0 ? strata_file_name(fn) : strdup(fn);
    const struct strata_driver *p = strata_driver_find(pname, errp);
    int r = -ENOENT;
    if (!p)
        goto out;
    if (!p->create) {
        r = strata_error_set(errp, ENOTSUP, "protocol '%s' does not support creating '%s'",
                             p->name, filename);
        goto out;
    }

    /* Creation options for the protocol; then open options to open it. */
    struct strata_opts *copts = strata_opts_new();
    struct strata_opts *oopts = strata_opts_new();
    const char *k, *v;
    if (primary)
        protocol_create_keys(c->drv, p, c->opts, copts);
    for (size_t i = 0; strata_opts_entry(sub, i, &k, &v); i++) {
        if (strcmp(k, "driver") == 0 || strcmp(k, "filename") == 0)
            continue;
        if (desc_has(p->create_options, k))
            strata_opts_set(copts, k, v);
        if (desc_has(p->open_options, k))
            strata_opts_set(oopts, k, v);
    }
    strata_opts_set(oopts, "driver", p->name);
    strata_opts_set(oopts, "filename", filename);
    r = strata_opts_validate(copts, p->create_options, NULL, p->name, errp);
    bool is_new = strcmp(p->name, "file") == 0 && access(filename, F_OK) < 0 &&
                  errno == ENOENT;
    if (r == 0) {
        struct strata_create pc = { p, copts, size, filename, { NULL }, 0 };
        r = p->create(&pc, errp);
    }
    if (is_new && c->ncreated < CREATED_MAX && access(filename, F_OK) == 0)
        c->created[c->ncreated++] = strdup(filename);
    if (r == 0)
        r = strata_open_opts(oopts, STRATA_O_RDWR | STRATA_O_CREATE_CHILD, childp, errp);
    strata_opts_free(copts);
    strata_opts_free(oopts);
out:
    free(filename);
    strata_opts_free(sub);
    return r;
}

int strata_image_info(struct strata_node *node, struct strata_info *obj,
                      struct strata_error **errp)
{
    if (!node->drv->get_info)
        return 0;
    return node->drv->get_info(node, obj, errp);
}

int strata_image_check(struct strata_node *node, struct strata_check_result *res,
                       unsigned fix, struct strata_error **errp)
{
    if (!node->drv->check)
        return strata_error_set(errp, ENOTSUP, "%s: checks are not supported by format '%s'",
                                strata_node_filename(node), node->drv->name);
    if (fix && !(node->flags & STRATA_O_RDWR))
        return strata_error_set(errp, EROFS, "%s: repairing needs the image opened read-write",
                                strata_node_filename(node));
    pthread_rwlock_wrlock(&node->rmw_lock);
    pthread_mutex_lock(&node->drv_lock);
    int r = node->drv->check(node, res, fix, errp);
    pthread_mutex_unlock(&node->drv_lock);
    pthread_rwlock_unlock(&node->rmw_lock);
    return r;
}

int strata_image_amend(struct strata_node *node, const struct strata_opts *opts, bool force,
                       struct strata_error **errp)
{
    if (!node->drv->amend)
        return strata_error_set(errp, ENOTSUP, "%s: amend is not supported by format '%s'",
                                strata_node_filename(node), node->drv->name);
    if (!(node->flags & STRATA_O_RDWR))
        return strata_error_set(errp, EROFS, "%s: amend needs the image opened read-write",
                                strata_node_filename(node));
    int r = strata_opts_validate(opts, node->drv->amend_options, NULL, node->drv->name, errp);
    if (r < 0)
        return r;
    pthread_rwlock_wrlock(&node->rmw_lock);
    pthread_mutex_lock(&node->drv_lock);
    r = node->drv->amend(node, opts, force, errp);
    pthread_mutex_unlock(&node->drv_lock);
    pthread_rwlock_unlock(&node->rmw_lock);
    return r;
}

int strata_image_measure(const char *format, const struct strata_opts *create_opts,
                         uint64_t size, struct strata_node *src,
                         struct strata_measure *out, struct strata_error **errp)
{
    const struct strata_driver *d = strata_driver_find(format, errp);
    if (!d)
        return -ENOENT;
    if (!d->measure)
        return strata_error_set(errp, ENOTSUP, "Format driver '%s' does not support measure",
                                format);
    struct strata_opts *empty = create_opts ? NULL : strata_opts_new();
    const struct strata_opts *o = create_opts ? create_opts : empty;
    int r = validate_create_opts(d, o, errp);
    if (r == 0)
        r = d->measure(o, size, src, out, errp);
    strata_opts_free(empty);
    return r;
}

/* A damaged image can hold millions of bad entries, each a finding: the
 * drivers' counts go on counting, but only this many findings are kept as
 * text, and one more line says that the rest were left out. */
#define CHECK_MAX_MESSAGES 100000u

void strata_check_report(struct strata_check_result *r, const char *fmt, ...)
{
    if (r->nmessages > CHECK_MAX_MESSAGES)
        return;
    va_list ap;
    char *msg = NULL;
    int n;
    if (r->nmessages == CHECK_MAX_MESSAGES) {
        n = asprintf(&msg, "more than %u findings: the rest are not listed",
                     CHECK_MAX_MESSAGES);
    } else {
        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
    }
    if (n < 0)
        return;
    /* The array holds the next power of two of nmessages entries (the
     * struct has no room for a capacity): it is full, and doubles, when
     * nmessages is 0 or a power of two, so that many findings cost linear
     * time, not a copy of the array for each. */
    size_t have = r->nmessages;
    if ((have & (have - 1)) == 0) {
        char **m = realloc(r->messages, (have ? 2 * have : 1) * sizeof *m);
        if (!m) {
            free(msg);
            return;
        }
        r->messages = m;
    }
    r->messages[r->nmessages++] = msg;
}

void strata_check_result_clear(struct strata_check_result *r)
{
    for (size_t i = 0; i < r->nmessages; i++)
        free(r->messages[i]);
    free(r->messages);
    memset(r, 0, sizeof *r);
}

int strata_image_snapshot(struct strata_node *node, enum strata_snapshot_op op,
                          const char *name, struct strata_info *list,
                          struct strata_error **errp)
{
    while (node->drv->kind == STRATA_DRIVER_FILTER && !node->drv->snapshot &&
           strata_node_primary_child(node))
        node = strata_node_primary_child(node);
    if (!node->drv->snapshot)
        return strata_error_set(errp, ENOTSUP, "%s: format '%s' does not support internal "
                                "snapshots", strata_node_filename(node), node->drv->name);
    if (op == STRATA_SNAPSHOT_LOAD_TMP && (node->flags & STRATA_O_RDWR))
        return strata_error_set(errp, EINVAL, "%s: a snapshot is loaded for reading only "
                                "on an image opened read-only", strata_node_filename(node));
    if (op != STRATA_SNAPSHOT_LIST && op != STRATA_SNAPSHOT_LOAD_TMP &&
        !(node->flags & STRATA_O_RDWR))
        return strata_error_set(errp, EROFS, "%s: snapshot changes need the image opened "
                                "read-write", strata_node_filename(node));
    pthread_rwlock_wrlock(&node->rmw_lock);
    pthread_mutex_lock(&node->drv_lock);
    int r = node->drv->snapshot(node, op, name, list, errp);
    pthread_mutex_unlock(&node->drv_lock);
    pthread_rwlock_unlock(&node->rmw_lock);
    return r;
}
