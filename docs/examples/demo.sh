#!/bin/bash
# make demo: create an image, write and verify a pattern through the bundled
# demo stack, and print what strata-img info sees.
set -euo pipefail
build=${STRATA_BUILD:?run through make demo}
here=$(cd "$(dirname "$0")" && pwd)
img=$build/bin/strata-img
io=$build/bin/strata-io
work=$build/demo
rm -rf "$work" && mkdir -p "$work"
cp "$here/demo.conf" "$work/"
cd "$work"

echo "== strata-img create -f raw demo.img 64M"
"$img" create -f raw demo.img 64M
echo "== strata-io --config demo.conf: write and verify a pattern"
"$io" --config demo.conf \
    -c 'write -P 0xa5 0 4M' -c 'write -P 0x5a 5000 123457' \
    -c 'read -P 0xa5 0 5000' -c 'read -P 0x5a 5000 123457' -c 'flush'
echo "== strata-img info --config demo.conf"
"$img" info --config demo.conf
echo "demo: ok (stack config in $work/demo.conf)"
