/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* restore_order.c - header-restore's writes: a saved LUKS header put over
 * the one a volume has, in an order that leaves one of the two whole after
 * a power cut. */
#include "restore_order.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 512u
/* The header proper is written a piece of this size at a time, each
 * flushed: a cut can then tear one piece at most, so of LUKS2's two
 * header copies one is always whole. */
#define HEADER_PIECE 4096u

struct areas {
    uint64_t off[STRATA_CRYPTO_LAYOUT_SLOTS], len[STRATA_CRYPTO_LAYOUT_SLOTS];
    size_t n;
};

/* The key material areas of the active key slots of an opened header;
 * false when the format cannot describe them. */
static bool slot_areas(const struct strata_crypto_format *f, struct strata_crypto_ctx *ctx,
                       struct areas *a)
{
    a->n = 0;
    if (!f->export_layout)
        return false;
    struct strata_crypto_layout *l = calloc(1, sizeof *l);
    struct strata_error *err = NULL;
    bool ok = l && f->export_layout(ctx, l, &err) == 0;
    strata_error_free(err);
    for (uint32_t i = 0; ok && i < l->nslots && i < STRATA_CRYPTO_LAYOUT_SLOTS; i++) {
        a->off[a->n] = l->slots[i].area_offset;
        a->len[a->n++] = l->slots[i].area_size;
    }
    if (l)
        strata_wipe(l, sizeof *l);
    free(l);
    return ok;
}

static bool in_areas(const struct areas *a, uint64_t off, uint64_t len)
{
    for (size_t i = 0; i < a->n; i++)
        if (off < a->off[i] + a->len[i] && a->off[i] < off + len)
            return true;
    return false;
}

struct mem {
    const uint8_t *buf;
    size_t len;
};

static int mem_read(void *opaque, uint64_t off, void *buf, size_t len,
                    struct strata_error **errp)
{
    const struct mem *m = opaque;
    if (off > m->len || len > m->len - off)
        return strata_error_set(errp, EINVAL, "header read past its end");
    memcpy(buf, m->buf + off, len);
    return 0;
}

/* The key material areas the header in `cur` uses now: none when it does
 * not open (a damaged header has no passphrase left to keep). */
static void live_areas(const uint8_t *cur, size_t len, const char *name, struct areas *a)
{
    struct mem m = { cur, len };
    struct strata_crypto_hdr_io io = { .opaque = &m, .read = mem_read, .size = len,
                                       .name = name };
    struct strata_error *err = NULL;
    struct strata_crypto_ctx *ctx = NULL;
    const struct strata_crypto_format *f = strata_crypto_format_for_header("luks", &io, &err);
    a->n = 0;
    if (f && f->open(&io, NULL, STRATA_O_NO_IO, &ctx, &err) == 0) {
        slot_areas(f, ctx, a);
        f->close(ctx);
    }
    strata_error_free(err);
}

/* Writes the sectors of [from, to) that differ between cur and new and
 * that lie inside `live` (inside == true) or outside it, in runs. */
static int write_runs(struct strata_node *t, const uint8_t *cur, const uint8_t *new,
                      uint64_t from, uint64_t to, const struct areas *live, bool inside,
                      struct strata_error **errp)
{
    uint64_t run = 0, off;
    bool open = false;
    for (off = from; off < to; off += SECTOR) {
        uint64_t n = to - off < SECTOR ? to - off : SECTOR;
        bool want = in_areas(live, off, n) == inside && memcmp(cur + off, new + off, n) != 0;
        if (want && !open) {
            run = off;
            open = true;
        } else if (!want && open) {
            int r = strata_pwrite(t, run, off - run, new + run, 0, errp);
            if (r < 0)
                return r;
            open = false;
        }
    }
    return open ? strata_pwrite(t, run, to - run, new + run, 0, errp) : 0;
}

int img_restore_header(struct strata_node *t, const uint8_t *new, uint64_t len,
                       const struct strata_crypto_format *nf, struct strata_crypto_ctx *nctx,
                       struct strata_error **errp)
{
    uint8_t *cur = malloc(len);
    if (!cur)
        return strata_error_set(errp, ENOMEM, "out of memory");
    int r = strata_pread(t, 0, len, cur, 0, errp);
    struct areas live, kept;
    bool described = r == 0 && slot_areas(nf, nctx, &kept);
    if (r == 0)
        live_areas(cur, len, strata_node_filename(t), &live);
    if (r == 0 && !described) {
        /* Without the new header's key slot areas there is no telling where
         * its header proper ends: one write, as a copy would. */
        r = strata_pwrite(t, 0, len, new, 0, errp);
        if (r == 0)
            r = strata_flush(t, errp);
        goto out;
    }
    /* The header proper: what lies before the first key material area. */
    uint64_t hend = len;
    for (size_t i = 0; i < kept.n; i++)
        hend = kept.off[i] < hend ? kept.off[i] : hend;
    for (size_t i = 0; i < live.n; i++)
        hend = live.off[i] < hend ? live.off[i] : hend;

    /* 1. The new key material where the old header keeps none: the old
     *    header still opens with all of its passphrases. */
    if (r == 0)
        r = write_runs(t, cur, new, hend, len, &live, false, errp);
    if (r == 0)
        r = strata_flush(t, errp);
    /* 2. The header proper, which switches from the old key slots to the
     *    new ones, a piece at a time. */
    for (uint64_t off = 0; r == 0 && off < hend; off += HEADER_PIECE) {
        uint64_t n = hend - off < HEADER_PIECE ? hend - off : HEADER_PIECE;
        if (memcmp(cur + off, new + off, n) == 0)
            continue;
        r = strata_pwrite(t, off, n, new + off, 0, errp);
        if (r == 0)
            r = strata_flush(t, errp);
    }
    /* 3. The rest: key material only the old header used.  (A key slot
     *    area both headers use, with different material, cannot be
     *    switched without a moment where it serves neither.) */
    if (r == 0)
        r = write_runs(t, cur, new, hend, len, &live, true, errp);
    if (r == 0)
        r = strata_flush(t, errp);
out:
    strata_wipe(cur, len);
    free(cur);
    return r;
}
