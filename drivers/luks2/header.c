/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* header.c - the LUKS2 binary header and its two copies: reading both,
 * choosing the newest valid one, and writing both in a crash-safe order. */
#include "luks2-int.h"

#include "bigendian.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t magic_primary[LUKS2_MAGIC_LEN] = { 'L', 'U', 'K', 'S', 0xba, 0xbe };
static const uint8_t magic_secondary[LUKS2_MAGIC_LEN] = { 'S', 'K', 'U', 'L', 0xba, 0xbe };

/* Field offsets in the binary header (LUKS2 specification, section 2). */
enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 6,
    OFF_HDR_SIZE = 8,
    OFF_SEQID = 16,
    OFF_LABEL = 24,
    OFF_CSUM_ALG = 72,
    OFF_SALT = 104,
    OFF_UUID = 168,
    OFF_SUBSYSTEM = 208,
    OFF_HDR_OFFSET = 256,
    OFF_CSUM = 448,
};

bool luks2_valid_hdr_size(uint64_t size)
{
    for (uint64_t s = LUKS2_MIN_HDR; s <= LUKS2_MAX_HDR; s *= 2)
        if (size == s)
            return true;
    return false;
}

static int get_string(char *dst, const uint8_t *src, size_t len, const char *field,
                      const char *where, struct strata_error **errp)
{
    if (!memchr(src, 0, len))
        return strata_error_set(errp, EINVAL, "%s: field '%s' is not NUL-terminated",
                                where, field);
    memcpy(dst, src, len);
    dst[len] = 0;
    return 0;
}

static int decode_bin(const uint8_t *raw, bool primary, struct luks2_bin *b,
                      const char *where, struct strata_error **errp)
{
    memset(b, 0, sizeof *b);
    if (memcmp(raw + OFF_MAGIC, primary ? magic_primary : magic_secondary,
               LUKS2_MAGIC_LEN) != 0)
        return strata_error_set(errp, EINVAL, "%s: bad magic", where);
    b->version = (uint16_t)(raw[OFF_VERSION] << 8 | raw[OFF_VERSION + 1]);
    if (b->version != 2)
        return strata_error_set(errp, EINVAL, "%s: version %u, 2 expected", where,
                                b->version);
    b->hdr_size = load_be64(raw + OFF_HDR_SIZE);
    b->seqid = load_be64(raw + OFF_SEQID);
    b->hdr_offset = load_be64(raw + OFF_HDR_OFFSET);
    memcpy(b->salt, raw + OFF_SALT, LUKS2_SALT_LEN);
    memcpy(b->csum, raw + OFF_CSUM, LUKS2_CSUM_LEN);
    int r;
    if ((r = get_string(b->label, raw + OFF_LABEL, LUKS2_LABEL_LEN, "label", where,
                        errp)) < 0 ||
        (r = get_string(b->csum_alg, raw + OFF_CSUM_ALG, LUKS2_CSUM_ALG_LEN,
                        "checksum_alg", where, errp)) < 0 ||
        (r = get_string(b->uuid, raw + OFF_UUID, LUKS2_UUID_LEN, "uuid", where,
                        errp)) < 0 ||
        (r = get_string(b->subsystem, raw + OFF_SUBSYSTEM, LUKS2_LABEL_LEN, "subsystem",
                        where, errp)) < 0)
        return r;
    if (!luks2_valid_hdr_size(b->hdr_size))
        return strata_error_set(errp, EINVAL, "%s: hdr_size %" PRIu64 " is not one of "
                                "16 KiB, 32 KiB, ... 4 MiB", where, b->hdr_size);
    return 0;
}

