#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks2.sh - LUKS2 figures: sequential write and read through the luks
# driver of a volume with 4096-byte sectors (aes-xts-plain64, 512-bit key),
# as a share of raw libgcrypt aes-xts on 4 KiB units measured in the same
# run (build/bench/crypto): once through the driver alone (strata-img bench
# of 1 MiB requests on a detached header whose payload is the null device,
# so that no file system is involved), once as a 1 GiB convert from and to
# tmpfs; and the time to unlock an argon2id keyslot,
# strata-img check-key next to cryptsetup open --test-passphrase on the
# same volume.  qemu-img does not open LUKS2, so there is no qemu figure.
# Figures only.
#
# $1: the output of build/bench/crypto.
set -u
build=${STRATA_BUILD:?} crypto_out=${1:-}
export PATH="$build/bin:$PATH"
. "$(dirname "$0")/lib.sh"
bench_needs luks2 strata-img cryptsetup
# On tmpfs when there is one: the disk is not what is measured.
base=/dev/shm
[ -d $base ] && [ -w $base ] || base=${TMPDIR:-/tmp}
bench_workdir "$base"
size=1073741824
bench_source "$W/src.raw"
img=$W/v.luks
truncate -s $((size + 16777216)) "$img"
cryptsetup luksFormat -q --type luks2 --sector-size 4096 --pbkdf pbkdf2 \
    --pbkdf-force-iterations 1000 --key-file "$W/pass" "$img" || exit 1
LUKS="driver=luks,key-secret=k,file.filename=$img"
OBJ=(--object secret,id=k,file="$W/pass")

# median CMD...: the median wall-clock seconds of five runs.
median() {
    local ts=() t0 t1
    for _ in 1 2 3 4 5; do
        t0=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || { echo FAILED; return 1; }
        t1=$(date +%s.%N)
        ts+=("$(echo "$t1 - $t0" | bc -l)")
    done
    printf '%s\n' "${ts[@]}" | sort -g | sed -n 3p
}

# Driver path: 2 GiB of 1 MiB requests, payload on the null device.
hdr=$W/detached.hdr
truncate -s $size "$W/data"
cryptsetup luksFormat -q --type luks2 --sector-size 4096 --pbkdf pbkdf2 \
    --pbkdf-force-iterations 1000 --header "$hdr" --key-file "$W/pass" "$W/data" || exit 1
rm -f "$W/data"
NULLVOL="driver=luks,key-secret=k,header.filename=$hdr,file.driver=null,file.size=$size"
# One thread (STRATA_THREADS=1), as the libgcrypt figure it is held against.
export STRATA_THREADS=1
bw=$(median strata-img bench -w "${OBJ[@]}" --image-opts "$NULLVOL" -c 2048 -s 1M -S 1M)
br=$(median strata-img bench "${OBJ[@]}" --image-opts "$NULLVOL" -c 2048 -s 1M -S 1M)

w=$(median strata-img convert -n -S 0 -f raw "$W/src.raw" "${OBJ[@]}" --target-image-opts "$LUKS")
r=$(median strata-img convert -n "${OBJ[@]}" --image-opts "$LUKS" --target-image-opts "driver=null,size=$size")
# row LABEL OP SECONDS BYTES: MB/s and the share of raw libgcrypt.
row() {
    local t=$3 bytes=$4 raw= gop mb
    gop=$([ "$2" = write ] && echo enc || echo dec)
    [ -f "$crypto_out" ] && raw=$(awk -v op=$gop \
        '/^aes-xts-plain64 \(512-bit key\)/ && $4 == 4096 && $5 == op { print $7 }' "$crypto_out")
    if [ "$t" = FAILED ]; then
        printf '  %-24s %-5s FAILED\n' "$1" "$2"
        return
    fi
    mb=$(echo "scale=1; $bytes / 1000000 / $t" | bc -l)
    if [ -n "$raw" ]; then
        printf '  %-24s %-5s %8s MB/s = %3.0f%% of raw libgcrypt on 4 KiB units, one thread (%s MB/s)\n' \
            "$1" "$2" "$mb" "$(echo "100 * $mb / $raw" | bc -l)" "$raw"
    else
        printf '  %-24s %-5s %8s MB/s\n' "$1" "$2" "$mb"
    fi
}
unset STRATA_THREADS
echo "luks2 aes-xts-plain64 (512-bit key), 4096-byte sectors (median of 5; STRATA_THREADS=1):"
row "driver, null payload" write "$bw" $((2 * size))
row "driver, null payload" read "$br" $((2 * size))
row "convert, $(stat -f -c %T "$base") page cache" write "$w" $size
row "convert, $(stat -f -c %T "$base") page cache" read "$r" $size

# Unlock: argon2id with 256 MiB, 2 lanes, 4 passes (fixed, so both tools do
# the same work), against a volume of cryptsetup's.
u=$W/argon.luks
truncate -s 20M "$u"
cryptsetup luksFormat -q --type luks2 --pbkdf argon2id --pbkdf-memory 262144 \
    --pbkdf-parallel 2 --pbkdf-force-iterations 4 --key-file "$W/pass" "$u" || exit 1
s=$(median strata-img check-key --key-file "$W/pass" "$u")
c=$(median cryptsetup open --test-passphrase --key-file "$W/pass" "$u")
echo "argon2id unlock (m=256 MiB, p=2, t=4; median of 5):"
printf '  strata-img check-key %.3f s, cryptsetup open --test-passphrase %.3f s: ratio %.2f (< 1: strata faster)\n' \
    "$s" "$c" "$(echo "$s / $c" | bc -l)"
