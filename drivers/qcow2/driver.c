/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* driver.c - the qcow2 driver descriptor: options, probing, open and close,
 * and the glue from the node callbacks to the rest of the driver. */
#include "qcow2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <strata/plugin.h>

#include "prealloc.h"

static const struct strata_child_role qcow2_children[] = {
    { "file", STRATA_CHILD_PROTOCOL | STRATA_CHILD_PRIMARY },
    { "backing", STRATA_CHILD_COW },
    { "data-file", STRATA_CHILD_PROTOCOL },
    { NULL },
};

static const char *const qcow2_compat_choices[] = { "0.10", "1.1", "v2", "v3", NULL };
static const char *const qcow2_compression_choices[] = { "zlib", "zstd", NULL };
static const char *const qcow2_encrypt_choices[] = { "luks", "aes", NULL };

#define QCOW2_ENCRYPT_OPEN_OPTIONS                                                   \
    { .name = "encrypt.format", .type = STRATA_OPT_ENUM, .choices = qcow2_encrypt_choices, \
      .help = "encryption format of the image (luks or aes)" },                    \
    { .name = "encrypt.key-secret", .type = STRATA_OPT_STRING,                     \
      .help = "id of the secret holding the passphrase" },                         \
    { .name = "encrypt.keyslot", .type = STRATA_OPT_NUMBER,                         \
      .help = "try the passphrase on this LUKS key slot only" },                    \
    { .name = "encrypt.allow-insecure", .type = STRATA_OPT_BOOL, .def = "off",      \
      .help = "allow writing with the broken legacy AES scheme" }

static const struct strata_opt_desc qcow2_open_options[] = {
    { .name = "lazy-refcounts", .type = STRATA_OPT_BOOL,
      .help = "postpone refcount updates (needs compat=1.1)" },
    { .name = "cache-size", .type = STRATA_OPT_SIZE,
      .help = "combined size of the L2 and refcount caches" },
    { .name = "l2-cache-size", .type = STRATA_OPT_SIZE,
      .help = "size of the L2 table cache (default: covers the image, at most 32 MiB)" },
    { .name = "l2-cache-entry-size", .type = STRATA_OPT_SIZE,
      .help = "bytes of L2 table a cache entry holds (512 to the cluster size)" },
    { .name = "refcount-cache-size", .type = STRATA_OPT_SIZE,
      .help = "size of the refcount block cache" },
    { .name = "cache-clean-interval", .type = STRATA_OPT_STRING,
      .help = "seconds after which unused cache entries are dropped (0: never)" },
    { .name = "overlap-check", .type = STRATA_OPT_STRING,
      .help = "metadata checked before writes: none, constant, cached or all" },
    { .name = "overlap-check.template", .type = STRATA_OPT_STRING,
      .help = "the same as overlap-check" },
    { .name = "overlap-check.main-header", .type = STRATA_OPT_BOOL,
      .help = "check the header" },
    { .name = "overlap-check.active-l1", .type = STRATA_OPT_BOOL,
      .help = "check the active L1 table" },
    { .name = "overlap-check.active-l2", .type = STRATA_OPT_BOOL,
      .help = "check the active L2 tables" },
    { .name = "overlap-check.refcount-table", .type = STRATA_OPT_BOOL,
      .help = "check the refcount table" },
    { .name = "overlap-check.refcount-block", .type = STRATA_OPT_BOOL,
      .help = "check the refcount blocks" },
    { .name = "overlap-check.snapshot-table", .type = STRATA_OPT_BOOL,
      .help = "check the snapshot table" },
    { .name = "overlap-check.inactive-l1", .type = STRATA_OPT_BOOL,
      .help = "check the snapshots' L1 tables" },
    { .name = "overlap-check.inactive-l2", .type = STRATA_OPT_BOOL,
      .help = "check the snapshots' L2 tables" },
    { .name = "overlap-check.bitmap-directory", .type = STRATA_OPT_BOOL,
      .help = "check the bitmap directory" },
    { .name = "pass-discard-request", .type = STRATA_OPT_BOOL, .def = "on",
      .help = "clusters freed by a discard or an unmapping zero write are discarded\n"
              "in the image file too" },
    { .name = "pass-discard-snapshot", .type = STRATA_OPT_BOOL, .def = "off",
      .help = "clusters freed by deleting a snapshot are discarded in the image file" },
    { .name = "pass-discard-other", .type = STRATA_OPT_BOOL, .def = "off",
      .help = "every freed cluster is discarded in the image file" },
    QCOW2_ENCRYPT_OPEN_OPTIONS,
    { NULL },
};

