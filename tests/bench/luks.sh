#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks.sh - 1 GiB through strata-img convert and qemu-img convert, on the
# same images in the same run: a LUKS1 volume (aes-256-xts-plain64, 512-byte
# sectors) and a LUKS-encrypted qcow2, each written (raw source -> encrypted
# target: encryption) and read (encrypted source -> null target:
# decryption).  strata runs twice: on every CPU the process may use (its
# worker pool sized to them), and pinned to one CPU (taskset; the pool then
# has one thread): its own single-core figure.  STRATA_THREADS=1 alone would
# not be one: convert's requests in flight still run the cipher at once.  Both tools run convert with their
# defaults: 8 requests in flight, writes in order, the target's cache mode
# unsafe (no flush to stable storage at the end), the source's writeback.
# Figures only: nothing here passes or fails on speed.
#
# $1 (optional): the output of build/bench/crypto, whose all-cores rows
# give raw libgcrypt's aes-xts throughput on every core at 512-byte sectors:
# the ceiling for the encrypted rows.
set -u
build=${STRATA_BUILD:?} crypto_out=${1:-}
export PATH="$build/bin:$PATH"
. "$(dirname "$0")/lib.sh"
bench_needs luks qemu-img strata-img bc taskset
# STRATA_BENCH_DIR picks the file system (default: $TMPDIR or /tmp).
base=${STRATA_BENCH_DIR:-${TMPDIR:-/tmp}}
bench_workdir "$base"
size=1073741824
bench_source "$W/src.raw"
OBJ=(--object secret,id=k,file="$W/pass")
img=$W/bench.luks
strata-img create -q -f luks "${OBJ[@]}" -o key-secret=k,iter-time=10 "$img" 1G >/dev/null ||
    exit 1
LUKS="driver=luks,key-secret=k,file.filename=$img"
QENC=(-O qcow2 -o encrypt.format=luks,encrypt.key-secret=k,encrypt.iter-time=10)
strata-img convert -f raw "$W/src.raw" "${OBJ[@]}" "${QENC[@]}" "$W/src.qcow2" || exit 1
QSRC="driver=qcow2,encrypt.key-secret=k,file.filename=$W/src.qcow2"

# best CMD...: "wall cpu" seconds of the fastest of three runs (cpu = user +
# system time of the command).
best() {
    local b= bc= r u sy
    for _ in 1 2 3; do
        local TIMEFORMAT='%R %U %S'
        read -r r u sy < <({ time "$@" >/dev/null 2>&1; } 2>&1) || return 1
        if [ -z "$b" ] || [ "$(echo "$r < $b" | bc -l)" = 1 ]; then
            b=$r
            bc=$(echo "$u + $sy" | bc -l)
        fi
    done
    echo "$b $bc"
}
# The first CPU this process may run on, for the single-core runs.
cpu1=$(taskset -pc $$ | sed 's/.*: //; s/[-,].*//')
one() { (taskset -pc "$cpu1" $BASHPID >/dev/null && "$@"); }

# The commands of each row, for strata-img and qemu-img: write WHAT and
# read WHAT.
luks_write() { "$1" convert -n -S 0 -f raw "$W/src.raw" "${OBJ[@]}" --target-image-opts "$LUKS"; }
luks_read() {
    local null=null
    [ "$1" = qemu-img ] && null=null-co
    "$1" convert -n "${OBJ[@]}" --image-opts "$LUKS" --target-image-opts "driver=$null,size=$size"
}
qcow2_write() { "$1" convert -f raw "$W/src.raw" "${OBJ[@]}" "${QENC[@]}" "$W/t.qcow2"; }
qcow2_read() {
    local null=null
    [ "$1" = qemu-img ] && null=null-co
    "$1" convert -n "${OBJ[@]}" --image-opts "$QSRC" --target-image-opts "driver=$null,size=$size"
}

# all_cores OP: raw libgcrypt's aes-xts (512-bit key, 512-byte sectors) MB/s
# on every core, from the crypto benchmark's output.
all_cores() {
    [ -n "$crypto_out" ] && [ -f "$crypto_out" ] || return 0
    awk -v op="$1" '$1 == "all-cores" && $2 == "aes-xts-plain64(512-bit)" && $3 == 512 &&
                    $4 == op { print $6 }' "$crypto_out"
}
threads=$(nproc)

