/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow-header.c - qcow (version 1) headers laid out by hand. */
#include "qcow-header.h"

#include <string.h>

#include "testutil.h"

void tu_qcow_header(uint8_t *buf, const struct tu_qcow_hdr *h)
{
    memset(buf, 0, TU_QCOW_HEADER_SIZE);
    tu_put_be(buf, 4, h->magic);
    tu_put_be(buf + 4, 4, h->version);
    tu_put_be(buf + 8, 8, h->backing_offset);
    tu_put_be(buf + 16, 4, h->backing_size);
    tu_put_be(buf + 20, 4, h->mtime);
    tu_put_be(buf + 24, 8, h->size);
    buf[32] = h->cluster_bits;
    buf[33] = h->l2_bits;
    tu_put_be(buf + 36, 4, h->crypt);
    tu_put_be(buf + 40, 8, h->l1_offset);
}
