#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nbdkit-strata-plugin serving raw stacks (dotted options, and a config file
# with blkdebug over raw): qemu-img convert and nbdcopy read exactly the
# image's bytes, qemu-io writes through NBD land in the image, the export's
# capabilities and allocation map are what the stack has, and readonly=true
# gives a read-only export.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/nbd.sh"
need nbdcopy nbdinfo

# The image, written by qemu-io: data, a zeroed range and holes.
qemu-img create -q -f raw "$T/disk.img" 48M
qemu-io -f raw -c 'write -P 0x5a 0 3M' -c 'write -P 0xa5 16M 1M' \
    -c 'write -P 0x01 33554431 1' "$T/disk.img" >/dev/null

# Relative file names work: the plugin resolves them before nbdkit's chdir.
cd "$T"
nbd_start raw "$NBD_PLUGIN" driver=raw file.filename=disk.img
cd /
URI=$(nbd_uri raw)

qemu-img convert -f raw -O raw "$URI" "$T/copy-qemu.img"
cmp "$T/disk.img" "$T/copy-qemu.img" || fail "qemu-img convert over NBD differs"
nbdcopy "$URI" "$T/copy-nbdcopy.img"
cmp "$T/disk.img" "$T/copy-nbdcopy.img" || fail "nbdcopy over NBD differs"

nbdinfo --json "$URI" >"$T/info.json"
for want in '"export-size": 50331648' '"is_read_only": false' '"can_flush": true' \
            '"can_multi_conn": true' '"can_trim": true' '"can_zero": true'; do
    grep -q "$want" "$T/info.json" || fail "nbdinfo lacks $want: $(cat "$T/info.json")"
done

# Allocation seen over NBD equals the file's own map (qemu-img map).
norm() { awk '{ if (n && $3 == t && $1 == s + l) { l += $2 } else { if (n) print s, l, t; s = $1; l = $2; t = $3; n = 1 } } END { if (n) print s, l, t }'; }
nbdinfo --map "$URI" | awk '{ print $1, $2, ($3 == 3 ? "hole" : "data") }' | norm >"$T/map.nbd"
qemu-img map --output=json -f raw "$T/disk.img" |
    sed -n 's/.*"start": \([0-9]*\), "length": \([0-9]*\),.*"data": \([a-z]*\).*/\1 \2 \3/p' |
    awk '{ print $1, $2, ($3 == "true" ? "data" : "hole") }' | norm >"$T/map.file"
[ "$(wc -l <"$T/map.file")" -ge 4 ] || fail "qemu-img map: $(cat "$T/map.file")"
diff -u "$T/map.file" "$T/map.nbd" || fail "NBD extents differ from the file's map"

# Writes through NBD, then the server stops (flushing) and the file has them.
qemu-io -f raw -c 'write -P 0x77 40M 2M' -c 'write -P 0x66 12345 777' \
    -c 'write -z 0 4096' -c flush "$URI" >/dev/null || fail "qemu-io write over NBD"
nbd_stop raw
qemu-io -f raw -c 'read -P 0x77 40M 2M' -c 'read -P 0x66 12345 777' -c 'read -P 0 0 4096' \
    -c 'read -P 0x5a 4096 8249' "$T/disk.img" >"$T/check.log"
grep -q 'verification failed' "$T/check.log" && fail "image after NBD writes: $(cat "$T/check.log")"

# A config file: blkdebug aligning requests over raw; read-only.
cat >"$T/disk.conf" <<EOF
stack = {
  driver = "blkdebug";
  align = "4096";
  image = { driver = "raw"; file = { driver = "file"; filename = "disk.img"; }; };
};
EOF
nbd_start conf "$NBD_PLUGIN" "$T/disk.conf" readonly=true
URI=$(nbd_uri conf)
nbdinfo --json "$URI" | contains '"is_read_only": true' || fail "readonly=true export is writable"
if qemu-io -f raw -c 'write 0 4k' "$URI" >"$T/ro.log" 2>&1 && ! grep -q 'failed' "$T/ro.log"; then
    fail "a write to the read-only export succeeded"
fi
# Unaligned reads through the aligning filter.
qemu-io -f raw -r -c 'read -P 0x66 12345 777' -c 'read -P 0x77 41943041 1048577' "$URI" \
    >"$T/r.log" || fail "qemu-io read over NBD"
grep -q 'verification failed' "$T/r.log" && fail "unaligned reads: $(cat "$T/r.log")"
nbd_stop conf

# Mistakes are reported when nbdkit starts, naming the problem.
if nbd_nbdkit -f -U "$T/bad.sock" "$NBD_PLUGIN" driver=raw file.filename="$T/none.img" \
        >"$T/bad.log" 2>&1; then
    fail "nbdkit started on a missing image"
fi
grep -q "none.img" "$T/bad.log" || fail "missing image message: $(cat "$T/bad.log")"
if nbd_nbdkit -f -U "$T/bad.sock" "$NBD_PLUGIN" driver=raw file.filename="$T/disk.img" \
        bogus=1 >"$T/bad2.log" 2>&1; then
    fail "nbdkit accepted an unknown option"
fi
grep -q "driver 'raw' does not support option 'bogus'" "$T/bad2.log" ||
    fail "message: $(cat "$T/bad2.log")"
if nbd_nbdkit -f -U "$T/bad.sock" "$NBD_PLUGIN" readonly=maybe >"$T/bad3.log" 2>&1; then
    fail "nbdkit accepted readonly=maybe"
fi
exit 0
