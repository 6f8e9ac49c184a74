#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Killing NBD servers mid-run, both directions.
#
# Export: nbdkit-strata-plugin serving qcow2 is killed (SIGKILL) while a
# qemu-io client writes; the client reports errors and ends; after a restart
# the flushed data is intact and qemu-img check finds the image clean or
# with leaks only (which -r leaks repairs).
#
# Import: the server under strata's nbd driver is killed while strata-io
# has an unflushed write; the next request fails once its bounded reconnect
# gives up; after the server is back the same process reconnects, reads the
# flushed data, and its next flush reports that the unflushed write may be
# lost, instead of succeeding silently.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/nbd.sh"

# ------------------------------------------------------------ export side
strata-img create -q -f qcow2 "$T/disk.qcow2" 64M || fail "create qcow2"
nbd_start exp "$NBD_PLUGIN" driver=qcow2 file.filename="$T/disk.qcow2"
URI=$(nbd_uri exp)
qemu-io -f raw -c 'write -P 0x11 0 1M' -c 'write -P 0x12 30M 1M' -c flush "$URI" \
    >/dev/null || fail "flushed writes before the kill"

# Busy writes stay in [32M, 63M), away from the flushed data.
RANDOM=77
for ((i = 0; i < 4000; i++)); do
    echo "write -P $((i % 200 + 20)) $(((RANDOM % 496 + 512) * 65536)) 65536"
done >"$T/busy.cmds"
timeout 60 qemu-io -f raw "$URI" <"$T/busy.cmds" >"$T/busy.log" 2>&1 &
client=$!
# Kill once the client is writing.
for ((i = 0; i < 200; i++)); do
    grep -q 'wrote' "$T/busy.log" 2>/dev/null && break
    sleep 0.05
done
nbd_kill exp
rc=0
wait $client || rc=$?
[ "$rc" != 124 ] || fail "the client hung after the server was killed"
grep -q 'failed' "$T/busy.log" || [ "$rc" != 0 ] || fail "the client reported no error"

nbd_start exp "$NBD_PLUGIN" driver=qcow2 file.filename="$T/disk.qcow2"
qemu-io -f raw -r -c 'read -P 0x11 0 1M' -c 'read -P 0x12 30M 1M' "$URI" >"$T/after.log" ||
    fail "reading after the restart: $(cat "$T/after.log")"
grep -q 'verification failed' "$T/after.log" && fail "flushed data lost: $(cat "$T/after.log")"
nbd_stop exp
rc=0
qemu-img check -f qcow2 "$T/disk.qcow2" >"$T/check.log" 2>&1 || rc=$?
case $rc in
0) ;;
3) qemu-img check -q -r leaks -f qcow2 "$T/disk.qcow2" >/dev/null 2>&1 || true
   qemu-img check -f qcow2 "$T/disk.qcow2" >"$T/check2.log" 2>&1 ||
       fail "leaks not repaired: $(cat "$T/check2.log")" ;;
*) fail "qemu-img check after the kill (exit $rc): $(cat "$T/check.log")" ;;
esac

# ------------------------------------------------------------ import side
qemu-img create -q -f raw "$T/back.img" 16M
nbd_start imp file "$T/back.img"
mkfifo "$T/cmds"
OPTS="driver=raw,file.driver=nbd,file.server.path=$(nbd_sock imp)"
OPTS="$OPTS,file.reconnect-attempts=3,file.reconnect-delay=200"
timeout 60 strata-io --image-opts "$OPTS" <"$T/cmds" >"$T/io.log" 2>&1 &
io=$!
exec 3>"$T/cmds"

# Waits until the log has $2 lines matching $1.
wait_log() {
    local i
    for ((i = 0; i < 300; i++)); do
        [ "$(grep -c "$1" "$T/io.log")" -ge "$2" ] && return 0
        sleep 0.05
    done
    fail "strata-io did not get to '$1' x$2: $(cat "$T/io.log")"
}

echo 'write -P 0x21 0 1M' >&3
echo 'flush' >&3
echo 'write -P 0x22 1M 1M' >&3
wait_log 'wrote' 2
nbd_kill imp
# The first request finds the connection dead (sent into a closed socket,
# or refused before sending); the next one tries to reconnect and gives up.
echo 'write -P 0x23 4M 64k' >&3
wait_log 'failed' 1
grep -q 'write failed:.*connection lost' "$T/io.log" ||
    fail "no clear error after the server died: $(cat "$T/io.log")"
echo 'write -P 0x23 4M 64k' >&3
wait_log 'failed' 2
grep -q 'write failed:.*connection lost; reconnecting failed after 3 attempts' "$T/io.log" ||
    fail "no clear error while the server is down: $(cat "$T/io.log")"

nbd_start imp file "$T/back.img"
echo 'read -P 0x21 0 1M' >&3
wait_log 'read [0-9]' 1
echo 'flush' >&3
wait_log 'failed' 3
grep -q 'flush failed:.*acknowledged but not yet flushed; they may be lost' "$T/io.log" ||
    fail "the flush after the drop did not report possible loss: $(cat "$T/io.log")"
echo 'write -P 0x24 5M 64k' >&3
echo 'flush' >&3
exec 3>&-
wait $io || true
[ "$(grep -c 'failed' "$T/io.log")" = 3 ] || fail "unexpected failures: $(cat "$T/io.log")"
nbd_stop imp
qemu-io -f raw -r -c 'read -P 0x21 0 1M' -c 'read -P 0x24 5M 64k' -c 'read -P 0 4M 64k' \
    "$T/back.img" >"$T/final.log"
grep -q 'verification failed' "$T/final.log" && fail "final image: $(cat "$T/final.log")"
exit 0
