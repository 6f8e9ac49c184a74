/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-abi.c - the driver ABI's error channel and the meaning of NULL
 * members: a failing size callback reaches the caller with a message, and
 * a driver without truncate refuses a resize by name. */
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int setup(void)
{
    return strata_module_load(tu_build_path("tests/plugins/testmem.so"), NULL) < 0;
}

static void expect_err(struct strata_error *err, const char *want)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    if (!strstr(err->msg, want))
        fprintf(stderr, "\n    '%s' not in: %s\n", want, err->msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, want));
}

static void test_length_error_reaches_caller(void)
{
    struct strata_node *n = tu_open(0, "driver=testmem,filename=mem0,fail-length=on");
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_node_length(n, &err), -EIO);
    expect_err(err, "mem0: testmem: size withheld");
    strata_error_free(err);
    CU_ASSERT_EQUAL(strata_get_length(n), -EIO);
    strata_close(n);

    /* Through a format that needs the size to open. */
    err = NULL;
    n = NULL;
    CU_ASSERT_EQUAL(strata_open_string("driver=raw,file.driver=testmem,"
                                       "file.filename=mem1,file.fail-length=on", 0, &n, &err),
                    -EIO);
    CU_ASSERT_PTR_NULL(n);
    expect_err(err, "mem1: testmem: size withheld");
    strata_error_free(err);
}

static void test_no_truncate_refuses_resize(void)
{
    struct strata_node *n = tu_open(STRATA_O_RDWR, "driver=testmem,filename=mem2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_truncate(n, 2 << 20, false, STRATA_PREALLOC_OFF, &err), -ENOTSUP);
    expect_err(err, "mem2: resizing is not supported by driver 'testmem'");
    strata_error_free(err);
    CU_ASSERT_EQUAL(strata_get_length(n), 1 << 20);
    strata_close(n);
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "a size callback's error reaches the caller", test_length_error_reaches_caller },
        { "NULL truncate: resize refused by name", test_no_truncate_refuses_resize },
        { NULL, NULL },
    };
    tu_add_suite("abi", setup, NULL, tests);
    return tu_run();
}
