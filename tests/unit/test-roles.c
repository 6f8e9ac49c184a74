/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-roles.c - child roles: the core treats a child by the flags its
 * parent's driver declares for the role, whatever the role is called, and
 * refuses a role table it could not act on. */
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *make_file(const char *name, size_t len, int byte)
{
    const char *p = tu_path(name);
    FILE *f = fopen(p, "w");
    if (!f)
        return NULL;
    for (size_t i = 0; i < len; i++)
        fputc(byte, f);
    fclose(f);
    return p;
}

static char store[4096], ext[4096], lower[4096];

static int setup(void)
{
    if (strata_module_load(tu_build_path("tests/plugins/roles.so"), NULL) < 0)
        return 1;
    const char *a = make_file("store.img", 8192, 0x11);
    if (!a)
        return 1;
    snprintf(store, sizeof store, "%s", a);
    const char *b = make_file("ext.img", 65536, 0x22);
    if (!b)
        return 1;
    snprintf(ext, sizeof ext, "%s", b);
    const char *c = make_file("lower.img", 65536, 0x33);
    if (!c)
        return 1;
    snprintf(lower, sizeof lower, "%s", c);
    return 0;
}

static void test_protocol_flag(void)
{
    /* Both PROTOCOL roles get the file protocol for a bare file name; the
     * COW role without it gets a probed format over the file. */
    struct strata_node *n = tu_open(0, "driver=rolefmt,store.filename=%s,"
                                     "external-data.filename=%s,lower.filename=%s",
                                     store, ext, lower);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_STRING_EQUAL(strata_node_driver_name(strata_node_child(n, "store")), "file");
    CU_ASSERT_STRING_EQUAL(strata_node_driver_name(strata_node_child(n, "external-data")),
                           "file");
    CU_ASSERT_STRING_EQUAL(strata_node_driver_name(strata_node_child(n, "lower")), "raw");
    strata_close(n);
}

static void test_primary_flag(void)
{
    /* filename= on the format goes to its primary protocol role, which
     * also names the node. */
    struct strata_node *n = tu_open(0, "driver=rolefmt,filename=%s,external-data.filename=%s",
                                     store, ext);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_PTR_NOT_NULL(strata_node_child(n, "store"));
    CU_ASSERT_STRING_EQUAL(strata_node_filename(n), store);
    strata_close(n);
}

static void test_cow_flag(void)
{
    struct strata_node *n = tu_open(0, "driver=rolefmt,store.filename=%s,"
                                     "external-data.filename=%s,lower.filename=%s",
                                     store, ext, lower);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    /* The unallocated first half is found one link down, in "lower". */
    struct strata_block_status bs;
    int depth = -1;
    CU_ASSERT_EQUAL(strata_block_status_above(n, 0, 4096, &bs, &depth, NULL), 0);
    CU_ASSERT_EQUAL(depth, 1);
    CU_ASSERT_TRUE(bs.flags & STRATA_BS_ALLOCATED);
    CU_ASSERT_EQUAL(strata_block_status_above(n, 40000, 4096, &bs, &depth, NULL), 0);
    CU_ASSERT_EQUAL(depth, 0);
    CU_ASSERT_PTR_EQUAL(strata_node_child_with(n, STRATA_CHILD_COW),
                        strata_node_child(n, "lower"));
    CU_ASSERT_PTR_EQUAL(strata_node_child_with(n, STRATA_CHILD_PRIMARY | STRATA_CHILD_PROTOCOL),
                        strata_node_child(n, "store"));
    /* The allocated size counts every child but the COW one. */
    int64_t a_store = strata_get_allocated_size(strata_node_child(n, "store"));
    int64_t a_ext = strata_get_allocated_size(strata_node_child(n, "external-data"));
    int64_t a_lower = strata_get_allocated_size(strata_node_child(n, "lower"));
    CU_ASSERT_TRUE(a_lower > 0);
    CU_ASSERT_EQUAL(strata_get_allocated_size(n), a_store + a_ext);
    strata_close(n);
}

static void test_malformed_table_refused(void)
{
    struct strata_error *err = NULL;
    int r = strata_module_load(tu_build_path("tests/plugins/roles-bad.so"), &err);
    CU_ASSERT_EQUAL(r, -EINVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "rolebad"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "only one role may be PRIMARY"));
    strata_error_free(err);
    CU_ASSERT_PTR_NULL(strata_driver_find("rolebad", NULL));
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "PROTOCOL: a bare file name opens a protocol node", test_protocol_flag },
        { "PRIMARY: filename= and the node's name", test_primary_flag },
        { "COW: status through the chain, allocated size", test_cow_flag },
        { "two PRIMARY roles are refused at load", test_malformed_table_refused },
        { NULL, NULL },
    };
    tu_add_suite("roles", setup, NULL, tests);
    return tu_run();
}
