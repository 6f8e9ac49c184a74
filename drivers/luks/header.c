/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* header.c - the LUKS1 phdr: big-endian encoding and the checks a header
 * must pass before anything trusts its offsets. */
#include "luks-int.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bigendian.h"

#include <strata/kdf.h>

static const uint8_t luks_magic[LUKS_MAGIC_LEN] = { 'L', 'U', 'K', 'S', 0xba, 0xbe };

/* Field offsets of the on-disk phdr (specification, section 2.4). */
enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 6,
    OFF_CIPHER_NAME = 8,
    OFF_CIPHER_MODE = 40,
    OFF_HASH_SPEC = 72,
    OFF_PAYLOAD = 104,
    OFF_KEY_BYTES = 108,
    OFF_MK_DIGEST = 112,
    OFF_MK_SALT = 132,
    OFF_MK_ITER = 164,
    OFF_UUID = 168,
    OFF_SLOTS = 208,
    SLOT_SIZE = 48,
};

bool luks_has_magic(const uint8_t *buf, size_t len)
{
    return len >= 8 && memcmp(buf, luks_magic, LUKS_MAGIC_LEN) == 0 &&
           buf[OFF_VERSION] == 0 && buf[OFF_VERSION + 1] == 1;
}

bool luks_any_magic(const uint8_t *buf, size_t len)
{
    return len >= 8 && memcmp(buf, luks_magic, LUKS_MAGIC_LEN) == 0;
}

bool luks_secondary_magic(const uint8_t *buf, size_t len)
{
    static const uint8_t skul[LUKS_MAGIC_LEN] = { 'S', 'K', 'U', 'L', 0xba, 0xbe };
    return len >= 8 && memcmp(buf, skul, LUKS_MAGIC_LEN) == 0 && buf[6] == 0 &&
           buf[7] == 2;
}

static int get_string(char *dst, const uint8_t *src, size_t len, const char *field,
                      const char *name, struct strata_error **errp)
{
    if (!memchr(src, 0, len))
        return strata_error_set(errp, EINVAL,
                                "%s: LUKS header field '%s' is not NUL-terminated",
                                name, field);
    memcpy(dst, src, len);
    dst[len] = 0;
    return 0;
}

int luks_header_decode(const uint8_t *raw, struct luks_header *h, const char *name,
                       struct strata_error **errp)
{
    memset(h, 0, sizeof *h);
    if (memcmp(raw, luks_magic, LUKS_MAGIC_LEN) != 0)
        return strata_error_set(errp, EINVAL, "%s: not a LUKS volume (bad magic)", name);
    h->version = (uint16_t)(raw[OFF_VERSION] << 8 | raw[OFF_VERSION + 1]);
    if (h->version != 1)
        return strata_error_set(errp, ENOTSUP,
                                "%s: LUKS version %u is not supported (only LUKS1)",
                                name, h->version);
    int r;
    if ((r = get_string(h->cipher_name, raw + OFF_CIPHER_NAME, LUKS_CIPHERNAME_LEN,
                        "cipher-name", name, errp)) < 0 ||
        (r = get_string(h->cipher_mode, raw + OFF_CIPHER_MODE, LUKS_CIPHERMODE_LEN,
                        "cipher-mode", name, errp)) < 0 ||
        (r = get_string(h->hash_spec, raw + OFF_HASH_SPEC, LUKS_HASHSPEC_LEN,
                        "hash-spec", name, errp)) < 0 ||
        (r = get_string(h->uuid, raw + OFF_UUID, LUKS_UUID_LEN, "uuid", name, errp)) < 0)
        return r;
    h->payload_offset = load_be32(raw + OFF_PAYLOAD);
    h->key_bytes = load_be32(raw + OFF_KEY_BYTES);
    memcpy(h->mk_digest, raw + OFF_MK_DIGEST, LUKS_DIGEST_SIZE);
    memcpy(h->mk_digest_salt, raw + OFF_MK_SALT, LUKS_SALT_SIZE);
    h->mk_digest_iter = load_be32(raw + OFF_MK_ITER);
    for (unsigned i = 0; i < LUKS_NUM_SLOTS; i++) {
        const uint8_t *s = raw + OFF_SLOTS + i * SLOT_SIZE;
        h->slots[i].active = load_be32(s);
        h->slots[i].iterations = load_be32(s + 4);
        memcpy(h->slots[i].salt, s + 8, LUKS_SALT_SIZE);
        h->slots[i].key_offset = load_be32(s + 40);
        h->slots[i].stripes = load_be32(s + 44);
    }
    return 0;
}

static void put_string(uint8_t *dst, const char *src, size_t len)
{
    memset(dst, 0, len);
    size_t n = strlen(src);
    memcpy(dst, src, n < len ? n : len - 1);
}

void luks_header_encode(const struct luks_header *h, uint8_t *raw)
{
    memset(raw, 0, LUKS_HDR_SIZE);
    memcpy(raw + OFF_MAGIC, luks_magic, LUKS_MAGIC_LEN);
    raw[OFF_VERSION] = 0;
    raw[OFF_VERSION + 1] = 1;
    put_string(raw + OFF_CIPHER_NAME, h->cipher_name, LUKS_CIPHERNAME_LEN);
    put_string(raw + OFF_CIPHER_MODE, h->cipher_mode, LUKS_CIPHERMODE_LEN);
    put_string(raw + OFF_HASH_SPEC, h->hash_spec, LUKS_HASHSPEC_LEN);
    store_be32(raw + OFF_PAYLOAD, h->payload_offset);
    store_be32(raw + OFF_KEY_BYTES, h->key_bytes);
    memcpy(raw + OFF_MK_DIGEST, h->mk_digest, LUKS_DIGEST_SIZE);
    memcpy(raw + OFF_MK_SALT, h->mk_digest_salt, LUKS_SALT_SIZE);
    store_be32(raw + OFF_MK_ITER, h->mk_digest_iter);
    put_string(raw + OFF_UUID, h->uuid, LUKS_UUID_LEN);
    for (unsigned i = 0; i < LUKS_NUM_SLOTS; i++) {
        uint8_t *s = raw + OFF_SLOTS + i * SLOT_SIZE;
        store_be32(s, h->slots[i].active);
        store_be32(s + 4, h->slots[i].iterations);
        memcpy(s + 8, h->slots[i].salt, LUKS_SALT_SIZE);
        store_be32(s + 40, h->slots[i].key_offset);
        store_be32(s + 44, h->slots[i].stripes);
    }
}

size_t luks_material_len(const struct luks_header *h, unsigned slot)
{
    uint64_t n = (uint64_t)h->key_bytes * h->slots[slot].stripes;
    return (size_t)((n + LUKS_SECTOR - 1) / LUKS_SECTOR * LUKS_SECTOR);
}

uint32_t luks_slot_stride(uint32_t key_bytes)
{
    uint64_t n = (uint64_t)key_bytes * LUKS_STRIPES;
    return (uint32_t)((n + LUKS_SLOT_ALIGN - 1) / LUKS_SLOT_ALIGN * LUKS_SLOT_ALIGN /
                      LUKS_SECTOR);
}

uint64_t luks_header_end(const struct luks_header *h)
{
    uint64_t end = LUKS_HDR_SIZE;
    for (unsigned i = 0; i < LUKS_NUM_SLOTS; i++) {
        uint64_t e = (uint64_t)h->slots[i].key_offset * LUKS_SECTOR +
                     luks_material_len(h, i);
        if (e > end)
            end = e;
    }
    return end;
}

const char *luks_ecb_ivgen(const struct luks_header *h)
{
    const char *dash = strchr(h->cipher_mode, '-');
    if (strncmp(h->cipher_mode, "ecb-", 4) != 0 || !dash[1])
        return NULL;
    return dash + 1;
}

int luks_header_spec(const struct luks_header *h, struct strata_cipher_spec *spec,
                     const char *name, struct strata_error **errp)
{
    int r = strata_cipher_spec_parse(h->cipher_name, h->cipher_mode, spec, errp);
    if (r < 0)
        strata_error_prefix(errp, "%s", name);
    /* QEMU writes "ecb-plain64" for cipher-mode=ecb and ignores the IV
     * generator, so such volumes are read the same way. */
    if (r == 0 && luks_ecb_ivgen(h))
        spec->ivgen[0] = '\0';
    return r;
}

static bool slot_valid_state(uint32_t a)
{
    return a == LUKS_SLOT_ACTIVE || a == LUKS_SLOT_INACTIVE;
}

/* An algorithm the header names is known but its module cannot be used
 * (missing, wrong ABI, failed self-test: the registry's message then names
 * the module).  With alg_errp that is kept for when key material must be
 * decrypted; an unknown name is a damaged header all the same. */
static bool module_problem(const struct strata_error *err, struct strata_error **alg_errp)
{
    return alg_errp && err && err->msg && strstr(err->msg, "module ");
}

/* Everything the rest of the code relies on: a header that fails here is
 * never unlocked, resized or written. */
int luks_header_check(const struct luks_header *h, uint64_t region_size,
                      const char *name, struct strata_error **alg_errp,
                      struct strata_error **errp)
{
    struct strata_cipher_spec spec;
    int r;

