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

static enum strata_snapshot_op op;
static const char *name;

static int option(struct img_args *a, int c, const char *arg)
{
    enum strata_snapshot_op want = 0;
    switch (c) {
    case 'l': want = STRATA_SNAPSHOT_LIST; break;
    case 'a': want = STRATA_SNAPSHOT_APPLY; break;
    case 'c': want = STRATA_SNAPSHOT_CREATE; break;
    case 'd': want = STRATA_SNAPSHOT_DELETE; break;
    }
    if (op)
        return tool_usage_error("snapshot", "Cannot mix '-l', '-a', '-c', '-d'");
    op = want;
    name = arg;
    return 0;
}

static int prepare(struct img_args *a)
{
    if (!op)
        op = STRATA_SNAPSHOT_LIST;
    if (op != STRATA_SNAPSHOT_LIST && tool_refuse_force_share(&a->tc, "snapshot"))
        return 1;
    return -1;
}

static unsigned open_flags(const struct img_args *a)
{
    return op == STRATA_SNAPSHOT_LIST ? STRATA_O_NO_IO : STRATA_O_RDWR | STRATA_O_NO_BACKING;
}

static int run(struct img_args *a)
{
    struct strata_node *node = a->node;
    struct strata_error *err = NULL;
    struct strata_info *root = strata_info_new_object();
    struct strata_info *list = op == STRATA_SNAPSHOT_LIST ? strata_info_add_list(root, "s")
                                                          : NULL;
    int ret = strata_image_snapshot(node, op, name, list, &err);
    if (ret == 0 && op == STRATA_SNAPSHOT_LIST && !a->quiet && strata_info_at(list, 0))
        img_print_snapshot_list(list);
    strata_info_free(root);
    if (ret < 0)
        return tool_fail(err, ret, a->img.spec);
    return 0;
}

const struct img_command img_cmd_snapshot = {
    .name = "snapshot",
    .synopsis = "snapshot [--object OBJ] [--image-opts | --config FILE] [-f FMT] [-U] [-q]\n"
                "                 [-l | -a SNAPSHOT | -c SNAPSHOT | -d SNAPSHOT] FILENAME",
    .summary = "List, create, apply or delete internal snapshots.",
    .flags = IMG_TAKES_Q | IMG_ONE_IMAGE | IMG_OPEN,
    .options = (const struct img_option[]){
        { 'l', NULL, NULL, .help = "list the snapshots (the default)" },
        { 'c', NULL, "SNAPSHOT", .help = "create a snapshot of the current state" },
        { 'a', NULL, "SNAPSHOT", .help = "apply (revert to) a snapshot, by ID or name" },
        { 'd', NULL, "SNAPSHOT", .help = "delete a snapshot, by ID or name" },
        { 0 },
    },
    .notes = "-U is for -l only.\n",
    .option = option,
    .prepare = prepare,
    .open_flags = open_flags,
    .run = run,
};
