/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_list_plugins.c - strata-img list-plugins: every plugin module on the
 * search path, its ABI version, what it provides and whether the library
 * accepted it (a cipher or hash module passes its known-answer self-test
 * when it is accepted). */
#include "plugins.h"

#include <stdio.h>
#include <string.h>

static void print_one(const struct img_plugin *p, void *opaque)
{
    int *failed = opaque;
    printf("%s\n", p->path);
    if (p->abi_version)
        printf("    ABI version: %u.%u\n", STRATA_ABI_MAJOR_OF(p->abi_version),
               p->abi_version & 0xffff);
    static const char *const kinds[] = { "drivers", "ciphers", "hashes",
                                         "encryption formats", "key derivation functions" };
    const char *lists[] = { p->drivers, p->ciphers, p->hashes, p->formats, p->kdfs };
    for (int i = 0; i < 5; i++)
        if (lists[i][0])
            printf("    %s: %s\n", kinds[i], lists[i]);
    bool tested = p->ciphers[0] || p->hashes[0] || p->kdfs[0];
    if (p->accepted) {
        printf("    status: loaded%s\n", tested ? ", self-test passed" : "");
    } else {
        printf("    status: refused: %s\n", p->error);
        (*failed)++;
    }
}

static int run(struct img_args *a)
{
    if (a->nwords > 0)
        return tool_usage_error("list-plugins", "Unexpected argument '%s'", a->words[0]);
    int failed = 0;
    img_plugins_foreach(print_one, &failed);
    return failed ? 1 : 0;
}

const struct img_command img_cmd_list_plugins = {
    .name = "list-plugins",
    .synopsis = "list-plugins",
    .summary = "List the plugin modules found, their ABI versions and self-tests.",
    .flags = IMG_NO_IMAGE,
    .options = (const struct img_option[]){ { 0 } },
    .run = run,
    .notes =
        "Each module file on the plugin search path (STRATA_PLUGIN_PATH, then the\n"
        "installed plugin directory) with its plugin ABI version, the drivers,\n"
        "ciphers, hashes, encryption formats and key derivation functions it\n"
        "provides, and whether the library accepted it: a cipher, hash or KDF\n"
        "module is accepted only after its\n"
        "known-answer self-test passed.  Exits with 1 when a module was refused.\n",
};
