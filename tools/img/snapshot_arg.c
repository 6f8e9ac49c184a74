/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapshot_arg.c - the -l SNAPSHOT argument of convert and measure: an id or
 * name, or qemu-img's snapshot.id=ID,snapshot.name=NAME list, and loading
 * that snapshot into a read-only source. */
#include "img.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int img_snapshot_arg(const char *arg, struct img_snapshot_ref *ref)
{
    *ref = (struct img_snapshot_ref){ .given = true };
    if (strncmp(arg, "snapshot.", 9) != 0) {
        ref->id_or_name = arg;
        return 0;
    }
    struct strata_opts *o = strata_opts_new();
    struct strata_error *err = NULL;
    if (!o || strata_opts_parse(o, arg, NULL, &err) < 0) {
        tool_error("%s", err && err->msg ? err->msg : "out of memory");
        strata_error_free(err);
        goto fail;
    }
    const char *k, *v;
    for (size_t i = 0; strata_opts_entry(o, i, &k, &v); i++) {
        char **slot = !strcmp(k, "snapshot.id") ? &ref->id
                    : !strcmp(k, "snapshot.name") ? &ref->name : NULL;
        if (!slot) {
            tool_error("Invalid parameter '%s'", k);
            goto fail;
        }
        free(*slot);
        if (!(*slot = strdup(v))) {
            tool_error("out of memory");
            goto fail;
        }
    }
    strata_opts_free(o);
    return 0;
fail:
    strata_opts_free(o);
    img_snapshot_ref_free(ref);
    tool_error("Failed in parsing snapshot param '%s'", arg);
    return 1;
}

/* The id of the snapshot with both this id and this name, as qemu-img
 * wants both to match when both are given; NULL when none has. */
static char *id_matching(struct strata_node *node, const char *id, const char *name)
{
    struct strata_info *root = strata_info_new_object();
    struct strata_info *list = root ? strata_info_add_list(root, "s") : NULL;
    char *found = NULL;
    if (list && strata_image_snapshot(node, STRATA_SNAPSHOT_LIST, NULL, list, NULL) == 0) {
        const struct strata_info *sn;
        for (size_t i = 0; !found && (sn = strata_info_at(list, i)); i++) {
            const char *sid = strata_info_get_str(sn, "id");
            const char *sname = strata_info_get_str(sn, "name");
            if (sid && sname && !strcmp(sid, id) && !strcmp(sname, name))
                found = strdup(sid);
        }
    }
    strata_info_free(root);
    return found;
}

int img_snapshot_load(struct strata_node *node, const struct img_snapshot_ref *ref)
{
    struct strata_error *err = NULL;
    char *both = NULL;
    const char *which = ref->id_or_name ? ref->id_or_name : ref->id ? ref->id : ref->name;
    if (ref->id && ref->name) {
        both = id_matching(node, ref->id, ref->name);
        which = both;
    }
    int r = which ? strata_image_snapshot(node, STRATA_SNAPSHOT_LOAD_TMP, which, NULL, &err)
                  : strata_error_set(&err, ENOENT, "Can't find snapshot");
    free(both);
    if (r < 0) {
        tool_error("Failed to load snapshot: %s", err && err->msg ? err->msg : strerror(-r));
        strata_error_free(err);
        return 1;
    }
    return 0;
}

void img_snapshot_ref_free(struct img_snapshot_ref *ref)
{
    free(ref->id);
    free(ref->name);
    ref->id = ref->name = NULL;
}
