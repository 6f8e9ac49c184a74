#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# crashtest.sh - crash consistency: each workload runs through logwrites
# nodes (one below the format on the image file, one above it for the
# guest's requests, both into one log), then strata-replay rebuilds every
# state a power cut could leave (after each flush; random cuts with a
# random subset of the unflushed writes lost) and each one is checked:
# the image opens, strata-img check is clean or repaired clean by -r all,
# qemu-img check agrees, all data written and flushed before the cut reads
# back, and LUKS key changes and header restores are all-or-nothing.
# docs/reliability.md describes the model.
#
#   crashtest.sh [--quick] [WORKLOAD...]
# --quick (make check) keeps a few flush points and random cuts per
# workload.  CRASH_SEED picks the random cuts (default 1); CRASH_CUTS their
# number per workload.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
export PATH="$STRATA_BUILD/bin:$PATH"
. "$STRATA_SRCDIR/tests/sh/lib/luks.sh"
. "$STRATA_SRCDIR/tests/crash/lib.sh"

QUICK=
if [ "${1:-}" = --quick ]; then
    QUICK=1
    shift
fi
SEED=${CRASH_SEED:-1}
RANDOM_CUTS=${CRASH_CUTS:-$([ -n "$QUICK" ] && echo 3 || echo 40)}
QUICK_FLUSHES=3
# The format fill_image writes and dump reads.
FMT=qcow2

# $PASS and $PASS2 come from luks.sh.
PASS3=$T/pass3
printf 'third passphrase' >"$PASS3"
SECRETS=(--object secret,id=p1,file="$PASS" --object secret,id=p2,file="$PASS2"
         --object secret,id=p3,file="$PASS3")

# guest_stack FMT IMG [FORMAT-OPTIONS]: the logged stack a workload writes
# through: stream 1 above FMT, stream 0 below it on IMG.
guest_stack() {
    local fmt=$1 img=$2 extra=
    [ -n "${3:-}" ] && extra=,$(echo "$3" | sed 's/,/,file./g; s/^/file./')
    echo "driver=logwrites,stream=1,log=$W/log,file.driver=$fmt$extra,file.file.driver=logwrites,file.file.log=$W/log,file.file.file.filename=$img"
}

