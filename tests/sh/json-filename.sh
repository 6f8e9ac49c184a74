#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# QEMU's json:{...} file names: wherever a file name goes (strata-img,
# strata-io, a backing file name stored in an image), with QEMU's single
# quotes too, -f filling in the driver, options beside the name winning;
# the same results and refusals as qemu-img and qemu-io.  QEMU's
# null-co driver name, with its default read-zeroes=off.  And the explicit
# "file:" prefix, which makes a name with colons a plain path.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
need qemu-img qemu-io
cd "$T"
qemu-img create -q -f qcow2 base.qcow2 4M
qemu-io -c 'write -P 0x61 0 64k' base.qcow2 >/dev/null

# same CMD-ARGS...: strata-img and qemu-img give the same output and status.
same() {
    local sq=0 ss=0
    qemu-img "$@" >q.out 2>&1 || sq=$?
    strata-img "$@" >s.out 2>&1 || ss=$?
    sed -i 's/^qemu-img: //' q.out
    sed -i 's/^strata-img: //' s.out
    [ "$sq" = "$ss" ] || fail "$*: exit $ss, qemu-img $sq: $(cat s.out)"
    cmp -s q.out s.out || { diff q.out s.out; fail "$*: output differs"; }
}
J1='json:{"driver":"qcow2","file":{"driver":"file","filename":"base.qcow2"}}'
J2="json:{'driver':'qcow2','file':{'driver':'file','filename':'base.qcow2'}}"
J3="json:{'file.filename':'base.qcow2'}"
for j in "$J1" "$J2"; do
    strata-img info "$j" | contains "file format: qcow2" || fail "info $j"
    strata-io -c 'read -P 0x61 0 64k' "$j" | contains "read 65536/65536" || fail "strata-io $j"
    same compare "$j" base.qcow2
done
strata-img info -f qcow2 "$J3" | contains "file format: qcow2" || fail "-f with json:"
strata-io -f qcow2 -c 'read -P 0x61 0 64k' "$J3" | contains "read 65536" || fail "strata-io -f"
same info "json:{'driver':'qcow2','file':{'driver':'file','filename':'base.qcow2'}"
same info 'json:[1,2]'
echo "ok json: file names"

# A backing file stored by name as json:.
qemu-img create -q -f qcow2 -b "$J1" -F qcow2 top.qcow2
qemu-io -c 'write -P 0x62 64k 64k' top.qcow2 >/dev/null
strata-io -c 'read -P 0x61 0 64k' -c 'read -P 0x62 64k 64k' top.qcow2 | contains -c "read 65536" >/dev/null ||
    fail "reading through a json: backing file"
[ "$(strata-io -c 'read -P 0x61 0 64k' -c 'read -P 0x62 64k 64k' top.qcow2 | grep -c "read 65536")" = 2 ] ||
    fail "data through a json: backing file"
same compare top.qcow2 base.qcow2
strata-img check top.qcow2 >/dev/null || fail "check with a json: backing file"
# "backing": null: no backing file, whatever the image names.
NB="json:{'driver':'qcow2','file':{'driver':'file','filename':'top.qcow2'},'backing':null}"
for t in qemu-io strata-io; do
    $t -c 'read -P 0 0 64k' -c 'read -P 0x62 64k 64k' "$NB" | grep -c "read 65536" >n.out || true
    [ "$(cat n.out)" = 2 ] || fail "$t with \"backing\": null"
done
echo "ok json: backing file"

# null-co: QEMU's defaults.
for o in driver=null-co,size=1M driver=null-co,size=1M,read-zeroes=on driver=null-aio,size=1M; do
    same map --output=json --image-opts "$o"
done
echo "ok null-co"

# "file:NAME": NAME is a path even with colons in it; one before the first
# slash makes it "./NAME", the directory backing names are relative to.
mkdir colons && cd colons
strata-img create -q -f qcow2 "file:$PWD/a:b.qcow2" 1M || fail "create file:PATH"
[ -f a:b.qcow2 ] || fail "create file:PATH made $(ls)"
qemu-img create -q -f qcow2 base.qcow2 1M
strata-img create -q -f qcow2 -b base.qcow2 -F qcow2 file:image:top.qcow2 ||
    fail "create file:NAME with a backing file"
[ -f image:top.qcow2 ] || fail "create file:NAME made $(ls)"
same info file:image:top.qcow2
same info "file:$PWD/a:b.qcow2"
same check file:image:top.qcow2
same info file:missing:x.qcow2
cd ..
echo "ok file: prefix"
