#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make demo: create an encrypted qcow2 image, write and verify patterns
# through the bundled demo stack, show what strata-img info sees, and copy
# the guest's data out to a raw image.
set -euo pipefail
build=${STRATA_BUILD:?run through make demo}
here=$(cd "$(dirname "$0")" && pwd)
img=$build/bin/strata-img
io=$build/bin/strata-io
work=$build/demo
rm -rf "$work" && mkdir -p "$work"
cp "$here/demo.conf" "$work/"
cd "$work"
printf 'correct horse battery staple' > demo.pass
chmod 600 demo.pass

echo "== strata-img create -f qcow2 -o encrypt.format=luks demo.qcow2 64M"
"$img" create --object secret,id=demo-key,file=demo.pass -f qcow2 \
    -o encrypt.format=luks,encrypt.key-secret=demo-key demo.qcow2 64M
echo "== strata-io --config demo.conf: write and verify patterns"
"$io" --config demo.conf \
    -c 'write -P 0xa5 0 4M' -c 'write -P 0x5a 5000 123457' \
    -c 'read -P 0xa5 0 5000' -c 'read -P 0x5a 5000 123457' -c 'flush'
echo "== the file holds no plaintext"
if LC_ALL=C grep -q "$(printf '\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5')" demo.qcow2; then
    echo "demo: the pattern is readable in demo.qcow2" >&2
    exit 1
fi
echo "== strata-img info --config demo.conf"
"$img" info --config demo.conf
echo "== strata-img convert --config demo.conf -O raw plain.img"
"$img" convert --config demo.conf -O raw plain.img
"$io" -f raw plain.img -c 'read -P 0xa5 0 5000' -c 'read -P 0x5a 5000 123457'
echo "demo: ok (stack config in $work/demo.conf)"
