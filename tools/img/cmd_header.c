/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_header.c - strata-img header-backup / header-restore: a LUKS header
 * and its key material saved to, and put back from, a file. */
#include "crypt.h"
#include "restore_order.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The image (FILENAME, or the stack of a --config file) and the backup file
 * name: 0, or the exit status after the usage message. */
static int collect(struct img_args *a, const char *cmd, const char **file)
{
    if (a->nwords < 1 || a->nwords + a->tc.nconfigs != 2)
        return tool_usage_error(cmd, "Expecting an image (a file name or --config FILE) "
                                "and a backup file name");
    if (tool_image_collect_one(&a->tc, cmd, a->words, a->nwords - 1, &a->img))
        return 1;
    *file = a->words[a->nwords - 1];
    return 0;
}

static int backup(struct img_args *a)
{
    struct strata_error *err = NULL;
    const char *file;
    int r = collect(a, "header-backup", &file);
    if (r != 0)
        return r;
    const struct tool_image img = a->img;

    struct img_crypt cr;
    if ((r = img_crypt_open(&img, a->tc.force_share ? STRATA_O_FORCE_SHARE : 0, &cr, &err)) < 0)
        return tool_fail(err, r, tool_image_label(&img));
    uint64_t len = cr.fmt->header_length(cr.ctx);
    uint8_t *buf = malloc(len);
    int status = 1;
    if (!buf) {
        tool_error("out of memory");
        goto out;
    }
    if ((r = strata_pread(cr.hdr, 0, len, buf, 0, &err)) < 0) {
        status = tool_fail(err, r, tool_image_label(&img));
        goto out;
    }
    /* Never overwrite: an old backup may be the only way back. */
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        tool_error("%s: cannot create the backup file: %s", file, strerror(errno));
        goto out;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n < 0) {
            tool_error("%s: write failed: %s", file, strerror(errno));
            break;
        }
        done += (size_t)n;
    }
    if (close(fd) < 0 && done == len) {
        tool_error("%s: close failed: %s", file, strerror(errno));
        done = 0;
    }
    if (done == len) {
        printf("Saved the LUKS header of '%s' (%" PRIu64 " bytes) to '%s'\n",
               strata_node_filename(cr.hdr), len, file);
        status = 0;
    } else {
        unlink(file);
    }
out:
    free(buf);
    img_crypt_close(&cr);
    return status;
}

struct mem_region {
    uint8_t *buf;
    size_t len;
};

static int mem_read(void *opaque, uint64_t off, void *buf, size_t len,
                    struct strata_error **errp)
{
    struct mem_region *m = opaque;
    if (off > m->len || len > m->len - off)
        return strata_error_set(errp, EINVAL, "backup file is truncated: %zu bytes "
                                "wanted at %" PRIu64 ", %zu in the file", len, off, m->len);
    memcpy(buf, m->buf + off, len);
    return 0;
}

