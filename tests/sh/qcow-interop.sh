# SPDX-License-Identifier: LGPL-2.1-or-later
# qcow (version 1) against qemu-img/qemu-io 7.2: images qemu makes and writes
# (plain, compressed, backing chains with raw and qcow below, legacy AES)
# read identically through strata-img convert; images strata makes and
# writes (create, convert, convert -c, strata-io, a chain) read identically
# through qemu-img.  The reference for every comparison is qemu's own output.
. "$(dirname "$0")/lib/common.sh"
cd "$T"

need qemu-img qemu-io

same() { # image-a image-b what: byte-identical raw views
    cmp -s "$1" "$2" || fail "$3: contents differ ($(cmp "$1" "$2" 2>&1 | head -1))"
}
qio() { qemu-io "$@" >/dev/null || fail "qemu-io $*"; }

# ---------------------------------------------------------------- qemu writes
qemu-img create -q -f qcow plain.qcow 6M
qio -f qcow -c 'write -P 0x11 0 64k' -c 'write -P 0x22 70000 3000' \
    -c 'write -P 0x33 2047k 8k' -c 'write -P 0x44 6143k 1k' plain.qcow
qemu-img convert -f qcow -O raw plain.qcow q.raw
strata-img convert -f qcow -O raw plain.qcow s.raw || fail "convert plain.qcow"
same q.raw s.raw "qemu-written qcow"
strata-img info plain.qcow | contains -x 'file format: qcow' || fail "plain.qcow not probed as qcow"

# Compressed clusters (qemu-img 7.2 convert -c -O qcow writes nothing
# compressed, so qemu-io writes them one cluster at a time).
qemu-img create -q -f qcow z.qcow 1M
for i in 0 1 2 3 8 9; do
    qio -f qcow -c "write -c -P 0x$((40 + i)) $((i * 4096)) 4k" z.qcow
done
qio -f qcow -c 'write -P 0x66 64k 4k' z.qcow
qemu-img convert -f qcow -O raw z.qcow q.raw
strata-img convert -O raw z.qcow s.raw || fail "convert z.qcow"
same q.raw s.raw "qemu-compressed qcow"
strata-io -f qcow -r -c 'read -P 0x49 36864 4096' z.qcow >/dev/null ||
    fail "compressed cluster 9 does not read back its pattern"

# Backing chains: qcow over raw, qcow over qcow (qemu's 512-byte clusters).
qemu-img create -q -f raw base.raw 4M
qio -f raw -c 'write -P 0x71 0 4M' base.raw
qemu-img create -q -f qcow -b base.raw -F raw mid.qcow
qio -f qcow -c 'write -P 0x72 1M 100k' -c 'write -P 0x73 3000 1000' mid.qcow
qemu-img create -q -f qcow -b mid.qcow -F qcow top.qcow 6M
qio -f qcow -c 'write -P 0x74 1050k 10k' -c 'write -P 0x75 5M 4k' top.qcow
qemu-img convert -O raw top.qcow q.raw
strata-img convert -O raw top.qcow s.raw || fail "convert top.qcow"
same q.raw s.raw "qcow chain over qcow over raw"
strata-img info --backing-chain top.qcow > chain.txt || fail "info --backing-chain"
grep -q 'backing file: mid.qcow' chain.txt || fail "info does not show the backing file"

# Legacy AES made and written by qemu: rescued with the passphrase.
pass='correct horse battery'
qemu-img create -q -f qcow --object secret,id=s,data="$pass" \
    -o encrypt.format=aes,encrypt.key-secret=s aes.qcow 2M
qemu-io --object secret,id=s,data="$pass" \
    --image-opts "driver=qcow,encrypt.key-secret=s,file.filename=aes.qcow" \
    -c 'write -P 0x5a 0 8k' -c 'write -P 0x5b 5120 1k' -c 'write -P 0x5c 1M 100k' >/dev/null ||
    fail "qemu-io could not write the AES image"
