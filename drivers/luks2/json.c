/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json.c - the checks a LUKS2 JSON area must pass before anything in it is
 * trusted, and the values strata takes out of it.  Every refusal names the
 * object and field.  The tree itself is never altered here. */
#include "luks2-int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Refusals: EINVAL for what is malformed, ENOTSUP for what is well
 * formed but beyond strata (reencryption, integrity, unknown types). */
static int bad(struct strata_error **errp, int code, const char *where, const char *fmt,
               ...) __attribute__((format(printf, 4, 5)));

static int bad(struct strata_error **errp, int code, const char *where, const char *fmt,
               ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return strata_error_set(errp, code, "%s: %s", where, msg);
}

bool luks2_json_u64(json_object *o, uint64_t *v)
{
    if (!o || !json_object_is_type(o, json_type_string))
        return false;
    const char *s = json_object_get_string(o);
    if (!*s || strlen(s) > 20)
        return false;
    uint64_t n = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (n > (UINT64_MAX - d) / 10)
            return false;
        n = n * 10 + d;
    }
    *v = n;
    return true;
}

/* ------------------------------------------------------------ base64 */

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int luks2_base64_decode(const char *in, uint8_t *out, size_t max, size_t *len)
{
    size_t n = 0, pad = 0;
    unsigned quad = 0, bits = 0;
    for (; *in; in++) {
        if (*in == '=') {
            pad++;
            continue;
        }
        int v = b64_value(*in);
        if (v < 0 || pad)
            return -EINVAL;
        quad = quad << 6 | (unsigned)v;
        if (++bits == 4) {
            if (n + 3 > max)
                return -EINVAL;
            out[n++] = (uint8_t)(quad >> 16);
            out[n++] = (uint8_t)(quad >> 8);
            out[n++] = (uint8_t)quad;
            quad = bits = 0;
        }
    }
    if (bits == 1 || (bits && bits + pad != 4) || (!bits && pad))
        return -EINVAL;
    if (bits) {
        quad <<= 6 * (4 - bits);
        size_t extra = bits - 1;
        if (n + extra > max)
            return -EINVAL;
        out[n++] = (uint8_t)(quad >> 16);
        if (extra == 2)
            out[n++] = (uint8_t)(quad >> 8);
    }
    *len = n;
    return 0;
}

char *luks2_base64_encode(const uint8_t *in, size_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((len + 2) / 3 * 4 + 1), *p = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        *p++ = tab[v >> 18 & 63];
        *p++ = tab[v >> 12 & 63];
        *p++ = i + 1 < len ? tab[v >> 6 & 63] : '=';
        *p++ = i + 2 < len ? tab[v & 63] : '=';
    }
    *p = 0;
    return out;
}

/* ------------------------------------------------------------ fields */

static int get_obj(json_object *o, const char *key, json_type type, json_object **out,
                   const char *where, struct strata_error **errp)
{
    static const char *const tnames[] = {
        [json_type_null] = "null", [json_type_boolean] = "a boolean",
        [json_type_double] = "a number", [json_type_int] = "an integer",
        [json_type_object] = "an object", [json_type_array] = "an array",
        [json_type_string] = "a string",
    };
    if (!json_object_object_get_ex(o, key, out))
        return bad(errp, EINVAL, where, "field '%s' is missing", key);
    if (!json_object_is_type(*out, type))
        return bad(errp, EINVAL, where, "field '%s' is not %s", key, tnames[type]);
    return 0;
}

static int get_str(json_object *o, const char *key, const char **out,
                   const char *where, struct strata_error **errp)
{
    json_object *j;
    int r = get_obj(o, key, json_type_string, &j, where, errp);
    if (r == 0)
        *out = json_object_get_string(j);
    return r;
}

/* A number held as a JSON string, as LUKS2 stores offsets and sizes. */
static int get_u64str(json_object *o, const char *key, uint64_t *out, const char *where,
                      struct strata_error **errp)
{
    json_object *j;
    int r = get_obj(o, key, json_type_string, &j, where, errp);
    if (r == 0 && !luks2_json_u64(j, out))
        r = bad(errp, EINVAL, where, "field '%s' (\"%s\") is not an unsigned 64-bit number", key,
                json_object_get_string(j));
    return r;
}

