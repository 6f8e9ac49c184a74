/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-blkdebug.c - blkdebug rule files (drivers/blkdebug): the input is
 * the libconfig file named by config=, under a small qcow2 image so that
 * the format's events (l2_update, refblock_alloc, ...) reach the rules as
 * well as blkdebug's own; then one request of every kind. */
#include "fuzz.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <strata/flags.h>

#define IMAGE_SIZE (1024 * 1024)

/* A fresh 1 MiB qcow2 image of 4 KiB clusters, made once and copied for
 * every input (a rule may make a write fail half-way).  Small clusters keep
 * the tables that each open loads, and each copy, small. */
static uint8_t *image;
static size_t image_len;

static void make_image(void)
{
    const char *path = fuzz_file(3, NULL, 0);
    struct strata_error *err = NULL;
    struct strata_opts *o = strata_opts_new();
    if (!o || strata_opts_set(o, "cluster_size", "4096") < 0 ||
        strata_image_create("qcow2", path, IMAGE_SIZE, o, &err) < 0) {
        fprintf(stderr, "fuzz-blkdebug: %s\n", err ? err->msg : "create failed");
        abort();
    }
    strata_opts_free(o);
    int fd = open(path, O_RDONLY);
    off_t len = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
    image = len > 0 ? malloc((size_t)len) : NULL;
    if (!image || pread(fd, image, (size_t)len, 0) != len) {
        perror("fuzz-blkdebug: reading the image");
        abort();
    }
    image_len = (size_t)len;
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    if (!image)
        make_image();
    const char *cfg = fuzz_file(0, data, size);
    const char *img = fuzz_file(1, image, image_len);
    char spec[512];
    snprintf(spec, sizeof spec, "driver=qcow2,file.driver=blkdebug,file.config=%s,"
             "file.image.driver=file,file.image.filename=%s", cfg, img);
    struct strata_node *n = fuzz_open(spec, NULL, STRATA_O_RDWR | STRATA_O_NO_FLUSH);
    if (!n)
        return 0;
    static uint8_t buf[128 * 1024];
    memset(buf, 0x3c, sizeof buf);
    struct strata_error *err = NULL;
    strata_pwrite(n, 0, 4096, buf, 0, &err);
    strata_error_free(err), err = NULL;
    strata_pwrite(n, 512 * 1024, sizeof buf, buf, 0, &err);
    strata_error_free(err), err = NULL;
    strata_pread(n, 0, sizeof buf, buf, 0, &err);
    strata_error_free(err), err = NULL;
    strata_pwrite_zeroes(n, 64 * 1024, 64 * 1024, 0, &err);
    strata_error_free(err), err = NULL;
    strata_pdiscard(n, 512 * 1024, 64 * 1024, &err);
    strata_error_free(err), err = NULL;
    strata_flush(n, &err);
    strata_error_free(err);
    strata_close(n);
    return 0;
}
