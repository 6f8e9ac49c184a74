# SPDX-License-Identifier: LGPL-2.1-or-later
# nbd.sh - sourced by the NBD tests after common.sh: NBD servers on Unix
# sockets in the scratch directory, each killed by the exit trap.
#
#   nbd_start NAME nbdkit-args...   starts `nbdkit -f -U $T/NAME.sock ARGS`
#   nbd_start_qemu NAME args...     starts `qemu-nbd -k $T/NAME.sock ARGS`
#   nbd_stop NAME / nbd_kill NAME   SIGTERM and wait / SIGKILL and wait
#   nbd_uri NAME                    nbd+unix:///?socket=$T/NAME.sock
#   $NBD_PLUGIN                     the strata plugin in the build tree
#   nbd_nbdkit args...              runs nbdkit in the foreground, bounded

NBD_PLUGIN=$STRATA_BUILD/lib/strata/nbdkit/nbdkit-strata-plugin.so
[ -f "$NBD_PLUGIN" ] || fail "$NBD_PLUGIN not built"
for tool in nbdkit qemu-img qemu-io; do
    command -v "$tool" >/dev/null || fail "$tool not found (tools/build-deps.sh installs it)"
done

declare -A NBD_PIDS=()

# nbdkit is not built with the sanitizers a sanitizer build of the plugin
# needs: their runtimes are preloaded (nbdkit's own leaks are not ours).
NBD_ENV=()
if [ -n "${STRATA_SAN_CFLAGS:-}" ]; then
    NBD_ENV=("LD_PRELOAD=$(ldd "$NBD_PLUGIN" | awk '/libasan|libubsan/ { printf "%s ", $3 }')"
             ASAN_OPTIONS=detect_leaks=0)
fi
# For the runs that must fail to start; bounded, since with the sanitizer
# runtimes nbdkit can hang on its way out (see nbd_stop).
# A sanitizer build waits less, since that hang comes after the work.
NBD_BOUND=30
[ ${#NBD_ENV[@]} -gt 0 ] && NBD_BOUND=12
nbd_nbdkit() { timeout -s KILL $NBD_BOUND env "${NBD_ENV[@]}" nbdkit "$@"; }
# nbd_san_killed RC: true when RC is nbdkit killed by one of those bounds in
# a sanitizer build, where it can hang on its way out after doing its work:
# its status then tells nothing, and the caller checks what it did instead
# (the data copied, the message printed).
nbd_san_killed() { [ ${#NBD_ENV[@]} -gt 0 ] && { [ "$1" = 137 ] || [ "$1" = 124 ]; }; }

nbd_cleanup() {
    local name
    for name in "${!NBD_PIDS[@]}"; do
        kill -9 "${NBD_PIDS[$name]}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$T"
}
trap nbd_cleanup EXIT

nbd_sock() { echo "$T/$1.sock"; }
nbd_uri() { echo "nbd+unix:///?socket=$T/$1.sock"; }

# Waits (at most 15 s) for the socket of server $1 (pid $2) to appear.
nbd_wait_ready() {
    local name=$1 pid=$2 i
    for ((i = 0; i < 300; i++)); do
        [ -S "$T/$name.sock" ] && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$T/$name.log" >&2 || true
            fail "server $name exited before listening"
        fi
        sleep 0.05
    done
    cat "$T/$name.log" >&2 || true
    fail "server $name did not listen within 15 s"
}

nbd_start() {
    local name=$1; shift
    rm -f "$T/$name.sock"
    # Fds the test keeps open (fifo writers) must not stay open in servers.
    # env execs nbdkit: $! is nbdkit's own pid.
    env "${NBD_ENV[@]}" nbdkit -f --exit-with-parent -U "$T/$name.sock" "$@" \
        >>"$T/$name.log" 2>&1 3>&- 4>&- &
    NBD_PIDS[$name]=$!
    nbd_wait_ready "$name" $!
}

nbd_start_qemu() {
    local name=$1; shift
    rm -f "$T/$name.sock"
    qemu-nbd -k "$T/$name.sock" "$@" >>"$T/$name.log" 2>&1 3>&- 4>&- &
    NBD_PIDS[$name]=$!
    nbd_wait_ready "$name" $!
}

# A stopped server has flushed and closed its stack.  With the sanitizer
# runtimes preloaded, nbdkit can deadlock in a library destructor (p11-kit's
# freelocale) after the plugin has closed; it is killed then.
nbd_stop() {
    local pid=${NBD_PIDS[$1]:-} i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 600; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        if [ ${#NBD_ENV[@]} -gt 0 ] && [ $i -ge 100 ]; then
            kill -9 "$pid" 2>/dev/null || true
        fi
        sleep 0.05
    done
    kill -0 "$pid" 2>/dev/null && fail "server $1 did not stop within 30 s"
    wait "$pid" 2>/dev/null || true
    unset "NBD_PIDS[$1]"
}

nbd_kill() {
    local pid=${NBD_PIDS[$1]:-}
    [ -n "$pid" ] || return 0
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "NBD_PIDS[$1]"
}
