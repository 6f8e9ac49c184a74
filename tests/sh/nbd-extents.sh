#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Allocation over NBD: a qcow2 overlay (data, zero clusters, unallocated
# clusters) on a raw backing file with data and holes, served read-only by
# nbdkit with strata's plugin and by qemu-nbd: nbdinfo --map gives the same
# extents from both, and both give the same bytes.  strata's NBD client
# reads another metadata context with x-dirty-bitmap as qemu-img's does:
# map over qemu-nbd -A with x-dirty-bitmap=qemu:allocation-depth is the same.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/nbd.sh"
need nbdinfo qemu-nbd

qemu-img create -q -f raw "$T/base.img" 32M
qemu-io -f raw -c 'write -P 0x11 0 4M' -c 'write -P 0x12 16M 2M' "$T/base.img" >/dev/null
qemu-img create -q -f qcow2 -b "$T/base.img" -F raw "$T/top.qcow2" 32M
qemu-io -f qcow2 -c 'write -P 0x21 1M 1M' -c 'write -z 2M 1M' -c 'write -P 0x22 8M 1M' \
    -c 'write -z 16M 512k' "$T/top.qcow2" >/dev/null

nbd_start strata "$NBD_PLUGIN" readonly=true driver=qcow2 file.filename="$T/top.qcow2"
nbd_start_qemu qemu -r -t -f qcow2 "$T/top.qcow2"

# Adjacent extents of one type are merged: servers may split differently.
norm() { awk '{ t = $3; if (n && t == pt && $1 == s + l) { l += $2 } else { if (n) print s, l, pt; s = $1; l = $2; pt = t; n = 1 } } END { if (n) print s, l, pt }'; }
nbdinfo --map "$(nbd_uri strata)" | norm >"$T/map.strata"
nbdinfo --map "$(nbd_uri qemu)" | norm >"$T/map.qemu"
[ "$(wc -l <"$T/map.qemu")" -ge 4 ] || fail "qemu-nbd map: $(cat "$T/map.qemu")"
diff -u "$T/map.qemu" "$T/map.strata" || fail "extents differ from qemu-nbd's"

qemu-img convert -f raw -O raw "$(nbd_uri strata)" "$T/strata.img"
qemu-img convert -f raw -O raw "$(nbd_uri qemu)" "$T/qemu.img"
cmp "$T/qemu.img" "$T/strata.img" || fail "data differs from qemu-nbd's"

nbd_start_qemu depth -r -t -A -f qcow2 "$T/top.qcow2"
for ctx in "" ",x-dirty-bitmap=qemu:allocation-depth"; do
    o="driver=nbd,server.type=unix,server.path=$(nbd_sock depth)$ctx"
    qemu-img map --output=json --image-opts "$o" >"$T/q.map"
    "$STRATA_BUILD/bin/strata-img" map --output=json --image-opts "$o" >"$T/s.map" ||
        fail "map over NBD ($o) failed"
    diff -u "$T/q.map" "$T/s.map" || fail "map over NBD ($o) differs from qemu-img's"
done
grep -q '"present": false' "$T/s.map" || fail "allocation depth shows no local-only range"
exit 0
