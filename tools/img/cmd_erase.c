/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_erase.c - strata-img erase: destroys every key slot and the header of
 * a LUKS volume so that it can never be unlocked again. */
#include "crypt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int run(int argc, char **argv)
{
    enum { OPT_YES = TOOL_OPT_FIRST_LOCAL };
    static const struct option longopts[] = {
        TOOL_COMMON_LONGOPTS,
        { "yes", no_argument, NULL, OPT_YES },
        { "output", required_argument, NULL, TOOL_OPT_OUTPUT },
        { NULL, 0, NULL, 0 },
    };
    struct tool_common tc = { 0 };
    struct strata_error *err = NULL;
    enum tool_output output = TOOL_OUTPUT_HUMAN;
    bool yes = false;
    int c;

    while ((c = getopt_long(argc, argv, ":hf:yU", longopts, NULL)) != -1) {
        int r = tool_common_option(&tc, c, optarg);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        switch (c) {
        case 'h':
            return img_print_help(&img_cmd_erase);
        case 'y':
        case OPT_YES:
            yes = true;
            break;
        case TOOL_OPT_OUTPUT:
            if (tool_parse_output(optarg, &output, &err) < 0)
                return tool_fail(err, -EINVAL, NULL);
            break;
        default:
            return tool_getopt_error(c, argv, "erase");
        }
    }
    if (tool_refuse_force_share(&tc, "erase"))
        return 1;
    if (tool_common_finish(&tc) < 0)
        return 1;
    struct tool_image img;
    int n = tool_image_collect_one(&tc, "erase", argv + optind, argc - optind, &img);
    if (n)
        return n;

    struct img_crypt cr;
    int ret = img_crypt_open(&img, STRATA_O_RDWR, &cr, &err);
    if (ret < 0)
        return tool_fail(err, ret, tool_image_label(&img));
    char q[512];
    snprintf(q, sizeof q, "Erase every key slot and the LUKS header of '%s'? The data "
             "can never be decrypted again.", strata_node_filename(cr.hdr));
    if (!img_confirm(q, yes)) {
        img_crypt_close(&cr);
        tool_error("%s: not erased: confirm with --yes", tool_image_label(&img));
        return 1;
    }
    struct strata_info *report = strata_info_new_object();
    ret = cr.fmt->erase(cr.ctx, report, &err);
    if (ret >= 0)
        ret = strata_flush(cr.top, &err);
    int status = 0;
    if (ret < 0) {
        status = tool_fail(err, ret, tool_image_label(&img));
    } else if (output == TOOL_OUTPUT_JSON) {
        strata_info_add_str(report, "filename", strata_node_filename(cr.hdr));
        tool_print_info_json(report);
    } else {
        char *text = strata_info_to_text(report, 0);
        printf("Erased the LUKS header and key material of '%s':\n%s",
               strata_node_filename(cr.hdr), text ? text : "");
        free(text);
    }
    strata_info_free(report);
    img_crypt_close(&cr);
    return status;
}

const struct img_command img_cmd_erase = {
    .name = "erase",
    .run = run,
    .synopsis = "erase [--object OBJ] [--image-opts | --config FILE] [-f FMT] [--yes]\n"
                "                 [--output=human|json] FILENAME",
    .summary = "Destroy every key slot and the header of a LUKS volume.",
    .help =
        "  -y, --yes             do not ask for confirmation\n"
        "  --output=FMT          report what was wiped as human text or json\n"
        "  -f FMT                image format (probed when omitted)\n"
        "  --image-opts          FILENAME is dotted options (a detached header is\n"
        "                        named by header.filename=...)\n"
        "  --config FILE         the image is the stack described by FILE\n"
        "  --object secret,...   define a secret\n",
};
