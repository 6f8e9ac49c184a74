# SPDX-License-Identifier: LGPL-2.1-or-later
# strata-img on raw images, checked against qemu-img and qemu-io working on
# the same files: qemu-io writes the test data, qemu-img reports what the
# images hold, and the two tools must agree.
. "$(dirname "$0")/lib/common.sh"

IMG=$STRATA_BUILD/bin/strata-img
need qemu-img qemu-io strace
cd "$T"

# json_equal FILE1 FILE2: same JSON value
json_equal() {
    python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])) == json.load(open(sys.argv[2])) else 1)' "$1" "$2"
}
json_field() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# ------------------------------------------------------------ --version, --help
"$IMG" --version | contains '^strata-img version [0-9]' || fail "--version"
for c in amend bench check compare convert create dd info map measure resize; do
    "$IMG" $c --help > help.txt || fail "$c --help exits non-zero"
    grep -q "^usage: strata-img $c" help.txt || fail "$c --help has no usage line"
done

# ------------------------------------------------------------ create
"$IMG" create -f raw a.raw 64M > out.txt || fail "create failed"
grep -qx "Formatting 'a.raw', fmt=raw size=67108864" out.txt || fail "create: unexpected output: $(cat out.txt)"
[ "$(stat -c %s a.raw)" = 67108864 ] || fail "create: a.raw is not 64 MiB"
[ "$(stat -c %b a.raw)" -le 16 ] || fail "create: a.raw is not sparse"
"$IMG" create -q -f raw -o preallocation=full full.raw 1M > out.txt || fail "create preallocation=full"
[ ! -s out.txt ] || fail "create -q printed something"
[ "$(( $(stat -c %b full.raw) * 512 ))" -ge 1048576 ] || fail "preallocation=full left holes"
"$IMG" create -f raw sized.raw 1.5M -q || fail "create with a fractional size"
[ "$(stat -c %s sized.raw)" = 1572864 ] || fail "1.5M is not 1572864 bytes"
# A create the format refuses after its file was made leaves no file behind
# and names the image; a file that was there before is not removed.
for f in qcow2 luks; do
    o=encrypt.format=luks,encrypt.key-secret=s,encrypt.cipher-alg=bogus
    [ $f = luks ] && o=key-secret=s,cipher-alg=bogus
    rc=0; "$IMG" create -q -f $f --object secret,id=s,data=pw -o $o bad.$f 1M 2> err.txt || rc=$?
    [ $rc = 1 ] && contains "bad\.$f: .*bogus" err.txt || fail "create -f $f, bad cipher: rc $rc, $(cat err.txt)"
    [ ! -e bad.$f ] || fail "a refused create -f $f left bad.$f"
done
rc=0; "$IMG" create -q -f luks -o key-secret=s,cipher-alg=bogus,detached-header=on,header.filename=bad.hdr \
    --object secret,id=s,data=pw bad.luks 1M 2> err.txt || rc=$?
[ $rc = 1 ] && [ ! -e bad.luks ] && [ ! -e bad.hdr ] || fail "refused detached create left files: $(ls)"
cp sized.raw keep.raw
"$IMG" create -q -f luks -o key-secret=nosuch keep.raw 1M 2> err.txt && fail "create without the secret"
[ -e keep.raw ] || fail "a refused create removed a file that was there before"

# Independent writer: data at 0, 1M, 10M, and explicitly written zeros at 40M.
qemu-io -f raw -c 'write -P 0xab 0 64k' -c 'write -P 0xcd 1M 64k' \
    -c 'write -P 0x01 10M 4k' -c 'write -P 0 40M 1M' a.raw > /dev/null

