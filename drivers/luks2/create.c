/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create.c - new LUKS2 headers. */
#include "luks2-format.h"

#include <errno.h>

const struct strata_opt_desc luks2_create_opts[] = {
    { .name = "key-secret", .type = STRATA_OPT_STRING,
      .help = "id of the secret holding the passphrase for keyslot 0" },
    { NULL },
};

int luks2_header_size(const struct strata_opts *opts,
                      const struct strata_crypto_create_params *params, uint64_t *size,
                      struct strata_error **errp)
{
    return strata_error_set(errp, ENOTSUP, "luks2: create is not available");
}

int luks2_create(const struct strata_crypto_hdr_io *io, const struct strata_opts *opts,
                 const struct strata_crypto_create_params *params,
                 struct strata_crypto_ctx **out, struct strata_error **errp)
{
    return strata_error_set(errp, ENOTSUP, "luks2: create is not available");
}
