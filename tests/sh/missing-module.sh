# SPDX-License-Identifier: LGPL-2.1-or-later
# Removing a driver's module makes that format fail with a message naming
# the module, while everything else keeps working.  The build tree is
# relocatable, so a copy with one module deleted is a real installation
# without it.
. "$(dirname "$0")/lib/common.sh"

cp -a "$STRATA_BUILD/lib" "$STRATA_BUILD/bin" "$T/"
rm "$T/lib/strata/driver-raw.so"
img=$T/bin/strata-img
truncate -s 1M "$T/disk.img"

out=$(env -u STRATA_PLUGIN_PATH "$img" info -f raw "$T/disk.img" 2>&1) && fail "raw opened without its module: $out"
echo "$out"
grep -q "driver-raw.so" <<<"$out" || fail "message does not name the missing module"
grep -q "driver 'raw'" <<<"$out" || fail "message does not name the driver"

# The file protocol and the null driver still work in the same installation.
env -u STRATA_PLUGIN_PATH "$img" info --image-opts driver=file,filename="$T/disk.img" \
    >/dev/null || fail "file driver broken by a missing raw module"
env -u STRATA_PLUGIN_PATH "$img" info --image-opts driver=null,size=1M >/dev/null ||
    fail "null driver broken by a missing raw module"
echo "missing-module: ok"
