/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* format_lookup.c - encryption formats by family and version, and the
 * format that reads a given header. */
#include "internal.h"

#include <strata/encryption.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>

struct find_version_ctx {
    const char *family;
    uint32_t version;
    const struct strata_crypto_format *found;
};

static void find_version_cb(const void *desc, void *opaque)
{
    const struct strata_crypto_format *f = desc;
    struct find_version_ctx *c = opaque;
    if (!c->found && f->family && strcmp(f->family, c->family) == 0 &&
        f->version == c->version)
        c->found = f;
}

const struct strata_crypto_format *strata_crypto_format_find_version(
    const char *family, uint32_t version, struct strata_error **errp)
{
    struct find_version_ctx c = { family, version, NULL };
    strata_registry_foreach(STRATA_REG_CRYPTO_FORMAT, find_version_cb, &c);
    if (!c.found)
        strata_error_set(errp, ENOTSUP, "%s version %" PRIu32 " is not supported: no "
                         "loaded encryption format handles it", family, version);
    return c.found;
}

const struct strata_crypto_format *strata_crypto_format_for_header(
    const char *name, const struct strata_crypto_hdr_io *io, struct strata_error **errp)
{
    const struct strata_crypto_format *f = strata_crypto_format_find(name, errp);
    if (!f || !f->read_version || !f->family)
        return f;
    uint32_t version = 0;
    if (f->read_version(io, &version, errp) < 0)
        return NULL;
    if (version == 0 || version == f->version)
        return f;
    struct strata_error *err = NULL;
    const struct strata_crypto_format *v =
        strata_crypto_format_find_version(f->family, version, &err);
    if (!v)
        strata_error_set(errp, ENOTSUP, "%s: %s", io->name ? io->name : name,
                         err ? err->msg : "unsupported version");
    strata_error_free(err);
    return v;
}
