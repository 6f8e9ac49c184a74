#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nbdkit-strata-plugin serving a LUKS volume made by cryptsetup: decryption
# happens in the server, so NBD clients (qemu-img convert, nbdcopy) read the
# same plaintext qemu reads from the volume itself; writes through NBD are
# encrypted into the volume; the passphrase comes from the config's secrets
# list and never appears on nbdkit's command line.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/nbd.sh"
need nbdcopy cryptsetup

PASS='correct horse battery'
printf '%s' "$PASS" >"$T/disk.pass"
SECRET="secret,id=sec0,file=$T/disk.pass"
truncate -s 34M "$T/disk.luks"
cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 \
    --key-file "$T/disk.pass" "$T/disk.luks" || fail "cryptsetup luksFormat"
qemu-io --object "$SECRET" --image-opts \
    -c 'write -P 0x3c 0 2M' -c 'write -P 0xc3 20M 3M' -c 'write -P 0x01 31M 512' \
    "driver=luks,key-secret=sec0,file.filename=$T/disk.luks" >/dev/null

# The reference plaintext, decrypted by qemu from the volume.
qemu-img convert --object "$SECRET" --image-opts -O raw \
    "driver=luks,key-secret=sec0,file.filename=$T/disk.luks" "$T/plain-ref.img"

cat >"$T/disk.conf" <<EOF
stack = {
  driver = "luks";
  key-secret = "sec0";
  file = { driver = "file"; filename = "disk.luks"; };
};
secrets = ( { id = "sec0"; file = "disk.pass"; } );
EOF
nbd_start luks "$NBD_PLUGIN" config="$T/disk.conf"
URI=$(nbd_uri luks)
grep -qa "$PASS" "/proc/${NBD_PIDS[luks]}/cmdline" && fail "the passphrase is on the command line"
# The server holds the image as a writer would: QEMU-compatible locks.
qemu-io --object "$SECRET" --image-opts -c 'read 0 512' \
    "driver=luks,key-secret=sec0,file.filename=$T/disk.luks" >/dev/null 2>&1 &&
    fail "qemu opened the volume while the server has it read-write"

qemu-img convert -f raw -O raw "$URI" "$T/plain-nbd.img"
cmp "$T/plain-ref.img" "$T/plain-nbd.img" || fail "qemu-img convert over NBD differs from qemu's decryption"
nbdcopy "$URI" "$T/plain-nbdcopy.img"
cmp "$T/plain-ref.img" "$T/plain-nbdcopy.img" || fail "nbdcopy differs from qemu's decryption"
qemu-io -f raw -r -c 'read -P 0x3c 0 2M' -c 'read -P 0xc3 20M 3M' "$URI" >"$T/r.log" ||
    fail "qemu-io read over NBD: $(cat "$T/r.log")"

# Writes through NBD (unaligned too), then qemu decrypts them from the file.
qemu-io -f raw -c 'write -P 0x99 4M 1M' -c 'write -P 0x98 10000 3000' -c flush "$URI" \
    >/dev/null || fail "qemu-io write over NBD"
nbd_stop luks
qemu-io --object "$SECRET" --image-opts -c 'read -P 0x99 4M 1M' -c 'read -P 0x98 10000 3000' \
    -c 'read -P 0x3c 13000 8000' -c 'read -P 0xc3 20M 3M' \
    "driver=luks,key-secret=sec0,file.filename=$T/disk.luks" >"$T/check.log"
grep -q 'verification failed' "$T/check.log" && fail "volume after NBD writes: $(cat "$T/check.log")"
# The ciphertext on disk is not the plaintext.
dd if="$T/disk.luks" bs=1M skip=6 count=1 status=none | od -An -tx1 | head -1 |
    grep -q '99 99 99 99' && fail "plaintext found in the volume"

# A wrong key file: nbdkit refuses to start, saying so.
printf 'wrong' >"$T/wrong.pass"
if nbd_nbdkit -f -U "$T/bad.sock" "$NBD_PLUGIN" driver=luks key-secret=s1 \
        file.filename="$T/disk.luks" object=secret,id=s1,file="$T/wrong.pass" \
        >"$T/bad.log" 2>&1; then
    fail "nbdkit served a volume with a wrong passphrase"
fi
grep -q 'disk.luks: Invalid password' "$T/bad.log" || fail "wrong key message: $(cat "$T/bad.log")"
exit 0
