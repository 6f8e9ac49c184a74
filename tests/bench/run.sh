#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the benchmarks (make bench).  Figures only: nothing here passes or
# fails on speed.
set -u
build=${STRATA_BUILD:?STRATA_BUILD not set (run through make bench)}
src=${STRATA_SRCDIR:?STRATA_SRCDIR not set (run through make bench)}
export STRATA_BUILD=$build STRATA_SRCDIR=$src

# Crypto: strata's plugin path next to raw libgcrypt (one thread, and raw
# libgcrypt on every core), and PBKDF2-sha256 next to cryptsetup's own
# figure on this machine.
echo "== crypto"
cs_sha256=
if command -v cryptsetup >/dev/null 2>&1; then
    cs_sha256=$(cryptsetup benchmark --hash sha256 2>/dev/null |
        awk '/^PBKDF2-sha256/ { print $2 }')
    echo "cryptsetup benchmark --hash sha256: ${cs_sha256:-no figure} iterations per second"
else
    echo "cryptsetup not installed: no PBKDF2 reference figure"
fi
STRATA_BENCH_CRYPTSETUP_SHA256=$cs_sha256 "$build/bench/crypto" | tee "$build/bench/crypto.out"

# LUKS1 and LUKS-encrypted qcow2 next to qemu-img, strata with every
# thread and with STRATA_THREADS=1, and as a share of raw libgcrypt on
# every core above: once on the temporary directory's file system, once on
# tmpfs, where no disk is involved for either tool.
echo
echo "== luks"
bash "$src/tests/bench/luks.sh" "$build/bench/crypto.out"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    echo
    STRATA_BENCH_DIR=/dev/shm bash "$src/tests/bench/luks.sh" "$build/bench/crypto.out"
fi

# LUKS2: 4096-byte sectors against raw libgcrypt, and argon2id unlock
# against cryptsetup.
echo
echo "== luks2"
bash "$src/tests/bench/luks2.sh" "$build/bench/crypto.out"

# qcow2 next to qemu-img.
. "$src/tests/bench/qcow2.sh"

# NBD: a LUKS volume read with nbdcopy from nbdkit + strata's plugin and
# from qemu-nbd.
echo
echo "== nbd"
bash "$src/tests/bench/nbd.sh"
