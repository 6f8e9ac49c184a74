# SPDX-License-Identifier: LGPL-2.1-or-later
# lib.sh - sourced by tests/crash/crashtest.sh and against-qemu.sh (after
# tests/sh/lib/common.sh): runs a workload through logwrites nodes and
# checks every crash state strata-replay names for its log.
#
# Streams: 0 is the image file (below the format), 1 the guest's requests
# (above the format), 2 a second file (a backing file).  A workload runs on
# $IMG (and $IMG2), $W/run/s.img and s2.img, and writes $W/log;
# $W/base.img (and $W/base2.img) hold the files before it and $W/guest.raw
# the guest's content before it.  States are built as $W/s.img and
# $W/s2.img: the same names, so that a relative backing file name finds
# the state of the backing file.

STATES_TOTAL=0
declare -A STATES_BY_WORKLOAD=()

# Random cuts per workload ($RANDOM_CUTS) and their seed ($SEED) come from
# crashtest.sh; so does $QUICK (flush points are then sampled).

# crash_points: the states to check, "CUT DROP-SEED KIND" a line.  In quick
# mode only some flush points are kept, spread over the log, the last one
# always.
crash_points() {
    strata-replay points -r "$RANDOM_CUTS" -S "$SEED" "$@" "$W/log" >"$W/points.all"
    if [ -n "$QUICK" ]; then
        awk -v keep="$QUICK_FLUSHES" '
            $3 == "flush" { f[++n] = $0; next } { print }
            END { if (n <= keep) { for (i = 1; i <= n; i++) print f[i]; exit }
                  for (i = 1; i <= keep; i++) print f[int((i * n) / keep)] }' \
            "$W/points.all"
    else
        cat "$W/points.all"
    fi
}

# build_state CUT SEED: $W/s.img (and $W/s2.img for stream 2) as the cut
# leaves them.
build_state() {
    strata-replay build -s 0 -c "$1" -d "$2" "$W/log" "$W/base.img" "$W/s.img" ||
        fail "$WORKLOAD: cannot build state $1/$2"
    if [ -f "$W/base2.img" ]; then
        strata-replay build -s 2 -c "$1" -d "$2" "$W/log" "$W/base2.img" "$W/s2.img" ||
            fail "$WORKLOAD: cannot build state $1/$2 of the second file"
    fi
}

# for_each_state CHECK [POINTS OPTIONS]: CHECK CUT SEED KIND for every state.
# With NO_DROP set, random cuts lose no write: states in the order the
# writes were issued only (for formats that promise no more).
for_each_state() {
    local check=$1 cut seed kind n=0
    shift
    crash_points "$@" >"$W/points"
    while read -r cut seed kind; do
        [ -z "${NO_DROP:-}" ] || seed=0
        build_state "$cut" "$seed"
        STATE="$WORKLOAD state cut=$cut drop-seed=$seed ($kind)"
        "$check" "$cut" "$seed" "$kind"
        n=$((n + 1))
    done <"$W/points"
    STATES_BY_WORKLOAD[$WORKLOAD]=$n
    STATES_TOTAL=$((STATES_TOTAL + n))
    echo "ok $WORKLOAD: $n crash states"
}

# check_metadata FMT IMG: strata-img check is clean, or repairable with
# -r all and clean after; qemu-img check agrees on qcow2 before and after
# the repair.  With $KEY (format options giving the key, secrets from
# $SECRETS) both open the image with it.
check_metadata() {
    local fmt=$1 img=$2 rc=0 qrc=0 src=(-f "$1" "$2")
    [ -z "${KEY:-}" ] ||
        src=("${SECRETS[@]}" --image-opts "driver=$fmt,$KEY,file.filename=$img")
    strata-img check "${src[@]}" >"$W/check.out" 2>&1 || rc=$?
    if [ "$fmt" = qcow2 ]; then
        qemu-img check "${src[@]}" >"$W/qcheck.out" 2>&1 || qrc=$?
        [ "$rc" = "$qrc" ] || leaks_past_eof "$img" "$rc" "$qrc" ||
            { cat "$W/check.out" "$W/qcheck.out" >&2
              fail "$STATE: strata-img check exits $rc, qemu-img check $qrc"; }
    fi
    case $rc in
    0) return 0 ;;
    2 | 3) ;;
    *) cat "$W/check.out" >&2; fail "$STATE: strata-img check exits $rc" ;;
    esac
    cp "$img" "$W/unrepaired.img"
    strata-img check -r all "${src[@]}" >"$W/repair.out" 2>&1 || true
    strata-img check "${src[@]}" >"$W/check.out" 2>&1 ||
        { cat "$W/repair.out" "$W/check.out" >&2; fail "$STATE: not clean after check -r all"; }
    if [ "$fmt" = qcow2 ]; then
        qemu-img check "${src[@]}" >"$W/qcheck.out" 2>&1 ||
            { cat "$W/qcheck.out" >&2; fail "$STATE: qemu-img check finds problems after the repair"; }
    fi
    REPAIRED=$((REPAIRED + 1))
}
REPAIRED=0

