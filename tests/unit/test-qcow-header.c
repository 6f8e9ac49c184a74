/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-qcow-header.c - the qcow (version 1) header: images made by qemu-img
 * are understood (size, cluster size, backing file), and purpose-built
 * corrupt images are refused with a clear error naming the file, without
 * the file changing.  The corrupt images are laid out here byte by byte from
 * the published format, not with the driver's own code. */
#include "hostfile.h"
#include "qcow-header.h"
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MiB (1024u * 1024u)

/* ------------------------------------------------------------ image kit */

/* A 1 MiB image with 4 KiB clusters and its L1 table (one entry) at 48. */
static struct tu_qcow_hdr plain_hdr(void)
{
    return (struct tu_qcow_hdr){ .magic = TU_QCOW_MAGIC, .version = 1, .size = MiB,
                                 .cluster_bits = 12, .l2_bits = 9, .l1_offset = 48 };
}

/* Writes the header into a zeroed file of file_len bytes. */
static uint8_t *make_image(const struct tu_qcow_hdr *h, size_t file_len)
{
    uint8_t *img = calloc(1, file_len < TU_QCOW_HEADER_SIZE ? TU_QCOW_HEADER_SIZE : file_len);
    tu_qcow_header(img, h);
    return img;
}

/* Opening must fail with `code`, a message naming the file and containing
 * `what`, read-write as well as read-only, and leave the file as it was. */
static void expect_refused(const char *path, const uint8_t *img, size_t len, int code,
                           const char *what)
{
    unsigned modes[] = { 0, STRATA_O_RDWR };
    for (int m = 0; m < 2; m++) {
        struct strata_error *err = NULL;
        struct strata_node *n = NULL;
        int r = strata_open_file(path, "qcow", modes[m], &n, &err);
        CU_ASSERT_EQUAL(r, -code);
        CU_ASSERT_PTR_NULL(n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(err);
        if (!strstr(err->msg, path) || !strstr(err->msg, what))
            fprintf(stderr, "\n    unexpected message: %s\n", err->msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, path));
        CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, what));
        strata_error_free(err);
        if (n)
            strata_close(n);
    }
    CU_ASSERT(tu_unchanged(path, img, len));
}

/* A file of file_len bytes holding header h, which must be refused as
 * expect_refused says. */
static void refuse_header(const char *path, const struct tu_qcow_hdr *h, size_t file_len,
                          int code, const char *what)
{
    uint8_t *img = make_image(h, file_len);
    tu_save(path, img, file_len);
    expect_refused(path, img, file_len, code, what);
    free(img);
}

/* ------------------------------------------------------------ qemu-made */

static void test_qemu_plain(void)
{
    const char *p = tu_path("qemu-plain.qcow");
    CU_ASSERT_EQUAL_FATAL(tu_sh("qemu-img create -q -f qcow '%s' 3M", p), 0);
    struct strata_error *err = NULL;
    struct strata_node *n = NULL;
    /* Probed: no format given. */
    CU_ASSERT_EQUAL_FATAL(strata_open_file(p, NULL, 0, &n, &err), 0);
    CU_ASSERT_STRING_EQUAL(strata_node_driver_name(n), "qcow");
    CU_ASSERT_EQUAL(strata_get_length(n), 3 * MiB);
    CU_ASSERT_PTR_NULL(strata_node_child(n, "backing"));
    struct strata_info *info = strata_info_new_object();
    CU_ASSERT_EQUAL(strata_image_info(n, info, &err), 0);
    char *json = strata_info_to_json(info);
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"cluster-size\": 4096"));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"encrypted\": false"));
    free(json);
    strata_info_free(info);
    /* A fresh image reads as zeros and reports them. */
    uint8_t buf[4096];
    memset(buf, 0xaa, sizeof buf);
    CU_ASSERT_EQUAL(strata_pread(n, MiB, sizeof buf, buf, 0, &err), 0);
    CU_ASSERT(buf[0] == 0 && memcmp(buf, buf + 1, sizeof buf - 1) == 0);
    struct strata_block_status bs;
    CU_ASSERT_EQUAL(strata_block_status(n, 0, 3 * MiB, &bs, &err), 0);
    CU_ASSERT_EQUAL(bs.pnum, 2 * MiB);   /* one L2 table spans 2 MiB */
    CU_ASSERT_EQUAL(bs.flags, STRATA_BS_ZERO);
    strata_close(n);
}

