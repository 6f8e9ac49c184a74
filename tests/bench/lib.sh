# SPDX-License-Identifier: LGPL-2.1-or-later
# lib.sh - sourced by the benchmark scripts: the tools they need, their
# work directory and the 1 GiB source data they share.

# bench_needs NAME TOOL...: stops the benchmark NAME when a tool is missing.
bench_needs() {
    local name=$1 t
    shift
    for t in "$@"; do
        command -v "$t" >/dev/null || { echo "$name bench: $t not found"; exit 1; }
    done
}

# bench_workdir BASE: a fresh directory under BASE in $W, removed at exit
# unless the script sets its own EXIT trap afterwards (which must remove $W).
bench_workdir() {
    W=$(mktemp -d "$1/strata-bench-XXXXXX")
    trap 'rm -rf "$W"' EXIT
}

# bench_source FILE: 1 GiB of non-zero data throughout, so that no tool
# can skip a block as a hole; and the passphrase file $W/pass.
bench_source() {
    head -c 16777216 /dev/urandom >"$W/r16"
    local _
    for _ in $(seq 64); do cat "$W/r16"; done >"$1"
    rm "$W/r16"
    printf 'bench passphrase' >"$W/pass"
}

# MB/s of $size bytes in $1 seconds; $1 over $2 to two places.
mbs() { echo "scale=1; $size / 1000000 / $1" | bc -l; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }
