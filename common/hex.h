/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hex.h - decoding the hex strings that known-answer test vectors are
 * written in. */
#ifndef STRATA_COMMON_HEX_H
#define STRATA_COMMON_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Decodes pairs of hex digits from s into out until s or out (max bytes)
 * ends; returns the bytes written.  The input is trusted (a constant). */
size_t hex_decode(const char *s, uint8_t *out, size_t max);

#endif
