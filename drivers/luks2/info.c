/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* info.c - what `cryptsetup luksDump` shows of a LUKS2 header, as strata
 * info: never key material. */
#include "luks2-format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_ids(struct strata_info *obj, const char *key, uint32_t mask)
{
    struct strata_info *l = strata_info_add_list(obj, key);
    for (unsigned i = 0; i < LUKS2_MAX_SLOTS; i++)
        if (mask & (1u << i))
            strata_info_add_int(l, NULL, i);
}

static void add_strings(struct strata_info *obj, const char *key, json_object *a)
{
    struct strata_info *l = strata_info_add_list(obj, key);
    for (size_t i = 0; a && i < json_object_array_length(a); i++)
        strata_info_add_str(l, NULL, json_object_get_string(json_object_array_get_idx(a, i)));
}

static void add_keyslot(struct strata_info *l, const struct luks2_hdr *h, const char *id,
                        json_object *o)
{
    struct strata_info *s = strata_info_add_object(l, NULL);
    json_object *j;
    strata_info_add_int(s, "id", strtol(id, NULL, 10));
    if (json_object_object_get_ex(o, "type", &j))
        strata_info_add_str(s, "type", json_object_get_string(j));
    int n = (int)strtol(id, NULL, 10);
    const struct luks2_keyslot *ks = &h->slots[n];
    if (ks->id < 0)
        return;
    static const char *const prio[] = { "ignored", "normal", "high" };
    strata_info_add_int(s, "key-size", ks->key_size * 8);
    strata_info_add_str(s, "priority", prio[ks->priority]);
    strata_info_add_str(s, "cipher", ks->area_enc);
    strata_info_add_int(s, "cipher-key-size", ks->area_key_size * 8);
    strata_info_add_str(s, "pbkdf", ks->kdf);
    if (strcmp(ks->kdf, "pbkdf2") == 0) {
        strata_info_add_str(s, "hash", ks->kdf_hash);
        strata_info_add_uint(s, "iterations", ks->kp.iterations);
    } else {
        strata_info_add_uint(s, "time-cost", ks->kp.iterations);
        strata_info_add_uint(s, "memory", ks->kp.memory_kib);
        strata_info_add_uint(s, "threads", ks->kp.parallel);
    }
    strata_info_add_str(s, "af-hash", ks->af_hash);
    strata_info_add_uint(s, "af-stripes", ks->stripes);
    strata_info_add_uint(s, "area-offset", ks->area_offset);
    strata_info_add_uint(s, "area-length", ks->area_size);
    for (unsigned d = 0; d < h->ndigests; d++)
        if (h->digests[d].keyslots & (1u << n))
            strata_info_add_int(s, "digest", h->digests[d].id);
}

int luks2_get_info(struct strata_crypto_ctx *ctx, struct strata_info *obj,
                   struct strata_error **errp)
{
    const struct luks2_hdr *h = &ctx->h;
    json_object *cfg, *j;
    strata_info_add_int(obj, "version", 2);
    strata_info_add_uint(obj, "epoch", h->bin.seqid);
    strata_info_add_str(obj, "uuid", h->bin.uuid);
    strata_info_add_str(obj, "label", h->bin.label);
    strata_info_add_str(obj, "subsystem", h->bin.subsystem);
    strata_info_add_uint(obj, "metadata-size", h->bin.hdr_size);
    strata_info_add_uint(obj, "keyslots-size", h->keyslots_size);
    strata_info_add_str(obj, "header-copy", ctx->state);
    json_object_object_get_ex(h->root, "config", &cfg);
    add_strings(obj, "flags", json_object_object_get_ex(cfg, "flags", &j) ? j : NULL);
    strata_info_add_uint(obj, "payload-offset", h->seg_offset);

    struct strata_info *segs = strata_info_add_list(obj, "segments");
    json_object *segobj;
    json_object_object_get_ex(h->root, "segments", &segobj);
    json_object_object_foreach(segobj, sid, so) {
        (void)so;
        struct strata_info *s = strata_info_add_object(segs, NULL);
        strata_info_add_int(s, "id", strtol(sid, NULL, 10));
        strata_info_add_str(s, "type", "crypt");
        strata_info_add_uint(s, "offset", h->seg_offset);
        if (h->seg_size)
            strata_info_add_uint(s, "length", h->seg_size);
        else
            strata_info_add_str(s, "length", "dynamic");
        strata_info_add_str(s, "cipher", h->seg_enc);
        strata_info_add_uint(s, "sector-size", h->sector_size);
        strata_info_add_uint(s, "iv-tweak", h->iv_tweak);
    }

    struct strata_info *slots = strata_info_add_list(obj, "keyslots");
    json_object *kss;
    json_object_object_get_ex(h->root, "keyslots", &kss);
    json_object_object_foreach(kss, kid, ko)
        add_keyslot(slots, h, kid, ko);

    struct strata_info *toks = strata_info_add_list(obj, "tokens");
    json_object *ts;
    json_object_object_get_ex(h->root, "tokens", &ts);
    json_object_object_foreach(ts, tid, to) {
        struct strata_info *t = strata_info_add_object(toks, NULL);
        strata_info_add_int(t, "id", strtol(tid, NULL, 10));
        if (json_object_object_get_ex(to, "type", &j))
            strata_info_add_str(t, "type", json_object_get_string(j));
        add_strings(t, "keyslots", json_object_object_get_ex(to, "keyslots", &j) ? j : NULL);
    }

    struct strata_info *dl = strata_info_add_list(obj, "digests");
    for (unsigned i = 0; i < h->ndigests; i++) {
        const struct luks2_digest *d = &h->digests[i];
        struct strata_info *o = strata_info_add_object(dl, NULL);
        strata_info_add_int(o, "id", d->id);
        strata_info_add_str(o, "type", "pbkdf2");
        strata_info_add_str(o, "hash", d->hash);
        strata_info_add_uint(o, "iterations", d->iterations);
        add_ids(o, "keyslots", d->keyslots);
        add_ids(o, "segments", d->segments);
    }
    (void)errp;
    return 0;
}
