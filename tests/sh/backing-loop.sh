#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A backing chain that loops back on itself (an image its own backing file,
# two images each other's, a hard link to an image in the chain) is refused
# with QEMU's message by every command that opens the chain, under a memory
# cap and a time limit, instead of recursing until the stack or memory runs
# out.  The chains are made by qemu-img, as a user would meet them.
. "$(dirname "$0")/lib/common.sh"
need qemu-img
cd "$T"

# run [-s STATUS] CMD...: runs a strata command that must refuse a loop: its
# error exit status (1, or STATUS: compare's is 2, as qemu-img's), not a
# signal or a time-out, and QEMU's message naming the image.
run() {
    local rc=0 want=1
    if [ "$1" = -s ]; then want=$2; shift 2; fi
    # The memory cap makes runaway recursion end in a refusal, not an OOM
    # kill; AddressSanitizer reserves terabytes of shadow address space up
    # front and catches a stack overflow itself, so its build runs without.
    if [[ "$SAN_CFLAGS" == *address* ]]; then
        timeout 20 "$@" >out.txt 2>err.txt || rc=$?
    else
        (ulimit -v 4000000; timeout 20 "$@") >out.txt 2>err.txt || rc=$?
    fi
    [ $rc = "$want" ] || fail "$* exited $rc, not $want: $(head -c 600 err.txt)"
    contains -F "creates an infinite loop." err.txt ||
        fail "$*: no loop message: $(head -c 600 err.txt)"
}

# An image that is its own backing file.
qemu-img create -q -f qcow2 self.qcow2 1M
qemu-img rebase -q -u -b self.qcow2 -F qcow2 self.qcow2
# The message is QEMU's, word for word.
qemu-img info --backing-chain self.qcow2 2>theirs.txt >/dev/null && fail "qemu-img took the loop"
run strata-img info --backing-chain self.qcow2
[ "$(sed 's/^[^:]*: //' err.txt)" = "$(sed 's/^[^:]*: //' theirs.txt)" ] ||
    fail "message differs from qemu-img's: '$(cat err.txt)' vs '$(cat theirs.txt)'"
# info of the image alone reads only its header, as qemu-img's does.
qemu-img info self.qcow2 >/dev/null || fail "qemu-img info of the image alone failed"
strata-img info self.qcow2 >/dev/null || fail "info of the image alone failed"
run strata-img check self.qcow2
run -s 2 strata-img compare self.qcow2 self.qcow2
run strata-img convert -O raw self.qcow2 out.raw
run strata-img map self.qcow2
run strata-io -c 'read 0 512' self.qcow2

# Two images, each the other's backing file.
qemu-img create -q -f qcow2 a.qcow2 1M
qemu-img create -q -f qcow2 -b a.qcow2 -F qcow2 b.qcow2
qemu-img rebase -q -u -b b.qcow2 -F qcow2 a.qcow2
run strata-img info --backing-chain b.qcow2
contains -F "'b.qcow2'" err.txt || fail "the loop is not named at b.qcow2: $(cat err.txt)"
run strata-io -c 'read 0 512' a.qcow2
run strata-img commit b.qcow2
run strata-img rebase -b a.qcow2 -F qcow2 b.qcow2

# The same file under another name (a hard link) is the same image.
qemu-img create -q -f qcow2 base.qcow2 1M
ln base.qcow2 alias.qcow2
qemu-img rebase -q -u -b alias.qcow2 -F qcow2 base.qcow2
run strata-img info --backing-chain base.qcow2
run strata-img check base.qcow2

# A real chain of three still opens, with every image listed.
qemu-img create -q -f qcow2 c0.qcow2 1M
qemu-img create -q -f qcow2 -b c0.qcow2 -F qcow2 c1.qcow2
qemu-img create -q -f qcow2 -b c1.qcow2 -F qcow2 c2.qcow2
strata-img info --backing-chain c2.qcow2 >out.txt || fail "a chain of three does not open"
[ "$(grep -c '^image: ' out.txt)" = 3 ] || fail "chain of three: $(cat out.txt)"
echo "backing-loop: ok"
