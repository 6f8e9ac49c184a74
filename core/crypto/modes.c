/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* modes.c - block cipher modes: the plugin's native implementation
 * when it has one, else CBC, XTS (IEEE 1619) and CTR built over its ECB. */
#include "crypto-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mode_names[] = {
    [STRATA_MODE_ECB] = "ecb",
    [STRATA_MODE_CBC] = "cbc",
    [STRATA_MODE_XTS] = "xts",
    [STRATA_MODE_CTR] = "ctr",
};

int strata_mode_lookup(const char *name, enum strata_cipher_mode *mode,
                       struct strata_error **errp)
{
    for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
        if (name && strcmp(name, mode_names[i]) == 0) {
            *mode = (enum strata_cipher_mode)i;
            return 0;
        }
    }
    return strata_error_set(errp, ENOENT,
                            "unknown cipher mode '%s' (known: ecb, cbc, xts, ctr)",
                            name ? name : "");
}

const char *strata_mode_name(enum strata_cipher_mode mode)
{
    return (unsigned)mode < sizeof(mode_names) / sizeof(mode_names[0])
               ? mode_names[mode] : "?";
}

static bool key_size_listed(const struct strata_cipher_alg *alg, size_t n)
{
    for (const uint16_t *k = alg->key_sizes; k && *k; k++)
        if (*k == n)
            return true;
    return false;
}

