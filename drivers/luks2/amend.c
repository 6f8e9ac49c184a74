/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* amend.c - LUKS2 key management (add, remove and replace passphrases,
 * keyslot priorities) and erase.  The JSON tree is copied and edited, never
 * rebuilt: tokens, keyslot types, flags and members strata does not know
 * survive every rewrite. */
#include "luks2-format.h"
#include "luks.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_choices[] = { "active", "inactive", NULL };
static const char *const prio_choices[] = { "ignore", "normal", "prefer", NULL };

const struct strata_opt_desc luks2_amend_opts[] = {
    { .name = "state", .type = STRATA_OPT_ENUM, .choices = state_choices,
      .help = "active: add new-secret to a keyslot; inactive: erase keyslots" },
    { .name = "keyslot", .type = STRATA_OPT_NUMBER,
      .help = "keyslot to add to, erase or set the priority of (0-31; default: the "
              "first free one)" },
    { .name = "old-secret", .type = STRATA_OPT_STRING,
      .help = "secret that unlocks the volume (active), or whose keyslots to erase "
              "(inactive)" },
    { .name = "new-secret", .type = STRATA_OPT_STRING,
      .help = "secret to add (state=active)" },
    { .name = "replace", .type = STRATA_OPT_BOOL, .def = "off",
      .help = "with state=active: after the new secret is stored and verified, erase "
              "the keyslots old-secret opens" },
    LUKS2_KDF_OPTION_DESCS
    { .name = "priority", .type = STRATA_OPT_ENUM, .choices = prio_choices,
      .help = "keyslot priority: prefer (tried first), normal, ignore (only tried when "
              "named)" },
    { NULL },
};

/* ------------------------------------------------------------ updates */

/* Makes root (an edited copy of the tree; consumed) the header: it must
 * pass the checks of a header read from disk, then both copies are written
 * with the next seqid (header.c says in which order). */
static int commit(struct strata_crypto_ctx *ctx, json_object *root,
                  struct strata_error **errp)
{
    struct luks2_hdr *nh = malloc(sizeof *nh);
    if (!nh) {
        json_object_put(root);
        return strata_error_set(errp, ENOMEM, "out of memory");
    }
    *nh = ctx->h;
    nh->root = root;
    nh->bin.seqid++;
    int r = luks2_json_validate(nh, ctx->name, errp);
    if (r == 0)
        r = luks2_hdr_write(&ctx->io, ctx->name, nh, false, errp);
    if (r < 0) {
        json_object_put(root);
    } else {
        json_object_put(ctx->h.root);
        ctx->h = *nh;
        snprintf(ctx->state, sizeof ctx->state, "both copies valid");
    }
    strata_wipe(nh, sizeof *nh);
    free(nh);
    return r;
}

/* Removes id from an array of id strings. */
static void array_drop(json_object *a, const char *id)
{
    if (!a || !json_object_is_type(a, json_type_array))
        return;
    for (size_t i = json_object_array_length(a); i-- > 0;) {
        json_object *e = json_object_array_get_idx(a, i);
        if (json_object_is_type(e, json_type_string) &&
            strcmp(json_object_get_string(e), id) == 0)
            json_object_array_del_idx(a, i, 1);
    }
}

static int wipe_area(struct strata_crypto_ctx *ctx, uint64_t off, uint64_t len,
                     struct strata_error **errp)
{
    size_t chunk = len < (1u << 20) ? (size_t)len : 1u << 20;
    uint8_t *buf = malloc(chunk);
    int r = 0;
    if (!buf)
        return strata_error_set(errp, ENOMEM, "out of memory");
    /* Random, zeros, random, as for LUKS1 key material. */
    for (int pass = 0; pass < 3 && r == 0; pass++) {
        for (uint64_t o = 0; o < len && r == 0; o += chunk) {
            size_t n = len - o < chunk ? (size_t)(len - o) : chunk;
            if (pass == 1)
                memset(buf, 0, n);
            else
                r = strata_random_bytes(buf, n, errp);
            if (r == 0)
                r = ctx->io.write(ctx->io.opaque, off + o, buf, n, errp);
        }
        if (r == 0 && ctx->io.flush)
            r = ctx->io.flush(ctx->io.opaque, errp);
    }
    free(buf);
    return r;
}

