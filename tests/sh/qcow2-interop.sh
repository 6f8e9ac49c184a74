# SPDX-License-Identifier: LGPL-2.1-or-later
# qcow2 against qemu-img/qemu-io: images qemu makes and writes in many
# configurations read identically through strata; images strata makes and
# writes pass `qemu-img check` with no errors or leaks and read identically
# through qemu-img.  The reference for every comparison is qemu's output or
# a raw file written by qemu-io with the same commands.
. "$(dirname "$0")/lib/common.sh"
cd "$T"

need qemu-img qemu-io

same() { cmp -s "$1" "$2" || fail "$3: contents differ ($(cmp "$1" "$2" 2>&1 | head -1))"; }
qcheck() { # image what: qemu-img check finds nothing at all
    local out
    out=$(qemu-img check "$1" 2>&1) || fail "$2: qemu-img check failed: $out"
    grep -q 'No errors were found' <<<"$out" || fail "$2: qemu-img check: $out"
}

# The same workload for qemu-io and strata-io: unaligned writes, writes that
# straddle clusters, zeroes over data, a discard.
WL=(-c 'write -P 0x11 0 70000' -c 'write -P 0x22 1000000 3000'
    -c 'write -P 0x33 2047k 8k' -c 'write -P 0x44 4095k 1k'
    -c 'write -z 20000 30000' -c 'write -P 0x55 3M 512k' -c 'discard 2M 2M'
    -c 'write -P 0x66 3200k 700')

# ------------------------------------------------ qemu writes, strata reads
n=0
for o in cluster_size=512 cluster_size=4096 cluster_size=65536 cluster_size=2M \
         compat=0.10 compat=0.10,cluster_size=4096 refcount_bits=1 refcount_bits=64 \
         lazy_refcounts=on extended_l2=on extended_l2=on,cluster_size=16k \
         compression_type=zstd; do
    n=$((n + 1))
    qemu-img create -q -f qcow2 -o "$o" q$n.qcow2 4M
    qemu-io -f qcow2 "${WL[@]}" q$n.qcow2 >/dev/null || fail "qemu-io on $o"
    qemu-img convert -O raw q$n.qcow2 ref.raw
    strata-img convert -O raw q$n.qcow2 s.raw || fail "strata-img convert of qemu image ($o)"
    same ref.raw s.raw "qemu-written qcow2 ($o)"
    strata-img check q$n.qcow2 >/dev/null || fail "strata-img check of qemu image ($o)"
done

# Compressed clusters, zlib and zstd.
for ct in zlib zstd; do
    qemu-img create -q -f raw src.raw 3M
    qemu-io -f raw -c 'write -P 0x61 0 1M' -c 'write -P 0x62 1500k 1M' src.raw >/dev/null
    qemu-img convert -c -O qcow2 -o compression_type=$ct src.raw c.qcow2
    qemu-img convert -O raw c.qcow2 ref.raw
    strata-img convert -O raw c.qcow2 s.raw || fail "convert compressed ($ct)"
    same ref.raw s.raw "qemu-compressed qcow2 ($ct)"
    strata-img map --output=json c.qcow2 >/dev/null || fail "map of compressed image"
done

# Backing chain: qcow2 over qcow2 over raw, qemu-written.
qemu-img create -q -f raw base.raw 4M
qemu-io -f raw -c 'write -P 0x71 0 4M' base.raw >/dev/null
qemu-img create -q -f qcow2 -b base.raw -F raw mid.qcow2
qemu-io -f qcow2 -c 'write -P 0x72 1M 100k' -c 'write -P 0x73 3000 1000' mid.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o cluster_size=4096 -b mid.qcow2 -F qcow2 top.qcow2 6M
qemu-io -f qcow2 -c 'write -P 0x74 1050k 10k' -c 'write -P 0x75 5M 4k' \
    -c 'write -z 0 8k' top.qcow2 >/dev/null
qemu-img convert -O raw top.qcow2 ref.raw
strata-img convert -O raw top.qcow2 s.raw || fail "convert chain"
same ref.raw s.raw "qcow2 chain over qcow2 over raw"
strata-img info --backing-chain top.qcow2 | contains 'backing file format: qcow2' ||
    fail "info does not show the backing format"

