/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-driver-null.c - the null protocol (QEMU's null-co): size option and
 * its 1 GiB default, zeros on read unless read-zeroes=off, writes dropped,
 * block status, and use under raw and blkdebug. */
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct strata_node *open_spec(const char *spec, unsigned flags,
                                     struct strata_error **errp)
{
    struct strata_node *n = NULL;
    return strata_open_string(spec, flags, &n, errp) < 0 ? NULL : n;
}

static void test_size(void)
{
    struct strata_error *err = NULL;
    struct strata_node *n = open_spec("driver=null", 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(strata_get_length(n), 1073741824);
    CU_ASSERT_EQUAL(strata_get_allocated_size(n), 0);
    strata_close(n);

    n = open_spec("driver=null,size=64M", 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(strata_get_length(n), 64 * 1024 * 1024);
    strata_close(n);

    CU_ASSERT_PTR_NULL(open_spec("driver=null,size=lots", 0, &err));
    CU_ASSERT_PTR_NOT_NULL(err);
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_PTR_NULL(open_spec("driver=null,colour=blue", 0, &err));
    CU_ASSERT_PTR_NOT_NULL(err);
    strata_error_free(err);
}

static void test_reads_and_writes(void)
{
    struct strata_error *err = NULL;
    struct strata_node *n = open_spec("driver=null,size=16M", STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    uint8_t *b = malloc(1 << 20);
    memset(b, 0xff, 1 << 20);
    CU_ASSERT_EQUAL(strata_pread(n, 12345, 1 << 20, b, 0, &err), 0);
    CU_ASSERT(tu_all_byte(b, 1 << 20, 0));

    tu_fill(b, 4096, 65536, 1);
    CU_ASSERT_EQUAL(strata_pwrite(n, 4096, 65536, b, 0, &err), 0);
    CU_ASSERT_EQUAL(strata_flush(n, &err), 0);
    memset(b, 0xff, 65536);
    CU_ASSERT_EQUAL(strata_pread(n, 4096, 65536, b, 0, &err), 0);
    CU_ASSERT(tu_all_byte(b, 65536, 0));
    CU_ASSERT_EQUAL(strata_pwrite_zeroes(n, 0, 1 << 20, STRATA_REQ_MAY_UNMAP, &err), 0);
    CU_ASSERT_EQUAL(strata_pdiscard(n, 0, 1 << 20, &err), 0);
    free(b);
    strata_close(n);
}

static void test_read_zeroes_off(void)
{
    struct strata_error *err = NULL;
    struct strata_node *n = open_spec("driver=null,size=1M,read-zeroes=off", 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    uint8_t b[4096];
    memset(b, 0x5a, sizeof b);
    CU_ASSERT_EQUAL(strata_pread(n, 0, sizeof b, b, 0, &err), 0);
    /* As null-co: the buffer is left as it was. */
    CU_ASSERT(tu_all_byte(b, sizeof b, 0x5a));
    struct strata_block_status bs;
    CU_ASSERT_EQUAL_FATAL(strata_block_status(n, 0, 1 << 20, &bs, &err), 0);
    /* Nothing known, nothing reported: qemu-img map says "present": false. */
    CU_ASSERT_EQUAL(bs.flags, 0);
    CU_ASSERT_EQUAL(bs.pnum, 1 << 20);
    strata_close(n);
    /* QEMU's names: read-zeroes is off unless asked for. */
    n = open_spec("driver=null-co,size=1M", 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    memset(b, 0x5a, sizeof b);
    CU_ASSERT_EQUAL(strata_pread(n, 0, sizeof b, b, 0, &err), 0);
    CU_ASSERT(tu_all_byte(b, sizeof b, 0x5a));
    strata_close(n);
    n = open_spec("driver=null-aio,size=1M,read-zeroes=on", 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(strata_pread(n, 0, sizeof b, b, 0, &err), 0);
    CU_ASSERT(tu_all_byte(b, sizeof b, 0));
    strata_close(n);
}

static void test_block_status(void)
{
    struct strata_error *err = NULL;
    struct strata_node *n = open_spec("driver=null,size=1M", 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    struct strata_block_status bs;
    CU_ASSERT_EQUAL_FATAL(strata_block_status(n, 4096, 1 << 20, &bs, &err), 0);
    CU_ASSERT_EQUAL(bs.pnum, (1 << 20) - 4096);
    CU_ASSERT(bs.flags & STRATA_BS_ZERO);
    CU_ASSERT(!(bs.flags & STRATA_BS_DATA));
    CU_ASSERT(bs.flags & STRATA_BS_OFFSET_VALID);
    CU_ASSERT_EQUAL(bs.offset, 4096);
    CU_ASSERT_PTR_EQUAL(bs.file, n);
    strata_close(n);
}

static void test_stacked(void)
{
    struct strata_error *err = NULL;
    struct strata_node *n = open_spec("driver=raw,offset=1M,file.driver=null,file.size=3M",
                                      STRATA_O_RDWR, &err);
    if (!n)
        fprintf(stderr, "%s\n", err->msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(strata_get_length(n), 2 * 1024 * 1024);
    uint8_t b[1000];
    memset(b, 1, sizeof b);
    CU_ASSERT_EQUAL(strata_pread(n, 777, sizeof b, b, 0, &err), 0);
    CU_ASSERT(tu_all_byte(b, sizeof b, 0));
    strata_close(n);

    n = open_spec("driver=blkdebug,align=4096,image.driver=null,image.size=1M",
                  STRATA_O_RDWR, &err);
    if (!n)
        fprintf(stderr, "%s\n", err->msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    memset(b, 1, sizeof b);
    CU_ASSERT_EQUAL(strata_pwrite(n, 3, sizeof b, b, 0, &err), 0);
    CU_ASSERT_EQUAL(strata_pread(n, 3, sizeof b, b, 0, &err), 0);
    CU_ASSERT(tu_all_byte(b, sizeof b, 0));
    strata_close(n);

    const struct strata_driver *d = strata_driver_find("null", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT(d->flags & STRATA_DRIVER_THREAD_SAFE);
    CU_ASSERT_EQUAL(d->kind, STRATA_DRIVER_PROTOCOL);
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "size option, 1 GiB default", test_size },
        { "reads zeros, drops writes", test_reads_and_writes },
        { "read-zeroes=off leaves buffers alone", test_read_zeroes_off },
        { "block status is zero", test_block_status },
        { "under raw and blkdebug", test_stacked },
        { NULL, NULL },
    };
    tu_add_suite("null driver", NULL, NULL, tests);
    return tu_run();
}
