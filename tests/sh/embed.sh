# SPDX-License-Identifier: LGPL-2.1-or-later
# The embedding example builds against an installed strata with nothing but
# pkg-config, finds its installed plugins without any setting, and reads back
# what it wrote (checked independently with cmp against the image file).
. "$(dirname "$0")/lib/common.sh"

prefix=$(strata_test_prefix)
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# The build line examples/embed.c gives for a non-system prefix.
cc $SAN_CFLAGS "$STRATA_SRCDIR/examples/embed.c" $(pkg-config --cflags --libs strata) \
    -Wl,-rpath,"$(pkg-config --variable=libdir strata)" -o "$T/embed" ||
    fail "embed.c does not build against strata.pc"

truncate -s 1M "$T/disk.img"
cat > "$T/disk.conf" <<CONF
stack = { driver = "raw"; file = { driver = "file"; filename = "disk.img"; }; };
CONF
# No STRATA_PLUGIN_PATH: the installed library finds its installed modules.
(cd / && env -u STRATA_PLUGIN_PATH "$T/embed" "$T/disk.conf") || fail "embed failed"

# The data is in the file at offset 1000: compare with an independent writer.
python3 - "$T/disk.img" <<'PY' || fail "image content differs from what embed wrote"
import sys
data = open(sys.argv[1], "rb").read()
want = bytes((i * 7 + 3) & 0xff for i in range(65536))
sys.exit(0 if data[1000:1000 + 65536] == want else 1)
PY
echo "embed: ok"
