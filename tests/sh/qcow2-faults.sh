# SPDX-License-Identifier: LGPL-2.1-or-later
# qcow2 fault matrix: for each metadata event, blkdebug fails one request
# (EIO) in the middle of a write workload.  Afterwards the image must open,
# `strata-img check -r all` must leave it clean (qemu-img check agrees), and
# the data written and flushed before the fault must read back intact.
. "$(dirname "$0")/lib/common.sh"
cd "$T"

need qemu-img qemu-io

# Flushed before the fault: three regions, checked at the end with qemu-io.
BEFORE=(-c 'write -P 0x21 0 100k' -c 'write -P 0x22 1M 5000' -c 'write -P 0x23 3M 64k'
        -c 'flush')
VERIFY=(-c 'read -P 0x21 0 100k' -c 'read -P 0x22 1M 5000' -c 'read -P 0x23 3M 64k')
# The workload the fault hits: allocations, partial clusters (COW), zeroes,
# discards, a new L2 table far away, and flushes.
WORK=(-c 'write -P 0x31 200k 3000' -c 'write -P 0x32 2M 70000' -c 'flush'
      -c 'write -P 0x33 5M 12k' -c 'write -z 2100k 8k' -c 'write -P 0x34 7M 1000'
      -c 'discard 5M 4k' -c 'write -P 0x35 6M 40k' -c 'flush'
      -c 'write -P 0x36 300k 64k' -c 'flush')

n=0
for cfg in "cluster_size=4096" "cluster_size=512,refcount_bits=64" \
           "cluster_size=65536,lazy_refcounts=on"; do
    for ev in l1_update l2_alloc_write l2_update refblock_alloc refblock_update \
              cluster_alloc cow_read cow_write flush_to_disk; do
        for skip in 0 2; do
            n=$((n + 1))
            img=f$n.qcow2
            strata-img create -q -f qcow2 -o "$cfg" $img 8M || fail "create $cfg"
            strata-io -f qcow2 "${BEFORE[@]}" $img >/dev/null || fail "$cfg: writing before"
            opts="driver=qcow2,file.driver=blkdebug,file.inject-error.event=$ev"
            opts+=",file.inject-error.once=on,file.inject-error.skip=$skip"
            opts+=",file.image.driver=file,file.image.filename=$img"
            # Failure is the point; what matters is the state left behind.
            strata-io --image-opts "${WORK[@]}" "$opts" >/dev/null 2>&1 || true
            what="$cfg, EIO at $ev (skip $skip)"
            strata-img check -r all $img >check.out 2>&1
            rc=$?
            [ $rc -eq 0 ] || fail "$what: check -r all exited $rc: $(cat check.out)"
            strata-img check $img >check.out 2>&1 ||
                fail "$what: not clean after repair: $(cat check.out)"
            out=$(qemu-img check $img 2>&1) ||
                fail "$what: qemu-img check after repair: $out"
            qemu-io -f qcow2 -r "${VERIFY[@]}" $img >verify.out 2>&1 ||
                fail "$what: flushed data lost"
            grep -q 'Pattern verification failed' verify.out &&
                fail "$what: flushed data changed: $(grep -m1 -B1 failed verify.out)"
        done
    done
done
echo "qcow2 faults: $n cases ok"
