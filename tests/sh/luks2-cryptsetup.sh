#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks2-cryptsetup.sh - LUKS2 volumes made by cryptsetup, opened by strata:
# ciphers, key sizes, sector sizes, hashes, key slots, a binary key file,
# label and subsystem, larger metadata and keyslot areas, a payload offset
# of its own, a token, a detached header, a volume converted from LUKS1,
# and data cryptsetup itself encrypted.  Payloads are checked both ways
# against an independent dm-crypt model (lib/dmcrypt.py) fed the volume key
# cryptsetup reveals; the header bytes never change.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/luks.sh"
need python3
python3 -c 'import cryptography' 2>/dev/null ||
    fail "python3's cryptography is not installed (Debian package python3-cryptography)"
DMC=(python3 "$STRATA_SRCDIR/tests/sh/lib/dmcrypt.py")

# dump_field IMG FIELD [cryptsetup options]: the first "FIELD: value" of
# cryptsetup's luksDump (the data segment comes before the keyslots).
dump_field() {
    local img=$1 field=$2
    shift 2
    cryptsetup luksDump "$@" "$img" | awk -v f="$field:" '$1 == f { print $2; exit }'
}

# check_volume NAME IMG KEYFILE HEADER: the volume against cryptsetup's view
# and the dm-crypt model; HEADER is the detached header file or "".
check_volume() {
    local name=$1 img=$2 key=$3 hdr=$4 hopt=() extra=""
    if [ -n "$hdr" ]; then
        hopt=(--header "$hdr")
        extra=",header.filename=$hdr"
    fi
    local hfile=${hdr:-$img}
    local off sector spec
    off=$(dump_field "$img" offset "${hopt[@]}")
    sector=$(dump_field "$img" sector "${hopt[@]}")
    spec=$(dump_field "$img" cipher "${hopt[@]}")
    local hlen=$off
    [ -n "$hdr" ] && hlen=$(stat -c %s "$hdr")
    local before
    before=$(head -c "$hlen" "$hfile" | sha256sum)

    # Metadata, without a key.
    strata-img info --output=json --image-opts \
        "driver=luks,file.filename=$img$extra" >"$T/info.json" || fail "$name: info"
    contains '"format": "luks"' "$T/info.json" || fail "$name: not probed as luks"
    contains '"version": 2' "$T/info.json" || fail "$name: version"
    contains "\"uuid\": \"$(cryptsetup luksUUID "${hopt[@]}" "$img")\"" "$T/info.json" ||
        fail "$name: uuid"
    contains "\"payload-offset\": $off" "$T/info.json" || fail "$name: payload offset"
    contains "\"sector-size\": $sector" "$T/info.json" || fail "$name: sector size"
    contains "\"cipher\": \"$spec\"" "$T/info.json" || fail "$name: cipher"
    local fsize vsize
    fsize=$(stat -c %s "$img")
    vsize=$(awk -F': ' '/"virtual-size"/ { sub(",", "", $2); print $2; exit }' "$T/info.json")
    [ "$vsize" = $(((fsize - off) / sector * sector)) ] || fail "$name: virtual size $vsize"

    # A wrong passphrase is an error naming it, never data.
    if strata_read "$img" "$T/out" "$WRONG" "$extra" 2>"$T/err"; then
        fail "$name: wrong passphrase accepted"
    fi
    contains "Invalid password" "$T/err" || { cat "$T/err"; fail "$name: message"; }

    rm -f "$T/vk"
    cryptsetup luksDump -q --dump-volume-key --key-file "$key" --volume-key-file "$T/vk" \
        "${hopt[@]}" "$img" >/dev/null || fail "$name: cryptsetup reveals no volume key"

    # Ciphertext made by the model reads back as the plaintext...
    "${DMC[@]}" enc "$spec" "$T/vk" "$sector" 0 "$DATA" "$T/ct"
    dd if="$T/ct" of="$img" bs=4096 seek=$((off / 4096)) conv=notrunc status=none
    strata_read "$img" "$T/out" "$key" "$extra" || fail "$name: strata read"
    cmp -n 1048576 "$DATA" "$T/out" || fail "$name: payload differs from the model's"
    # ... and what strata writes decrypts in the model.
    strata_write "$DATA2" "$img" "$key" "$extra" || fail "$name: strata write"
    dd if="$img" of="$T/ct2" bs=4096 skip=$((off / 4096)) count=128 status=none
    "${DMC[@]}" dec "$spec" "$T/vk" "$sector" 0 "$T/ct2" "$T/pt2"
    cmp "$DATA2" "$T/pt2" || fail "$name: strata's ciphertext does not decrypt in the model"

    [ "$(head -c "$hlen" "$hfile" | sha256sum)" = "$before" ] ||
        fail "$name: the header changed"
    cryptsetup open --test-passphrase --key-file "$key" "${hopt[@]}" "$img" ||
        fail "$name: cryptsetup no longer opens it"
    echo "ok $name"
}

