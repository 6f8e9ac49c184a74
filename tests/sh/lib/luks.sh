# SPDX-License-Identifier: LGPL-2.1-or-later
# luks.sh - sourced by the LUKS shell tests (after common.sh): passphrases,
# known data, and one-line wrappers around strata-img, qemu-img and
# cryptsetup.  Costs are kept tiny: cryptsetup at 1000 PBKDF2 iterations,
# strata and qemu at iter-time 10.
need cryptsetup qemu-img

PASS=$T/pass
printf 'correct horse battery' >"$PASS"
PASS2=$T/pass2
printf 'staple second key' >"$PASS2"
WRONG=$T/wrong
printf 'not the passphrase' >"$WRONG"
# A binary key file: every byte value, NULs and invalid UTF-8 included.
BINKEY=$T/binkey
{ printf '\000\377\376'; head -c 61 /dev/urandom; printf '\000'; } >"$BINKEY"

DATA=$T/data.raw
head -c 1048576 /dev/urandom >"$DATA"
DATA2=$T/data2.raw
head -c 524288 /dev/urandom >"$DATA2"

# cs_format IMG SIZE [cryptsetup options...]: a LUKS1 volume made by cryptsetup
# with the key in $PASS unless --key-file is among the options.
cs_format() {
    cs_format_type luks1 "$@"
}

# cs2_format IMG SIZE [cryptsetup options...]: the same as LUKS2, with PBKDF2
# unless the options choose another pbkdf (cryptsetup takes the last one).
cs2_format() {
    cs_format_type luks2 "$1" "$2" --pbkdf pbkdf2 "${@:3}"
}

cs_format_type() {
    local type=$1 img=$2 size=$3
    shift 3
    rm -f "$img"
    truncate -s "$size" "$img"
    local kf=(--key-file "$PASS")
    [[ " $* " == *" --key-file "* ]] && kf=()
    cryptsetup luksFormat -q --type "$type" --pbkdf-force-iterations 1000 "${kf[@]}" \
        "$@" "$img"
}

# opts IMG [KEYFILE] [EXTRA]: --image-opts arguments for a luks image.
sopts() {
    local img=$1 key=${2:-$PASS} extra=${3:-}
    echo "--object secret,id=k,file=$key --image-opts driver=luks,key-secret=k,file.filename=$img$extra"
}

# strata_write SRC IMG [KEYFILE] [EXTRA]: copies SRC into the volume's payload.
strata_write() {
    local src=$1 img=$2 key=${3:-$PASS} extra=${4:-}
    strata-img convert -n -f raw "$src" --object secret,id=k,file="$key" \
        --target-image-opts "driver=luks,key-secret=k,file.filename=$img$extra"
}

# strata_read IMG OUT [KEYFILE] [EXTRA]: the whole payload into OUT.
strata_read() {
    local img=$1 out=$2 key=${3:-$PASS} extra=${4:-}
    rm -f "$out"
    strata-img convert -O raw --object secret,id=k,file="$key" \
        --image-opts "driver=luks,key-secret=k,file.filename=$img$extra" "$out"
}

qemu_write() {
    local src=$1 img=$2 key=${3:-$PASS}
    qemu-img convert -n -f raw "$src" --object secret,id=k,file="$key" \
        --target-image-opts "driver=luks,key-secret=k,file.filename=$img"
}

qemu_read() {
    local img=$1 out=$2 key=${3:-$PASS}
    rm -f "$out"
    qemu-img convert -O raw --object secret,id=k,file="$key" \
        --image-opts "driver=luks,key-secret=k,file.filename=$img" "$out"
}

# same_prefix A B LEN [OFFSET_IN_B]: the first LEN bytes of A equal B's at OFFSET.
same_prefix() {
    local a=$1 b=$2 len=$3 off=${4:-0}
    cmp -n "$len" "$a" <(tail -c +$((off + 1)) "$b") ||
        fail "$b differs from $a (offset $off, $len bytes)"
}

# Every active slot of IMG opens with cryptsetup for the given key files.
cs_check_keys() {
    local img=$1
    shift
    cryptsetup luksDump "$img" >/dev/null || fail "cryptsetup luksDump refuses $img"
    for k in "$@"; do
        cryptsetup open --test-passphrase --key-file "$k" "$img" ||
            fail "cryptsetup does not accept key $k on $img"
    done
}

# info_field IMG FIELD: a scalar from strata-img info --output=json.
info_json() {
    strata-img info --output=json "$@"
}
