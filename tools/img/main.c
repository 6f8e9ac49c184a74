/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main.c - strata-img: the command table, and what every command shares:
 * parsing its options from its table entry, --help, -o, -q, -p, --yes, --output,
 * the -U and -f checks, and collecting and opening its image. */
#include "img.h"

#include <errno.h>
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

/* The options main.c handles.  `needs`: only for commands with that flag;
 * `hidden_if`: accepted but refused (and not listed) with that flag. */
static const struct shared_option {
    struct img_option opt;
    unsigned needs, hidden_if;
    unsigned never_if;          /* not an option of such commands at all */
} shared[] = {
    { { 'o', NULL, "OPTIONS",
        .help = "format options, comma separated (may be repeated);\n"
                "'-o help' lists them" }, IMG_TAKES_O, 0, 0 },
    { { TOOL_OPT_OUTPUT, "output", "human|json",
        .help = "output format (default: human); JSON uses\n"
                "qemu-img's field names" }, IMG_TAKES_OUTPUT, 0, 0 },
    { { 'y', "yes", NULL, .help = "do not ask for confirmation" }, IMG_TAKES_YES, 0, 0 },
    { { 't', NULL, "CACHE",
        .help = "cache mode of the image written: writeback (default),\n"
                "none, writethrough, directsync or unsafe" }, IMG_TAKES_CACHE, 0, 0 },
    { { 'T', NULL, "SRC_CACHE",
        .help = "cache mode of the images read (default writeback)" },
      IMG_TAKES_SRC_CACHE, 0, 0 },
    { { 'p', NULL, NULL, .help = "show progress" }, IMG_TAKES_P, 0, 0 },
    { { 'q', NULL, NULL, .help = "quiet" }, IMG_TAKES_Q, 0, 0 },
    { { 'f', NULL, "FMT", .help = "image format (probed when omitted)" }, 0, 0, IMG_NO_IMAGE },
    { { 'U', "force-share", NULL, .help = "open without taking image locks" }, 0, IMG_WRITES,
      IMG_NO_IMAGE },
    { { TOOL_OPT_IMAGE_OPTS, "image-opts", NULL,
        .help = "FILENAME is dotted options\n"
                "(driver=raw,file.filename=disk.img)" }, 0, IMG_FILE_NAMES, IMG_NO_IMAGE },
    { { TOOL_OPT_CONFIG, "config", "FILE",
        .help = "the image is the stack described by FILE" }, 0, IMG_FILE_NAMES, IMG_NO_IMAGE },
    { { TOOL_OPT_OBJECT, "object", "secret,...", .help = "define a secret" }, 0, 0,
      IMG_NO_IMAGE },
    /* Listed by strata-img --help and strata-img(1) once, for every
     * command that opens an encrypted image. */
    { { TOOL_OPT_KEY_FILE, "key-file", "FILE", .help = NULL }, 0, 0, IMG_NO_IMAGE },
    /* Listed by strata-img --help, not by each command. */
    { { 'h', "help", NULL, .help = NULL }, 0, 0, 0 },
};
#define NSHARED (sizeof shared / sizeof shared[0])
#define MAX_OPTIONS 64

static bool shared_applies(const struct shared_option *s, const struct img_command *cmd)
{
    return (cmd->flags & s->needs) == s->needs && !(cmd->flags & s->never_if);
}

static void print_option(const struct img_option *o)
{
    char label[64];
    int n;
    if (o->val < 0x100 && o->name)
        n = snprintf(label, sizeof label, "-%c, --%s", o->val, o->name);
    else if (o->val < 0x100)
        n = snprintf(label, sizeof label, "-%c", o->val);
    else
        n = snprintf(label, sizeof label, "--%s", o->name);
    if (o->arg)
        snprintf(label + n, sizeof label - (size_t)n, "%s%s",
                 o->val < 0x100 && !o->name ? " " : "=", o->arg);
    /* Descriptions start in column 25; a longer label has its own line. */
    printf("  %-21s", label);
    if (strlen(label) > 21)
        printf("\n  %-21s", "");
    for (const char *h = o->help; *h; ) {
        const char *nl = strchr(h, '\n');
        int len = nl ? (int)(nl - h) : (int)strlen(h);
        printf(" %.*s\n", len, h);
        if (!nl)
            break;
        h = nl + 1;
        printf("  %-21s", "");
    }
}

