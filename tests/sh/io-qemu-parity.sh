# SPDX-License-Identifier: LGPL-2.1-or-later
# strata-io against qemu-io, command by command: the same commands on the
# same image give the same output, byte for byte once the timings are
# masked (as QEMU's test suite masks them), and the same exit status.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nbd.sh"

need qemu-io qemu-nbd
cd "$T"
. "$(dirname "$0")/lib/io-parity.sh"
raw1m() { truncate -s 1M img.raw; }
raw1m_data() { truncate -s 1M img.raw; qemu-io -f raw -c 'write -P 0x11 64k 64k' img.raw > /dev/null; }

# ------------------------------------------------------------ no image; open, close
same raw1m -c 'read 0 512'
same raw1m -c 'open -o driver=raw img.raw' -c 'read -P 0 0 512' -c close -c 'read 0 1'
same raw1m -c 'open -r -o driver=raw img.raw' -c 'write 0 512' -c 'close' \
    -c 'open -o driver=raw img.raw' -c 'open -o driver=raw img.raw'
same raw1m -c 'open -t none -o driver=raw img.raw' -c 'write -P 5 0 4k' -c 'read -P 5 0 4k'
same raw1m -c 'open -x img.raw' -c 'open -t bogus img.raw'
same raw1m -c 'open -o driver=raw,file.filename=img.raw' -c 'length' -c 'c' -c 'o -r -o driver=raw img.raw' -c 'l'
piped raw1m 'open -o driver=raw img.raw\nwrite -P 7 0 512\nread -P 7 0 512\nclose\nread 0 1\n'
piped raw1m 'read 0 1\n'
piped raw1m '' -f raw img.raw

# ------------------------------------------------------------ aio
same raw1m -f raw -c 'aio_write -P 0x22 0 4k' -c 'aio_write -P 0x33 4k 4k 4k' -c aio_flush \
    -c 'aio_read -P 0x22 0 4k' -c 'aio_read -P 0x33 4k 2k 6k' -c 'aio_read -P 9 0 512' \
    -c 'aio_read -v 0 32' -c aio_flush
same raw1m -f raw -c 'aio_write -z 0 4k' -c 'aio_write -z -u 4k 4k' -c 'aio_write -u 0 1' \
    -c 'aio_write -z 0 1 1' -c 'aio_write -i 0 1' -c 'aio_read -i 0 1' -c 'aio_read -q 0 1' \
    -c 'aio_read 2M 512' -c 'aio_write 1M 512' -c 'aio_read -C 0 512'

# ------------------------------------------------------------ read and write options
same raw1m_data -f raw -c 'read -P 0x11 64k 64k' -c 'read -P 0x11 60k 8k' \
    -c 'read -P 0x11 -s 4k -l 4k 60k 8k' -c 'read -p -P 0 0 4k' -c 'read -s 1 0 4k' \
    -c 'read -P 0x11 -s 8k 64k 4k' -c 'read -q -v 0 16' -c 'read -v 64k 40' -c 'read -C 0 512'
same raw1m -f raw -c 'write -f 0 4k' -c 'write -z -n 0 4k' -c 'write -n 0 4k' -c 'write -z -u 0 4k' \
    -c 'write -q 0 1' -c 'write -C 0 512' -c 'write -c 1 512' -c 'write -c 0 513' \
    -c 'write -f -c 0 512' -c 'write -b -z 0 512' -c 'write -z -P 1 0 1'
same raw1m -f raw -c 'write 1M 1' -c 'write 0 2M' -c 'read 1023k 2k' -c 'writev 1M 1' \
    -c 'readv 1M 1' -c 'discard 1M 1' -c 'write -z 1M 1'
same raw1m -f raw -c 'read 0 x' -c 'read 0 9E' -c 'read 0 3G' -c 'write 0 3G' -c 'write -P 256 0 1' \
    -c 'read -P x 0 1' -c 'read' -c 'read -y 0 1' -c 'readv 0' -c 'writev -P 3 0 1k 1k 512' \
    -c 'readv -P 3 0 2k 512' -c 'readv -P 3 0 3k'
same raw1m -f raw -c "$(printf 'read 0 \t8k')" -c "$(printf 'read 0 8k\t')"
printf 'abc' > pattern.bin
same raw1m -f raw -c 'write -s pattern.bin 0 10' -c 'read -v 0 10' -c 'write -s nosuch.bin 0 1' \
    -c 'write -s pattern.bin -P 1 0 1'

