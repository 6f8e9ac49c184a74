/* SPDX-License-Identifier: MIT */
/* strata/driver.h - the block driver plugin ABI.
 *
 * A driver module is a .so that exports one entry point made by
 * STRATA_PLUGIN() (see plugin.h) listing its `struct strata_driver`
 * descriptors.  The core calls a driver only through these callbacks and a
 * driver reaches other nodes (its children) only through the node functions
 * below, which add alignment handling, request splitting, bounds checks and
 * locking.
 *
 * ABI policy: STRATA_DRIVER_ABI_MAJOR changes when an existing member changes
 * meaning or place; a module built for a different major is refused.  New
 * members are only ever added at the end of the struct, with a minor bump;
 * the core reads `struct_size` and treats members past it as NULL/0, so a
 * module built against an older minor keeps working.
 */
#ifndef STRATA_DRIVER_H
#define STRATA_DRIVER_H

#include <strata/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_DRIVER_ABI_MAJOR 1
#define STRATA_DRIVER_ABI_MINOR 3
#define STRATA_DRIVER_ABI ((STRATA_DRIVER_ABI_MAJOR << 16) | STRATA_DRIVER_ABI_MINOR)

struct strata_node;
struct strata_create;

enum strata_driver_kind {
    STRATA_DRIVER_PROTOCOL = 1, /* bottom of a stack: file, null, nbd */
    STRATA_DRIVER_FORMAT,       /* raw, qcow, qcow2, luks */
    STRATA_DRIVER_FILTER,       /* blkdebug: forwards what it does not implement */
};

/* Driver flags */
#define STRATA_DRIVER_THREAD_SAFE  0x1u /* callbacks may run concurrently; else the
                                           core serialises them per node */

/* Open flags (also used by the embedding API) */
#define STRATA_O_RDWR          0x01u /* read-write; default is read-only */
#define STRATA_O_FORCE_SHARE   0x02u /* -U: take no image locks; read-only only */
#define STRATA_O_NO_BACKING    0x04u /* do not open backing files */
#define STRATA_O_NO_IO         0x08u /* metadata only (info, map): no key needed,
                                        data I/O fails */
#define STRATA_O_NO_PROBE_WARN 0x10u /* do not warn when probing guessed raw */
#define STRATA_O_CREATE_CHILD  0x20u /* internal: child opened during create */
#define STRATA_O_NO_FLUSH      0x40u /* flushes and FUA writes reach the OS but
                                        not stable storage (qemu's cache=unsafe) */

/* Request flags */
#define STRATA_REQ_FUA         0x01u /* write through to stable storage */
#define STRATA_REQ_MAY_UNMAP   0x02u /* write_zeroes may deallocate */
#define STRATA_REQ_NO_FALLBACK 0x04u /* write_zeroes: fail with -ENOTSUP rather
                                        than writing a buffer of zeros */

/* Block status flags */
#define STRATA_BS_DATA         0x01u /* reads return data (not known zero) */
#define STRATA_BS_ZERO         0x02u /* reads return zeros */
#define STRATA_BS_ALLOCATED    0x04u /* content defined at this layer (not
                                        inherited from the backing file) */
#define STRATA_BS_OFFSET_VALID 0x08u /* `offset` is where the data lives in `file` */
#define STRATA_BS_COMPRESSED   0x10u /* stored compressed */

struct strata_block_status {
    uint64_t pnum;              /* bytes from the start with the same status (>0) */
    unsigned flags;             /* STRATA_BS_* */
    uint64_t offset;            /* host offset in `file` if OFFSET_VALID */
    struct strata_node *file;   /* node holding the data, if OFFSET_VALID */
};

/* Limits a driver announces in open() with strata_node_set_limits(). */
struct strata_limits {
    uint32_t request_alignment; /* offsets/lengths the driver accepts; the core
                                   does read-modify-write around it (default 1) */
    uint64_t max_transfer;      /* largest request; the core splits (0 = none) */
    uint64_t opt_transfer;      /* preferred request size, advisory (0 = none) */
    uint32_t min_mem_alignment; /* buffer address alignment the driver needs */
};

enum strata_prealloc {
    STRATA_PREALLOC_OFF = 0,
    STRATA_PREALLOC_METADATA,
    STRATA_PREALLOC_FALLOC,
    STRATA_PREALLOC_FULL,
};

/* qemu-img check counters (same meaning as qemu's ImageCheck). */
struct strata_check_result {
    int64_t corruptions, leaks, check_errors;
    int64_t corruptions_fixed, leaks_fixed;
    int64_t image_end_offset;
    int64_t total_clusters, allocated_clusters;
    int64_t fragmented_clusters, compressed_clusters;
    /* Findings in the order found ("ERROR cluster 5 refcount=0 reference=1"),
     * added with strata_check_report(), released by strata_check_result_clear(). */
    char **messages;
    size_t nmessages;
};
#define STRATA_CHECK_FIX_LEAKS  0x1u
#define STRATA_CHECK_FIX_ERRORS 0x2u
STRATA_EXPORT void strata_check_report(struct strata_check_result *r,
                                       const char *fmt, ...) STRATA_PRINTF(2, 3);