static void encode_bin(const struct luks2_bin *b, bool primary, uint8_t *raw)
{
    memset(raw, 0, LUKS2_BIN_SIZE);
    memcpy(raw + OFF_MAGIC, primary ? magic_primary : magic_secondary, LUKS2_MAGIC_LEN);
    raw[OFF_VERSION + 1] = 2;
    store_be64(raw + OFF_HDR_SIZE, b->hdr_size);
    store_be64(raw + OFF_SEQID, b->seqid);
    memcpy(raw + OFF_LABEL, b->label, strnlen(b->label, LUKS2_LABEL_LEN - 1));
    memcpy(raw + OFF_CSUM_ALG, b->csum_alg, strnlen(b->csum_alg, LUKS2_CSUM_ALG_LEN - 1));
    memcpy(raw + OFF_SALT, b->salt, LUKS2_SALT_LEN);
    memcpy(raw + OFF_UUID, b->uuid, strnlen(b->uuid, LUKS2_UUID_LEN - 1));
    memcpy(raw + OFF_SUBSYSTEM, b->subsystem, strnlen(b->subsystem, LUKS2_LABEL_LEN - 1));
    store_be64(raw + OFF_HDR_OFFSET, b->hdr_offset);
}

/* The checksum over the whole copy (binary header with the checksum field
 * zeroed, then the JSON area); buf's checksum field is zeroed here. */
static int checksum(const char *alg, uint8_t *buf, size_t len, uint8_t *out,
                    const char *where, struct strata_error **errp)
{
    struct strata_error *err = NULL;
    int dlen = strata_hash_digest_size(alg, &err);
    if (dlen < 0 || dlen > (int)LUKS2_CSUM_LEN) {
        int r = strata_error_set(errp, dlen < 0 ? -dlen : EINVAL, "%s: unusable "
                                 "checksum_alg '%s'%s%s", where, alg, err ? ": " : "",
                                 err ? err->msg : "");
        strata_error_free(err);
        return r;
    }
    memset(buf + OFF_CSUM, 0, LUKS2_CSUM_LEN);
    memset(out, 0, LUKS2_CSUM_LEN);
    return strata_hash_buf(alg, buf, len, out, errp);
}

struct copy {
    struct luks2_hdr h;
    bool ok;
    struct strata_error *err;
};

