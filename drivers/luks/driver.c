/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* driver.c - the luks block driver: a LUKS volume whose header and key
 * material sit at the start of the "file" child, or in a separate "header"
 * child (detached header) with the payload in "file".  The header's version
 * field picks the encryption format that reads it: LUKS1 is built in, other
 * versions (LUKS2: driver-luks2.so) are found by family and version. */
#include "luks-int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <strata/plugin.h>
#include <strata/strata.h>

#include "bounce.h"
#include "prealloc.h"

/* Payload is encrypted and written in batches of this size through a
 * bounce buffer.  Writers running at once each borrow one from a pool that
 * grows to the number of concurrent writers and is freed at close. */
#define LUKS_BATCH (1024u * 1024u)

struct luks_state {
    struct strata_node *file;     /* payload */
    struct strata_node *header;   /* header + key material (== file unless detached) */
    struct strata_crypto_hdr_io io;
    const struct strata_crypto_format *fmt;
    struct strata_crypto_ctx *ctx;
    struct strata_cipher *cipher;
    uint64_t payload_off;
    uint32_t sector;              /* unit of encryption, 512..4096 */
    struct strata_crypto_payload pl;
    bool io_ready;                /* unlocked, and opened for data I/O */
    bool header_only;             /* a detached header opened on its own */
    /* The driver takes concurrent requests: the pool is shared by writers,
     * and info/amend, which read and rewrite the header state, exclude each
     * other. */
    struct bounce_pool pool;
    pthread_mutex_t hdr_lock;
};

static const struct strata_child_role luks_children[] = {
    { "file", STRATA_CHILD_PROTOCOL | STRATA_CHILD_PRIMARY },
    { "header", STRATA_CHILD_PROTOCOL | STRATA_CHILD_METADATA },
    { NULL },
};
static const char *const luks2_pbkdf_choices[] = { "argon2id", "argon2i", "pbkdf2", NULL };

static const struct strata_opt_desc luks_open_options[] = {
    { .name = "key-secret", .type = STRATA_OPT_STRING,
      .help = "id of the secret holding the passphrase" },
    { .name = "keyslot", .type = STRATA_OPT_NUMBER,
      .help = "try the passphrase on this key slot only (default: every active one)" },
    { NULL },
};

/* The format's create options, LUKS2's, and what only the block driver has. */
static const struct strata_opt_desc luks_create_options[] = {
    { .name = "luks-version", .type = STRATA_OPT_NUMBER, .def = "1",
      .help = "1 (LUKS1, QEMU's format) or 2 (LUKS2, cryptsetup's default)" },
    LUKS_CREATE_OPTION_DESCS
    { .name = "pbkdf", .type = STRATA_OPT_ENUM, .choices = luks2_pbkdf_choices,
      .help = "LUKS2: key derivation, argon2id (default), argon2i or pbkdf2" },
    { .name = "pbkdf-memory", .type = STRATA_OPT_NUMBER,
      .help = "LUKS2: argon2 memory in KiB (default 1048576, at most half of RAM)" },
    { .name = "pbkdf-parallel", .type = STRATA_OPT_NUMBER,
      .help = "LUKS2: argon2 lanes (default min(4, CPUs))" },
    { .name = "pbkdf-force-iterations", .type = STRATA_OPT_NUMBER,
      .help = "LUKS2: argon2 passes or pbkdf2 iterations instead of iter-time" },
    { .name = "sector-size", .type = STRATA_OPT_NUMBER,
      .help = "LUKS2: encryption sector size 512..4096 (default 4096 when the size "
              "allows)" },
    { .name = "label", .type = STRATA_OPT_STRING, .help = "LUKS2: header label" },
    { .name = "subsystem", .type = STRATA_OPT_STRING, .help = "LUKS2: header subsystem" },
    { .name = "metadata-size", .type = STRATA_OPT_SIZE,
      .help = "LUKS2: size of each header copy, 16K (default) to 4M" },
    { .name = "keyslots-size", .type = STRATA_OPT_SIZE,
      .help = "LUKS2: size of the keyslots area (default: up to the 16 MiB data offset)" },
    { .name = "detached-header", .type = STRATA_OPT_BOOL, .def = "off",
      .help = "write only the header and key material (to header.filename when "
              "given, with the payload in the image file; else to the image file)" },
    { .name = "preallocation", .type = STRATA_OPT_ENUM, .def = "off",
      .choices = prealloc_names,
      .help = "payload preallocation: off, metadata, falloc or full" },
    { NULL },
};

