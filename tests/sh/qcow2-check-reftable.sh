# SPDX-License-Identifier: LGPL-2.1-or-later
# qcow2 refcount table entries that cannot be refcount blocks (past the end
# of the file, unaligned, on other metadata or on data): images written by
# qemu-io, then one or more table entries overwritten.  qemu-img check must
# see the damage too; `strata-img check` must name the entry and offset and
# leave the file alone; `check -r all` must repair it without writing at the
# bogus offset (the file grows by a few clusters at most), after which both
# checks are clean and the data reads back as qemu-img converted it before.
. "$(dirname "$0")/lib/common.sh"
cd "$T"

need qemu-img qemu-io


# make NAME CREATE-OPTS QEMU-IO-ARGS...: image and its raw contents.
make_image() {
    local name=$1 opts=$2
    shift 2
    qemu-img create -q -f qcow2 -o "$opts" "$name.qcow2" 16M || fail "$name: create"
    qemu-io -f qcow2 "$@" "$name.qcow2" >/dev/null || fail "$name: qemu-io write"
    qemu-img convert -f qcow2 -O raw "$name.qcow2" "$name.raw" || fail "$name: convert"
}

# case IMAGE LABEL ENTRY=OFFSET...: corrupts a copy of IMAGE and runs the checks.
n=0
run_case() {
    local base=$1 what=$2
    shift 2
    n=$((n + 1))
    local img=c$n.qcow2 csz rt
    cp "$base.qcow2" "$img"
    csz=$((1 << $(be32 "$img" 20)))
    rt=$(be64 "$img" 48)
    local spec idx off
    for spec in "$@"; do
        idx=${spec%%=*} off=${spec#*=}
        put_be "$img" $((rt + 8 * idx)) $((off)) 8
    done
    local size0 out rc
    size0=$(stat -c %s "$img")
    cp "$img" before.qcow2

    # The damage is real: qemu-img sees it.
    qemu-img check "$img" >qcheck.out 2>&1 &&
        fail "$what: qemu-img check finds nothing wrong with the damaged image"

    rc=0
    strata-img check "$img" >check.out 2>&1 || rc=$?
    [ $rc -eq 2 ] || fail "$what: check exited $rc, not 2: $(cat check.out)"
    for spec in "$@"; do
        idx=${spec%%=*} off=${spec#*=}
        grep -q "refcount block $idx at $(printf '0x%x' $((off)))" check.out ||
            fail "$what: check does not name entry $idx at $off: $(head -5 check.out)"
    done
    cmp -s "$img" before.qcow2 || fail "$what: read-only check changed the file"

    # Writing must refuse rather than trust a block that is not one (one read
    # as zeros would hand out the header as a free cluster).
    if [ "${WRITE_REFUSED:-}" = yes ]; then
        strata-io -f qcow2 -c 'write -P 0x77 3M 64k' "$img" >io.out 2>&1 &&
            fail "$what: a write through a misplaced refcount block succeeded"
        # As in QEMU, an unaligned block met while allocating is a
        # corruption event: the corrupt bit is set, and nothing else.
        if ! cmp -s "$img" before.qcow2; then
            { cmp -l "$img" before.qcow2 || true; } | awk '$1 < 73 || $1 > 80 { bad = 1 } END { exit bad }' ||
                fail "$what: the refused write changed the file"
            grep -q "Marking image as corrupt" io.out ||
                fail "$what: the corrupt bit was set without a message: $(cat io.out)"
            cp before.qcow2 "$img"
        fi
    fi

    rc=0
    strata-img check -r all "$img" >fix.out 2>&1 || rc=$?
    [ $rc -eq 0 ] || fail "$what: check -r all exited $rc: $(cat fix.out)"
    local size1 limit
    size1=$(stat -c %s "$img")
    # One new block per damaged entry, plus a table growth at most.
    limit=$((size0 + (2 * $# + 4) * csz))
    [ "$size1" -le "$limit" ] ||
        fail "$what: file grew from $size0 to $size1 bytes in the repair"
    strata-img check "$img" >check2.out 2>&1 ||
        fail "$what: second check not clean: $(cat check2.out)"
    qemu-img check "$img" >qcheck2.out 2>&1 ||
        fail "$what: qemu-img check after repair: $(cat qcheck2.out)"
    qemu-img convert -f qcow2 -O raw "$img" after.raw || fail "$what: convert after repair"
    cmp -s "$base.raw" after.raw || fail "$what: data changed by the repair"
    if [ -e "$base.s1.raw" ]; then
        qemu-img convert -f qcow2 -O raw -l snapshot.name=s1 "$img" after.raw ||
            fail "$what: convert snapshot s1 after repair"
        cmp -s "$base.s1.raw" after.raw || fail "$what: snapshot data changed by the repair"
    fi
    # The repaired image takes writes where the refcounts matter.
    qemu-io -f qcow2 -c 'write -P 0x66 5M 256k' "$img" >/dev/null ||
        fail "$what: qemu-io write after repair"
    qemu-img check "$img" >qcheck3.out 2>&1 ||
        fail "$what: qemu-img check after writing to the repaired image: $(cat qcheck3.out)"
    rm -f "$img" before.qcow2 after.raw
}

make_image d64k "cluster_size=65536" -c 'write -P 0x11 0 1M' -c 'write -P 0x12 9M 100k'
l1=$(be64 d64k.qcow2 40)
l2=$(( $(be64 d64k.qcow2 "$l1") & 0x00fffffffffffe00 ))
rtoff=$(be64 d64k.qcow2 48)

WRITE_REFUSED=yes run_case d64k "block 0 past the end" 0=0x10000000
run_case d64k "unused entry past the end" 1=0x10000000
WRITE_REFUSED=yes run_case d64k "block 0 unaligned" 0=0x20200
WRITE_REFUSED=yes run_case d64k "block 0 on the refcount table" 0=$rtoff
WRITE_REFUSED=yes run_case d64k "block 0 on the L1 table" 0=$l1
run_case d64k "block 0 on an L2 table" 0=$l2
run_case d64k "unused entry on block 0" 1=$(be64 d64k.qcow2 "$rtoff")
run_case d64k "offset beyond the offset field" 3=0x0100000000010000

# Small clusters and one-bit refcounts: data in several blocks' ranges, with
# a snapshot so that some clusters are shared.
make_image d512 "cluster_size=512,refcount_bits=1" -c 'write -P 0x21 0 3M' \
    -c 'write -P 0x22 10M 1M'
run_case d512 "several entries at once" 0=0x10000000 1=0x600 2=0x200 7=0x123400

make_image snap "cluster_size=4096" -c 'write -P 0x31 0 2M'
qemu-img snapshot -c s1 snap.qcow2 || fail "snapshot"
qemu-img convert -f qcow2 -O raw -l snapshot.name=s1 snap.qcow2 snap.s1.raw ||
    fail "convert snapshot s1"
qemu-io -f qcow2 -c 'write -P 0x32 1M 2M' snap.qcow2 >/dev/null || fail "write after snapshot"
qemu-img convert -f qcow2 -O raw snap.qcow2 snap.raw || fail "convert snap"
run_case snap "shared clusters, block 0 past the end" 0=0x7fff0000
echo "qcow2 refcount table checks: $n cases ok"