# ------------------------------------------------------------ alloc, map, misc
same raw1m_data -f raw -c 'alloc 0' -c 'alloc 64k 64k' -c 'alloc 960k 128k' -c 'alloc 0 1M' \
    -c 'alloc' -c 'alloc 0 1 2' -c map -c 'map 1'
same raw1m -f raw -c 'flush' -c 'f' -c 'flush 1' -c 'length 1' -c 'sleep 10' -c 'sleep x' \
    -c 'nosuch' -c 'help nosuch' -c 'help alloc' -c 'truncate 2M' -c 'length' -c 'truncate -m bogus 1M'
same raw1m -c 'sleep 1' -c 'help sleep' -c 'quit' -c 'read 0 1'
# Breakpoints need blkdebug.
same raw1m -f raw -c 'break write_aio A' -c 'resume A' -c 'remove_break A' -c 'break' \
    -c 'help' -c 'help break'
rc=0; ./ours/qemu-io -f raw -c 'wait_break A' img.raw > out.txt 2>&1 || rc=$?
[ $rc = 1 ] && grep -q 'no request in flight' out.txt || fail "wait_break: rc $rc, $(cat out.txt)"
# Requests held at blkdebug breakpoints while others run (read-modify-write
# on a 4 KiB-aligned node): a write sharing a block with a held one waits
# for it, one elsewhere completes, and the data ends up as qemu-io's.
# Where a prompt falls among the lines depends on qemu-io's main loop, so
# the prompts are left out of the comparison, as QEMU's test suite does.
raw4m() { truncate -s 4M img.raw; }
PIPED_FILTER='s/qemu-io> //g' piped raw4m 'open -o driver=raw,file.align=4k blkdebug::img.raw
break pwritev_rmw_after_tail A
aio_write -P 10 0x6000 0x200
wait_break A
break pwritev_rmw_after_head B
aio_write -P 12 0x7e00 0x200
wait_break B
aio_write -P 11 0x6800 0x1000
resume A
sleep 10
resume B
aio_flush
read -P 10 0x6000 0x200
read -P 11 0x6800 0x1000
read -P 12 0x7e00 0x200
break pwritev A
aio_write -P 13 0x10000 0x800
wait_break A
aio_write -P 14 0x10000 0x400
break pwritev_done C
resume A
wait_break C
resume C
aio_flush
read -P 14 0x10000 0x400
read -P 13 0x10400 0x400
break write_aio D
remove_break D
resume D
remove_break D
'
same raw1m -f raw -c 'write -P 0x44 0 512' -c 'sigraise 15' -c 'read 0 1'
same raw1m -r -f raw -c 'write 0 1' -c 'writev 0 1' -c 'aio_write 0 1' -c 'discard 0 1' \
    -c 'truncate 1' -c 'read 0 1'

# A file that ends inside a sector: qemu-io sees whole sectors, the tail
# reading as zeroes.
short320() { head -c 320 /dev/zero > img.raw; }
same short320 -f raw -c 'read -P 0 0 512' -c length -c map -c 'alloc 0 1k' -c 'read 0 513'

# ------------------------------------------------------------ -s: a temporary overlay
raw1m_pattern() { truncate -s 1M img.raw; qemu-io -f raw -c 'write -P 3 0 64k' img.raw > /dev/null; }
same raw1m_pattern -s -f raw -c 'read -P 3 0 64k' -c 'write -P 4 0 4k' -c 'read -P 4 0 4k' -c length
rm -f img.raw; raw1m_pattern
mkdir tmp
TMPDIR=$T/tmp ./ours/qemu-io -s -f raw -c 'write -P 9 0 64k' img.raw > out.txt ||
    fail "-s write failed: $(cat out.txt)"
qemu-io -f raw -c 'read -P 3 0 64k' img.raw | contains 'Pattern verification failed' &&
    fail "-s wrote to the image"
[ -z "$(ls tmp)" ] || fail "-s left its overlay behind: $(ls tmp)"
same raw1m_pattern -c 'open -s -o driver=raw img.raw' -c 'write -P 5 0 1' -c 'close' \
    -c 'open -r -o driver=raw img.raw' -c 'read -P 3 0 64k'

# ------------------------------------------------------------ QEMU's old NBD names
truncate -s 1M served.raw
qemu-io -f raw -c 'write -P 0x66 0 64k' served.raw > /dev/null
nbd_start_qemu served -t -f raw served.raw
same true -r -c 'read -P 0x66 0 64k' -c 'read -P 0 64k 4k' "nbd:unix:$T/served.sock"
same true -c "open -r nbd:unix:$T/served.sock" -c 'read -P 0x66 0 64k' -c length
nbd_stop served