#define QCOW2_ENCRYPT_CREATE_OPTIONS                                                  \
    { .name = "encryption", .type = STRATA_OPT_BOOL,                                 \
      .help = "legacy spelling of encrypt.format=aes" },                             \
    { .name = "encrypt.cipher-alg", .type = STRATA_OPT_STRING, .def = "aes-256",     \
      .help = "LUKS: cipher algorithm" },                                            \
    { .name = "encrypt.cipher-mode", .type = STRATA_OPT_STRING, .def = "xts",        \
      .help = "LUKS: cipher mode" },                                                 \
    { .name = "encrypt.ivgen-alg", .type = STRATA_OPT_STRING, .def = "plain64",      \
      .help = "LUKS: IV generator" },                                                \
    { .name = "encrypt.ivgen-hash-alg", .type = STRATA_OPT_STRING,                   \
      .help = "LUKS: hash for the essiv IV generator" },                             \
    { .name = "encrypt.hash-alg", .type = STRATA_OPT_STRING, .def = "sha256",        \
      .help = "LUKS: PBKDF2 hash" },                                                 \
    { .name = "encrypt.iter-time", .type = STRATA_OPT_NUMBER, .def = "2000",         \
      .help = "LUKS: PBKDF2 time in milliseconds" }

static const struct strata_opt_desc qcow2_create_options[] = {
    { .name = "compat", .type = STRATA_OPT_ENUM, .def = "1.1",
      .choices = qcow2_compat_choices, .help = "0.10 (version 2) or 1.1 (version 3)" },
    { .name = "backing_file", .type = STRATA_OPT_STRING, .help = "backing file name" },
    { .name = "backing_fmt", .type = STRATA_OPT_STRING, .help = "backing file format" },
    { .name = "data_file", .type = STRATA_OPT_STRING, .help = "external data file name" },
    { .name = "data_file_raw", .type = STRATA_OPT_BOOL, .def = "off",
      .help = "the data file is a valid raw image on its own" },
    { .name = "cluster_size", .type = STRATA_OPT_SIZE, .def = "65536",
      .help = "cluster size, a power of two from 512 to 2M" },
    { .name = "extended_l2", .type = STRATA_OPT_BOOL, .def = "off",
      .help = "extended L2 entries (32 subclusters per cluster)" },
    { .name = "preallocation", .type = STRATA_OPT_ENUM, .def = "off",
      .choices = prealloc_names, .help = "off, metadata, falloc or full" },
    { .name = "lazy_refcounts", .type = STRATA_OPT_BOOL, .def = "off",
      .help = "postpone refcount updates" },
    { .name = "refcount_bits", .type = STRATA_OPT_NUMBER, .def = "16",
      .help = "width of a refcount: 1, 2, 4, 8, 16, 32 or 64" },
    { .name = "compression_type", .type = STRATA_OPT_ENUM, .def = "zlib",
      .choices = qcow2_compression_choices, .help = "zlib or zstd" },
    QCOW2_ENCRYPT_OPEN_OPTIONS,
    QCOW2_ENCRYPT_CREATE_OPTIONS,
    { NULL },
};

