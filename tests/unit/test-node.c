/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-node.c - the core's node graph and request path: stack resolution
 * from three forms, reopening from a node's options, option errors,
 * alignment and splitting guarantees to drivers, serialisation of
 * non-thread-safe drivers, read-only and bounds. */
#include "hostfile.h"
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t info_int(struct strata_node *n, const char *key)
{
    struct strata_info *obj = strata_info_new_object();
    CU_ASSERT_EQUAL(strata_image_info(n, obj, NULL), 0);
    char *json = strata_info_to_json(obj);
    strata_info_free(obj);
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    int64_t v = p ? strtoll(p + strlen(pat), NULL, 10) : -1;
    free(json);
    return v;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* The same stack written three ways resolves to the same graph. */
static void test_three_forms(void)
{
    const char *img = tu_path("forms.img");
    tu_new_file(img, 1 << 20);
    char conf[8192], dotted[8192];
    snprintf(conf, sizeof conf,
             "stack = { driver = \"raw\";\n"
             "          file = { driver = \"file\"; filename = \"%s\"; }; };\n", img);
    write_file(tu_path("forms.conf"), conf);
    snprintf(dotted, sizeof dotted, "driver=raw,file.driver=file,file.filename=%s", img);

    struct strata_node *a = NULL, *b = NULL, *c = NULL;
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_config(tu_path("forms.conf"), 0, &a, &err), 0);
    CU_ASSERT_EQUAL_FATAL(strata_open_string(dotted, 0, &b, &err), 0);
    /* A plain file name probes; the probe result names the same driver. */
    CU_ASSERT_EQUAL_FATAL(strata_open_file(img, NULL, STRATA_O_NO_PROBE_WARN, &c, &err), 0);
    char *da = strata_node_describe(a), *db = strata_node_describe(b),
         *dc = strata_node_describe(c);
    CU_ASSERT_STRING_EQUAL(da, db);
    CU_ASSERT_STRING_EQUAL(da, dc);
    char want[8192];
    snprintf(want, sizeof want, "driver=raw\n  file: driver=file filename=%s\n", img);
    CU_ASSERT_STRING_EQUAL(da, want);
    free(da);
    free(db);
    free(dc);
    strata_close(a);
    strata_close(b);
    strata_close(c);
}

/* A node's options, copied, open the same stack again: the probed format
 * and the protocol filled in, and other flags honoured (read-write here). */
static void test_opts_dup_reopens(void)
{
    const char *img = tu_path("dup.img");
    tu_new_file(img, 1 << 20);
    struct strata_node *a = NULL, *b = NULL;
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_file(img, NULL, STRATA_O_NO_PROBE_WARN, &a, &err), 0);
    struct strata_opts *o = strata_node_opts_dup(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_STRING_EQUAL(strata_opts_get(o, "driver"), "raw");
    CU_ASSERT_STRING_EQUAL(strata_opts_get(o, "file.filename"), img);
    char *da = strata_node_describe(a);
    strata_close(a);
    CU_ASSERT_EQUAL_FATAL(strata_open_opts(o, STRATA_O_RDWR, &b, &err), 0);
    strata_opts_free(o);
    char *db = strata_node_describe(b);
    CU_ASSERT_STRING_EQUAL(da, db);
    uint8_t buf[512];
    memset(buf, 0x5a, sizeof buf);
    CU_ASSERT_EQUAL(strata_pwrite(b, 0, sizeof buf, buf, 0, &err), 0);
    free(da);
    free(db);
    strata_close(b);
}

struct warn_capture {
    char msg[4096];
    int count;
};

static void capture_warning(const char *msg, void *opaque)
{
    struct warn_capture *w = opaque;
    snprintf(w->msg, sizeof w->msg, "%s", msg);
    w->count++;
}

static void test_probe_raw_warns(void)
{
    const char *img = tu_path("probe.img");
    tu_new_file(img, 65536);
    struct warn_capture w = { "", 0 };
    strata_set_warning_handler(capture_warning, &w);
    struct strata_node *n = NULL;
    /* Read-only use of a guessed raw image is harmless: no warning. */
    CU_ASSERT_EQUAL_FATAL(strata_open_file(img, NULL, 0, &n, NULL), 0);
    strata_close(n);
    CU_ASSERT_EQUAL(w.count, 0);
    CU_ASSERT_EQUAL_FATAL(strata_open_file(img, NULL, STRATA_O_RDWR, &n, NULL), 0);
    strata_close(n);
    CU_ASSERT_EQUAL(w.count, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(w.msg, "probing guessed raw"));
    CU_ASSERT_PTR_NOT_NULL(strstr(w.msg, img));
    /* Naming the format removes the warning. */
    CU_ASSERT_EQUAL_FATAL(strata_open_file(img, "raw", STRATA_O_RDWR, &n, NULL), 0);
    strata_close(n);
    CU_ASSERT_EQUAL(w.count, 1);
    strata_set_warning_handler(NULL, NULL);
}

