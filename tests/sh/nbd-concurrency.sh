#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Eight NBD clients at once on one nbdkit-strata-plugin export of an
# encrypted qcow2 image: four qemu-io processes (qemu's NBD client) and four
# strata-io processes (strata's nbd driver), each doing random unaligned
# writes and verifying reads in its own 8 MiB range.  Afterwards qemu reads
# every slot of the image itself and finds the last pattern written there,
# and qemu-img check is clean.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/nbd.sh"

CLIENTS=8 OPS=300 SLOTS=1000 SLOT_LEN=4096 RANGE=$((8 << 20))
printf 'concurrency' >"$T/disk.pass"
SECRET="secret,id=sec0,file=$T/disk.pass"
QOPTS="driver=qcow2,encrypt.key-secret=sec0,file.filename=$T/disk.qcow2"
strata-img create -q -f qcow2 --object "$SECRET" \
    -o encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=50 \
    "$T/disk.qcow2" $((CLIENTS * RANGE)) || fail "create encrypted qcow2"
nbd_start srv "$NBD_PLUGIN" driver=qcow2 encrypt.key-secret=sec0 \
    file.filename="$T/disk.qcow2" object="$SECRET"
URI=$(nbd_uri srv)

# Slot k of client c: 4 KiB at an offset that is not sector-aligned.
slot_off() { echo $(($1 * RANGE + 100 + $2 * 8192)); }

# Command lists: random writes (pattern 1..255) and reads of what the slot
# must hold now; the expected final pattern of every slot is kept.
RANDOM=4242
for ((c = 0; c < CLIENTS; c++)); do
    declare -a exp=()
    for ((i = 0; i < OPS; i++)); do
        k=$((RANDOM % SLOTS)) off=$(slot_off $c $k)
        if ((RANDOM % 10 < 6)); then
            p=$((RANDOM % 255 + 1))
            exp[$k]=$p
            echo "write -P $p $off $SLOT_LEN"
        else
            echo "read -P ${exp[$k]:-0} $off $SLOT_LEN"
        fi
        ((i % 50 == 49)) && echo flush
    done >"$T/cmds.$c"
    for ((k = 0; k < SLOTS; k++)); do
        echo "read -P ${exp[$k]:-0} $(slot_off $c $k) $SLOT_LEN"
    done >"$T/verify.$c"
    unset exp
done

pids=()
for ((c = 0; c < CLIENTS; c++)); do
    if ((c % 2 == 0)); then
        timeout 90 qemu-io -f raw "$URI" <"$T/cmds.$c" >"$T/out.$c" 2>&1 &
    else
        timeout 90 strata-io --image-opts \
            "driver=raw,file.driver=nbd,file.server.path=$(nbd_sock srv)" \
            <"$T/cmds.$c" >"$T/out.$c" 2>&1 &
    fi
    pids+=($!)
done
for ((c = 0; c < CLIENTS; c++)); do
    wait "${pids[$c]}" || fail "client $c exited with $?: $(grep -v '^[0-9]\|ops/sec\|^$' "$T/out.$c" | head -5)"
    grep -q 'failed' "$T/out.$c" && fail "client $c: $(grep 'failed' "$T/out.$c" | head -5)"
    [ "$(grep -o 'wrote [0-9]' "$T/out.$c" | wc -l)" = "$(grep -c '^write ' "$T/cmds.$c")" ] ||
        fail "client $c did not run all its writes"
done

nbd_stop srv
qemu-img check --object "$SECRET" --image-opts "$QOPTS" >"$T/check.log" ||
    fail "qemu-img check: $(cat "$T/check.log")"
for ((c = 0; c < CLIENTS; c++)); do
    qemu-io --object "$SECRET" --image-opts -r "$QOPTS" <"$T/verify.$c" >"$T/v.$c" 2>&1 ||
        fail "client $c's range: $(grep -B1 'failed' "$T/v.$c" | head -6)"
    grep -q 'failed' "$T/v.$c" && fail "client $c's range: $(grep 'failed' "$T/v.$c" | head -5)"
done
exit 0