# save_base FMT [convert options...]: the image and the guest's content
# before the workload.
save_base() {
    local fmt=$1
    shift
    cp "$IMG" "$W/base.img"
    if [ $# -gt 0 ]; then
        strata-img convert "$@" -O raw "$W/guest.raw"
    else
        strata-img convert -f "$fmt" -O raw "$IMG" "$W/guest.raw"
    fi
}

run_io() { # STACK SCRIPT-FILE: strata-io with the script's commands
    local stack=$1 script=$2 args=()
    mapfile -t args <"$script"
    strata-io "${args[@]}" "${SECRETS[@]}" --image-opts "$stack" >/dev/null ||
        fail "$WORKLOAD: the workload failed"
}

# ------------------------------------------------------------ qcow2 writes
# check_qcow2 CUT: the guest's data, the metadata, and the data again
# when the check repaired something.
check_qcow2() {
    local src=(-f qcow2 "$W/s.img") before=$REPAIRED
    if [ -n "${KEY:-}" ]; then
        src=("${SECRETS[@]}" --image-opts "driver=qcow2,$KEY,file.filename=$W/s.img")
    fi
    check_guest "$1" "${src[@]}"
    check_metadata qcow2 "$W/s.img"
    [ "$REPAIRED" = "$before" ] || check_guest "$1" "${src[@]}"
}

wl_qcow2_alloc() { # LAZY
    start_workload "qcow2-alloc-lazy-$1"
    # 512-byte clusters: an L2 table every 32 KiB and a refcount block
    # every 128 KiB of file, so that a few writes allocate many of both.
    strata-img create -q -f qcow2 -o cluster_size=512,lazy_refcounts="$1" "$IMG" 4M
    save_base qcow2
    io_script $([ -n "$QUICK" ] && echo 12 || echo 40) 4194304 8192 >"$W/script"
    run_io "$(guest_stack qcow2 "$IMG")" "$W/script"
    guest_must_catch
    for_each_state check_qcow2
}

# ------------------------------------------------------------ LUKS keys
# unlocks KEYFILE IMG: strata opens the volume with that passphrase.
unlocks() {
    strata-io --object secret,id=s,file="$1" -c "read -q 0 512" \
        --image-opts "driver=luks,key-secret=s,file.filename=$2" >/dev/null 2>"$W/key.err"
}

# check_keys: the passphrases in $MUST unlock the state (strata and
# cryptsetup), one of $EITHER does when set, and the payload reads back
# as before.
check_keys() {
    local k ok=
    for k in $MUST; do
        unlocks "$k" "$W/s.img" ||
            { cat "$W/key.err" >&2; fail "$STATE: $(basename "$k") no longer unlocks"; }
        cryptsetup open --test-passphrase --key-file "$k" "$W/s.img" ||
            fail "$STATE: cryptsetup refuses $(basename "$k")"
    done
    for k in $EITHER; do
        unlocks "$k" "$W/s.img" && ok=1
    done
    [ -z "$EITHER" ] || [ -n "$ok" ] ||
        fail "$STATE: neither the old nor the new passphrase unlocks"
    strata-img convert --object secret,id=s,file="$(set -- $MUST; echo "$1")" -O raw \
        --image-opts "driver=luks,key-secret=s,file.filename=$W/s.img" "$W/g.raw" ||
        fail "$STATE: the payload does not read"
    cmp -s "$W/g.raw" "$W/payload.raw" || fail "$STATE: the payload changed"
}

# luks_volume VERSION [SIZE]: $IMG, a LUKS volume opened by $PASS (slot 0)
# with a random payload, read back into $W/payload.raw.
luks_volume() {
    local create=key-secret=p1,iter-time=10
    [ "$1" = 2 ] && create="$create,luks-version=2,pbkdf=pbkdf2"
    strata-img create -q -f luks "${SECRETS[@]}" -o "$create" "$IMG" "${2:-2M}"
    head -c 1048576 /dev/urandom >"$W/rand"
    strata-img convert -n -f raw "$W/rand" "${SECRETS[@]}" \
        --target-image-opts "driver=luks,key-secret=p1,file.filename=$IMG" ||
        fail "$WORKLOAD: writing the payload"
    strata-img convert --object secret,id=s,file="$PASS" -O raw \
        --image-opts "driver=luks,key-secret=s,file.filename=$IMG" "$W/payload.raw"
}

# amend_keys VERSION OPTIONS [KEY]: a keyslot change on $IMG opened with
# secret KEY (p1 by default), a new key with cheap PBKDF settings.
amend_keys() {
    local cheap=iter-time=10 key=${3:-p1}
    [ "$1" = 2 ] && cheap="$cheap,pbkdf=pbkdf2"
    strata-img amend "${SECRETS[@]}" -o "$2$([ "${2#state=active}" != "$2" ] && echo ",$cheap")" \
        --image-opts "driver=luks,key-secret=$key,file.filename=$IMG" ||
        fail "$WORKLOAD: amend $2"
}

# wl_luks_keys VERSION OP: a keyslot add, replace, remove or forced
# overwrite on a LUKS1 or LUKS2 volume through a logwrites node, each state
# checked by check_keys.
wl_luks_keys() {
    local version=$1 op=$2 opts cheap=iter-time=10
    start_workload "luks$version-keys-$op"
    [ "$version" = 2 ] && cheap="iter-time=10,pbkdf=pbkdf2"
    luks_volume "$version"
    [ "$op" = add ] || amend_keys "$version" state=active,new-secret=p2
    cp "$IMG" "$W/base.img"
    case $op in
    add) opts="state=active,new-secret=p2,$cheap"; MUST=$PASS; EITHER= ;;
    replace) opts="state=active,old-secret=p2,new-secret=p3,replace=on,$cheap"
        MUST=$PASS; EITHER="$PASS2 $PASS3" ;;
    remove) opts="state=inactive,old-secret=p2"; MUST=$PASS; EITHER= ;;
    # Slot 1 (p2) retired before p3 is stored there: only slot 0 is sure.
    overwrite) opts="state=active,new-secret=p3,keyslot=1,$cheap"; MUST=$PASS; EITHER= ;;
    esac
    strata-img amend "${SECRETS[@]}" -o "$opts" $([ "$op" = overwrite ] && echo --force) --image-opts \
        "driver=luks,key-secret=p1,file.driver=logwrites,file.log=$W/log,file.file.filename=$IMG" ||
        fail "$WORKLOAD: the amend failed"
    # The change happened: the last state is the new one.
    case $op in
    add) unlocks "$PASS2" "$IMG" ;;
    replace) ! unlocks "$PASS2" "$IMG" && unlocks "$PASS3" "$IMG" ;;
    remove) ! unlocks "$PASS2" "$IMG" ;;
    overwrite) ! unlocks "$PASS2" "$IMG" && unlocks "$PASS3" "$IMG" ;;
    esac || fail "$WORKLOAD: the amend did not do its change"
    # The check can fail: a volume whose header is gone must not pass.
    cp "$IMG" "$W/s.img"
    dd if=/dev/zero of="$W/s.img" bs=65536 count=1 conv=notrunc status=none
    if (STATE="$WORKLOAD control"; check_keys) >/dev/null 2>&1; then
        fail "$WORKLOAD: a volume without its header passes the key check"
    fi
    for_each_state check_keys
}

# ------------------------------------------------------------ LUKS headers
# The header operations below write the header as plain bytes, through a
# node that splits every request into 4 KiB pieces, each logged on its
# own: a cut can keep any of the pieces a multi-megabyte header write is
# made of, as a disk may.
logged_bytes() {
    echo "driver=blkdebug,max-transfer=4096,image.driver=logwrites,image.log=$W/log,image.file.filename=$IMG"
}

# volume_key KEYFILE IMG: the volume key cryptsetup unlocks with KEYFILE,
# in hex; fails when it does not unlock.
volume_key() {
    cryptsetup luksDump --dump-volume-key --batch-mode --key-file "$1" "$2" 2>/dev/null |
        awk '/^(MK|Volume key) dump:/ { on = 1; $1 = $2 = "" } on && /^[ \t]*$/ { on = 0 }
             on { gsub(/[^0-9a-f]/, ""); printf "%s", $0 } END { print "" }' | grep .
}

# opens_as KEYFILE KEY PAYLOAD: in state $W/s.img, strata and cryptsetup
# agree on whether KEYFILE unlocks; when it does, the volume key is KEY
# (unless KEY is empty) and (strata) the payload reads as PAYLOAD.
# Returns 1 when it does not unlock.
opens_as() {
    local s=0 c=0 name
    name=$(basename "$1")
    unlocks "$1" "$W/s.img" || s=1
    cryptsetup open --test-passphrase --key-file "$1" "$W/s.img" 2>/dev/null || c=1
    [ "$s" = "$c" ] || fail "$STATE: $name: strata $([ $s = 0 ] && echo unlocks || echo refuses), cryptsetup does not agree"
    [ "$s" = 0 ] || return 1
    [ -z "$2" ] || [ "$(volume_key "$1" "$W/s.img")" = "$2" ] ||
        fail "$STATE: $name unlocks a volume key that is neither the old nor the new one"
    strata-img convert --object secret,id=s,file="$1" -O raw \
        --image-opts "driver=luks,key-secret=s,file.filename=$W/s.img" "$W/g.raw" ||
        fail "$STATE: $name unlocks but the payload does not read"
    cmp -s "$W/g.raw" "$3" || fail "$STATE: $name unlocks but the payload reads other data"
}

# wl_luks_restore VERSION: header-restore of a backup whose passphrases
# ($PASS, $PASS3) are not the volume's ($PASS2): every state opens with
# all of one set, never with neither.
wl_luks_restore() {
    start_workload "luks$1-header-restore"
    luks_volume "$1"
    amend_keys "$1" state=active,new-secret=p3
    strata-img header-backup -f luks "$IMG" "$W/backup" >/dev/null || fail "$WORKLOAD: backup"
    amend_keys "$1" state=active,new-secret=p2
    amend_keys "$1" state=inactive,old-secret=p1 p2
    amend_keys "$1" state=inactive,old-secret=p3 p2
    MK=$(volume_key "$PASS2" "$IMG") || fail "$WORKLOAD: no volume key"
    cp "$IMG" "$W/base.img"
    strata-img header-restore --yes --image-opts "$(logged_bytes)" "$W/backup" >/dev/null ||
        fail "$WORKLOAD: header-restore failed"
    cp "$IMG" "$W/s.img"
    STATE="$WORKLOAD end"
    opens_as "$PASS" "$MK" "$W/payload.raw" && opens_as "$PASS3" "$MK" "$W/payload.raw" &&
        ! opens_as "$PASS2" "" "$W/payload.raw" || fail "$WORKLOAD: the restore did not restore"
    # The check can fail: a volume without its header passes neither set.
    dd if=/dev/zero of="$W/s.img" bs=65536 count=1 conv=notrunc status=none
    if (STATE="$WORKLOAD control"; check_restore) >/dev/null 2>&1; then
        fail "$WORKLOAD: a volume without its header passes the check"
    fi
    for_each_state check_restore
}
# Both headers hold one volume key, which every unlock checks against the
# header's digest: the payload reading back is check enough.
check_restore() {
    local old=0 restored=0
    opens_as "$PASS2" "" "$W/payload.raw" && old=1
    opens_as "$PASS" "" "$W/payload.raw" && restored=$((restored + 1))
    opens_as "$PASS3" "" "$W/payload.raw" && restored=$((restored + 1))
    [ "$old" = 1 ] || [ "$restored" = 2 ] ||
        fail "$STATE: neither the volume's passphrase nor every one of the restored header unlocks"
}

