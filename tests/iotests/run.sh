#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run.sh - runs QEMU's own test suite (qemu-iotests) with strata-img and
# strata-io standing in for qemu-img and qemu-io (make iotests).
#
#   QEMU_SRC=DIR tests/iotests/run.sh [--baseline] [FMT...]
#
# DIR is an unpacked QEMU source tree with its distribution's patches
# applied, of the same version as the installed qemu-img.  On Debian,
# without touching the system's apt configuration:
#
#   mkdir -p ~/aptsrc/sources.list.d ~/aptsrc/lists/partial
#   sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
#       > ~/aptsrc/sources.list.d/src.sources
#   o="-o Dir::Etc::SourceParts=$HOME/aptsrc/sources.list.d
#      -o Dir::Etc::SourceList=/dev/null -o Dir::State::Lists=$HOME/aptsrc/lists"
#   apt-get $o update && apt-get $o source --download-only qemu
#   tar xf qemu_*.orig.tar.xz && cd qemu-*/ && tar xf ../qemu_*.debian.tar.xz
#   for p in $(grep -v '^#' debian/patches/series); do
#       patch -p1 < debian/patches/$p; done  FMT is raw, qcow2, qcow or luks (default: all four).
#
# Only tests that need no system emulator run: the suite's `check` insists
# on one, so it gets a stub that answers its probe and fails everything
# else, and tests that start QEMU, the storage daemon or the VM class are
# left out.  qemu-nbd stays the real one.
#
# --baseline runs the same selection with the real qemu-img and qemu-io
# and writes the tests that pass to tests/iotests/baseline/FMT.list.  A
# LUKS test that fails on qemu-img's PBKDF2 calibration ("Unable to get
# accurate CPU usage") on a busy machine is retried.
#
# Without --baseline, strata runs the baseline list; tests named in
# tests/iotests/deliberate.list (kept different on purpose, with the
# reason) are run and reported apart.  The output ends with one
# "FMT: N of M pass" line per format; each failure's diff is printed.
# IOTESTS_TESTS="019 058" runs only those of the baseline.
# Exit status: 0 when every non-deliberate baseline test passed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${STRATA_BUILD:-$here/../../build}
build=$(cd "$build" && pwd)
src=${QEMU_SRC:?QEMU_SRC=DIR: an unpacked QEMU source tree (apt-get source qemu)}
iot=$src/tests/qemu-iotests
[ -x "$iot/check" ] || { echo "$0: $iot/check not found: is QEMU_SRC a QEMU source tree?" >&2; exit 2; }