    if (h->key_bytes == 0 || h->key_bytes > LUKS_MAX_KEY)
        return strata_error_set(errp, EINVAL, "%s: LUKS header has an invalid key size "
                                "of %" PRIu32 " bytes", name, h->key_bytes);
    if ((r = luks_header_spec(h, &spec, name, errp)) < 0)
        return r;
    struct strata_error *err = NULL;
    if (strata_cipher_check(spec.alg, spec.mode, spec.ivgen, h->key_bytes, &err) < 0) {
        bool later = module_problem(err, alg_errp);
        r = strata_error_set(later ? alg_errp : errp, err ? err->code : EINVAL,
                             "%s: LUKS header names an unusable cipher '%s-%s' with a "
                             "%" PRIu32 "-byte key: %s", name, h->cipher_name,
                             h->cipher_mode, h->key_bytes, err ? err->msg : "refused");
        strata_error_free(err);
        err = NULL;
        if (!later)
            return r;
    }
    if (strata_hash_digest_size(h->hash_spec, &err) < 0) {
        bool later = module_problem(err, alg_errp);
        r = strata_error_set(later ? alg_errp : errp, err ? err->code : EINVAL,
                             "%s: LUKS header names an unusable hash '%s': %s", name,
                             h->hash_spec, err ? err->msg : "refused");
        strata_error_free(err);
        if (!later)
            return r;
    }
    if (h->mk_digest_iter == 0)
        return strata_error_set(errp, EINVAL, "%s: LUKS header has zero master key "
                                "digest iterations", name);
    if (h->mk_digest_iter > STRATA_KDF_MAX_ITERATIONS)
        return strata_error_set(errp, EINVAL, "%s: LUKS master key digest iterations %" PRIu32
                                " exceed the limit of %u", name, h->mk_digest_iter,
                                STRATA_KDF_MAX_ITERATIONS);
    if (h->payload_offset != 0 && (uint64_t)h->payload_offset * LUKS_SECTOR < LUKS_HDR_SIZE)
        return strata_error_set(errp, EINVAL, "%s: LUKS payload offset %" PRIu32
                                " lies inside the header", name, h->payload_offset);

    for (unsigned i = 0; i < LUKS_NUM_SLOTS; i++) {
        const struct luks_slot *s = &h->slots[i];
        if (!slot_valid_state(s->active))
            return strata_error_set(errp, EINVAL, "%s: LUKS key slot %u has an invalid "
                                    "state 0x%08" PRIx32, name, i, s->active);
        if (s->stripes != LUKS_STRIPES)
            return strata_error_set(errp, EINVAL, "%s: LUKS key slot %u has %" PRIu32
                                    " stripes, %u expected", name, i, s->stripes,
                                    LUKS_STRIPES);
        if (s->active == LUKS_SLOT_ACTIVE && s->iterations == 0)
            return strata_error_set(errp, EINVAL, "%s: LUKS key slot %u has zero "
                                    "iterations", name, i);
        if (s->active == LUKS_SLOT_ACTIVE && s->iterations > STRATA_KDF_MAX_ITERATIONS)
            return strata_error_set(errp, EINVAL, "%s: LUKS key slot %u iterations %" PRIu32
                                    " exceed the limit of %u", name, i, s->iterations,
                                    STRATA_KDF_MAX_ITERATIONS);
        uint64_t start = (uint64_t)s->key_offset * LUKS_SECTOR;
        uint64_t end = start + luks_material_len(h, i);
        if (start < LUKS_HDR_SIZE)
            return strata_error_set(errp, EINVAL, "%s: LUKS key slot %u material at "
                                    "sector %" PRIu32 " overlaps the header", name, i,
                                    s->key_offset);
        if (h->payload_offset != 0 && end > (uint64_t)h->payload_offset * LUKS_SECTOR)
            return strata_error_set(errp, EINVAL, "%s: LUKS key slot %u material "
                                    "(sectors %" PRIu32 "-%" PRIu64 ") overlaps the "
                                    "payload at sector %" PRIu32, name, i, s->key_offset,
                                    (end - 1) / LUKS_SECTOR, h->payload_offset);
        if (region_size && end > region_size)
            return strata_error_set(errp, EINVAL, "%s: LUKS key slot %u material ends "
                                    "at byte %" PRIu64 ", past the end of the header "
                                    "area (%" PRIu64 " bytes)", name, i, end,
                                    region_size);
        for (unsigned j = 0; j < i; j++) {
            uint64_t s2 = (uint64_t)h->slots[j].key_offset * LUKS_SECTOR;
            uint64_t e2 = s2 + luks_material_len(h, j);
            if (start < e2 && s2 < end)
                return strata_error_set(errp, EINVAL, "%s: LUKS key slots %u and %u "
                                        "overlap", name, j, i);
        }
    }
    return 0;
}