# wl_luks_format OLD NEW: format --force of a LUKS-OLD volume (passphrase
# $PASS) as LUKS-NEW with $PASS2.  A passphrase that unlocks a state must
# give its own volume key, with the old payload for the old volume.
wl_luks_format() {
    local opts=key-secret=p2,iter-time=10
    start_workload "luks$1-format-luks$2"
    [ "$2" = 2 ] && opts="$opts,luks-version=2,pbkdf=pbkdf2"
    # Room for a LUKS2 header (16 MiB) and a payload.
    luks_volume "$1" $([ "$1$2" = 12 ] && echo 17M)
    OLD_MK=$(volume_key "$PASS" "$IMG") || fail "$WORKLOAD: no volume key"
    cp "$IMG" "$W/base.img"
    strata-img format "${SECRETS[@]}" -o "$opts" --force --yes --image-opts "$(logged_bytes)" \
        >/dev/null || fail "$WORKLOAD: format failed"
    NEW_MK=$(volume_key "$PASS2" "$IMG") || fail "$WORKLOAD: the new volume does not unlock"
    [ "$NEW_MK" != "$OLD_MK" ] || fail "$WORKLOAD: the new volume has the old volume key"
    # The check can fail: a passphrase opening another volume key than its
    # own is refused.
    cp "$IMG" "$W/s.img"
    if (STATE="$WORKLOAD control"; opens_as "$PASS2" "$OLD_MK" "$W/payload.raw") >/dev/null 2>&1
    then
        fail "$WORKLOAD: a passphrase giving another volume key passes the check"
    fi
    strata-img convert --object secret,id=s,file="$PASS2" -O raw \
        --image-opts "driver=luks,key-secret=s,file.filename=$IMG" "$W/new.raw" ||
        fail "$WORKLOAD: the new volume does not read"
    for_each_state check_format
}
check_format() {
    opens_as "$PASS" "$OLD_MK" "$W/payload.raw" || true
    opens_as "$PASS2" "$NEW_MK" "$W/new.raw" || true
}

# ------------------------------------------------------------ more writes
wl_compressed() {
    start_workload qcow2-compressed
    strata-img create -q -f qcow2 -o cluster_size=4096 "$IMG" 2M
    save_base qcow2
    { head -c 1048576 < <(yes 'compressible line of text'); head -c 1048576 /dev/urandom; } \
        >"$W/src.raw"
    strata-img convert -n -c -f raw "$W/src.raw" --target-image-opts \
        "$(guest_stack qcow2 "$IMG")" || fail "$WORKLOAD: convert -c failed"
    # Overwriting compressed clusters frees them.
    printf -- '-c\nwrite -q -P 0x61 4096 8192\n-c\nflush\n-c\nwrite -q -P 0x62 65536 65536\n' \
        >"$W/script"
    run_io "$(guest_stack qcow2 "$IMG")" "$W/script"
    guest_must_catch
    for_each_state check_qcow2
}

wl_discard_zero() {
    start_workload qcow2-discard-zero
    strata-img create -q -f qcow2 -o cluster_size=4096 "$IMG" 4M
    save_base qcow2
    printf -- '-c\n%s\n' 'write -q -P 0x31 0 1M' flush 'discard -q 64k 128k' \
        'write -q -z 256k 64k' 'write -q -z -u 512k 128k' flush 'write -q -P 0x32 600k 8k' \
        'discard -q 600k 4k' 'write -q -z 1M 64k' 'write -q -P 0x33 2M 64k' flush \
        'write -q -z -u 2M 32k' >"$W/script"
    run_io "$(guest_stack qcow2 "$IMG")" "$W/script"
    guest_must_catch
    for_each_state check_qcow2
}

