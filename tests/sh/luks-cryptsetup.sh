#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks-cryptsetup.sh - LUKS1 volumes made by cryptsetup, opened by strata:
# a matrix of ciphers, modes, IV generators, hashes and key slots; data
# written by qemu-img read by strata and the reverse; a binary key file; a
# 192-bit key checked against openssl; detached headers.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/luks.sh"

# cipher-spec key-bits hash slot [openssl cipher: data checked with openssl
# and the volume key instead of qemu-img, which cannot open these]
matrix=(
    "aes-xts-plain64 256 sha256 0"
    "aes-xts-plain64 512 sha1 3"
    "aes-cbc-essiv:sha256 256 sha512 7"
    "aes-cbc-plain 128 ripemd160 1"
    "aes-cbc-plain64 256 sha256 5"
    "aes-ecb 256 sha256 2 aes-256-ecb"
    "aes-xts-essiv:sha256 256 sha256 4"
    "serpent-xts-plain64 512 sha256 0"
    "twofish-cbc-essiv:sha256 256 sha1 6"
    "cast5-cbc-plain 128 sha256 0"
)
# openssl_check IMG OPENSSL-CIPHER IVGEN: sectors of the payload decrypt,
# with openssl and the volume key cryptsetup reveals, to $DATA.
openssl_check() {
    local img=$1 alg=$2 ivgen=$3 iv=() sector
    rm -f "$T/vk"
    cryptsetup luksDump -q --dump-volume-key --key-file "$PASS" --volume-key-file "$T/vk" \
        "$img" >/dev/null || fail "cryptsetup cannot reveal the volume key"
    local key poff
    key=$(xxd -p -c 100 "$T/vk")
    poff=$(cryptsetup luksDump "$img" | awk '/^Payload offset/ { print $3 }')
    for sector in 0 1 777 2047; do
        if [ "$ivgen" = plain64 ]; then
            iv=(-iv "$(printf '%016x' "$sector" | sed 's/\(..\)/\1 /g' |
                awk '{ for (i = NF; i > 0; i--) printf "%s", $i }')0000000000000000")
        fi
        dd if="$img" bs=512 skip=$((poff + sector)) count=1 status=none |
            openssl enc -d "-$alg" -K "$key" "${iv[@]}" -nopad >"$T/sec.plain"
        cmp "$T/sec.plain" <(dd if="$DATA" bs=512 skip="$sector" count=1 status=none) ||
            fail "sector $sector of $img does not decrypt with openssl $alg"
    done
}

ran=0
for row in "${matrix[@]}"; do
    read -r spec bits hash slot ossl <<<"$row"
    img=$T/cs.img
    echo "== $spec $bits-bit $hash slot $slot"
    if ! cs_format "$img" 4M --cipher "$spec" --key-size "$bits" --hash "$hash" \
        --key-slot "$slot" 2>"$T/cs.err"; then
        # This host's kernel crypto API lacks some ciphers that cryptsetup
        # needs for its key slots; those are covered by luks-qemu.sh.
        if grep -q "device-mapper\|Userspace crypto wrapper" "$T/cs.err" &&
            [[ $spec != aes-* ]]; then
            echo "NOTE: cryptsetup cannot format $spec here (no kernel support)"
            continue
        fi
        cat "$T/cs.err"
        fail "cryptsetup luksFormat $spec"
    fi
    ran=$((ran + 1))

    # Metadata without a key, checked against cryptsetup's own view.
    info_json "$img" >"$T/info.json" || fail "info $spec"
    grep -q '"format": "luks"' "$T/info.json" || fail "probe did not find luks"
    uuid=$(cryptsetup luksUUID "$img")
    grep -q "\"uuid\": \"$uuid\"" "$T/info.json" || fail "uuid differs from $uuid"
    poff=$(cryptsetup luksDump "$img" | awk '/^Payload offset/ { print $3 }')
    grep -q "\"payload-offset\": $((poff * 512))" "$T/info.json" || fail "payload offset"
    grep -q "\"hash-alg\": \"$hash\"" "$T/info.json" || fail "hash-alg"
    [ "$(grep -c '"active": true' "$T/info.json")" = 1 ] || fail "active slot count"
    vsize=$(strata-img info --output=json "$img" | awk -F': ' '/"virtual-size"/ { sub(",", "", $2); print $2 }')
    [ "$vsize" = $((4194304 - poff * 512)) ] || fail "virtual size $vsize"

    # Wrong passphrase: an error, never data.
    if strata_read "$img" "$T/out" "$WRONG" 2>"$T/err"; then
        fail "wrong passphrase accepted"
    fi
    grep -q "Invalid password, cannot unlock any keyslot" "$T/err" || fail "message: $(cat "$T/err")"

    if [ -n "$ossl" ]; then
        strata_write "$DATA" "$img" || fail "strata cannot write $spec"
        openssl_check "$img" "$ossl" none
        strata_read "$img" "$T/out" || fail "strata cannot read $spec"
        same_prefix "$DATA" "$T/out" 1048576
    else
        qemu_write "$DATA" "$img" || fail "qemu-img cannot write $spec"
        strata_read "$img" "$T/out" || fail "strata cannot read $spec"
        same_prefix "$DATA" "$T/out" 1048576
        # And the other way: strata writes, qemu reads.
        strata_write "$DATA2" "$img" || fail "strata cannot write $spec"
        qemu_read "$img" "$T/out2" || fail "qemu-img cannot read $spec"
        same_prefix "$DATA2" "$T/out2" 524288
    fi
