/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* version.c - the version of the library that is running, which can be
 * newer than the headers a program was built with. */
#include <strata/strata.h>

const char *strata_version(void)
{
    return STRATA_VERSION;
}
