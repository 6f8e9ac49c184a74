/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create.c - new LUKS2 headers with cryptsetup 2.6's defaults: 16 KiB
 * metadata copies, a 16 MiB data offset, aes-xts-plain64 with a 512-bit
 * key, argon2id for about 2 s, 4096-byte sectors where the payload allows. */
#include "luks2-format.h"
#include "luks.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LUKS2_DEFAULT_OFFSET   (16u << 20)
#define LUKS2_ALIGN            (1u << 20)
#define LUKS2_MAX_KEYSLOTS     (128u << 20)
#define LUKS2_STRIPES          4000u

static const char *const mode_choices[] = { "ecb", "cbc", "xts", "ctr", NULL };
static const char *const ivgen_choices[] = { "plain", "plain64", "essiv", NULL };
const char *const luks2_pbkdf_choices[] = { "argon2id", "argon2i", "pbkdf2", NULL };

const struct strata_opt_desc luks2_create_opts[] = {
    { .name = "key-secret", .type = STRATA_OPT_STRING,
      .help = "id of the secret holding the passphrase for keyslot 0" },
    { .name = "cipher-alg", .type = STRATA_OPT_STRING, .def = "aes-256",
      .help = "block cipher and key size, as NAME-BITS (aes-128/192/256, ...)" },
    { .name = "cipher-mode", .type = STRATA_OPT_ENUM, .def = "xts",
      .choices = mode_choices, .help = "cipher mode" },
    { .name = "ivgen-alg", .type = STRATA_OPT_ENUM, .def = "plain64",
      .choices = ivgen_choices, .help = "IV generator" },
    { .name = "ivgen-hash-alg", .type = STRATA_OPT_STRING, .def = "sha256",
      .help = "hash for the essiv IV generator" },
    { .name = "hash-alg", .type = STRATA_OPT_STRING, .def = "sha256",
      .help = "hash for the anti-forensic splitter, the digest and pbkdf2" },
    LUKS2_KDF_OPTION_DESCS
    { .name = "sector-size", .type = STRATA_OPT_NUMBER,
      .help = "encryption sector size, 512 to 4096 (default: 4096 when the payload "
              "offset and size are multiples of it, else 512)" },
    { .name = "label", .type = STRATA_OPT_STRING,
      .help = "label stored in the header (up to 47 bytes)" },
    { .name = "subsystem", .type = STRATA_OPT_STRING,
      .help = "subsystem stored in the header (up to 47 bytes)" },
    { .name = "metadata-size", .type = STRATA_OPT_SIZE, .def = "16K",
      .help = "size of each header copy with its JSON area: 16K, 32K, ... 4M" },
    { .name = "keyslots-size", .type = STRATA_OPT_SIZE,
      .help = "size of the keyslots area, a multiple of 4 KiB up to 128 MiB (default: "
              "up to the 16 MiB data offset)" },
    { NULL },
};

bool luks2_in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

struct luks2_create {
    char enc[128];
    uint32_t key_size;
    char hash[32];
    struct luks2_kdf_opts ko;
    uint32_t sector_size;        /* 0: choose */
    uint64_t hdr_size, keyslots_size, data_offset, header_len;
    const char *label, *subsystem;
};

/* cipher-alg/mode/ivgen as LUKS1 takes them, in cryptsetup's spelling. */
static int parse_cipher(const struct strata_opts *o, struct luks2_create *p,
                        struct strata_error **errp)
{
    struct luks_cipher_choice cc;
    int r = luks_cipher_choose(o, "luks2", &cc, errp);
    if (r < 0)
        return r;
    p->key_size = cc.key_bytes;
    int n = snprintf(p->enc, sizeof p->enc, "%s-%s%s%.*s", cc.spec.alg, cc.spec.mode,
                     cc.spec.ivgen[0] ? "-" : "", (int)sizeof cc.spec.ivgen,
                     cc.spec.ivgen);
    if (n < 0 || (size_t)n >= sizeof p->enc)
        return strata_error_set(errp, EINVAL, "luks2: cipher '%s' is too long", p->enc);
    return 0;
}

/* An optional number option up to max; 0 when absent. */
static int opt_u32(const struct strata_opts *o, const char *key, uint32_t max,
                   uint32_t *out, struct strata_error **errp)
{
    uint64_t v = 0;
    int r = strata_opts_get_u64(o, key, &v, errp);
    if (r < 0)
        return r;
    if (v > max)
        return strata_error_set(errp, EINVAL, "luks2: %s %" PRIu64 " is above %" PRIu32,
                                key, v, max);
    *out = (uint32_t)v;
    return 0;
}

