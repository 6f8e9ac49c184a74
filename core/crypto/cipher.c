/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cipher.c - ciphers assembled from a block cipher plugin, a mode and
 * an IV generator, used a sector at a time from any number of threads. */
#include "crypto-int.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigendian.h"

/* Each call borrows one keyed context; contexts are made on demand up to
 * this many, i.e. the number of threads that encrypt at the same moment. */
#define CIPHER_MAX_INST 64

struct cipher_inst {
    struct strata_mode_inst m;
    void *essiv_ctx;        /* ECB under the ESSIV salt */
};

struct strata_cipher {
    const struct strata_cipher_alg *alg;
    enum strata_cipher_mode mode;
    struct strata_ivgen ivgen;
    size_t bs;
    uint8_t *key;           /* secure memory: makes further contexts */
    size_t keylen;
    char name[2 * STRATA_CIPHER_NAME_MAX + 4];

    pthread_mutex_t grow_lock;
    _Atomic unsigned ninst;
    _Atomic int busy[CIPHER_MAX_INST];
    struct cipher_inst *inst[CIPHER_MAX_INST];
};

/* ------------------------------------------------------------ spec parsing */
static int copy_name(char *dst, const char *src, size_t n, const char *what,
                     const char *text, struct strata_error **errp)
{
    if (n == 0)
        return strata_error_set(errp, EINVAL, "cipher '%s': empty %s", text, what);
    if (n >= STRATA_CIPHER_NAME_MAX)
        return strata_error_set(errp, EINVAL, "cipher '%s': %s too long", text, what);
    for (size_t i = 0; i < n; i++) {
        char ch = src[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                  (ch >= 'A' && ch <= 'Z') || (ch == ':' && strcmp(what, "IV generator") == 0);
        if (!ok)
            return strata_error_set(errp, EINVAL, "cipher '%s': bad character '%c' in %s",
                                    text, ch, what);
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

/* "xts-plain64", "cbc-essiv:sha256", "ecb", "cbc" */
static int parse_mode_ivgen(const char *s, struct strata_cipher_spec *spec,
                            const char *text, struct strata_error **errp)
{
    const char *dash = strchr(s, '-');
    size_t mlen = dash ? (size_t)(dash - s) : strlen(s);
    int ret = copy_name(spec->mode, s, mlen, "mode", text, errp);
    if (ret < 0)
        return ret;
    if (dash)
        return copy_name(spec->ivgen, dash + 1, strlen(dash + 1), "IV generator", text, errp);
    snprintf(spec->ivgen, sizeof(spec->ivgen), "%s", strcmp(spec->mode, "ecb") ? "plain" : "");
    return 0;
}

int strata_cipher_spec_parse(const char *name, const char *mode,
                             struct strata_cipher_spec *spec, struct strata_error **errp)
{
    memset(spec, 0, sizeof(*spec));
    if (!name || !*name)
        return strata_error_set(errp, EINVAL, "empty cipher name");
    if (mode && *mode) {
        int ret = copy_name(spec->alg, name, strlen(name), "algorithm", name, errp);
        return ret < 0 ? ret : parse_mode_ivgen(mode, spec, mode, errp);
    }
    const char *open = strchr(name, '(');
    if (open) {
        /* mode(alg)[-ivgen] */
        const char *close = strchr(open, ')');
        if (!close)
            return strata_error_set(errp, EINVAL, "cipher '%s': missing ')'", name);
        int ret = copy_name(spec->mode, name, (size_t)(open - name), "mode", name, errp);
        if (ret == 0)
            ret = copy_name(spec->alg, open + 1, (size_t)(close - open - 1), "algorithm",
                            name, errp);
        if (ret < 0)
            return ret;
        if (close[1] == '\0') {
            snprintf(spec->ivgen, sizeof(spec->ivgen), "%s",
                     strcmp(spec->mode, "ecb") ? "plain" : "");
            return 0;
        }
        if (close[1] != '-')
            return strata_error_set(errp, EINVAL, "cipher '%s': unexpected text after ')'",
                                    name);
        return copy_name(spec->ivgen, close + 2, strlen(close + 2), "IV generator", name,
                         errp);
    }
    /* alg-mode[-ivgen] */
    const char *dash = strchr(name, '-');
    if (!dash)
        return strata_error_set(errp, EINVAL,
                                "cipher '%s': no mode (expected e.g. aes-xts-plain64)", name);
    int ret = copy_name(spec->alg, name, (size_t)(dash - name), "algorithm", name, errp);
    return ret < 0 ? ret : parse_mode_ivgen(dash + 1, spec, name, errp);
}

/* ------------------------------------------------------------ contexts */
static void inst_free(struct strata_cipher *c, struct cipher_inst *in)
{
    if (!in)
        return;
    strata_mode_destroy(&in->m);
    if (in->essiv_ctx) {
        c->alg->destroy(in->essiv_ctx);
        strata_crypto_ctx_free(in->essiv_ctx, c->alg->ctx_size);
    }
    free(in);
}

static int inst_new(struct strata_cipher *c, struct cipher_inst **out,
                    struct strata_error **errp)
{
    struct cipher_inst *in = calloc(1, sizeof(*in));
    if (!in)
        return strata_error_set(errp, ENOMEM, "%s: out of memory", c->name);
    int ret = strata_mode_init(&in->m, c->alg, c->mode, c->key, c->keylen, errp);
    if (ret == 0 && c->ivgen.kind == STRATA_IVGEN_ESSIV) {
        in->essiv_ctx = strata_crypto_ctx_alloc(c->alg->ctx_size);
        if (!in->essiv_ctx)
            ret = strata_error_set(errp, ENOMEM, "%s: out of secure memory", c->name);
        else
            ret = c->alg->setkey(in->essiv_ctx, STRATA_MODE_ECB, c->ivgen.salt,
                                 c->ivgen.saltlen, errp);
        if (ret < 0) {
            strata_crypto_ctx_free(in->essiv_ctx, c->alg->ctx_size);
            in->essiv_ctx = NULL;
            strata_error_set(errp, -ret, "%s: keying the ESSIV cipher failed", c->name);
        }
    }
    if (ret < 0) {
        inst_free(c, in);
        return ret;
    }
    *out = in;
    return 0;
}

static _Thread_local unsigned inst_hint;

static struct cipher_inst *inst_get(struct strata_cipher *c, unsigned *slot,
                                    struct strata_error **errp)
{
    for (;;) {
        unsigned n = atomic_load_explicit(&c->ninst, memory_order_acquire);
        for (unsigned i = 0; i < n; i++) {
            unsigned k = (inst_hint + i) % n;
            int expected = 0;
            if (atomic_load_explicit(&c->busy[k], memory_order_relaxed) == 0 &&
                atomic_compare_exchange_strong_explicit(&c->busy[k], &expected, 1,
                                                        memory_order_acquire,
                                                        memory_order_relaxed)) {
                inst_hint = k;
                *slot = k;
                return c->inst[k];
            }
        }
        pthread_mutex_lock(&c->grow_lock);
        unsigned cur = atomic_load_explicit(&c->ninst, memory_order_relaxed);
        if (cur == n && cur < CIPHER_MAX_INST) {
            struct cipher_inst *in;
            int ret = inst_new(c, &in, errp);
            if (ret < 0) {
                pthread_mutex_unlock(&c->grow_lock);
                return NULL;
            }
            c->inst[cur] = in;
            atomic_store_explicit(&c->busy[cur], 1, memory_order_relaxed);
            atomic_store_explicit(&c->ninst, cur + 1, memory_order_release);
            pthread_mutex_unlock(&c->grow_lock);
            inst_hint = cur;
            *slot = cur;
            return in;
        }
        pthread_mutex_unlock(&c->grow_lock);
        if (cur == n)
            sched_yield();
    }
}

static inline void inst_put(struct strata_cipher *c, unsigned slot)
{
    atomic_store_explicit(&c->busy[slot], 0, memory_order_release);
}

/* ------------------------------------------------------------ open/free */
int strata_cipher_open_spec(const struct strata_cipher_spec *spec, const uint8_t *key,
                            size_t keylen, struct strata_cipher **out,
                            struct strata_error **errp)
{
    return strata_cipher_open(spec->alg, spec->mode, spec->ivgen, key, keylen, out, errp);
}

static int cipher_resolve(const char *algname, const char *modename,
                          const struct strata_cipher_alg **algp,
                          enum strata_cipher_mode *modep, size_t keylen,
                          struct strata_error **errp)
{
    int ret = strata_mode_lookup(modename, modep, errp);
    if (ret < 0)
        return ret;
    const struct strata_cipher_alg *alg = strata_cipher_alg_find(algname, errp);
    if (!alg) {
        strata_error_set(errp, ENOENT, "unknown cipher '%s'", algname ? algname : "");
        return -ENOENT;
    }
    ret = strata_mode_check(alg, *modep, keylen, errp);
    if (ret < 0)
        return ret;
    *algp = alg;
    return 0;
}

int strata_cipher_check(const char *alg, const char *mode, const char *ivgen,
                        size_t keylen, struct strata_error **errp)
{
    const struct strata_cipher_alg *a;
    enum strata_cipher_mode m;
    int ret = cipher_resolve(alg, mode, &a, &m, keylen, errp);
    if (ret < 0)
        return ret;
    struct strata_ivgen g;
    ret = strata_ivgen_setup(&g, ivgen, a, m, NULL, 0, errp);
    strata_ivgen_cleanup(&g);
    return ret;
}

int strata_cipher_open(const char *algname, const char *modename, const char *ivgen,
                       const uint8_t *key, size_t keylen, struct strata_cipher **out,
                       struct strata_error **errp)
{
    const struct strata_cipher_alg *alg;
    enum strata_cipher_mode mode;
    *out = NULL;
    int ret = cipher_resolve(algname, modename, &alg, &mode, keylen, errp);
    if (ret < 0)
        return ret;

    struct strata_cipher *c = calloc(1, sizeof(*c));
    if (!c)
        return strata_error_set(errp, ENOMEM, "out of memory");
    c->alg = alg;
    c->mode = mode;
    c->bs = alg->block_size;
    snprintf(c->name, sizeof(c->name), "%s(%s)", strata_mode_name(mode), alg->name);
    pthread_mutex_init(&c->grow_lock, NULL);
    c->keylen = keylen;
    c->key = strata_crypto_ctx_alloc(keylen);
    if (!c->key) {
        ret = strata_error_set(errp, ENOMEM, "%s: out of secure memory", c->name);
        pthread_mutex_destroy(&c->grow_lock);
        free(c);
        return ret;
    }
    memcpy(c->key, key, keylen);

    ret = strata_ivgen_setup(&c->ivgen, ivgen, alg, mode, key, keylen, errp);
    /* The first context is made now, so key problems surface at open. */
    if (ret == 0)
        ret = inst_new(c, &c->inst[0], errp);
    if (ret < 0) {
        strata_cipher_free(c);
        return ret;
    }
    atomic_store(&c->ninst, 1);
    *out = c;
    return 0;
}

void strata_cipher_free(struct strata_cipher *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < CIPHER_MAX_INST; i++)
        inst_free(c, c->inst[i]);
    strata_ivgen_cleanup(&c->ivgen);
    strata_crypto_ctx_free(c->key, c->keylen);
    pthread_mutex_destroy(&c->grow_lock);
    free(c);
}

size_t strata_cipher_block_size(const struct strata_cipher *c) { return c->bs; }
size_t strata_cipher_key_size(const struct strata_cipher *c) { return c->keylen; }
const char *strata_cipher_name(const struct strata_cipher *c) { return c->name; }
const char *strata_cipher_ivgen_name(const struct strata_cipher *c) { return c->ivgen.name; }
const char *strata_cipher_impl_name(const struct strata_cipher *c)
{
    return c->alg->impl_name ? c->alg->impl_name : c->alg->name;
}

/* ------------------------------------------------------------ I/O */
static inline void store_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* iv arrives zeroed beyond the bytes each generator writes. */
static inline int make_iv(struct strata_cipher *c, struct cipher_inst *in, uint64_t sector,
                          size_t sector_size, uint8_t *iv)
{
    switch (c->ivgen.kind) {
    case STRATA_IVGEN_PLAIN:
        store_le64(iv, sector & 0xffffffffu);
        return 0;
    case STRATA_IVGEN_PLAIN64:
        store_le64(iv, sector);
        return 0;
    case STRATA_IVGEN_ESSIV: {
        uint8_t blk[STRATA_CRYPTO_MAX_BLOCK] = { 0 };
        store_le64(blk, sector);
        return c->alg->encrypt(in->essiv_ctx, NULL, iv, blk, c->bs);
    }
    case STRATA_IVGEN_BENBI:
        store_be64(iv + c->bs - 8, sector * (sector_size / c->bs) + 1);
        return 0;
    default:
        return 0;
    }
}

static int check_lengths(struct strata_cipher *c, size_t sector_size, size_t len,
                         struct strata_error **errp)
{
    if (sector_size == 0 || len % sector_size != 0)
        return strata_error_set(errp, EINVAL,
                                "%s: length %zu is not a multiple of the sector size %zu",
                                c->name, len, sector_size);
    if (c->mode != STRATA_MODE_CTR && sector_size % c->bs != 0)
        return strata_error_set(errp, EINVAL,
                                "%s: sector size %zu is not a multiple of the block size %zu",
                                c->name, sector_size, c->bs);
    return 0;
}

static int cipher_sectors(struct strata_cipher *c, bool enc, uint64_t sector,
                          size_t sector_size, void *out, const void *in, size_t len,
                          struct strata_error **errp)
{
    int ret = check_lengths(c, sector_size, len, errp);
    if (ret < 0 || len == 0)
        return ret;
    unsigned slot;
    struct cipher_inst *inst = inst_get(c, &slot, errp);
    if (!inst)
        return -ENOMEM;

    uint8_t iv[STRATA_CRYPTO_MAX_BLOCK] = { 0 };
    uint8_t *o = out;
    const uint8_t *i = in;
    size_t n = len / sector_size;
    size_t k = 0;
    if (inst->m.native) {
        /* The common case, kept free of indirection beyond the plugin call. */
        int (*fn)(void *, const uint8_t *, void *, const void *, size_t) =
            enc ? c->alg->encrypt : c->alg->decrypt;
        void *ctx = inst->m.ctx;
        if (c->ivgen.kind == STRATA_IVGEN_PLAIN64) {
            for (; k < n && ret == 0; k++) {
                store_le64(iv, sector + k);
                ret = fn(ctx, iv, o + k * sector_size, i + k * sector_size, sector_size);
            }
        } else {
            for (; k < n && ret == 0; k++) {
                ret = make_iv(c, inst, sector + k, sector_size, iv);
                if (ret == 0)
                    ret = fn(ctx, iv, o + k * sector_size, i + k * sector_size,
                             sector_size);
            }
        }
    } else {
        for (; k < n && ret == 0; k++) {
            ret = make_iv(c, inst, sector + k, sector_size, iv);
            if (ret == 0)
                ret = strata_mode_crypt(&inst->m, enc, iv, o + k * sector_size,
                                        i + k * sector_size, sector_size);
        }
    }
    inst_put(c, slot);
    strata_wipe(iv, sizeof(iv));
    if (ret < 0)
        return strata_error_set(errp, ret == -EINVAL ? EINVAL : EIO,
                                "%s: %s failed to %s sector %llu", c->name,
                                strata_cipher_impl_name(c), enc ? "encrypt" : "decrypt",
                                (unsigned long long)(sector + k - 1));
    return 0;
}

int strata_cipher_encrypt_sectors(struct strata_cipher *c, uint64_t first_sector,
                                  size_t sector_size, void *out, const void *in, size_t len,
                                  struct strata_error **errp)
{
    return cipher_sectors(c, true, first_sector, sector_size, out, in, len, errp);
}

int strata_cipher_decrypt_sectors(struct strata_cipher *c, uint64_t first_sector,
                                  size_t sector_size, void *out, const void *in, size_t len,
                                  struct strata_error **errp)
{
    return cipher_sectors(c, false, first_sector, sector_size, out, in, len, errp);
}

static int cipher_iv(struct strata_cipher *c, bool enc, const uint8_t *iv, void *out,
                     const void *in, size_t len, struct strata_error **errp)
{
    if (c->mode != STRATA_MODE_CTR && len % c->bs != 0)
        return strata_error_set(errp, EINVAL,
                                "%s: length %zu is not a multiple of the block size %zu",
                                c->name, len, c->bs);
    if (c->mode != STRATA_MODE_ECB && !iv)
        return strata_error_set(errp, EINVAL, "%s: needs an IV", c->name);
    if (len == 0)
        return 0;
    uint8_t zero[STRATA_CRYPTO_MAX_BLOCK] = { 0 };
    unsigned slot;
    struct cipher_inst *inst = inst_get(c, &slot, errp);
    if (!inst)
        return -ENOMEM;
    int ret = strata_mode_crypt(&inst->m, enc, iv ? iv : zero, out, in, len);
    inst_put(c, slot);
    if (ret < 0)
        return strata_error_set(errp, EIO, "%s: %s failed to %s", c->name,
                                strata_cipher_impl_name(c), enc ? "encrypt" : "decrypt");
    return 0;
}

int strata_cipher_encrypt_iv(struct strata_cipher *c, const uint8_t *iv, void *out,
                             const void *in, size_t len, struct strata_error **errp)
{
    return cipher_iv(c, true, iv, out, in, len, errp);
}

int strata_cipher_decrypt_iv(struct strata_cipher *c, const uint8_t *iv, void *out,
                             const void *in, size_t len, struct strata_error **errp)
{
    return cipher_iv(c, false, iv, out, in, len, errp);
}
