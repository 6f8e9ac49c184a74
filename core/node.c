/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* node.c - resolving options into a graph of open nodes.
 *
 * All three ways of writing a stack arrive here as one flat option list.  A
 * node takes the keys that are not under one of its driver's child roles;
 * a child takes the keys under "role." when its parent's driver opens it.
 * A node without a driver but with a filename is either a protocol node
 * (when its parent declares its role STRATA_CHILD_PROTOCOL) or a probed
 * format over a file.
 */
#include "node.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A key belongs to a child when it is "role" or starts with "role.". */
static bool key_under_role(const char *key, const char *role)
{
    size_t n = strlen(role);
    return strncmp(key, role, n) == 0 && (key[n] == 0 || key[n] == '.');
}

static bool key_under_any_role(const struct strata_driver *d, const char *key)
{
    for (const char *const *c = d->children; c && *c; c++)
        if (key_under_role(key, *c))
            return true;
    return false;
}

static struct strata_opts *own_options(const struct strata_driver *d,
                                       const struct strata_opts *o)
{
    struct strata_opts *own = strata_opts_new();
    const char *k, *v;
    for (size_t i = 0; strata_opts_entry(o, i, &k, &v); i++)
        if (strcmp(k, "driver") != 0 && !key_under_any_role(d, k))
            strata_opts_set(own, k, v);
    return own;
}

static struct strata_node *node_alloc(const struct strata_opts *opts, unsigned flags,
                                      struct strata_node *parent, const char *role)
{
    struct strata_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->opts = strata_opts_dup(opts);
    n->flags = flags;
    n->parent = parent;
    n->role = role;
    n->limits.request_alignment = 1;
    pthread_mutex_init(&n->drv_lock, NULL);
    pthread_rwlock_init(&n->rmw_lock, NULL);
    pthread_mutex_init(&n->track_lock, NULL);
    pthread_cond_init(&n->track_done, NULL);
    return n;
}

static void node_free(struct strata_node *n, bool opened)
{
    if (opened && n->drv && n->drv->close)
        n->drv->close(n);
    while (n->nchildren > 0) {
        struct strata_child *c = &n->children[--n->nchildren];
        node_free(c->node, true);
        free(c->role);
    }
    free(n->state);
    strata_opts_free(n->opts);
    strata_opts_free(n->own);
    free(n->filename);
    free(n->node_name);
    pthread_mutex_destroy(&n->drv_lock);
    pthread_rwlock_destroy(&n->rmw_lock);
    pthread_mutex_destroy(&n->track_lock);
    pthread_cond_destroy(&n->track_done);
    free(n);
}

static int attach_child(struct strata_node *parent, const char *role,
                        struct strata_node *child, struct strata_error **errp)
{
    if (parent->nchildren == STRATA_MAX_CHILDREN)
        return strata_error_set(errp, EINVAL, "%s: too many children",
                                strata_node_filename(parent));
    parent->children[parent->nchildren].role = strdup(role);
    parent->children[parent->nchildren].flags = strata_role_flags(parent->drv, role);
    parent->children[parent->nchildren].node = child;
    parent->nchildren++;
    child->role = parent->children[parent->nchildren - 1].role;
    return 0;
}

/* Opens the STRATA_ROLE_FILE child of a node whose format is not known yet
 * and asks every format driver what it makes of the first bytes. */
static int probe_driver(struct strata_node *n, const char **drvname,
                        struct strata_error **errp)
{
    struct strata_node *file;
    struct strata_opts *fo = strata_opts_subset(n->opts, STRATA_ROLE_FILE);
    /* The format, and so the flags of this role, are what is being found
     * out: the probed file is opened through its protocol. */
    if (!strata_opts_get(fo, "driver"))
        strata_opts_set(fo, "driver", strata_protocol_for(strata_opts_get(fo, "filename")));
    int r = strata_node_open_opts(fo, n->flags, n, STRATA_ROLE_FILE, &file, errp);
    strata_opts_free(fo);
    if (r < 0)
        return r;
    r = attach_child(n, STRATA_ROLE_FILE, file, errp);
    if (r < 0) {
        node_free(file, true);
        return r;
    }
    r = strata_probe_format(file, drvname, errp);
    if (r < 0)
        return r;
    strata_opts_set(n->opts, "driver", *drvname);
    /* The child was attached before its parent's driver (and so its role's
     * flags) was known. */
    const struct strata_driver *d = strata_driver_find(*drvname, NULL);
    n->children[n->nchildren - 1].flags = strata_role_flags(d, STRATA_ROLE_FILE);
    /* As qemu: guessing raw only matters when the guest could write a
     * header into block 0 that changes what the next probe sees. */
    if (strcmp(*drvname, "raw") == 0 && (n->flags & STRATA_O_RDWR) &&
        !(n->flags & STRATA_O_NO_PROBE_WARN))
        strata_warn("Image format was not specified for '%s' and probing guessed raw.\n"
                    "         Automatically detecting the format is dangerous for raw "
                    "images.\n         Specify the 'raw' format explicitly "
                    "(-f raw or driver=raw) to remove this warning.",
                    strata_node_filename(file));
    return 0;
}

