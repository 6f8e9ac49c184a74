#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what building and testing strata needs on Debian 12 (run as root).
# Build: compiler, autoconf's pkg-config, libgcrypt, libconfig, libltdl,
# CUnit, zlib and zstd, libnbd and nbdkit's plugin header, json-c (LUKS2);
# clang and its runtimes (libFuzzer, sanitizers) for make fuzz.  Tests:
# qemu-img/qemu-io, cryptsetup, nbdkit and libnbd's tools (nbdcopy) as peers
# to check compatibility against, openssl for independent crypto values,
# strace to see which system calls a tool makes (flushes), python3's
# cryptography to decrypt LUKS2 payloads independently.
set -e
export DEBIAN_FRONTEND=noninteractive
pkgs="build-essential clang libclang-rt-dev pkg-config libgcrypt20-dev libconfig-dev libltdl-dev
      libcunit1-dev zlib1g-dev libzstd-dev libnbd-dev nbdkit-plugin-dev libjson-c-dev qemu-utils
      cryptsetup-bin nbdkit libnbd-bin openssl strace python3-cryptography"
# shellcheck disable=SC2086  # the list is split into package names on purpose
if ! dpkg -s $pkgs >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $pkgs
fi
