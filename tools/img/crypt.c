/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crypt.c - shared by the encryption commands. */
#include "crypt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int node_read(void *opaque, uint64_t off, void *buf, size_t len,
                     struct strata_error **errp)
{
    return strata_pread(opaque, off, len, buf, 0, errp);
}

static int node_write(void *opaque, uint64_t off, const void *buf, size_t len,
                      struct strata_error **errp)
{
    return strata_pwrite(opaque, off, len, buf, 0, errp);
}

static int node_flush(void *opaque, struct strata_error **errp)
{
    return strata_flush(opaque, errp);
}

void img_crypt_node_io(struct strata_node *node, bool writable,
                       struct strata_crypto_hdr_io *io)
{
    memset(io, 0, sizeof *io);
    io->opaque = node;
    io->read = node_read;
    io->write = writable ? node_write : NULL;
    io->flush = writable ? node_flush : NULL;
    int64_t len = strata_get_length(node);
    io->size = len > 0 ? (uint64_t)len : 0;
    io->name = strata_node_filename(node);
}

int img_crypt_open(const struct tool_image *img, unsigned flags, struct img_crypt *c,
                   struct strata_error **errp)
{
    memset(c, 0, sizeof *c);
    bool writable = flags & STRATA_O_RDWR;
    int r = tool_image_open(img, flags | STRATA_O_NO_IO, &c->top, errp);
    if (r < 0)
        return r;
    struct strata_node *fmt = tool_format_node(c->top, offsetof(struct strata_driver, get_info));
    if (strcmp(strata_node_driver_name(fmt), "luks") != 0) {
        r = strata_error_set(errp, EINVAL, "%s: not a LUKS volume (format '%s')",
                             strata_node_filename(fmt), strata_node_driver_name(fmt));
        goto fail;
    }
    c->hdr = strata_node_child(fmt, "header");
    if (!c->hdr)
        c->hdr = strata_node_child(fmt, "file");
    if (!c->hdr) {
        r = strata_error_set(errp, ENOENT, "%s: the LUKS node has no header child",
                             strata_node_filename(fmt));
        goto fail;
    }
    img_crypt_node_io(c->hdr, writable, &c->io);
    c->fmt = strata_crypto_format_for_header("luks", &c->io, errp);
    if (!c->fmt) {
        r = -ENOTSUP;
        goto fail;
    }
    r = c->fmt->open(&c->io, NULL, STRATA_O_NO_IO, &c->ctx, errp);
    if (r < 0)
        goto fail;
    return 0;
fail:
    strata_close(c->top);
    c->top = NULL;
    return r;
}

void img_crypt_close(struct img_crypt *c)
{
    if (c->fmt && c->ctx)
        c->fmt->close(c->ctx);
    c->ctx = NULL;
    if (c->top)
        strata_close(c->top);
    c->top = NULL;
}

bool img_confirm(const char *question, bool yes)
{
    if (yes)
        return true;
    if (!isatty(STDIN_FILENO))
        return false;
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    char line[16];
    if (!fgets(line, sizeof line, stdin))
        return false;
    return line[0] == 'y' || line[0] == 'Y';
}

int img_crypt_create_key(const char *format, struct strata_opts *opts, const char *filename,
                         struct strata_error **errp)
{
    const char *keyopt;
    if (strcmp(format, "luks") == 0)
        keyopt = "key-secret";
    else if (opts && strata_opts_get(opts, "encrypt.format"))
        keyopt = "encrypt.key-secret";
    else
        return 0;
    if ((opts && strata_opts_get(opts, keyopt)) ||
        (!tool_key_file_given() && !tool_can_prompt()))
        return 0;   /* the format names what is missing */
    char id[32];
    int r = tool_supply_key(filename, true, id, sizeof id, errp);
    if (r == 0)
        r = strata_opts_set(opts, keyopt, id);
    return r;
}

int img_crypt_new_key(struct strata_opts *opts, struct strata_error **errp)
{
    static const char *const prefixes[] = { "", "encrypt." };
    for (size_t i = 0; opts && i < 2; i++) {
        char state[32], secret[32];
        snprintf(state, sizeof state, "%sstate", prefixes[i]);
        snprintf(secret, sizeof secret, "%snew-secret", prefixes[i]);
        const char *v = strata_opts_get(opts, state);
        if (!v || strcmp(v, "active") != 0 || strata_opts_get(opts, secret) ||
            !tool_can_prompt())
            continue;
        char id[32];
        int r = tool_prompt_secret("Enter new passphrase for key slot: ", true, id,
                                   sizeof id, errp);
        if (r == 0)
            r = strata_opts_set(opts, secret, id);
        return r;
    }
    return 0;
}