# ------------------------------------------------------------ info
"$IMG" info -f raw --output=json a.raw > s.json || fail "info --output=json failed"
qemu-img info -f raw --output=json a.raw > q.json
json_equal s.json q.json || fail "info JSON differs from qemu-img's:
$(cat s.json)
--- qemu-img:
$(cat q.json)"
"$IMG" info -f raw a.raw > s.txt || fail "info failed"
qemu-img info -f raw a.raw > q.txt
diff -u q.txt s.txt || fail "info text differs from qemu-img's"
"$IMG" info --image-opts driver=raw,file.filename=a.raw --output=json > s2.json ||
    fail "info --image-opts failed"
[ "$(json_field s2.json virtual-size)" = 67108864 ] || fail "info --image-opts: wrong size"
cat > a.conf <<CONF
stack = { driver = "raw"; file = { driver = "file"; filename = "a.raw"; }; };
CONF
"$IMG" info --config a.conf --output=json > s3.json || fail "info --config failed"
[ "$(json_field s3.json virtual-size)" = 67108864 ] || fail "info --config: wrong size"
"$IMG" info -U -f raw --backing-chain --output=json a.raw > s4.json || fail "info --backing-chain"
python3 -c 'import json,sys; l=json.load(open("s4.json")); sys.exit(0 if isinstance(l, list) and len(l) == 1 and l[0]["virtual-size"] == 67108864 else 1)' ||
    fail "info --backing-chain is not a one-element list"

# ------------------------------------------------------------ map
"$IMG" map -f raw --output=json a.raw > s.json || fail "map --output=json failed"
qemu-img map -f raw --output=json a.raw > q.json
json_equal s.json q.json || fail "map JSON differs from qemu-img's:
$(cat s.json)
--- qemu-img:
$(cat q.json)"
"$IMG" map -f raw a.raw > s.txt || fail "map failed"
qemu-img map -f raw a.raw > q.txt
diff -u q.txt s.txt || fail "map text differs from qemu-img's"
"$IMG" map -f raw --output=json --start-offset=1M --max-length=64k a.raw > s.json
python3 -c 'import json,sys; l=json.load(open("s.json")); sys.exit(0 if l == [{"start": 1048576, "length": 65536, "depth": 0, "present": True, "zero": False, "data": True, "offset": 1048576}] else 1)' ||
    fail "map --start-offset/--max-length: $(cat s.json)"

# ------------------------------------------------------------ convert
"$IMG" convert -f raw -O raw a.raw b.raw || fail "convert failed"
qemu-img compare -f raw -F raw a.raw b.raw > /dev/null || fail "qemu-img compare: converted image differs"
qemu-img convert -f raw -O raw a.raw q.raw
qemu-img map -f raw --output=json q.raw > q.json
qemu-img map -f raw --output=json b.raw > s.json
json_equal s.json q.json || fail "convert: allocation differs from qemu-img convert's:
$(cat s.json)
--- qemu-img:
$(cat q.json)"
# -S 0 writes everything.
"$IMG" convert -S 0 -f raw -O raw a.raw full.raw || fail "convert -S 0"
[ "$(( $(stat -c %b full.raw) * 512 ))" -ge 67108864 ] || fail "convert -S 0 left holes"
qemu-img compare -f raw -F raw a.raw full.raw > /dev/null || fail "convert -S 0: content differs"
# -n onto an existing image full of 0xff: the zeros must be written.
qemu-img create -f raw n.raw 64M > /dev/null
qemu-io -f raw -c 'write -P 0xff 0 64M' n.raw > /dev/null
"$IMG" convert -n -f raw -O raw a.raw n.raw || fail "convert -n"
qemu-img compare -f raw -F raw a.raw n.raw > /dev/null || fail "convert -n: content differs"
# Progress goes to stdout and ends at 100%.
"$IMG" convert -p -f raw -O raw a.raw p.raw > progress.txt || fail "convert -p"
grep -q '(100.00/100%)' progress.txt || fail "convert -p shows no final progress"
# Two sources are joined end to end.
"$IMG" convert -f raw -O raw a.raw a.raw cat.raw || fail "convert with two sources"
[ "$(stat -c %s cat.raw)" = 134217728 ] || fail "joined image has the wrong size"
qemu-io -f raw -c 'read -P 0xcd 65M 64k' -c 'read -P 0xab 64M 64k' cat.raw | contains 'Pattern verification failed' &&
    fail "joined image: second source misplaced"
