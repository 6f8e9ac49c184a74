# SPDX-License-Identifier: LGPL-2.1-or-later
# A qcow2 image's external data file has the image's size from its creation
# on and grows with it, raw or not, as with qemu-img: a write to it through
# a raw node above it is then not past its end.
. "$(dirname "$0")/lib/common.sh"
need qemu-img
IMG=$STRATA_BUILD/bin/strata-img
cd "$T"

size_of() { stat -c %s "$1"; }

for raw in off on; do
    qemu-img create -f qcow2 -o data_file=q.data,data_file_raw=$raw q.qcow2 64k >/dev/null ||
        fail "qemu-img create"
    "$IMG" create -f qcow2 -o data_file=s.data,data_file_raw=$raw s.qcow2 64k >/dev/null ||
        fail "create"
    [ "$(size_of s.data)" = "$(size_of q.data)" ] ||
        fail "data_file_raw=$raw: new data file $(size_of s.data) bytes, qemu-img's $(size_of q.data)"
    qemu-img resize q.qcow2 3M >/dev/null || fail "qemu-img resize"
    "$IMG" resize s.qcow2 3M >/dev/null || fail "resize"
    [ "$(size_of s.data)" = "$(size_of q.data)" ] ||
        fail "data_file_raw=$raw: grown data file $(size_of s.data) bytes, qemu-img's $(size_of q.data)"
    "$IMG" check s.qcow2 >/dev/null || fail "check after resize"
    rm -f q.* s.*
done

# The write goes through to the data file, where a failure is the data
# file's (EIO injected here), not a refusal of a write past its end.
"$IMG" create -f qcow2 -o data_file=d.data d.qcow2 64k >/dev/null || fail "create"
printf '[inject-error]\nevent = "write_aio"\nerrno = "5"\nonce = "on"\n' >bd.conf
json="json:{'driver':'qcow2','file':{'driver':'file','filename':'d.qcow2'},
 'data-file':{'driver':'raw','file':{'driver':'blkdebug','config':'bd.conf',
 'image':{'driver':'file','filename':'d.data'}}}}"
"$STRATA_BUILD/bin/strata-io" -c "write 0 64k" "$json" >out.txt 2>&1 || true
contains -i "EIO\|Input/output error" <out.txt || fail "write: $(cat out.txt)"
"$IMG" check d.qcow2 >/dev/null || fail "check after the failed write"
exit 0
