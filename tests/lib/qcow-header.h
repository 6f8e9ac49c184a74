/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow-header.h - qcow (version 1) headers laid out by hand, for images
 * qemu-img cannot make (damaged fields, large clusters over a backing
 * file). */
#ifndef STRATA_TEST_QCOW_HEADER_H
#define STRATA_TEST_QCOW_HEADER_H

#include <stdint.h>

#define TU_QCOW_MAGIC 0x514649fbu
#define TU_QCOW_HEADER_SIZE 48

/* The header fields in their on-disk order. */
struct tu_qcow_hdr {
    uint32_t magic, version;
    uint64_t backing_offset;
    uint32_t backing_size, mtime;
    uint64_t size;
    uint8_t cluster_bits, l2_bits;
    uint32_t crypt;
    uint64_t l1_offset;
};

/* Writes h into buf[0, TU_QCOW_HEADER_SIZE), big-endian as the format
 * has it. */
void tu_qcow_header(uint8_t *buf, const struct tu_qcow_hdr *h);

#endif