# Sources from --config and --image-opts.
"$IMG" convert --config a.conf -O raw c1.raw || fail "convert --config"
qemu-img compare -f raw -F raw a.raw c1.raw > /dev/null || fail "convert --config: differs"
"$IMG" convert --image-opts driver=raw,file.filename=a.raw -O raw c2.raw || fail "convert --image-opts"
qemu-img compare -f raw -F raw a.raw c2.raw > /dev/null || fail "convert --image-opts: differs"

# Cache mode: the default (unsafe, as qemu-img) never syncs the target;
# writeback syncs it before exiting.  Seen in the system calls made on it.
"$IMG" convert -t bogus -f raw -O raw a.raw t.raw 2>t.err && fail "convert -t bogus accepted"
grep -q "invalid cache mode 'bogus'" t.err || fail "convert -t bogus: $(cat t.err)"
[ ! -e t.raw ] || fail "convert -t bogus created the target"
syncs_on_target() {
    rm -f "$1"
    # LeakSanitizer cannot run under ptrace: a sanitizer build skips it here.
    ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" strace -f -y -e trace=fsync,fdatasync,sync_file_range -o trace.txt \
        "$IMG" convert "${@:2}" -f raw -O raw a.raw "$1" || fail "convert ${*:2} failed"
    qemu-img compare -f raw -F raw a.raw "$1" >/dev/null || fail "convert ${*:2}: content differs"
    grep -c "<[^>]*/$1>" trace.txt || true
}
[ "$(syncs_on_target t1.raw)" = 0 ] || fail "convert (cache unsafe) synced the target: $(cat trace.txt)"
[ "$(syncs_on_target t2.raw -t writeback)" -gt 0 ] || fail "convert -t writeback never synced the target"
# -t none and directsync write the target with O_DIRECT, the others do not;
# the source keeps the page cache.
direct_target() {
    rm -f "$1"
    ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" strace -f -e trace=openat -o trace.txt \
        "$IMG" convert "${@:2}" -f raw -O raw a.raw "$1" || fail "convert ${*:2} failed"
    qemu-img compare -f raw -F raw a.raw "$1" >/dev/null || fail "convert ${*:2}: content differs"
    grep '"a.raw"' trace.txt | contains O_DIRECT && fail "convert ${*:2}: source opened with O_DIRECT"
    grep "\"$1\"" trace.txt | contains O_DIRECT
}
direct_target t3.raw -t none || fail "convert -t none: target not opened with O_DIRECT"
direct_target t4.raw -t directsync || fail "convert -t directsync: target not opened with O_DIRECT"
direct_target t5.raw -t writeback && fail "convert -t writeback: target opened with O_DIRECT"