static int print_help(const struct img_command *cmd)
{
    printf("usage: %s %s\n\n%s\n\n", tool_progname(), cmd->synopsis, cmd->summary);
    for (const struct img_option *o = cmd->options; o && o->val; o++)
        print_option(o);
    for (size_t i = 0; i < NSHARED; i++)
        if (shared_applies(&shared[i], cmd) && !(cmd->flags & shared[i].hidden_if) &&
            shared[i].opt.help)
            print_option(&shared[i].opt);
    if (cmd->notes)
        printf("\n%s", cmd->notes);
    return 0;
}

static void add_option(const struct img_option *o, char *optstring, struct option *longopts,
                       size_t *nlong)
{
    int has_arg = o->arg ? required_argument : no_argument;
    if (o->val < 0x100) {
        size_t l = strlen(optstring);
        optstring[l++] = (char)o->val;
        if (has_arg)
            optstring[l++] = ':';
        optstring[l] = '\0';
    }
    if (o->name)
        longopts[(*nlong)++] = (struct option){ o->name, has_arg, NULL, o->val };
}

static const struct img_option *find_option(const struct img_command *cmd, int c)
{
    for (const struct img_option *o = cmd->options; o && o->val; o++)
        if (o->val == c)
            return o;
    return NULL;
}

/* The options, the -U and -f checks, the command's prepare(), and its
 * image: -1 to go on to run(), or the exit status. */
