# SPDX-License-Identifier: LGPL-2.1-or-later
# hold.sh - sourced by the shell tests (after common.sh): keeps an image open
# for writing in a strata-io session, so that another program holds its
# lock, until the test lets it go.

# hold_open FILE: returns once the session has FILE open.  A read through the
# session shows that; polling with another opener would not, as that opener's
# own locks can make the session's open fail.
hold_open() {
    HOLD_FIFO=$T/hold.fifo
    HOLD_OUT=$T/hold.out
    rm -f "$HOLD_FIFO"
    mkfifo "$HOLD_FIFO"
    "$STRATA_BUILD/bin/strata-io" -f raw "$1" < "$HOLD_FIFO" > "$HOLD_OUT" 2>&1 &
    HOLD_PID=$!
    exec 9> "$HOLD_FIFO"
    echo "read 0 512" >&9
    local i
    for i in $(seq 300); do
        grep -q 'bytes at offset 0' "$HOLD_OUT" && return 0
        kill -0 "$HOLD_PID" 2> /dev/null || break
        sleep 0.1
    done
    fail "strata-io does not hold $1 open: $(cat "$HOLD_OUT")"
}

# hold_release: ends the session (end of its input) and checks its status.
hold_release() {
    exec 9>&-
    wait "$HOLD_PID" || fail "the strata-io session holding the image failed"
}
