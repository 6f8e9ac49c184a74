#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A LUKS volume on a remote disk: strata creates it on an export of
# nbdkit's memory plugin through the nbd driver and writes through it; qemu
# decrypts the same data through its own NBD client, and cryptsetup accepts
# the passphrase for a copy of the export.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/nbd.sh"
need cryptsetup

printf 'remote luks' >"$T/key"
SECRET="secret,id=s,file=$T/key"
nbd_start disk memory size=48M
URI=$(nbd_uri disk)

strata-img create -q -f luks --object "$SECRET" -o key-secret=s,iter-time=50,file.driver=nbd \
    "$URI" 16M || fail "create LUKS on nbd"
OPTS="driver=luks,key-secret=s,file.driver=nbd,file.server.type=unix"
OPTS="$OPTS,file.server.path=$(nbd_sock disk)"
strata-io --object "$SECRET" --image-opts -c 'write -P 0x41 0 1M' -c 'write -P 0x42 30M 2M' \
    -c 'write -P 0x43 7777 5555' -c flush "$OPTS" >"$T/w.log" ||
    fail "strata-io through luks on nbd: $(cat "$T/w.log")"

# The volume takes the whole export, as on a block device.
size=$(strata-img info --output=json --object "$SECRET" --image-opts "$OPTS" |
       sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
qsize=$(qemu-img info --output=json --object "$SECRET" --image-opts \
        "driver=luks,key-secret=s,file.driver=nbd,file.server.type=unix,file.server.path=$(nbd_sock disk)" |
        sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
[ -n "$size" ] && [ "$size" = "$qsize" ] || fail "size: strata '$size', qemu '$qsize'"
[ "$size" -gt $((32 << 20)) ] || fail "the volume does not use the export: $size"

qemu-io --object "$SECRET" --image-opts -r -c 'read -P 0x41 0 7777' -c 'read -P 0x43 7777 5555' \
    -c 'read -P 0x41 13332 1035244' -c 'read -P 0x42 30M 2M' \
    "driver=luks,key-secret=s,file.driver=nbd,file.server.type=unix,file.server.path=$(nbd_sock disk)" \
    >"$T/r.log" || fail "qemu-io read: $(cat "$T/r.log")"
grep -q 'verification failed' "$T/r.log" && fail "qemu decrypts other data: $(cat "$T/r.log")"

qemu-img convert -f raw -O raw "$URI" "$T/copy.img"
cryptsetup isLuks "$T/copy.img" || fail "cryptsetup: not a LUKS volume"
cryptsetup luksDump "$T/copy.img" >"$T/dump" || fail "cryptsetup luksDump"
grep -q '^Version:[[:space:]]*1$' "$T/dump" || fail "cryptsetup: not LUKS1: $(cat "$T/dump")"
cryptsetup open --test-passphrase --key-file "$T/key" "$T/copy.img" ||
    fail "cryptsetup refuses the passphrase"
grep -qa 'AAAAAAAAAAAAAAAA' "$T/copy.img" && fail "plaintext (0x41) found on the export"
exit 0
