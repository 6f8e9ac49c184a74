#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# qcow2-parity.sh - strata-img refuses bad qcow2 create options and
# images with unknown incompatible features in qemu-img 7.2's words, with
# the 'Formatting' line before a value the format refuses; it lays out
# small-cluster headers as qemu does.  qemu-img itself is the reference
# each time.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/parity.sh"
need qemu-img qemu-io
cd "$T"

echo "== create options the format refuses"
for o in cluster_size=4M cluster_size=256 refcount_bits=3 refcount_bits=128 \
         compat=0.10,refcount_bits=1 compat=0.10,lazy_refcounts=on \
         compat=0.10,extended_l2=on; do
    same "-o $o" create -f qcow2 -o "$o" new.qcow2 1M
    rm -f new.qcow2
done
same "1 EiB" create -f qcow2 new.qcow2 1E
same "1 EiB, 512-byte clusters" create -f qcow2 -o cluster_size=512 new.qcow2 1E
[ -e new.qcow2 ] && fail "a refused create left new.qcow2"
grep -q "^Formatting 'new.qcow2'" s.out || fail "no Formatting line before the refusal"
strata-img create -f qcow2 -o nosuch=1 new.qcow2 1M >s.out 2>&1 && fail "unknown option taken"
grep -q "^Formatting" s.out && fail "Formatting line for an unknown option"
[ -e new.qcow2 ] && fail "a refused create left new.qcow2"

echo "== unknown incompatible features"
qemu-img create -q -f qcow2 feat.qcow2 1M
# set_feature BITS [RENAME]: incompatible feature bits BITS (a mask) set;
# RENAME=1 turns the feature table's first entry (dirty bit) into one
# named "test2" for bit 62.
set_feature() {
    python3 - "$1" "${2:-0}" <<'PY'
import struct, sys
mask, rename = int(sys.argv[1], 0), sys.argv[2] == "1"
with open("feat.qcow2", "r+b") as f:
    h = bytearray(f.read(4096))
    struct.pack_into(">Q", h, 72, mask)
    off = struct.unpack(">I", h[100:104])[0]
    while True:
        magic, ln = struct.unpack(">II", h[off:off + 8])
        if magic == 0:
            break
        if magic == 0x6803f857 and rename:
            h[off + 8:off + 8 + 48] = b"\x00\x3etest2".ljust(48, b"\x00")
        off += 8 + (ln + 7) // 8 * 8
    f.seek(0)
    f.write(h)
PY
}
set_feature 0x8000000000000000
same "bit 63" info feat.qcow2
set_feature 0xe000000000000000
same "bits 61-63" info feat.qcow2
set_feature 0xe000000000000000 1
same "bit 62 named" info feat.qcow2
grep -q "test2, Unknown incompatible feature: a000000000000000" s.out || fail "table name unused"
echo "== a virtual size no L1 table can map"
qemu-img create -q -f qcow2 big.qcow2 4G
python3 -c '
import struct
with open("big.qcow2", "r+b") as f:
    f.seek(24)
    f.write(struct.pack(">Q", 1 << 60))
'
same "size 1 EiB in the header" info big.qcow2
echo "== small clusters: no feature table"
# hdr_exts FILE: the header extension magics of FILE, one a line.
hdr_exts() {
    python3 - "$1" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as f:
    h = f.read(65536)
off = struct.unpack(">I", h[100:104])[0]
while off + 8 <= len(h):
    magic, ln = struct.unpack(">II", h[off:off + 8])
    if magic == 0:
        break
    print(hex(magic))
    off += 8 + (ln + 7) // 8 * 8
PY
}
qemu-img create -q -f qcow2 base.qcow2 1M
for c in 512 4096 8192; do
    qemu-img create -q -f qcow2 -o cluster_size=$c -b base.qcow2 -F qcow2 q$c.qcow2 1M
    strata-img create -q -f qcow2 -o cluster_size=$c -b base.qcow2 -F qcow2 s$c.qcow2 1M ||
        fail "create with $c-byte clusters"
    [ "$(hdr_exts q$c.qcow2)" = "$(hdr_exts s$c.qcow2)" ] ||
        fail "$c-byte clusters: extensions $(hdr_exts s$c.qcow2), qemu $(hdr_exts q$c.qcow2)"
done
strata-img create -q -f qcow2 -o cluster_size=512,encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10 \
    --object secret,id=s,data=pw luks512.qcow2 1M || fail "LUKS with 512-byte clusters"
qemu-img check -q --object secret,id=s,data=pw \
    --image-opts driver=qcow2,file.filename=luks512.qcow2,encrypt.key-secret=s ||
    fail "qemu-img check of LUKS with 512-byte clusters"
