#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks2-create.sh - LUKS2 volumes made by strata, checked by cryptsetup:
# luksDump shows what was asked for, open --test-passphrase, luksAddKey and
# luksKillSlot work on them, and the payload strata writes decrypts in an
# independent dm-crypt model under the volume key cryptsetup reveals.
# Defaults, every create option, a size that is not whole 4 KiB sectors, a
# detached header, strata-img format, and refused option mixes.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/luks.sh"
need python3
DMC=(python3 "$STRATA_SRCDIR/tests/sh/lib/dmcrypt.py")
# Tiny argon2 costs keep the test fast; iter-time also sets the digest's.
TINY="luks-version=2,iter-time=10,pbkdf-memory=8192,pbkdf-force-iterations=4"

s2_create() {
    local img=$1 size=$2 extra=${3:-}
    rm -f "$img"
    strata-img create -q -f luks --object secret,id=k,file="$PASS" \
        -o "key-secret=k,$TINY$extra" "$img" "$size"
}

# model_check NAME IMG [HEADER]: strata writes $DATA2; the model decrypts it.
model_check() {
    local name=$1 img=$2 hdr=${3:-} hopt=() extra=""
    if [ -n "$hdr" ]; then
        hopt=(--header "$hdr")
        extra=",header.filename=$hdr"
    fi
    cryptsetup luksDump "${hopt[@]}" "$img" >"$T/dump"
    local off sector spec
    off=$(awk '$1 == "offset:" { print $2; exit }' "$T/dump")
    sector=$(awk '$1 == "sector:" { print $2; exit }' "$T/dump")
    spec=$(awk '$1 == "cipher:" { print $2; exit }' "$T/dump")
    strata_write "$DATA2" "$img" "$PASS" "$extra" || fail "$name: write"
    rm -f "$T/vk"
    cryptsetup luksDump -q --dump-volume-key --key-file "$PASS" --volume-key-file "$T/vk" \
        "${hopt[@]}" "$img" >/dev/null || fail "$name: no volume key from cryptsetup"
    dd if="$img" of="$T/ct" bs=4096 skip=$((off / 4096)) count=128 status=none
    "${DMC[@]}" dec "$spec" "$T/vk" "$sector" 0 "$T/ct" "$T/pt"
    cmp "$DATA2" "$T/pt" || fail "$name: payload does not decrypt under the volume key"
    strata_read "$img" "$T/out" "$PASS" "$extra" || fail "$name: read"
    cmp -n 524288 "$DATA2" "$T/out" || fail "$name: read back"
}

dumped() {
    contains -E "$1" "$T/dump" || { cat "$T/dump"; fail "luksDump lacks /$1/"; }
}

img=$T/v.img
# Defaults: cryptsetup 2.6's layout.
s2_create "$img" 8M
cryptsetup luksDump "$img" >"$T/dump"
dumped "^Version:[[:space:]]+2$"
dumped "^Metadata area:[[:space:]]+16384 \[bytes\]"
dumped "^Keyslots area:[[:space:]]+16744448 \[bytes\]"
dumped "offset: 16777216 \[bytes\]"
dumped "cipher: aes-xts-plain64"
dumped "sector: 4096 \[bytes\]"
dumped "Key:[[:space:]]+512 bits"
dumped "PBKDF:[[:space:]]+argon2id"
dumped "Memory:[[:space:]]+8192"
dumped "Time cost:[[:space:]]+4"
cryptsetup open --test-passphrase --key-file "$PASS" "$img" || fail "cryptsetup open"
[ "$(stat -c %s "$img")" = $((16777216 + 8388608)) ] || fail "file size"
model_check "defaults" "$img"
# cryptsetup manages the keys of a strata volume.
cryptsetup luksAddKey -q --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$PASS" \
    "$img" "$PASS2" || fail "cryptsetup luksAddKey"
