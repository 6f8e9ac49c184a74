/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* restore_order.h - header-restore's ordered writes of a saved LUKS header
 * over a volume's own. */
#ifndef STRATA_TOOLS_IMG_RESTORE_ORDER_H
#define STRATA_TOOLS_IMG_RESTORE_ORDER_H

#include <strata/encryption.h>
#include <strata/strata.h>

#include <stdint.h>

/* Writes the header `new` (len bytes, opened as nctx by nf) over the first
 * len bytes of node t and flushes.  Key material the header on t uses is
 * overwritten only after the new header proper is in place, and new key
 * material goes first where that header keeps none, so that a cut leaves
 * a volume opening with every passphrase of one of the two headers (unless
 * both keep different material in one area). */
int img_restore_header(struct strata_node *t, const uint8_t *new, uint64_t len,
                       const struct strata_crypto_format *nf, struct strata_crypto_ctx *nctx,
                       struct strata_error **errp);

#endif
