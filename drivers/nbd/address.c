/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* address.c - where the nbd driver connects: an NBD URI as filename, or
 * the structured form server.type=unix|inet, server.path, server.host,
 * server.port and export.  Everything is checked before a connection is
 * tried, so a mistake gets a message about the option, not a socket error. */
#include "nbd-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnbd.h>

static const char *const nbd_uri_schemes[] = {
    "nbd://", "nbds://", "nbd+unix://", "nbds+unix://", "nbd+vsock://", "nbds+vsock://",
    NULL,
};

static bool nbd_is_uri(const char *s)
{
    for (const char *const *p = nbd_uri_schemes; *p; p++)
        if (strncmp(s, *p, strlen(*p)) == 0)
            return true;
    return false;
}

static bool nbd_valid_port(const char *p)
{
    if (!*p || strlen(p) > 5)
        return false;
    unsigned v = 0;
    for (const char *c = p; *c; c++) {
        if (*c < '0' || *c > '9')
            return false;
        v = v * 10 + (unsigned)(*c - '0');
    }
    return v >= 1 && v <= 65535;
}

/* The URI a user would write for the same export: what messages show. */
static char *nbd_describe(const struct nbd_addr *a)
{
    char *d = NULL;
    int n;
    if (a->is_unix)
        n = asprintf(&d, "nbd+unix:///%s?socket=%s", a->export_name, a->path);
    else if (strchr(a->host, ':'))
        n = asprintf(&d, "nbd://[%s]:%s/%s", a->host, a->port, a->export_name);
    else
        n = asprintf(&d, "nbd://%s:%s/%s", a->host, a->port, a->export_name);
    return n < 0 ? NULL : d;
}

static int nbd_dup(char **dst, const char *src, struct strata_error **errp)
{
    *dst = strdup(src);
    if (!*dst)
        return strata_error_set(errp, ENOMEM, "nbd: out of memory");
    return 0;
}

int nbd_addr_parse(struct nbd_addr *addr, const struct strata_opts *opts,
                   const char *filename, struct strata_error **errp)
{
    const char *type = strata_opts_get(opts, "server.type");
    const char *path = strata_opts_get(opts, "server.path");
    const char *host = strata_opts_get(opts, "server.host");
    const char *port = strata_opts_get(opts, "server.port");
    const char *export_name = strata_opts_get(opts, "export");
    int r;

    memset(addr, 0, sizeof *addr);
    if (filename && *filename) {
        if (type || path || host || port || export_name)
            return strata_error_set(errp, EINVAL, "nbd: '%s': give either filename (an "
                                    "NBD URI) or server.* and export, not both", filename);
        if (!nbd_is_uri(filename))
            return strata_error_set(errp, EINVAL, "nbd: filename '%s' is not an NBD URI "
                                    "(nbd://HOST[:PORT]/EXPORT or "
                                    "nbd+unix:///EXPORT?socket=PATH)", filename);
        if ((r = nbd_dup(&addr->uri, filename, errp)) < 0 ||
            (r = nbd_dup(&addr->desc, filename, errp)) < 0)
            return r;
        return 0;
    }

    if (!type) {
        if (path && host)
            return strata_error_set(errp, EINVAL, "nbd: both server.path and server.host "
                                    "given; set server.type=unix or server.type=inet");
        type = path ? "unix" : host ? "inet" : NULL;
    }
    if (!type)
        return strata_error_set(errp, EINVAL, "nbd: no server given: use server.type=unix "
                                "with server.path, server.type=inet with server.host "
                                "(and server.port), or filename=URI");
    if (strcmp(type, "unix") == 0) {
        if (!path || !*path)
            return strata_error_set(errp, EINVAL, "nbd: server.type=unix needs "
                                    "server.path (the server's socket)");
        if (host || port)
            return strata_error_set(errp, EINVAL, "nbd: server.%s does not apply to "
                                    "server.type=unix", host ? "host" : "port");
        addr->is_unix = true;
        r = nbd_dup(&addr->path, path, errp);
    } else if (strcmp(type, "inet") == 0) {
        if (!host || !*host)
            return strata_error_set(errp, EINVAL, "nbd: server.type=inet needs "
                                    "server.host");
        if (path)
            return strata_error_set(errp, EINVAL, "nbd: server.path does not apply to "
                                    "server.type=inet");
        if (port && !nbd_valid_port(port))
            return strata_error_set(errp, EINVAL, "nbd: server.port '%s' is not a port "
                                    "number (1-65535)", port);
        if ((r = nbd_dup(&addr->host, host, errp)) < 0)
            return r;
        r = nbd_dup(&addr->port, port ? port : NBD_DEFAULT_PORT, errp);
    } else {
        /* The core checks enum values; this guards direct callers. */
        return strata_error_set(errp, EINVAL, "nbd: server.type '%s' is not unix or inet",
                                type);
    }
    if (r < 0)
        return r;
    if ((r = nbd_dup(&addr->export_name, export_name ? export_name : "", errp)) < 0)
        return r;
    addr->desc = nbd_describe(addr);
    if (!addr->desc)
        return strata_error_set(errp, ENOMEM, "nbd: out of memory");
    return 0;
}

const char *nbd_addr_context(const struct nbd_addr *addr)
{
    return addr->meta_context ? addr->meta_context : LIBNBD_CONTEXT_BASE_ALLOCATION;
}

void nbd_addr_clear(struct nbd_addr *addr)
{
    free(addr->uri);
    free(addr->path);
    free(addr->host);
    free(addr->port);
    free(addr->export_name);
    free(addr->desc);
    free(addr->meta_context);
    memset(addr, 0, sizeof *addr);
}
