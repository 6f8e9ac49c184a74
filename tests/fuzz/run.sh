#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `make fuzz`: builds the tree with clang, libFuzzer, AddressSanitizer and
# UBSan in $FUZZ_DIR (KDF costs capped, -DSTRATA_FUZZ_KDF), makes the seed
# corpora, then runs each harness in $FUZZ_HARNESSES for $FUZZ_SECONDS on
# its corpus (or until $FUZZ_RUNS executions, when that comes first),
# $FUZZ_JOBS at a time (default 1).  Findings are written to
# $FUZZ_DIR/findings/NAME/; any finding fails the run.  The last line of
# each harness's summary gives its executions, exec/s and coverage.
set -euo pipefail
build=${STRATA_BUILD:?run through make fuzz}
src=${STRATA_SRCDIR:?run through make fuzz}
dir=${FUZZ_DIR:?run through make fuzz}
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
runs=()
[ -n "${FUZZ_RUNS:-}" ] && runs=(-runs="$FUZZ_RUNS")
read -r -a harnesses <<<"${FUZZ_HARNESSES:?}"

command -v clang >/dev/null || { echo "make fuzz needs clang (tools/build-deps.sh)" >&2; exit 1; }
mkdir -p "$dir"
(
    cd "$dir"
    if ! [ -f Makefile ] || [ "$src/configure" -nt Makefile ]; then
        "$src/configure" CC=clang \
            CFLAGS="-g -O1 -fsanitize=fuzzer-no-link -DSTRATA_FUZZ_KDF" \
            --enable-sanitizers >/dev/null
    fi
    make -j"$(nproc)" fuzz-harnesses >build.log 2>&1 ||
        { tail -n 30 build.log; exit 1; }
)

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0:allocator_may_return_null=1:quarantine_size_mb=64
export LSAN_OPTIONS=suppressions=$src/tests/fuzz/lsan.supp
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
STRATA_BUILD=$build bash "$src/tests/fuzz/seeds.sh" "$dir/seeds" "${harnesses[@]}"

run_one() {
    local rc=0 h=$1 corpus=$dir/corpus/$1 out=$dir/findings/$1 log=$dir/log/$1.log
    mkdir -p "$corpus" "$out" "$dir/log"
    local dirs=("$corpus")
    [ -d "$dir/seeds/$h" ] && dirs+=("$dir/seeds/$h")
    [ -d "$src/tests/fuzz/regress/$h" ] && dirs+=("$src/tests/fuzz/regress/$h")
    # Inputs may grow to the largest seed (libFuzzer's own default stops
    # at 1 MiB, below a LUKS volume with its keyslots).
    local max
    max=$(find "${dirs[@]}" -type f -printf '%s\n' | sort -n | tail -n 1)
    [ "${max:-0}" -lt 4096 ] && max=4096
    local dict=()
    [ -f "$src/tests/fuzz/dict/$h.dict" ] && dict=(-dict="$src/tests/fuzz/dict/$h.dict")
    # -rss_limit_mb and -timeout: an input that needs more than 2 GiB or
    # 10 s is a finding (an uncapped allocation or loop).
    "$dir/build/fuzz/libfuzzer/$h" "${dirs[@]}" "${dict[@]}" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
        -max_len="$max" "${runs[@]}" -print_final_stats=1 -artifact_prefix="$out/" >"$log" 2>&1 ||
        rc=$?
    local last execs rate cov
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    rate=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
    printf '%-10s rc=%d execs=%s exec/s=%s cov=%s\n' "$h" "$rc" "${execs:-?}" "${rate:-?}" "${cov:-?}"
    if [ "$rc" -ne 0 ]; then
        grep -E 'ERROR:|SUMMARY:|Test unit written|runtime error' "$log" | head -n 8 | sed 's/^/    /'
        return 1
    fi
}

failed=0
pids=()
names=()
for h in "${harnesses[@]}"; do
    run_one "$h" &
    pids+=($!)
    names+=("$h")
    if [ "${#pids[@]}" -ge "$jobs" ]; then
        wait "${pids[0]}" || failed=1
        pids=("${pids[@]:1}")
        names=("${names[@]:1}")
    fi
done
for p in "${pids[@]}"; do
    wait "$p" || failed=1
done
if [ "$failed" -ne 0 ]; then
    echo "fuzzing found problems: inputs in $dir/findings/, logs in $dir/log/" >&2
    exit 1
fi
echo "fuzzing: ${#harnesses[@]} harnesses, ${seconds}s each, no findings"
