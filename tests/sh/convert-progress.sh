# SPDX-License-Identifier: LGPL-2.1-or-later
# strata-img convert -p prints the steps qemu-img prints: the share of what
# is copied as data (zeros too with -S 0), a step when it moved by more
# than a point, 0 and 100 each time they come.  Compared line for line
# with qemu-img over sparse, empty and full sources, raw and qcow2, and
# with a backing file for the target (-B).
. "$(dirname "$0")/lib/common.sh"
need qemu-img qemu-io
IMG=$STRATA_BUILD/bin/strata-img
cd "$T"

for fmt in raw qcow2; do
    qemu-img create -q -f $fmt sparse.$fmt 128M
    qemu-io -f $fmt -c 'write 0 1M' -c 'write 2M 1M' -c 'write 4M 1M' \
        -c 'write 32M 1M' sparse.$fmt >/dev/null
    qemu-img create -q -f $fmt empty.$fmt 16M
    qemu-img create -q -f $fmt full.$fmt 7M
    qemu-io -f $fmt -c 'write -P 1 0 7M' full.$fmt >/dev/null
done
qemu-img create -q -f qcow2 -b full.qcow2 -F qcow2 over.qcow2 7M
qemu-io -f qcow2 -c 'write -P 2 1M 1M' -c 'write -P 3 5M 64k' over.qcow2 >/dev/null

check() {
    local what=$1
    shift
    rm -f q.out s.out
    qemu-img convert -p "$@" q.out | tr '\r' '\n' >q.txt || fail "qemu-img convert -p $*"
    "$IMG" convert -p "$@" s.out | tr '\r' '\n' >s.txt || fail "convert -p $* failed"
    diff q.txt s.txt >/dev/null || fail "convert -p $what: $(tr '\n' ' ' <s.txt);" \
                                        "qemu-img: $(tr '\n' ' ' <q.txt)"
}
for fmt in raw qcow2; do
    for src in sparse empty full; do
        check "$src $fmt" -f $fmt -O $fmt $src.$fmt
        check "$src $fmt -S 0" -f $fmt -O $fmt -S 0 $src.$fmt
    done
done
check "overlay -B" -f qcow2 -O qcow2 -B full.qcow2 -F qcow2 over.qcow2
check "overlay" -f qcow2 -O raw over.qcow2
exit 0
