/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_check_key.c - strata-img check-key: whether a passphrase unlocks an
 * encrypted image, and with which key slot (cryptsetup open
 * --test-passphrase).  Only the header is read: the payload is never
 * touched. */
#include "img.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* The key slot list the encryption format reports, for a LUKS volume or a
 * LUKS-encrypted qcow2 ("encrypt" data). */
static const struct strata_info *slot_list(const struct strata_info *specific)
{
    if (!specific)
        return NULL;
    const struct strata_info *slots = strata_info_get(specific, "slots");
    if (!slots) {
        const struct strata_info *enc = strata_info_get(specific, "encrypt");
        slots = enc ? strata_info_get(enc, "slots") : NULL;
    }
    return slots;
}

static bool slot_active(const struct strata_info *slots, int i)
{
    const struct strata_info *s = strata_info_at(slots, (size_t)i);
    bool active = false;
    return s && strata_info_get_bool(s, "active", &active) && active;
}

static const char *slot_arg;

static int run(struct img_args *a)
{
    struct strata_error *err = NULL;
    const struct tool_image img = a->img;
    int64_t only = -1;
    if (slot_arg && tool_parse_number(slot_arg, "key slot", 0, 255, &only, &err) < 0)
        return tool_fail(err, -EINVAL, NULL);
    unsigned share = a->tc.force_share ? STRATA_O_FORCE_SHARE : 0;

    struct strata_node *top;
    int ret = tool_image_open(&img, STRATA_O_NO_IO | share, &top, &err);
    if (ret < 0)
        return tool_fail(err, ret, img.spec);
    struct tool_image_facts f;
    ret = tool_image_facts_gather(top, &f, &err);
    if (ret < 0) {
        strata_close(top);
        return tool_fail(err, ret, img.spec);
    }
    const struct strata_info *slots = slot_list(f.specific);
    int nslots = 0;
    while (slots && strata_info_at(slots, (size_t)nslots))
        nslots++;
    bool wanted[256] = { false };
    int status = 1;
    if (!slots) {
        tool_error("%s: not an image with LUKS key slots (format '%s')", img.spec,
                   f.format);
        goto out;
    }
    if (only >= nslots) {
        tool_error("%s: key slot %lld does not exist (the volume has %d)", img.spec,
                   (long long)only, nslots);
        goto out;
    }
    if (only >= 0 && !slot_active(slots, (int)only)) {
        tool_error("%s: key slot %lld is not active", img.spec, (long long)only);
        goto out;
    }
    for (int i = 0; i < nslots; i++)
        wanted[i] = slot_active(slots, i) && (only < 0 || only == i);

    /* One open per active slot, each limited to that slot, so the slot
     * that opens is known; the passphrase is asked for once. */
    status = 2;
    for (int i = 0; i < nslots; i++) {
        if (!wanted[i])
            continue;
        struct strata_node *node;
        ret = tool_image_open_keyed(&img, share, i, &node, &err);
        if (ret == 0) {
            strata_close(node);
            printf("Key slot %d unlocked.\n", i);
            status = 0;
            goto out;
        }
        if (ret != -EACCES) {
            status = tool_fail(err, ret, img.spec);
            goto out;
        }
        strata_error_free(err);
        err = NULL;
    }
    tool_error("%s: No key available with this passphrase.", img.spec);
out:
    tool_image_facts_free(&f);
    strata_close(top);
    return status;
}

const struct img_command img_cmd_check_key = {
    .name = "check-key",
    .synopsis = "check-key [--object OBJ] [--image-opts | --config FILE] [-f FMT] [-S SLOT]\n"
                "                 [-U] FILENAME",
    .summary = "Test whether a passphrase unlocks an encrypted image.",
    .flags = IMG_ONE_IMAGE,
    .options = (const struct img_option[]){
        { 'S', "key-slot", "SLOT", .value = &slot_arg, .help = "try this key slot only" },
        { 0 },
    },
    .notes = "--key-file FILE gives the passphrase ('-': stdin); without it and without a\n"
             "key-secret option it is asked for at the terminal.  Only the header is\n"
             "read.  Prints 'Key slot N unlocked.' and exits 0 when the passphrase opens\n"
             "a slot, exits 2 when it opens none, 1 on other errors.\n",
    .run = run,
};
