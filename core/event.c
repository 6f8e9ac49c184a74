/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* event.c - the names of the driver events, the one table that turns
 * enum strata_event into the text blkdebug rules and messages use. */
#include "internal.h"

#include <errno.h>
#include <string.h>

static const char *const event_names[STRATA_EV_COUNT] = {
    [STRATA_EV_L1_UPDATE] = "l1_update",
    [STRATA_EV_L1_GROW_ALLOC_TABLE] = "l1_grow_alloc_table",
    [STRATA_EV_L1_GROW_WRITE_TABLE] = "l1_grow_write_table",
    [STRATA_EV_L1_GROW_ACTIVATE_TABLE] = "l1_grow_activate_table",
    [STRATA_EV_L2_LOAD] = "l2_load",
    [STRATA_EV_L2_UPDATE] = "l2_update",
    [STRATA_EV_L2_UPDATE_COMPRESSED] = "l2_update_compressed",
    [STRATA_EV_L2_ALLOC_COW_READ] = "l2_alloc_cow_read",
    [STRATA_EV_L2_ALLOC_WRITE] = "l2_alloc_write",
    [STRATA_EV_READ_AIO] = "read_aio",
    [STRATA_EV_READ_BACKING_AIO] = "read_backing_aio",
    [STRATA_EV_READ_COMPRESSED] = "read_compressed",
    [STRATA_EV_WRITE_AIO] = "write_aio",
    [STRATA_EV_WRITE_COMPRESSED] = "write_compressed",
    [STRATA_EV_VMSTATE_LOAD] = "vmstate_load",
    [STRATA_EV_VMSTATE_SAVE] = "vmstate_save",
    [STRATA_EV_COW_READ] = "cow_read",
    [STRATA_EV_COW_WRITE] = "cow_write",
    [STRATA_EV_REFTABLE_LOAD] = "reftable_load",
    [STRATA_EV_REFTABLE_GROW] = "reftable_grow",
    [STRATA_EV_REFTABLE_UPDATE] = "reftable_update",
    [STRATA_EV_REFBLOCK_LOAD] = "refblock_load",
    [STRATA_EV_REFBLOCK_UPDATE] = "refblock_update",
    [STRATA_EV_REFBLOCK_UPDATE_PART] = "refblock_update_part",
    [STRATA_EV_REFBLOCK_ALLOC] = "refblock_alloc",
    [STRATA_EV_REFBLOCK_ALLOC_HOOKUP] = "refblock_alloc_hookup",
    [STRATA_EV_REFBLOCK_ALLOC_WRITE] = "refblock_alloc_write",
    [STRATA_EV_REFBLOCK_ALLOC_WRITE_BLOCKS] = "refblock_alloc_write_blocks",
    [STRATA_EV_REFBLOCK_ALLOC_WRITE_TABLE] = "refblock_alloc_write_table",
    [STRATA_EV_REFBLOCK_ALLOC_SWITCH_TABLE] = "refblock_alloc_switch_table",
    [STRATA_EV_CLUSTER_ALLOC] = "cluster_alloc",
    [STRATA_EV_CLUSTER_ALLOC_BYTES] = "cluster_alloc_bytes",
    [STRATA_EV_CLUSTER_FREE] = "cluster_free",
    [STRATA_EV_FLUSH_TO_OS] = "flush_to_os",
    [STRATA_EV_FLUSH_TO_DISK] = "flush_to_disk",
    [STRATA_EV_PWRITEV_RMW_HEAD] = "pwritev_rmw_head",
    [STRATA_EV_PWRITEV_RMW_AFTER_HEAD] = "pwritev_rmw_after_head",
    [STRATA_EV_PWRITEV_RMW_TAIL] = "pwritev_rmw_tail",
    [STRATA_EV_PWRITEV_RMW_AFTER_TAIL] = "pwritev_rmw_after_tail",
    [STRATA_EV_PWRITEV] = "pwritev",
    [STRATA_EV_PWRITEV_ZERO] = "pwritev_zero",
    [STRATA_EV_PWRITEV_DONE] = "pwritev_done",
    [STRATA_EV_EMPTY_IMAGE_PREPARE] = "empty_image_prepare",
    [STRATA_EV_L1_SHRINK_WRITE_TABLE] = "l1_shrink_write_table",
    [STRATA_EV_L1_SHRINK_FREE_L2_CLUSTERS] = "l1_shrink_free_l2_clusters",
    [STRATA_EV_COR_WRITE] = "cor_write",
    [STRATA_EV_CLUSTER_ALLOC_SPACE] = "cluster_alloc_space",
    [STRATA_EV_L2_ALLOC] = "l2_alloc",
    [STRATA_EV_DISCARD] = "discard",
    [STRATA_EV_WRITE_ZEROES] = "write_zeroes",
};

const char *strata_event_name(enum strata_event ev)
{
    if ((unsigned)ev >= STRATA_EV_COUNT)
        return NULL;
    return event_names[ev];
}

int strata_event_lookup(const char *name, enum strata_event *ev)
{
    for (unsigned i = 1; name && i < STRATA_EV_COUNT; i++)
        if (event_names[i] && strcmp(event_names[i], name) == 0) {
            *ev = (enum strata_event)i;
            return 0;
        }
    return -ENOENT;
}