/* A JSON integer within [min, max]. */
static int get_int(json_object *o, const char *key, int64_t min, int64_t max,
                   int64_t *out, const char *where, struct strata_error **errp)
{
    json_object *j;
    int r = get_obj(o, key, json_type_int, &j, where, errp);
    if (r < 0)
        return r;
    errno = 0;
    int64_t v = json_object_get_int64(j);
    /* json-c keeps values above INT64_MAX as unsigned and saturates. */
    if (v == INT64_MAX || v < min || v > max)
        return bad(errp, EINVAL, where, "field '%s' (%s) is out of range (%" PRId64 " to %" PRId64
                   ")", key, json_object_to_json_string(j), min, max);
    *out = v;
    return 0;
}

static int get_b64(json_object *o, const char *key, uint8_t *buf, size_t max,
                   size_t *len, const char *where, struct strata_error **errp)
{
    const char *s = NULL;
    int r = get_str(o, key, &s, where, errp);
    if (r == 0 && (luks2_base64_decode(s, buf, max, len) < 0 || *len == 0))
        r = bad(errp, EINVAL, where, "field '%s' is not base64 of 1 to %zu bytes", key, max);
    return r;
}

/* An object's member names are ids: decimal numbers below LUKS2_MAX_SLOTS. */
static int parse_id(const char *key, const char *section, const char *where,
                    struct strata_error **errp)
{
    char *end;
    if (!*key || *key < '0' || *key > '9' || strlen(key) > 2)
        return bad(errp, EINVAL, where, "%s id '%s' is not a number below %u", section, key,
                   LUKS2_MAX_SLOTS);
    unsigned long v = strtoul(key, &end, 10);
    if (*end || v >= LUKS2_MAX_SLOTS)
        return bad(errp, EINVAL, where, "%s id '%s' is not a number below %u", section, key,
                   LUKS2_MAX_SLOTS);
    return (int)v;
}

/* An array of id strings ("keyslots": ["0", "2"]) as a bit mask, each id
 * present in `have`. */
static int get_refs(json_object *o, const char *key, uint32_t have, const char *what,
                    uint32_t *mask, const char *where, struct strata_error **errp)
{
    json_object *a;
    int r = get_obj(o, key, json_type_array, &a, where, errp);
    if (r < 0)
        return r;
    *mask = 0;
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        json_object *e = json_object_array_get_idx(a, i);
        uint64_t id;
        if (!luks2_json_u64(e, &id) || id >= LUKS2_MAX_SLOTS)
            return bad(errp, EINVAL, where, "'%s' holds %s, not a %s id", key,
                       json_object_to_json_string(e), what);
        if (!(have & (1u << id)))
            return bad(errp, EINVAL, where, "'%s' names %s %" PRIu64 ", which does not exist",
                       key, what, id);
        *mask |= 1u << id;
    }
    return 0;
}

