/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tool.h - what strata-img and strata-io share: messages, option handling
 * for the image arguments, image opening, sizes, output formats, progress. */
#ifndef STRATA_TOOLS_TOOL_H
#define STRATA_TOOLS_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <getopt.h>

#include <strata/strata.h>

/* ------------------------------------------------------------ messages */
/* The program name that starts every message ("strata-img").  The tools name themselves after argv[0] (its last component), as QEMU's
 * do, so a link called qemu-img or qemu-io speaks as that program. */
void tool_set_progname(const char *argv0);
const char *tool_progname(void);
/* "strata-img: MESSAGE" on stderr. */
void tool_error(const char *fmt, ...) STRATA_PRINTF(1, 2);
/* "strata-img: warning: MESSAGE" on stderr. */
void tool_warning(const char *fmt, ...) STRATA_PRINTF(1, 2);
/* Prints err's message (or `fallback` with strerror(-ret) when the library
 * gave no message), frees err and returns 1, the usual failure status. */
int tool_fail(struct strata_error *err, int ret, const char *fallback);
/* msg without a leading "NAME: ", when it has one: for a line that names
 * the image already, or where qemu's tools name none. */
const char *tool_unprefixed(const char *msg, const char *name);
/* Messages leave stdout's buffer alone, as QEMU's tools do: output to a
 * pipe then comes after the messages, where QEMU's test suites expect it. */
void tool_keep_stdout_buffered(void);
/* Sends library warnings through tool_warning. */
void tool_install_warning_handler(void);

/* getopt_long was given a leading ':' and returned '?' or ':': names the
 * offending option, points at --help and returns 1. */
int tool_getopt_error(int c, char **argv, const char *cmd);
/* "Try 'strata-img create --help' for more information." */
int tool_usage_error(const char *cmd, const char *fmt, ...) STRATA_PRINTF(2, 3);

/* ------------------------------------------------------------ options */
/* Long-option values shared by all commands (short options use letters). */
enum {
    TOOL_OPT_OBJECT = 0x100,
    TOOL_OPT_IMAGE_OPTS,
    TOOL_OPT_CONFIG,
    TOOL_OPT_OUTPUT,
    TOOL_OPT_KEY_FILE,
    TOOL_OPT_FIRST_LOCAL = 0x180,   /* commands number their own from here */
};

#define TOOL_COMMON_LONGOPTS                                        \
    { "help", no_argument, NULL, 'h' },                             \
    { "object", required_argument, NULL, TOOL_OPT_OBJECT },         \
    { "image-opts", no_argument, NULL, TOOL_OPT_IMAGE_OPTS },       \
    { "config", required_argument, NULL, TOOL_OPT_CONFIG },         \
    { "force-share", no_argument, NULL, 'U' },                      \
    { "key-file", required_argument, NULL, TOOL_OPT_KEY_FILE }

#define TOOL_MAX_CONFIGS 8

/* How the image arguments of a command are to be read. */
struct tool_common {
    const char *format;         /* -f */
    bool image_opts;            /* --image-opts: arguments are dotted options */
    bool force_share;           /* -U */
    const char *configs[TOOL_MAX_CONFIGS];  /* --config, in order */
    int nconfigs;
};

/* Handles -f, -U, --object, --image-opts and --config.  Returns 1 when c was
 * one of them, 0 when it is the command's own, -1 after printing an error. */
int tool_common_option(struct tool_common *tc, int c, const char *arg);
/* Refuses combinations that cannot mean anything (-f with --image-opts).
 * Prints and returns -1 on error. */
int tool_common_finish(const struct tool_common *tc);

/* -U takes no image locks, which is safe for a reader only: a command, or
 * mode of one, that writes to its image calls this before opening anything.
 * 0 when -U was not given, else the exit status after the usage message. */
int tool_refuse_force_share(const struct tool_common *tc, const char *cmd);

/* A copy of an option string for messages, with the value of every
 * data= (the secret of --object secret) shown as <hidden>.  NULL on
 * ENOMEM. */
