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
 * module built against an older minor keeps working.  A member whose
 * meaning had to change is not redefined: its new form is appended and the
 * core keeps serving the old one for older modules.
 *
 * Minors: 1.1 pwrite_compressed; 1.2 snapshot; 1.3 uri_schemes; 1.4
 * child_roles (roles declared with flags, replacing the `children` names),
 * on_event (events as enum strata_event, replacing `event`), length and
 * allocated_size (get_length and get_allocated_size with an error object);
 * 1.5 debug_breakpoint, debug_remove_breakpoint, debug_resume and
 * debug_is_suspended (qemu-io's blkdebug breakpoints), vmstate_read and
 * vmstate_write (the VM state area).
 * Tests keep a driver built against the 1.3 headers working
 * (tests/plugins/abi-1.3/).
 */
#ifndef STRATA_DRIVER_H
#define STRATA_DRIVER_H

#include <strata/common.h>
#include <strata/flags.h>
#include <strata/workers.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_DRIVER_ABI_MAJOR 1
#define STRATA_DRIVER_ABI_MINOR 5
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

/* Block status flags */
#define STRATA_BS_DATA         0x01u /* reads return data (not known zero) */
#define STRATA_BS_ZERO         0x02u /* reads return zeros */
#define STRATA_BS_ALLOCATED    0x04u /* content defined at this layer (not
                                        inherited from the backing file) */
#define STRATA_BS_OFFSET_VALID 0x08u /* `offset` is where the data lives in `file` */
#define STRATA_BS_COMPRESSED   0x10u /* stored compressed */
#define STRATA_BS_RECURSE      0x20u /* from a driver, with DATA and OFFSET_VALID: whether
                                        the range reads as zeros is for `file` to say
                                        (space mapped but never written); the core asks
                                        it and clears this flag */

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
     * added with strata_check_report(), released by strata_check_result_clear().
     * At most 100000 are kept, then one line saying that the rest were not
     * listed: a damaged image must not fill memory with its findings. */
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
    STRATA_SNAPSHOT_LOAD_TMP,   /* a node opened read-only reads as the
                                   snapshot until it is closed; nothing is
                                   written (qemu-img convert -l) */
};

/* Child roles (ABI 1.4).  A driver declares every child it opens with a
 * name (the option prefix: "file", "backing", "header") and flags that tell
 * the core what the child is for; the core decides by the flags alone, never
 * by the name, so a new role name needs nothing from the core.  Modelled on
 * QEMU's BdrvChildRole. */
