# qcow2 next to qemu-img on the same machine in the same run: allocation
# path (4 KiB writes scattered over an empty 1 GiB image), 4 KiB reads of an
# allocated image, 1 MiB sequential reads, convert of a 1 GiB qcow2 (plain
# and LUKS) to raw.  Figures only.
set -u
dir=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench-qcow2-XXXXXX")
trap 'rm -rf "$dir"' EXIT
img=$build/bin/strata-img
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
         echo "$t1 - $t0" | bc -l; }
row() { # name ops-or-MB strata-seconds qemu-seconds
    awk -v n="$1" -v w="$2" -v s="$3" -v q="$4" 'BEGIN {
        printf "%-34s strata %10.1f/s  qemu %10.1f/s  ratio %.2f\n", n, w / s, w / q, q / s }'
}
echo "== qcow2 (strata vs qemu-img 'bench'/'convert'; ratio > 1: strata faster)"
# 4 KiB writes, stride 1 MiB + 4 KiB: every request allocates a new cluster.
for t in s q; do qemu-img create -q -f qcow2 "$dir/w$t.qcow2" 1G; done
n=16384
s=$(secs "$img" bench -q -w -f qcow2 -d 1 -c $n -s 4k -S 1052672 "$dir/ws.qcow2")
q=$(secs qemu-img bench -q -w -f qcow2 -d 1 -c $n -s 4k -S 1052672 "$dir/wq.qcow2")
row "4k scattered writes (alloc)" $n "$s" "$q"
s=$("$img" bench -q -f qcow2 -d 1 -c $n -s 4k -S 1052672 "$dir/ws.qcow2" >/dev/null; secs "$img" bench -q -f qcow2 -d 1 -c $n -s 4k -S 1052672 "$dir/ws.qcow2")
q=$(secs qemu-img bench -q -f qcow2 -d 1 -c $n -s 4k -S 1052672 "$dir/wq.qcow2")
row "4k scattered reads (allocated)" $n "$s" "$q"
qemu-img create -q -f raw "$dir/src.raw" 1G
qemu-io -f raw -c 'write -P 0x5a 0 1G' "$dir/src.raw" >/dev/null
qemu-img convert -O qcow2 "$dir/src.raw" "$dir/full.qcow2"
s=$(secs "$img" bench -q -f qcow2 -d 1 -c 1024 -s 1M "$dir/full.qcow2")
q=$(secs qemu-img bench -q -f qcow2 -d 1 -c 1024 -s 1M "$dir/full.qcow2")
row "1 MiB sequential reads (MiB)" 1024 "$s" "$q"
s=$(secs "$img" convert -O raw "$dir/full.qcow2" "$dir/out1.raw")
q=$(secs qemu-img convert -O raw "$dir/full.qcow2" "$dir/out2.raw")
row "convert 1 GiB qcow2 -> raw (MiB)" 1024 "$s" "$q"
printf 'bench-pass' > "$dir/pw"
obj="secret,id=s,file=$dir/pw"
qemu-img convert --object "$obj" -O qcow2 -o encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=500 \
    "$dir/src.raw" "$dir/enc.qcow2"
o="driver=qcow2,encrypt.key-secret=s,file.filename=$dir/enc.qcow2"
s=$(secs "$img" convert --object "$obj" --image-opts "$o" -O raw "$dir/out1.raw")
q=$(secs qemu-img convert --object "$obj" --image-opts "$o" -O raw "$dir/out2.raw")
row "convert 1 GiB LUKS qcow2 -> raw (MiB)" 1024 "$s" "$q"