static const struct strata_opt_desc qcow2_amend_options[] = {
    { .name = "compat", .type = STRATA_OPT_ENUM, .choices = qcow2_compat_choices,
      .help = "0.10 (version 2) or 1.1 (version 3)" },
    { .name = "lazy_refcounts", .type = STRATA_OPT_BOOL, .help = "postpone refcount updates" },
    { .name = "backing_file", .type = STRATA_OPT_STRING, .help = "backing file name" },
    { .name = "backing_fmt", .type = STRATA_OPT_STRING, .help = "backing file format" },
    { .name = "data_file", .type = STRATA_OPT_STRING, .help = "external data file name" },
    { .name = "data_file_raw", .type = STRATA_OPT_BOOL,
      .help = "the data file is a valid raw image on its own" },
    { .name = "refcount_bits", .type = STRATA_OPT_NUMBER,
      .help = "width of a refcount in bits (1, 2, 4, ..., 64): rewrites the refcounts" },
    { .name = "size", .type = STRATA_OPT_SIZE, .help = "virtual disk size (grow or shrink)" },
    { .name = "cluster_size", .type = STRATA_OPT_SIZE, .help = "cannot be changed" },
    { .name = "encrypt.format", .type = STRATA_OPT_ENUM, .choices = qcow2_encrypt_choices,
      .help = "cannot be changed" },
    { .name = "encrypt.key-secret", .type = STRATA_OPT_STRING,
      .help = "id of the secret holding the current passphrase" },
    { .name = "encrypt.state", .type = STRATA_OPT_STRING,
      .help = "LUKS key slot management: active or inactive" },
    { .name = "encrypt.keyslot", .type = STRATA_OPT_NUMBER, .help = "LUKS key slot" },
    { .name = "encrypt.old-secret", .type = STRATA_OPT_STRING,
      .help = "secret of the passphrase to remove" },
    { .name = "encrypt.new-secret", .type = STRATA_OPT_STRING,
      .help = "secret of the passphrase to add" },
    { .name = "encrypt.iter-time", .type = STRATA_OPT_NUMBER,
      .help = "PBKDF2 time in milliseconds for a new key slot" },
    { .name = "encrypt.replace", .type = STRATA_OPT_BOOL, .def = "off",
      .help = "with encrypt.state=active: after the new secret is stored and verified, "
              "erase the slots encrypt.old-secret opens (changes a passphrase)" },
    { NULL },
};

static int qcow2_probe(const uint8_t *buf, size_t len, const char *filename)
{
    if (len >= 8 && load_be32(buf) == QCOW2_MAGIC &&
        (load_be32(buf + 4) == 2 || load_be32(buf + 4) == 3))
        return 100;
    return 0;
}

/* Cache entries of `tsize` bytes for `bytes`, at least 4 clusters' worth. */
static size_t qcow2_cache_entries_for(struct qcow2_state *s, uint64_t bytes, uint64_t tsize)
{
    uint64_t n = bytes / tsize, min = 4 * (s->cluster_size / tsize);
    return n < min ? (size_t)min : (size_t)n;
}

/* cache-clean-interval as QEMU reads it: a negative number wraps around
 * (and is then too big). */
static int clean_interval_opt(struct qcow2_state *s, const struct strata_opts *opts,
                              struct strata_error **errp)
{
    const char *v = strata_opts_get(opts, "cache-clean-interval");
    s->clean_interval = 0;
    if (!v)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 0);
    if (!*v || *end || errno)
        return strata_error_set(errp, EINVAL, "Parameter 'cache-clean-interval' expects a "
                                "number");
    if (n > UINT32_MAX)
        return strata_error_set(errp, EINVAL, "Cache clean interval too big");
    s->clean_interval = n;
    return 0;
}

/* Which freed clusters go back to the file system (QEMU's pass-discard-*). */
static int discard_opts(struct qcow2_state *s, const struct strata_opts *opts,
                        struct strata_error **errp)
{
    int r;
    s->discard_request = true;
    if ((r = strata_opts_get_bool(opts, "pass-discard-request", &s->discard_request,
                                  errp)) < 0 ||
        (r = strata_opts_get_bool(opts, "pass-discard-other", &s->discard_other, errp)) < 0 ||
        (r = strata_opts_get_bool(opts, "pass-discard-snapshot", &s->discard_snapshot,
                                  errp)) < 0)
        return r;
    return 0;
}

