# SPDX-License-Identifier: LGPL-2.1-or-later
# Growing a qcow2 overlay whose backing file is longer than the overlay:
# the grown area must read as zeros, not as the backing file's data there
# (QEMU zeroes it the same way).  Version 3 and version 2 images, old sizes
# on and off cluster boundaries, new sizes inside and past the backing file.
#
# Two references, both independent of strata: qemu-io reads of strata's
# image with the expected patterns, and `qemu-img resize` of a copy compared
# with `qemu-img compare`.  qemu 7.2 refuses this resize on version 2 images
# ("Failed to zero out new clusters"), so there the copy is first amended to
# version 3 by qemu-img; the contents must come out the same.  Also: data
# in the old last cluster survives preallocation of the grown area.
. "$(dirname "$0")/lib/common.sh"
cd "$T"

need qemu-img qemu-io

qcheck() { # image what: qemu-img check finds nothing at all
    local out
    out=$(qemu-img check "$1" 2>&1) || fail "$2: qemu-img check failed: $out"
    grep -q 'No errors were found' <<<"$out" || fail "$2: qemu-img check: $out"
}
qread() { # image what qemu-io-read-args...: the range reads as the pattern
    local img=$1 what=$2 out; shift 2
    out=$(qemu-io -f qcow2 -c "read $*" "$img" 2>&1) || fail "$what: qemu-io read $*: $out"
    case "$out" in *"verification failed"*) fail "$what: read $*: $out" ;; esac
}
vsize() { qemu-img info --output=json "$1" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p'; }

M=1048576
qemu-img create -q -f raw base.raw 8M
qemu-io -f raw -c 'write -P 0x77 0 8M' base.raw >/dev/null

for o in compat=1.1 compat=0.10 compat=1.1,cluster_size=4096 compat=0.10,cluster_size=512 \
         extended_l2=on; do
    # Old sizes: cluster aligned, 1000 bytes into a cluster (rounded to 512),
    # one sector past a cluster boundary.
    for old in $((4 * M)) $((4 * M + 1024)) $((3 * M + 512)); do
        for new in $((6 * M)) $((12 * M)); do
            what="$o: $old -> $new"
            qemu-img create -q -f qcow2 -o "$o" -b base.raw -F raw s.qcow2 "$old"
            # Data of the overlay's own in the old last cluster stays.
            qemu-io -f qcow2 -c "write -P 0x12 $((old - 512)) 512" s.qcow2 >/dev/null
            cp s.qcow2 q.qcow2
            case "$o" in
            compat=0.10*) qemu-img amend -q -f qcow2 -o compat=1.1 q.qcow2 ;;
            esac
            strata-img resize -q s.qcow2 "$new" || fail "$what: strata-img resize"
            qemu-img resize -q q.qcow2 "$new" || fail "$what: qemu-img resize"

            qcheck s.qcow2 "$what"
            [ "$(vsize s.qcow2)" = "$new" ] || fail "$what: virtual size $(vsize s.qcow2)"
            case "$o" in
            compat=0.10*) qemu-img info s.qcow2 | contains 'compat: 0.10' ||
                              fail "$what: no longer a version 2 image" ;;
            esac
            qread s.qcow2 "$what" -P 0x77 0 $((old - 512))
            qread s.qcow2 "$what" -P 0x12 $((old - 512)) 512
            qread s.qcow2 "$what" -P 0 "$old" $((new - old))
            out=$(qemu-img compare q.qcow2 s.qcow2 2>&1) ||
                fail "$what: differs from qemu-img resize: $out"
        done
    done
done

# A backing file shorter than the new size but longer than the old one, not
# a multiple of the cluster size: zeros up to its end, and past it.
qemu-img create -q -f raw short.raw $((5 * M + 3584))
qemu-io -f raw -c "write -P 0x78 0 $((5 * M + 3584))" short.raw >/dev/null
for o in compat=1.1 compat=0.10; do
    qemu-img create -q -f qcow2 -o "$o" -b short.raw -F raw s.qcow2 $((4 * M + 1024))
    strata-img resize -q s.qcow2 7M || fail "$o short backing: strata-img resize"
    qcheck s.qcow2 "$o short backing"
    qread s.qcow2 "$o short backing" -P 0x78 0 $((4 * M + 1024))
    qread s.qcow2 "$o short backing" -P 0 $((4 * M + 1024)) $((3 * M - 1024))
done

# Preallocation of the grown area leaves the data in the old last cluster
# alone (falloc and full once overwrote the whole cluster with zeros).
for pa in metadata falloc full; do
    for b in "" "-b base.raw -F raw"; do
        what="preallocation=$pa${b:+ over base.raw}"
        qemu-img create -q -f qcow2 $b s.qcow2 $((4 * M + 1024))
        qemu-io -f qcow2 -c "write -P 0x13 $((4 * M - 512)) 1536" s.qcow2 >/dev/null
        cp s.qcow2 q.qcow2
        strata-img resize -q --preallocation=$pa s.qcow2 12M || fail "$what: strata-img resize"
        qemu-img resize -q --preallocation=$pa q.qcow2 12M || fail "$what: qemu-img resize"
        qcheck s.qcow2 "$what"
        qread s.qcow2 "$what" -P 0x13 $((4 * M - 512)) 1536
        qread s.qcow2 "$what" -P 0 $((4 * M + 1024)) $((8 * M - 1024))
        out=$(qemu-img compare q.qcow2 s.qcow2 2>&1) ||
            fail "$what: differs from qemu-img resize: $out"
    done
done

# No backing file: the grown area was zeros already and stays unallocated.
qemu-img create -q -f qcow2 s.qcow2 4M
strata-img resize -q s.qcow2 8M || fail "no backing: strata-img resize"
qcheck s.qcow2 "no backing"
qemu-img map --output=json s.qcow2 | contains '"data": true' &&
    fail "no backing: the grown area was allocated"
exit 0
