/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* argon2.c - Argon2i and Argon2id (RFC 9106) from libgcrypt, with one
 * thread per lane.
 *
 * libgcrypt computes Argon2 slice by slice: for each slice it hands every
 * lane's segment to dispatch_job and then calls wait_all_jobs, so a
 * dispatcher that starts a thread per job and joins them all in the wait
 * runs the lanes in parallel.  Threads are started per slice rather than
 * kept in a pool: at most 16 lanes x 4 slices x passes creations, small
 * next to the megabytes each slice fills.  libgcrypt has been initialised by the core
 * before any module is loaded. */
#include <strata/kdf.h>
#include <strata/plugin.h>

#include <errno.h>
#include <gcrypt.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#if GCRYPT_VERSION_NUMBER < 0x010a00
#error "Argon2 needs libgcrypt 1.10 or later (gcry_kdf_open with GCRY_KDF_ARGON2)"
#endif

/* RFC 9106 section 3.1: at least 8 bytes of salt, a tag of 4 or more. */
#define ARGON2_MIN_SALT 8
#define ARGON2_MIN_TAG 4

struct lane_job {
    gcry_kdf_job_fn_t fn;
    void *priv;
};

/* The first job of a slice is kept for the calling thread, which would
 * otherwise only wait; the others get a thread each. */
struct dispatcher {
    struct lane_job own;
    bool have_own;
    pthread_t threads[STRATA_KDF_MAX_PARALLEL];
    struct lane_job jobs[STRATA_KDF_MAX_PARALLEL];
    unsigned running;
};

static void *lane_thread(void *arg)
{
    struct lane_job *j = arg;
    j->fn(j->priv);
    return NULL;
}

/* A job that gets no thread (all slots busy, or pthread_create failed) runs
 * here and now: slower, but the result is the same. */
static int dispatch_job(void *ctx, gcry_kdf_job_fn_t fn, void *priv)
{
    struct dispatcher *d = ctx;
    if (!d->have_own) {
        d->own = (struct lane_job){ fn, priv };
        d->have_own = true;
        return 0;
    }
    if (d->running < STRATA_KDF_MAX_PARALLEL) {
        struct lane_job *j = &d->jobs[d->running];
        j->fn = fn;
        j->priv = priv;
        if (pthread_create(&d->threads[d->running], NULL, lane_thread, j) == 0) {
            d->running++;
            return 0;
        }
    }
    fn(priv);
    return 0;
}

static int wait_all_jobs(void *ctx)
{
    struct dispatcher *d = ctx;
    if (d->have_own) {
        d->own.fn(d->own.priv);
        d->have_own = false;
    }
    for (unsigned i = 0; i < d->running; i++)
        pthread_join(d->threads[i], NULL);
    d->running = 0;
    return 0;
}

/* Argon2 with an optional secret and associated data (the self-tests need
 * them; keyslots use neither). */
static int argon2_run(int subalgo, const char *name, const struct strata_kdf_params *p,
                      const void *pass, size_t passlen, const void *salt, size_t saltlen,
                      const void *secret, size_t secretlen, const void *ad, size_t adlen,
                      void *out, size_t outlen, struct strata_error **errp)
{
    if (saltlen < ARGON2_MIN_SALT)
        return strata_error_set(errp, EINVAL, "%s: salt of %zu bytes is below the minimum "
                                "of %d", name, saltlen, ARGON2_MIN_SALT);
    /* Argon2 allows it, libgcrypt's gcry_kdf_open does not. */
    if (passlen == 0)
        return strata_error_set(errp, EINVAL, "%s: an empty passphrase cannot be used "
                                "(libgcrypt's Argon2 refuses it)", name);
    if (outlen < ARGON2_MIN_TAG || outlen > UINT32_MAX)
        return strata_error_set(errp, EINVAL, "%s: key length %zu out of range", name, outlen);
    if (p->iterations == 0 || p->parallel == 0 || p->parallel > STRATA_KDF_MAX_PARALLEL ||
        p->memory_kib < 8u * p->parallel)
        return strata_error_set(errp, EINVAL, "%s: invalid costs (t=%u, m=%u KiB, p=%u)",
                                name, p->iterations, p->memory_kib, p->parallel);
    /* libgcrypt's order: tag length, passes, memory, lanes. */
    const unsigned long param[4] = { outlen, p->iterations, p->memory_kib, p->parallel };
    gcry_kdf_hd_t hd;
    gcry_error_t e = gcry_kdf_open(&hd, GCRY_KDF_ARGON2, subalgo, param, 4, pass, passlen,
                                   salt, saltlen, secret, secretlen, ad, adlen);
    if (e)
        return strata_error_set(errp, gcry_err_code(e) == GPG_ERR_ENOMEM ? ENOMEM : EINVAL,
                                "%s: cannot start (%u KiB): %s", name, p->memory_kib,
                                gcry_strerror(e));
    struct dispatcher d = { .have_own = false };
    const gcry_kdf_thread_ops_t ops = { &d, dispatch_job, wait_all_jobs };
    e = gcry_kdf_compute(hd, p->parallel > 1 ? &ops : NULL);
    if (!e)
        e = gcry_kdf_final(hd, outlen, out);
    gcry_kdf_close(hd);
    if (e)
        return strata_error_set(errp, EIO, "%s: derivation failed: %s", name,
                                gcry_strerror(e));
    return 0;
}