static char *relative_to_parent(const struct strata_node *parent, const char *fn);

/* filename=X on a format position means the file X under `role`. */
static void move_filename_to(struct strata_opts *o, const char *role)
{
    char key[256];
    snprintf(key, sizeof key, "%s.filename", role);
    char *f = strdup(strata_opts_get(o, "filename"));
    strata_opts_del(o, "filename");
    if (f)
        strata_opts_set(o, key, f);
    free(f);
}

/* Whether a child in `role` of `parent` stands where a protocol goes: a
 * protocol role, or the filtered child of a filter that itself stands
 * there (QEMU's blkdebug as a format's file: its image is the file). */
static bool protocol_position(const struct strata_node *parent, const char *role)
{
    if (!parent || !parent->drv || !role)
        return false;
    unsigned f = strata_role_flags(parent->drv, role);
    if (f & STRATA_CHILD_PROTOCOL)
        return true;
    return parent->drv->kind == STRATA_DRIVER_FILTER && (f & STRATA_CHILD_PRIMARY) &&
           protocol_position(parent->parent, parent->role);
}

static bool driver_takes_filename(const struct strata_driver *d)
{
    for (const struct strata_opt_desc *o = d->open_options; o && o->name; o++)
        if (strcmp(o->name, "filename") == 0)
            return true;
    return false;
}

/* Brings the options a node is opened with into the one form its driver
 * sees, in one pass and before anything is opened:
 * - for a child: the shorthand "role=NAME" (its file name) and the defaults
 *   the parent's driver gives (a backing file named by the image header,
 *   relative to the parent's directory; its format);
 * - a file name without a driver on a protocol position (a role the parent
 *   declares STRATA_CHILD_PROTOCOL): the protocol that takes it (URI scheme);
 * - a file name on a format position: that format's primary protocol child,
 *   or, when the format is still to be probed, the STRATA_ROLE_FILE child.
 * *drvp is the driver, or NULL when the format is to be probed from the
 * STRATA_ROLE_FILE child.  Returns 1 when nothing at all is given for a child. */
