# SPDX-License-Identifier: LGPL-2.1-or-later
# qcow2's VM state area and snapshot extra data against qemu-io/qemu-img:
# VM state written by one side reads back through the other (past the disk's
# end, at 1 TiB, across snapshots); read -b/write -b refusals as qemu-io's;
# the snapshot table entries strata-img writes carry the extra data qemu-img
# writes, and damaged tables are refused and repaired as qemu-img does.
. "$(dirname "$0")/lib/common.sh"
cd "$T"

need qemu-img qemu-io python3
mkdir ours && ln -s "$STRATA_BUILD/bin/strata-io" ours/qemu-io &&
    ln -s "$STRATA_BUILD/bin/strata-img" ours/qemu-img

qcheck() { # image what: qemu-img check finds nothing at all
    local out
    out=$(qemu-img check "$1" 2>&1) || fail "$2: qemu-img check failed: $out"
    grep -q 'No errors were found' <<<"$out" || fail "$2: qemu-img check: $out"
}
mask() {
    sed -E 's#[0-9]+ ops; [0-9/:. sec]+ \([0-9/.inf]+ [EPTGMKiBbytes]+/sec and [0-9/.inf]+ ops/sec\)#X ops; TIME#'
}
# same_io SETUP ARGS...: qemu-io and strata-io (named qemu-io) with ARGS on
# an image SETUP makes afresh: the same output and exit status.
same_io() {
    local setup=$1 who rc; shift
    for who in theirs ours; do
        rm -f img.qcow2 img.raw; $setup
        rc=0
        if [ $who = ours ]; then ./ours/qemu-io "$@" > $who.out 2>&1 || rc=$?
        else qemu-io "$@" > $who.out 2>&1 || rc=$?; fi
        echo "exit $rc" >> $who.out
        mask < $who.out > $who.txt
    done
    diff -u theirs.txt ours.txt > diff.txt || fail "qemu-io $* differs:
$(cat diff.txt)"
}

# ------------------------------------------------ VM state, both directions
# Far out: 1 TiB needs an L1 table of 16 KiB with 64 KiB clusters (more
# than qemu's limit with 512-byte ones, where 1 GiB needs 8 MiB).
for cs in 512 65536; do
    far=1T; [ $cs = 512 ] && far=1G
    qemu-img create -q -f qcow2 -o cluster_size=$cs a.qcow2 64M
    strata-io -c 'write -b -P 0x11 0 4k' -c 'write -b -P 0x22 1M 64k' \
        -c "write -b -P 0x33 $far 4k" a.qcow2 >/dev/null || fail "strata-io write -b ($cs)"
    qemu-io -c 'read -b -P 0x11 0 4k' -c 'read -b -P 0x22 1M 64k' \
        -c "read -b -P 0x33 $far 4k" -c 'read -b -P 0 8k 4k' a.qcow2 > out.txt ||
        fail "qemu-io read -b of strata's VM state ($cs): $(cat out.txt)"
    contains 'Pattern verification failed' out.txt && fail "VM state differs ($cs): $(cat out.txt)"
    # The guest disk is untouched.
    qemu-io -c 'read -P 0 0 64M' a.qcow2 > out.txt || fail "disk read ($cs)"
    contains 'Pattern verification failed' out.txt && fail "VM state reached the disk ($cs)"
    qcheck a.qcow2 "VM state written by strata ($cs)"

    qemu-img create -q -f qcow2 -o cluster_size=$cs b.qcow2 16M
    qemu-io -c 'write -b -P 0x44 0 4M' -c "write -b -P 0x55 $far 8k" b.qcow2 >/dev/null
    strata-io -c 'read -b -P 0x44 0 4M' -c "read -b -P 0x55 $far 8k" b.qcow2 > out.txt ||
        fail "strata-io read -b of qemu's VM state ($cs): $(cat out.txt)"
    contains 'Pattern verification failed' out.txt && fail "qemu's VM state differs ($cs)"
    strata-img check b.qcow2 >/dev/null || fail "strata-img check after qemu's VM state ($cs)"
