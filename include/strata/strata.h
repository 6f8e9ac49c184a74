/* SPDX-License-Identifier: MIT */
/* strata/strata.h - the embedding API.
 *
 * An application opens a stack (from a libconfig file, from dotted options
 * or from a plain file name), and reads and writes through its top node:
 *
 *     struct strata_error *err = NULL;
 *     struct strata_node *n;
 *     if (strata_open_config("disk.conf", STRATA_O_RDWR, &n, &err) < 0) {
 *         fprintf(stderr, "%s\n", err->msg);
 *         ...
 *     }
 *     strata_pwrite(n, 0, 4096, buf, 0, &err);
 *     strata_close(n);
 *
 * Every function that takes a node is safe to call from several threads at
 * once on the same node.  Offsets and lengths may have any alignment.
 */
#ifndef STRATA_STRATA_H
#define STRATA_STRATA_H

#include <strata/common.h>
#include <strata/flags.h>
#include <strata/driver.h>
#include <strata/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* STRATA_VERSION (strata/version.h) is the version of these headers;
 * strata_version() that of the library a program runs with. */
#define STRATA_VERSION_STRING STRATA_VERSION    /* the older name */
STRATA_EXPORT const char *strata_version(void);

/* Optional: the first open initialises the library.  Explicit init lets an
 * application report plugin path problems early.
 *
 * libgcrypt: strata initialises it on first use (version check, a secure
 * memory pool that grows as needed, initialisation finished) unless it is
 * already initialised.  An application that uses libgcrypt itself may set
 * it up first, before its first strata call, and its settings are kept;
 * it must then give libgcrypt secure memory (GCRYCTL_INIT_SECMEM) for key
 * material to be kept out of swap. */
STRATA_EXPORT int strata_init(struct strata_error **errp);

/* ------------------------------------------------------------ opening */
/* A stack config file (see strata.conf(5)): its `stack` group and its
 * `secrets` list.  The file's secrets belong to the returned handle: other
 * handles do not see them (they see their own, then the process-wide
 * ones), and strata_close() wipes them. */
STRATA_EXPORT int strata_open_config(const char *path, unsigned flags,
                                     struct strata_node **nodep,
                                     struct strata_error **errp);
/* Dotted options: "driver=qcow2,file.filename=disk.qcow2". */
STRATA_EXPORT int strata_open_string(const char *dotted, unsigned flags,
                                     struct strata_node **nodep,
                                     struct strata_error **errp);
/* A file name with an optional format (NULL = probe, as qemu-img). */
STRATA_EXPORT int strata_open_file(const char *filename, const char *format,
                                   unsigned flags, struct strata_node **nodep,
                                   struct strata_error **errp);
/* The general form the others reduce to. */
STRATA_EXPORT int strata_open_opts(const struct strata_opts *opts, unsigned flags,
                                   struct strata_node **nodep,
                                   struct strata_error **errp);
/* The open flags of one of QEMU's cache modes: none (STRATA_O_DIRECT),
 * writeback (0), writethrough (STRATA_O_WRITETHROUGH), directsync (both)
 * and unsafe (STRATA_O_NO_FLUSH).  -EINVAL naming the modes for any other. */
STRATA_EXPORT int strata_cache_mode_flags(const char *mode, unsigned *flags,
                                          struct strata_error **errp);
/* Reads a config file into flat options (stack keys, no prefix) and adds its
 * secrets to the secret store. */
STRATA_EXPORT int strata_config_load(const char *path, struct strata_opts **optsp,
                                     struct strata_error **errp);
/* Reduces a plain file name (+format) to options; probing happens at open. */
STRATA_EXPORT struct strata_opts *strata_opts_for_file(const char *filename,
                                                       const char *format);
STRATA_EXPORT void strata_close(struct strata_node *node);

/* Canonical text of the resolved graph: driver, options (sorted) and
 * children, one node per line, indented by depth.  Two ways of writing the
 * same stack give the same text.  The string is the caller's, allocated
 * with malloc(): release it with free().  NULL on ENOMEM. */