char *tool_hide_secrets(const char *text);

/* --object secret,id=ID,data=...|file=...[,format=raw|base64] */
int tool_add_object(const char *arg, struct strata_error **errp);

/* ------------------------------------------------------------ keys */
/* --key-file FILE ("-": stdin): the key for an encrypted image that no
 * option names. */
void tool_set_key_file(const char *path);
bool tool_key_file_given(void);
/* True when stdin is a terminal, so a passphrase may be asked for. */
bool tool_can_prompt(void);
/* Asks `prompt` without echo (and, with verify, "Verify passphrase: ",
 * refusing a mismatch) and stores the answer as a secret whose id is
 * written to id.  -ENOKEY without a terminal. */
int tool_prompt_secret(const char *prompt, bool verify, char *id, size_t idlen,
                       struct strata_error **errp);
/* The key from --key-file if given, else typed after "Enter passphrase
 * for WHAT: ". */
int tool_supply_key(const char *what, bool verify, char *id, size_t idlen,
                    struct strata_error **errp);

/* ------------------------------------------------------------ images */
enum tool_image_kind {
    TOOL_IMAGE_FILE,            /* file name, format from -f or probed */
    TOOL_IMAGE_OPTS,            /* dotted options */
    TOOL_IMAGE_CONFIG,          /* stack config file */
};

struct tool_image {
    enum tool_image_kind kind;
    const char *spec;           /* file name, options text or config path */
    const char *format;         /* TOOL_IMAGE_FILE: NULL probes */
};

/* Fills imgs from the --config files first, then the positional words,
 * all read the way tc says.  Returns how many there are, or -1 after
 * printing an error when there are more than max. */
int tool_images_collect(const struct tool_common *tc, const char *cmd,
                        char **words, int nwords, struct tool_image *imgs,
                        int max);
/* Exactly one image (a word or a --config file): 0, or the exit status to
 * return after the usage message was printed. */
int tool_image_collect_one(const struct tool_common *tc, const char *cmd, char **words,
                           int nwords, struct tool_image *img);
/* One image from a word, read the way tc says (without --config). */
void tool_image_from_word(const struct tool_common *tc, const char *word,
                          struct tool_image *img);
/* The options for an image named by a file name, QEMU's
 * "blkdebug:RULES:FILE", "nbd:unix:SOCKET" (or "nbd:HOST:PORT", with an
 * optional ":exportname=NAME") and "json:{...}" included; format may be
 * NULL (probe). */
int tool_file_opts(const char *path, const char *format, struct strata_opts **optsp,
                   struct strata_error **errp);
/* The options img stands for (a config file's secrets are added to the
 * store); the format is left to probing when img names none. */
int tool_image_opts(const struct tool_image *img, struct strata_opts **optsp,
                    struct strata_error **errp);
int tool_image_open(const struct tool_image *img, unsigned flags,
                    struct strata_node **nodep, struct strata_error **errp);
/* Opens img with the key of the encrypted format at its top (a luks
 * volume, or qcow's and qcow2's encrypt.) taken, when the image's options
 * name none, from --key-file or the terminal; keyslot >= 0 limits the
 * passphrase to that key slot.  tool_image_open calls it when a key is
 * missing and one can be had. */
int tool_image_open_keyed(const struct tool_image *img, unsigned flags, int keyslot,
                          struct strata_node **nodep, struct strata_error **errp);
/* `name` as a backing file name of `image` means: relative to the image's
 * directory unless absolute.  Newly allocated; NULL on ENOMEM. */
char *tool_path_beside(const char *image, const char *name);
/* True when the two names reach the same file (device and inode); false
 * when either cannot be looked up. */
bool tool_same_file(const char *a, const char *b);
/* The name messages use for an image. */
const char *tool_image_label(const struct tool_image *img);

/* The node whose driver implements image operations: the top node, or the
 * first node below filters that leave `member` to their child.  `member` is
 * an offsetof() into struct strata_driver. */
