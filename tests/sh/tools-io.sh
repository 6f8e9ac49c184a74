# SPDX-License-Identifier: LGPL-2.1-or-later
# strata-io on raw images: what it writes is read back by qemu-io and
# python, what qemu-io writes is read back by strata-io; info on qcow2
# images next to qemu-io's.
. "$(dirname "$0")/lib/common.sh"

IO=$STRATA_BUILD/bin/strata-io
need qemu-io
cd "$T"

# bytes_are FILE OFFSET LENGTH BYTE: every byte of the range is BYTE
bytes_are() {
    python3 -c 'import sys
f, off, n, b = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3], 0), int(sys.argv[4], 0)
d = open(f, "rb").read()[off:off + n]
sys.exit(0 if len(d) == n and d == bytes([b]) * n else 1)' "$@"
}
qemu_read_ok() {   # qemu_read_ok FILE 'read -P ...'...: qemu-io verifies patterns
    local f=$1; shift
    local args=() c
    for c in "$@"; do args+=(-c "$c"); done
    ! qemu-io -f raw "${args[@]}" "$f" | contains 'Pattern verification failed'
}

"$IO" --version | contains '^strata-io version [0-9]' || fail "--version"
"$IO" --help | contains -- '--config' || fail "--help does not mention --config"

truncate -s 4M d.raw

# ------------------------------------------------------------ write, then qemu-io reads
"$IO" -f raw -c 'write -P 0xab 0 1M' d.raw > out.txt || fail "write failed"
sed -n 1p out.txt | contains -x 'wrote 1048576/1048576 bytes at offset 0' || fail "write output: $(cat out.txt)"
sed -n 2p out.txt | grep -Eq '^1 MiB, 1 ops; [0-9:]+\.[0-9]{2}( sec)? \([0-9.]+ [KMGTPE]?i?B(ytes)?/sec and [0-9]+\.[0-9]{4} ops/sec\)$' ||
    fail "timing line: $(sed -n 2p out.txt)"
qemu_read_ok d.raw 'read -P 0xab 0 1M' 'read -P 0 1M 3M' || fail "qemu-io does not read back what strata-io wrote"

# ------------------------------------------------------------ qemu-io writes, strata-io reads
qemu-io -f raw -c 'write -P 0x5a 2M 4k' d.raw > /dev/null
"$IO" -f raw -c 'read -P 0x5a 2M 4k' d.raw > out.txt || fail "read of qemu-io's data failed"
grep -qx 'read 4096/4096 bytes at offset 2097152' out.txt || fail "read output: $(cat out.txt)"

# ------------------------------------------------------------ pattern mismatch
qemu-io -f raw -c 'write -P 0x11 2097252 1' d.raw > /dev/null
rc=0; "$IO" -f raw -c 'read -P 0x5a 2M 4k' d.raw > out.txt || rc=$?
[ $rc != 0 ] || fail "pattern mismatch exits 0"
# qemu-io names the range checked, not the first byte that differs.
grep -qx 'Pattern verification failed at offset 2097152, 4096 bytes' out.txt ||
    fail "mismatch report: $(cat out.txt)"
# -s/-l limit the check to a part of the buffer.
"$IO" -f raw -c 'read -P 0x5a -s 0 -l 100 2M 4k' d.raw > /dev/null || fail "read -s/-l checks outside its range"
rc=0; "$IO" -f raw -c 'read -P 0x5a -s 100 -l 10 2M 4k' d.raw > out.txt || rc=$?
[ $rc != 0 ] && grep -qx 'Pattern verification failed at offset 2097252, 10 bytes' out.txt ||
    fail "read -s/-l mismatch: rc $rc, $(cat out.txt)"

# ------------------------------------------------------------ -c runs in order, on after a failure
rc=0
"$IO" -f raw -c 'write -P 1 0 4k' -c 'write -P 2 4k 4k' -c 'read -P 9 0 4k' \
    -c 'write -P 3 8k 4k' -c 'read -P 2 4k 4k' d.raw > out.txt || rc=$?
[ $rc = 1 ] || fail "a failed command in the middle: exit $rc, not 1"
grep -E '^(wrote|read) ' out.txt > ops.txt
printf '%s\n' 'wrote 4096/4096 bytes at offset 0' 'wrote 4096/4096 bytes at offset 4096' \
    'read 4096/4096 bytes at offset 0' 'wrote 4096/4096 bytes at offset 8192' \
    'read 4096/4096 bytes at offset 4096' > want.txt
