/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* amend.c - LUKS2 key management and erase. */
#include "luks2-format.h"

#include <errno.h>

const struct strata_opt_desc luks2_amend_opts[] = {
    { NULL },
};

int luks2_amend(struct strata_crypto_ctx *ctx, const struct strata_opts *opts, bool force,
                struct strata_error **errp)
{
    return strata_error_set(errp, ENOTSUP, "%s: amend is not available", ctx->name);
}

int luks2_erase(struct strata_crypto_ctx *ctx, struct strata_info *report,
                struct strata_error **errp)
{
    return strata_error_set(errp, ENOTSUP, "%s: erase is not available", ctx->name);
}
