# SPDX-License-Identifier: LGPL-2.1-or-later
# blkdebug's inject-error.immediately against qemu-io: on or off, the
# matching request fails with the injected error and the others pass, and
# a value that is not a boolean is refused.
. "$(dirname "$0")/lib/common.sh"

need qemu-io qemu-img
cd "$T"
. "$(dirname "$0")/lib/io-parity.sh"

img() { rm -f t.qcow2; qemu-img create -q -f qcow2 t.qcow2 1M; }
rule=file.inject-error.0.event=write_aio,file.inject-error.0.errno=28,file.inject-error.0.once=on
for imm in on off; do
    same img -c "open -o driver=qcow2,file.driver=blkdebug,$rule,file.inject-error.0.immediately=$imm,file.image.filename=t.qcow2" \
        -c 'write -P 1 0 4k' -c 'write -P 2 0 4k' -c 'read -P 2 0 4k'
    same img -c "open -o driver=qcow2,file.driver=blkdebug,$rule,file.inject-error.0.immediately=$imm,file.image.filename=t.qcow2" \
        -c 'aio_write -P 1 0 4k' -c 'aio_write -P 2 64k 4k' -c aio_flush -c 'read -P 2 64k 4k'
done
img
rc=0
./ours/qemu-io -c "open -o driver=qcow2,file.driver=blkdebug,$rule,file.inject-error.0.immediately=maybe,file.image.filename=t.qcow2" \
    > out.txt 2>&1 || rc=$?
[ $rc = 1 ] || fail "immediately=maybe: exit $rc"
contains "Parameter 'inject-error.0.immediately' expects 'on' or 'off'" out.txt ||
    fail "immediately=maybe: $(cat out.txt)"
echo ok
