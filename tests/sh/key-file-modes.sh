#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# key-file-modes.sh - files that hold key material are created readable by
# their owner only (0600) whatever the umask: a detached LUKS header (as
# header.filename= beside a data file, and as a header-only file), and a
# header backup.  The data file keeps the usual mode.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
printf 'pw' >"$T/pw"
umask 022
mode() { stat -c %a "$1"; }

strata-img create -f luks --key-file "$T/pw" -o iter-time=10,header.filename="$T/d.hdr" \
    "$T/d.img" 1M >/dev/null || fail "create with header.filename"
[ "$(mode "$T/d.hdr")" = 600 ] || fail "detached header is $(mode "$T/d.hdr")"
[ "$(mode "$T/d.img")" = 644 ] || fail "data file is $(mode "$T/d.img")"

strata-img create -f luks --key-file "$T/pw" -o iter-time=10,detached-header=on \
    "$T/h.hdr" 1M >/dev/null || fail "create a header-only file"
[ "$(mode "$T/h.hdr")" = 600 ] || fail "header-only file is $(mode "$T/h.hdr")"

strata-img convert -f raw -O luks --key-file "$T/pw" \
    -o iter-time=10,header.filename="$T/c.hdr" "$T/d.img" "$T/c.img" || fail "convert"
[ "$(mode "$T/c.hdr")" = 600 ] || fail "convert's detached header is $(mode "$T/c.hdr")"

strata-img create -f luks --key-file "$T/pw" -o iter-time=10 "$T/v.luks" 1M >/dev/null
[ "$(mode "$T/v.luks")" = 644 ] || fail "an attached volume is $(mode "$T/v.luks")"
strata-img header-backup "$T/v.luks" "$T/backup" || fail "header-backup"
[ "$(mode "$T/backup")" = 600 ] || fail "header backup is $(mode "$T/backup")"
strata-img header-backup --image-opts "driver=luks,file.filename=$T/d.img,header.filename=$T/d.hdr" \
    "$T/backup2" || fail "header-backup of a detached header"
[ "$(mode "$T/backup2")" = 600 ] || fail "detached header backup is $(mode "$T/backup2")"
echo "key-file-modes: ok"