# ------------------------------------------------------------ json: names
qcow2_over_raw() {
    truncate -s 1M img.raw
    qemu-io -f raw -c 'write -P 0x71 0 64k' img.raw > /dev/null
    rm -f top.qcow2
    qemu-img create -q -f qcow2 -b "$T/img.raw" -F raw top.qcow2 1M
}
same qcow2_over_raw -c 'read -P 0x71 0 64k' "json:{\"driver\": \"qcow2\", \"file\": {\"driver\": \"file\", \"filename\": \"top.qcow2\"}}"
same qcow2_over_raw -c 'read -P 0 0 64k' "json:{ 'driver': 'qcow2', 'file': { 'driver': 'file', 'filename': 'top.qcow2' }, 'backing': null }"
same qcow2_over_raw -c 'open -o driver=qcow2 json:{"file.filename":"top.qcow2"}' -c 'read -P 0x71 0 1k'
# -o wins over the name's own options.
same qcow2_over_raw -c 'open -o driver=qcow2 json:{"driver":"raw","file.filename":"top.qcow2"}' \
    -c 'read -P 0x71 0 1k'
# strata-img reads the same names (tools/common/names.c).
qcow2_over_raw
"$STRATA_BUILD/bin/strata-img" info 'json:{"driver":"qcow2","file.filename":"top.qcow2"}' > ours.txt
qemu-img info 'json:{"driver":"qcow2","file.filename":"top.qcow2"}' > theirs.txt
diff -u theirs.txt ours.txt || fail "strata-img info of a json: name differs from qemu-img's"
rc=0; ./ours/qemu-io -c 'read 0 1' 'json:{"driver": }' > out.txt 2>&1 || rc=$?
[ $rc = 1 ] && grep -q "^qemu-io: can't open device json:.*: Could not parse the JSON options: " out.txt ||
    fail "bad json: rc $rc, $(cat out.txt)"

# ------------------------------------------------------------ blkdebug: names, QEMU's rule files
qcow2_1m() { rm -f t.qcow2; qemu-img create -q -f qcow2 t.qcow2 1M; }
cat > rules.ini <<'INI'
# QEMU's INI rule file: comments, sections, quoted values
[set-state]
state = "1"
event = "write_aio"
new_state = "2"

# the read fails only after a write
[inject-error]
state = "2"
event = "read_aio"
errno = "28"
once = "on"
INI
same qcow2_1m -c 'read 0 4k' -c 'write 0 4k' -c 'read 0 4k' -c 'read 0 4k' blkdebug:rules.ini:t.qcow2
printf '[inject-error]\nevent = "write_aio"\nerrno = "5"\n' > eio.ini
same raw1m -f raw -c 'write 0 4k' -c 'read 0 4k' -c 'open -o driver=raw blkdebug::img.raw' \
    -c close -c 'open -o driver=raw blkdebug::img.raw' -c 'write 0 4k' blkdebug:eio.ini:img.raw
# With driver=blkdebug the name's filter is that node, over the image.
same qcow2_1m -c 'open -o driver=blkdebug,image.driver=qcow2,align=4k,max-transfer=64k blkdebug::t.qcow2' \
    -c 'write -P 7 1000 128k' -c 'read -P 7 1000 128k' -c 'read -P 0 0 1000'
printf '[inject-error]\nevent = "write_aio"\n[bogus]\n' > bad.ini
rc=0; ./ours/qemu-io -c 'read 0 1' blkdebug:bad.ini:t.qcow2 > out.txt 2>&1 || rc=$?
[ $rc = 1 ] && grep -q 'bad.ini:3: unknown section \[bogus\]' out.txt ||
    fail "an unknown section: rc $rc, $(cat out.txt)"

# ------------------------------------------------------------ reopen
same raw1m -f raw -c 'reopen -r' -c 'write 0 1' -c 'reopen -w' -c 'write -P 9 0 1' \
    -c 'read -P 9 0 1' -c 'reopen -r -w' -c 'reopen x' -c 'reopen -c none' -c 'read -P 9 0 1' \
    -c 'reopen -o read-only=on' -c 'write 0 1' -c 'reopen -r -o read-only=off' -c 'reopen -c bogus'

echo "io-qemu-parity: all comparisons equal"