static void expect_open_error(const char *dotted, int code, const char *want)
{
    struct strata_node *n = NULL;
    struct strata_error *err = NULL;
    int r = strata_open_string(dotted, 0, &n, &err);
    CU_ASSERT_EQUAL(r, -code);
    CU_ASSERT_PTR_NULL(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    if (!strstr(err->msg, want))
        fprintf(stderr, "\nmessage '%s' lacks '%s'\n", err->msg, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, want));
    strata_error_free(err);
}

static void test_option_errors(void)
{
    expect_open_error("driver=testmem,size=4096,colour=blue", EINVAL, "colour");
    expect_open_error("driver=testmem,size=lots", EINVAL, "lots");
    expect_open_error("driver=raw", EINVAL, "'file'");
    expect_open_error("driver=raw,file.driver=testmem,file.bogus=1", EINVAL, "bogus");
    expect_open_error("size=4096", EINVAL, "no driver");
}

/* Random unaligned I/O through a driver that demands 4 KiB alignment and at
 * most 64 KiB per request: data must match a shadow copy and the driver must
 * never see a request outside its limits. */
static void test_alignment_and_splitting(void)
{
    struct strata_node *n = NULL;
    struct strata_error *err = NULL;
    const size_t size = 1 << 20;
    CU_ASSERT_EQUAL_FATAL(strata_open_string("driver=testmem,size=1M,align=4096,"
                                             "max-transfer=64K",
                                             STRATA_O_RDWR, &n, &err), 0);
    uint8_t *shadow = calloc(1, size), *buf = malloc(size);
    srand(7);
    for (int i = 0; i < 400; i++) {
        uint64_t off = (uint64_t)rand() % size;
        uint64_t len = 1 + (uint64_t)rand() % (i % 10 == 0 ? 300000 : 9000);
        if (off + len > size)
            len = size - off;
        int op = rand() % 3;
        if (op == 0) {
            tu_fill(buf, off, len, (uint32_t)i);
            CU_ASSERT_EQUAL_FATAL(strata_pwrite(n, off, len, buf, 0, &err), 0);
            memcpy(shadow + off, buf, len);
        } else if (op == 1) {
            CU_ASSERT_EQUAL_FATAL(strata_pwrite_zeroes(n, off, len, 0, &err), 0);
            memset(shadow + off, 0, len);
        } else {
            CU_ASSERT_EQUAL_FATAL(strata_pread(n, off, len, buf, 0, &err), 0);
            CU_ASSERT_EQUAL(memcmp(buf, shadow + off, len), 0);
        }
    }
    CU_ASSERT_EQUAL(strata_pread(n, 0, size, buf, 0, &err), 0);
    CU_ASSERT_EQUAL(memcmp(buf, shadow, size), 0);
    CU_ASSERT_EQUAL(info_int(n, "violations"), 0);
    CU_ASSERT_EQUAL(info_int(n, "max-request"), 65536);
    free(shadow);
    free(buf);
    strata_close(n);
}

struct writer {
    struct strata_node *n;
    int id;
    int failures;
};

/* Each thread owns bytes [id*1000, id*1000+1000): the ranges share 4 KiB
 * blocks, so only correct read-modify-write serialisation keeps them all. */
static void *writer_thread(void *p)
{
    struct writer *w = p;
    uint8_t buf[1000];
    for (int round = 0; round < 100; round++) {
        uint64_t off = (uint64_t)w->id * 1000;
        tu_fill(buf, off, sizeof buf, (uint32_t)round);
        if (strata_pwrite(w->n, off, sizeof buf, buf, 0, NULL) < 0)
            w->failures++;
        /* A neighbour's read-modify-write must not have put old bytes back. */
        if (strata_pread(w->n, off, sizeof buf, buf, 0, NULL) < 0 ||
            tu_check(buf, off, sizeof buf, (uint32_t)round) != -1)
            w->failures++;
    }
    return NULL;
}

