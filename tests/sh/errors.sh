# SPDX-License-Identifier: LGPL-2.1-or-later
# Bad input to strata-img and strata-io: each case must exit non-zero, not
# crash, print a message naming the offending thing, and leave every file
# as it was (nothing created, nothing modified).
. "$(dirname "$0")/lib/common.sh"

IMG=$STRATA_BUILD/bin/strata-img
IO=$STRATA_BUILD/bin/strata-io
cd "$T"

truncate -s 4M good.raw
printf 'strata' | dd of=good.raw conv=notrunc status=none
echo 'not a config' > bad.conf

snapshot() {
    # names, sizes, modification times and contents of everything here
    find . -maxdepth 1 -type f ! -name 'err.txt' ! -name 'out.txt' -printf '%f %s %T@\n' | sort
    find . -maxdepth 1 -type f ! -name 'err.txt' ! -name 'out.txt' -exec md5sum {} + | sort
}

# expect_fail NEEDLE COMMAND...: fails cleanly and says NEEDLE on stderr
expect_fail() {
    local needle=$1; shift
    local before after rc=0
    before=$(snapshot)
    "$@" > out.txt 2> err.txt || rc=$?
    after=$(snapshot)
    [ $rc != 0 ] || fail "'$*' succeeded"
    [ $rc -lt 126 ] || fail "'$*' died with status $rc"
    # shellcheck disable=SC2086  # the list of files is meant to split
    grep -qF -- "$needle" ${expect_in:-err.txt} ||
        fail "'$*': message does not name '$needle': $(cat ${expect_in:-err.txt})"
    [ "$(wc -l < err.txt)" -le 4 ] || fail "'$*': too much on stderr: $(cat err.txt)"
    [ "$before" = "$after" ] || fail "'$*' changed files:
$before
--- after:
$after"
}

# expect_fail_io NEEDLE COMMAND...: the same, NEEDLE on stdout or stderr
expect_fail_io() {
    expect_in="out.txt err.txt" expect_fail "$@"
}

# ------------------------------------------------------------ options and commands
expect_fail "--bogus"            "$IMG" info --bogus good.raw
expect_fail "'z'"                "$IMG" info -z good.raw
expect_fail "frobnicate"         "$IMG" frobnicate good.raw
expect_fail "--bogus"            "$IO" --bogus -c 'read 0 1' good.raw
expect_fail "--output"           "$IMG" info --output good.raw
expect_fail "human or json"      "$IMG" info --output=xml -f raw good.raw
expect_fail "wat"                "$IMG" check -r wat -f raw good.raw
expect_fail "mutually exclusive" "$IMG" info -f raw --image-opts driver=raw,file.filename=good.raw
expect_fail "Expecting"          "$IMG" convert -f raw good.raw
expect_fail "of="                "$IMG" dd -f raw if=good.raw
expect_fail "colour"             "$IMG" dd -f raw colour=blue if=good.raw of=new.raw

# ------------------------------------------------------------ unknown formats
expect_fail "nosuchfmt" "$IMG" info -f nosuchfmt good.raw
expect_fail "nosuchfmt" "$IMG" create -f nosuchfmt new.img 1M
expect_fail "nosuchfmt" "$IMG" convert -f raw -O nosuchfmt good.raw new.img
expect_fail "nosuchfmt" "$IMG" convert -f nosuchfmt good.raw new.img
expect_fail "nosuchfmt" "$IMG" compare -f raw -F nosuchfmt good.raw good.raw
expect_fail "nosuchfmt" "$IMG" measure -O nosuchfmt --size 1M
expect_fail "nosuchfmt" "$IO" -f nosuchfmt -c 'read 0 1' good.raw
expect_fail "nosuchdrv" "$IMG" info --image-opts driver=nosuchdrv,file.filename=good.raw

# ------------------------------------------------------------ missing files
expect_fail "missing.raw"  "$IMG" info missing.raw
expect_fail "missing.raw"  "$IMG" map -f raw missing.raw
expect_fail "missing.raw"  "$IMG" convert -f raw missing.raw new.raw
expect_fail "missing.raw"  "$IMG" resize -f raw missing.raw 1M
expect_fail "missing.raw"  "$IMG" dd -f raw if=missing.raw of=new.raw
expect_fail "missing.raw"  "$IO" -f raw -c 'read 0 1' missing.raw
expect_fail "missing.conf" "$IMG" info --config missing.conf
expect_fail "bad.conf"     "$IMG" info --config bad.conf
expect_fail "missing.raw"  "$IMG" create -f raw -b missing.raw -F raw new.raw
rc=0; "$IMG" compare -f raw -F raw good.raw missing.raw > /dev/null 2> err.txt || rc=$?
[ $rc = 2 ] && grep -q missing.raw err.txt || fail "compare with a missing file: rc $rc, $(cat err.txt)"

# ------------------------------------------------------------ bad sizes and numbers
expect_fail "Invalid image size" "$IMG" create -f raw new.raw 12Q
expect_fail "size"  "$IMG" create -f raw new.raw
expect_fail "1X"    "$IMG" resize -f raw good.raw 1X
expect_fail "+1Z"   "$IMG" resize -f raw good.raw +1Z
expect_fail "--shrink" "$IMG" resize -f raw good.raw 1M
expect_fail "positive" "$IMG" resize -f raw --shrink good.raw -8M
expect_fail "abc"   "$IMG" convert -S abc -f raw good.raw new.raw
expect_fail "bs"    "$IMG" dd -f raw bs=0 if=good.raw of=new.raw
expect_fail "Invalid image size" "$IMG" measure -O raw --size huge
expect_fail "1Z"    "$IMG" map -f raw --start-offset=1Z good.raw
# strata-io's commands complain on stdout, in qemu-io's words.
expect_fail_io "0x1ff is not a valid pattern byte" "$IO" -f raw -c 'write -P 0x1ff 0 1' good.raw
expect_fail_io "suffix -- 7Q" "$IO" -f raw -c 'write 0 7Q' good.raw
expect_fail_io "Only one of -z, -P" "$IO" -f raw -c 'write -z -P 1 0 1' good.raw
expect_fail_io "-u requires -z" "$IO" -f raw -c 'write -u 0 1' good.raw
expect_fail "bad argument count 1 to read" "$IO" -f raw -c 'read 0' good.raw

# ------------------------------------------------------------ bad --object
expect_fail "s0"         "$IMG" info --object secret,id=s0 -f raw good.raw
expect_fail "gadget"     "$IMG" info --object gadget,id=g0 -f raw good.raw
expect_fail "nokey.txt"  "$IMG" info --object secret,id=s1,file=nokey.txt -f raw good.raw
expect_fail "--object"   "$IMG" create --object secret,id=s2 -f raw new.raw 1M
expect_fail "s3"         "$IO" --object secret,id=s3 -f raw -c 'read 0 1' good.raw

# ------------------------------------------------------------ bad -o
expect_fail "cluster_size" "$IMG" create -f raw -o cluster_size=64k new.raw 1M
expect_fail "sparkly"      "$IMG" create -f raw -o preallocation=sparkly new.raw 1M
expect_fail "cluster_size" "$IMG" convert -f raw -O raw -o cluster_size=64k good.raw new.raw

# ------------------------------------------------------------ writes that must not happen
expect_fail "-U"   "$IO" -U -f raw -c 'write 0 1' good.raw
expect_fail "read-only" "$IO" -r -f raw -c 'write 0 1' good.raw
expect_fail "not supported" "$IMG" amend -f raw -o size=1M good.raw

echo "errors: ok"
