/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main.c - strata-plugin-snippet: prints the plugins.d snippet for built
 * modules from what their strata_plugin_entry() declares, so that a snippet
 * names exactly the names its module provides. */
#include "../common/tool.h"

#include <strata/plugin.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The name lists of struct strata_plugin and the snippet keys the loader
 * reads them under: a new kind is one line here. */
static const struct kind {
    const char *key;
    size_t offset;
} kinds[] = {
    { "drivers", offsetof(struct strata_plugin, drivers) },
    { "ciphers", offsetof(struct strata_plugin, ciphers) },
    { "hashes", offsetof(struct strata_plugin, hashes) },
    { "crypto-formats", offsetof(struct strata_plugin, crypto_formats) },
    { "kdfs", offsetof(struct strata_plugin, kdfs) },
};
_Static_assert(offsetof(struct strata_plugin, drivers) +
               sizeof kinds / sizeof kinds[0] * sizeof(void *) == sizeof(struct strata_plugin),
               "every name list of struct strata_plugin needs a line in kinds[]");

/* Every descriptor (driver, cipher, hash, crypto format...) starts with its
 * ABI version and size, then its name: the loader reads names the same way. */
struct desc_head {
    uint32_t abi_version;
    uint32_t struct_size;
    const char *name;
};

static void print_string(FILE *out, const char *s)
{
    putc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putc('\\', out);
        putc(*s, out);
    }
    putc('"', out);
}

static int print_module(FILE *out, const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        tool_error("%s: cannot load module: %s", path, dlerror());
        return 1;
    }
    void *sym = dlsym(h, STRATA_PLUGIN_ENTRY_SYMBOL);
    strata_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);
    const struct strata_plugin *p = sym ? entry() : NULL;
    if (!p) {
        tool_error("%s: not a strata plugin: no %s or it returned nothing", path,
                   STRATA_PLUGIN_ENTRY_SYMBOL);
        dlclose(h);
        return 1;
    }
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t total = 0;
    fprintf(out, "  { file = ");
    print_string(out, base);
    fprintf(out, ";");
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        /* A module built against an older, shorter struct has no such list. */
        if (kinds[k].offset + sizeof(void *) > p->struct_size)
            continue;
        const struct desc_head *const *list;
        memcpy(&list, (const char *)p + kinds[k].offset, sizeof list);
        if (!list || !list[0])
            continue;
        fprintf(out, " %s = [ ", kinds[k].key);
        for (size_t i = 0; list[i]; i++, total++) {
            if (i)
                fprintf(out, ", ");
            print_string(out, list[i]->name ? list[i]->name : "");
        }
        fprintf(out, " ];");
    }
    fprintf(out, " }");
    dlclose(h);
    if (!total) {
        tool_error("%s: the module declares no names", path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    tool_set_progname("strata-plugin-snippet");
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        printf("usage: %s MODULE.so...\n\n"
               "Prints the plugins.d snippet naming what each module's\n"
               "strata_plugin_entry() declares, for plugins.d/ in strata's plugin\n"
               "directory, SYSCONFDIR/strata/plugins.d, or a directory of\n"
               "STRATA_PLUGIN_PATH (next to the module).\n", tool_progname());
        return argc < 2;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("%s version %s\n", tool_progname(), strata_version());
        return 0;
    }
    /* Nothing is printed unless every module could be read. */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) {
        tool_error("out of memory");
        return 1;
    }
    fprintf(out, "# Made by %s from what the module%s declare%s.\nmodules = (\n",
            tool_progname(), argc > 2 ? "s" : "", argc > 2 ? "" : "s");
    int status = 0;
    for (int i = 1; i < argc && !status; i++) {
        status = print_module(out, argv[i]);
        fprintf(out, "%s\n", i + 1 < argc ? "," : "");
    }
    fprintf(out, ");\n");
    fclose(out);
    if (!status)
        fwrite(text, 1, len, stdout);
    free(text);
    return status;
}