qemu-img convert --object secret,id=s,data="$pass" --image-opts \
    "driver=qcow,encrypt.key-secret=s,file.filename=aes.qcow" -O raw q.raw
strata-img convert --object secret,id=s,data="$pass" --image-opts \
    "driver=qcow,encrypt.key-secret=s,file.filename=aes.qcow" -O raw s.raw ||
    fail "AES rescue with strata-img convert"
same q.raw s.raw "AES image rescued"
strata-img info aes.qcow > info.txt || fail "info of an AES image needs no key"
grep -q 'encrypted: yes' info.txt || fail "info does not say encrypted"
grep -q 'wrong passphrase cannot be detected' info.txt || fail "info lacks the passphrase note"
if strata-img convert -O raw aes.qcow nokey.raw 2>err.txt; then
    fail "reading an AES image without a passphrase succeeded"
fi
grep -q 'encrypt.key-secret' err.txt || fail "no hint about encrypt.key-secret: $(cat err.txt)"
# The scheme cannot tell a wrong passphrase: the data is garbage, no error.
strata-img convert --object secret,id=s,data=wrong --image-opts \
    "driver=qcow,encrypt.key-secret=s,file.filename=aes.qcow" -O raw wrong.raw ||
    fail "convert with a wrong passphrase failed"
cmp -s q.raw wrong.raw && fail "a wrong passphrase gave the right data"

# ---------------------------------------------------------------- strata writes
head -c 3M /dev/urandom > rnd.raw
python3 -c "
import sys
sys.stdout.buffer.write(b''.join((b'block %06d ' % i) * 80 for i in range(3100)))
" | head -c 3M > txt.raw
cat rnd.raw txt.raw > src.raw
truncate -s 8M src.raw                   # 2 MiB of zeros at the end

strata-img create -q -f qcow new.qcow 5M || fail "create"
qemu-img create -q -f qcow ref.qcow 5M
cmp -s new.qcow ref.qcow || fail "strata-img create differs from qemu-img create"
strata-img create -q -f qcow -b base.raw -F raw newb.qcow 4M || fail "create -b"
qemu-img create -q -f qcow -b base.raw -F raw refb.qcow 4M
cmp -s newb.qcow refb.qcow || fail "create -b differs from qemu-img create -b"

strata-img convert -O qcow src.raw conv.qcow || fail "convert to qcow"
qemu-img compare -q -f raw -F qcow src.raw conv.qcow || fail "qemu-img: convert -O qcow differs"
strata-img convert -c -O qcow src.raw convz.qcow || fail "convert -c to qcow"
qemu-img compare -q -f raw -F qcow src.raw convz.qcow || fail "qemu-img: convert -c -O qcow differs"
zsize=$(stat -c %s convz.qcow) psize=$(stat -c %s conv.qcow)
[ "$zsize" -lt $((psize - 2 * 1024 * 1024)) ] ||
    fail "convert -c did not compress the text half ($zsize vs $psize bytes)"

# strata-io writes into a chain strata made; qemu-io applies the same writes
# to a raw copy of the base, and qemu-img compares the two.
cp base.raw expect.raw
for w in 'write -P 0x81 1000 3000' 'write -P 0x82 1M 64k' 'write -P 0x83 4190000 4000' \
         'write -z 2M 8k' 'write -P 0x84 2050k 1k'; do
    strata-io -f qcow -c "$w" newb.qcow >/dev/null || fail "strata-io $w"
    qio -f raw -c "$w" expect.raw
done
qemu-img compare -q -f raw -F qcow expect.raw newb.qcow || fail "qemu-img: strata-io writes differ"
qemu-img convert -O raw newb.qcow q.raw
strata-img convert -O raw newb.qcow s.raw
same q.raw s.raw "strata-written chain"

# Legacy AES written by strata only with the override, with a warning.
if strata-img create -q -f qcow --object secret,id=k,data="$pass" \
        -o encrypt.format=aes,encrypt.key-secret=k saes.qcow 1M 2>err.txt; then
    fail "AES image created without the override"
