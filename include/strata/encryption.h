/* SPDX-License-Identifier: MIT */
/* strata/encryption.h - the encryption format plugin ABI.
 *
 * An encryption format (LUKS1, LUKS2) owns a header with key slots, turns a
 * passphrase into the volume key, and hands out the opened strata_cipher that
 * encrypts the payload.  It does not know where its header lives: every
 * header access goes through caller-supplied callbacks on a byte range, so
 * the same implementation serves
 *   - the luks block driver (the range is the start of its "file" child, or
 *     the whole "header" child for a detached header), and
 *   - qcow2's encrypt.format=luks (the range is the clusters named by the
 *     qcow2 full-disk-encryption header extension).
 *
 * Usage (qcow2 opening an encrypted image):
 *
 *     const struct strata_crypto_format *f = strata_crypto_format_find("luks", errp);
 *     struct strata_crypto_hdr_io io = { .opaque = s, .read = my_read,
 *                                        .write = my_write, .size = ext_len,
 *                                        .name = filename };
 *     struct strata_crypto_ctx *ctx;
 *     f->open(&io, enc_opts, flags, &ctx, errp);     // enc_opts: key-secret=...
 *     struct strata_cipher *c; uint64_t payload_off; uint32_t sector_size;
 *     f->get_cipher(ctx, &c, &payload_off, &sector_size);
 *     strata_cipher_encrypt_sectors(c, host_off / sector_size, sector_size, ...);
 *     ...
 *     f->close(ctx);
 *
 * Options are passed without any prefix (qcow2 strips "encrypt."), with
 * QEMU's names: key-secret, cipher-alg, cipher-mode, ivgen-alg,
 * ivgen-hash-alg, hash-alg, iter-time for create; key-secret and keyslot
 * (try the passphrase on that slot only) for open; state, keyslot, old-secret,
 * new-secret, iter-time for amend.  The descriptor lists them
 * (create_options, open_options, amend_options) so callers can validate and
 * show help.  Secrets are looked up with strata_secret_get() by id.
 *
 * A context is not safe for concurrent amend/erase calls; the cipher it hands
 * out is safe to use from several threads (see crypto.h).
 *
 * ABI policy as for drivers: the major changes when a member moves or
 * changes meaning; members are only added at the end (minor bump); the core
 * zero-fills members past a plugin's struct_size.
 */
#ifndef STRATA_ENCRYPTION_H
#define STRATA_ENCRYPTION_H

#include <strata/common.h>
#include <strata/crypto.h>
#include <strata/driver.h>     /* STRATA_O_* open flags */

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_CRYPTO_FORMAT_ABI_MAJOR 1
#define STRATA_CRYPTO_FORMAT_ABI_MINOR 2
#define STRATA_CRYPTO_FORMAT_ABI \
    ((STRATA_CRYPTO_FORMAT_ABI_MAJOR << 16) | STRATA_CRYPTO_FORMAT_ABI_MINOR)

/* The header region: offsets are relative to its start. */
struct strata_crypto_hdr_io {
    void *opaque;
    /* Mandatory.  Reads or writes exactly len bytes; 0 or -errno. */
    int (*read)(void *opaque, uint64_t off, void *buf, size_t len,
                struct strata_error **errp);
    /* May be NULL for a read-only open (amend/erase then fail with -EROFS). */
    int (*write)(void *opaque, uint64_t off, const void *buf, size_t len,
                 struct strata_error **errp);
    /* Optional, create only: called once, before any write, with the number
     * of bytes the header needs (qcow2 allocates its clusters here and sets
     * nothing else; the luks driver grows its file).  The region must then
     * hold at least that many bytes. */
    int (*init)(void *opaque, uint64_t header_len, struct strata_error **errp);
    /* Optional: makes written header bytes stable (called after each header
     * update, before old key material is erased). */
    int (*flush)(void *opaque, struct strata_error **errp);
    /* Bytes available in the region; 0 = unknown (not checked).  The luks
     * driver passes the file size so that a header pointing past the end is
     * refused. */
    uint64_t size;
    /* For messages: "disk.img" (the file the header lives in). */
    const char *name;
};

