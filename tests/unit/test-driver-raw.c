/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-driver-raw.c - the raw format: data lands in the file where pread(2)
 * and qemu-io find it, offset/size windows, their limits at open time,
 * resizing, block status from the file, probing and creation checked with
 * qemu-img. */
#include "hostfile.h"
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1024u * 1024u)
#define KiB 1024u

static struct strata_node *open_raw(const char *img, const char *window, unsigned flags,
                                    struct strata_error **errp)
{
    char spec[4096];
    snprintf(spec, sizeof spec, "driver=raw,%s%sfile.driver=file,file.filename=%s",
             window ? window : "", window ? "," : "", img);
    struct strata_node *n = NULL;
    return strata_open_string(spec, flags, &n, errp) < 0 ? NULL : n;
}

/* Runs a shell command line; returns its exit status, output in out. */
static int sh(char *out, size_t len, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    FILE *p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_plain(void)
{
    const char *img = tu_path("plain.img");
    tu_new_file(img, 0);
    tu_fill_file(img, 0, 2 * MiB, 1);
    struct strata_error *err = NULL;
    struct strata_node *n = open_raw(img, NULL, STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(strata_get_length(n), 2 * MiB);
    uint8_t *b = malloc(MiB);
    CU_ASSERT_EQUAL(strata_pread(n, 12345, 100000, b, 0, &err), 0);
    CU_ASSERT_EQUAL(tu_check(b, 12345, 100000, 1), -1);
    tu_fill(b, 777777, 70000, 2);
    CU_ASSERT_EQUAL(strata_pwrite(n, 777777, 70000, b, 0, &err), 0);
    CU_ASSERT_EQUAL(strata_flush(n, &err), 0);
    uint8_t *h = tu_read_file(img, 700000, 200000);
    CU_ASSERT_EQUAL(tu_check(h, 700000, 77777, 1), -1);
    CU_ASSERT_EQUAL(tu_check(h + 77777, 777777, 70000, 2), -1);
    CU_ASSERT_EQUAL(tu_check(h + 147777, 847777, 200000 - 147777, 1), -1);
    free(h);
    /* A format never reads or writes past its end. */
    CU_ASSERT(strata_pread(n, 2 * MiB - 10, 20, b, 0, &err) < 0);
    strata_error_free(err);
    err = NULL;
    free(b);
    strata_close(n);
}

static void test_window_io(void)
{
    const char *img = tu_path("window.img");
    tu_new_file(img, 0);
    tu_fill_file(img, 0, 4 * MiB, 3);
    struct strata_error *err = NULL;
    struct strata_node *n = open_raw(img, "offset=1M,size=2M", STRATA_O_RDWR, &err);
    if (!n)
        fprintf(stderr, "%s\n", err->msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(strata_get_length(n), 2 * MiB);

    uint8_t *b = malloc(MiB);
    CU_ASSERT_EQUAL(strata_pread(n, 0, 4096, b, 0, &err), 0);
    CU_ASSERT_EQUAL(tu_check(b, MiB, 4096, 3), -1);

    tu_fill(b, 100, 5000, 4);
    CU_ASSERT_EQUAL(strata_pwrite(n, 100, 5000, b, 0, &err), 0);
    uint8_t *h = tu_read_file(img, MiB, 8192);
    CU_ASSERT_EQUAL(tu_check(h, MiB, 100, 3), -1);
    CU_ASSERT_EQUAL(memcmp(h + 100, b, 5000), 0);
    CU_ASSERT_EQUAL(tu_check(h + 5100, MiB + 5100, 8192 - 5100, 3), -1);
    free(h);

    /* The window's last bytes are the file's at offset+size-1. */
    tu_fill(b, 0, 10, 5);
    CU_ASSERT_EQUAL(strata_pwrite(n, 2 * MiB - 10, 10, b, 0, &err), 0);
    h = tu_read_file(img, 3 * MiB - 10, 20);
    CU_ASSERT_EQUAL(memcmp(h, b, 10), 0);
    CU_ASSERT_EQUAL(tu_check(h + 10, 3 * MiB, 10, 3), -1);
    free(h);

    /* Nothing passes the window's end. */
    CU_ASSERT(strata_pwrite(n, 2 * MiB - 10, 20, b, 0, &err) < 0);
    CU_ASSERT_PTR_NOT_NULL(err);
    strata_error_free(err);
    err = NULL;
    h = tu_read_file(img, 3 * MiB, 10);
    CU_ASSERT_EQUAL(tu_check(h, 3 * MiB, 10, 3), -1);
    free(h);

    /* Zeroing and discard land at the offset too. */
    CU_ASSERT_EQUAL(strata_pwrite_zeroes(n, 64 * KiB, 64 * KiB, 0, &err), 0);
    CU_ASSERT_EQUAL(strata_pdiscard(n, 512 * KiB, 128 * KiB, &err), 0);
    h = tu_read_file(img, MiB, MiB);
    CU_ASSERT_EQUAL(tu_check(h + 5100, MiB + 5100, 64 * KiB - 5100, 3), -1);
    CU_ASSERT(tu_all_byte(h + 64 * KiB, 64 * KiB, 0));
    CU_ASSERT_EQUAL(tu_check(h + 128 * KiB, MiB + 128 * KiB, 384 * KiB, 3), -1);
    CU_ASSERT(tu_all_byte(h + 512 * KiB, 128 * KiB, 0));
    free(h);
    h = tu_read_file(img, 0, MiB);
    CU_ASSERT_EQUAL(tu_check(h, 0, MiB, 3), -1);
    free(h);
    free(b);

    /* Resizing a window makes no sense. */
    CU_ASSERT(strata_truncate(n, MiB, false, STRATA_PREALLOC_OFF, &err) < 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_EQUAL(err->code, ENOTSUP);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "window.img"));
    strata_error_free(err);
    err = NULL;
    strata_close(n);

    struct stat st;
    CU_ASSERT_EQUAL(stat(img, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, (off_t)(4 * MiB));
}

/* qemu-io sees the window the same way. */
static void test_window_qemu(void)
{
    const char *img = tu_path("qwin.img");
    tu_new_file(img, 4 * MiB);
    struct strata_error *err = NULL;
    struct strata_node *n = open_raw(img, "offset=1M,size=2M", STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    uint8_t *b = malloc(64 * KiB);
    memset(b, 0xab, 64 * KiB);
    CU_ASSERT_EQUAL(strata_pwrite(n, 4096, 64 * KiB, b, 0, &err), 0);
    free(b);
    strata_close(n);

    char out[8192];
    int rc = sh(out, sizeof out,
                "qemu-io --image-opts 'driver=raw,offset=1048576,size=2097152,"
                "file.driver=file,file.filename=%s' -c 'read -P 0xab 4096 64k' "
                "-c 'read -P 0 0 4096' -c 'read -P 0 69632 4096'", img);
    if (rc != 0 || strstr(out, "Pattern verification failed"))
        fprintf(stderr, "\n%s\n", out);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NULL(strstr(out, "Pattern verification failed"));
    rc = sh(out, sizeof out, "qemu-io -f raw -c 'read -P 0xab 1052672 64k' '%s'", img);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NULL(strstr(out, "Pattern verification failed"));
}

static void test_window_offset_only(void)
{
    const char *img = tu_path("offonly.img");
    tu_new_file(img, 0);
    tu_fill_file(img, 0, 3 * MiB, 6);
    struct strata_error *err = NULL;
    struct strata_node *n = open_raw(img, "offset=512K", 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(strata_get_length(n), 3 * MiB - 512 * KiB);
    uint8_t b[1000];
    CU_ASSERT_EQUAL(strata_pread(n, 3 * MiB - 512 * KiB - 1000, 1000, b, 0, &err), 0);
    CU_ASSERT_EQUAL(tu_check(b, 3 * MiB - 1000, 1000, 6), -1);
    strata_close(n);
}

static void expect_open_error(const char *img, const char *window, const char *const *needles)
{
    struct strata_error *err = NULL;
    struct strata_node *n = open_raw(img, window, 0, &err);
    CU_ASSERT_PTR_NULL(n);
    if (n)
        strata_close(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    for (; *needles; needles++) {
        if (!strstr(err->msg, *needles))
            fprintf(stderr, "\n    '%s' not in: %s\n", *needles, err->msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, *needles));
    }
    strata_error_free(err);
}

static void test_window_past_eof(void)
{
    const char *img = tu_path("short.img");
    tu_new_file(img, 4 * MiB);
    /* 3 MiB + 2 MiB runs 1 MiB past a 4 MiB file. */
    expect_open_error(img, "offset=3M,size=2M",
                      (const char *const[]){ "short.img", "3145728", "2097152", "4194304",
                                             NULL });
    expect_open_error(img, "offset=5M",
                      (const char *const[]){ "short.img", "5242880", "4194304", NULL });
    expect_open_error(img, "size=5M",
                      (const char *const[]){ "short.img", "5242880", "4194304", NULL });
    /* Exactly up to the end is fine. */
    struct strata_error *err = NULL;
    struct strata_node *n = open_raw(img, "offset=3M,size=1M", 0, &err);
    CU_ASSERT_PTR_NOT_NULL(n);
    if (n)
        strata_close(n);
}

static void test_truncate(void)
{
    const char *img = tu_path("resize.img");
    tu_new_file(img, MiB);
    struct strata_error *err = NULL;
    struct strata_node *n = open_raw(img, NULL, STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(strata_truncate(n, 3 * MiB + 512, false, STRATA_PREALLOC_OFF, &err), 0);
    CU_ASSERT_EQUAL(strata_get_length(n), 3 * MiB + 512);
    struct stat st;
    CU_ASSERT_EQUAL(stat(img, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, (off_t)(3 * MiB + 512));
    CU_ASSERT_EQUAL(strata_truncate(n, 2 * MiB, false, STRATA_PREALLOC_FALLOC, &err), 0);
    CU_ASSERT_EQUAL(stat(img, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, (off_t)(2 * MiB));
    strata_close(n);
}

static void test_block_status(void)
{
    const char *img = tu_path("rbs.img");
    tu_new_file(img, 4 * MiB);
    tu_fill_file(img, MiB, 64 * KiB, 7);
    struct strata_error *err = NULL;
    struct strata_node *n = open_raw(img, "offset=1M,size=2M", 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    struct strata_node *file = strata_node_child(n, "file");
    CU_ASSERT_PTR_NOT_NULL_FATAL(file);
    struct strata_block_status bs;
    CU_ASSERT_EQUAL_FATAL(strata_block_status(n, 0, 2 * MiB, &bs, &err), 0);
    CU_ASSERT(bs.flags & STRATA_BS_DATA);
    CU_ASSERT(bs.flags & STRATA_BS_OFFSET_VALID);
    CU_ASSERT_EQUAL(bs.pnum, 64 * KiB);
    CU_ASSERT_EQUAL(bs.offset, MiB);
    CU_ASSERT_PTR_EQUAL(bs.file, file);
    CU_ASSERT_EQUAL_FATAL(strata_block_status(n, 64 * KiB, 2 * MiB - 64 * KiB, &bs, &err), 0);
    CU_ASSERT(bs.flags & STRATA_BS_ZERO);
    CU_ASSERT(!(bs.flags & STRATA_BS_DATA));
    /* The hole runs to the window's end, not the file's. */
    CU_ASSERT_EQUAL(bs.pnum, 2 * MiB - 64 * KiB);
    CU_ASSERT_EQUAL(bs.offset, MiB + 64 * KiB);
    strata_close(n);
}

static char warned[4096];
static void catch_warning(const char *msg, void *opaque)
{
    snprintf(warned, sizeof warned, "%s", msg);
}

static void test_probe(void)
{
    const char *img = tu_path("probe.img");
    tu_new_file(img, 0);
    tu_fill_file(img, 0, 64 * KiB, 8);
    strata_set_warning_handler(catch_warning, NULL);
    struct strata_error *err = NULL;
    struct strata_node *n = NULL;
    /* As qemu: a guessed raw format is only worth a warning for writing. */
    warned[0] = 0;
    CU_ASSERT_EQUAL_FATAL(strata_open_file(img, NULL, STRATA_O_RDWR, &n, &err), 0);
    CU_ASSERT_STRING_EQUAL(strata_node_driver_name(n), "raw");
    if (!strstr(warned, "probing guessed raw"))
        fprintf(stderr, "\n    warning was: [%s]\n", warned);
    CU_ASSERT_PTR_NOT_NULL(strstr(warned, "probing guessed raw"));
    strata_close(n);
    warned[0] = 0;
    CU_ASSERT_EQUAL_FATAL(strata_open_file(img, NULL, 0, &n, &err), 0);
    strata_set_warning_handler(NULL, NULL);
    CU_ASSERT_STRING_EQUAL(strata_node_driver_name(n), "raw");
    CU_ASSERT_STRING_EQUAL(warned, "");
    uint8_t b[100];
    CU_ASSERT_EQUAL(strata_pread(n, 1000, 100, b, 0, &err), 0);
    CU_ASSERT_EQUAL(tu_check(b, 1000, 100, 8), -1);
    strata_close(n);

    const struct strata_driver *d = strata_driver_find("raw", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    uint8_t zeros[512] = { 0 };
    CU_ASSERT_EQUAL(d->probe(zeros, sizeof zeros, "x.img"), 1);
    CU_ASSERT(d->flags & STRATA_DRIVER_THREAD_SAFE);
}

static void test_create(void)
{
    const char *img = tu_path("created.img");
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_image_create("raw", img, 5 * MiB + 512, NULL, &err), 0);
    char out[8192];
    CU_ASSERT_EQUAL(sh(out, sizeof out, "qemu-img info --output=json -f raw '%s'", img), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"virtual-size\": 5243392"));
    struct stat st;
    CU_ASSERT_EQUAL(stat(img, &st), 0);
    /* Sparse but for its first block, written as QEMU does (alignment probing). */
    CU_ASSERT(st.st_blocks * 512 <= 4096);

    /* preallocation belongs to the file protocol; raw hands it down. */
    const char *full = tu_path("created-full.img");
    struct strata_opts *o = strata_opts_new();
    strata_opts_set(o, "preallocation", "full");
    CU_ASSERT_EQUAL(strata_image_create("raw", full, 2 * MiB, o, &err), 0);
    if (err)
        fprintf(stderr, "%s\n", err->msg);
    strata_opts_free(o);
    CU_ASSERT_EQUAL(stat(full, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, (off_t)(2 * MiB));
    CU_ASSERT(st.st_blocks * 512 >= (blkcnt_t)(2 * MiB));
    CU_ASSERT_EQUAL(sh(out, sizeof out, "qemu-img info --output=json -f raw '%s'", full), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"virtual-size\": 2097152"));

    o = strata_opts_new();
    strata_opts_set(o, "cluster_size", "64K");
    CU_ASSERT(strata_image_create("raw", tu_path("bad.img"), MiB, o, &err) < 0);
    CU_ASSERT_PTR_NOT_NULL(err);
    strata_error_free(err);
    strata_opts_free(o);
}

/* Sizes as qemu-img measure gives them. */
static void test_measure(void)
{
    static const uint64_t sizes[] = { 0, 1000, 1 << 20, 1073741824ull + 1 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct strata_measure m;
        struct strata_error *err = NULL;
        CU_ASSERT_EQUAL_FATAL(strata_image_measure("raw", NULL, sizes[i], NULL, &m, &err), 0);
        char out[4096], want[256];
        CU_ASSERT_EQUAL(sh(out, sizeof out, "qemu-img measure -O raw --size %llu "
                           "--output=json", (unsigned long long)sizes[i]), 0);
        snprintf(want, sizeof want, "\"required\": %llu,", (unsigned long long)m.required);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
        snprintf(want, sizeof want, "\"fully-allocated\": %llu",
                 (unsigned long long)m.fully_allocated);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
    }

    const char *img = tu_path("measure.img");
    tu_new_file(img, 5000);
    struct strata_error *err = NULL;
    struct strata_node *n = open_raw(img, NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    struct strata_measure m;
    CU_ASSERT_EQUAL(strata_image_measure("raw", NULL, 0, n, &m, &err), 0);
    strata_close(n);
    char out[4096], want[256];
    CU_ASSERT_EQUAL(sh(out, sizeof out, "qemu-img measure -O raw -f raw --output=json '%s'",
                       img), 0);
    snprintf(want, sizeof want, "\"required\": %llu,", (unsigned long long)m.required);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "plain raw reads and writes the file", test_plain },
        { "offset/size window: data lands at offset", test_window_io },
        { "window agrees with qemu-io", test_window_qemu },
        { "offset without size follows the file", test_window_offset_only },
        { "window past EOF refused at open", test_window_past_eof },
        { "truncate resizes the file", test_truncate },
        { "block status comes from the file", test_block_status },
        { "probe scores 1 and warns", test_probe },
        { "create with size and preallocation", test_create },
        { "measure agrees with qemu-img", test_measure },
        { NULL, NULL },
    };
    tu_add_suite("raw driver", NULL, NULL, tests);
    return tu_run();
}
