/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crypto.c - throughput of the crypto layer next to raw libgcrypt doing the
 * same work in the same run, PBKDF2 iterations per second, and Argon2id
 * derivations through strata_kdf_derive next to gcry_kdf_* called directly
 * (without thread callbacks, so one thread: the 4-lane row shows what
 * running the lanes in parallel gains, the 1-lane row the plugin path's own
 * cost).
 *
 * For each cipher/mode/IV generator and sector size (512, 4096), strata
 * encrypts and decrypts a 1 MiB buffer per call through the plugin path;
 * the raw figure is a loop calling libgcrypt directly (key set once, then per
 * sector gcry_cipher_setiv + encrypt/decrypt, the ESSIV IV made with a second
 * ECB handle).  Each figure is the best of several rounds, strata and raw
 * alternating, so that both see the same machine state.
 *
 * The all-cores rows are the ceiling a parallel path can reach: as many
 * threads as strata's worker pool has (the CPUs, or STRATA_THREADS), each
 * with its own libgcrypt handle, each encrypting or decrypting 4 KiB units
 * in 512- or 4096-byte sectors, and their total throughput.  They are
 * printed as "all-cores CIPHER SECTOR OP THREADS MB/s" for
 * tests/bench/luks.sh.
 *
 * STRATA_BENCH_CRYPTSETUP_SHA256, when set (tests/bench/run.sh sets it from
 * `cryptsetup benchmark --hash sha256`), is printed next to strata's
 * PBKDF2-sha256 figure with the ratio.  STRATA_BENCH_QUICK=1 shortens every
 * measurement. */
#include <strata/crypto.h>
#include <strata/kdf.h>
#include <strata/strata.h>

#include <gcrypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUF_LEN (1u << 20)

static double measure_s = 0.2;
static const int rounds = 3;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct combo {
    const char *alg, *mode, *ivgen;
    size_t keylen;       /* whole key */
    int galgo, gmode;
};

static const struct combo combos[] = {
    { "aes", "xts", "plain64", 64, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_XTS },
    { "aes", "xts", "plain64", 32, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_XTS },
    { "aes", "cbc", "essiv:sha256", 32, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_CBC },
    { "aes", "cbc", "plain64", 16, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_CBC },
    { "aes", "ctr", "plain64", 32, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_CTR },
    { "aes", "ecb", NULL, 32, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_ECB },
    { "serpent", "xts", "plain64", 64, GCRY_CIPHER_SERPENT256, GCRY_CIPHER_MODE_XTS },
    { "serpent", "cbc", "essiv:sha256", 32, GCRY_CIPHER_SERPENT256, GCRY_CIPHER_MODE_CBC },
    { "twofish", "xts", "plain64", 64, GCRY_CIPHER_TWOFISH, GCRY_CIPHER_MODE_XTS },
    { "twofish", "cbc", "plain64", 32, GCRY_CIPHER_TWOFISH, GCRY_CIPHER_MODE_CBC },
    { "cast5", "cbc", "plain64", 16, GCRY_CIPHER_CAST5, GCRY_CIPHER_MODE_CBC },
    { "sm4", "xts", "plain64", 32, GCRY_CIPHER_SM4, GCRY_CIPHER_MODE_XTS },
    { "sm4", "cbc", "plain64", 16, GCRY_CIPHER_SM4, GCRY_CIPHER_MODE_CBC },
};

/* ------------------------------------------------------------ raw libgcrypt */
struct raw {
    gcry_cipher_hd_t hd, essiv;
    const struct combo *cb;
    size_t blk;
};

static int raw_open(struct raw *r, const struct combo *cb, const uint8_t *key)
{
    memset(r, 0, sizeof(*r));
    r->cb = cb;
    r->blk = gcry_cipher_get_algo_blklen(cb->galgo);
    if (gcry_cipher_open(&r->hd, cb->galgo, cb->gmode, 0) ||
        gcry_cipher_setkey(r->hd, key, cb->keylen))
        return -1;
    if (cb->ivgen && strncmp(cb->ivgen, "essiv:", 6) == 0) {
        uint8_t salt[32];
        gcry_md_hash_buffer(GCRY_MD_SHA256, salt, key, cb->keylen);
        if (gcry_cipher_open(&r->essiv, cb->galgo, GCRY_CIPHER_MODE_ECB, 0) ||
            gcry_cipher_setkey(r->essiv, salt, 32))
            return -1;
    }
    return 0;
}