static int normalise_opts(struct strata_opts *o, const struct strata_node *parent,
                          const char *role, const struct strata_child_defaults *defs,
                          const struct strata_driver **drvp, struct strata_error **errp)
{
    *drvp = NULL;
    if (parent && role) {
        const char *shorthand = strata_opts_get(parent->opts, role);
        /* QEMU's "backing": null (backing=null): no backing file, whatever
         * the image names; unallocated ranges read as zeros. */
        if (shorthand && strcmp(shorthand, "null") == 0 && strata_opts_count(o) == 0 &&
            (strata_role_flags(parent->drv, role) & STRATA_CHILD_COW))
            return 1;
        if (shorthand && strata_opts_count(o) == 0)
            strata_opts_set(o, "filename", shorthand);
        bool has_file_keys = false;
        const char *k, *v;
        for (size_t i = 0; strata_opts_entry(o, i, &k, &v); i++)
            if (key_under_role(k, STRATA_ROLE_FILE))
                has_file_keys = true;
        if (defs && defs->filename && !strata_opts_get(o, "filename") && !has_file_keys) {
            char *fn = strata_is_json_filename(defs->filename)
                           ? strdup(defs->filename)
                           : relative_to_parent(parent, defs->filename);
            strata_opts_set(o, "filename", fn);
            free(fn);
        }
        if (defs && defs->driver && !strata_opts_get(o, "driver"))
            strata_opts_set(o, "driver", defs->driver);
        if (strata_opts_count(o) == 0)
            return 1;
    }

    const char *fn = strata_opts_get(o, "filename");
    if (strata_is_json_filename(fn)) {
        char *json = strdup(fn);
        strata_opts_del(o, "filename");
        int r = json ? strata_opts_merge_json(o, json, errp)
                     : strata_error_set(errp, ENOMEM, "out of memory");
        free(json);
        if (r < 0)
            return r;
        fn = strata_opts_get(o, "filename");
    }
    if (!strata_opts_get(o, "driver")) {
        bool parent_is_protocol = parent && parent->drv &&
                                  parent->drv->kind == STRATA_DRIVER_PROTOCOL;
        bool protocol_role = protocol_position(parent, role);
        if (fn && protocol_role && !parent_is_protocol) {
            strata_opts_set(o, "driver", strata_protocol_for(fn));
        } else if (fn) {
            move_filename_to(o, STRATA_ROLE_FILE);
            return 0;
        } else if (strata_opts_get(o, STRATA_ROLE_FILE ".filename") ||
                   strata_opts_get(o, STRATA_ROLE_FILE ".driver")) {
            return 0;
        } else {
            return strata_error_set(errp, EINVAL, "%s%s%sno driver and no filename given",
                                    role ? "'" : "", role ? role : "", role ? "': " : "");
        }
    }

    const struct strata_driver *d = strata_driver_find(strata_opts_get(o, "driver"), errp);
    if (!d)
        return -ENOENT;
    /* driver=FORMAT,filename=X (a backing file with its format from the
     * image header) means the format over the file X: X goes to its primary
     * protocol child. */
    const char *frole = strata_role_with(d, STRATA_CHILD_PRIMARY | STRATA_CHILD_PROTOCOL);
    /* A filter's file name is its primary child's (QEMU's blkdebug over
     * the image it is given), unless the driver takes one itself. */
    if (!frole && !driver_takes_filename(d))
        frole = strata_role_with(d, STRATA_CHILD_PRIMARY);
    if (fn && d->kind != STRATA_DRIVER_PROTOCOL && frole) {
        char fkey[256];
        snprintf(fkey, sizeof fkey, "%s.filename", frole);
        if (!strata_opts_get(o, fkey) && !strata_opts_get(o, frole))
            move_filename_to(o, frole);
    }
    *drvp = d;
    return 0;
}

/* The image file a node opened with these (normalised) options reads: the
 * file under its primary protocol role, or the probed file. */
static const char *image_file_name(const struct strata_opts *o, const struct strata_driver *d)
{
    if (d && d->kind == STRATA_DRIVER_PROTOCOL)
        return strata_opts_get(o, "filename");
    const char *frole = d ? strata_role_with(d, STRATA_CHILD_PRIMARY | STRATA_CHILD_PROTOCOL)
                          : STRATA_ROLE_FILE;
    if (!frole)
        return NULL;
    char key[256];
    snprintf(key, sizeof key, "%s.filename", frole);
    return strata_opts_get(o, key);
}

/* Two names of one image: the same file (device and inode, so links count)
 * or, for what is not a local file, the same name. */
static bool same_image(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    return strcmp(a, b) == 0;
}

/* A backing chain that comes back to an image already in it would open
 * images forever; one too long to be real is refused too. */
static int check_backing_chain(const struct strata_node *parent, const char *role,
                               const char *name, struct strata_error **errp)
{
    if (!parent || !parent->drv || !name ||
        !(strata_role_flags(parent->drv, role) & STRATA_CHILD_COW))
        return 0;
    unsigned depth = 1;
    for (const struct strata_node *a = parent; a; a = a->parent) {
        if (same_image(strata_node_filename(a), name))
            return strata_error_set(errp, ELOOP, "Backing file '%s' creates an infinite loop.",
                                    name);
        if (a->parent && a->parent->drv &&
            (strata_role_flags(a->parent->drv, a->role) & STRATA_CHILD_COW))
            depth++;
    }
    if (depth > STRATA_MAX_BACKING_DEPTH)
        return strata_error_set(errp, ELOOP, "%s: the backing chain is longer than %u images",
                                strata_node_filename(parent), STRATA_MAX_BACKING_DEPTH);
    return 0;
}

