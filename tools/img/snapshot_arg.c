/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapshot_arg.c - the -l SNAPSHOT argument of convert and measure: an id or
 * name, or qemu-img's snapshot.id=ID,snapshot.name=NAME list. */
#include "img.h"

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

void img_snapshot_ref_free(struct img_snapshot_ref *ref)
{
    free(ref->id);
    free(ref->name);
    ref->id = ref->name = NULL;
}
