/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cache.c - write-back cache of metadata tables (refcount blocks, and L2
 * tables or slices of them: l2-cache-entry-size).  Lookups go through a small hash; replacement is CLOCK,
 * so a miss costs O(1) on average however large the cache is configured.
 * A cache may depend on another: its dirty tables are written only after
 * the other cache's tables are on disk (refcounts before L2 entries). */
#include "qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

struct qcow2_cache_entry {
    uint64_t offset;
    int ref;
    bool valid, dirty, used;
    int hnext;
    uint64_t last_use;      /* monotonic seconds, for cache-clean-interval */
};

struct qcow2_cache {
    size_t n;
    size_t tsize;
    uint8_t *mem;
    struct qcow2_cache_entry *e;
    int *buckets;
    size_t nbuckets;
    size_t hand;
    struct qcow2_cache *dep;
    enum strata_event load_ev, update_ev;
    unsigned ol_ignore;     /* the structure the entries are (overlap.c) */
    uint64_t cleaned;       /* entries dropped for being unused */
};

static uint64_t now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec;
}

struct qcow2_cache *qcow2_cache_new(size_t entries, size_t tsize, enum strata_event load_ev,
                                    enum strata_event update_ev, unsigned ol_ignore)
{
    if (entries < 4)
        entries = 4;
    struct qcow2_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->n = entries;
    c->tsize = tsize;
    c->ol_ignore = ol_ignore;
    c->nbuckets = 1;
    while (c->nbuckets < entries * 2)
        c->nbuckets <<= 1;
    c->mem = aligned_alloc(4096, entries * c->tsize < 4096 ? 4096
                                 : qcow2_align_up(entries * c->tsize, 4096));
    c->e = calloc(entries, sizeof *c->e);
    c->buckets = malloc(c->nbuckets * sizeof *c->buckets);
    if (!c->mem || !c->e || !c->buckets) {
        qcow2_cache_free(c);
        return NULL;
    }
    for (size_t i = 0; i < c->nbuckets; i++)
        c->buckets[i] = -1;
    c->load_ev = load_ev;
    c->update_ev = update_ev;
    return c;
}

void qcow2_cache_free(struct qcow2_cache *c)
{
    if (!c)
        return;
    free(c->mem);
    free(c->e);
    free(c->buckets);
    free(c);
}

size_t qcow2_cache_entries(const struct qcow2_cache *c)
{
    return c->n;
}

void qcow2_cache_set_dependency(struct qcow2_cache *c, struct qcow2_cache *dep)
{
    c->dep = dep;
}

static size_t hash_of(const struct qcow2_cache *c, uint64_t offset)
{
    uint64_t h = (offset / c->tsize) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 32) & (c->nbuckets - 1);
}

static int lookup(const struct qcow2_cache *c, uint64_t offset)
{
    for (int i = c->buckets[hash_of(c, offset)]; i >= 0; i = c->e[i].hnext)
        if (c->e[i].offset == offset)
            return i;
    return -1;
}

static void unhash(struct qcow2_cache *c, int idx)
{
    int *pp = &c->buckets[hash_of(c, c->e[idx].offset)];
    while (*pp >= 0 && *pp != idx)
        pp = &c->e[*pp].hnext;
    if (*pp == idx)
        *pp = c->e[idx].hnext;
    c->e[idx].valid = false;
}

static void *table_of(struct qcow2_cache *c, size_t i)
{
    return c->mem + i * c->tsize;
}

static bool any_dirty(const struct qcow2_cache *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].valid && c->e[i].dirty)
            return true;
    return false;
}

static int write_entry(struct qcow2_state *s, struct qcow2_cache *c, size_t i,
                       struct strata_error **errp)
{
    if (c->dep && any_dirty(c->dep)) {
        int r = qcow2_cache_flush(s, c->dep, errp);
        if (r < 0)
            return r;
    }
    int r = qcow2_overlap_check(s, c->ol_ignore, c->e[i].offset, c->tsize, errp);
    if (r < 0)
        return r;
    qcow2_event(s, c->update_ev);
    r = strata_pwrite(s->file, c->e[i].offset, c->tsize, table_of(c, i), 0, errp);
    if (r < 0)
        return r;
    c->e[i].dirty = false;
    return 0;
}

