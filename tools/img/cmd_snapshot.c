/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_snapshot.c - strata-img snapshot: list, create, apply and delete
 * internal snapshots, with qemu-img's options and list layout. */
#include "img.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* qemu-img's table: the header and the rows use different field widths
 * (the ID and tag columns are padded to one less and followed by a space),
 * and both are reproduced so that scripts parsing one parse the other. */
void img_print_snapshot_list(const struct strata_info *list)
{
    printf("Snapshot list:\n");
    printf("%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK",
           "ICOUNT");
    for (size_t i = 0;; i++) {
        const struct strata_info *o = strata_info_at(list, i);
        if (!o)
            break;
        const char *id = strata_info_get_str(o, "id"), *name = strata_info_get_str(o, "name");
        int64_t vms = 0, ds = 0, cs = 0, cn = 0, ic = 0;
        strata_info_get_int(o, "vm-state-size", &vms);
        strata_info_get_int(o, "date-sec", &ds);
        strata_info_get_int(o, "vm-clock-sec", &cs);
        strata_info_get_int(o, "vm-clock-nsec", &cn);
        char size[32], date[32], clock[96], icount[32] = "";
        if (strata_info_get_int(o, "icount", &ic))
            snprintf(icount, sizeof icount, "%" PRId64, ic);
        strata_format_size((uint64_t)vms, size, sizeof size);
        time_t t = (time_t)ds;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
        snprintf(clock, sizeof clock, "%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64,
                 cs / 3600, cs / 60 % 60, cs % 60, cn / 1000000);
        printf("%-9s %-16s %8s%20s%13s%11s\n", id ? id : "", name ? name : "", size, date,
               clock, icount);
    }
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        TOOL_COMMON_LONGOPTS,
        { NULL, 0, NULL, 0 },
    };
    struct tool_common tc = { 0 };
    struct strata_error *err = NULL;
    enum strata_snapshot_op op = 0;
    const char *name = NULL;
    bool quiet = false;
    int c, ret;

    while ((c = getopt_long(argc, argv, ":hf:la:c:d:qU", longopts, NULL)) != -1) {
        int r = tool_common_option(&tc, c, optarg);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        enum strata_snapshot_op want = 0;
        switch (c) {
        case 'h': return img_print_help(&img_cmd_snapshot);
        case 'q': quiet = true; continue;
        case 'l': want = STRATA_SNAPSHOT_LIST; break;
        case 'a': want = STRATA_SNAPSHOT_APPLY; break;
        case 'c': want = STRATA_SNAPSHOT_CREATE; break;
        case 'd': want = STRATA_SNAPSHOT_DELETE; break;
        default: return tool_getopt_error(c, argv, "snapshot");
        }
        if (op)
            return tool_usage_error("snapshot", "Cannot mix '-l', '-a', '-c', '-d'");
        op = want;
        name = optarg;
    }
    if (!op)
        op = STRATA_SNAPSHOT_LIST;
    if (op != STRATA_SNAPSHOT_LIST && tool_refuse_force_share(&tc, "snapshot"))
        return 1;
    if (tool_common_finish(&tc) < 0)
        return 1;
    struct tool_image img;
    int n = tool_image_collect_one(&tc, "snapshot", argv + optind, argc - optind, &img);
    if (n)
        return n;
    unsigned flags = op == STRATA_SNAPSHOT_LIST
                     ? (STRATA_O_NO_IO | (tc.force_share ? STRATA_O_FORCE_SHARE : 0))
                     : STRATA_O_RDWR | STRATA_O_NO_BACKING;
    struct strata_node *node;
    ret = tool_image_open(&img, flags, &node, &err);
    if (ret < 0)
        return tool_fail(err, ret, img.spec);
    struct strata_info *root = strata_info_new_object();
    struct strata_info *list = op == STRATA_SNAPSHOT_LIST ? strata_info_add_list(root, "s")
                                                          : NULL;
    ret = strata_image_snapshot(node, op, name, list, &err);
    if (ret == 0 && op == STRATA_SNAPSHOT_LIST && !quiet && strata_info_at(list, 0))
        img_print_snapshot_list(list);
    strata_info_free(root);
    strata_close(node);
    if (ret < 0)
        return tool_fail(err, ret, img.spec);
    return 0;
}

const struct img_command img_cmd_snapshot = {
    .name = "snapshot",
    .run = run,
    .synopsis = "snapshot [--object OBJ] [--image-opts | --config FILE] [-f FMT] [-U] [-q]\n"
                "                 [-l | -a SNAPSHOT | -c SNAPSHOT | -d SNAPSHOT] FILENAME",
    .summary = "List, create, apply or delete internal snapshots.",
    .help =
        "  -l                    list the snapshots (the default)\n"
        "  -c SNAPSHOT           create a snapshot of the current state\n"
        "  -a SNAPSHOT           apply (revert to) a snapshot, by ID or name\n"
        "  -d SNAPSHOT           delete a snapshot, by ID or name\n"
        "  -f FMT                image format (probed when omitted)\n"
        "  -q                    quiet\n"
        "  -U, --force-share     open without taking image locks (-l only)\n"
        "  --image-opts          FILENAME is dotted options\n"
        "  --config FILE         the image is the stack described by FILE\n"
        "  --object secret,...   define a secret\n",
};