fi
[ ! -e saes.qcow ] || fail "a refused create left a file"
grep -q 'encrypt.allow-legacy-aes' err.txt || fail "refusal does not name the override"
strata-img create -q -f qcow --object secret,id=k,data="$pass" \
    -o encrypt.format=aes,encrypt.key-secret=k,encrypt.allow-legacy-aes=on saes.qcow 1M \
    2>err.txt || fail "AES create with the override"
grep -q 'wrong passphrase cannot be detected' err.txt || fail "no warning on AES create"
strata-io --object secret,id=k,data="$pass" --image-opts \
    -c 'write -P 0x99 4096 12288' -c 'write -P 0x9a 600000 5000' \
    "driver=qcow,encrypt.key-secret=k,encrypt.allow-legacy-aes=on,file.filename=saes.qcow" \
    >/dev/null 2>err.txt || fail "strata-io write to AES image: $(cat err.txt)"
grep -q 'broken' err.txt || fail "no warning when writing an AES image"
out=$(qemu-io --object secret,id=s,data="$pass" \
    --image-opts "driver=qcow,encrypt.key-secret=s,file.filename=saes.qcow" \
    -c 'read -P 0x99 4096 12288' -c 'read -P 0x9a 600000 5000' -c 'read -P 0 0 4096' \
    -c 'read -P 0 16384 583616' 2>&1) || fail "qemu-io cannot read the strata AES image"
! grep -q 'verification failed' <<<"$out" ||
    fail "qemu-io reads other data from the strata-written AES image: $out"
[ "$(grep -c '^read ' <<<"$out")" -eq 4 ] || fail "qemu-io did not do all reads: $out"

# Version 2 images are pointed to qcow2.
qemu-img create -q -f qcow2 v2.img 1M
if strata-img info -f qcow v2.img 2>err.txt; then fail "qcow2 image opened as qcow"; fi
grep -q 'qcow2' err.txt && grep -q 'v2.img' err.txt || fail "no qcow2 hint: $(cat err.txt)"

# commit empties the qcow image as qemu-img's does: the same file size, no
# cluster of its own left, the data in the base.  A partial discard unmaps
# the clusters it covers whole, which then read from the backing file.
for tool in qemu-img strata-img; do
    rm -f cb.$tool cc.$tool
    qemu-img create -q -f qcow cb.$tool 4M
    qemu-img create -q -f qcow -b cb.$tool -F qcow cc.$tool 4M
    qio -f qcow -c 'write -P 0x21 0 1M' cb.$tool
    qio -f qcow -c 'write -P 0x42 512k 64k' -c 'write -P 0x43 3M 4k' cc.$tool
    $tool commit -q -f qcow cc.$tool || fail "$tool commit of a qcow image"
done
[ "$(stat -c %s cc.strata-img)" = "$(stat -c %s cc.qemu-img)" ] ||
    fail "emptied qcow image: $(stat -c %s cc.strata-img) bytes, qemu-img's $(stat -c %s cc.qemu-img)"
qemu-img map -f qcow --output=json cc.strata-img | grep -q '"depth": 0, "present": true' &&
    fail "the committed qcow image still maps clusters of its own"
qio -f qcow -c 'read -P 0x42 512k 64k' -c 'read -P 0x43 3M 4k' -c 'read -P 0x21 0 512k' cc.strata-img
rm -f db.qcow dc.qcow
qemu-img create -q -f qcow db.qcow 1M
qemu-img create -q -f qcow -b db.qcow -F qcow dc.qcow 1M
qio -f qcow -c 'write -P 0x11 0 1M' db.qcow
qio -f qcow -c 'write -P 0x22 0 1M' dc.qcow
strata-io -f qcow -c 'discard 4k 8k' dc.qcow >/dev/null || fail "strata-io discard on qcow"
qio -f qcow -c 'read -P 0x22 0 4k' -c 'read -P 0x11 4k 8k' -c 'read -P 0x22 12k 1012k' dc.qcow

echo "qcow interop: ok"
