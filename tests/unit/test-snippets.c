/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-snippets.c - the plugins.d snippets the build makes: for every built
 * module, its snippet names exactly what its entry point declares, read
 * here through the typed descriptor lists, and no snippet is left without
 * its module. */
#include "testutil.h"

#include <strata/strata.h>
#include <strata/plugin.h>
#include <strata/cipher.h>
#include <strata/hash.h>
#include <strata/encryption.h>
#include <strata/kdf.h>

#include <dirent.h>
#include <dlfcn.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A list the loop below does not read would go unchecked. */
_Static_assert(sizeof(struct strata_plugin) ==
               offsetof(struct strata_plugin, kdfs) + sizeof(void *),
               "struct strata_plugin has a name list this test does not compare");

#define MAX_NAMES 256

struct names {
    char *v[MAX_NAMES];
    size_t n;
};

static void add(struct names *s, const char *key, const char *name)
{
    if (s->n == MAX_NAMES)
        return;
    char *e;
    if (asprintf(&e, "%s:%s", key, name ? name : "(null)") >= 0)
        s->v[s->n++] = e;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *joined(struct names *s)
{
    qsort(s->v, s->n, sizeof s->v[0], cmp);
    size_t len = 1;
    for (size_t i = 0; i < s->n; i++)
        len += strlen(s->v[i]) + 1;
    char *out = calloc(1, len);
    for (size_t i = 0; out && i < s->n; i++) {
        strcat(out, s->v[i]);
        strcat(out, " ");
    }
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    s->n = 0;
    return out;
}

static void declared(const char *path, struct names *s)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        fprintf(stderr, "%s\n", dlerror());
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    void *sym = dlsym(h, STRATA_PLUGIN_ENTRY_SYMBOL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sym);
    strata_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);
    const struct strata_plugin *p = entry();
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    for (size_t i = 0; p->drivers && p->drivers[i]; i++)
        add(s, "drivers", p->drivers[i]->name);
    for (size_t i = 0; p->ciphers && p->ciphers[i]; i++)
        add(s, "ciphers", p->ciphers[i]->name);
    for (size_t i = 0; p->hashes && p->hashes[i]; i++)
        add(s, "hashes", p->hashes[i]->name);
    for (size_t i = 0; p->crypto_formats && p->crypto_formats[i]; i++)
        add(s, "crypto-formats", p->crypto_formats[i]->name);
    /* kdfs came with plugin ABI 1.1: not there in an older module's struct. */
    if (p->struct_size >= offsetof(struct strata_plugin, kdfs) + sizeof p->kdfs)
        for (size_t i = 0; p->kdfs && p->kdfs[i]; i++)
            add(s, "kdfs", p->kdfs[i]->name);
    dlclose(h);
}

/* Every name the snippet gives the module, under whichever key. */
static bool listed(const char *snippet, const char *file, struct names *s)
{
    config_t cfg;
    config_init(&cfg);
    bool found = false;
    if (!config_read_file(&cfg, snippet)) {
        fprintf(stderr, "%s:%d: %s\n", snippet, config_error_line(&cfg),
                config_error_text(&cfg));
        config_destroy(&cfg);
        return false;
    }
    config_setting_t *mods = config_lookup(&cfg, "modules");
    for (int i = 0; mods && i < config_setting_length(mods); i++) {
        config_setting_t *g = config_setting_get_elem(mods, i);
        const char *f;
        if (!config_setting_lookup_string(g, "file", &f) || strcmp(f, file) != 0)
            continue;
        found = true;
        for (int k = 0; k < config_setting_length(g); k++) {
            config_setting_t *list = config_setting_get_elem(g, (unsigned)k);
            if (config_setting_type(list) != CONFIG_TYPE_ARRAY)
                continue;
            for (int j = 0; j < config_setting_length(list); j++)
                add(s, config_setting_name(list), config_setting_get_string_elem(list, j));
        }
    }
    config_destroy(&cfg);
    return found;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a > b && strcmp(s + a - b, suffix) == 0;
}

static void test_each_module(void)
{
    char dirpath[4096];
    snprintf(dirpath, sizeof dirpath, "%s", tu_build_path("lib/strata"));
    DIR *d = opendir(dirpath);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int modules = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!has_suffix(e->d_name, ".so"))
            continue;
        modules++;
        char path[8192], snippet[8192];
        snprintf(path, sizeof path, "%s/%s", dirpath, e->d_name);
        snprintf(snippet, sizeof snippet, "%s/plugins.d/%.*s.conf", dirpath,
                 (int)(strlen(e->d_name) - 3), e->d_name);
        struct names want = { 0 }, got = { 0 };
        declared(path, &want);
        bool found = listed(snippet, e->d_name, &got);
        char *w = joined(&want), *g = joined(&got);
        if (!found || strcmp(w, g) != 0)
            fprintf(stderr, "%s: declares [%s], %s lists [%s]\n", e->d_name, w, snippet,
                    found ? g : "(no entry)");
        CU_ASSERT_TRUE(found);
        CU_ASSERT_STRING_EQUAL(w, g);
        CU_ASSERT_NOT_EQUAL(strlen(w), 0);
        free(w);
        free(g);
    }
    closedir(d);
    CU_ASSERT_TRUE(modules >= 10);
}

static void test_no_stale_snippet(void)
{
    char dirpath[4096];
    snprintf(dirpath, sizeof dirpath, "%s", tu_build_path("lib/strata/plugins.d"));
    DIR *d = opendir(dirpath);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *e;
    int snippets = 0;
    while ((e = readdir(d))) {
        if (!has_suffix(e->d_name, ".conf"))
            continue;
        snippets++;
        char mod[8192];
        snprintf(mod, sizeof mod, "%s/../%.*s.so", dirpath, (int)(strlen(e->d_name) - 5),
                 e->d_name);
        FILE *f = fopen(mod, "r");
        if (!f)
            fprintf(stderr, "%s/%s: no module %s\n", dirpath, e->d_name, mod);
        CU_ASSERT_PTR_NOT_NULL(f);
        if (f)
            fclose(f);
    }
    closedir(d);
    CU_ASSERT_TRUE(snippets >= 10);
}

int main(void)
{
    /* Modules find libstrata's symbols in the process, as when strata loads
     * them. */
    printf("libstrata %s\n", strata_version());
    static const struct tu_test tests[] = {
        { "each module's snippet lists what its entry point declares", test_each_module },
        { "every snippet belongs to a built module", test_no_stale_snippet },
        { NULL, NULL },
    };
    tu_add_suite("snippets", NULL, NULL, tests);
    return tu_run();
}
