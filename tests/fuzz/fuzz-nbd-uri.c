/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-nbd-uri.c - where the nbd driver would connect (drivers/nbd/
 * address.c, linked in): the input's first line is a file name, an NBD
 * URI as a user writes it, the rest dotted options (server.type,
 * server.host, server.port, server.path, export).  Both go through what
 * an open does before it connects - the core's routing of a URI to its
 * protocol, then the driver's address checks - and never connect. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "../../drivers/nbd/nbd-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    char *nl = strchr(text, '\n');
    const char *rest = "";
    if (nl) {
        *nl = 0;
        rest = nl + 1;
    }

    /* A plain file name: the core names the protocol from its scheme. */
    struct strata_opts *routed = strata_opts_for_file(text, NULL);
    strata_opts_free(routed);

    struct strata_opts *o = strata_opts_new();
    struct strata_error *err = NULL;
    if (o && strata_opts_parse(o, rest, NULL, &err) == 0) {
        struct nbd_addr addr;
        /* A refusal may come after some fields were filled in. */
        nbd_addr_parse(&addr, o, *text ? text : NULL, &err);
        nbd_addr_clear(&addr);
    }
    strata_error_free(err);
    strata_opts_free(o);
    free(text);
    return 0;
}