static bool tree_has_name(const struct strata_node *n, const char *name)
{
    if (n->node_name && strcmp(n->node_name, name) == 0)
        return true;
    for (size_t i = 0; i < n->nchildren; i++)
        if (tree_has_name(n->children[i].node, name))
            return true;
    return false;
}

/* As QEMU: a letter, then letters, digits, '-', '.' and '_'; unique in the
 * graph (the nodes opened so far: the ancestors and their children). */
static int node_name_check(const struct strata_node *n, const char *name,
                           struct strata_error **errp)
{
    bool ok = isalpha((unsigned char)name[0]);
    for (size_t i = 1; ok && name[i]; i++)
        ok = isalnum((unsigned char)name[i]) || strchr("-._", name[i]);
    if (!ok)
        return strata_error_set(errp, EINVAL, "Invalid node-name: '%s'", name);
    if (strlen(name) > 31)
        return strata_error_set(errp, EINVAL, "Node name too long");
    const struct strata_node *root = n;
    while (root->parent)
        root = root->parent;
    if (tree_has_name(root, name))
        return strata_error_set(errp, EINVAL, "Duplicate nodes with node-name='%s'", name);
    return 0;
}

/* Options of every node, whatever its driver, as QEMU's block layer has
 * them: the cache flags (which the children inherit through the node's
 * flags unless they set their own) and the node's name.  They leave the
 * option list before the driver's options are checked. */
static int take_node_options(struct strata_node *n, struct strata_error **errp)
{
    static const struct {
        const char *key;
        unsigned bit;
    } cache[] = { { "cache.direct", STRATA_O_DIRECT }, { "cache.no-flush", STRATA_O_NO_FLUSH } };
    for (size_t i = 0; i < sizeof cache / sizeof cache[0]; i++) {
        bool on;
        if (!strata_opts_get(n->opts, cache[i].key))
            continue;
        int r = strata_opts_get_bool(n->opts, cache[i].key, &on, errp);
        if (r < 0)
            return r;
        n->flags = on ? n->flags | cache[i].bit : n->flags & ~cache[i].bit;
        strata_opts_del(n->opts, cache[i].key);
    }
    /* Only the default (off) is implemented: falling back to read-only
     * when a writable open is refused is not. */
    bool auto_ro = false;
    int r = strata_opts_get_bool(n->opts, "auto-read-only", &auto_ro, errp);
    if (r < 0)
        return r;
    if (auto_ro)
        return strata_error_set(errp, ENOTSUP, "%s: auto-read-only=on is not supported",
                                strata_node_filename(n));
    strata_opts_del(n->opts, "auto-read-only");
    const char *name = strata_opts_get(n->opts, "node-name");
    if (name) {
        r = node_name_check(n, name, errp);
        if (r < 0)
            return r;
        n->node_name = strdup(name);
        strata_opts_del(n->opts, "node-name");
        if (!n->node_name)
            return strata_error_set(errp, ENOMEM, "out of memory");
    }
    return 0;
}

/* Opens one node; defs are the defaults of a child its parent's driver
 * opens.  Returns 1, and opens nothing, when nothing is given for such a
 * child. */
static int node_open(const struct strata_opts *opts, unsigned flags,
                     struct strata_node *parent, const char *role,
                     const struct strata_child_defaults *defs, struct strata_node **nodep,
                     struct strata_error **errp)
{
    int r = strata_core_init(errp);
    if (r < 0)
        return r;
    if ((flags & STRATA_O_FORCE_SHARE) && (flags & STRATA_O_RDWR))
        return strata_error_set(errp, EINVAL,
                                "force-share=on (-U) can only be used with read-only images");

    struct strata_node *n = node_alloc(opts, flags, parent, role);
    if (!n)
        return strata_error_set(errp, ENOMEM, "out of memory");