struct strata_node *tool_format_node(struct strata_node *top, size_t member);
/* True when the driver has the callback at offsetof `member`, reading only
 * what the module's descriptor really holds. */
bool tool_driver_has(const struct strata_driver *drv, size_t member);
/* "check is not supported by format 'raw'" */
int tool_not_supported(const char *what, struct strata_node *node,
                       struct strata_error **errp);

/* ------------------------------------------------------------ image facts */
/* What one image of a chain reports (info in both tools). */
struct tool_image_facts {
    const char *filename;
    const char *format;
    int64_t virtual_size;
    int64_t actual_size;            /* < 0: unknown */
    int64_t cluster_size;           /* 0: none */
    int64_t vm_state_offset;        /* 0: none */
    bool have_encrypted, encrypted;
    bool dirty;
    char *backing_name;             /* as stored in the image, or NULL */
    char *backing_format;           /* as stored in the image, or NULL */
    struct strata_info *snapshots;  /* list, or NULL */
    struct strata_node *fmt;        /* node that answers image_info */
    struct strata_node *backing;    /* NULL: none opened */
    char *backing_path;             /* not opened: where it would be, as
                                       the image's directory makes it */
    struct strata_info *specific;   /* format-specific data without the
                                       facts above, or NULL */
};
int tool_image_facts_gather(struct strata_node *node, struct tool_image_facts *f,
                            struct strata_error **errp);
void tool_image_facts_free(struct tool_image_facts *f);
/* The backing file as stored in the image, else as opened. */
const char *tool_image_facts_backing_name(const struct tool_image_facts *f);
const char *tool_image_facts_backing_format(const struct tool_image_facts *f);
/* The backing file's full name (qemu-img's full-backing-filename), opened
 * or not; NULL without one. */
const char *tool_image_facts_backing_full(const struct tool_image_facts *f);
/* qemu-img info's "backing file: NAME (actual path: PATH)" and "backing file
 * format: FMT" lines; nothing without a backing file. */
void tool_image_facts_print_backing(const struct tool_image_facts *f);
/* "Format specific information:" and the data, indented; nothing if empty. */
void tool_image_facts_print_specific(const struct tool_image_facts *f);

/* ------------------------------------------------------------ values */
/* strata_parse_size with a message naming `what` ("image size"). */
int tool_parse_size(const char *text, const char *what, uint64_t *out,
                    struct strata_error **errp);
/* Decimal or 0x hex, no suffix, fits in [min, max]. */
int tool_parse_number(const char *text, const char *what, int64_t min,
                      int64_t max, int64_t *out, struct strata_error **errp);

/* A qemu AIO mode given as OPT ("--aio", "-i"): 0 for threads, what strata
 * does; native and io_uring are refused, as is anything else: -1 after
 * printing "OPT native is not supported (use threads)" or the like. */
int tool_check_aio(const char *opt, const char *mode);

enum tool_output { TOOL_OUTPUT_HUMAN, TOOL_OUTPUT_JSON };
int tool_parse_output(const char *text, enum tool_output *out,
                      struct strata_error **errp);

/* Prints a strata_info tree as JSON on stdout. */
void tool_print_info_json(const struct strata_info *info);

/* ------------------------------------------------------------ progress */
struct tool_progress {
    bool enabled;
    float shown;        /* last percentage printed (0 at the start) */
};
void tool_progress_start(struct tool_progress *p, bool enabled);
void tool_progress_update(struct tool_progress *p, uint64_t done, uint64_t total);
void tool_progress_end(struct tool_progress *p);

/* ------------------------------------------------------------ buffers */
/* Page-aligned buffer (drivers may ask for aligned memory); NULL on ENOMEM. */
void *tool_alloc_buffer(size_t len);
/* True when len bytes at buf are all zero. */
bool tool_buffer_is_zero(const void *buf, size_t len);

/* Monotonic time in seconds. */
double tool_now(void);

#endif