# ------------------------------------------------------------ compare
out=$("$IMG" compare -f raw -F raw a.raw b.raw) || fail "compare of identical images exits $?"
[ "$out" = "Images are identical." ] || fail "compare: $out"
cp a.raw d.raw
qemu-io -f raw -c 'write -P 0x22 5M 512' d.raw > /dev/null
rc=0; out=$("$IMG" compare -f raw -F raw a.raw d.raw) || rc=$?
[ $rc = 1 ] || fail "compare of different images exits $rc, not 1"
qout=$(qemu-img compare -f raw -F raw a.raw d.raw) || true
[ "$out" = "$qout" ] || fail "compare says '$out', qemu-img '$qout'"
# The exact first differing byte is named.
cp a.raw e.raw
qemu-io -f raw -c 'write -P 0x22 5242883 1' e.raw > /dev/null
rc=0; out=$("$IMG" compare -f raw -F raw a.raw e.raw) || rc=$?
[ $rc = 1 ] && [ "$out" = "Content mismatch at offset 5242883!" ] || fail "compare (one byte): rc $rc, '$out'"
# A longer image whose tail reads as zeros is identical except in strict mode.
cp a.raw long.raw
truncate -s 80M long.raw
out=$("$IMG" compare -f raw -F raw a.raw long.raw) || fail "compare with zero tail exits $?"
qout=$(qemu-img compare -f raw -F raw a.raw long.raw)
[ "$out" = "$qout" ] || fail "compare (size mismatch) says '$out', qemu-img '$qout'"
rc=0; "$IMG" compare -s -f raw -F raw a.raw long.raw > /dev/null || rc=$?
[ $rc = 1 ] || fail "compare -s with different sizes exits $rc"
qemu-io -f raw -c 'write -P 7 70M 4k' long.raw > /dev/null
rc=0; out=$("$IMG" compare -f raw -F raw a.raw long.raw) || rc=$?
[ $rc = 1 ] && grep -qx 'Content mismatch at offset 73400320!' <<<"$out" ||
    fail "compare (data in tail): rc $rc, '$out'"
rc=0; "$IMG" compare -f raw -F raw a.raw missing.raw 2> err.txt || rc=$?
[ $rc = 2 ] || fail "compare with a missing image exits $rc, not 2"
rc=0; "$IMG" compare -q -f raw -F raw a.raw d.raw > out.txt || rc=$?
[ $rc = 1 ] && [ ! -s out.txt ] || fail "compare -q"

# ------------------------------------------------------------ dd
"$IMG" dd -f raw -O raw bs=64k count=20 skip=2 if=a.raw of=dd1.raw || fail "dd failed"
qemu-img dd -f raw -O raw bs=64k count=20 skip=2 if=a.raw of=dd2.raw
cmp dd1.raw dd2.raw || fail "dd output differs from qemu-img dd's"
"$IMG" dd -f raw bs=1M count=2 if=a.raw of=dd3.raw || fail "dd bs=1M"
qemu-img dd -f raw -O raw bs=1M count=2 if=a.raw of=dd4.raw
cmp dd3.raw dd4.raw || fail "dd bs=1M differs from qemu-img dd's"

# ------------------------------------------------------------ resize
cp a.raw r.raw
out=$("$IMG" resize -f raw r.raw +1M) || fail "resize +1M"
[ "$out" = "Image resized." ] || fail "resize: $out"
qemu-img info -f raw --output=json r.raw > q.json
[ "$(json_field q.json virtual-size)" = 68157440 ] || fail "resize +1M: wrong size"
rc=0; "$IMG" resize -f raw r.raw 32M 2> err.txt || rc=$?
[ $rc != 0 ] || fail "shrinking without --shrink succeeded"
grep -q -- '--shrink' err.txt || fail "no hint at --shrink: $(cat err.txt)"
[ "$(stat -c %s r.raw)" = 68157440 ] || fail "refused shrink changed the size"
"$IMG" resize -q -f raw --shrink r.raw 32M || fail "resize --shrink"
[ "$(stat -c %s r.raw)" = 33554432 ] || fail "resize --shrink: wrong size"
"$IMG" resize -q -f raw --shrink r.raw -1M || fail "resize -1M"
[ "$(stat -c %s r.raw)" = 32505856 ] || fail "resize -1M: wrong size"
qemu-io -f raw -c 'read -P 0xcd 1M 64k' r.raw | contains 'Pattern verification failed' &&
    fail "resize lost data"