img=$T/v.img
cs2_format "$img" 20M --cipher aes-xts-plain64 --key-size 512 --sector-size 4096
check_volume "xts-512 4k sectors" "$img" "$PASS" ""

cs2_format "$img" 20M --cipher aes-xts-plain64 --key-size 256 --sector-size 512 \
    --hash sha512 --key-slot 2
contains '"id": 2' <(strata-img info --output=json "$img") || fail "slot 2 not shown"
check_volume "xts-256 512 sectors sha512 slot 2" "$img" "$PASS" ""

cs2_format "$img" 20M --pbkdf argon2id --pbkdf-force-iterations 4 --pbkdf-memory 32768 \
    --pbkdf-parallel 2
contains '"pbkdf": "argon2id"' <(strata-img info --output=json "$img") || fail "argon2id"
check_volume "argon2id" "$img" "$PASS" ""

cs2_format "$img" 20M --pbkdf argon2i --pbkdf-force-iterations 5 --pbkdf-memory 8192 \
    --pbkdf-parallel 1 --key-size 256 --sector-size 2048
contains '"pbkdf": "argon2i"' <(strata-img info --output=json "$img") || fail "argon2i"
check_volume "argon2i, 2k sectors" "$img" "$PASS" ""

cs2_format "$img" 20M --cipher aes-cbc-essiv:sha256 --key-size 256 --sector-size 4096
check_volume "cbc-essiv 4k sectors" "$img" "$PASS" ""

cs2_format "$img" 20M --cipher aes-cbc-plain64 --key-size 128 --sector-size 1024
check_volume "cbc-plain64 1k sectors" "$img" "$PASS" ""

cs2_format "$img" 20M --key-file "$BINKEY"
check_volume "binary key file" "$img" "$BINKEY" ""

cs2_format "$img" 20M --label my-label --subsystem my-subsystem
strata-img info --output=json "$img" >"$T/i.json"
contains '"label": "my-label"' "$T/i.json" || fail "label"
contains '"subsystem": "my-subsystem"' "$T/i.json" || fail "subsystem"
check_volume "label and subsystem" "$img" "$PASS" ""

cs2_format "$img" 40M --luks2-metadata-size 64k --luks2-keyslots-size 2m --offset 49152 \
    2>/dev/null
strata-img info --output=json "$img" >"$T/i.json"
contains '"metadata-size": 65536' "$T/i.json" || fail "metadata size"
contains '"keyslots-size": 2097152' "$T/i.json" || fail "keyslots size"
check_volume "64k metadata, 2m keyslots, offset 24m" "$img" "$PASS" ""

cs2_format "$img" 20M
printf '{"type":"strata-test","keyslots":["0"],"note":"kept"}' >"$T/tok.json"
cryptsetup token import --json-file "$T/tok.json" --token-id 3 "$img"
strata-img info --output=json "$img" >"$T/i.json"
contains '"type": "strata-test"' "$T/i.json" || fail "token not shown"
check_volume "token" "$img" "$PASS" ""

