#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# qcow2-check-stats.sh - strata-img check prints qemu-img check's statistics
# line for the same image: contiguity counted within each L2 table and
# compressed clusters counted as fragmented (4 KiB clusters, data across
# several L2 tables, compressed clusters).  And commit leaves the base as
# qemu-img commit does: zeros from the image give the base's space back.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
need qemu-img qemu-io
cd "$T"

same_check() { # IMAGE WHAT
    qemu-img check "$1" >q.txt 2>&1
    strata-img check "$1" >s.txt 2>&1
    sed -i 's/^strata-img:/qemu-img:/' s.txt
    diff -u q.txt s.txt || fail "check of $2 differs from qemu-img's"
}

qemu-img create -q -f qcow2 -o cluster_size=4096 a.qcow2 16M
qemu-io -c 'write -P 1 0 3M' -c 'write -P 2 8M 1M' -c 'write -c -P 3 12M 64k' \
    -c 'write -P 4 3M 4k' a.qcow2 >/dev/null
grep -q fragmented <(qemu-img check a.qcow2) || fail "qemu-img printed no statistics"
same_check a.qcow2 "an image of several L2 tables with compressed clusters"

for tool in qemu-img strata-img; do
    qemu-img create -q -f qcow2 -o cluster_size=4096 base-$tool.qcow2 4M
    qemu-io -c 'write -P 1 0 4M' base-$tool.qcow2 >/dev/null
    qemu-img create -q -f qcow2 -o cluster_size=4096 -b base-$tool.qcow2 -F qcow2 top-$tool.qcow2
    qemu-io -c 'write -z 0 4M' top-$tool.qcow2 >/dev/null
    $tool commit -q top-$tool.qcow2 || fail "$tool commit"
done
qemu-img check base-qemu-img.qcow2 >q.txt 2>&1
qemu-img check base-strata-img.qcow2 >s.txt 2>&1
diff -u q.txt s.txt || fail "the base after a commit of zeros differs from qemu-img's"
qemu-io -c 'read -P 0 0 4M' base-strata-img.qcow2 >/dev/null || fail "the base does not read as zeros"
exit 0
