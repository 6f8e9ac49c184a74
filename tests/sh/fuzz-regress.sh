# SPDX-License-Identifier: LGPL-2.1-or-later
# The fuzz harnesses' regression inputs (tests/fuzz/regress/NAME/), each
# replayed through its harness linked to the replay driver: an input that
# once crashed, hung, leaked or asked for too much must now be refused
# cleanly.  A crash, a sanitizer report (in a sanitizer build) or a replay
# that runs past its time fails the test.  Also: the KDF cost hook that
# fuzz builds use does not exist in this, a normal, build.
. "$(dirname "$0")/lib/common.sh"

regress=$STRATA_SRCDIR/tests/fuzz/regress
replays=("$STRATA_BUILD"/fuzz/replay/*)
[ -x "${replays[0]}" ] || fail "no replay programs in $STRATA_BUILD/fuzz/replay"

# Every harness has a regression set and every set a harness.
for r in "${replays[@]}"; do
    h=$(basename "$r")
    [ -n "$(find "$regress/$h" -type f 2>/dev/null)" ] || fail "$regress/$h: no regression inputs"
done
for d in "$regress"/*/; do
    [ -x "$STRATA_BUILD/fuzz/replay/$(basename "$d")" ] ||
        fail "$d: no harness $(basename "$d") (tests/fuzz/fuzz-$(basename "$d").c)"
done

# The replay driver reports what it cannot read.
if "${replays[0]}" "$T/absent" >"$T/out" 2>&1; then
    fail "replaying a missing file succeeded"
fi

# A harness that crashes on one input fails its replay: the replay driver
# of this build, linked to a harness made to abort on "boom".
cat >"$T/boom.c" <<'C'
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 4 && memcmp(data, "boom", 4) == 0)
        abort();
    return 0;
}
C
${CC:-cc} $SAN_CFLAGS -o "$T/boom" "$T/boom.c" "$STRATA_BUILD/obj/tests/fuzz/replay.o" ||
    fail "the replay driver does not link to a harness"
mkdir "$T/inputs"
printf calm >"$T/inputs/a"
"$T/boom" "$T/inputs" >"$T/out" 2>&1 || fail "replaying a harmless input failed"
printf boom >"$T/inputs/b"
if "$T/boom" "$T/inputs" >"$T/out" 2>&1; then
    fail "replaying an input that crashes its harness succeeded"
fi

# In a sanitizer build, leaks inside libconfig itself are not strata's
# (tests/fuzz/lsan.supp; config and blkdebug inputs with syntax errors).
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$STRATA_SRCDIR/tests/fuzz/lsan.supp

total=0
for r in "${replays[@]}"; do
    h=$(basename "$r")
    n=$(find "$regress/$h" -type f | wc -l)
    rc=0
    timeout 300 "$r" "$regress/$h" >"$T/$h.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        tail -n 30 "$T/$h.log" >&2
        fail "$h: replay exited with $rc"
    fi
    contains -x "$n inputs replayed" "$T/$h.log" || {
        tail -n 5 "$T/$h.log" >&2
        fail "$h: not all $n inputs replayed"
    }
    echo "$h: $n inputs replayed"
    total=$((total + n))
done

# The hook's name as kdf.c defines it, so that renaming it cannot make the
# check below pass vacuously.
hook=strata_fuzz_kdf_cap
contains -F "void $hook(" "$STRATA_SRCDIR/core/crypto/kdf.c" || fail "kdf.c defines no $hook"
lib=$STRATA_BUILD/lib/libstrata.so
if nm "$lib" | contains -i 'strata_fuzz\|fuzz_iterations'; then
    nm "$lib" | grep -i fuzz >&2
    fail "$lib has the fuzz builds' KDF hook"
fi
echo "$total regression inputs replayed; $lib has no KDF hook"
