/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* luks-int.h - the LUKS1 on-disk format (version 1.2.3 of the
 * specification, as cryptsetup writes it) shared by the luks block driver
 * and the "luks" encryption format that qcow2 uses. */
#ifndef STRATA_LUKS_INT_H
#define STRATA_LUKS_INT_H

#include <strata/crypto.h>
#include <strata/encryption.h>

#define LUKS_MAGIC_LEN      6
#define LUKS_CIPHERNAME_LEN 32
#define LUKS_CIPHERMODE_LEN 32
#define LUKS_HASHSPEC_LEN   32
#define LUKS_DIGEST_SIZE    20
#define LUKS_SALT_SIZE      32
#define LUKS_UUID_LEN       40
#define LUKS_NUM_SLOTS      8
#define LUKS_STRIPES        4000
#define LUKS_SECTOR         512u
#define LUKS_HDR_SIZE       592u
/* Key material starts on 4 KiB boundaries, as cryptsetup and QEMU lay it. */
#define LUKS_SLOT_ALIGN     4096u
#define LUKS_DEFAULT_ALIGN  (1024u * 1024u)
#define LUKS_MAX_KEY        64u
#define LUKS_MIN_ITERS      1000u

#define LUKS_SLOT_ACTIVE    0x00AC71F3u
#define LUKS_SLOT_INACTIVE  0x0000DEADu

struct luks_slot {
    uint32_t active;
    uint32_t iterations;
    uint8_t salt[LUKS_SALT_SIZE];
    uint32_t key_offset;     /* sectors */
    uint32_t stripes;
};

/* The header in host byte order, strings NUL-terminated. */
struct luks_header {
    uint16_t version;
    char cipher_name[LUKS_CIPHERNAME_LEN + 1];
    char cipher_mode[LUKS_CIPHERMODE_LEN + 1];
    char hash_spec[LUKS_HASHSPEC_LEN + 1];
    uint32_t payload_offset; /* sectors */
    uint32_t key_bytes;
    uint8_t mk_digest[LUKS_DIGEST_SIZE];
    uint8_t mk_digest_salt[LUKS_SALT_SIZE];
    uint32_t mk_digest_iter;
    char uuid[LUKS_UUID_LEN + 1];
    struct luks_slot slots[LUKS_NUM_SLOTS];
};

/* header.c */
/* LUKS1's magic and version. */
bool luks_has_magic(const uint8_t *buf, size_t len);
/* The magic of any LUKS version, and a LUKS2 secondary header's. */
bool luks_any_magic(const uint8_t *buf, size_t len);
bool luks_secondary_magic(const uint8_t *buf, size_t len);
/* Decodes the 592 bytes; refuses bad magic/version and unterminated
 * strings.  `name` is for messages. */
int luks_header_decode(const uint8_t *raw, struct luks_header *h, const char *name,
                       struct strata_error **errp);
void luks_header_encode(const struct luks_header *h, uint8_t *raw);
/* Structural checks (see luks_header_check in header.c); region_size 0 =
 * unknown.  With alg_errp, a cipher or hash that cannot be used (e.g. its
 * module is missing) is set there instead of failing the check, for
 * callers that need only the header. */
int luks_header_check(const struct luks_header *h, uint64_t region_size,
                      const char *name, struct strata_error **alg_errp,
                      struct strata_error **errp);
/* Bytes of key material of one slot, rounded up to whole sectors. */
size_t luks_material_len(const struct luks_header *h, unsigned slot);
/* Sectors between consecutive key slots for a key of key_bytes. */
uint32_t luks_slot_stride(uint32_t key_bytes);
/* End of header and key material, in bytes. */
uint64_t luks_header_end(const struct luks_header *h);
/* keyslot.c's view of where the header lives. */
struct luks_io {
    const struct strata_crypto_hdr_io *io;
    const char *name;
};

/* An opened LUKS1 header (format.c). */
struct strata_crypto_ctx {
    struct strata_crypto_hdr_io io;
    struct luks_io lio;
    char *name;
    struct luks_header h;
    struct strata_cipher_spec spec;
    uint8_t *mk;                 /* secure memory, key_bytes; NULL when locked */
    struct strata_cipher *cipher;
    /* Opened for the header only although the cipher or hash it names
     * cannot be used (a missing module): why, for whatever must decrypt
     * key material. */
    struct strata_error *alg_err;
};
/* luks_header_end of an opened header (format.c). */
uint64_t luks_material_end(struct strata_crypto_ctx *ctx);

/* The payload cipher named by the header, taken apart. */
/* The IV generator an ECB volume names ("plain64" for QEMU's
 * "ecb-plain64"), which ECB does not use; NULL for other modes. */