static int read_file(const char *path, struct mem_region *m, struct strata_error **errp)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return strata_error_set(errp, e, "%s: %s", path, strerror(e));
    }
    if (st.st_size <= 0 || st.st_size > 64 * 1024 * 1024) {
        close(fd);
        return strata_error_set(errp, EINVAL, "%s: not a LUKS header backup (%lld bytes)",
                                path, (long long)st.st_size);
    }
    m->len = (size_t)st.st_size;
    m->buf = malloc(m->len);
    size_t done = 0;
    while (m->buf && done < m->len) {
        ssize_t n = read(fd, m->buf + done, m->len - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(fd);
    if (!m->buf || done != m->len) {
        free(m->buf);
        m->buf = NULL;
        return strata_error_set(errp, EIO, "%s: cannot read the backup file", path);
    }
    return 0;
}

/* Opens the restore target read-write.  A stack with a LUKS node (from
 * --config, --image-opts or -f luks) has its header written where erase and
 * header-backup find it, the node holding the header, and never into the
 * payload; any other node is written as it is. */
static int open_target(const struct tool_image *img, struct strata_node **topp,
                       struct strata_node **targetp, struct strata_error **errp)
{
    int r = tool_image_open(img, STRATA_O_RDWR | STRATA_O_NO_IO, topp, errp);
    if (r < 0)
        return r;
    struct strata_node *fmt = tool_format_node(*topp, offsetof(struct strata_driver, get_info));
    if (strcmp(strata_node_driver_name(fmt), "luks") == 0) {
        *targetp = strata_node_child(fmt, "header");
        if (!*targetp)
            *targetp = strata_node_child(fmt, "file");
        if (*targetp)
            return 0;
    }
    /* Metadata-only nodes take no data I/O: open again for writing. */
    strata_close(*topp);
    *topp = NULL;
    r = tool_image_open(img, STRATA_O_RDWR, topp, errp);
    *targetp = *topp;
    return r;
}

static int restore(struct img_args *a)
{
    struct strata_error *err = NULL;
    const char *file;
    int r = collect(a, "header-restore", &file);
    if (r != 0)
        return r;
    struct tool_image img = a->img;
    /* The header on the target may be the broken thing being repaired: the
     * target is the node that holds the header, taken as plain bytes. */
    if (img.kind == TOOL_IMAGE_FILE && !img.format)
        img.format = "raw";

    struct mem_region m = { 0 };
    if ((r = read_file(file, &m, &err)) < 0)
        return tool_fail(err, r, NULL);
    struct strata_crypto_hdr_io mio = { .opaque = &m, .read = mem_read, .size = m.len,
                                        .name = file };
    const struct strata_crypto_format *fmt = strata_crypto_format_for_header("luks", &mio,
                                                                             &err);
    if (!fmt) {
        strata_wipe(m.buf, m.len);
        free(m.buf);
        return tool_fail(err, -ENOENT, NULL);
    }
    struct strata_crypto_ctx *ctx = NULL;
    struct strata_node *node = NULL, *target = NULL;
    int status = 1;
    if ((r = fmt->open(&mio, NULL, STRATA_O_NO_IO, &ctx, &err)) < 0) {
        status = tool_fail(err, r, NULL);
        goto out;
    }
    uint64_t len = fmt->header_length(ctx);
    if (len != m.len) {
        tool_error("%s: not a LUKS header backup: the header needs %" PRIu64 " bytes, "
                   "the file has %zu", file, len, m.len);
        goto out;
    }
    if ((r = open_target(&img, &node, &target, &err)) < 0) {
        status = tool_fail(err, r, tool_image_label(&img));
        if (img.kind != TOOL_IMAGE_FILE && r != -ENOENT)
            tool_error("a stack whose LUKS header is damaged does not open: name the "
                       "file that holds the header instead (header-restore FILE BACKUP)");
        goto out;
    }
    const char *tname = strata_node_filename(target);
    int64_t tlen = strata_get_length(target);
    if (tlen < 0 || (uint64_t)tlen < len) {
        tool_error("%s: too small for the header in '%s' (%" PRIu64 " bytes)",
                   tname, file, len);
        goto out;
    }
    char q[512];
    snprintf(q, sizeof q, "Overwrite the first %" PRIu64 " bytes of '%s' with the LUKS "
             "header in '%s'?", len, tname, file);
    if (!img_confirm(q, a->yes)) {
        tool_error("%s: not restored: confirm with --yes", tool_image_label(&img));
        goto out;
    }
    r = img_restore_header(target, m.buf, len, fmt, ctx, &err);
    if (r < 0) {
        status = tool_fail(err, r, tool_image_label(&img));
        goto out;
    }
    printf("Restored the LUKS header of '%s' from '%s' (%" PRIu64 " bytes)\n",
           tname, file, len);
    status = 0;
out:
    if (node)
        strata_close(node);
    if (ctx)
        fmt->close(ctx);
    if (m.buf) {
        strata_wipe(m.buf, m.len);
        free(m.buf);
    }
    return status;
}

const struct img_command img_cmd_header_backup = {
    .name = "header-backup",
    .synopsis = "header-backup [--object OBJ] [--image-opts | -f FMT] [-U]\n"
                "                 {FILENAME | --config FILE} BACKUP",
    .summary = "Save a LUKS header and its key material to a new file.",
    .notes = "BACKUP is the file to create (never overwritten, so there is nothing to\n"
             "confirm).  With --image-opts a detached header is named by\n"
             "header.filename=...\n",
    .run = backup,
};

const struct img_command img_cmd_header_restore = {
    .name = "header-restore",
    .synopsis = "header-restore [--object OBJ] [--image-opts | -f FMT] [--yes]\n"
                "                 {TARGET | --config FILE} BACKUP",
    .summary = "Write a saved LUKS header back onto the file or node that holds it.",
    /* Only header-restore asks before writing: header-backup never
     * overwrites anything. */
    .flags = IMG_TAKES_YES | IMG_WRITES,
    .notes = "TARGET is the file holding the header (the image, or its detached header\n"
             "file), written as plain bytes and opened as raw unless -f names a format;\n"
             "with --image-opts it is dotted options naming a node.  BACKUP is a file\n"
             "made by header-backup; it is checked first.\n"
             "A TARGET stack with a LUKS node gets the header on the node that holds it\n"
             "(its detached header, else its file), where header-backup reads it; such a\n"
             "stack does not open while its header is damaged: then name the file.\n",
    .run = restore,
};
