#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# dmcrypt.py - encrypts or decrypts a payload as dm-crypt does for LUKS2,
# with python3-cryptography: an implementation independent of strata to
# check its payloads against.  IVs count 512-byte units whatever the sector
# size (cryptsetup never sets iv_large_sectors for LUKS2), from IV_OFFSET.
#
#   dmcrypt.py enc|dec CIPHER KEYFILE SECTOR_SIZE IV_OFFSET IN OUT
#   CIPHER: aes-xts-plain64, aes-cbc-plain64, aes-cbc-plain, aes-cbc-essiv:sha256
import hashlib
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def main():
    op, spec, keyfile, sector, iv_off, src, dst = sys.argv[1:8]
    sector, iv_off = int(sector), int(iv_off)
    key = open(keyfile, "rb").read()
    data = open(src, "rb").read()
    if len(data) % sector:
        sys.exit("input is not a multiple of the sector size")
    alg, mode, ivgen = spec.split("-", 2)
    if alg != "aes":
        sys.exit("only aes")
    essiv = None
    if ivgen.startswith("essiv:"):
        salt = hashlib.new(ivgen[6:], key).digest()
        essiv = Cipher(algorithms.AES(salt), modes.ECB()).encryptor()
    out = bytearray()
    for i in range(len(data) // sector):
        n = iv_off + i * (sector // 512)
        if ivgen == "plain":
            n &= 0xFFFFFFFF
        iv = n.to_bytes(16, "little")
        if essiv is not None:
            iv = essiv.update(iv)
        if mode == "xts":
            c = Cipher(algorithms.AES(key), modes.XTS(iv))
        elif mode == "cbc":
            c = Cipher(algorithms.AES(key), modes.CBC(iv))
        else:
            sys.exit("unknown mode " + mode)
        t = c.encryptor() if op == "enc" else c.decryptor()
        out += t.update(data[i * sector:(i + 1) * sector]) + t.finalize()
    open(dst, "wb").write(out)


main()