# Internal snapshots made by qemu-img: the active state reads identically.
qemu-img create -q -f qcow2 sn.qcow2 2M
qemu-io -f qcow2 -c 'write -P 0x01 0 1M' sn.qcow2 >/dev/null
qemu-img snapshot -c one sn.qcow2
qemu-io -f qcow2 -c 'write -P 0x02 64k 64k' sn.qcow2 >/dev/null
qemu-img convert -O raw sn.qcow2 ref.raw
strata-img convert -O raw sn.qcow2 s.raw || fail "convert snapshotted image"
same ref.raw s.raw "qcow2 with a qemu snapshot"
strata-img check sn.qcow2 >/dev/null || fail "strata-img check of qemu snapshot image"
strata-img snapshot -l sn.qcow2 | contains ' one ' || fail "snapshot list misses 'one'"

# ------------------------------------------------ strata writes, qemu reads
qemu-img create -q -f raw ref.raw 4M
qemu-io -f raw "${WL[@]}" ref.raw >/dev/null
n=0
for o in cluster_size=512 cluster_size=4096 cluster_size=65536 cluster_size=2M \
         compat=0.10 refcount_bits=1 refcount_bits=64 lazy_refcounts=on \
         extended_l2=on compression_type=zstd preallocation=metadata \
         preallocation=falloc; do
    n=$((n + 1))
    strata-img create -q -f qcow2 -o "$o" s$n.qcow2 4M || fail "create $o"
    strata-io -f qcow2 "${WL[@]}" s$n.qcow2 >/dev/null || fail "strata-io on $o"
    qcheck s$n.qcow2 "strata-written ($o)"
    qemu-img convert -O raw s$n.qcow2 q.raw
    same ref.raw q.raw "strata-written qcow2 ($o)"
done

# convert -c, both compression types; qemu-img compare against the source.
for ct in zlib zstd; do
    strata-img convert -c -O qcow2 -o compression_type=$ct ref.raw sc.qcow2 ||
        fail "convert -c ($ct)"
    qcheck sc.qcow2 "convert -c ($ct)"
    qemu-img compare -q ref.raw sc.qcow2 || fail "convert -c ($ct) differs"
    qemu-img check sc.qcow2 | contains 'compressed clusters' || fail "nothing compressed ($ct)"
done

# A chain written by strata: qcow2 over qemu's qcow2 over raw.
strata-img create -q -f qcow2 -b top.qcow2 -F qcow2 st.qcow2 || fail "create over chain"
strata-io -f qcow2 -c 'write -P 0x7a 1040k 20k' -c 'write -P 0x7b 5000 100' st.qcow2 >/dev/null
qcheck st.qcow2 "strata overlay"
qemu-img convert -O raw top.qcow2 base2.raw
qemu-io -f raw -c 'write -P 0x7a 1040k 20k' -c 'write -P 0x7b 5000 100' base2.raw >/dev/null
qemu-img convert -O raw st.qcow2 q.raw
same base2.raw q.raw "strata overlay over a qemu chain"
qemu-img info st.qcow2 | contains 'backing file format: qcow2' || fail "backing format not recorded"

# Snapshots made by strata: qemu lists them, reads them back and checks.
strata-img create -q -f qcow2 ss.qcow2 2M
strata-io -c 'write -P 0x01 0 1M' ss.qcow2 >/dev/null
strata-img snapshot -c first ss.qcow2 || fail "snapshot -c"
strata-io -c 'write -P 0x02 64k 64k' -c 'write -P 0x03 1M 64k' ss.qcow2 >/dev/null
qcheck ss.qcow2 "strata snapshot"
qemu-img snapshot -l ss.qcow2 | contains first || fail "qemu does not list the snapshot"
cp ss.qcow2 ss2.qcow2
qemu-img snapshot -a first ss2.qcow2
qemu-img convert -O raw ss2.qcow2 q.raw
strata-img snapshot -a first ss.qcow2 || fail "snapshot -a"
qcheck ss.qcow2 "after snapshot -a"
qemu-img convert -O raw ss.qcow2 s.raw
same q.raw s.raw "snapshot applied by strata and by qemu"
strata-img snapshot -d first ss.qcow2 || fail "snapshot -d"
qcheck ss.qcow2 "after snapshot -d"
qemu-img snapshot -l ss.qcow2 | contains first && fail "snapshot still listed after -d"

