# SPDX-License-Identifier: LGPL-2.1-or-later
# The qcow2 open options that tune QEMU's safety checks and caches, each
# shown to act, against qemu-io where it can be compared:
#   overlap-check   an L2 entry pointing into the L1 table makes a write
#                   there fail, the image marked corrupt, with QEMU's
#                   message, and the image file comes out byte for byte as
#                   qemu-io leaves it; with the check off (or that
#                   structure's switch off) the write goes through, as in
#                   qemu-io;
#   l2-cache-entry-size  writes through a tiny cache of 512-byte slices
#                   (snapshots and COW of L2 tables included) give the
#                   image qemu-io makes with the same writes;
#   cache-clean-interval  an L2 table is read again after the interval and
#                   only once without it (strace counts the reads);
#   bad values and combinations fail with qemu-io's words.
. "$(dirname "$0")/lib/common.sh"
cd "$T"

need qemu-img qemu-io strace

corrupt_bit() { qemu-img info --output=json "$1" | python3 -c \
    'import json,sys; print(json.load(sys.stdin)["format-specific"]["data"].get("corrupt"))'; }

# --- overlap-check
qemu-img create -q -f qcow2 base.qcow2 64M
qemu-io -c 'write -P 1 0 64k' base.qcow2 >/dev/null
l1=$(be64 base.qcow2 40)
l2=$(($(be64 base.qcow2 "$l1") & 0xfffffffffffe00))
# Guest cluster 0 now claims to live where the L1 table is.
put_be base.qcow2 "$l2" $((0x8000000000000000 | l1)) 8

try() { # name tool options: write through the bad entry, with options
    local name=$1 tool=$2 opts=$3
    cp base.qcow2 "$name.qcow2"
    $tool -c 'write -P 2 0 512' --image-opts "driver=qcow2,file.filename=$name.qcow2$opts" \
        >"$name.out" 2>"$name.err" && echo ok || echo failed
}
for opts in "" ",overlap-check=constant" ",overlap-check.template=all" \
            ",overlap-check=none,overlap-check.active-l1=on"; do
    s=$(try s strata-io "$opts") q=$(try q qemu-io "$opts")
    [ "$s" = failed ] && [ "$q" = failed ] || fail "overlap$opts: strata $s, qemu-io $q"
    msg="qcow2: Marking image as corrupt: Preventing invalid write on metadata (overlaps with active L1 table); further corruption events will be suppressed"
    contains -Fx "$msg" s.err || fail "overlap$opts: strata said: $(cat s.err)"
    contains -Fx "$msg" q.err || fail "overlap$opts: qemu-io said: $(cat q.err)"
    [ "$(corrupt_bit s.qcow2)" = True ] || fail "overlap$opts: not marked corrupt"
    cmp -s s.qcow2 q.qcow2 || fail "overlap$opts: the image differs from qemu-io's"
    # A corrupt image is not written to again.
    strata-io -c 'write -P 3 1M 512' s.qcow2 >/dev/null 2>&1 && fail "overlap$opts: wrote to a corrupt image"
    cmp -s s.qcow2 q.qcow2 || fail "overlap$opts: a corrupt image was written"
done
for opts in ",overlap-check=none" ",overlap-check.active-l1=off" \
            ",overlap-check=all,overlap-check.active-l1=off"; do
    s=$(try s strata-io "$opts") q=$(try q qemu-io "$opts")
    [ "$s" = ok ] && [ "$q" = ok ] || fail "overlap$opts: strata $s, qemu-io $q"
    [ "$(corrupt_bit s.qcow2)" = False ] || fail "overlap$opts: marked corrupt"
    contains "Marking" s.err && fail "overlap$opts: $(cat s.err)"
    cmp -s s.qcow2 q.qcow2 || fail "overlap$opts: the image differs from qemu-io's"
done

# A refcount block the refcount table gives unaligned is a corruption event
# when an allocation meets it (QEMU's iotest 305 in small).
qemu-img create -q -f qcow2 -o refcount_bits=64,cluster_size=1k rb.qcow2 1M
qemu-io -c 'write 0 124k' -c 'discard 123k 1k' rb.qcow2 >/dev/null
rt=$(be64 rb.qcow2 48)
put_be rb.qcow2 $((rt + 8)) $(($(be64 rb.qcow2 $((rt + 8))) + 0x200)) 8
cp rb.qcow2 rbq.qcow2
strata-io -c 'write 123k 1k' rb.qcow2 >/dev/null 2>rb.err && fail "unaligned refblock: written"
qemu-io -c 'write 123k 1k' rbq.qcow2 >/dev/null 2>rbq.err || true
contains -F "qcow2: Marking image as corrupt: Refblock offset" rb.err || fail "refblock: $(cat rb.err)"
diff <(grep Marking rb.err) <(grep Marking rbq.err) >/dev/null || fail "refblock: $(cat rb.err) vs $(cat rbq.err)"
[ "$(corrupt_bit rb.qcow2)" = True ] || fail "unaligned refblock: not marked corrupt"

# --- l2-cache-entry-size
writes=(-c 'write -P 5 0 64k' -c 'write -P 6 1000k 8k' -c 'write -P 7 33M 4k'
        -c 'write -z 40M 128k' -c 'write -P 8 63M 64k')
