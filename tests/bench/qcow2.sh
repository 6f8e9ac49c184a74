# SPDX-License-Identifier: LGPL-2.1-or-later
# qcow2 next to qemu-img on the same machine in the same run: allocation
# path (4 KiB writes, each to a cluster of its own), 4 KiB reads of those
# clusters, both also with O_DIRECT at queue depths 1 and 32, 1 MiB
# sequential reads, convert of a 1 GiB qcow2 (plain and LUKS) to raw.
# Figures only.  Sourced by run.sh (make bench), or run on its own:
# STRATA_BUILD=build bash tests/bench/qcow2.sh; STRATA_BENCH_RUNS sets the
# runs a median is taken of (5), STRATA_BENCH_QCOW2_QUICK=1 leaves out the
# page-cache 4 KiB rows (whose 8 GiB images are slow to make and delete on
# some disks) and the LUKS rows.
#
# The 4 KiB rows run both tools' `bench` with the same arguments, so both
# issue the same requests: the stride (1 MiB + 4 KiB) and the virtual size
# are chosen so that the requests never wrap around the end of the image
# (both tools wrap, by slightly different rules).  Every 4 KiB row is
# measured twice: a short run compared by each tool's own "Run completed"
# timer (the request loop only), and a run eight times longer compared by
# wall-clock time of the whole process, where process start-up (measured
# with a one-request run and printed as a share) stays under 5%.  Before a
# read row each tool reads once untimed, so both find the page cache warm.
set -u
build=${build:-${STRATA_BUILD:?STRATA_BUILD not set}}
runs=${STRATA_BENCH_RUNS:-5}
dir=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench-qcow2-XXXXXX")
trap 'rm -rf "$dir"' EXIT
img=$build/bin/strata-img
failed=

# run CMD...: prints "WALL INRUN" (seconds; INRUN from "Run completed in X
# seconds.", or - when the command prints none); "FAILED" if it fails.
run() {
    local t0 t1 out
    t0=$(date +%s.%N)
    if ! out=$("$@" 2>&1); then
        echo "FAILED"
        echo "command failed: $* -> $out" >&2
        return
    fi
    t1=$(date +%s.%N)
    local inrun
    inrun=$(echo "$out" | sed -n 's/^Run completed in \([0-9.]*\) seconds\./\1/p')
    echo "$(echo "$t1 - $t0" | bc -l) ${inrun:--}"
}
row() { # name units-of-work strata-seconds qemu-seconds [note]
    if [ "$3" = FAILED ] || [ "$4" = FAILED ]; then
        printf '%-40s FAILED (strata %s, qemu %s)\n' "$1" "$3" "$4"
        failed=1
        return
    fi
    awk -v n="$1" -v w="$2" -v s="$3" -v q="$4" -v note="${5:-}" 'BEGIN {
        printf "%-40s strata %10.1f/s  qemu %10.1f/s  ratio %.2f%s\n",
               n, w / s, w / q, q / s, note }'
}
# bench4k NAME COUNT IMAGE-STRATA IMAGE-QEMU ARGS...: one 4 KiB row pair.
bench4k() {
    local name=$1 n=$2 is=$3 iq=$4; shift 4
    local s q
    s=$(run "$img" bench -f qcow2 -d 1 -c "$n" "$@" "$is")
    q=$(run qemu-img bench -f qcow2 -d 1 -c "$n" "$@" "$iq")
    row "$name, in-run timer" "$n" "${s#* }" "${q#* }"
}
bench4k_long() {
    local name=$1 n=$2 is=$3 iq=$4; shift 4
    local s q s1 q1
    # Start-up: open, one request, close.
    s1=$(run "$img" bench -f qcow2 -d 1 -c 1 "$@" "$is")
    q1=$(run qemu-img bench -f qcow2 -d 1 -c 1 "$@" "$iq")
    s=$(run "$img" bench -f qcow2 -d 1 -c "$n" "$@" "$is")
    q=$(run qemu-img bench -f qcow2 -d 1 -c "$n" "$@" "$iq")
    local note
    note=$(awk -v s1="${s1% *}" -v q1="${q1% *}" -v s="${s% *}" -v q="${q% *}" 'BEGIN {
        if (s + 0 > 0 && q + 0 > 0)
            printf "  (start-up %.1f%% / %.1f%%)", 100 * s1 / s, 100 * q1 / q }')
    row "$name, wall clock" "$n" "${s% *}" "${q% *}" "$note"
}

