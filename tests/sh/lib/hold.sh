# SPDX-License-Identifier: LGPL-2.1-or-later
# hold.sh - sourced by the shell tests (after common.sh): keeps an image open
# for writing in a strata-io session, so that another program holds its
# lock, until the test lets it go.

# hold_open FILE: returns once the session has FILE open (a reader taking
# locks is then refused).
hold_open() {
    HOLD_FIFO=$T/hold.fifo
    rm -f "$HOLD_FIFO"
    mkfifo "$HOLD_FIFO"
    "$STRATA_BUILD/bin/strata-io" -f raw "$1" < "$HOLD_FIFO" > /dev/null 2>&1 &
    HOLD_PID=$!
    exec 9> "$HOLD_FIFO"
    local i
    for i in $(seq 100); do
        "$STRATA_BUILD/bin/strata-img" info -f raw "$1" > /dev/null 2>&1 || return 0
        sleep 0.1
    done
    fail "strata-io does not hold a lock on $1"
}

# hold_release: ends the session (end of its input) and checks its status.
hold_release() {
    exec 9>&-
    wait "$HOLD_PID" || fail "the strata-io session holding the image failed"
}