static int qcow2_setup_caches(struct qcow2_state *s, const struct strata_opts *opts,
                              struct strata_error **errp)
{
    uint64_t total = 0, l2 = 0, rb = 0;
    int r;
    bool has_total = strata_opts_get(opts, "cache-size") != NULL;
    bool has_l2 = strata_opts_get(opts, "l2-cache-size") != NULL;
    bool has_rb = strata_opts_get(opts, "refcount-cache-size") != NULL;
    if ((r = strata_opts_get_size(opts, "cache-size", &total, errp)) < 0 ||
        (r = strata_opts_get_size(opts, "l2-cache-size", &l2, errp)) < 0 ||
        (r = strata_opts_get_size(opts, "refcount-cache-size", &rb, errp)) < 0)
        return r;
    /* Enough L2 tables to map the whole image, up to 32 MiB, as QEMU does. */
    uint64_t full = qcow2_l1_size_for(s, s->size) * s->cluster_size;
    uint64_t def_l2 = full < (32ull << 20) ? full : (32ull << 20);
    if (has_total && has_l2 && has_rb)
        return strata_error_set(errp, EINVAL, "cache-size, l2-cache-size and "
                                "refcount-cache-size may not be set at the same time");
    if (has_total && has_l2 && l2 > total)
        return strata_error_set(errp, EINVAL, "l2-cache-size may not exceed cache-size");
    if (has_total && has_rb && rb > total)
        return strata_error_set(errp, EINVAL, "refcount-cache-size may not exceed cache-size");
    uint64_t es = s->cluster_size;
    if ((r = strata_opts_get_size(opts, "l2-cache-entry-size", &es, errp)) < 0)
        return r;
    if (es < 512 || es > s->cluster_size || (es & (es - 1)))
        return strata_error_set(errp, EINVAL, "L2 cache entry size must be a power of two "
                                "between 512 and the cluster size (%llu)",
                                (unsigned long long)s->cluster_size);
    /* Extended entries are 16 bytes; a slice holds whole ones. */
    s->l2_slice_size = es;
    if (!has_l2)
        l2 = has_total ? (has_rb ? total - (rb < total ? rb : total) : total * 3 / 4) : def_l2;
    if (!has_rb)
        rb = has_total ? (total > l2 ? total - l2 : 0) : l2 / 4;
    if (l2 / es > INT32_MAX)
        return strata_error_set(errp, EINVAL, "L2 cache size too big");
    if (rb / s->cluster_size > INT32_MAX)
        return strata_error_set(errp, EINVAL, "Refcount cache size too big");
    if (rb < 4 * s->cluster_size)
        rb = 4 * s->cluster_size;
    s->l2_cache_bytes = l2;
    s->rb_cache_bytes = rb;
    s->l2_cache = qcow2_cache_new(qcow2_cache_entries_for(s, l2, es), es, STRATA_EV_L2_LOAD,
                                  STRATA_EV_L2_UPDATE, QCOW2_OL_ACTIVE_L2);
    s->rb_cache = qcow2_cache_new(qcow2_cache_entries_for(s, rb, s->cluster_size),
                                  s->cluster_size, STRATA_EV_NONE, STRATA_EV_REFBLOCK_UPDATE,
                                  QCOW2_OL_REFCOUNT_BLOCK);
    if (!s->l2_cache || !s->rb_cache)
        return strata_error_set(errp, ENOMEM, "%s: out of memory for metadata caches",
                                s->name);
    return 0;
}

static int qcow2_load_l1(struct qcow2_state *s, struct strata_error **errp)
{
    uint64_t n = s->l1_size ? s->l1_size : 1;
    s->l1 = calloc(n, 8);
    if (!s->l1)
        return strata_error_set(errp, ENOMEM, "out of memory");
    if (!s->l1_size)
        return 0;
    int r = strata_pread(s->file, s->l1_offset, (uint64_t)s->l1_size * 8, s->l1, 0, errp);
    if (r < 0)
        return r;
    for (uint64_t i = 0; i < s->l1_size; i++)
        s->l1[i] = load_be64(&s->l1[i]);
    return 0;
}

static void qcow2_release(struct qcow2_state *s)
{
    qcow2_cleaner_stop(s);
    qcow2_crypto_close(s);
    qcow2_cache_free(s->l2_cache);
    qcow2_cache_free(s->rb_cache);
    s->l2_cache = s->rb_cache = NULL;
    free(s->l1);
    free(s->rt);
    free(s->dcbuf);
    free(s->zero_buf);
    free(s->pending_free);
    s->l1 = s->rt = s->pending_free = NULL;
    s->dcbuf = s->zero_buf = NULL;
    qcow2_codecs_free(s);
    qcow2_free_snapshots(s);
    qcow2_free_header(s);
    bounce_pool_destroy(&s->crypt_pool);
    qcow2_locks_destroy(s);
}

