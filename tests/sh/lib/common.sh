# SPDX-License-Identifier: LGPL-2.1-or-later
# common.sh - sourced by the shell tests: scratch directory, failure helper,
# and a strata installed once per build into a private prefix.
set -euo pipefail
: "${STRATA_BUILD:?run through make check}" "${STRATA_SRCDIR:?run through make check}"
T=$(mktemp -d "${TMPDIR:-/tmp}/strata-sh-XXXXXX")
trap 'rm -rf "$T"' EXIT

# In a sanitizer build, programs the tests compile against libstrata need the
# same flags, and foreign programs that load strata modules (nbdkit) need the
# sanitizer runtime preloaded, since it must come first.
SAN_CFLAGS=${STRATA_SAN_CFLAGS:-}
sanitizer_preload() {
    case "$SAN_CFLAGS" in
    *address*) echo "$(${CC:-cc} -print-file-name=libasan.so)" ;;
    esac
}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# ... | contains [GREP-OPTION...] PATTERN: grep -q that reads all of its input.
# grep -q stops at the first match, and a writer still writing then dies of
# SIGPIPE, which pipefail turns into a failed pipeline at random.
contains() {
    grep "$@" >/dev/null
}

# json_field FILE KEY: a top-level field of a JSON object ("" if absent).
json_field() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$1" "$2"
}

# need CMD...: fails naming the first command that is not installed and the
# Debian package that has it (tools/build-deps.sh installs them all).
need() {
    local c pkg
    for c in "$@"; do
        command -v "$c" >/dev/null && continue
        case $c in
        qemu-img | qemu-io | qemu-nbd) pkg=qemu-utils ;;
        cryptsetup) pkg=cryptsetup-bin ;;
        nbdcopy | nbdinfo) pkg=libnbd-bin ;;
        *) pkg=$c ;;
        esac
        fail "$c is not installed (Debian package $pkg)"
    done
}

# Big-endian fields of an image file, for tests that read or patch headers
# and tables: be64 FILE OFFSET prints 0x and 16 hex digits, be32 FILE OFFSET
# a decimal number; put_be FILE OFFSET VALUE BYTES writes VALUE there.
be64() { printf '0x%s' "$(od -An -v -t x8 --endian=big -j $(($2)) -N 8 "$1" | tr -d ' ')"; }
be32() { od -An -v -t u4 --endian=big -j $(($2)) -N 4 "$1" | tr -d ' '; }
put_be() {
    local hex
    hex=$(printf "%0$((2 * $4))x" "$3" | sed 's/../\\x&/g')
    printf "$hex" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}

# set_refcount QCOW2 CLUSTER VALUE: overwrites a refcount in place, for
# tests that damage an image (16-bit refcounts, cluster in the first block).
set_refcount() {
    local rb
    rb=$(be64 "$1" "$(be64 "$1" 48)")
    put_be "$1" $((rb + 2 * $2)) "$3" 2
}

# qemu_img_retry ARGS: qemu-img with ARGS, tried again while it fails with
# "Unable to get accurate CPU usage": qemu-img 7.2 calibrates PBKDF2 on every
# LUKS create or measure, and on a busy machine a small iter-time can make
# that calibration fail.  Other failures print qemu-img's message and return 1.
# Only the last try's output is printed.
qemu_img_retry() {
    local i
    for i in $(seq 10); do
        qemu-img "$@" >"$T/qemu-img.out" 2>"$T/qemu-img.err" && { cat "$T/qemu-img.out"; return 0; }
        contains "accurate CPU usage" "$T/qemu-img.err" || break
        sleep 0.2
    done
    cat "$T/qemu-img.err" >&2
    return 1
}

# Installs the build into $STRATA_BUILD/test-prefix (once per build: later
# callers reuse it while it is newer than libstrata, the tools and the
# Makefile, which holds what install writes) and prints the prefix.
strata_test_prefix() {
    local prefix=$STRATA_BUILD/test-prefix
    local lib=$STRATA_BUILD/lib/libstrata.so mk=$STRATA_BUILD/../Makefile f stale=false
    [ -e "$prefix/.stamp" ] || stale=true
    for f in "$lib" "$mk" "$STRATA_BUILD"/bin/strata-*; do
        [ "$f" -nt "$prefix/.stamp" ] && stale=true
    done
    if $stale; then
        rm -rf "$prefix"
        make -s -C "$STRATA_BUILD/.." install prefix="$prefix" >&2
        touch "$prefix/.stamp"
    fi
    echo "$prefix"
}

# sdk_build_example NAME HEADER: copies examples/NAME to $T/ex and builds it
# against the installed prefix with nothing but strata.pc (and HEADER, which
# must be installed), failing when it reaches into the source tree; prints
# the prefix.
sdk_build_example() {
    local prefix
    prefix=$(strata_test_prefix)
    [ -f "$prefix/lib/pkgconfig/strata.pc" ] || fail "strata.pc not installed"
    [ -f "$prefix/include/strata/$2" ] || fail "$2 not installed"
    cp -r "$STRATA_SRCDIR/examples/$1" "$T/ex"
    # As docs/plugin-guide.md has it: PKG_CONFIG_PATH on make's command line
    # (not in the environment).  The make flags of `make -s check` are
    # dropped so that the compiler lines can be checked.
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u PKG_CONFIG_PATH \
        make -C "$T/ex" PKG_CONFIG_PATH="$prefix/lib/pkgconfig" CFLAGS="-O2 -g $SAN_CFLAGS" \
        >"$T/build.log" 2>&1 ||
        { cat "$T/build.log" >&2; fail "the example does not build against the installed SDK"; }
    export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
    grep -q -- "-I$prefix/include" "$T/build.log" || fail "example not built with pkg-config strata"
    grep -qF -- "-I$STRATA_SRCDIR/include" "$T/build.log" &&
        fail "example reached into the source tree"
    echo "$prefix"
}
