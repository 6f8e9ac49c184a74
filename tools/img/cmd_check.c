/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_check.c - strata-img check, with qemu-img's output and exit codes:
 * 0 no problem, 1 check not completed, 2 corruptions, 3 leaks only,
 * 63 the format cannot be checked. */
#include "img.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    CHECK_OK = 0,
    CHECK_INCOMPLETE = 1,
    CHECK_CORRUPT = 2,
    CHECK_LEAKS = 3,
    CHECK_UNSUPPORTED = 63,
};

static void print_human(const struct strata_check_result *r)
{
    if (r->corruptions_fixed || r->leaks_fixed)
        printf("The following inconsistencies were found and repaired:\n\n"
               "    %" PRId64 " leaked clusters\n"
               "    %" PRId64 " corruptions\n\n"
               "Double checking the fixed image now...\n",
               r->leaks_fixed, r->corruptions_fixed);
    if (!r->corruptions && !r->leaks && !r->check_errors) {
        printf("No errors were found on the image.\n");
    } else {
        if (r->corruptions)
            printf("\n%" PRId64 " errors were found on the image.\n"
                   "Data may be corrupted, or further writes to the image "
                   "may corrupt it.\n", r->corruptions);
        if (r->leaks)
            printf("\n%" PRId64 " leaked clusters were found on the image.\n"
                   "This means waste of disk space, but no harm to data.\n",
                   r->leaks);
        if (r->check_errors)
            printf("\n%" PRId64 " internal errors have occurred during the check.\n",
                   r->check_errors);
    }
    if (r->total_clusters > 0 && r->allocated_clusters > 0) {
        double t = (double)r->total_clusters, a = (double)r->allocated_clusters;
        printf("%" PRId64 "/%" PRId64 " = %0.2f%% allocated, %0.2f%% fragmented, "
               "%0.2f%% compressed clusters\n", r->allocated_clusters,
               r->total_clusters, a * 100.0 / t,
               (double)r->fragmented_clusters * 100.0 / a,
               (double)r->compressed_clusters * 100.0 / a);
    }
    if (r->image_end_offset > 0)
        printf("Image end offset: %" PRId64 "\n", r->image_end_offset);
}

/* qemu-img leaves out the counters that are zero, except check-errors. */
static void print_json(const struct strata_check_result *r, const char *filename,
                       const char *format)
{
    struct strata_info *o = strata_info_new_object();
    strata_info_add_str(o, "filename", filename);
    strata_info_add_str(o, "format", format);
    strata_info_add_int(o, "check-errors", r->check_errors);
#define OPTIONAL(key, v) do { if (v) strata_info_add_int(o, key, v); } while (0)
    OPTIONAL("image-end-offset", r->image_end_offset);
    OPTIONAL("corruptions", r->corruptions);
    OPTIONAL("leaks", r->leaks);
    OPTIONAL("corruptions-fixed", r->corruptions_fixed);
    OPTIONAL("leaks-fixed", r->leaks_fixed);
    OPTIONAL("total-clusters", r->total_clusters);
    OPTIONAL("allocated-clusters", r->allocated_clusters);
    OPTIONAL("fragmented-clusters", r->fragmented_clusters);
    OPTIONAL("compressed-clusters", r->compressed_clusters);
#undef OPTIONAL
    tool_print_info_json(o);
    strata_info_free(o);
}

static void print_messages(const struct strata_check_result *r)
{
    fflush(stdout);
    for (size_t i = 0; i < r->nmessages; i++)
        fprintf(stderr, "%s\n", r->messages[i]);
}

static unsigned fix;

static int option(struct img_args *a, int c, const char *arg)
{
    if (c != 'r')
        return 0;
    if (!strcmp(arg, "leaks"))
        fix = STRATA_CHECK_FIX_LEAKS;
    else if (!strcmp(arg, "all"))
        fix = STRATA_CHECK_FIX_LEAKS | STRATA_CHECK_FIX_ERRORS;
    else
        return tool_usage_error("check", "Unknown option value for -r "
                                "(expecting 'leaks' or 'all'): %s", arg);
    return 0;
}