static int qcow2_open(struct strata_node *node, const struct strata_opts *opts,
                      unsigned flags, struct strata_error **errp)
{
    struct qcow2_state *s = strata_node_state(node);
    int r;
    s->node = node;
    r = qcow2_locks_init(s);
    if (r < 0)
        return strata_error_set(errp, -r, "%s: cannot set up locks", strata_node_filename(node));
    bounce_pool_init(&s->crypt_pool, QCOW2_CRYPT_BATCH, 4096, 0);
    r = strata_node_open_child(node, "file", NULL, false, &s->file, errp);
    if (r < 0) {
        bounce_pool_destroy(&s->crypt_pool);
        qcow2_locks_destroy(s);
        return r;
    }
    s->name = strata_node_filename(s->file);
    s->rw = flags & STRATA_O_RDWR;
    s->no_io = flags & STRATA_O_NO_IO;
    s->check_mode = flags & STRATA_O_CHECK;
    r = qcow2_read_header(s, false, errp);
    if (r < 0)
        goto fail;
    int64_t flen = strata_get_length(s->file);
    s->file_len = flen > 0 ? (uint64_t)flen : 0;
    s->meta_prealloc = -1;

    s->dcbuf = malloc(s->cluster_size);
    s->zero_buf = aligned_alloc(4096, qcow2_align_up(s->cluster_size, 4096));
    if (!s->dcbuf || !s->zero_buf) {
        r = strata_error_set(errp, ENOMEM, "out of memory");
        goto fail;
    }
    memset(s->zero_buf, 0, s->cluster_size);

    if ((r = qcow2_load_l1(s, errp)) < 0 || (r = qcow2_load_refcount_table(s, errp)) < 0 ||
        (r = qcow2_setup_caches(s, opts, errp)) < 0 ||
        (r = clean_interval_opt(s, opts, errp)) < 0 || (r = discard_opts(s, opts, errp)) < 0 ||
        (r = qcow2_overlap_opts(s, opts, errp)) < 0)
        goto fail;

    bool lazy = s->compat & QCOW2_COMPAT_LAZY;
    if ((r = strata_opts_get_bool(opts, "lazy-refcounts", &lazy, errp)) < 0)
        goto fail;
    if (lazy && s->version < 3) {
        r = strata_error_set(errp, EINVAL, "Lazy refcounts require a qcow2 image with at "
                             "least qemu 1.1 compatibility level");
        goto fail;
    }
    s->lazy = lazy && s->rw;
    if (!s->lazy)
        qcow2_cache_set_dependency(s->l2_cache, s->rb_cache);

    if (s->incompat & QCOW2_INCOMPAT_DATA_FILE) {
        /* As QEMU: data-file options the user gives describe the data file
         * whole; the name in the header is used only without them. */
        bool given = strata_node_has_child_opts(node, "data-file");
        struct strata_child_defaults d = { .filename = given ? NULL : s->data_file_name };
        if (!s->data_file_name && !given) {
            r = strata_error_set(errp, EINVAL, "%s: the image uses an external data file "
                                 "but names none; give data-file.filename=...", s->name);
            goto fail;
        }
        r = strata_node_open_child(node, "data-file", &d, false, &s->data, errp);
        if (r < 0)
            goto fail;
    } else {
        if (strata_node_has_child_opts(node, "data-file")) {
            r = strata_error_set(errp, EINVAL, "%s: a data file was given but the image "
                                 "does not use one", s->name);
            goto fail;
        }
        s->data = s->file;
    }
    s->data_len = s->data == s->file ? qcow2_align_up(s->file_len, s->cluster_size) : 0;

    if (s->backing_file && !(flags & STRATA_O_NO_BACKING)) {
        struct strata_child_defaults d = { .filename = s->backing_file,
                                           .driver = s->backing_fmt,
                                           .flags_clear = STRATA_O_RDWR };
        r = strata_node_open_child(node, "backing", &d, true, &s->backing, errp);
        if (r < 0) {
            /* A loop is reported as QEMU reports it, naming the image that
             * comes back, without every open that led there. */
            if (r != -ELOOP)
                strata_error_prefix(errp, "%s: Could not open backing file", s->name);
            goto fail;
        }
    }

    /* A damaged snapshot table is for check to report and repair. */
    if (s->check_mode)
        s->snaps_pending = s->nb_snapshots > 0;
    else if ((r = qcow2_read_snapshots(s, errp)) < 0)
        goto fail;
    if ((r = qcow2_crypto_open(s, opts, errp)) < 0)
        goto fail;

    struct strata_limits lim = { .request_alignment = s->crypt_method ? 512 : 1,
                                 .opt_transfer = s->cluster_size };
    strata_node_set_limits(node, &lim);

    if (s->rw) {
        if (s->autoclear & ~QCOW2_AUTOCLEAR_KNOWN) {
            /* The spec's rule for features we do not know. */
            s->autoclear &= QCOW2_AUTOCLEAR_KNOWN;
            s->header_dirty = true;
        }
        /* Opened for check, the image is left to the check to report and
         * repair, as qemu-img does. */
        if ((s->incompat & QCOW2_INCOMPAT_DIRTY) && !(s->incompat & QCOW2_INCOMPAT_CORRUPT) &&
            !s->check_mode) {
            struct strata_check_result res = { 0 };
            r = qcow2_check(s, &res, STRATA_CHECK_FIX_LEAKS | STRATA_CHECK_FIX_ERRORS, errp);
            /* The repair's findings go where qemu's go, bare on stderr:
             * they tell why the image changed on open. */
            for (size_t i = 0; i < res.nmessages; i++)
                fprintf(stderr, "%s\n", res.messages[i]);
            strata_check_result_clear(&res);
            if (r == 0)
                r = qcow2_clear_dirty(s, errp);
            if (r < 0) {
                strata_error_prefix(errp, "%s: repairing the refcounts of a dirty image",
                                    s->name);
                goto fail;
            }
        }
        if (s->header_dirty && !(s->incompat & QCOW2_INCOMPAT_CORRUPT)) {
            r = qcow2_write_header(s, errp);
            if (r < 0)
                goto fail;
            s->header_dirty = false;
        }
    }
    if ((r = qcow2_cleaner_start(s, errp)) < 0)
        goto fail;
    return 0;
fail:
    qcow2_release(s);
    return r;
}