echo "== qcow2 (strata vs qemu-img 'bench'/'convert'; ratio > 1: strata faster)"
stride=1052672
if [ -z "${STRATA_BENCH_QCOW2_QUICK:-}" ]; then
short=16384 long=131072
# Virtual sizes holding every request of a run without wrapping.
for t in s q; do
    qemu-img create -q -f qcow2 "$dir/w$t.qcow2" 17G
    qemu-img create -q -f qcow2 "$dir/l$t.qcow2" 129G
done
bench4k "4k writes, new cluster each" $short "$dir/ws.qcow2" "$dir/wq.qcow2" -w -s 4k -S $stride
bench4k_long "4k writes, new cluster each" $long "$dir/ls.qcow2" "$dir/lq.qcow2" -w -s 4k -S $stride
for t in s q; do
    "$img" bench -q -f qcow2 -c $short -s 4k -S $stride "$dir/w$t.qcow2" >/dev/null 2>&1
    qemu-img bench -q -f qcow2 -c $short -s 4k -S $stride "$dir/w$t.qcow2" >/dev/null 2>&1
    "$img" bench -q -f qcow2 -c $long -s 4k -S $stride "$dir/l$t.qcow2" >/dev/null 2>&1
    qemu-img bench -q -f qcow2 -c $long -s 4k -S $stride "$dir/l$t.qcow2" >/dev/null 2>&1
done
bench4k "4k reads of allocated clusters" $short "$dir/ws.qcow2" "$dir/wq.qcow2" -s 4k -S $stride
bench4k_long "4k reads of allocated clusters" $long "$dir/ls.qcow2" "$dir/lq.qcow2" -s 4k -S $stride
rm -f "$dir"/[wl][sq].qcow2
fi

# O_DIRECT (-t none: no page cache, so each request reaches the disk and
# requests in flight overlap only as far as the driver lets them), at depth
# 1 and 32.  Each figure is the median of $runs runs by each tool's in-run
# timer, the tools taking turns; every write run starts from a new image.
# median: the middle of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "FAILED" }'; }
# inrun CMD...: the in-run seconds of one run, or FAILED.
inrun() { local r; r=$(run "$@"); [ "$r" = FAILED ] && echo FAILED || echo "${r#* }"; }
direct_rows() { # depth count
    local d=$1 n=$2 i ws= wq= rs= rq=
    for i in $(seq "$runs"); do
        for t in s q; do
            rm -f "$dir/d$t.qcow2"
            qemu-img create -q -f qcow2 "$dir/d$t.qcow2" 17G
        done
        ws+="$(inrun "$img" bench -f qcow2 -t none -d "$d" -c "$n" -w -s 4k -S $stride \
            "$dir/ds.qcow2") "
        wq+="$(inrun qemu-img bench -f qcow2 -t none -d "$d" -c "$n" -w -s 4k -S $stride \
            "$dir/dq.qcow2") "
    done
    for i in $(seq "$runs"); do
        rs+="$(inrun "$img" bench -f qcow2 -t none -d "$d" -c "$n" -s 4k -S $stride \
            "$dir/ds.qcow2") "
        rq+="$(inrun qemu-img bench -f qcow2 -t none -d "$d" -c "$n" -s 4k -S $stride \
            "$dir/dq.qcow2") "
    done
    local m
    for m in ws wq rs rq; do
        case " ${!m} " in *" FAILED "*) printf -v "$m" FAILED ;;
        *) printf -v "$m" '%s' "$(tr ' ' '\n' <<<"${!m}" | grep . | median)" ;; esac
    done
    row "4k writes, new cluster each, -t none -d $d" "$n" "$ws" "$wq" "  (median of $runs)"
    row "4k reads of those, -t none -d $d" "$n" "$rs" "$rq" "  (median of $runs)"
    rm -f "$dir"/d[sq].qcow2
}
direct_rows 1 4096
direct_rows 32 16384

