/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* img.h - the strata-img command table. */
#ifndef STRATA_TOOLS_IMG_H
#define STRATA_TOOLS_IMG_H

#include "../common/tool.h"

struct img_command {
    const char *name;
    int (*run)(int argc, char **argv);  /* argv[0] is the command name */
    const char *synopsis;               /* after "strata-img " */
    const char *summary;                /* one line for the command list */
    const char *help;                   /* option descriptions */
};

extern const struct img_command img_cmd_amend, img_cmd_bench, img_cmd_check,
    img_cmd_compare, img_cmd_convert, img_cmd_create, img_cmd_dd, img_cmd_info,
    img_cmd_map, img_cmd_measure, img_cmd_resize, img_cmd_snapshot,
    img_cmd_rebase, img_cmd_commit;
/* Encryption (LUKS) commands. */
extern const struct img_command img_cmd_erase, img_cmd_format, img_cmd_header_backup,
    img_cmd_header_restore, img_cmd_check_key, img_cmd_list_plugins;

/* The end of --help (plugins.c), as qemu-img's "Supported formats:": the
 * drivers, encryption formats, ciphers and hashes of the modules the
 * library accepts. */
void img_print_supported(void);

/* Prints the command's usage and option help to stdout; returns 0. */
int img_print_help(const struct img_command *cmd);

/* -o handling shared by create, convert, amend and measure: the values of
 * every -o are joined, as qemu-img does. */
struct img_create_opts {
    struct strata_opts *opts;
    bool want_help;             /* -o help or -o ? */
};
int img_opts_add(struct img_create_opts *co, const char *arg,
                 struct strata_error **errp);
void img_opts_free(struct img_create_opts *co);
/* Lists descs ("-o help"): name, type, default, help. */
void img_opts_print_help(const char *format, const char *what,
                         const struct strata_opt_desc *descs);
/* Lists what a format takes at creation: its own options and, for a
 * format on a file, the file protocol's (preallocation). */
void img_opts_print_create_help(const struct strata_driver *drv);
/* Reads a size-typed option out of the list (e.g. size=), removing it. */
int img_opts_take_size(struct img_create_opts *co, const char *key,
                       uint64_t *out, bool *found, struct strata_error **errp);

/* Prints a "snapshots" list (driver.h's fields) as qemu-img's
 * "Snapshot list:" table; used by snapshot -l and info. */
void img_print_snapshot_list(const struct strata_info *list);

/* Looks up the driver for -f/-O, with a message naming the format. */
const struct strata_driver *img_find_format(const char *name,
                                            struct strata_error **errp);

#endif