# Resize: grow, then shrink back over the new area.
strata-img create -q -f qcow2 r.qcow2 1M
strata-img resize r.qcow2 3M || fail "grow"
strata-io -c 'write -P 0x09 2M 4k' r.qcow2 >/dev/null
strata-img resize --shrink r.qcow2 1M || fail "shrink"
qcheck r.qcow2 "after resize"
[ "$(qemu-img info --output=json r.qcow2 | grep -o '"virtual-size": [0-9]*')" = '"virtual-size": 1048576' ] ||
    fail "size after shrink"
# Encryption: LUKS both ways, legacy AES read (qemu-made), wrong passphrase.
printf 'secret-pw' > pw
printf 'wrong-pw' > bad
obj=(--object secret,id=s,file=pw)
qemu_img_retry create -q -f qcow2 "${obj[@]}" \
    -o encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=50 ql.qcow2 4M ||
    fail "qemu-img could not create a LUKS qcow2"
O="driver=qcow2,encrypt.key-secret=s,file.filename=ql.qcow2"
qemu-io "${obj[@]}" --image-opts "$O" -c 'write -P 0x41 0 70000' -c 'write -P 0x42 2M 5000' >/dev/null
qemu-img convert "${obj[@]}" --image-opts "$O" -O raw ref.raw
strata-img convert "${obj[@]}" --image-opts "$O" -O raw s.raw || fail "convert qemu LUKS qcow2"
same ref.raw s.raw "qemu-written LUKS qcow2"
strata-img convert --object secret,id=s,file=bad --image-opts "$O" -O raw s.raw 2>err.txt &&
    fail "wrong passphrase accepted"
grep -q 'Invalid password' err.txt || fail "wrong passphrase: $(cat err.txt)"
strata-img info ql.qcow2 | contains 'format: luks' || fail "info without a key"
strata-img create -q -f qcow2 "${obj[@]}" -o encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10 sl.qcow2 4M ||
    fail "create LUKS qcow2"
O="driver=qcow2,encrypt.key-secret=s,file.filename=sl.qcow2"
strata-io "${obj[@]}" --image-opts "${WL[@]}" "$O" >/dev/null || fail "strata-io on LUKS qcow2"
qemu-img check "${obj[@]}" --image-opts "$O" >/dev/null || fail "qemu-img check of strata LUKS qcow2"
qemu-img convert "${obj[@]}" --image-opts "$O" -O raw q.raw
qemu-img create -q -f raw ref.raw 4M
qemu-io -f raw "${WL[@]}" ref.raw >/dev/null
same ref.raw q.raw "strata-written LUKS qcow2"
qemu-img create -q -f qcow2 "${obj[@]}" -o encrypt.format=aes,encrypt.key-secret=s qa.qcow2 2M 2>/dev/null
O="driver=qcow2,encrypt.key-secret=s,file.filename=qa.qcow2"
qemu-io "${obj[@]}" --image-opts "$O" -c 'write -P 0x51 1000 70000' >/dev/null 2>&1
qemu-img convert "${obj[@]}" --image-opts "$O" -O raw ref.raw 2>/dev/null
strata-img convert "${obj[@]}" --image-opts "$O" -O raw s.raw 2>err.txt || fail "convert AES qcow2"
same ref.raw s.raw "qemu-written AES qcow2"
grep -q 'broken' err.txt || fail "no warning about the AES scheme"
strata-io "${obj[@]}" --image-opts -c 'write 0 512' "$O" >/dev/null 2>&1 &&
    qemu-io "${obj[@]}" --image-opts "$O" -c 'read -P 0x51 1000 512' 2>/dev/null | contains failed &&
    fail "AES write accepted without the override"

