/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* testutil.c - shared helpers for the CUnit test programs. */
#include "testutil.h"

#include <CUnit/Basic.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <strata/strata.h>

static char tmpdir[PATH_MAX];

static void remove_tmpdir(void)
{
    if (tmpdir[0] && !getenv("STRATA_KEEP_TMP")) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

const char *tu_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/strata-test-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
        atexit(remove_tmpdir);
    }
    return tmpdir;
}

const char *tu_path(const char *name)
{
    static char bufs[8][PATH_MAX];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, PATH_MAX, "%s/%s", tu_tmpdir(), name);
    return b;
}

static uint8_t pattern_byte(uint64_t o, uint32_t seed)
{
    uint64_t x = (o >> 3) * 0x9E3779B97F4A7C15ull + seed;
    x ^= x >> 29;
    return (uint8_t)(x + (o & 7) * 37);
}

void tu_fill(void *buf, uint64_t off, size_t len, uint32_t seed)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        p[i] = pattern_byte(off + i, seed);
}

int64_t tu_check(const void *buf, uint64_t off, size_t len, uint32_t seed)
{
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        if (p[i] != pattern_byte(off + i, seed))
            return (int64_t)(off + i);
    return -1;
}

void tu_put_be(void *p, int n, uint64_t v)
{
    uint8_t *b = p;
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
}

uint64_t tu_get_be(const void *p, int n)
{
    const uint8_t *b = p;
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | b[i];
    return v;
}

bool tu_all_byte(const void *p, size_t n, uint8_t v)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != v)
            return false;
    return true;
}

const char *tu_opts_join(const struct strata_opts *o)
{
    static char joined[4096];
    const char *k, *v;
    size_t n = 0;
    joined[0] = 0;
    for (size_t i = 0; strata_opts_entry(o, i, &k, &v); i++) {
        int w = snprintf(joined + n, sizeof joined - n, "%s%s=%s", i ? "|" : "", k, v);
        if (w < 0 || (size_t)w >= sizeof joined - n)
            break;
        n += (size_t)w;
    }
    return joined;
}

static const char *rel_path(const char *env, int up, const char *rel)
{
    static char bufs[8][2 * PATH_MAX];
    static unsigned next;
    char *b = bufs[next++ % 8];
    const char *base = getenv(env);
    if (base) {
        snprintf(b, 2 * PATH_MAX, "%s/%s", base, rel);
        return b;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        n = 0;
    self[n] = 0;
    for (int i = 0; i < up; i++) {
        char *s = strrchr(self, '/');
        if (s)
            *s = 0;
    }
    snprintf(b, 2 * PATH_MAX, "%s/%s", self, rel);
    return b;
}

const char *tu_build_path(const char *rel)
{
    return rel_path("STRATA_BUILD", 2, rel);   /* build/tests/prog -> build */
}

const char *tu_src_path(const char *rel)
{
    return rel_path("STRATA_SRCDIR", 3, rel);  /* build/tests/prog -> srcdir */
}

void tu_add_suite(const char *name, int (*init)(void), int (*clean)(void),
                  const struct tu_test *tests)
{
    if (CU_get_registry() == NULL && CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
        exit(2);
    }
    CU_pSuite s = CU_add_suite(name, init, clean);
    if (!s) {
        fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
        exit(2);
    }
    for (const struct tu_test *t = tests; t->name; t++)
        if (!CU_add_test(s, t->name, t->fn)) {
            fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
            exit(2);
        }
}

int tu_run(void)
{
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    unsigned suites_failed = CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    if (ran == 0) {
        fprintf(stderr, "no test ran\n");
        return 1;
    }
    return (failed || suites_failed) ? 1 : 0;
}
