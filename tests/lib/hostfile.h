/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostfile.h - test files on the host, reached without strata: creating,
 * filling with tu_fill's pattern, reading, patching and comparing them, and
 * running shell commands on them. */
#ifndef STRATA_TEST_HOSTFILE_H
#define STRATA_TEST_HOSTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <strata/common.h>

/* A new, sparse file of `size` bytes (a file there before is replaced). */
void tu_new_file(const char *path, off_t size);
/* Writes tu_fill's pattern of `seed` to [off, off+len), creating the file,
 * and syncs it. */
void tu_fill_file(const char *path, uint64_t off, size_t len, uint32_t seed);
/* len bytes from off (zeros past the end of file); the caller frees them. */
uint8_t *tu_read_file(const char *path, uint64_t off, size_t len);
/* The whole file, its size in *len; NULL when it cannot be read whole. */
uint8_t *tu_load(const char *path, size_t *len);
/* Replaces the file with len bytes of img. */
void tu_save(const char *path, const uint8_t *img, size_t len);
/* Overwrites len bytes at off in place. */
void tu_patch(const char *path, off_t off, const void *data, size_t len);
/* Whether the file holds exactly img[0, len). */
bool tu_unchanged(const char *path, const uint8_t *img, size_t len);

/* Runs a printf-formatted command with system(); returns its status. */
int tu_sh(const char *fmt, ...) STRATA_PRINTF(1, 2);

#endif