/* Placement of the payload chosen at create time. */
struct strata_crypto_create_params {
    /* Alignment of the payload start in bytes (a multiple of 512; 0 = the
     * format's default: 1 MiB for LUKS1, as cryptsetup).  qcow2 passes 4096
     * to get the compact layout QEMU writes into qcow2 files. */
    uint64_t payload_align;
    /* The payload lives elsewhere (detached header): the header records
     * payload_offset (bytes, a multiple of 512; usually 0) as the payload
     * start in the data device, and the header region holds only the header
     * and key material. */
    bool detached;
    uint64_t payload_offset;
};

/* Where the payload lies and how its IVs count (get_payload).  The sector
 * at byte `off` of the payload (a multiple of the sector size) is encrypted
 * with IV  iv_offset + off / iv_unit:  LUKS2 counts IVs in 512-byte units
 * whatever its sector size, as dm-crypt does without iv_large_sectors, and
 * starts them at the segment's iv_tweak. */
struct strata_crypto_payload {
    uint64_t size;          /* bytes; 0 = up to the end of the device */
    uint64_t iv_offset;     /* IV of the payload's first sector */
    uint32_t iv_unit;       /* bytes per IV step: 512, or the sector size */
};

/* A header as versions of one family can share it (export_layout,
 * import_layout): the payload, the volume key's digest and every active
 * key slot of the AF-split kind.  Converting a volume between LUKS1 and
 * LUKS2 reads one and writes it in the other format; the key material is
 * copied as it is (no key needed), since both versions encrypt it the same
 * way. */
#define STRATA_CRYPTO_LAYOUT_SLOTS 32
struct strata_crypto_slot_layout {
    uint32_t id;                /* key slot number */
    int32_t priority;           /* 0 ignore, 1 normal, 2 prefer */
    char kdf[16];               /* "pbkdf2", "argon2i", "argon2id" */
    char kdf_hash[40];          /* pbkdf2's hash */
    uint32_t iterations;        /* pbkdf2 iterations, argon2 passes */
    uint32_t memory_kib, parallel;
    uint8_t salt[64];
    uint32_t salt_len;
    char af_hash[40];
    uint32_t stripes;
    uint64_t area_offset;       /* bytes from the start of the region */
    uint64_t area_size;         /* the key material: whole 512-byte sectors */
    char area_cipher[80];       /* "aes-xts-plain64" */
    uint32_t area_key_size;
};
struct strata_crypto_layout {
    char cipher[80];            /* the payload's: "aes-xts-plain64" */
    uint32_t key_size;          /* volume key bytes */
    uint32_t sector_size;
    uint64_t iv_tweak;
    uint64_t payload_offset;    /* bytes */
    uint64_t payload_size;      /* bytes; 0 = to the end of the device */
    char uuid[48];              /* NUL-terminated */
    char digest_hash[40];       /* PBKDF2 digest of the volume key */
    uint32_t digest_iterations;
    uint8_t digest_salt[64];
    uint32_t digest_salt_len;
    uint8_t digest[64];
    uint32_t digest_len;
    uint32_t nslots;
    struct strata_crypto_slot_layout slots[STRATA_CRYPTO_LAYOUT_SLOTS];
    /* What the header holds beyond this description ("2 tokens, a
     * label"), for an importer that would lose it; "" when nothing. */
    char extra[160];
};

/* Opaque state of one opened header, defined by each format. */
struct strata_crypto_ctx;

/* Starts every encryption format descriptor:
 * `{ STRATA_CRYPTO_FORMAT_HEAD, .name = ... }`. */
#define STRATA_CRYPTO_FORMAT_TAG 'E'
#define STRATA_CRYPTO_FORMAT_HEAD \
    STRATA_DESC_HEAD(STRATA_CRYPTO_FORMAT_TAG, STRATA_CRYPTO_FORMAT_ABI, \
                     struct strata_crypto_format)

