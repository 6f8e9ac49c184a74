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

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        TOOL_COMMON_LONGOPTS,
        { "key-slot", required_argument, NULL, 'S' },
        { NULL, 0, NULL, 0 },
    };
    struct tool_common tc = { 0 };
    struct strata_error *err = NULL;
    int64_t only = -1;
    int c;

    while ((c = getopt_long(argc, argv, ":hf:S:U", longopts, NULL)) != -1) {
        int r = tool_common_option(&tc, c, optarg);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        switch (c) {
        case 'h':
            return img_print_help(&img_cmd_check_key);
        case 'S':
            if (tool_parse_number(optarg, "key slot", 0, 255, &only, &err) < 0)
                return tool_fail(err, -EINVAL, NULL);
            break;
        default:
            return tool_getopt_error(c, argv, "check-key");
        }
    }
    if (tool_common_finish(&tc) < 0)
        return 1;
    struct tool_image img;
    int n = tool_image_collect_one(&tc, "check-key", argv + optind, argc - optind, &img);
    if (n)
        return n;
    unsigned share = tc.force_share ? STRATA_O_FORCE_SHARE : 0;

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
    .run = run,
    .synopsis = "check-key [--object OBJ] [--key-file FILE] [--image-opts | --config FILE]\n"
                "                 [-f FMT] [-S SLOT] [-U] FILENAME",
    .summary = "Test whether a passphrase unlocks an encrypted image.",
    .help =
        "  --key-file FILE       the passphrase ('-': stdin); without it and without\n"
        "                        a key-secret option it is asked for at the terminal\n"
        "  -S, --key-slot SLOT   try this key slot only\n"
        "  -f FMT                image format (probed when omitted)\n"
        "  -U, --force-share     open without taking image locks\n"
        "  --image-opts          FILENAME is dotted options\n"
        "  --config FILE         the image is the stack described by FILE\n"
        "  --object secret,...   define a secret\n"
        "Only the header is read.  Prints 'Key slot N unlocked.' and exits 0 when\n"
        "the passphrase opens a slot, exits 2 when it opens none, 1 on other errors.\n",
};
