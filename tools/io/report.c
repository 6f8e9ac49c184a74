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
    char num[64];
    const char *suffix = "bytes";
    size_t i;
    for (i = 0; i < sizeof units / sizeof units[0]; i++)
        if (value >= units[i].div)
            break;
    if (i < sizeof units / sizeof units[0]) {
        suffix = units[i].suffix;
        snprintf(num, sizeof num, "%.3f", value / units[i].div);
    } else {
        snprintf(num, sizeof num, "%f", value);
    }
    /* qemu-io cuts at the first ".000": "64 KiB", "512 bytes". */
    char *cut = strstr(num, ".000");
    if (cut)
        *cut = 0;
    snprintf(buf, len, "%s %s", num, suffix);
}

/* "00.00 sec" under a second (unless `fixed`), else "H:MM:SS.ss". */
static void timestr(double secs, char *buf, size_t len, bool fixed)
{
    unsigned long whole = (unsigned long)secs;
    double frac = secs - (double)whole;
    if (!fixed && whole == 0)
        snprintf(buf, len, "%05.2f sec", frac);
    else
        snprintf(buf, len, "%lu:%02lu:%05.2f", whole / 3600, whole / 60 % 60,
                 (double)(whole % 60) + frac);
}

void io_print_report(const char *op, double secs, uint64_t off, uint64_t count,
                     uint64_t total, int ops, bool machine)
{
    char size[64], rate[64], t[64];
    if (secs <= 0)
        secs = 1e-9;
    timestr(secs, t, sizeof t, machine);
    if (machine) {
        printf("%" PRIu64 ",%d,%s,%.3f,%.3f\n", total, ops, t, (double)total / secs,
               (double)ops / secs);
        return;
    }
    io_cvtstr((double)total, size, sizeof size);
    io_cvtstr((double)total / secs, rate, sizeof rate);
    printf("%s %" PRIu64 "/%" PRIu64 " bytes at offset %" PRIu64 "\n", op, total,
           count, off);
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