int luks2_parse_kdf_opts(const struct strata_opts *o, const char *hash,
                         struct luks2_kdf_opts *k, struct strata_error **errp)
{
    uint64_t v;
    int r;
    memset(k, 0, sizeof *k);
    k->kdf = strata_opts_get(o, "pbkdf");
    if (!k->kdf)
        k->kdf = STRATA_KDF_DEFAULT_NAME;
    if (!luks2_in_list(k->kdf, luks2_pbkdf_choices))
        return strata_error_set(errp, EINVAL, "luks2: invalid pbkdf '%s' (argon2id, "
                                "argon2i or pbkdf2)", k->kdf);
    k->hash = hash;
    v = STRATA_KDF_DEFAULT_TIME_MS;
    if ((r = strata_opts_get_u64(o, "iter-time", &v, errp)) < 0)
        return r;
    if (v == 0 || v > 3600 * 1000)
        return strata_error_set(errp, EINVAL, "luks2: iter-time %" PRIu64 " is out of "
                                "range (1 to 3600000 ms)", v);
    k->iter_time = (uint32_t)v;
    if ((r = opt_u32(o, "pbkdf-memory", STRATA_KDF_MAX_MEMORY_KIB, &k->memory_kib,
                     errp)) < 0 ||
        (r = opt_u32(o, "pbkdf-parallel", STRATA_KDF_MAX_PARALLEL, &k->parallel, errp)) < 0)
        return r;
    return opt_u32(o, "pbkdf-force-iterations", UINT32_MAX, &k->force_iterations, errp);
}

static int parse_create(const struct strata_opts *o,
                        const struct strata_crypto_create_params *cp,
                        struct luks2_create *p, struct strata_error **errp)
{
    uint64_t v;
    int r;
    memset(p, 0, sizeof *p);
    const char *hash = strata_opts_get(o, "hash-alg");
    hash = hash ? hash : "sha256";
    if (strlen(hash) >= sizeof p->hash)
        return strata_error_set(errp, EINVAL, "luks2: hash-alg '%s' is too long", hash);
    snprintf(p->hash, sizeof p->hash, "%s", hash);
    if ((r = strata_hash_digest_size(p->hash, errp)) < 0 ||
        (r = parse_cipher(o, p, errp)) < 0 ||
        (r = luks2_parse_kdf_opts(o, p->hash, &p->ko, errp)) < 0)
        return r;
    if ((r = strata_opts_get_u64(o, "sector-size", &v, errp)) < 0)
        return r;
    if (strata_opts_get(o, "sector-size")) {
        if (v < 512 || v > 4096 || (v & (v - 1)))
            return strata_error_set(errp, EINVAL, "luks2: sector-size %" PRIu64 " is not "
                                    "512, 1024, 2048 or 4096", v);
        p->sector_size = (uint32_t)v;
    }
    p->label = strata_opts_get(o, "label");
    p->subsystem = strata_opts_get(o, "subsystem");
    if ((p->label && strlen(p->label) >= LUKS2_LABEL_LEN) ||
        (p->subsystem && strlen(p->subsystem) >= LUKS2_LABEL_LEN))
        return strata_error_set(errp, EINVAL, "luks2: label and subsystem take at most "
                                "%u bytes", LUKS2_LABEL_LEN - 1);

