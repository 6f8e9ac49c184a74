#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nbdkit-strata-plugin serving an encrypted qcow2 image: qemu-img convert
# and nbdcopy over NBD read the plaintext qemu decrypts from the image
# itself; writes through NBD land in the image, qemu reads them back and
# `qemu-img check` is clean afterwards.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/nbd.sh"
need nbdcopy

printf 'qcow2 passphrase' >"$T/disk.pass"
SECRET="secret,id=sec0,file=$T/disk.pass"
QOPTS="driver=qcow2,encrypt.key-secret=sec0,file.filename=$T/disk.qcow2"
strata-img create -q -f qcow2 --object "$SECRET" \
    -o encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=50 \
    "$T/disk.qcow2" 64M || fail "create encrypted qcow2"
# Guest data written by qemu, and the plaintext as qemu decrypts it.
qemu-io --object "$SECRET" --image-opts -c 'write -P 0x5e 0 3M' -c 'write -P 0xe5 40M 5M' \
    -c 'write -z 41M 64k' -c 'write -P 0x01 63M 512' "$QOPTS" >/dev/null ||
    fail "qemu-io write to the image"
qemu-img convert --object "$SECRET" --image-opts -O raw "$QOPTS" "$T/plain-ref.img"

cat >"$T/disk.conf" <<EOF
stack = {
  driver = "qcow2";
  encrypt = { key-secret = "sec0"; };
  file = { driver = "file"; filename = "disk.qcow2"; };
};
secrets = ( { id = "sec0"; file = "disk.pass"; } );
EOF
nbd_start qcow2 "$NBD_PLUGIN" "$T/disk.conf"
URI=$(nbd_uri qcow2)

qemu-img convert -f raw -O raw "$URI" "$T/plain-nbd.img"
cmp "$T/plain-ref.img" "$T/plain-nbd.img" || fail "qemu-img convert over NBD differs from qemu's decryption"
nbdcopy "$URI" "$T/plain-nbdcopy.img"
cmp "$T/plain-ref.img" "$T/plain-nbdcopy.img" || fail "nbdcopy differs from qemu's decryption"
# qcow2 allocation shows through NBD block status: unallocated space is a hole.
nbdinfo --map "$URI" >"$T/map" || fail "nbdinfo --map"
grep -Eq '^ *3145728 +[0-9]+ +3 +hole,zero' "$T/map" || fail "map: $(cat "$T/map")"

# Writes through NBD: aligned, unaligned, zeroes.
qemu-io -f raw -c 'write -P 0x77 8M 2M' -c 'write -P 0x78 12345 6789' -c 'write -z 40M 1M' \
    -c flush "$URI" >/dev/null || fail "qemu-io write over NBD"
nbd_stop qcow2
qemu-img check --object "$SECRET" --image-opts "$QOPTS" >"$T/check.log" ||
    fail "qemu-img check after NBD writes: $(cat "$T/check.log")"
qemu-io --object "$SECRET" --image-opts -r -c 'read -P 0x77 8M 2M' -c 'read -P 0x78 12345 6789' \
    -c 'read -P 0x5e 0 12345' -c 'read -P 0 40M 1M' -c 'read -P 0xe5 43057152 4128768' \
    -c 'read -P 0x01 63M 512' "$QOPTS" >"$T/r.log" || fail "qemu-io read: $(cat "$T/r.log")"
grep -q 'verification failed' "$T/r.log" && fail "image after NBD writes: $(cat "$T/r.log")"
exit 0
