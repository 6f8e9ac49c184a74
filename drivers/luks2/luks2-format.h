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
extern const char *const luks2_pbkdf_choices[];
bool luks2_in_list(const char *s, const char *const *list);

/* KDF choice for a new keyslot, shared by create and amend. */
#define LUKS2_KDF_OPTION_DESCS \
    { .name = "pbkdf", .type = STRATA_OPT_ENUM, .def = "argon2id", \
      .choices = luks2_pbkdf_choices, .help = "key derivation for the new keyslot" }, \
    { .name = "iter-time", .type = STRATA_OPT_NUMBER, .def = "2000", \
      .help = "milliseconds the key derivation takes when unlocking" }, \
    { .name = "pbkdf-memory", .type = STRATA_OPT_NUMBER, .def = "1048576", \
      .help = "argon2 memory in KiB (at most half of the machine's memory)" }, \
    { .name = "pbkdf-parallel", .type = STRATA_OPT_NUMBER, .def = "4", \
      .help = "argon2 lanes (at most the number of CPUs)" }, \
    { .name = "pbkdf-force-iterations", .type = STRATA_OPT_NUMBER, \
      .help = "argon2 passes or pbkdf2 iterations, instead of timing them" },
struct luks2_kdf_opts {
    const char *kdf, *hash;
    uint32_t iter_time, memory_kib, parallel, force_iterations;
};
int luks2_parse_kdf_opts(const struct strata_opts *o, const char *hash,
                         struct luks2_kdf_opts *k, struct strata_error **errp);
/* A new tree: no keyslots, tokens or digests yet; one crypt segment 0 of
 * dynamic size at data_offset; the config for these sizes. */
json_object *luks2_root_new(const char *enc, uint64_t data_offset, uint32_t sector_size,
                           uint64_t hdr_size, uint64_t keyslots_size);
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

/* convert.c */
int luks2_export_layout(struct strata_crypto_ctx *ctx, struct strata_crypto_layout *l,
                        struct strata_error **errp);
int luks2_import_layout(const struct strata_crypto_hdr_io *io,
                        const struct strata_crypto_layout *l, struct strata_error **errp);

/* check.c */
int luks2_check(struct strata_crypto_ctx *ctx, struct strata_check_result *res,
                unsigned fix, struct strata_error **errp);

#endif
