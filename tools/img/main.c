/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main.c - strata-img: dispatches to the commands. */
#include "img.h"

#include <stdio.h>
#include <string.h>

static const struct img_command *const commands[] = {
    &img_cmd_amend, &img_cmd_bench, &img_cmd_check, &img_cmd_compare,
    &img_cmd_convert, &img_cmd_create, &img_cmd_dd, &img_cmd_info,
    &img_cmd_map, &img_cmd_measure, &img_cmd_resize, &img_cmd_snapshot,
    &img_cmd_rebase, &img_cmd_commit,
    &img_cmd_erase, &img_cmd_format, &img_cmd_header_backup, &img_cmd_header_restore,
    &img_cmd_check_key, &img_cmd_list_plugins,
    NULL,
};

int img_print_help(const struct img_command *cmd)
{
    printf("usage: %s %s\n\n%s\n", tool_progname(), cmd->synopsis, cmd->summary);
    if (cmd->help && *cmd->help)
        printf("\n%s", cmd->help);
    return 0;
}

static void print_usage(void)
{
    printf("usage: %s [--help | --version] COMMAND [OPTIONS] ...\n\n"
           "Creates, inspects, converts and checks disk images through the strata\n"
           "block stack.  Options and output follow qemu-img.\n\n"
           "Commands:\n", tool_progname());
    for (size_t i = 0; commands[i]; i++)
        printf("  %-14s %s\n", commands[i]->name, commands[i]->summary);
    printf("\nImages are named by a file name (format probed unless -f is given), by\n"
           "dotted options with --image-opts (driver=raw,file.filename=disk.img),\n"
           "or by a stack config file with --config FILE.\n"
           "Sizes take the binary suffixes K, M, G, T, P, E.\n\n"
           "Run '%s COMMAND --help' for the options of one command.\n",
           tool_progname());
    img_print_supported();
}

static void print_version(void)
{
    printf("%s version %s\n", tool_progname(), STRATA_VERSION_STRING);
}

int main(int argc, char **argv)
{
    tool_set_progname("strata-img");
    tool_install_warning_handler();

    if (argc < 2) {
        tool_error("Not enough arguments");
        fprintf(stderr, "Try '%s --help' for more information.\n", tool_progname());
        return 1;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        print_usage();
        return 0;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
        print_version();
        return 0;
    }
    for (size_t i = 0; commands[i]; i++) {
        if (strcmp(commands[i]->name, name) == 0) {
            /* getopt's own messages are replaced by tool_getopt_error */
            opterr = 0;
            return commands[i]->run(argc - 1, argv + 1);
        }
    }
    if (name[0] == '-')
        tool_error("unrecognized option '%s'", name);
    else
        tool_error("Command not found: %s", name);
    fprintf(stderr, "Try '%s --help' for more information.\n", tool_progname());
    return 1;
}
