/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_check_key.c - strata-img check-key: whether a passphrase unlocks an
 * encrypted image, and with which key slot (cryptsetup open
 * --test-passphrase).  Only the header is read: the payload is never
 * touched. */
#include "img.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which key slots are active, from what the encryption format reports for
 * a LUKS volume or a LUKS-encrypted qcow2 ("encrypt" data): LUKS1 lists
 * every slot with an "active" flag ("slots"), LUKS2 the keyslots that exist
 * with their "id" ("keyslots"; those of another type have no "priority",
 * and those of priority "ignored" are only tried when named, as
 * cryptsetup does).  Returns the number of slots the volume can have, or
 * -1 when it reports none. */
static int active_slots(const struct strata_info *specific, bool *active, bool *ignored,
                        int max)
{
    if (!specific)
        return -1;
    const struct strata_info *enc = strata_info_get(specific, "encrypt");
    const struct strata_info *slots = strata_info_get(specific, "slots");
    if (!slots && enc)
        slots = strata_info_get(enc, "slots");
    if (slots) {
        int n = 0;
        for (const struct strata_info *s; n < max && (s = strata_info_at(slots, (size_t)n)); n++) {
            bool on = false;
            active[n] = strata_info_get_bool(s, "active", &on) && on;
        }
        return n;
    }
    const struct strata_info *ks = strata_info_get(specific, "keyslots");
    if (!ks)
        return -1;
    const struct strata_info *s;
    for (size_t i = 0; (s = strata_info_at(ks, i)); i++) {
        int64_t id;
        const char *prio = strata_info_get_str(s, "priority");
        if (strata_info_get_int(s, "id", &id) && id >= 0 && id < max && prio) {
            active[id] = true;
            ignored[id] = strcmp(prio, "ignored") == 0;
        }
    }
    return 32;
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
    bool active[256] = { false }, ignored[256] = { false }, wanted[256] = { false };
    int nslots = active_slots(f.specific, active, ignored, 256);
    int status = 1;
    if (nslots < 0) {
        tool_error("%s: not an image with LUKS key slots (format '%s')", img.spec,
                   f.format);
        goto out;
    }
    if (only >= nslots) {
        tool_error("%s: key slot %lld does not exist (the volume has %d)", img.spec,
                   (long long)only, nslots);
        goto out;
    }
    if (only >= 0 && !active[only]) {
        tool_error("%s: key slot %lld is not active", img.spec, (long long)only);
        goto out;
    }
    for (int i = 0; i < nslots; i++)
        wanted[i] = active[i] && (only < 0 ? !ignored[i] : only == i);

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
