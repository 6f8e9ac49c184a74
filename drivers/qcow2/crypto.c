/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crypto.c - encrypted qcow2.
 *
 * LUKS (crypt_method 2) uses the shared LUKS encryption format: its header
 * lives in the clusters named by the full-disk-encryption extension, and
 * each 512-byte sector's IV comes from its host offset, so copies of a
 * cluster (snapshots, COW) never reuse an IV for different data.
 *
 * The legacy AES scheme (crypt_method 1) is kept for rescuing data: the key
 * is the passphrase itself, there is no integrity and no password check,
 * and the IV is the virtual sector number.  Reading always warns; writing
 * and creating need encrypt.allow-insecure=on. */
#include "qcow2.h"

#include <errno.h>
#include <stdlib.h>

#include <strata/encryption.h>

static int hdr_read(void *opaque, uint64_t off, void *buf, size_t len,
                    struct strata_error **errp)
{
    struct qcow2_state *s = opaque;
    if (off + len > s->crypto_length)
        return strata_error_set(errp, EIO, "%s: encryption header read of %zu bytes at %llu "
                                "is past its %llu bytes", s->name, len,
                                (unsigned long long)off, (unsigned long long)s->crypto_length);
    return strata_pread(s->file, s->crypto_offset + off, len, buf, 0, errp);
}

static int hdr_write(void *opaque, uint64_t off, const void *buf, size_t len,
                     struct strata_error **errp)
{
    struct qcow2_state *s = opaque;
    if (off + len > s->crypto_length)
        return strata_error_set(errp, EIO, "%s: encryption header write past its end",
                                s->name);
    return strata_pwrite(s->file, s->crypto_offset + off, len, buf, 0, errp);
}

static int hdr_flush(void *opaque, struct strata_error **errp)
{
    struct qcow2_state *s = opaque;
    return strata_flush(s->file, errp);
}

static int hdr_init(void *opaque, uint64_t len, struct strata_error **errp)
{
    struct qcow2_state *s = opaque;
    uint64_t n = (len + s->cluster_size - 1) >> s->cluster_bits;
    uint64_t off;
    int r = qcow2_alloc_clusters(s, n ? n : 1, &off, errp);
    if (r < 0)
        return r;
    r = qcow2_cache_flush(s, s->rb_cache, errp);
    if (r < 0)
        return r;
    /* Unused bytes of the header clusters must read as zeros. */
    r = strata_pwrite_zeroes(s->file, off, n << s->cluster_bits, 0, errp);
    if (r < 0)
        return r;
    s->crypto_offset = off;
    s->crypto_length = len;
    s->has_crypto_ext = true;
    return 0;
}

struct qcow2_crypto {
    const struct strata_crypto_format *fmt;
    struct strata_crypto_ctx *ctx;
    struct strata_crypto_hdr_io io;
    uint32_t sector_size;
};

/* The LUKS header in a qcow2 file needs no payload alignment beyond 4 KiB:
 * its clusters hold only the header and key material. */
static const struct strata_crypto_create_params luks_params = { .payload_align = 4096 };

/* encrypt.* options for the encryption format: without our own keys. */
static struct strata_opts *format_opts(const struct strata_opts *opts)
{
    struct strata_opts *o = strata_opts_subset(opts, "encrypt");
    strata_opts_del(o, "format");
    strata_opts_del(o, "allow-insecure");
    return o;
}

static void warn_aes(struct qcow2_state *s)
{
    strata_warn("%s: the qcow2 AES encryption scheme is broken (no integrity, no password "
                "check, IVs from the virtual sector number); use it only to convert the "
                "data to a LUKS-encrypted image", s->name);
}

static int aes_key(struct qcow2_state *s, const struct strata_opts *opts,
                   struct strata_error **errp)
{
    const char *id = strata_opts_get(opts, "encrypt.key-secret");
    if (!id)
        return strata_error_set(errp, ENOKEY, "%s: the image is encrypted; give "
                                "encrypt.key-secret=ID", s->name);
    uint8_t *pw;
    size_t pwlen;
    int r = strata_secret_get(id, &pw, &pwlen, errp);
    if (r < 0)
        return r;
    uint8_t *key = strata_secure_alloc(16);
    if (!key) {
        strata_secret_free(pw, pwlen);
        return strata_error_set(errp, ENOMEM, "out of memory");
    }
    memset(key, 0, 16);
    memcpy(key, pw, pwlen < 16 ? pwlen : 16);
    strata_secret_free(pw, pwlen);
    r = strata_cipher_open("aes", "cbc", "plain64", key, 16, &s->cipher, errp);
    strata_secure_free(key, 16);
    return r;
}

