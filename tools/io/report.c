/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* report.c - the result lines strata-io prints, in qemu-io's style. */
#include "io.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void io_cvtstr(double value, char *buf, size_t len)
{
    static const struct { double div; const char *suffix; } units[] = {
        { 1152921504606846976.0, "EiB" }, { 1125899906842624.0, "PiB" },
        { 1099511627776.0, "TiB" }, { 1073741824.0, "GiB" },
        { 1048576.0, "MiB" }, { 1024.0, "KiB" },
    };
    const char *suffix = "bytes";
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (value >= units[i].div) {
            value /= units[i].div;
            suffix = units[i].suffix;
            break;
        }
    }
    char num[64];
    snprintf(num, sizeof num, "%.3f", value);
    size_t n = strlen(num);
    /* Whole numbers drop their decimals: "64 KiB", not "64.000 KiB". */
    if (n > 4 && strcmp(num + n - 4, ".000") == 0)
        num[n - 4] = 0;
    snprintf(buf, len, "%s %s", num, suffix);
}

static void timestr(double secs, char *buf, size_t len)
{
    unsigned long cs = (unsigned long)(secs * 100.0 + 0.5);
    unsigned long h = cs / 360000, m = cs / 6000 % 60, s = cs / 100 % 60, f = cs % 100;
    if (h)
        snprintf(buf, len, "%lu:%02lu:%02lu.%02lu", h, m, s, f);
    else if (m)
        snprintf(buf, len, "%02lu:%02lu.%02lu", m, s, f);
    else
        snprintf(buf, len, "%02lu.%02lu sec", s, f);
}

void io_print_report(const char *op, uint64_t bytes, uint64_t off, double secs,
                     int ops, bool quiet)
{
    if (quiet)
        return;
    char size[64], rate[64], t[64];
    printf("%s %" PRIu64 "/%" PRIu64 " bytes at offset %" PRIu64 "\n", op, bytes,
           bytes, off);
    if (secs <= 0)
        secs = 1e-9;
    io_cvtstr((double)bytes, size, sizeof size);
    io_cvtstr((double)bytes / secs, rate, sizeof rate);
    timestr(secs, t, sizeof t);
    printf("%s, %d ops; %s (%s/sec and %.4f ops/sec)\n", size, ops, t, rate,
           (double)ops / secs);
}

void io_dump_buffer(const uint8_t *buf, uint64_t off, uint64_t len)
{
    for (uint64_t i = 0; i < len; i += 16) {
        uint64_t n = len - i < 16 ? len - i : 16;
        printf("%08" PRIx64 ":  ", off + i);
        for (uint64_t j = 0; j < n; j++)
            printf("%02x ", buf[i + j]);
        putchar(' ');
        for (uint64_t j = 0; j < n; j++)
            putchar(isalnum(buf[i + j]) ? buf[i + j] : '.');
        putchar('\n');
    }
}