done

# A snapshot keeps the VM state (029): overwritten after it, back after -a.
qemu-img create -q -f qcow2 s.qcow2 64M
strata-io -c 'write -b -P 0x11 1T 4k' s.qcow2 >/dev/null
strata-img snapshot -c foo s.qcow2
qemu-io -c 'write -b -P 0x22 1T 4k' s.qcow2 >/dev/null
strata-img snapshot -a foo s.qcow2
qemu-io -c 'read -b -P 0x11 1T 4k' s.qcow2 > out.txt || fail "VM state after snapshot -a"
contains 'Pattern verification failed' out.txt && fail "snapshot -a lost the VM state"
qcheck s.qcow2 "VM state across a snapshot"

# A node without a VM state passes the request to its primary child, as
# qemu does: a copy-on-read filter, raw over qcow2.
qemu-img create -q -f qcow2 f.qcow2 16M
qemu-io -c 'write -b -P 0x66 0 4k' f.qcow2 >/dev/null
strata-io -C -c 'read -b -P 0x66 0 4k' f.qcow2 > out.txt || fail "read -b under -C"
strata-io --image-opts -c 'read -b -P 0x66 0 4k' \
    driver=raw,file.driver=qcow2,file.file.filename=f.qcow2 >> out.txt || fail "raw over qcow2"
contains 'Pattern verification failed' out.txt && fail "VM state through a parent: $(cat out.txt)"

# Messages and refusals as qemu-io's: no VM state in raw, sector alignment,
# -b with -z or -f, and the report of a write.
mkq() { qemu-img create -q -f qcow2 img.qcow2 1M; }
mkr() { qemu-img create -q -f raw img.raw 1M; }
same_io mkq -c 'write -b -P 0x5a 0 4k' -c 'read -b -P 0x5a 0 4k' -c 'read -b -v 0 512' img.qcow2
same_io mkq -c 'write -b 100 512' -c 'read -b 0 100' img.qcow2
same_io mkq -c 'write -b -z 0 512' -c 'write -b -f 0 512' img.qcow2
same_io mkq -c 'write -b 1P 512' img.qcow2
same_io mkr -f raw -c 'write -b 0 512' -c 'read -b 0 512' img.raw
rc=0; strata-io -f raw -c 'read -b 0 512' img.raw > out.txt 2>&1 || rc=$?
contains 'img.raw: no format in this image keeps a VM state' out.txt ||
    fail "strata-io names the image without a VM state: $(cat out.txt)"

# ------------------------------------------------ snapshot extra data
# entries FILE: "extra-size vm-state disk-size icount id name" per entry.
entries() {
    python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
n, off = struct.unpack('>IQ', d[60:72])
for i in range(n):
    off = (off + 7) & ~7
    idl, nl = struct.unpack('>HH', d[off + 12:off + 16])
    ex = struct.unpack('>I', d[off + 36:off + 40])[0]
    e = d[off + 40:off + 40 + ex]
    f = [str(struct.unpack('>Q', e[k:k + 8])[0]) if len(e) >= k + 8 else '-' for k in (0, 8, 16)]
    p = off + 40 + ex
    print(ex, *f, e[24:].rstrip(b'\0').decode() or '-', d[p:p + idl].decode(),
          d[p + idl:p + idl + nl].decode())
    off = p + idl + nl
EOF
}
for compat in 0.10 1.1; do
    qemu-img create -q -f qcow2 -o compat=$compat q.qcow2 32M
    cp q.qcow2 s.qcow2
    qemu-img snapshot -c one q.qcow2
    strata-img snapshot -c one s.qcow2
    entries q.qcow2 > theirs.txt
    entries s.qcow2 > ours.txt
    diff -u theirs.txt ours.txt || fail "snapshot entry differs from qemu-img's ($compat)"
    grep -q '^24 0 33554432 0 - 1 one$' ours.txt || fail "extra data ($compat): $(cat ours.txt)"
    qemu-img info --output=json s.qcow2 > info.json
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["snapshots"][0]; assert s["icount"] == 0 and s["vm-state-size"] == 0, s' info.json ||
        fail "qemu-img info of strata's snapshot ($compat)"