/* A LUKS header state with the "luks" encryption format found. */
static int luks_new(struct qcow2_crypto **cp, struct strata_error **errp)
{
    struct qcow2_crypto *c = calloc(1, sizeof *c);
    if (!c)
        return strata_error_set(errp, ENOMEM, "out of memory");
    c->fmt = strata_crypto_format_find("luks", errp);
    if (!c->fmt) {
        free(c);
        return -ENOENT;
    }
    *cp = c;
    return 0;
}

int qcow2_crypto_open(struct qcow2_state *s, const struct strata_opts *opts,
                      struct strata_error **errp)
{
    const char *fmtname = strata_opts_get(opts, "encrypt.format");
    bool insecure = false;
    int r = strata_opts_get_bool(opts, "encrypt.allow-insecure", &insecure, errp);
    if (r < 0)
        return r;
    if (s->crypt_method == QCOW2_CRYPT_NONE) {
        if (fmtname || strata_opts_get(opts, "encrypt.key-secret"))
            return strata_error_set(errp, EINVAL, "%s: encryption options were given but "
                                    "the image is not encrypted", s->name);
        return 0;
    }
    const char *have = s->crypt_method == QCOW2_CRYPT_AES ? "aes" : "luks";
    if (fmtname && strcmp(fmtname, have))
        return strata_error_set(errp, EINVAL, "%s: encrypt.format=%s given but the image "
                                "is encrypted with %s", s->name, fmtname, have);
    if (s->crypt_method == QCOW2_CRYPT_AES) {
        warn_aes(s);
        s->aes_write_ok = insecure;
        if (s->no_io)
            return 0;
        return aes_key(s, opts, errp);
    }
    struct qcow2_crypto *c;
    r = luks_new(&c, errp);
    if (r < 0)
        return r;
    c->io = (struct strata_crypto_hdr_io){ .opaque = s, .read = hdr_read,
                                           .write = s->rw ? hdr_write : NULL,
                                           .flush = hdr_flush, .size = s->crypto_length,
                                           .name = s->name };
    /* Without a key the format would name its own option, 'key-secret'; it
     * still reads and checks the header first, so that a damaged header is
     * reported as such, and the missing key is reported here. */
    bool keyless = !s->no_io && !strata_opts_get(opts, "encrypt.key-secret");
    struct strata_opts *fo = format_opts(opts);
    r = c->fmt->open(&c->io, fo, s->no_io || keyless ? STRATA_O_NO_IO : 0, &c->ctx, errp);
    strata_opts_free(fo);
    if (r < 0) {
        free(c);
        return r;
    }
    if (keyless) {
        c->fmt->close(c->ctx);
        free(c);
        return strata_error_set(errp, ENOKEY, "%s: the image is LUKS-encrypted: option "
                                "'encrypt.key-secret' is required to open it for I/O",
                                s->name);
    }
    s->crypto_hdr = c;
    uint64_t payload;
    c->fmt->get_cipher(c->ctx, &s->cipher, &payload, &c->sector_size);
    if (!c->sector_size)
        c->sector_size = 512;
    return 0;
}

void qcow2_crypto_close(struct qcow2_state *s)
{
    struct qcow2_crypto *c = s->crypto_hdr;
    if (c) {
        c->fmt->close(c->ctx);      /* owns the cipher */
        free(c);
        s->crypto_hdr = NULL;
    } else if (s->cipher) {
        strata_cipher_free(s->cipher);
    }
    s->cipher = NULL;
}

/* A run of several clusters is shared out to the worker pool in pieces of
 * at least this size; a smaller one is done by the caller alone. */
#define QCOW2_CRYPT_PIECE_MIN (64u * 1024u)

struct qcow2_crypt_job {
    struct strata_cipher *cipher;
    bool enc;
    uint64_t sector;        /* IV of buf's first sector */
    uint32_t ss;
    uint8_t *buf;
};

static int crypt_piece(void *opaque, uint64_t at, uint64_t len, struct strata_error **errp)
{
    const struct qcow2_crypt_job *j = opaque;
    uint64_t iv = j->sector + at / j->ss;
    uint8_t *p = j->buf + at;
    return j->enc ? strata_cipher_encrypt_sectors(j->cipher, iv, j->ss, p, p, len, errp)
                  : strata_cipher_decrypt_sectors(j->cipher, iv, j->ss, p, p, len, errp);
}

int qcow2_crypt(struct qcow2_state *s, bool enc, uint64_t host, uint64_t guest, uint8_t *buf,
                size_t len, struct strata_error **errp)
{
    if (!s->cipher)
        return strata_error_set(errp, EPERM, "%s: no key loaded for the encrypted image",
                                s->name);
    struct qcow2_crypto *c = s->crypto_hdr;
    uint32_t ss = c ? c->sector_size : 512;
    uint64_t sector = c ? host / ss : guest / 512;
    if ((c ? host : guest) % ss || len % ss)
        return strata_error_set(errp, EINVAL, "%s: encrypted I/O of %zu bytes at 0x%llx is "
                                "not sector aligned", s->name, len,
                                (unsigned long long)(c ? host : guest));
    /* Pieces start on sector boundaries, so every sector keeps its IV. */
    struct qcow2_crypt_job j = { .cipher = s->cipher, .enc = enc, .sector = sector, .ss = ss,
                                 .buf = buf };
    return strata_workers_split(len, ss, QCOW2_CRYPT_PIECE_MIN, crypt_piece, &j, errp);
}