static const char *const luks2_priority_choices[] = { "prefer", "normal", "ignore", NULL };

/* LUKS1's amend options and what LUKS2 adds (refused for LUKS1). */
#define LUKS2_ONLY_AMEND_DESCS \
    { .name = "pbkdf", .type = STRATA_OPT_ENUM, .choices = luks2_pbkdf_choices, \
      .help = "LUKS2: key derivation for the new keyslot (default argon2id)" }, \
    { .name = "pbkdf-memory", .type = STRATA_OPT_NUMBER, \
      .help = "LUKS2: argon2 memory in KiB for the new keyslot" }, \
    { .name = "pbkdf-parallel", .type = STRATA_OPT_NUMBER, \
      .help = "LUKS2: argon2 lanes for the new keyslot" }, \
    { .name = "pbkdf-force-iterations", .type = STRATA_OPT_NUMBER, \
      .help = "LUKS2: argon2 passes or pbkdf2 iterations instead of iter-time" }, \
    { .name = "priority", .type = STRATA_OPT_ENUM, .choices = luks2_priority_choices, \
      .help = "LUKS2: keyslot priority (with keyslot=, alone or with state=active)" },
static const struct strata_opt_desc luks2_only_amend[] = { LUKS2_ONLY_AMEND_DESCS { NULL } };
static const struct strata_opt_desc luks_driver_amend_options[] = {
    LUKS_AMEND_OPTION_DESCS
    LUKS2_ONLY_AMEND_DESCS
    { .name = "luks-version", .type = STRATA_OPT_NUMBER,
      .help = "convert the header in place to this LUKS version (alone; no key needed)" },
    { NULL },
};

static int luks_hdr_read(void *opaque, uint64_t off, void *buf, size_t len,
                         struct strata_error **errp)
{
    return strata_pread(opaque, off, len, buf, 0, errp);
}

static int luks_hdr_write(void *opaque, uint64_t off, const void *buf, size_t len,
                          struct strata_error **errp)
{
    return strata_pwrite(opaque, off, len, buf, 0, errp);
}

static int luks_hdr_flush(void *opaque, struct strata_error **errp)
{
    return strata_flush(opaque, errp);
}

/* A new header region is grown to its full size at once, so that key
 * material writes land inside the file. */
static int luks_hdr_init(void *opaque, uint64_t len, struct strata_error **errp)
{
    struct strata_node *n = opaque;
    int64_t cur = strata_get_length(n);
    if (cur < 0)
        return strata_error_set(errp, (int)-cur, "%s: cannot get size",
                                strata_node_filename(n));
    if ((uint64_t)cur >= len)
        return 0;
    return strata_truncate(n, len, false, STRATA_PREALLOC_OFF, errp);
}

static void luks_setup_io(struct luks_state *s, struct strata_node *hdr, bool writable)
{
    s->io.opaque = hdr;
    s->io.read = luks_hdr_read;
    s->io.write = writable ? luks_hdr_write : NULL;
    s->io.flush = writable ? luks_hdr_flush : NULL;
    s->io.init = luks_hdr_init;
    s->io.name = strata_node_filename(hdr);
}

/* Every LUKS version is claimed here, also those no loaded module reads:
 * opening then fails naming the version, instead of the volume passing for
 * raw data that a write would destroy. */