static void test_qemu_backing(void)
{
    const char *base = tu_path("base.raw");
    const char *top = tu_path("top.qcow");
    CU_ASSERT_EQUAL_FATAL(tu_sh("qemu-img create -q -f raw '%s' 1M && "
                             "cd '%s' && qemu-img create -q -f qcow -b base.raw -F raw "
                             "top.qcow 2M", base, tu_tmpdir()), 0);
    struct strata_error *err = NULL;
    struct strata_node *n = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_file(top, "qcow", 0, &n, &err), 0);
    CU_ASSERT_EQUAL(strata_get_length(n), 2 * MiB);
    struct strata_node *b = strata_node_child(n, "backing");
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(strata_get_length(b), MiB);
    struct strata_info *info = strata_info_new_object();
    CU_ASSERT_EQUAL(strata_image_info(n, info, &err), 0);
    char *json = strata_info_to_json(info);
    /* qemu-img makes 512-byte clusters when there is a backing file. */
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"cluster-size\": 512"));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "base.raw"));
    free(json);
    strata_info_free(info);
    strata_close(n);

    /* Without the backing file the image is still there, and so is the
     * error: it names the missing file. */
    unlink(base);
    err = NULL;
    CU_ASSERT(strata_open_file(top, "qcow", 0, &n, &err) < 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "base.raw"));
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(strata_open_file(top, "qcow", STRATA_O_NO_BACKING, &n, &err), 0);
    strata_close(n);
}

/* ------------------------------------------------------------ refusals */

static void test_version_2_and_3(void)
{
    const char *p = tu_path("v2.qcow");
    for (uint32_t v = 2; v <= 3; v++) {
        struct tu_qcow_hdr h = plain_hdr();
        h.version = v;
        refuse_header(p, &h, 4096, ENOTSUP, "qcow2");
    }
    /* And one made by qemu-img. */
    CU_ASSERT_EQUAL_FATAL(tu_sh("qemu-img create -q -f qcow2 '%s' 1M", p), 0);
    size_t len = 0;
    uint8_t *img = tu_load(p, &len);
    expect_refused(p, img, len, ENOTSUP, "qcow2");
    free(img);
    /* Some other version: no qcow2 hint, but the version. */
    struct tu_qcow_hdr h = plain_hdr();
    h.version = 7;
    refuse_header(p, &h, 4096, ENOTSUP, "version 7");
}

static void test_truncated_header(void)
{
    const char *p = tu_path("short.qcow");
    struct tu_qcow_hdr h = plain_hdr();
    uint8_t *img = make_image(&h, 48);
    tu_save(p, img, 20);
    expect_refused(p, img, 20, EINVAL, "truncated");
    tu_save(p, img, 47);
    expect_refused(p, img, 47, EINVAL, "truncated");
    free(img);
}

static void test_bad_fields(void)
{
    const char *p = tu_path("bad.qcow");
    struct tu_qcow_hdr h;

    h = plain_hdr();
    h.cluster_bits = 8;
    refuse_header(p, &h, 4096, EINVAL, "Cluster size must be between 512 and 64k");

    h = plain_hdr();
    h.cluster_bits = 17;
    refuse_header(p, &h, 4096, EINVAL, "Cluster size must be between 512 and 64k");

    h = plain_hdr();
    h.l2_bits = 14;
    refuse_header(p, &h, 4096, EINVAL, "L2 table size must be between 512 and 64k");

    h = plain_hdr();
    h.crypt = 2;
    refuse_header(p, &h, 4096, EINVAL, "encryption method 2");

    /* L1 table (8 bytes at 4092) runs past the end of a 4 KiB file. */
    h = plain_hdr();
    h.l1_offset = 4092;
    refuse_header(p, &h, 4096, EINVAL, "L1 table at 0xffc");

    /* L1 table on top of the header. */
    h = plain_hdr();
    h.l1_offset = 8;
    refuse_header(p, &h, 4096, EINVAL, "overlaps the header");

    h = plain_hdr();
    h.size = UINT64_MAX - 1;
    refuse_header(p, &h, 4096, EINVAL, "Image too large");

    /* A size whose L1 table would not fit in memory. */
    h = plain_hdr();
    h.size = 1ull << 61;
    refuse_header(p, &h, 4096, EFBIG, "L1 table");

    /* Backing file name longer than the format allows, and one past EOF. */
    h = plain_hdr();
    h.backing_offset = 56;
    h.backing_size = 2000;
    refuse_header(p, &h, 4096, EINVAL, "Backing file name too long");
    h.backing_offset = 4000;
    h.backing_size = 200;
    refuse_header(p, &h, 4096, EINVAL, "backing file name at 0xfa0");

    /* Not qcow at all. */
    memset(&h, 0, sizeof h);
    refuse_header(p, &h, 4096, EINVAL, "not a qcow image");
}

