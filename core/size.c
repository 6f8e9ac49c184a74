/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* size.c - parsing and printing byte counts the way qemu-img users write
 * and read them. */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int size_invalid(const char *text, struct strata_error **errp)
{
    return strata_error_set(errp, EINVAL,
                            "invalid size '%s': expected a number with an "
                            "optional K, M, G, T, P or E suffix", text);
}

/* Returns the shift for a suffix letter (0 for 'B'), or -1. */
static int suffix_shift(char c)
{
    switch (toupper((unsigned char)c)) {
    case 'B': return 0;
    case 'K': return 10;
    case 'M': return 20;
    case 'G': return 30;
    case 'T': return 40;
    case 'P': return 50;
    case 'E': return 60;
    default:  return -1;
    }
}

int strata_parse_size(const char *text, uint64_t *out, struct strata_error **errp)
{
    if (!text)
        return strata_error_set(errp, EINVAL, "invalid size: no value given");
    const char *p = text;
    unsigned __int128 ip = 0;           /* integer part */
    uint64_t frac = 0, frac_scale = 1;  /* fraction = frac / frac_scale */
    bool overflow = false, hex = false, have_frac = false;

    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2])) {
        hex = true;
        p += 2;
        for (; isxdigit((unsigned char)*p); p++) {
            int d = isdigit((unsigned char)*p) ? *p - '0'
                                               : toupper((unsigned char)*p) - 'A' + 10;
            ip = ip * 16 + (unsigned)d;
            if (ip > UINT64_MAX)
                overflow = true, ip = (unsigned __int128)UINT64_MAX + 1;
        }
    } else {
        if (!isdigit((unsigned char)*p) &&
            !(*p == '.' && isdigit((unsigned char)p[1])))
            return size_invalid(text, errp);
        for (; isdigit((unsigned char)*p); p++) {
            ip = ip * 10 + (unsigned)(*p - '0');
            if (ip > UINT64_MAX)
                overflow = true, ip = (unsigned __int128)UINT64_MAX + 1;
        }
        if (*p == '.') {
            p++;
            if (!isdigit((unsigned char)*p))
                return size_invalid(text, errp);
            have_frac = true;
            for (; isdigit((unsigned char)*p); p++) {
                /* Digits beyond 1e-18 cannot change a 64-bit result. */
                if (frac_scale < 1000000000000000000ull) {
                    frac = frac * 10 + (uint64_t)(*p - '0');
                    frac_scale *= 10;
                }
            }
        }
    }

    int shift = 0;
    bool have_suffix = false;
    if (*p) {
        shift = suffix_shift(*p);
        if (shift < 0)
            return size_invalid(text, errp);
        have_suffix = true;
        p++;
        if (shift > 0) {
            if ((p[0] == 'i' || p[0] == 'I') && (p[1] == 'B' || p[1] == 'b'))
                p += 2;
            else if (p[0] == 'B' || p[0] == 'b')
                p++;
        }
        if (*p)
            return size_invalid(text, errp);
    }
    /* A fraction only makes sense with a unit larger than a byte ("1024.0"
     * is a whole number of bytes, as QEMU takes it); "0x1.5" is not a
     * number anyone means. */
    if (have_frac && (hex || ((!have_suffix || shift == 0) && frac != 0)))
        return size_invalid(text, errp);
    if (overflow)
        return strata_error_set(errp, ERANGE, "size '%s' is too large", text);

    unsigned __int128 v = ip << shift;
    if (have_frac)
        v += ((unsigned __int128)frac << shift) / frac_scale;
    if (v > UINT64_MAX)
        return strata_error_set(errp, ERANGE, "size '%s' is too large", text);
    *out = (uint64_t)v;
    return 0;
}

void strata_format_size(uint64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    if (!buf || len == 0)
        return;
    /* Like qemu-img: three significant digits, and the next unit as soon as
     * the number would reach 1000, so that "1000 KiB" never appears. */
    int u = 0;
    double v = (double)bytes;
    char tmp[32];
    for (;;) {
        snprintf(tmp, sizeof tmp, "%.3g", v);
        if (u == 6 || strtod(tmp, NULL) < 1000.0)
            break;
        v /= 1024.0;
        u++;
    }
    snprintf(buf, len, "%s %s", tmp, units[u]);
}
