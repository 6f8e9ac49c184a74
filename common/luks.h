/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* luks.h - what LUKS1 (driver-luks.so) and LUKS2 (driver-luks2.so) share:
 * cipher create options, UUIDs, erase reports and the keyslot choices of
 * amend. */
#ifndef STRATA_COMMON_LUKS_H
#define STRATA_COMMON_LUKS_H

#include <strata/crypto.h>
#include <strata/encryption.h>

#include <stdbool.h>

/* The payload cipher chosen by QEMU's create options cipher-alg (NAME-BITS),
 * cipher-mode, ivgen-alg and ivgen-hash-alg (defaults aes-256, xts,
 * plain64), checked with strata_cipher_check().  `who` prefixes messages
 * ("luks", "luks2"). */
struct luks_cipher_choice {
    struct strata_cipher_spec spec;
    uint32_t key_bytes;          /* whole key: twice the cipher's for XTS */
};
int luks_cipher_choose(const struct strata_opts *o, const char *who,
                       struct luks_cipher_choice *c, struct strata_error **errp);

/* A random RFC 4122 version 4 UUID from 16 random bytes, as text (37 bytes
 * with the NUL). */
void luks_uuid_format(char *out, size_t outlen, const uint8_t *rnd);

/* Adds {what, offset, length} to an erase report's list (list may be NULL). */
void luks_report_wipe(struct strata_info *list, const char *what, uint64_t off,
                      uint64_t len);
/* Zeroes the first len bytes of a header region and makes them stable, the
 * last step of erasing a volume; adds {what, 0, len} to list (may be NULL). */
int luks_wipe_header(const struct strata_crypto_hdr_io *io, uint64_t len, const char *what,
                     struct strata_info *list, struct strata_error **errp);

/* Tries one keyslot: 1 and the volume key in key when pass opens it, 0 when
 * not, -errno on failure. */
typedef int (*luks_try_fn)(void *opaque, unsigned slot, const uint8_t *pass, size_t len,
                           uint8_t *key, struct strata_error **errp);
#define LUKS_KEY_MAX 64u
/* The keyslots among `candidates` (a bit mask) that pass opens, in *mask;
 * the volume key (keylen bytes, at most LUKS_KEY_MAX) in key when any does
 * and key is not NULL. */
int luks_match_slots(uint32_t candidates, luks_try_fn try_slot, void *opaque,
                     const uint8_t *pass, size_t len, uint32_t *mask, uint8_t *key,
                     size_t keylen, struct strata_error **errp);

/* Sets *mask to the keyslots pass opens and, when key is not NULL and any
 * does, the volume key in key. */
typedef int (*luks_match_fn)(void *opaque, const uint8_t *pass, size_t len,
                             uint32_t *mask, uint8_t *key, struct strata_error **errp);

/* The volume key a new keyslot stores: what old-secret opens (its
 * keyslots in *old_mask), else open_key, the key the volume was unlocked
 * with (NULL when it was not). */
int luks_add_key_source(const struct strata_opts *opts, const char *name, const char *who,
                        const uint8_t *open_key, size_t key_len, luks_match_fn match,
                        void *opaque, uint8_t *key, uint32_t *old_mask,
                        struct strata_error **errp);

/* The keyslots amend state=inactive names: `keyslot` or the ones
 * old-secret opens (as cryptsetup words its refusals).  Options in add_only
 * (NULL-terminated) are refused. */
struct luks_erase_sel {
    const char *name;            /* for messages: the header's file */
    const char *who;             /* "luks", "luks2": secret message prefix */
    bool has_slot;
    unsigned slot;
    bool slot_in_use;            /* the named keyslot may be erased */
    luks_match_fn match;
    void *opaque;
};
int luks_erase_select(const struct strata_opts *opts, const char *const *add_only,
                      const struct luks_erase_sel *sel, uint32_t *mask,
                      struct strata_error **errp);
/* Refuses, unless force, to erase every active keyslot, in qemu's words
 * for a keyslot named (sel->has_slot) or found by its password. */
int luks_erase_keeps_one(const struct luks_erase_sel *sel, uint32_t mask, uint32_t active,
                         bool force, struct strata_error **errp);

#endif