done

# A v2 table with a short entry, one with unknown extra data and one with
# the VM state size only (261's template): kept as they are by a new
# snapshot in v2, completed by an upgrade to v3, as by qemu-img.
mk_v2_template() {
    qemu-img create -q -f qcow2 -o compat=0.10 v2.qcow2 64M
    for s in sn0 sn1 sn2; do qemu-img snapshot -c $s v2.qcow2; done
    python3 - v2.qcow2 <<'EOF'
import struct, sys
p = sys.argv[1]
d = bytearray(open(p, 'rb').read())
n, off = struct.unpack('>IQ', d[60:72])
out, o = b'', off
for i in range(n):
    idl, nl = struct.unpack('>HH', d[o + 12:o + 16])
    ex = struct.unpack('>I', d[o + 36:o + 40])[0]
    head, extra = bytearray(d[o:o + 40]), bytes(d[o + 40:o + 40 + ex])
    names = bytes(d[o + 40 + ex:o + 40 + ex + idl + nl])
    extra = [b'', extra.ljust(24, b'\0')[:24] + b'very important data'.ljust(26, b'\0'),
             extra[:8]][i]
    head[36:40] = struct.pack('>I', len(extra))
    e = bytes(head) + extra + names
    out += e + b'\0' * (-len(e) % 8)
    o = (o + 40 + ex + idl + nl + 7) & ~7
d[off:off + len(out)] = out
open(p, 'wb').write(d)
EOF
}
mk_v2_template
cp v2.qcow2 q.qcow2; cp v2.qcow2 s.qcow2
qemu-img amend -o compat=1.1 q.qcow2
strata-img amend -o compat=1.1 s.qcow2 || fail "amend to compat=1.1 with snapshots"
entries q.qcow2 > theirs.txt
entries s.qcow2 > ours.txt
diff -u theirs.txt ours.txt || fail "upgraded snapshot table differs from qemu-img's"
grep -q 'very important data' ours.txt || fail "unknown extra data lost: $(cat ours.txt)"
qcheck s.qcow2 "upgraded snapshot table"
cp v2.qcow2 q.qcow2; cp v2.qcow2 s.qcow2
qemu-img snapshot -c sn3 q.qcow2
strata-img snapshot -c sn3 s.qcow2
entries q.qcow2 | sed 's/ sn3$//;s/ 4$//' > theirs.txt
entries s.qcow2 | sed 's/ sn3$//;s/ 4$//' > ours.txt
diff -u theirs.txt ours.txt || fail "v2 table after a new snapshot differs from qemu-img's"

# The v2 template made v3 by hand: check reports the short entries, -r all
# completes them, as qemu-img check.
to_v3() {
    cp v2.qcow2 "$1"
    printf '\x00\x00\x00\x03' | dd of="$1" bs=1 seek=4 conv=notrunc status=none
    printf '\x00\x00\x00\x04' | dd of="$1" bs=1 seek=96 conv=notrunc status=none
    printf '\x00\x00\x00\x68' | dd of="$1" bs=1 seek=100 conv=notrunc status=none
}
to_v3 q.qcow2; to_v3 s.qcow2
rc=0; ./ours/qemu-img check s.qcow2 > ours.txt 2>&1 || rc=$?
[ $rc = 2 ] || fail "check of incomplete v3 entries: exit $rc"
contains '^ERROR snapshot table entry 0 is incomplete' ours.txt || fail "$(cat ours.txt)"
qemu-img check -r all q.qcow2 > theirs.txt 2>&1 || true
./ours/qemu-img check -r all s.qcow2 > ours.txt 2>&1 || fail "check -r all: $(cat ours.txt)"
diff -u theirs.txt ours.txt || fail "check -r all of incomplete entries differs"
entries q.qcow2 > theirs.txt
entries s.qcow2 > ours.txt
diff -u theirs.txt ours.txt || fail "repaired snapshot table differs from qemu-img's"

