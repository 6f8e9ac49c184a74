/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-qcow2.c - qcow2 images (drivers/qcow2): the input is the image file.
 * Opening reads the header, its extensions, L1, the refcount table and the
 * snapshot table; the walk maps and reads the image (L2 tables, compressed
 * cluster descriptors, backing-less zeros), lists snapshots and runs the
 * read-only check (refcount blocks, bitmap directory, every table).  An
 * image that opens is then copied and written once, read-write, so that
 * cluster allocation and refcount updates meet the same metadata. */
#include "fuzz.h"

#include <stdio.h>

#include <strata/flags.h>

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    const char *path = fuzz_file(0, data, size);
    /* What a user adds for such an image: the passphrase when it is
     * encrypted (crypt_method), a data file when it has an external one
     * (incompatible feature bit 2) - here the input itself. */
    char opts[256];
    int n = snprintf(opts, sizeof opts, "driver=qcow2");
    if (size >= 36 && be(data + 32, 4) != 0)
        n += snprintf(opts + n, sizeof opts - (size_t)n, ",encrypt.key-secret=" FUZZ_SECRET);
    if (size >= 80 && (be(data + 72, 8) & 4))
        snprintf(opts + n, sizeof opts - (size_t)n, ",data-file.filename=%s",
                 fuzz_file(2, data, size));

    struct strata_node *node = fuzz_open(opts, path, STRATA_O_NO_BACKING);
    if (!node)
        return 0;
    fuzz_walk(node, 1);
    strata_close(node);

    const char *copy = fuzz_file(1, data, size);
    node = fuzz_open(opts, copy, STRATA_O_RDWR | STRATA_O_NO_BACKING | STRATA_O_NO_FLUSH);
    if (node) {
        fuzz_write_once(node);
        strata_close(node);
    }
    return 0;
}
