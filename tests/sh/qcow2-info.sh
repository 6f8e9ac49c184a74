# SPDX-License-Identifier: LGPL-2.1-or-later
# strata-img info on qcow2 images next to qemu-img info on the same files:
# version 2 and 3, backing files (relative names, stored formats, the whole
# chain), internal snapshots made by qemu and by strata, lazy refcounts with
# the dirty bit left set, extended L2 entries, LUKS encryption.
#
# JSON: both outputs are parsed and compared as trees (qemu-img prints its
# members in hash order, so order is not compared).  One field is left out:
# "actual-size", the host file system's allocation for the file (st_blocks),
# which belongs to the file and not to qcow2 and may change between two
# stat() calls for reasons outside either tool (delayed allocation,
# preallocation trimmed in the background).  Everything else, snapshot
# dates and the LUKS slot table included, must be equal.
#
# Human output: equal line for line down to "Format specific information:"
# (snapshot table included; both run with TZ=UTC); below it qemu-img prints
# nested members in hash order too, so those lines are compared as sorted
# lists.
. "$(dirname "$0")/lib/common.sh"
cd "$T"
export TZ=UTC

need qemu-img qemu-io python3

cat > cmp.py <<'EOF'
import json, sys
q = json.load(open(sys.argv[1]))
s = json.load(open(sys.argv[2]))
def drop(v):
    if isinstance(v, dict):
        v.pop("actual-size", None)
        for x in v.values():
            drop(x)
    elif isinstance(v, list):
        for x in v:
            drop(x)
drop(q); drop(s)
bad = []
def walk(p, a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in b: bad.append("%s%s: only qemu-img has it (%r)" % (p, k, a[k]))
            elif k not in a: bad.append("%s%s: only strata-img has it (%r)" % (p, k, b[k]))
            else: walk(p + k + "/", a[k], b[k])
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            walk("%s%d/" % (p, i), x, y)
    elif a != b or type(a) != type(b):
        bad.append("%s: qemu-img %r, strata-img %r" % (p, a, b))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF

# same_info WHAT ARGS...: info with ARGS through both tools, JSON and human.
same_info() {
    local what=$1; shift
    qemu-img info --output=json "$@" > q.json || fail "$what: qemu-img info failed"
    strata-img info --output=json "$@" > s.json || fail "$what: strata-img info failed"
    python3 cmp.py q.json s.json > diff.txt || fail "$what: info --output=json differs:
$(cat diff.txt)"
    qemu-img info "$@" > q.txt || fail "$what: qemu-img info failed"
    strata-img info "$@" > s.txt || fail "$what: strata-img info failed"
    # actual-size is left out of the human output as well ("disk size").
    for f in q s; do
        sed -n '/^Format specific information:/q; /^disk size:/d; p' $f.txt > $f.head
        sed -n '/^Format specific information:/,$p' $f.txt | sort > $f.tail
    done
    diff q.head s.head > diff.txt || fail "$what: info differs:
$(cat diff.txt)"
    diff q.tail s.tail > diff.txt || fail "$what: format specific information differs:
$(cat diff.txt)"
    n=$((n + 1))
}
n=0

qemu-img create -q -f qcow2 -o compat=0.10 v2.qcow2 10M
same_info "version 2" v2.qcow2
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4k v2small.qcow2 1G
same_info "version 2, 4 KiB clusters" v2small.qcow2
qemu-img create -q -f qcow2 -o compat=1.1,refcount_bits=8 v3.qcow2 3G
same_info "version 3" v3.qcow2
qemu-img create -q -f qcow2 -o extended_l2=on,cluster_size=128k ext.qcow2 5M
same_info "extended L2" ext.qcow2
qemu-img create -q -f qcow2 -o compression_type=zstd zstd.qcow2 5M
same_info "zstd" zstd.qcow2

# Backing files, stored relative to the overlay's directory.
mkdir sub
qemu-img create -q -f qcow2 -b v3.qcow2 -F qcow2 over.qcow2
same_info "backing file with format" over.qcow2
same_info "backing chain" --backing-chain over.qcow2
qemu-img create -q -f qcow2 -o compat=0.10 -b ../v2.qcow2 -F qcow2 sub/over2.qcow2 20M
same_info "version 2 over a relative ../ name" sub/over2.qcow2
same_info "chain with version 2" --backing-chain sub/over2.qcow2
qemu-img create -q -f raw base.raw 1M
qemu-img create -q -f qcow2 -b base.raw -F raw overraw.qcow2
same_info "raw backing file" overraw.qcow2

# Lazy refcounts, and an image left dirty: qemu-io writes with lazy
# refcounts and aborts before closing, so the dirty bit stays set.
qemu-img create -q -f qcow2 -o lazy_refcounts=on lazy.qcow2 5M
same_info "lazy refcounts" lazy.qcow2
cp lazy.qcow2 dirty.qcow2
(ulimit -c 0; qemu-io -c 'write -P 0x11 0 64k' -c abort dirty.qcow2 >/dev/null 2>&1) 2>/dev/null || true
qemu-img info --output=json dirty.qcow2 | contains '"dirty-flag": true' ||
    fail "could not make an image with the dirty bit set"
same_info "dirty bit set" dirty.qcow2

# Internal snapshots: qemu's (with an instruction count), strata's (without),
# and both in one table.
qemu-img create -q -f qcow2 snap.qcow2 10M
qemu-io -c 'write -P 0x21 0 1M' snap.qcow2 >/dev/null
qemu-img snapshot -c first snap.qcow2
qemu-io -c 'write -P 0x22 0 64k' snap.qcow2 >/dev/null
qemu-img snapshot -c "a rather long snapshot name" snap.qcow2
same_info "snapshots made by qemu-img" snap.qcow2
strata-img snapshot -c by-strata snap.qcow2 || fail "strata-img snapshot -c"
same_info "snapshots made by qemu-img and strata-img" snap.qcow2
diff <(qemu-img snapshot -l snap.qcow2) <(strata-img snapshot -l snap.qcow2) > diff.txt ||
    fail "snapshot -l differs: $(cat diff.txt)"
qemu-img snapshot -d first snap.qcow2
same_info "a snapshot deleted by qemu-img" snap.qcow2
qemu-img create -q -f qcow2 -o compat=0.10 snap2.qcow2 10M
strata-img snapshot -c one snap2.qcow2 || fail "strata-img snapshot -c on version 2"
same_info "version 2 with a snapshot made by strata" snap2.qcow2

# LUKS: the encrypted flag and the LUKS header details.  info needs no key.
printf 'info-pass' > pass
qluks() { # image extra-options
    qemu_img_retry create -q -f qcow2 --object secret,id=s0,file=pass \
        -o "encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=50$2" "$1" 4M ||
        fail "qemu-img create $1 (LUKS)"
}
qluks luks.qcow2 ""
same_info "LUKS encrypted" luks.qcow2
qluks luks2.qcow2 ,encrypt.cipher-alg=aes-128,encrypt.cipher-mode=cbc,encrypt.ivgen-alg=essiv,encrypt.ivgen-hash-alg=sha256,compat=0.10
same_info "LUKS aes-128-cbc-essiv, version 2" luks2.qcow2

echo "$n comparisons with qemu-img info: equal"
