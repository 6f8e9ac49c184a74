#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Makes the seed corpora for the fuzz harnesses named on the command line
# into OUT/NAME/: images made by this build's strata-img and by qemu-img,
# qemu-io and cryptsetup (the peers), and text inputs written here.  Every
# LUKS volume has the passphrase "fuzz" (FUZZ_PASSPHRASE in fuzz.h) and
# cheap KDF costs, so that a seed's keyslot opens within the fuzz build's
# KDF caps.  Images are kept small: libFuzzer mutates whole files.
#   seeds.sh OUT NAME...
set -euo pipefail
out=$1; shift
build=${STRATA_BUILD:?}
img="$build/bin/strata-img"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf fuzz >"$tmp/pass"
qsecret=(--object secret,id=k,data=fuzz)

want() { [[ " $* " == *" $h "* ]]; }
# Seeds that a peer could not make here are skipped with a note: the
# others still seed the run.  Three tries: qemu-img's LUKS calibration at a
# tiny iter-time fails now and then on a busy machine ("Unable to get
# accurate CPU usage").
try() {
    local i
    for i in 1 2 3; do
        "$@" >/dev/null 2>&1 && return 0
    done
    echo "seeds: could not run: $*" >&2
}

# qemu-img sets the LUKS keyslot of a qcow2 image by time (iter-time),
# above the fuzz build's PBKDF2 cap of 1000 iterations, where it would no
# longer open: cryptsetup sets it again at 1000, on the LUKS header copied
# out of the image (the 0x0537be77 extension says where) and back.
rekey_qcow2_luks() {
    local f=$1 where
    [ -s "$f" ] || return 0
    where=$(python3 - "$f" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read(65536)
o = struct.unpack('>I', b[100:104])[0]
while o + 8 <= len(b):
    t, n = struct.unpack('>II', b[o:o + 8])
    if t == 0:
        break
    if t == 0x0537be77:
        print(*struct.unpack('>QQ', b[o + 8:o + 24]))
        break
    o += 8 + ((n + 7) & ~7)
PY
    )
    [ -n "$where" ] || { echo "seeds: $f: no LUKS header extension" >&2; return 0; }
    # shellcheck disable=SC2086  # offset and length, split on purpose
    set -- $where
    dd if="$f" of="$tmp/hdr" iflag=skip_bytes,count_bytes skip="$1" count="$2" status=none
    try cryptsetup luksChangeKey -q --pbkdf-force-iterations 1000 --key-file "$tmp/pass" \
        "$tmp/hdr" "$tmp/pass"
    dd if="$tmp/hdr" of="$f" oflag=seek_bytes seek="$1" conv=notrunc status=none
}

seed_qcow2() {
    local d=$1 i=0
    # Small clusters mostly: a check of 64 KiB clusters walks 32768
    # refcounts a block, and libFuzzer then runs a fraction as many inputs.
    # Virtual disks of 256 KiB: the walk reads every extent of each.
    for o in compat=1.1 compat=0.10,cluster_size=4096 cluster_size=512 cluster_size=4096,refcount_bits=1 \
             cluster_size=4096,refcount_bits=64 cluster_size=16384,extended_l2=on \
             cluster_size=4096,lazy_refcounts=on cluster_size=4096,compression_type=zstd; do
        i=$((i + 1))
        try qemu-img create -q -f qcow2 -o "$o" "$d/q$i.qcow2" 256k
        try qemu-io -f qcow2 -c 'write -P 0x11 0 8k' -c 'write -z 64k 4k' -c 'discard 128k 4k' \
            "$d/q$i.qcow2"
    done
    # Compressed clusters, snapshots, a bitmap, a backing file name, an
    # external data file, LUKS encryption: the tables each adds.
    try qemu-img create -q -f raw "$tmp/raw" 256k
    try qemu-io -f raw -c 'write -P 0x5a 0 128k' "$tmp/raw"
    try qemu-img convert -c -f raw -O qcow2 -o cluster_size=4096 "$tmp/raw" "$d/compressed.qcow2"
    try qemu-img convert -c -f raw -O qcow2 -o cluster_size=4096,compression_type=zstd \
        "$tmp/raw" "$d/compressed-zstd.qcow2"
    try qemu-img create -q -f qcow2 -o cluster_size=4096 "$d/snap.qcow2" 256k
    try qemu-io -f qcow2 -c 'write -P 1 0 8k' "$d/snap.qcow2"
    try qemu-img snapshot -c one "$d/snap.qcow2"
    try qemu-io -f qcow2 -c 'write -P 2 4k 8k' "$d/snap.qcow2"
    try qemu-img snapshot -c two "$d/snap.qcow2"
    try qemu-img create -q -f qcow2 -o cluster_size=4096 "$d/bitmap.qcow2" 256k
    try qemu-img bitmap --add "$d/bitmap.qcow2" b0
    try qemu-io -f qcow2 -c 'write 0 4k' "$d/bitmap.qcow2"
    try qemu-img create -q -f qcow2 -o cluster_size=4096 -u -b base.img -F raw "$d/backing.qcow2" 256k
    try qemu-img create -q -f qcow2 -o cluster_size=4096,data_file="$tmp/data" "$d/datafile.qcow2" 256k
    # AES-128 in CBC mode: a 16-byte key, so the eight keyslots' material
    # (4000 stripes each) is 512 KiB rather than the 2 MiB of AES-256-XTS.
    try qemu-img create -q -f qcow2 "${qsecret[@]}" \
        -o cluster_size=4096,encrypt.format=luks,encrypt.key-secret=k,encrypt.iter-time=1 \
        -o encrypt.cipher-alg=aes-128,encrypt.cipher-mode=cbc,encrypt.ivgen-alg=essiv \
        -o encrypt.ivgen-hash-alg=sha256 "$d/luks.qcow2" 256k
    rekey_qcow2_luks "$d/luks.qcow2"
    try "$img" create -q -f qcow2 -o cluster_size=4096 "$d/strata.qcow2" 256k
    try "$build/bin/strata-io" -f qcow2 -c 'write -P 7 0 12k' "$d/strata.qcow2"
}

