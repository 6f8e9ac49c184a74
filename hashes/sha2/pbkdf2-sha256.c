/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pbkdf2-sha256.c - PBKDF2-HMAC-SHA256 on the x86 SHA extensions (FIPS 180-4
 * for SHA-256, RFC 2104 for HMAC, RFC 8018 for PBKDF2; the instructions as
 * Intel's SHA extensions documentation describes them).
 *
 * The SHA instructions keep the eight working words in two registers as
 * ABEF and CDGH (lane 0 holding F and H); the rest of the code keeps
 * ABCD/EFGH, which is what a digest is. */
#include "pbkdf2-sha256.h"

#include <errno.h>
#include <string.h>
#include <strata/common.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>

#define SHA_X86 __attribute__((target("sha,sse4.1,ssse3")))

bool sha256_x86_available(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return false;
    bool sse = (c & bit_SSSE3) && (c & bit_SSE4_1);
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return false;
    return sse && (b & bit_SHA);
}

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

static const uint32_t sha256_iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

/* One compression of the 16 message words m0..m3 (four per register, lane 0
 * first) into the state st[0] = ABEF, st[1] = CDGH. */
SHA_X86 static void sha256_compress(__m128i st[2], __m128i m0, __m128i m1, __m128i m2,
                                    __m128i m3)
{
    __m128i m[4] = { m0, m1, m2, m3 };
    __m128i abef = st[0], cdgh = st[1];
    /* Unrolled, the schedule lives in registers; as a loop it goes through
     * memory and costs a third of the speed. */
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) {
        if (i >= 4) {
            /* W[t..t+3] from W[t-16..t-13], W[t-15..t-12], W[t-7..t-4] and
             * W[t-4..t-1], four rounds' words at a time. */
            __m128i w = _mm_sha256msg1_epu32(m[i & 3], m[(i + 1) & 3]);
            w = _mm_add_epi32(w, _mm_alignr_epi8(m[(i + 3) & 3], m[(i + 2) & 3], 4));
            m[i & 3] = _mm_sha256msg2_epu32(w, m[(i + 3) & 3]);
        }
        __m128i wk = _mm_add_epi32(m[i & 3], _mm_loadu_si128((const __m128i *)&sha256_k[4 * i]));
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));
    }
    st[0] = _mm_add_epi32(st[0], abef);
    st[1] = _mm_add_epi32(st[1], cdgh);
}

SHA_X86 static void sha256_state_to_x86(__m128i abcd, __m128i efgh, __m128i st[2])
{
    __m128i badc = _mm_shuffle_epi32(abcd, 0xb1);
    __m128i hgfe = _mm_shuffle_epi32(efgh, 0x1b);
    st[0] = _mm_alignr_epi8(badc, hgfe, 8);      /* lanes f e b a */
    st[1] = _mm_blend_epi16(hgfe, badc, 0xf0);   /* lanes h g d c */
}

SHA_X86 static void sha256_state_from_x86(const __m128i st[2], __m128i *abcd, __m128i *efgh)
{
    __m128i abef = _mm_shuffle_epi32(st[0], 0x1b);   /* lanes a b e f */
    __m128i ghcd = _mm_shuffle_epi32(st[1], 0xb1);   /* lanes g h c d */
    *abcd = _mm_blend_epi16(abef, ghcd, 0xf0);
    *efgh = _mm_alignr_epi8(ghcd, abef, 8);
}

/* Big-endian bytes <-> host words, four at a time. */
SHA_X86 static __m128i sha256_bswap(__m128i v)
{
    return _mm_shuffle_epi8(v, _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1,
                                            2, 3));
}

SHA_X86 static __m128i sha256_load(const uint8_t *p)
{
    return sha256_bswap(_mm_loadu_si128((const __m128i *)p));
}

/* A streaming SHA-256 for the few hashes over arbitrary bytes a derivation
 * needs: a long password, the pads, salt || block index. */
struct sha256_x86 {
    __m128i st[2];
    uint8_t buf[64];
    size_t n;
    uint64_t total;
};

SHA_X86 static void sha256_x86_init(struct sha256_x86 *c)
{
    sha256_state_to_x86(_mm_loadu_si128((const __m128i *)sha256_iv),
                        _mm_loadu_si128((const __m128i *)(sha256_iv + 4)), c->st);
    c->n = 0;
    c->total = 0;
}

SHA_X86 static void sha256_x86_update(struct sha256_x86 *c, const uint8_t *p, size_t len)
{
    c->total += len;
    while (len > 0) {
        size_t k = 64 - c->n < len ? 64 - c->n : len;
        memcpy(c->buf + c->n, p, k);
        c->n += k;
        p += k;
        len -= k;
        if (c->n == 64) {
            sha256_compress(c->st, sha256_load(c->buf), sha256_load(c->buf + 16),
                            sha256_load(c->buf + 32), sha256_load(c->buf + 48));
            c->n = 0;
        }
    }
}

