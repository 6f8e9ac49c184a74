# SPDX-License-Identifier: LGPL-2.1-or-later
# strata-img's commands on qcow2 images and backing chains (rebase, commit,
# snapshot and the options that would write), checked against qemu-img 7.2
# run on the same files: qemu-img makes the images and reports what they
# hold afterwards.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/hold.sh"

IMG=$STRATA_BUILD/bin/strata-img
need qemu-img qemu-io
cd "$T"

qemu-img create -q -f qcow2 base.qcow2 4M
qemu-io -f qcow2 -c 'write -P 0x11 0 64k' base.qcow2 > /dev/null
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2 4M
qemu-io -f qcow2 -c 'write -P 0x22 1M 64k' top.qcow2 > /dev/null
qemu-img create -q -f raw new.raw 4M

# ------------------------------------------------------------ rebase without -F
# qemu-img 7.2 refuses it ("backing format must be specified"), with or
# without -u, and leaves the image as it was: a probed format would take a
# raw file holding an image header for that image, and keeping the old
# format (qcow2) for a raw file would leave an image that no longer opens.
# (Without -u, qemu-img copies the differences into the image before it
# refuses; strata refuses before it opens anything.)
for u in -u ""; do
    cp top.qcow2 t.qcow2
    qrc=0; qemu-img rebase $u -b new.raw t.qcow2 2> qerr.txt || qrc=$?
    [ $qrc != 0 ] || fail "qemu-img rebase $u without -F succeeded: the reference changed"
    cp top.qcow2 t.qcow2
    rc=0; "$IMG" rebase $u -b new.raw t.qcow2 2> err.txt || rc=$?
    [ $rc = 1 ] || fail "rebase $u without -F exits $rc, qemu-img $qrc"
    [ "$(sed 's/^strata-img: //' err.txt)" = "$(sed 's/^qemu-img: //' qerr.txt)" ] ||
        fail "rebase $u without -F says: $(cat err.txt); qemu-img: $(cat qerr.txt)"
    cmp -s top.qcow2 t.qcow2 || fail "refused rebase $u changed the image"
done
qemu-img info --output=json t.qcow2 > q.json || fail "qemu-img cannot open the image after a refused rebase"
[ "$(json_field q.json backing-filename)" = base.qcow2 ] || fail "refused rebase: backing is $(json_field q.json backing-filename)"
# With -F the name and the format are both recorded.
"$IMG" rebase -u -b new.raw -F raw t.qcow2 || fail "rebase -u -F raw"
qemu-img info --output=json t.qcow2 > q.json || fail "qemu-img cannot open the rebased image"
[ "$(json_field q.json backing-filename)" = new.raw ] &&
    [ "$(json_field q.json backing-filename-format)" = raw ] ||
    fail "rebase -u -F raw recorded: $(cat q.json)"
qemu-img check -q t.qcow2 || fail "qemu-img check after rebase -u"
# Removing the backing file needs no format.
"$IMG" rebase -u -b "" t.qcow2 || fail "rebase -u -b ''"
qemu-img info --output=json t.qcow2 > q.json
[ -z "$(json_field q.json backing-filename)" ] || fail "rebase -u -b '' kept $(json_field q.json backing-filename)"

# ------------------------------------------------------------ commit -b
# Names of the immediate backing file are taken as qemu-img takes them: the
# name stored in the image or any relative name from the image's
# directory, an absolute path, an absolute symbolic link.  A path from the
# working directory is refused, as qemu-img refuses it.
pattern_ok() {   # pattern_ok FILE 'read -P ...': qemu-io verifies the pattern
    ! qemu-io -f qcow2 -c "$2" "$1" | contains 'Pattern verification failed'
}
mkdir sub
qemu-img create -q -f qcow2 sub/x.qcow2 4M
qemu-img create -q -f qcow2 -b x.qcow2 -F qcow2 sub/c.qcow2
qemu-io -f qcow2 -c 'write -P 0x33 64k 64k' sub/c.qcow2 > /dev/null
cp sub/x.qcow2 x0.qcow2
cp sub/x.qcow2 other.qcow2
ln -s sub/x.qcow2 link.qcow2
for name in x.qcow2 ./x.qcow2 "$T/sub/x.qcow2" "$T/link.qcow2"; do
    cp x0.qcow2 sub/x.qcow2
    qemu-img commit -q -d -b "$name" sub/c.qcow2 || fail "qemu-img commit -b $name: the reference changed"
done
for name in x.qcow2 ./x.qcow2 "$T/sub/x.qcow2" "$T/link.qcow2"; do
    cp x0.qcow2 sub/x.qcow2
    pattern_ok sub/x.qcow2 'read -P 0 64k 64k' || fail "the backing file was not reset"
    "$IMG" commit -q -b "$name" sub/c.qcow2 2> err.txt || fail "commit -b $name refused: $(cat err.txt)"
    pattern_ok sub/x.qcow2 'read -P 0x33 64k 64k' || fail "commit -b $name: the data is not in the backing file"
