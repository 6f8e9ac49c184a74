#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks2-bad-headers.sh - damaged and malicious LUKS2 headers: every
# validation rule broken in turn on a cryptsetup-made volume (both copies
# rewritten with valid checksums, so the rule itself must catch it), bad
# checksums on one or both copies, stale copies and truncated files.  Each
# is refused with a message naming the field, or opens from the good copy;
# nothing crashes and the file never changes.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
. "$STRATA_SRCDIR/tests/sh/lib/luks.sh"
need python3
EDIT=(python3 "$STRATA_SRCDIR/tests/sh/lib/luks2edit.py")

GOOD=$T/good.img
truncate -s 20M "$GOOD"
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file "$PASS" "$GOOD"
strata_write "$DATA" "$GOOD" || fail "cannot write the good volume"
img=$T/bad.img

# refused WHAT EXPECTED: strata-img info and a keyed open of $img both fail
# with EXPECTED in the message, exit 1 (no signal), and $img is unchanged.
refused() {
    local what=$1 expected=$2 before rc
    before=$(sha256sum <"$img")
    for cmd in info read; do
        set +e
        if [ $cmd = info ]; then
            strata-img info --image-opts "driver=luks,file.filename=$img" \
                >"$T/out" 2>"$T/err"
        else
            strata_read "$img" "$T/out" >/dev/null 2>"$T/err"
        fi
        rc=$?
        set -e
        [ $rc = 1 ] || { cat "$T/err"; fail "$what: $cmd exit status $rc, 1 expected"; }
        contains -F -- "$expected" "$T/err" ||
            { cat "$T/err"; fail "$what: $cmd message lacks '$expected'"; }
    done
    [ "$(sha256sum <"$img")" = "$before" ] || fail "$what: the file changed"
    echo "ok refused: $what"
}

# case WHAT EXPECTED PYCODE: PYCODE applied to the JSON of both copies.
case_json() {
    cp "$GOOD" "$img"
    "${EDIT[@]}" "$img" --json "$3"
    refused "$1" "$2"
}

K="j['keyslots']['0']"
S="j['segments']['0']"
D="j['digests']['0']"
case_json "json_size mismatch" "json_size 4096 does not match" \
    "j['config']['json_size']='4096'"
case_json "keyslots_size unaligned" "keyslots_size 1000" \
    "j['config']['keyslots_size']='1000'"
case_json "keyslots_size negative" "is not an unsigned 64-bit number" \
    "j['config']['keyslots_size']='-4096'"
case_json "u64 overflow" "is not an unsigned 64-bit number" \
    "$S['offset']='18446744073709551616'"
case_json "number instead of string" "field 'offset' is not a string" \
    "$S['offset']=16777216"
case_json "area in the header" "reaches into the header copies" \
    "$K['area']['offset']='16384'"
case_json "area outside the keyslots area" "outside the keyslots area" \
    "$K['area']['offset']='16760832'"
case_json "overlapping areas" "overlaps the area of keyslot" \
    "import copy; j['keyslots']['1']=copy.deepcopy($K); j['keyslots']['1']['area']['offset']='40960'"
case_json "area too small" "keyslot 0 area: size 4096 is smaller than its key material" \
    "$K['area']['size']='4096'"
case_json "segment over the keyslots" "reaches into the header and keyslots area" \
    "$S['offset']='1048576'"
case_json "digest names a missing keyslot" "names keyslot 5, which does not exist" \
    "$D['keyslots']=['0','5']"
case_json "digest names a missing segment" "names segment 2, which does not exist" \
    "$D['segments']=['2']"
case_json "token names a missing keyslot" "names keyslot 9, which does not exist" \
    "j['tokens']['0']={'type':'x','keyslots':['9']}"
case_json "no digest for the segment" "no digest covers the data segment" \
    "$D['segments']=[]"
case_json "missing section" "field 'digests' is missing" "del j['digests']"
case_json "key_size negative" "field 'key_size' (-1) is out of range" \
    "$K['key_size']=-1"
case_json "iterations zero" "keyslot 0 kdf: field 'iterations' (0) is out of range" \
    "$K['kdf']['iterations']=0"
case_json "sector_size too large" "field 'sector_size' (8192) is out of range" \
    "$S['sector_size']=8192"
case_json "sector_size not a power of two" "sector_size 1536 is not a power of two" \
    "$S['sector_size']=1536"
case_json "bad base64 salt" "field 'salt' is not base64" "$D['salt']='*'"
case_json "unknown kdf" "keyslot 0 kdf: unknown type 'scrypt'" "$K['kdf']['type']='scrypt'"
case_json "unknown segment type" "unknown segment type 'weird'" "$S['type']='weird'"
case_json "unknown requirement" "unknown mandatory requirement 'future-thing'" \
    "j['config']['requirements']={'mandatory':['future-thing']}"
case_json "reencryption requirement" "reencryption is in progress" \
    "j['config']['requirements']={'mandatory':['online-reencrypt-v2']}"
case_json "reencrypt keyslot" "reencryption is in progress" \
    "j['keyslots']['1']={'type':'reencrypt','key_size':1,'area':{'type':'none','offset':'40960','size':'4096'}}"
