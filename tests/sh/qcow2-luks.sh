# SPDX-License-Identifier: LGPL-2.1-or-later
# Key management of a LUKS-encrypted qcow2 through strata-img amend -o
# encrypt.*, checked by qemu after every step: a key slot added with
# new-secret, one removed by passphrase (old-secret) and one by slot number,
# a wrong old passphrase refused without changing the file, the last slot
# kept unless forced, a passphrase changed with encrypt.replace=on.  After
# each step qemu-img opens the image with every passphrase that should work
# (and none that should not) and reads the data written at the start;
# qemu-img check finds nothing wrong.  Opening or creating without a key
# names the option encrypt.key-secret.
. "$(dirname "$0")/lib/common.sh"
cd "$T"

need qemu-img qemu-io

for i in 0 1 2 3 9; do printf 'passphrase number %s' "$i" > p$i; done
obj=()
for i in 0 1 2 3 9; do obj+=(--object "secret,id=s$i,file=p$i"); done
img=disk.qcow2
opts() { echo "driver=qcow2,encrypt.key-secret=$1,file.filename=$img"; }

strata-img create -q -f qcow2 "${obj[@]}" \
    -o encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=50 $img 8M ||
    fail "create"
qemu-io "${obj[@]}" --image-opts "$(opts s0)" -c 'write -P 0x3c 0 1M' \
    -c 'write -P 0x3d 5M 300k' >/dev/null || fail "qemu-io cannot write with the first passphrase"
qemu-img convert "${obj[@]}" --image-opts "$(opts s0)" -O raw ref.raw

# qemu opens the image with each of $1 ("0 1") and with none of $2.
expect_keys() {
    local what=$1 good=$2 bad=$3 k out
    for k in $good; do
        rm -f out.raw
        out=$(qemu-img convert "${obj[@]}" --image-opts "$(opts s$k)" -O raw out.raw 2>&1) ||
            fail "$what: qemu-img cannot open the image with passphrase $k: $out"
        cmp -s ref.raw out.raw || fail "$what: data read by qemu with passphrase $k differs"
    done
    for k in $bad; do
        out=$(qemu-img convert "${obj[@]}" --image-opts "$(opts s$k)" -O raw out.raw 2>&1) &&
            fail "$what: qemu-img opened the image with passphrase $k"
        grep -q 'Invalid password' <<<"$out" ||
            fail "$what: qemu-img with passphrase $k: unexpected message: $out"
    done
    out=$(qemu-img check "${obj[@]}" --image-opts "$(opts s${good%% *})" 2>&1) ||
        fail "$what: qemu-img check: $out"
    grep -q 'No errors were found' <<<"$out" || fail "$what: qemu-img check: $out"
}
# Which slots qemu-img info reports active, as "0 1 ...".
active_slots() {
    qemu-img info --output=json $img | python3 -c '
import json, sys
d = json.load(sys.stdin)["format-specific"]["data"]["encrypt"]["slots"]
print(" ".join(str(i) for i, s in enumerate(d) if s["active"]))'
}
amend() { strata-img amend "${obj[@]}" --image-opts "$(opts "$1")" -o "$2"; }

expect_keys "new image" "0" "1 2"
[ "$(active_slots)" = "0" ] || fail "new image: active slots $(active_slots)"

# Add passphrase 1 in the first free slot, unlocking with the open key.
amend s0 encrypt.state=active,encrypt.new-secret=s1,encrypt.iter-time=50 ||
    fail "adding a key slot"
expect_keys "passphrase 1 added" "0 1" "2"
[ "$(active_slots)" = "0 1" ] || fail "after add: active slots $(active_slots)"

# Add passphrase 2 in slot 5, opening the image with passphrase 1.
amend s1 encrypt.state=active,encrypt.new-secret=s2,encrypt.keyslot=5,encrypt.iter-time=50 ||
    fail "adding a key slot by number"
expect_keys "passphrase 2 in slot 5" "0 1 2" "3"
[ "$(active_slots)" = "0 1 5" ] || fail "after add to slot 5: active slots $(active_slots)"

# Refusals leave the file as it was.
cp $img before.qcow2
out=$(amend s0 encrypt.state=inactive,encrypt.old-secret=s9 2>&1) &&
    fail "removing the slots of a passphrase that opens none succeeded"
grep -q "^strata-img: No keyslots match given (old) password" <<<"$out" ||
    fail "wrong old passphrase: unexpected message: $out"
out=$(amend s0 encrypt.state=active,encrypt.new-secret=s3,encrypt.keyslot=5,encrypt.iter-time=50 2>&1) &&
    fail "overwriting the active slot 5 without force succeeded"
