#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The nbd driver against nbdkit's memory plugin: data strata writes through
# the driver (structured options and URI form) is what qemu's own NBD
# client reads, and the reverse; block status and size agree with qemu-img.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/nbd.sh"

nbd_start mem memory size=64M
URI=$(nbd_uri mem)
OPTS="driver=raw,file.driver=nbd,file.server.type=unix,file.server.path=$(nbd_sock mem)"

# strata writes, aligned and not, across the 32 MiB request limit.
strata-io --image-opts "$OPTS" \
    -c 'write -P 0x11 0 64k' \
    -c 'write -P 0x22 1000001 12345' \
    -c 'write -P 0x33 8M 40M' \
    -c 'write -z 9M 1M' \
    -c flush >"$T/w.log" || fail "strata-io write through nbd: $(cat "$T/w.log")"

# qemu reads it back through its NBD client.
qemu-io -f raw -c 'read -P 0x11 0 64k' -c 'read -P 0x22 1000001 12345' \
    -c 'read -P 0x33 8M 1M' -c 'read -P 0 9M 1M' -c 'read -P 0x33 10M 38M' \
    -c 'read -P 0 48M 16M' "$URI" >"$T/r.log" || fail "qemu-io read: $(cat "$T/r.log")"
grep -q 'verification failed' "$T/r.log" && fail "qemu-io saw other data: $(cat "$T/r.log")"

# qemu writes, strata reads (the URI form of the driver this time).
qemu-io -f raw -c 'write -P 0x44 60M 1M' "$URI" >/dev/null || fail "qemu-io write"
strata-io --image-opts "driver=raw,file.driver=nbd,file.filename=$URI" \
    -c 'read -P 0x44 60M 1M' -c 'read -P 0x11 0 64k' >"$T/r2.log" ||
    fail "strata-io read: $(cat "$T/r2.log")"

# The whole export as qemu reads it: large reads go out as several NBD
# commands at once, whose pieces cross the ranges written above.
qemu-img convert -f raw -O raw "$URI" "$T/q.raw"
strata-img convert -f raw -O raw "$URI" "$T/s.raw" || fail "strata-img convert from $URI"
cmp "$T/q.raw" "$T/s.raw" || fail "strata reads the export differently from qemu"
strata-io -r -f raw -c 'read -P 0x33 10485761 3145728' "$URI" >"$T/r3.log" 2>&1 &&
    ! contains 'verification failed' "$T/r3.log" || fail "unaligned 3 MiB read: $(cat "$T/r3.log")"

# Size as qemu-img sees it.
want=$(qemu-img info --output=json "$URI" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
got=$(strata-img info --output=json --image-opts "$OPTS" |
      sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
[ "$want" = 67108864 ] || fail "qemu-img sees size '$want'"
[ "$got" = "$want" ] || fail "strata sees size '$got', qemu-img '$want'"

# Allocation through NBD block status: the same zero/data ranges as
# qemu-img's map of the same export.
norm() { sed -n 's/.*"start": \([0-9]*\), "length": \([0-9]*\),.*"zero": \([a-z]*\), "data": \([a-z]*\).*/\1 \2 \3 \4/p' |
         awk '{ if (n && $3 == z && $4 == d && $1 == s + l) { l += $2 } else { if (n) print s, l, z, d; s = $1; l = $2; z = $3; d = $4; n = 1 } } END { if (n) print s, l, z, d }'; }
qemu-img map --output=json -f raw "$URI" | norm >"$T/map.qemu"
strata-img map --output=json --image-opts "$OPTS" | norm >"$T/map.strata"
[ -s "$T/map.qemu" ] || fail "empty qemu-img map"
diff -u "$T/map.qemu" "$T/map.strata" || fail "block status differs from qemu-img map"

# Writing past the end of a fixed-size export fails and says why.
if strata-io --image-opts "driver=nbd,server.path=$(nbd_sock mem)" \
        -c 'write 64M 4k' >"$T/past.log" 2>&1; then
    fail "a write past the end of the export succeeded"
fi
grep -q 'past the end of the export' "$T/past.log" || fail "message: $(cat "$T/past.log")"
exit 0
