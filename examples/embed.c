/* SPDX-License-Identifier: MIT */
/* embed.c - the smallest useful program on libstrata: open a stack from a
 * config file, write a pattern through it, read it back and compare.
 *
 *     cc embed.c $(pkg-config --cflags --libs strata) -o embed
 *     ./embed disk.conf
 *
 * With strata installed under a prefix the system does not search (say
 * ./configure --prefix=$HOME/strata), tell pkg-config where strata.pc is
 * and the program where libstrata.so is, either at link time (rpath) or
 * when it runs (LD_LIBRARY_PATH):
 *
 *     export PKG_CONFIG_PATH=$HOME/strata/lib/pkgconfig
 *     cc embed.c $(pkg-config --cflags --libs strata) \
 *        -Wl,-rpath,$(pkg-config --variable=libdir strata) -o embed
 *
 * The library finds its plugins relative to itself, so nothing else is
 * needed.
 */
#include <strata/strata.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s STACK.conf\n", argv[0]);
        return 2;
    }
    struct strata_error *err = NULL;
    struct strata_node *disk;
    if (strata_open_config(argv[1], STRATA_O_RDWR, &disk, &err) < 0) {
        fprintf(stderr, "embed: %s\n", err->msg);
        strata_error_free(err);
        return 1;
    }

    enum { LEN = 64 * 1024 };
    static unsigned char out[LEN], in[LEN];
    for (size_t i = 0; i < LEN; i++)
        out[i] = (unsigned char)(i * 7 + 3);
    /* Any offset and length work; the stack handles alignment. */
    if (strata_pwrite(disk, 1000, LEN, out, 0, &err) < 0 ||
        strata_flush(disk, &err) < 0 ||
        strata_pread(disk, 1000, LEN, in, 0, &err) < 0) {
        fprintf(stderr, "embed: %s\n", err->msg);
        strata_error_free(err);
        strata_close(disk);
        return 1;
    }
    int same = memcmp(out, in, LEN) == 0;
    printf("%s: %lld bytes, wrote and read back %d bytes at offset 1000: %s\n",
           argv[1], (long long)strata_get_length(disk), LEN, same ? "match" : "MISMATCH");
    strata_close(disk);
    return same ? 0 : 1;
}