SHA_X86 static void sha256_x86_final(struct sha256_x86 *c, uint8_t digest[32])
{
    static const uint8_t pad[64] = { 0x80 };
    uint64_t bits = c->total * 8;
    uint8_t len_be[8];
    for (int i = 0; i < 8; i++)
        len_be[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_x86_update(c, pad, (c->n < 56 ? 56 : 120) - c->n);
    sha256_x86_update(c, len_be, 8);
    __m128i abcd, efgh;
    sha256_state_from_x86(c->st, &abcd, &efgh);
    _mm_storeu_si128((__m128i *)digest, sha256_bswap(abcd));
    _mm_storeu_si128((__m128i *)(digest + 16), sha256_bswap(efgh));
}

SHA_X86 int pbkdf2_sha256_x86(const uint8_t *pass, size_t passlen, const uint8_t *salt,
                              size_t saltlen, uint64_t iterations, uint8_t *out,
                              size_t outlen)
{
    /* As libgcrypt's PBKDF2, which serves CPUs without the extensions: the
     * same input must not succeed or fail depending on the CPU. */
    if (passlen == 0)
        return -EINVAL;
    uint8_t key[64] = { 0 }, pad[64], u[32];
    struct sha256_x86 ipad, opad, c;
    if (passlen > sizeof(key)) {
        sha256_x86_init(&c);
        sha256_x86_update(&c, pass, passlen);
        sha256_x86_final(&c, key);
    } else {
        memcpy(key, pass, passlen);
    }
    for (int i = 0; i < 64; i++)
        pad[i] = key[i] ^ 0x36;
    sha256_x86_init(&ipad);
    sha256_x86_update(&ipad, pad, 64);
    for (int i = 0; i < 64; i++)
        pad[i] = key[i] ^ 0x5c;
    sha256_x86_init(&opad);
    sha256_x86_update(&opad, pad, 64);

    /* From U_2 on, both HMAC halves hash one block: 32 bytes of message
     * after the 64-byte pad, so words 8..15 are always 0x80000000, zeros and
     * the length, 768 bits. */
    const __m128i tail0 = _mm_set_epi32(0, 0, 0, (int)0x80000000u);
    const __m128i tail1 = _mm_set_epi32(768, 0, 0, 0);
    for (uint32_t block = 1; (size_t)(block - 1) * 32 < outlen; block++) {
        uint8_t index_be[4] = { (uint8_t)(block >> 24), (uint8_t)(block >> 16),
                                (uint8_t)(block >> 8), (uint8_t)block };
        c = ipad;
        sha256_x86_update(&c, salt, saltlen);
        sha256_x86_update(&c, index_be, 4);
        sha256_x86_final(&c, u);
        c = opad;
        sha256_x86_update(&c, u, 32);
        sha256_x86_final(&c, u);

        __m128i ua = sha256_load(u), ue = sha256_load(u + 16), ta = ua, te = ue;
        for (uint64_t it = 1; it < iterations; it++) {
            __m128i st[2] = { ipad.st[0], ipad.st[1] };
            sha256_compress(st, ua, ue, tail0, tail1);
            sha256_state_from_x86(st, &ua, &ue);
            st[0] = opad.st[0];
            st[1] = opad.st[1];
            sha256_compress(st, ua, ue, tail0, tail1);
            sha256_state_from_x86(st, &ua, &ue);
            ta = _mm_xor_si128(ta, ua);
            te = _mm_xor_si128(te, ue);
        }
        _mm_storeu_si128((__m128i *)u, sha256_bswap(ta));
        _mm_storeu_si128((__m128i *)(u + 16), sha256_bswap(te));
        size_t off = (size_t)(block - 1) * 32;
        memcpy(out + off, u, outlen - off < 32 ? outlen - off : 32);
    }
    strata_wipe(key, sizeof(key));
    strata_wipe(pad, sizeof(pad));
    strata_wipe(u, sizeof(u));
    strata_wipe(&ipad, sizeof(ipad));
    strata_wipe(&opad, sizeof(opad));
    strata_wipe(&c, sizeof(c));
    return 0;
}

#else

bool sha256_x86_available(void)
{
    return false;
}

int pbkdf2_sha256_x86(const uint8_t *pass, size_t passlen, const uint8_t *salt,
                      size_t saltlen, uint64_t iterations, uint8_t *out, size_t outlen)
{
    return -ENOTSUP;
}

#endif