static int luks_probe(const uint8_t *buf, size_t len, const char *filename)
{
    return luks_any_magic(buf, len) ? 100 : 0;
}

/* A request this large or larger is shared out to the worker pool, in
 * pieces of at least this size: below it the hand-over costs more than the
 * cipher saves. */
#define LUKS_PIECE_MIN (64u * 1024u)

struct luks_crypt_job {
    struct luks_state *s;
    bool enc;
    uint64_t off;
    uint8_t *out;
    const uint8_t *in;
};

/* Bytes [at, at+len) of a job.  IVs may step by less than a sector (LUKS2
 * counts them in 512-byte units): then each sector is a call of its own. */
static int luks_crypt_piece(void *opaque, uint64_t at, uint64_t len,
                            struct strata_error **errp)
{
    const struct luks_crypt_job *j = opaque;
    const struct luks_state *s = j->s;
    uint32_t unit = s->pl.iv_unit ? s->pl.iv_unit : s->sector;
    size_t step = unit == s->sector ? (size_t)len : s->sector;
    for (uint64_t done = at; done < at + len; done += step) {
        uint64_t iv = s->pl.iv_offset + (j->off + done) / unit;
        uint8_t *o = j->out + done;
        const uint8_t *i = j->in + done;
        int r = j->enc ? strata_cipher_encrypt_sectors(s->cipher, iv, s->sector, o, i, step,
                                                       errp)
                       : strata_cipher_decrypt_sectors(s->cipher, iv, s->sector, o, i, step,
                                                       errp);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Encrypts or decrypts len bytes at payload offset off, a large request
 * on every core: pieces start on sector boundaries, so each sector keeps
 * the IV it has in a serial pass. */
static int luks_crypt(struct luks_state *s, bool enc, uint64_t off, void *out,
                      const void *in, size_t len, struct strata_error **errp)
{
    struct luks_crypt_job j = { .s = s, .enc = enc, .off = off, .out = out, .in = in };
    return strata_workers_split(len, s->sector, LUKS_PIECE_MIN, luks_crypt_piece, &j, errp);
}

static void luks_close(struct strata_node *node)
{
    struct luks_state *s = strata_node_state(node);
    if (s->fmt)
        s->fmt->close(s->ctx);
    s->ctx = NULL;
    s->cipher = NULL;
    s->io_ready = false;
    bounce_pool_destroy(&s->pool);
    pthread_mutex_destroy(&s->hdr_lock);
}

static int luks_open(struct strata_node *node, const struct strata_opts *opts,
                     unsigned flags, struct strata_error **errp)
{
    struct luks_state *s = strata_node_state(node);
    bounce_pool_init(&s->pool, LUKS_BATCH, 0, 0);
    pthread_mutex_init(&s->hdr_lock, NULL);
    int r = strata_node_open_child(node, "file", NULL, false, &s->file, errp);
    if (r < 0)
        goto fail;
    r = strata_node_open_child(node, "header", NULL, true, &s->header, errp);
    if (r < 0)
        goto fail;
    struct strata_node *hdr = s->header ? s->header : s->file;
    luks_setup_io(s, hdr, strata_node_writable(hdr));
    int64_t hlen = strata_get_length(hdr);
    if (hlen < 0) {
        r = strata_error_set(errp, (int)-hlen, "%s: cannot get size",
                             strata_node_filename(hdr));
        goto fail;
    }
    s->io.size = (uint64_t)hlen;
    s->io.init = NULL;

    s->fmt = strata_crypto_format_for_header(luks_format.name, &s->io, errp);
    if (!s->fmt) {
        r = -ENOTSUP;
        goto fail;
    }
    r = s->fmt->open(&s->io, opts, flags, &s->ctx, errp);
    if (r < 0)
        goto fail;
    s->fmt->get_cipher(s->ctx, &s->cipher, &s->payload_off, &s->sector);
    if (s->fmt->get_payload)
        s->fmt->get_payload(s->ctx, &s->pl);
    if (s->sector < LUKS_SECTOR || s->sector > 4096 || (s->sector & (s->sector - 1))) {
        r = strata_error_set(errp, EINVAL, "%s: unsupported LUKS sector size %" PRIu32,
                             strata_node_filename(hdr), s->sector);
        goto fail;
    }

    const char *dname = strata_node_filename(s->file);
    /* Where the key material really ends: the first cryptsetup releases
     * packed it without 4 KiB alignment, with the payload right after. */
    uint64_t hend = strcmp(s->fmt->name, luks_format.name) == 0
                        ? luks_material_end(s->ctx)
                        : s->fmt->header_length(s->ctx);
    if (!s->header && s->payload_off < hend && (flags & STRATA_O_NO_IO)) {
        /* A detached header file on its own: metadata, no payload. */
        s->header_only = true;
    } else if (!s->header && s->payload_off < hend) {
        r = strata_error_set(errp, EINVAL, "%s: LUKS payload offset %" PRIu64 " lies "
                             "inside the header and key material (%" PRIu64 " bytes); "
                             "a detached header needs its data file (header.filename=)",
                             dname, s->payload_off, hend);
        goto fail;
    }
    int64_t flen = strata_get_length(s->file);
    if (flen < 0) {
        r = strata_error_set(errp, (int)-flen, "%s: cannot get size", dname);
        goto fail;
    }
    if ((uint64_t)flen < s->payload_off && !s->header_only) {
        r = strata_error_set(errp, EINVAL, "%s: device is too small (%" PRId64 " bytes) "
                             "for its LUKS payload offset %" PRIu64, dname, flen,
                             s->payload_off);
        goto fail;
    }
    if (s->pl.size && !s->header_only && (uint64_t)flen - s->payload_off < s->pl.size) {
        r = strata_error_set(errp, EINVAL, "%s: device is too small (%" PRId64 " bytes) "
                             "for its LUKS payload of %" PRIu64 " bytes at offset %" PRIu64,
                             dname, flen, s->pl.size, s->payload_off);
        goto fail;
    }
    s->io_ready = s->cipher && !(flags & STRATA_O_NO_IO);
    struct strata_limits lim = { .request_alignment = s->sector };
    strata_node_set_limits(node, &lim);
    return 0;
fail:
    luks_close(node);
    return r;
}

static int64_t luks_length(struct strata_node *node, struct strata_error **errp)
{
    struct luks_state *s = strata_node_state(node);
    if (s->header_only)
        return 0;
    int64_t len = strata_node_length(s->file, errp);
    if (len < 0)
        return len;
    if ((uint64_t)len <= s->payload_off)
        return 0;
    uint64_t avail = (uint64_t)len - s->payload_off;
    if (s->pl.size && s->pl.size < avail)
        avail = s->pl.size;
    return (int64_t)(avail / s->sector * s->sector);
}

static int luks_need_key(struct luks_state *s, struct strata_error **errp)
{
    if (s->io_ready)
        return 0;
    return strata_error_set(errp, EACCES, "%s: the LUKS volume is not unlocked: "
                            "option 'key-secret' is required for I/O",
                            strata_node_filename(s->file));
}

static int luks_pread(struct strata_node *node, uint64_t off, uint64_t len, void *buf,
                      unsigned flags, struct strata_error **errp)
{
    struct luks_state *s = strata_node_state(node);
    int r = luks_need_key(s, errp);
    if (r < 0)
        return r;
    /* Ciphertext lands in the caller's buffer and is decrypted in place, in
     * one pass over the whole request. */
    r = strata_pread(s->file, s->payload_off + off, len, buf, flags, errp);
    if (r == 0)
        r = luks_crypt(s, false, off, buf, buf, len, errp);
    if (r < 0)
        memset(buf, 0, len);
    return r;
}

static int luks_pwrite(struct strata_node *node, uint64_t off, uint64_t len,
                       const void *buf, unsigned flags, struct strata_error **errp)
{
    struct luks_state *s = strata_node_state(node);
    int r = luks_need_key(s, errp);
    if (r < 0)
        return r;
    uint8_t *bounce = bounce_get(&s->pool);
    if (!bounce)
        return strata_error_set(errp, ENOMEM, "out of memory");
    /* The caller's buffer is never touched: ciphertext goes to the bounce
     * buffer, a batch at a time. */
    while (r == 0 && len > 0) {
        size_t n = len > LUKS_BATCH ? LUKS_BATCH : (size_t)len;
        r = luks_crypt(s, true, off, bounce, buf, n, errp);
        if (r == 0)
            r = strata_pwrite(s->file, s->payload_off + off, n, bounce, flags, errp);
        off += n;
        len -= n;
        buf = (const uint8_t *)buf + n;
    }
    bounce_put(&s->pool, bounce);
    return r;
}

static int luks_flush(struct strata_node *node, struct strata_error **errp)
{
    return 0;
}

static int64_t luks_allocated_size(struct strata_node *node, struct strata_error **errp)
{
    struct luks_state *s = strata_node_state(node);
    int64_t a = strata_node_allocated_size(s->file, errp);
    if (a >= 0 && s->header) {
        int64_t b = strata_get_allocated_size(s->header);
        if (b > 0)
            a += b;
    }
    return a;
}

static int luks_truncate(struct strata_node *node, uint64_t size, bool exact,
                         enum strata_prealloc prealloc, struct strata_error **errp)
{
    struct luks_state *s = strata_node_state(node);
    if (size % s->sector)
        return strata_error_set(errp, EINVAL, "%s: LUKS volume size %" PRIu64 " is not "
                                "a multiple of its sector size %" PRIu32,
                                strata_node_filename(s->file), size, s->sector);
    if (s->pl.size)
        return strata_error_set(errp, ENOTSUP, "%s: the LUKS payload has a fixed size "
                                "in its header; resizing it is not supported",
                                strata_node_filename(s->file));
    int64_t old = luks_length(node, errp);
    if (old < 0)
        return (int)old;
    int r = strata_truncate(s->file, s->payload_off + size, exact, prealloc, errp);
    if (r < 0 || size <= (uint64_t)old || !s->cipher)
        return r;
    /* Zeros on disk would decrypt to noise: new space gets encrypted zeros
     * so that it reads back as zeros, as a grown plain disk does. */
    uint8_t *zero = calloc(1, LUKS_BATCH);
    if (!zero)
        return strata_error_set(errp, ENOMEM, "out of memory");
    for (uint64_t off = (uint64_t)old; off < size && r == 0; off += LUKS_BATCH) {
        uint64_t n = size - off < LUKS_BATCH ? size - off : LUKS_BATCH;
        r = luks_pwrite(node, off, n, zero, 0, errp);
    }
    free(zero);
    return r;
}

static int luks_get_info(struct strata_node *node, struct strata_info *obj,
                         struct strata_error **errp)
{
    struct luks_state *s = strata_node_state(node);
    strata_info_add_bool(obj, "encrypted", true);
    pthread_mutex_lock(&s->hdr_lock);
    int r = s->fmt->get_info ? s->fmt->get_info(s->ctx, obj, errp) : 0;
    pthread_mutex_unlock(&s->hdr_lock);
    return r;
}

static int luks_convert(struct luks_state *s, const struct strata_opts *opts,
                        struct strata_error **errp);

static int luks_amend(struct strata_node *node, const struct strata_opts *opts,
                      bool force, struct strata_error **errp)
{
    struct luks_state *s = strata_node_state(node);
    if (strata_opts_get(opts, "luks-version"))
        return luks_convert(s, opts, errp);
    if (s->fmt->version == 1)
        for (const struct strata_opt_desc *d = luks2_only_amend; d->name; d++)
            if (strata_opts_get(opts, d->name))
                return strata_error_set(errp, EINVAL, "%s: option '%s' does not apply to "
                                        "LUKS version 1", strata_node_filename(s->file),
                                        d->name);
    pthread_mutex_lock(&s->hdr_lock);
    int r = s->fmt->amend ? s->fmt->amend(s->ctx, opts, force, errp)
                          : strata_error_set(errp, ENOTSUP, "%s: this LUKS version "
                                             "cannot be amended",
                                             strata_node_filename(s->file));
    pthread_mutex_unlock(&s->hdr_lock);
    return r;
}

/* What the header's format checks (LUKS2: its two header copies); LUKS1,
 * one copy and nothing redundant, has no checks, as for qemu-img. */
static int luks_check(struct strata_node *node, struct strata_check_result *res,
                      unsigned fix, struct strata_error **errp)
{
    struct luks_state *s = strata_node_state(node);
    if (!s->fmt->check)
        return strata_error_set(errp, ENOTSUP, "This image format does not support checks");
    pthread_mutex_lock(&s->hdr_lock);
    int r = s->fmt->check(s->ctx, res, fix, errp);
    pthread_mutex_unlock(&s->hdr_lock);
    return r;
}

/* The format luks-version names. */
static const struct strata_crypto_format *luks_create_format(const struct strata_opts *o,
                                                             struct strata_error **errp)
{
    uint64_t v = 1;
    if (strata_opts_get_u64(o, "luks-version", &v, errp) < 0)
        return NULL;
    if (v == 1)
        return &luks_format;
    struct strata_error *err = NULL;
    const struct strata_crypto_format *f =
        v <= UINT32_MAX ? strata_crypto_format_find_version("luks", (uint32_t)v, &err) : NULL;
    if (!f)
        strata_error_set(errp, ENOTSUP, "luks: luks-version %" PRIu64 " is not supported%s%s",
                         v, err ? ": " : "", err ? err->msg : "");
    strata_error_free(err);
    return f;
}

/* Rewrites the header as another version of the family (cryptsetup's
 * convert): the formats share a layout (strata/encryption.h), and the one
 * written makes sure a crash leaves the old header or the new one.  The
 * node is then open on the new header without a key: its payload, where it
 * was, is untouched, and reopening unlocks it. */
static int luks_convert(struct luks_state *s, const struct strata_opts *opts,
                        struct strata_error **errp)
{
    const char *name = strata_node_filename(s->header ? s->header : s->file);
    const char *k, *v;
    for (size_t i = 0; strata_opts_entry(opts, i, &k, &v); i++)
        if (strcmp(k, "luks-version") != 0)
            return strata_error_set(errp, EINVAL, "%s: luks-version converts the header "
                                    "and takes no other option (got '%s')", name, k);
    const struct strata_crypto_format *to = luks_create_format(opts, errp);
    if (!to)
        return -ENOTSUP;
    if (to == s->fmt)
        return 0;
    if (!s->fmt->export_layout || !to->import_layout)
        return strata_error_set(errp, ENOTSUP, "%s: LUKS version %" PRIu32 " cannot be "
                                "converted to version %" PRIu32, name, s->fmt->version,
                                to->version);
    if (!s->io.write)
        return strata_error_set(errp, EROFS, "%s: the LUKS header is read-only", name);
    struct strata_crypto_layout *l = calloc(1, sizeof *l);
    if (!l)
        return strata_error_set(errp, ENOMEM, "out of memory");
    pthread_mutex_lock(&s->hdr_lock);
    int r = s->fmt->export_layout(s->ctx, l, errp);
    if (r == 0)
        r = to->import_layout(&s->io, l, errp);
    if (r == 0) {
        s->fmt->close(s->ctx);
        s->ctx = NULL;
        s->cipher = NULL;
        s->io_ready = false;
        s->fmt = to;
        r = to->open(&s->io, NULL, STRATA_O_NO_IO, &s->ctx, errp);
        if (r == 0) {
            s->fmt->get_cipher(s->ctx, &s->cipher, &s->payload_off, &s->sector);
            memset(&s->pl, 0, sizeof s->pl);
            if (s->fmt->get_payload)
                s->fmt->get_payload(s->ctx, &s->pl);
        } else {
            strata_error_prefix(errp, "%s: converted, but the new header does not open",
                                name);
        }
    }
    pthread_mutex_unlock(&s->hdr_lock);
    strata_wipe(l, sizeof *l);
    free(l);
    return r;
}

static bool luks_opt_named(const struct strata_opt_desc *d, const char *k)
{
    for (; d->name; d++)
        if (strcmp(d->name, k) == 0)
            return true;
    return false;
}

/* Options of the create call that belong to the format; an option of
 * another LUKS version is refused, not dropped. */
static int luks_format_opts(const struct strata_crypto_format *fmt,
                            const struct strata_opts *o, struct strata_opts **out,
                            struct strata_error **errp)
{
    struct strata_opts *f = strata_opts_new();
    const char *k, *v;
    for (size_t i = 0; strata_opts_entry(o, i, &k, &v); i++) {
        if (luks_opt_named(fmt->create_options, k)) {
            strata_opts_set(f, k, v);
        } else if (luks_opt_named(luks_create_options, k) && strcmp(k, "luks-version") &&
                   strcmp(k, "detached-header") && strcmp(k, "preallocation")) {
            strata_opts_free(f);
            return strata_error_set(errp, EINVAL, "luks: option '%s' does not apply to "
                                    "LUKS version %" PRIu32, k, fmt->version);
        }
    }
    *out = f;
    return 0;
}

/* Makes a regular file readable by its owner only (0600), as cryptsetup
 * leaves a header backup; devices and non-file protocols stay as they are. */
static int keep_private(struct strata_node *node, struct strata_error **errp)
{
    const char *path = strata_node_filename(node);
    struct stat st;
    if (!path || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    if (chmod(path, S_IRUSR | S_IWUSR) < 0)
        return strata_error_set(errp, errno, "%s: cannot make the header file private: %s",
                                path, strerror(errno));
    return 0;
}

static int luks_create(struct strata_create *c, struct strata_error **errp)
{
    const struct strata_opts *o = strata_create_opts(c);
    uint64_t size = strata_create_size(c);
    bool detached = false;
    enum strata_prealloc prealloc;
    struct strata_node *file = NULL, *hdr = NULL;
    struct strata_crypto_ctx *ctx = NULL;
    struct strata_opts *fo = NULL;
    int r;

    if ((r = strata_opts_get_bool(o, "detached-header", &detached, errp)) < 0)
        return r;
    if (prealloc_parse(strata_opts_get(o, "preallocation"), &prealloc) < 0)
        return strata_error_set(errp, EINVAL, "luks: invalid preallocation '%s'",
                                strata_opts_get(o, "preallocation"));
    if (size % LUKS_SECTOR)
        return strata_error_set(errp, EINVAL, "luks: size %" PRIu64 " is not a multiple "
                                "of 512", size);
    bool header_child = strata_opts_get(o, "header.filename") != NULL;
    if (header_child)
        detached = true;
    if (!strata_opts_get(o, "key-secret"))
        return strata_error_set(errp, EINVAL, "luks: Parameter 'key-secret' is required "
                                "to create an encrypted image");

    struct strata_crypto_create_params cp = { .detached = detached };
    const struct strata_crypto_format *fmt = luks_create_format(o, errp);
    if (!fmt)
        return -ENOTSUP;
    if ((r = luks_format_opts(fmt, o, &fo, errp)) < 0)
        return r;
    /* A payload that is not whole 4 KiB sectors gets LUKS2's 512. */
    if (fmt->version == 2 && size % 4096 && !strata_opts_get(fo, "sector-size"))
        strata_opts_set(fo, "sector-size", "512");
    if ((r = strata_create_child(c, "file", 0, false, &file, errp)) < 0)
        goto out;
    if (header_child && (r = strata_create_child(c, "header", 0, false, &hdr, errp)) < 0)
        goto out;
    /* Before any key material is written: a file that holds only the
     * header is as secret as a key file. */
    if (detached && (r = keep_private(hdr ? hdr : file, errp)) < 0)
        goto out;
    struct strata_crypto_hdr_io io;
    struct luks_state tmp = { 0 };
    luks_setup_io(&tmp, hdr ? hdr : file, true);
    io = tmp.io;
    if ((r = fmt->create(&io, fo, &cp, &ctx, errp)) < 0)
        goto out;
    if (detached && !header_child)
        goto out;       /* header-only file: no payload */
    uint64_t payload_off;
    fmt->get_cipher(ctx, NULL, &payload_off, NULL);
    /* Not exact, as qemu: a block device or an NBD export that is larger
     * stays as it is, and the volume uses all of it. */
    r = strata_truncate(file, payload_off + size, false, prealloc, errp);
out:
    if (ctx)
        fmt->close(ctx);
    strata_opts_free(fo);
    if (hdr)
        strata_close(hdr);
    if (file)
        strata_close(file);
    return r;
}

static int luks_measure(const struct strata_opts *create_opts, uint64_t size,
                        struct strata_node *src, struct strata_measure *out,
                        struct strata_error **errp)
{
    const struct strata_crypto_format *fmt = luks_create_format(create_opts, errp);
    struct strata_opts *fo = NULL;
    if (!fmt)
        return -ENOTSUP;
    int r = luks_format_opts(fmt, create_opts, &fo, errp);
    if (r < 0)
        return r;
    bool detached = strata_opts_get(create_opts, "header.filename") != NULL;
    struct strata_crypto_create_params cp = { .detached = detached };
    uint64_t hdr;
    r = fmt->header_size(fo, &cp, &hdr, errp);
    strata_opts_free(fo);
    if (r < 0)
        return r;
    if (src) {
        int64_t l = strata_get_length(src);
        if (l < 0)
            return strata_error_set(errp, (int)-l, "%s: cannot get size",
                                    strata_node_filename(src));
        size = (uint64_t)l;
    }
    size = (size + LUKS_SECTOR - 1) / LUKS_SECTOR * LUKS_SECTOR;
    /* Encrypted data is never sparse: every byte is stored. */
    out->required = (detached ? 0 : hdr) + size;
    out->fully_allocated = out->required;
    return 0;
}

static const struct strata_driver luks_driver = {
    STRATA_DRIVER_HEAD,
    .name = "luks",
    .description = "LUKS1 encrypted volume (cryptsetup/QEMU compatible)",
    .kind = STRATA_DRIVER_FORMAT,
    .flags = STRATA_DRIVER_THREAD_SAFE,
    .state_size = sizeof(struct luks_state),
    .child_roles = luks_children,
    .open_options = luks_open_options,
    .create_options = luks_create_options,
    .amend_options = luks_driver_amend_options,
    .probe = luks_probe,
    .open = luks_open,
    .close = luks_close,
    .pread = luks_pread,
    .pwrite = luks_pwrite,
    .flush = luks_flush,
    .length = luks_length,
    .allocated_size = luks_allocated_size,
    .truncate = luks_truncate,
    .create = luks_create,
    .get_info = luks_get_info,
    .amend = luks_amend,
    .check = luks_check,
    .measure = luks_measure,
};

STRATA_PLUGIN("luks", .drivers = STRATA_DRIVERS(&luks_driver),
              .crypto_formats = STRATA_CRYPTO_FORMATS(&luks_format));
