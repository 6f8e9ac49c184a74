/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2.h - state and internal interfaces of the qcow2 driver.
 *
 * Requests run concurrently (STRATA_DRIVER_THREAD_SAFE).  Locks, taken in
 * this order (lock.c says more):
 *   wide      rwlock: shared by every request, exclusive for whole-image
 *             operations (snapshots, resize, check, amend, info); a holder
 *             of it exclusively takes none of the others but ranges;
 *   ranges    guest clusters a request owns while it runs (lock.c);
 *   meta      mutex over all metadata: the L1 table, both caches,
 *             refcounts and allocation, pending frees, the header, the file
 *             sizes known; held for metadata work only, never across guest
 *             data I/O, compression or encryption;
 *   dc_mu     the one-cluster cache of decompressed data.
 * Functions in refcount.c, cluster.c, cache.c and header.c expect meta held
 * (or the wide lock exclusive).  Host offsets are in the image file unless a
 * function says "data": with an external data file guest data lives there.
 *
 * Ordering rules that keep a crash (or a failed write) repairable by check:
 *   - a refcount is raised on disk before anything points at the cluster
 *     (the L2 cache depends on the refcount cache unless refcounts are lazy);
 *   - a new L2 table is written before the L1 entry that points at it;
 *   - a refcount is lowered only after the pointer to the cluster is gone
 *     on disk (frees are queued and applied after the L2 cache is flushed).
 * A crash can therefore leak clusters but never leave a cluster in use with
 * a refcount too low.
 *
 * Which file calls which (each only into files listed before it):
 *   lock.c, header.c, cache.c, compress.c  the cluster range locks, the
 *                header, the table cache and the compression codecs: leaves;
 *   refcount.c   refcounts and allocation, and qcow2_flush_all (cache);
 *   cluster.c    L1/L2 mapping (cache, refcount);
 *   crypto.c     encryption (header, cache, refcount);
 *   rw.c         guest reads, writes, zeroing and compressed writes
 *                (header, refcount, cluster, crypto, compress);
 *   vmstate.c    the VM state area past the disk's end (rw);
 *   snapshot.c, resize.c, check.c, amend.c, create.c, status.c  whole-image
 *                operations on top of the above;
 *   driver.c     the descriptor, open and close: calls into all of them.
 * Decoding of L2 entries that several layers need is inline here.
 */
#ifndef STRATA_QCOW2_H
#define STRATA_QCOW2_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <strata/crypto.h>
#include <strata/strata.h>

#include "bigendian.h"
#include "bounce.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MAX_L1_BYTES (32u << 20)
#define QCOW2_MAX_RT_BYTES (8u << 20)
#define QCOW2_MAX_RT_TEXT "8 MiB"
#define QCOW2_MAX_SNAPSHOTS 65536u
#define QCOW2_MAX_SNAPSHOT_EXTRA 1024u
#define QCOW2_MAX_SNAPSHOTS_BYTES (64u << 20)
#define QCOW2_MAX_BACKING_NAME 1023
#define QCOW2_CRYPT_BATCH (1u << 20)   /* bytes encrypted per buffer on writes */
#define QCOW2_FREE_DISCARD (1ull << 63) /* a pending free whose space the file gets back */

/* Header extension types */
#define QCOW2_EXT_END         0x00000000u
#define QCOW2_EXT_BACKING_FMT 0xe2792acau
#define QCOW2_EXT_FEATURES    0x6803f857u
#define QCOW2_EXT_BITMAPS     0x23852875u
#define QCOW2_EXT_CRYPTO      0x0537be77u
#define QCOW2_EXT_DATA_FILE   0x44415441u

/* Feature bits */
#define QCOW2_INCOMPAT_DIRTY       (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT     (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE   (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2       (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN       0x1full
#define QCOW2_COMPAT_LAZY          (1ull << 0)
#define QCOW2_AUTOCLEAR_BITMAPS    (1ull << 0)
#define QCOW2_AUTOCLEAR_DATA_RAW   (1ull << 1)
#define QCOW2_AUTOCLEAR_KNOWN      0x3ull

