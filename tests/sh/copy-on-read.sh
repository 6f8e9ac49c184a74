# SPDX-License-Identifier: LGPL-2.1-or-later
# Copy-on-read (strata-io -C, open -C and the copy-on-read filter) against
# qemu-io: the same reads leave the same allocation in the overlay, the
# data read is the backing file's, and read-only images are refused.
. "$(dirname "$0")/lib/common.sh"

need qemu-io qemu-img
cd "$T"
. "$(dirname "$0")/lib/io-parity.sh"

chain() {
    rm -f base.img top.qcow2
    qemu-img create -q -f qcow2 base.img 4M
    qemu-io -f qcow2 -c 'write -P 0x55 1M 64k' -c 'write -P 0x66 3M 4k' base.img > /dev/null
    qemu-img create -q -f qcow2 -b base.img -F qcow2 top.qcow2
    qemu-io -f qcow2 -c 'write -P 0x77 2M 64k' -c 'write -z -u 3M 64k' top.qcow2 > /dev/null
}
# The read, then the overlay's allocation without its backing file.
cor_then_map() {
    same chain "$@" -c 'open -o driver=qcow2 top.qcow2' -c map
}

cor_then_map -C -f qcow2 -c 'read -P 0x55 1M 4k' -c 'read -P 0x77 2M 4k' \
    -c 'read -P 0 3M 4k' -c close top.qcow2
cor_then_map -f qcow2 -C -c 'read 0 4M' -c close top.qcow2
cor_then_map -c 'open -C -f qcow2 top.qcow2' -c 'read -P 0 1000k 100k' -c close
cor_then_map -c 'open -o driver=copy-on-read,file.driver=qcow2 top.qcow2' \
    -c 'read -P 0x55 1040k 8k' -c 'write -P 9 1M 512' -c 'read -P 9 1M 512' -c close
# Read-only images cannot take the copies.
same chain -f qcow2 -C -r -c 'read 0 4k' top.qcow2
same chain -c 'open -r -o driver=copy-on-read,file.driver=qcow2 top.qcow2'
# A last cluster that the image's end cuts short is copied too.
short() { rm -f s.qcow2; qemu-img create -q -f qcow2 s.qcow2 1024; }
same short -f qcow2 -C -c 'read 0 1024' -c close -c 'open -o driver=qcow2 s.qcow2' -c map s.qcow2

# Without -C nothing is copied: the check above can tell the difference.
chain
./ours/qemu-io -f qcow2 -c 'read 1M 4k' top.qcow2 > /dev/null
qemu-io -f qcow2 -c map top.qcow2 > plain.txt
./ours/qemu-io -f qcow2 -C -c 'read 1M 4k' top.qcow2 > /dev/null
qemu-io -f qcow2 -c map top.qcow2 > cor.txt
cmp -s plain.txt cor.txt && fail "-C changed nothing in the overlay"
qemu-io -c 'read -P 0x55 1M 64k' \
    'json:{"driver":"qcow2","file.filename":"top.qcow2","backing":null}' | contains 'read 65536/65536' || fail "the copied cluster does not hold the backing data"
echo ok