STRATA_EXPORT void strata_check_result_clear(struct strata_check_result *r);

/* Internal snapshot operations (driver callback `snapshot`). */
enum strata_snapshot_op {
    STRATA_SNAPSHOT_LIST = 1,   /* fills `list` with one object per snapshot */
    STRATA_SNAPSHOT_CREATE,
    STRATA_SNAPSHOT_APPLY,      /* makes the snapshot the active state */
    STRATA_SNAPSHOT_DELETE,
};

struct strata_measure {
    uint64_t required;         /* bytes needed for the given data */
    uint64_t fully_allocated;  /* bytes needed if every cluster were written */
};

struct strata_driver {
    uint32_t abi_version;       /* STRATA_DRIVER_ABI */
    uint32_t struct_size;       /* sizeof(struct strata_driver) */
    const char *name;           /* "qcow2": the value of driver= */
    const char *description;
    enum strata_driver_kind kind;
    unsigned flags;             /* STRATA_DRIVER_* */
    size_t state_size;          /* private per-node state, zeroed by the core;
                                   strata_node_state() returns it */

    /* Child roles the driver opens ("file", "backing", "header", "image"),
     * NULL-terminated.  Options under these prefixes belong to the child. */
    const char *const *children;
    const struct strata_opt_desc *open_options;    /* {NULL}-terminated */
    const struct strata_opt_desc *create_options;  /* {NULL}-terminated */
    const struct strata_opt_desc *amend_options;   /* {NULL}-terminated */

    /* Format probing: a score 0..100 for the first bytes of an image
     * (raw returns 1).  May be NULL. */
    int (*probe)(const uint8_t *buf, size_t len, const char *filename);

    /* Mandatory.  `opts` holds the node's own options, already validated
     * against open_options; children are opened with
     * strata_node_open_child().  On failure the core calls nothing else. */
    int (*open)(struct strata_node *node, const struct strata_opts *opts,
                unsigned flags, struct strata_error **errp);
    /* Mandatory.  Children are closed by the core afterwards. */
    void (*close)(struct strata_node *node);

    /* Mandatory for protocol and format drivers.  The core guarantees that
     * off and len respect request_alignment and max_transfer, and that
     * [off, off+len) lies inside the node (formats) - protocols may be
     * asked to write past their end, which grows them.  When a format's size
     * is not a multiple of its alignment, the request covering its last
     * block ends at the size (its length is then not aligned). */
    int (*pread)(struct strata_node *node, uint64_t off, uint64_t len,
                 void *buf, unsigned flags, struct strata_error **errp);
    int (*pwrite)(struct strata_node *node, uint64_t off, uint64_t len,
                  const void *buf, unsigned flags, struct strata_error **errp);
    /* The core flushes the node's children after this returns. */
    int (*flush)(struct strata_node *node, struct strata_error **errp);
    /* Optional: NULL makes the core write a zeroed buffer. */
    int (*pwrite_zeroes)(struct strata_node *node, uint64_t off, uint64_t len,
                         unsigned flags, struct strata_error **errp);
    /* Optional: NULL makes discard a successful no-op. */
    int (*pdiscard)(struct strata_node *node, uint64_t off, uint64_t len,
                    struct strata_error **errp);
    /* Mandatory for protocol and format drivers: virtual size in bytes. */
    int64_t (*get_length)(struct strata_node *node);
    /* Optional: bytes used on the host (qemu-img info's "disk size"). */
    int64_t (*get_allocated_size)(struct strata_node *node);
    int (*truncate)(struct strata_node *node, uint64_t size, bool exact,
                    enum strata_prealloc prealloc, struct strata_error **errp);
    /* Optional: NULL reports everything as allocated data. */
    int (*block_status)(struct strata_node *node, uint64_t off, uint64_t len,
                        struct strata_block_status *bs, struct strata_error **errp);

    /* Image creation (see strata_create_* below). */
    int (*create)(struct strata_create *c, struct strata_error **errp);
    /* Format-specific info for `info`: qemu-img's "format-specific" data
     * ("compat", "lazy-refcounts", luks "slots", ...).  A few image-level
     * facts qemu-img shows outside that object are given here too, under
     * these reserved keys, and the tools move them to the top level:
     * "cluster-size" (int), "vm-state-offset" (int, where VM state saved
     * in the image would start), "encrypted" (bool), "dirty-flag" (bool),
     * "backing-filename" (string, as stored in the image),
     * "backing-filename-format" (string), "snapshots" (list). */
    int (*get_info)(struct strata_node *node, struct strata_info *obj,
                    struct strata_error **errp);
    int (*check)(struct strata_node *node, struct strata_check_result *res,
                 unsigned fix, struct strata_error **errp);
    int (*amend)(struct strata_node *node, const struct strata_opts *opts,
                 bool force, struct strata_error **errp);
    /* src may be NULL (size only). */
    int (*measure)(const struct strata_opts *create_opts, uint64_t size,
                   struct strata_node *src, struct strata_measure *out,
                   struct strata_error **errp);
    /* A named event raised by a parent on this node (blkdebug listens). */
    void (*event)(struct strata_node *node, const char *event);

