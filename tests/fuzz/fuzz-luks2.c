/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-luks2.c - LUKS2 volumes (drivers/luks2 through the luks driver):
 * the input is the volume file, whose two binary headers and JSON metadata
 * are read, then its keyslots tried with the passphrase, and the header
 * alone without a key.  An input of odd length names keyslot 0 instead of
 * trying them all: one unlock an input, the dearest part of it, and both
 * ways of choosing the keyslot still reached. */
#include "fuzz.h"

#include <strata/flags.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    const char *path = fuzz_file(0, data, size);
    fuzz_open_walk(size & 1 ? "driver=luks,keyslot=0,key-secret=" FUZZ_SECRET
                            : "driver=luks,key-secret=" FUZZ_SECRET, path, 0, 0);
    fuzz_open_walk("driver=luks", path, STRATA_O_NO_IO, 0);
    return 0;
}