# A raw file has no metadata to preallocate: qemu-img refuses the mode
# ("Unsupported preallocation mode: metadata"), and the message names it.
qrc=0; qemu-img resize -f raw --preallocation=metadata r.raw +1M 2> /dev/null || qrc=$?
[ $qrc != 0 ] || fail "qemu-img resize --preallocation=metadata on raw succeeded"
rc=0; "$IMG" resize -f raw --preallocation=metadata r.raw +1M 2> err.txt || rc=$?
[ $rc = 1 ] || fail "resize --preallocation=metadata on raw exits $rc"
grep -q "'metadata'" err.txt || fail "resize --preallocation=metadata: the message does not name the mode: $(cat err.txt)"
[ "$(stat -c %s r.raw)" = 32505856 ] || fail "refused resize changed the size"

# ------------------------------------------------------------ check
rc=0; "$IMG" check -f raw a.raw 2> err.txt || rc=$?
qrc=0; qemu-img check -f raw a.raw 2> /dev/null || qrc=$?
[ $rc = $qrc ] || fail "check on raw exits $rc, qemu-img $qrc"
qemu-img check -f raw a.raw 2> qerr.txt || true
[ "$(sed 's/^[^:]*: //' err.txt)" = "$(sed 's/^[^:]*: //' qerr.txt)" ] ||
    fail "check on raw: '$(cat err.txt)', qemu-img: '$(cat qerr.txt)'"

# ------------------------------------------------------------ amend
rc=0; "$IMG" amend -f raw -o size=1M a.raw 2> err.txt || rc=$?
[ $rc != 0 ] && grep -q "not supported by format 'raw'" err.txt || fail "amend on raw: rc $rc, $(cat err.txt)"

# ------------------------------------------------------------ bench
"$IMG" bench -f raw -c 100 -d 4 -s 4k -q a.raw || fail "bench (read)"
cp a.raw w.raw
"$IMG" bench -f raw -w -c 16 -d 2 -s 4k -S 8k --pattern=0x5a -o 1M -q w.raw || fail "bench (write)"
qemu-io -f raw -c 'read -P 0x5a 1M 4k' -c 'read -P 0xcd 1052672 4k' -c 'read -P 0x5a 1056768 4k' w.raw |
    grep -q 'Pattern verification failed' && fail "bench -w wrote the wrong places"
# bench's cache and AIO options: -t none and -n open with O_DIRECT, -t
# directsync syncs every write, native AIO is refused.
ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" strace -f -e trace=openat,fdatasync \
    -o trace.txt "$IMG" bench -f raw -w -c 8 -d 1 -t directsync -i threads -q w.raw ||
    fail "bench -t directsync"
grep '"w.raw"' trace.txt | contains O_DIRECT || fail "bench -t directsync: no O_DIRECT"
[ "$(grep -c fdatasync trace.txt)" -ge 8 ] || fail "bench -t directsync: writes not synced"
ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" strace -f -e trace=openat \
    -o trace.txt "$IMG" bench -f raw -c 8 -n -q w.raw || fail "bench -n"
grep '"w.raw"' trace.txt | contains O_DIRECT || fail "bench -n: no O_DIRECT"
rc=0; "$IMG" bench -f raw -c 8 -i native -q w.raw 2>err.txt || rc=$?
[ $rc = 1 ] && grep -q -- "-i native is not supported (use threads)" err.txt ||
    fail "bench -i native: rc $rc, $(cat err.txt)"
"$IMG" bench -f raw -c 8 -t bogus -q w.raw 2>err.txt && fail "bench -t bogus accepted"
grep -q "invalid cache mode 'bogus'" err.txt || fail "bench -t bogus: $(cat err.txt)"

# ------------------------------------------------------------ measure
out=$("$IMG" measure -O raw --size 1G) || fail "measure --size failed"
qout=$(qemu-img measure -O raw --size 1G)
[ "$out" = "$qout" ] || fail "measure says '$out', qemu-img '$qout'"
"$IMG" measure -O raw --output=json -f raw a.raw > s.json || fail "measure of an image failed"
qemu-img measure -O raw --output=json -f raw a.raw > q.json
json_equal s.json q.json || fail "measure JSON differs: $(cat s.json) vs $(cat q.json)"

echo "tools-img: ok"
