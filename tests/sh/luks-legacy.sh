#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks-legacy.sh - LUKS1 volumes from other writers that strata used to
# refuse: QEMU's ECB volumes ("aes-ecb-plain64": the IV generator is
# ignored, as QEMU does, with a warning that ECB is unsafe), and the packed
# key material of the first cryptsetup releases (slots one after another
# from sector 2, no 4 KiB alignment, the payload right after them).
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/luks.sh"

echo "== an ECB volume made by qemu-img"
ecb=$T/ecb.luks
QS=(--object secret,id=k,file="$PASS")
qemu_img_retry create -f luks "${QS[@]}" -o key-secret=k,cipher-mode=ecb,iter-time=10 "$ecb" 1M >/dev/null
QO="driver=luks,key-secret=k,file.filename=$ecb"
qemu-io "${QS[@]}" --image-opts "$QO" -c "write -P 0x5a 0 64k" -c "write -P 0x33 100k 4k" >/dev/null
strata-io --key-file "$PASS" -c "read -P 0x5a 0 64k" -c "read -P 0x33 100k 4k" "$ecb" \
    >"$T/r" 2>"$T/warn" || fail "strata-io read: $(cat "$T/r" "$T/warn")"
contains "verification failed" "$T/r" && fail "strata reads other data: $(cat "$T/r")"
contains "ECB mode, which is unsafe" "$T/warn" || fail "no warning: $(cat "$T/warn")"
strata-io --key-file "$PASS" -c "write -P 0x77 200k 8k" "$ecb" >/dev/null 2>&1 || fail "strata write"
qemu-io "${QS[@]}" --image-opts "$QO" -c "read -P 0x77 200k 8k" -c "read -P 0x5a 0 64k" >"$T/r"
contains "verification failed" "$T/r" && fail "qemu reads other data: $(cat "$T/r")"
qemu-img convert "${QS[@]}" --image-opts "$QO" -O raw "$T/q.raw"
strata-img convert --key-file "$PASS" -O raw "$ecb" "$T/s.raw" 2>/dev/null
cmp "$T/q.raw" "$T/s.raw" || fail "strata and qemu decrypt the ECB volume differently"
strata-img info "$ecb" >"$T/info" 2>&1
contains "cipher mode: ecb" "$T/info" && contains "ivgen alg: plain64" "$T/info" ||
    fail "info: $(cat "$T/info")"
# Creating ECB keeps its rule: no IV generator is written.
strata-img create -f luks --key-file "$PASS" -o cipher-mode=ecb,iter-time=10 "$T/new.luks" 1M >/dev/null
[ "$(dd if="$T/new.luks" bs=1 skip=40 count=32 status=none | tr -d '\0')" = ecb ] ||
    fail "create wrote another cipher mode"

echo "== packed key material (cryptsetup 1.0 layout)"
head -c 1048576 /dev/urandom >"$T/data"
for payload in 1002 1010; do
    v=$T/packed-$payload.luks
    strata-img create -f luks --key-file "$PASS" \
        -o iter-time=10,cipher-alg=aes-128,cipher-mode=cbc,ivgen-alg=essiv "$v" 1M >/dev/null
    strata-img convert -n -f raw -O luks --key-file "$PASS" "$T/data" "$v"
    python3 "$STRATA_SRCDIR/tests/sh/lib/luks-pack.py" "$v" 2 $payload
    # The layout is what cryptsetup reads, and the passphrase still opens it.
    cryptsetup luksDump "$v" >"$T/dump"
    contains "Payload offset:.*$payload" "$T/dump" || fail "pack: $(cat "$T/dump")"
    contains "Key material offset:.*2\$" "$T/dump" || fail "pack: $(cat "$T/dump")"
    cryptsetup open --test-passphrase --key-file "$PASS" "$v" || fail "cryptsetup refuses the pack"
    strata-img info --output=json "$v" | contains '"virtual-size": 1048576' ||
        fail "payload $payload: info size: $(strata-img info "$v")"
    strata-img convert --key-file "$PASS" -O raw "$v" "$T/out" || fail "payload $payload: read"
    cmp "$T/data" "$T/out" || fail "payload $payload: other data"
    strata-img check-key --key-file "$PASS" "$v" | contains "Key slot 0 unlocked." ||
        fail "payload $payload: check-key"
    # A key added to the packed layout lands in its own slot's range.
    strata-img amend --object secret,id=n,file="$PASS2" --key-file "$PASS" \
        -o state=active,new-secret=n,iter-time=10 "$v" || fail "payload $payload: amend"
    cs_check_keys "$v" "$PASS" "$PASS2"
    # Slot 1, right after slot 0's 125 sectors.
    cryptsetup luksDump "$v" | contains "Key material offset:.*127\$" ||
        fail "payload $payload: slot 1 is elsewhere: $(cryptsetup luksDump "$v")"
    strata-img convert --key-file "$PASS2" -O raw "$v" "$T/out" && cmp "$T/data" "$T/out" ||
        fail "payload $payload: the data changed"
done
echo "luks-legacy: ok"
