#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks2-check.sh - check and repair of LUKS2's redundant header: a damaged
# or stale copy is reported (exit 2) without a write, `check -r all`
# rewrites it from the good copy, and cryptsetup then finds both copies
# valid.  Needs no passphrase.  LUKS1, with one header, has no checks, in
# qemu-img's words and exit status.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/luks.sh"
need python3
img=$T/v.img

# flip IMG OFFSET: changes one byte.
flip() {
    python3 - "$1" "$2" <<'PY'
import sys
f = open(sys.argv[1], "r+b")
f.seek(int(sys.argv[2]))
b = f.read(1)
f.seek(int(sys.argv[2]))
f.write(bytes([b[0] ^ 0x5a]))
PY
}
# seqid IMG OFFSET: the seqid of the copy at OFFSET.
seqid() {
    python3 -c 'import struct,sys; f=open(sys.argv[1],"rb"); f.seek(int(sys.argv[2])+16);
print(struct.unpack(">Q", f.read(8))[0])' "$1" "$2"
}
both_valid() {
    cryptsetup luksDump --debug "$img" 2>&1 | contains -i "checksum.*mismatch\|invalid" &&
        fail "cryptsetup still finds a bad copy after repair"
    [ "$(seqid "$img" 0)" = "$(seqid "$img" 16384)" ] || fail "copies differ in seqid"
    cryptsetup open --test-passphrase --key-file "$PASS" "$img" || fail "cryptsetup cannot open"
}

# expect_check STATUS PATTERN: check without -r exits with STATUS, names
# the damage, and writes nothing.
expect_check() {
    local want=$1 pat=$2 st=0 sum
    sum=$(md5sum <"$img")
    strata-img check "$img" >"$T/out" 2>&1 || st=$?
    [ "$st" = "$want" ] || { cat "$T/out"; fail "check exited $st, not $want"; }
    contains -e "$pat" "$T/out" || { cat "$T/out"; fail "check does not say: $pat"; }
    [ "$(md5sum <"$img")" = "$sum" ] || fail "check without -r wrote to the image"
}

repair() {
    strata-img check -r all "$img" >"$T/out" 2>&1 || { cat "$T/out"; fail "check -r all"; }
    contains -e "$1" "$T/out" || { cat "$T/out"; fail "repair does not say: $1"; }
    contains "No errors were found" "$T/out" || fail "repaired image not clean"
    expect_check 0 "No errors were found"
    both_valid
}

for maker in cryptsetup strata; do
    if [ $maker = cryptsetup ]; then
        cs2_format "$img" 20M
    else
        rm -f "$img"
        strata-img create -q -f luks --object secret,id=s,file="$PASS" \
            -o key-secret=s,luks-version=2,pbkdf=pbkdf2,iter-time=10 "$img" 20M
    fi
    strata_write "$DATA" "$img" || fail "write"
    expect_check 0 "No errors were found"

    # Secondary: its JSON area, then its binary header.
    flip "$img" $((16384 + 4096 + 20))
    expect_check 2 "ERROR .*LUKS2 secondary header at offset 16384: checksum mismatch"
    repair "Repairing .*secondary header.*rewriting it from the primary"
    flip "$img" $((16384 + 100))
    expect_check 2 "secondary header at offset 16384"
    repair "Repairing .*secondary"

    # Primary: JSON area, then the magic (probing then needs -f luks).
    flip "$img" $((4096 + 20))
    expect_check 2 "ERROR .*LUKS2 primary header at offset 0: checksum mismatch"
    repair "Repairing .*primary header.*rewriting it from the secondary"
    strata_read "$img" "$T/back" || fail "read after repairing the primary"
    same_prefix "$DATA" "$T/back" 1048576
    flip "$img" 0
    st=0
    strata-img check -f luks "$img" >"$T/out" 2>&1 || st=$?
    [ $st = 2 ] && contains "primary header at offset 0: bad magic" "$T/out" ||
        fail "check -f luks with the primary's magic gone: $st $(cat "$T/out")"
    strata-img check -f luks -r all "$img" >"$T/out" 2>&1 || fail "repair of the magic"
    both_valid

    # A stale copy: the secondary from before a key change.
    dd if="$img" of="$T/old2" bs=16384 skip=1 count=1 status=none
    strata-img amend --object secret,id=p,file="$PASS" --object secret,id=n,file="$PASS2" \
        -o state=active,new-secret=n,pbkdf=pbkdf2,iter-time=10 \
        --image-opts "driver=luks,key-secret=p,file.filename=$img" || fail "amend"
    dd if="$T/old2" of="$img" bs=16384 seek=1 conv=notrunc status=none
    expect_check 2 "secondary header at offset 16384: seqid [0-9]* is older"
    repair "Repairing .*older"
    cryptsetup open --test-passphrase --key-file "$PASS2" "$img" ||
        fail "the passphrase added before the repair is lost"
done

# Both copies bad: refused, naming both, exit 1 (as any image that does not open).
flip "$img" $((4096 + 20))
flip "$img" $((16384 + 4096 + 20))
st=0
strata-img check -r all "$img" >"$T/out" 2>&1 || st=$?
[ $st = 1 ] || fail "check of an unreadable header exited $st"
contains "no valid LUKS version 2 header copy" "$T/out" || fail "message: $(cat "$T/out")"

# LUKS1: no checks, as qemu-img says, with and without a key.
rm -f "$img"
qemu_img_retry create -q -f luks --object secret,id=s,file="$PASS" \
    -o key-secret=s,iter-time=10 "$img" 1M
for tool in qemu-img strata-img; do
    st=0
    $tool check --object secret,id=s,file="$PASS" \
        --image-opts "driver=luks,key-secret=s,file.filename=$img" >"$T/$tool.out" 2>&1 || st=$?
    [ $st = 63 ] || fail "$tool check of LUKS1 exited $st"
    sed -i "s/^$tool: //" "$T/$tool.out"
done
cmp "$T/qemu-img.out" "$T/strata-img.out" || fail "LUKS1 check message differs from qemu-img's"
echo "luks2-check: ok"
