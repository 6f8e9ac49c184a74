# SPDX-License-Identifier: LGPL-2.1-or-later
# info shows an image whose backing file does not open (missing, or of an
# unknown format) as qemu-img does: the image alone, the backing file's full
# name made from the image's directory; --backing-chain fails, and qemu-io
# refuses such an image with "Unknown driver 'foo'".
. "$(dirname "$0")/lib/common.sh"
need qemu-img
need qemu-io
need python3
S=$STRATA_BUILD/bin
cd "$T"
mkdir sub

qemu-img create -f raw b.raw 1M >/dev/null
qemu-img create -f qcow2 -b b.raw -F raw foo.qcow2 1M >/dev/null
# The backing format extension names "raw": make it "foo".
python3 - foo.qcow2 <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, 'rb').read())
i = d.index(b'\xe2\x79\x2a\xca\x00\x00\x00\x03raw')
d[i + 8:i + 11] = b'foo'
open(p, 'wb').write(d)
PY
qemu-img create -f qcow2 -u -b missing.qcow2 -F qcow2 sub/missing.qcow2 1M >/dev/null
qemu-img create -f qcow2 -u -b /nonexistent/abs.qcow2 -F qcow2 abs.qcow2 1M >/dev/null

same() {
    local qs=0 ss=0 tool=$1
    shift
    "$tool" "$@" >q.txt 2>&1 || qs=$?
    case $tool in
    qemu-img) "$S/strata-img" "$@" >s.txt 2>&1 || ss=$? ;;
    qemu-io) "$S/strata-io" "$@" >s.txt 2>&1 || ss=$? ;;
    esac
    sed 's/^strata-img:/qemu-img:/; s/^strata-io:/qemu-io:/' s.txt >s2.txt
    diff q.txt s2.txt >/dev/null || fail "$tool $*: $(diff q.txt s2.txt)"
    [ "$qs" = "$ss" ] || fail "$tool $*: exit $ss, qemu $qs"
}

for img in foo.qcow2 sub/missing.qcow2 abs.qcow2; do
    same qemu-img info "$img"
    same qemu-img info --output=json "$img"
    "$S/strata-img" info --backing-chain "$img" >out.txt 2>&1 && fail "$img: the chain showed"
    [ -s out.txt ] && ! grep -q "^image:" out.txt || fail "$img: $(cat out.txt)"
done
grep -F "(actual path: sub/missing.qcow2)" <(qemu-img info sub/missing.qcow2) >/dev/null ||
    fail "qemu-img does not show the actual path"
same qemu-io -c "read 0 4k" foo.qcow2
contains -F "Unknown driver 'foo'" <s.txt
exit 0
