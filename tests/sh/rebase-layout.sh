#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# rebase-layout.sh - a safe strata-img rebase stores what qemu-img rebase
# stores: only the sectors where the old and the new backing data differ,
# a run of zeros as a zero write, so both give the same map and the same
# data (from no backing file onto one, and from one backing file to another).
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
need qemu-img qemu-io
cd "$T"

setup() { # DIR
    mkdir -p "$1"
    qemu-img create -q -f qcow2 "$1/top.qcow2" 384k
    qemu-img create -q -f qcow2 "$1/new.qcow2" 384k
    qemu-img create -q -f qcow2 "$1/old.qcow2" 384k
    qemu-io -c 'write -P 0x22 0 128k' -c 'write -P 0x11 128k 128k' "$1/top.qcow2" >/dev/null
    qemu-io -c 'write -P 0x11 0 64k' -c 'write -P 0x11 128k 64k' -c 'write -P 0x11 256k 64k' \
        -c 'write -P 0x33 300k 1k' "$1/new.qcow2" >/dev/null
    qemu-io -c 'write -P 0x44 320k 64k' -c 'write -P 0x11 256k 512' "$1/old.qcow2" >/dev/null
}
for tool in qemu-img strata-img; do
    setup $tool
    (cd $tool && $tool rebase -b "" top.qcow2 && qemu-img map --output=json top.qcow2 >map1.txt &&
        $tool rebase -b new.qcow2 -F qcow2 top.qcow2 && qemu-img map --output=json top.qcow2 >map2.txt &&
        qemu-img convert -O raw top.qcow2 data2.raw &&
        qemu-img rebase -u -b old.qcow2 -F qcow2 top.qcow2 &&
        $tool rebase -b new.qcow2 -F qcow2 top.qcow2 && qemu-img map --output=json top.qcow2 >map3.txt &&
        qemu-img convert -O raw top.qcow2 data3.raw) || fail "$tool rebase"
done
for f in map1.txt map2.txt data2.raw map3.txt data3.raw; do
    cmp -s qemu-img/$f strata-img/$f || fail "$f differs from qemu-img's: $(diff qemu-img/$f strata-img/$f | head -5)"
done
grep -q '"zero": true, "data": false' qemu-img/map2.txt || fail "qemu-img's rebase wrote no zeros (the reference changed)"
exit 0
