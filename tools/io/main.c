/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main.c - strata-io: runs qemu-io style commands against an image, from
 * -c options or, without them, from standard input with a prompt. */
#include "io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IO_MAX_COMMANDS 256
#define IO_MAX_ARGS 64

const struct io_command *const io_commands[] = {
    &io_cmd_discard, &io_cmd_flush, &io_cmd_help, &io_cmd_info, &io_cmd_length,
    &io_cmd_map, &io_cmd_quit, &io_cmd_read, &io_cmd_readv, &io_cmd_truncate,
    &io_cmd_write, &io_cmd_writev, NULL,
};

int io_run_line(struct io_ctx *ctx, const char *line)
{
    char *copy = strdup(line);
    char *argv[IO_MAX_ARGS + 1];
    int argc = 0;
    if (!copy)
        return 1;
    for (char *save = NULL, *w = strtok_r(copy, " \t\r\n", &save); w;
         w = strtok_r(NULL, " \t\r\n", &save)) {
        if (argc == IO_MAX_ARGS) {
            fprintf(stderr, "too many arguments (at most %d)\n", IO_MAX_ARGS);
            free(copy);
            return 1;
        }
        argv[argc++] = w;
    }
    argv[argc] = NULL;
    int status = 0;
    if (argc == 0 || argv[0][0] == '#')
        goto out;
    const struct io_command *cmd = NULL;
    for (size_t i = 0; io_commands[i] && !cmd; i++) {
        const struct io_command *c = io_commands[i];
        if (!strcmp(c->name, argv[0]) || (c->alias && !strcmp(c->alias, argv[0])))
            cmd = c;
    }
    if (!cmd) {
        fflush(stdout);
        fprintf(stderr, "command \"%s\" not found\n", argv[0]);
        status = 1;
        goto out;
    }
    status = cmd->run(ctx, argc, argv) ? 1 : 0;
out:
    fflush(stdout);
    free(copy);
    return status;
}

static int interactive(struct io_ctx *ctx)
{
    char *line = NULL;
    size_t cap = 0;
    int status = 0;
    while (!ctx->quit) {
        printf("%s> ", tool_progname());
        fflush(stdout);
        if (getline(&line, &cap, stdin) < 0) {
            /* At a terminal, end the prompt's line so the shell prompt
             * starts clean; piped input ends on the bare prompt, as
             * qemu-io's does. */
            if (isatty(STDIN_FILENO))
                putchar('\n');
            break;
        }
        status |= io_run_line(ctx, line);
    }
    free(line);
    return status;
}

static void usage(void)
{
    printf("Usage: %s [OPTIONS]... [-c COMMAND]... FILE\n"
           "       %s [OPTIONS]... --config STACK.conf [-c COMMAND]...\n\n"
           "Runs I/O commands against an image: each -c COMMAND in order, or, without\n"
           "-c, the commands read from standard input after a \"%s> \" prompt.\n\n"
           "  -c, --cmd COMMAND     run COMMAND (may be repeated)\n"
           "  -f, --format FMT      image format (probed when omitted)\n"
           "  -r, --read-only       open the image read-only\n"
           "  -t, --cache MODE      host cache use, as QEMU's: none (O_DIRECT), writeback\n"
           "                        (the default), writethrough (each write flushed),\n"
           "                        directsync (none and writethrough), unsafe (no\n"
           "                        flush reaches the disk)\n"
           "  -n, --nocache         the same as -t none\n"
           "  -i, --aio MODE        I/O mode: threads (blocking calls, the only one)\n"
           "  -k, --native-aio      -i native, which is refused\n"
           "  -U, --force-share     take no image locks (needs -r)\n"
           "  --image-opts          FILE is dotted options (driver=raw,file.filename=x)\n"
           "  --config FILE         the image is the stack described by FILE\n"
           "  --object secret,id=ID,data=DATA|file=PATH\n"
           "                        define a secret\n"
           "  --key-file FILE       the passphrase of an encrypted image ('-': stdin);\n"
           "                        without a key option it is asked for at a terminal\n"
           "  -h, --help            this help\n"
           "  -V, --version         print the version\n\n"
           "Run '%s -c help FILE' for the list of commands.\n",
           tool_progname(), tool_progname(), tool_progname(), tool_progname());
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        TOOL_COMMON_LONGOPTS,
        { "cmd", required_argument, NULL, 'c' },
        { "format", required_argument, NULL, 'f' },
        { "read-only", no_argument, NULL, 'r' },
        { "cache", required_argument, NULL, 't' },
        { "nocache", no_argument, NULL, 'n' },
        { "aio", required_argument, NULL, 'i' },
        { "native-aio", no_argument, NULL, 'k' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    struct tool_common tc = { 0 };
    struct strata_error *err = NULL;
    const char *cmds[IO_MAX_COMMANDS];
    int ncmds = 0, c;
    bool readonly = false;
    unsigned cache_flags = 0;

    tool_set_progname(argv[0]);
    tool_install_warning_handler();
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hVc:f:rUt:ni:k", longopts, NULL)) != -1) {
        int r = tool_common_option(&tc, c, optarg);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        switch (c) {
        case 'h':
            usage();
            return 0;
        case 'V':
            printf("%s version %s\n", tool_progname(), strata_version());
            return 0;
        case 'c':
            if (ncmds == IO_MAX_COMMANDS) {
                tool_error("too many -c commands (at most %d)", IO_MAX_COMMANDS);
                return 1;
            }
            cmds[ncmds++] = optarg;
            break;
        case 'r': readonly = true; break;
        case 't':
            if (tool_parse_cache_mode(optarg, &cache_flags, &err) < 0)
                return tool_fail(err, -EINVAL, NULL);
            break;
        case 'n': cache_flags = STRATA_O_DIRECT; break;
        case 'i':
            if (tool_check_aio("--aio", optarg) < 0)
                return 1;
            break;
        case 'k':
            tool_check_aio("--aio", "native");
            return 1;
        default:
            return tool_getopt_error(c, argv, NULL);
        }
    }
    if (tool_common_finish(&tc) < 0)
        return 1;
    if (tc.force_share && !readonly) {
        tool_error("-U (force-share) needs -r: an image written by several "
                   "programs at once gets corrupted");
        return 1;
    }
    struct tool_image img;
    int n = tool_images_collect(&tc, NULL, argv + optind, argc - optind, &img, 1);
    if (n < 0)
        return 1;
    if (n == 0) {
        tool_error("no image given (FILE or --config STACK.conf)");
        fprintf(stderr, "Try '%s --help' for more information.\n", tool_progname());
        return 1;
    }
    unsigned flags = (readonly ? 0 : STRATA_O_RDWR) |
                     (tc.force_share ? STRATA_O_FORCE_SHARE : 0) | cache_flags;
    struct io_ctx ctx = { .name = img.spec };
    int ret = tool_image_open(&img, flags, &ctx.node, &err);
    if (ret < 0)
        return tool_fail(err, ret, img.spec);

    int status = 0;
    if (ncmds > 0) {
        for (int i = 0; i < ncmds && !ctx.quit; i++)
            status |= io_run_line(&ctx, cmds[i]);
    } else {
        status = interactive(&ctx);
    }
    /* Data must reach the image before we report success. */
    if (!readonly && strata_flush(ctx.node, &err) < 0)
        status = tool_fail(err, -EIO, img.spec);
    strata_close(ctx.node);
    return status ? 1 : 0;
}
