# SPDX-License-Identifier: LGPL-2.1-or-later
# strata-io's cache and AIO options (-t, -n, -i, -k) as qemu-io's: the system
# calls each cache mode makes on the image, seen with strace and held
# against what qemu-io makes for the same commands; data written through
# O_DIRECT reads back; the AIO modes strata does not have are refused.
. "$(dirname "$0")/lib/common.sh"

IO=$STRATA_BUILD/bin/strata-io
need qemu-io strace stdbuf
cd "$T"

truncate -s 1M c.raw

# trace TOOL MODE: runs TOOL -t MODE on c.raw under strace, the trace and
# the tool's output in one pipe (in order: both tools keep their output in
# a buffer when it is a pipe, so stdbuf makes them flush each line), reduced
# to one letter a line: D for an O_DIRECT open
# of the image, S for a sync, W when the write has completed, R when the
# read after the flush has.
trace() {
    local run=(stdbuf -oL "$1")
    # LeakSanitizer cannot run under ptrace: a sanitizer build skips it here;
    # and stdbuf's preloaded library comes before the ASan runtime.
    ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0:verify_asan_link_order=0" \
        strace -f -e trace=openat,fdatasync,fsync \
        "${run[@]}" -t "$2" -f raw -c 'write -P 0x5a 0 4k' -c flush -c 'read 0 4k' c.raw \
        2>&1 | cat >trace.txt || fail "$1 -t $2 failed: $(cat trace.txt)"
    awk '/openat\(.*"c\.raw".*O_DIRECT/ { printf "D"; next }
         /fdatasync\(|fsync\(/ { printf "S"; next }
         /^wrote / { printf "W"; next }
         /^read / { printf "R" }' trace.txt
}

# facts SIGNATURE: direct, syncs before the write completed, syncs between
# the write and the read (the flush), syncs in all.
facts() {
    local s=$1 before=${1%%W*} between=${1#*W}
    between=${between%%R*}
    local all=${s//[^S]/}
    before=${before//[^S]/} between=${between//[^S]/}
    echo "direct=$([[ $s == *D* ]] && echo yes || echo no)" \
         "write-syncs=${#before} flush-syncs=${#between} syncs=${#all}"
}

# expect MODE DIRECT WRITE-SYNCED FLUSH-SYNCED: checks one tool's facts.
# FLUSH-SYNCED "any" where the tools differ: after a written-through write
# qemu-io skips the flush, there being nothing left to sync.
check() {
    local who=$1 mode=$2 f=$3 direct=$4 wsync=$5 fsync=$6
    [[ $f == *"direct=$direct "* ]] || fail "$who -t $mode: O_DIRECT should be $direct: $f"
    case $wsync in
    yes) [[ $f != *"write-syncs=0 "* ]] || fail "$who -t $mode: write not synced: $f" ;;
    no) [[ $f == *"write-syncs=0 "* ]] || fail "$who -t $mode: write synced: $f" ;;
    esac
    case $fsync in
    yes) [[ $f != *"flush-syncs=0 "* ]] || fail "$who -t $mode: flush not synced: $f" ;;
    no) [[ $f == *"syncs=0" && $f == *"flush-syncs=0 "* ]] ||
            fail "$who -t $mode: synced at all: $f" ;;
    esac
}

while read -r mode direct wsync fsync; do
    sig=$(trace "$IO" "$mode")
    [[ $sig == *W*R* ]] || fail "strata-io -t $mode: write or read missing: $(cat trace.txt)"
    check strata-io "$mode" "$(facts "$sig")" "$direct" "$wsync" "$fsync"
    qsig=$(trace qemu-io "$mode")
    [[ $qsig == *W*R* ]] || fail "qemu-io -t $mode: write or read missing: $(cat trace.txt)"
    check qemu-io "$mode" "$(facts "$qsig")" "$direct" "$wsync" "$fsync"
    qemu-io -f raw -c 'read -P 0x5a 0 4k' c.raw | contains 'Pattern verification failed' &&
        fail "-t $mode: data not written"
    truncate -s 0 c.raw && truncate -s 1M c.raw
done <<'EOF'
none yes no yes
writeback no no yes
writethrough no yes any
directsync yes yes any
unsafe no no no
EOF

# The mode reaches every file node of the stack: a qcow2 image and its
# backing file are both opened with O_DIRECT.
qemu-img create -q -f raw base.raw 1M
qemu-img create -q -f qcow2 -b base.raw -F raw top.qcow2
ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" \
    strace -f -e trace=openat -o trace.txt "$IO" -t none -c 'read 0 4k' top.qcow2 >/dev/null ||
    fail "strata-io -t none on qcow2 over raw"
grep -q '"top.qcow2".*O_DIRECT' trace.txt || fail "-t none: qcow2 file not O_DIRECT"
grep -q 'base.raw".*O_DIRECT' trace.txt || fail "-t none: backing file not O_DIRECT"

# ------------------------------------------------------------ data through O_DIRECT
truncate -s 1M d.raw
"$IO" -t none -f raw -c 'write -P 0x11 512 1024' -c 'write -P 0x22 4097 333' d.raw >/dev/null ||
    fail "-t none writes"
"$IO" -t none -f raw -c 'read -P 0x11 512 1024' -c 'read -P 0x22 4097 333' \
    -c 'read -P 0 4096 1' -c 'read -P 0 4430 100' d.raw | contains 'Pattern verification failed' &&
    fail "-t none: data read back wrong"
qemu-io -f raw -c 'read -P 0x11 512 1024' -c 'read -P 0x22 4097 333' -c 'read -P 0 0 512' d.raw |
    contains 'Pattern verification failed' && fail "-t none: qemu-io reads other data"

# -n is -t none; --cache= long form.
ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" \
    strace -e trace=openat -o trace.txt "$IO" -n -f raw -c 'write 0 512' d.raw >/dev/null ||
    fail "-n failed"
grep -q '"d.raw".*O_DIRECT' trace.txt || fail "-n did not open with O_DIRECT: $(cat trace.txt)"
ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" \
    strace -e trace=openat -o trace.txt "$IO" --nocache --cache=writeback -f raw -c 'read 0 512' d.raw \
    >/dev/null || fail "--cache=writeback failed"
grep '"d.raw"' trace.txt | contains O_DIRECT && fail "the last cache option does not win"

# ------------------------------------------------------------ refusals
"$IO" -t bogus -f raw -c 'read 0 512' d.raw >out.txt 2>err.txt && fail "-t bogus accepted"
grep -q "invalid cache mode 'bogus'" err.txt || fail "-t bogus: $(cat err.txt)"
grep -q "directsync" err.txt || fail "-t bogus: modes not listed: $(cat err.txt)"

out=$("$IO" --aio threads -f raw -c 'write -P 0x33 0 4k' -c 'read -P 0x33 0 4k' d.raw) ||
    fail "--aio threads failed"
echo "$out" | contains 'Pattern verification failed' && fail "--aio threads: data wrong"
"$IO" -i threads -t writeback -f raw -c 'read 0 4k' d.raw >/dev/null || fail "-i threads failed"

for args in "--aio native" "-i io_uring" "--aio=native" "-k"; do
    cp d.raw before.raw
    # shellcheck disable=SC2086
    st=0; "$IO" $args -f raw -c 'write -P 0x44 0 4k' d.raw >out.txt 2>err.txt || st=$?
    [ "$st" = 1 ] || fail "$args: exit status $st, not 1"
    mode=native; [[ $args == *io_uring* ]] && mode=io_uring
    grep -qx "strata-io: --aio $mode is not supported (use threads)" err.txt ||
        fail "$args: $(cat err.txt)"
    cmp -s d.raw before.raw || fail "$args: refused, yet the image was written"
done
"$IO" --aio bogus -f raw -c 'read 0 512' d.raw 2>err.txt && fail "--aio bogus accepted"
grep -q "invalid aio mode 'bogus'" err.txt || fail "--aio bogus: $(cat err.txt)"

"$IO" --help | contains -- '--cache' || fail "--help does not mention --cache"
"$IO" --help | contains -- '--aio' || fail "--help does not mention --aio"
exit 0