static bool array_has(json_object *a, const char *s)
{
    if (!a || !json_object_is_type(a, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        json_object *e = json_object_array_get_idx(a, i);
        if (json_object_is_type(e, json_type_string) &&
            strcmp(json_object_get_string(e), s) == 0)
            return true;
    }
    return false;
}

#define REENCRYPT_MSG "reencryption is in progress on this volume; strata does " \
                      "not open it (finish it with cryptsetup reencrypt)"

/* ------------------------------------------------------------ sections */

static int check_config(struct luks2_hdr *h, json_object *cfg, const char *name,
                        struct strata_error **errp)
{
    char where[300];
    snprintf(where, sizeof where, "%s: config", name);
    int r;
    if ((r = get_u64str(cfg, "json_size", &h->json_size, where, errp)) < 0 ||
        (r = get_u64str(cfg, "keyslots_size", &h->keyslots_size, where, errp)) < 0)
        return r;
    if (h->json_size != h->bin.hdr_size - LUKS2_BIN_SIZE)
        return bad(errp, EINVAL, where, "json_size %" PRIu64 " does not match the binary "
                   "header's hdr_size %" PRIu64 " (expected %" PRIu64 ")", h->json_size,
                   h->bin.hdr_size, h->bin.hdr_size - LUKS2_BIN_SIZE);
    if (h->keyslots_size % 4096 || h->keyslots_size > (UINT64_MAX >> 2))
        return bad(errp, EINVAL, where, "keyslots_size %" PRIu64 " is not a multiple of 4096",
                   h->keyslots_size);
    json_object *j;
    if (json_object_object_get_ex(cfg, "flags", &j)) {
        if (!json_object_is_type(j, json_type_array))
            return bad(errp, EINVAL, where, "field 'flags' is not an array");
        for (size_t i = 0; i < json_object_array_length(j); i++)
            if (!json_object_is_type(json_object_array_get_idx(j, i), json_type_string))
                return bad(errp, EINVAL, where, "'flags' holds a value that is not a string");
    }
    if (json_object_object_get_ex(cfg, "requirements", &j)) {
        json_object *m;
        if (!json_object_is_type(j, json_type_object))
            return bad(errp, EINVAL, where, "field 'requirements' is not an object");
        if (json_object_object_get_ex(j, "mandatory", &m)) {
            if (!json_object_is_type(m, json_type_array))
                return bad(errp, EINVAL, where, "field 'requirements.mandatory' is not an array");
            for (size_t i = 0; i < json_object_array_length(m); i++) {
                json_object *e = json_object_array_get_idx(m, i);
                const char *req = json_object_get_string(e);
                if (!json_object_is_type(e, json_type_string))
                    return bad(errp, EINVAL, where, "'requirements.mandatory' holds a value that "
                               "is not a string");
                if (strncmp(req, "online-reencrypt", 16) == 0)
                    return bad(errp, ENOTSUP, where, "mandatory requirement '%s': "
                                  REENCRYPT_MSG, req);
                return bad(errp, ENOTSUP, where, "unknown mandatory requirement '%s': the "
                              "volume needs a feature strata does not have", req);
            }
        }
    }
    return 0;
}

static int check_segments(struct luks2_hdr *h, json_object *segs, const char *name,
                          uint32_t *have, struct strata_error **errp)
{
    char where[300];
    int n = 0, r;
    *have = 0;
    json_object_object_foreach(segs, key, seg) {
        snprintf(where, sizeof where, "%s: segment %s", name, key);
        int id = parse_id(key, "segment", where, errp);
        if (id < 0)
            return id;
        if (!json_object_is_type(seg, json_type_object))
            return bad(errp, EINVAL, where, "is not an object");
        const char *type = NULL;
        json_object *j;
        if ((r = get_str(seg, "type", &type, where, errp)) < 0)
            return r;
        if (json_object_object_get_ex(seg, "flags", &j) &&
            (array_has(j, "in-reencryption") || array_has(j, "backup-final") ||
             array_has(j, "backup-previous") || array_has(j, "backup-moved-segment")))
            return bad(errp, ENOTSUP, where, REENCRYPT_MSG);
        if (strcmp(type, "linear") == 0)
            return bad(errp, ENOTSUP, where, "type 'linear': " REENCRYPT_MSG);
        if (strcmp(type, "crypt") != 0)
            return bad(errp, ENOTSUP, where, "unknown segment type '%s'", type);
        if (json_object_object_get_ex(seg, "integrity", &j))
            return bad(errp, ENOTSUP, where, "has integrity protection (dm-integrity or "
                          "authenticated encryption), which strata does not support");
        *have |= 1u << id;
        if (++n > 1)
            return bad(errp, ENOTSUP, name, "more than one data segment: " REENCRYPT_MSG);
        uint64_t off, size = 0, tweak;
        int64_t sector;
        const char *enc = NULL, *sz = NULL;
        if ((r = get_u64str(seg, "offset", &off, where, errp)) < 0 ||
            (r = get_str(seg, "size", &sz, where, errp)) < 0 ||
            (r = get_u64str(seg, "iv_tweak", &tweak, where, errp)) < 0 ||
            (r = get_str(seg, "encryption", &enc, where, errp)) < 0 ||
            (r = get_int(seg, "sector_size", 512, 4096, &sector, where, errp)) < 0)
            return r;
        if (strcmp(sz, "dynamic") != 0) {
            json_object_object_get_ex(seg, "size", &j);
            if (!luks2_json_u64(j, &size) || size == 0)
                return bad(errp, EINVAL, where, "field 'size' (\"%s\") is neither \"dynamic\" nor "
                           "a positive unsigned 64-bit number", sz);
        }
        if (sector & (sector - 1))
            return bad(errp, EINVAL, where, "sector_size %" PRId64 " is not a power of two",
                       sector);
        if (off % LUKS2_SECTOR)
            return bad(errp, EINVAL, where, "offset %" PRIu64 " is not a multiple of 512", off);
        if (size % (uint64_t)sector)
            return bad(errp, EINVAL, where, "size %" PRIu64 " is not a multiple of its "
                       "sector_size %" PRId64, size, sector);
        if (size && off + size < off)
            return bad(errp, EINVAL, where, "offset + size overflows");
        if (tweak % ((uint64_t)sector / LUKS2_SECTOR))
            return bad(errp, EINVAL, where, "iv_tweak %" PRIu64 " is not a multiple of "
                       "sector_size / 512", tweak);
        uint64_t meta_end = 2 * h->bin.hdr_size + h->keyslots_size;
        if (off != 0 && off < meta_end)
            return bad(errp, EINVAL, where, "offset %" PRIu64 " reaches into the header and "
                       "keyslots area, which ends at %" PRIu64, off, meta_end);
        if (strlen(enc) >= sizeof h->seg_enc ||
            strata_cipher_spec_parse(enc, NULL, &h->spec, NULL) < 0)
            return bad(errp, EINVAL, where, "encryption '%s' is not a cipher specification",
                       enc);
        h->seg_offset = off;
        h->seg_size = size;
        h->iv_tweak = tweak;
        h->sector_size = (uint32_t)sector;
        snprintf(h->seg_enc, sizeof h->seg_enc, "%s", enc);
    }
    if (n == 0)
        return bad(errp, EINVAL, name, "no data segment");
    return 0;
}

static int check_kdf(struct luks2_keyslot *ks, json_object *kdf, const char *where,
                     struct strata_error **errp)
{
    const char *type = NULL, *hash = NULL;
    int64_t v;
    int r;
    if ((r = get_str(kdf, "type", &type, where, errp)) < 0)
        return r;
    if (strcmp(type, "pbkdf2") && strcmp(type, "argon2i") && strcmp(type, "argon2id"))
        return bad(errp, ENOTSUP, where, "unknown type '%s'", type);
    snprintf(ks->kdf, sizeof ks->kdf, "%s", type);
    if ((r = get_b64(kdf, "salt", ks->salt, sizeof ks->salt, &ks->salt_len, where,
                     errp)) < 0)
        return r;
    if (strcmp(type, "pbkdf2") == 0) {
        if ((r = get_str(kdf, "hash", &hash, where, errp)) < 0 ||
            (r = get_int(kdf, "iterations", 1, STRATA_KDF_MAX_ITERATIONS, &v, where, errp)) < 0)
            return r;
        if (strlen(hash) >= sizeof ks->kdf_hash)
            return bad(errp, EINVAL, where, "hash '%s' is too long", hash);
        snprintf(ks->kdf_hash, sizeof ks->kdf_hash, "%s", hash);
        ks->kp.iterations = (uint32_t)v;
        return 0;
    }
    if ((r = get_int(kdf, "time", 1, UINT32_MAX, &v, where, errp)) < 0)
        return r;
    ks->kp.iterations = (uint32_t)v;
    if ((r = get_int(kdf, "memory", 1, UINT32_MAX, &v, where, errp)) < 0)
        return r;
    ks->kp.memory_kib = (uint32_t)v;
    if ((r = get_int(kdf, "cpus", 1, UINT32_MAX, &v, where, errp)) < 0)
        return r;
    ks->kp.parallel = (uint32_t)v;
    return 0;
}

static int check_keyslot(struct luks2_hdr *h, struct luks2_keyslot *ks, json_object *o,
                         const char *where, struct strata_error **errp)
{
    json_object *af, *area, *kdf, *j;
    const char *s = NULL;
    int64_t v;
    int r;
    if ((r = get_int(o, "key_size", 1, LUKS2_MAX_KEY, &v, where, errp)) < 0)
        return r;
    ks->key_size = (uint32_t)v;
    ks->priority = 1;
    if (json_object_object_get_ex(o, "priority", &j)) {
        if ((r = get_int(o, "priority", 0, 2, &v, where, errp)) < 0)
            return r;
        ks->priority = (int)v;
    }
    if ((r = get_obj(o, "af", json_type_object, &af, where, errp)) < 0 ||
        (r = get_obj(o, "area", json_type_object, &area, where, errp)) < 0 ||
        (r = get_obj(o, "kdf", json_type_object, &kdf, where, errp)) < 0)
        return r;
    char waf[320], warea[320], wkdf[320];
    snprintf(waf, sizeof waf, "%s af", where);
    snprintf(warea, sizeof warea, "%s area", where);
    snprintf(wkdf, sizeof wkdf, "%s kdf", where);
    if ((r = get_str(af, "type", &s, waf, errp)) < 0)
        return r;
    if (strcmp(s, "luks1") != 0)
        return bad(errp, ENOTSUP, waf, "unknown type '%s'", s);
    if ((r = get_int(af, "stripes", 1, 65536, &v, waf, errp)) < 0 ||
        (r = get_str(af, "hash", &s, waf, errp)) < 0)
        return r;
    ks->stripes = (uint32_t)v;
    if (strlen(s) >= sizeof ks->af_hash)
        return bad(errp, EINVAL, waf, "hash '%s' is too long", s);
    snprintf(ks->af_hash, sizeof ks->af_hash, "%s", s);
    if ((r = get_str(area, "type", &s, warea, errp)) < 0)
        return r;
    if (strcmp(s, "raw") != 0)
        return bad(errp, ENOTSUP, warea, "unknown type '%s'", s);
    if ((r = get_str(area, "encryption", &s, warea, errp)) < 0 ||
        (r = get_int(area, "key_size", 1, LUKS2_MAX_KEY, &v, warea, errp)) < 0)
        return r;
    ks->area_key_size = (uint32_t)v;
    if (strlen(s) >= sizeof ks->area_enc ||
        strata_cipher_spec_parse(s, NULL, &ks->area_spec, NULL) < 0)
        return bad(errp, EINVAL, warea, "encryption '%s' is not a cipher specification", s);
    snprintf(ks->area_enc, sizeof ks->area_enc, "%s", s);
    if ((r = check_kdf(ks, kdf, wkdf, errp)) < 0)
        return r;
    uint64_t mat = ((uint64_t)ks->key_size * ks->stripes + LUKS2_SECTOR - 1) /
                   LUKS2_SECTOR * LUKS2_SECTOR;
    if (mat > ks->area_size)
        return bad(errp, EINVAL, warea, "size %" PRIu64 " is smaller than its key material "
                   "(%" PRIu64 " bytes)", ks->area_size, mat);
    (void)h;
    return 0;
}

/* Every keyslot area lies in the keyslots area, after both header copies,
 * and no two overlap. */
static int check_area(struct luks2_hdr *h, json_object *o, uint64_t *off, uint64_t *size,
                      const char *where, struct strata_error **errp)
{
    json_object *area;
    int r;
    if ((r = get_obj(o, "area", json_type_object, &area, where, errp)) < 0 ||
        (r = get_u64str(area, "offset", off, where, errp)) < 0 ||
        (r = get_u64str(area, "size", size, where, errp)) < 0)
        return r;
    uint64_t start = 2 * h->bin.hdr_size, end = start + h->keyslots_size;
    if (*off < start)
        return bad(errp, EINVAL, where, "area offset %" PRIu64 " reaches into the header copies "
                   "(which end at %" PRIu64 ")", *off, start);
    if (*size == 0 || *off + *size < *off || *off + *size > end)
        return bad(errp, EINVAL, where, "area (offset %" PRIu64 ", size %" PRIu64 ") is outside "
                   "the keyslots area (%" PRIu64 " to %" PRIu64 ")", *off, *size, start,
                   end);
    return 0;
}

static int check_keyslots(struct luks2_hdr *h, json_object *kss, const char *name,
                          uint32_t *have, struct strata_error **errp)
{
    char where[300];
    uint64_t offs[LUKS2_MAX_SLOTS], sizes[LUKS2_MAX_SLOTS];
    int ids[LUKS2_MAX_SLOTS], n = 0, r;
    *have = 0;
    for (unsigned i = 0; i < LUKS2_MAX_SLOTS; i++)
        h->slots[i].id = -1;
    json_object_object_foreach(kss, key, o) {
        snprintf(where, sizeof where, "%s: keyslot %s", name, key);
        int id = parse_id(key, "keyslot", where, errp);
        if (id < 0)
            return id;
        if (!json_object_is_type(o, json_type_object))
            return bad(errp, EINVAL, where, "is not an object");
        const char *type = NULL;
        if ((r = get_str(o, "type", &type, where, errp)) < 0)
            return r;
        if (strcmp(type, "reencrypt") == 0)
            return bad(errp, ENOTSUP, where, "type 'reencrypt': " REENCRYPT_MSG);
        *have |= 1u << id;
        json_object *area;
        /* Keyslots of other types are kept as they are, and their areas
         * still count against overlaps when they describe one. */
        if (strcmp(type, "luks2") != 0 && !json_object_object_get_ex(o, "area", &area))
            continue;
        if ((r = check_area(h, o, &offs[n], &sizes[n], where, errp)) < 0)
            return r;
        for (int k = 0; k < n; k++)
            if (offs[n] < offs[k] + sizes[k] && offs[k] < offs[n] + sizes[n])
                return bad(errp, EINVAL, where, "area (offset %" PRIu64 ", size %" PRIu64 ") "
                           "overlaps the area of keyslot %d", offs[n], sizes[n], ids[k]);
        ids[n++] = id;
        if (strcmp(type, "luks2") != 0)
            continue;
        struct luks2_keyslot *ks = &h->slots[id];
        memset(ks, 0, sizeof *ks);
        ks->area_offset = offs[n - 1];
        ks->area_size = sizes[n - 1];
        if ((r = check_keyslot(h, ks, o, where, errp)) < 0) {
            ks->id = -1;
            return r;
        }
        ks->id = id;
    }
    return 0;
}

static int check_digests(struct luks2_hdr *h, json_object *ds, const char *name,
                         uint32_t slots, uint32_t segs, struct strata_error **errp)
{
    char where[300];
    int r;
    h->ndigests = 0;
    h->seg_digest = -1;
    json_object_object_foreach(ds, key, o) {
        snprintf(where, sizeof where, "%s: digest %s", name, key);
        int id = parse_id(key, "digest", where, errp);
        if (id < 0)
            return id;
        if (!json_object_is_type(o, json_type_object))
            return bad(errp, EINVAL, where, "is not an object");
        struct luks2_digest *d = &h->digests[h->ndigests];
        memset(d, 0, sizeof *d);
        d->id = id;
        const char *type = NULL, *hash = NULL;
        int64_t it;
        if ((r = get_str(o, "type", &type, where, errp)) < 0)
            return r;
        if (strcmp(type, "pbkdf2") != 0)
            return bad(errp, ENOTSUP, where, "unknown digest type '%s'", type);
        if ((r = get_refs(o, "keyslots", slots, "keyslot", &d->keyslots, where, errp)) < 0 ||
            (r = get_refs(o, "segments", segs, "segment", &d->segments, where, errp)) < 0 ||
            (r = get_str(o, "hash", &hash, where, errp)) < 0 ||
            (r = get_int(o, "iterations", 1, STRATA_KDF_MAX_ITERATIONS, &it, where, errp)) < 0 ||
            (r = get_b64(o, "salt", d->salt, sizeof d->salt, &d->salt_len, where,
                         errp)) < 0 ||
            (r = get_b64(o, "digest", d->digest, sizeof d->digest, &d->digest_len, where,
                         errp)) < 0)
            return r;
        if (strlen(hash) >= sizeof d->hash)
            return bad(errp, EINVAL, where, "hash '%s' is too long", hash);
        snprintf(d->hash, sizeof d->hash, "%s", hash);
        d->iterations = (uint32_t)it;
        for (unsigned k = 0; k < h->ndigests; k++)
            if ((h->digests[k].segments & d->segments) ||
                (h->digests[k].keyslots & d->keyslots))
                return bad(errp, EINVAL, where, "shares a keyslot or segment with digest %d",
                           h->digests[k].id);
        if (d->segments & segs)
            h->seg_digest = (int)h->ndigests;
        h->ndigests++;
    }
    if (h->seg_digest < 0)
        return bad(errp, EINVAL, name, "no digest covers the data segment");
    /* The volume key's size: what the keyslots of the segment's digest
     * store, all alike. */
    const struct luks2_digest *d = &h->digests[h->seg_digest];
    h->key_size = 0;
    for (unsigned i = 0; i < LUKS2_MAX_SLOTS; i++) {
        if (!(d->keyslots & (1u << i)) || h->slots[i].id < 0)
            continue;
        if (h->key_size && h->slots[i].key_size != h->key_size)
            return bad(errp, EINVAL, name, "keyslot %u stores a %" PRIu32 "-byte key, other "
                       "keyslots of the data segment %" PRIu32 " bytes", i,
                       h->slots[i].key_size, h->key_size);
        h->key_size = h->slots[i].key_size;
    }
    return 0;
}

static int check_tokens(json_object *ts, const char *name, uint32_t slots,
                        struct strata_error **errp)
{
    char where[300];
    int r;
    json_object_object_foreach(ts, key, o) {
        snprintf(where, sizeof where, "%s: token %s", name, key);
        int id = parse_id(key, "token", where, errp);
        if (id < 0)
            return id;
        if (!json_object_is_type(o, json_type_object))
            return bad(errp, EINVAL, where, "is not an object");
        const char *type = NULL;
        uint32_t mask;
        if ((r = get_str(o, "type", &type, where, errp)) < 0 ||
            (r = get_refs(o, "keyslots", slots, "keyslot", &mask, where, errp)) < 0)
            return r;
    }
    return 0;
}

int luks2_json_validate(struct luks2_hdr *h, const char *name,
                        struct strata_error **errp)
{
    json_object *kss, *tokens, *segs, *digests, *cfg;
    uint32_t slots, segmask;
    int r;
    if (!json_object_is_type(h->root, json_type_object))
        return bad(errp, EINVAL, name, "the JSON area does not hold an object");
    if ((r = get_obj(h->root, "keyslots", json_type_object, &kss, name, errp)) < 0 ||
        (r = get_obj(h->root, "tokens", json_type_object, &tokens, name, errp)) < 0 ||
        (r = get_obj(h->root, "segments", json_type_object, &segs, name, errp)) < 0 ||
        (r = get_obj(h->root, "digests", json_type_object, &digests, name, errp)) < 0 ||
        (r = get_obj(h->root, "config", json_type_object, &cfg, name, errp)) < 0)
        return r;
    if ((r = check_config(h, cfg, name, errp)) < 0 ||
        (r = check_segments(h, segs, name, &segmask, errp)) < 0 ||
        (r = check_keyslots(h, kss, name, &slots, errp)) < 0 ||
        (r = check_digests(h, digests, name, slots, segmask, errp)) < 0 ||
        (r = check_tokens(tokens, name, slots, errp)) < 0)
        return r;
    if (h->key_size) {
        struct strata_error *err = NULL;
        if (strata_cipher_check(h->spec.alg, h->spec.mode, h->spec.ivgen, h->key_size,
                                &err) < 0) {
            r = bad(errp, ENOTSUP, name, "segment encryption '%s' with a %" PRIu32 "-byte key "
                       "is unusable: %s", h->seg_enc, h->key_size,
                       err ? err->msg : "refused");
            strata_error_free(err);
            return r;
        }
    }
    return 0;
}

json_object *luks2_json_section(json_object *root, const char *name)
{
    json_object *o = NULL;
    json_object_object_get_ex(root, name, &o);
    return o;
}
