/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* names.c - QEMU's special image names (blkdebug:, nbd:) as the options of
 * the stacks they stand for. */
#include "tool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* QEMU's old NBD names, "nbd:unix:SOCKET[:exportname=NAME]" and
 * "nbd:HOST:PORT[:exportname=NAME]", as the NBD URI strata reads; NULL
 * when path is not one. */
static char *nbd_uri(const char *path)
{
    if (strncmp(path, "nbd:", 4) != 0)
        return NULL;
    char *copy = strdup(path + 4), *uri = NULL;
    if (!copy)
        return NULL;
    const char *export = "";
    char *ex = strstr(copy, ":exportname=");
    if (ex) {
        *ex = 0;
        export = ex + strlen(":exportname=");
    }
    int n;
    if (strncmp(copy, "unix:", 5) == 0) {
        n = asprintf(&uri, "nbd+unix:///%s?socket=%s", export, copy + 5);
    } else {
        char *colon = strrchr(copy, ':');
        n = colon ? asprintf(&uri, "nbd://%.*s:%s/%s", (int)(colon - copy), copy,
                             colon + 1, export)
                  : asprintf(&uri, "nbd://%s/%s", copy, export);
    }
    free(copy);
    return n < 0 ? NULL : uri;
}

int tool_file_opts(const char *path, const char *format, struct strata_opts **optsp,
                   struct strata_error **errp)
{
    struct strata_opts *o = NULL;
    int ret = 0;
    char *uri = nbd_uri(path);
    const char *rest = strncmp(path, "blkdebug:", 9) == 0 ? path + 9 : NULL;
    const char *colon = rest ? strchr(rest, ':') : NULL;

    /* json: names are the library's (strata_opts_for_file), as they may
     * also come from an image's backing file name. */
    if (uri) {
        o = strata_opts_for_file(uri, format);
    } else if (colon) {
        /* QEMU's "blkdebug:RULES:IMAGE": the image's file under a blkdebug
         * filter with the rules file RULES (none when empty); or, when the
         * format asked for is blkdebug itself, that node over the image. */
        bool top = format && strcmp(format, "blkdebug") == 0;
        const char *image = top ? "image.filename" : "file.image.filename";
        const char *config = top ? "config" : "file.config";
        o = strata_opts_new();
        if (o && ((format && strata_opts_set(o, "driver", format) < 0) ||
                  (!top && strata_opts_set(o, "file.driver", "blkdebug") < 0) ||
                  (!top && strata_opts_set(o, "file.image.driver", "file") < 0) ||
                  strata_opts_set(o, image, colon + 1) < 0 ||
                  (colon > rest && strata_opts_setf(o, config, "%.*s", (int)(colon - rest),
                                                    rest) < 0)))
            ret = -ENOMEM;
    } else {
        o = strata_opts_for_file(path, format);
    }
    free(uri);
    if (ret == 0 && !o)
        ret = -ENOMEM;
    if (ret < 0) {
        strata_opts_free(o);
        return ret == -ENOMEM ? strata_error_set(errp, ENOMEM, "out of memory") : ret;
    }
    *optsp = o;
    return 0;
}
