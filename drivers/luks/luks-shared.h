/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* luks-shared.h - what LUKS1 (driver-luks.so) and LUKS2 (driver-luks2.so)
 * share: shared.c is built into both modules. */
#ifndef STRATA_LUKS_SHARED_H
#define STRATA_LUKS_SHARED_H

#include <strata/crypto.h>

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

#endif
