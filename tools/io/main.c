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
    &io_cmd_abort, &io_cmd_aio_flush, &io_cmd_aio_read, &io_cmd_aio_write,
    &io_cmd_alloc, &io_cmd_break, &io_cmd_close, &io_cmd_discard, &io_cmd_flush,
    &io_cmd_help, &io_cmd_info, &io_cmd_length, &io_cmd_map, &io_cmd_open,
    &io_cmd_quit, &io_cmd_read, &io_cmd_readv, &io_cmd_remove_break, &io_cmd_reopen,
    &io_cmd_resume, &io_cmd_sigraise, &io_cmd_sleep, &io_cmd_truncate,
    &io_cmd_wait_break, &io_cmd_write, &io_cmd_writev, NULL,
};

/* The argument count check and its messages are qemu-io's, which the
 * test suites written for it expect. */
static bool arg_count_ok(const struct io_command *cmd, int n)
{
    if (n >= cmd->argmin && (cmd->argmax == -1 || n <= cmd->argmax))
        return true;
    if (cmd->argmax == -1)
        fprintf(stderr, "bad argument count %d to %s, expected at least %d arguments\n",
                n, cmd->name, cmd->argmin);
    else if (cmd->argmin == cmd->argmax)
        fprintf(stderr, "bad argument count %d to %s, expected %d arguments\n",
                n, cmd->name, cmd->argmin);
    else
        fprintf(stderr, "bad argument count %d to %s, expected between %d and %d "
                "arguments\n", n, cmd->name, cmd->argmin, cmd->argmax);
    return false;
}

int io_run_line(struct io_ctx *ctx, const char *line)
{
    char *copy = strdup(line);
    char *argv[IO_MAX_ARGS + 1];
    int argc = 0, status = 0;
    if (!copy)
        return 1;
    /* Words are separated by spaces alone, as qemu-io separates them. */
    for (char *save = NULL, *w = strtok_r(copy, " ", &save); w;
         w = strtok_r(NULL, " ", &save)) {
        if (argc == IO_MAX_ARGS) {
            fprintf(stderr, "too many arguments (at most %d)\n", IO_MAX_ARGS);
            free(copy);
            return 1;
        }
        argv[argc++] = w;
    }
    argv[argc] = NULL;
    if (argc == 0)
        goto out;
    const struct io_command *cmd = io_find_command(argv[0]);
    if (!cmd) {
        fprintf(stderr, "command \"%s\" not found\n", argv[0]);
        status = 1;
        goto out;
    }
    if (!(cmd->flags & IO_NOFILE_OK) && !ctx->node) {
        fprintf(stderr, "no file open, try 'help open'\n");
        status = 1;
        goto out;
    }
    if (!arg_count_ok(cmd, argc - 1)) {
        status = 1;
        goto out;
    }
    if ((cmd->flags & IO_WRITES) && !(ctx->flags & STRATA_O_RDWR)) {
        tool_error("Block node is read-only");
        status = 1;
        goto out;
    }
    optind = 0;     /* a fresh getopt scan for each command */
    opterr = 1;
    status = cmd->run(ctx, argc, argv) ? 1 : 0;
    io_aio_poll(ctx, IO_AIO_SETTLE);
out:
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
        size_t n = strlen(line);
        if (n > 0 && line[n - 1] == '\n')
            line[n - 1] = 0;
        status |= io_run_line(ctx, line);
    }
    free(line);
    return status;
}

static void usage(void)
{
    printf("Usage: %s [OPTIONS]... [-c COMMAND]... [FILE]\n"
           "       %s [OPTIONS]... --config STACK.conf [-c COMMAND]...\n\n"
           "Runs I/O commands against an image: each -c COMMAND in order, or, without\n"
           "-c, the commands read from standard input after a \"%s> \" prompt.\n"
           "Without FILE no image is open until the 'open' command opens one.\n\n"
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
           "  -d, --discard MODE    discard mode: unmap (the only one)\n"
           "  -m, --misalign        data buffers start 16 bytes past an aligned address\n"
           "  -U, --force-share     take no image locks (needs -r)\n"
           "  --image-opts          FILE is dotted options (driver=raw,file.filename=x)\n"
           "  --config FILE         the image is the stack described by FILE\n"
           "  --object secret,id=ID,data=DATA|file=PATH\n"
           "                        define a secret\n"
           "  --key-file FILE       the passphrase of an encrypted image ('-': stdin);\n"
           "                        without a key option it is asked for at a terminal\n"
           "  -h, --help            this help\n"
           "  -V, --version         print the version\n\n"
           "  -s, --snapshot        writes go to a temporary overlay, the image is only read\n"
           "  -C, --copy-on-read    reads copy what they find in the backing chain into\n"
           "                        the image\n"
           "-T (--trace) is refused.\n"
           "Run '%s -c help' for the list of commands.\n",
           tool_progname(), tool_progname(), tool_progname(), tool_progname());
}