static void qcow2_close(struct strata_node *node)
{
    struct qcow2_state *s = strata_node_state(node);
    /* Before the final flush: the cleaner writes back too. */
    qcow2_cleaner_stop(s);
    if (s->rw && s->l2_cache) {
        struct strata_error *err = NULL;
        int r = qcow2_flush_all(s, &err);
        if (r == 0 && s->dirty_set)
            r = qcow2_clear_dirty(s, &err);
        if (r < 0) {
            strata_warn("%s: metadata could not be written at close: %s", s->name,
                        err && err->msg ? err->msg : "I/O error");
        }
        strata_error_free(err);
    }
    qcow2_release(s);
}

/* Requests hold the image-wide lock shared (they exclude each other only
 * where their clusters meet, rw.c); operations on the whole image hold it
 * exclusively and so run alone. */
static struct qcow2_state *shared(struct strata_node *node)
{
    struct qcow2_state *s = strata_node_state(node);
    pthread_rwlock_rdlock(&s->wide);
    return s;
}

static struct qcow2_state *exclusive(struct strata_node *node)
{
    struct qcow2_state *s = strata_node_state(node);
    pthread_rwlock_wrlock(&s->wide);
    return s;
}

static int unlock(struct qcow2_state *s, int r)
{
    pthread_rwlock_unlock(&s->wide);
    return r;
}

static int qcow2_pread_cb(struct strata_node *node, uint64_t off, uint64_t len, void *buf,
                          unsigned flags, struct strata_error **errp)
{
    struct qcow2_state *s = strata_node_state(node);
    if (s->no_io)
        return strata_error_set(errp, EPERM, "%s: opened for metadata only", s->name);
    s = shared(node);
    return unlock(s, qcow2_do_pread(s, off, len, buf, errp));
}