struct strata_crypto_format {
    uint32_t abi_version;       /* STRATA_CRYPTO_FORMAT_HEAD fills these two */
    uint32_t struct_size;
    const char *name;           /* "luks": the value of encrypt.format= */
    const char *description;

    const struct strata_opt_desc *create_options;  /* {NULL}-terminated */
    const struct strata_opt_desc *open_options;
    const struct strata_opt_desc *amend_options;

    /* Score 0..100 for the first bytes of a header region; may be NULL. */
    int (*probe)(const uint8_t *buf, size_t len);

    /* Mandatory.  Bytes the header region needs (header + key material, and
     * padding up to the payload when not detached) for these create options
     * and params, without a secret.  For measure and for callers that
     * allocate the region before create. */
    int (*header_size)(const struct strata_opts *opts,
                       const struct strata_crypto_create_params *params,
                       uint64_t *size, struct strata_error **errp);

    /* Mandatory.  Writes a new header with one active key slot (slot 0,
     * passphrase from key-secret) and returns the opened context (as open
     * with I/O).  params may be NULL (defaults). */
    int (*create)(const struct strata_crypto_hdr_io *io, const struct strata_opts *opts,
                  const struct strata_crypto_create_params *params,
                  struct strata_crypto_ctx **out, struct strata_error **errp);

    /* Mandatory.  Reads and sanity-checks the header (never writes), then,
     * unless flags has STRATA_O_NO_IO, unlocks it with key-secret: a missing
     * key-secret is an -ENOKEY error naming the option (tools then ask for
     * a passphrase); a wrong passphrase gives
     * "Invalid password, cannot unlock any keyslot".  With STRATA_O_NO_IO
     * the context serves info only (and amend/erase that need no key). */
    int (*open)(const struct strata_crypto_hdr_io *io, const struct strata_opts *opts,
                unsigned flags, struct strata_crypto_ctx **out,
                struct strata_error **errp);

    /* Mandatory.  Wipes the key and frees ctx (NULL is fine).  open and
     * create keep a copy of the io struct; its opaque must stay valid until
     * close. */
    void (*close)(struct strata_crypto_ctx *ctx);

    /* Mandatory.  The payload cipher (NULL when opened without a key; owned
     * by ctx), where the payload starts in bytes (from the header for the
     * data device; meaningless for qcow2, which uses host offsets), and the
     * payload's sector size: the unit of encryption (512 for LUKS1, 512 to
     * 4096 for LUKS2; see get_payload for how IVs count).  Sector numbers count
     * from the payload start for the luks driver and from the start of the
     * file for qcow2, as QEMU does. */
    void (*get_cipher)(struct strata_crypto_ctx *ctx, struct strata_cipher **cipher,
                       uint64_t *payload_offset, uint32_t *sector_size);

    /* Bytes from the start of the region that make up the header and key
     * material (what a header backup must save).  Mandatory. */
    uint64_t (*header_length)(struct strata_crypto_ctx *ctx);

    /* Format-specific info with QEMU's field names (LUKS: cipher-alg,
     * cipher-mode, ivgen-alg, ivgen-hash-alg, hash-alg, payload-offset,
     * master-key-iters, uuid, slots[active, iters, stripes, key-offset]).
     * Works without a key. */
    int (*get_info)(struct strata_crypto_ctx *ctx, struct strata_info *obj,
                    struct strata_error **errp);

    /* Key management (QEMU's amend options): state=active adds new-secret to
     * keyslot (or the first free one), unlocking with old-secret or the open
     * key; state=inactive erases keyslot, or the slots old-secret opens.
     * Refuses to erase the last active slot or to overwrite an active one
     * unless force.  May be NULL. */
    int (*amend)(struct strata_crypto_ctx *ctx, const struct strata_opts *opts,
                 bool force, struct strata_error **errp);

