/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-common.c - the set-up, in-memory input files and image walk that
 * the fuzz harnesses share (fuzz.h). */
#include "fuzz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <strata/driver.h>
#include <strata/kdf.h>

/* Only a build with -DSTRATA_FUZZ_KDF has this (core/crypto/kdf.c); the
 * replay build runs the costs an input asks for, within the real caps. */
extern void strata_fuzz_kdf_cap(uint32_t iterations, uint32_t memory_kib,
                                uint32_t passes) __attribute__((weak));

static void quiet(const char *msg, void *opaque)
{
    (void)msg;
    (void)opaque;
}

static void load_driver(const struct strata_driver *d, void *opaque)
{
    (void)d;
    (void)opaque;
}

void fuzz_setup(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    struct strata_error *err = NULL;
    if (strata_init(&err) < 0 ||
        strata_secret_add(FUZZ_SECRET, FUZZ_PASSPHRASE, strlen(FUZZ_PASSPHRASE), &err) < 0) {
        fprintf(stderr, "fuzz: set-up failed: %s\n", err ? err->msg : "?");
        abort();
    }
    strata_driver_foreach(load_driver, NULL);
    /* The KDF modules' self-tests run when they load, at the costs of their
     * test vectors: load them before the cap. */
    static const char *const kdfs[] = { "pbkdf2", "argon2i", "argon2id" };
    for (size_t i = 0; i < sizeof kdfs / sizeof kdfs[0]; i++)
        if (!strata_kdf_alg_find(kdfs[i], &err)) {
            fprintf(stderr, "fuzz: %s\n", err ? err->msg : kdfs[i]);
            abort();
        }
    /* The LUKS seeds' costs stay as they are (so that their keyslots open):
     * PBKDF2 at 1000 iterations, argon2 at 64 KiB and 4 passes, cryptsetup's
     * least.  Anything dearer is cut to that. */
    if (strata_fuzz_kdf_cap)
        strata_fuzz_kdf_cap(1000, 64, 4);
    /* Messages about refused inputs would drown libFuzzer's output. */
    if (!getenv("STRATA_FUZZ_VERBOSE"))
        strata_set_warning_handler(quiet, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    return 0;
}

const char *fuzz_file(unsigned slot, const void *data, size_t size)
{
    static int fds[4] = { -1, -1, -1, -1 };
    static char paths[4][64];
    if (slot >= 4)
        abort();
    if (fds[slot] < 0) {
        fds[slot] = memfd_create("strata-fuzz", MFD_CLOEXEC);
        if (fds[slot] < 0) {
            perror("fuzz: memfd_create");
            abort();
        }
        snprintf(paths[slot], sizeof paths[slot], "/proc/self/fd/%d", fds[slot]);
    }
    int fd = fds[slot];
    if (ftruncate(fd, 0) < 0) {
        perror("fuzz: ftruncate");
        abort();
    }
    const uint8_t *p = data;
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(fd, p + done, size - done, (off_t)done);
        if (n <= 0) {
            perror("fuzz: pwrite");
            abort();
        }
        done += (size_t)n;
    }
    return paths[slot];
}

char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = 0;
    }
    return text;
}

struct strata_node *fuzz_open(const char *opts, const char *path, unsigned flags)
{
    char spec[1024];
    if (path)
        snprintf(spec, sizeof spec, "%s,file.filename=%s", opts, path);
    else
        snprintf(spec, sizeof spec, "%s", opts);
    struct strata_node *n = NULL;
    struct strata_error *err = NULL;
    if (strata_open_string(spec, flags, &n, &err) < 0) {
        if (getenv("STRATA_FUZZ_VERBOSE"))
            fprintf(stderr, "fuzz: open refused: %s\n", err ? err->msg : "?");
        strata_error_free(err);
        return NULL;
    }
    return n;
}

static void ignore(struct strata_error **err)
{
    if (*err && getenv("STRATA_FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz: %s\n", (*err)->msg);
    strata_error_free(*err);
    *err = NULL;
}

/* Bounds of one walk: extents looked at and bytes read.  Enough for every
 * extent of a seed (a few hundred KiB of virtual disk) and a whole cluster
 * of the largest size the formats read at once; more only costs time. */
#define WALK_MAX_EXTENTS 128
#define WALK_MAX_READ (64u * 1024)
#define WALK_MAX_TOTAL (256u * 1024)

void fuzz_walk(struct strata_node *node, int check)
{
    struct strata_error *err = NULL;
    int64_t len = strata_node_length(node, &err);
    ignore(&err);

    struct strata_info *info = strata_info_new_object();
    if (info) {
        strata_image_info(node, info, &err);
        ignore(&err);
        strata_info_free(info);
    }
    struct strata_info *snaps = strata_info_new_object();
    if (snaps) {
        strata_image_snapshot(node, STRATA_SNAPSHOT_LIST, NULL, snaps, &err);
        ignore(&err);
        strata_info_free(snaps);
    }

    static uint8_t buf[WALK_MAX_READ];
    uint64_t off = 0, total = 0;
    for (int i = 0; len > 0 && off < (uint64_t)len && i < WALK_MAX_EXTENTS; i++) {
        struct strata_block_status bs = { 0 };
        int depth = 0;
        if (strata_block_status_above(node, off, (uint64_t)len - off, &bs, &depth, &err) < 0 ||
            bs.pnum == 0) {
            ignore(&err);
            bs.pnum = 64u * 1024;
        }
        uint64_t n = bs.pnum < WALK_MAX_READ ? bs.pnum : WALK_MAX_READ;
        if (n > (uint64_t)len - off)
            n = (uint64_t)len - off;
        if (total < WALK_MAX_TOTAL) {
            strata_pread(node, off, n, buf, 0, &err);
            ignore(&err);
            total += n;
        }
        off += bs.pnum;
    }
    /* The last bytes too: an end that is not cluster-aligned. */
    if (len > 512) {
        strata_pread(node, (uint64_t)len - 512, 512, buf, 0, &err);
        ignore(&err);
    }

    if (check) {
        struct strata_check_result res = { 0 };
        strata_image_check(node, &res, 0, &err);
        ignore(&err);
        strata_check_result_clear(&res);
    }
}

void fuzz_write_once(struct strata_node *node)
{
    struct strata_error *err = NULL;
    int64_t len = strata_node_length(node, &err);
    ignore(&err);
    if (len <= 0)
        return;
    static uint8_t buf[64 * 1024];
    memset(buf, 0xa5, sizeof buf);
    uint64_t n = (uint64_t)len < sizeof buf ? (uint64_t)len : sizeof buf;
    uint64_t off = ((uint64_t)len / 2) & ~(uint64_t)511;
    if (off + n > (uint64_t)len)
        off = (uint64_t)len - n;
    if (strata_pwrite(node, off, n, buf, 0, &err) == 0)
        strata_flush(node, &err);
    ignore(&err);
}

void fuzz_open_walk(const char *opts, const char *path, unsigned flags, int check)
{
    struct strata_node *n = fuzz_open(opts, path, flags);
    if (n) {
        fuzz_walk(n, check);
        strata_close(n);
    }
}
