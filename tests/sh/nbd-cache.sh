#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nbdkit-strata-plugin's cache= parameter: strace shows the image opened
# with O_DIRECT for none and directsync, a client's flush reaching the disk
# (fdatasync) except with unsafe, and every write made stable with
# writethrough; the data lands; a bad mode stops nbdkit with a message.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/nbd.sh"
need strace qemu-io
qemu-img create -q -f raw "$T/disk.img" 4M
URI=$(nbd_uri c)

# serve MODE: one client writes 4 KiB, waits 3 s, flushes and reads it
# back; prints what strace saw the server do on the image: an O_DIRECT
# open, a sync before the client's flush (counted in the pause, once the
# write has completed), and a sync from the flush on.
serve() {
    rm -f "$T/c.sock" "$T/st" "$T/q.out"
    env "${NBD_ENV[@]}" ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" \
        strace -f -o "$T/st" -e trace=openat,fdatasync,fsync \
        nbdkit -f -U "$T/c.sock" "$NBD_PLUGIN" driver=raw file.filename="$T/disk.img" \
        cache="$1" >"$T/c.log" 2>&1 &
    local pid=$! i before all direct
    nbd_wait_ready c $pid
    # -t writeback: qemu-io's default, writethrough, would ask for FUA writes.
    stdbuf -oL qemu-io -t writeback -f raw "$URI" -c 'write -P 0x3c 0 4k' -c 'sleep 3000' -c flush \
        -c 'read -P 0x3c 0 4k' >"$T/q.out" &
    local q=$!
    for ((i = 0; i < 100; i++)); do
        grep -qs "^wrote" "$T/q.out" && break
        sleep 0.05
    done
    sleep 0.5
    before=$(grep -cE 'fdatasync\(|fsync\(' "$T/st" || true)
    wait $q || fail "$1: qemu-io"
    contains "read 4096/4096" "$T/q.out" || fail "$1: read back: $(cat "$T/q.out")"
    # nbdkit itself, the first process strace followed (signalled, strace
    # could detach and leave it serving), stopped as nbd_stop stops a
    # server: killed if a sanitizer build's runtime hangs it on its way out.
    NBD_PIDS[c]=$(awk 'NR == 1 { print $1 }' "$T/st")
    nbd_stop c
    wait $pid || true
    all=$(grep -cE 'fdatasync\(|fsync\(' "$T/st" || true)
    direct=$(grep -cE 'openat\(.*disk\.img.*O_DIRECT' "$T/st" || true)
    echo "direct=$([ "$direct" -gt 0 ] && echo yes || echo no)" \
         "write-synced=$([ "$before" -gt 0 ] && echo yes || echo no)" \
         "flush-synced=$([ "$all" -gt "$before" ] && echo yes || echo no)"
}
while read -r mode want; do
    got=$(serve "$mode")
    [ "$got" = "$want" ] || fail "cache=$mode: $got, expected $want"
    qemu-io -f raw -c 'read -P 0x3c 0 4k' "$T/disk.img" | contains "read 4096/4096" ||
        fail "cache=$mode: data not in the image"
    echo "ok cache=$mode: $got"
    truncate -s 0 "$T/disk.img" && truncate -s 4M "$T/disk.img"
done <<'EOF2'
none direct=yes write-synced=no flush-synced=yes
writeback direct=no write-synced=no flush-synced=yes
writethrough direct=no write-synced=yes flush-synced=yes
directsync direct=yes write-synced=yes flush-synced=yes
unsafe direct=no write-synced=no flush-synced=no
EOF2

st=0
nbd_nbdkit -f -U "$T/bad.sock" "$NBD_PLUGIN" driver=raw file.filename="$T/disk.img" \
    cache=fast >"$T/bad.log" 2>&1 || st=$?
[ $st != 0 ] || fail "cache=fast accepted"
contains "cache: invalid cache mode 'fast'" "$T/bad.log" || fail "message: $(cat "$T/bad.log")"
echo "nbd-cache: ok"