rm -f "$T/data.img" "$T/hdr.img"
truncate -s 8M "$T/data.img"
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file "$PASS" --header "$T/hdr.img" "$T/data.img"
check_volume "detached header" "$T/data.img" "$PASS" "$T/hdr.img"

cs_format "$img" 20M
cryptsetup convert -q --type luks2 "$img"
check_volume "converted from LUKS1" "$img" "$PASS" ""

# Data that cryptsetup itself encrypted (offline encryption of a file whose
# contents move behind the new header), in 4096-byte sectors.
head -c 4M /dev/urandom >"$T/plain"
cp "$T/plain" "$img"
truncate -s 36M "$img"
cryptsetup reencrypt -q --encrypt --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --reduce-device-size 32M --sector-size 4096 --key-file "$PASS" --disable-locks "$img" \
    >/dev/null
strata_read "$img" "$T/out" || fail "read of cryptsetup-encrypted data"
cmp -n 4194304 "$T/plain" "$T/out" || fail "cryptsetup-encrypted data reads wrong"
echo "ok data encrypted by cryptsetup reencrypt"

# A segment with an IV tweak and a fixed size (as reencryption leaves
# them): IVs start at the tweak, and the volume ends where the segment does.
cs2_format "$img" 20M --sector-size 4096
python3 "$STRATA_SRCDIR/tests/sh/lib/luks2edit.py" "$img" --json \
    "j['segments']['0']['iv_tweak']='24'; j['segments']['0']['size']='2097152'"
cryptsetup luksDump "$img" >/dev/null || fail "cryptsetup refuses the edited header"
vsize=$(strata-img info --output=json "$img" |
    awk -F': ' '/"virtual-size"/ { sub(",", "", $2); print $2; exit }')
[ "$vsize" = 2097152 ] || fail "fixed segment size: virtual size $vsize"
rm -f "$T/vk"
cryptsetup luksDump -q --dump-volume-key --key-file "$PASS" --volume-key-file "$T/vk" \
    "$img" >/dev/null
"${DMC[@]}" enc aes-xts-plain64 "$T/vk" 4096 24 "$DATA" "$T/ct"
dd if="$T/ct" of="$img" bs=4096 seek=4096 conv=notrunc status=none
strata_read "$img" "$T/out" || fail "read with an IV tweak"
cmp -n 1048576 "$DATA" "$T/out" || fail "IV tweak: payload differs from the model's"
strata_write "$DATA2" "$img" || fail "write with an IV tweak"
dd if="$img" of="$T/ct2" bs=4096 skip=4096 count=128 status=none
"${DMC[@]}" dec aes-xts-plain64 "$T/vk" 4096 24 "$T/ct2" "$T/pt2"
cmp "$DATA2" "$T/pt2" || fail "IV tweak: strata's ciphertext does not decrypt in the model"
echo "ok iv_tweak and a fixed segment size"

# A version no module handles is refused naming it, and never taken for raw.
cs2_format "$img" 20M
printf '\000\003' | dd of="$img" bs=1 seek=6 conv=notrunc status=none
if strata-img info "$img" >"$T/out" 2>"$T/err"; then
    fail "a LUKS version 3 header opened"
fi
contains "version 3" "$T/err" || { cat "$T/err"; fail "version not named"; }
echo "ok unknown version refused"

# Without driver-luks2.so (a copy of the build without it), a LUKS2 volume
# is refused naming its version, not taken for raw.
cp -a "$STRATA_BUILD/lib" "$STRATA_BUILD/bin" "$T/"
rm "$T/lib/strata/driver-luks2.so"
cs2_format "$img" 20M
if env -u STRATA_PLUGIN_PATH "$T/bin/strata-img" info "$img" >"$T/out" 2>"$T/err"; then
    cat "$T/out"
    fail "a LUKS2 volume opened without driver-luks2.so"
fi
contains "version 2 is not supported" "$T/err" || { cat "$T/err"; fail "message"; }
echo "ok LUKS2 without its module refused"
