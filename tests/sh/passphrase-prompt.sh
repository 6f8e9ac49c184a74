#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# passphrase-prompt.sh - keys that no --object names: asked at a terminal
# without echo (twice when a key is made, refusing a mismatch), read from
# --key-file FILE or --key-file - (stdin), and without a terminal never
# waited for: the tools fail naming the missing key option.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/luks.sh"
need python3
ptyrun() { python3 "$STRATA_SRCDIR/tests/sh/lib/pty-run.py" "$@"; }
SECRET='typed secret 42'
printf '%s' "$SECRET" >"$T/typed"
head -c 65536 /dev/urandom >"$T/pat"

echo "== create asks twice, without echo"
img=$T/v.luks
ptyrun "Enter passphrase for $img:" "$SECRET" "Verify passphrase:" "$SECRET" -- \
    strata-img create -f luks -o iter-time=10 "$img" 2M >"$T/tty" || fail "create: $(cat "$T/tty")"
cat "$T/tty"
contains "Verify passphrase:" "$T/tty" || fail "no verify prompt"
contains -F "$SECRET" "$T/tty" && fail "the passphrase was echoed"
cs_check_keys "$img" "$T/typed"

echo "== a mismatch is refused and creates nothing"
ptyrun "Enter passphrase for $T/m.luks:" "$SECRET" "Verify passphrase:" "other" -- \
    strata-img create -f luks -o iter-time=10 "$T/m.luks" 2M >"$T/tty" && fail "mismatch accepted"
contains "Passphrases do not match" "$T/tty" || fail "message: $(cat "$T/tty")"
[ -e "$T/m.luks" ] && fail "a refused create left $T/m.luks"

echo "== strata-io and strata-img ask when opening for I/O"
strata-img convert -n -f raw -O luks "$T/pat" --key-file "$T/typed" "$img" || fail "convert with --key-file"
ptyrun "Enter passphrase for $img:" "$SECRET" -- strata-io -c "read -v 0 16" "$img" >"$T/tty" ||
    fail "strata-io with a typed key: $(cat "$T/tty")"
contains -F "$SECRET" "$T/tty" && fail "the passphrase was echoed"
want=$(od -An -tx1 -N16 "$T/pat" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
tr -s ' ' <"$T/tty" | contains -F "$want" || fail "strata-io read other data: $(cat "$T/tty")"
ptyrun "Enter passphrase for $img:" "$SECRET" -- \
    strata-img convert -O raw "$img" "$T/out" >"$T/tty" || fail "convert: $(cat "$T/tty")"
same_prefix "$T/pat" "$T/out" 65536
ptyrun "Enter passphrase for $img:" "wrong one" -- strata-io -c "read 0 16" "$img" >"$T/tty" &&
    fail "wrong typed passphrase accepted: $(cat "$T/tty")"
contains "Invalid password" "$T/tty" || fail "message: $(cat "$T/tty")"

echo "== a LUKS-encrypted qcow2 asks too"
q=$T/q.qcow2
ptyrun "Enter passphrase for $q:" "$SECRET" "Verify passphrase:" "$SECRET" -- \
    strata-img create -f qcow2 -o encrypt.format=luks,encrypt.iter-time=10 "$q" 1M >"$T/tty" ||
    fail "qcow2 create: $(cat "$T/tty")"
qemu-io --object secret,id=k,file="$T/typed" --image-opts \
    "driver=qcow2,encrypt.key-secret=k,file.filename=$q" -c "write -P 0x5a 0 4k" >/dev/null ||
    fail "qemu-io does not accept the typed key"
ptyrun "Enter passphrase for $q:" "$SECRET" -- strata-io -c "read -P 0x5a 0 4k" "$q" >"$T/tty" ||
    fail "qcow2 read: $(cat "$T/tty")"

echo "== amend adding a key asks for the new one twice"
ptyrun "Enter passphrase for $img:" "$SECRET" "Enter new passphrase for key slot:" "second" \
    "Verify passphrase:" "second" -- strata-img amend -o state=active,iter-time=10 "$img" \
    >"$T/tty" || fail "amend: $(cat "$T/tty")"
printf second >"$T/second"
cs_check_keys "$img" "$T/typed" "$T/second"
ptyrun "Enter new passphrase for key slot:" "third" "Verify passphrase:" "thirx" -- \
    strata-img amend --key-file "$T/typed" -o state=active,iter-time=10 "$img" >"$T/tty" &&
    fail "amend accepted a mismatch"
contains "Passphrases do not match" "$T/tty" || fail "message: $(cat "$T/tty")"

echo "== --key-file FILE and --key-file - (stdin)"
strata-img info --key-file "$T/typed" "$img" | contains "encrypted: yes" || fail "info --key-file"
strata-io --key-file "$T/typed" -c "read 0 4k" "$img" >/dev/null || fail "strata-io --key-file"
printf '%s' "$SECRET" | strata-img convert --key-file - -O raw "$img" "$T/out2" ||
    fail "--key-file -"
cmp "$T/out" "$T/out2" || fail "--key-file - read other data"
rm -f "$T/k2.luks"
strata-img create -f luks --key-file "$T/second" -o iter-time=10 "$T/k2.luks" 1M >/dev/null ||
    fail "create --key-file"
cs_check_keys "$T/k2.luks" "$T/second"
strata-img dd --key-file "$T/typed" if="$img" of="$T/dd.raw" bs=64k count=1 ||
    fail "dd --key-file"
cmp "$T/pat" "$T/dd.raw" || fail "dd read other data"

echo "== legacy qcow AES asks too"
strata-img create -q -f qcow --key-file "$T/typed" \
    -o encrypt.format=aes,encrypt.allow-legacy-aes=on "$T/a.qcow" 1M 2>/dev/null ||
    fail "qcow AES create with --key-file"
strata-io --key-file "$T/typed" -c "write -P 0x42 0 4k" --image-opts \
    "driver=qcow,encrypt.allow-legacy-aes=on,file.filename=$T/a.qcow" >/dev/null 2>&1 ||
    fail "qcow AES write with --key-file"
ptyrun "Enter passphrase for $T/a.qcow:" "$SECRET" -- strata-io -r -c "read -P 0x42 0 4k" \
    "$T/a.qcow" >"$T/tty" || fail "qcow AES typed key: $(cat "$T/tty")"
contains "verification failed" "$T/tty" && fail "qcow AES: other data"

echo "== without a terminal nothing waits: the missing option is named"
for cmd in "strata-io -c 'read 0 512' $img" "strata-img convert -O raw $img $T/x" \
           "strata-img compare $img $T/out" "strata-img dd if=$img of=$T/y count=1"; do
    rc=0
    timeout 20 bash -c "$cmd" </dev/null >"$T/err" 2>&1 || rc=$?
    [ $rc = 1 ] || [ $rc = 2 ] || fail "$cmd: exit status $rc (124: it waited)"
    contains "key-secret" "$T/err" || fail "$cmd: $(cat "$T/err")"
    contains -- "--key-file" "$T/err" || fail "$cmd: $(cat "$T/err")"
done
rm -f "$T/n.luks"
timeout 20 strata-img create -f luks "$T/n.luks" 1M </dev/null >"$T/err" 2>&1 && fail "create without key"
contains "key-secret" "$T/err" || fail "create: $(cat "$T/err")"
echo "passphrase-prompt: ok"