static int victim(struct qcow2_state *s, struct qcow2_cache *c, size_t *out,
                  struct strata_error **errp)
{
    for (size_t tries = 0; tries < 2 * c->n + 1; tries++) {
        size_t i = c->hand;
        c->hand = (c->hand + 1) % c->n;
        struct qcow2_cache_entry *e = &c->e[i];
        if (!e->valid) {
            *out = i;
            return 0;
        }
        if (e->ref > 0)
            continue;
        if (e->used) {
            e->used = false;
            continue;
        }
        if (e->dirty) {
            int r = write_entry(s, c, i, errp);
            if (r < 0)
                return r;
        }
        unhash(c, (int)i);
        *out = i;
        return 0;
    }
    return strata_error_set(errp, ENOSPC, "%s: metadata cache is full of tables in use",
                            s->name);
}

static int get(struct qcow2_state *s, struct qcow2_cache *c, uint64_t offset, void **table,
               bool read, struct strata_error **errp)
{
    int i = lookup(c, offset);
    if (i >= 0) {
        c->e[i].ref++;
        c->e[i].used = true;
        c->e[i].last_use = now_sec();
        *table = table_of(c, (size_t)i);
        return 0;
    }
    size_t v = 0;
    int r = victim(s, c, &v, errp);
    if (r < 0)
        return r;
    if (read) {
        qcow2_event(s, c->load_ev);
        r = strata_pread(s->file, offset, c->tsize, table_of(c, v), 0, errp);
        if (r < 0)
            return r;
    }
    struct qcow2_cache_entry *e = &c->e[v];
    e->offset = offset;
    e->valid = true;
    e->dirty = false;
    e->used = true;
    e->last_use = now_sec();
    e->ref = 1;
    size_t h = hash_of(c, offset);
    e->hnext = c->buckets[h];
    c->buckets[h] = (int)v;
    *table = table_of(c, v);
    return 0;
}

int qcow2_cache_get(struct qcow2_state *s, struct qcow2_cache *c, uint64_t offset,
                    void **table, struct strata_error **errp)
{
    return get(s, c, offset, table, true, errp);
}

int qcow2_cache_get_empty(struct qcow2_state *s, struct qcow2_cache *c, uint64_t offset,
                          void **table, struct strata_error **errp)
{
    return get(s, c, offset, table, false, errp);
}

static size_t index_of(struct qcow2_cache *c, void *table)
{
    return (size_t)((uint8_t *)table - c->mem) / c->tsize;
}

void qcow2_cache_put(struct qcow2_cache *c, void *table)
{
    if (!table)
        return;
    size_t i = index_of(c, table);
    if (c->e[i].ref > 0)
        c->e[i].ref--;
}

void qcow2_cache_dirty(struct qcow2_cache *c, void *table)
{
    c->e[index_of(c, table)].dirty = true;
}

int qcow2_cache_flush(struct qcow2_state *s, struct qcow2_cache *c, struct strata_error **errp)
{
    bool wrote = false;
    for (size_t i = 0; i < c->n; i++) {
        if (!c->e[i].valid || !c->e[i].dirty)
            continue;
        int r = write_entry(s, c, i, errp);
        if (r < 0)
            return r;
        wrote = true;
    }
    if (wrote) {
        qcow2_event(s, STRATA_EV_FLUSH_TO_DISK);
        return strata_flush(s->file, errp);
    }
    return 0;
}

void qcow2_cache_discard(struct qcow2_cache *c, uint64_t offset, uint64_t len)
{
    for (uint64_t o = offset; o < offset + len; o += c->tsize) {
        int i = lookup(c, o);
        if (i >= 0 && c->e[i].ref == 0)
            unhash(c, i);
        else if (i >= 0)
            c->e[i].dirty = false;
    }
}

int qcow2_cache_clean(struct qcow2_state *s, struct qcow2_cache *c, uint64_t age,
                      struct strata_error **errp)
{
    uint64_t now = now_sec();
    for (size_t i = 0; i < c->n; i++) {
        struct qcow2_cache_entry *e = &c->e[i];
        if (!e->valid || e->ref > 0 || now - e->last_use < age)
            continue;
        if (e->dirty) {
            int r = write_entry(s, c, i, errp);
            if (r < 0)
                return r;
        }
        unhash(c, (int)i);
        c->cleaned++;
    }
    return 0;
}

uint64_t qcow2_cache_cleaned(const struct qcow2_cache *c)
{
    return c->cleaned;
}

size_t qcow2_cache_table_size(const struct qcow2_cache *c)
{
    return c->tsize;
}

void qcow2_cache_drop_all(struct qcow2_cache *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].valid)
            unhash(c, (int)i);
}
