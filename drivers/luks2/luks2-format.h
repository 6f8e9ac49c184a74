/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* luks2-format.h - the opened LUKS2 context and the pieces of the
 * encryption format descriptor, one file each. */
#ifndef STRATA_LUKS2_FORMAT_H
#define STRATA_LUKS2_FORMAT_H

#include "luks2-int.h"

struct strata_crypto_ctx {
    struct strata_crypto_hdr_io io;
    char *name;
    struct luks2_hdr h;
    char state[64];              /* which header copy opened, for info */
    uint8_t *vk;                 /* secure memory; NULL when locked */
    struct strata_cipher *cipher;
};

/* format.c */
struct strata_crypto_ctx *luks2_ctx_new(const struct strata_crypto_hdr_io *io,
                                        struct strata_error **errp);
void luks2_ctx_free(struct strata_crypto_ctx *ctx);
int luks2_get_pass(const char *id, const char *opt, uint8_t **pass, size_t *len,
                   struct strata_error **errp);
/* Keeps the volume key (h.key_size bytes) and opens the payload cipher. */
int luks2_set_key(struct strata_crypto_ctx *ctx, const uint8_t *vk,
                  struct strata_error **errp);

/* info.c */
int luks2_get_info(struct strata_crypto_ctx *ctx, struct strata_info *obj,
                   struct strata_error **errp);

/* create.c */
extern const struct strata_opt_desc luks2_create_opts[];
int luks2_header_size(const struct strata_opts *opts,
                      const struct strata_crypto_create_params *params, uint64_t *size,
                      struct strata_error **errp);
int luks2_create(const struct strata_crypto_hdr_io *io, const struct strata_opts *opts,
                 const struct strata_crypto_create_params *params,
                 struct strata_crypto_ctx **out, struct strata_error **errp);

/* amend.c */
extern const struct strata_opt_desc luks2_amend_opts[];
int luks2_amend(struct strata_crypto_ctx *ctx, const struct strata_opts *opts, bool force,
                struct strata_error **errp);
int luks2_erase(struct strata_crypto_ctx *ctx, struct strata_info *report,
                struct strata_error **errp);

#endif