    const struct strata_driver *d;
    r = normalise_opts(n->opts, parent, role, defs, &d, errp);
    if (r == 0)
        r = take_node_options(n, errp);
    if (r == 0)
        r = check_backing_chain(parent, role, image_file_name(n->opts, d), errp);
    if (r == 0 && !d) {
        const char *drvname;
        r = probe_driver(n, &drvname, errp);
        if (r == 0 && !(d = strata_driver_find(drvname, errp)))
            r = -ENOENT;
    }
    if (r != 0) {
        node_free(n, false);
        return r;
    }
    n->drv = d;
    /* "driver" is the core's; every other key must be the driver's. */
    struct strata_opts *check = strata_opts_dup(n->opts);
    strata_opts_del(check, "driver");
    r = strata_opts_validate(check, d->open_options, d->children, d->name, errp);
    strata_opts_free(check);
    if (r < 0) {
        node_free(n, false);
        return r;
    }
    n->own = own_options(d, n->opts);
    if (d->state_size) {
        n->state = calloc(1, d->state_size);
        if (!n->state) {
            node_free(n, false);
            return strata_error_set(errp, ENOMEM, "out of memory");
        }
    }
    r = d->open(n, n->own, n->flags, errp);
    if (r < 0) {
        node_free(n, false);
        return r;
    }
    n->filename = strdup(strata_node_filename(n));
    *nodep = n;
    return 0;
}

int strata_node_open_opts(const struct strata_opts *opts, unsigned flags,
                          struct strata_node *parent, const char *role,
                          struct strata_node **nodep, struct strata_error **errp)
{
    return node_open(opts, flags, parent, role, NULL, nodep, errp);
}

int strata_open_opts(const struct strata_opts *opts, unsigned flags,
                     struct strata_node **nodep, struct strata_error **errp)
{
    return strata_node_open_opts(opts, flags, NULL, NULL, nodep, errp);
}

struct strata_opts *strata_opts_for_file(const char *filename, const char *format)
{
    struct strata_opts *o = strata_opts_new();
    if (format)
        strata_opts_set(o, "driver", format);
    /* The JSON names the whole node; a bad one fails at open, where the
     * same file name is seen again. */
    if (strata_is_json_filename(filename)) {
        strata_opts_set(o, "filename", filename);
        return o;
    }
    const struct strata_driver *d = format ? strata_driver_find(format, NULL) : NULL;
    const char *proto = strata_protocol_for(filename);
    char *path = strcmp(proto, "file") == 0 ? strata_file_name(filename) : NULL;
    if (path)
        filename = path;
    if (d && d->kind == STRATA_DRIVER_PROTOCOL) {
        strata_opts_set(o, "filename", filename);
        free(path);
        return o;
    }
    /* The file is the driver's primary child ("image" for blkdebug); one
     * that is not a protocol position (a filter's) has its format probed. */
    const char *role = d ? strata_role_with(d, STRATA_CHILD_PRIMARY) : NULL;
    if (!role)
        role = STRATA_ROLE_FILE;
    char key[256];
    if (!d || (strata_role_flags(d, role) & STRATA_CHILD_PROTOCOL)) {
        snprintf(key, sizeof key, "%s.driver", role);
        strata_opts_set(o, key, proto);
    }
    snprintf(key, sizeof key, "%s.filename", role);
    strata_opts_set(o, key, filename);
    free(path);
    return o;
}

int strata_open_file(const char *filename, const char *format, unsigned flags,
                     struct strata_node **nodep, struct strata_error **errp)
{
    int r = strata_core_init(errp);
    if (r < 0)
        return r;
    struct strata_opts *o = strata_opts_for_file(filename, format);
    r = strata_open_opts(o, flags, nodep, errp);
    strata_opts_free(o);
    return r;
}

int strata_open_string(const char *dotted, unsigned flags, struct strata_node **nodep,
                       struct strata_error **errp)
{
    struct strata_opts *o = strata_opts_new();
    int r = strata_opts_parse(o, dotted, NULL, errp);
    if (r == 0)
        r = strata_open_opts(o, flags, nodep, errp);
    strata_opts_free(o);
    return r;
}

int strata_open_config(const char *path, unsigned flags, struct strata_node **nodep,
                       struct strata_error **errp)
{
    /* The file's secrets belong to this handle alone. */
    struct strata_secret_scope *scope = strata_secret_scope_new();
    if (!scope)
        return strata_error_set(errp, ENOMEM, "%s: out of memory", path);
    struct strata_secret_scope *prev = strata_secret_scope_enter(scope);
    struct strata_opts *o = NULL;
    int r = strata_config_load(path, &o, errp);
    if (r == 0)
        r = strata_open_opts(o, flags, nodep, errp);
    strata_secret_scope_enter(prev);
    if (r < 0)
        strata_secret_scope_free(scope);
    else
        strata_secret_scope_bind(scope, *nodep);
    strata_opts_free(o);
    return r;
}

