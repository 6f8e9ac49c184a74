#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# commit-errors.sh - strata-img commit fails as qemu-img commit does, with
# its words and exit status: a write error while copying ("Block job failed:
# No space left on device", from a blkdebug base), and a relative -b taken
# from the image's directory, not the working directory ("Did not find ...").
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
need qemu-img qemu-io
cd "$T"

# run TOOL ARGS...: the tool's output with its name as qemu-img's, and "rc N".
run() {
    local tool=$1 rc=0; shift
    "$tool" "$@" >out.txt 2>&1 || rc=$?
    sed "s/^$tool:/qemu-img:/" out.txt
    echo "rc $rc"
}

echo "== a write error while copying"
for tool in qemu-img strata-img; do
    rm -rf $tool && mkdir $tool
    qemu-img create -q -f qcow2 $tool/base.qcow2 1M
    backing="json:{'driver':'qcow2','file':{'driver':'blkdebug','inject-error':[{'event':'write_aio','errno':28,'once':true}],'image':{'driver':'file','filename':'$T/$tool/base.qcow2'}}}"
    qemu-img create -q -f qcow2 -b "$backing" -F qcow2 $tool/top.qcow2
    qemu-io -c 'writev 0 64k' $tool/top.qcow2 >/dev/null
    run $tool commit $tool/top.qcow2 >$tool.txt
done
grep -q 'Block job failed: No space left on device' qemu-img.txt ||
    fail "qemu-img's reference changed: $(cat qemu-img.txt)"
diff -u qemu-img.txt strata-img.txt || fail "a failing commit differs from qemu-img's"

echo "== -b names are relative to the image"
mkdir sub
qemu-img create -q -f qcow2 sub/base.qcow2 1M
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 sub/mid.qcow2
qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 sub/top.qcow2
for b in sub/mid.qcow2 mid.qcow2 "$T/sub/mid.qcow2"; do
    run qemu-img commit -b "$b" sub/top.qcow2 >q.txt
    run strata-img commit -b "$b" sub/top.qcow2 >s.txt
    diff -u q.txt s.txt || fail "commit -b $b differs from qemu-img's"
done
grep -q "Did not find 'sub/mid.qcow2'" <(run strata-img commit -b sub/mid.qcow2 sub/top.qcow2) ||
    fail "a -b taken from the working directory was accepted"
exit 0
