#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks-keys.sh - key management: strata-img amend (add, remove by slot and
# by passphrase, change, refusals), keyslot operations by cryptsetup and by
# strata on each other's volumes, detached headers, erase, header backup and
# restore, formatting an existing file.  After each change cryptsetup must
# accept exactly the keys that should open the volume.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/luks.sh"

PASS3=$T/pass3
printf 'third one' >"$PASS3"
OBJS=(--object secret,id=k,file="$PASS" --object secret,id=k2,file="$PASS2"
      --object secret,id=k3,file="$PASS3" --object secret,id=kb,file="$BINKEY")

# amend IMG KEYID OPTIONS [--force]: strata-img amend unlocking with KEYID.
amend() {
    local img=$1 key=$2 o=$3
    shift 3
    strata-img amend "${OBJS[@]}" "$@" -o "$o" --image-opts \
        "driver=luks,key-secret=$key,file.filename=$img"
}
refused() { # KEYFILE IMG [--header H]: cryptsetup must not accept the key
    local k=$1 img=$2
    shift 2
    if cryptsetup open --test-passphrase --key-file "$k" "$@" "$img" 2>/dev/null; then
        fail "cryptsetup still accepts $k on $img"
    fi
}
slots_active() { # IMG [--header H]: active slot numbers per cryptsetup
    cryptsetup luksDump "$@" | awk '/^Key Slot [0-7]: ENABLED/ { sub(":", "", $3); printf "%s ", $3 }'
}
sum() { md5sum "$1" | cut -d' ' -f1; }

img=$T/k.img
strata-img create -f luks "${OBJS[@]}" -o key-secret=k,iter-time=10 "$img" 3M >/dev/null
strata_write "$DATA" "$img"

echo "== add a passphrase to the first free slot and to a named slot"
amend "$img" k state=active,new-secret=k2,iter-time=10 || fail "add k2"
[ "$(slots_active "$img")" = "0 1 " ] || fail "slots after add: $(slots_active "$img")"
cs_check_keys "$img" "$PASS" "$PASS2"
amend "$img" k state=active,new-secret=kb,keyslot=5,iter-time=10 || fail "add binary key to slot 5"
[ "$(slots_active "$img")" = "0 1 5 " ] || fail "slots: $(slots_active "$img")"
cs_check_keys "$img" "$PASS" "$PASS2" "$BINKEY"
qemu_read "$img" "$T/out" "$PASS2" || fail "read failed"
same_prefix "$DATA" "$T/out" 1048576

echo "== refusals leave the file unchanged"
before=$(sum "$img")
amend "$img" k state=active,new-secret=k3,keyslot=5,iter-time=10 2>"$T/err" && fail "overwrote active slot"
grep -q "Refusing to overwrite active keyslot 5" "$T/err" || fail "message: $(cat "$T/err")"
amend "$img" k state=active,new-secret=k3,keyslot=8 2>/dev/null && fail "slot 8 accepted"
amend "$img" k3 state=active,new-secret=k3 2>"$T/err" && fail "wrong unlock key accepted"
grep -q "Invalid password" "$T/err" || fail "message: $(cat "$T/err")"
amend "$img" k state=inactive,old-secret=k3 2>/dev/null && fail "erase by unknown passphrase"
[ "$(sum "$img")" = "$before" ] || fail "a refused amend changed the file"

echo "== overwrite an active slot with --force"
amend "$img" k state=active,new-secret=k3,keyslot=5,iter-time=10 --force || fail "forced overwrite"
cs_check_keys "$img" "$PASS3"
refused "$BINKEY" "$img"

echo "== remove by slot and by passphrase"
cp "$img" "$T/old-copy.img"
amend "$img" k state=inactive,keyslot=1 || fail "remove slot 1"
refused "$PASS2" "$img"
[ "$(slots_active "$img")" = "0 5 " ] || fail "slots: $(slots_active "$img")"
# The key material is gone: an old copy of the header sector does not
# bring the passphrase back.
dd if="$T/old-copy.img" of="$img" bs=4096 count=1 conv=notrunc status=none
refused "$PASS2" "$img"
strata_read "$img" "$T/out" "$PASS2" 2>/dev/null && fail "old header copy reopened an erased slot"
dd if="$T/old-copy.img" of="$img" bs=592 count=1 conv=notrunc status=none
amend "$img" k state=inactive,keyslot=1 --force || fail "re-erase slot 1"
amend "$img" k state=inactive,old-secret=k3 || fail "remove by passphrase"
[ "$(slots_active "$img")" = "0 " ] || fail "slots: $(slots_active "$img")"
refused "$PASS3" "$img"
cs_check_keys "$img" "$PASS"

