#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks.sh - sequential write and read of a 1 GiB LUKS volume
# (aes-256-xts-plain64) by strata-img convert and by qemu-img convert, on
# the same image in the same run.  Figures only.  Both tools run with their
# defaults: the cipher on one thread, reading and writing overlapped by
# I/O threads, and no flush to stable storage at the end (qemu-img convert's
# cache=unsafe, which strata-img convert follows).  CPU time (all threads)
# is shown next to wall-clock time.
#
# $1 (optional): the output of build/bench/crypto, for libgcrypt's raw
# aes-xts figure at 512-byte sectors.
set -u
build=${STRATA_BUILD:?} crypto_out=${1:-}
export PATH="$build/bin:$PATH"
for t in qemu-img strata-img; do
    command -v $t >/dev/null || { echo "luks bench: $t not found"; exit 1; }
done
# STRATA_BENCH_DIR picks the file system (default: $TMPDIR or /tmp).
base=${STRATA_BENCH_DIR:-${TMPDIR:-/tmp}}
W=$(mktemp -d "$base/strata-bench-XXXXXX")
trap 'rm -rf "$W"' EXIT
size=1073741824
printf 'bench passphrase' >"$W/pass"
# Non-zero data throughout, so no convert can skip a block.
head -c 16777216 /dev/urandom >"$W/r16"
for _ in $(seq 64); do cat "$W/r16"; done >"$W/src.raw"
rm "$W/r16"
img=$W/bench.luks
strata-img create -q -f luks --object secret,id=k,file="$W/pass" \
    -o key-secret=k,iter-time=10 "$img" 1G >/dev/null || exit 1
LUKS="driver=luks,key-secret=k,file.filename=$img"
OBJ=(--object secret,id=k,file="$W/pass")

# best CMD...: "wall cpu" seconds of the fastest of three runs (cpu = user +
# system time of the command).
best() {
    local b= bc= r u sy
    for _ in 1 2 3; do
        local TIMEFORMAT='%R %U %S'
        read -r r u sy < <({ time "$@" >/dev/null 2>&1; } 2>&1) || return 1
        if [ -z "$b" ] || [ "$(echo "$r < $b" | bc -l)" = 1 ]; then
            b=$r
            bc=$(echo "$u + $sy" | bc -l)
        fi
    done
    echo "$b $bc"
}
mbs() { echo "scale=1; $size / 1000000 / $1" | bc -l; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }

read -r sw swc < <(best strata-img convert -n -S 0 -f raw "$W/src.raw" "${OBJ[@]}" --target-image-opts "$LUKS")
read -r qw qwc < <(best qemu-img convert -n -S 0 -f raw "$W/src.raw" "${OBJ[@]}" --target-image-opts "$LUKS")
read -r sr src < <(best strata-img convert -n "${OBJ[@]}" --image-opts "$LUKS" --target-image-opts "driver=null,size=$size")
read -r qr qrc < <(best qemu-img convert -n "${OBJ[@]}" --image-opts "$LUKS" --target-image-opts "driver=null-co,size=$size")
# The same copy without encryption: what the file system alone costs.
cp "$W/src.raw" "$W/plain.raw"
read -r pw pwc < <(best strata-img convert -n -S 0 -f raw "$W/src.raw" --target-image-opts "driver=file,filename=$W/plain.raw")

echo "luks aes-256-xts-plain64, 1 GiB sequential (best of 3; $base, $(stat -f -c %T "$base")):"
printf '%-6s %12s %12s %7s   %14s %14s %7s\n' "" "strata MB/s" "qemu MB/s" "ratio" \
    "strata CPU s" "qemu CPU s" "ratio"
printf '%-6s %12s %12s %7s   %14s %14s %7s\n' write "$(mbs "$sw")" "$(mbs "$qw")" \
    "$(ratio "$qw" "$sw")" "$swc" "$qwc" "$(ratio "$qwc" "$swc")"
printf '%-6s %12s %12s %7s   %14s %14s %7s\n' read "$(mbs "$sr")" "$(mbs "$qr")" \
    "$(ratio "$qr" "$sr")" "$src" "$qrc" "$(ratio "$qrc" "$src")"
echo "plain copy to a file without encryption (the file system's share): $(mbs "$pw") MB/s"
if [ -n "$crypto_out" ] && [ -f "$crypto_out" ]; then
    for op in enc dec; do
        raw=$(awk -v op=$op '/^aes-xts-plain64 \(512-bit key\)/ && $4 == 512 && $5 == op { print $7 }' "$crypto_out")
        [ -n "$raw" ] || continue
        what=$([ $op = enc ] && echo write || echo read)
        t=$([ $op = enc ] && echo "$sw" || echo "$sr")
        printf 'strata %s: %.0f%% of raw libgcrypt aes-xts (%s MB/s, 512-byte sectors)\n' \
            "$what" "$(echo "100 * $(mbs "$t") / $raw" | bc -l)" "$raw"
    done
fi