done
[ "$ran" -ge 7 ] || fail "only $ran matrix rows ran"

echo "== 192-bit AES (qemu-img cannot): checked against openssl with the volume key"
img=$T/cs192.img
cs_format "$img" 4M --cipher aes-cbc-plain64 --key-size 192 --hash sha256
strata_write "$DATA" "$img" || fail "strata write aes-192"
openssl_check "$img" aes-192-cbc plain64
strata_read "$img" "$T/out" || fail "strata read aes-192"
same_prefix "$DATA" "$T/out" 1048576

echo "== binary key file (any bytes) made by cryptsetup"
img=$T/csbin.img
cs_format "$img" 4M --key-file "$BINKEY" --key-slot 2
strata_write "$DATA" "$img" "$BINKEY" || fail "binary key not accepted by strata"
# qemu refuses non-UTF-8 secrets: give it a text key added by cryptsetup.
cryptsetup luksAddKey -q --pbkdf-force-iterations 1000 --key-file "$BINKEY" "$img" "$PASS"
qemu_read "$img" "$T/out" || fail "qemu read with the added text key"
same_prefix "$DATA" "$T/out" 1048576
strata_read "$img" "$T/out" "$BINKEY" || fail "strata read with binary key"
same_prefix "$DATA" "$T/out" 1048576

echo "== detached header made by cryptsetup"
hdr=$T/det.hdr
dev=$T/det.data
rm -f "$hdr"
truncate -s 3M "$dev"
cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 --key-file "$PASS" \
    --key-slot 1 --header "$hdr" "$dev"
head -c 16 "$dev" | cmp -s - <(head -c 16 /dev/zero) || fail "payload file got a header"
info_json --image-opts "driver=luks,file.filename=$dev,header.filename=$hdr" >"$T/info.json" ||
    fail "info on a detached header"
grep -q '"payload-offset": 0' "$T/info.json" || fail "detached payload offset"
grep -q '"virtual-size": 3145728' "$T/info.json" || fail "detached virtual size"
# Independent data check: an attached volume with the same volume key
# (made by cryptsetup) is filled by qemu; its payload sectors are the
# detached volume's payload sectors.
cryptsetup luksDump -q --dump-volume-key --key-file "$PASS" --volume-key-file "$T/vkdet" "$hdr" >/dev/null
twin=$T/twin.img
cs_format "$twin" 4M --volume-key-file "$T/vkdet" --key-size 512 --cipher aes-xts-plain64
qemu_write "$DATA" "$twin" || fail "qemu write twin"
tpoff=$(cryptsetup luksDump "$twin" | awk '/^Payload offset/ { print $3 }')
dd if="$twin" of="$dev" bs=512 skip="$tpoff" count=2048 conv=notrunc status=none
strata_read "$dev" "$T/out" "$PASS" ",header.filename=$hdr" || fail "strata read detached"
same_prefix "$DATA" "$T/out" 1048576
# strata writes through the detached header; the twin's key reads it back.
strata_write "$DATA2" "$dev" "$PASS" ",header.filename=$hdr" || fail "strata write detached"
dd if="$dev" of="$twin" bs=512 seek="$tpoff" count=1024 conv=notrunc status=none
qemu_read "$twin" "$T/out" || fail "qemu read twin"
same_prefix "$DATA2" "$T/out" 524288
echo "all cryptsetup interop checks passed"