# Whole-cluster writes over allocated zero clusters reuse them in place:
# the zero flag goes when the data is there, never before.
wl_zero_reuse() {
    start_workload qcow2-zero-reuse
    strata-img create -q -f qcow2 -o cluster_size=4096 "$IMG" 2M
    strata-io -c 'write -q -P 0x30 0 1M' -f qcow2 "$IMG" >/dev/null ||
        fail "$WORKLOAD: filling the image"
    save_base qcow2
    printf -- '-c\n%s\n' 'write -q -z 0 512k' flush 'write -q -P 0x31 0 64k' \
        'write -q -P 0x32 128k 4k' 'write -q -P 0x33 200k 12k' flush 'write -q -z 256k 256k' \
        'write -q -P 0x34 300k 16k' 'write -q -P 0x35 264k 8k' flush \
        'write -q -P 0x36 400k 64k' >"$W/script"
    run_io "$(guest_stack qcow2 "$IMG")" "$W/script"
    guest_must_catch
    for_each_state check_qcow2
}

wl_encrypted() {
    start_workload qcow2-encrypted
    strata-img create -q -f qcow2 "${SECRETS[@]}" -o \
        cluster_size=4096,encrypt.format=luks,encrypt.key-secret=p1,encrypt.iter-time=10 "$IMG" 2M
    KEY=encrypt.key-secret=p1
    save_base qcow2 "${SECRETS[@]}" --image-opts "driver=qcow2,$KEY,file.filename=$IMG"
    io_script $([ -n "$QUICK" ] && echo 9 || echo 30) 2097152 16384 >"$W/script"
    run_io "$(guest_stack qcow2 "$IMG" "$KEY")" "$W/script"
    guest_must_catch
    for_each_state check_qcow2
    KEY=
}

wl_qcow() {
    start_workload qcow-writes
    strata-img create -q -f qcow -o cluster_size=4096 "$IMG" 4M 2>/dev/null ||
        strata-img create -q -f qcow "$IMG" 4M
    save_base qcow
    io_script $([ -n "$QUICK" ] && echo 9 || echo 30) 4194304 16384 >"$W/script"
    run_io "$(guest_stack qcow "$IMG")" "$W/script"
    guest_must_catch
    NO_DROP=1 for_each_state check_qcow
}
# qcow has no check in strata-img or qemu-img: the data, and qemu-img
# reading the same data.
check_qcow() {
    check_guest "$1" -f qcow "$W/s.img"
    qemu-img convert -f qcow -O raw "$W/s.img" "$W/q.raw" ||
        fail "$STATE: qemu-img cannot read the image"
    cmp -s "$W/g.raw" "$W/q.raw" || fail "$STATE: qemu-img reads other data than strata"
}

# ------------------------------------------------------------ image operations
# The operations below change metadata only, or data the guest must see
# whole or not at all: each state's guest content must be one of the
# allowed dumps ($W/allowed.*.raw; check_allowed in lib.sh).

# logged_image: --image-opts for a qcow2 image whose file is logged
# (stream 0), and its backing file too (stream 2) when $IMG2 is given.
logged_image() {
    local o="driver=qcow2,file.driver=logwrites,file.log=$W/log,file.file.filename=$IMG"
    [ -n "${1:-}" ] &&
        o="$o,backing.driver=qcow2,backing.file.driver=logwrites,backing.file.log=$W/log,backing.file.stream=2,backing.file.file.filename=$IMG2"
    echo "$o"
}

# fill_image IMG PATTERN...: writes 64 KiB of each pattern, 256 KiB apart.
fill_image() {
    local img=$1 p off=0 cmds=()
    shift
    for p in "$@"; do
        cmds+=(-c "write -q -P $p $off 64k")
        off=$((off + 262144))
    done
    strata-io "${cmds[@]}" -f "$FMT" "$img" >/dev/null || fail "$WORKLOAD: filling $img"
}

