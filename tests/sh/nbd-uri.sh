#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# NBD URIs as plain file names, as qemu-img takes them: the scheme selects
# the nbd driver for a probed image, a format given with -f, a created image,
# a convert source and target, and a backing file recorded in a qcow2
# header.  qemu-img reads the same URIs for reference.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/nbd.sh"
cd "$T"

nbd_start disk memory size=64M
URI=$(nbd_uri disk)

# A qcow2 image created on the export by name alone; qemu-img sees it.
strata-img create -q -f qcow2 "$URI" 32M 2>err.txt || fail "create -f qcow2 on $URI: $(cat err.txt)"
qemu-img info "$URI" >q.txt || fail "qemu-img info $URI"
contains -x 'file format: qcow2' q.txt || fail "qemu-img does not see a qcow2 image: $(cat q.txt)"

# Probed and written by name; qemu reads what strata wrote.
strata-io -c 'write -P 0x5a 1M 300k' "$URI" >w.txt 2>&1 || fail "strata-io write to $URI: $(cat w.txt)"
strata-img info "$URI" >s.txt 2>&1 || fail "strata-img info $URI: $(cat s.txt)"
contains -x 'file format: qcow2' s.txt || fail "strata-img info $URI: $(cat s.txt)"
contains -x 'virtual size: 32 MiB (33554432 bytes)' s.txt || fail "strata-img info size: $(cat s.txt)"
qemu-io -c 'read -P 0x5a 1M 300k' "$URI" >r.txt || fail "qemu-io read"
! contains 'verification failed' r.txt || fail "qemu reads other data than strata wrote"

# convert from the URI (probed, and with -f) gives what qemu-img's does.
qemu-img convert -O raw "$URI" q.raw
strata-img convert -O raw "$URI" s.raw || fail "convert from $URI"
cmp q.raw s.raw || fail "convert from $URI differs from qemu-img's"
strata-img convert -f qcow2 -O raw "$URI" s2.raw || fail "convert -f qcow2 from $URI"
cmp q.raw s2.raw || fail "convert -f qcow2 from $URI differs"

# A backing file named by URI in a qcow2 header.
strata-img create -q -f qcow2 -b "$URI" -F qcow2 top.qcow2 || fail "create over a URI backing file"
qemu-img info top.qcow2 | contains -xF "backing file: $URI" || fail "backing name not recorded"
strata-io -c 'read -P 0x5a 1M 300k' top.qcow2 >r.txt 2>&1 || fail "read through a URI backing file: $(cat r.txt)"

# convert to a URI: the target is the export (raw, so no create).
nbd_start out memory size=64M
OUT=$(nbd_uri out)
strata-img convert -n -O raw q.raw "$OUT" || fail "convert -n to $OUT"
qemu-img compare -f raw -F raw q.raw "$OUT" >/dev/null || fail "convert to $OUT: qemu sees other data"

# Names that only look like URIs stay files: no scheme of a driver, or no
# "//" after the colon.
printf 'x%.0s' $(seq 512) >'a:b.raw'
strata-img info -f raw 'a:b.raw' >/dev/null || fail "a:b.raw not opened as a file"
rc=0; strata-img info -f raw 'nosuch://x' 2>err.txt || rc=$?
[ $rc = 1 ] && contains "nosuch://x" err.txt || fail "unknown scheme: rc $rc, $(cat err.txt)"
exit 0
