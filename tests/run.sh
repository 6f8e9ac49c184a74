#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the whole suite: every test program in $STRATA_BUILD/tests and every
# script in tests/sh, each counted as one passed or failed entry; the last
# line is the total.  A test that exits 77 (skip) is counted as failed: a
# test that cannot run here has not passed.
#
# STRATA_TESTS="name1 name2" runs only those entries.
set -u
build=${STRATA_BUILD:?STRATA_BUILD not set (run through make check)}
src=${STRATA_SRCDIR:?STRATA_SRCDIR not set (run through make check)}
export STRATA_BUILD=$build STRATA_SRCDIR=$src
export PATH="$build/bin:$PATH"
logdir=$build/test-logs
mkdir -p "$logdir"

passed=0 failed=0 failed_names=()
run_one() {
    local name=$1; shift
    if [ -n "${STRATA_TESTS:-}" ] && ! [[ " $STRATA_TESTS " == *" $name "* ]]; then
        return
    fi
    local log=$logdir/$name.log start=$SECONDS
    if "$@" >"$log" 2>&1; then
        passed=$((passed + 1))
        printf 'PASS  %-36s (%ds)\n' "$name" $((SECONDS - start))
    else
        local rc=$?
        failed=$((failed + 1))
        failed_names+=("$name")
        printf 'FAIL  %-36s (exit %d, log %s)\n' "$name" "$rc" "$log"
        tail -n 25 "$log" | sed 's/^/      | /'
    fi
}

for t in "$build"/tests/*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    run_one "$(basename "$t")" "$t"
done
for s in "$src"/tests/sh/*.sh; do
    [ -f "$s" ] || continue
    run_one "$(basename "$s" .sh)" bash "$s"
done

echo
if [ "$failed" -gt 0 ]; then
    echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
