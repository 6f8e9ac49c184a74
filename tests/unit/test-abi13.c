/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-abi13.c - a driver module built against the ABI 1.3 headers
 * (tests/plugins/abi13-passthrough.c) loads into this core and works in a
 * stack: I/O, sizes, info, its child role by its historic meaning, events
 * both ways by name, and the core's messages for what it cannot say. */
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static char raw_path[4096], qcow2_path[4096];

static int setup(void)
{
    if (strata_module_load(tu_build_path("tests/plugins/abi13-passthrough.so"), NULL) < 0)
        return 1;
    snprintf(raw_path, sizeof raw_path, "%s", tu_path("disk.raw"));
    FILE *f = fopen(raw_path, "w");
    if (!f)
        return 1;
    static uint8_t buf[256 << 10];
    tu_fill(buf, 0, sizeof buf, 7);
    fwrite(buf, 1, sizeof buf, f);
    fclose(f);
    snprintf(qcow2_path, sizeof qcow2_path, "%s", tu_path("disk.qcow2"));
    return strata_image_create("qcow2", qcow2_path, 1 << 20, NULL, NULL) < 0;
}

static void test_loads_and_does_io(void)
{
    const struct strata_driver *d = strata_driver_find("abi13", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(d->abi_version & 0xffff, 3);

    /* "file" is a protocol role by its historic meaning: a bare file name
     * gets the file protocol, not a probed format. */
    struct strata_node *n = tu_open(STRATA_O_RDWR, "driver=abi13,file.filename=%s",
                                      raw_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_STRING_EQUAL(strata_node_driver_name(strata_node_child(n, "file")), "file");
    CU_ASSERT_STRING_EQUAL(strata_node_filename(n), raw_path);

    CU_ASSERT_EQUAL(strata_get_length(n), 256 << 10);
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_node_length(n, &err), 256 << 10);
    CU_ASSERT_PTR_NULL(err);
    CU_ASSERT_TRUE(strata_get_allocated_size(n) > 0);

    static uint8_t buf[64 << 10];
    CU_ASSERT_EQUAL(strata_pread(n, 4096, sizeof buf, buf, 0, NULL), 0);
    CU_ASSERT_EQUAL(tu_check(buf, 4096, sizeof buf, 7), -1);
    tu_fill(buf, 100, 5000, 9);
    CU_ASSERT_EQUAL(strata_pwrite(n, 100, 5000, buf, 0, NULL), 0);
    memset(buf, 0, sizeof buf);
    CU_ASSERT_EQUAL(strata_pread(n, 100, 5000, buf, 0, NULL), 0);
    CU_ASSERT_EQUAL(tu_check(buf, 100, 5000, 9), -1);

    struct strata_info *info = strata_info_new_object();
    CU_ASSERT_EQUAL(strata_image_info(n, info, NULL), 0);
    CU_ASSERT_STRING_EQUAL(strata_info_get_str(info, "abi"), "1.3");
    strata_info_free(info);
    strata_close(n);
}

static void test_core_builds_messages(void)
{
    struct strata_node *n = tu_open(STRATA_O_RDWR,
                                      "driver=abi13,fail-length=on,file.filename=%s",
                                      raw_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_node_length(n, &err), -EIO);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, raw_path));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "driver 'abi13' cannot tell the size"));
    strata_error_free(err);
    /* Block status needs the size: it fails with the same message. */
    err = NULL;
    struct strata_block_status bs;
    CU_ASSERT_EQUAL(strata_block_status(n, 0, 512, &bs, &err), -EIO);
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err->msg, "cannot tell the size"));
    strata_error_free(err);
    strata_close(n);
}

static void test_event_callback_gets_names(void)
{
    /* qcow2 raises its events (enum) on its file, here the 1.3 node. */
    struct strata_node *n = tu_open(STRATA_O_RDWR,
                                      "driver=qcow2,file.driver=abi13,file.file.filename=%s",
                                      qcow2_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    uint8_t buf[4096] = { 1 };
    CU_ASSERT_EQUAL(strata_pwrite(n, 0, sizeof buf, buf, 0, NULL), 0);
    struct strata_info *info = strata_info_new_object();
    CU_ASSERT_EQUAL(strata_image_info(strata_node_child(n, "file"), info, NULL), 0);
    int64_t events = 0;
    CU_ASSERT_TRUE(strata_info_get_int(info, "events", &events));
    CU_ASSERT_TRUE(events > 0);
    enum strata_event ev;
    const char *last = strata_info_get_str(info, "last-event");
    CU_ASSERT_PTR_NOT_NULL_FATAL(last);
    CU_ASSERT_EQUAL(strata_event_lookup(last, &ev), 0);
    strata_info_free(info);
    strata_close(n);
}

static void test_event_raised_by_name(void)
{
    /* The module raises "l2_update" through the 1.3 entry point before each
     * write; the blkdebug rule waiting for it fails that write. */
    struct strata_node *n = tu_open(STRATA_O_RDWR,
                                      "driver=abi13,file.driver=blkdebug,"
                                      "file.image.driver=file,file.image.filename=%s,"
                                      "file.inject-error.event=l2_update,"
                                      "file.inject-error.iotype=write,"
                                      "file.inject-error.once=on", raw_path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    uint8_t buf[512] = { 0 };
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_pread(n, 0, sizeof buf, buf, 0, NULL), 0);
    CU_ASSERT_EQUAL(strata_pwrite(n, 0, sizeof buf, buf, 0, &err), -EIO);
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err->msg, "blkdebug: injected EIO on write"));
    strata_error_free(err);
    CU_ASSERT_EQUAL(strata_pwrite(n, 0, sizeof buf, buf, 0, NULL), 0);
    strata_close(n);
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "a 1.3 module loads and does I/O, sizes and info", test_loads_and_does_io },
        { "the core words what a 1.3 module cannot", test_core_builds_messages },
        { "its event callback gets event names", test_event_callback_gets_names },
        { "its events raised by name reach blkdebug", test_event_raised_by_name },
        { NULL, NULL },
    };
    tu_add_suite("abi-1.3", setup, NULL, tests);
    return tu_run();
}
