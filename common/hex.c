/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hex.c - hex string decoding. */
#include "hex.h"

size_t hex_decode(const char *s, uint8_t *out, size_t max)
{
    size_t n = 0;
    for (; s[0] && s[1] && n < max; s += 2) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = s[k];
            v = v * 16 + (unsigned)(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
        }
        out[n++] = (uint8_t)v;
    }
    return n;
}