STRATA_EXPORT char *strata_node_describe(const struct strata_node *node);
/* The options the node was opened with, in the form its driver saw them
 * (what its parent's image header gave filled in: file name, format):
 * strata_open_opts() opens the same stack again, with other flags (commit
 * opens a backing file read-write this way).  The caller's, to release with
 * strata_opts_free().  NULL on ENOMEM. */
STRATA_EXPORT struct strata_opts *strata_node_opts_dup(const struct strata_node *node);
STRATA_EXPORT const char *strata_node_driver_name(const struct strata_node *node);
/* The node-name= the node was opened with, or NULL. */
STRATA_EXPORT const char *strata_node_name(const struct strata_node *node);
/* Children in a fixed order: returns the i-th (role, node) pair or false. */
STRATA_EXPORT bool strata_node_child_at(const struct strata_node *node, size_t i,
                                        const char **role, struct strata_node **child);

/* ------------------------------------------------------------ I/O */
STRATA_EXPORT int strata_pread(struct strata_node *node, uint64_t off, uint64_t len,
                               void *buf, unsigned flags, struct strata_error **errp);
STRATA_EXPORT int strata_pwrite(struct strata_node *node, uint64_t off, uint64_t len,
                                const void *buf, unsigned flags,
                                struct strata_error **errp);
/* Writes like strata_pwrite, storing the clusters the request covers whole
 * compressed where the format can (qcow, qcow2); -ENOTSUP when the format
 * has no compressed clusters. */
STRATA_EXPORT int strata_pwrite_compressed(struct strata_node *node, uint64_t off,
                                           uint64_t len, const void *buf,
                                           struct strata_error **errp);
STRATA_EXPORT int strata_pwrite_zeroes(struct strata_node *node, uint64_t off,
                                       uint64_t len, unsigned flags,
                                       struct strata_error **errp);
STRATA_EXPORT int strata_pdiscard(struct strata_node *node, uint64_t off,
                                  uint64_t len, struct strata_error **errp);
STRATA_EXPORT int strata_flush(struct strata_node *node, struct strata_error **errp);
/* The VM state area (qemu-io's read -b and write -b): [pos, pos+len) of the
 * state a hypervisor saved beside the disk, from the first node down the
 * primary children whose format keeps one (qcow2).  -ENOTSUP with a
 * message naming the image when none does; a write on an image opened
 * write-through is flushed before it returns. */
STRATA_EXPORT int strata_vmstate_read(struct strata_node *node, uint64_t pos, uint64_t len,
                                      void *buf, struct strata_error **errp);
STRATA_EXPORT int strata_vmstate_write(struct strata_node *node, uint64_t pos,
                                       uint64_t len, const void *buf,
                                       struct strata_error **errp);
/* Virtual size in bytes, or -errno with *errp naming the image and the
 * reason. */
STRATA_EXPORT int64_t strata_node_length(struct strata_node *node,
                                         struct strata_error **errp);
/* Bytes used on the host (qemu-img info's "disk size"), or -errno with
 * *errp set; -ENOTSUP when nothing below can tell. */
STRATA_EXPORT int64_t strata_node_allocated_size(struct strata_node *node,
                                                 struct strata_error **errp);
/* The same without a message (errp NULL). */
STRATA_EXPORT int64_t strata_get_length(struct strata_node *node);
STRATA_EXPORT int64_t strata_get_allocated_size(struct strata_node *node);
STRATA_EXPORT int strata_truncate(struct strata_node *node, uint64_t size, bool exact,
                                  enum strata_prealloc prealloc,
                                  struct strata_error **errp);
/* Status of [off, off+len) at this node; bs->pnum > 0 on success. */
STRATA_EXPORT int strata_block_status(struct strata_node *node, uint64_t off,
                                      uint64_t len, struct strata_block_status *bs,
                                      struct strata_error **errp);