/* An L1 entry that points past the end of the file: opening works (tables
 * are read when needed), every read and write of that range fails with a
 * message naming the file and the table, and nothing is written. */
static void test_l2_past_eof(void)
{
    const char *p = tu_path("l2eof.qcow");
    struct tu_qcow_hdr h = plain_hdr();
    size_t len = 560;
    uint8_t *img = make_image(&h, len);
    tu_put_be(img + 48, 8, 0x100000);
    tu_save(p, img, len);

    struct strata_error *err = NULL;
    struct strata_node *n = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_file(p, "qcow", STRATA_O_RDWR, &n, &err), 0);
    uint8_t buf[4096];
    CU_ASSERT_EQUAL(strata_pread(n, 0, sizeof buf, buf, 0, &err), -EIO);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, p));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "L2 table at 0x100000"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "past end of file"));
    strata_error_free(err);
    err = NULL;
    memset(buf, 0x5a, sizeof buf);
    CU_ASSERT_EQUAL(strata_pwrite(n, 4096, sizeof buf, buf, 0, &err), -EIO);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "L2 table at 0x100000"));
    strata_error_free(err);
    err = NULL;
    struct strata_block_status bs;
    CU_ASSERT_EQUAL(strata_block_status(n, 0, MiB, &bs, &err), -EIO);
    strata_error_free(err);
    strata_close(n);
    CU_ASSERT(tu_unchanged(p, img, len));
    free(img);
}

/* A data cluster pointer past the end of the file, and one into the L1
 * table: reads fail, writes do not land on the metadata. */
static void test_data_pointer_bad(void)
{
    const char *p = tu_path("data-eof.qcow");
    struct tu_qcow_hdr h = plain_hdr();
    size_t len = 8192;
    uint8_t *img = make_image(&h, len);
    tu_put_be(img + 48, 8, 4096);               /* L2 table at 4096 */
    tu_put_be(img + 4096, 8, 0x200000);         /* cluster 0 past EOF */
    tu_put_be(img + 4096 + 8, 8, 0);            /* cluster 1 unallocated */
    tu_put_be(img + 4096 + 16, 8, 40);          /* cluster 2 on the header/L1 */
    tu_save(p, img, len);

    struct strata_error *err = NULL;
    struct strata_node *n = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_file(p, "qcow", STRATA_O_RDWR, &n, &err), 0);
    uint8_t buf[4096];
    CU_ASSERT_EQUAL(strata_pread(n, 0, sizeof buf, buf, 0, &err), -EIO);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, p));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "0x200000"));
    strata_error_free(err);
    err = NULL;
    /* The unallocated neighbour still reads as zeros. */
    memset(buf, 1, sizeof buf);
    CU_ASSERT_EQUAL(strata_pread(n, 4096, sizeof buf, buf, 0, &err), 0);
    CU_ASSERT(buf[0] == 0 && memcmp(buf, buf + 1, sizeof buf - 1) == 0);
    memset(buf, 0x77, sizeof buf);
    CU_ASSERT_EQUAL(strata_pwrite(n, 8192, sizeof buf, buf, 0, &err), -EIO);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "overlaps"));
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(strata_pwrite(n, 0, sizeof buf, buf, 0, &err), -EIO);
    strata_error_free(err);
    strata_close(n);
    CU_ASSERT(tu_unchanged(p, img, len));
    free(img);
}

static void test_corrupt_compressed(void)
{
    const char *p = tu_path("badz.qcow");
    struct tu_qcow_hdr h = plain_hdr();
    size_t len = 8192 + 512;
    uint8_t *img = make_image(&h, len);
    tu_put_be(img + 48, 8, 4096);
    /* 100 bytes at 8192 that are not a deflate stream of 4096 bytes. */
    tu_put_be(img + 4096, 8, 1ull << 63 | 100ull << (63 - 12) | 8192);
    memset(img + 8192, 0xff, 100);
    tu_save(p, img, len);
    struct strata_error *err = NULL;
    struct strata_node *n = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_file(p, "qcow", 0, &n, &err), 0);
    uint8_t buf[512];
    CU_ASSERT_EQUAL(strata_pread(n, 0, sizeof buf, buf, 0, &err), -EIO);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, p));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "compressed cluster at 0x2000"));
    strata_error_free(err);
    strata_close(n);
    CU_ASSERT(tu_unchanged(p, img, len));
    free(img);
}

