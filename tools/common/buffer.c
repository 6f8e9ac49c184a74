/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* buffer.c - I/O buffers and clocks. */
#include "tool.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void *tool_alloc_buffer(size_t len)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, len ? len : 1) != 0)
        return NULL;
    return p;
}

bool tool_buffer_is_zero(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    /* Compare word-sized steps first; the tail byte by byte. */
    while (len && ((uintptr_t)p & 7)) {
        if (*p)
            return false;
        p++, len--;
    }
    const uint64_t *w = (const uint64_t *)(const void *)p;
    while (len >= 64) {
        if (w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7])
            return false;
        w += 8;
        len -= 64;
    }
    p = (const unsigned char *)w;
    while (len--)
        if (*p++)
            return false;
    return true;
}

double tool_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
