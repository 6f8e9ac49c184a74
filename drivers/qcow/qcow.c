/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow.c - the original qcow format (version 1): driver descriptor, open,
 * close and image information.  See qcow-int.h for the layout and
 * docs/qcow.md for what the driver does and does not do. */
#include "qcow-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <strata/plugin.h>
#include <strata/strata.h>

static const struct strata_child_role qcow_children[] = {
    { "file", STRATA_CHILD_PROTOCOL | STRATA_CHILD_PRIMARY },
    { "backing", STRATA_CHILD_COW },
    { NULL },
};
static const char *const qcow_encrypt_formats[] = { "aes", NULL };

static const struct strata_opt_desc qcow_open_options[] = {
    { .name = "encrypt.format", .type = STRATA_OPT_ENUM, .choices = qcow_encrypt_formats,
      .help = "encryption of the image: only the legacy 'aes' scheme exists" },
    { .name = "encrypt.key-secret", .type = STRATA_OPT_STRING,
      .help = "id of the secret holding the passphrase of an AES-encrypted image" },
    { .name = QCOW_OPT_ALLOW_AES, .type = STRATA_OPT_BOOL, .def = "off",
      .help = "allow writing with the broken legacy AES scheme (reading needs no "
              "override)" },
    { NULL },
};

static const struct strata_opt_desc qcow_create_options[] = {
    { .name = "backing_file", .type = STRATA_OPT_STRING,
      .help = "file name of a base image" },
    { .name = "backing_fmt", .type = STRATA_OPT_STRING,
      .help = "format of the base image (qcow does not store it: probed on open)" },
    { .name = "encrypt.format", .type = STRATA_OPT_ENUM, .choices = qcow_encrypt_formats,
      .help = "encrypt with the broken legacy 'aes' scheme (needs "
              QCOW_OPT_ALLOW_AES "=on)" },
    { .name = "encrypt.key-secret", .type = STRATA_OPT_STRING,
      .help = "id of the secret holding the AES passphrase" },
    { .name = "encryption", .type = STRATA_OPT_BOOL, .def = "off",
      .help = "same as encrypt.format=aes (deprecated spelling)" },
    { .name = QCOW_OPT_ALLOW_AES, .type = STRATA_OPT_BOOL, .def = "off",
      .help = "allow creating an image with the broken legacy AES scheme" },
    { NULL },
};

static int qcow_probe(const uint8_t *buf, size_t len, const char *filename)
{
    if (len < 8)
        return 0;
    return load_be32(buf) == QCOW_MAGIC && load_be32(buf + 4) == QCOW_VERSION ? 100 : 0;
}

static void qcow_close(struct strata_node *node)
{
    struct qcow_state *s = strata_node_state(node);
    qcow_cache_free(s);
    strata_cipher_free(s->cipher);
    s->cipher = NULL;
    free(s->l1);
    free(s->backing_name);
    free(s->bounce);
    free(s->ccache);
    free(s->cbuf);
}

static int qcow_read_l1(struct qcow_state *s, struct strata_error **errp)
{
    size_t bytes = (size_t)s->l1_size * 8;
    s->l1 = malloc(bytes ? bytes : 8);
    if (!s->l1)
        return strata_error_set(errp, ENOMEM, "%s: out of memory for an L1 table of %u "
                                "entries", s->name, s->l1_size);
    if (bytes == 0)
        return 0;
    int r = strata_pread(s->file, s->h.l1_offset, bytes, s->l1, 0, errp);
    if (r < 0) {
        strata_error_prefix(errp, "%s: reading the L1 table", s->name);
        return r;
    }
    for (uint32_t i = 0; i < s->l1_size; i++)
        s->l1[i] = load_be64((const uint8_t *)&s->l1[i]);
    return 0;
}

static int qcow_read_backing_name(struct qcow_state *s, struct strata_error **errp)
{
    if (s->h.backing_offset == 0 || s->h.backing_size == 0)
        return 0;
    char *name = calloc(1, s->h.backing_size + 1);
    if (!name)
        return strata_error_set(errp, ENOMEM, "out of memory");
    int r = strata_pread(s->file, s->h.backing_offset, s->h.backing_size, name, 0, errp);
    if (r < 0) {
        free(name);
        strata_error_prefix(errp, "%s: reading the backing file name", s->name);
        return r;
    }
    if (name[0] == 0) {
        free(name);
        return 0;
    }
    s->backing_name = name;
    return 0;
}

static int qcow_open_crypt(struct strata_node *node, struct qcow_state *s,
                           const struct strata_opts *opts, unsigned flags,
                           struct strata_error **errp)
{
    const char *fmt = strata_opts_get(opts, "encrypt.format");
    const char *secret = strata_opts_get(opts, "encrypt.key-secret");
    bool allow = false;
    int r = strata_opts_get_bool(opts, QCOW_OPT_ALLOW_AES, &allow, errp);
    if (r < 0)
        return r;
    if (s->h.crypt_method == QCOW_CRYPT_NONE) {
        if (fmt || secret)
            return strata_error_set(errp, EINVAL, "%s: encryption options given, but the "
                                    "image is not encrypted", s->name);
        return 0;
    }
    if ((flags & STRATA_O_RDWR) && !allow)
        return strata_error_set(errp, EPERM, "%s: the image uses the broken legacy qcow AES "
                                "encryption; writing to it needs " QCOW_OPT_ALLOW_AES "=on "
                                "(open it read-only to rescue the data, e.g. with "
                                "strata-img convert)", s->name);
    if (!secret) {
        if (flags & STRATA_O_NO_IO)
            return 0;
        return strata_error_set(errp, ENOKEY, "%s: the image is encrypted (legacy qcow "
                                "AES): give its passphrase with encrypt.key-secret=ID",
                                s->name);
    }
    r = qcow_crypt_open(s, secret, errp);
    if (r < 0)
        return r;
    if (flags & STRATA_O_RDWR)
        strata_warn("%s: opened for writing: %s", s->name, qcow_aes_warning());
    return 0;
}

