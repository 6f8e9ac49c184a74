#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# strata-img measure -O qcow2 gives qemu-img's figures, for a size and for a
# source image, across cluster sizes, refcount widths, extended L2 and
# preallocation modes, with and without LUKS encryption, with a backing
# file; and the refusal of a size whose L1 table would be too large.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
cd "$T"

qemu-img create -q -f raw src.raw 256M
qemu-io -f raw -c 'write -P 3 100M 1M' -c 'write -P 4 200M 64k' src.raw >/dev/null

printf 'measure pass' > pass
same_as_qemu() {
    local q s
    q=$(qemu_img_retry measure --object secret,id=s,file=pass -O qcow2 "$@" 2>&1) ||
        fail "qemu-img measure $*: $q"
    [ -n "$q" ] && [[ $q != *rror* ]] && [[ $q != *qemu-img:* ]] || fail "qemu-img measure $*: $q"
    s=$(strata-img measure --object secret,id=s,file=pass -O qcow2 "$@" 2>&1) ||
        fail "strata-img measure $*: $s"
    [ "$q" = "$s" ] || fail "measure $*: strata says
$s
qemu-img says
$q"
}
same_as_qemu --size 1G
same_as_qemu --size 100G
same_as_qemu --size 1G -o cluster_size=4k
same_as_qemu --size 10G -o cluster_size=512,refcount_bits=64
same_as_qemu --size 1G -o extended_l2=on
same_as_qemu --size 3G -o preallocation=metadata
same_as_qemu --size 3G -o preallocation=falloc
same_as_qemu src.raw
same_as_qemu -o cluster_size=2M src.raw
same_as_qemu -o preallocation=metadata src.raw
same_as_qemu -o preallocation=full src.raw
# LUKS encryption adds its header clusters.
same_as_qemu --size 1G -o encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=100
same_as_qemu -o encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=100 src.raw
same_as_qemu -o encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=100,cluster_size=4k src.raw
same_as_qemu -o encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=100,encrypt.cipher-alg=aes-128,cluster_size=2M src.raw
# A target with a backing file may share nothing with it: all of it counts.
same_as_qemu -o backing_file=x src.raw
same_as_qemu --size 2P
# An L1 table past qemu's 32 MiB limit: both refuse, in qemu-img's words.
q=$(qemu-img measure -O qcow2 --size 7E 2>&1) && fail "qemu-img measured 7E: $q"
s=$(strata-img measure -O qcow2 --size 7E 2>&1) && fail "strata-img measured 7E: $s"
[ "${s#strata-img: }" = "${q#qemu-img: }" ] || fail "measure 7E says: $s; qemu-img: $q"
echo "qcow2 measure: ok"
