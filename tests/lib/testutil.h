/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* testutil.h - shared helpers for the CUnit test programs. */
#ifndef STRATA_TESTUTIL_H
#define STRATA_TESTUTIL_H

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Per-program scratch directory (created on first use, removed at exit
 * unless STRATA_KEEP_TMP is set). */
const char *tu_tmpdir(void);
/* tu_tmpdir()/name in a static rotating buffer. */
const char *tu_path(const char *name);
/* Fills buf with a pattern that depends on the absolute offset, so that
 * misplaced data is detected: byte at offset o = f(o, seed). */
void tu_fill(void *buf, uint64_t off, size_t len, uint32_t seed);
/* Returns the offset of the first mismatch against tu_fill's pattern, or -1. */
int64_t tu_check(const void *buf, uint64_t off, size_t len, uint32_t seed);
/* n-byte big-endian fields (n <= 8), for laying out and reading on-disk
 * structures from their specifications with code the drivers do not share. */
void tu_put_be(void *p, int n, uint64_t v);
uint64_t tu_get_be(const void *p, int n);
/* Whether all n bytes at p are v. */
bool tu_all_byte(const void *p, size_t n, uint8_t v);
/* Path of a built artefact: $STRATA_BUILD/rel (STRATA_BUILD set by make check,
 * else the directory two levels above the test binary). */
const char *tu_build_path(const char *rel);
/* Path below the source tree ($STRATA_SRCDIR or the build's parent). */
const char *tu_src_path(const char *rel);

struct strata_opts;
/* The entries of o joined as "k=v|k=v|...", so that order and content are
 * checked at once; in a static buffer. */
const char *tu_opts_join(const struct strata_opts *o);

/* Runs every registered suite with the basic interface (verbose) and returns
 * the exit status: 0 only if no test failed and at least one ran. */
int tu_run(void);

/* Convenience: add a suite with tests {name, fn} terminated by {NULL}. */
struct tu_test { const char *name; void (*fn)(void); };
void tu_add_suite(const char *name, int (*init)(void), int (*clean)(void),
                  const struct tu_test *tests);

#endif