#define QCOW2_CRYPT_NONE 0
#define QCOW2_CRYPT_AES  1
#define QCOW2_CRYPT_LUKS 2

#define QCOW2_COMPRESS_ZLIB 0
#define QCOW2_COMPRESS_ZSTD 1

/* L1/L2 entry bits */
#define QCOW2_OFLAG_COPIED     (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO       (1ull << 0)
#define QCOW2_OFFSET_MASK      0x00fffffffffffe00ull
#define QCOW2_L1_RESERVED      0x7f000000000001ffull
#define QCOW2_L2_RESERVED      0x3f000000000001feull

/* What one (sub)cluster of the guest reads as. */
enum qcow2_type {
    QCOW2_UNALLOC,      /* from the backing file, or zeros */
    QCOW2_ZERO,         /* zeros */
    QCOW2_NORMAL,       /* data at host + offset */
    QCOW2_COMPRESSED,   /* compressed cluster */
};

struct qcow2_ext {
    uint32_t type;
    uint32_t len;
    uint8_t *data;
    struct qcow2_ext *next;
};

/* Extra data of a snapshot table entry that strata knows: the 64-bit VM
 * state size, the disk size and the icount, as qemu writes them. */
#define QCOW2_SNAPSHOT_EXTRA_KNOWN 24u
/* What a version 3 entry must have at least (VM state and disk size). */
#define QCOW2_SNAPSHOT_EXTRA_V3    16u

struct qcow2_snapshot {
    uint64_t l1_offset;
    uint32_t l1_size;
    char *id;
    char *name;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t vm_state_size;
    uint64_t disk_size;       /* the image's size when the entry has none */
    uint64_t icount;          /* UINT64_MAX: not recorded */
    uint32_t extra_size;      /* as found; written: at least the known 24 */
    uint8_t *extra;           /* extra data beyond the known fields, kept */
    uint32_t extra_unknown;
};

struct qcow2_cache;

/* Guest clusters first..last owned by one request (lock.c). */
struct qcow2_range {
    uint64_t first, last;
    bool excl;
    struct qcow2_range *next;
};

/* Compression contexts, made on first use and kept while the image is open;
 * one per request using it, from a free list (compress.c). */
struct qcow2_codec {
    void *zstd_dctx, *zstd_cctx;
    struct qcow2_codec *next;
};

struct qcow2_state {
    /* locks (see the top of this file) */
    pthread_rwlock_t wide;
    pthread_mutex_t meta;
    pthread_mutex_t range_mu;
    pthread_cond_t range_cv;
    struct qcow2_range *ranges;     /* held now; under range_mu */
    struct qcow2_range *waiting;    /* exclusive ones waiting; under range_mu */
    pthread_mutex_t dc_mu;          /* also guards the codec free list */
    bool locks_ready;

    struct strata_node *node;
    struct strata_node *file;       /* metadata (and data unless data_file) */
    struct strata_node *data;       /* where guest clusters live */
    struct strata_node *backing;
    const char *name;               /* for messages */
    bool rw;
    bool no_io;
    bool check_mode;                /* STRATA_O_CHECK */

    /* header */
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t cluster_size;
    uint64_t size;
    uint32_t crypt_method;
    uint32_t l1_size;
    uint64_t l1_offset;
    uint64_t rt_offset;
    uint32_t rt_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t incompat, compat, autoclear;
    uint32_t refcount_order;
    uint32_t header_length;
    uint8_t compression_type;
    uint8_t header_tail[64];        /* unknown additional header fields */
    uint32_t header_tail_len;

    /* derived */
    bool extended;
    uint32_t l2_entry_size;         /* 8, or 16 with extended L2 */
    uint32_t l2_bits;               /* log2 of entries per L2 table */
    uint64_t l2_entries;
    uint64_t l2_slice_size;         /* bytes of an L2 cache entry (l2-cache-entry-size) */
    uint32_t sc_bits;               /* log2 subcluster size */
    uint32_t sc_per_cluster;        /* 1 or 32 */
    uint32_t refcount_bits;
    uint32_t rb_bits;               /* log2 of refcounts per block */
    uint64_t refcount_max;

    /* tables (host byte order) */
    uint64_t *l1;
    uint64_t *rt;
    uint64_t rt_entries;

