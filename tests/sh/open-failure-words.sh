# SPDX-License-Identifier: LGPL-2.1-or-later
# Every strata-img command reports an image it cannot open as qemu-img
# does, "Could not open 'FILE': MSG", naming the file once; strata-io keeps
# qemu-io's "can't open device FILE: MSG".
. "$(dirname "$0")/lib/common.sh"
need qemu-img
need qemu-io
IMG=$STRATA_BUILD/bin/strata-img
IO=$STRATA_BUILD/bin/strata-io
cd "$T"

qemu-img create -f qcow2 good.qcow2 1M >/dev/null || fail "qemu-img create"
# An unknown incompatible feature bit (bit 63 of the big-endian field at 72).
qemu-img create -f qcow2 feat.qcow2 64M >/dev/null || fail "qemu-img create"
printf '\200' | dd of=feat.qcow2 bs=1 seek=72 conv=notrunc 2>/dev/null
before=$(cksum <feat.qcow2)

same() {
    what=$1
    shift
    qs=0
    "$@" >q.txt 2>&1 || qs=$?
    sed 's/^qemu-img:/strata-img:/; s/^qemu-io:/strata-io:/' q.txt >q2.txt
    tool=$1
    shift
    ss=0
    case $tool in
    qemu-img) "$IMG" "$@" >s.txt 2>&1 || ss=$? ;;
    qemu-io) "$IO" "$@" >s.txt 2>&1 || ss=$? ;;
    esac
    diff q2.txt s.txt >/dev/null || fail "$what: '$(cat s.txt)', qemu: '$(cat q.txt)'"
    [ "$qs" = "$ss" ] || fail "$what: exit $ss, qemu $qs"
}

for cmd in "info" "check" "map" "snapshot -l" "resize" "amend -o lazy_refcounts=on" \
           "convert -O raw" "measure -O qcow2" "compare good.qcow2" "commit" \
           "rebase -u -F qcow2 -b good.qcow2"; do
    case $cmd in
    resize) args="feat.qcow2 1M" ;;
    "convert -O raw") args="feat.qcow2 out.raw" ;;
    "compare good.qcow2") cmd=compare args="good.qcow2 feat.qcow2" ;;
    *) args=feat.qcow2 ;;
    esac
    # qemu-img snapshot takes no -f.
    f="-f qcow2"
    [ "$cmd" = "snapshot -l" ] && f=
    # shellcheck disable=SC2086
    same "$cmd" qemu-img $cmd $f $args
done
contains -F "Could not open 'feat.qcow2': Unsupported qcow2 feature(s): Unknown incompatible feature: 8000000000000000" <s.txt
[ "$(cksum <feat.qcow2)" = "$before" ] || fail "a refused image was written"

# A file too short for the header: the message is strata's, the form
# qemu-img's, naming the file once.
echo x >short.qcow2
"$IMG" info -f qcow2 short.qcow2 >s.txt 2>&1 && fail "info of a short file succeeded"
line=$(cat s.txt)
case $line in
"strata-img: Could not open 'short.qcow2': "*) ;;
*) fail "short file: $line" ;;
esac
[ "$(grep -o short.qcow2 s.txt | wc -l)" = 1 ] || fail "the file is named twice: $line"

# qemu-io's form.
same "qemu-io open" qemu-io -f qcow2 -c "read 0 512" feat.qcow2
contains -F "can't open device feat.qcow2: Unsupported qcow2 feature(s)" <s.txt
exit 0