baseline=false
if [ "${1:-}" = "--baseline" ]; then baseline=true; shift; fi
formats=("$@")
[ ${#formats[@]} -gt 0 ] || formats=(raw qcow2 qcow luks)

for t in qemu-img qemu-io qemu-nbd; do
    command -v "$t" >/dev/null || { echo "$0: $t not found (Debian package qemu-utils)" >&2; exit 2; }
done

work=$build/iotests
mkdir -p "$work"

# The suite's check wants a system emulator; this stub answers its
# '-machine help' probe and fails anything else.
stub=$work/no-system-emulator
cat > "$stub" <<'EOF'
#!/bin/sh
if [ "$1 $2" = "-machine help" ]; then
    printf 'Supported machines are:\npc                   Standard PC (default)\n'
    exit 0
fi
echo "qemu-system: not available in this test run" >&2
exit 1
EOF
chmod +x "$stub"

# Tests that start QEMU itself, the storage daemon or the Python VM class.
needs_vm='qemu-system|_launch_qemu|iotests\.VM|\$QEMU_PROG|\$QEMU[^_A-Z]|\$\{QEMU\}|qsd|storage.daemon|QSD|_send_qemu_cmd|qemu_comm_method|\bVM\(|QemuStorageDaemon|_cleanup_qemu|iotests\.qemu_'
candidates() {
    (cd "$iot" && for f in [0-9][0-9][0-9] tests/*; do
        [ -f "$f" ] || continue
        case "$f" in *.*) continue ;; esac
        grep -qE "$needs_vm" "$f" || echo "${f#tests/}"
    done)
}

# Runs check for one format over the given tests with the given tools;
# prints "name result" lines (pass, fail, skip) to stdout and the suite's
# own output, diffs included, to $log.
run_check() {
    local fmt=$1 img=$2 io=$3 log=$4; shift 4
    local dir=$work/$fmt-$(basename "$img")
    rm -rf "$dir" && mkdir -p "$dir"
    ln -s "$iot/check" "$dir/check"
    (cd "$dir" && QEMU_PROG=$stub QSD_PROG=$stub QEMU_IMG_PROG=$img QEMU_IO_PROG=$io \
        QEMU_NBD_PROG=$(command -v qemu-nbd) ./check -tap "-$fmt" -file "$@") >"$log" 2>&1
    awk -v fmt="$fmt" '
        $1 == "ok" && $2 == fmt { print $3, ($4 == "#" && $5 == "SKIP") ? "skip" : "pass" }
        $1 == "not" && $2 == "ok" && $3 == fmt { print $4, "fail" }' "$log"
}

# qemu-img and qemu-io under their own names: the tools name themselves
# after argv[0], so the suite's filters apply unchanged.
bindir=$work/bin
mkdir -p "$bindir"
ln -sf "$build/bin/strata-img" "$bindir/qemu-img"
ln -sf "$build/bin/strata-io" "$bindir/qemu-io"

status=0
summary=()
for fmt in "${formats[@]}"; do
    list=$here/baseline/$fmt.list
    if $baseline; then
        mapfile -t tests < <(candidates)
        run_check "$fmt" "$(command -v qemu-img)" "$(command -v qemu-io)" \
            "$work/$fmt-baseline.log" "${tests[@]}" > "$work/$fmt-baseline.res"
        # qemu-img's LUKS calibration fails at random on a busy machine.
        for try in 1 2 3; do
            mapfile -t again < <(awk '$2 == "fail" { print $1 }' "$work/$fmt-baseline.res")
            [ ${#again[@]} -gt 0 ] && [ "$fmt" = luks ] || break
            run_check "$fmt" "$(command -v qemu-img)" "$(command -v qemu-io)" \
                "$work/$fmt-retry$try.log" "${again[@]}" > "$work/$fmt-retry.res"
            awk 'NR == FNR { r[$1] = $2; next } { if ($1 in r) $2 = r[$1]; print }' \
                "$work/$fmt-retry.res" "$work/$fmt-baseline.res" > "$work/$fmt-merged.res"
            mv "$work/$fmt-merged.res" "$work/$fmt-baseline.res"
        done
        mkdir -p "$here/baseline"
        awk '$2 == "pass" { print $1 }' "$work/$fmt-baseline.res" > "$list"
        summary+=("$fmt: $(wc -l < "$list") tests pass with qemu-img $(qemu-img --version | awk 'NR == 1 { print $3 }')")
        continue
    fi

    [ -f "$list" ] || { echo "$0: no baseline for $fmt ($list): run with --baseline" >&2; exit 2; }
    mapfile -t tests < "$list"
    if [ -n "${IOTESTS_TESTS:-}" ]; then
        keep=()
        for t in "${tests[@]}"; do
            [[ " $IOTESTS_TESTS " == *" $t "* ]] && keep+=("$t")
        done
        tests=("${keep[@]}")
        [ ${#tests[@]} -gt 0 ] || continue
    fi
    log=$work/$fmt-strata.log
    run_check "$fmt" "$bindir/qemu-img" "$bindir/qemu-io" "$log" "${tests[@]}" > "$work/$fmt-strata.res"

    pass=0 total=0 dpass=0 dtotal=0 failed=()
    while read -r name result; do
        if grep -qE "^$fmt[[:space:]]+$name[[:space:]]" "$here/deliberate.list" 2>/dev/null; then
            dtotal=$((dtotal + 1)); [ "$result" = pass ] && dpass=$((dpass + 1))
            continue
        fi
        total=$((total + 1))
        if [ "$result" = pass ]; then pass=$((pass + 1)); else failed+=("$name"); fi
    done < "$work/$fmt-strata.res"
    # A baseline test that produced no result at all counts as failed.
    for t in "${tests[@]}"; do
        grep -q "^$t " "$work/$fmt-strata.res" || { total=$((total + 1)); failed+=("$t"); }
    done

    if [ ${#failed[@]} -gt 0 ]; then
        status=1
        echo "== $fmt: failures"
        for t in "${failed[@]}"; do
            echo "-- $fmt $t"
            awk -v fmt="$fmt" -v t="$t" '
                $0 == "# running " fmt " " t { on = 1; next }
                on && /^# running / { exit }
                on && !/^(ok|not ok) / { print }' "$log" | head -n 60
        done
    fi
    summary+=("$fmt: $pass of $total pass ($dpass of $dtotal deliberate differences pass)")
done

echo
printf '%s\n' "${summary[@]}"
exit $status
