/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-config.c - stack config files (core/config.c, strata.conf(5)): the
 * input is the libconfig file, read into flat options and secrets as
 * strata_open_config() does before it opens anything.  The secrets it adds
 * are dropped again so that the store does not grow from input to input. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    const char *path = fuzz_file(0, data, size);
    struct strata_opts *o = NULL;
    struct strata_error *err = NULL;
    if (strata_config_load(path, &o, &err) == 0) {
        /* What the open does next: the options as a stack description. */
        struct strata_opts *sub = strata_opts_subset(o, "file");
        strata_opts_free(sub);
        strata_opts_free(o);
    }
    strata_error_free(err);
    strata_secret_clear_all();
    return 0;
}
