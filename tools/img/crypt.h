/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crypt.h - what the encryption commands (erase, header-backup,
 * header-restore, format) share: reaching a volume's encryption header
 * through the encryption format API. */
#ifndef STRATA_TOOLS_IMG_CRYPT_H
#define STRATA_TOOLS_IMG_CRYPT_H

#include "img.h"

#include <strata/encryption.h>

struct img_crypt {
    struct strata_node *top;        /* the image as opened */
    struct strata_node *hdr;        /* the node holding the header */
    const struct strata_crypto_format *fmt;
    struct strata_crypto_hdr_io io;
    struct strata_crypto_ctx *ctx;  /* opened without a key */
};

/* Opens img (metadata only, with `flags`: STRATA_O_RDWR to write the header,
 * STRATA_O_FORCE_SHARE for -U) and its LUKS header: the "header" child of
 * the luks node if it has one, else its "file". */
int img_crypt_open(const struct tool_image *img, unsigned flags, struct img_crypt *c,
                   struct strata_error **errp);
void img_crypt_close(struct img_crypt *c);
/* Header I/O over a node, for the encryption format callbacks. */
void img_crypt_node_io(struct strata_node *node, bool writable,
                       struct strata_crypto_hdr_io *io);
/* create with encryption asked for (format luks, or encrypt.format=) and
 * no key option: sets it to the --key-file key or a passphrase typed twice.
 * Without either, leaves opts as they are for the format to name what is
 * missing. */
int img_crypt_create_key(const char *format, struct strata_opts *opts, const char *filename,
                         struct strata_error **errp);
/* amend adding a key (state=active or encrypt.state=active) without
 * new-secret: asks for the new passphrase twice at the terminal. */
int img_crypt_new_key(struct strata_opts *opts, struct strata_error **errp);
/* Asks "QUESTION [y/N]" on the terminal; true when `yes` was given or the
 * answer starts with y.  Without a terminal and without --yes: false. */
bool img_confirm(const char *question, bool yes);

#endif
