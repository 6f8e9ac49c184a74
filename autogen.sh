#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regenerates ./configure from configure.ac.  Autoconf's configure deletes
# stray core dumps named "core"; strata has a source directory of that name,
# so those deletions are dropped to keep configure quiet.
set -e
cd "$(dirname "$0")"
autoconf
sed -i -e 's/^\([[:space:]]*\)rm -f core /\1rm -f /' \
       -e 's/rm -f core \*\.core core\.conftest\.\*/rm -f *.core core.conftest.*/' configure
