# SPDX-License-Identifier: LGPL-2.1-or-later
# qcow2 requests from many threads at once through the tools: strata-img
# bench at queue depth 32 allocates clusters (4 KiB writes, two to a 64 KiB
# cluster, so pairs race for the same new cluster), with O_DIRECT and
# through the page cache, over a backing file, LUKS encrypted; each image is
# then read back by bench with pattern verification and by qemu-io, and
# `qemu-img check` finds nothing.  A convert of the result checks the
# threaded reader of convert too.  make check-tsan runs it under
# ThreadSanitizer.
. "$(dirname "$0")/lib/common.sh"
cd "$T"

need qemu-img qemu-io
IMG=$STRATA_BUILD/bin/strata-img

qcheck() { # qemu-img check ARGS...: nothing at all found
    local out
    out=$(qemu-img check "$@" 2>&1) || fail "qemu-img check $*: $out"
    contains 'No errors were found' <<<"$out" || fail "qemu-img check $*: $out"
}

printf 'par-pass' >pw
sec="secret,id=s0,file=$T/pw"
qemu-img create -q -f raw base.raw 40M
qemu-io -f raw -c 'write -P 0x33 0 40M' base.raw >/dev/null
qemu-img create -q -f qcow2 plain.qcow2 40M
qemu-img create -q -f qcow2 -o extended_l2=on,cluster_size=32k ext.qcow2 40M
qemu-img create -q -f qcow2 -b base.raw -F raw over.qcow2 40M
qemu_img_retry create -q --object "$sec" -f qcow2 \
    -o encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10 luks.qcow2 40M ||
    fail "qemu-img could not create luks.qcow2"

for img in plain ext over luks; do
    o=(-f qcow2)
    qo=(-f qcow2)
    target=$img.qcow2
    if [ $img = luks ]; then
        o=(--object "$sec" --image-opts)
        qo=("${o[@]}")
        target="driver=qcow2,encrypt.key-secret=s0,file.filename=$T/luks.qcow2"
    fi
    for cache in none writeback; do
        # 512 writes of 4 KiB, stride 32 KiB + 4 KiB: two neighbours often
        # share a new cluster and run at the same time.
        off=$([ $cache = none ] && echo 0 || echo 20M)
        "$IMG" bench "${o[@]}" -t $cache -w -d 32 -c 512 -s 4k -S 36k \
            -o $off --pattern=0x5a -q "$target" || fail "$img, -t $cache: bench -w"
        out=$("$IMG" bench "${o[@]}" -t $cache -d 32 -c 512 -s 4k -S 36k \
            -o $off --pattern=0x5a "$target" 2>&1) || fail "$img, -t $cache: bench read: $out"
        if contains 'Pattern verification failed' <<<"$out"; then
            fail "$img, -t $cache: bench read back the wrong data"
        fi
    done
    # Between the written blocks: zeros, or the backing file's 0x33.
    between=$([ $img = over ] && echo 0x33 || echo 0)
    out=$(qemu-io "${qo[@]}" -c 'read -P 0x5a 0 4k' -c 'read -P 0x5a 36k 4k' \
        -c "read -P $between 4k 32k" -c 'read -P 0x5a 18396k 4k' -c 'read -P 0x5a 20M 4k' \
        "$target" 2>&1)
    if contains -i -e 'Pattern verification failed' -e 'error' <<<"$out"; then
        fail "$img: qemu-io reads: $out"
    fi
    if [ $img = luks ]; then
        qcheck --object "$sec" --image-opts "$target"
    else
        qcheck "$target"
    fi
    "$IMG" convert "${o[@]}" -O raw "$target" s.raw || fail "$img: strata convert"
    qemu-img convert "${qo[@]}" -O raw "$target" q.raw || fail "$img: qemu convert"
    cmp -s s.raw q.raw || fail "$img: strata and qemu-img convert differ"
    rm -f s.raw q.raw
done
echo "qcow2-parallel: OK"