#define STRATA_CHILD_PROTOCOL 0x01u /* "role.filename=X" without a driver opens
                                       X with a protocol driver (file, nbd://),
                                       not a probed format */
#define STRATA_CHILD_PRIMARY  0x02u /* the primary data child: a filter forwards
                                       what it does not implement to it; its
                                       file name names the node in messages;
                                       create's image file.  At most one. */
#define STRATA_CHILD_COW      0x04u /* backing: ranges unallocated here read
                                       from it; strata_block_status_above()
                                       (map's depth) walks it; not counted in
                                       the allocated size.  At most one. */
#define STRATA_CHILD_METADATA 0x08u /* holds only metadata (a detached LUKS
                                       header), never guest data; says what
                                       the child is, the core takes no
                                       action on it */

struct strata_child_role {
    const char *name;           /* option prefix; no '.' */
    unsigned flags;             /* STRATA_CHILD_* */
};

/* The role name a probed image's file is opened under before its format is
 * known (file.filename=X without a driver): a format with a `probe`
 * callback names its primary protocol role so. */
#define STRATA_ROLE_FILE "file"

/* Events (ABI 1.4): points in a driver's work that a parent announces on a
 * child with strata_node_event() and that blkdebug rules wait for.  The
 * names (core/event.c, strata_event_name()) are QEMU's blkdebug event
 * names, plus strata's own; docs/blkdebug.md lists them all and a test keeps
 * the two in step.  New events are only appended. */
enum strata_event {
    STRATA_EV_NONE = 0,             /* no event: raising it does nothing */
    STRATA_EV_L1_UPDATE,
    STRATA_EV_L1_GROW_ALLOC_TABLE,
    STRATA_EV_L1_GROW_WRITE_TABLE,
    STRATA_EV_L1_GROW_ACTIVATE_TABLE,
    STRATA_EV_L2_LOAD,
    STRATA_EV_L2_UPDATE,
    STRATA_EV_L2_UPDATE_COMPRESSED,
    STRATA_EV_L2_ALLOC_COW_READ,
    STRATA_EV_L2_ALLOC_WRITE,
    STRATA_EV_READ_AIO,
    STRATA_EV_READ_BACKING_AIO,
    STRATA_EV_READ_COMPRESSED,
    STRATA_EV_WRITE_AIO,
    STRATA_EV_WRITE_COMPRESSED,
    STRATA_EV_VMSTATE_LOAD,
    STRATA_EV_VMSTATE_SAVE,
    STRATA_EV_COW_READ,
    STRATA_EV_COW_WRITE,
    STRATA_EV_REFTABLE_LOAD,
    STRATA_EV_REFTABLE_GROW,
    STRATA_EV_REFTABLE_UPDATE,
    STRATA_EV_REFBLOCK_LOAD,
    STRATA_EV_REFBLOCK_UPDATE,
    STRATA_EV_REFBLOCK_UPDATE_PART,
    STRATA_EV_REFBLOCK_ALLOC,
    STRATA_EV_REFBLOCK_ALLOC_HOOKUP,
    STRATA_EV_REFBLOCK_ALLOC_WRITE,
    STRATA_EV_REFBLOCK_ALLOC_WRITE_BLOCKS,
    STRATA_EV_REFBLOCK_ALLOC_WRITE_TABLE,
    STRATA_EV_REFBLOCK_ALLOC_SWITCH_TABLE,
    STRATA_EV_CLUSTER_ALLOC,
    STRATA_EV_CLUSTER_ALLOC_BYTES,
    STRATA_EV_CLUSTER_FREE,
    STRATA_EV_FLUSH_TO_OS,
    STRATA_EV_FLUSH_TO_DISK,
    STRATA_EV_PWRITEV_RMW_HEAD,
    STRATA_EV_PWRITEV_RMW_AFTER_HEAD,
    STRATA_EV_PWRITEV_RMW_TAIL,
    STRATA_EV_PWRITEV_RMW_AFTER_TAIL,
    STRATA_EV_PWRITEV,
    STRATA_EV_PWRITEV_ZERO,
    STRATA_EV_PWRITEV_DONE,
    STRATA_EV_EMPTY_IMAGE_PREPARE,
    STRATA_EV_L1_SHRINK_WRITE_TABLE,
    STRATA_EV_L1_SHRINK_FREE_L2_CLUSTERS,
    STRATA_EV_COR_WRITE,
    STRATA_EV_CLUSTER_ALLOC_SPACE,
    /* strata's own */
    STRATA_EV_L2_ALLOC,             /* qcow: a new L2 table */
    STRATA_EV_DISCARD,              /* blkdebug: a discard arrives */
    STRATA_EV_WRITE_ZEROES,         /* blkdebug: a write-zeroes arrives */
    STRATA_EV_COUNT                 /* number of values; not an event */
};

/* "l2_update" for STRATA_EV_L2_UPDATE; NULL for NONE and values out of
 * range. */
STRATA_EXPORT const char *strata_event_name(enum strata_event ev);
/* The event named `name` (case-sensitive): 0, or -ENOENT when no event has
 * that name. */
STRATA_EXPORT int strata_event_lookup(const char *name, enum strata_event *ev);

struct strata_measure {
    uint64_t required;         /* bytes needed for the given data */
    uint64_t fully_allocated;  /* bytes needed if every cluster were written */
};

/* Starts every driver descriptor: `{ STRATA_DRIVER_HEAD, .name = ... }`. */
#define STRATA_DRIVER_TAG 'D'
#define STRATA_DRIVER_HEAD \
    STRATA_DESC_HEAD(STRATA_DRIVER_TAG, STRATA_DRIVER_ABI, struct strata_driver)

/* The descriptor.  For every member: whether a driver must set it, and what
 * the core does when it is NULL/0.  "Filters: forwarded" means that a filter
 * leaving the member NULL has the request passed to its PRIMARY child.
 *
 * Errors: every callback that can fail returns 0 (or a non-negative value)
 * or -errno, and reports through its `errp`, whose message names the image
 * and the problem.  ABI 1.3's get_length and get_allocated_size had no errp;
 * their 1.4 forms `length` and `allocated_size` are appended at the end and
 * every 1.4 driver sets those instead.  A 1.3 module keeps its old members
 * and the core builds the message for it from the -errno. */
struct strata_driver {
    uint32_t abi_version;       /* STRATA_DRIVER_HEAD fills these two */
    uint32_t struct_size;
    const char *name;           /* mandatory: "qcow2", the value of driver= */
    const char *description;    /* optional: one line for listings */
    enum strata_driver_kind kind;   /* mandatory */
    unsigned flags;             /* STRATA_DRIVER_*; 0: callbacks serialised */
    size_t state_size;          /* private per-node state, zeroed by the core;
                                   strata_node_state() returns it (0: none,
                                   strata_node_state() gives NULL) */

    /* ABI 1.0-1.3: the child roles' names ("file", "backing", "header",
     * "image"), NULL-terminated; options under these prefixes belong to the
     * child.  A driver built for 1.4 declares `child_roles` instead and
     * leaves this NULL (it is ignored when child_roles is set).  For older
     * drivers the core gives each historic name its flags once, at load:
     * the first name is PRIMARY; "file", "header" and "data-file" are
     * PROTOCOL; "header" is METADATA; "backing" is COW. */
    const char *const *children;
    /* Optional, {NULL}-terminated.  NULL: the driver takes no options, and
     * any key given for the node is refused. */
    const struct strata_opt_desc *open_options;
    const struct strata_opt_desc *create_options;  /* optional, as open_options */
    const struct strata_opt_desc *amend_options;   /* optional, as open_options */

    /* Optional: a score 0..100 for the first bytes of an image (raw returns
     * 1).  NULL: probing never picks this driver. */
    int (*probe)(const uint8_t *buf, size_t len, const char *filename);

    /* Mandatory.  `opts` holds the node's own options, already validated
     * against open_options; children are opened with
     * strata_node_open_child().  On failure the core calls nothing else. */
    int (*open)(struct strata_node *node, const struct strata_opts *opts,
                unsigned flags, struct strata_error **errp);
    /* Mandatory.  Children are closed by the core afterwards. */
    void (*close)(struct strata_node *node);

    /* Mandatory for protocol and format drivers; filters: forwarded.  The
     * core guarantees that off and len respect request_alignment and
     * max_transfer, and that [off, off+len) lies inside the node (formats) -
     * protocols may be asked to write past their end, which grows them.
     * When a format's size is not a multiple of its alignment, the request
     * covering its last block ends at the size (its length is then not
     * aligned). */
    int (*pread)(struct strata_node *node, uint64_t off, uint64_t len,
                 void *buf, unsigned flags, struct strata_error **errp);
    /* Optional; filters: forwarded.  NULL: writes fail with ENOTSUP (a
     * read-only driver). */
    int (*pwrite)(struct strata_node *node, uint64_t off, uint64_t len,
                  const void *buf, unsigned flags, struct strata_error **errp);
    /* Optional.  The core flushes the node's children after this returns;
     * NULL: only the children are flushed. */
    int (*flush)(struct strata_node *node, struct strata_error **errp);
    /* Optional; filters: forwarded.  NULL, or -ENOTSUP from it: the core
     * writes a zeroed buffer (unless STRATA_REQ_NO_FALLBACK). */
    int (*pwrite_zeroes)(struct strata_node *node, uint64_t off, uint64_t len,
                         unsigned flags, struct strata_error **errp);
    /* Optional; filters: forwarded.  NULL: discard is a successful no-op. */
    int (*pdiscard)(struct strata_node *node, uint64_t off, uint64_t len,
                    struct strata_error **errp);
    /* ABI 1.0-1.3 form of `length`: virtual size in bytes or -errno, no
     * message.  Mandatory for protocol and format drivers unless `length`
     * is set; a 1.4 driver leaves it NULL. */
    int64_t (*get_length)(struct strata_node *node);
    /* ABI 1.0-1.3 form of `allocated_size`; a 1.4 driver leaves it NULL. */
    int64_t (*get_allocated_size)(struct strata_node *node);
    /* Optional; filters: forwarded.  NULL: resizing fails with ENOTSUP,
     * "FILE: resizing is not supported by driver 'NAME'". */
    int (*truncate)(struct strata_node *node, uint64_t size, bool exact,
                    enum strata_prealloc prealloc, struct strata_error **errp);
    /* Optional; filters: forwarded.  NULL: everything reads as allocated
     * data.  A filter that sets it (blkdebug, to fail the query) is asked
     * first by strata_block_status_above(), which then takes the answer
     * from the chain below the filter. */
    int (*block_status)(struct strata_node *node, uint64_t off, uint64_t len,
                        struct strata_block_status *bs, struct strata_error **errp);

    /* Optional: image creation (see strata_create_* below).  NULL: "Format
     * 'NAME' does not support image creation". */
    int (*create)(struct strata_create *c, struct strata_error **errp);
    /* Optional: format-specific info for `info`: qemu-img's
     * "format-specific" data ("compat", "lazy-refcounts", luks "slots",
     * ...).  A few image-level facts qemu-img shows outside that object are
     * given here too, under these reserved keys, and the tools move them to
     * the top level: "cluster-size" (int), "vm-state-offset" (int, where VM
     * state saved in the image would start), "encrypted" (bool),
     * "dirty-flag" (bool), "backing-filename" (string, as stored in the
     * image), "backing-filename-format" (string), "snapshots" (list).
     * NULL: nothing format-specific. */
    int (*get_info)(struct strata_node *node, struct strata_info *obj,
                    struct strata_error **errp);
    /* Optional.  NULL: check fails with ENOTSUP. */
    int (*check)(struct strata_node *node, struct strata_check_result *res,
                 unsigned fix, struct strata_error **errp);
    /* Optional.  NULL: amend fails with ENOTSUP. */
    int (*amend)(struct strata_node *node, const struct strata_opts *opts,
                 bool force, struct strata_error **errp);
    /* Optional; src may be NULL (size only).  NULL: measure fails with
     * ENOTSUP. */
    int (*measure)(const struct strata_opts *create_opts, uint64_t size,
                   struct strata_node *src, struct strata_measure *out,
                   struct strata_error **errp);
    /* ABI 1.0-1.3: optional; an event raised on this node, by name.  A 1.4
     * driver sets `on_event` instead; for an older one the core translates
     * the event to its name (strata_event_name()) and calls this. */
    void (*event)(struct strata_node *node, const char *event);

    /* ---- ABI 1.1 ---- */
    /* Optional; filters: forwarded: writes [off, off+len)
     * (request_alignment respected), storing the clusters the request
     * covers whole in compressed form (what strata-img convert -c uses);
     * clusters covered in part, and clusters that do not shrink, are
     * written as by pwrite.  NULL makes strata_pwrite_compressed() fail
     * with -ENOTSUP. */
    int (*pwrite_compressed)(struct strata_node *node, uint64_t off, uint64_t len,
                             const void *buf, struct strata_error **errp);

    /* ---- ABI 1.2 ---- */
    /* Optional: internal snapshots (strata_image_snapshot()).  `name`
     * matches a snapshot's id or name (unused for LIST); for LIST, `list` is
     * a list to fill with one object per snapshot carrying qemu-img's
     * fields: id, name, vm-state-size, date-sec, date-nsec, vm-clock-sec,
     * vm-clock-nsec; else NULL.  NULL: the format has no internal snapshots
     * (ENOTSUP; filters are looked through). */
    int (*snapshot)(struct strata_node *node, enum strata_snapshot_op op,
                    const char *name, struct strata_info *list,
                    struct strata_error **errp);

    /* ---- ABI 1.3 ---- */
    /* Optional, protocol drivers: URI schemes, NULL-terminated ("nbd",
     * "nbd+unix").  A file name "SCHEME://..." given where no driver is
     * named (a plain file name, filename= on a protocol position, a backing
     * file) selects this driver with the whole name as its `filename`, as
     * qemu's protocol prefixes do.  NULL: names are never routed to the
     * driver. */
    const char *const *uri_schemes;

    /* ---- ABI 1.4 ---- */
    /* The children the driver opens, {NULL}-terminated; NULL: none (a
     * filter must have a PRIMARY one).  Names are unique. */
    const struct strata_child_role *child_roles;
    /* Optional: an event raised on this node by a parent (blkdebug listens).
     * NULL (and no `event`): the node does not listen, and a filter passes
     * the event on to its primary child. */
    void (*on_event)(struct strata_node *node, enum strata_event ev);
    /* Mandatory for protocol and format drivers (or get_length, in a 1.3
     * driver); filters: forwarded.  The virtual size in bytes, or -errno
     * with *errp set. */
    int64_t (*length)(struct strata_node *node, struct strata_error **errp);
    /* Optional: bytes used on the host (qemu-img info's "disk size"), or
     * -errno with *errp set.  NULL (and no get_allocated_size): the sum of
     * the children's, the COW child left out; ENOTSUP without children. */
    int64_t (*allocated_size)(struct strata_node *node, struct strata_error **errp);

    /* ---- ABI 1.5 ---- */
    /* Optional, for test filters (blkdebug): qemu-io's breakpoints.  The
     * core calls them on the first node at or below the one asked, along
     * primary children, that sets debug_breakpoint; without one they fail
     * with ENOTSUP.  A breakpoint holds the next request that raises `ev`
     * on the node (in the thread that raised it) until debug_resume with
     * its tag; it is used up when it holds one.  Each returns 0 or -errno
     * with *errp set; debug_is_suspended says whether a request waits
     * under `tag`. */
    int (*debug_breakpoint)(struct strata_node *node, enum strata_event ev, const char *tag,
                            struct strata_error **errp);
    int (*debug_remove_breakpoint)(struct strata_node *node, const char *tag,
                                   struct strata_error **errp);
    int (*debug_resume)(struct strata_node *node, const char *tag,
                        struct strata_error **errp);
    bool (*debug_is_suspended)(struct strata_node *node, const char *tag);
    /* Optional: the VM state area, where a hypervisor saves a machine's
     * memory and devices beside the disk (qemu's savevm; qcow2 keeps it in
     * the guest address space past the disk's end).  Reads or writes
     * [pos, pos+len) of that area; the core has checked writability, that
     * pos+len does not overflow and that pos and len respect
     * request_alignment.  NULL (both are set or neither): the request goes
     * to the PRIMARY child, as qemu passes it down; -ENOTSUP at a node
     * without one. */
    int (*vmstate_read)(struct strata_node *node, uint64_t pos, uint64_t len, void *buf,
                        struct strata_error **errp);
    int (*vmstate_write)(struct strata_node *node, uint64_t pos, uint64_t len,
                         const void *buf, struct strata_error **errp);
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

/* Opens child `role` (one the parent's driver declares; EINVAL otherwise)
 * from the parent's "role.*" options merged over the defaults.  -EINVAL
 * "FILE: driver 'D' needs a 'role' child" when neither gives anything and
 * the child is not optional (NULL in *childp and 0 when it is).  The child
 * is closed with the parent. */
STRATA_EXPORT int strata_node_open_child(struct strata_node *parent, const char *role,
                                         const struct strata_child_defaults *defs,
                                         bool optional, struct strata_node **childp,
                                         struct strata_error **errp);
STRATA_EXPORT struct strata_node *strata_node_child(const struct strata_node *parent,
                                                    const char *role);
/* The first open child whose role has all of `flags` (STRATA_CHILD_*), or
 * NULL: STRATA_CHILD_PRIMARY finds where a filter forwards, STRATA_CHILD_COW
 * the backing file, whatever the roles are called. */
STRATA_EXPORT struct strata_node *strata_node_child_with(const struct strata_node *parent,
                                                         unsigned flags);
/* True when the user gave options for that role. */
STRATA_EXPORT bool strata_node_has_child_opts(const struct strata_node *parent,
                                              const char *role);

/* Raises an event on `node` and, through filters, on the first node below
 * that listens (blkdebug).  Call it as strata_node_event(node,
 * STRATA_EV_L2_UPDATE): the macro keeps the exported symbol
 * strata_node_event for modules built against ABI 1.3, which pass the
 * event's name (an unknown name is dropped). */
STRATA_EXPORT void strata_node_raise_event(struct strata_node *node, enum strata_event ev);
#define strata_node_event(node, ev) strata_node_raise_event((node), (ev))

/* ------------------------------------------------------------ creation */
STRATA_EXPORT const struct strata_opts *strata_create_opts(struct strata_create *c);
STRATA_EXPORT uint64_t strata_create_size(struct strata_create *c);
STRATA_EXPORT const char *strata_create_filename(struct strata_create *c);
/* Creates (through its protocol driver) and opens read-write the node for
 * `role`: the PRIMARY role's node is the image file itself (filename from the
 * create call or "role.filename", and the protocol's create options given
 * at the top level); other roles take "role.*" options (e.g.
 * "header.filename").
 * `size` is the size the protocol node starts with (usually 0). */
STRATA_EXPORT int strata_create_child(struct strata_create *c, const char *role,
                                      uint64_t size, bool optional,
                                      struct strata_node **childp,
                                      struct strata_error **errp);

#ifdef __cplusplus
}
#endif
#endif