static int qcow2_check_writable(struct qcow2_state *s, struct strata_error **errp)
{
    if (s->no_io)
        return strata_error_set(errp, EPERM, "%s: opened for metadata only", s->name);
    if (s->crypt_method == QCOW2_CRYPT_AES && !s->aes_write_ok)
        return strata_error_set(errp, EPERM, "%s: writing with the legacy AES encryption is "
                                "refused (it is insecure); convert the image, or pass "
                                "encrypt.allow-insecure=on", s->name);
    return 0;
}

static int qcow2_pwrite_cb(struct strata_node *node, uint64_t off, uint64_t len,
                           const void *buf, unsigned flags, struct strata_error **errp)
{
    struct qcow2_state *s = shared(node);
    int r = qcow2_check_writable(s, errp);
    return unlock(s, r < 0 ? r : qcow2_do_pwrite(s, off, len, buf, flags, errp));
}

static int qcow2_vmstate_read_cb(struct strata_node *node, uint64_t pos, uint64_t len,
                                 void *buf, struct strata_error **errp)
{
    struct qcow2_state *s = strata_node_state(node);
    if (s->no_io)
        return strata_error_set(errp, EPERM, "%s: opened for metadata only", s->name);
    s = shared(node);
    return unlock(s, qcow2_vmstate_io(s, false, pos, len, buf, errp));
}

static int qcow2_vmstate_write_cb(struct strata_node *node, uint64_t pos, uint64_t len,
                                  const void *buf, struct strata_error **errp)
{
    struct qcow2_state *s = shared(node);
    int r = qcow2_check_writable(s, errp);
    return unlock(s, r < 0 ? r : qcow2_vmstate_io(s, true, pos, len, (void *)buf, errp));
}

static int flush_meta(struct qcow2_state *s, struct strata_error **errp)
{
    pthread_mutex_lock(&s->meta);
    int r = qcow2_flush_guest(s, errp);
    pthread_mutex_unlock(&s->meta);
    return r;
}

static int qcow2_zeroes_cb(struct strata_node *node, uint64_t off, uint64_t len,
                           unsigned flags, struct strata_error **errp)
{
    struct qcow2_state *s = shared(node);
    int r = qcow2_check_writable(s, errp);
    if (r == 0)
        r = qcow2_do_zero(s, off, len, flags, false, errp);
    if (r == 0 && (flags & STRATA_REQ_FUA))
        r = flush_meta(s, errp);
    return unlock(s, r);
}

static int qcow2_discard_cb(struct strata_node *node, uint64_t off, uint64_t len,
                            struct strata_error **errp)
{
    struct qcow2_state *s = shared(node);
    int r = qcow2_check_writable(s, errp);
    return unlock(s, r < 0 ? r : qcow2_do_zero(s, off, len, 0, true, errp));
}

static int qcow2_flush_cb(struct strata_node *node, struct strata_error **errp)
{
    struct qcow2_state *s = strata_node_state(node);
    if (!s->rw)
        return 0;
    s = shared(node);
    return unlock(s, flush_meta(s, errp));
}

static int64_t qcow2_length_cb(struct strata_node *node, struct strata_error **errp)
{
    /* Every request asks (the core checks its bounds); resize changes the
     * size under the exclusive lock, which this must not wait for when the
     * resize itself asks. */
    struct qcow2_state *s = strata_node_state(node);
    return (int64_t)__atomic_load_n(&s->size, __ATOMIC_RELAXED);
}

static int64_t qcow2_allocated_cb(struct strata_node *node, struct strata_error **errp)
{
    struct qcow2_state *s = strata_node_state(node);
    int64_t a = strata_node_allocated_size(s->file, errp);
    if (a >= 0 && s->data != s->file) {
        int64_t d = strata_get_allocated_size(s->data);
        if (d > 0)
            a += d;
    }
    return a;
}

static int qcow2_truncate_cb(struct strata_node *node, uint64_t size, bool exact,
                             enum strata_prealloc prealloc, struct strata_error **errp)
{
    struct qcow2_state *s = exclusive(node);
    return unlock(s, qcow2_truncate(s, size, exact, prealloc, errp));
}