seed_qcow() {
    local d=$1
    try qemu-img create -q -f qcow "$d/plain.qcow" 256k
    try qemu-io -f qcow -c 'write -P 0x22 0 8k' "$d/plain.qcow"
    try qemu-img create -q -f raw "$tmp/raw1" 64k
    try qemu-io -f raw -c 'write -P 0x5a 0 32k' "$tmp/raw1"
    try "$img" convert -c -f raw -O qcow "$tmp/raw1" "$d/compressed.qcow"
    try qemu-img create -q -f qcow -u -b base.img -F raw "$d/backing.qcow" 256k
    try "$img" create -q -f qcow "$d/strata.qcow" 256k
    try "$build/bin/strata-io" -f qcow -c 'write -P 3 0 4k' "$d/strata.qcow"
}

seed_luks1() {
    local d=$1
    truncate -s 1M "$d/cryptsetup.luks"
    try cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 \
        --cipher aes-cbc-essiv:sha256 --key-size 128 --hash sha256 --align-payload 8 \
        --key-file "$tmp/pass" "$d/cryptsetup.luks"
    truncate -s 1M "$d/cryptsetup-xts.luks"
    try cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 \
        --cipher aes-xts-plain64 --key-size 256 --hash sha1 --align-payload 8 \
        --key-file "$tmp/pass" "$d/cryptsetup-xts.luks"
    # Its master key digest has the iterations of a 1 ms calibration (an
    # eighth of it, at least 1000), so it opens in the fuzz build only where
    # that is 1000: a seed for strata's own header layout either way.  Its
    # keyslot is set again at 1000 iterations.
    try "$img" create -q -f luks --key-file "$tmp/pass" \
        -o iter-time=1,cipher-alg=aes-128,cipher-mode=cbc,ivgen-alg=essiv,ivgen-hash-alg=sha256 \
        "$d/strata.luks" 64k
    [ -s "$d/strata.luks" ] &&
        try cryptsetup luksChangeKey -q --pbkdf-force-iterations 1000 --key-file "$tmp/pass" \
            "$d/strata.luks" "$tmp/pass"
    # Keep the header, the keyslots and 4 KiB of data: the payload offset
    # is the big-endian sector count at byte 104.
    for f in "$d"/*.luks; do
        [ -s "$f" ] || continue
        local sectors
        sectors=$(od -An -tu1 -j104 -N4 "$f" | awk '{print (($1*256+$2)*256+$3)*256+$4}')
        truncate -s $((sectors * 512 + 4096)) "$f"
    done
}

seed_luks2() {
    local d=$1
    # The data right after the keyslots (2 x 16 KiB + 256 KiB, in sectors),
    # not at cryptsetup's 16 MiB.
    local common=(-q --type luks2 --luks2-metadata-size 16k --luks2-keyslots-size 256k
                  --offset 576 --key-file "$tmp/pass")
    truncate -s 600k "$d/pbkdf2.luks2"
    try cryptsetup luksFormat "${common[@]}" --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
        --cipher aes-xts-plain64 --key-size 256 "$d/pbkdf2.luks2"
    truncate -s 600k "$d/argon2id.luks2"
    try cryptsetup luksFormat "${common[@]}" --pbkdf argon2id --pbkdf-force-iterations 4 \
        --pbkdf-memory 64 --pbkdf-parallel 1 --cipher aes-xts-plain64 --key-size 256 \
        "$d/argon2id.luks2"
    truncate -s 600k "$d/argon2i-cbc.luks2"
    try cryptsetup luksFormat "${common[@]}" --pbkdf argon2i --pbkdf-force-iterations 4 \
        --pbkdf-memory 64 --pbkdf-parallel 1 --cipher aes-cbc-essiv:sha256 --key-size 128 \
        "$d/argon2i-cbc.luks2"
    try "$img" create -q -f luks --key-file "$tmp/pass" \
        -o luks-version=2,pbkdf=pbkdf2,pbkdf-force-iterations=1000,metadata-size=16K,keyslots-size=256K \
        "$d/strata.luks2" 64k
    # Keep the headers, the keyslots and 4 KiB of data: the offset of
    # segment 0 in the JSON metadata (after the 4 KiB binary header).
    for f in "$d"/*.luks2; do
        [ -s "$f" ] || continue
        local end
        end=$(python3 - "$f" <<'PY'
import json, sys
b = open(sys.argv[1], 'rb').read(1 << 20)
meta = json.loads(b[4096:b.index(b'\0', 4096)])
print(int(meta['segments']['0']['offset']) + 4096)
PY
        ) && truncate -s "$end" "$f"
    done
}

seed_config() {
    local d=$1
    cp "$STRATA_SRCDIR/docs/examples/demo.conf" "$d/demo.conf"
    cat >"$d/nested.conf" <<'CONF'
secrets = ( { id = "k"; data = "fuzz"; }, { id = "f"; file = "pw"; } );
stack = {
  driver = "qcow2";
  lazy-refcounts = true;
  cache-size = 1048576;
  encrypt = { format = "luks"; key-secret = "k"; };
  file = { driver = "blkdebug"; config = "rules.conf";
           image = { driver = "file"; filename = "/tmp/disk.qcow2"; }; };
  backing = { driver = "raw"; file = { driver = "nbd"; filename = "nbd://h:10809/x"; }; };
};
CONF
    printf 'stack = { driver = "null"; size = "1G"; read-zeroes = false; };\n' >"$d/null.conf"
    printf 'stack = { driver = "raw"; offset = 512; file = { filename = "a b.img"; }; };\n' \
        >"$d/raw.conf"
}

seed_opts() {
    local d=$1
    echo -n 'driver=qcow2,file.filename=disk.qcow2,cache-size=1M,lazy-refcounts=on' >"$d/a"
    echo -n 'qcow2,file.driver=file,file.filename=a,,b.img,backing.driver=null,backing.size=1.5G' >"$d/b"
    echo -n 'driver=luks,key-secret=k,keyslot=0x1,file.driver=nbd,file.server.port=10809' >"$d/c"
    echo -n 'l2-cache-size=64KiB,refcount-cache-size=18446744073709551615,overlap-check=none' >"$d/d"
}

seed_blkdebug() {
    local d=$1
    cat >"$d/states.conf" <<'CONF'
inject-error = (
  { event = "read_aio"; state = 1; iotype = "read"; },
  { event = "read_aio"; state = 2; iotype = "read"; errno = "ENOSPC"; }
);
set-state = ( { event = "write_aio"; state = 1; new_state = 2; } );
CONF
    printf 'inject-error = { event = "l2_update"; errno = 28; once = true; };\n' >"$d/l2.conf"
    printf 'inject-error = ( { event = "write_aio"; iotype = "write,discard"; offset = 8192; } );\n' \
        >"$d/offset.conf"
    printf 'inject-error = ( { event = "refblock_alloc"; skip = 2; count = 1; sector = 16; immediately = true; } );\n' \
        >"$d/skip.conf"
}

seed_nbd-uri() {
    local d=$1
    printf 'nbd://localhost:10809/export\n' >"$d/inet"
    printf 'nbd+unix:///export?socket=/tmp/nbd.sock\n' >"$d/unix"
    printf 'nbds://[::1]/x\n' >"$d/v6"
    printf '\nserver.type=inet,server.host=::1,server.port=65535,export=a,,b' >"$d/opts-inet"
    printf '\nserver.type=unix,server.path=/run/nbd.sock' >"$d/opts-unix"
}

for h in "$@"; do
    mkdir -p "$out/$h"
    rm -f "$out/$h"/*
    "seed_$h" "$out/$h"
    # A peer that failed half-way may leave an empty file behind.
    find "$out/$h" -type f -empty -delete
    echo "seeds: $h: $(find "$out/$h" -type f | wc -l) files"
done