# convert into a new qcow2 leaves the source's zero ranges unallocated, as
# qemu-img does (same map but for where the data clusters landed).
qemu-img create -q -f raw sp.raw 64M
qemu-io -f raw -c 'write -P 3 20M 1M' -c 'write -z 30M 1M' sp.raw >/dev/null
strata-img convert -O qcow2 sp.raw sp1.qcow2 || fail "convert raw -> qcow2"
qemu-img convert -O qcow2 sp.raw sp2.qcow2
map_no_offsets() { qemu-img map --output=json "$1" | sed 's/, "offset": [0-9]*//'; }
[ "$(map_no_offsets sp1.qcow2)" = "$(map_no_offsets sp2.qcow2)" ] ||
    fail "convert -O qcow2 allocation differs from qemu-img's:
$(map_no_offsets sp1.qcow2)
qemu-img:
$(map_no_offsets sp2.qcow2)"
qemu-img compare -q -f raw -F qcow2 sp.raw sp1.qcow2 || fail "converted sparse image differs"

# Persistent dirty bitmaps (made by qemu-img) are kept but not updated, so the
# first write clears their autoclear bit, as the spec asks of a program that
# does not maintain them: QEMU then takes them as inconsistent instead of
# trusting a bitmap that misses the write.  Reading leaves them valid.
autoclear() { od -A n -t u1 -j 95 -N 1 "$1" | tr -d ' '; }
qemu-img create -q -f qcow2 bm.qcow2 16M
qemu-img bitmap --add bm.qcow2 b0
qemu-io -c 'write -P 0x21 0 64k' bm.qcow2 >/dev/null
[ "$(autoclear bm.qcow2)" = 1 ] || fail "qemu-img left no bitmaps autoclear bit"
strata-io -c 'read -P 0x21 0 64k' bm.qcow2 >/dev/null || fail "read of an image with bitmaps"
[ "$(autoclear bm.qcow2)" = 1 ] || fail "a read cleared the bitmaps bit"
qemu-img info bm.qcow2 2>&1 | contains 'name: b0' || fail "bitmap lost after a read"
strata-io -c 'write -P 0x22 1M 64k' bm.qcow2 >/dev/null || fail "write to an image with bitmaps"
[ "$(autoclear bm.qcow2)" = 0 ] || fail "bitmaps still claimed valid after a write"
qemu-img info bm.qcow2 2>&1 | contains 'lacking bitmap support' ||
    fail "qemu-img still trusts the bitmaps: $(qemu-img info bm.qcow2 2>&1)"
qemu-io -c 'read -P 0x21 0 64k' -c 'read -P 0x22 1M 64k' bm.qcow2 | contains failed &&
    fail "data after the bitmaps were dropped"

# same_layout WHAT S Q CMD...: each qemu-io command on S through strata-io
# and on Q through qemu-io; qemu-img map then shows both laid out alike
# (host offsets compared too unless OFFSETS=any).
map_filter() {
    if [ "${OFFSETS:-}" = any ]; then sed 's/"offset": [0-9]*/OFF/'; else cat; fi
}
same_layout() {
    local what=$1 s=$2 q=$3 w
    shift 3
    for w in "$@"; do
        strata-io -c "$w" "$s" >/dev/null || fail "$w on $s"
        qemu-io -c "$w" "$q" >/dev/null
    done
    qemu-img map --output=json "$s" | map_filter > s.map
    qemu-img map --output=json "$q" | map_filter > q.map
    cmp -s s.map q.map || { diff q.map s.map; fail "$what: layout differs from qemu's"; }
}

# The same writes to a new image give the same layout as qemu-io's: the L2
# table is allocated before the data clusters it maps, as QEMU orders them.
for cfg in "" "-o cluster_size=4096" "-o extended_l2=on"; do
    qemu-img create -q -f qcow2 $cfg ls.qcow2 64M
    qemu-img create -q -f qcow2 $cfg lq.qcow2 64M
    same_layout "writes ($cfg)" ls.qcow2 lq.qcow2 "write -P 1 0 1M" "write -P 2 40M 64k" \
        "write -P 3 8M 128k"
done

# Zero writes: a partial cluster that otherwise reads as zeros becomes a
# zero cluster whole, as in QEMU; zero clusters that keep their host
# cluster and those that do not are separate extents in map.
qemu-img create -q -f qcow2 zs.qcow2 64M
qemu-img create -q -f qcow2 zq.qcow2 64M
OFFSETS=any same_layout "zero writes" zs.qcow2 zq.qcow2 "write -z -u 10485761 2097150" \
    "write -z 14680065 2097150" "write 18M 14M" "write -z -u 20M 2M" "write -z 24M 6M" \
    "write -z -u 26M 2M" "write -z 28M 2M" "write -z 40000 1000"
