#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nbd.sh - NBD on a Unix socket, figures only.
# Export: sequential read of a 1 GiB LUKS volume (aes-256-xts-plain64) with
# nbdcopy, the volume served by nbdkit with strata's plugin and by qemu-nbd
# in the same run; decryption happens in the server in both cases.
# Import: 1 GiB read from nbdkit's pattern plugin by strata-img convert
# through the nbd driver and by qemu-img convert through qemu's client.
set -u
build=${STRATA_BUILD:?}
export PATH="$build/bin:$PATH"
plugin=$build/lib/strata/nbdkit/nbdkit-strata-plugin.so
. "$(dirname "$0")/lib.sh"
bench_needs nbd nbdkit qemu-nbd nbdcopy qemu-img strata-img bc
bench_workdir "${STRATA_BENCH_DIR:-${TMPDIR:-/tmp}}"
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
size=1073741824
bench_source "$W/src.raw"
img=$W/bench.luks
strata-img create -q -f luks --object secret,id=k,file="$W/pass" \
    -o key-secret=k,iter-time=10 "$img" 1G >/dev/null || exit 1
LUKS="driver=luks,key-secret=k,file.filename=$img"
strata-img convert -n -f raw "$W/src.raw" --object secret,id=k,file="$W/pass" \
    --target-image-opts "$LUKS" || exit 1
rm "$W/src.raw"

wait_sock() {
    for _ in $(seq 300); do [ -S "$1" ] && return 0; sleep 0.05; done
    echo "nbd bench: no server on $1"; exit 1
}

# Fastest of three nbdcopy runs to the null sink, in seconds.
best_copy() {
    local b= r
    for _ in 1 2 3; do
        local TIMEFORMAT='%R'
        r=$({ time nbdcopy "$1" null: >/dev/null 2>&1; } 2>&1) || return 1
        if [ -z "$b" ] || [ "$(echo "$r < $b" | bc -l)" = 1 ]; then b=$r; fi
    done
    echo "$b"
}

# Warm the page cache the same way for both servers.
cat "$img" >/dev/null

nbdkit -f -r -U "$W/strata.sock" "$plugin" readonly=true object=secret,id=k,file="$W/pass" \
    driver=luks key-secret=k file.filename="$img" >"$W/nbdkit.log" 2>&1 &
server=$!
wait_sock "$W/strata.sock"
ts=$(best_copy "nbd+unix:///?socket=$W/strata.sock") || { cat "$W/nbdkit.log"; exit 1; }
kill "$server"; wait "$server" 2>/dev/null; server=

qemu-nbd -r -t --shared=16 -k "$W/qemu.sock" --object secret,id=k,file="$W/pass" \
    --image-opts "$LUKS" >"$W/qemu-nbd.log" 2>&1 &
server=$!
wait_sock "$W/qemu.sock"
tq=$(best_copy "nbd+unix:///?socket=$W/qemu.sock") || { cat "$W/qemu-nbd.log"; exit 1; }
kill "$server"; wait "$server" 2>/dev/null; server=

printf 'nbdcopy, 1 GiB LUKS, Unix socket (best of 3)\n'
printf '  nbdkit + strata plugin: %6.2f s  %8s MB/s\n' "$ts" "$(mbs "$ts")"
printf '  qemu-nbd:               %6.2f s  %8s MB/s\n' "$tq" "$(mbs "$tq")"
printf '  strata / qemu-nbd throughput: %s\n' "$(echo "scale=2; $tq / $ts" | bc -l)"

# Import: the nbd driver next to qemu's NBD client.
best_cmd() {
    local b= r
    for _ in 1 2 3; do
        local TIMEFORMAT='%R'
        r=$({ time "$@" >/dev/null 2>&1; } 2>&1) || return 1
        if [ -z "$b" ] || [ "$(echo "$r < $b" | bc -l)" = 1 ]; then b=$r; fi
    done
    echo "$b"
}
nbdkit -f -U "$W/pattern.sock" pattern size=$size >"$W/pattern.log" 2>&1 &
server=$!
wait_sock "$W/pattern.sock"
is=$(best_cmd strata-img convert -n --image-opts \
     "driver=raw,file.driver=nbd,file.server.path=$W/pattern.sock" \
     --target-image-opts "driver=null,size=$size") || { echo "strata-img convert failed"; exit 1; }
iq=$(best_cmd qemu-img convert -n -f raw "nbd+unix:///?socket=$W/pattern.sock" \
     --target-image-opts "driver=null-co,size=$size") || { echo "qemu-img convert failed"; exit 1; }
printf 'convert to null from nbdkit pattern, 1 GiB (best of 3)\n'
printf '  strata-img (nbd driver):   %6.2f s  %8s MB/s\n' "$is" "$(mbs "$is")"
printf '  qemu-img (qemu client):    %6.2f s  %8s MB/s\n' "$iq" "$(mbs "$iq")"
printf '  strata / qemu throughput: %s\n' "$(echo "scale=2; $iq / $is" | bc -l)"