static void raw_close(struct raw *r)
{
    gcry_cipher_close(r->hd);
    if (r->essiv)
        gcry_cipher_close(r->essiv);
}

static void raw_run(struct raw *r, bool enc, uint64_t sector, size_t ss, uint8_t *buf,
                    size_t len)
{
    uint8_t iv[16] = { 0 };
    for (size_t off = 0; off < len; off += ss, sector++) {
        if (r->cb->gmode != GCRY_CIPHER_MODE_ECB) {
            memset(iv, 0, sizeof(iv));
            for (int i = 0; i < 8; i++)
                iv[i] = (uint8_t)(sector >> (8 * i));
            if (r->essiv)
                gcry_cipher_encrypt(r->essiv, iv, r->blk, NULL, 0);
            if (r->cb->gmode == GCRY_CIPHER_MODE_CTR)
                gcry_cipher_setctr(r->hd, iv, r->blk);
            else
                gcry_cipher_setiv(r->hd, iv, r->blk);
        }
        if (enc)
            gcry_cipher_encrypt(r->hd, buf + off, ss, NULL, 0);
        else
            gcry_cipher_decrypt(r->hd, buf + off, ss, NULL, 0);
    }
}

/* ------------------------------------------------------------ measuring */
static double rate_strata(struct strata_cipher *c, bool enc, size_t ss, uint8_t *buf)
{
    double t0 = now(), t;
    uint64_t bytes = 0, sector = 0;
    do {
        int r = enc ? strata_cipher_encrypt_sectors(c, sector, ss, buf, buf, BUF_LEN, NULL)
                    : strata_cipher_decrypt_sectors(c, sector, ss, buf, buf, BUF_LEN, NULL);
        if (r < 0) {
            fprintf(stderr, "strata %s failed\n", strata_cipher_name(c));
            exit(1);
        }
        bytes += BUF_LEN;
        sector += BUF_LEN / ss;
        t = now() - t0;
    } while (t < measure_s);
    return (double)bytes / t / 1e6;
}

static double rate_raw(struct raw *r, bool enc, size_t ss, uint8_t *buf)
{
    double t0 = now(), t;
    uint64_t bytes = 0, sector = 0;
    do {
        raw_run(r, enc, sector, ss, buf, BUF_LEN);
        bytes += BUF_LEN;
        sector += BUF_LEN / ss;
        t = now() - t0;
    } while (t < measure_s);
    return (double)bytes / t / 1e6;
}

static void bench_ciphers(void)
{
    uint8_t *buf = malloc(BUF_LEN), key[64];
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(i * 13 + 1);
    memset(buf, 0x5a, BUF_LEN);
    printf("%-40s %6s %4s %12s %12s %7s\n", "cipher", "sector", "op", "strata MB/s",
           "gcrypt MB/s", "ratio");
    for (size_t i = 0; i < sizeof(combos) / sizeof(combos[0]); i++) {
        const struct combo *cb = &combos[i];
        struct strata_cipher *c;
        struct strata_error *err = NULL;
        if (strata_cipher_open(cb->alg, cb->mode, cb->ivgen, key, cb->keylen, &c, &err) < 0) {
            printf("%s-%s-%s: %s\n", cb->alg, cb->mode, cb->ivgen ? cb->ivgen : "",
                   err->msg);
            strata_error_free(err);
            continue;
        }
        struct raw r;
        if (raw_open(&r, cb, key) < 0) {
            printf("%s-%s: libgcrypt refused the same setup\n", cb->alg, cb->mode);
            strata_cipher_free(c);
            continue;
        }
        char name[64];
        snprintf(name, sizeof(name), "%s-%s%s%s (%zu-bit key)", cb->alg, cb->mode,
                 cb->ivgen ? "-" : "", cb->ivgen ? cb->ivgen : "", cb->keylen * 8);
        static const size_t sizes[] = { 512, 4096 };
        for (int s = 0; s < 2; s++)
            for (int e = 1; e >= 0; e--) {
                double best_s = 0, best_r = 0;
                for (int k = 0; k < rounds; k++) {
                    double a = rate_strata(c, e, sizes[s], buf);
                    double b = rate_raw(&r, e, sizes[s], buf);
                    best_s = a > best_s ? a : best_s;
                    best_r = b > best_r ? b : best_r;
                }
                printf("%-40s %6zu %4s %12.1f %12.1f %7.3f\n", name, sizes[s],
                       e ? "enc" : "dec", best_s, best_r, best_s / best_r);
                fflush(stdout);
            }
        raw_close(&r);
        strata_cipher_free(c);
    }
    free(buf);
}

