/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-registry.c - the plugin registry and module loader: lazy loading by
 * name, refusals of wrong-ABI, wrong-kind and incomplete plugins, modules a
 * snippet names but that are missing. */
#include "testutil.h"

#include <strata/strata.h>
#include <strata/cipher.h>
#include <strata/hash.h>
#include <strata/plugin.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char plugdir[4096];

static bool maps_contain(const char *needle)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[8192];
    bool found = false;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, needle))
            found = true;
    if (f)
        fclose(f);
    return found;
}

static void test_lazy_lookup(void)
{
    struct strata_error *err = NULL;
    CU_ASSERT_FALSE(maps_contain("/testmem.so"));
    const struct strata_driver *d = strata_driver_find("testmem", &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_STRING_EQUAL(d->name, "testmem");
    CU_ASSERT_TRUE(maps_contain("/testmem.so"));
    /* Only what was asked for is loaded. */
    CU_ASSERT_FALSE(maps_contain("/cipher-aes.so"));
    CU_ASSERT_FALSE(maps_contain("/driver-blkdebug.so"));
    /* The second lookup finds the same descriptor. */
    CU_ASSERT_PTR_EQUAL(strata_driver_find("testmem", NULL), d);
}

static void expect_refusal(const char *so, const char *want1, const char *want2)
{
    char path[4200];
    struct strata_error *err = NULL;
    snprintf(path, sizeof path, "%s/%s", plugdir, so);
    int r = strata_module_load(path, &err);
    CU_ASSERT_EQUAL(r, -EINVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, so));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, want1));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, want2));
    strata_error_free(err);
}

static void test_refuse_future_driver_abi(void)
{
    char want[64];
    snprintf(want, sizeof want, "driver ABI %d.0", STRATA_DRIVER_ABI_MAJOR + 1);
    expect_refusal("abi-future.so", "driver 'future' refused", want);
}

static void test_refuse_missing_callback(void)
{
    expect_refusal("no-open.so", "driver 'noopen' refused", "'open' is missing");
}

static void test_refuse_future_plugin_abi(void)
{
    char want[64];
    snprintf(want, sizeof want, "plugin ABI %d.0", STRATA_PLUGIN_ABI_MAJOR + 1);
    expect_refusal("plugin-abi-future.so", "refused", want);
}

static void test_refuse_kind_mismatch(void)
{
    expect_refusal("kind-mismatch.so", "hash 'mismatched' refused",
                   "carries the cipher ABI tag");
}

