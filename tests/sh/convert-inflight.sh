# SPDX-License-Identifier: LGPL-2.1-or-later
# strata-img convert -m N (requests in flight) and -W (out-of-order writes):
# -m 1, -m 16, -W and -m 16 -W give the same target as the default and as
# qemu-img, byte for byte and hole for hole, from a source with data,
# zero clusters, holes and zero-filled data (two sources joined end to end),
# into raw, qcow2, LUKS and LUKS-encrypted qcow2 targets; without -W the
# target's writes come in offset order (strace); bad -m values are refused
# with qemu-img's message and status, before any target is made.
. "$(dirname "$0")/lib/common.sh"
need qemu-img qemu-io strace
IMG=$STRATA_BUILD/bin/strata-img
cd "$T"

qemu-img create -q -f qcow2 -o cluster_size=65536 src.qcow2 40M
qemu-io -f qcow2 -c 'write -P 0x11 0 3M' -c 'write -P 0x22 5M 2M' \
    -c 'write -z 9M 3M' -c 'write -P 0 14M 2M' -c 'write -P 0x33 16M 64k' \
    -c 'write -P 0x44 16448k 4k' -c 'write -P 0x55 23M 5M' -c 'write -P 0 30M 512' \
    -c 'write -P 0x66 39M 1M' src.qcow2 >/dev/null
# Second source: raw, partly sparse, with a zero run inside data.
head -c 3145728 /dev/urandom >tail.raw
truncate -s 8M tail.raw
dd if=/dev/zero of=tail.raw bs=64k seek=8 count=4 conv=notrunc status=none

qemu-img convert -O raw src.qcow2 tail.raw ref.raw
variants=("" "-m 1" "-m 16" "-W" "-m 16 -W" "-m 3 -W")

# map_of FILE: the data/zero extents of a raw file, as qemu-img sees them.
map_of() {
    qemu-img map -f raw --output=json "$1" | sed 's/"offset": [0-9]*//'
}
qemu-img convert -O raw src.qcow2 tail.raw qref.raw
map_of qref.raw >ref.map
i=0
for v in "${variants[@]}"; do
    i=$((i + 1))
    # shellcheck disable=SC2086
    "$IMG" convert $v -O raw src.qcow2 tail.raw r$i.raw || fail "convert $v to raw failed"
    cmp r$i.raw ref.raw || fail "convert $v: raw target differs from qemu-img's"
    map_of r$i.raw >r$i.map
    diff ref.map r$i.map >/dev/null || fail "convert $v: the raw target's holes differ"
    # shellcheck disable=SC2086
    "$IMG" convert $v -O qcow2 src.qcow2 tail.raw q$i.qcow2 || fail "convert $v to qcow2 failed"
    qemu-img compare -q -f raw -F qcow2 ref.raw q$i.qcow2 ||
        fail "convert $v: qcow2 target differs from the source"
    qemu-img check -q q$i.qcow2 || fail "convert $v: qemu-img check finds the qcow2 target bad"
    # -S 0: every byte written, the same on every thread count.
    # shellcheck disable=SC2086
    "$IMG" convert $v -S 0 -O raw src.qcow2 tail.raw f$i.raw || fail "convert $v -S 0 failed"
    cmp f$i.raw ref.raw || fail "convert $v -S 0: target differs"
    [ "$(stat -c %b f$i.raw)" -ge $((48 * 2048)) ] || fail "convert $v -S 0 left holes"
done
# The zero-filled data did not become data in the target: -S worked with -W.
[ "$(stat -c %b r5.raw)" -lt $((30 * 2048)) ] || fail "convert -m 16 -W wrote the zeros"

# Progress with many requests in flight ends at 100%.
"$IMG" convert -p -m 16 -W -O raw src.qcow2 p.raw | tr '\r' '\n' >progress.txt
grep -q '(100.00/100%)' progress.txt || fail "convert -p -m 16 -W does not reach 100%"
cmp p.raw <(head -c 41943040 ref.raw) || fail "convert -p -m 16 -W: target differs"

# In order without -W: the target's pwrite offsets only grow.
# LeakSanitizer cannot run under ptrace: a sanitizer build skips it here.
ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" \
    strace -f -qq -e trace=pwrite64 -o trace.txt "$IMG" convert -m 16 -S 0 -O raw \
    src.qcow2 tail.raw o.raw
cmp o.raw ref.raw || fail "convert -m 16 under strace: target differs"
awk '/pwrite64\(/ { split($0, a, ", "); off = a[length(a)]; sub(/\).*/, "", off);
                    if (off + 0 < last) { bad = 1; print "write at " off " after " last }
                    last = off + 0; n++ }
     END { exit bad || n < 20 }' trace.txt || fail "convert -m 16 wrote the target out of order"

# Encrypted targets: a LUKS volume (-n) and a new LUKS-encrypted qcow2.
printf 'inflight-pass' >pass
OBJ=(--object secret,id=k,file=pass)
"$IMG" create -q -f luks "${OBJ[@]}" -o key-secret=k,iter-time=10 t.luks 48M
for v in "-m 1" "-m 16 -W"; do
    # shellcheck disable=SC2086
    "$IMG" convert $v -n "${OBJ[@]}" src.qcow2 tail.raw \
        --target-image-opts "driver=luks,key-secret=k,file.filename=t.luks" ||
        fail "convert $v into LUKS failed"
    rm -f back.raw
    qemu-img convert "${OBJ[@]}" --image-opts "driver=luks,key-secret=k,file.filename=t.luks" \
        -O raw back.raw && cmp back.raw ref.raw ||
        fail "convert $v: the LUKS target reads back differently in qemu-img"
    rm -f e.qcow2
    # shellcheck disable=SC2086
    "$IMG" convert $v "${OBJ[@]}" -O qcow2 -o encrypt.format=luks,encrypt.key-secret=k,encrypt.iter-time=10 \
        src.qcow2 tail.raw e.qcow2 || fail "convert $v into LUKS qcow2 failed"
    rm -f back.raw
    qemu-img convert "${OBJ[@]}" --image-opts \
        "driver=qcow2,encrypt.key-secret=k,file.filename=e.qcow2" -O raw back.raw &&
        cmp back.raw ref.raw ||
        fail "convert $v: the LUKS qcow2 target reads back differently in qemu-img"
done

# Bad -m values: qemu-img's message and exit status, and no target made.
for m in 0 17 -1 abc "" 4k 1.5 99999999999999999999; do
    rm -f bad.raw qbad.raw
    set +e
    "$IMG" convert -m "$m" -O raw src.qcow2 bad.raw 2>s.err
    s=$?
    qemu-img convert -m "$m" -O raw src.qcow2 qbad.raw 2>q.err
    q=$?
    set -e
    [ "$s" = "$q" ] && [ "$s" != 0 ] || fail "-m '$m': strata-img exits $s, qemu-img $q"
    [ "$(sed 's/^[^:]*: //' s.err)" = "$(sed 's/^[^:]*: //' q.err)" ] ||
        fail "-m '$m': strata-img says '$(cat s.err)', qemu-img '$(cat q.err)'"
    [ ! -e bad.raw ] || fail "-m '$m' was refused but the target was created"
done
for m in 1 16 0x10 " 4"; do
    "$IMG" convert -m "$m" -O raw src.qcow2 good.raw || fail "-m '$m' refused"
    qemu-img convert -m "$m" -O raw src.qcow2 qgood.raw || fail "qemu-img refuses -m '$m'"
done
echo "convert-inflight: ok"
