# SPDX-License-Identifier: LGPL-2.1-or-later
# strata-img convert --salvage: sectors the source cannot read (blkdebug
# read errors on a raw and a qcow2 source) become zeros in the target, each
# with qemu-img's warning in offset order, and the rest is copied: the same
# target and messages as qemu-img --salvage; -q keeps the warnings back;
# without --salvage the first read error fails the copy.
. "$(dirname "$0")/lib/common.sh"
need qemu-img qemu-io
IMG=$STRATA_BUILD/bin/strata-img
cd "$T"

# blkdebug_src FMT FILE EVENT: the file under blkdebug failing reads of three
# sectors.  QEMU's blkdebug raises no read_aio event for a raw image, so
# its rules wait for none; strata's raises read_aio on every read.
blkdebug_src() {
    echo "json:{'driver':'blkdebug','image':{'driver':'$1','file':{'driver':'file','filename':'$2'}},'inject-error':[{'event':'$3','iotype':'read','errno':5,'sector':100},{'event':'$3','iotype':'read','errno':5,'sector':9000},{'event':'$3','iotype':'read','errno':5,'sector':9001}]}"
}

for fmt in raw qcow2; do
    qemu-img create -q -f $fmt src.$fmt 8M
    qemu-io -f $fmt -c 'write -P 42 0 3M' -c 'write -P 43 4M 2M' src.$fmt >/dev/null
    rm -f q.raw s.raw
    qemu-img convert --salvage "$(blkdebug_src $fmt src.$fmt none)" q.raw 2>qerr.txt ||
        fail "qemu-img convert --salvage from $fmt"
    grep -q warning qerr.txt || fail "qemu-img warned of nothing: the reference changed"
    "$IMG" convert --salvage "$(blkdebug_src $fmt src.$fmt read_aio)" s.raw 2>err.txt ||
        fail "convert --salvage from $fmt failed: $(cat err.txt)"
    [ "$(sed 's/^strata-img: //' err.txt)" = "$(sed 's/^qemu-img: //' qerr.txt)" ] ||
        fail "convert --salvage from $fmt warns: $(cat err.txt); qemu-img: $(cat qerr.txt)"
    cmp -s q.raw s.raw || fail "convert --salvage from $fmt: target differs from qemu-img's"
    qemu-io -f raw -c 'read -P 0 51200 512' -c 'read -P 42 51712 512' s.raw >/dev/null ||
        fail "convert --salvage from $fmt: the unreadable sector is not zero"

    rm -f s.raw
    "$IMG" convert -q --salvage "$(blkdebug_src $fmt src.$fmt read_aio)" s.raw 2>err.txt ||
        fail "convert -q --salvage from $fmt failed"
    [ ! -s err.txt ] || fail "convert -q --salvage printed: $(cat err.txt)"
    cmp -s q.raw s.raw || fail "convert -q --salvage from $fmt: target differs"

    rc=0
    "$IMG" convert "$(blkdebug_src $fmt src.$fmt read_aio)" s.raw 2>err.txt || rc=$?
    [ $rc = 1 ] || fail "convert without --salvage over a read error exits $rc"
    contains 'error while reading' err.txt || fail "convert without --salvage says: $(cat err.txt)"
done
exit 0
