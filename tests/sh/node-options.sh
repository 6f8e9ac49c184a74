# SPDX-License-Identifier: LGPL-2.1-or-later
# The options every node takes whatever its driver (cache.direct,
# cache.no-flush, node-name, auto-read-only), against qemu-io, and the
# cache flags reaching the file under a format node.
. "$(dirname "$0")/lib/common.sh"

need qemu-io qemu-img strace
cd "$T"
. "$(dirname "$0")/lib/io-parity.sh"

chain() {
    rm -f base.qcow2 t.qcow2
    qemu-img create -q -f qcow2 base.qcow2 1M
    qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 t.qcow2
}
raw1m() { rm -f img.raw; truncate -s 1M img.raw; }

# Accepted on a format node and on its file.
same raw1m --image-opts -c 'read 0 4k' "driver=raw,file.driver=file,file.filename=img.raw,cache.direct=on"
same raw1m --image-opts -c 'write 0 4k' -c flush \
    "driver=raw,cache.no-flush=on,file.driver=file,file.filename=img.raw,file.cache.direct=off"
same raw1m --image-opts -c 'read 0 4k' "driver=raw,file.filename=img.raw,cache.direct=maybe"
same raw1m --image-opts -c 'read 0 4k' "driver=raw,file.filename=img.raw,auto-read-only=maybe"
# node-name: checked, unique, kept by reopen.
same chain -c 'reopen -o node-name=foo' t.qcow2
same chain -c 'reopen -o file.node-name=foo' t.qcow2
same chain -c 'reopen -o backing.node-name=foo' t.qcow2
same chain -c 'open -o node-name=foo t.qcow2' -c 'reopen -o node-name=foo' -c 'read 0 4k'
same chain -c 'open -o backing.node-name=foo t.qcow2' -c 'reopen' -c 'read 0 4k'
same chain -c 'open -o node-name=a,file.node-name=a t.qcow2'
same chain -c 'open -o node-name=1a t.qcow2'
same chain -c 'open -o node-name=a_b.c-d t.qcow2' -c 'read 0 1'
# driver: kept by reopen.
same chain -c 'reopen -o driver=raw' t.qcow2
same chain -c 'reopen -o file.driver=qcow2' t.qcow2
same chain -c 'reopen -o backing.driver=qcow2' -c 'read 0 1' t.qcow2
same chain -c 'reopen -o cache.direct=baz' t.qcow2
same chain -c 'reopen -o read-only=foo' t.qcow2
# A protocol's info names it twice (format and protocol name), as qemu-io.
qemu-io -f null-co -c reopen -c info "json:{'driver': 'null-co', 'size': 65536}" > theirs.txt || true
./ours/qemu-io -f null-co -c reopen -c info "json:{'driver': 'null-co', 'size': 65536}" > ours.txt
diff -u theirs.txt ours.txt || fail "null-co info differs"

# cache.direct on the format node reaches the file (O_DIRECT), and the
# file's own setting wins over the inherited one.
raw1m
direct_opens() {
    strace -f -e trace=openat -o trace.txt "$STRATA_BUILD/bin/strata-io" --image-opts \
        -c 'read 0 4k' "$1" > /dev/null
    grep 'img.raw' trace.txt | grep -c O_DIRECT || true
}
[ "$(direct_opens "driver=raw,file.filename=img.raw,cache.direct=on")" -gt 0 ] ||
    fail "cache.direct=on on the format node did not open the file with O_DIRECT"
[ "$(direct_opens "driver=raw,file.filename=img.raw")" -eq 0 ] ||
    fail "the file was opened with O_DIRECT without cache.direct"
[ "$(direct_opens "driver=raw,file.filename=img.raw,cache.direct=on,file.cache.direct=off")" -eq 0 ] ||
    fail "file.cache.direct=off did not override the inherited cache.direct=on"
# auto-read-only=on would need a fallback that is not there: refused.
"$STRATA_BUILD/bin/strata-io" --image-opts -c 'read 0 1' \
    "driver=raw,file.filename=img.raw,auto-read-only=on" > out.txt 2>&1 && fail "auto-read-only=on accepted"
contains "auto-read-only=on is not supported" out.txt || fail "auto-read-only=on: $(cat out.txt)"
echo ok
