#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# commit-empty.sh - strata-img commit empties the overlay once its data is
# in the backing file, as qemu-img commit does (the same base file as qemu-img's
# on a copy, nothing left in the overlay), -d keeps it; commit -p and rebase -p draw
# progress.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
need qemu-img qemu-io
cd "$T"

setup() { # DIR: base.raw and top.qcow2 with data of its own
    mkdir -p "$1"
    qemu-img create -q -f raw "$1/base.raw" 4M
    qemu-io -f raw -c 'write -P 1 0 4M' "$1/base.raw" >/dev/null
    qemu-img create -q -f qcow2 -b base.raw -F raw "$1/top.qcow2"
    qemu-io -c 'write -P 7 0 1M' -c 'write -z 2M 64k' -c 'write -P 8 3M 64k' \
        "$1/top.qcow2" >/dev/null
}
map() { qemu-img map --output=json "$1"; }

echo "== commit empties the overlay as qemu-img does"
setup q
setup s
qemu-img commit -q q/top.qcow2
strata-img commit -q s/top.qcow2 || fail "commit"
cmp q/base.raw s/base.raw || fail "the base files differ"
map q/top.qcow2 | contains '"depth": 0' && fail "qemu-img commit left data (the reference)"
map s/top.qcow2 | contains '"depth": 0' && fail "the overlay still holds data"
qemu-io -c 'read -P 7 0 1M' -c 'read -P 0 2M 64k' -c 'read -P 8 3M 64k' -c 'read -P 1 1M 1M' \
    s/top.qcow2 | contains "verification failed" && fail "the overlay reads other data"
qemu-img check -q s/top.qcow2 || fail "the emptied overlay does not check clean"

echo "== -d keeps it"
setup d
strata-img commit -q -d d/top.qcow2 || fail "commit -d"
map d/top.qcow2 | contains '"depth": 0' || fail "-d emptied the overlay"
cmp q/base.raw d/base.raw || fail "commit -d wrote another base"

echo "== progress"
setup p
strata-img commit -p p/top.qcow2 >out || fail "commit -p"
contains -F "(100.00/100%)" out || fail "commit -p: $(cat out)"
contains "Image committed." out || fail "commit -p: $(cat out)"
setup r
qemu-img create -q -f raw r/new.raw 4M
strata-img rebase -p -b new.raw -F raw r/top.qcow2 >out || fail "rebase -p"
contains -F "(100.00/100%)" out || fail "rebase -p: $(cat out)"
strata-img rebase -q -p -b base.raw -F raw r/top.qcow2 >out || fail "rebase -q -p"
[ -s out ] && fail "rebase -q -p printed: $(cat out)"
echo "commit-empty: ok"
