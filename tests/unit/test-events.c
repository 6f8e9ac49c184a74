/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-events.c - the driver event table: every event has one name, names
 * map back, and docs/blkdebug.md lists exactly the table's names. */
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DOC 256

/* The names in the table of the "## Events" section: rows "| `name` | ...". */
static size_t doc_events(char names[][64], size_t max)
{
    FILE *f = fopen(tu_src_path("docs/blkdebug.md"), "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[1024];
    bool in_section = false;
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "## ", 3) == 0)
            in_section = strncmp(line, "## Events", 9) == 0;
        if (!in_section || strncmp(line, "| `", 3) != 0)
            continue;
        char *end = strchr(line + 3, '`');
        CU_ASSERT_PTR_NOT_NULL_FATAL(end);
        *end = 0;
        CU_ASSERT_FATAL(n < max);
        snprintf(names[n++], 64, "%.63s", line + 3);
    }
    fclose(f);
    return n;
}

static void test_names_round_trip(void)
{
    for (unsigned i = 1; i < STRATA_EV_COUNT; i++) {
        const char *name = strata_event_name((enum strata_event)i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(name);
        enum strata_event ev = STRATA_EV_NONE;
        CU_ASSERT_EQUAL(strata_event_lookup(name, &ev), 0);
        CU_ASSERT_EQUAL(ev, (enum strata_event)i);
    }
    CU_ASSERT_PTR_NULL(strata_event_name(STRATA_EV_NONE));
    CU_ASSERT_PTR_NULL(strata_event_name(STRATA_EV_COUNT));
    CU_ASSERT_STRING_EQUAL(strata_event_name(STRATA_EV_L2_UPDATE), "l2_update");
    enum strata_event ev;
    CU_ASSERT_EQUAL(strata_event_lookup("L2_UPDATE", &ev), -ENOENT);
    CU_ASSERT_EQUAL(strata_event_lookup("", &ev), -ENOENT);
    CU_ASSERT_EQUAL(strata_event_lookup(NULL, &ev), -ENOENT);
}

static void test_doc_matches_table(void)
{
    static char doc[MAX_DOC][64];
    size_t n = doc_events(doc, MAX_DOC);
    for (size_t i = 0; i < n; i++) {
        enum strata_event ev;
        if (strata_event_lookup(doc[i], &ev) < 0)
            fprintf(stderr, "\n    docs/blkdebug.md lists '%s', the table does not\n", doc[i]);
        CU_ASSERT_EQUAL(strata_event_lookup(doc[i], &ev), 0);
        for (size_t j = 0; j < i; j++)
            CU_ASSERT_NOT_EQUAL(strcmp(doc[i], doc[j]), 0);
    }
    for (unsigned i = 1; i < STRATA_EV_COUNT; i++) {
        const char *name = strata_event_name((enum strata_event)i);
        bool found = false;
        for (size_t j = 0; j < n && !found; j++)
            found = strcmp(doc[j], name) == 0;
        if (!found)
            fprintf(stderr, "\n    event '%s' is missing from docs/blkdebug.md\n", name);
        CU_ASSERT_TRUE(found);
    }
    CU_ASSERT_EQUAL(n, STRATA_EV_COUNT - 1);
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "every event has a name that maps back", test_names_round_trip },
        { "docs/blkdebug.md lists exactly the table", test_doc_matches_table },
        { NULL, NULL },
    };
    tu_add_suite("events", NULL, NULL, tests);
    return tu_run();
}
