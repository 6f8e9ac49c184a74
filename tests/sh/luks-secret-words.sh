# SPDX-License-Identifier: LGPL-2.1-or-later
# A missing secret and a volume no password can unlock are reported in
# qemu-img's and qemu-io's words, for luks and qcow2's LUKS encryption.
. "$(dirname "$0")/lib/common.sh"
need qemu-img
need qemu-io
S=$STRATA_BUILD/bin
cd "$T"
SEC="--object secret,id=sec0,data=hunter0"

# Runs the qemu tool and strata's with the same arguments: same output
# (tool names aside) and exit status.
same() {
    local qs=0 ss=0 tool=$1
    shift
    "$tool" "$@" >q.txt 2>&1 || qs=$?
    case $tool in
    qemu-img) "$S/strata-img" "$@" >s.txt 2>&1 || ss=$? ;;
    qemu-io) "$S/strata-io" "$@" >s.txt 2>&1 || ss=$? ;;
    esac
    sed 's/^strata-img:/qemu-img:/; s/^strata-io:/qemu-io:/' s.txt >s2.txt
    diff q.txt s2.txt >/dev/null || fail "$tool $*: '$(cat s.txt)', qemu: '$(cat q.txt)'"
    [ "$qs" = "$ss" ] || fail "$tool $*: exit $ss, qemu $qs"
}

for fmt in luks qcow2; do
    pr=
    [ $fmt = qcow2 ] && pr=encrypt.
    o="${pr}key-secret=sec0,${pr}iter-time=50"
    [ $fmt = qcow2 ] && o="encrypt.format=luks,$o"
    rm -f v.img
    # shellcheck disable=SC2086
    qemu_img_retry create -f $fmt $SEC -o "$o" v.img 1M >/dev/null || fail "qemu-img create $fmt"
    opts="driver=$fmt,${pr}key-secret=sec0,file.filename=v.img"
    # shellcheck disable=SC2086
    same qemu-img amend $SEC --image-opts "$opts" -o "${pr}state=inactive,${pr}old-secret=sec5" --force
    contains -F "No secret with id 'sec5'" <s.txt
    # shellcheck disable=SC2086
    same qemu-io $SEC --image-opts "driver=$fmt,${pr}key-secret=nope,file.filename=v.img" -c quit
    # shellcheck disable=SC2086
    qemu-img amend $SEC --image-opts "$opts" -o "${pr}state=inactive,${pr}keyslot=0" --force ||
        fail "qemu-img erase of the last slot"
    # shellcheck disable=SC2086
    same qemu-io $SEC --image-opts "$opts" -c "read 0 512"
    contains -F "Invalid password, cannot unlock any keyslot" <s.txt
done
exit 0
