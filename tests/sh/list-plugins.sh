#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# list-plugins.sh - strata-img list-plugins shows every module file on the
# search path with its ABI version and whether the library accepted it
# (self-test results of cipher and hash modules included); --help ends with
# what the accepted modules support, as qemu-img's "Supported formats:".
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
mods=$STRATA_BUILD/lib/strata

env -u STRATA_PLUGIN_PATH strata-img list-plugins >"$T/list" || fail "list-plugins: $(cat "$T/list")"
for f in "$mods"/*.so; do
    grep -qxF "$(realpath "$f")" "$T/list" || grep -qxF "$f" "$T/list" ||
        fail "$(basename "$f") is not listed"
done
# Every in-tree module is built against this tree's plugin.h.
abi=$(awk '/define STRATA_PLUGIN_ABI_MAJOR/ { M = $3 } /define STRATA_PLUGIN_ABI_MINOR/ { m = $3 }
           END { print M "\\." m }' "$STRATA_SRCDIR/include/strata/plugin.h")
[ "$(grep -c "ABI version: $abi\$" "$T/list")" = "$(ls "$mods"/*.so | wc -l)" ] ||
    fail "ABI versions: $(cat "$T/list")"
grep -A3 "cipher-aes.so" "$T/list" | contains "status: loaded, self-test passed" ||
    fail "aes: $(cat "$T/list")"
grep -A3 "hash-sha2.so" "$T/list" | contains "hashes: sha224 sha256 sha384 sha512" ||
    fail "sha2: $(cat "$T/list")"

echo "== refused modules: self-test, ABI"
rc=0
STRATA_PLUGIN_PATH=$STRATA_BUILD/tests/plugins strata-img list-plugins >"$T/list" 2>&1 || rc=$?
[ $rc = 1 ] || fail "exit status $rc with refused modules"
grep -A3 "bad-selftest.so" "$T/list" | contains "refused: .*self-test failed" ||
    fail "bad self-test: $(cat "$T/list")"
grep -A3 "plugin-abi-future.so" "$T/list" | contains "ABI version: 2\.0" ||
    fail "future ABI: $(cat "$T/list")"

echo "== --help ends with what is supported"
strata-img --help >"$T/help"
# The drivers the modules declare, as their generated snippets list them.
want=$(sed -n 's/.* drivers = \[ \([^]]*\) \];.*/\1/p' "$mods"/plugins.d/*.conf | tr -d '",' |
    tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//')
contains -x "Supported formats: $want" "$T/help" || fail "formats: $(tail -5 "$T/help")"
contains -x "Supported encryption formats: luks luks2" "$T/help" || fail "$(tail -5 "$T/help")"
contains -x "Supported key derivation functions: argon2i argon2id pbkdf2" "$T/help" ||
    fail "KDFs: $(tail -5 "$T/help")"
contains "^Supported ciphers: .*serpent" "$T/help" || fail "ciphers: $(tail -4 "$T/help")"
contains "^Supported hashes: .*sha256" "$T/help" || fail "hashes: $(tail -4 "$T/help")"
# A module that is not installed is not supported.
cp -a "$STRATA_BUILD/lib" "$STRATA_BUILD/bin" "$T/"
rm "$T/lib/strata/cipher-serpent.so"
env -u STRATA_PLUGIN_PATH "$T/bin/strata-img" --help | contains "^Supported ciphers: .*serpent" &&
    fail "serpent shown without its module"
echo "list-plugins: ok"
