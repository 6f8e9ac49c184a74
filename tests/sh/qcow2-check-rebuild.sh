# SPDX-License-Identifier: LGPL-2.1-or-later
# qcow2 check -r all when a cluster in use has a stored refcount of zero: the
# refcount structure is rebuilt from the references (new blocks and a new
# table at the first free clusters, the old ones freed).  Images written by
# qemu-io get refcounts zeroed (and some raised) by hand; on identical
# copies strata-img and qemu-img must print the same report, exit alike and
# leave the same refcount table offset; afterwards qemu-img check is clean
# and the data reads back unchanged.  A dirty image with the same damage is
# repaired when opened read-write, with qemu-io's messages.
. "$(dirname "$0")/lib/common.sh"
cd "$T"

need qemu-img qemu-io


make_image() {
    local name=$1 opts=$2
    shift 2
    qemu-img create -q -f qcow2 -o "$opts" "$name.qcow2" 16M || fail "$name: create"
    qemu-io -f qcow2 "$@" "$name.qcow2" >/dev/null || fail "$name: qemu-io write"
    qemu-img convert -f qcow2 -O raw "$name.qcow2" "$name.raw" || fail "$name: convert"
}

n=0
# run_case BASE LABEL CLUSTER=VALUE...
run_case() {
    local base=$1 what=$2
    shift 2
    n=$((n + 1))
    cp "$base.qcow2" q.qcow2
    local spec
    for spec in "$@"; do
        set_refcount q.qcow2 "${spec%%=*}" "${spec#*=}"
    done
    cp q.qcow2 s.qcow2
    local qrc=0 src=0
    qemu-img check -r all q.qcow2 >q.out 2>&1 || qrc=$?
    strata-img check -r all s.qcow2 >s.out 2>&1 || src=$?
    contains -x "Rebuilding refcount structure" q.out ||
        fail "$what: qemu-img does not rebuild: $(cat q.out)"
    diff -u q.out s.out >diff.out || fail "$what: report differs from qemu-img's: $(cat diff.out)"
    [ $src -eq $qrc ] || fail "$what: check -r all exited $src, qemu-img $qrc"
    [ "$(be64 s.qcow2 48)" = "$(be64 q.qcow2 48)" ] ||
        fail "$what: refcount table at $(be64 s.qcow2 48), qemu-img puts it at $(be64 q.qcow2 48)"
    [ "$(be32 s.qcow2 56)" = "$(be32 q.qcow2 56)" ] ||
        fail "$what: refcount table of $(be32 s.qcow2 56) clusters, qemu-img's $(be32 q.qcow2 56)"
    qemu-img check s.qcow2 >qcheck.out 2>&1 || fail "$what: qemu-img check after repair: $(cat qcheck.out)"
    strata-img check s.qcow2 >scheck.out 2>&1 || fail "$what: check after repair: $(cat scheck.out)"
    qemu-img convert -f qcow2 -O raw s.qcow2 after.raw || fail "$what: convert after repair"
    cmp -s "$base.raw" after.raw || fail "$what: data changed by the repair"
    # The rebuilt structure takes allocations.
    qemu-io -f qcow2 -c 'write -P 0x66 12M 300k' s.qcow2 >/dev/null || fail "$what: write after repair"
    qemu-img check s.qcow2 >qcheck.out 2>&1 ||
        fail "$what: qemu-img check after writing to the repaired image: $(cat qcheck.out)"
}

# Clusters: 0 header, 1 refcount table, 2 refcount block, 3 L1, 4 L2, 5 data.
make_image small "cluster_size=65536" -c 'write -P 0x11 0 512'
run_case small "data cluster free" 5=0
run_case small "L2 table free" 4=0
run_case small "L1 free, data leaked" 3=0 5=3
run_case small "header and table free" 0=0 1=0

# Several blocks' worth of clusters: the new table needs more than one block
# to describe and the search for its place runs more than once.
make_image many "cluster_size=512" -c 'write -P 0x21 0 1M' -c 'write -P 0x22 8M 200k'
run_case many "many blocks" 7=0 40=0

# -r leaks cannot rebuild: both refuse alike and leave the file alone.
cp small.qcow2 q.qcow2
set_refcount q.qcow2 5 0
cp q.qcow2 s.qcow2
cp q.qcow2 before.qcow2
qrc=0 src=0
qemu-img check -r leaks q.qcow2 >q.out 2>&1 || qrc=$?
strata-img check -r leaks s.qcow2 >s.raw.out 2>&1 || src=$?
sed 's/^strata-img:/qemu-img:/' s.raw.out >s.out
diff -u q.out s.out >diff.out || fail "-r leaks: report differs from qemu-img's: $(cat diff.out)"
[ "$src" -eq "$qrc" ] || fail "-r leaks: exited $src, qemu-img $qrc"
cmp -s s.qcow2 before.qcow2 || fail "-r leaks: the refused repair changed the file"

# A dirty image is repaired on a read-write open, reporting as qemu-io does.
cp small.qcow2 dirty.qcow2
set_refcount dirty.qcow2 5 0
put_be dirty.qcow2 72 1 8
cp dirty.qcow2 dq.qcow2
qemu-io -c 'write -P 0x33 64k 512' dq.qcow2 >dq.out 2>dq.err || fail "qemu-io on the dirty image"
strata-io -c 'write -P 0x33 64k 512' dirty.qcow2 >ds.out 2>ds.err || fail "strata-io on the dirty image: $(cat ds.err)"
contains -x "Rebuilding refcount structure" dq.err || fail "qemu-io does not rebuild: $(cat dq.err)"
diff -u dq.err ds.err >diff.out || fail "dirty open: messages differ from qemu-io's: $(cat diff.out)"
[ "$(be64 dirty.qcow2 72)" = 0x0000000000000000 ] || fail "dirty open: still dirty"
qemu-img check dirty.qcow2 >qcheck.out 2>&1 || fail "dirty open: qemu-img check: $(cat qcheck.out)"
qemu-io -c 'read -P 0x11 0 512' -c 'read -P 0x33 64k 512' dirty.qcow2 >read.out 2>&1 ||
    fail "dirty open: data: $(cat read.out)"
echo "qcow2 refcount rebuild: $n cases ok"
