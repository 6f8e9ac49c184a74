#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Formats on a remote disk: strata creates a qcow2 image and an encrypted
# (LUKS) qcow2 image on exports of nbdkit's memory plugin through the nbd
# driver, writes through them, and qemu reads the result back through its
# own NBD client; qemu-img check finds nothing wrong.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/nbd.sh"

printf 'remote secret' >"$T/key"
SECRET="secret,id=sec0,file=$T/key"

# Plain qcow2: created with the URI form, used with the structured form.
nbd_start plain memory size=64M
URI=$(nbd_uri plain)
strata-img create -q -f qcow2 -o file.driver=nbd "$URI" 32M || fail "create qcow2 on nbd"
strata-io --image-opts -c 'write -P 0x21 0 1M' -c 'write -P 0x22 20M 3M' \
    -c 'write -P 0x23 5000 3000' -c flush \
    "driver=qcow2,file.driver=nbd,file.server.type=unix,file.server.path=$(nbd_sock plain)" \
    >"$T/w.log" || fail "strata-io through qcow2 on nbd: $(cat "$T/w.log")"
qemu-img info --output=json "$URI" >"$T/info.json"
grep -q '"format": "qcow2"' "$T/info.json" || fail "qemu-img info: $(cat "$T/info.json")"
grep -q '"virtual-size": 33554432' "$T/info.json" || fail "qemu-img info: $(cat "$T/info.json")"
qemu-img check -f qcow2 "$URI" >"$T/check.log" || fail "qemu-img check: $(cat "$T/check.log")"
qemu-io -f qcow2 -r -c 'read -P 0x21 0 5000' -c 'read -P 0x23 5000 3000' \
    -c 'read -P 0x21 8000 1040576' -c 'read -P 0 1M 19M' -c 'read -P 0x22 20M 3M' \
    "$URI" >"$T/r.log" || fail "qemu-io read: $(cat "$T/r.log")"
grep -q 'verification failed' "$T/r.log" && fail "qemu reads other data: $(cat "$T/r.log")"

# Encrypted qcow2 on a second export.
nbd_start enc memory size=64M
URI=$(nbd_uri enc)
strata-img create -q -f qcow2 --object "$SECRET" \
    -o encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=50,file.driver=nbd \
    "$URI" 32M || fail "create encrypted qcow2 on nbd"
OPTS="driver=qcow2,encrypt.key-secret=sec0,file.driver=nbd,file.server.type=unix"
OPTS="$OPTS,file.server.path=$(nbd_sock enc)"
strata-io --object "$SECRET" --image-opts -c 'write -P 0x31 64k 2M' -c flush "$OPTS" \
    >"$T/we.log" || fail "strata-io through encrypted qcow2 on nbd: $(cat "$T/we.log")"
QOPTS="driver=qcow2,encrypt.key-secret=sec0,file.driver=nbd,file.server.type=unix"
QOPTS="$QOPTS,file.server.path=$(nbd_sock enc)"
qemu-img check --object "$SECRET" --image-opts "$QOPTS" >"$T/checke.log" ||
    fail "qemu-img check (encrypted): $(cat "$T/checke.log")"
qemu-io --object "$SECRET" --image-opts -r -c 'read -P 0x31 64k 2M' -c 'read -P 0 0 64k' \
    "$QOPTS" >"$T/re.log" || fail "qemu-io read (encrypted): $(cat "$T/re.log")"
grep -q 'verification failed' "$T/re.log" && fail "qemu decrypts other data: $(cat "$T/re.log")"
# The export holds ciphertext only.
qemu-img convert -f raw -O raw "$URI" "$T/raw-export.img"
[ "$(stat -c %s "$T/raw-export.img")" = 67108864 ] || fail "export copy has the wrong size"
# (0x31 is the character 1.)
grep -qa '1111111111111111' "$T/raw-export.img" && fail "plaintext found on the export"
exit 0