# leaks_past_eof IMG RC QRC: the one known difference between the checks:
# clusters past the end of the file that the refcounts still hold (a cut
# after a refcount update, before the write that grew the file) are leaks
# to strata-img check, which reads every refcount block, and nothing to
# qemu-img check, which stops at the end of the file.
leaks_past_eof() {
    local img=$1 rc=$2 qrc=$3 cs size
    [ "$rc" = 3 ] && [ "$qrc" = 0 ] || return 1
    cs=$(qemu-img info -U -f qcow2 "$img" 2>/dev/null | awk '$1 == "cluster_size:" { print $2 }')
    size=$(stat -c %s "$img")
    awk -v cs="$cs" -v size="$size" '
        /^Leaked cluster/ { n++; if ($3 * cs < size) bad = 1 }
        END { exit !(n > 0 && !bad) }' "$W/check.out"
}

# check_guest CUT SOURCE...: the image opens (SOURCE: strata-img convert's
# arguments naming it) and holds all the guest had written and flushed
# before the cut (stream 1's log against $W/guest.raw).
check_guest() {
    local cut=$1
    shift
    strata-img convert "$@" -O raw "$W/g.raw" 2>"$W/convert.err" ||
        { cat "$W/convert.err" >&2; fail "$STATE: the image does not open"; }
    strata-replay verify -s 1 -c "$cut" "$W/log" "$W/guest.raw" "$W/g.raw" ||
        fail "$STATE: data written and flushed before the cut is lost"
}

# guest_must_catch: the check can fail: the guest's flushed data is not in
# the content before the workload, so verify must refuse that at the end.
guest_must_catch() {
    local n
    n=$(strata-replay list "$W/log" | wc -l)
    if strata-replay verify -s 1 -c "$n" "$W/log" "$W/guest.raw" "$W/guest.raw" 2>/dev/null; then
        fail "$WORKLOAD: verify accepts the content from before the workload"
    fi
}

# start_workload NAME: a fresh scratch directory $W.
start_workload() {
    WORKLOAD=$1
    W=$T/$1
    IMG=$W/run/s.img
    IMG2=$W/run/s2.img
    rm -rf "$W"
    mkdir -p "$W/run"
}

# io_script COUNT SIZE SPAN MAXLEN: strata-io -c arguments for COUNT writes
# of a pattern each at pseudo-random offsets below SPAN, lengths up to
# MAXLEN (multiples of 512), a flush after every third, from $SEED.
io_script() {
    awk -v n="$1" -v span="$2" -v maxlen="$3" -v seed="$SEED" 'BEGIN {
        srand(seed)
        for (i = 1; i <= n; i++) {
            len = 512 * (1 + int(rand() * maxlen / 512))
            off = 512 * int(rand() * (span - len) / 512)
            printf "-c\nwrite -q -P %d %d %d\n", 1 + (i % 250), off, len
            if (i % 3 == 0) printf "-c\nflush\n"
        }
    }'
}

dump() { # IMG OUT: the guest's content through strata ($FMT, default qcow2)
    strata-img convert -f "${FMT:-qcow2}" -O raw "$1" "$2" 2>"$W/convert.err" ||
        { cat "$W/convert.err" >&2; fail "${STATE:-$WORKLOAD}: $1 does not open"; }
}

# check_allowed: metadata, and the guest content is one of the allowed.
check_allowed() {
    local a
    check_metadata qcow2 "$W/s.img"
    [ ! -f "$W/s2.img" ] || check_metadata qcow2 "$W/s2.img"
    dump "$W/s.img" "$W/g.raw"
    for a in "$W"/allowed.*.raw; do
        cmp -s "$W/g.raw" "$a" && return 0
    done
    fail "$STATE: the guest sees neither the content before the operation nor after it"
}

# clusters_old_or_new RAW CLUSTER-SIZE: each cluster of RAW is the same
# cluster of $W/backing.old.raw or of $W/backing.new.raw.
clusters_old_or_new() {
    local bad
    bad=$({ cmp -l "$1" "$W/backing.old.raw" | awk -v cs="$2" '{ print "old", int(($1 - 1) / cs) }'
            cmp -l "$1" "$W/backing.new.raw" | awk -v cs="$2" '{ print "new", int(($1 - 1) / cs) }'
          } | awk '{ d[$2] = d[$2] " " $1 }
                   END { for (c in d) if (d[c] ~ /old/ && d[c] ~ /new/) print c }')
    [ -z "$bad" ] || { echo "clusters neither old nor new: $bad" >&2; return 1; }
}
# check_commit: after a commit's cut, the overlay's view is as before
# ($W/allowed.before.raw) and its backing file holds each cluster old or new.
check_commit() {
    check_allowed
    dump "$W/s2.img" "$W/b.raw"
    [ "$(stat -c %s "$W/b.raw")" = "$(stat -c %s "$W/backing.old.raw")" ] ||
        fail "$STATE: the backing file changed its size"
    clusters_old_or_new "$W/b.raw" 4096 ||
        fail "$STATE: a cluster of the backing file is neither its old nor its new content"
}
