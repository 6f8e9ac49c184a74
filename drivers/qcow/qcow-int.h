/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow-int.h - the original qcow format (version 1), shared by its files.
 *
 * On disk (all numbers big endian):
 *   0  magic "QFI\xfb"          4  version (1)
 *   8  backing_file_offset     16  backing_file_size (not NUL-terminated)
 *   20 mtime                   24  size (virtual, bytes)
 *   32 cluster_bits            33  l2_bits           34 padding (2)
 *   36 crypt_method (0 none, 1 AES-128-CBC)          40 l1_table_offset
 * The L1 table has ceil(size / 2^(cluster_bits + l2_bits)) entries, each the
 * offset of an L2 table of 2^l2_bits entries (0 = not allocated).  An L2
 * entry is the host offset of a data cluster, 0 when unallocated, or, with
 * bit 63 set, a compressed cluster: the low (63 - cluster_bits) bits hold
 * the offset and the next cluster_bits bits the compressed length in bytes
 * (raw deflate).  Data clusters are allocated at the end of the file.
 */
#ifndef STRATA_DRIVER_QCOW_INT_H
#define STRATA_DRIVER_QCOW_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

#include <strata/crypto.h>
#include <strata/driver.h>

#include "bigendian.h"

#define QCOW_MAGIC          0x514649fbu   /* "QFI\xfb" */
#define QCOW_VERSION        1
#define QCOW_HEADER_SIZE    48
#define QCOW_CRYPT_NONE     0
#define QCOW_CRYPT_AES      1
#define QCOW_OFLAG_COMPRESSED (1ull << 63)
#define QCOW_BACKING_MAX    1023
#define QCOW_SECTOR         512u
/* Largest L1 table accepted (entries): 256 MiB of metadata in memory. */
#define QCOW_L1_MAX         (1u << 25)
#define QCOW_L2_CACHE_SIZE  16
/* Bytes of guest data handled in one go on the write path. */
#define QCOW_BATCH          (256u << 10)

/* Option that allows writing the broken legacy AES scheme. */
#define QCOW_OPT_ALLOW_AES  "encrypt.allow-legacy-aes"

struct qcow_header {
    uint32_t magic;
    uint32_t version;
    uint64_t backing_offset;
    uint32_t backing_size;
    uint32_t mtime;
    uint64_t size;
    uint8_t cluster_bits;
    uint8_t l2_bits;
    uint32_t crypt_method;
    uint64_t l1_offset;
};

struct qcow_l2_slot {
    uint64_t offset;      /* host offset of the table; 0 = empty slot */
    uint64_t *table;      /* host-endian entries */
    uint64_t used;        /* LRU stamp */
};

struct qcow_state {
    struct strata_node *file;
    struct strata_node *backing;
    const char *name;            /* the image file, for messages */
    struct qcow_header h;
    char *backing_name;          /* from the header, NULL if none */

    uint32_t cluster_size;
    uint32_t l2_size;            /* entries per L2 table */
    uint32_t l1_size;
    uint64_t *l1;                /* host-endian */
    uint64_t file_end;           /* where the next allocation goes from */
    unsigned csize_shift;        /* compressed entries: length position */
    uint64_t csize_mask;
    uint64_t offset_mask;

    struct qcow_l2_slot l2c[QCOW_L2_CACHE_SIZE];
    uint64_t l2c_clock;

    /* One decompressed cluster, by its L2 entry (0 = none). */
    uint8_t *ccache;
    uint64_t ccache_entry;
    uint8_t *cbuf;               /* compressed bytes, cluster_size */
    z_stream inflater;
    bool inflater_ready;
    z_stream deflater;
    bool deflater_ready;

    uint8_t *bounce;             /* QCOW_BATCH bytes for the write path */

    struct strata_cipher *cipher; /* legacy AES, NULL when not encrypted/no key */
};

/* header.c */
void qcow_header_decode(const uint8_t *buf, struct qcow_header *h);
void qcow_header_encode(const struct qcow_header *h, uint8_t *buf);
/* Checks a header read from a file of file_len bytes (`got` bytes of it
 * read).  Errors name the file. */
int qcow_header_check(const struct qcow_header *h, size_t got, uint64_t file_len,
                      const char *name, struct strata_error **errp);
uint64_t qcow_l1_entries(uint64_t size, unsigned cluster_bits, unsigned l2_bits);

/* cluster.c: mapping guest offsets to host clusters */
enum qcow_kind { QCOW_UNALLOC, QCOW_NORMAL, QCOW_COMPRESSED };
struct qcow_map {
    enum qcow_kind kind;
    uint64_t entry;              /* raw L2 entry */
    uint64_t host;               /* host offset of the cluster (normal) */
};
/* The L2 table for l1_index (allocated when alloc), or *tablep NULL when
 * there is none.  The table stays valid until the next qcow_l2_get. */
int qcow_l2_get(struct qcow_state *s, uint32_t l1_index, bool alloc, uint64_t **tablep,
                uint64_t *l2_offset, struct strata_error **errp);
void qcow_map_entry(const struct qcow_state *s, uint64_t entry, struct qcow_map *m);
int qcow_l2_set(struct qcow_state *s, uint64_t l2_offset, uint64_t *table,
                uint32_t first, uint32_t n, struct strata_error **errp);
uint64_t qcow_alloc(struct qcow_state *s, uint64_t len, uint32_t align);
int qcow_read_compressed(struct qcow_state *s, uint64_t entry,
                         struct strata_error **errp);
int qcow_check_data(struct qcow_state *s, uint64_t host, uint64_t len,
                    uint64_t guest, struct strata_error **errp);
void qcow_cache_free(struct qcow_state *s);

/* io.c */
int qcow_pread(struct strata_node *node, uint64_t off, uint64_t len, void *buf,
               unsigned flags, struct strata_error **errp);
int qcow_pwrite(struct strata_node *node, uint64_t off, uint64_t len,
                const void *buf, unsigned flags, struct strata_error **errp);
int qcow_pwrite_zeroes(struct strata_node *node, uint64_t off, uint64_t len,
                       unsigned flags, struct strata_error **errp);
int qcow_pwrite_compressed(struct strata_node *node, uint64_t off, uint64_t len,
                           const void *buf, struct strata_error **errp);
int qcow_pdiscard(struct strata_node *node, uint64_t off, uint64_t len,
                  struct strata_error **errp);
int qcow_block_status(struct strata_node *node, uint64_t off, uint64_t len,
                      struct strata_block_status *bs, struct strata_error **errp);

/* crypt.c */
int qcow_crypt_open(struct qcow_state *s, const char *secret_id,
                    struct strata_error **errp);
const char *qcow_aes_warning(void);

/* create.c */
int qcow_create(struct strata_create *c, struct strata_error **errp);

#endif