    /* extensions */
    char *backing_file;
    char *backing_fmt;
    char *data_file_name;
    bool has_bitmaps_ext;
    uint8_t bitmaps_ext[24];
    uint64_t crypto_offset, crypto_length;
    bool has_crypto_ext;
    struct qcow2_ext *unknown_exts;

    /* caches */
    struct qcow2_cache *l2_cache;
    struct qcow2_cache *rb_cache;

    /* allocation */
    uint64_t free_hint;             /* first cluster index that may be free */
    uint64_t file_len;              /* last known size of `file` */
    int meta_prealloc;              /* metadata preallocation seen: -1 not yet judged */
    uint64_t data_len;              /* last known size of `data` */
    uint64_t free_byte;             /* where packed compressed data continues */
    uint64_t *pending_free;         /* host offsets|count queued to lower refcounts */
    bool pass_discard;              /* frees queued now give the file the space back */
    bool discard_request, discard_other;    /* pass-discard-request / -other */
    bool discard_snapshot;          /* pass-discard-snapshot */
    size_t npending, cap_pending;

    struct qcow2_snapshot *snaps;
    uint64_t snapshots_size;        /* bytes of the table on disk */
    bool snaps_pending;             /* check mode: the table is read by check */

    bool lazy;                      /* lazy refcounts in effect */
    bool dirty_set;                 /* dirty bit written to disk by us */
    bool header_dirty;              /* autoclear etc. to be written */

    uint8_t *dcbuf;                 /* the last decompressed cluster (dc_mu) */
    uint64_t dc_entry;              /* ... and the L2 entry it came from */
    bool dc_valid;
    uint8_t *zero_buf;              /* one cluster of zeros */
    /* Ciphertext of encrypted writes, QCOW2_CRYPT_BATCH bytes each: reused,
     * as a fresh buffer per request costs more in page faults than the
     * cipher does. */
    struct bounce_pool crypt_pool;
    struct qcow2_codec *codecs;     /* idle codecs (dc_mu) */

    /* encryption */
    struct strata_cipher *cipher;
    void *crypto_hdr;               /* struct qcow2_crypto (LUKS) */
    bool aes_write_ok;              /* encrypt.allow-insecure=on */

    /* options */
    unsigned overlap_mask;          /* QCOW2_OL_* checked before writes */
    bool corruption_signaled;       /* the message was printed */
    bool in_check;                  /* check reports problems itself */
    uint64_t clean_interval;        /* cache-clean-interval, seconds; 0 off */
    pthread_t clean_thread;         /* cleaner.c */
    pthread_mutex_t clean_mu;
    pthread_cond_t clean_cv;
    bool clean_stop, clean_running;
    uint64_t l2_cache_bytes, rb_cache_bytes;
    bool l2_cache_given, rb_cache_given;
};

static inline uint64_t qcow2_align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

static inline uint64_t qcow2_offset_in_cluster(const struct qcow2_state *s, uint64_t off)
{
    return off & (s->cluster_size - 1);
}

/* L1 entries needed for a guest of `size` bytes. */
static inline uint64_t qcow2_l1_size_for(const struct qcow2_state *s, uint64_t size)
{
    uint64_t clusters = (size + s->cluster_size - 1) >> s->cluster_bits;
    return (clusters + s->l2_entries - 1) >> s->l2_bits;
}

/* Where the VM state area starts in the guest address space: at the
 * first L1 entry past the disk (qemu's qcow2_vm_state_offset). */
static inline uint64_t qcow2_vm_state_offset(const struct qcow2_state *s)
{
    uint64_t size = __atomic_load_n(&s->size, __ATOMIC_RELAXED);
    return qcow2_l1_size_for(s, size) << (s->cluster_bits + s->l2_bits);
}

/* A compressed L2 entry holds the host byte offset in its low x bits and,
 * above them, the number of 512-byte sectors the data touches minus one. */
static inline unsigned qcow2_compressed_shift(const struct qcow2_state *s)
{
    return 62 - (s->cluster_bits - 8);
}

/* Decodes a compressed entry into the host offset and the bytes to read
 * (to the end of its last sector). */
