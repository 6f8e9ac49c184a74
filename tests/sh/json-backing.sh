# SPDX-License-Identifier: LGPL-2.1-or-later
# A json: backing file name (here a blkdebug node over the base) against
# qemu-img and qemu-io: create takes it as a description of the node, not
# as a path next to the overlay, prints it as qemu-img does, and reads of
# the overlay go through the node it describes.
. "$(dirname "$0")/lib/common.sh"

need qemu-io qemu-img
cd "$T"
. "$(dirname "$0")/lib/io-parity.sh"
mkdir sub
qemu-img create -q -f qcow2 base.qcow2 1M
qemu-io -c 'write -P 7 0 64k' base.qcow2 > /dev/null
json="json:{'driver': 'qcow2', 'file': { 'driver': 'blkdebug', 'inject-error': [{ 'event': 'write_aio', 'errno': 28, 'once': true }], 'image': { 'driver': 'file', 'filename': '$T/base.qcow2' }}}"
qemu-img create -f qcow2 -b "$json" -F qcow2 sub/theirs.qcow2 1M > theirs.txt
"$STRATA_BUILD/bin/strata-img" create -f qcow2 -b "$json" -F qcow2 sub/ours.qcow2 1M > ours.txt
sed 's/theirs/X/' theirs.txt > t.txt
sed 's/ours/X/' ours.txt > o.txt
diff -u t.txt o.txt || fail "create with a json: backing name prints differently"
contains "'inject-error': \[{ 'event': 'write_aio',, 'errno': 28,," o.txt || fail "commas not doubled"
copy() { cp sub/ours.qcow2 sub/t.qcow2; }
same copy -c 'read -P 7 0 4k' -c 'read -P 7 0 4k' -c 'read -P 0 64k 4k' sub/t.qcow2
same copy -c 'write -P 9 0 4k' -c 'read -P 9 0 4k' -c 'read -P 7 4k 4k' sub/t.qcow2
echo ok