int qcow2_crypto_create(struct qcow2_state *s, const struct strata_opts *opts,
                        struct strata_error **errp)
{
    const char *fmtname = strata_opts_get(opts, "encrypt.format");
    bool legacy = false, insecure = false;
    int r;
    if ((r = strata_opts_get_bool(opts, "encryption", &legacy, errp)) < 0 ||
        (r = strata_opts_get_bool(opts, "encrypt.allow-insecure", &insecure, errp)) < 0)
        return r;
    if (legacy)
        fmtname = "aes";
    if (!strcmp(fmtname, "aes")) {
        if (!insecure)
            return strata_error_set(errp, EPERM, "%s: creating images with the legacy AES "
                                    "encryption is refused (it is insecure); use "
                                    "encrypt.format=luks, or pass encrypt.allow-insecure=on",
                                    s->name);
        warn_aes(s);
        r = aes_key(s, opts, errp);
        if (r < 0)
            return r;
        s->crypt_method = QCOW2_CRYPT_AES;
        s->aes_write_ok = true;
        return qcow2_write_header(s, errp);
    }
    /* Checked here, not left to the format, which knows the option as
     * 'key-secret'. */
    if (!strata_opts_get(opts, "encrypt.key-secret"))
        return strata_error_set(errp, EINVAL, "%s: option 'encrypt.key-secret' is required "
                                "to create an encrypted image", s->name);
    struct qcow2_crypto *c;
    r = luks_new(&c, errp);
    if (r < 0)
        return r;
    c->io = (struct strata_crypto_hdr_io){ .opaque = s, .read = hdr_read, .write = hdr_write,
                                           .flush = hdr_flush, .init = hdr_init,
                                           .name = s->name };
    struct strata_opts *fo = format_opts(opts);
    /* The region's size is known only once init has run. */
    s->crypto_length = UINT64_MAX / 2;
    r = c->fmt->create(&c->io, fo, &luks_params, &c->ctx, errp);
    strata_opts_free(fo);
    if (r < 0) {
        free(c);
        return r;
    }
    c->io.size = s->crypto_length;
    s->crypto_hdr = c;
    uint64_t payload;
    c->fmt->get_cipher(c->ctx, &s->cipher, &payload, &c->sector_size);
    if (!c->sector_size)
        c->sector_size = 512;
    s->crypt_method = QCOW2_CRYPT_LUKS;
    r = qcow2_flush_all(s, errp);
    if (r == 0)
        r = qcow2_write_header(s, errp);
    if (r == 0) {
        struct strata_limits lim = { .request_alignment = 512, .opt_transfer = s->cluster_size };
        strata_node_set_limits(s->node, &lim);
    }
    return r;
}

int qcow2_crypto_info(struct qcow2_state *s, struct strata_info *obj,
                      struct strata_error **errp)
{
    struct qcow2_crypto *c = s->crypto_hdr;
    if (!c || !c->fmt->get_info)
        return 0;
    return c->fmt->get_info(c->ctx, obj, errp);
}

int qcow2_crypto_amend(struct qcow2_state *s, const struct strata_opts *opts, bool force,
                       struct strata_error **errp)
{
    struct qcow2_crypto *c = s->crypto_hdr;
    if (s->crypt_method != QCOW2_CRYPT_LUKS || !c)
        return strata_error_set(errp, ENOTSUP, "%s: key management needs a LUKS-encrypted "
                                "image", s->name);
    if (!c->fmt->amend)
        return strata_error_set(errp, ENOTSUP, "%s: the LUKS format cannot amend keys",
                                s->name);
    struct strata_opts *fo = format_opts(opts);
    int r = c->fmt->amend(c->ctx, fo, force, errp);
    strata_opts_free(fo);
    return r;
}

int qcow2_crypto_measure(const struct strata_opts *opts, uint64_t cluster_size,
                         uint64_t *bytes, struct strata_error **errp)
{
    *bytes = 0;
    const char *fmtname = strata_opts_get(opts, "encrypt.format");
    if (!fmtname || strcmp(fmtname, "luks") != 0)
        return 0;   /* legacy AES keeps no header */
    const struct strata_crypto_format *fmt = strata_crypto_format_find("luks", errp);
    if (!fmt)
        return -ENOENT;
    struct strata_opts *fo = format_opts(opts);
    uint64_t len;
    int r = fmt->header_size(fo, &luks_params, &len, errp);
    strata_opts_free(fo);
    if (r == 0)
        *bytes = qcow2_align_up(len, cluster_size);
    return r;
}