    p->hdr_size = LUKS2_MIN_HDR;
    if ((r = strata_opts_get_size(o, "metadata-size", &p->hdr_size, errp)) < 0)
        return r;
    if (!luks2_valid_hdr_size(p->hdr_size))
        return strata_error_set(errp, EINVAL, "luks2: metadata-size %" PRIu64 " is not "
                                "one of 16K, 32K, 64K, ... 4M", p->hdr_size);
    uint64_t align = cp && cp->payload_align ? cp->payload_align : LUKS2_ALIGN;
    if (align % 4096)
        return strata_error_set(errp, EINVAL, "luks2: payload alignment %" PRIu64
                                " is not a multiple of 4096", align);
    bool ks_given = strata_opts_get(o, "keyslots-size") != NULL;
    if ((r = strata_opts_get_size(o, "keyslots-size", &p->keyslots_size, errp)) < 0)
        return r;
    if (ks_given) {
        if (p->keyslots_size % 4096 || p->keyslots_size == 0 ||
            p->keyslots_size > LUKS2_MAX_KEYSLOTS)
            return strata_error_set(errp, EINVAL, "luks2: keyslots-size %" PRIu64 " is "
                                    "not a multiple of 4096 up to 128 MiB",
                                    p->keyslots_size);
        uint64_t end = 2 * p->hdr_size + p->keyslots_size;
        p->data_offset = (end + align - 1) / align * align;
    } else {
        p->data_offset = LUKS2_DEFAULT_OFFSET > 4 * p->hdr_size ? LUKS2_DEFAULT_OFFSET
                                                                 : 4 * p->hdr_size;
        p->data_offset = (p->data_offset + align - 1) / align * align;
        p->keyslots_size = p->data_offset - 2 * p->hdr_size;
        if (p->keyslots_size > LUKS2_MAX_KEYSLOTS)
            p->keyslots_size = LUKS2_MAX_KEYSLOTS;
    }
    uint64_t area = ((uint64_t)p->key_size * LUKS2_STRIPES + 4095) / 4096 * 4096;
    if (area > p->keyslots_size)
        return strata_error_set(errp, EINVAL, "luks2: keyslots-size %" PRIu64 " cannot "
                                "hold one keyslot (%" PRIu64 " bytes)", p->keyslots_size,
                                area);
    p->header_len = 2 * p->hdr_size + p->keyslots_size;
    if (cp && cp->detached) {
        if (cp->payload_offset % LUKS2_SECTOR)
            return strata_error_set(errp, EINVAL, "luks2: payload offset %" PRIu64
                                    " is not a multiple of 512", cp->payload_offset);
        p->data_offset = cp->payload_offset;
    } else {
        p->header_len = p->data_offset;
    }
    if (p->sector_size && p->data_offset % p->sector_size)
        return strata_error_set(errp, EINVAL, "luks2: the payload offset %" PRIu64 " is "
                                "not a multiple of sector-size %" PRIu32, p->data_offset,
                                p->sector_size);
    if (!p->sector_size)
        p->sector_size = p->data_offset % 4096 ? 512 : 4096;
    return 0;
}

int luks2_header_size(const struct strata_opts *opts,
                      const struct strata_crypto_create_params *params, uint64_t *size,
                      struct strata_error **errp)
{
    struct luks2_create p;
    int r = parse_create(opts, params, &p, errp);
    if (r == 0)
        *size = p.header_len;
    return r;
}

static json_object *u64_string(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return json_object_new_string(buf);
}

json_object *luks2_root_new(const char *enc, uint64_t data_offset, uint32_t sector_size,
                           uint64_t hdr_size, uint64_t keyslots_size)
{
    json_object *root = json_object_new_object(), *o;
    json_object_object_add(root, "keyslots", json_object_new_object());
    json_object_object_add(root, "tokens", json_object_new_object());
    json_object *seg = json_object_new_object();
    json_object_object_add(seg, "type", json_object_new_string("crypt"));
    json_object_object_add(seg, "offset", u64_string(data_offset));
    json_object_object_add(seg, "size", json_object_new_string("dynamic"));
    json_object_object_add(seg, "iv_tweak", json_object_new_string("0"));
    json_object_object_add(seg, "encryption", json_object_new_string(enc));
    json_object_object_add(seg, "sector_size", json_object_new_int((int32_t)sector_size));
    o = json_object_new_object();
    json_object_object_add(o, "0", seg);
    json_object_object_add(root, "segments", o);
    json_object_object_add(root, "digests", json_object_new_object());
    o = json_object_new_object();
    json_object_object_add(o, "json_size", u64_string(hdr_size - LUKS2_BIN_SIZE));
    json_object_object_add(o, "keyslots_size", u64_string(keyslots_size));
    json_object_object_add(root, "config", o);
    return root;
}

/* Zeros over the metadata and keyslots area, as cryptsetup wipes it, so no
 * earlier contents of the file pass for key material. */
static int wipe_region(const struct strata_crypto_hdr_io *io, uint64_t len,
                       struct strata_error **errp)
{
    size_t chunk = 1u << 20;
    uint8_t *zero = calloc(1, chunk);
    if (!zero)
        return strata_error_set(errp, ENOMEM, "out of memory");
    int r = 0;
    for (uint64_t off = 0; off < len && r == 0; off += chunk)
        r = io->write(io->opaque, off, zero, len - off < chunk ? len - off : chunk, errp);
    free(zero);
    return r;
}

int luks2_create(const struct strata_crypto_hdr_io *io, const struct strata_opts *opts,
                 const struct strata_crypto_create_params *params,
                 struct strata_crypto_ctx **out, struct strata_error **errp)
{
    struct luks2_create p;
    uint8_t *pass = NULL;
    size_t passlen = 0;
    uint8_t vk[LUKS2_MAX_KEY], rnd[16];
    struct strata_kdf_params dkp;
    json_object *slot = NULL, *digest = NULL;
    int r;

