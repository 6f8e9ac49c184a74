#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# qemu-img-parity.sh - strata-img answers as qemu-img 7.2 does: create -b
# without -F is refused naming the detected format; check reports the
# image end of a leaky qcow2 at the leaked cluster; measure prints the
# bitmaps line and key where qemu-img does, and its usage errors with
# qemu-img's messages and status.  qemu-img itself is the reference each
# time.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/parity.sh"
need qemu-img qemu-io
cd "$T"

echo "== create -b without -F"
qemu-img create -q -f raw base.raw 1M
qemu-img create -q -f qcow2 -b base.raw -F raw mid.qcow2
same "-b raw" create -f qcow2 -b base.raw new.qcow2
same "-b qcow2" create -f qcow2 -b mid.qcow2 new.qcow2
same "-b -u" create -f qcow2 -u -b base.raw new.qcow2 1M
same "-o backing_file" create -f qcow2 -o backing_file=base.raw new.qcow2
same "-b missing" create -f qcow2 -b nosuch.raw new.qcow2
[ -e new.qcow2 ] && fail "a refused create left new.qcow2"
strata-img create -q -f qcow2 -b base.raw -F raw new.qcow2 || fail "create -b -F"

echo "== check of a leaky image"
qemu-img create -q -f qcow2 leak.qcow2 1M
qemu-io -c 'write -P 1 0 64k' -c 'write -P 2 512k 64k' leak.qcow2 >/dev/null
# Drop the L2 entry of guest cluster 8: its data cluster, the last one of
# the file, keeps refcount 1 with no reference.
python3 - <<'PY'
import struct
with open("leak.qcow2", "r+b") as f:
    h = f.read(104)
    l1 = struct.unpack(">Q", h[40:48])[0]
    f.seek(l1)
    l2 = struct.unpack(">Q", f.read(8))[0] & 0x00fffffffffffe00
    f.seek(l2 + 8 * 8)
    f.write(bytes(8))
PY
end_of() { sed -n 's/.*"image-end-offset": \([0-9]*\).*/\1/p'; }
q=$(qemu-img check --output=json leak.qcow2 2>/dev/null | end_of) || true
s=$(strata-img check --output=json leak.qcow2 2>/dev/null | end_of) || true
[ -n "$q" ] && [ "$q" = "$s" ] || fail "image-end-offset: strata $s, qemu-img $q"
[ "$q" = "$(stat -c %s leak.qcow2)" ] || fail "the leaked cluster is not the file's end"
cp leak.qcow2 leak2.qcow2
q=$(qemu-img check -r leaks --output=json leak.qcow2 2>/dev/null | end_of) || true
s=$(strata-img check -r leaks --output=json leak2.qcow2 2>/dev/null | end_of) || true
[ -n "$q" ] && [ "$q" = "$s" ] || fail "after repair: strata $s, qemu-img $q"

echo "== measure: the bitmaps line"
for o in human json; do
    same "qcow2 to qcow2 $o" measure --output=$o -O qcow2 -f qcow2 mid.qcow2
    same "raw to qcow2 $o" measure --output=$o -O qcow2 -f raw base.raw
    same "qcow2 to raw $o" measure --output=$o -O raw -f qcow2 mid.qcow2
    same "qcow2 to v2 $o" measure --output=$o -O qcow2 -o compat=0.10 -f qcow2 mid.qcow2
    same "size $o" measure --output=$o -O qcow2 --size 1G
done
grep -q "bitmaps" s.out && fail "bitmaps shown for --size"
strata-img measure -O qcow2 -f qcow2 mid.qcow2 | contains "^bitmaps size: 0$" || fail "no bitmaps line"
echo "== measure: usage errors"
same "no arguments" measure
same "--size and a file" measure --size 2G base.raw
same "two files" measure base.raw mid.qcow2
same "--object only" measure --object secret,id=sec0,data=MTIzNDU2,format=base64
same "--image-opts alone" measure --image-opts
same "-f alone" measure -f qcow2
same "-l alone" measure -l snap1
same "bad -o list" measure -o ,
same "-o list ending in a comma" measure -o cluster_size=64k, --size 1M
same "bad snapshot list" measure -l snapshot.foo=bar
same "bad --output" measure --output foo
same "bad --size" measure --size -1
same "unknown -O" measure -O foo base.raw
echo "== create: sizes and the Formatting line"
while IFS= read -r args; do
    rm -f sz.qcow2
    # shellcheck disable=SC2086
    same "create $args" create -f qcow2 $args
done <<'LIST'
sz.qcow2 1024.0
sz.qcow2 1024.0b
sz.qcow2 1.5k
sz.qcow2 -- -1024
sz.qcow2 1kilobyte
-o size=1024.0 sz.qcow2
-o size=foobar sz.qcow2
-o size=-1k sz.qcow2
-o size=1M sz.qcow2 1M
-o backing_file= sz.qcow2 1M
LIST
echo "qemu-img-parity: ok"
