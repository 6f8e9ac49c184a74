#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# luks2edit.py - rewrites the header copies of a LUKS2 image for the bad
# input tests, with valid checksums unless asked otherwise, so that what
# strata refuses is the edited content itself.
#
#   luks2edit.py IMG [--copies both|primary|secondary] [--json PYCODE]
#                [--raw-json TEXT] [--bin FIELD=INT] [--bad-csum]
# PYCODE runs with `j` bound to the parsed JSON (a dict) and edits it.
# FIELD: version, hdr_size, seqid, hdr_offset (binary header integers).
import argparse
import hashlib
import json
import struct

BIN = {"version": (6, ">H"), "hdr_size": (8, ">Q"), "seqid": (16, ">Q"),
       "hdr_offset": (256, ">Q")}
CSUM = 448


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("img")
    ap.add_argument("--copies", default="both")
    ap.add_argument("--json")
    ap.add_argument("--raw-json")
    ap.add_argument("--bin", action="append", default=[])
    ap.add_argument("--bad-csum", action="store_true")
    a = ap.parse_args()
    with open(a.img, "r+b") as f:
        hdr_size = struct.unpack(">Q", f.read(16)[8:16])[0]
        offs = {"primary": [0], "secondary": [hdr_size],
                "both": [0, hdr_size]}[a.copies]
        for off in offs:
            f.seek(off)
            buf = bytearray(f.read(hdr_size))
            text = bytes(buf[4096:]).split(b"\0", 1)[0]
            if a.raw_json is not None:
                text = a.raw_json.encode()
            elif a.json:
                j = json.loads(text)
                exec(a.json, {"j": j})
                text = json.dumps(j, separators=(",", ":")).encode()
            buf[4096:] = text + bytes(hdr_size - 4096 - len(text))
            for fv in a.bin:
                name, val = fv.split("=")
                o, fmt = BIN[name]
                struct.pack_into(fmt, buf, o, int(val, 0))
            buf[CSUM:CSUM + 64] = bytes(64)
            digest = hashlib.sha256(bytes(buf)).digest()
            if a.bad_csum:
                digest = bytes([digest[0] ^ 1]) + digest[1:]
            buf[CSUM:CSUM + 32] = digest
            f.seek(off)
            f.write(buf)


main()
