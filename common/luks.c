/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* luks.c - create options, UUIDs, erase reports and amend's keyslot
 * choices common to LUKS1 and LUKS2. */
#include "luks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int luks_cipher_choose(const struct strata_opts *o, const char *who,
                       struct luks_cipher_choice *c, struct strata_error **errp)
{
    const char *alg = strata_opts_get(o, "cipher-alg");
    const char *mode = strata_opts_get(o, "cipher-mode");
    const char *iv = strata_opts_get(o, "ivgen-alg");
    const char *ivhash = strata_opts_get(o, "ivgen-hash-alg");
    alg = alg ? alg : "aes-256";
    mode = mode ? mode : "xts";
    iv = iv ? iv : "plain64";
    memset(c, 0, sizeof *c);

    unsigned bits = 128;
    const char *dash = strchr(alg, '-');
    size_t n = dash ? (size_t)(dash - alg) : strlen(alg);
    if (n == 0 || n >= sizeof c->spec.alg)
        return strata_error_set(errp, EINVAL, "%s: invalid cipher-alg '%s'", who, alg);
    memcpy(c->spec.alg, alg, n);
    if (dash) {
        char *end;
        unsigned long b = strtoul(dash + 1, &end, 10);
        if (*end || (b != 128 && b != 192 && b != 256))
            return strata_error_set(errp, EINVAL, "%s: invalid cipher-alg '%s'", who, alg);
        bits = (unsigned)b;
    }
    if (strcmp(mode, "ecb") && strcmp(mode, "cbc") && strcmp(mode, "xts") &&
        strcmp(mode, "ctr"))
        return strata_error_set(errp, EINVAL, "%s: invalid cipher-mode '%s'", who, mode);
    c->key_bytes = bits / 8 * (strcmp(mode, "xts") == 0 ? 2 : 1);
    snprintf(c->spec.mode, sizeof c->spec.mode, "%s", mode);
    if (strcmp(mode, "ecb") == 0) {
        c->spec.ivgen[0] = 0;
    } else if (strcmp(iv, "essiv") == 0) {
        if (snprintf(c->spec.ivgen, sizeof c->spec.ivgen, "essiv:%s",
                     ivhash ? ivhash : "sha256") >= (int)sizeof c->spec.ivgen)
            return strata_error_set(errp, EINVAL, "%s: ivgen-hash-alg too long", who);
    } else if (strcmp(iv, "plain") == 0 || strcmp(iv, "plain64") == 0) {
        if (ivhash)
            return strata_error_set(errp, EINVAL, "%s: ivgen-hash-alg is only valid "
                                    "with ivgen-alg=essiv", who);
        snprintf(c->spec.ivgen, sizeof c->spec.ivgen, "%s", iv);
    } else {
        return strata_error_set(errp, EINVAL, "%s: invalid ivgen-alg '%s'", who, iv);
    }
    int r = strata_cipher_check(c->spec.alg, c->spec.mode, c->spec.ivgen, c->key_bytes,
                                errp);
    if (r < 0)
        strata_error_prefix(errp, "%s", who);
    return r;
}

void luks_uuid_format(char *out, size_t outlen, const uint8_t *rnd)
{
    uint8_t u[16];
    memcpy(u, rnd, 16);
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);   /* version 4 (random) */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    snprintf(out, outlen, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5], u[6],
             u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

void luks_report_wipe(struct strata_info *list, const char *what, uint64_t off,
                      uint64_t len)
{
    if (!list)
        return;
    struct strata_info *o = strata_info_add_object(list, NULL);
    strata_info_add_str(o, "what", what);
    strata_info_add_uint(o, "offset", off);
    strata_info_add_uint(o, "length", len);
}

int luks_wipe_header(const struct strata_crypto_hdr_io *io, uint64_t len, const char *what,
                     struct strata_info *list, struct strata_error **errp)
{
    uint8_t *zero = calloc(1, len);
    if (!zero)
        return strata_error_set(errp, ENOMEM, "out of memory");
    int r = io->write(io->opaque, 0, zero, len, errp);
    free(zero);
    if (r == 0 && io->flush)
        r = io->flush(io->opaque, errp);
    if (r == 0)
        luks_report_wipe(list, what, 0, len);
    return r;
}

