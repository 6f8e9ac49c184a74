#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks2-keys.sh - key management on LUKS2 volumes: amend adds a passphrase
# in a chosen keyslot with a chosen pbkdf and priority, replaces and removes
# passphrases, sets priorities; every update writes both header copies with
# the next epoch and keeps tokens and JSON members strata does not know.
# Then erase and header-backup/header-restore.  Every result is checked with
# cryptsetup.  Crash order: each write of an update is failed in turn through
# blkdebug, and the volume must still open with the old passphrase, from a
# valid header copy holding the old or the new state.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/luks.sh"
need python3
PASS3=$T/pass3
printf 'third passphrase' >"$PASS3"
img=$T/v.img
CHEAP="iter-time=10,pbkdf=pbkdf2,pbkdf-force-iterations=1000"

# amend IMG OPTS [strata-img options...]: amend with the three secrets
# defined, unlocking with $PASS.
amend() {
    local target=$1 o=$2
    shift 2
    strata-img amend "$@" --object secret,id=p1,file="$PASS" \
        --object secret,id=p2,file="$PASS2" --object secret,id=p3,file="$PASS3" \
        -o "$o" --image-opts "driver=luks,key-secret=p1,file.filename=$target"
}
opens() { cryptsetup open --test-passphrase --key-file "$1" "${@:2}" "$img"; }
epoch() { cryptsetup luksDump "$img" | awk '/^Epoch:/ { print $2 }'; }

# copies: both header copies' checksums and JSON, and whether they agree
# (prints "same" or "differ").
copies() {
    python3 - "$1" <<'PY'
import hashlib, struct, sys
f = open(sys.argv[1], "rb")
hs = struct.unpack(">Q", f.read(16)[8:16])[0]
out = []
for off in (0, hs):
    f.seek(off)
    b = bytearray(f.read(hs))
    csum = bytes(b[448:480])
    b[448:512] = bytes(64)
    if hashlib.sha256(bytes(b)).digest() != csum:
        sys.exit("bad checksum at %d" % off)
    out.append((struct.unpack(">Q", bytes(b[16:24]))[0], bytes(b[4096:])))
print("same" if out[0] == out[1] else "differ")
PY
}

truncate -s 20M "$img"
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file "$PASS" "$img"
printf '{"type":"x-strata-test","keyslots":["0"],"note":"kept"}' >"$T/tok.json"
cryptsetup token import --json-file "$T/tok.json" --token-id 3 "$img"
python3 "$STRATA_SRCDIR/tests/sh/lib/luks2edit.py" "$img" --json \
    "j['config']['x-unknown']={'a':'b'}; j['keyslots']['0']['x-member']=7"
strata_write "$DATA" "$img" || fail "write"

e=$(epoch)
amend "$img" "state=active,new-secret=p2,keyslot=5,priority=prefer,pbkdf=argon2i,pbkdf-memory=8192,pbkdf-force-iterations=4,iter-time=10" ||
    fail "add a key"
[ "$(epoch)" = $((e + 1)) ] || fail "epoch after an update"
[ "$(copies "$img")" = same ] || fail "copies differ after an update"
opens "$PASS2" --key-slot 5 || fail "cryptsetup: the added key"
cryptsetup luksDump "$img" >"$T/dump"
contains -E "^  5: luks2" "$T/dump" || fail "slot 5"
contains -E "Priority:[[:space:]]+preferred" "$T/dump" || fail "priority"
contains -E "PBKDF:[[:space:]]+argon2i" "$T/dump" || fail "pbkdf"
cryptsetup token export --token-id 3 "$img" | contains '"note":"kept"' ||
    fail "token lost its members"
python3 "$STRATA_SRCDIR/tests/sh/lib/luks2edit.py" "$img" --copies primary --json \
    "assert j['config']['x-unknown'] == {'a': 'b'}, 'config member lost'; assert j['keyslots']['0']['x-member'] == 7, 'keyslot member lost'"
echo "ok add a key in slot 5 (argon2i, preferred); tokens and unknown members kept"

amend "$img" "state=active,new-secret=p2,keyslot=5,$CHEAP" 2>"$T/err" &&
    fail "overwrote an active keyslot"
contains "Refusing to overwrite active keyslot 5" "$T/err" || fail "overwrite message"

amend "$img" "priority=ignore,keyslot=5" || fail "priority"
cryptsetup luksDump "$img" | contains -E "Priority:[[:space:]]+ignored" || fail "ignored"
echo "ok priority"

