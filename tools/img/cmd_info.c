/* cmd_info.c - strata-img info: what qemu-img info shows, with the same
 * JSON field names. */
#include "img.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one image of the chain reports. */
struct image_facts {
    const char *filename;
    const char *format;
    int64_t virtual_size;
    int64_t actual_size;            /* < 0: unknown */
    int64_t cluster_size;           /* 0: none */
    bool have_encrypted, encrypted;
    bool dirty;
    char *backing_name;             /* as stored in the image, or NULL */
    char *backing_format;           /* as stored in the image, or NULL */
    struct strata_info *snapshots;  /* list, or NULL */
    struct strata_node *fmt;        /* node that answers image_info */
    struct strata_node *backing;    /* NULL: none opened */
    struct strata_info *specific;   /* format-specific data, or NULL */
};

static int gather(struct strata_node *node, struct image_facts *f,
                  struct strata_error **errp)
{
    memset(f, 0, sizeof *f);
    f->filename = strata_node_filename(node);
    f->format = strata_node_driver_name(node);
    f->virtual_size = strata_get_length(node);
    if (f->virtual_size < 0)
        return strata_error_set(errp, (int)-f->virtual_size,
                                "%s: cannot read the image size: %s", f->filename,
                                strerror((int)-f->virtual_size));
    f->actual_size = strata_get_allocated_size(node);

    struct strata_node *fmt = tool_format_node(node, offsetof(struct strata_driver, get_info));
    f->fmt = fmt;
    f->backing = strata_node_child(fmt, "backing");
    if (tool_driver_has(strata_node_driver(fmt), offsetof(struct strata_driver, get_info))) {
        struct strata_info *data = strata_info_new_object();
        if (!data)
            return strata_error_set(errp, ENOMEM, "out of memory");
        int ret = strata_image_info(fmt, data, errp);
        if (ret < 0) {
            strata_info_free(data);
            return ret;
        }
        /* The reserved keys of driver.h's get_info are image-level facts:
         * take them out of the format-specific data. */
        strata_info_get_int(data, "cluster-size", &f->cluster_size);
        f->have_encrypted = strata_info_get_bool(data, "encrypted", &f->encrypted);
        strata_info_get_bool(data, "dirty-flag", &f->dirty);
        const char *s = strata_info_get_str(data, "backing-filename");
        f->backing_name = s ? strdup(s) : NULL;
        s = strata_info_get_str(data, "backing-filename-format");
        f->backing_format = s ? strdup(s) : NULL;
        f->snapshots = strata_info_take(data, "snapshots");
        static const char *const reserved[] = { "cluster-size", "encrypted", "dirty-flag",
                                                "backing-filename",
                                                "backing-filename-format", NULL };
        for (const char *const *k = reserved; *k; k++)
            strata_info_remove(data, *k);
        f->specific = data;
    }
    return 0;
}

static void facts_free(struct image_facts *f)
{
    strata_info_free(f->specific);
    strata_info_free(f->snapshots);
    free(f->backing_name);
    free(f->backing_format);
    memset(f, 0, sizeof *f);
}

static const char *backing_name(const struct image_facts *f)
{
    return f->backing_name ? f->backing_name : strata_node_filename(f->backing);
}

static const char *backing_format(const struct image_facts *f)
{
    return f->backing_format ? f->backing_format : strata_node_driver_name(f->backing);
}

/* Field order as qemu-img 7 prints them, so outputs can be diffed.  The
 * format-specific data and snapshot list move into o. */
static void to_json_obj(struct image_facts *f, struct strata_info *o)
{
    bool has_backing = f->backing || f->backing_name;
    if (has_backing && (f->backing || f->backing_format))
        strata_info_add_str(o, "backing-filename-format", backing_format(f));
    strata_info_add_int(o, "virtual-size", f->virtual_size);
    strata_info_add_str(o, "filename", f->filename);
    if (f->cluster_size > 0)
        strata_info_add_int(o, "cluster-size", f->cluster_size);
    strata_info_add_str(o, "format", f->format);
    if (f->actual_size >= 0)
        strata_info_add_int(o, "actual-size", f->actual_size);
    if (f->have_encrypted && f->encrypted)
        strata_info_add_bool(o, "encrypted", true);
    if (f->snapshots) {
        strata_info_attach(o, "snapshots", f->snapshots);
        f->snapshots = NULL;
    }
    if (f->specific) {
        struct strata_info *fs = strata_info_add_object(o, "format-specific");
        strata_info_add_str(fs, "type", f->format);
        strata_info_attach(fs, "data", f->specific);
        f->specific = NULL;
    }
    if (has_backing) {
        strata_info_add_str(o, "full-backing-filename",
                            f->backing ? strata_node_filename(f->backing) : f->backing_name);
        strata_info_add_str(o, "backing-filename", backing_name(f));
    }
    strata_info_add_bool(o, "dirty-flag", f->dirty);
}