static int prologue(const struct img_command *cmd, int argc, char **argv, struct img_args *a)
{
    const int usage_status = cmd->usage_status ? cmd->usage_status : 1;
    char optstring[2 * MAX_OPTIONS + 2] = ":";
    struct option longopts[MAX_OPTIONS + 1];
    size_t nlong = 0;
    for (size_t i = 0; i < NSHARED; i++)
        if (shared_applies(&shared[i], cmd))
            add_option(&shared[i].opt, optstring, longopts, &nlong);
    for (const struct img_option *o = cmd->options; o && o->val; o++)
        add_option(o, optstring, longopts, &nlong);
    longopts[nlong] = (struct option){ 0 };

    if (cmd->flags & IMG_TRAILING_SIZE) {
        /* The size goes last and may start with '-': take it before getopt
         * can mistake it for an option. */
        for (int i = 1; i < argc; i++)
            if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
                return print_help(cmd);
        if (argc < 3)
            return tool_usage_error(cmd->name, "Expecting image file name and size");
        a->last = argv[--argc];
        argv[argc] = NULL;
    }

    struct strata_error *err = NULL;
    int c;
    while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
        int r = tool_common_option(&a->tc, c, optarg);
        if (r < 0)
            return usage_status;
        if (r > 0)
            continue;
        switch (c) {
        case 'h':
            return print_help(cmd);
        case '?':
        case ':':
            tool_getopt_error(c, argv, cmd->name);
            return usage_status;
        }
        const struct img_option *own = find_option(cmd, c);
        if (own && own->flag) {
            *own->flag = true;
        } else if (own && own->value) {
            *own->value = optarg;
        } else if (c == 'o' && (cmd->flags & IMG_TAKES_O)) {
            if (img_opts_add(&a->co, optarg, &err) < 0)
                return tool_fail(err, -EINVAL, NULL);
        } else if (c == 'q' && (cmd->flags & IMG_TAKES_Q)) {
            a->quiet = true;
            a->progress = false;
        } else if (c == 'p' && (cmd->flags & IMG_TAKES_P)) {
            a->progress = true;
        } else if (c == 'y' && (cmd->flags & IMG_TAKES_YES)) {
            a->yes = true;
        } else if ((c == 't' && (cmd->flags & IMG_TAKES_CACHE)) ||
                   (c == 'T' && (cmd->flags & IMG_TAKES_SRC_CACHE))) {
            if (strata_cache_mode_flags(optarg, c == 't' ? &a->cache : &a->src_cache, &err) < 0) {
                /* qemu-img's words */
                strata_error_free(err);
                tool_error("Invalid %scache option: %s", c == 'T' ? "source " : "", optarg);
                return usage_status;
            }
        } else if (c == TOOL_OPT_OUTPUT && (cmd->flags & IMG_TAKES_OUTPUT)) {
            if (tool_parse_output(optarg, &a->output, &err) < 0)
                return tool_fail(err, -EINVAL, NULL);
        } else if (cmd->option && (r = cmd->option(a, c, optarg)) != 0) {
            return r;
        }
    }
    /* -q wins over -p in either order, as in qemu-img. */
    if (a->quiet)
        a->progress = false;
    a->words = argv + optind;
    a->nwords = argc - optind;

    if ((cmd->flags & IMG_FILE_NAMES) && (a->tc.image_opts || a->tc.nconfigs))
        return tool_usage_error(cmd->name, "%s takes a file name, not --image-opts or "
                                "--config", cmd->name);
    if ((cmd->flags & IMG_WRITES) && a->tc.force_share)
        return tool_refuse_force_share(&a->tc, cmd->name);
    if (tool_common_finish(&a->tc) < 0)
        return usage_status;
    int r;
    if (cmd->prepare && (r = cmd->prepare(a)) >= 0)
        return r;
    if (!(cmd->flags & IMG_ONE_IMAGE))
        return -1;
    if ((r = tool_image_collect_one(&a->tc, cmd->name, a->words, a->nwords, &a->img)))
        return r;
    if (!(cmd->flags & IMG_OPEN))
        return -1;
    unsigned flags = cmd->open_flags ? cmd->open_flags(a) : cmd->open_mode;
    flags |= (cmd->flags & IMG_TAKES_CACHE) ? a->cache : a->src_cache;
    /* Only a reader may leave the image unlocked; a writer refused -U above
     * or (rebase) applies it to other images only. */
    if (a->tc.force_share && !(flags & STRATA_O_RDWR))
        flags |= STRATA_O_FORCE_SHARE;
    r = tool_image_open(&a->img, flags, &a->node, &err);
    if (r < 0 && (cmd->flags & IMG_BACKING_OPTIONAL) && !(flags & STRATA_O_NO_BACKING)) {
        struct strata_error *e2 = NULL;
        if (tool_image_open(&a->img, flags | STRATA_O_NO_BACKING, &a->node, &e2) == 0) {
            strata_error_free(err);
            err = NULL;
            r = 0;
        }
        strata_error_free(e2);
    }
    if (r < 0)
        return tool_fail(err, r, a->img.spec);
    return -1;
}

static int run_command(const struct img_command *cmd, int argc, char **argv)
{
    struct img_args a = { .output = TOOL_OUTPUT_HUMAN };
    /* getopt's own messages are replaced by tool_getopt_error */
    opterr = 0;
    int status = prologue(cmd, argc, argv, &a);
    if (status < 0)
        status = cmd->run(&a);
    if (a.node)
        strata_close(a.node);
    img_opts_free(&a.co);
    return status;
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
           "An encrypted image's passphrase comes from --object secret,... with a\n"
           "key-secret option, from --key-file FILE ('-': stdin), or, at a terminal,\n"
           "it is asked for.\n"
           "Sizes take the binary suffixes K, M, G, T, P, E.\n\n"
           "Run '%s COMMAND --help' for the options of one command.\n",
           tool_progname());
    img_print_supported();
}

static void print_version(void)
{
    printf("%s version %s\n", tool_progname(), strata_version());
}

int main(int argc, char **argv)
{
    tool_set_progname(argv[0]);
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
    for (size_t i = 0; commands[i]; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return run_command(commands[i], argc - 1, argv + 1);
    if (name[0] == '-')
        tool_error("unrecognized option '%s'", name);
    else
        tool_error("Command not found: %s", name);
    fprintf(stderr, "Try '%s --help' for more information.\n", tool_progname());
    return 1;
}
