/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugins.c - the plugin modules strata-img can find: each module file in
 * the plugin search path (STRATA_PLUGIN_PATH, then the directory beside
 * libstrata), what it declares and whether the library accepts it. */
#include "plugins.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strata/cipher.h>
#include <strata/hash.h>
#include <strata/plugin.h>

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names a list of descriptors declares; each descriptor begins with
 * abi_version, struct_size and name. */
struct desc_head {
    uint32_t abi_version;
    uint32_t struct_size;
    const char *name;
};

static void add_names(char *out, size_t len, const void *const *list)
{
    for (size_t i = 0; list && list[i]; i++) {
        const struct desc_head *d = list[i];
        size_t o = strlen(out);
        snprintf(out + o, len - o, "%s%s", o ? " " : "", d->name ? d->name : "?");
    }
}

/* Reads what one module declares without registering anything. */
static void inspect(struct img_plugin *p)
{
    void *h = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(p->error, sizeof p->error, "%s", dlerror());
        return;
    }
    strata_plugin_entry_fn entry;
    void *sym = dlsym(h, STRATA_PLUGIN_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof entry);
    const struct strata_plugin *pl = entry ? entry() : NULL;
    if (!pl) {
        snprintf(p->error, sizeof p->error, "no %s entry point", STRATA_PLUGIN_ENTRY_SYMBOL);
    } else {
        p->abi_version = pl->abi_version;
        if (STRATA_ABI_MAJOR_OF(pl->abi_version) == STRATA_PLUGIN_ABI_MAJOR) {
            add_names(p->drivers, sizeof p->drivers, (const void *const *)pl->drivers);
            add_names(p->ciphers, sizeof p->ciphers, (const void *const *)pl->ciphers);
            add_names(p->hashes, sizeof p->hashes, (const void *const *)pl->hashes);
            add_names(p->formats, sizeof p->formats,
                      (const void *const *)pl->crypto_formats);
            /* kdfs came with plugin ABI 1.1: not in an older module's struct. */
            if (pl->struct_size >= offsetof(struct strata_plugin, kdfs) + sizeof pl->kdfs)
                add_names(p->kdfs, sizeof p->kdfs, (const void *const *)pl->kdfs);
        }
    }
    dlclose(h);
}

static void scan_dir(const char *dir, void (*fn)(const struct img_plugin *, void *),
                     void *opaque)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 4 || strcmp(e->d_name + l - 3, ".so") != 0)
            continue;
        char **v = realloc(names, (n + 1) * sizeof *v);
        if (!v)
            break;
        names = v;
        if ((names[n] = strdup(e->d_name)))
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        struct img_plugin *p = calloc(1, sizeof *p);
        if (p) {
            p->file = names[i];
            snprintf(p->path, sizeof p->path, "%s/%s", dir, names[i]);
            inspect(p);
            if (!p->error[0]) {
                /* The library's own checks: ABI, callbacks, self-tests. */
                struct strata_error *err = NULL;
                p->accepted = strata_module_load(p->path, &err) == 0;
                if (!p->accepted)
                    snprintf(p->error, sizeof p->error, "%s",
                             err && err->msg ? err->msg : "refused");
                strata_error_free(err);
            }
            fn(p, opaque);
            free(p);
        }
        free(names[i]);
    }
    free(names);
}

void img_plugins_foreach(void (*fn)(const struct img_plugin *p, void *opaque), void *opaque)
{
    strata_init(NULL);
    const char *env = getenv("STRATA_PLUGIN_PATH");
    char *copy = env ? strdup(env) : NULL, *save = NULL;
    for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d;
         d = strtok_r(NULL, ":", &save))
        scan_dir(d, fn, opaque);
    free(copy);
    char def[PATH_MAX];
    strata_plugin_default_dir(def, sizeof def);
    if (def[0])
        scan_dir(def, fn, opaque);
}

struct supported {
    char drivers[4096], ciphers[2048], hashes[2048], formats[1024], kdfs[1024];
};

static void append_words(char *out, size_t len, const char *words)
{
    char copy[512], *save = NULL;
    snprintf(copy, sizeof copy, "%s", words);
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        size_t o = strlen(out);
        snprintf(out + o, len - o, " %s", w);
    }
}

static void collect(const struct img_plugin *p, void *opaque)
{
    struct supported *s = opaque;
    if (!p->accepted)
        return;
    append_words(s->drivers, sizeof s->drivers, p->drivers);
    append_words(s->ciphers, sizeof s->ciphers, p->ciphers);
    append_words(s->hashes, sizeof s->hashes, p->hashes);
    append_words(s->formats, sizeof s->formats, p->formats);
    append_words(s->kdfs, sizeof s->kdfs, p->kdfs);
}

/* "Supported formats: a b c" with the words sorted and each once. */
static void print_sorted(const char *label, char *words)
{
    char *v[256], *save = NULL;
    size_t n = 0;
    for (char *w = strtok_r(words, " ", &save); w && n < 256; w = strtok_r(NULL, " ", &save))
        v[n++] = w;
    qsort(v, n, sizeof *v, by_name);
    printf("%s:", label);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
            printf(" %s", v[i]);
    putchar('\n');
}

void img_print_supported(void)
{
    static struct supported s;
    memset(&s, 0, sizeof s);
    img_plugins_foreach(collect, &s);
    putchar('\n');
    print_sorted("Supported formats", s.drivers);
    print_sorted("Supported encryption formats", s.formats);
    print_sorted("Supported ciphers", s.ciphers);
    print_sorted("Supported hashes", s.hashes);
    print_sorted("Supported key derivation functions", s.kdfs);
}