amend "$img" "state=active,old-secret=p1,new-secret=p3,replace=on,$CHEAP" || fail "replace"
opens "$PASS3" || fail "replaced key"
opens "$PASS" 2>/dev/null && fail "the old passphrase still opens"
opens "$PASS2" --key-slot 5 || fail "the other key went"
strata_read "$img" "$T/out" "$PASS3" || fail "read with the new key"
cmp -n 1048576 "$DATA" "$T/out" || fail "data after replace"
cryptsetup luksDump "$img" | contains -E "^  3: x-strata-test" || fail "token went"
echo "ok replace"

strata-img amend --object secret,id=p3,file="$PASS3" -o state=inactive,keyslot=5 \
    --image-opts "driver=luks,key-secret=p3,file.filename=$img" || fail "remove slot 5"
opens "$PASS2" 2>/dev/null && fail "removed key still opens"
if strata-img amend --object secret,id=p3,file="$PASS3" -o state=inactive,old-secret=p3 \
    --image-opts "driver=luks,key-secret=p3,file.filename=$img" 2>"$T/err"; then
    fail "removed the last keyslot"
fi
contains "All the active keyslots match the (old) password" "$T/err" || fail "last keyslot message"
[ "$(copies "$img")" = same ] || fail "copies differ"
echo "ok remove"

# Crash order: every write of an update fails in turn.
cp "$img" "$T/base.img"
crash_loop() {
    local what=$1 opts=$2 n done=0
    for n in $(seq 0 30); do
        cp "$T/base.img" "$img"
        if strata-img amend --object secret,id=p3,file="$PASS3" \
            --object secret,id=p2,file="$PASS2" -o "$opts" --image-opts \
            "driver=luks,key-secret=p3,file.driver=blkdebug,file.inject-error.event=write_aio,file.inject-error.iotype=write,file.inject-error.skip=$n,file.inject-error.once=on,file.image.driver=file,file.image.filename=$img" \
            2>"$T/err"; then
            done=1
            break
        fi
        strata-img info --output=json "$img" >"$T/info.json" ||
            fail "$what: write $n failed: the volume no longer opens"
        strata_read "$img" "$T/out" "$PASS3" || fail "$what: write $n failed: old key"
        cmp -n 1048576 "$DATA" "$T/out" || fail "$what: write $n failed: data"
        opens "$PASS3" || fail "$what: write $n failed: cryptsetup cannot open"
    done
    [ $done = 1 ] || { cat "$T/err"; fail "$what never succeeded"; }
    [ "$n" -ge 3 ] || fail "$what: only $n writes"
    echo "ok crash order: $what (failed each of $n writes)"
}
crash_loop "add" "state=active,new-secret=p2,$CHEAP"
opens "$PASS2" || fail "after the crash loop the key was not added"
crash_loop "add in slot 7" "state=active,new-secret=p2,keyslot=7,$CHEAP"
cp "$img" "$T/base.img"
crash_loop "remove" "state=inactive,keyslot=7"

# Header backup and restore.
strata-img header-backup "$img" "$T/bk" || fail "header-backup"
cryptsetup luksHeaderBackup --header-backup-file "$T/cs-bk" "$img"
cmp "$T/bk" "$T/cs-bk" || fail "backup differs from cryptsetup's"
dd if=/dev/zero of="$img" bs=4096 count=16 conv=notrunc status=none
cryptsetup isLuks "$img" && fail "header not destroyed"
strata-img header-restore --yes "$img" "$T/bk" || fail "header-restore"
opens "$PASS3" || fail "restored header"
strata_read "$img" "$T/out" "$PASS3" || fail "read after restore"
cmp -n 1048576 "$DATA" "$T/out" || fail "data after restore"
echo "ok header backup and restore"

strata-img erase --yes "$img" >"$T/erase.out" || fail "erase"
cryptsetup isLuks "$img" && fail "still LUKS after erase"
contains "keyslot 1" "$T/erase.out" || { cat "$T/erase.out"; fail "erase report"; }
# Only a backup of the keyslots area could bring the keys back: the header
# copies alone do not.
dd if="$T/bk" of="$img" bs=32768 count=1 conv=notrunc status=none
cryptsetup isLuks "$img" || fail "header copies not put back"
opens "$PASS3" 2>/dev/null && fail "erased key material still opens"
echo "ok erase"