echo "== the last active slot is kept unless forced"
before=$(sum "$img")
amend "$img" k state=inactive,keyslot=0 2>"$T/err" && fail "erased the last slot"
grep -q "erase the only active keyslot 0" "$T/err" || fail "message: $(cat "$T/err")"
amend "$img" k state=inactive,old-secret=k 2>/dev/null && fail "erased the last slot by passphrase"
[ "$(sum "$img")" = "$before" ] || fail "refusal changed the file"
cp "$img" "$T/last.img"
amend "$T/last.img" k state=inactive,keyslot=0 --force || fail "forced erase of the last slot"
refused "$PASS" "$T/last.img"
strata-img info "$T/last.img" >/dev/null || fail "a header without active slots must open for info"
strata_read "$T/last.img" "$T/out" 2>"$T/err" && fail "unlocked a volume without key slots"
grep -q "Invalid password, cannot unlock any keyslot" "$T/err" || fail "message: $(cat "$T/err")"

echo "== change a passphrase: new one added and verified, old one erased"
amend "$img" k state=active,old-secret=k,new-secret=k2,replace=on,iter-time=10 || fail "change"
[ "$(slots_active "$img")" = "1 " ] || fail "slots after change: $(slots_active "$img")"
refused "$PASS" "$img"
cs_check_keys "$img" "$PASS2"
strata_read "$img" "$T/out" "$PASS2" || fail "read failed"
same_prefix "$DATA" "$T/out" 1048576

echo "== cryptsetup key operations on a strata volume"
cryptsetup luksAddKey -q --pbkdf-force-iterations 1000 --key-file "$PASS2" --key-slot 6 "$img" "$PASS3"
strata_read "$img" "$T/out" "$PASS3" || fail "strata does not open cryptsetup's new slot"
same_prefix "$DATA" "$T/out" 1048576
info_json "$img" | tr -d ' \n' | grep -o '"active":[a-z]*' >"$T/act"
[ "$(grep -n true "$T/act" | cut -d: -f1 | tr '\n' ' ')" = "2 7 " ] || fail "strata sees other slots than cryptsetup"
cryptsetup luksKillSlot -q --key-file "$PASS3" "$img" 1
strata_read "$img" "$T/out" "$PASS2" 2>/dev/null && fail "killed slot still opens in strata"
strata_read "$img" "$T/out" "$PASS3" || fail "slot 6 no longer opens"

echo "== strata key operations on a cryptsetup volume"
cs=$T/cs.img
cs_format "$cs" 4M --key-slot 2
amend "$cs" k state=active,new-secret=k2,iter-time=10 || fail "add to a cryptsetup volume"
[ "$(slots_active "$cs")" = "0 2 " ] || fail "slots: $(slots_active "$cs")"
cs_check_keys "$cs" "$PASS" "$PASS2"
amend "$cs" k2 state=inactive,keyslot=2 || fail "remove cryptsetup's slot"
refused "$PASS" "$cs"
cs_check_keys "$cs" "$PASS2"

echo "== detached header made by strata"
hdr=$T/d.hdr
dev=$T/d.img
rm -f "$hdr" "$dev"
strata-img create -f luks "${OBJS[@]}" -o key-secret=k,iter-time=10,header.filename="$hdr" \
    "$dev" 3M >/dev/null || fail "create detached"
[ "$(stat -c %s "$dev")" = 3145728 ] || fail "payload file size"
cryptsetup isLuks "$dev" && fail "the payload file carries a LUKS signature"
cryptsetup luksDump "$hdr" | contains "Payload offset:.*0" || fail "detached payload offset"
cryptsetup open --test-passphrase --key-file "$PASS" --header "$hdr" "$dev" || fail "cryptsetup refuses the detached header"
strata_write "$DATA" "$dev" "$PASS" ",header.filename=$hdr" || fail "write detached"
strata-img amend "${OBJS[@]}" -o state=active,new-secret=k2,iter-time=10 --image-opts \
    "driver=luks,key-secret=k,file.filename=$dev,header.filename=$hdr" || fail "amend detached"
cryptsetup open --test-passphrase --key-file "$PASS2" --header "$hdr" "$dev" || fail "new key on detached header"
# the same volume key in an attached twin lets qemu check the data
cryptsetup luksDump -q --dump-volume-key --key-file "$PASS" --volume-key-file "$T/vk" "$hdr" >/dev/null
cs_format "$T/twin.img" 4M --volume-key-file "$T/vk" --key-size 512
dd if="$dev" of="$T/twin.img" bs=1M seek=2 count=1 conv=notrunc status=none
qemu_read "$T/twin.img" "$T/out" || fail "read failed"
same_prefix "$DATA" "$T/out" 1048576
# a header block in a config file selects the same stack
cat >"$T/d.conf" <<CONF
stack = {
  driver = "luks";
  key-secret = "kc";
  file = { driver = "file"; filename = "$dev"; };
  header = { driver = "file"; filename = "$hdr"; };
};
secrets = ( { id = "kc"; file = "$PASS2"; } );
CONF
strata-img convert -O raw --config "$T/d.conf" "$T/out" || fail "open through a config file"
same_prefix "$DATA" "$T/out" 1048576

