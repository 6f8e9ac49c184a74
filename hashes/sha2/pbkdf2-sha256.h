/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pbkdf2-sha256.h - PBKDF2-HMAC-SHA256 on the x86 SHA extensions.
 *
 * Unlocking a LUKS key slot is millions of HMAC-SHA256 iterations over a
 * 32-byte message.  Going through a general hash interface costs each
 * iteration context resets, padding and byte swapping that are the same every
 * time; here an iteration is two compressions from the pads' precomputed
 * states, with the fixed padding words held in registers. */
#ifndef STRATA_HASHES_PBKDF2_SHA256_H
#define STRATA_HASHES_PBKDF2_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether this CPU has the SHA extensions (and the SSE levels they need). */
bool sha256_x86_available(void);

/* RFC 8018 PBKDF2 with HMAC-SHA256; only when sha256_x86_available(). */
int pbkdf2_sha256_x86(const uint8_t *pass, size_t passlen, const uint8_t *salt,
                      size_t saltlen, uint64_t iterations, uint8_t *out, size_t outlen);

#endif
