/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* img.h - the strata-img command table. */
#ifndef STRATA_TOOLS_IMG_H
#define STRATA_TOOLS_IMG_H

#include "../common/tool.h"

/* -o handling shared by create, convert, amend, measure and format: the
 * values of every -o are joined, as qemu-img does. */
struct img_create_opts {
    struct strata_opts *opts;
    bool want_help;             /* -o help or -o ? */
};

/* What the command table says about a command's arguments: main.c parses
 * them from it (getopt string, long options), runs the part every command
 * shares and prints --help from it; a test checks it against the synopsis
 * in strata-img(1). */
enum {
    IMG_TAKES_O = 1 << 0,       /* -o OPTIONS, joined into img_args.co */
    IMG_TAKES_Q = 1 << 1,       /* -q: img_args.quiet, and progress off */
    IMG_TAKES_P = 1 << 2,       /* -p: img_args.progress */
    IMG_TAKES_OUTPUT = 1 << 3,  /* --output=human|json: img_args.output */
    IMG_WRITES = 1 << 4,        /* writes its image: -U is refused first */
    IMG_FILE_NAMES = 1 << 5,    /* images are file names: --image-opts and
                                   --config are refused */
    IMG_ONE_IMAGE = 1 << 6,     /* exactly one image: img_args.img */
    IMG_OPEN = 1 << 7,          /* and opened: img_args.node, with the
                                   command's open_flags() */
    IMG_TRAILING_SIZE = 1 << 8, /* the last word is a size that may start
                                   with '-' (resize): img_args.last */
    IMG_TAKES_YES = 1 << 9,     /* -y, --yes: img_args.yes (img_confirm) */
    IMG_NO_IMAGE = 1 << 10,     /* names no image: none of -f, -U, --object,
                                   --image-opts, --config, --key-file */
    IMG_TAKES_CACHE = 1 << 11,  /* -t CACHE: img_args.cache, the open flags
                                   of the image written (IMG_OPEN: added) */
    IMG_TAKES_SRC_CACHE = 1 << 12, /* -T SRC_CACHE: img_args.src_cache, of the
                                   images only read (IMG_OPEN without -t:
                                   added) */
    IMG_BACKING_OPTIONAL = 1 << 13, /* an image whose backing file cannot be
                                   opened is opened without it (info: qemu-img
                                   reads only the top image's header) */
};


/* One option of a command.  val is the letter of a short option, or a
 * value from TOOL_OPT_FIRST_LOCAL up for one that only has a long name.
 * An option that only sets a flag or keeps its argument names the variable
 * (`flag`, `value`); the others go to the command's option(). */
struct img_option {
    int val;
    const char *name;           /* long name, or NULL */
    const char *arg;            /* argument in --help ("FMT"), NULL: none */
    const char *help;           /* --help text; '\n' starts a new line */
    bool *flag;                 /* set to true */
    const char **value;         /* set to the argument (the last one given) */
};

/* A command's arguments once the shared part has run. */
struct img_args {
    struct tool_common tc;      /* -f, -U, --image-opts, --config */
    struct img_create_opts co;  /* IMG_TAKES_O */
    bool quiet;                 /* IMG_TAKES_Q */
    bool progress;              /* IMG_TAKES_P; -q turns it off */
    enum tool_output output;    /* IMG_TAKES_OUTPUT */
    bool yes;                   /* IMG_TAKES_YES */
    unsigned cache, src_cache;  /* IMG_TAKES_CACHE, _SRC_CACHE: STRATA_O_*
                                   (writeback, qemu-img's default: 0) */
    char **words;               /* the words after the options */
    int nwords;
    const char *last;           /* IMG_TRAILING_SIZE */
    struct tool_image img;      /* IMG_ONE_IMAGE */
    struct strata_node *node;   /* IMG_OPEN: closed after run() */
};

/* A process runs one command once: a command keeps the values of its own
 * options in variables of its file, which option() sets and run() reads. */
struct img_command {
    const char *name;
    const char *synopsis;               /* after "strata-img " */
    const char *summary;                /* one line for the command list */
    unsigned flags;                     /* IMG_* */
    const struct img_option *options;   /* the command's own, {0}-ended */
    const char *notes;                  /* --help text after the options */
    int usage_status;                   /* exit status of a usage error; 0: 1 */
    /* An option of the command's own: 0, or the exit status to return. */
    int (*option)(struct img_args *a, int c, const char *arg);
    /* After the options, before the image is collected: -1 to go on, or
     * the exit status to return. */
    int (*prepare)(struct img_args *a);
    /* IMG_OPEN: how to open the image, fixed or from the options (a reader
     * also gets STRATA_O_FORCE_SHARE with -U). */
    unsigned open_mode;
    unsigned (*open_flags)(const struct img_args *a);
    int (*run)(struct img_args *a);
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

int img_opts_add(struct img_create_opts *co, const char *arg,
                 struct strata_error **errp);
void img_opts_free(struct img_create_opts *co);
/* Lists descs ("-o help"): name, type, default, help. */
void img_opts_print_help(const char *format, const char *what,
                         const struct strata_opt_desc *descs);
/* Lists what a format takes at creation: its own options and, for a
 * format on a file, the file protocol's (preallocation). */
void img_opts_print_create_help(const struct strata_driver *drv);
/* -b/-B and -F: the backing_file and backing_fmt options (either may be
 * NULL); -ENOMEM after a message. */
int img_opts_add_backing(struct img_create_opts *co, const char *backing,
                         const char *backing_fmt);
/* qemu-img's two lines for a SIZE argument it cannot read. */
void img_report_bad_size(void);
/* Reads a size-typed option out of the list (e.g. size=), removing it. */
int img_opts_take_size(struct img_create_opts *co, const char *key,
                       uint64_t *out, bool *found, struct strata_error **errp);

/* Prints a "snapshots" list (driver.h's fields) as qemu-img's
 * "Snapshot list:" table; used by snapshot -l and info. */
void img_print_snapshot_list(const struct strata_info *list);
/* bitmap_size.c: bytes a qcow2 image of CLUSTER-byte clusters needs for the
 * persistent bitmaps of FMT (a format node of VSIZE bytes); 0 without. */
uint64_t img_bitmaps_size(struct strata_node *fmt, uint64_t vsize, uint64_t cluster);

/* -l SNAPSHOT of convert and measure: an id or name, or the id and name of
 * "snapshot.id=ID,snapshot.name=NAME". */
struct img_snapshot_ref {
    bool given;
    const char *id_or_name;     /* the plain form */
    char *id, *name;            /* the snapshot.* form */
};
/* 0, or 1 after qemu-img's messages for a list it cannot parse. */
int img_snapshot_arg(const char *arg, struct img_snapshot_ref *ref);
/* Makes the read-only node read as the snapshot: 0, or 1 after qemu-img's
 * "Failed to load snapshot: ..." message. */
int img_snapshot_load(struct strata_node *node, const struct img_snapshot_ref *ref);
void img_snapshot_ref_free(struct img_snapshot_ref *ref);

/* create's "Formatting 'FILE', fmt=FMT ..." line, as qemu-img prints it:
 * the options of FMT and of the file protocol in qemu-img's order, with
 * their defaults; SIZE as asked for. */
void img_print_formatting(const char *filename, const char *fmt, uint64_t size,
                          const struct strata_opts *opts);

/* Looks up the driver for -f/-O, with a message naming the format. */
const struct strata_driver *img_find_format(const char *name,
                                            struct strata_error **errp);

#endif
