#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# strata-img amend of a qcow2 image's refcount width and size, against
# qemu-img: every width from 1 to 64 bits and back, on an image with an
# internal snapshot (refcounts of 2) and data; after each step qemu-img
# check finds nothing, qemu-img reads the header's new width and both the
# active data and the snapshot's read back.  Refusals (a width the counts
# do not fit, a width that is not a power of two, compat=0.10 with a width
# other than 16) give qemu-img's messages and exit status and change
# nothing.  amend -o size grows and shrinks as qemu-img amend does.
. "$(dirname "$0")/lib/common.sh"
cd "$T"
need qemu-img qemu-io

qemu-img create -q -f qcow2 a.qcow2 64M
qemu-io -c 'write -P 0x11 16M 8M' a.qcow2 >/dev/null
qemu-img snapshot -c snap a.qcow2
qemu-io -c 'write -P 0x22 20M 1M' -c 'write -P 0x33 40M 2M' a.qcow2 >/dev/null
cp a.qcow2 ref.qcow2

verify() { # what
    local out
    out=$(qemu-img check a.qcow2 2>&1) || fail "$1: qemu-img check: $out"
    qemu-img compare -q ref.qcow2 a.qcow2 || fail "$1: the active data changed"
    qemu-img convert -l snap -O raw a.qcow2 s1.raw &&
        qemu-img convert -l snap -O raw ref.qcow2 s2.raw || fail "$1: snapshot unreadable"
    cmp -s s1.raw s2.raw || fail "$1: the snapshot's data changed"
}
width() { qemu-img info --output=json a.qcow2 | grep -o '"refcount-bits": [0-9]*' | grep -o '[0-9]*$'; }

for w in 64 2 32 8 4 16; do
    strata-img amend -o refcount_bits=$w a.qcow2 || fail "amend refcount_bits=$w failed"
    [ "$(width)" = $w ] || fail "after amend refcount_bits=$w qemu-img reads $(width)"
    verify "refcount_bits=$w"
done

# same ARGS...: strata-img and qemu-img amend give the same message and
# status on copies, and neither changes its copy.
same() {
    cp a.qcow2 s.qcow2
    cp a.qcow2 q.qcow2
    local sq=0 ss=0
    qemu-img amend "$@" q.qcow2 >q.out 2>&1 || sq=$?
    strata-img amend "$@" s.qcow2 >s.out 2>&1 || ss=$?
    sed -i 's/^qemu-img: //' q.out
    sed -i 's/^strata-img: //' s.out
    [ "$sq" = "$ss" ] || fail "amend $*: exit $ss, qemu-img $sq: $(cat s.out)"
    cmp -s q.out s.out || { diff q.out s.out; fail "amend $*: message differs"; }
    cmp -s a.qcow2 s.qcow2 || fail "refused amend $* changed the image"
}
same -o refcount_bits=1      # the snapshot's clusters have a refcount of 2
same -o refcount_bits=3
same -o refcount_bits=128
same -o refcount_bits=32,compat=0.10
strata-img amend -o refcount_bits=32 a.qcow2 || fail "amend refcount_bits=32"
same -o compat=0.10

# Down to compat=0.10 and a width of 16 in one amend, as qemu-img takes it
# (on an image without snapshots).
qemu-img create -q -f qcow2 -o refcount_bits=64 d.qcow2 8M
qemu-io -c 'write -P 0x55 1M 2M' d.qcow2 >/dev/null
strata-img amend -o compat=0.10,refcount_bits=16 d.qcow2 || fail "compat=0.10,refcount_bits=16"
qemu-img info d.qcow2 | contains 'compat: 0.10' || fail "compat=0.10 not written"
qemu-img info d.qcow2 | contains 'refcount bits: 16' || fail "refcount_bits=16 not written"
qemu-img check -q d.qcow2 || fail "compat=0.10,refcount_bits=16: qemu-img check"
qemu-io -c 'read -P 0x55 1M 2M' d.qcow2 | contains 'read 2097152/2097152' ||
    fail "compat=0.10,refcount_bits=16: data changed"

# size: grows (zeros after the old end), and shrinks without --shrink as
# qemu-img amend does (no internal snapshots there).
qemu-img create -q -f qcow2 g.qcow2 8M
qemu-io -c 'write -P 0x44 0 8M' g.qcow2 >/dev/null
strata-img amend -o size=16M g.qcow2 || fail "amend size=16M"
qemu-io -c 'read -P 0x44 0 8M' -c 'read -P 0 8M 8M' g.qcow2 | contains 'read 8388608/8388608 bytes at offset 8388608' ||
    fail "grown image reads wrong"
cp g.qcow2 q.qcow2
strata-img amend -o size=4M g.qcow2 || fail "amend size=4M"
qemu-img amend -o size=4M q.qcow2 || fail "qemu-img amend size=4M"
qemu-img compare -q g.qcow2 q.qcow2 || fail "shrunk image differs from qemu-img's"
qemu-img check -q g.qcow2 || fail "shrunk image fails qemu-img check"

echo "qcow2-amend: ok"
