/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-luks1.c - LUKS1 volumes (drivers/luks): the input is the volume
 * file, opened with the passphrase (header, keyslots, the master key
 * digest, then data) and without it (header and info only). */
#include "fuzz.h"

#include <strata/flags.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    const char *path = fuzz_file(0, data, size);
    fuzz_open_walk("driver=luks,key-secret=" FUZZ_SECRET, path, 0, 0);
    fuzz_open_walk("driver=luks", path, STRATA_O_NO_IO, 0);
    return 0;
}