wl_snapshot() { # OP
    local op=$1
    start_workload "qcow2-snapshot-$op"
    strata-img create -q -f qcow2 -o cluster_size=4096 "$IMG" 2M
    fill_image "$IMG" 0x41 0x42 0x43
    [ "$op" = create ] || {
        strata-img snapshot -c s1 "$IMG"
        fill_image "$IMG" 0x51 0x52
    }
    cp "$IMG" "$W/base.img"
    dump "$IMG" "$W/allowed.before.raw"
    case $op in
    create) strata-img snapshot -c s1 --image-opts "$(logged_image)" ;;
    apply) strata-img snapshot -a s1 --image-opts "$(logged_image)" ;;
    delete) strata-img snapshot -d s1 --image-opts "$(logged_image)" ;;
    esac || fail "$WORKLOAD: the snapshot operation failed"
    dump "$IMG" "$W/allowed.after.raw"
    [ "$op" != apply ] || ! cmp -s "$W/allowed.before.raw" "$W/allowed.after.raw" ||
        fail "$WORKLOAD: applying the snapshot changed nothing"
    if [ "$op" != create ]; then
        cp "$W/base.img" "$W/x.img"
        strata-img snapshot -a s1 "$W/x.img"
        dump "$W/x.img" "$W/snap.raw"
    else
        cp "$W/allowed.before.raw" "$W/snap.raw"
    fi
    for_each_state check_snapshot
}
# The snapshot, when listed, still holds what it held.
check_snapshot() {
    check_allowed
    if strata-img snapshot -l "$W/s.img" | awk '$2 == "s1" { f = 1 } END { exit !f }'; then
        cp "$W/s.img" "$W/x.img"
        strata-img snapshot -a s1 "$W/x.img" || fail "$STATE: snapshot s1 does not apply"
        dump "$W/x.img" "$W/x.raw"
        cmp -s "$W/x.raw" "$W/snap.raw" || fail "$STATE: snapshot s1 lost its content"
    elif [ "$WORKLOAD" = qcow2-snapshot-apply ]; then
        fail "$STATE: snapshot s1 is gone"
    fi
}

wl_resize() { # SIZE [--shrink]
    start_workload "qcow2-resize-$1"
    strata-img create -q -f qcow2 -o cluster_size=512 "$IMG" 2M
    fill_image "$IMG" 0x41 0x42 0x43 0x44 0x45 0x46 0x47 0x48
    cp "$IMG" "$W/base.img"
    dump "$IMG" "$W/allowed.before.raw"
    strata-img resize "${@:2}" --image-opts "$(logged_image)" "$1" ||
        fail "$WORKLOAD: the resize failed"
    dump "$IMG" "$W/allowed.after.raw"
    if [ "${2:-}" = --shrink ]; then
        for_each_state check_shrunk
    else
        for_each_state check_allowed
    fi
}
# A shrink drops what lies past the new end before it writes the new size
# (as QEMU's does): the size is the old or the new one, and the part that
# stays is intact.
check_shrunk() {
    local new
    check_metadata qcow2 "$W/s.img"
    dump "$W/s.img" "$W/g.raw"
    new=$(stat -c %s "$W/allowed.after.raw")
    case $(stat -c %s "$W/g.raw") in
    "$new" | "$(stat -c %s "$W/allowed.before.raw")") ;;
    *) fail "$STATE: the size is neither the old nor the new one" ;;
    esac
    cmp -s -n "$new" "$W/g.raw" "$W/allowed.after.raw" ||
        fail "$STATE: the part that stays changed"
}

wl_amend() { # OPTIONS
    start_workload "qcow2-amend-${1//[=,]/-}"
    strata-img create -q -f qcow2 -o cluster_size=4096 "$IMG" 2M
    fill_image "$IMG" 0x41 0x42 0x43 0x44
    cp "$IMG" "$W/base.img"
    dump "$IMG" "$W/allowed.before.raw"
    strata-img amend -o "$1" --image-opts "$(logged_image)" ||
        fail "$WORKLOAD: the amend failed"
    dump "$IMG" "$W/allowed.after.raw"
    for_each_state check_allowed
}

# wl_rebase: rebase the overlay onto another backing file (safe mode); the
# overlay's content must not change in any state.
wl_rebase() {
    start_workload qcow2-rebase
    strata-img create -q -f qcow2 -o cluster_size=4096 "$IMG2" 2M
    fill_image "$IMG2" 0x41 0x42 0x43 0x44
    (cd "$W/run" && strata-img create -q -f qcow2 -o cluster_size=4096 -b s2.img -F qcow2 s.img)
    fill_image "$IMG" 0x51 0x00 0x53
    cp "$IMG" "$W/base.img"
    dump "$IMG" "$W/allowed.before.raw"
    strata-img create -q -f qcow2 -o cluster_size=4096 "$W/run/new.img" 2M
    fill_image "$W/run/new.img" 0x61 0x62
    cp "$W/run/new.img" "$W/new.img"
    strata-img rebase -b new.img -F qcow2 --image-opts "$(logged_image)" ||
        fail "$WORKLOAD: rebase failed"
    cp "$IMG2" "$W/s2.img"
    dump "$IMG" "$W/g.raw"
    cmp -s "$W/g.raw" "$W/allowed.before.raw" || fail "$WORKLOAD: the overlay's content changed"
    for_each_state check_allowed -s 0 -s 2
}