/* ------------------------------------------------------------ all cores */
#define UNIT 4096u

struct core_run {
    const struct combo *cb;
    const uint8_t *key;
    bool enc;
    size_t ss;
    pthread_barrier_t *start;
    uint64_t bytes;
    double secs;
    pthread_t tid;
};

static void *core_main(void *arg)
{
    struct core_run *c = arg;
    struct raw r;
    uint8_t buf[UNIT];
    memset(buf, 0x5a, sizeof(buf));
    if (raw_open(&r, c->cb, c->key) < 0) {
        fprintf(stderr, "libgcrypt refused %s-%s\n", c->cb->alg, c->cb->mode);
        exit(1);
    }
    pthread_barrier_wait(c->start);
    double t0 = now(), t;
    uint64_t sector = 0;
    do {
        raw_run(&r, c->enc, sector, c->ss, buf, UNIT);
        c->bytes += UNIT;
        sector += UNIT / c->ss;
        t = now() - t0;
    } while (t < measure_s * 2);
    c->secs = t;
    raw_close(&r);
    return NULL;
}

static double rate_all_cores(const struct combo *cb, const uint8_t *key, bool enc, size_t ss,
                             unsigned n)
{
    struct core_run runs[256];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, n);
    for (unsigned i = 0; i < n; i++) {
        runs[i] = (struct core_run){ .cb = cb, .key = key, .enc = enc, .ss = ss,
                                     .start = &start };
        if (pthread_create(&runs[i].tid, NULL, core_main, &runs[i])) {
            fprintf(stderr, "cannot start a thread\n");
            exit(1);
        }
    }
    double total = 0, secs = 0;
    for (unsigned i = 0; i < n; i++) {
        pthread_join(runs[i].tid, NULL);
        total += (double)runs[i].bytes;
        secs = runs[i].secs > secs ? runs[i].secs : secs;
    }
    pthread_barrier_destroy(&start);
    return total / secs / 1e6;
}

static void bench_all_cores(void)
{
    uint8_t key[64];
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(i * 13 + 1);
    unsigned n = strata_workers_threads();
    printf("\nraw libgcrypt on every core: %u threads, each with its own handle, 4 KiB units\n",
           n);
    printf("%-9s %-30s %6s %4s %7s %12s %12s\n", "", "cipher", "sector", "op", "threads",
           "MB/s", "1 thread");
    for (size_t i = 0; i < 2; i++) {     /* aes-xts-plain64, 512- and 256-bit keys */
        const struct combo *cb = &combos[i];
        char name[64];
        snprintf(name, sizeof(name), "%s-%s-%s(%zu-bit)", cb->alg, cb->mode, cb->ivgen,
                 cb->keylen * 8);
        static const size_t sizes[] = { 512, 4096 };
        for (int s = 0; s < 2; s++)
            for (int e = 1; e >= 0; e--) {
                double all = 0, one = 0;
                for (int k = 0; k < rounds; k++) {
                    double a = rate_all_cores(cb, key, e, sizes[s], n);
                    double b = rate_all_cores(cb, key, e, sizes[s], 1);
                    all = a > all ? a : all;
                    one = b > one ? b : one;
                }
                printf("%-9s %-30s %6zu %4s %7u %12.1f %12.1f\n", "all-cores", name,
                       sizes[s], e ? "enc" : "dec", n, all, one);
                fflush(stdout);
            }
    }
}

static double raw_pbkdf2_ips(int galgo, size_t keylen)
{
    uint8_t out[64], salt[32] = { 0 };
    for (unsigned long it = 1000;; it *= 2) {
        double t0 = now();
        gcry_kdf_derive("strata-benchmark", 16, GCRY_KDF_PBKDF2, galgo, salt, 32, it, keylen,
                        out);
        double t = now() - t0;
        if (t >= 0.5)
            return (double)it / t;
    }
}

