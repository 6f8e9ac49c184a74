# SPDX-License-Identifier: LGPL-2.1-or-later
# raw images shared with qemu: what strata writes (through strata-io, which
# uses the embedding API) qemu-io reads back identically, and the other way
# round; byte-for-byte equal images from the same writes; windows and
# cache=none on the strata side.
. "$(dirname "$0")/lib/common.sh"

IO=$STRATA_BUILD/bin/strata-io
IMG=$STRATA_BUILD/bin/strata-img
[ -x "$IO" ] || fail "$IO is not built"
need qemu-io qemu-img
cd "$T"

# qio FILE CMD...: qemu-io on a raw file; fails on a pattern mismatch too.
qio() {
    local f=$1; shift
    local args=() c out
    for c in "$@"; do args+=(-c "$c"); done
    out=$(qemu-io -f raw "${args[@]}" "$f" 2>&1) || { echo "$out" >&2; return 1; }
    ! grep -q 'Pattern verification failed' <<<"$out" || { echo "$out" >&2; return 1; }
}
# sio OPEN-ARGS... -- CMD...: the same with strata-io.
sio() {
    local open=() args=() c out
    while [ "$1" != -- ]; do open+=("$1"); shift; done
    shift
    for c in "$@"; do args+=(-c "$c"); done
    out=$("$IO" "${args[@]}" "${open[@]}" 2>&1) || { echo "$out" >&2; return 1; }
    ! grep -qi 'verification failed\|mismatch' <<<"$out" || { echo "$out" >&2; return 1; }
}

# ------------------------------------------------------------ strata writes, qemu reads
"$IMG" create -f raw s.raw 4M >/dev/null || fail "strata-img create"
[ "$(stat -c %s s.raw)" = 4194304 ] || fail "created image is $(stat -c %s s.raw) bytes"
qemu-img info -f raw --output=json s.raw | contains '"virtual-size": 4194304' ||
    fail "qemu-img does not see a 4 MiB image"

sio -f raw s.raw -- 'write -P 0xab 0 1M' 'write -P 0x77 1200001 54321' 'write -P 0x01 4194303 1' ||
    fail "strata-io write"
qio s.raw 'read -P 0xab 0 1M' 'read -P 0 1048576 151425' 'read -P 0x77 1200001 54321' \
    'read -P 0 1254322 2939981' 'read -P 0x01 4194303 1' ||
    fail "qemu-io does not read back what strata wrote"

# ------------------------------------------------------------ qemu writes, strata reads
qio s.raw 'write -P 0xcd 512 1M' 'write -P 0x5a 3000001 4097' || fail "qemu-io write"
sio -f raw -r s.raw -- 'read -P 0xcd 512 1M' 'read -P 0 1049088 0x200' 'read -P 0xab 0 512' 'read -P 0x5a 3000001 4097' ||
    fail "strata-io does not read back what qemu-io wrote"

# ------------------------------------------------------------ same writes, same bytes
cmds=('write -P 0x11 0 65536' 'write -P 0x22 4095 2' 'write -P 0x33 100000 300000'
      'write -z 150000 20000' 'write -P 0x44 2097151 1048578')
truncate -s 4M a.raw b.raw
sio -f raw a.raw -- "${cmds[@]}" || fail "strata-io writes"
qio b.raw "${cmds[@]}" || fail "qemu-io writes"
cmp a.raw b.raw || fail "strata and qemu-io wrote different bytes"
qemu-img compare -q -f raw -F raw a.raw b.raw || fail "qemu-img compare"

# ------------------------------------------------------------ a window, O_DIRECT
truncate -s 2M w.raw
sio --image-opts 'driver=raw,offset=4096,size=1M,file.driver=file,file.filename=w.raw' -- \
    'write -P 0x99 0 4096' 'write -P 0x98 1044480 4096' || fail "strata-io window write"
qio w.raw 'read -P 0 0 4096' 'read -P 0x99 4096 4096' 'read -P 0x98 1048576 4096' \
    'read -P 0 1052672 4096' || fail "window data is not at offset 4096 in the file"

sio --image-opts 'driver=raw,file.driver=file,file.filename=w.raw,file.cache=none' -- \
    'write -P 0x42 100 1000' || fail "strata-io cache=none write"
qio w.raw 'read -P 0 0 100' 'read -P 0x42 100 1000' 'read -P 0 1100 2996' ||
    fail "qemu-io does not read back the O_DIRECT write"
qemu-io -f raw -t none -c 'write -P 0x43 4096 8192' w.raw >/dev/null || fail "qemu-io -t none"
sio --image-opts 'driver=raw,file.driver=file,file.filename=w.raw,file.cache=none' -- \
    'read -P 0x43 4096 8192' || fail "strata-io cache=none read"

echo "raw interop: all checks passed"