# Too much extra data: open refused, check fails, check -r all cuts it.
qemu-img create -q -f qcow2 x.qcow2 64M
qemu-img snapshot -c a x.qcow2
qemu-img snapshot -c b x.qcow2
python3 - x.qcow2 <<'EOF'
import struct, sys
p = sys.argv[1]
d = bytearray(open(p, 'rb').read())
n, off = struct.unpack('>IQ', d[60:72])
idl, nl = struct.unpack('>HH', d[off + 12:off + 16])
ex = struct.unpack('>I', d[off + 36:off + 40])[0]
o = (off + 40 + ex + idl + nl + 7) & ~7
d[o + 36:o + 40] = struct.pack('>I', 2048)     # entry 1 claims 2 KiB of extra data
d = d.ljust(o + 40 + 2048 + 64, b'\0')
open(p, 'wb').write(d)
EOF
cp x.qcow2 q.qcow2
rc=0; ./ours/qemu-img info x.qcow2 > out.txt 2>&1 || rc=$?
[ $rc = 1 ] && contains 'Too much extra metadata in snapshot table entry 1' out.txt &&
    contains 'You can force-remove this extra metadata with qemu-img check -r all' out.txt ||
    fail "open with too much extra data: exit $rc, $(cat out.txt)"
rc=0; ./ours/qemu-img check x.qcow2 > out.txt 2>&1 || rc=$?
[ $rc = 1 ] && grep -q '^qemu-img: ERROR failed to read the snapshot table: Too much extra metadata in snapshot table entry 1$' out.txt &&
    grep -q '^qemu-img: Check failed: File too large$' out.txt ||
    fail "check with too much extra data: exit $rc, $(cat out.txt)"
./ours/qemu-img check -r all x.qcow2 > out.txt 2>&1 || fail "check -r all: $(cat out.txt)"
contains '^Discarding too much extra metadata in snapshot table entry 1 (2048 > 1024)$' out.txt ||
    fail "repair message: $(cat out.txt)"
qcheck x.qcow2 "cut extra data"
qemu-img check -r all q.qcow2 >/dev/null 2>&1 || true
entries q.qcow2 > theirs.txt
entries x.qcow2 > ours.txt
diff -u theirs.txt ours.txt || fail "table with cut extra data differs from qemu-img's"
grep -q '^1024 ' ours.txt || fail "extra data not cut to 1 KiB: $(cat ours.txt)"

# More snapshots than qemu allows: open refused, check -r all drops them.
qemu-img create -q -f qcow2 -o compat=0.10 m.qcow2 64M
python3 - m.qcow2 <<'EOF'
import struct, sys
p = sys.argv[1]
d = bytearray(open(p, 'rb').read())
d[60:72] = struct.pack('>IQ', 65537, 1 << 20)
open(p, 'wb').write(d.ljust((1 << 20) + 40 * 65537, b'\0'))
EOF
rc=0; ./ours/qemu-img info m.qcow2 > out.txt 2>&1 || rc=$?
[ $rc = 1 ] && contains 'Snapshot table too large' out.txt || fail "65537 snapshots: $(cat out.txt)"
./ours/qemu-img check -r all m.qcow2 > out.txt 2>&1 || true
contains '^Discarding 1 overhanging snapshots$' out.txt || fail "65537 snapshots repair: $(cat out.txt)"
[ "$(python3 -c 'import struct,sys; print(struct.unpack(">I", open(sys.argv[1],"rb").read()[60:64])[0])' m.qcow2)" = 65536 ] ||
    fail "snapshot count not lowered"

echo ok