void strata_close(struct strata_node *node)
{
    if (node) {
        /* Before the node's memory can be reused by another open. */
        strata_secret_scope_release(node);
        node_free(node, true);
    }
}

/* ------------------------------------------------------------ children */

/* Resolves a relative child file name against the parent's directory, as
 * qemu does for backing files. */
static char *relative_to_parent(const struct strata_node *parent, const char *fn)
{
    const char *pf = strata_node_filename(parent);
    if (fn[0] == '/' || !pf || !strchr(pf, '/'))
        return strdup(fn);
    char *copy = strdup(pf);
    char *dir = dirname(copy);
    size_t len = strlen(dir) + strlen(fn) + 2;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%s/%s", dir, fn);
    free(copy);
    return out;
}

int strata_node_open_child(struct strata_node *parent, const char *role,
                           const struct strata_child_defaults *defs, bool optional,
                           struct strata_node **childp, struct strata_error **errp)
{
    *childp = NULL;
    struct strata_node *existing = strata_node_child(parent, role);
    if (existing) {
        *childp = existing;
        return 0;
    }
    if (!strata_role_find(parent->drv, role))
        return strata_error_set(errp, EINVAL, "driver '%s' opened undeclared child '%s'",
                                parent->drv->name, role);

    struct strata_opts *sub = strata_opts_subset(parent->opts, role);
    unsigned flags = parent->flags & ~(defs ? defs->flags_clear : 0u);
    struct strata_node *child;
    int r = node_open(sub, flags, parent, role, defs, &child, errp);
    strata_opts_free(sub);
    if (r == 1) {
        if (optional)
            return 0;
        return strata_error_set(errp, EINVAL, "%s: driver '%s' needs a '%s' child "
                                "(%s.filename=... or a '%s' group)",
                                strata_node_filename(parent), parent->drv->name, role,
                                role, role);
    }
    if (r < 0)
        return r;
    r = attach_child(parent, role, child, errp);
    if (r < 0) {
        node_free(child, true);
        return r;
    }
    *childp = child;
    return 0;
}

struct strata_node *strata_node_child(const struct strata_node *parent, const char *role)
{
    for (size_t i = 0; i < parent->nchildren; i++)
        if (strcmp(parent->children[i].role, role) == 0)
            return parent->children[i].node;
    return NULL;
}

bool strata_node_child_at(const struct strata_node *node, size_t i, const char **role,
                          struct strata_node **child)
{
    if (i >= node->nchildren)
        return false;
    *role = node->children[i].role;
    *child = node->children[i].node;
    return true;
}

bool strata_node_has_child_opts(const struct strata_node *parent, const char *role)
{
    const char *k, *v;
    for (size_t i = 0; strata_opts_entry(parent->opts, i, &k, &v); i++)
        if (key_under_role(k, role))
            return true;
    return false;
}

struct strata_node *strata_node_child_with(const struct strata_node *n, unsigned flags)
{
    for (size_t i = 0; i < n->nchildren; i++)
        if ((n->children[i].flags & flags) == flags)
            return n->children[i].node;
    return NULL;
}

struct strata_node *strata_node_primary_child(const struct strata_node *n)
{
    return strata_node_child_with(n, STRATA_CHILD_PRIMARY);
}

struct strata_node *strata_node_cow_child(const struct strata_node *n)
{
    return strata_node_child_with(n, STRATA_CHILD_COW);
}

/* ------------------------------------------------------------ accessors */

void *strata_node_state(struct strata_node *node)
{
    return node->state;
}

const struct strata_driver *strata_node_driver(const struct strata_node *node)
{
    return node->drv;
}

const char *strata_node_driver_name(const struct strata_node *node)
{
    return node->drv ? node->drv->name : "?";
}

const char *strata_node_name(const struct strata_node *node)
{
    return node->node_name;
}