# wl_commit: commit an overlay into its qcow2 backing file, both files
# logged (the backing file through the overlay's backing.* options).  The
# overlay's view through the chain never changes; the backing file alone
# holds, cluster by cluster, its old or its new content.
wl_commit() {
    start_workload qcow2-commit
    strata-img create -q -f qcow2 -o cluster_size=4096 "$IMG2" 2M
    fill_image "$IMG2" 0x41 0x42 0x43 0x44
    (cd "$W/run" && strata-img create -q -f qcow2 -o cluster_size=4096 -b s2.img -F qcow2 s.img)
    # Over allocated and unallocated clusters of the backing file: data,
    # zeros written as data, a zero cluster, and new allocations there.
    strata-io -c 'write -q -P 0x51 60k 8k' -c 'write -q -P 0 256k 16k' -c 'write -q -z 768k 16k' \
        -c 'write -q -P 0x53 1M 64k' -c 'write -q -P 0x54 1900k 20k' -f qcow2 "$IMG" >/dev/null ||
        fail "$WORKLOAD: writing the overlay"
    cp "$IMG" "$W/base.img"
    cp "$IMG2" "$W/base2.img"
    dump "$IMG" "$W/allowed.before.raw"
    dump "$IMG2" "$W/backing.old.raw"
    strata-img commit -q --image-opts "$(logged_image 2)" || fail "$WORKLOAD: commit failed"
    dump "$IMG2" "$W/backing.new.raw"
    dump "$IMG" "$W/g.raw"
    cmp -s "$W/g.raw" "$W/allowed.before.raw" || fail "$WORKLOAD: the overlay's content changed"
    ! cmp -s "$W/backing.old.raw" "$W/backing.new.raw" ||
        fail "$WORKLOAD: the commit left the backing file as it was"
    # The check can fail: half a cluster new, half old, is refused.
    cp "$W/backing.old.raw" "$W/g.raw"
    dd if="$W/backing.new.raw" of="$W/g.raw" bs=2048 skip=30 seek=30 count=1 conv=notrunc \
        status=none
    if clusters_old_or_new "$W/g.raw" 4096 2>/dev/null; then
        fail "$WORKLOAD: a cluster half old and half new passes the check"
    fi
    for_each_state check_commit -s 0 -s 2
}
# wl_repair: check -r all rebuilding the refcount structure of an image
# where a data cluster in use has a refcount of zero.  Every state is
# repairable again and the guest content never changes.
wl_repair() {
    local off
    start_workload qcow2-repair
    strata-img create -q -f qcow2 -o cluster_size=4096 "$IMG" 2M
    fill_image "$IMG" 0x41 0x42 0x43 0x44
    off=$(qemu-img map --output=json -f qcow2 "$IMG" |
          sed -n 's/.*"start": 262144,.*"offset": \([0-9]*\).*/\1/p')
    [ -n "$off" ] || fail "$WORKLOAD: no data cluster at 256 KiB"
    set_refcount "$IMG" $((off / 4096)) 0
    cp "$IMG" "$W/base.img"
    dump "$IMG" "$W/allowed.before.raw"
    strata-img check -r all --image-opts "$(logged_image)" >"$W/repair.out" 2>&1
    contains -x "Rebuilding refcount structure" "$W/repair.out" ||
        fail "$WORKLOAD: check -r all did not rebuild: $(cat "$W/repair.out")"
    strata-img check -f qcow2 "$IMG" >/dev/null && qemu-img check -f qcow2 "$IMG" >/dev/null ||
        fail "$WORKLOAD: the image is not clean after the repair"
    for_each_state check_allowed
}

