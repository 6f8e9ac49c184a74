# SPDX-License-Identifier: LGPL-2.1-or-later
# convert -l and measure -l read an internal snapshot of a qcow2 source
# (by id, by name, as snapshot.id=/snapshot.name=, both), leaving the
# source untouched: the same target (content, map, size) and the same
# measure as qemu-img; a missing snapshot, a bad list and several sources
# fail with qemu-img's messages and status.
. "$(dirname "$0")/lib/common.sh"
need qemu-img qemu-io
IMG=$STRATA_BUILD/bin/strata-img
cd "$T"

qemu-img create -q -f qcow2 sn.qcow2 64M
qemu-io -f qcow2 -c 'write -P 0xa 0x1000 0x1000' -c 'write -P 0xb 0x2000 0x1000' \
    sn.qcow2 >/dev/null
qemu-img snapshot -c sn1 sn.qcow2
qemu-io -f qcow2 -c 'write -P 0xc 0x1000 0x1000' -c 'write -P 0xd 40M 64k' sn.qcow2 >/dev/null
qemu-img snapshot -c sn2 sn.qcow2
qemu-io -f qcow2 -c 'write -P 0xe 0 64k' sn.qcow2 >/dev/null
qemu-img resize -q sn.qcow2 128M
cp sn.qcow2 before.qcow2

map_of() {
    qemu-img map --output=json "$1" | sed 's/, "offset": [0-9]*//'
}
for l in sn1 1 snapshot.name=sn1 snapshot.id=1 snapshot.id=2,snapshot.name=sn2 sn2; do
    rm -f q.qcow2 s.qcow2
    qemu-img convert -l $l -O qcow2 sn.qcow2 q.qcow2 || fail "qemu-img convert -l $l"
    "$IMG" convert -l $l -O qcow2 sn.qcow2 s.qcow2 || fail "convert -l $l failed"
    qemu-img compare -q -s q.qcow2 s.qcow2 || fail "convert -l $l: target differs from qemu-img's"
    [ "$(map_of s.qcow2)" = "$(map_of q.qcow2)" ] || fail "convert -l $l: map differs"
    if [ $l = sn1 ]; then
        qemu-io -f qcow2 -c 'read -P 0xa 0x1000 0x1000' -c 'read -P 0 40M 64k' s.qcow2 \
            >/dev/null || fail "convert -l sn1 does not hold sn1's data"
    fi
    for o in human json; do
        qemu-img measure --output=$o -l $l -O qcow2 sn.qcow2 >q.txt
        "$IMG" measure --output=$o -l $l -O qcow2 sn.qcow2 >s.txt || fail "measure -l $l failed"
        diff q.txt s.txt >/dev/null || fail "measure -l $l: $(cat s.txt); qemu-img: $(cat q.txt)"
    done
done
cmp -s before.qcow2 sn.qcow2 || fail "reading snapshots changed the source"

for args in "-l nosuch sn.qcow2" "-l snapshot.id=1,snapshot.name=sn2 sn.qcow2" \
            "-l snapshot.foo=1 sn.qcow2" "-l sn1 sn.qcow2 sn.qcow2"; do
    rm -f out.qcow2
    qrc=0; rc=0
    # shellcheck disable=SC2086
    qemu-img convert -O qcow2 $args out.qcow2 2>qerr.txt || qrc=$?
    rm -f out.qcow2
    # shellcheck disable=SC2086
    "$IMG" convert -O qcow2 $args out.qcow2 2>err.txt || rc=$?
    [ $rc = $qrc ] && [ $rc != 0 ] || fail "convert $args exits $rc, qemu-img $qrc"
    [ "$(sed 's/^strata-img: //' err.txt)" = "$(sed 's/^qemu-img: //' qerr.txt)" ] ||
        fail "convert $args says: $(cat err.txt); qemu-img: $(cat qerr.txt)"
done
exit 0