case_json "two segments" "more than one data segment" \
    "import copy; j['segments']['1']=copy.deepcopy($S); j['segments']['1']['offset']='18874368'"
case_json "integrity segment" "integrity protection" \
    "$S['integrity']={'type':'hmac(sha256)','journal_encryption':'none','journal_integrity':'none'}"
# PBKDF2 iterations are capped at 100 million (docs/luks.md).
case_json "digest iterations above the cap" "field 'iterations' (4294967295) is out of range (1 to 100000000)" \
    "$D['iterations']=4294967295"
case_json "pbkdf2 keyslot iterations above the cap" "field 'iterations' (100000001) is out of range (1 to 100000000)" \
    "$K['kdf']={'type':'pbkdf2','hash':'sha256','iterations':100000001,'salt':$K['kdf']['salt']}"
case_json "keyslot id too large" "keyslot id '40' is not a number below 32" \
    "j['keyslots']['40']=j['keyslots'].pop('0'); $D['keyslots']=[]"

cp "$GOOD" "$img"
"${EDIT[@]}" "$img" --raw-json '{"keyslots":{'
refused "JSON that does not parse" "the JSON area does not parse"
cp "$GOOD" "$img"
"${EDIT[@]}" "$img" --raw-json '{"keyslots":{}} trailing'
refused "text after the JSON object" "the JSON area does not parse"
cp "$GOOD" "$img"
"${EDIT[@]}" "$img" --bin hdr_size=20000
refused "binary hdr_size" "hdr_size 20000 is not one of"
cp "$GOOD" "$img"
"${EDIT[@]}" "$img" --bad-csum
refused "both checksums bad" "secondary header at offset 16384: checksum mismatch"

# Argon2 costs from the header are checked before any memory is taken.
cp "$GOOD" "$img"
"${EDIT[@]}" "$img" --json \
    "$K['kdf']={'type':'argon2id','time':4,'memory':4294967295,'cpus':1,'salt':$K['kdf']['salt']}"
before=$(sha256sum <"$img")
if strata_read "$img" "$T/out" 2>"$T/err"; then fail "argon2 memory 4 TiB accepted"; fi
contains -i "memory" "$T/err" || { cat "$T/err"; fail "argon2 memory not named"; }
[ "$(sha256sum <"$img")" = "$before" ] || fail "argon2 cost: the file changed"
echo "ok refused: argon2 memory cost ($(head -c 160 "$T/err"))"

# opens_from WHICH: $img opens, reads the good data, and says which copy.
opens_from() {
    local which=$1 before
    before=$(sha256sum <"$img")
    strata-img info --output=json --image-opts "driver=luks,file.filename=$img" \
        >"$T/info.json" || fail "$which: info"
    contains "\"header-copy\": \"$which" "$T/info.json" ||
        { grep header-copy "$T/info.json"; fail "header copy is not $which"; }
    strata_read "$img" "$T/out" || fail "$which: read"
    cmp -n 1048576 "$DATA" "$T/out" || fail "$which: data"
    [ "$(sha256sum <"$img")" = "$before" ] || fail "$which: the file changed"
}

cp "$GOOD" "$img"
"${EDIT[@]}" "$img" --copies primary --bad-csum
opens_from "secondary (primary is damaged)"
cp "$GOOD" "$img"
"${EDIT[@]}" "$img" --copies secondary --bad-csum
opens_from "primary (secondary is damaged)"
# A primary whose magic is gone: the secondary is found at its offset.
cp "$GOOD" "$img"
printf 'XXXX' | dd of="$img" conv=notrunc status=none
opens_from "secondary (primary is damaged)"
# A rule broken in one copy only: the other copy opens.
cp "$GOOD" "$img"
"${EDIT[@]}" "$img" --copies primary --json "$S['sector_size']=8192"
opens_from "secondary (primary is damaged)"
# The newest valid copy wins.
cp "$GOOD" "$img"
"${EDIT[@]}" "$img" --copies secondary --bin seqid=99 --json "j['config']['flags']=['x-newer']"
opens_from "secondary (primary is older)"
contains '"x-newer"' "$T/info.json" || fail "the newer copy's contents are not used"
cp "$GOOD" "$img"
"${EDIT[@]}" "$img" --copies primary --bin seqid=99
opens_from "primary (secondary is older)"
echo "ok damaged or stale copies"

# Truncated files: refused, never a crash.
for size in 100 4096 10000 16384 20000 32768 300000 16000000; do
    head -c "$size" "$GOOD" >"$img"
    set +e
    strata-img info --image-opts "driver=luks,file.filename=$img" >/dev/null 2>"$T/err"
    rc1=$?
    strata_read "$img" "$T/out" >/dev/null 2>>"$T/err"
    rc2=$?
    set -e
    [ $rc1 -le 1 ] && [ $rc2 = 1 ] || { cat "$T/err"; fail "truncated to $size: $rc1 $rc2"; }
    contains -F "$img" "$T/err" || { cat "$T/err"; fail "truncated to $size: no file name"; }
done
echo "ok truncated files"
