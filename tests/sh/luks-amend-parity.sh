#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks-amend-parity.sh - strata-img amend refuses keyslot changes of LUKS
# and LUKS-encrypted qcow2 images in qemu-img 7.2's words, naming no file
# as qemu-img does.  qemu-img itself is the reference each time; every
# command here is refused, so both tools see the same image.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/parity.sh"
need qemu-img
cd "$T"

S="--object secret,id=s0,data=pw0 --object secret,id=s1,data=pw1"
for fmt in luks qcow2; do
    echo "== $fmt"
    pr=""
    [ $fmt = qcow2 ] && pr="encrypt."
    extra=""
    [ $fmt = qcow2 ] && extra="-o encrypt.format=luks"
    qemu_img_retry create -q -f $fmt $S $extra -o ${pr}key-secret=s0,${pr}iter-time=10 img.$fmt 1M ||
        fail "qemu-img create $fmt"
    img="driver=$fmt,file.filename=img.$fmt,${pr}key-secret=s0"
    same "$fmt: erase the only keyslot" amend $S --image-opts "$img" -o ${pr}state=inactive,${pr}keyslot=0
    grep -q "Attempt to erase the only active keyslot 0" s.out || fail "$fmt: $(cat s.out)"
    same "$fmt: erase by the only password" amend $S --image-opts "$img" -o ${pr}state=inactive,${pr}old-secret=s0
    same "$fmt: erase by an unknown password" amend $S --image-opts "$img" -o ${pr}state=inactive,${pr}old-secret=s1
    same "$fmt: overwrite an active keyslot" amend $S --image-opts "$img" \
        -o ${pr}state=active,${pr}new-secret=s1,${pr}keyslot=0,${pr}iter-time=10
    for slot in 1 2 3 4 5 6 7; do
        qemu_img_retry amend $S --image-opts "$img" \
            -o ${pr}state=active,${pr}new-secret=s1,${pr}keyslot=$slot,${pr}iter-time=10 ||
            fail "$fmt: qemu-img amend adding keyslot $slot"
    done
    same "$fmt: every keyslot in use" amend $S --image-opts "$img" \
        -o ${pr}state=active,${pr}new-secret=s1,${pr}iter-time=10
    grep -q "^Can't add a keyslot - all keyslots are in use" s.out || fail "$fmt: $(cat s.out)"
done
echo "luks-amend-parity: ok"