qemu-img create -q -f raw "$dir/src.raw" 1G
qemu-io -f raw -c 'write -P 0x5a 0 1G' "$dir/src.raw" >/dev/null
qemu-img convert -O qcow2 "$dir/src.raw" "$dir/full.qcow2"
s=$(run "$img" bench -f qcow2 -d 1 -c 1024 -s 1M "$dir/full.qcow2")
q=$(run qemu-img bench -f qcow2 -d 1 -c 1024 -s 1M "$dir/full.qcow2")
row "1 MiB sequential reads (MiB), in-run" 1024 "${s#* }" "${q#* }"
# best3 CMD...: the fastest of three runs, as run prints it (page cache
# reuse in a virtual machine makes single runs vary by a factor of two).
best3() {
    local b= r
    for _ in 1 2 3; do
        r=$(run "$@")
        [ "$r" = FAILED ] && { echo FAILED; return; }
        if [ -z "$b" ] || [ "$(echo "${r% *} < ${b% *}" | bc -l)" = 1 ]; then
            b=$r
        fi
    done
    echo "$b"
}
# Both tools' default leaves the target in the page cache (qemu-img convert
# runs its target with cache=unsafe); -t writeback adds the fdatasync that
# makes the copy durable, in both.
s=$(best3 "$img" convert -O raw "$dir/full.qcow2" "$dir/out1.raw")
q=$(best3 qemu-img convert -O raw "$dir/full.qcow2" "$dir/out2.raw")
row "convert 1 GiB qcow2 -> raw (MiB)" 1024 "${s% *}" "${q% *}"
s=$(best3 "$img" convert -t writeback -O raw "$dir/full.qcow2" "$dir/out1.raw")
q=$(best3 qemu-img convert -t writeback -O raw "$dir/full.qcow2" "$dir/out2.raw")
row "  same, -t writeback (flushed)" 1024 "${s% *}" "${q% *}"
# -t none: the target written with O_DIRECT; median of the runs by wall
# clock (convert prints no in-run time).
wall() { local r; r=$(run "$@"); [ "$r" = FAILED ] && echo FAILED || echo "${r% *}"; }
cs= cq=
for i in $(seq "$runs"); do
    cs+="$(wall "$img" convert -t none -O raw "$dir/full.qcow2" "$dir/out1.raw")"$'\n'
    cq+="$(wall qemu-img convert -t none -O raw "$dir/full.qcow2" "$dir/out2.raw")"$'\n'
done
s=FAILED q=FAILED
contains_failed() { grep -q FAILED <<<"$1"; }
contains_failed "$cs" || s=$(grep . <<<"$cs" | median)
contains_failed "$cq" || q=$(grep . <<<"$cq" | median)
row "  same, -t none (O_DIRECT target)" 1024 "$s" "$q" "  (median of $runs)"

if [ -z "${STRATA_BENCH_QCOW2_QUICK:-}" ]; then
# LUKS: the source is made by qemu-img (iter-time 1000 ms).  Its PBKDF2
# calibration now and then fails on a busy machine ("Unable to get accurate
# CPU usage"): try again.  Opening costs one key-slot unlock (about the
# iter-time) in each tool; the second row takes it out, using a one-read
# strata-io / qemu-io run as the measure of open + unlock + close.
printf 'bench-pass' > "$dir/pw"
obj="secret,id=s,file=$dir/pw"
made=
for i in 1 2 3 4 5; do
    if qemu-img convert --object "$obj" -O qcow2 \
        -o encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=1000 \
        "$dir/src.raw" "$dir/enc.qcow2" 2>/dev/null; then
        made=1
        break
    fi
done
if [ -z "$made" ]; then
    echo "convert 1 GiB LUKS qcow2 -> raw: qemu-img could not create the source"
    failed=1
else
    o="driver=qcow2,encrypt.key-secret=s,file.filename=$dir/enc.qcow2"
    s=$(run "$img" convert --object "$obj" --image-opts "$o" -O raw "$dir/out1.raw")
    q=$(run qemu-img convert --object "$obj" --image-opts "$o" -O raw "$dir/out2.raw")
    row "convert 1 GiB LUKS qcow2 -> raw (MiB)" 1024 "${s% *}" "${q% *}"
    s1=$(run "$build/bin/strata-io" --object "$obj" --image-opts -c 'read 0 4k' "$o")
    q1=$(run qemu-io --object "$obj" --image-opts -c 'read 0 4k' "$o")
    if [ "$s" != FAILED ] && [ "$q" != FAILED ] && [ "$s1" != FAILED ] && [ "$q1" != FAILED ]; then
        row "  same, without open + unlock" 1024 "$(echo "${s% *} - ${s1% *}" | bc -l)" \
            "$(echo "${q% *} - ${q1% *}" | bc -l)" \
            "$(printf '  (unlock: strata %.2f s, qemu %.2f s)' "${s1% *}" "${q1% *}")"
    fi
fi
fi
[ -z "$failed" ] || echo "qcow2 benchmark: some rows FAILED (see above)"