static void key_sizes_text(const struct strata_cipher_alg *alg, size_t mult,
                           char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const uint16_t *k = alg->key_sizes; k && *k && used < len; k++) {
        int n = snprintf(buf + used, len - used, "%s%zu", used ? ", " : "",
                         (size_t)*k * mult);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int strata_mode_check(const struct strata_cipher_alg *alg, enum strata_cipher_mode mode,
                      size_t keylen, struct strata_error **errp)
{
    if (alg->block_size == 0 || alg->block_size > STRATA_CRYPTO_MAX_BLOCK)
        return strata_error_set(errp, EINVAL, "%s: block size %u not supported",
                                alg->name, alg->block_size);
    /* The XTS tweak arithmetic is defined on 128-bit blocks only. */
    if (mode == STRATA_MODE_XTS && alg->block_size != 16)
        return strata_error_set(errp, EINVAL,
                                "xts(%s): XTS needs a 16-byte block, %s has %u bytes",
                                alg->name, alg->name, alg->block_size);
    size_t mult = mode == STRATA_MODE_XTS ? 2 : 1;
    if (keylen % mult != 0 || !key_size_listed(alg, keylen / mult)) {
        char sizes[128];
        key_sizes_text(alg, mult, sizes, sizeof(sizes));
        return strata_error_set(errp, EINVAL,
                                "%s(%s): key size of %zu bytes not supported (takes %s)",
                                strata_mode_name(mode), alg->name, keylen, sizes);
    }
    return 0;
}

static int mode_ctx_new(const struct strata_cipher_alg *alg, enum strata_cipher_mode mode,
                        const uint8_t *key, size_t keylen, void **ctxp,
                        struct strata_error **errp)
{
    void *ctx = strata_crypto_ctx_alloc(alg->ctx_size);
    if (!ctx)
        return strata_error_set(errp, ENOMEM, "%s: out of secure memory for a context",
                                alg->name);
    int ret = alg->setkey(ctx, mode, key, keylen, errp);
    if (ret < 0) {
        strata_crypto_ctx_free(ctx, alg->ctx_size);
        if (errp && !*errp)
            strata_error_set(errp, -ret, "%s(%s): setting the key failed",
                             strata_mode_name(mode), alg->name);
        return ret;
    }
    *ctxp = ctx;
    return 0;
}

static void mode_ctx_free(const struct strata_cipher_alg *alg, void *ctx)
{
    if (ctx) {
        alg->destroy(ctx);
        strata_crypto_ctx_free(ctx, alg->ctx_size);
    }
}

int strata_mode_init(struct strata_mode_inst *m, const struct strata_cipher_alg *alg,
                     enum strata_cipher_mode mode, const uint8_t *key, size_t keylen,
                     struct strata_error **errp)
{
    memset(m, 0, sizeof(*m));
    int ret = strata_mode_check(alg, mode, keylen, errp);
    if (ret < 0)
        return ret;
    m->alg = alg;
    m->mode = mode;
    m->native = (alg->native_modes & STRATA_MODE_BIT(mode)) != 0 || mode == STRATA_MODE_ECB;
    if (m->native)
        return mode_ctx_new(alg, mode, key, keylen, &m->ctx, errp);

    size_t half = mode == STRATA_MODE_XTS ? keylen / 2 : keylen;
    ret = mode_ctx_new(alg, STRATA_MODE_ECB, key, half, &m->ctx, errp);
    if (ret == 0 && mode == STRATA_MODE_XTS)
        ret = mode_ctx_new(alg, STRATA_MODE_ECB, key + half, half, &m->ctx2, errp);
    if (ret == 0) {
        m->scratch = malloc(2 * STRATA_MODE_CHUNK);
        if (!m->scratch)
            ret = strata_error_set(errp, ENOMEM, "%s(%s): out of memory",
                                   strata_mode_name(mode), alg->name);
    }
    if (ret < 0)
        strata_mode_destroy(m);
    return ret;
}

void strata_mode_destroy(struct strata_mode_inst *m)
{
    if (!m->alg)
        return;
    mode_ctx_free(m->alg, m->ctx);
    mode_ctx_free(m->alg, m->ctx2);
    if (m->scratch) {
        strata_wipe(m->scratch, 2 * STRATA_MODE_CHUNK);
        free(m->scratch);
    }
    memset(m, 0, sizeof(*m));
}

static inline void xor_into(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = a[i] ^ b[i];
}

/* ------------------------------------------------------------ generic CBC */
static int cbc_encrypt(struct strata_mode_inst *m, const uint8_t *iv, uint8_t *out,
                       const uint8_t *in, size_t len)
{
    size_t bs = m->alg->block_size;
    uint8_t x[STRATA_CRYPTO_MAX_BLOCK];
    const uint8_t *prev = iv;
    int ret = 0;
    for (size_t off = 0; off < len && ret == 0; off += bs) {
        xor_into(x, in + off, prev, bs);
        ret = m->alg->encrypt(m->ctx, NULL, out + off, x, bs);
        prev = out + off;
    }
    strata_wipe(x, sizeof(x));
    return ret;
}

/* Walks backwards, so that in-place decryption still finds the previous
 * ciphertext block intact. */
static int cbc_decrypt(struct strata_mode_inst *m, const uint8_t *iv, uint8_t *out,
                       const uint8_t *in, size_t len)
{
    size_t bs = m->alg->block_size;
    size_t chunk = STRATA_MODE_CHUNK / bs * bs;
    uint8_t *plain = m->scratch;
    size_t end = len;
    while (end > 0) {
        size_t start = end > chunk ? end - chunk : 0;
        int ret = m->alg->decrypt(m->ctx, NULL, plain, in + start, end - start);
        if (ret < 0)
            return ret;
        for (size_t off = end - bs;; off -= bs) {
            const uint8_t *prev = off ? in + off - bs : iv;
            xor_into(out + off, plain + (off - start), prev, bs);
            if (off == start)
                break;
        }
        end = start;
    }
    return 0;
}

/* ------------------------------------------------------------ generic CTR */
static void ctr_increment(uint8_t *ctr, size_t bs)
{
    for (size_t i = bs; i-- > 0;)
        if (++ctr[i] != 0)
            break;
}

static int ctr_crypt(struct strata_mode_inst *m, const uint8_t *iv, uint8_t *out,
                     const uint8_t *in, size_t len)
{
    size_t bs = m->alg->block_size;
    size_t chunk = STRATA_MODE_CHUNK / bs * bs;
    uint8_t ctr[STRATA_CRYPTO_MAX_BLOCK];
    uint8_t *ks = m->scratch;
    memcpy(ctr, iv, bs);
    for (size_t off = 0; off < len;) {
        size_t n = len - off < chunk ? len - off : chunk;
        size_t blocks = (n + bs - 1) / bs;
        for (size_t b = 0; b < blocks; b++) {
            memcpy(ks + b * bs, ctr, bs);
            ctr_increment(ctr, bs);
        }
        int ret = m->alg->encrypt(m->ctx, NULL, ks, ks, blocks * bs);
        if (ret < 0)
            return ret;
        xor_into(out + off, in + off, ks, n);
        off += n;
    }
    strata_wipe(ctr, sizeof(ctr));
    return 0;
}

/* ------------------------------------------------------------ generic XTS */
/* Multiplies the tweak by x in GF(2^128), little-endian as IEEE 1619. */
static inline void xts_mul_x(uint8_t *t)
{
    unsigned carry = 0;
    for (int i = 0; i < 16; i++) {
        unsigned next = t[i] >> 7;
        t[i] = (uint8_t)((t[i] << 1) | carry);
        carry = next;
    }
    if (carry)
        t[0] ^= 0x87;
}

static int xts_crypt(struct strata_mode_inst *m, bool enc, const uint8_t *iv,
                     uint8_t *out, const uint8_t *in, size_t len)
{
    uint8_t t[16];
    uint8_t *tweaks = m->scratch + STRATA_MODE_CHUNK;
    int ret = m->alg->encrypt(m->ctx2, NULL, t, iv, 16);
    if (ret < 0)
        return ret;
    for (size_t off = 0; off < len;) {
        size_t n = len - off < STRATA_MODE_CHUNK ? len - off : STRATA_MODE_CHUNK;
        for (size_t b = 0; b < n; b += 16) {
            memcpy(tweaks + b, t, 16);
            xts_mul_x(t);
        }
        xor_into(m->scratch, in + off, tweaks, n);
        ret = enc ? m->alg->encrypt(m->ctx, NULL, m->scratch, m->scratch, n)
                  : m->alg->decrypt(m->ctx, NULL, m->scratch, m->scratch, n);
        if (ret < 0)
            break;
        xor_into(out + off, m->scratch, tweaks, n);
        off += n;
    }
    strata_wipe(t, sizeof(t));
    return ret;
}

int strata_mode_crypt(struct strata_mode_inst *m, bool enc, const uint8_t *iv,
                      void *out, const void *in, size_t len)
{
    if (m->native)
        return enc ? m->alg->encrypt(m->ctx, iv, out, in, len)
                   : m->alg->decrypt(m->ctx, iv, out, in, len);
    switch (m->mode) {
    case STRATA_MODE_CBC:
        return enc ? cbc_encrypt(m, iv, out, in, len) : cbc_decrypt(m, iv, out, in, len);
    case STRATA_MODE_CTR:
        return ctr_crypt(m, iv, out, in, len);
    case STRATA_MODE_XTS:
        return xts_crypt(m, enc, iv, out, in, len);
    default:
        return -EINVAL;
    }
}
