/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_map.c - strata-img map: where the image's data lives, as qemu-img
 * map prints it. */
#include "img.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct map_entry {
    uint64_t start, length;
    int depth;
    bool present, zero, data, has_offset;
    uint64_t offset;
    const char *filename;
};

static bool mergeable(const struct map_entry *a, const struct map_entry *b)
{
    if (a->start + a->length != b->start || a->depth != b->depth ||
        a->present != b->present || a->zero != b->zero || a->data != b->data ||
        a->has_offset != b->has_offset)
        return false;
    if (a->has_offset && a->offset + a->length != b->offset)
        return false;
    if ((a->filename == NULL) != (b->filename == NULL))
        return false;
    return !a->filename || strcmp(a->filename, b->filename) == 0;
}

static const char *tf(bool v)
{
    return v ? "true" : "false";
}

static int dump(const struct map_entry *e, enum tool_output out, bool first,
                struct strata_error **errp)
{
    if (out == TOOL_OUTPUT_JSON) {
        printf("%s{ \"start\": %" PRIu64 ", \"length\": %" PRIu64 ", \"depth\": %d, "
               "\"present\": %s, \"zero\": %s, \"data\": %s",
               first ? "" : ",\n", e->start, e->length, e->depth, tf(e->present),
               tf(e->zero), tf(e->data));
        if (e->has_offset)
            printf(", \"offset\": %" PRIu64, e->offset);
        putchar('}');
        return 0;
    }
    if (e->data && !e->zero) {
        if (!e->has_offset)
            return strata_error_set(errp, ENOTSUP, "File contains external, encrypted "
                                    "or compressed clusters.");
        printf("%#-16" PRIx64 "%#-16" PRIx64 "%#-16" PRIx64 "%s\n", e->start,
               e->length, e->offset, e->filename ? e->filename : "");
    }
    return 0;
}

enum { OPT_START = TOOL_OPT_FIRST_LOCAL, OPT_MAX };

static uint64_t start = 0, max_len = UINT64_MAX;

static int option(struct img_args *a, int c, const char *arg)
{
    struct strata_error *err = NULL;
    if (c == OPT_START && tool_parse_size(arg, "--start-offset", &start, &err) < 0)
        return tool_fail(err, -EINVAL, NULL);
    if (c == OPT_MAX && tool_parse_size(arg, "--max-length", &max_len, &err) < 0)
        return tool_fail(err, -EINVAL, NULL);
    return 0;
}

static int run(struct img_args *a)
{
    struct strata_node *node = a->node;
    const struct tool_image img = a->img;
    const enum tool_output output = a->output;
    struct strata_error *err = NULL;
    int ret;

    int64_t len = strata_get_length(node);
    if (len < 0) {
        tool_error("%s: cannot read the image size: %s", img.spec, strerror((int)-len));
        return 1;
    }
    uint64_t end = (uint64_t)len;
    if (start > end)
        start = end;
    if (max_len < end - start)
        end = start + max_len;

    if (output == TOOL_OUTPUT_HUMAN)
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    else
        putchar('[');

    struct map_entry cur = { 0 };
    bool have = false, first = true;
    int status = 0;
    for (uint64_t off = start; off < end; ) {
        struct strata_block_status bs = { 0 };
        int depth = 0;
        ret = strata_block_status_above(node, off, end - off, &bs, &depth, &err);
        if (ret < 0 || bs.pnum == 0) {
            if (ret >= 0)
                strata_error_set(&err, EIO, "%s: block status at offset %" PRIu64
                                 " made no progress", img.spec, off);
            status = tool_fail(err, ret < 0 ? ret : -EIO, img.spec);
            break;
        }
        uint64_t pnum = bs.pnum < end - off ? bs.pnum : end - off;
        struct map_entry e = {
            .start = off, .length = pnum, .depth = depth,
            .present = bs.flags & STRATA_BS_ALLOCATED,
            .zero = bs.flags & STRATA_BS_ZERO,
            .data = bs.flags & STRATA_BS_DATA,
            .has_offset = bs.flags & STRATA_BS_OFFSET_VALID,
            .offset = bs.offset,
            .filename = (bs.flags & STRATA_BS_OFFSET_VALID) && bs.file
                        ? strata_node_filename(bs.file) : NULL,
        };
        /* The human format cannot tell zero data from holes: fold them so
         * that they coalesce, as qemu-img does. */
        if (output == TOOL_OUTPUT_HUMAN && (!e.data || e.zero)) {
            e.data = false;
            e.zero = true;
        }
        if (have && mergeable(&cur, &e)) {
            cur.length += e.length;
        } else {
            if (have) {
                if (dump(&cur, output, first, &err) < 0) {
                    status = tool_fail(err, -ENOTSUP, NULL);
                    goto done;
                }
                first = false;
            }
            cur = e;
            have = true;
        }
        off += pnum;
    }
    if (status == 0 && have && dump(&cur, output, first, &err) < 0)
        status = tool_fail(err, -ENOTSUP, NULL);
done:
    if (output == TOOL_OUTPUT_JSON)
        printf("]\n");
    return status;
}

const struct img_command img_cmd_map = {
    .name = "map",
    .synopsis = "map [--object OBJ] [--image-opts | --config FILE] [-f FMT]\n"
                "               [--output=human|json] [--start-offset=OFF] [--max-length=LEN]\n"
                "               [-U] FILENAME",
    .summary = "Show which ranges of FILENAME hold data, and where they are stored.",
    .flags = IMG_TAKES_OUTPUT | IMG_ONE_IMAGE | IMG_OPEN,
    .open_mode = STRATA_O_NO_IO,
    .options = (const struct img_option[]){
        { OPT_START, "start-offset", "OFF", .help = "first byte to map" },
        { OPT_MAX, "max-length", "LEN", .help = "map at most LEN bytes" },
        { 0 },
    },
    .notes = "--output=human lists the data ranges with their host offsets; json every\n"
             "range with start, length, depth, present, zero, data and offset (as\n"
             "qemu-img map).\n",
    .option = option,
    .run = run,
};
