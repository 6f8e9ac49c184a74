# SPDX-License-Identifier: LGPL-2.1-or-later
# The file protocol's extent_size_hint creation option (raw, and qcow2 on a
# file), as qemu-img: the hint (default 1M) is set on the new file where
# the file system keeps one (the same fsxattr as qemu-img leaves), a file
# system without it costs a warning only for an explicit non-zero hint, a
# hint over 4G is refused with qemu-img's message; -o help lists it.
. "$(dirname "$0")/lib/common.sh"
need qemu-img python3
IMG=$STRATA_BUILD/bin/strata-img
cd "$T"

# fsxattr FILE: its xflags and extsize, or "none" where the file system
# has no FS_IOC_FSGETXATTR.
fsxattr() {
    python3 - "$1" <<'PY'
import fcntl, struct, sys
try:
    with open(sys.argv[1], "rb") as f:
        b = bytearray(28)
        fcntl.ioctl(f, 0x801c581f, b)
        print(*struct.unpack("<II", b[:8]))
except OSError:
    print("none")
PY
}

# Here and on tmpfs, which has no extent size hint.
dirs="$T"
shm=""
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    shm=$(mktemp -d /dev/shm/strata-esh-XXXXXX)
    trap 'rm -rf "$T" "$shm"' EXIT
    dirs="$dirs $shm"
fi
for d in $dirs; do
    for fmt in raw qcow2; do
        for o in "" "-o extent_size_hint=0" "-o extent_size_hint=2M" \
                 "-o extent_size_hint=5G"; do
            rm -f "$d/q.img" "$d/s.img"
            qrc=0; srs=0
            # shellcheck disable=SC2086
            qemu-img create -q -f $fmt $o "$d/q.img" 1M 2>qerr.txt || qrc=$?
            # shellcheck disable=SC2086
            "$IMG" create -q -f $fmt $o "$d/s.img" 1M 2>err.txt || srs=$?
            [ $srs = $qrc ] || fail "create -f $fmt $o in $d exits $srs, qemu-img $qrc"
            sed -i "s|$d/||; s/^strata-img: //" err.txt
            sed -i "s|$d/||; s/^qemu-img: //" qerr.txt
            sed -i 's/s\.img/q.img/' err.txt
            diff qerr.txt err.txt >/dev/null ||
                fail "create -f $fmt $o in $d says: $(cat err.txt); qemu-img: $(cat qerr.txt)"
            [ $qrc = 0 ] || continue
            [ "$(fsxattr "$d/s.img")" = "$(fsxattr "$d/q.img")" ] ||
                fail "create -f $fmt $o in $d: fsxattr $(fsxattr "$d/s.img")," \
                     "qemu-img's $(fsxattr "$d/q.img")"
        done
    done
done
"$IMG" create -f raw -o help | contains 'extent_size_hint' || fail "-o help of raw lacks extent_size_hint"
"$IMG" create -f qcow2 -o help | contains 'extent_size_hint' || fail "-o help of qcow2 lacks extent_size_hint"
exit 0
