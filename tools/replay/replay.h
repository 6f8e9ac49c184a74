/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* replay.h - strata-replay's pieces: a loaded write log, the crash states
 * it allows, and the rebuild and check of one state. */
#ifndef STRATA_TOOLS_REPLAY_H
#define STRATA_TOOLS_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wlog.h"

struct replay_log {
    const char *name;
    FILE *f;
    struct wlog_rec *recs;
    size_t n;
};

/* A state a power cut can leave behind: the first `cut` records happened;
 * of the writes not yet made stable by a flush of their stream, those that
 * replay_dropped() picks for `seed` never reached the disk (seed 0: none). */
struct replay_cut {
    size_t cut;
    uint64_t seed;
};

int replay_log_open(struct replay_log *log, const char *name);
void replay_log_close(struct replay_log *log);

/* Whether record i is lost in the state (cut, seed) of its stream. */
bool replay_dropped(const struct replay_log *log, const struct replay_cut *c, size_t i);
/* Index just past the last flush of `stream` before the cut (0: none). */
size_t replay_stable_end(const struct replay_log *log, size_t cut, unsigned stream);

/* Copies `base` to `out` and applies the records of `stream` that reached
 * the disk in the state `c`.  0 or 1 (message on stderr). */
int replay_build(const struct replay_log *log, unsigned stream, const struct replay_cut *c,
                 const char *base, const char *out);
/* Compares `actual` (the guest's view, raw) with what `stream`'s records
 * say the guest must read after the cut: the content at the last completed
 * flush, anywhere a later write may not have landed yet.  0 when it
 * holds, 1 (the first difference on stderr) when not. */
int replay_verify(const struct replay_log *log, unsigned stream, const struct replay_cut *c,
                  const char *base, const char *actual);

/* A 64-bit mixing function (splitmix64's finaliser) for seeded choices. */
uint64_t replay_mix(uint64_t x);

#endif
