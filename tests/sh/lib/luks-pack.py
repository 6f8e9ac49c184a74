#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks-pack.py - rewrites a LUKS1 volume into the packed layout of the first
# cryptsetup releases: key material of slot i at sector FIRST + i * (the
# slot's material in whole sectors), with no 4 KiB alignment, and the
# payload moved to sector PAYLOAD.  The key material and payload bytes are
# moved unchanged (IVs count from the payload start), so the passphrases
# and data stay the same.
#   luks-pack.py VOLUME FIRST PAYLOAD
import struct
import sys

path, first, payload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
SECTOR = 512
with open(path, "r+b") as f:
    data = bytearray(f.read())
    hdr = data[:592]
    assert hdr[:6] == b"LUKS\xba\xbe", "not a LUKS1 volume"
    old_payload = struct.unpack(">I", hdr[104:108])[0]
    key_bytes = struct.unpack(">I", hdr[108:112])[0]
    size = len(data) - old_payload * SECTOR
    mats, offs = [], []
    for i in range(8):
        base = 208 + 48 * i
        koff, stripes = struct.unpack(">II", hdr[base + 40:base + 48])
        sectors = (key_bytes * stripes + SECTOR - 1) // SECTOR
        mats.append(bytes(data[koff * SECTOR:(koff + sectors) * SECTOR]))
        offs.append(first + sum(len(m) for m in mats[:-1]) // SECTOR)
    assert offs[-1] + len(mats[-1]) // SECTOR <= payload, "payload inside the key material"
    body = bytes(data[old_payload * SECTOR:])
    out = bytearray(payload * SECTOR + size)
    out[:592] = hdr
    struct.pack_into(">I", out, 104, payload)
    for i in range(8):
        struct.pack_into(">I", out, 208 + 48 * i + 40, offs[i])
        out[offs[i] * SECTOR:offs[i] * SECTOR + len(mats[i])] = mats[i]
    out[payload * SECTOR:] = body
    f.seek(0)
    f.write(out)
    f.truncate(len(out))