static void test_concurrent_unaligned_writers(void)
{
    struct strata_node *n = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_string("driver=testmem,size=64K,align=4096,"
                                             "read-delay-us=20",
                                             STRATA_O_RDWR, &n, NULL), 0);
    enum { NT = 8 };
    pthread_t th[NT];
    struct writer w[NT];
    for (int i = 0; i < NT; i++) {
        w[i] = (struct writer){ n, i, 0 };
        pthread_create(&th[i], NULL, writer_thread, &w[i]);
    }
    for (int i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        CU_ASSERT_EQUAL(w[i].failures, 0);
    }
    uint8_t buf[NT * 1000];
    CU_ASSERT_EQUAL(strata_pread(n, 0, sizeof buf, buf, 0, NULL), 0);
    for (int i = 0; i < NT; i++)
        CU_ASSERT_EQUAL(tu_check(buf + i * 1000, (uint64_t)i * 1000, 1000, 99), -1);
    /* testmem is not thread-safe: the core must never have overlapped it. */
    CU_ASSERT_EQUAL(info_int(n, "violations"), 0);
    strata_close(n);
}

static void test_read_only_and_bounds(void)
{
    struct strata_node *n = NULL;
    struct strata_error *err = NULL;
    const char *img = tu_path("ro.img");
    tu_new_file(img, 8192);
    CU_ASSERT_EQUAL_FATAL(strata_open_file(img, "raw", 0, &n, NULL), 0);
    uint8_t buf[512] = { 0 };
    CU_ASSERT_EQUAL(strata_pwrite(n, 0, sizeof buf, buf, 0, &err), -EROFS);
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err->msg, "read-only"));
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(strata_pread(n, 8000, 512, buf, 0, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err->msg, "past the end"));
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err->msg, img));
    strata_error_free(err);
    strata_close(n);
}

/* A filter demanding 4 KiB alignment over an image whose size is not a
 * multiple of it: requests at the end stop at the end. */
static void test_unaligned_tail(void)
{
    const char *img = tu_path("tail.img");
    tu_new_file(img, 1048700);
    char dotted[8192];
    snprintf(dotted, sizeof dotted, "driver=blkdebug,align=4096,image.driver=raw,"
             "image.file.driver=file,image.file.filename=%s", img);
    struct strata_node *n = NULL;
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_string(dotted, STRATA_O_RDWR, &n, &err), 0);
    uint8_t buf[600];
    tu_fill(buf, 1048600, 50, 3);
    CU_ASSERT_EQUAL(strata_pwrite(n, 1048600, 50, buf, 0, &err), 0);
    if (err)
        fprintf(stderr, "\n%s\n", err->msg);
    CU_ASSERT_EQUAL(strata_pread(n, 1048100, 600, buf, 0, &err), 0);
    CU_ASSERT_EQUAL(tu_check(buf + 500, 1048600, 50, 3), -1);
    for (int i = 0; i < 500; i++)
        CU_ASSERT_EQUAL_FATAL(buf[i], 0);
    strata_close(n);
    /* The file grew to the end of its last 512-byte sector (raw's length,
     * as in QEMU), not to the filter's 4 KiB alignment. */
    FILE *f = fopen(img, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fseek(f, 0, SEEK_END);
    CU_ASSERT_EQUAL(ftell(f), 1049088);
    fclose(f);
}

static void test_metadata_only(void)
{
    struct strata_node *n = NULL;
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_string("driver=testmem,size=64K", STRATA_O_NO_IO, &n,
                                             NULL), 0);
    uint8_t buf[16];
    CU_ASSERT_EQUAL(strata_pread(n, 0, sizeof buf, buf, 0, &err), -EPERM);
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err->msg, "metadata only"));
    strata_error_free(err);
    CU_ASSERT_EQUAL(strata_get_length(n), 65536);
    strata_close(n);
}

int main(void)
{
    setenv("STRATA_PLUGIN_PATH", tu_build_path("tests/plugins"), 1);
    static const struct tu_test tests[] = {
        { "config, dotted and plain name give one graph", test_three_forms },
        { "a node's options copied open it again", test_opts_dup_reopens },
        { "probing guesses raw, warning on read-write use", test_probe_raw_warns },
        { "unknown options, bad values, missing children", test_option_errors },
        { "alignment and max-transfer kept for drivers", test_alignment_and_splitting },
        { "concurrent unaligned writers sharing blocks", test_concurrent_unaligned_writers },
        { "read-only refusal and bounds", test_read_only_and_bounds },
        { "unaligned tail block of a filter", test_unaligned_tail },
        { "metadata-only open refuses data I/O", test_metadata_only },
        { NULL, NULL },
    };
    tu_add_suite("node", NULL, NULL, tests);
    return tu_run();
}