    *out = NULL;
    if ((r = parse_create(opts, params, &p, errp)) < 0)
        return r;
    const char *secret = strata_opts_get(opts, "key-secret");
    if (!secret)
        return strata_error_set(errp, EINVAL, "luks2: Parameter 'key-secret' is required "
                                "to create an encrypted volume");
    if (!io->write)
        return strata_error_set(errp, EROFS, "%s: the header area is read-only",
                                io->name ? io->name : "LUKS2 header");
    if ((r = luks2_get_pass(secret, "key-secret", &pass, &passlen, errp)) < 0)
        return r;
    struct strata_crypto_ctx *ctx = luks2_ctx_new(io, errp);
    if (!ctx) {
        strata_secret_free(pass, passlen);
        return -ENOMEM;
    }
    struct luks2_hdr *h = &ctx->h;
    h->bin.version = 2;
    h->bin.hdr_size = p.hdr_size;
    h->bin.seqid = 1;
    snprintf(h->bin.csum_alg, sizeof h->bin.csum_alg, "sha256");
    snprintf(h->bin.label, sizeof h->bin.label, "%s", p.label ? p.label : "");
    snprintf(h->bin.subsystem, sizeof h->bin.subsystem, "%s",
             p.subsystem ? p.subsystem : "");

    struct luks2_slot_params sp = {
        .key_size = p.key_size, .enc = p.enc, .hash = p.hash, .kdf = p.ko.kdf,
        .area_offset = 2 * p.hdr_size, .priority = 1,
        .area_size = ((uint64_t)p.key_size * LUKS2_STRIPES + 4095) / 4096 * 4096,
    };
    /* The digest costs what cryptsetup gives it: 125 ms, or less when the
     * keyslot itself is asked to be cheaper. */
    dkp.hash = p.hash;
    if ((r = strata_random_bytes(vk, p.key_size, errp)) < 0 ||
        (r = strata_random_bytes(rnd, sizeof rnd, errp)) < 0 ||
        (r = strata_random_bytes(h->bin.salt, sizeof h->bin.salt, errp)) < 0 ||
        (r = luks2_kdf_choose(p.ko.kdf, p.hash, p.ko.iter_time, p.ko.memory_kib,
                              p.ko.parallel, p.ko.force_iterations, p.key_size, &sp.kp,
                              errp)) < 0 ||
        (r = luks2_kdf_choose("pbkdf2", p.hash, p.ko.iter_time < 125 ? p.ko.iter_time : 125,
                              0, 0, p.ko.force_iterations && !strcmp(p.ko.kdf, "pbkdf2") ?
                              p.ko.force_iterations : 0, p.key_size, &dkp, errp)) < 0)
        goto out;
    luks_uuid_format(h->bin.uuid, sizeof h->bin.uuid, rnd);
    if (io->init && (r = io->init(io->opaque, p.header_len, errp)) < 0)
        goto out;
    if ((r = wipe_region(io, 2 * p.hdr_size + p.keyslots_size, errp)) < 0 ||
        (r = luks2_keyslot_store(io, ctx->name, &sp, vk, pass, passlen, &slot, errp)) < 0 ||
        (r = luks2_digest_new(p.hash, dkp.iterations, vk, p.key_size, &digest, errp)) < 0)
        goto out;

    json_object *root = luks2_root_new(p.enc, p.data_offset, p.sector_size, p.hdr_size,
                                       p.keyslots_size);
    h->root = root;
    json_object *dks;
    json_object_object_get_ex(digest, "keyslots", &dks);
    json_object_array_add(dks, json_object_new_string("0"));
    json_object_object_add(luks2_json_section(root, "keyslots"), "0", slot);
    json_object_object_add(luks2_json_section(root, "digests"), "0", digest);
    slot = digest = NULL;

    /* What was built passes the same checks as what is read. */
    if ((r = luks2_json_validate(h, ctx->name, errp)) < 0 ||
        (r = luks2_hdr_write(io, ctx->name, h, false, errp)) < 0)
        goto out;
    snprintf(ctx->state, sizeof ctx->state, "both copies valid");
    r = luks2_set_key(ctx, vk, errp);
out:
    json_object_put(slot);
    json_object_put(digest);
    strata_wipe(vk, sizeof vk);
    strata_secret_free(pass, passlen);
    if (r < 0) {
        luks2_ctx_free(ctx);
        return r;
    }
    *out = ctx;
    return 0;
}