static inline void qcow2_compressed_loc(const struct qcow2_state *s, uint64_t entry,
                                        uint64_t *host, uint64_t *nbytes)
{
    unsigned x = qcow2_compressed_shift(s);
    uint64_t nsec = (entry >> x) & ((1ull << (s->cluster_bits - 8)) - 1);
    *host = entry & ((1ull << x) - 1);
    *nbytes = (nsec + 1) * 512 - (*host & 511);
}

/* The compressed entry for `len` bytes of compressed data at `host`. */
static inline uint64_t qcow2_compressed_entry(const struct qcow2_state *s, uint64_t host,
                                              uint64_t len)
{
    uint64_t nsec = ((host + len - 1) >> 9) - (host >> 9);
    return QCOW2_OFLAG_COMPRESSED | (nsec << qcow2_compressed_shift(s)) | host;
}

/* Raises a blkdebug-style event on the image file. */
static inline void qcow2_event(struct qcow2_state *s, enum strata_event ev)
{
    strata_node_event(s->file, ev);
}

/* ------------------------------------------------------------ lock.c */
int qcow2_locks_init(struct qcow2_state *s);
void qcow2_locks_destroy(struct qcow2_state *s);
/* Waits until no other request holds a conflicting range over the guest
 * clusters of [off, off+len), then holds them (exclusive: alone). */
void qcow2_range_lock(struct qcow2_state *s, struct qcow2_range *rg, uint64_t off,
                      uint64_t len, bool excl);
void qcow2_range_unlock(struct qcow2_state *s, struct qcow2_range *rg);

/* ------------------------------------------------------------ overlap.c */
/* Metadata structures overlap-check knows, in QEMU's order. */
#define QCOW2_OL_MAIN_HEADER      (1u << 0)
#define QCOW2_OL_ACTIVE_L1        (1u << 1)
#define QCOW2_OL_ACTIVE_L2        (1u << 2)
#define QCOW2_OL_REFCOUNT_TABLE   (1u << 3)
#define QCOW2_OL_REFCOUNT_BLOCK   (1u << 4)
#define QCOW2_OL_SNAPSHOT_TABLE   (1u << 5)
#define QCOW2_OL_INACTIVE_L1      (1u << 6)
#define QCOW2_OL_INACTIVE_L2      (1u << 7)
#define QCOW2_OL_BITMAP_DIRECTORY (1u << 8)
/* QEMU's modes: "constant" needs no metadata read, "cached" what is in
 * memory anyway, "all" reads the snapshots' L1 tables too. */
#define QCOW2_OL_CONSTANT (QCOW2_OL_MAIN_HEADER | QCOW2_OL_ACTIVE_L1 | \
                           QCOW2_OL_REFCOUNT_TABLE | QCOW2_OL_SNAPSHOT_TABLE)
#define QCOW2_OL_CACHED   (QCOW2_OL_CONSTANT | QCOW2_OL_ACTIVE_L2 | QCOW2_OL_REFCOUNT_BLOCK | \
                           QCOW2_OL_BITMAP_DIRECTORY | QCOW2_OL_INACTIVE_L1)
#define QCOW2_OL_ALL      (QCOW2_OL_CACHED | QCOW2_OL_INACTIVE_L2)
/* overlap-check, overlap-check.template and overlap-check.<structure>. */
int qcow2_overlap_opts(struct qcow2_state *s, const struct strata_opts *opts,
                       struct strata_error **errp);
/* Before writing [off, off+len) of the image file (meta held): a range
 * meeting an enabled structure not in `ignore` (the one being written)
 * marks the image corrupt and fails with EIO. */
int qcow2_overlap_check(struct qcow2_state *s, unsigned ignore, uint64_t off, uint64_t len,
                        struct strata_error **errp);
/* The same for guest data at `host` (meta not held; takes it). */
int qcow2_overlap_check_data(struct qcow2_state *s, uint64_t host, uint64_t len,
                             struct strata_error **errp);
/* QEMU's fatal corruption event: prints "qcow2: Marking image as corrupt:
 * MSG; ..." once, sets the corrupt bit, returns -EIO with MSG in errp. */
