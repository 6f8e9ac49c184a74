/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* luks2-int.h - the LUKS2 on-disk format (cryptsetup's default): two
 * copies of a binary header each followed by a JSON area, then the key slot
 * areas, then the data segment. */
#ifndef STRATA_LUKS2_INT_H
#define STRATA_LUKS2_INT_H

#include <strata/crypto.h>
#include <strata/encryption.h>
#include <strata/kdf.h>

#include <json.h>

#define LUKS2_BIN_SIZE      4096u           /* binary header */
#define LUKS2_MAGIC_LEN     6
#define LUKS2_LABEL_LEN     48
#define LUKS2_CSUM_ALG_LEN  32
#define LUKS2_SALT_LEN      64
#define LUKS2_UUID_LEN      40
#define LUKS2_CSUM_LEN      64
#define LUKS2_MIN_HDR       16384u          /* binary header + JSON area */
#define LUKS2_MAX_HDR       (4u << 20)
#define LUKS2_MAX_KEY       64u             /* bytes of volume or area key */
#define LUKS2_MAX_SLOTS     32u             /* keyslot and token ids below */
#define LUKS2_SECTOR        512u
#define LUKS2_MAX_SALT      64u
#define LUKS2_MAX_DIGEST    64u

/* The binary header in host order, strings NUL-terminated. */
struct luks2_bin {
    uint16_t version;
    uint64_t hdr_size;         /* binary header + JSON area */
    uint64_t seqid;
    char label[LUKS2_LABEL_LEN + 1];
    char csum_alg[LUKS2_CSUM_ALG_LEN + 1];
    uint8_t salt[LUKS2_SALT_LEN];
    char uuid[LUKS2_UUID_LEN + 1];
    char subsystem[LUKS2_LABEL_LEN + 1];
    uint64_t hdr_offset;
    uint8_t csum[LUKS2_CSUM_LEN];
};

/* What validation took out of one keyslot of type luks2. */
struct luks2_keyslot {
    int id;                    /* -1: unused entry */
    uint32_t key_size;         /* volume key bytes */
    int priority;              /* 0 ignore, 1 normal, 2 high */
    char kdf[16];              /* pbkdf2, argon2i, argon2id */
    char kdf_hash[32];
    struct strata_kdf_params kp;
    uint8_t salt[LUKS2_MAX_SALT];
    size_t salt_len;
    char af_hash[32];
    uint32_t stripes;
    uint64_t area_offset, area_size;
    struct strata_cipher_spec area_spec;
    char area_enc[64];
    uint32_t area_key_size;
};

struct luks2_digest {
    int id;
    uint32_t keyslots;         /* bit mask */
    uint32_t segments;
    char hash[32];
    uint32_t iterations;
    uint8_t salt[LUKS2_MAX_SALT];
    size_t salt_len;
    uint8_t digest[LUKS2_MAX_DIGEST];
    size_t digest_len;
};

/* One opened header: the binary fields, the JSON tree (kept whole so that
 * everything strata does not interpret survives a rewrite), and what
 * validation derived from it. */
struct luks2_hdr {
    struct luks2_bin bin;
    json_object *root;
    uint64_t json_size, keyslots_size;
    /* segment 0, the only one strata opens */
    uint64_t seg_offset, seg_size;   /* size 0: dynamic */
    uint64_t iv_tweak;
    uint32_t sector_size;
    char seg_enc[64];
    struct strata_cipher_spec spec;
    int seg_digest;                  /* index into digests[] */
    uint32_t key_size;               /* volume key bytes, from the keyslots */
    struct luks2_keyslot slots[LUKS2_MAX_SLOTS];
    struct luks2_digest digests[LUKS2_MAX_SLOTS];
    unsigned ndigests;
};

/* header.c: the binary header and the two copies. */
bool luks2_valid_hdr_size(uint64_t size);
/* What reading found in each copy ([0] primary, [1] secondary), for check. */
struct luks2_copies {
    bool ok[2];
    uint64_t seqid[2];
    uint64_t offset[2];        /* where the copy is, or belongs */
    char why[2][512];          /* the problem of a copy that is not ok */
};
/* Reads both copies, checks checksums and JSON (json.c), and keeps the
 * newest valid one in h (h->root owned by h).  Errors name the file and the
 * field.  `state` (may be NULL) gets which copy opened and whether the
 * other was bad or stale, for info; `copies` (may be NULL) the details. */
int luks2_hdr_read(const struct strata_crypto_hdr_io *io, const char *name,
                   struct luks2_hdr *h, char *state, size_t state_len,
                   struct luks2_copies *copies, struct strata_error **errp);
/* Writes h (seqid already bumped by the caller) to both copies in the
 * crash-safe order documented in header.c: the secondary first, unless
 * primary_first (conversion from LUKS1). */
int luks2_hdr_write(const struct strata_crypto_hdr_io *io, const char *name,
                    struct luks2_hdr *h, bool primary_first, struct strata_error **errp);
/* Rewrites one copy from h, seqid unchanged (repairing a damaged copy). */
int luks2_hdr_write_copy(const struct strata_crypto_hdr_io *io, const char *name,
                         const struct luks2_hdr *h, bool primary,
                         struct strata_error **errp);
void luks2_hdr_free(struct luks2_hdr *h);

/* json.c: validation of the tree and typed access. */
int luks2_json_validate(struct luks2_hdr *h, const char *name,
                        struct strata_error **errp);
/* A u64 held in a JSON string ("16777216"): false for anything else. */
bool luks2_json_u64(json_object *o, uint64_t *v);
int luks2_base64_decode(const char *in, uint8_t *out, size_t max, size_t *len);
char *luks2_base64_encode(const uint8_t *in, size_t len);

/* A member of the root object (keyslots, digests, ...), NULL when absent. */
json_object *luks2_json_section(json_object *root, const char *name);

/* keyslot.c: key material. */
/* Tries keyslot `slot` with pass: 1 and the volume key in vk when it opens,
 * 0 when not. */
int luks2_keyslot_try(const struct strata_crypto_hdr_io *io, const char *name,
                      const struct luks2_hdr *h, unsigned slot, const uint8_t *pass,
                      size_t passlen, uint8_t *vk, struct strata_error **errp);
/* First slot pass opens (>= 0), by priority, or only `only_slot` when
 * >= 0; -EACCES when none. */
int luks2_unlock(const struct strata_crypto_hdr_io *io, const char *name,
                 const struct luks2_hdr *h, int only_slot, const uint8_t *pass,
                 size_t passlen, uint8_t *vk, struct strata_error **errp);
/* Bytes of AF-split key material, whole 512-byte sectors. */
size_t luks2_material_len(const struct luks2_keyslot *ks);
/* Costs for a new keyslot: the machine's defaults for kdf with the given
 * memory and lanes (0 = default), then passes or iterations calibrated to
 * iter_time ms, or force_iterations when not 0. */
int luks2_kdf_choose(const char *kdf, const char *hash, uint32_t iter_time,
                     uint32_t memory_kib, uint32_t parallel, uint32_t force_iterations,
                     size_t keylen, struct strata_kdf_params *kp,
                     struct strata_error **errp);

/* A new keyslot of type luks2. */
struct luks2_slot_params {
    uint32_t key_size;          /* volume key bytes */
    const char *enc;            /* area encryption, "aes-xts-plain64" */
    const char *hash;           /* AF hash */
    const char *kdf;
    struct strata_kdf_params kp;
    uint64_t area_offset, area_size;
    int priority;
};
/* Writes the key material for vk under pass to the area (and flushes), and
 * returns the keyslot's JSON object; the header is not touched. */
int luks2_keyslot_store(const struct strata_crypto_hdr_io *io, const char *name,
                        const struct luks2_slot_params *sp, const uint8_t *vk,
                        const uint8_t *pass, size_t passlen, json_object **out,
                        struct strata_error **errp);
/* The JSON of a keyslot of type luks2 whose material is already stored. */
json_object *luks2_keyslot_json(const struct luks2_slot_params *sp, uint32_t stripes,
                                const uint8_t *salt, size_t salt_len);
/* The JSON of a pbkdf2 digest for segment 0, with no keyslots yet. */
json_object *luks2_digest_json(const char *hash, uint32_t iterations, const uint8_t *salt,
                               size_t salt_len, const uint8_t *dig, size_t dig_len);
/* A pbkdf2 digest of vk for segment 0, with no keyslots yet. */
int luks2_digest_new(const char *hash, uint32_t iterations, const uint8_t *vk,
                     size_t key_size, json_object **out, struct strata_error **errp);

/* Checks vk against a digest. */
int luks2_digest_check(const struct luks2_digest *d, const uint8_t *vk, size_t vklen,
                       struct strata_error **errp);

#endif