grep -q "overwrite active keyslot 5" <<<"$out" ||
    fail "overwriting slot 5: unexpected message: $out"
out=$(amend s9 encrypt.state=active,encrypt.new-secret=s3,encrypt.iter-time=50 2>&1) &&
    fail "adding a key while opening with a wrong passphrase succeeded"
grep -q 'Invalid password' <<<"$out" ||
    fail "opening with a wrong passphrase: unexpected message: $out"
cmp -s $img before.qcow2 || fail "a refused amend changed the image"
expect_keys "after refusals" "0 1 2" "3 9"

# Remove passphrase 0 by passphrase (old-secret), opening with it.
amend s1 encrypt.state=inactive,encrypt.old-secret=s0 || fail "removing passphrase 0"
expect_keys "passphrase 0 removed" "1 2" "0"
[ "$(active_slots)" = "1 5" ] || fail "after removal: active slots $(active_slots)"

# Remove slot 1 (passphrase 1) by number.
amend s2 encrypt.state=inactive,encrypt.keyslot=1 || fail "removing slot 1"
expect_keys "slot 1 removed" "2" "0 1"
[ "$(active_slots)" = "5" ] || fail "after removing slot 1: active slots $(active_slots)"

# The last slot stays.
cp $img before.qcow2
out=$(amend s2 encrypt.state=inactive,encrypt.keyslot=5 2>&1) &&
    fail "erasing the last active key slot succeeded"
grep -q "erase the only active keyslot 5" <<<"$out" || fail "erasing the last slot: unexpected message: $out"
cmp -s $img before.qcow2 || fail "a refused removal of the last slot changed the image"
expect_keys "last slot kept" "2" "0 1"

# And strata reads what qemu wrote through the remaining passphrase.
strata-img convert "${obj[@]}" --image-opts "$(opts s2)" -O raw s.raw ||
    fail "strata-img cannot read with the remaining passphrase"
cmp -s ref.raw s.raw || fail "strata reads different data"
strata-img check "${obj[@]}" --image-opts "$(opts s2)" >/dev/null || fail "strata-img check"

# Change passphrase 2 to 3 with encrypt.replace=on, as replace=on does on a
# LUKS volume: the new one goes to the first free slot (0), then the slots
# the old one opens (5) are erased.
amend s2 encrypt.state=active,encrypt.old-secret=s2,encrypt.new-secret=s3,encrypt.replace=on,encrypt.iter-time=50 ||
    fail "replacing passphrase 2 by 3"
expect_keys "passphrase 2 replaced by 3" "3" "0 1 2"
[ "$(active_slots)" = "0" ] || fail "after replace: active slots $(active_slots)"

# Without a key the image opens for info only, and the message names the
# qcow2 option (the luks driver's own is key-secret).
nokey() { # what output: the message names encrypt.key-secret
    grep -qE "$img'?: .*option 'encrypt.key-secret' is required" <<<"$2" ||
        fail "$1 without a key: unexpected message: $2"
}
out=$(strata-io -c 'read 0 512' $img 2>&1) && fail "strata-io read without a key succeeded"
nokey strata-io "$out"
out=$(strata-img convert -O raw $img nokey.raw 2>&1) &&
    fail "strata-img convert without a key succeeded"
nokey "strata-img convert" "$out"
strata-img info $img >/dev/null || fail "info without a key"
out=$(strata-img create -f qcow2 -o encrypt.format=luks,encrypt.iter-time=50 nokey.qcow2 1M 2>&1) &&
    fail "creating an encrypted image without a key succeeded"
grep -q "option 'encrypt.key-secret' is required" <<<"$out" ||
    fail "create without a key: unexpected message: $out"

# convert creates an encrypted target and writes it with the key given in
# -o, for qcow2 and for luks; qemu reads back the source's data.
for target in "qcow2 encrypt.format=luks,encrypt.key-secret=s1,encrypt.iter-time=50" \
              "luks key-secret=s1,iter-time=50"; do
    set -- $target
    strata-img convert "${obj[@]}" -f raw ref.raw -O "$1" -o "$2" conv.$1 ||
        fail "convert into a new encrypted $1"
    o="driver=$1,file.filename=conv.$1"
    [ "$1" = luks ] && o="$o,key-secret=s1" || o="$o,encrypt.key-secret=s1"
    qemu-img compare "${obj[@]}" -q --image-opts "driver=raw,file.filename=ref.raw" "$o" ||
        fail "encrypted $1 made by convert differs from its source"
done
echo "key management checked by qemu after every step"