static int prepare(struct img_args *a)
{
    if (fix && a->tc.force_share)
        return tool_usage_error("check", "-U cannot be used with -r: repairs write to the image");
    return -1;
}

/* Checks read and repair metadata only: an encrypted image needs no key. */
static unsigned open_flags(const struct img_args *a)
{
    return (fix ? STRATA_O_RDWR : 0) | STRATA_O_NO_IO | STRATA_O_CHECK;
}

static int run(struct img_args *a)
{
    struct strata_error *err = NULL;
    struct strata_node *node = a->node;
    int ret;
    struct strata_node *fmt = tool_format_node(node, offsetof(struct strata_driver, check));
    int status;
    if (!tool_driver_has(strata_node_driver(fmt), offsetof(struct strata_driver, check))) {
        /* qemu-img's words, which scripts and QEMU's test filters expect. */
        tool_error("This image format does not support checks");
        status = CHECK_UNSUPPORTED;
        goto out;
    }

    struct strata_check_result res = { 0 };
    ret = strata_image_check(fmt, &res, fix, &err);
    if (ret == -ENOTSUP) {
        tool_fail(err, ret, NULL);
        strata_check_result_clear(&res);
        status = CHECK_UNSUPPORTED;
        goto out;
    }
    if (ret < 0) {
        /* What the check found before it stopped, its reason, then
         * qemu-img's last line. */
        if (!a->quiet)
            print_messages(&res);
        /* A check that stopped on a finding with no error of its own
         * ("ERROR need to rebuild refcount structures") has said why. */
        if (err || !res.check_errors)
            tool_fail(err, ret, a->img.spec);
        tool_error("Check failed: %s", strerror(-ret));
        strata_check_result_clear(&res);
        status = CHECK_INCOMPLETE;
        goto out;
    }
    if (!a->quiet)
        print_messages(&res);
    if (fix && (res.corruptions_fixed || res.leaks_fixed)) {
        /* Report the state after the repair, as qemu-img does, but keep the
         * counts of what was fixed. */
        int64_t cf = res.corruptions_fixed, lf = res.leaks_fixed;
        strata_check_result_clear(&res);
        memset(&res, 0, sizeof res);
        ret = strata_image_check(fmt, &res, 0, &err);
        if (ret < 0) {
            tool_fail(err, ret, a->img.spec);
            strata_check_result_clear(&res);
            status = CHECK_INCOMPLETE;
            goto out;
        }
        if (!a->quiet)
            print_messages(&res);
        res.corruptions_fixed = cf;
        res.leaks_fixed = lf;
    }
    if (!a->quiet) {
        if (a->output == TOOL_OUTPUT_JSON)
            print_json(&res, strata_node_filename(node), strata_node_driver_name(node));
        else
            print_human(&res);
    }
    if (res.check_errors)
        status = CHECK_INCOMPLETE;
    else if (res.corruptions)
        status = CHECK_CORRUPT;
    else if (res.leaks)
        status = CHECK_LEAKS;
    else
        status = CHECK_OK;
    strata_check_result_clear(&res);
out:
    return status;
}

const struct img_command img_cmd_check = {
    .name = "check",
    .synopsis = "check [--object OBJ] [--image-opts | --config FILE] [-q] [-f FMT]\n"
                "                 [--output=human|json] [-r leaks|all] [-T SRC_CACHE] [-U] FILENAME",
    .summary = "Check the image's metadata for consistency.",
    .flags = IMG_TAKES_Q | IMG_TAKES_OUTPUT | IMG_ONE_IMAGE | IMG_OPEN | IMG_TAKES_SRC_CACHE,
    .options = (const struct img_option[]){
        { 'r', "repair", "leaks|all",
          .help = "repair leaked clusters only, or all problems\n"
                  "(the image is then opened for writing)" },
        { 0 },
    },
    .notes = "Exit status: 0 no problem found, 1 the check could not be completed,\n"
             "2 the image is corrupted, 3 leaked clusters only, 63 the format has no check.\n",
    .option = option,
    .prepare = prepare,
    .open_flags = open_flags,
    .run = run,
};