    /* ---- ABI 1.1 ---- */
    /* Optional: writes [off, off+len) (request_alignment respected), storing
     * the clusters the request covers whole in compressed form (what
     * strata-img convert -c uses); clusters covered in part, and clusters
     * that do not shrink, are written as by pwrite.  NULL makes
     * strata_pwrite_compressed() fail with -ENOTSUP. */
    int (*pwrite_compressed)(struct strata_node *node, uint64_t off, uint64_t len,
                             const void *buf, struct strata_error **errp);

    /* ---- ABI 1.2 ---- */
    /* Optional: internal snapshots (strata_image_snapshot()).  `name` matches
     * a snapshot's id or name (unused for LIST); for LIST, `list` is a list
     * to fill with one object per snapshot carrying qemu-img's fields: id,
     * name, vm-state-size, date-sec, date-nsec, vm-clock-sec, vm-clock-nsec;
     * else NULL.  NULL: the format has no internal snapshots. */
    int (*snapshot)(struct strata_node *node, enum strata_snapshot_op op,
                    const char *name, struct strata_info *list,
                    struct strata_error **errp);

    /* ---- ABI 1.3 ---- */
    /* Protocol drivers: URI schemes, NULL-terminated ("nbd", "nbd+unix").
     * A file name "SCHEME://..." given where no driver is named (a plain
     * file name, filename= on a protocol position, a backing file) selects
     * this driver with the whole name as its `filename`, as qemu's protocol
     * prefixes do.  NULL: names are never routed to the driver. */
    const char *const *uri_schemes;
};

/* ------------------------------------------------------------ node access */
STRATA_EXPORT void *strata_node_state(struct strata_node *node);
STRATA_EXPORT const struct strata_driver *strata_node_driver(const struct strata_node *node);
/* The name users know the node by: its file name, or the top file name of
 * its primary child; for messages. */
STRATA_EXPORT const char *strata_node_filename(const struct strata_node *node);
STRATA_EXPORT unsigned strata_node_flags(const struct strata_node *node);
STRATA_EXPORT bool strata_node_writable(const struct strata_node *node);
STRATA_EXPORT void strata_node_set_limits(struct strata_node *node,
                                          const struct strata_limits *l);
STRATA_EXPORT void strata_node_get_limits(const struct strata_node *node,
                                          struct strata_limits *l);

/* Defaults for a child that the user did not describe fully: e.g. qcow2's
 * backing file name from the image header.  A relative filename is taken
 * relative to the directory of the parent's filename. */
struct strata_child_defaults {
    const char *filename;
    const char *driver;        /* format; NULL = probe */
    unsigned flags_clear;      /* open flags to drop for this child */
};

/* Opens child `role` from the parent's "role.*" options merged over the
 * defaults.  -ENOENT "missing 'role'" when neither gives anything and the
 * child is not optional.  The child is closed with the parent. */
STRATA_EXPORT int strata_node_open_child(struct strata_node *parent, const char *role,
                                         const struct strata_child_defaults *defs,
                                         bool optional, struct strata_node **childp,
                                         struct strata_error **errp);
STRATA_EXPORT struct strata_node *strata_node_child(const struct strata_node *parent,
                                                    const char *role);
/* True when the user gave options for that role. */
STRATA_EXPORT bool strata_node_has_child_opts(const struct strata_node *parent,
                                              const char *role);

/* Raises a named event on `node` and, through filters, on the first
 * node below that listens (blkdebug). */
STRATA_EXPORT void strata_node_event(struct strata_node *node, const char *event);

/* ------------------------------------------------------------ creation */
STRATA_EXPORT const struct strata_opts *strata_create_opts(struct strata_create *c);
STRATA_EXPORT uint64_t strata_create_size(struct strata_create *c);
STRATA_EXPORT const char *strata_create_filename(struct strata_create *c);
/* Creates (through its protocol driver) and opens read-write the node for
 * `role`: "file" is the image file itself (filename from the create call or
 * file.filename); other roles take "role.*" options (e.g. "header.filename").
 * `size` is the size the protocol node starts with (usually 0). */
STRATA_EXPORT int strata_create_child(struct strata_create *c, const char *role,
                                      uint64_t size, bool optional,
                                      struct strata_node **childp,
                                      struct strata_error **errp);

#ifdef __cplusplus
}
#endif
#endif
