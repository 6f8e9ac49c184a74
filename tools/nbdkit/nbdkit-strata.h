/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nbdkit-strata.h - the nbdkit plugin's parts: parameters (params.c) and
 * serving (plugin.c). */
#ifndef STRATA_NBDKIT_STRATA_H
#define STRATA_NBDKIT_STRATA_H

#include <stdbool.h>
#include <strata/strata.h>

/* Takes one key=value from nbdkit's command line: config, stack, object,
 * readonly, or else a stack option (driver=..., file.filename=...).
 * Returns 0, or -1 after nbdkit_error(). */
int srv_param(const char *key, const char *value);
/* After the last parameter: the stack options (config file first, then the
 * command line's options over it), or NULL after nbdkit_error(). */
struct strata_opts *srv_params_done(void);
bool srv_param_readonly(void);
/* cache=: the open flags of its mode (0: writeback). */
unsigned srv_param_cache(void);
void srv_params_free(void);

extern const char srv_param_help[];

/* Reports err through nbdkit (message and errno) and frees it; -1. */
int srv_fail(struct strata_error *err, int code);

#endif