done
# Names of other files are refused and nothing is written: a copy of the
# backing file, a missing file, the image itself.
for name in other.qcow2 missing.qcow2 sub/c.qcow2 c.qcow2 sub/x.qcow2 ./sub/x.qcow2 link.qcow2; do
    cp x0.qcow2 sub/x.qcow2
    qrc=0; qemu-img commit -q -d -b "$name" sub/c.qcow2 2> /dev/null || qrc=$?
    [ $qrc != 0 ] || fail "qemu-img commit -b $name succeeded: the reference changed"
    rc=0; "$IMG" commit -q -b "$name" sub/c.qcow2 2> err.txt || rc=$?
    [ $rc = 1 ] || fail "commit -b $name exits $rc, qemu-img $qrc"
    grep -q "'$name'" err.txt || fail "commit -b $name: the message does not name it: $(cat err.txt)"
    cmp -s x0.qcow2 sub/x.qcow2 && cmp -s x0.qcow2 other.qcow2 ||
        fail "refused commit -b $name wrote to a file"
done
# -b anywhere down the chain: everything above it goes into it, and -b
# implies -d (the images above are left as they were), as qemu-img does;
# the same files as qemu-img's on a copy of the chain.
mkdir -p deep && (cd deep &&
    qemu-img create -q -f qcow2 x.qcow2 1M &&
    qemu-io -c 'write -P 1 0 1M' x.qcow2 &&
    qemu-img create -q -f qcow2 -b x.qcow2 -F qcow2 c.qcow2 &&
    qemu-io -c 'write -P 2 64k 128k' -c 'write -z 512k 64k' c.qcow2 &&
    qemu-img create -q -f qcow2 -b c.qcow2 -F qcow2 d.qcow2 &&
    qemu-io -c 'write -P 3 128k 128k' d.qcow2) >/dev/null || fail "deep chain set-up"
for b in x.qcow2 c.qcow2; do
    rm -rf ds dq && cp -r deep ds && cp -r deep dq
    "$IMG" commit -q -b "$b" ds/d.qcow2 2> err.txt || fail "commit -b $b: $(cat err.txt)"
    qemu-img commit -q -b "$b" dq/d.qcow2 || fail "qemu-img commit -b $b"
    for f in x.qcow2 c.qcow2 d.qcow2; do
        qemu-img compare -q -f qcow2 -F qcow2 "ds/$f" "dq/$f" ||
            fail "commit -b $b: $f differs from qemu-img's"
    done
    cmp -s deep/d.qcow2 ds/d.qcow2 || fail "commit -b $b emptied the image"
done

# ------------------------------------------------------------ -U where the image is written
# qemu-img 7.2: snapshot -c/-a/-d with -U fail ("force-share=on can only be
# used with read-only images"), create and commit have no -U.  Refused
# before anything is opened: the image stays as it was, no file appears.
qemu-img snapshot -c keep top.qcow2
cp top.qcow2 s.qcow2
for op in "-c new" "-a keep" "-d keep"; do
    qrc=0; qemu-img snapshot -U $op s.qcow2 2> /dev/null || qrc=$?
    [ $qrc != 0 ] || fail "qemu-img snapshot -U $op succeeded: the reference changed"
    for u in -U --force-share; do
        rc=0; "$IMG" snapshot $u $op s.qcow2 2> err.txt || rc=$?
        [ $rc = 1 ] && grep -q -- '-U' err.txt || fail "snapshot $u $op: rc $rc, $(cat err.txt)"
        cmp -s top.qcow2 s.qcow2 || fail "refused snapshot $u $op changed the image"
    done
done
"$IMG" snapshot -U -l s.qcow2 | contains ' keep ' || fail "snapshot -U -l does not list the snapshot"
for u in -U --force-share; do
    rc=0; "$IMG" create $u -q -f qcow2 made.qcow2 1M 2> err.txt || rc=$?
    [ $rc = 1 ] && grep -q -- '-U' err.txt || fail "create $u: rc $rc, $(cat err.txt)"
    [ ! -e made.qcow2 ] || fail "refused create $u made the file"
    cp x0.qcow2 sub/x.qcow2
    rc=0; "$IMG" commit $u -q sub/c.qcow2 2> err.txt || rc=$?
    [ $rc = 1 ] && grep -q -- '-U' err.txt || fail "commit $u: rc $rc, $(cat err.txt)"
    cmp -s x0.qcow2 sub/x.qcow2 || fail "refused commit $u wrote to the backing file"
done
qrc=0; qemu-img create -U -q -f qcow2 made.qcow2 1M 2> /dev/null || qrc=$?
[ $qrc != 0 ] || fail "qemu-img create -U succeeded: the reference changed"

# rebase -U is qemu-img's too: it opens the new backing file, which rebase
# only reads, without locks.  Seen with another program holding that file
# open for writing: without -U the lock is refused, with -U it is not taken.
qemu-img create -q -f raw held.raw 4M
hold_open held.raw
cp top.qcow2 r.qcow2
rc=0; "$IMG" rebase -b held.raw -F raw r.qcow2 2> err.txt || rc=$?
[ $rc = 1 ] && grep -qi 'lock' err.txt || fail "rebase onto a file in use: rc $rc, $(cat err.txt)"
"$IMG" rebase -U -b held.raw -F raw r.qcow2 2> err.txt || fail "rebase -U: $(cat err.txt)"
hold_release
qemu-img info --output=json r.qcow2 > q.json
[ "$(json_field q.json backing-filename)" = held.raw ] || fail "rebase -U recorded $(cat q.json)"
qemu-img compare -f qcow2 -F qcow2 top.qcow2 r.qcow2 > /dev/null || fail "rebase -U changed what the guest sees"

echo "tools-img-qcow2: ok"