/* Takes the keyslots in mask out of the header, then destroys their
 * material: the header never names half-wiped material. */
static int remove_slots(struct strata_crypto_ctx *ctx, uint32_t mask,
                        struct strata_error **errp)
{
    uint64_t offs[LUKS2_MAX_SLOTS] = { 0 }, lens[LUKS2_MAX_SLOTS] = { 0 };
    json_object *root = NULL;
    if (json_object_deep_copy(ctx->h.root, &root, NULL) < 0)
        return strata_error_set(errp, ENOMEM, "out of memory");
    json_object *kss = luks2_json_section(root, "keyslots");
    for (unsigned i = 0; i < LUKS2_MAX_SLOTS; i++) {
        if (!(mask & (1u << i)))
            continue;
        char id[4];
        snprintf(id, sizeof id, "%u", i);
        json_object *ks, *area, *j;
        if (json_object_object_get_ex(kss, id, &ks) &&
            json_object_object_get_ex(ks, "area", &area)) {
            if (json_object_object_get_ex(area, "offset", &j))
                luks2_json_u64(j, &offs[i]);
            if (json_object_object_get_ex(area, "size", &j))
                luks2_json_u64(j, &lens[i]);
        }
        json_object_object_del(kss, id);
        json_object_object_foreach(luks2_json_section(root, "digests"), dk, d) {
            (void)dk;
            json_object_object_get_ex(d, "keyslots", &j);
            array_drop(j, id);
        }
        json_object_object_foreach(luks2_json_section(root, "tokens"), tk, t) {
            (void)tk;
            json_object_object_get_ex(t, "keyslots", &j);
            array_drop(j, id);
        }
    }
    int r = commit(ctx, root, errp);
    for (unsigned i = 0; i < LUKS2_MAX_SLOTS && r == 0; i++)
        if (lens[i])
            r = wipe_area(ctx, offs[i], lens[i], errp);
    return r;
}

static int try_slot(void *opaque, unsigned slot, const uint8_t *pass, size_t len,
                    uint8_t *key, struct strata_error **errp)
{
    struct strata_crypto_ctx *ctx = opaque;
    return luks2_keyslot_try(&ctx->io, ctx->name, &ctx->h, slot, pass, len, key, errp);
}

/* Keyslots (of the data segment) that pass opens, as a mask; the volume
 * key in vk when any does. */
static int matching_slots(struct strata_crypto_ctx *ctx, const uint8_t *pass,
                          size_t passlen, uint32_t *mask, uint8_t *vk,
                          struct strata_error **errp)
{
    uint32_t cand = 0;
    for (unsigned i = 0; i < LUKS2_MAX_SLOTS; i++)
        if (ctx->h.slots[i].id >= 0)
            cand |= 1u << i;
    cand &= ctx->h.digests[ctx->h.seg_digest].keyslots;
    return luks_match_slots(cand, try_slot, ctx, pass, passlen, mask, vk, ctx->h.key_size,
                            errp);
}

static uint32_t active_mask(const struct luks2_hdr *h)
{
    return h->digests[h->seg_digest].keyslots;
}

/* The first gap of `len` bytes in the keyslots area that no keyslot's area
 * (of any type) covers. */