/* -d: discards always reach the image, so only that mode is accepted. */
static int check_discard(const char *mode)
{
    if (!strcmp(mode, "unmap") || !strcmp(mode, "on"))
        return 0;
    if (strcmp(mode, "ignore") && strcmp(mode, "off"))
        tool_error("Invalid discard option: %s", mode);
    else
        tool_error("-d %s: discards cannot be ignored (only -d unmap is supported)", mode);
    return -1;
}

/* The image named on the command line.  The library's own message names
 * the problem, as QEMU's does; a key that no option gives is asked for
 * (or read from --key-file) as the other tools ask for it. */
static int open_initial(struct io_ctx *ctx, const struct tool_image *img, unsigned flags,
                        unsigned mode)
{
    struct strata_error *err = NULL;
    struct strata_opts *opts = NULL;
    struct strata_node *node;
    const char *label = img->kind == TOOL_IMAGE_OPTS ? NULL : img->spec;
    int ret = 0;

    if (img->kind == TOOL_IMAGE_FILE && img->format && !strata_driver_find(img->format, &err))
        return io_open_failed(label, NULL, err, -ENOENT);
    if (tool_image_opts(img, &opts, &err) < 0)
        return io_open_failed(label, NULL, err, -EINVAL);
    if (mode)
        return io_open(ctx, label, opts, flags, mode);
    if (img->kind == TOOL_IMAGE_CONFIG)
        ret = tool_image_open(img, flags, &node, &err);
    else
        ret = strata_open_opts(opts, flags, &node, &err);
    if (ret == -ENOKEY && img->kind != TOOL_IMAGE_CONFIG &&
        (tool_key_file_given() || tool_can_prompt())) {
        strata_error_free(err);
        err = NULL;
        ret = tool_image_open_keyed(img, flags, -1, &node, &err);
    }
    if (ret == -ENOKEY && err && err->msg) {
        struct strata_error *e2 = NULL;
        strata_error_set(&e2, ENOKEY, "%s (or give --key-file FILE)", err->msg);
        strata_error_free(err);
        err = e2;
    }
    if (ret < 0) {
        io_open_failed(label, opts, err, ret);
        strata_opts_free(opts);
        return 1;
    }
    io_set_image(ctx, node, opts, flags);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        TOOL_COMMON_LONGOPTS,
        { "cmd", required_argument, NULL, 'c' },
        { "format", required_argument, NULL, 'f' },
        { "read-only", no_argument, NULL, 'r' },
        { "snapshot", no_argument, NULL, 's' },
        { "copy-on-read", no_argument, NULL, 'C' },
        { "misalign", no_argument, NULL, 'm' },
        { "discard", required_argument, NULL, 'd' },
        { "trace", required_argument, NULL, 'T' },
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
    unsigned mode = 0;
    unsigned cache_flags = 0;
    struct io_ctx ctx = { 0 };

    tool_set_progname(argv[0]);
    tool_install_warning_handler();
    /* stdout is flushed before each prompt and at exit, as qemu-io's is;
     * messages on stderr do not flush it. */
    tool_keep_stdout_buffered();
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hVc:d:f:rsnCmki:t:T:U", longopts, NULL)) != -1) {
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
        case 's': mode |= IO_OPEN_SNAPSHOT; break;
        case 'C': mode |= IO_OPEN_COR; break;
        case 'T':
            tool_error("-T: tracing is not supported");
            return 1;
        case 'm': ctx.misalign = true; break;
        case 'd':
            if (check_discard(optarg) < 0)
                return 1;
            break;
        case 't':
            if (strata_cache_mode_flags(optarg, &cache_flags, &err) < 0)
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
    ctx.image_opts = tc.image_opts;
    struct tool_image img;
    int n = tool_images_collect(&tc, NULL, argv + optind, argc - optind, &img, 1);
    if (n < 0)
        return 1;
    if (n == 1) {
        unsigned flags = (readonly ? 0 : STRATA_O_RDWR) |
                         (tc.force_share ? STRATA_O_FORCE_SHARE : 0) | cache_flags;
        if (open_initial(&ctx, &img, flags, mode))
            return 1;
    }

    int status = 0;
    if (ncmds > 0) {
        for (int i = 0; i < ncmds && !ctx.quit; i++)
            status |= io_run_line(&ctx, cmds[i]);
    } else {
        status = interactive(&ctx);
    }
    status |= io_close_image(&ctx);
    return status ? 1 : 0;
}
