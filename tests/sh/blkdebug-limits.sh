# SPDX-License-Identifier: LGPL-2.1-or-later
# blkdebug's request limits (align, max-transfer, opt-write-zero,
# max-write-zero, opt-discard, max-discard) against qemu-io: the same
# requests through the same limits leave the same image (what became zero
# clusters, what was written as zeros), and bad limits fail alike.
. "$(dirname "$0")/lib/common.sh"

need qemu-io qemu-img
cd "$T"
. "$(dirname "$0")/lib/io-parity.sh"

o=driver=blkdebug,image.driver=qcow2
nonpow2=align=512,opt-write-zero=15M,max-write-zero=15M,opt-discard=15M,max-discard=15M
qemu-img create -q -f qcow2 -o cluster_size=1M b.qcow2 128M
qemu-io -c "write -P 11 0 128M" b.qcow2 > /dev/null
for who in theirs ours; do
    io=qemu-io
    [ $who = ours ] && io=./ours/qemu-io
    qemu-img create -q -f qcow2 -o cluster_size=1M -b b.qcow2 -F qcow2 $who.qcow2
    qemu-io -c "write -P 22 0 110M" $who.qcow2 > /dev/null
    {
        $io -c "open -o $o,align=4k,max-transfer=64k blkdebug::$who.qcow2" \
            -c "write -P 33 1000 128k" -c "read -P 33 1000 128k"
        $io -c "open -o $o,align=512,max-transfer=64k,opt-write-zero=1M blkdebug::$who.qcow2" \
            -c "write -z 8003584 2093056"
        $io -c "open -o $o,$nonpow2 blkdebug::$who.qcow2" -c "write -z 32M 32M"
        $io -c "open -o $o,$nonpow2 blkdebug::$who.qcow2" -c "discard 80000001 30M"
        $io -r -c "read -P 0 8003584 2093056" -c "read -P 22 10096640 23457792" \
            -c "read -P 0 32M 32M" -c "read -P 22 64M 13M" $who.qcow2
        qemu-img map --output=json $who.qcow2
    } 2>&1 | mask > $who.txt
done
diff -u theirs.txt ours.txt || fail "the same requests through blkdebug limits differ"
# The zeroed clusters are there: the comparison can fail.
contains '"zero": true' ours.txt || fail "no zero clusters"

img() { rm -f img.qcow2; qemu-img create -q -f qcow2 img.qcow2 1M; }
same img -c "open -o $o,align=512,opt-write-zero=1000 blkdebug::img.qcow2"
same img -c "open -o $o,align=4k,opt-discard=6k blkdebug::img.qcow2"
same img -c "open -o $o,opt-write-zero=64k,max-write-zero=96k blkdebug::img.qcow2"
same img -c "open -o $o,opt-discard=64k,max-discard=100k blkdebug::img.qcow2"
same img -c "open -o $o,opt-write-zero=4G blkdebug::img.qcow2"
same img -c "open -o $o,align=512,opt-write-zero=64k,max-write-zero=128k blkdebug::img.qcow2" \
    -c "write -z 1000 300k" -c "read -P 0 0 1M" -c "discard 0 1M"
echo ok