diff -u want.txt ops.txt || fail "-c commands out of order"
bytes_are d.raw 0 4096 1 && bytes_are d.raw 4096 4096 2 && bytes_are d.raw 8192 4096 3 ||
    fail "-c writes landed wrongly"

# ------------------------------------------------------------ zeroes, writev, discard, length, dump
qemu-io -f raw -c 'write -P 0xff 64k 64k' d.raw > /dev/null
"$IO" -f raw -c 'write -z 64k 64k' d.raw > /dev/null || fail "write -z"
bytes_are d.raw 65536 65536 0 || fail "write -z left data"
qemu-io -f raw -c 'write -P 0xff 64k 64k' d.raw > /dev/null
"$IO" -f raw -c 'write -z -u 64k 64k' d.raw > /dev/null || fail "write -z -u"
bytes_are d.raw 65536 65536 0 || fail "write -z -u left data"
"$IO" -f raw -c 'writev -P 0x77 100k 1k 2k 3' d.raw > out.txt || fail "writev"
grep -qx 'wrote 3075/3075 bytes at offset 102400' out.txt || fail "writev output: $(cat out.txt)"
bytes_are d.raw 102400 3075 0x77 && ! bytes_are d.raw 105475 1 0x77 || fail "writev data"
"$IO" -f raw -c 'readv -P 0x77 100k 1k 2051' d.raw > /dev/null || fail "readv"
"$IO" -f raw -c 'discard 0 4k' d.raw > out.txt || fail "discard"
grep -qx 'discard 4096/4096 bytes at offset 0' out.txt || fail "discard output: $(cat out.txt)"
[ "$("$IO" -f raw -c length d.raw)" = "4 MiB" ] || fail "length"
"$IO" -f raw -c 'write -P 0x41 3M 20' -c 'read -v 3M 20' d.raw > out.txt
grep -qx '00300000:  41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41  AAAAAAAAAAAAAAAA' out.txt &&
grep -qx '00300010:  41 41 41 41  AAAA' out.txt || fail "read -v dump: $(cat out.txt)"
"$IO" -f raw -c 'write -q -P 1 0 1' d.raw > out.txt && [ ! -s out.txt ] || fail "write -q printed"
"$IO" -f raw -c 'help' d.raw | contains '^read ' || fail "help lists no read"
"$IO" -f raw -c map d.raw | contains 'allocated at offset 0 bytes (0x0)' || fail "map"
"$IO" -f raw -c info d.raw | contains -x 'format name: raw' || fail "info"

# ------------------------------------------------------------ interactive, through a pipe
printf 'write -P 0x42 512k 512\nread -P 0x42 512k 512\nquit\nwrite -P 0x43 512k 512\n' |
    "$IO" -f raw d.raw > out.txt || fail "interactive session failed"
grep -q '^strata-io> wrote 512/512 bytes at offset 524288' out.txt || fail "no prompt or no write: $(cat out.txt)"
grep -q '^strata-io> read 512/512 bytes at offset 524288' out.txt || fail "no read: $(cat out.txt)"
qemu_read_ok d.raw 'read -P 0x42 512k 512' || fail "interactive write not in the file, or ran past quit"
# Named after argv[0]: a link called qemu-io prompts and speaks as qemu-io,
# and piped input ends on the bare prompt with no newline after it, byte for
# byte as the real qemu-io ends (the timing line differs, so it is left out).
ln -s "$(command -v "$IO")" qemu-io
printf 'write -P 0x44 0 512\n' | ./qemu-io -f raw d.raw | grep -v '^[0-9].*ops/sec' > ours.txt
printf 'write -P 0x44 0 512\n' | qemu-io -f raw d.raw | grep -v '^[0-9].*ops/sec' > theirs.txt
cmp -s ours.txt theirs.txt || fail "piped session differs from qemu-io's: $(od -c ours.txt | tail -3) vs $(od -c theirs.txt | tail -3)"
rc=0; ./qemu-io -f raw -c 'read 0 512' no-such.raw 2> err.txt > /dev/null || rc=$?
[ $rc = 1 ] && grep -q '^qemu-io: ' err.txt || fail "a link named qemu-io does not name itself so: $(cat err.txt)"
# End of input ends the session; a failed command makes the exit status 1.
rc=0; printf 'read -P 0x99 512k 512\n' | "$IO" -f raw d.raw > out.txt || rc=$?
[ $rc = 1 ] || fail "interactive failure exits $rc"
rc=0; printf 'nosuchcmd\n' | "$IO" -f raw d.raw > out.txt 2> err.txt || rc=$?
[ $rc = 1 ] && grep -q 'nosuchcmd' err.txt || fail "unknown command: rc $rc, $(cat err.txt)"

# ------------------------------------------------------------ -r, --image-opts, --config
sum=$(md5sum < d.raw)
rc=0; "$IO" -r -f raw -c 'write -P 1 0 4k' d.raw > /dev/null 2>&1 || rc=$?
[ $rc != 0 ] || fail "write on a read-only image succeeded"
[ "$(md5sum < d.raw)" = "$sum" ] || fail "read-only image modified"
"$IO" -r -U -f raw -c 'read -P 0x42 512k 512' d.raw > /dev/null || fail "-r -U read"
"$IO" --image-opts -c 'read -P 0x42 512k 512' driver=raw,file.filename=d.raw > /dev/null ||
    fail "--image-opts"
cat > d.conf <<CONF
stack = { driver = "raw"; file = { driver = "file"; filename = "d.raw"; }; };
CONF
"$IO" --config d.conf -c 'write -P 0x24 1M 4k' > /dev/null || fail "--config write"
qemu_read_ok d.raw 'read -P 0x24 1M 4k' || fail "--config wrote elsewhere"

# ------------------------------------------------------------ info on qcow2
# qemu-io's lines, in its order (strata-io has no "vm state offset"); the
# image-level facts strata-img info shows outside the format-specific data
# (cluster size, encrypted, dirty flag, backing file and its format) appear
# once, outside it, and snapshots not at all, as in qemu-io.
qemu-img create -q -f qcow2 base.qcow2 4M
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2 4M
qemu-img snapshot -c s1 top.qcow2
qemu-img create -q -f qcow2 -o lazy_refcounts=on dirty.qcow2 4M
# Killed with a write done and lazy refcounts: the dirty flag stays set.
# (An inner shell reaps it, so its "Killed" notice goes to /dev/null.)
bash -c "qemu-io -f qcow2 -c 'write 0 64k' -c 'sigraise 9' dirty.qcow2; true" > /dev/null 2>&1
qemu-img info dirty.qcow2 | contains -x 'cleanly shut down: no' || fail "qemu-io left dirty.qcow2 clean"
qemu-img create -q -f qcow2 -o cluster_size=4k big.qcow2 5000M
for img in top.qcow2 dirty.qcow2 big.qcow2; do
    "$IO" -r -c info $img > s.txt || fail "info on $img"
    qemu-io -r -c info $img > q.txt
    grep -v -e '^backing file' -e '^cleanly shut down:' s.txt > s2.txt
    diff -u q.txt s2.txt || fail "info on $img differs from qemu-io's"
    sed -n '/^Format specific information:/,$p' s.txt > fs.txt
    ! grep -Eiq 'cluster|encrypted|dirty|backing|snapshot' fs.txt ||
        fail "info on $img repeats an image-level fact in the format-specific data: $(cat fs.txt)"
done
# qcow has no format-specific data in qemu; strata adds its own after the
# lines qemu-io prints.
qemu-img create -q -f qcow v1.qcow 4M
qemu-io -r -c info v1.qcow > q.txt
"$IO" -r -c info v1.qcow | head -n "$(wc -l < q.txt)" > s.txt
diff -u q.txt s.txt || fail "info on v1.qcow differs from qemu-io's"
"$IO" -r -c info top.qcow2 > s.txt
[ "$(grep -c 'base.qcow2' s.txt)" = 1 ] && grep -qx 'backing file: base.qcow2' s.txt &&
    grep -qx 'backing file format: qcow2' s.txt || fail "info: backing file: $(cat s.txt)"
"$IO" -r -c info dirty.qcow2 > s.txt
[ "$(grep -ci 'clean\|dirty' s.txt)" = 1 ] && grep -qx 'cleanly shut down: no' s.txt ||
    fail "info: dirty flag: $(cat s.txt)"
printf 'io test key' > key.txt
qemu_img_retry create -q -f qcow2 --object secret,id=k,file=key.txt \
    -o encrypt.format=luks,encrypt.key-secret=k,encrypt.iter-time=50 enc.qcow2 4M ||
    fail "qemu-img create enc.qcow2"
qemu-img info enc.qcow2 | contains -x 'encrypted: yes' || fail "qemu-img made no encrypted image"
"$IO" -r --object secret,id=k,file=key.txt --image-opts -c info \
    driver=qcow2,encrypt.key-secret=k,file.filename=enc.qcow2 > s.txt || fail "info on enc.qcow2"
[ "$(grep -ci 'encrypted' s.txt)" = 1 ] && grep -qx 'encrypted: yes' s.txt ||
    fail "info: encrypted: $(cat s.txt)"

echo "tools-io: ok"