static void print_human(const struct image_facts *f)
{
    char buf[64];
    printf("image: %s\n", f->filename);
    printf("file format: %s\n", f->format);
    strata_format_size((uint64_t)f->virtual_size, buf, sizeof buf);
    printf("virtual size: %s (%" PRId64 " bytes)\n", buf, f->virtual_size);
    if (f->actual_size >= 0) {
        strata_format_size((uint64_t)f->actual_size, buf, sizeof buf);
        printf("disk size: %s\n", buf);
    } else {
        printf("disk size: unavailable\n");
    }
    if (f->have_encrypted && f->encrypted)
        printf("encrypted: yes\n");
    if (f->cluster_size > 0)
        printf("cluster_size: %" PRId64 "\n", f->cluster_size);
    if (f->backing || f->backing_name) {
        const char *full = f->backing ? strata_node_filename(f->backing) : NULL;
        printf("backing file: %s", backing_name(f));
        if (full && strcmp(full, backing_name(f)) != 0)
            printf(" (actual path: %s)", full);
        putchar('\n');
        if (f->backing || f->backing_format)
            printf("backing file format: %s\n", backing_format(f));
    }
    if (f->dirty)
        printf("cleanly shut down: no\n");
    if (f->snapshots && strata_info_at(f->snapshots, 0))
        img_print_snapshot_list(f->snapshots);
    if (f->specific) {
        char *t = strata_info_to_text(f->specific, 4);
        if (t && *t) {
            printf("Format specific information:\n");
            fputs(t, stdout);
        }
        free(t);
    }
}

static int run(int argc, char **argv)
{
    enum { OPT_BACKING_CHAIN = TOOL_OPT_FIRST_LOCAL };
    static const struct option longopts[] = {
        TOOL_COMMON_LONGOPTS,
        { "output", required_argument, NULL, TOOL_OPT_OUTPUT },
        { "backing-chain", no_argument, NULL, OPT_BACKING_CHAIN },
        { NULL, 0, NULL, 0 },
    };
    struct tool_common tc = { 0 };
    struct strata_error *err = NULL;
    enum tool_output output = TOOL_OUTPUT_HUMAN;
    bool chain = false;
    int c, ret;

    while ((c = getopt_long(argc, argv, ":hf:U", longopts, NULL)) != -1) {
        int r = tool_common_option(&tc, c, optarg);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        switch (c) {
        case 'h':
            return img_print_help(&img_cmd_info);
        case TOOL_OPT_OUTPUT:
            if (tool_parse_output(optarg, &output, &err) < 0)
                return tool_fail(err, -EINVAL, NULL);
            break;
        case OPT_BACKING_CHAIN:
            chain = true;
            break;
        default:
            return tool_getopt_error(c, argv, "info");
        }
    }
    if (tool_common_finish(&tc) < 0)
        return 1;
    struct tool_image img;
    int n = tool_image_collect_one(&tc, "info", argv + optind, argc - optind, &img);
    if (n)
        return n;

    unsigned flags = STRATA_O_NO_IO | (tc.force_share ? STRATA_O_FORCE_SHARE : 0);
    struct strata_node *top;
    ret = tool_image_open(&img, flags, &top, &err);
    if (ret < 0)
        return tool_fail(err, ret, img.spec);

    struct strata_info *root = strata_info_new_object();
    struct strata_info *list = chain ? strata_info_add_list(root, "chain") : NULL;
    int status = 0;
    bool first = true;
    for (struct strata_node *node = top; node; ) {
        struct image_facts f;
        ret = gather(node, &f, &err);
        if (ret < 0) {
            status = tool_fail(err, ret, strata_node_filename(node));
            break;
        }
        if (output == TOOL_OUTPUT_JSON) {
            struct strata_info *o = list ? strata_info_add_object(list, NULL) : root;
            to_json_obj(&f, o);
        } else {
            if (!first)
                putchar('\n');
            print_human(&f);
        }
        first = false;
        struct strata_node *next = f.backing;
        facts_free(&f);
        if (!chain)
            break;
        node = next;
    }
    if (status == 0 && output == TOOL_OUTPUT_JSON)
        tool_print_info_json(list ? strata_info_get(root, "chain") : root);
    strata_info_free(root);
    strata_close(top);
    return status;
}

const struct img_command img_cmd_info = {
    .name = "info",
    .run = run,
    .synopsis = "info [--object OBJ] [--image-opts | --config FILE] [-f FMT]\n"
                "                [--output=human|json] [--backing-chain] [-U] FILENAME",
    .summary = "Show information about the image FILENAME.",
    .help =
        "  -f FMT                image format (probed when omitted)\n"
        "  --output=human|json   output format (default: human); JSON uses\n"
        "                        qemu-img's field names\n"
        "  --backing-chain       show every image of the backing chain\n"
        "  -U, --force-share     open without taking image locks\n"
        "  --image-opts          FILENAME is dotted options\n"
        "                        (driver=raw,file.filename=disk.img)\n"
        "  --config FILE         the image is the stack described by FILE\n"
        "  --object secret,...   define a secret\n",
};
