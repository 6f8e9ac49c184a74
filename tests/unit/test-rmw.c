/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-rmw.c - read-modify-write on a node with 4 KiB alignment (blkdebug
 * align=4096): eight threads each own one 512-byte slot of every block and
 * rewrite their slots over and over at the same time; afterwards every
 * slot holds its owner's last pattern (a lost update shows as another
 * round's or another thread's bytes).  The request path raises QEMU's
 * events: a rule on pwritev_rmw_head fails an unaligned write only, one on
 * pwritev_rmw_tail a write with an unaligned end, one on pwritev every
 * write. */
#include "hostfile.h"
#include "testutil.h"

#include <strata/strata.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define THREADS 8
#define BLOCKS 16
#define ROUNDS 150

static struct strata_node *open_aligned(const char *extra)
{
    char spec[8192];
    snprintf(spec, sizeof spec, "driver=blkdebug,align=4096,%simage.driver=file,"
             "image.filename=%s", extra, tu_path("rmw.img"));
    struct strata_node *n = NULL;
    struct strata_error *err = NULL;
    if (strata_open_string(spec, STRATA_O_RDWR, &n, &err) < 0) {
        fprintf(stderr, "\n    open failed: %s\n", err ? err->msg : "?");
        n = NULL;
    }
    strata_error_free(err);
    return n;
}

static uint8_t pattern(int thread, int round)
{
    return (uint8_t)(1 + thread * ROUNDS + round);
}

struct worker {
    struct strata_node *n;
    int thread;
    int failures;
};

static void *rewrite_slots(void *arg)
{
    struct worker *w = arg;
    uint8_t buf[512];
    for (int round = 0; round < ROUNDS; round++) {
        memset(buf, pattern(w->thread, round), sizeof buf);
        for (int b = 0; b < BLOCKS; b++) {
            uint64_t off = (uint64_t)b * 4096 + (uint64_t)w->thread * 512;
            if (strata_pwrite(w->n, off, sizeof buf, buf, 0, NULL) < 0)
                w->failures++;
        }
    }
    return NULL;
}

static void test_concurrent_slots(void)
{
    unlink(tu_path("rmw.img"));
    tu_fill_file(tu_path("rmw.img"), 0, BLOCKS * 4096, 1);
    struct strata_node *n = open_aligned("");
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (struct worker){ .n = n, .thread = t };
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[t], NULL, rewrite_slots, &w[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        CU_ASSERT_EQUAL(w[t].failures, 0);
    }
    static uint8_t disk[BLOCKS * 4096];
    CU_ASSERT_EQUAL_FATAL(strata_pread(n, 0, sizeof disk, disk, 0, NULL), 0);
    int lost = 0;
    for (int b = 0; b < BLOCKS; b++)
        for (int t = 0; t < THREADS; t++) {
            const uint8_t *slot = disk + b * 4096 + t * 512;
            for (int i = 0; i < 512; i++)
                if (slot[i] != pattern(t, ROUNDS - 1)) {
                    lost++;
                    break;
                }
        }
    CU_ASSERT_EQUAL(lost, 0);
    strata_close(n);
}

/* Writes [off, off+len) through a node whose rule fails on `event`. */
static int write_with_rule(const char *event, uint64_t off, uint64_t len)
{
    char extra[256];
    snprintf(extra, sizeof extra, "inject-error.0.event=%s,inject-error.0.iotype=read,"
             "inject-error.0.errno=5,", event);
    if (strcmp(event, "pwritev") == 0)
        snprintf(extra, sizeof extra, "inject-error.0.event=pwritev,"
                 "inject-error.0.iotype=write,inject-error.0.errno=5,");
    struct strata_node *n = open_aligned(extra);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    uint8_t buf[8192];
    memset(buf, 0x5a, sizeof buf);
    int r = strata_pwrite(n, off, len, buf, 0, NULL);
    strata_close(n);
    return r;
}

static void test_events(void)
{
    unlink(tu_path("rmw.img"));
    tu_fill_file(tu_path("rmw.img"), 0, BLOCKS * 4096, 1);
    /* The head's read comes after pwritev_rmw_head, and fails. */
    CU_ASSERT(write_with_rule("pwritev_rmw_head", 512, 4096) < 0);
    CU_ASSERT(write_with_rule("pwritev_rmw_head", 0, 4096) == 0);
    CU_ASSERT(write_with_rule("pwritev_rmw_head", 0, 4096 + 512) == 0);
    CU_ASSERT(write_with_rule("pwritev_rmw_tail", 0, 4096 + 512) < 0);
    CU_ASSERT(write_with_rule("pwritev_rmw_tail", 0, 512) < 0);
    CU_ASSERT(write_with_rule("pwritev_rmw_tail", 4096, 4096) == 0);
    CU_ASSERT(write_with_rule("pwritev", 4096, 4096) < 0);
    CU_ASSERT(write_with_rule("pwritev", 100, 50) < 0);
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "eight threads rewriting slots of the same blocks", test_concurrent_slots },
        { "the request path raises QEMU's pwritev events", test_events },
        { NULL, NULL },
    };
    tu_add_suite("rmw", NULL, NULL, tests);
    return tu_run();
}
