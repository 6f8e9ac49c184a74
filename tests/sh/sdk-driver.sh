#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The out-of-tree driver example: install strata into a temporary prefix,
# build examples/readonly-filter there with nothing but the installed headers
# and strata.pc, load it through STRATA_PLUGIN_PATH into the installed tools,
# and check that it passes reads through and refuses every change.
. "$(dirname "$0")/lib/common.sh"
tmp=$T

prefix=$(sdk_build_example readonly-filter flags.h)

img=$prefix/bin/strata-img
io=$prefix/bin/strata-io
"$img" create -q -f qcow2 "$tmp/d.qcow2" 1M || fail "create"
"$io" -c 'write -P 0x5a 0 64k' "$tmp/d.qcow2" >/dev/null || fail "write the pattern"
sum=$(md5sum <"$tmp/d.qcow2")

export STRATA_PLUGIN_PATH=$tmp/ex
stack="driver=readonly,image.filename=$tmp/d.qcow2"

# Reads and the size come through the filter from the qcow2 below.
"$io" --image-opts -c 'read -P 0x5a 0 64k' -c 'read -P 0 64k 64k' -c length "$stack" \
    >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "read through the filter"; }
contains -x "1 MiB" "$tmp/out" || { cat "$tmp/out"; fail "length through the filter"; }

# The filter's own info comes out as format-specific information.
"$img" info --image-opts "$stack" >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "info"; }
contains "file format: readonly" "$tmp/out" || { cat "$tmp/out"; fail "info: format"; }
contains "refused requests: 0" "$tmp/out" || { cat "$tmp/out"; fail "info: the filter's data"; }

# Writes, zeroes, discards and resizes are refused, naming the image.
for cmd in 'write -P 0x11 0 4k' 'write -z 0 4k' 'discard 0 64k'; do
    "$io" --image-opts -c "$cmd" "$stack" >"$tmp/out" 2>&1 || true
    contains "refused: the readonly filter is in the stack" "$tmp/out" ||
        { cat "$tmp/out"; fail "'$cmd' was not refused by the filter"; }
    contains -F "$tmp/d.qcow2" "$tmp/out" || { cat "$tmp/out"; fail "'$cmd': image not named"; }
done
"$img" resize --image-opts "$stack" 2M >"$tmp/out" 2>&1 &&
    { cat "$tmp/out"; fail "resize through the filter succeeded"; }
contains "resize refused" "$tmp/out" || { cat "$tmp/out"; fail "resize not refused by the filter"; }

# Nothing reached the image.
[ "$(md5sum <"$tmp/d.qcow2")" = "$sum" ] || fail "the image changed under the filter"
"$io" -c 'read -P 0x5a 0 64k' -c 'read -P 0 64k 960k' "$tmp/d.qcow2" >/dev/null ||
    fail "the image's data changed"

# Without the plugin path the driver is unknown: it came from the example.
STRATA_PLUGIN_PATH= "$io" --image-opts -c 'read 0 512' "$stack" >"$tmp/out" 2>&1 &&
    fail "readonly found without the example's directory"
contains "readonly" "$tmp/out" || { cat "$tmp/out"; fail "unknown driver not named"; }

echo "sdk-driver: ok"