echo "aes-256-xts-plain64 (512-byte sectors), 1 GiB, best of 3 ($base, $(stat -f -c %T "$base"))"
echo "strata: $threads CPUs (worker pool of $threads threads) or 1 CPU (taskset -c $cpu1);" \
    "both tools: convert -m 8, in order, target cache unsafe, source cache writeback"
printf '%-18s %10s %10s %10s %8s %8s %8s %10s %10s %10s\n' "MB/s" "strata" \
    "1 CPU" "qemu-img" "all/1" "/qemu" "/gcrypt" "strata s" "1 CPU s" "qemu s"
for row in "luks1 write:luks_write:enc" "luks1 read:luks_read:dec" \
    "qcow2-luks write:qcow2_write:enc" "qcow2-luks read:qcow2_read:dec"; do
    IFS=: read -r label fn op <<<"$row"
    read -r sa sac < <(best $fn strata-img) || { echo "$label: strata-img failed"; continue; }
    read -r s1 s1c < <(best one $fn strata-img) || { echo "$label: strata-img failed"; continue; }
    read -r q qc < <(best $fn qemu-img) || { echo "$label: qemu-img failed"; continue; }
    g=$(all_cores $op)
    printf '%-18s %10s %10s %10s %8s %8s %8s %10s %10s %10s\n' "$label" "$(mbs "$sa")" \
        "$(mbs "$s1")" "$(mbs "$q")" "$(ratio "$s1" "$sa")" "$(ratio "$q" "$sa")" \
        "$([ -n "$g" ] && ratio "$(mbs "$sa")" "$g" || echo -)" "$sac" "$s1c" "$qc"
done
echo "(all/1: strata on every CPU over strata on one CPU; /qemu: strata over qemu-img;"
echo " /gcrypt: strata over raw libgcrypt on $threads threads," \
    "enc $(all_cores enc || true) MB/s, dec $(all_cores dec || true) MB/s; s: CPU seconds)"
# The same copy without encryption: what the file system alone costs.
cp "$W/src.raw" "$W/plain.raw"
read -r pw _ < <(best strata-img convert -n -S 0 -f raw "$W/src.raw" --target-image-opts "driver=file,filename=$W/plain.raw")
echo "plain copy to a file without encryption (the file system's share): $(mbs "$pw") MB/s"

# The same rows where the cipher, not memory or the file system, is the
# bottleneck: twofish-xts runs at a few hundred MB/s a core in libgcrypt
# against several GB/s for AES-NI, so here all/1 shows what the worker pool
# gives a single convert.  256 MiB of the same data.
size=268435456
head -c $size "$W/src.raw" >"$W/src256.raw"
img=$W/twofish.luks
strata-img create -q -f luks "${OBJ[@]}" -o key-secret=k,iter-time=10,cipher-alg=twofish-256 "$img" $size \
    >/dev/null || exit 1
LUKS="driver=luks,key-secret=k,file.filename=$img"
echo
echo "twofish-256-xts-plain64 (512-byte sectors), 256 MiB, best of 3"
printf '%-18s %10s %10s %10s %8s %8s\n' "MB/s" "strata" "1 CPU" "qemu-img" "all/1" "/qemu"
tf_write() { "$1" convert -n -S 0 -f raw "$W/src256.raw" "${OBJ[@]}" --target-image-opts "$LUKS"; }
for row in "twofish write:tf_write" "twofish read:luks_read"; do
    IFS=: read -r label fn <<<"$row"
    read -r sa _ < <(best $fn strata-img) || { echo "$label: strata-img failed"; continue; }
    read -r s1 _ < <(best one $fn strata-img) || { echo "$label: strata-img failed"; continue; }
    read -r q _ < <(best $fn qemu-img) || { echo "$label: qemu-img failed"; continue; }
    printf '%-18s %10s %10s %10s %8s %8s\n' "$label" "$(mbs "$sa")" "$(mbs "$s1")" \
        "$(mbs "$q")" "$(ratio "$s1" "$sa")" "$(ratio "$q" "$sa")"
done