/* Status through the backing chain: `depth` is how many backing links down the
 * data was found (as qemu-img map's "depth"); flags have ALLOCATED set if any
 * layer defines the range. */
STRATA_EXPORT int strata_block_status_above(struct strata_node *node, uint64_t off,
                                            uint64_t len,
                                            struct strata_block_status *bs,
                                            int *depth, struct strata_error **errp);

/* qemu-io's blkdebug breakpoints, on the first node at or below `node`
 * (along primary children) whose driver has them; ENOTSUP without one.
 * `event` is an event name ("write_aio", "pwritev_rmw_head"); the next
 * request that raises it there waits, in its own thread, until
 * strata_debug_resume() with the same tag.  A breakpoint holds one
 * request, then is gone. */
STRATA_EXPORT int strata_debug_breakpoint(struct strata_node *node, const char *event,
                                          const char *tag, struct strata_error **errp);
STRATA_EXPORT int strata_debug_remove_breakpoint(struct strata_node *node, const char *tag,
                                                 struct strata_error **errp);
STRATA_EXPORT int strata_debug_resume(struct strata_node *node, const char *tag,
                                      struct strata_error **errp);
/* True when a request waits under `tag`. */
STRATA_EXPORT bool strata_debug_is_suspended(struct strata_node *node, const char *tag);

/* ------------------------------------------------------------ images */
/* Creates an image: `format` names the driver ("qcow2"), `filename` the file
 * (or NULL when opts carry file.filename), opts the -o options. */
STRATA_EXPORT int strata_image_create(const char *format, const char *filename,
                                      uint64_t size, const struct strata_opts *opts,
                                      struct strata_error **errp);
/* The checks strata_image_create makes before the format's own: the format
 * exists and creates images, every option is known and of its type.  What
 * is left to fail is the format's judgement of the values. */
STRATA_EXPORT int strata_image_create_check(const char *format,
                                            const struct strata_opts *opts,
                                            struct strata_error **errp);
STRATA_EXPORT int strata_image_info(struct strata_node *node, struct strata_info *obj,
                                    struct strata_error **errp);
STRATA_EXPORT int strata_image_check(struct strata_node *node,
                                     struct strata_check_result *res, unsigned fix,
                                     struct strata_error **errp);
STRATA_EXPORT int strata_image_amend(struct strata_node *node,
                                     const struct strata_opts *opts, bool force,
                                     struct strata_error **errp);
STRATA_EXPORT int strata_image_measure(const char *format,
                                       const struct strata_opts *create_opts,
                                       uint64_t size, struct strata_node *src,
                                       struct strata_measure *out,
                                       struct strata_error **errp);

/* Internal snapshots: list (into `list`, a strata_info list), create, apply,
 * delete.  -ENOTSUP when the format has none.  Apply and delete need the
 * image opened read-write, like create. */
STRATA_EXPORT int strata_image_snapshot(struct strata_node *node,
                                        enum strata_snapshot_op op, const char *name,
                                        struct strata_info *list,
                                        struct strata_error **errp);

/* ------------------------------------------------------------ registry */
/* Looks up a driver by name, loading its module on first use. */
STRATA_EXPORT const struct strata_driver *strata_driver_find(const char *name,
                                                             struct strata_error **errp);
/* Calls fn for every driver that is known (loading every driver module). */
STRATA_EXPORT void strata_driver_foreach(void (*fn)(const struct strata_driver *d,
                                                    void *opaque),
                                         void *opaque);
/* Loads one module file explicitly (tests, tools).  Refusals (ABI version,
 * missing mandatory callback, failed self-test) give an error naming the
 * file and the reason. */
STRATA_EXPORT int strata_module_load(const char *path, struct strata_error **errp);
/* The plugin directory searched after STRATA_PLUGIN_PATH: "strata" beside
 * the libstrata the program runs with (empty when that cannot be found). */
STRATA_EXPORT void strata_plugin_default_dir(char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
