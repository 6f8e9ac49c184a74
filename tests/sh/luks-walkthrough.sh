#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks-walkthrough.sh - runs every command of docs/luks.md (its ```sh
# blocks, in order) in a scratch directory, so the walkthrough stays true.
# The only change: PBKDF2 time 2000 ms (what users get) becomes 10 ms.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
need cryptsetup qemu-img

doc=$STRATA_SRCDIR/docs/luks.md
awk '/^```sh$/ { on = 1; next } /^```$/ { on = 0; next } on' "$doc" |
    sed -e 's/iter-time=2000/iter-time=10/g' \
        -e 's/^! \(.*\)$/if \1; then echo "succeeded but must fail: \1" >\&2; exit 1; fi/' \
        >"$T/walk.sh"
n=$(grep -c . "$T/walk.sh")
[ "$n" -gt 30 ] || fail "only $n command lines found in $doc"
cd "$T"
# -e: the first failing command fails the test.  "! cmd" lines (which -e
# would not catch) were turned into explicit checks above.
bash -ex "$T/walk.sh" || fail "a command of docs/luks.md failed"

# What the walkthrough should have left behind.
[ -f disk.header ] || fail "no header backup"
[ "$(stat -c %s vol.img)" = 33554432 ] || fail "detached payload is not 32 MiB"
cryptsetup isLuks disk.luks && fail "disk.luks was not erased"
cryptsetup luksDump existing.img | contains "Key Slot 0: ENABLED" || fail "existing.img"
echo "walkthrough ran: $n lines"