static int free_area(const struct luks2_hdr *h, uint64_t len, uint64_t *off,
                     const char *name, struct strata_error **errp)
{
    uint64_t start = 2 * h->bin.hdr_size, end = start + h->keyslots_size;
    json_object *kss = luks2_json_section(h->root, "keyslots");
    for (uint64_t cand = start; cand + len <= end;) {
        uint64_t next = 0;
        json_object_object_foreach(kss, k, ks) {
            (void)k;
            json_object *area, *jo, *js;
            uint64_t o, s;
            if (!json_object_object_get_ex(ks, "area", &area) ||
                !json_object_object_get_ex(area, "offset", &jo) ||
                !json_object_object_get_ex(area, "size", &js) ||
                !luks2_json_u64(jo, &o) || !luks2_json_u64(js, &s))
                continue;
            if (cand < o + s && o < cand + len && o + s > next)
                next = o + s;
        }
        if (!next) {
            *off = cand;
            return 0;
        }
        cand = (next + 4095) / 4096 * 4096;
    }
    return strata_error_set(errp, ENOSPC, "%s: no room for another keyslot in the "
                            "%" PRIu64 "-byte keyslots area", name, h->keyslots_size);
}

static int parse_priority(const char *s)
{
    return !s ? 1 : strcmp(s, "ignore") == 0 ? 0 : strcmp(s, "prefer") == 0 ? 2 : 1;
}

static int match_cb(void *opaque, const uint8_t *pass, size_t len, uint32_t *mask,
                    uint8_t *key, struct strata_error **errp)
{
    return matching_slots(opaque, pass, len, mask, key, errp);
}

static int amend_add(struct strata_crypto_ctx *ctx, const struct strata_opts *opts,
                     bool force, bool has_slot, unsigned slot, struct strata_error **errp)
{
    const char *old_id = strata_opts_get(opts, "old-secret");
    const char *new_id = strata_opts_get(opts, "new-secret");
    const struct luks2_digest *dg = &ctx->h.digests[ctx->h.seg_digest];
    struct luks2_kdf_opts ko;
    bool replace = false;
    uint8_t *newp = NULL, vk[LUKS2_MAX_KEY];
    size_t newlen = 0;
    uint32_t old_mask = 0;
    json_object *slotobj = NULL, *root = NULL;
    int r;

    if (!new_id)
        return strata_error_set(errp, EINVAL, "%s: 'new-secret' is required to activate "
                                "a keyslot", ctx->name);
    if ((r = strata_opts_get_bool(opts, "replace", &replace, errp)) < 0 ||
        (r = luks2_parse_kdf_opts(opts, dg->hash, &ko, errp)) < 0)
        return r;
    if (replace && !old_id)
        return strata_error_set(errp, EINVAL, "%s: 'replace' needs 'old-secret' (the "
                                "passphrase to replace)", ctx->name);
    json_object *kss = luks2_json_section(ctx->h.root, "keyslots"), *cur;
    char id[4];
    if (!has_slot) {
        for (slot = 0; slot < LUKS2_MAX_SLOTS; slot++) {
            snprintf(id, sizeof id, "%u", slot);
            if (!json_object_object_get_ex(kss, id, &cur))
                break;
        }
        if (slot == LUKS2_MAX_SLOTS)
            return strata_error_set(errp, ENOSPC, "%s: Can't add a keyslot - all keyslots "
                                    "are in use", ctx->name);
    }
    snprintf(id, sizeof id, "%u", slot);
    bool taken = json_object_object_get_ex(kss, id, &cur);
    if (taken && !force)
        return strata_error_set(errp, EBUSY, "%s: Refusing to overwrite active keyslot %u "
                                "- please erase it first", ctx->name, slot);
    if (taken && ctx->h.slots[slot].id < 0)
        return strata_error_set(errp, EBUSY, "%s: keyslot %u is of a type strata does not "
                                "handle; it is not overwritten", ctx->name, slot);

    if ((r = luks_add_key_source(opts, ctx->name, "luks2", ctx->vk, ctx->h.key_size,
                                 match_cb, ctx, vk, &old_mask, errp)) < 0)
        goto out;
    if ((r = luks2_get_pass(new_id, "new-secret", &newp, &newlen, errp)) < 0)
        goto out;
    /* Never rewrite a keyslot in place under a live header entry: when
     * forced over one, retire it first. */
    if (taken && (r = remove_slots(ctx, 1u << slot, errp)) < 0)
        goto out;

    struct luks2_slot_params sp = {
        .key_size = ctx->h.key_size, .enc = ctx->h.seg_enc, .hash = dg->hash,
        .kdf = ko.kdf, .priority = parse_priority(strata_opts_get(opts, "priority")),
        .area_size = ((uint64_t)ctx->h.key_size * 4000 + 4095) / 4096 * 4096,
    };
    if ((r = free_area(&ctx->h, sp.area_size, &sp.area_offset, ctx->name, errp)) < 0 ||
        (r = luks2_kdf_choose(ko.kdf, dg->hash, ko.iter_time, ko.memory_kib, ko.parallel,
                              ko.force_iterations, ctx->h.key_size, &sp.kp, errp)) < 0 ||
        (r = luks2_keyslot_store(&ctx->io, ctx->name, &sp, vk, newp, newlen, &slotobj,
                                 errp)) < 0)
        goto out;
    if (json_object_deep_copy(ctx->h.root, &root, NULL) < 0) {
        r = strata_error_set(errp, ENOMEM, "out of memory");
        goto out;
    }
    json_object_object_add(luks2_json_section(root, "keyslots"), id, slotobj);
    slotobj = NULL;
    json_object *d, *a;
    char did[4];
    snprintf(did, sizeof did, "%d", dg->id);
    json_object_object_get_ex(luks2_json_section(root, "digests"), did, &d);
    json_object_object_get_ex(d, "keyslots", &a);
    json_object_array_add(a, json_object_new_string(id));
    r = commit(ctx, root, errp);
    root = NULL;
    if (r < 0)
        goto out;
    /* The new passphrase must open the volume before anything old goes. */
    uint8_t check[LUKS2_MAX_KEY];
    r = luks2_keyslot_try(&ctx->io, ctx->name, &ctx->h, slot, newp, newlen, check, errp);
    strata_wipe(check, sizeof check);
    if (r == 0)
        r = strata_error_set(errp, EIO, "%s: keyslot %u does not read back: the new "
                             "passphrase was not stored", ctx->name, slot);
    if (r < 0)
        goto out;
    if (!ctx->vk && (r = luks2_set_key(ctx, vk, errp)) < 0)
        goto out;
    old_mask &= ~(1u << slot);
    r = 0;
    if (replace && old_mask)
        r = remove_slots(ctx, old_mask, errp);
out:
    json_object_put(slotobj);
    json_object_put(root);
    strata_wipe(vk, sizeof vk);
    if (newp)
        strata_secret_free(newp, newlen);
    return r < 0 ? r : 0;
}

