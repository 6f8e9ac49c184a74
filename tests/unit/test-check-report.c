/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-check-report.c - findings of a check as text: kept in order, and
 * capped, so that an image with millions of bad entries cannot fill memory
 * with messages while its counts stay exact. */
#include <stdio.h>
#include <string.h>

#include <strata/driver.h>
#include "testutil.h"

static void test_order(void)
{
    struct strata_check_result r = { 0 };
    strata_check_report(&r, "ERROR cluster %d refcount=0 reference=1", 5);
    strata_check_report(&r, "Leaked cluster %d refcount=1 reference=0", 7);
    CU_ASSERT_EQUAL_FATAL(r.nmessages, 2);
    CU_ASSERT_STRING_EQUAL(r.messages[0], "ERROR cluster 5 refcount=0 reference=1");
    CU_ASSERT_STRING_EQUAL(r.messages[1], "Leaked cluster 7 refcount=1 reference=0");
    strata_check_result_clear(&r);
    CU_ASSERT_EQUAL(r.nmessages, 0);
    CU_ASSERT_PTR_NULL(r.messages);
}

static void test_cap(void)
{
    struct strata_check_result r = { 0 };
    for (int i = 0; i < 150000; i++)
        strata_check_report(&r, "ERROR cluster %d refcount=0 reference=1", i);
    /* 100000 findings, then the line that says the rest are left out. */
    CU_ASSERT_EQUAL_FATAL(r.nmessages, 100001);
    CU_ASSERT_STRING_EQUAL(r.messages[99999], "ERROR cluster 99999 refcount=0 reference=1");
    CU_ASSERT_STRING_EQUAL(r.messages[100000],
                           "more than 100000 findings: the rest are not listed");
    strata_check_result_clear(&r);
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "findings in order", test_order },
        { "findings capped", test_cap },
        { NULL, NULL },
    };
    tu_add_suite("check findings", NULL, NULL, tests);
    return tu_run();
}
