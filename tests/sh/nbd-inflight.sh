#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Requests in flight when things go wrong, made deterministic with nbdkit's
# delay filter: a read the server is still sitting on when it is killed
# fails with a clear error instead of hanging; with timeout=1 a read the
# server does not answer in time fails with ETIMEDOUT; the data is there
# once a server answers again.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/nbd.sh"

qemu-img create -q -f raw "$T/disk.img" 8M
qemu-io -f raw -c 'write -P 0x5a 0 1M' "$T/disk.img" >/dev/null
OPTS="driver=raw,file.driver=nbd,file.server.path=$(nbd_sock slow)"

# Killed with a read in flight (the server delays every read by 10 s).
nbd_start slow --filter=delay file "$T/disk.img" rdelay=10
timeout 30 strata-io --image-opts "$OPTS,file.reconnect-attempts=1" -c 'read 0 64k' \
    >"$T/killed.log" 2>&1 &
io=$!
sleep 1
nbd_kill slow
rc=0
wait $io || rc=$?
[ "$rc" != 124 ] || fail "the read hung after the server was killed"
grep -q 'read failed:.*connection lost with a read of 65536 bytes at offset 0 in flight' \
    "$T/killed.log" || fail "message: $(cat "$T/killed.log")"

# No reply within timeout=1.
nbd_start slow --filter=delay file "$T/disk.img" rdelay=10
rc=0
timeout 30 strata-io --image-opts "$OPTS,file.timeout=1" -c 'read 0 64k' \
    >"$T/timeout.log" 2>&1 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "read with timeout=1: exit $rc"
grep -q 'no reply to a read of 65536 bytes at offset 0 within 1 s' "$T/timeout.log" ||
    fail "message: $(cat "$T/timeout.log")"
nbd_stop slow

# A server without the delay: the same options read the data.
nbd_start slow file "$T/disk.img"
strata-io --image-opts "$OPTS,file.timeout=1" -c 'read -P 0x5a 0 1M' >"$T/ok.log" 2>&1 ||
    fail "read: $(cat "$T/ok.log")"
exit 0