/* RFC 9106 section 5: t=3, m=32 KiB, p=4, password 32 x 0x01, salt
 * 16 x 0x02, secret 8 x 0x03, associated data 12 x 0x04, 32-byte tag. */
static int rfc9106_selftest(int subalgo, const char *name, const uint8_t tag[32],
                            struct strata_error **errp)
{
    uint8_t pass[32], salt[16], secret[8], ad[12], out[32];
    memset(pass, 0x01, sizeof(pass));
    memset(salt, 0x02, sizeof(salt));
    memset(secret, 0x03, sizeof(secret));
    memset(ad, 0x04, sizeof(ad));
    const struct strata_kdf_params p = { .iterations = 3, .memory_kib = 32, .parallel = 4 };
    int r = argon2_run(subalgo, name, &p, pass, sizeof(pass), salt, sizeof(salt), secret,
                       sizeof(secret), ad, sizeof(ad), out, sizeof(out), errp);
    if (r < 0)
        return r;
    if (memcmp(out, tag, sizeof(out)) != 0)
        return strata_error_set(errp, EIO, "%s: RFC 9106 test vector gives a wrong tag", name);
    return 0;
}

static int argon2i_derive(const struct strata_kdf_params *params, const void *pass,
                          size_t passlen, const void *salt, size_t saltlen, void *out,
                          size_t outlen, struct strata_error **errp)
{
    return argon2_run(GCRY_KDF_ARGON2I, "argon2i", params, pass, passlen, salt, saltlen,
                      NULL, 0, NULL, 0, out, outlen, errp);
}

static int argon2id_derive(const struct strata_kdf_params *params, const void *pass,
                           size_t passlen, const void *salt, size_t saltlen, void *out,
                           size_t outlen, struct strata_error **errp)
{
    return argon2_run(GCRY_KDF_ARGON2ID, "argon2id", params, pass, passlen, salt, saltlen,
                      NULL, 0, NULL, 0, out, outlen, errp);
}

static int argon2i_selftest(struct strata_error **errp)
{
    static const uint8_t tag[32] = {
        0xc8, 0x14, 0xd9, 0xd1, 0xdc, 0x7f, 0x37, 0xaa, 0x13, 0xf0, 0xd7,
        0x7f, 0x24, 0x94, 0xbd, 0xa1, 0xc8, 0xde, 0x6b, 0x01, 0x6d, 0xd3,
        0x88, 0xd2, 0x99, 0x52, 0xa4, 0xc4, 0x67, 0x2b, 0x6c, 0xe8,
    };
    return rfc9106_selftest(GCRY_KDF_ARGON2I, "argon2i", tag, errp);
}

static int argon2id_selftest(struct strata_error **errp)
{
    static const uint8_t tag[32] = {
        0x0d, 0x64, 0x0d, 0xf5, 0x8d, 0x78, 0x76, 0x6c, 0x08, 0xc0, 0x37,
        0xa3, 0x4a, 0x8b, 0x53, 0xc9, 0xd0, 0x1e, 0xf0, 0x45, 0x2d, 0x75,
        0xb6, 0x5e, 0xb5, 0x25, 0x20, 0xe9, 0x6b, 0x01, 0xe6, 0x59,
    };
    return rfc9106_selftest(GCRY_KDF_ARGON2ID, "argon2id", tag, errp);
}

static const struct strata_kdf_alg argon2i_alg = {
    .abi_version = STRATA_KDF_ABI,
    .struct_size = sizeof(struct strata_kdf_alg),
    .name = "argon2i",
    .impl_name = "argon2i-gcrypt",
    .priority = 100,
    .derive = argon2i_derive,
    .selftest = argon2i_selftest,
};

static const struct strata_kdf_alg argon2id_alg = {
    .abi_version = STRATA_KDF_ABI,
    .struct_size = sizeof(struct strata_kdf_alg),
    .name = "argon2id",
    .impl_name = "argon2id-gcrypt",
    .priority = 100,
    .derive = argon2id_derive,
    .selftest = argon2id_selftest,
};

STRATA_PLUGIN("kdf-argon2", .kdfs = STRATA_KDFS(&argon2i_alg, &argon2id_alg));
