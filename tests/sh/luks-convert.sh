#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks-convert.sh - in-place conversion between LUKS1 and LUKS2
# (strata-img amend -o luks-version=N, cryptsetup's convert): volumes made
# by cryptsetup and by qemu-img convert both ways, keep every passphrase and
# the data, and are accepted by cryptsetup (which converts them further) and
# qemu-img.  What LUKS1 cannot hold, or a layout without room, is refused
# before any write.  Crash order: each write of a conversion is failed in
# turn, and the volume must still open with every passphrase.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/luks.sh"
need python3
img=$T/v.img

version() { cryptsetup luksDump "$img" | awk '/^Version:/ { print $2 }'; }
keys_open() {
    for k in "$@"; do
        cryptsetup open --test-passphrase --key-file "$k" "$img" ||
            fail "cryptsetup does not accept $k after conversion to $(version)"
    done
}
data_ok() {
    strata_read "$img" "$T/out" || fail "strata cannot read after conversion"
    same_prefix "$DATA" "$T/out" 1048576
}
convert_to() {
    strata-img amend -o luks-version="$1" "$img" 2>"$T/err" ||
        { cat "$T/err"; fail "conversion to LUKS$1"; }
    [ "$(version)" = "$1" ] || fail "cryptsetup sees version $(version), not $1"
}
# No LUKS2 header copy may survive a conversion to LUKS1.
no_luks2_left() {
    python3 - "$img" <<'PY' || fail "a LUKS2 header copy is left after conversion to LUKS1"
import sys
f = open(sys.argv[1], "rb")
off = 16384
while off <= 4 << 20:
    f.seek(off)
    if f.read(6) == b"SKUL\xba\xbe":
        sys.exit(1)
    off *= 2
PY
}
refused() {
    local want=$1 pat=$2 sum st=0
    sum=$(md5sum <"$img")
    strata-img amend -o luks-version="$want" "$img" >"$T/out" 2>&1 || st=$?
    [ $st != 0 ] || fail "conversion to LUKS$want succeeded; expected: $pat"
    contains -e "$pat" "$T/out" || fail "refusal does not say '$pat': $(cat "$T/out")"
    [ "$(md5sum <"$img")" = "$sum" ] || fail "a refused conversion wrote to the image"
}

# cryptsetup's LUKS1 with keys in slots 0 and 3: slot 0's material lies
# where LUKS2's header copies go and moves; slot 3's stays.
cs_format "$img" 20M
cryptsetup luksAddKey -q --pbkdf-force-iterations 1000 --key-file "$PASS" --key-slot 3 \
    "$img" "$PASS2"
strata_write "$DATA" "$img" || fail "write"
convert_to 2
keys_open "$PASS" "$PASS2"
data_ok
strata-img check "$img" >/dev/null || fail "check after conversion to LUKS2"
cryptsetup luksDump "$img" | contains "offset: 2097152 \[bytes\]" || fail "data offset moved"
# Back, by strata, then both ways by cryptsetup.
convert_to 1
keys_open "$PASS" "$PASS2"
data_ok
no_luks2_left
qemu_read "$img" "$T/q" || fail "qemu-img cannot read the converted LUKS1 volume"
same_prefix "$DATA" "$T/q" 1048576
convert_to 2
cryptsetup convert -q --type luks1 "$img" || fail "cryptsetup cannot convert strata's LUKS2"
cryptsetup convert -q --type luks2 "$img" || fail "cryptsetup cannot convert it back"
keys_open "$PASS" "$PASS2"
data_ok
convert_to 1
keys_open "$PASS" "$PASS2"
echo "ok cryptsetup LUKS1 <-> LUKS2"

# qemu-img's LUKS1 layout: the payload right after 8 slots of key material
# (not on a 4 KiB boundary).  LUKS2 takes it; the way back would need
# LUKS1's 8 slot areas where LUKS2's header copies now are, and is refused.
rm -f "$img"
qemu_img_retry create -q -f luks --object secret,id=s,file="$PASS" \
    -o key-secret=s,iter-time=10 "$img" 4M
qemu_write "$DATA" "$img" || fail "qemu write"
convert_to 2
keys_open "$PASS"
data_ok
refused 1 "no room for key slot 7's area before the payload"
echo "ok qemu-img LUKS1 to LUKS2"

# What LUKS1 cannot hold.
cs2_format "$img" 20M --sector-size 4096
refused 1 "LUKS1 encrypts 512-byte sectors only"
cs_format_type luks2 "$img" 20M --sector-size 512 --pbkdf argon2id \
    --pbkdf-force-iterations 4 --pbkdf-memory 32768
refused 1 "keyslot 0 uses argon2id; LUKS1 has only pbkdf2"
cs2_format "$img" 20M --sector-size 512
refused 1 "volume key digest is not LUKS1's 20-byte PBKDF2 digest"
cs2_format "$img" 20M --sector-size 512
printf '{"type":"x-strata-test","keyslots":["0"]}' >"$T/tok.json"
cryptsetup token import --json-file "$T/tok.json" --token-id 1 "$img"
refused 1 "the header holds 1 token"
cryptsetup token remove --token-id 1 "$img"
cryptsetup config --label data "$img"
refused 1 "a label"
refused 3 "luks-version 3 is not supported"
# No room: every LUKS1 slot in use, so slot 0's material has nowhere to go.
cs_format "$img" 20M
for s in 1 2 3 4 5 6 7; do
    cryptsetup luksAddKey -q --pbkdf-force-iterations 1000 --key-file "$PASS" \
        --key-slot $s "$img" "$PASS2"
done
refused 2 "no room for keyslot 0's key material"
st=0
strata-img amend -o luks-version=2,state=inactive,keyslot=1 $(sopts "$img") >"$T/out" 2>&1 ||
    st=$?
[ $st != 0 ] && contains "takes no other option" "$T/out" || fail "luks-version with others"
echo "ok refusals, no writes"

# Crash order: fail each write of each conversion in turn.
crash_loop() {
    local to=$1 n done=0
    cp "$img" "$T/base.img"
    for n in $(seq 0 40); do
        cp "$T/base.img" "$img"
        if strata-img amend -o luks-version="$to" --image-opts \
            "driver=luks,file.driver=blkdebug,file.inject-error.event=write_aio,file.inject-error.iotype=write,file.inject-error.skip=$n,file.inject-error.once=on,file.image.driver=file,file.image.filename=$img" \
            2>"$T/err"; then
            done=1
            break
        fi
        keys_open "$PASS" "$PASS2"
        data_ok
    done
    [ $done = 1 ] || { cat "$T/err"; fail "conversion to $to never succeeded"; }
    [ "$n" -ge 2 ] || fail "conversion to $to: only $n writes"
    keys_open "$PASS" "$PASS2"
    echo "ok crash order: to LUKS$to (failed each of $n writes)"
}
cs_format "$img" 20M
cryptsetup luksAddKey -q --pbkdf-force-iterations 1000 --key-file "$PASS" --key-slot 3 \
    "$img" "$PASS2"
strata_write "$DATA" "$img" || fail "write"
crash_loop 2
crash_loop 1