# wl_qcow_commit: commit a qcow overlay into its qcow backing file, then
# the overlay is emptied.  qcow orders nothing, so the states keep the
# writes in the order they were issued (NO_DROP).  The overlay's view
# through the chain never changes; the backing file holds each cluster old
# or new.
wl_qcow_commit() {
    local opts
    start_workload qcow-commit
    FMT=qcow
    strata-img create -q -f qcow "$IMG2" 2M
    fill_image "$IMG2" 0x41 0x42 0x43 0x44
    (cd "$W/run" && strata-img create -q -f qcow -b s2.img -F qcow s.img)
    strata-io -c 'write -q -P 0x51 60k 8k' -c 'write -q -P 0x53 1M 64k' \
        -c 'write -q -P 0x54 1900k 20k' -f qcow "$IMG" >/dev/null ||
        fail "$WORKLOAD: writing the overlay"
    cp "$IMG" "$W/base.img"
    cp "$IMG2" "$W/base2.img"
    dump "$IMG" "$W/allowed.before.raw"
    dump "$IMG2" "$W/backing.old.raw"
    opts="driver=qcow,file.driver=logwrites,file.log=$W/log,file.file.filename=$IMG"
    opts="$opts,backing.driver=qcow,backing.file.driver=logwrites,backing.file.log=$W/log"
    opts="$opts,backing.file.stream=2,backing.file.file.filename=$IMG2"
    strata-img commit -q --image-opts "$opts" || fail "$WORKLOAD: commit failed"
    dump "$IMG2" "$W/backing.new.raw"
    ! cmp -s "$W/backing.old.raw" "$W/backing.new.raw" ||
        fail "$WORKLOAD: the commit left the backing file as it was"
    [ "$(qemu-img map --output=json -f qcow "$IMG" | grep -c '"depth": 0')" = 0 ] ||
        fail "$WORKLOAD: the overlay still holds clusters after the commit"
    NO_DROP=1 for_each_state check_qcow_commit -s 0 -s 2
    FMT=qcow2
}
check_qcow_commit() {
    dump "$W/s.img" "$W/g.raw"
    cmp -s "$W/g.raw" "$W/allowed.before.raw" ||
        fail "$STATE: the overlay's view changed"
    qemu-img convert -f qcow -O raw "$W/s.img" "$W/q.raw" ||
        fail "$STATE: qemu-img cannot read the overlay"
    cmp -s "$W/g.raw" "$W/q.raw" || fail "$STATE: qemu-img reads other data than strata"
    dump "$W/s2.img" "$W/b.raw"
    clusters_old_or_new "$W/b.raw" 4096 ||
        fail "$STATE: a cluster of the backing file is neither its old nor its new content"
}

ALL_WORKLOADS=(qcow2-alloc luks1-keys luks2-keys compressed discard-zero zero-reuse encrypted
               snapshot resize qcow amend rebase commit qcow-commit repair luks-restore
               luks-format)
# make check's part: the main paths, in about half a minute.
QUICK_WORKLOADS=(qcow2-alloc luks1-replace luks2-replace discard-zero compressed snapshot-create
                 snapshot-apply commit repair luks1-restore)
run_workload() {
    case $1 in
    qcow2-alloc) wl_qcow2_alloc off; wl_qcow2_alloc on ;;
    luks1-keys | luks2-keys)
        for op in add replace remove overwrite; do wl_luks_keys "${1:4:1}" "$op"; done ;;
    luks1-replace) wl_luks_keys 1 replace ;;
    luks2-replace) wl_luks_keys 2 replace ;;
    luks-restore) wl_luks_restore 1; wl_luks_restore 2 ;;
    luks1-restore) wl_luks_restore 1 ;;
    luks-format) wl_luks_format 1 1; wl_luks_format 1 2; wl_luks_format 2 2; wl_luks_format 2 1 ;;
    compressed) wl_compressed ;;
    discard-zero) wl_discard_zero ;;
    zero-reuse) wl_zero_reuse ;;
    encrypted) wl_encrypted ;;
    snapshot) for op in create apply delete; do wl_snapshot "$op"; done ;;
    snapshot-create) wl_snapshot create ;;
    snapshot-apply) wl_snapshot apply ;;
    resize) wl_resize 8M; wl_resize 512K --shrink ;;
    qcow) wl_qcow ;;
    amend)
        for o in lazy_refcounts=on compat=0.10 refcount_bits=4 size=8M; do wl_amend "$o"; done ;;
    rebase) wl_rebase ;;
    commit) wl_commit ;;
    qcow-commit) wl_qcow_commit ;;
    repair) wl_repair ;;
    *) fail "unknown workload '$1' (known: ${ALL_WORKLOADS[*]})" ;;
    esac
}

if [ $# -eq 0 ] && [ -n "$QUICK" ]; then
    set -- "${QUICK_WORKLOADS[@]}"
fi
for w in "${@:-${ALL_WORKLOADS[@]}}"; do
    run_workload "$w"
done
echo "$STATES_TOTAL crash states checked ($REPAIRED repaired by check -r all)"
