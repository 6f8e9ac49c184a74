/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe.c - guessing an image's format from its first bytes, as qemu does:
 * every format driver scores the data and the highest score wins; raw
 * accepts anything with the lowest score. */
#include "node.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROBE_BYTES 4096

struct scheme_ctx {
    const char *scheme;
    size_t len;
    const char *driver;
};

static void scheme_one(const struct strata_driver *d, void *opaque)
{
    struct scheme_ctx *c = opaque;
    for (const char *const *s = d->uri_schemes; !c->driver && s && *s; s++)
        if (strlen(*s) == c->len && strncasecmp(*s, c->scheme, c->len) == 0)
            c->driver = d->name;
}

char *strata_file_name(const char *filename)
{
    if (strncmp(filename, "file:", 5) != 0)
        return strdup(filename);
    const char *rest = filename + 5;
    /* Without its prefix, "file:a:b/c" would read as protocol "a"; "./"
     * keeps it a path (a colon before the first slash means it is not
     * absolute). */
    const char *colon = strchr(rest, ':'), *slash = strchr(rest, '/');
    char *out;
    if (colon && (!slash || colon < slash))
        return asprintf(&out, "./%s", rest) < 0 ? NULL : out;
    return strdup(rest);
}

const char *strata_protocol_for(const char *filename)
{
    /* RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
    size_t n = 0;
    if (!filename || !isalpha((unsigned char)filename[0]))
        return "file";
    while (filename[n] && (isalnum((unsigned char)filename[n]) || strchr("+-.", filename[n])))
        n++;
    if (strncmp(filename + n, "://", 3) != 0)
        return "file";
    /* Every driver module is loaded only for a name shaped like a URI. */
    struct scheme_ctx c = { filename, n, NULL };
    strata_driver_foreach(scheme_one, &c);
    return c.driver ? c.driver : "file";
}

struct probe_ctx {
    const uint8_t *buf;
    size_t len;
    const char *filename;
    const char *best;
    int best_score;
};

static void probe_one(const void *desc, void *opaque)
{
    const struct strata_driver *d = desc;
    struct probe_ctx *c = opaque;
    if (d->kind != STRATA_DRIVER_FORMAT || !d->probe)
        return;
    int score = d->probe(c->buf, c->len, c->filename);
    /* Ties go to the name that sorts first, so the result is stable. */
    if (score > c->best_score ||
        (score == c->best_score && score > 0 && c->best && strcmp(d->name, c->best) < 0)) {
        c->best_score = score;
        c->best = d->name;
    }
}

int strata_probe_format(struct strata_node *file, const char **fmt,
                        struct strata_error **errp)
{
    uint8_t buf[PROBE_BYTES];
    int64_t size = strata_node_length(file, errp);
    if (size < 0)
        return (int)size;
    size_t len = (uint64_t)size < sizeof buf ? (size_t)size : sizeof buf;
    memset(buf, 0, sizeof buf);
    int r = strata_pread(file, 0, len, buf, 0, errp);
    if (r < 0)
        return r;
    struct probe_ctx c = { buf, len, strata_node_filename(file), NULL, 0 };
    strata_registry_foreach(STRATA_REG_DRIVER, probe_one, &c);
    if (!c.best)
        return strata_error_set(errp, ENOENT, "%s: could not determine the image format",
                                strata_node_filename(file));
    *fmt = c.best;
    return 0;
}
