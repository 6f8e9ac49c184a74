#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# against-qemu.sh - crash workloads with QEMU doing the writing, checked as
# crashtest.sh checks strata's.  Each image file is served by nbdkit
# through nbdkit-strata-plugin with a logwrites node over it (stream 0, 2
# for a backing file); QEMU opens the qcow2 image on that export; for
# guest writes, qemu-nbd serves QEMU's qcow2 and a second nbdkit export
# logs the guest's requests (stream 1) on their way to it:
#
#   qemu-io -f raw -> nbdkit [logwrites stream=1 -> nbd] -> qemu-nbd [qcow2]
#     -> nbdkit [logwrites stream=0 -> file]
#
# Every state strata-replay names must open, strata-img check and qemu-img
# check must agree and be clean or repaired clean by -r all, strata and
# QEMU must read the same data, and the guest's flushed data must be there.
# An NBD export cannot grow, so each image file is padded with zeros first.
# Run by hand, not by make check; docs/reliability.md ("Against QEMU") has
# what it found.
#
#   STRATA_BUILD=$PWD/build STRATA_SRCDIR=$PWD bash tests/crash/against-qemu.sh [WORKLOAD...]
#
# Workloads: alloc-lazy-off, alloc-lazy-on (qemu-io writes), commit
# (qemu-img commit).  CRASH_SEED and CRASH_CUTS as for crashtest.sh.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
export PATH="$STRATA_BUILD/bin:$PATH"
. "$STRATA_SRCDIR/tests/sh/lib/nbd.sh"
. "$STRATA_SRCDIR/tests/crash/lib.sh"
need qemu-nbd

QUICK=
SEED=${CRASH_SEED:-1}
RANDOM_CUTS=${CRASH_CUTS:-40}
PAD=16M

# serve_logged NAME FILE STREAM: nbdkit serving FILE through a logwrites node.
serve_logged() {
    nbd_start "$1" "$NBD_PLUGIN" driver=logwrites log="$W/log" stream="$3" file.filename="$2"
}

# The qcow2 image is QEMU's; QEMU reads its file through NBD.
qemu_file() { # NAME: --image-opts for qcow2 on export NAME
    echo "driver=qcow2,file.driver=nbd,file.server.type=unix,file.server.path=$(nbd_sock "$1")"
}

# check_state CUT: the guest's data (strata), QEMU reading the same, the
# metadata, and the data again after a repair.
check_state() {
    local before=$REPAIRED
    check_guest "$1" -f qcow2 "$W/s.img"
    qemu-img convert -f qcow2 -O raw "$W/s.img" "$W/q.raw" ||
        fail "$STATE: qemu-img cannot read the image"
    cmp -s "$W/g.raw" "$W/q.raw" || fail "$STATE: qemu-img reads other data than strata"
    check_metadata qcow2 "$W/s.img"
    [ "$REPAIRED" = "$before" ] || check_guest "$1" -f qcow2 "$W/s.img"
}

wl_alloc() { # LAZY
    start_workload "qemu-alloc-lazy-$1"
    qemu-img create -q -f qcow2 -o cluster_size=512,lazy_refcounts="$1" "$IMG" 4M
    strata-img convert -f qcow2 -O raw "$IMG" "$W/guest.raw"
    truncate -s "$PAD" "$IMG"
    cp "$IMG" "$W/base.img"
    io_script 40 4194304 8192 >"$W/script"
    serve_logged file "$IMG" 0
    nbd_start_qemu qcow2 -t -e 4 --image-opts "$(qemu_file file)"
    nbd_start guest "$NBD_PLUGIN" driver=logwrites log="$W/log" stream=1 file.driver=nbd \
        file.server.type=unix file.server.path="$(nbd_sock qcow2)"
    local args=()
    mapfile -t args <"$W/script"
    qemu-io -f raw "${args[@]}" "$(nbd_uri guest)" >/dev/null || fail "$WORKLOAD: qemu-io failed"
    nbd_stop guest
    nbd_stop qcow2
    nbd_stop file
    guest_must_catch
    for_each_state check_state
}

# commit: qemu-img commit of an overlay into its qcow2 backing file, each
# file on its own logged export.  The overlay's view through the chain
# must not change; the backing file alone must hold each cluster old or new.
wl_commit() {
    start_workload qemu-commit
    qemu-img create -q -f qcow2 -o cluster_size=4096 "$IMG2" 2M
    qemu-io -f qcow2 -c 'write -P 0x41 0 64k' -c 'write -P 0x42 256k 64k' \
        -c 'write -P 0x43 512k 64k' -c 'write -P 0x44 768k 64k' "$IMG2" >/dev/null
    (cd "$W/run" && qemu-img create -q -f qcow2 -o cluster_size=4096 -b s2.img -F qcow2 s.img)
    qemu-io -f qcow2 -c 'write -P 0x51 32k 64k' -c 'write -P 0 256k 64k' -c 'write -z 768k 64k' \
        -c 'write -P 0x53 1M 256k' -c 'write -P 0x54 1900k 100k' "$IMG" >/dev/null
    dump "$IMG" "$W/allowed.before.raw"
    dump "$IMG2" "$W/backing.old.raw"
    truncate -s "$PAD" "$IMG" "$IMG2"
    cp "$IMG" "$W/base.img"
    cp "$IMG2" "$W/base2.img"
    # QEMU finds no directory for a relative backing file name beside an
    # image on NBD, and takes the header's name over backing.* options:
    # during the run the overlay names its backing file's export.  The
    # commit rewrites the overlay's header (emptying it), so in each state
    # that name is replaced, in place and without opening the image, by a
    # name of the same length for the state of the backing file.
    BACKING_URI=$(nbd_uri backing)
    STATE_NAME=$W/s2.img
    while [ ${#STATE_NAME} -lt ${#BACKING_URI} ]; do STATE_NAME=${STATE_NAME/\/s2.img/\/\/s2.img}; done
    [ ${#STATE_NAME} = ${#BACKING_URI} ] || fail "$WORKLOAD: no name of the same length"
    qemu-img rebase -u -f qcow2 -b "$BACKING_URI" -F qcow2 "$IMG"
    serve_logged top "$IMG" 0
    serve_logged backing "$IMG2" 2
    qemu-img commit -q --image-opts "$(qemu_file top)" || fail "$WORKLOAD: qemu-img commit failed"
    nbd_stop top
    nbd_stop backing
    dump "$IMG2" "$W/backing.new.raw"
    ! cmp -s "$W/backing.old.raw" "$W/backing.new.raw" ||
        fail "$WORKLOAD: the commit left the backing file as it was"
    for_each_state check_renamed -s 0 -s 2
}
# check_renamed: check_commit, the overlay's backing file named by the
# state's file again.
check_renamed() {
    URI=$BACKING_URI NAME=$STATE_NAME perl -0777 -pi -e 's/\Q$ENV{URI}\E/$ENV{NAME}/g' "$W/s.img"
    check_commit
}

for w in "${@:-alloc-lazy-off alloc-lazy-on commit}"; do
    for w in $w; do
        case $w in
        alloc-lazy-off) wl_alloc off ;;
        alloc-lazy-on) wl_alloc on ;;
        commit) wl_commit ;;
        *) fail "unknown workload '$w' (known: alloc-lazy-off alloc-lazy-on commit)" ;;
        esac
    done
done
echo "$STATES_TOTAL crash states checked ($REPAIRED repaired by check -r all)"