/* ------------------------------------------------------------ legacy AES */

static char warned[4096];
static void catch_warning(const char *msg, void *opaque)
{
    snprintf(warned, sizeof warned, "%s", msg);
}

static void test_aes_rules(void)
{
    const char *p = tu_path("aes.qcow");
    struct tu_qcow_hdr h = plain_hdr();
    h.crypt = 1;
    size_t len = 560;
    uint8_t *img = make_image(&h, len);
    tu_save(p, img, len);
    struct strata_error *err = NULL;
    struct strata_node *n = NULL;

    /* Reading needs the passphrase... */
    CU_ASSERT_EQUAL(strata_open_file(p, "qcow", 0, &n, &err), -ENOKEY);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "encrypt.key-secret"));
    strata_error_free(err);
    err = NULL;
    /* ...but metadata does not, and info tells the scheme cannot check it. */
    CU_ASSERT_EQUAL_FATAL(strata_open_file(p, "qcow", STRATA_O_NO_IO, &n, &err), 0);
    struct strata_info *info = strata_info_new_object();
    CU_ASSERT_EQUAL(strata_image_info(n, info, &err), 0);
    char *json = strata_info_to_json(info);
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"encrypted\": true"));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "wrong passphrase cannot be detected"));
    free(json);
    strata_info_free(info);
    strata_close(n);

    /* Writing needs the explicit override, even with the key. */
    CU_ASSERT_EQUAL(strata_secret_add("aeskey", "pw", 2, &err), 0);
    char opts[1024];
    snprintf(opts, sizeof opts, "driver=qcow,file.filename=%s,encrypt.key-secret=aeskey", p);
    CU_ASSERT_EQUAL(strata_open_string(opts, STRATA_O_RDWR, &n, &err), -EPERM);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "encrypt.allow-legacy-aes"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, p));
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_string(opts, 0, &n, &err), 0);
    strata_close(n);
    CU_ASSERT(tu_unchanged(p, img, len));

    /* With it, opening for writing warns. */
    strata_set_warning_handler(catch_warning, NULL);
    warned[0] = 0;
    strncat(opts, ",encrypt.allow-legacy-aes=on", sizeof opts - strlen(opts) - 1);
    CU_ASSERT_EQUAL_FATAL(strata_open_string(opts, STRATA_O_RDWR, &n, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(warned, "broken"));
    CU_ASSERT_PTR_NOT_NULL(strstr(warned, "wrong passphrase cannot be detected"));
    strata_close(n);
    strata_set_warning_handler(NULL, NULL);
    free(img);

    /* Creating one is refused without the override, and nothing is made. */
    const char *c = tu_path("aes-new.qcow");
    unlink(c);
    struct strata_opts *o = strata_opts_new();
    strata_opts_set(o, "encrypt.format", "aes");
    strata_opts_set(o, "encrypt.key-secret", "aeskey");
    CU_ASSERT_EQUAL(strata_image_create("qcow", c, MiB, o, &err), -EPERM);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "encrypt.allow-legacy-aes"));
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(access(c, F_OK), -1);
    strata_opts_free(o);
    strata_secret_remove("aeskey");
}

int main(void)
{
    static const struct tu_test qemu_tests[] = {
        { "qemu-img image, probed", test_qemu_plain },
        { "qemu-img image with backing file", test_qemu_backing },
        { NULL, NULL },
    };
    static const struct tu_test refusal_tests[] = {
        { "versions 2 and 3 point to qcow2", test_version_2_and_3 },
        { "truncated header", test_truncated_header },
        { "out-of-range header fields", test_bad_fields },
        { "L2 pointer past end of file", test_l2_past_eof },
        { "data pointers past EOF or on metadata", test_data_pointer_bad },
        { "corrupt compressed cluster", test_corrupt_compressed },
        { "legacy AES: key, override, warning", test_aes_rules },
        { NULL, NULL },
    };
    tu_add_suite("qcow header from qemu-img", NULL, NULL, qemu_tests);
    tu_add_suite("qcow refusals", NULL, NULL, refusal_tests);
    return tu_run();
}
