#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The third-party plugin kit: install strata into a temporary prefix, build
# examples/cipher-plugin there with nothing but the installed headers and
# strata.pc, load it through STRATA_PLUGIN_PATH, and check sectors it
# encrypts through the registry against RFC 3713 and `openssl enc`.
. "$(dirname "$0")/lib/common.sh"
src=$STRATA_SRCDIR
tmp=$T

hex() { od -An -v -tx1 | tr -d ' \n'; }
unhex() { printf '%s' "$1" | sed 's/../\\x&/g' | xargs -0 printf '%b'; }

need openssl

prefix=$(strata_test_prefix)
[ -f "$prefix/lib/pkgconfig/strata.pc" ] || fail "strata.pc not installed"
[ -f "$prefix/include/strata/crypto.h" ] || fail "crypto.h not installed"

cp -r "$src/examples/cipher-plugin" "$tmp/ex"
# As docs/plugin-guide.md has it: PKG_CONFIG_PATH on make's command line
# (not in the environment).  The make flags of `make -s check` are dropped
# so that the compiler lines can be checked.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u PKG_CONFIG_PATH \
    make -C "$tmp/ex" PKG_CONFIG_PATH="$prefix/lib/pkgconfig" CFLAGS="-O2 -g $SAN_CFLAGS" \
    >"$tmp/build.log" 2>&1 ||
    { cat "$tmp/build.log"; fail "the example does not build against the installed SDK"; }
# Built against the installed tree, not the source tree.
grep -q -- "-I$prefix/include" "$tmp/build.log" || fail "example not built with pkg-config strata"
grep -qF -- "-I$src/include" "$tmp/build.log" && fail "example reached into the source tree"

export STRATA_PLUGIN_PATH=$tmp/ex
demo=$tmp/ex/camellia-demo

# RFC 3713 appendix A, 128-bit key: one block, ECB.
k128=0123456789abcdeffedcba9876543210
out=$(unhex $k128 | "$demo" camellia-ecb $k128 0 16 2>"$tmp/err" | hex)
grep -q "using camellia-example" "$tmp/err" || { cat "$tmp/err"; fail "camellia not found through the registry"; }
[ "$out" = 67673138549669730857065648eabe43 ] || fail "RFC 3713 vector: got $out"

# CBC with plain64 IVs over 4 sectors of 512 bytes from sector 5: each sector
# must equal openssl's CBC with IV = le64(sector); the core builds CBC over the
# plugin's ECB.
head -c 2048 /dev/urandom >"$tmp/plain"
"$demo" camellia-cbc-plain64 $k128 5 512 <"$tmp/plain" >"$tmp/ct" 2>/dev/null || fail "cbc encrypt"
for s in 0 1 2 3; do
    sector=$((5 + s))
    iv=$(printf '%02x00000000000000000000000000000000' $sector | cut -c1-32)
    want=$(dd if="$tmp/plain" bs=512 skip=$s count=1 2>/dev/null |
        openssl enc -camellia-128-cbc -nopad -K $k128 -iv "$iv" | hex)
    got=$(dd if="$tmp/ct" bs=512 skip=$s count=1 2>/dev/null | hex)
    [ "$want" = "$got" ] || fail "cbc sector $sector differs from openssl"
done
"$demo" -d camellia-cbc-plain64 $k128 5 512 <"$tmp/ct" >"$tmp/back" 2>/dev/null
cmp -s "$tmp/plain" "$tmp/back" || fail "cbc round trip"

# CTR with a 256-bit key, one 2048-byte sector at sector 0x0102.
k256=0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff
"$demo" camellia-ctr-plain64 $k256 0x0102 2048 <"$tmp/plain" >"$tmp/ct" 2>/dev/null || fail "ctr encrypt"
want=$(openssl enc -camellia-256-ctr -nopad -K $k256 -iv 02010000000000000000000000000000 \
    <"$tmp/plain" | hex)
[ "$want" = "$(hex <"$tmp/ct")" ] || fail "ctr differs from openssl"

# XTS (no reference in openssl enc): round trip and a real change.
"$demo" camellia-xts-plain64 $k256 7 512 <"$tmp/plain" >"$tmp/ct" 2>/dev/null || fail "xts encrypt"
cmp -s "$tmp/plain" "$tmp/ct" && fail "xts left the data unchanged"
"$demo" -d camellia-xts-plain64 $k256 7 512 <"$tmp/ct" >"$tmp/back" 2>/dev/null
cmp -s "$tmp/plain" "$tmp/back" || fail "xts round trip"

echo "sdk-plugin: ok"