qemu-img map --output=json zq.qcow2 > zq.map
strata-img map --output=json zq.qcow2 > zs.map
cmp -s zs.map zq.map || { diff zq.map zs.map; fail "strata-img map differs from qemu-img map"; }
# Over a backing file: what the backing file reads as zeros (by its block
# status) counts as zeros too, so the partial cluster becomes a zero
# cluster; where it has data, the zeros are written.
qemu-img create -q -f qcow2 -o cluster_size=512 zb.qcow2 1M
qemu-io -c 'write -P 0x11 32k 1k' zb.qcow2 >/dev/null
for t in zs zq; do
    qemu-img create -q -f qcow2 -o cluster_size=4k -b zb.qcow2 -F qcow2 $t.qcow2 1M
done
OFFSETS=any same_layout "zero writes over a backing file" zs.qcow2 zq.qcow2 \
    "write -z 0 2k" "write -z 10k 2k" "write -z 34k 1k"
qemu-img compare -q zs.qcow2 zq.qcow2 || fail "zero writes over a backing file: content differs"

# A discard gives the space back to the file system as qemu-io's does (on a
# file system without hole punching, neither can).
usage() { du --block-size=1 "$1" | awk '{ print $1 }'; }
for t in ds dq; do
    qemu-img create -q -f qcow2 $t.qcow2 16M
    qemu-io -c 'write -P 7 0 8M' $t.qcow2 >/dev/null
done
strata-io -c 'discard 1M 6M' ds.qcow2 >/dev/null || fail "discard"
qemu-io -c 'discard 1M 6M' dq.qcow2 >/dev/null
[ "$(usage ds.qcow2)" -le $(($(usage dq.qcow2) + 65536)) ] ||
    fail "after a discard the file uses $(usage ds.qcow2) bytes, qemu's $(usage dq.qcow2)"
qemu-img check -q ds.qcow2 || fail "discard: qemu-img check"
qemu-img compare -q ds.qcow2 dq.qcow2 || fail "discard: content differs from qemu's"
# pass-discard-request=off keeps the space; pass-discard-snapshot=on is
# refused, as strata never discards a deleted snapshot's clusters.
qemu-img create -q -f qcow2 do.qcow2 16M
qemu-io -c 'write -P 7 0 8M' do.qcow2 >/dev/null
before=$(usage do.qcow2)
strata-io -c 'discard 1M 6M' --image-opts \
    driver=qcow2,pass-discard-request=off,file.filename=do.qcow2 >/dev/null || fail "discard, off"
[ "$(usage do.qcow2)" -ge "$before" ] || fail "pass-discard-request=off gave space back"
rc=0; strata-io -c 'read 0 1M' --image-opts \
    driver=qcow2,pass-discard-snapshot=on,file.filename=do.qcow2 > err.txt 2>&1 || rc=$?
[ $rc != 0 ] && grep -q 'pass-discard-snapshot=on is not supported' err.txt ||
    fail "pass-discard-snapshot=on: rc $rc, $(cat err.txt)"

# An external data file: options given for data-file describe it whole (the
# name in the header is not added to them), as in qemu: here a null-co
# device stands in for it.
qemu-img create -q -f qcow2 -o data_file=ext.data ext.qcow2 4M
for tool in qemu-io strata-io; do
    $tool -c 'write -P 9 0 64k' \
        "json:{'driver':'qcow2','file':{'filename':'ext.qcow2'},'data-file':{'driver':'null-co','size':'4194304'}}" \
        >out.txt 2>&1 || fail "$tool with a null-co data file: $(cat out.txt)"
done
cmp -s ext.data <(head -c "$(stat -c %s ext.data)" /dev/zero) ||
    fail "the data file named in the header was written"
strata-io -c 'write -P 9 0 64k' -c 'read -P 9 0 64k' ext.qcow2 >/dev/null ||
    fail "the data file named in the header"
qemu-io -c 'read -P 9 0 64k' ext.qcow2 >/dev/null || fail "qemu-io reads other data from ext.data"

echo "qcow2 interop: ok"
