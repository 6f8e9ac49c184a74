/* SPDX-License-Identifier: MIT */
/* strata/flags.h - the flags applications and drivers pass when opening a
 * stack and with each request.
 *
 * Open flags are given to strata_open_*() and reach every driver's open()
 * (and strata_node_flags()); a parent passes its own on to its children,
 * less what strata_child_defaults.flags_clear drops.  Request flags go with
 * strata_pread/pwrite/pwrite_zeroes() and reach the drivers' callbacks.
 * Bits not defined here are reserved: 0x20 of the open flags is the core's
 * own.
 */
#ifndef STRATA_FLAGS_H
#define STRATA_FLAGS_H

/* ---------------------------------------------------------------- open */
/* Read-write.  Without it the stack is read-only: every write, write-zeroes,
 * discard, resize and repair fails with EROFS before reaching a driver. */
#define STRATA_O_RDWR          0x01u
/* Take no image locks (qemu-img -U), so an image another process holds can
 * be inspected.  Only with read-only opens: the open fails otherwise. */
#define STRATA_O_FORCE_SHARE   0x02u
/* Formats do not open their backing file (qemu-img's rebase -u, commit and
 * info of a broken chain); reads of unallocated ranges see zeros. */
#define STRATA_O_NO_BACKING    0x04u
/* Metadata only (info, map, check, amend): an encrypted format opens
 * without its key and data I/O at the top node fails with EPERM. */
#define STRATA_O_NO_IO         0x08u
/* Do not warn when probing guesses raw for a writable image (the caller
 * has already warned, or the format was checked another way). */
#define STRATA_O_NO_PROBE_WARN 0x10u
/* Flushes and FUA writes reach the OS but not stable storage (qemu's
 * cache=unsafe): for scratch copies that are discarded on a crash. */
#define STRATA_O_NO_FLUSH      0x40u
/* Bypass the host page cache (qemu's cache=none and directsync): protocols
 * open their files with O_DIRECT, as the file driver's cache=none does, and
 * meet its alignment with bounce buffers.  A protocol that cannot do direct
 * I/O refuses the open with a message naming the image.  A file node's own
 * cache= option, when given, overrides this for that node. */
#define STRATA_O_DIRECT        0x80u
/* Every write is stable before it completes (qemu's cache=writethrough and
 * directsync): the core adds STRATA_REQ_FUA to each write and write-zeroes
 * request made on the node the application opened, and flushes after its
 * compressed writes.  Done there rather than by O_DSYNC in the file driver
 * so that a format's cached metadata is written out too (a FUA write makes
 * qcow2 flush its caches) and so that it works over any protocol, nbd
 * included; STRATA_O_NO_FLUSH still turns the resulting flushes off. */
#define STRATA_O_WRITETHROUGH  0x100u
/* Opened to be checked or repaired (qemu's BDRV_O_CHECK): a format opens
 * despite damage that its check reports and repairs, leaving it to the
 * check (qcow2 reads its snapshot table there); other operations on such
 * a node may fail. */
#define STRATA_O_CHECK         0x200u

/* ------------------------------------------------------------- request */
/* Write through to stable storage before the request completes. */
#define STRATA_REQ_FUA         0x01u
/* write_zeroes may deallocate the range instead of writing zeros. */
#define STRATA_REQ_MAY_UNMAP   0x02u
/* write_zeroes: fail with ENOTSUP rather than writing a buffer of zeros
 * when the driver has no efficient way (convert's probe of fast zeroing). */
#define STRATA_REQ_NO_FALLBACK 0x04u

#endif