const char *luks_ecb_ivgen(const struct luks_header *h);
int luks_header_spec(const struct luks_header *h, struct strata_cipher_spec *spec,
                     const char *name, struct strata_error **errp);

/* keyslot.c: everything that touches key material. */
/* Tries one slot: 1 and the volume key in mk when pass opens it, 0 when not. */
int luks_slot_try(const struct luks_io *io, const struct luks_header *h, unsigned slot,
                  const struct strata_cipher_spec *spec, const uint8_t *pass,
                  size_t passlen, uint8_t *mk, struct strata_error **errp);
/* First slot that pass opens (>= 0), -EACCES with QEMU's message when none. */
int luks_unlock(const struct luks_io *io, const struct luks_header *h,
                const struct strata_cipher_spec *spec, const uint8_t *pass,
                size_t passlen, int only_slot, uint8_t *mk,
                struct strata_error **errp);
/* Fills slot `slot` of h (in memory) and writes its key material. */
int luks_slot_store(const struct luks_io *io, struct luks_header *h, unsigned slot,
                    const struct strata_cipher_spec *spec, const uint8_t *mk,
                    const uint8_t *pass, size_t passlen, uint64_t iterations,
                    struct strata_error **errp);
/* Overwrites the slot's key material area with random bytes, then zeros,
 * then random again, and marks it inactive in h (in memory). */
int luks_slot_wipe(const struct luks_io *io, struct luks_header *h, unsigned slot,
                   struct strata_error **errp);
int luks_mk_digest(const struct luks_header *h, const uint8_t *mk, uint8_t *digest,
                   struct strata_error **errp);
int luks_write_header(const struct luks_io *io, const struct luks_header *h,
                      struct strata_error **errp);

/* convert.c: the layout LUKS1 shares with LUKS2. */
int luks_export_layout(struct strata_crypto_ctx *ctx, struct strata_crypto_layout *l,
                       struct strata_error **errp);
int luks_import_layout(const struct strata_crypto_hdr_io *io,
                       const struct strata_crypto_layout *l, struct strata_error **errp);

/* Option lists shared by the format and the block driver. */
extern const char *const luks_cipher_mode_choices[], *const luks_ivgen_choices[];
extern const struct strata_opt_desc luks_amend_options[];
extern const char *const luks_state_choices[];
#define LUKS_AMEND_OPTION_DESCS \
    { .name = "state", .type = STRATA_OPT_ENUM, .choices = luks_state_choices, \
      .help = "active: add new-secret to a key slot; inactive: erase key slots" }, \
    { .name = "keyslot", .type = STRATA_OPT_NUMBER, \
      .help = "key slot to add to or erase (0-7; default: the first free one)" }, \
    { .name = "old-secret", .type = STRATA_OPT_STRING, \
      .help = "secret that unlocks the volume (active), or whose slots to erase " \
              "(inactive)" }, \
    { .name = "new-secret", .type = STRATA_OPT_STRING, \
      .help = "secret to add (state=active)" }, \
    { .name = "iter-time", .type = STRATA_OPT_NUMBER, .def = "2000", \
      .help = "PBKDF2 time for the new key slot, in milliseconds" }, \
    { .name = "replace", .type = STRATA_OPT_BOOL, .def = "off", \
      .help = "with state=active: after the new secret is stored and verified, " \
              "erase the slots old-secret opens (changes a passphrase)" },

#define LUKS_CREATE_OPTION_DESCS \
    { .name = "key-secret", .type = STRATA_OPT_STRING, \
      .help = "id of the secret holding the passphrase for key slot 0" }, \
    { .name = "cipher-alg", .type = STRATA_OPT_STRING, .def = "aes-256", \
      .help = "block cipher and key size: aes-128/192/256, serpent-128/192/256, " \
              "twofish-128/256, cast5-128, sm4, or any registered cipher as " \
              "NAME-BITS" }, \
    { .name = "cipher-mode", .type = STRATA_OPT_ENUM, .def = "xts", \
      .choices = luks_cipher_mode_choices, .help = "cipher mode" }, \
    { .name = "ivgen-alg", .type = STRATA_OPT_ENUM, .def = "plain64", \
      .choices = luks_ivgen_choices, .help = "IV generator" }, \
    { .name = "ivgen-hash-alg", .type = STRATA_OPT_STRING, .def = "sha256", \
      .help = "hash for the essiv IV generator" }, \
    { .name = "hash-alg", .type = STRATA_OPT_STRING, .def = "sha256", \
      .help = "hash for PBKDF2 and the anti-forensic splitter" }, \
    { .name = "iter-time", .type = STRATA_OPT_NUMBER, .def = "2000", \
      .help = "time to spend on PBKDF2 when unlocking, in milliseconds" }, \

/* format.c */
extern const struct strata_crypto_format luks_format;

#endif
