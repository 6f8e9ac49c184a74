# SPDX-License-Identifier: LGPL-2.1-or-later
# Persistent dirty bitmaps in qcow2: strata-img info lists the bitmap
# directory as qemu-img info does (flags, name, granularity, in order), for
# bitmaps qemu-img made, enabled and disabled, with other granularities, left
# in use by a qemu-io that did not close the image, and after the bitmaps
# autoclear bit was cleared.  A damaged directory is refused by name.
# measure's "bitmaps size" for a qcow2 target is qemu-img's.
#
# JSON is compared as trees without "actual-size" (the host file system's
# allocation, not qcow2's); the human output is compared whole without the
# matching "disk size" line.  qemu-img prints bitmaps in directory order, so
# order is compared too.
. "$(dirname "$0")/lib/common.sh"
cd "$T"

need qemu-img qemu-io python3

cat > cmp.py <<'PY'
import json, sys
def drop(v):
    if isinstance(v, dict):
        v.pop("actual-size", None)
        for x in v.values():
            drop(x)
    elif isinstance(v, list):
        for x in v:
            drop(x)
q = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
drop(q); drop(s)
if q != s:
    print("qemu-img:  ", json.dumps(q, sort_keys=True))
    print("strata-img:", json.dumps(s, sort_keys=True))
    sys.exit(1)
PY

n=0
same_info() { # what image
    qemu-img info --output=json "$2" > q.json || fail "$1: qemu-img info failed"
    strata-img info --output=json "$2" > s.json || fail "$1: strata-img info failed"
    python3 cmp.py q.json s.json > diff.txt || fail "$1: info --output=json differs:
$(cat diff.txt)"
    qemu-img info "$2" | grep -v '^disk size:' > q.txt
    strata-img info "$2" | grep -v '^disk size:' > s.txt
    diff q.txt s.txt > diff.txt || fail "$1: info differs:
$(cat diff.txt)"
    n=$((n + 1))
}

qemu-img create -q -f qcow2 a.qcow2 4M
qemu-img bitmap --add a.qcow2 b0
same_info "one bitmap" a.qcow2
qemu-img bitmap --add -g 128k --disable a.qcow2 "a disabled one"
qemu-img bitmap --add -g 512 a.qcow2 fine
qemu-io -c 'write -P 0x11 0 300k' a.qcow2 >/dev/null
same_info "enabled and disabled bitmaps, several granularities" a.qcow2
qemu-img bitmap --remove a.qcow2 b0
same_info "a bitmap removed" a.qcow2
grep -q 'name: a disabled one' s.txt || fail "bitmap name not listed"

# Left in use: qemu-io opens the image writable (which sets the in-use
# flag) and aborts before storing the bitmaps.
qemu-img create -q -f qcow2 u.qcow2 4M
qemu-img bitmap --add u.qcow2 b0
(ulimit -c 0; qemu-io -c 'write 0 64k' -c abort u.qcow2 >/dev/null 2>&1) 2>/dev/null || true
qemu-img info u.qcow2 | contains 'in-use' || fail "could not leave a bitmap in use"
same_info "a bitmap in use" u.qcow2

# The bitmaps extension without its autoclear bit: no bitmaps to report.
cp a.qcow2 noauto.qcow2
printf '\0' | dd of=noauto.qcow2 bs=1 seek=95 conv=notrunc status=none
same_info "bitmaps extension with the autoclear bit clear" noauto.qcow2

# A directory entry with an empty name: refused, naming the file.
dir_offset() {
    python3 - "$1" <<'PY'
import struct, sys
h = open(sys.argv[1], 'rb').read(65536)
o = struct.unpack('>I', h[100:104])[0]
while o + 8 <= len(h):
    t, l = struct.unpack('>II', h[o:o + 8])
    if t == 0x23852875:
        print(struct.unpack('>Q', h[o + 24:o + 32])[0]); break
    if t == 0:
        break
    o += 8 + (l + 7) // 8 * 8
PY
}
cp u.qcow2 bad.qcow2
off=$(dir_offset bad.qcow2)
[ -n "$off" ] || fail "no bitmap directory found in bad.qcow2"
printf '\0\0' | dd of=bad.qcow2 bs=1 seek=$((off + 18)) conv=notrunc status=none
qemu-img info bad.qcow2 >/dev/null 2>&1 && fail "qemu-img took a bitmap with an empty name"
if strata-img info bad.qcow2 > out.txt 2>&1; then fail "info took a bitmap with an empty name"; fi
contains 'bad.qcow2.*bitmap directory entry 0' out.txt || fail "unclear message: $(cat out.txt)"
cp u.qcow2 bad2.qcow2
printf '\100' | dd of=bad2.qcow2 bs=1 seek=$((off + 17)) conv=notrunc status=none
qemu-img info bad2.qcow2 >/dev/null 2>&1 && fail "qemu-img took granularity bits 64"
if strata-img info bad2.qcow2 > out.txt 2>&1; then fail "info took granularity bits 64"; fi
contains 'bad2.qcow2.*granularity bits 64' out.txt || fail "unclear message: $(cat out.txt)"

# measure counts the source's bitmaps fully allocated, in the target's
# clusters, with the directory; long names and fine granularity included.
same_measure() { # image args...
    local img=$1; shift
    qemu-img measure "$@" "$img" > q.txt || fail "qemu-img measure $* $img failed"
    strata-img measure "$@" "$img" > s.txt || fail "strata-img measure $* $img failed"
    diff q.txt s.txt > diff.txt || fail "measure $* $img differs:
$(cat diff.txt)"
    grep -q '^bitmaps size: [1-9]' s.txt || grep -q '"bitmaps": [1-9]' s.txt ||
        [ "${zero_ok:-}" ] || fail "measure $* $img: no bitmaps counted"
    n=$((n + 1))
}
qemu-img create -q -f qcow2 big.qcow2 100G
qemu-img bitmap --add -g 512 big.qcow2 "$(printf 'n%.0s' $(seq 300))"
qemu-img bitmap --add big.qcow2 x
for img in a.qcow2 u.qcow2 big.qcow2; do
    same_measure $img -O qcow2
    same_measure $img -O qcow2 -o cluster_size=4k
    same_measure $img --output=json -O qcow2 -o cluster_size=2M
done
zero_ok=1 same_measure noauto.qcow2 -O qcow2
zero_ok=1 same_measure a.qcow2 -O qcow2 -o compat=0.10

echo "$n comparisons with qemu-img info and measure: equal"
