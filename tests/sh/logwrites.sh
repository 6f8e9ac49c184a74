#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# logwrites.sh - the logwrites filter and strata-replay: every request type
# is logged with its offset, length and flags, in order; replaying a whole
# log onto the initial file gives the final file byte for byte; lost
# writes are chosen by the seed alone and never precede a flush; verify
# finds a flushed byte that is missing; bad options, a file that is not a
# log and a log cut short are refused; a read-only stack logs nothing.
. "$(dirname "$0")/lib/common.sh"

img=$T/d.img log=$T/w.log
truncate -s 4M "$img"
cp "$img" "$T/before.img"
stack="driver=raw,file.driver=logwrites,file.log=$log,file.file.filename=$img"

echo "== every request type, in order"
strata-io -c "write -P 0x11 4096 8192" -c "write -z 65536 4096" -c "discard 131072 4096" \
    -c flush -c "truncate 5M" -c "write -P 0x22 0 512" --image-opts "$stack" >/dev/null ||
    fail "the logged stack does not write"
strata-replay list "$log" >"$T/list"
cat >"$T/want" <<'W'
0 0 write 4096 8192
1 0 zero 65536 4096
2 0 discard 131072 4096
3 0 flush 0 0
4 0 truncate 5242880 0
5 0 write 0 512
W
# The close adds its own flushes after the last write.
head -6 "$T/list" | diff "$T/want" - || fail "the log holds other records"
tail -n +7 "$T/list" | awk '$3 != "flush" { exit 1 }' || fail "records after the close's flushes"

echo "== FUA writes carry their flag"
truncate -s 1M "$T/f.img"
strata-io -t writethrough -c "write -P 0x33 8192 512" --image-opts \
    "driver=logwrites,log=$T/fua.log,file.filename=$T/f.img" >/dev/null || fail "writethrough"
strata-replay list "$T/fua.log" | contains -x "0 0 write 8192 512 fua" ||
    fail "no FUA flag: $(strata-replay list "$T/fua.log")"

echo "== the whole log rebuilds the final file"
n=$(wc -l <"$T/list")
strata-replay build -c "$n" "$log" "$T/before.img" "$T/after.img" || fail "build"
cmp "$T/after.img" "$img" || fail "the replayed file differs from the real one"
strata-replay build -c 0 "$log" "$T/before.img" "$T/start.img" || fail "build at 0"
cmp "$T/start.img" "$T/before.img" || fail "cut 0 is not the initial file"

echo "== lost writes: by seed, only after the last flush"
rm -f "$T/w2.log"
strata-io -c "write -P 0x41 0 4096" -c flush -c "write -P 0x42 4096 4096" \
    -c "write -P 0x43 8192 4096" -c "write -P 0x44 12288 4096" -c "write -P 0x45 16384 4096" \
    --image-opts "driver=logwrites,log=$T/w2.log,file.filename=$T/before.img" >/dev/null
cp "$T/start.img" "$T/before.img"
# Records 0 write, 1 flush, 2-5 writes: cut 6 may lose any of 2-5, never 0.
seen=
for seed in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
    strata-replay build -c 6 -d "$seed" "$T/w2.log" "$T/before.img" "$T/s.img"
    cmp -s -n 4096 "$T/s.img" <(head -c 4096 < <(yes $'\x41' | tr -d '\n')) ||
        fail "seed $seed lost a flushed write"
    strata-replay build -c 6 -d "$seed" "$T/w2.log" "$T/before.img" "$T/s2.img"
    cmp -s "$T/s.img" "$T/s2.img" || fail "seed $seed gives two different states"
    seen="$seen $(md5sum <"$T/s.img" | cut -c1-8)"
done
[ "$(echo $seen | tr ' ' '\n' | sort -u | wc -l)" -ge 4 ] ||
    fail "16 seeds give fewer than 4 different subsets: $seen"
strata-replay points -r 5 -S 9 "$T/w2.log" >"$T/p1"
strata-replay points -r 5 -S 9 "$T/w2.log" | cmp -s - "$T/p1" || fail "points not reproducible"
[ "$(grep -c ' random$' "$T/p1")" = 5 ] || fail "points: $(cat "$T/p1")"
grep -qx "2 0 flush" "$T/p1" || fail "no point after the flush: $(cat "$T/p1")"

echo "== verify finds a missing flushed byte"
rm -f "$T/g.log"
head -c 1M /dev/zero >"$T/g.raw"
strata-io -c "write -P 0x51 0 4096" -c flush -c "write -P 0x52 4096 4096" --image-opts \
    "driver=logwrites,stream=1,log=$T/g.log,file.driver=raw,file.filename=$T/g.raw" >/dev/null
head -c 1M /dev/zero >"$T/zero.raw"
strata-replay verify -c 1 "$T/g.log" "$T/zero.raw" "$T/zero.raw" ||
    fail "verify before the flush demands the write"
strata-replay verify -c 2 "$T/g.log" "$T/zero.raw" "$T/zero.raw" 2>"$T/err" &&
    fail "verify after the flush accepts the data missing"
contains "byte 0 is 0x00, expected 0x51" "$T/err" || fail "message: $(cat "$T/err")"
strata-replay verify -c 3 "$T/g.log" "$T/zero.raw" "$T/g.raw" || fail "the real content fails"

echo "== refusals"
strata-io -c "read 0 512" --image-opts "driver=logwrites,file.filename=$img" 2>"$T/err" &&
    fail "opened without log="
contains "'log' option" "$T/err" || fail "message: $(cat "$T/err")"
strata-io -c "read 0 512" --image-opts \
    "driver=logwrites,log=$T/x.log,stream=256,file.filename=$img" 2>"$T/err" && fail "stream=256"
contains "stream=256" "$T/err" || fail "message: $(cat "$T/err")"
printf 'not a log' >"$T/notlog"
strata-io -c "write 0 512" --image-opts \
    "driver=logwrites,log=$T/notlog,file.filename=$img" 2>"$T/err" && fail "appended to a non-log"
contains "is not a strata write log" "$T/err" || fail "message: $(cat "$T/err")"
[ "$(cat "$T/notlog")" = "not a log" ] || fail "the non-log file was changed"
head -c $(($(stat -c %s "$log") - 100)) "$log" >"$T/cut.log"
strata-replay list "$T/cut.log" >/dev/null 2>"$T/err" && fail "a log cut short was read"
contains "cut short" "$T/err" || fail "message: $(cat "$T/err")"
strata-replay list "$T/notlog" 2>/dev/null && fail "replay read a non-log"
strata-replay build -c 999 "$log" "$T/before.img" "$T/x.img" 2>/dev/null && fail "cut past the end"

echo "== read-only: no log"
strata-io -r -c "read 0 512" --image-opts \
    "driver=logwrites,log=$T/ro.log,file.filename=$img" >/dev/null || fail "read-only open"
[ ! -e "$T/ro.log" ] || fail "a read-only stack created the log"

echo "== a stack config, with qcow2 above"
strata-img create -q -f qcow2 "$T/q.qcow2" 1M
cat >"$T/s.conf" <<C
stack = {
  driver = "qcow2";
  file = { driver = "logwrites"; log = "$T/q.log";
           file = { driver = "file"; filename = "$T/q.qcow2"; }; };
};
C
strata-io -c "write -P 0x61 0 64k" --config "$T/s.conf" >/dev/null || fail "config stack"
strata-replay list "$T/q.log" | contains " write " || fail "nothing logged below qcow2"
echo "ok"
