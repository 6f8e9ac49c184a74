/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_erase.c - strata-img erase: destroys every key slot and the header of
 * a LUKS volume so that it can never be unlocked again. */
#include "crypt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int run(struct img_args *a)
{
    const struct tool_image img = a->img;
    struct strata_error *err = NULL;

    struct img_crypt cr;
    int ret = img_crypt_open(&img, STRATA_O_RDWR, &cr, &err);
    if (ret < 0)
        return tool_fail(err, ret, tool_image_label(&img));
    char q[512];
    snprintf(q, sizeof q, "Erase every key slot and the LUKS header of '%s'? The data "
             "can never be decrypted again.", strata_node_filename(cr.hdr));
    if (!img_confirm(q, a->yes)) {
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
    } else if (a->output == TOOL_OUTPUT_JSON) {
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
    .synopsis = "erase [--object OBJ] [--image-opts | --config FILE] [-f FMT] [--yes]\n"
                "                 [--output=human|json] FILENAME",
    .summary = "Destroy every key slot and the header of a LUKS volume.",
    .flags = IMG_TAKES_OUTPUT | IMG_TAKES_YES | IMG_WRITES | IMG_ONE_IMAGE,
    .notes = "--output tells what was wiped.  With --image-opts a detached header is\n"
             "named by header.filename=...\n",
    .run = run,
};
