#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# crash-quick.sh - make check's part of the crash consistency tests
# (tests/crash/crashtest.sh --quick): qcow2 allocating writes with and
# without lazy refcounts, a LUKS1 and a LUKS2 passphrase replacement,
# discard and write-zeroes, compressed writes, snapshot create and apply,
# commit into a backing file, a LUKS1 header restore; three flush points
# and three random cuts each.  `make crashtest` runs all workloads at
# length.
exec bash "$STRATA_SRCDIR/tests/crash/crashtest.sh" --quick