int qcow2_signal_corruption(struct qcow2_state *s, struct strata_error **errp,
                            const char *fmt, ...) STRATA_PRINTF(3, 4);

/* ------------------------------------------------------------ cleaner.c */
/* The thread of cache-clean-interval (none when it is 0). */
int qcow2_cleaner_start(struct qcow2_state *s, struct strata_error **errp);
void qcow2_cleaner_stop(struct qcow2_state *s);

/* ------------------------------------------------------------ header.c */
int qcow2_read_header(struct qcow2_state *s, bool probe_only, struct strata_error **errp);
/* Rewrites the header cluster from the state (extensions included). */
int qcow2_write_header(struct qcow2_state *s, struct strata_error **errp);
/* refcount_bits, rb_bits and refcount_max from refcount_order. */
void qcow2_set_refcount_fields(struct qcow2_state *s);
/* Serialises the header into buf (cluster_size bytes); returns bytes used or
 * -ENOSPC when it does not fit. */
int qcow2_build_header(struct qcow2_state *s, uint8_t *buf, size_t len,
                       struct strata_error **errp);
int qcow2_set_dirty(struct qcow2_state *s, struct strata_error **errp);
int qcow2_clear_dirty(struct qcow2_state *s, struct strata_error **errp);
void qcow2_free_header(struct qcow2_state *s);

/* ------------------------------------------------------------ cache.c */
/* entries tables of tsize bytes each; ol_ignore is the QCOW2_OL_* bit of
 * what they hold (their own write-back is no overlap). */
struct qcow2_cache *qcow2_cache_new(size_t entries, size_t tsize, enum strata_event load_ev,
                                    enum strata_event update_ev, unsigned ol_ignore);
void qcow2_cache_free(struct qcow2_cache *c);
/* Makes flushes of c flush `dep` first (refcounts before L2 tables). */
void qcow2_cache_set_dependency(struct qcow2_cache *c, struct qcow2_cache *dep);
int qcow2_cache_get(struct qcow2_state *s, struct qcow2_cache *c, uint64_t offset,
                    void **table, struct strata_error **errp);
/* A table whose on-disk content does not matter: the caller fills it. */
int qcow2_cache_get_empty(struct qcow2_state *s, struct qcow2_cache *c, uint64_t offset,
                          void **table, struct strata_error **errp);
void qcow2_cache_put(struct qcow2_cache *c, void *table);
void qcow2_cache_dirty(struct qcow2_cache *c, void *table);
int qcow2_cache_flush(struct qcow2_state *s, struct qcow2_cache *c,
                      struct strata_error **errp);
/* Forgets the tables cached in [offset, offset+len) (freed clusters);
 * dirty data is dropped. */
void qcow2_cache_discard(struct qcow2_cache *c, uint64_t offset, uint64_t len);
/* Drops the tables nobody holds that were last used `age` seconds ago or
 * more, writing dirty ones back first (cache-clean-interval). */
int qcow2_cache_clean(struct qcow2_state *s, struct qcow2_cache *c, uint64_t age,
                      struct strata_error **errp);
/* How many tables qcow2_cache_clean dropped so far. */
uint64_t qcow2_cache_cleaned(const struct qcow2_cache *c);
size_t qcow2_cache_table_size(const struct qcow2_cache *c);
void qcow2_cache_drop_all(struct qcow2_cache *c);
size_t qcow2_cache_entries(const struct qcow2_cache *c);

/* ------------------------------------------------------------ refcount.c */
int qcow2_load_refcount_table(struct qcow2_state *s, struct strata_error **errp);
int qcow2_get_refcount(struct qcow2_state *s, uint64_t cluster, uint64_t *rc,
                       struct strata_error **errp);
/* The refcounts of clusters first .. first+n-1, all in one refcount block:
 * one cache look-up for the lot (a read-only check compares every one). */
int qcow2_get_refcounts(struct qcow2_state *s, uint64_t first, uint64_t n, uint64_t *rc,
                        struct strata_error **errp);
/* Adds `addend` to the refcount of every cluster touching [offset, offset+len). */
int qcow2_update_refcount(struct qcow2_state *s, uint64_t offset, uint64_t len,
                          int64_t addend, struct strata_error **errp);
