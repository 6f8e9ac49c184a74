# SPDX-License-Identifier: LGPL-2.1-or-later
# strata-img create's "Formatting ..." line is qemu-img's, option for
# option: qcow2, qcow, raw and luks, with and without options, defaults,
# sizes given with suffixes, backing files and escaped commas.
. "$(dirname "$0")/lib/common.sh"
need qemu-img
IMG=$STRATA_BUILD/bin/strata-img
cd "$T"

while IFS= read -r args; do
    [ -n "$args" ] || continue
    rm -f a.img d*.raw
    # shellcheck disable=SC2086
    qemu_img_retry create $args >q.txt 2>&1 || fail "qemu-img create $args: $(cat q.txt)"
    rm -f a.img d*.raw
    # shellcheck disable=SC2086
    "$IMG" create $args >s.txt 2>&1 || fail "create $args failed: $(cat s.txt)"
    diff q.txt s.txt >/dev/null || fail "create $args: $(cat s.txt); qemu-img: $(cat q.txt)"
done <<'LIST'
-f qcow2 a.img 1M
-f qcow2 -o cluster_size=4k,lazy_refcounts=on,refcount_bits=8 a.img 1M
-f qcow2 -o compat=0.10,preallocation=metadata a.img 1M
-f qcow2 -o extended_l2=on,compression_type=zlib a.img 1234
-f qcow2 -o encryption=off a.img 1M
-f qcow -o encryption=off a.img 1M
-f qcow2 -o data_file=d,,x.raw a.img 1M
-f qcow2 -u -b x.raw -F raw a.img 1M
-f raw a.img 1234
-f raw -o preallocation=falloc a.img 1M
-f raw -o extent_size_hint=2M a.img 1M
-f qcow -u -o backing_file=x.raw,backing_fmt=raw a.img 1M
-f luks --object secret,id=s,data=x -o key-secret=s,iter-time=10,cipher-alg=aes-128 a.img 1M
LIST

# A value outside an option's choices fails after the Formatting line, in
# qemu-img's words and with its exit status, and makes no image.
while IFS= read -r args; do
    [ -n "$args" ] || continue
    rm -f a.img
    # shellcheck disable=SC2086
    qemu-img create $args >q.txt 2>&1 && fail "qemu-img create $args succeeded"
    qs=$?
    [ -e a.img ] && fail "qemu-img create $args left an image"
    # shellcheck disable=SC2086
    "$IMG" create $args >s.txt 2>&1 && fail "create $args succeeded"
    ss=$?
    [ -e a.img ] && fail "create $args left an image"
    sed 's/^strata-img:/qemu-img:/' s.txt >s2.txt
    diff q.txt s2.txt >/dev/null || fail "create $args: $(cat s.txt); qemu-img: $(cat q.txt)"
    [ "$qs" = "$ss" ] || fail "create $args: exit $ss, qemu-img $qs"
done <<'LIST'
-f qcow2 -o compat=0.42 a.img 64M
-f qcow2 -o compat=foobar a.img 64M
-f qcow2 -o preallocation=1234 a.img 64M
-f qcow2 -o compat=1.1,preallocation=x a.img 64M
-f qcow2 -o compression_type=foo a.img 1M
LIST
exit 0