echo "== a missing backing file"
qemu-img create -q -f qcow2 gone.qcow2 1M
qemu-img create -q -f qcow2 -b "$T/gone.qcow2" -F qcow2 orphan.qcow2
rm gone.qcow2
q=$(qemu-io -c 'read 0 512' orphan.qcow2 2>&1 | sed 's/^qemu-io: //') || true
s=$(strata-io -c 'read 0 512' orphan.qcow2 2>&1 | sed 's/^strata-io: //') || true
[ -n "$q" ] && [ "$q" = "$s" ] || fail "missing backing file: '$s', qemu-io '$q'"
echo "== lazy refcounts: what a crash leaves"
# A killed writer with lazy refcounts and a flush after every write leaves
# the new L2 table counted and the data cluster not, under qemu as here.
for io in qemu-io strata-io; do
    qemu-img create -q -f qcow2 -o lazy_refcounts=on lazy-$io.qcow2 128M
    $io --cache writethrough -c 'write -P 0x5a 0 512' -c 'sigraise 9' lazy-$io.qcow2 \
        >/dev/null 2>&1 && fail "$io survived sigraise"
    qemu-img check lazy-$io.qcow2 >check-$io.out 2>&1 && fail "$io: crash left no errors"
done
diff check-qemu-io.out check-strata-io.out || fail "lazy refcounts: a crash leaves other errors"
echo "== discard as qemu-io"
# map_after TOOL COMPAT BACKING: the qemu-img map of an image filled and then
# discarded whole by TOOL, and whether it reads back as TOOL left it.
qemu-img create -q -f qcow2 back.qcow2 128k
qemu-io -c 'write -P 0xff 0 128k' back.qcow2 >/dev/null
map_after() {
    local io=$1 compat=$2 b=$3 img=d-$1-$2-$3.qcow2
    if [ "$b" = yes ]; then
        qemu-img create -q -f qcow2 -o compat=$compat -b back.qcow2 -F qcow2 $img
    else
        qemu-img create -q -f qcow2 -o compat=$compat $img $((128 * 1024 + 512))
    fi
    $io -c 'write -P 1 0 128k' -c "discard 0 $(qemu-img info --output=json $img |
        sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')" $img >/dev/null
    qemu-img map --output=json $img | sed "s/d-$io-/d-/"
}
for compat in 0.10 1.1; do
    for b in yes no; do
        [ "$(map_after qemu-io $compat $b)" = "$(map_after strata-io $compat $b)" ] ||
            fail "discard on compat=$compat, backing $b: $(map_after strata-io $compat $b)"
    done
done
qemu-io -c 'read -P 1 0 128k' d-strata-io-0.10-yes.qcow2 | contains "verification failed" &&
    fail "discard on a v2 image with a backing file changed the data"

echo "== downgrade to compat=0.10"
for io in qemu strata; do
    qemu-img create -q -f qcow2 -o lazy_refcounts=on dg-$io.qcow2 1M
    qemu-io -c 'write -z 0 128k' -c 'write -P 3 128k 64k' -c 'write -z 128k 64k' dg-$io.qcow2 >/dev/null
    $io-img amend -o compat=0.10 dg-$io.qcow2 || fail "$io-img amend -o compat=0.10"
    qemu-img check -q dg-$io.qcow2 || fail "$io-img: the downgraded image does not check"
    qemu-img info dg-$io.qcow2 | grep -v "^image:\|disk size" > info-$io.out
done
diff info-qemu.out info-strata.out || fail "downgrade: other image info than qemu-img's"
qemu-io -c 'read -P 0 0 192k' dg-strata.qcow2 | contains "verification failed" &&
    fail "the downgraded image reads other data"
qemu-img create -q -f qcow2 -o compat=0.10 v2.qcow2 1M
same "lazy_refcounts on a v2 image" amend -o lazy_refcounts=on v2.qcow2
same "compat=0.10 with lazy_refcounts" amend -o compat=0.10,lazy_refcounts=on v2.qcow2

echo "== check: a reference past the end, a repair"
qemu-img create -q -f qcow2 -o cluster_size=512 past.qcow2 512
qemu-io -c 'write 0 512' past.qcow2 >/dev/null
printf '\x00\x80\x00\x00\x00\x00\x00\x00' | dd of=past.qcow2 bs=1 seek=$((2048 + 8)) conv=notrunc 2>/dev/null
qemu-img check past.qcow2 2>&1 | grep -v allocated >q.out || true
strata-img check past.qcow2 2>&1 | grep -v allocated >s.out || true
grep -q "^ERROR: counting reference" q.out || fail "qemu-img check found nothing past the end"
diff q.out s.out || fail "L2 entry past the end: other report than qemu-img's"
qemu-img create -q -f qcow2 rep.qcow2 64k
qemu-io -c 'write 0 64k' rep.qcow2 >/dev/null
printf '\x00\x02' | dd of=rep.qcow2 bs=1 seek=$((0x20000)) conv=notrunc 2>/dev/null
cp rep.qcow2 rep2.qcow2
qemu-img check -r leaks rep.qcow2 >q.out 2>&1 || true
strata-img check -r leaks rep2.qcow2 >s.out 2>&1 || true
diff q.out s.out || fail "check -r leaks: other report than qemu-img's"
echo "qcow2-parity: ok"
