# SPDX-License-Identifier: LGPL-2.1-or-later
# strata-img convert -B BACKING [-F FMT] (and -o backing_file=): the target
# gets the backing file, only what the source's top layer holds is written
# (data and zero clusters; ranges left to the source's backing file stay
# unallocated), plain and compressed, as qemu-img makes it (same map, same
# content); -n -B leaves those ranges of an existing target alone; the
# refusals (no backing format, several sources, -o with -n) have qemu-img's
# message and status and create nothing.
. "$(dirname "$0")/lib/common.sh"
need qemu-img qemu-io
IMG=$STRATA_BUILD/bin/strata-img
cd "$T"

qemu-img create -q -f qcow2 base.qcow2 4M
qemu-io -f qcow2 -c 'write -P 0x11 0 4M' base.qcow2 >/dev/null
# The overlay is larger than its backing file: past 4M nothing is below.
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2 6M
qemu-io -f qcow2 -c 'write -P 0x22 1M 64k' -c 'write -z 2M 128k' \
    -c 'write -P 0x33 5M 64k' top.qcow2 >/dev/null

map_of() {
    qemu-img map --output=json "$1" | sed 's/, "offset": [0-9]*//'
}
backing_of() {
    qemu-img info --output=json "$1" >info.json || fail "qemu-img info $1"
    echo "$(json_field info.json backing-filename) $(json_field info.json backing-filename-format)"
}

for args in "-B base.qcow2 -F qcow2" "-c -B base.qcow2 -F qcow2" \
            "-B base.qcow2 -o backing_fmt=qcow2" "-o backing_file=base.qcow2,backing_fmt=qcow2"; do
    rm -f q.qcow2 s.qcow2
    # shellcheck disable=SC2086
    qemu-img convert -O qcow2 $args top.qcow2 q.qcow2 || fail "qemu-img convert $args"
    # shellcheck disable=SC2086
    "$IMG" convert -O qcow2 $args top.qcow2 s.qcow2 || fail "convert $args failed"
    [ "$(backing_of s.qcow2)" = "base.qcow2 qcow2" ] ||
        fail "convert $args: backing is $(backing_of s.qcow2)"
    [ "$(map_of s.qcow2)" = "$(map_of q.qcow2)" ] ||
        fail "convert $args: map differs from qemu-img's: $(map_of s.qcow2)"
    qemu-img compare -q top.qcow2 s.qcow2 || fail "convert $args: content differs"
    qemu-img check -q s.qcow2 || fail "convert $args: target fails qemu-img check"
done

# A source without a backing file: its unallocated ranges read as zeros and
# are written as such where the target's backing file has data.
qemu-img create -q -f qcow2 flat.qcow2 4M
qemu-io -f qcow2 -c 'write -P 0x44 64k 64k' flat.qcow2 >/dev/null
rm -f q.qcow2 s.qcow2
qemu-img convert -O qcow2 -B base.qcow2 -F qcow2 flat.qcow2 q.qcow2
"$IMG" convert -O qcow2 -B base.qcow2 -F qcow2 flat.qcow2 s.qcow2 || fail "convert flat -B"
[ "$(map_of s.qcow2)" = "$(map_of q.qcow2)" ] || fail "convert flat -B: map $(map_of s.qcow2)"
qemu-img compare -q flat.qcow2 s.qcow2 || fail "convert flat -B: content differs"

# -n -B: the existing target's backing file shows where the source has
# nothing of its own; the target's other clusters stay as they were.
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 q.qcow2 6M
qemu-io -f qcow2 -c 'write -P 0x55 3M 64k' q.qcow2 >/dev/null
cp q.qcow2 s.qcow2
qemu-img convert -n -O qcow2 -B base.qcow2 top.qcow2 q.qcow2 || fail "qemu-img convert -n -B"
"$IMG" convert -n -O qcow2 -B base.qcow2 top.qcow2 s.qcow2 || fail "convert -n -B failed"
qemu-img compare -q q.qcow2 s.qcow2 || fail "convert -n -B: content differs from qemu-img's"
qemu-io -f qcow2 -c 'read -P 0x55 3M 64k' s.qcow2 >/dev/null ||
    fail "convert -n -B overwrote a range the source leaves to its backing file"

# Refusals: the same message and status as qemu-img, and no target.
qemu-img create -q -f qcow2 two.qcow2 1M
for args in "-B base.qcow2 top.qcow2" "-B base.qcow2 -F qcow2 top.qcow2 two.qcow2" \
            "-o backing_file=base.qcow2 top.qcow2" "-n -o cluster_size=4k top.qcow2"; do
    rm -f out.qcow2
    qrc=0
    # shellcheck disable=SC2086
    qemu-img convert -O qcow2 $args out.qcow2 2>qerr.txt || qrc=$?
    [ ! -e out.qcow2 ] || fail "qemu-img convert $args made a target: the reference changed"
    rc=0
    # shellcheck disable=SC2086
    "$IMG" convert -O qcow2 $args out.qcow2 2>err.txt || rc=$?
    [ $rc = $qrc ] || fail "convert $args exits $rc, qemu-img $qrc"
    [ "$(sed 's/^strata-img: //' err.txt)" = "$(sed 's/^qemu-img: //' qerr.txt)" ] ||
        fail "convert $args says: $(cat err.txt); qemu-img: $(cat qerr.txt)"
    [ ! -e out.qcow2 ] || fail "refused convert $args made a target"
done
exit 0
