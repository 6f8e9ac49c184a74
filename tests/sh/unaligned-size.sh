# SPDX-License-Identifier: LGPL-2.1-or-later
# Image sizes in whole 512-byte sectors, as qemu-img: create rounds a size
# up (raw, qcow2, qcow: the same file size and virtual size as qemu-img's,
# with the asked size in the Formatting line); a raw file whose length is
# not a multiple of 512 shows its last sector whole in info and map (the
# same output as qemu-img), reads as zeros past its end, and a write there
# lengthens it.  Under O_DIRECT, data that ends at such an end takes the
# rest of the sector with it in map, and a new raw file has its first block written
# (map shows it as data), both as qemu-img.
. "$(dirname "$0")/lib/common.sh"
need qemu-img qemu-io
IMG=$STRATA_BUILD/bin/strata-img
IO=$STRATA_BUILD/bin/strata-io
cd "$T"

for fmt in raw qcow2 qcow; do
    for size in 1234 65537; do
        rm -f q.img s.img
        qemu-img create -q -f $fmt q.img $size
        "$IMG" create -f $fmt s.img $size >out.txt || fail "create -f $fmt $size failed"
        contains "fmt=$fmt .*size=$size " out.txt || contains "fmt=$fmt .*size=$size$" out.txt ||
            fail "create $fmt $size says: $(cat out.txt)"
        qemu-img info --output=json q.img >q.json
        qemu-img info --output=json s.img >s.json || fail "qemu-img cannot open the $fmt image"
        [ "$(json_field s.json virtual-size)" = "$(json_field q.json virtual-size)" ] ||
            fail "create $fmt $size: virtual size $(json_field s.json virtual-size)," \
                 "qemu-img's $(json_field q.json virtual-size)"
        if [ $fmt = raw ]; then
            [ "$(stat -c %s s.img)" = "$(stat -c %s q.img)" ] ||
                fail "create raw $size: file of $(stat -c %s s.img) bytes"
        fi
        "$IMG" info s.img | grep '^virtual size' >s.txt
        qemu-img info s.img | grep '^virtual size' >q.txt
        diff q.txt s.txt >/dev/null || fail "info $fmt $size: $(cat s.txt); qemu-img: $(cat q.txt)"
    done
done

# A raw file of 65537 bytes with data in its last byte.
truncate -s 65537 t.raw
printf 'x' | dd of=t.raw bs=1 seek=65536 conv=notrunc status=none
for out in human json; do
    qemu-img map -f raw --output=$out t.raw >q.map
    "$IMG" map -f raw --output=$out t.raw >s.map || fail "map --output=$out failed"
    diff q.map s.map >/dev/null || fail "map --output=$out: $(cat s.map); qemu-img: $(cat q.map)"
done
"$IMG" info -f raw t.raw | grep -qx 'virtual size: 64.5 KiB (66048 bytes)' ||
    fail "info of a 65537-byte raw file: $("$IMG" info -f raw t.raw | grep virtual)"
"$IO" -f raw -c 'read -P 0x78 65536 1' -c 'read -P 0 65537 511' t.raw >/dev/null ||
    fail "the tail of the last sector does not read as zeros"
"$IO" -f raw -c 'write -P 0x55 66000 48' t.raw >/dev/null || fail "write in the last sector"
[ "$(stat -c %s t.raw)" = 66048 ] || fail "a write in the last sector left $(stat -c %s t.raw) bytes"
qemu-io -f raw -c 'read -P 0 65537 463' -c 'read -P 0x55 66000 48' t.raw >/dev/null ||
    fail "qemu-io reads other data than was written in the last sector"

# A fresh image: qemu-img writes its first block (for alignment probing).
for size in 1000 1048575; do
    rm -f q.raw s.raw
    qemu-img create -q -f raw q.raw $size
    "$IMG" create -q -f raw s.raw $size || fail "create -f raw $size failed"
    qemu-img map -f raw --output=json q.raw >q.map
    "$IMG" map -f raw --output=json s.raw >s.map || fail "map of a new raw image failed"
    diff q.map s.map >/dev/null || fail "new raw $size: map $(cat s.map); qemu-img: $(cat q.map)"
done
# Data up to an unaligned end of file, the first 960 KiB a hole.
rm -f t.raw && truncate -s 1048575 t.raw
head -c 65535 /dev/urandom | dd of=t.raw bs=65536 seek=15 conv=notrunc status=none
for direct in off on; do
    o=driver=raw,file.filename=t.raw,cache.direct=$direct
    qemu-img map --output=json --image-opts $o >q.map
    "$IMG" map --output=json --image-opts $o >s.map || fail "map of a tail extent failed"
    diff q.map s.map >/dev/null ||
        fail "tail extent, cache.direct=$direct: map $(cat s.map); qemu-img: $(cat q.map)"
done
exit 0