echo "== detached-header=on: a header-only file, used later with a data file"
ho=$T/only.hdr
rm -f "$ho"
strata-img create -f luks "${OBJS[@]}" -o key-secret=k,iter-time=10,detached-header=on "$ho" 3M >/dev/null ||
    fail "create a header-only file"
cryptsetup luksDump "$ho" | contains "Payload offset:.*0" || fail "header-only payload offset"
info_json "$ho" | contains '"virtual-size": 0' || fail "header-only file shows a payload"
strata_read "$ho" "$T/out" 2>"$T/err" && fail "I/O on a header without its data file"
grep -q "header.filename" "$T/err" || fail "message: $(cat "$T/err")"
truncate -s 2M "$T/only.data"
strata_write "$DATA" "$T/only.data" "$PASS" ",header.filename=$ho" || fail "write with the header-only file"
strata_read "$T/only.data" "$T/out" "$PASS" ",header.filename=$ho" || fail "read back"
same_prefix "$DATA" "$T/out" 1048576

echo "== header backup and restore"
rm -f "$T/hb" "$T/csb"
strata-img header-backup "$img" "$T/hb" || fail "backup"
cryptsetup luksHeaderBackup "$img" --header-backup-file "$T/csb"
cmp "$T/hb" "$T/csb" || fail "backup differs from cryptsetup's luksHeaderBackup"
strata-img header-backup "$img" "$T/hb" 2>/dev/null && fail "backup overwrote an existing file"
dd if=/dev/zero of="$img" bs=4096 count=1 conv=notrunc status=none
strata-img info "$img" 2>/dev/null | contains "file format: luks" && fail "zeroed header still probed"
strata-img header-restore --yes "$img" "$T/hb" || fail "restore"
cs_check_keys "$img" "$PASS3"
strata_read "$img" "$T/out" "$PASS3" || fail "read failed"
same_prefix "$DATA" "$T/out" 1048576
head -c 4096 "$T/hb" >"$T/short"
strata-img header-restore --yes "$img" "$T/short" 2>/dev/null && fail "restored a truncated backup"

echo "== erase"
cp "$img" "$T/e.img"
before=$(sum "$T/e.img")
strata-img erase "$T/e.img" </dev/null 2>/dev/null && fail "erased without confirmation"
[ "$(sum "$T/e.img")" = "$before" ] || fail "unconfirmed erase changed the file"
strata-img erase --yes "$T/e.img" >"$T/report" || fail "erase"
for i in 0 1 2 3 4 5 6 7; do
    grep -q "key slot $i" "$T/report" || fail "report does not name slot $i"
done
grep -q "header" "$T/report" || fail "report does not name the header"
cryptsetup isLuks "$T/e.img" && fail "erased volume still has a LUKS header"
# Even with the old header put back, nothing unlocks.
dd if="$T/hb" of="$T/e.img" bs=4096 count=1 conv=notrunc status=none
refused "$PASS3" "$T/e.img"
strata-img erase --yes --image-opts "driver=luks,file.filename=$dev,header.filename=$hdr" >/dev/null ||
    fail "erase detached"
cryptsetup isLuks "$hdr" && fail "erased detached header still valid"

echo "== format an existing file in place"
f=$T/existing.img
head -c 5242880 /dev/urandom >"$f"
strata-img format "${OBJS[@]}" --yes -o key-secret=k,iter-time=10 "$f" >"$T/fmt" || fail "format"
[ "$(stat -c %s "$f")" = 5242880 ] || fail "format changed the file size"
cs_check_keys "$f" "$PASS"
qemu-img info --output=json --object secret,id=k,file="$PASS" --image-opts \
    "driver=luks,key-secret=k,file.filename=$f" | contains '"virtual-size": 3145728' ||
    fail "payload size is not what follows the header"
strata-img format "${OBJS[@]}" --yes -o key-secret=k2 "$f" 2>/dev/null && fail "re-formatted without --force"
small=$T/small.img
head -c 1048576 /dev/urandom >"$small"
before=$(sum "$small")
strata-img format "${OBJS[@]}" --yes -o key-secret=k "$small" 2>"$T/err" && fail "formatted a file too small"
grep -q "needs" "$T/err" || fail "message: $(cat "$T/err")"
[ "$(sum "$small")" = "$before" ] || fail "refused format changed the file"
echo "all key management checks passed"
