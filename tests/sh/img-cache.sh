#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# img-cache.sh - strata-img's -t/-T on check, compare, amend, rebase and
# commit do what qemu-img's do: strace shows the same files opened with
# O_DIRECT and a sync made or not, for every cache mode.  Bad modes are
# refused in qemu-img's words.  bench drains before each flush unless
# --no-drain, and commit -r limits its rate.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
need qemu-img qemu-io strace
cd "$T"
qemu-img create -q -f qcow2 b.qcow2 4M
qemu-io -c 'write -P 1 0 1M' b.qcow2 >/dev/null
qemu-img create -q -f qcow2 nb.qcow2 4M

# facts TOOL ARGS...: exit status, the images opened with O_DIRECT, and
# whether anything was synced.
facts() {
    local rc=0
    ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" \
        strace -f -e trace=openat,fdatasync,fsync -o st.txt "$@" >/dev/null 2>&1 || rc=$?
    local d s
    d=$(grep -E 'openat\(.*"(o|b|nb)\.qcow2".*O_DIRECT' st.txt |
        sed -E 's/.*"([a-z]+)\.qcow2".*/\1/' | sort -u | tr '\n' ,)
    s=$(grep -cE 'fdatasync\(|fsync\(' st.txt || true)
    echo "rc=$rc direct=$d synced=$([ "$s" -gt 0 ] && echo yes || echo no)"
}
fresh() {
    rm -f o.qcow2
    qemu-img create -q -f qcow2 -b b.qcow2 -F qcow2 o.qcow2
    qemu-io -c 'write -P 2 1M 1M' o.qcow2 >/dev/null
}
n=0
for mode in none writeback unsafe writethrough directsync; do
    while read -r name args; do
        fresh
        # shellcheck disable=SC2086
        want=$(facts qemu-img $name $args)
        fresh
        # shellcheck disable=SC2086
        got=$(facts strata-img $name $args)
        [ "$got" = "$want" ] || fail "$name $args: strata-img $got, qemu-img $want"
        case $mode in
        none | directsync) [[ $got == *"direct=b,"* ]] || fail "$name -t $mode: no O_DIRECT" ;;
        unsafe) [[ $got == *"synced=no" ]] || fail "$name -t unsafe synced" ;;
        esac
        n=$((n + 1))
    done <<EOF2
check -T $mode o.qcow2
compare -T $mode o.qcow2 b.qcow2
amend -t $mode -o lazy_refcounts=on o.qcow2
rebase -t $mode -T $mode -b nb.qcow2 -F qcow2 o.qcow2
commit -t $mode o.qcow2
EOF2
done
echo "ok $n command lines open and sync as qemu-img's"

fresh
for c in "commit -t bogus o.qcow2" "check -T bogus o.qcow2" "compare -T bogus o.qcow2 b.qcow2" \
    "rebase -T bogus -u -b nb.qcow2 -F qcow2 o.qcow2" "amend -t bogus -o lazy_refcounts=on o.qcow2" \
    "commit -r 12x o.qcow2"; do
    sq=0 ss=0
    # shellcheck disable=SC2086
    qemu-img $c >q.out 2>&1 || sq=$?
    # shellcheck disable=SC2086
    strata-img $c >s.out 2>&1 || ss=$?
    [ "$sq" = "$ss" ] || fail "$c: exit $ss, qemu-img's $sq"
    sed -i 's/^qemu-img: //' q.out
    sed -i 's/^strata-img: //' s.out
    cmp -s q.out s.out || fail "$c: '$(cat s.out)' where qemu-img says '$(cat q.out)'"
done
echo "ok bad values refused as by qemu-img"

# bench: no write is in flight when a flush starts, unless --no-drain.
qemu-img create -q -f raw w.raw 64M
ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" \
    strace -f -e trace=pwrite64,pwritev,fdatasync -o bench.txt \
    strata-img bench -w -f raw -c 3000 -d 16 -S 8k --flush-interval 50 w.raw >/dev/null ||
    fail "bench --flush-interval"
python3 - bench.txt <<'PY' || fail "bench flushed with writes in flight"
import re, sys
inflight, flushes, bad = set(), 0, 0
for line in open(sys.argv[1]):
    m = re.match(r"(\d+)\s+(.*)", line)
    if not m:
        continue
    pid, rest = m.groups()
    if re.match(r"pwrite(64|v)\(.*<unfinished \.\.\.>", rest):
        inflight.add(pid)
    elif re.match(r"<\.\.\. pwrite(64|v) resumed>", rest):
        inflight.discard(pid)
    elif rest.startswith("fdatasync("):
        flushes += 1
        bad += bool(inflight - {pid})
if flushes < 50 or bad:
    sys.exit("%d flushes, %d with writes in flight" % (flushes, bad))
PY
echo "ok bench drains before each flush"

# commit -r: 2 MiB at 1 MiB/s cannot take less than 1.5 s (a lower bound
# only, which a slow machine cannot break).
fresh
qemu-io -c 'write -P 3 2M 1M' o.qcow2 >/dev/null
t0=$(date +%s%N)
strata-img commit -q -r 1M o.qcow2 || fail "commit -r"
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -ge 1500 ] || fail "commit -r 1M copied 2 MiB in $ms ms"
qemu-img compare -q o.qcow2 b.qcow2 || fail "commit -r: data"
echo "ok commit -r ($ms ms for 2 MiB at 1 MiB/s)"