/* Reads and checks one copy at off. */
static int read_copy(const struct strata_crypto_hdr_io *io, const char *name,
                     uint64_t off, bool primary, struct luks2_hdr *h,
                     struct strata_error **errp)
{
    char where[256];
    snprintf(where, sizeof where, "%s: LUKS2 %s header at offset %" PRIu64, name,
             primary ? "primary" : "secondary", off);
    uint8_t bin[LUKS2_BIN_SIZE];
    if (io->size && off + LUKS2_BIN_SIZE > io->size)
        return strata_error_set(errp, EINVAL, "%s: past the end of the file (%" PRIu64
                                " bytes)", where, io->size);
    int r = io->read(io->opaque, off, bin, sizeof bin, errp);
    if (r < 0)
        return r;
    if ((r = decode_bin(bin, primary, &h->bin, where, errp)) < 0)
        return r;
    uint64_t size = h->bin.hdr_size;
    if (h->bin.hdr_offset != off)
        return strata_error_set(errp, EINVAL, "%s: hdr_offset says %" PRIu64, where,
                                h->bin.hdr_offset);
    if (io->size && off + size > io->size)
        return strata_error_set(errp, EINVAL, "%s: hdr_size %" PRIu64 " reaches past the "
                                "end of the file (%" PRIu64 " bytes)", where, size,
                                io->size);
    uint8_t *buf = malloc(size + 1);
    if (!buf)
        return strata_error_set(errp, ENOMEM, "out of memory");
    uint8_t sum[LUKS2_CSUM_LEN];
    r = io->read(io->opaque, off, buf, size, errp);
    if (r == 0)
        r = checksum(h->bin.csum_alg, buf, size, sum, where, errp);
    if (r == 0 && memcmp(sum, h->bin.csum, LUKS2_CSUM_LEN) != 0)
        r = strata_error_set(errp, EINVAL, "%s: checksum mismatch (%s)", where,
                             h->bin.csum_alg);
    if (r < 0)
        goto out;
    /* The JSON text ends at the first NUL; the rest of the area is zeros. */
    buf[size] = 0;
    const char *text = (const char *)buf + LUKS2_BIN_SIZE;
    size_t tlen = strnlen(text, size - LUKS2_BIN_SIZE);
    if (tlen == size - LUKS2_BIN_SIZE) {
        r = strata_error_set(errp, EINVAL, "%s: the JSON area is not NUL-terminated",
                             where);
        goto out;
    }
    json_tokener *tok = json_tokener_new();
    if (!tok) {
        r = strata_error_set(errp, ENOMEM, "out of memory");
        goto out;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    h->root = json_tokener_parse_ex(tok, text, (int)tlen);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (used < tlen && strchr(" \t\r\n", text[used]))
        used++;
    if (!h->root || jerr != json_tokener_success || used != tlen) {
        r = strata_error_set(errp, EINVAL, "%s: the JSON area does not parse: %s", where,
                             h->root && used != tlen ? "text after the object"
                                                     : json_tokener_error_desc(jerr));
        goto out;
    }
    r = luks2_json_validate(h, where, errp);
out:
    free(buf);
    if (r < 0) {
        json_object_put(h->root);
        h->root = NULL;
    }
    return r;
}

void luks2_hdr_free(struct luks2_hdr *h)
{
    json_object_put(h->root);
    h->root = NULL;
}

int luks2_hdr_read(const struct strata_crypto_hdr_io *io, const char *name,
                   struct luks2_hdr *h, char *state, size_t state_len,
                   struct luks2_copies *copies, struct strata_error **errp)
{
    struct copy p = { 0 }, s = { 0 };
    uint64_t s_off = 0;
    p.ok = read_copy(io, name, 0, true, &p.h, &p.err) == 0;
    /* The secondary sits right after the primary; when the primary cannot
     * say where that is, every offset LUKS2 allows is tried. */
    if (luks2_valid_hdr_size(p.h.bin.hdr_size)) {
        s_off = p.h.bin.hdr_size;
        s.ok = read_copy(io, name, s_off, false, &s.h, &s.err) == 0;
    }
    for (uint64_t off = LUKS2_MIN_HDR; !s.ok && !p.ok && off <= LUKS2_MAX_HDR; off *= 2) {
        if (io->size && off + LUKS2_BIN_SIZE > io->size)
            break;
        struct strata_error *e = NULL;
        luks2_hdr_free(&s.h);
        memset(&s.h, 0, sizeof s.h);
        s.ok = read_copy(io, name, off, false, &s.h, &e) == 0;
        if (s.ok)
            s_off = off;
        if (e && (!s.err || strstr(e->msg, "bad magic") == NULL)) {
            strata_error_free(s.err);
            s.err = e;
        } else {
            strata_error_free(e);
        }
    }
    if (copies) {
        memset(copies, 0, sizeof *copies);
        copies->ok[0] = p.ok;
        copies->ok[1] = s.ok;
        copies->seqid[0] = p.h.bin.seqid;
        copies->seqid[1] = s.h.bin.seqid;
        copies->offset[0] = 0;
        /* A damaged secondary is where the valid primary says it is. */
        copies->offset[1] = s.ok ? s_off : p.ok ? p.h.bin.hdr_size : 0;
        snprintf(copies->why[0], sizeof copies->why[0], "%s", p.err ? p.err->msg : "");
        snprintf(copies->why[1], sizeof copies->why[1], "%s", s.err ? s.err->msg : "");
    }
    int r = 0;
    const char *what = "";
    if (p.ok && s.ok && p.h.bin.seqid == s.h.bin.seqid) {
        *h = p.h;
        luks2_hdr_free(&s.h);
        what = "both copies valid";
    } else if (p.ok && (!s.ok || p.h.bin.seqid > s.h.bin.seqid)) {
        *h = p.h;
        luks2_hdr_free(&s.h);
        what = s.ok ? "primary (secondary is older)" : "primary (secondary is damaged)";
    } else if (s.ok) {
        *h = s.h;
        luks2_hdr_free(&p.h);
        what = p.ok ? "secondary (primary is older)" : "secondary (primary is damaged)";
    } else {
        r = strata_error_set(errp, p.err ? p.err->code : EINVAL, "%s: no valid LUKS "
                             "version 2 header copy: %s%s%s", name,
                             p.err ? p.err->msg : "", s.err ? "; " : "",
                             s.err ? s.err->msg : "");
        luks2_hdr_free(&p.h);
        luks2_hdr_free(&s.h);
    }
    if (state && state_len)
        snprintf(state, state_len, "%s", what);
    strata_error_free(p.err);
    strata_error_free(s.err);
    return r;
}

/* One copy: the whole header area in one write, then a flush. */
static int write_copy(const struct strata_crypto_hdr_io *io, const char *name,
                      const struct luks2_hdr *h, bool primary, const char *text,
                      struct strata_error **errp)
{
    uint64_t size = h->bin.hdr_size;
    uint8_t *buf = calloc(1, size);
    if (!buf)
        return strata_error_set(errp, ENOMEM, "out of memory");
    struct luks2_bin b = h->bin;
    b.hdr_offset = primary ? 0 : size;
    encode_bin(&b, primary, buf);
    memcpy(buf + LUKS2_BIN_SIZE, text, strlen(text));
    uint8_t sum[LUKS2_CSUM_LEN];
    int r = checksum(b.csum_alg, buf, size, sum, name, errp);
    if (r == 0) {
        memcpy(buf + OFF_CSUM, sum, LUKS2_CSUM_LEN);
        r = io->write(io->opaque, b.hdr_offset, buf, size, errp);
    }
    if (r == 0 && io->flush)
        r = io->flush(io->opaque, errp);
    free(buf);
    return r;
}

/* The JSON text of h, checked to fit its area; owned by h->root. */
static int json_text(const struct strata_crypto_hdr_io *io, const char *name,
                     const struct luks2_hdr *h, const char **text,
                     struct strata_error **errp)
{
    if (!io->write)
        return strata_error_set(errp, EROFS, "%s: the LUKS2 header is read-only", name);
    *text = json_object_to_json_string_ext(
        h->root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!*text)
        return strata_error_set(errp, ENOMEM, "out of memory");
    if (strlen(*text) >= h->bin.hdr_size - LUKS2_BIN_SIZE)
        return strata_error_set(errp, ENOSPC, "%s: the LUKS2 metadata (%zu bytes of "
                                "JSON) does not fit its %" PRIu64 "-byte JSON area", name,
                                strlen(*text), h->bin.hdr_size - LUKS2_BIN_SIZE);
    return 0;
}

/* Both copies carry the new seqid.  The secondary is written and flushed
 * first, then the primary:
 *   - a crash while the secondary is written leaves the primary with the
 *     old state, valid, and where probing looks;
 *   - a crash while the primary is written leaves the secondary with the
 *     new state, valid, newer than whatever of the primary survived.
 * So after a crash at any write one valid copy holds the old or the new
 * state, and the newest valid copy is what opens.  Converting from LUKS1
 * asks for the primary first: until it is written the LUKS1 header and its
 * key material, which the secondary's place may still hold, are what
 * opens. */
int luks2_hdr_write(const struct strata_crypto_hdr_io *io, const char *name,
                    struct luks2_hdr *h, bool primary_first, struct strata_error **errp)
{
    const char *text = NULL;
    int r = json_text(io, name, h, &text, errp);
    if (r == 0)
        r = write_copy(io, name, h, primary_first, text, errp);
    if (r == 0)
        r = write_copy(io, name, h, !primary_first, text, errp);
    return r;
}

int luks2_hdr_write_copy(const struct strata_crypto_hdr_io *io, const char *name,
                         const struct luks2_hdr *h, bool primary,
                         struct strata_error **errp)
{
    const char *text = NULL;
    int r = json_text(io, name, h, &text, errp);
    return r < 0 ? r : write_copy(io, name, h, primary, text, errp);
}
