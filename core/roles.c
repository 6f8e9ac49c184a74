/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roles.c - a driver's child roles: their flags, and the historic meaning of
 * the names an ABI 1.3 driver lists.
 *
 * Every registered driver leaves here with both forms filled in: the role
 * table the core decides by, and the list of names that option validation
 * skips.  Nothing else in the core looks at a role's name for its meaning.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* What the names drivers listed before ABI 1.4 meant to the core; the first
 * listed name is also PRIMARY. */
static const struct strata_child_role historic_roles[] = {
    { "file", STRATA_CHILD_PROTOCOL },
    { "header", STRATA_CHILD_PROTOCOL | STRATA_CHILD_METADATA },
    { "data-file", STRATA_CHILD_PROTOCOL },
    { "backing", STRATA_CHILD_COW },
};

#define KNOWN_FLAGS (STRATA_CHILD_PROTOCOL | STRATA_CHILD_PRIMARY | STRATA_CHILD_COW | \
                     STRATA_CHILD_METADATA)

static unsigned historic_flags(const char *name)
{
    for (size_t i = 0; i < sizeof historic_roles / sizeof historic_roles[0]; i++)
        if (strcmp(historic_roles[i].name, name) == 0)
            return historic_roles[i].flags;
    return 0;
}

static int refuse(const struct strata_driver *d, const char *role, const char *why,
                  struct strata_error **errp)
{
    return strata_error_set(errp, EINVAL, "driver '%s' refused: child role '%s': %s",
                            d->name, role ? role : "(unnamed)", why);
}

static int check_roles(const struct strata_driver *d, struct strata_error **errp)
{
    unsigned seen = 0;
    for (const struct strata_child_role *r = d->child_roles; r->name; r++) {
        if (!*r->name || strchr(r->name, '.'))
            return refuse(d, r->name, "a name must be non-empty and without '.'", errp);
        if (r->flags & ~KNOWN_FLAGS)
            return refuse(d, r->name, "unknown flags", errp);
        if (r->flags & seen & (STRATA_CHILD_PRIMARY | STRATA_CHILD_COW))
            return refuse(d, r->name, "only one role may be PRIMARY and only one COW",
                          errp);
        seen |= r->flags;
        for (const struct strata_child_role *o = d->child_roles; o < r; o++)
            if (strcmp(o->name, r->name) == 0)
                return refuse(d, r->name, "declared twice", errp);
    }
    return 0;
}

int strata_driver_setup_roles(struct strata_driver *d, struct strata_error **errp)
{
    size_t n = 0;
    if (d->child_roles) {
        int r = check_roles(d, errp);
        if (r < 0)
            return r;
        while (d->child_roles[n].name)
            n++;
        const char **names = calloc(n + 1, sizeof *names);
        if (!names)
            return strata_error_set(errp, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
            names[i] = d->child_roles[i].name;
        d->children = names;
        return 0;
    }
    while (d->children && d->children[n])
        n++;
    struct strata_child_role *roles = calloc(n + 1, sizeof *roles);
    if (!roles)
        return strata_error_set(errp, ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        roles[i].name = d->children[i];
        roles[i].flags = historic_flags(d->children[i]) | (i == 0 ? STRATA_CHILD_PRIMARY : 0);
    }
    d->child_roles = roles;
    int r = check_roles(d, errp);
    if (r < 0) {
        free(roles);
        d->child_roles = NULL;
    }
    return r;
}

const struct strata_child_role *strata_role_find(const struct strata_driver *d,
                                                 const char *name)
{
    for (const struct strata_child_role *r = d ? d->child_roles : NULL; r && r->name; r++)
        if (strcmp(r->name, name) == 0)
            return r;
    return NULL;
}

unsigned strata_role_flags(const struct strata_driver *d, const char *name)
{
    const struct strata_child_role *r = name ? strata_role_find(d, name) : NULL;
    return r ? r->flags : 0;
}

const char *strata_role_with(const struct strata_driver *d, unsigned flags)
{
    for (const struct strata_child_role *r = d ? d->child_roles : NULL; r && r->name; r++)
        if ((r->flags & flags) == flags)
            return r->name;
    return NULL;
}
