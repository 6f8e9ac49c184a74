# SPDX-License-Identifier: LGPL-2.1-or-later
# strata-img convert --salvage: sectors the source cannot read (blkdebug
# read errors on a raw and a qcow2 source) become zeros in the target, each
# with qemu-img's warning in offset order; a range whose block status fails
# (blkdebug iotype block-status) is copied as data, with qemu-img's warning;
# the rest is copied: the same
# target and messages as qemu-img --salvage; -q keeps the warnings back;
# without --salvage the first read error fails the copy.
. "$(dirname "$0")/lib/common.sh"
need qemu-img qemu-io
IMG=$STRATA_BUILD/bin/strata-img
cd "$T"

# blkdebug_src FMT FILE: the image under blkdebug failing reads of
# three sectors, and block status at 1 MiB + 4 KiB.  Rules of event none
# hold from the start.
blkdebug_src() {
    echo "json:{'driver':'blkdebug','image':{'driver':'$1','file':{'driver':'file','filename':'$2'}},'inject-error':[{'event':'none','iotype':'block-status','errno':5,'sector':2056},{'event':'none','iotype':'read','errno':5,'sector':100},{'event':'none','iotype':'read','errno':5,'sector':9000},{'event':'none','iotype':'read','errno':5,'sector':9001}]}"
}

for fmt in raw qcow2; do
    qemu-img create -q -f $fmt src.$fmt 8M
    qemu-io -f $fmt -c 'write -P 42 0 3M' -c 'write -P 43 4M 2M' src.$fmt >/dev/null
    rm -f q.raw s.raw
    qemu-img convert --salvage "$(blkdebug_src $fmt src.$fmt)" q.raw 2>qerr.txt ||
        fail "qemu-img convert --salvage from $fmt"
    grep -q 'block status' qerr.txt || fail "qemu-img warned of no block status: $(cat qerr.txt)"
    "$IMG" convert --salvage "$(blkdebug_src $fmt src.$fmt)" s.raw 2>err.txt ||
        fail "convert --salvage from $fmt failed: $(cat err.txt)"
    # qemu-img's 8 coroutines interleave the block status of one chunk with
    # the reads of another, so only the set of warnings compares.
    [ "$(sed 's/^strata-img: //' err.txt | sort)" = "$(sed 's/^qemu-img: //' qerr.txt | sort)" ] ||
        fail "convert --salvage from $fmt warns: $(cat err.txt); qemu-img: $(cat qerr.txt)"
    cmp -s q.raw s.raw || fail "convert --salvage from $fmt: target differs from qemu-img's"
    qemu-io -f raw -c 'read -P 0 51200 512' -c 'read -P 42 51712 512' s.raw >/dev/null ||
        fail "convert --salvage from $fmt: the unreadable sector is not zero"

    rm -f s.raw
    "$IMG" convert -q --salvage "$(blkdebug_src $fmt src.$fmt)" s.raw 2>err.txt ||
        fail "convert -q --salvage from $fmt failed"
    [ ! -s err.txt ] || fail "convert -q --salvage printed: $(cat err.txt)"
    cmp -s q.raw s.raw || fail "convert -q --salvage from $fmt: target differs"

    rc=0
    "$IMG" convert "$(blkdebug_src $fmt src.$fmt)" s.raw 2>err.txt || rc=$?
    [ $rc = 1 ] || fail "convert without --salvage over a read error exits $rc"
    contains 'error while reading' err.txt || fail "convert without --salvage says: $(cat err.txt)"
done
exit 0