static int amend_remove(struct strata_crypto_ctx *ctx, const struct strata_opts *opts,
                        bool force, bool has_slot, unsigned slot,
                        struct strata_error **errp)
{
    static const char *const add_only[] = { "new-secret", "iter-time", "pbkdf",
                                            "pbkdf-memory", "pbkdf-parallel",
                                            "pbkdf-force-iterations", "priority", NULL };
    char id[4];
    json_object *cur;
    snprintf(id, sizeof id, "%u", slot);
    struct luks_erase_sel sel = {
        .name = ctx->name, .who = "luks2", .has_slot = has_slot, .slot = slot,
        .slot_in_use = json_object_object_get_ex(luks2_json_section(ctx->h.root, "keyslots"), id, &cur),
        .match = match_cb, .opaque = ctx,
    };
    uint32_t mask;
    int r = luks_erase_select(opts, add_only, &sel, &mask, errp);
    if (r == 0)
        r = luks_erase_keeps_one(&sel, mask, active_mask(&ctx->h), force, errp);
    if (r == 0)
        r = remove_slots(ctx, mask, errp);
    return r;
}

static int amend_priority(struct strata_crypto_ctx *ctx, const char *prio, bool has_slot,
                          unsigned slot, struct strata_error **errp)
{
    char id[4];
    json_object *root = NULL, *ks;
    if (!has_slot)
        return strata_error_set(errp, EINVAL, "%s: 'priority' needs 'keyslot'", ctx->name);
    snprintf(id, sizeof id, "%u", slot);
    if (ctx->h.slots[slot].id < 0)
        return strata_error_set(errp, EINVAL, "%s: keyslot %u is not an active luks2 "
                                "keyslot", ctx->name, slot);
    if (json_object_deep_copy(ctx->h.root, &root, NULL) < 0)
        return strata_error_set(errp, ENOMEM, "out of memory");
    json_object_object_get_ex(luks2_json_section(root, "keyslots"), id, &ks);
    int p = parse_priority(prio);
    if (p == 1)
        json_object_object_del(ks, "priority");
    else
        json_object_object_add(ks, "priority", json_object_new_int(p));
    return commit(ctx, root, errp);
}