    /* Overwrites every key slot's key material and the header so the volume
     * can never be unlocked again; adds what was wiped to report (may be
     * NULL): "wiped" list of {what, offset, length}.  May be NULL. */
    int (*erase)(struct strata_crypto_ctx *ctx, struct strata_info *report,
                 struct strata_error **errp);

    /* ---- ABI 1.1 ---- */

    /* The on-disk family and the version of it this format handles: LUKS1
     * is family "luks" version 1, LUKS2 "luks" version 2.  A container
     * that reads a version field looks the handler up with
     * strata_crypto_format_find_version().  NULL/0: not versioned. */
    const char *family;
    uint32_t version;

    /* Optional: payload geometry beyond get_cipher (see struct
     * strata_crypto_payload).  NULL: the payload runs to the end of the
     * device and sector N of it uses IV N (LUKS1). */
    void (*get_payload)(struct strata_crypto_ctx *ctx, struct strata_crypto_payload *p);

    /* Optional: reads which version of the family the header in io is
     * (also versions this format does not handle itself); 0 when io holds
     * no header of the family.  Lets callers that name only the family
     * ("luks") reach the right format: strata_crypto_format_for_header(). */
    int (*read_version)(const struct strata_crypto_hdr_io *io, uint32_t *version,
                        struct strata_error **errp);

    /* ---- ABI 1.2 ---- */

    /* Optional: finds what open tolerates but must not stay so (LUKS2: a
     * damaged or stale copy of its redundant header), adds each finding to
     * res with strata_check_report() and counts it in res->corruptions;
     * with STRATA_CHECK_FIX_ERRORS in fix, repairs it through io->write
     * and counts it in res->corruptions_fixed instead.  Needs no key (the
     * context may come from an STRATA_O_NO_IO open).  NULL: the format has
     * no checks, and `check` says so. */
    int (*check)(struct strata_crypto_ctx *ctx, struct strata_check_result *res,
                 unsigned fix, struct strata_error **errp);

    /* Optional, both or neither: conversion between versions of a family.
     * export_layout describes an opened header (no key needed), or fails
     * with -ENOTSUP naming what cannot be described (a key slot of another
     * kind).  import_layout rewrites the region in io, in place, as this
     * format's header for that layout, keeping every key slot's material
     * valid (moving it where the new header needs the room), in an order
     * such that a crash at any write leaves the old header or the new one
     * opening with every passphrase.  It refuses, before writing, a layout
     * it cannot hold (-ENOTSUP) or has no room for (-ENOSPC), naming why. */
    int (*export_layout)(struct strata_crypto_ctx *ctx, struct strata_crypto_layout *layout,
                         struct strata_error **errp);
    int (*import_layout)(const struct strata_crypto_hdr_io *io,
                         const struct strata_crypto_layout *layout,
                         struct strata_error **errp);
};

/* Looks up the encryption format that handles `version` of `family`
 * ("luks", 2), loading the modules that provide encryption formats.  When
 * none does: -ENOTSUP in *errp, naming the family and version. */
STRATA_EXPORT const struct strata_crypto_format *
strata_crypto_format_find_version(const char *family, uint32_t version,
                                  struct strata_error **errp);

/* The format that reads the header in io, for a caller that knows only the
 * format name (`name`, e.g. "luks"): that format when it has no
 * read_version or the header is its own version (or none of the family:
 * its open then says what is wrong), else the family's format for the
 * version read; -ENOTSUP naming the version when none is loaded. */
STRATA_EXPORT const struct strata_crypto_format *
strata_crypto_format_for_header(const char *name, const struct strata_crypto_hdr_io *io,
                                struct strata_error **errp);

/* Looks up an encryption format by name, loading its module on first use
 * (for "luks": driver-luks.so).  -ENOENT in *errp when unknown. */
STRATA_EXPORT const struct strata_crypto_format *
strata_crypto_format_find(const char *name, struct strata_error **errp);

#ifdef __cplusplus
}
#endif
#endif