static int qcow2_block_status_cb(struct strata_node *node, uint64_t off, uint64_t len,
                                 struct strata_block_status *bs, struct strata_error **errp)
{
    struct qcow2_state *s = shared(node);
    pthread_mutex_lock(&s->meta);
    int r = qcow2_block_status(s, off, len, bs, errp);
    pthread_mutex_unlock(&s->meta);
    return unlock(s, r);
}

static int qcow2_get_info_cb(struct strata_node *node, struct strata_info *obj,
                             struct strata_error **errp)
{
    struct qcow2_state *s = exclusive(node);
    return unlock(s, qcow2_get_info(s, obj, errp));
}

static int qcow2_check_cb(struct strata_node *node, struct strata_check_result *res,
                          unsigned fix, struct strata_error **errp)
{
    struct qcow2_state *s = exclusive(node);
    return unlock(s, qcow2_check(s, res, fix, errp));
}

static int qcow2_amend_cb(struct strata_node *node, const struct strata_opts *opts,
                          bool force, struct strata_error **errp)
{
    struct qcow2_state *s = exclusive(node);
    return unlock(s, qcow2_amend(s, opts, force, errp));
}

static int qcow2_pwrite_compressed_cb(struct strata_node *node, uint64_t off, uint64_t len,
                                      const void *buf, struct strata_error **errp)
{
    struct qcow2_state *s = shared(node);
    int r = qcow2_check_writable(s, errp);
    return unlock(s, r < 0 ? r : qcow2_pwrite_compressed(s, off, len, buf, errp));
}

static int snapshot_op(struct qcow2_state *s, enum strata_snapshot_op op, const char *name,
                       struct strata_info *list, struct strata_error **errp)
{
    switch (op) {
    case STRATA_SNAPSHOT_LIST:
        return qcow2_snapshot_list(s, list, errp);
    case STRATA_SNAPSHOT_CREATE:
        return qcow2_snapshot_create(s, name, errp);
    case STRATA_SNAPSHOT_APPLY:
        return qcow2_snapshot_goto(s, name, errp);
    case STRATA_SNAPSHOT_DELETE:
        return qcow2_snapshot_delete(s, name, errp);
    case STRATA_SNAPSHOT_LOAD_TMP:
        return qcow2_snapshot_load_tmp(s, name, errp);
    }
    return strata_error_set(errp, EINVAL, "%s: unknown snapshot operation", s->name);
}

static int qcow2_snapshot_cb(struct strata_node *node, enum strata_snapshot_op op,
                             const char *name, struct strata_info *list,
                             struct strata_error **errp)
{
    struct qcow2_state *s = exclusive(node);
    return unlock(s, snapshot_op(s, op, name, list, errp));
}

static const struct strata_driver qcow2_driver = {
    STRATA_DRIVER_HEAD,
    .name = "qcow2",
    .description = "QEMU copy-on-write image, version 2 and 3",
    .kind = STRATA_DRIVER_FORMAT,
    .flags = STRATA_DRIVER_THREAD_SAFE,
    .state_size = sizeof(struct qcow2_state),
    .child_roles = qcow2_children,
    .open_options = qcow2_open_options,
    .create_options = qcow2_create_options,
    .amend_options = qcow2_amend_options,
    .probe = qcow2_probe,
    .open = qcow2_open,
    .close = qcow2_close,
    .pread = qcow2_pread_cb,
    .pwrite = qcow2_pwrite_cb,
    .flush = qcow2_flush_cb,
    .pwrite_zeroes = qcow2_zeroes_cb,
    .pdiscard = qcow2_discard_cb,
    .length = qcow2_length_cb,
    .allocated_size = qcow2_allocated_cb,
    .truncate = qcow2_truncate_cb,
    .block_status = qcow2_block_status_cb,
    .create = qcow2_create,
    .get_info = qcow2_get_info_cb,
    .check = qcow2_check_cb,
    .amend = qcow2_amend_cb,
    .measure = qcow2_measure,
    .pwrite_compressed = qcow2_pwrite_compressed_cb,
    .snapshot = qcow2_snapshot_cb,
    .vmstate_read = qcow2_vmstate_read_cb,
    .vmstate_write = qcow2_vmstate_write_cb,
};

STRATA_PLUGIN("qcow2", .drivers = STRATA_DRIVERS(&qcow2_driver));
