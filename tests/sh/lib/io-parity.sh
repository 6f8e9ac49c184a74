# SPDX-License-Identifier: LGPL-2.1-or-later
# io-parity.sh - sourced by the shell tests that run qemu-io and strata-io
# side by side (after common.sh, from inside $T): same and piped compare
# their output and exit status.
# Named qemu-io, strata-io speaks as qemu-io (prompt, message prefix).
mkdir ours && ln -s "$STRATA_BUILD/bin/strata-io" ours/qemu-io

mask() {
    sed -E 's#[0-9]+ ops; [0-9/:. sec]+ \([0-9/.inf]+ [EPTGMKiBbytes]+/sec and [0-9/.inf]+ ops/sec\)#X ops; TIME#;
            s#^[0-9]+,[0-9]+,[0-9:.]+,[0-9.]+,[0-9.]+$#C-LINE#'
}

# same IMAGE-SETUP ARGS...: runs qemu-io and strata-io with ARGS on fresh
# copies of the image made by IMAGE-SETUP, stdout and stderr in one pipe.
same() {
    local setup=$1; shift
    local who
    for who in theirs ours; do
        rm -f img.raw; $setup
        local rc=0
        if [ $who = ours ]; then ./ours/qemu-io "$@" > $who.out 2>&1 || rc=$?
        else qemu-io "$@" > $who.out 2>&1 || rc=$?; fi
        echo "exit $rc" >> $who.out
        mask < $who.out > $who.txt
    done
    diff -u theirs.txt ours.txt > diff.txt || fail "qemu-io $* differs:
$(cat diff.txt)"
}
# piped ... : the same with the commands on standard input
# (PIPED_FILTER: a sed script applied to both outputs first)
piped() {
    local setup=$1 input=$2; shift 2
    local who
    for who in theirs ours; do
        rm -f img.raw; $setup
        local rc=0
        if [ $who = ours ]; then printf '%b' "$input" | ./ours/qemu-io "$@" > $who.out 2>&1 || rc=$?
        else printf '%b' "$input" | qemu-io "$@" > $who.out 2>&1 || rc=$?; fi
        echo "exit $rc" >> $who.out
        sed -e "${PIPED_FILTER:-}" $who.out | mask > $who.txt
    done
    diff -u theirs.txt ours.txt > diff.txt || fail "piped qemu-io $* differs:
$(cat diff.txt)"
}
