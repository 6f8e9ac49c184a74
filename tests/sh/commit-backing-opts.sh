#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# commit-backing-opts.sh - strata-img commit --image-opts writes into the
# backing file the overlay's backing.* options describe, as qemu-img commit
# does: a logwrites node there records the commit's writes, a blkdebug
# node there that fails every write makes the commit fail and leaves the
# base as it was.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
need qemu-img
cd "$T"

setup() { # base.qcow2 with 0x11 everywhere, top.qcow2 over it with 0x77 at 64k
    rm -f base.qcow2 top.qcow2 w.log
    strata-img create -q -f qcow2 base.qcow2 1M
    strata-io -c 'write -q -P 0x11 0 1M' -f qcow2 base.qcow2 >/dev/null
    strata-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2
    strata-io -c 'write -q -P 0x77 64k 128k' -f qcow2 top.qcow2 >/dev/null
}

echo "== a logwrites node in backing.file records the commit's writes"
setup
strata-img commit -q --image-opts \
    "driver=qcow2,file.filename=top.qcow2,backing.file.driver=logwrites,backing.file.log=w.log,backing.file.file.filename=base.qcow2" ||
    fail "commit through a logwrites backing node"
[ -s w.log ] || fail "the log is empty: the commit wrote around the backing.* node"
strata-replay list w.log >records || fail "the log does not read"
awk '$3 == "write" { w++ } $3 == "flush" { f++ } END { exit !(w > 0 && f > 0) }' records ||
    fail "the log holds no write and flush: $(cat records)"
qemu-io -f qcow2 -c 'read -P 0x77 64k 128k' -c 'read -P 0x11 0 64k' base.qcow2 |
    contains "verification failed" && fail "the base does not hold the committed data"
qemu-img check -q base.qcow2 || fail "the base does not check clean"
# Replaying the whole log onto the base as it was gives the committed base.
setup
cp base.qcow2 before.qcow2
strata-img commit -q -d --image-opts \
    "driver=qcow2,file.filename=top.qcow2,backing.file.driver=logwrites,backing.file.log=w.log,backing.file.file.filename=base.qcow2" ||
    fail "commit -d through a logwrites backing node"
n=$(strata-replay list w.log | wc -l)
strata-replay build -c "$n" w.log before.qcow2 replayed.qcow2 || fail "replaying the log"
cmp replayed.qcow2 base.qcow2 || fail "the log does not hold every write the commit made"

echo "== a blkdebug node in backing.file that fails writes fails the commit"
setup
cp base.qcow2 before.qcow2
rc=0
STRATA_DEBUG=1 strata-img commit -q --image-opts \
    "driver=qcow2,file.filename=top.qcow2,backing.file.driver=blkdebug,backing.file.inject-error.0.event=write_aio,backing.file.inject-error.0.errno=5,backing.file.image.driver=file,backing.file.image.filename=base.qcow2" \
    2>err || rc=$?
[ "$rc" = 1 ] || fail "commit onto a failing backing node exits $rc: $(cat err)"
# qemu-img's words for the user, the detail in the debug log.
[ "$(tail -n 1 err)" = "strata-img: Block job failed: Input/output error" ] ||
    fail "the failure is reported as: $(tail -n 1 err)"
contains "injected EIO" err || fail "the error is not the injected one: $(cat err)"
cmp -s before.qcow2 base.qcow2 || fail "the failed commit changed the base"
qemu-io -f qcow2 -c 'read -P 0x77 64k 128k' top.qcow2 | contains "verification failed" &&
    fail "the failed commit emptied the overlay"
# qemu-img does the same with the same options.
rc=0
qemu-img commit -q --image-opts \
    "driver=qcow2,file.filename=top.qcow2,backing.file.driver=blkdebug,backing.file.inject-error.0.event=write_aio,backing.file.inject-error.0.errno=5,backing.file.image.driver=file,backing.file.image.filename=base.qcow2" \
    2>qerr || rc=$?
[ "$rc" = 1 ] || fail "qemu-img commit (the reference) exits $rc: $(cat qerr)"

echo "== without backing.* options the backing file named by the image"
setup
strata-img commit -q top.qcow2 || fail "plain commit"
qemu-io -f qcow2 -c 'read -P 0x77 64k 128k' base.qcow2 | contains "verification failed" &&
    fail "plain commit did not write the base"
echo "commit-backing-opts: ok"
