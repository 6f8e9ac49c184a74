#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# check-key.sh - strata-img check-key agrees with cryptsetup open
# --test-passphrase: the slot a passphrase opens, exit 2 for a wrong one,
# -S limiting the test to one slot; on a LUKS1 volume made by cryptsetup
# and a LUKS-encrypted qcow2 made by qemu-img, with the key from
# --key-file, --object and the terminal.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/luks.sh"

img=$T/cs.luks
cs_format "$img" 4M
cryptsetup luksAddKey -q --pbkdf-force-iterations 1000 --key-file "$PASS" \
    --key-slot 3 "$img" "$PASS2"
# status FILE ARGS...: check-key's exit status, its output in $T/out.
status() {
    local rc=0
    strata-img check-key "$@" >"$T/out" 2>&1 </dev/null || rc=$?
    echo $rc
}

echo "== the slot each passphrase opens, as cryptsetup finds it"
[ "$(status --key-file "$PASS" "$img")" = 0 ] || fail "key 1: $(cat "$T/out")"
[ "$(cat "$T/out")" = "Key slot 0 unlocked." ] || fail "output: $(cat "$T/out")"
cryptsetup open --test-passphrase --key-file "$PASS2" -v "$img" | contains "Key slot 3 unlocked"
[ "$(status --key-file "$PASS2" "$img")" = 0 ] || fail "key 2: $(cat "$T/out")"
[ "$(cat "$T/out")" = "Key slot 3 unlocked." ] || fail "output: $(cat "$T/out")"
[ "$(status --object secret,id=s,file="$PASS2" --image-opts \
    "driver=luks,key-secret=s,file.filename=$img")" = 0 ] || fail "--object: $(cat "$T/out")"

echo "== a wrong passphrase exits 2"
[ "$(status --key-file "$WRONG" "$img")" = 2 ] || fail "wrong key: $(cat "$T/out")"
contains "No key available with this passphrase" "$T/out" || fail "message: $(cat "$T/out")"

echo "== -S limits the test to one slot"
[ "$(status -S 3 --key-file "$PASS2" "$img")" = 0 ] || fail "-S 3: $(cat "$T/out")"
[ "$(status -S 0 --key-file "$PASS2" "$img")" = 2 ] || fail "-S 0 with slot 3's key"
cryptsetup open --test-passphrase -S 0 --key-file "$PASS2" "$img" 2>/dev/null &&
    fail "cryptsetup disagrees about -S 0"
[ "$(status -S 5 --key-file "$PASS" "$img")" = 1 ] || fail "inactive slot: $(cat "$T/out")"
contains "key slot 5 is not active" "$T/out" || fail "message: $(cat "$T/out")"
[ "$(status -S 9 --key-file "$PASS" "$img")" = 1 ] || fail "slot 9: $(cat "$T/out")"

echo "== nothing is written"
before=$(md5sum <"$img")
status --key-file "$PASS" "$img" >/dev/null
[ "$(md5sum <"$img")" = "$before" ] || fail "check-key changed the volume"

echo "== a LUKS-encrypted qcow2 made by qemu-img"
q=$T/q.qcow2
qemu_img_retry create -f qcow2 --object secret,id=k,file="$PASS" \
    -o encrypt.format=luks,encrypt.key-secret=k,encrypt.iter-time=10 "$q" 1M >/dev/null
[ "$(status --key-file "$PASS" "$q")" = 0 ] || fail "qcow2: $(cat "$T/out")"
[ "$(cat "$T/out")" = "Key slot 0 unlocked." ] || fail "output: $(cat "$T/out")"
[ "$(status --key-file "$WRONG" "$q")" = 2 ] || fail "qcow2 wrong key: $(cat "$T/out")"

echo "== LUKS2 (cryptsetup's): keyslots beyond 7, priority ignore, keyslot= on open"
l2=$T/cs2.luks
cs2_format "$l2" 20M
cryptsetup luksAddKey -q --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$PASS" \
    --key-slot 12 "$l2" "$PASS2"
[ "$(status --key-file "$PASS2" "$l2")" = 0 ] || fail "LUKS2 key 2: $(cat "$T/out")"
[ "$(cat "$T/out")" = "Key slot 12 unlocked." ] || fail "LUKS2 output: $(cat "$T/out")"
[ "$(status -S 0 --key-file "$PASS2" "$l2")" = 2 ] || fail "LUKS2 -S 0 with slot 12's key"
[ "$(status -S 5 --key-file "$PASS" "$l2")" = 1 ] || fail "LUKS2 -S 5: $(cat "$T/out")"
contains "key slot 5 is not active" "$T/out" || fail "message: $(cat "$T/out")"
cryptsetup config --priority ignore --key-slot 12 "$l2"
cryptsetup open --test-passphrase --key-file "$PASS2" "$l2" 2>/dev/null &&
    fail "cryptsetup tries an ignored keyslot unasked"
[ "$(status --key-file "$PASS2" "$l2")" = 2 ] || fail "ignored keyslot tried: $(cat "$T/out")"
[ "$(status -S 12 --key-file "$PASS2" "$l2")" = 0 ] || fail "named ignored keyslot"
# The driver's keyslot= limits unlocking to that keyslot.
strata_read "$l2" "$T/l2.raw" "$PASS" ",keyslot=12" 2>"$T/err" &&
    fail "keyslot=12 opened with slot 0's passphrase"
contains "Invalid password" "$T/err" || fail "keyslot=12 message: $(cat "$T/err")"
strata_read "$l2" "$T/l2.raw" "$PASS" ",keyslot=0" || fail "keyslot=0 with its passphrase"

echo "== asked at the terminal, once for all slots"
python3 "$STRATA_SRCDIR/tests/sh/lib/pty-run.py" "Enter passphrase for $img:" \
    "$(cat "$PASS2")" -- strata-img check-key "$img" >"$T/tty" || fail "tty: $(cat "$T/tty")"
contains "Key slot 3 unlocked." "$T/tty" || fail "tty: $(cat "$T/tty")"
[ "$(grep -c "Enter passphrase" "$T/tty")" = 1 ] || fail "asked more than once"

echo "== no key and no terminal: refused at once"
[ "$(status "$img")" = 1 ] || fail "no key: $(cat "$T/out")"
contains -- "--key-file" "$T/out" || fail "message: $(cat "$T/out")"
[ "$(status --key-file "$PASS" "$DATA")" = 1 ] || fail "a raw file: $(cat "$T/out")"
echo "check-key: ok"