strata_read "$img" "$T/out" "$PASS2" || fail "key cryptsetup added"
cmp -n 524288 "$DATA2" "$T/out" || fail "data under the added key"
cryptsetup luksKillSlot -q --key-file "$PASS2" "$img" 0 || fail "cryptsetup luksKillSlot"
if strata_read "$img" "$T/out" "$PASS" 2>"$T/err"; then fail "killed slot still opens"; fi
contains "Invalid password" "$T/err" || fail "killed slot: message"
strata_read "$img" "$T/out" "$PASS2" || fail "remaining key"
echo "ok defaults"

# Every option.
s2_create "$img" 8M ",pbkdf=pbkdf2,pbkdf-force-iterations=1000,hash-alg=sha512,cipher-alg=aes-128,cipher-mode=cbc,ivgen-alg=essiv,sector-size=1024,label=lab,subsystem=sub,metadata-size=64K,keyslots-size=2M"
cryptsetup luksDump "$img" >"$T/dump"
dumped "^Metadata area:[[:space:]]+65536 \[bytes\]"
dumped "^Keyslots area:[[:space:]]+2097152 \[bytes\]"
dumped "^Label:[[:space:]]+lab$"
dumped "^Subsystem:[[:space:]]+sub$"
dumped "offset: 3145728 \[bytes\]"
dumped "cipher: aes-cbc-essiv:sha256"
dumped "sector: 1024 \[bytes\]"
dumped "Key:[[:space:]]+128 bits"
dumped "PBKDF:[[:space:]]+pbkdf2"
dumped "Hash:[[:space:]]+sha512"
dumped "Iterations:[[:space:]]+1000$"
model_check "options" "$img"
echo "ok options"

s2_create "$img" 8389120 ""
contains '"sector-size": 512' <(strata-img info --output=json "$img") ||
    fail "a payload of odd 512-byte sectors did not get 512-byte sectors"
echo "ok sector size follows the size"

rm -f "$T/hdr" "$T/data"
strata-img create -q -f luks --object secret,id=k,file="$PASS" \
    -o "key-secret=k,$TINY,header.filename=$T/hdr" "$T/data" 4M
cryptsetup isLuks "$T/data" && fail "detached payload carries a header"
cryptsetup open --test-passphrase --key-file "$PASS" --header "$T/hdr" "$T/data" ||
    fail "cryptsetup: detached header"
model_check "detached" "$T/data" "$T/hdr"
echo "ok detached header"

rm -f "$img"
truncate -s 24M "$img"
strata-img format --yes --object secret,id=k,file="$PASS" -o "key-secret=k,$TINY,label=fmt" \
    "$img" >/dev/null
cryptsetup luksDump "$img" >"$T/dump"
dumped "^Label:[[:space:]]+fmt$"
model_check "format" "$img"
if strata-img format --yes --object secret,id=k,file="$PASS" -o "key-secret=k,$TINY" \
    "$img" 2>"$T/err"; then fail "format over LUKS2 without --force"; fi
contains "already a LUKS volume" "$T/err" || fail "format refusal message"
echo "ok format"

# Refused mixes.
if strata-img create -f luks --object secret,id=k,file="$PASS" \
    -o key-secret=k,pbkdf=argon2id "$img" 1M 2>"$T/err"; then fail "pbkdf on LUKS1"; fi
contains "option 'pbkdf' does not apply to LUKS version 1" "$T/err" || fail "pbkdf message"
if strata-img create -f luks --object secret,id=k,file="$PASS" \
    -o key-secret=k,luks-version=3 "$img" 1M 2>"$T/err"; then fail "luks-version 3"; fi
contains "luks-version 3 is not supported" "$T/err" || fail "version message"
if s2_create "$img" 1M ",sector-size=3000" 2>"$T/err"; then fail "sector-size 3000"; fi
contains "sector-size 3000" "$T/err" || fail "sector-size message"
if s2_create "$img" 1M ",metadata-size=20K" 2>"$T/err"; then fail "metadata-size 20K"; fi
contains "metadata-size 20480" "$T/err" || fail "metadata-size message"
echo "ok refusals"