for o in cluster_size=64k cluster_size=4k extended_l2=on,cluster_size=16k; do
    for es in 512 4k; do
        qemu-img create -q -f qcow2 -o "$o" s.qcow2 64M
        cp s.qcow2 q.qcow2
        cs=${o##*cluster_size=}
        strata-io "${writes[@]}" --image-opts \
            "driver=qcow2,l2-cache-entry-size=$es,l2-cache-size=2k,file.filename=s.qcow2" \
            >/dev/null || fail "$o $es: writes failed"
        strata-img snapshot -c snap s.qcow2
        # Copy-on-write of the L2 tables the snapshot shares.
        strata-io -c 'write -P 9 4k 4k' -c 'write -P 10 33M 4k' --image-opts \
            "driver=qcow2,l2-cache-entry-size=$es,l2-cache-size=2k,file.filename=s.qcow2" \
            >/dev/null || fail "$o $es: COW writes failed"
        qemu-io "${writes[@]}" -c 'write -P 9 4k 4k' -c 'write -P 10 33M 4k' q.qcow2 >/dev/null
        out=$(qemu-img check s.qcow2 2>&1) || fail "$o $es: check: $out"
        qemu-img compare -q s.qcow2 q.qcow2 || fail "$o $es: contents differ from qemu-io's"
        out=$(strata-io -c 'read -P 9 4k 4k' -c 'read -P 10 33M 4k' -c 'read -P 8 63M 64k' \
            --image-opts "driver=qcow2,l2-cache-entry-size=$es,file.filename=s.qcow2" 2>&1)
        contains "verification failed" <<<"$out" && fail "$o $es: reads: $out"
        strata-img snapshot -a snap s.qcow2
        qemu-io -c 'read -P 5 0 64k' -c 'read -P 7 33M 4k' s.qcow2 | contains "verification" &&
            fail "$o $es: the snapshot's data changed"
    done
done

# --- cache-clean-interval: strace counts the reads of the one L2 table.
# (LeakSanitizer cannot run under ptrace: leak checks are off there.)
traced() { ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" strace "$@"; }
qemu-img create -q -f qcow2 c.qcow2 64M
qemu-io -c 'write 0 64k' c.qcow2 >/dev/null
l2=$(($(be64 c.qcow2 "$(be64 c.qcow2 40)") & 0xfffffffffffe00))
for iv in 1 0; do
    traced -f -e trace=pread64 -o "st.$iv" strata-io -c 'read 0 512' -c 'sleep 2200' \
        -c 'read 0 512' --image-opts "driver=qcow2,cache-clean-interval=$iv,file.filename=c.qcow2" \
        >/dev/null || fail "cache-clean-interval=$iv: reads failed"
    n=$(grep -c "65536, $l2)" "st.$iv" || true)
    want=$([ "$iv" = 1 ] && echo 2 || echo 1)
    [ "$n" = "$want" ] || fail "cache-clean-interval=$iv: the L2 table was read $n times, not $want"
done
# l2-cache-entry-size=512 reads the 512 bytes of the table that map the
# request, not the whole table.
traced -f -e trace=pread64 -o st.es strata-io -c 'read 40k 512' --image-opts \
    "driver=qcow2,l2-cache-entry-size=512,file.filename=c.qcow2" >/dev/null
contains ", 512, $l2)" st.es || fail "l2-cache-entry-size=512: no slice read: $(cat st.es)"
contains ", 65536, $l2)" st.es && fail "l2-cache-entry-size=512: the whole table was read"
# A dirty table is written back before it is dropped: the write is in the
# file while the image is still open.
strata-io -c 'write -P 4 64k 512' -c 'sleep 2200' -c 'abort' --image-opts \
    "driver=qcow2,cache-clean-interval=1,file.filename=c.qcow2" >/dev/null 2>&1 || true
qemu-io -c 'read -P 4 64k 512' c.qcow2 | contains "verification" &&
    fail "cache-clean-interval: the dirty L2 table was not written back"

# --- pass-discard-snapshot=on: deleting a snapshot gives its clusters back
for on in off on; do
    qemu-img create -q -f qcow2 sn.qcow2 16M
    qemu-io -c 'write -P 7 0 8M' sn.qcow2 >/dev/null
    qemu-img snapshot -c s1 sn.qcow2
    qemu-io -c 'write -P 8 0 8M' sn.qcow2 >/dev/null
    strata-img snapshot -d s1 --image-opts \
        "driver=qcow2,pass-discard-snapshot=$on,file.filename=sn.qcow2" || fail "snapshot -d ($on)"
    eval "kb_$on=$(du -k sn.qcow2 | cut -f1)"
    out=$(qemu-img check sn.qcow2 2>&1) || fail "pass-discard-snapshot=$on: $out"
    qemu-io -c 'read -P 8 0 8M' sn.qcow2 | contains verification && fail "pass-discard-snapshot=$on: data"
done
[ $((kb_on + 4096)) -lt "$kb_off" ] ||
    fail "pass-discard-snapshot=on: $kb_on KiB used, $kb_off KiB with it off"

# --- bad values, in qemu-io's words
for o in overlap-check=blubb overlap-check.template=blubb \
         overlap-check=constant,overlap-check.template=all overlap-check.active-l2=maybe \
         cache-clean-interval=-1 cache-clean-interval=4294967296 \
         l2-cache-entry-size=256 l2-cache-entry-size=4242 l2-cache-entry-size=128k \
         cache-size=1M,l2-cache-size=64k,refcount-cache-size=64k cache-size=1M,l2-cache-size=2M \
         cache-size=1M,refcount-cache-size=2M refcount-cache-size=256T; do
    strata-io -c "open -o $o c.qcow2" 2>&1 | sed 's/^strata-io/qemu-io/' >s.msg || true
    qemu-io -c "open -o $o c.qcow2" >q.msg 2>&1 || true
    [ -s q.msg ] || fail "$o: qemu-io accepts it"
    diff s.msg q.msg >/dev/null || fail "$o: strata said '$(cat s.msg)', qemu-io '$(cat q.msg)'"
done
exit 0