static int qcow_do_open(struct strata_node *node, const struct strata_opts *opts,
                        unsigned flags, struct strata_error **errp)
{
    struct qcow_state *s = strata_node_state(node);
    int r = strata_node_open_child(node, "file", NULL, false, &s->file, errp);
    if (r < 0)
        return r;
    s->name = strata_node_filename(s->file);

    int64_t flen = strata_get_length(s->file);
    if (flen < 0)
        return strata_error_set(errp, (int)-flen, "%s: cannot get the file size: %s",
                                s->name, strerror((int)-flen));
    uint8_t hb[QCOW_HEADER_SIZE] = { 0 };
    size_t got = (uint64_t)flen < sizeof hb ? (size_t)flen : sizeof hb;
    if (got > 0 && (r = strata_pread(s->file, 0, got, hb, 0, errp)) < 0) {
        strata_error_prefix(errp, "%s: reading the qcow header", s->name);
        return r;
    }
    qcow_header_decode(hb, &s->h);
    r = qcow_header_check(&s->h, got, (uint64_t)flen, s->name, errp);
    if (r < 0)
        return r;

    s->file_end = (uint64_t)flen;
    s->cluster_size = 1u << s->h.cluster_bits;
    s->l2_size = 1u << s->h.l2_bits;
    s->l1_size = (uint32_t)qcow_l1_entries(s->h.size, s->h.cluster_bits, s->h.l2_bits);
    s->csize_shift = 63 - s->h.cluster_bits;
    s->csize_mask = (1ull << s->h.cluster_bits) - 1;
    s->offset_mask = (1ull << s->csize_shift) - 1;

    s->bounce = aligned_alloc(4096, QCOW_BATCH);
    s->ccache = malloc(s->cluster_size);
    s->cbuf = malloc(s->cluster_size);
    if (!s->bounce || !s->ccache || !s->cbuf)
        return strata_error_set(errp, ENOMEM, "out of memory");
    if ((r = qcow_read_l1(s, errp)) < 0 || (r = qcow_read_backing_name(s, errp)) < 0 ||
        (r = qcow_open_crypt(node, s, opts, flags, errp)) < 0)
        return r;

    if (!(flags & STRATA_O_NO_BACKING)) {
        struct strata_child_defaults defs = {
            .filename = s->backing_name,
            .flags_clear = STRATA_O_RDWR,
        };
        r = strata_node_open_child(node, "backing", &defs, s->backing_name == NULL,
                                   &s->backing, errp);
        if (r < 0) {
            /* QEMU's words; the reason below names the backing file. */
            strata_error_prefix(errp, "%s: Could not open backing file", s->name);
            return r;
        }
    }

    struct strata_limits lim = { .request_alignment = QCOW_SECTOR };
    strata_node_set_limits(node, &lim);
    return 0;
}

static int qcow_open(struct strata_node *node, const struct strata_opts *opts,
                     unsigned flags, struct strata_error **errp)
{
    /* The core calls close only for nodes that opened. */
    int r = qcow_do_open(node, opts, flags, errp);
    if (r < 0)
        qcow_close(node);
    return r;
}

static int64_t qcow_length(struct strata_node *node, struct strata_error **errp)
{
    struct qcow_state *s = strata_node_state(node);
    return (int64_t)s->h.size;
}

static int qcow_get_info(struct strata_node *node, struct strata_info *obj,
                         struct strata_error **errp)
{
    struct qcow_state *s = strata_node_state(node);
    strata_info_add_int(obj, "cluster-size", s->cluster_size);
    strata_info_add_int(obj, "l2-table-entries", s->l2_size);
    if (s->h.mtime)
        strata_info_add_uint(obj, "mtime", s->h.mtime);
    if (s->backing_name)
        strata_info_add_str(obj, "backing-filename", s->backing_name);
    strata_info_add_bool(obj, "encrypted", s->h.crypt_method != QCOW_CRYPT_NONE);
    if (s->h.crypt_method == QCOW_CRYPT_AES) {
        struct strata_info *enc = strata_info_add_object(obj, "encrypt");
        strata_info_add_str(enc, "format", "aes");
        strata_info_add_str(enc, "cipher", "aes-128-cbc-plain64");
        strata_info_add_bool(enc, "passphrase-check", false);
        strata_info_add_str(enc, "warning",
                            "broken legacy scheme; a wrong passphrase cannot be detected "
                            "by this format (it reads as garbage): verify rescued data");
    }
    return 0;
}

static const struct strata_driver qcow_driver = {
    STRATA_DRIVER_HEAD,
    .name = "qcow",
    .description = "QEMU copy-on-write image, version 1 (legacy)",
    .kind = STRATA_DRIVER_FORMAT,
    .flags = 0,
    .state_size = sizeof(struct qcow_state),
    .child_roles = qcow_children,
    .open_options = qcow_open_options,
    .create_options = qcow_create_options,
    .probe = qcow_probe,
    .open = qcow_open,
    .close = qcow_close,
    .pread = qcow_pread,
    .pwrite = qcow_pwrite,
    .pwrite_zeroes = qcow_pwrite_zeroes,
    .pdiscard = qcow_pdiscard,
    .length = qcow_length,
    .block_status = qcow_block_status,
    .create = qcow_create,
    .get_info = qcow_get_info,
    .pwrite_compressed = qcow_pwrite_compressed,
};

STRATA_PLUGIN("qcow", .drivers = STRATA_DRIVERS(&qcow_driver));