/* Descriptors of plugins built before kind tags carry a plain version. */
static void test_untagged_loads(void)
{
    char path[4200];
    struct strata_error *err = NULL;
    snprintf(path, sizeof path, "%s/abi-untagged.so", plugdir);
    CU_ASSERT_EQUAL(strata_module_load(path, &err), 0);
    CU_ASSERT_PTR_NULL(err);
    strata_error_free(err);
    const struct strata_hash_alg *h = strata_hash_alg_find("untagged", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(h->abi_version, 1u << 16);
    CU_ASSERT_EQUAL(h->digest_size, 4);
}

static void test_refused_name_lookup(void)
{
    /* Lookups of a refused driver say why it is not available. */
    struct strata_error *err = NULL;
    CU_ASSERT_PTR_NULL(strata_driver_find("noopen", &err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_EQUAL(err->code, ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "Unknown driver 'noopen'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "'open' is missing"));
    strata_error_free(err);
}

static void test_unknown_driver(void)
{
    struct strata_error *err = NULL;
    struct strata_node *n = NULL;
    int r = strata_open_string("driver=nosuchformat,file.filename=/dev/null", 0, &n, &err);
    CU_ASSERT_EQUAL(r, -ENOENT);
    CU_ASSERT_PTR_NULL(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "Unknown driver 'nosuchformat'"));
    strata_error_free(err);
}

static void test_missing_module(void)
{
    /* The snippet in plugdir2 names driver-ghost.so, which does not exist. */
    struct strata_error *err = NULL;
    struct strata_node *n = NULL;
    int r = strata_open_string("driver=ghost,file.filename=/dev/null", 0, &n, &err);
    CU_ASSERT_EQUAL(r, -ENOENT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "cannot use driver 'ghost'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "driver-ghost.so was not found"));
    strata_error_free(err);
    /* Other drivers keep working. */
    CU_ASSERT_EQUAL(strata_open_string("driver=testmem,size=4096", 0, &n, NULL), 0);
    strata_close(n);
}

struct seen { int *a, *b; };

static void cb(const struct strata_driver *d, void *opaque)
{
    struct seen *ctx = opaque;
    if (strcmp(d->name, "testmem") == 0)
        (*ctx->a)++;
    if (strcmp(d->name, "noopen") == 0 || strcmp(d->name, "future") == 0)
        (*ctx->b)++;
}

static void test_foreach(void)
{
    /* Every accepted driver is listed once; refused ones never. */
    struct strata_error *err = NULL;
    CU_ASSERT_PTR_NOT_NULL(strata_driver_find("testmem", &err));
    int seen_testmem = 0, seen_refused = 0;
    struct seen ctx = { &seen_testmem, &seen_refused };
    strata_driver_foreach(cb, &ctx);
    CU_ASSERT_EQUAL(seen_testmem, 1);
    CU_ASSERT_EQUAL(seen_refused, 0);
}

#define NTHREADS 8

static void *find_serpent(void *arg)
{
    return (void *)strata_cipher_alg_find("serpent", NULL);
}

/* Threads that look up a name whose module is not loaded yet all get the
 * same descriptor: one of them loads the module, the others wait for it
 * instead of finding the name missing or loading the module twice. */
static void test_concurrent_first_lookup(void)
{
    CU_ASSERT_FALSE(maps_contain("/cipher-serpent.so"));
    pthread_t t[NTHREADS];
    void *got[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, find_serpent, NULL), 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], &got[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got[0]);
    for (int i = 1; i < NTHREADS; i++)
        CU_ASSERT_PTR_EQUAL(got[i], got[0]);
    CU_ASSERT_STRING_EQUAL(((const struct strata_cipher_alg *)got[0])->name, "serpent");
}

int main(void)
{
    /* The search path must be set before the library initialises. */
    const char *snipdir = tu_path("snippets");
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", snipdir);
    if (system(cmd) != 0)
        return 2;
    snprintf(cmd, sizeof cmd, "%s/ghost.conf", snipdir);
    FILE *f = fopen(cmd, "w");
    if (!f)
        return 2;
    fputs("modules = ( { file = \"driver-ghost.so\"; drivers = [ \"ghost\" ]; } );\n", f);
    fclose(f);
    snprintf(plugdir, sizeof plugdir, "%s", tu_build_path("tests/plugins"));
    /* Only the modules these tests look up by name are on the search path,
     * so that what gets loaded is decided by the registry alone. */
    snprintf(cmd, sizeof cmd, "cp '%s/testmem.so' '%s/no-open.so' '%s/'", plugdir, plugdir,
             snipdir);
    if (system(cmd) != 0)
        return 2;
    char path[8400];
    snprintf(path, sizeof path, "%s", snipdir);
    setenv("STRATA_PLUGIN_PATH", path, 1);

    static const struct tu_test tests[] = {
        { "lazy lookup loads only the module asked for", test_lazy_lookup },
        { "refuse a driver built for a future driver ABI", test_refuse_future_driver_abi },
        { "refuse a driver missing a mandatory callback", test_refuse_missing_callback },
        { "refuse a module with a future plugin ABI", test_refuse_future_plugin_abi },
        { "refuse a hash carrying the cipher ABI tag", test_refuse_kind_mismatch },
        { "a descriptor without a kind tag still loads", test_untagged_loads },
        { "lookup of a refused driver says why", test_refused_name_lookup },
        { "unknown driver", test_unknown_driver },
        { "snippet names a missing module", test_missing_module },
        { "foreach lists accepted drivers once", test_foreach },
        { "concurrent first lookups of one name", test_concurrent_first_lookup },
        { NULL, NULL },
    };
    tu_add_suite("registry", NULL, NULL, tests);
    return tu_run();
}