/* Allocates n contiguous clusters (refcount 1); returns the host offset. */
int qcow2_alloc_clusters(struct qcow2_state *s, uint64_t n, uint64_t *offset,
                         struct strata_error **errp);
/* Allocates `bytes` inside partly used clusters, for compressed data. */
int qcow2_alloc_bytes(struct qcow2_state *s, uint64_t bytes, uint64_t *offset,
                      struct strata_error **errp);
/* Queues a refcount decrement for after the L2 cache reached the disk. */
/* Gives the file back the space of the clusters in [off, off+len) whose
 * refcount is 0 now (a hole punched). */
void qcow2_discard_freed(struct qcow2_state *s, uint64_t off, uint64_t len);
int qcow2_free_later(struct qcow2_state *s, uint64_t offset, uint64_t nclusters,
                     struct strata_error **errp);
/* Frees an L2 entry's clusters (normal or compressed) later. */
int qcow2_free_entry_later(struct qcow2_state *s, uint64_t entry,
                           struct strata_error **errp);
int qcow2_apply_pending_frees(struct qcow2_state *s, struct strata_error **errp);
/* Writes all metadata out: queued frees, refcount blocks, then L2 tables. */
int qcow2_flush_all(struct qcow2_state *s, struct strata_error **errp);
/* A guest's flush: as qcow2_flush_all, but refcounts stay cached while the
 * image is marked dirty with lazy refcounts. */
int qcow2_flush_guest(struct qcow2_state *s, struct strata_error **errp);
/* Sets the refcount of one cluster to v (check repairs). */
int qcow2_set_refcount(struct qcow2_state *s, uint64_t cluster, uint64_t v,
                       struct strata_error **errp);
/* Why `off` cannot hold a refcount block of an image file of file_len bytes
 * (unaligned, past its end, on the header, the refcount table or the L1
 * table), or NULL when it can. */
const char *qcow2_refblock_problem(const struct qcow2_state *s, uint64_t off,
                                   uint64_t file_len);
uint64_t qcow2_rb_get(const struct qcow2_state *s, const void *block, uint64_t idx);
void qcow2_rb_set(const struct qcow2_state *s, void *block, uint64_t idx, uint64_t v);
/* The same for a refcount width of 2^order bits. */
void qcow2_rb_store(uint32_t order, void *block, uint64_t idx, uint64_t v);
/* The largest refcount 2^order bits hold. */
static inline uint64_t qcow2_refcount_max(uint32_t order)
{
    return order >= 6 ? UINT64_MAX : (1ull << (1u << order)) - 1;
}

/* ------------------------------------------------------------ refwidth.c */
/* Rewrites the refcount structures with entries of 2^order bits (amend
 * refcount_bits; meta held, caches flushed). */
int qcow2_change_refcount_order(struct qcow2_state *s, uint32_t order,
                                struct strata_error **errp);

/* ------------------------------------------------------------ cluster.c */
/* Slice k (of l2_slice_size bytes) of the L2 table at l2_off, from the
 * cache: put it back with qcow2_cache_put(s->l2_cache, ...). */
int qcow2_l2_slice(struct qcow2_state *s, uint64_t l2_off, uint64_t k, void **slice,
                   struct strata_error **errp);
struct qcow2_l2ref {
    uint64_t entry;           /* first 64 bits */
    uint64_t bitmap;          /* extended L2 only */
};
/* The L2 entry of the guest cluster containing `off` (entry 0 when no L2). */
int qcow2_get_l2_entry(struct qcow2_state *s, uint64_t off, struct qcow2_l2ref *e,
                       struct strata_error **errp);
/* Type of subcluster `sc` of an entry, and for NORMAL the host cluster. */
enum qcow2_type qcow2_entry_type(const struct qcow2_state *s, const struct qcow2_l2ref *e,
                                 unsigned sc);
/* Makes the L2 tables of guest range [off, off+n) exist and writable, as
 * qemu does before it allocates data clusters there. */
int qcow2_prepare_l2(struct qcow2_state *s, uint64_t off, uint64_t n,
                     struct strata_error **errp);
