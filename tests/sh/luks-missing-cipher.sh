#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks-missing-cipher.sh - the rescue commands need only the LUKS header and
# work in an installation that lacks the volume's cipher or hash module:
# info, map, header-backup, header-restore, erase, and amend erasing a key
# slot by number.  Only what must decrypt key material (opening for I/O,
# check-key, adding a key, removing one by passphrase) fails, naming the
# missing module.  The build tree is relocatable: a copy without one
# module is a real installation without it.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/luks.sh"

cp -a "$STRATA_BUILD/lib" "$STRATA_BUILD/bin" "$T/"
rm "$T/lib/strata/cipher-serpent.so" "$T/lib/strata/hash-whirlpool.so"
img() { env -u STRATA_PLUGIN_PATH "$T/bin/strata-img" "$@"; }

# Made by the full build (cryptsetup would need the kernel's serpent).
KEYS=(--object secret,id=k,file="$PASS" --object secret,id=k2,file="$PASS2")
vol=$T/s.luks
strata-img create -f luks "${KEYS[@]}" -o key-secret=k,iter-time=10,cipher-alg=serpent-256 \
    "$vol" 4M >/dev/null
strata-img amend "${KEYS[@]}" -o state=active,new-secret=k2,iter-time=10 --image-opts \
    "driver=luks,key-secret=k,file.filename=$vol" || fail "add the second key"
hvol=$T/w.luks
strata-img create -f luks "${KEYS[@]}" -o key-secret=k,iter-time=10,hash-alg=whirlpool \
    "$hvol" 4M >/dev/null
cp "$vol" "$T/orig.luks"

# opens KEYFILE: the full installation unlocks $vol with KEYFILE (cryptsetup
# would need the kernel's serpent for that).
opens() { strata-img check-key --key-file "$1" "$vol" >/dev/null 2>&1; }

echo "== info and map"
img info "$vol" >"$T/info" || fail "info: $(cat "$T/info")"
contains "cipher alg: serpent-256" "$T/info" || fail "info: $(cat "$T/info")"
img info --output=json "$vol" | contains '"cipher-mode": "xts"' || fail "info json"
img info "$hvol" | contains "hash alg: whirlpool" || fail "info with the hash module missing"
img map --output=json "$vol" >/dev/null || fail "map"

echo "== header-backup is byte for byte cryptsetup's"
img header-backup "$vol" "$T/hb" >/dev/null || fail "header-backup"
cryptsetup luksHeaderBackup "$vol" --header-backup-file "$T/csb"
cmp "$T/hb" "$T/csb" || fail "backup differs from cryptsetup's"
img header-backup "$hvol" "$T/hbw" >/dev/null || fail "header-backup, hash module missing"

echo "== header-restore repairs a damaged header"
dd if=/dev/zero of="$vol" bs=512 count=1 conv=notrunc status=none
cryptsetup isLuks "$vol" && fail "the damage did not take"
img header-restore --yes "$vol" "$T/hb" >/dev/null || fail "header-restore"
cmp "$vol" "$T/orig.luks" || fail "restore did not bring back the volume"
opens "$PASS" && opens "$PASS2" || fail "restored volume does not open"

echo "== amend erases a key slot by number, --force for the last one"
img amend -o state=inactive,keyslot=1 "$vol" || fail "amend keyslot=1"
opens "$PASS" || fail "slot 0 lost"
opens "$PASS2" && fail "slot 1 still opens"
img amend -o state=inactive,keyslot=0 "$vol" 2>/dev/null && fail "last slot erased without --force"
img amend --force -o state=inactive,keyslot=0 "$vol" || fail "amend --force keyslot=0"
opens "$PASS" && fail "slot 0 still opens"
cp "$T/orig.luks" "$vol"

echo "== erase"
cp "$vol" "$T/e.luks"
img erase --yes "$T/e.luks" >/dev/null || fail "erase"
cryptsetup isLuks "$T/e.luks" && fail "erase left a LUKS header"

echo "== what decrypts key material names the missing module"
for what in "check-key" "convert" "amend-add" "amend-old"; do
    rc=0
    case $what in
    check-key) img check-key --key-file "$PASS" "$vol" ;;
    convert) img convert -O raw --key-file "$PASS" "$vol" "$T/out" ;;
    amend-add) img amend --object secret,id=n,file="$PASS2" --key-file "$PASS" \
                   -o state=active,new-secret=n,iter-time=10 "$vol" ;;
    amend-old) img amend --object secret,id=o,file="$PASS" \
                   -o state=inactive,old-secret=o "$vol" ;;
    esac >"$T/err" 2>&1 || rc=$?
    [ $rc = 1 ] || fail "$what: exit status $rc: $(cat "$T/err")"
    contains "cipher-serpent.so" "$T/err" || fail "$what: $(cat "$T/err")"
done
img check-key --key-file "$PASS" "$hvol" >"$T/err" 2>&1 && fail "check-key without the hash"
contains "hash-whirlpool.so" "$T/err" || fail "check-key: $(cat "$T/err")"
cmp "$vol" "$T/orig.luks" || fail "a refused command changed the volume"

echo "== the full installation still opens it"
strata-img check-key --key-file "$PASS2" "$vol" | contains "Key slot 1 unlocked." ||
    fail "check-key with the module"
echo "luks-missing-cipher: ok"