int luks_erase_select(const struct strata_opts *opts, const char *const *add_only,
                      const struct luks_erase_sel *sel, uint32_t *mask,
                      struct strata_error **errp)
{
    const char *old_id = strata_opts_get(opts, "old-secret");
    *mask = 0;
    for (; *add_only; add_only++)
        if (strata_opts_get(opts, *add_only))
            return strata_error_set(errp, EINVAL, "%s: '%s' is not supported when "
                                    "erasing keyslots", sel->name, *add_only);
    if (sel->has_slot && old_id)
        return strata_error_set(errp, EINVAL, "%s: give either 'keyslot' or 'old-secret' "
                                "to erase keyslots, not both", sel->name);
    if (sel->has_slot) {
        if (!sel->slot_in_use)
            return strata_error_set(errp, EINVAL, "%s: Given keyslot %u is already erased "
                                    "(inactive)", sel->name, sel->slot);
        *mask = 1u << sel->slot;
        return 0;
    }
    if (!old_id)
        return strata_error_set(errp, EINVAL, "%s: To erase keyslot(s), either explicit "
                                "keyslot index or the password currently contained in "
                                "them must be given", sel->name);
    uint8_t *pass = NULL;
    size_t len = 0;
    int r = strata_secret_get(old_id, &pass, &len, errp);
    if (r < 0) {
        /* qemu-img's line names only the missing secret. */
        if (r != -ENOENT)
            strata_error_prefix(errp, "%s: old-secret", sel->who);
        return r;
    }
    r = sel->match(sel->opaque, pass, len, mask, NULL, errp);
    strata_secret_free(pass, len);
    if (r < 0)
        return r;
    if (!*mask)
        return strata_error_set(errp, EACCES, "%s: No keyslots match given (old) "
                                "password for erase operation", sel->name);
    return 0;
}

int luks_erase_keeps_one(const struct luks_erase_sel *sel, uint32_t mask, uint32_t active,
                         bool force, struct strata_error **errp)
{
    if (force || !(mask & active) || (active & ~mask))
        return 0;
    if (sel->has_slot)
        return strata_error_set(errp, EBUSY, "%s: Attempt to erase the only active keyslot "
                                "%u which will erase all the data in the image irreversibly "
                                "- refusing operation", sel->name, sel->slot);
    return strata_error_set(errp, EBUSY, "%s: All the active keyslots match the (old) "
                            "password that was given and erasing them will erase all the "
                            "data in the image irreversibly - refusing operation", sel->name);
}

int luks_add_key_source(const struct strata_opts *opts, const char *name, const char *who,
                        const uint8_t *open_key, size_t key_len, luks_match_fn match,
                        void *opaque, uint8_t *key, uint32_t *old_mask,
                        struct strata_error **errp)
{
    const char *old_id = strata_opts_get(opts, "old-secret");
    *old_mask = 0;
    if (!old_id) {
        if (!open_key)
            return strata_error_set(errp, EINVAL, "%s: adding a key needs the volume "
                                    "unlocked (key-secret) or 'old-secret'", name);
        memcpy(key, open_key, key_len);
        return 0;
    }
    uint8_t *pass = NULL;
    size_t len = 0;
    int r = strata_secret_get(old_id, &pass, &len, errp);
    if (r < 0) {
        if (r != -ENOENT)
            strata_error_prefix(errp, "%s: old-secret", who);
        return r;
    }
    r = match(opaque, pass, len, old_mask, key, errp);
    strata_secret_free(pass, len);
    if (r == 0 && !*old_mask)
        r = strata_error_set(errp, EACCES, "%s: Invalid password, cannot unlock any "
                             "keyslot", name);
    return r;
}

int luks_match_slots(uint32_t candidates, luks_try_fn try_slot, void *opaque,
                     const uint8_t *pass, size_t len, uint32_t *mask, uint8_t *key,
                     size_t keylen, struct strata_error **errp)
{
    uint8_t tmp[LUKS_KEY_MAX];
    int r = 0;
    *mask = 0;
    for (unsigned i = 0; i < 32 && r >= 0; i++) {
        if (!(candidates & (1u << i)))
            continue;
        r = try_slot(opaque, i, pass, len, tmp, errp);
        if (r == 1) {
            *mask |= 1u << i;
            if (key)
                memcpy(key, tmp, keylen);
        }
    }
    strata_wipe(tmp, sizeof tmp);
    return r < 0 ? r : 0;
}