static void bench_pbkdf2(void)
{
    static const struct { const char *name; int galgo; size_t keylen; } h[] = {
        { "sha1", GCRY_MD_SHA1, 32 },        { "sha256", GCRY_MD_SHA256, 32 },
        { "sha512", GCRY_MD_SHA512, 32 },    { "ripemd160", GCRY_MD_RMD160, 32 },
        { "whirlpool", GCRY_MD_WHIRLPOOL, 32 }, { "sm3", GCRY_MD_SM3, 32 },
    };
    const char *cs = getenv("STRATA_BENCH_CRYPTSETUP_SHA256");
    printf("\n%-12s %16s %16s %7s\n", "PBKDF2", "strata iter/s", "gcrypt iter/s", "ratio");
    for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
        uint64_t ips = 0;
        struct strata_error *err = NULL;
        if (strata_pbkdf2_benchmark(h[i].name, h[i].keylen, &ips, &err) < 0) {
            printf("%s: %s\n", h[i].name, err->msg);
            strata_error_free(err);
            continue;
        }
        double raw = raw_pbkdf2_ips(h[i].galgo, h[i].keylen);
        printf("%-12s %16llu %16.0f %7.3f\n", h[i].name, (unsigned long long)ips, raw,
               (double)ips / raw);
        if (strcmp(h[i].name, "sha256") == 0 && cs && *cs)
            printf("%-12s %16s %16s %7.3f   (cryptsetup benchmark: %s iterations per "
                   "second for 256-bit key)\n", "  vs cryptsetup", "", cs,
                   (double)ips / strtod(cs, NULL), cs);
        fflush(stdout);
    }
}

static double raw_argon2id_s(const struct strata_kdf_params *p, uint8_t *out, size_t outlen)
{
    static const uint8_t salt[32];
    const unsigned long param[4] = { outlen, p->iterations, p->memory_kib, p->parallel };
    gcry_kdf_hd_t hd;
    double t0 = now();
    if (gcry_kdf_open(&hd, GCRY_KDF_ARGON2, GCRY_KDF_ARGON2ID, param, 4, "strata-benchmark",
                      16, salt, sizeof(salt), NULL, 0, NULL, 0) ||
        gcry_kdf_compute(hd, NULL) || gcry_kdf_final(hd, outlen, out)) {
        fprintf(stderr, "libgcrypt argon2id failed\n");
        exit(1);
    }
    gcry_kdf_close(hd);
    return now() - t0;
}

static double strata_argon2id_s(const struct strata_kdf_params *p, uint8_t *out,
                                size_t outlen)
{
    static const uint8_t salt[32];
    struct strata_error *err = NULL;
    double t0 = now();
    if (strata_kdf_derive("argon2id", p, "strata-benchmark", 16, salt, sizeof(salt), out,
                          outlen, &err) < 0) {
        fprintf(stderr, "strata argon2id: %s\n", err->msg);
        exit(1);
    }
    return now() - t0;
}

static void bench_argon2(void)
{
    static const struct strata_kdf_params params[] = {
        { .iterations = 4, .memory_kib = 65536, .parallel = 4 },
        { .iterations = 4, .memory_kib = 65536, .parallel = 1 },
    };
    printf("\n%-34s %11s %11s %7s\n", "Argon2id", "strata ms", "gcrypt ms", "ratio");
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        const struct strata_kdf_params *p = &params[i];
        uint8_t a[32], b[32];
        double best_s = 1e9, best_r = 1e9;
        for (int k = 0; k < rounds; k++) {
            double s = strata_argon2id_s(p, a, sizeof(a));
            double r = raw_argon2id_s(p, b, sizeof(b));
            best_s = s < best_s ? s : best_s;
            best_r = r < best_r ? r : best_r;
        }
        if (memcmp(a, b, sizeof(a)) != 0) {
            fprintf(stderr, "argon2id: strata and libgcrypt give different keys\n");
            exit(1);
        }
        char name[64];
        snprintf(name, sizeof(name), "m=%u MiB p=%u t=%u", p->memory_kib / 1024, p->parallel,
                 p->iterations);
        /* Ratio as speed: above 1 means strata is faster. */
        printf("%-34s %11.1f %11.1f %7.3f\n", name, best_s * 1e3, best_r * 1e3,
               best_r / best_s);
        fflush(stdout);
    }
}

int main(void)
{
    struct strata_error *err = NULL;
    if (getenv("STRATA_BENCH_QUICK"))
        measure_s = 0.02;
    /* Loads the aes module, which also sets libgcrypt up for the raw loops. */
    if (strata_init(&err) < 0 || !strata_cipher_alg_find("aes", &err)) {
        fprintf(stderr, "%s\n", err ? err->msg : "strata_init failed");
        return 1;
    }
    printf("libgcrypt %s\n\n", gcry_check_version(NULL));
    bench_ciphers();
    bench_all_cores();
    bench_pbkdf2();
    bench_argon2();
    return 0;
}
