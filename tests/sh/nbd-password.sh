#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nbd-password.sh - nbdkit-strata-plugin takes the passphrase in nbdkit's
# conventions (password=+FILE, password=-FD, password=- at a terminal) next
# to object=; a wrong passphrase fails nbdkit's start-up at once instead of
# leaving a client waiting on a server that died; under nbdkit -v the
# passphrase never shows when it came from a file.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/nbd.sh"
need nbdinfo nbdcopy qemu-img

PASS='nbd pass phrase'
printf '%s' "$PASS" >"$T/pass"
printf 'not it' >"$T/wrong"
SECRET="secret,id=k,file=$T/pass"
head -c 1048576 /dev/urandom >"$T/data"
vol=$T/v.luks
qemu_img_retry create -f luks --object "$SECRET" -o key-secret=k,iter-time=10 "$vol" 1M >/dev/null
qemu-img convert -n -f raw "$T/data" --object "$SECRET" \
    --target-image-opts "driver=luks,key-secret=k,file.filename=$vol"

# serve ARGS...: copies the export nbdkit serves with ARGS into $T/out.
serve() {
    rm -f "$T/out"
    local rc=0
    nbd_nbdkit -U - "$NBD_PLUGIN" "$@" --run "nbdcopy \"\$uri\" $T/out" || rc=$?
    # The callers compare the copy.
    nbd_san_killed $rc && rc=0
    return $rc
}

echo "== password=+FILE, password=-FD"
serve driver=luks file.filename="$vol" password=+"$T/pass" || fail "password=+FILE"
cmp "$T/data" "$T/out" || fail "password=+FILE served other data"
serve driver=luks file.filename="$vol" password=-7 7<"$T/pass" || fail "password=-FD"
cmp "$T/data" "$T/out" || fail "password=-FD served other data"

echo "== password= with the format probed: a LUKS-encrypted qcow2"
q=$T/q.qcow2
qemu_img_retry create -f qcow2 --object "$SECRET" \
    -o encrypt.format=luks,encrypt.key-secret=k,encrypt.iter-time=10 "$q" 1M >/dev/null
qemu-img convert -n -f raw "$T/data" --object "$SECRET" \
    --target-image-opts "driver=qcow2,encrypt.key-secret=k,file.filename=$q"
serve file.filename="$q" password=+"$T/pass" || fail "qcow2 with password="
cmp "$T/data" "$T/out" || fail "qcow2: other data"

echo "== password=- asks at the terminal"
rc=0
python3 "$STRATA_SRCDIR/tests/sh/lib/pty-run.py" "password:" "$PASS" -- \
    timeout $NBD_BOUND env "${NBD_ENV[@]}" nbdkit -U - "$NBD_PLUGIN" driver=luks \
    file.filename="$vol" password=- --run "nbdcopy \"\$uri\" $T/out-tty" >"$T/tty" || rc=$?
[ $rc = 0 ] || nbd_san_killed $rc || fail "password=-: $(cat "$T/tty")"
cmp "$T/data" "$T/out-tty" || fail "password=- served other data"
contains -F "$PASS" "$T/tty" && fail "password=- echoed the passphrase"

echo "== a wrong passphrase fails the start-up, nothing hangs"
for args in "password=+$T/wrong" "key-secret=w object=secret,id=w,file=$T/wrong"; do
    rc=0
    # shellcheck disable=SC2086
    timeout $NBD_BOUND env "${NBD_ENV[@]}" nbdkit -U - "$NBD_PLUGIN" driver=luks \
        file.filename="$vol" $args --run 'nbdinfo --size "$uri"' >"$T/err" 2>&1 || rc=$?
    [ $rc != 0 ] && { [ $rc != 124 ] || nbd_san_killed $rc; } ||
        fail "wrong key ($args): exit status $rc"
    contains "Invalid password" "$T/err" || fail "wrong key ($args): $(cat "$T/err")"
done

echo "== nbdkit -v shows no passphrase read from a file"
for args in "password=+$T/pass" "key-secret=k object=$SECRET"; do
    # shellcheck disable=SC2086
    rc=0
    nbd_nbdkit -v -U - "$NBD_PLUGIN" driver=luks file.filename="$vol" $args \
        --run 'nbdinfo --size "$uri"' >"$T/v.log" 2>&1 || rc=$?
    [ $rc = 0 ] || nbd_san_killed $rc || fail "-v ($args): $(cat "$T/v.log")"
    contains "config key" "$T/v.log" || fail "no debug output"
    contains -F "$PASS" "$T/v.log" && fail "the passphrase is in nbdkit -v's output ($args)"
done
echo "nbd-password: ok"