/* The L2 table of guest offset `off`, made the image's own first when there
 * is none or it is shared with a snapshot (the L1 table grown as needed). */
int qcow2_own_l2(struct qcow2_state *s, uint64_t off, uint64_t *l2_off,
                 struct strata_error **errp);
/* Sets the L2 entry of the guest cluster at `off`, allocating the L2 table
 * when needed. */
int qcow2_set_l2_entry(struct qcow2_state *s, uint64_t off, const struct qcow2_l2ref *e,
                       struct strata_error **errp);
int qcow2_write_l1_entry(struct qcow2_state *s, uint64_t idx, struct strata_error **errp);
/* Grows the active L1 table to at least min_size entries. */
int qcow2_grow_l1(struct qcow2_state *s, uint64_t min_size, struct strata_error **errp);

/* ------------------------------------------------------------ rw.c */
/* Guest requests: each takes its cluster range and meta as it needs; the
 * caller holds the wide lock (shared or exclusive). */
int qcow2_do_pread(struct qcow2_state *s, uint64_t off, uint64_t len, uint8_t *buf,
                   struct strata_error **errp);
int qcow2_do_pwrite(struct qcow2_state *s, uint64_t off, uint64_t len, const uint8_t *buf,
                    unsigned flags, struct strata_error **errp);
int qcow2_do_zero(struct qcow2_state *s, uint64_t off, uint64_t len, unsigned flags,
                  bool discard, struct strata_error **errp);
/* Before the first allocating write: dirty bit, autoclear bits. */
int qcow2_prepare_write(struct qcow2_state *s, struct strata_error **errp);

/* Writes whole clusters compressed (pwrite_compressed). */
int qcow2_pwrite_compressed(struct qcow2_state *s, uint64_t off, uint64_t len,
                            const uint8_t *buf, struct strata_error **errp);

/* ------------------------------------------------------------ vmstate.c */
/* Reads or writes [pos, pos+len) of the VM state area (the caller holds
 * the wide lock). */
int qcow2_vmstate_io(struct qcow2_state *s, bool write, uint64_t pos, uint64_t len,
                     void *buf, struct strata_error **errp);

/* ------------------------------------------------------------ compress.c */
/* Decompresses exactly outlen bytes of `type` (QCOW2_COMPRESS_*) data. */
int qcow2_decompress(struct qcow2_codec *c, uint8_t type, const uint8_t *in, size_t inlen,
                     uint8_t *out, size_t outlen, struct strata_error **errp);
/* Returns the compressed length, or -ENOSPC when it does not get smaller. */
long qcow2_compress(struct qcow2_codec *c, uint8_t type, const uint8_t *in, size_t inlen,
                    uint8_t *out, size_t outcap, struct strata_error **errp);
/* A codec for this request alone (NULL: out of memory); give it back. */
struct qcow2_codec *qcow2_codec_get(struct qcow2_state *s);
void qcow2_codec_put(struct qcow2_state *s, struct qcow2_codec *c);
/* Frees the idle codecs (at close). */
void qcow2_codecs_free(struct qcow2_state *s);

/* ------------------------------------------------------------ crypto.c */
int qcow2_crypto_open(struct qcow2_state *s, const struct strata_opts *opts,
                      struct strata_error **errp);
void qcow2_crypto_close(struct qcow2_state *s);
/* Decrypts/encrypts in place data of host offset `host` (512-aligned) that
 * belongs to guest offset `guest`. */
int qcow2_crypt(struct qcow2_state *s, bool enc, uint64_t host, uint64_t guest, uint8_t *buf,
                size_t len, struct strata_error **errp);
/* Bytes of the LUKS header clusters an image with these create options
 * gets (0 when not LUKS-encrypted). */
int qcow2_crypto_measure(const struct strata_opts *opts, uint64_t cluster_size,
                         uint64_t *bytes, struct strata_error **errp);
int qcow2_crypto_create(struct qcow2_state *s, const struct strata_opts *opts,
                        struct strata_error **errp);
int qcow2_crypto_amend(struct qcow2_state *s, const struct strata_opts *opts, bool force,
                       struct strata_error **errp);
