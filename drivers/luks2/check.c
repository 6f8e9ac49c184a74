/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check.c - the redundant header: a copy that is damaged or older than the
 * other is reported, and rewritten from the newest valid copy on repair.
 * Opening tolerates such a copy; leaving it so would turn the next damage
 * to the good copy into a lost volume. */
#include "luks2-format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const copy_name[2] = { "primary", "secondary" };

int luks2_check(struct strata_crypto_ctx *ctx, struct strata_check_result *res,
                unsigned fix, struct strata_error **errp)
{
    struct luks2_hdr h = { 0 };
    struct luks2_copies c;
    /* Read again: the copies may have changed since open (a repair). */
    int r = luks2_hdr_read(&ctx->io, ctx->name, &h, NULL, 0, &c, errp);
    if (r < 0)
        return r;
    for (int i = 0; i < 2 && r == 0; i++) {
        char why[600];
        if (!c.ok[i])
            snprintf(why, sizeof why, "%s", c.why[i]);
        else if (c.seqid[i] < h.bin.seqid)
            snprintf(why, sizeof why, "%s: LUKS2 %s header at offset %" PRIu64 ": seqid %"
                     PRIu64 " is older than the other copy's %" PRIu64, ctx->name,
                     copy_name[i], c.offset[i], c.seqid[i], h.bin.seqid);
        else
            continue;
        if (!(fix & STRATA_CHECK_FIX_ERRORS)) {
            strata_check_report(res, "ERROR %s", why);
            res->corruptions++;
            continue;
        }
        strata_check_report(res, "Repairing %s; rewriting it from the %s header (seqid %"
                            PRIu64 ")", why, copy_name[!i], h.bin.seqid);
        r = luks2_hdr_write_copy(&ctx->io, ctx->name, &h, i == 0, errp);
        if (r == 0)
            res->corruptions_fixed++;
    }
    luks2_hdr_free(&h);
    if (r == 0 && res->corruptions_fixed) {
        /* The context's state line (info) follows the repair. */
        snprintf(ctx->state, sizeof ctx->state, "both copies valid");
    }
    return r;
}