const char *strata_node_filename(const struct strata_node *node)
{
    if (node->filename)
        return node->filename;
    const char *fn = strata_opts_get(node->opts, "filename");
    if (fn)
        return fn;
    /* The primary child names the node; before the driver is known (while
     * probing) the only child is the probed file. */
    const struct strata_node *primary = strata_node_primary_child(node);
    if (primary)
        return strata_node_filename(primary);
    if (node->nchildren > 0)
        return strata_node_filename(node->children[0].node);
    fn = strata_opts_get(node->opts, STRATA_ROLE_FILE ".filename");
    if (fn)
        return fn;
    return node->drv ? node->drv->name : "(node)";
}

unsigned strata_node_flags(const struct strata_node *node)
{
    return node->flags;
}

bool strata_node_writable(const struct strata_node *node)
{
    return node->flags & STRATA_O_RDWR;
}

void strata_node_set_limits(struct strata_node *node, const struct strata_limits *l)
{
    node->limits = *l;
    if (node->limits.request_alignment == 0)
        node->limits.request_alignment = 1;
}

void strata_node_get_limits(const struct strata_node *node, struct strata_limits *l)
{
    *l = node->limits;
}

void strata_node_raise_event(struct strata_node *node, enum strata_event ev)
{
    const char *name = strata_event_name(ev);
    if (!name)
        return;
    while (node) {
        if (node->drv->on_event) {
            node->drv->on_event(node, ev);
            return;
        }
        if (node->drv->event) {
            node->drv->event(node, name);
            return;
        }
        if (node->drv->kind != STRATA_DRIVER_FILTER)
            return;
        node = strata_node_primary_child(node);
    }
}

/* The ABI 1.3 form, for modules built against it; the parentheses keep the
 * 1.4 macro of the same name away. */
void (strata_node_event)(struct strata_node *node, const char *name)
{
    enum strata_event ev;
    if (strata_event_lookup(name, &ev) == 0)
        strata_node_raise_event(node, ev);
}

/* ------------------------------------------------------------ describe */

static int cmp_entries(const void *a, const void *b)
{
    return strcmp(((const char *const *)a)[0], ((const char *const *)b)[0]);
}

static void describe_into(const struct strata_node *n, int depth, const char *role,
                          char **buf, size_t *len, size_t *cap)
{
    size_t cnt = strata_opts_count(n->own);
    const char **kv = calloc(cnt ? cnt * 2 : 1, sizeof *kv);
    for (size_t i = 0; i < cnt; i++)
        strata_opts_entry(n->own, i, &kv[2 * i], &kv[2 * i + 1]);
    qsort(kv, cnt, 2 * sizeof *kv, cmp_entries);

    char line[4096];
    size_t o = (size_t)snprintf(line, sizeof line, "%*s%s%sdriver=%s", depth * 2, "",
                                role ? role : "", role ? ": " : "", n->drv->name);
    for (size_t i = 0; i < cnt && o < sizeof line; i++)
        o += (size_t)snprintf(line + o, sizeof line - o, " %s=%s", kv[2 * i], kv[2 * i + 1]);
    free(kv);
    if (o >= sizeof line)
        o = sizeof line - 1;
    if (*len + o + 2 > *cap) {
        *cap = (*len + o + 2) * 2;
        *buf = realloc(*buf, *cap);
    }
    memcpy(*buf + *len, line, o);
    *len += o;
    (*buf)[(*len)++] = '\n';
    (*buf)[*len] = 0;

    /* Children in role order, so the text does not depend on open order. */
    size_t idx[STRATA_MAX_CHILDREN];
    for (size_t i = 0; i < n->nchildren; i++)
        idx[i] = i;
    for (size_t i = 1; i < n->nchildren; i++)
        for (size_t j = i; j > 0 && strcmp(n->children[idx[j - 1]].role,
                                           n->children[idx[j]].role) > 0; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    for (size_t i = 0; i < n->nchildren; i++)
        describe_into(n->children[idx[i]].node, depth + 1, n->children[idx[i]].role, buf,
                      len, cap);
}

struct strata_opts *strata_node_opts_dup(const struct strata_node *node)
{
    return strata_opts_dup(node->opts);
}

char *strata_node_describe(const struct strata_node *node)
{
    size_t len = 0, cap = 256;
    char *buf = malloc(cap);
    buf[0] = 0;
    describe_into(node, 0, NULL, &buf, &len, &cap);
    return buf;
}