int qcow2_crypto_info(struct qcow2_state *s, struct strata_info *obj,
                      struct strata_error **errp);

/* ------------------------------------------------------------ snapshot.c */
int qcow2_read_snapshots(struct qcow2_state *s, struct strata_error **errp);
/* The same, for check, whose messages do not name the image: with
 * `repair` (the findings of a check -r all), entries past the table's size
 * limit are dropped (counted in *dropped; the header is the caller's to
 * update) and extra data past its limit is cut (counted in *cut_extra),
 * each reported there in qemu's words. */
int qcow2_read_snapshots_repair(struct qcow2_state *s, struct strata_check_result *repair,
                                uint32_t *dropped, uint32_t *cut_extra,
                                struct strata_error **errp);
/* Rewrites the snapshot table from s->snaps, every entry with all the
 * known extra data (amend to compat=1.1, check repairs). */
int qcow2_write_snapshots(struct qcow2_state *s, struct strata_error **errp);
void qcow2_free_snapshots(struct qcow2_state *s);
int qcow2_snapshot_create(struct qcow2_state *s, const char *name,
                          struct strata_error **errp);
int qcow2_snapshot_goto(struct qcow2_state *s, const char *name, struct strata_error **errp);
/* The snapshot's L1 table becomes the node's in memory only (the node is
 * read-only), as QEMU's bdrv_snapshot_load_tmp. */
int qcow2_snapshot_load_tmp(struct qcow2_state *s, const char *name,
                            struct strata_error **errp);
int qcow2_snapshot_delete(struct qcow2_state *s, const char *name,
                          struct strata_error **errp);
int qcow2_snapshot_list(struct qcow2_state *s, struct strata_info *list,
                        struct strata_error **errp);

/* ------------------------------------------------------------ check.c */
/* rebuild.c: a new refcount structure from the counted references
 * (*refs grows with the clusters it takes); the header points at it. */
int qcow2_rebuild_refcounts(struct qcow2_state *s, uint64_t **refs, uint64_t *nclusters,
                            struct strata_error **errp);
int qcow2_check(struct qcow2_state *s, struct strata_check_result *res, unsigned fix,
                struct strata_error **errp);

/* ------------------------------------------------------------ create.c */
int qcow2_create(struct strata_create *c, struct strata_error **errp);
int qcow2_measure(const struct strata_opts *o, uint64_t size, struct strata_node *src,
                  struct strata_measure *out, struct strata_error **errp);
int qcow2_parse_create_opts(const struct strata_opts *o, uint32_t *cluster_bits,
                            uint32_t *version, uint32_t *refcount_order, bool *extended,
                            struct strata_error **errp);

/* ------------------------------------------------------------ resize.c */
int qcow2_truncate(struct qcow2_state *s, uint64_t size, bool exact,
                   enum strata_prealloc prealloc, struct strata_error **errp);
int qcow2_preallocate(struct qcow2_state *s, uint64_t from, uint64_t to,
                      enum strata_prealloc prealloc, struct strata_error **errp);

/* ------------------------------------------------------------ amend.c */
int qcow2_amend(struct qcow2_state *s, const struct strata_opts *opts, bool force,
                struct strata_error **errp);

/* ------------------------------------------------------------ status.c */
int qcow2_block_status(struct qcow2_state *s, uint64_t off, uint64_t len,
                       struct strata_block_status *bs, struct strata_error **errp);
int qcow2_get_info(struct qcow2_state *s, struct strata_info *obj,
                   struct strata_error **errp);

/* ------------------------------------------------------------ bitmap.c */
struct qcow2_bitmap {
    char *name;
    uint64_t table_offset;
    uint32_t table_size;
    uint32_t flags;
    uint8_t type;
    uint8_t granularity_bits;
};
/* The bitmap directory (empty without a valid bitmaps extension). */
int qcow2_bitmap_dir_read(struct qcow2_state *s, struct qcow2_bitmap **out, uint32_t *n,
                          struct strata_error **errp);
void qcow2_bitmap_dir_free(struct qcow2_bitmap *bm, uint32_t n);
int qcow2_bitmap_info(struct qcow2_state *s, struct strata_info *obj,
                      struct strata_error **errp);

#endif