int luks2_amend(struct strata_crypto_ctx *ctx, const struct strata_opts *opts, bool force,
                struct strata_error **errp)
{
    const char *state = strata_opts_get(opts, "state");
    const char *prio = strata_opts_get(opts, "priority");
    uint64_t slot = 0;
    bool has_slot = strata_opts_get(opts, "keyslot") != NULL;
    int r;

    if (!ctx->io.write)
        return strata_error_set(errp, EROFS, "%s: the LUKS header is read-only",
                                ctx->name);
    if ((r = strata_opts_get_u64(opts, "keyslot", &slot, errp)) < 0)
        return r;
    if (has_slot && slot >= LUKS2_MAX_SLOTS)
        return strata_error_set(errp, EINVAL, "%s: Invalid keyslot %" PRIu64 " specified, "
                                "must be between 0 and %u", ctx->name, slot,
                                LUKS2_MAX_SLOTS - 1);
    if (prio && !luks2_in_list(prio, prio_choices))
        return strata_error_set(errp, EINVAL, "%s: invalid priority '%s' (prefer, normal "
                                "or ignore)", ctx->name, prio);
    if (!state && prio)
        return amend_priority(ctx, prio, has_slot, (unsigned)slot, errp);
    if (!state)
        return strata_error_set(errp, EINVAL, "%s: amend needs 'state' (active or "
                                "inactive) or 'priority'", ctx->name);
    if (strcmp(state, "active") == 0)
        return amend_add(ctx, opts, force, has_slot, (unsigned)slot, errp);
    if (strcmp(state, "inactive") == 0) {
        if (strata_opts_get(opts, "replace"))
            return strata_error_set(errp, EINVAL, "%s: 'replace' only goes with "
                                    "state=active", ctx->name);
        return amend_remove(ctx, opts, force, has_slot, (unsigned)slot, errp);
    }
    return strata_error_set(errp, EINVAL, "%s: invalid state '%s'", ctx->name, state);
}

/* ------------------------------------------------------------ erase */

int luks2_erase(struct strata_crypto_ctx *ctx, struct strata_info *report,
                struct strata_error **errp)
{
    struct strata_info *list = report ? strata_info_add_list(report, "wiped") : NULL;
    const struct luks2_hdr *h = &ctx->h;
    char what[48];
    int r = 0;
    if (!ctx->io.write)
        return strata_error_set(errp, EROFS, "%s: the LUKS header is read-only",
                                ctx->name);
    /* Key material first: once it is gone nothing recovers the volume key,
     * even from a copy of the metadata. */
    json_object_object_foreach(luks2_json_section(h->root, "keyslots"), k, ks) {
        json_object *area, *jo, *js;
        uint64_t o, s;
        if (!json_object_object_get_ex(ks, "area", &area) ||
            !json_object_object_get_ex(area, "offset", &jo) ||
            !json_object_object_get_ex(area, "size", &js) || !luks2_json_u64(jo, &o) ||
            !luks2_json_u64(js, &s))
            continue;
        if ((r = wipe_area(ctx, o, s, errp)) < 0)
            return r;
        snprintf(what, sizeof what, "keyslot %s", k);
        luks_report_wipe(list, what, o, s);
    }
    /* Then both header copies: no signature, uuid or digest survives. */
    r = luks_wipe_header(&ctx->io, 2 * h->bin.hdr_size, "header copies", list, errp);
    strata_cipher_free(ctx->cipher);
    ctx->cipher = NULL;
    return r;
}
