/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vectors.h - reader for the known-answer files in tests/vectors.
 *
 * A file is a list of records separated by blank lines; each record holds
 * "name = value" lines.  A value may continue on following lines that start
 * with white space (long hex strings).  Lines starting with '#' are
 * comments. */
#ifndef STRATA_TEST_VECTORS_H
#define STRATA_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>

struct tu_vec;

/* Loads tests/vectors/NAME (below the source tree); NULL if unreadable. */
struct tu_vec *tu_vec_load(const char *name);
void tu_vec_free(struct tu_vec *v);
size_t tu_vec_count(const struct tu_vec *v);
/* Value of `key` in record i, or NULL. */
const char *tu_vec_get(const struct tu_vec *v, size_t i, const char *key);
/* Hex value decoded into a malloc'ed buffer (*len bytes); NULL if absent
 * or not hex. */
uint8_t *tu_vec_hex(const struct tu_vec *v, size_t i, const char *key, size_t *len);
/* Numeric value (decimal or 0x hex), def if absent. */
uint64_t tu_vec_num(const struct tu_vec *v, size_t i, const char *key, uint64_t def);
/* "file:line" of record i, for messages. */
const char *tu_vec_where(const struct tu_vec *v, size_t i);

#endif
