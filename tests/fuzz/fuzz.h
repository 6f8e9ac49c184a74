/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz.h - what the fuzz harnesses share: one-time set-up, the input as a
 * file that libstrata opens the way a real image is opened, and the walk
 * every format harness does over an opened image. */
#ifndef STRATA_FUZZ_H
#define STRATA_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <strata/strata.h>

/* The passphrase every LUKS seed is made with ("fuzz"), stored as the
 * secret FUZZ_SECRET. */
#define FUZZ_SECRET "fuzz"
#define FUZZ_PASSPHRASE "fuzz"

/* The entry points: libFuzzer calls them, and so does replay.c. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Initialises libstrata once: the passphrase secret, every driver module
 * loaded (so that its coverage counters exist before fuzzing starts), and
 * KDF costs capped where the build has the cap. */
void fuzz_setup(void);

/* Replaces the contents of file number `slot` (0..3) with data and returns
 * a path that opens it.  The files live in memory (memfd), so nothing is
 * left behind when a run stops on a crash. */
const char *fuzz_file(unsigned slot, const void *data, size_t size);

/* The input as a NUL-terminated string (malloc()ed; NULL when out of
 * memory), for the harnesses whose input is text. */
char *fuzz_text(const uint8_t *data, size_t size);

/* Opens "<opts>,file.filename=PATH" (path NULL: opts alone), keeping the message of a refusal to
 * itself (STRATA_FUZZ_VERBOSE=1 prints it).  NULL when the open is refused. */
struct strata_node *fuzz_open(const char *opts, const char *path, unsigned flags);

/* fuzz_open() and, when the open succeeds, fuzz_walk() and close. */
void fuzz_open_walk(const char *opts, const char *path, unsigned flags, int check);

/* What a reader does with an image: its length, info, snapshot list, block
 * status from start to end and a read at each extent, bounded so that one
 * input never walks a huge image.  `check` adds the read-only check. */
void fuzz_walk(struct strata_node *node, int check);

/* Writes one cluster-sized pattern into the middle of a read-write node and
 * flushes it. */
void fuzz_write_once(struct strata_node *node);

#endif
