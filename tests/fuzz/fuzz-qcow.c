/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-qcow.c - qcow (version 1) images (drivers/qcow): the input is the
 * image file; its header, backing name, L1 table, then L2 tables and
 * compressed clusters as the walk maps and reads it. */
#include "fuzz.h"

#include <strata/flags.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    const char *path = fuzz_file(0, data, size);
    /* crypt_method (offset 36) set: the legacy AES key as a user gives it. */
    int encrypted = size >= 40 && (data[36] | data[37] | data[38] | data[39]);
    fuzz_open_walk(encrypted ? "driver=qcow,encrypt.key-secret=" FUZZ_SECRET : "driver=qcow",
                   path, STRATA_O_NO_BACKING, 0);
    return 0;
}
