/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bitmap_size.c - the room a qcow2 target needs for a source's persistent
 * dirty bitmaps, as qemu-img measure reports it ("bitmaps size"). */
#include <stdint.h>
#include <string.h>

#include "img.h"

static uint64_t div_up(uint64_t a, uint64_t b)
{
    return (a + b - 1) / b;
}

/* Each bitmap is counted fully allocated (its data clusters and the
 * clusters of its table), plus the directory: one entry of 24 bytes and the
 * name, padded to 8, per bitmap, in whole clusters.  The bitmaps are those
 * the source's info lists. */
uint64_t img_bitmaps_size(struct strata_node *fmt, uint64_t vsize, uint64_t cluster)
{
    struct strata_info *info = strata_info_new_object();
    uint64_t total = 0, dir = 0;
    if (!info || strata_image_info(fmt, info, NULL) < 0)
        goto out;
    const struct strata_info *list = strata_info_get(info, "bitmaps");
    for (size_t i = 0; list && strata_info_at(list, i); i++) {
        const struct strata_info *b = strata_info_at(list, i);
        int64_t gran = 0;
        const char *name = strata_info_get_str(b, "name");
        if (!name || !strata_info_get_int(b, "granularity", &gran) || gran <= 0)
            continue;
        uint64_t bytes = div_up(div_up(vsize, (uint64_t)gran), 8);
        uint64_t clusters = div_up(bytes, cluster);
        total += clusters * cluster + div_up(clusters * 8, cluster) * cluster;
        dir += div_up(24 + strlen(name), 8) * 8;
    }
    total += div_up(dir, cluster) * cluster;
out:
    strata_info_free(info);
    return total;
}
