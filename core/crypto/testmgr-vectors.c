/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* testmgr-vectors.c - the published known-answer vectors the core checks
 * cipher and hash plugins against when they register under these names
 * (the same values as in tests/vectors/, with their sources). */
#include "crypto-int.h"

const struct strata_cipher_kat strata_cipher_kats[] = {
    /* FIPS 197, appendix C.1 to C.3 (example vectors). */
    { "aes", "FIPS-197 C.1 AES-128", "000102030405060708090a0b0c0d0e0f",
      "00112233445566778899aabbccddeeff", "69c4e0d86a7b0430d8cdb78070b4c55a" },
    { "aes", "FIPS-197 C.2 AES-192", "000102030405060708090a0b0c0d0e0f1011121314151617",
      "00112233445566778899aabbccddeeff", "dda97ca4864cdfe06eaf70a0ec0d7191" },
    { "aes", "FIPS-197 C.3 AES-256",
      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
      "00112233445566778899aabbccddeeff", "8ea2b7ca516745bfeafc49904b496089" },
    /* NIST SP 800-38A, F.1.1 ECB-AES128.Encrypt, block #1. */
    { "aes", "SP 800-38A F.1.1 ECB-AES128 block 1", "2b7e151628aed2a6abf7158809cf4f3c",
      "6bc1bee22e409f96e93d7e117393172a", "3ad77bb40d7a3660a89ecaf32466ef97" },
    /* NESSIE Serpent vectors (Serpent-{128,192,256}-128.verified), set 1,
     * vector 0. */
    { "serpent", "NESSIE Serpent-128 set 1 vector 0", "80000000000000000000000000000000",
      "00000000000000000000000000000000", "264e5481eff42a4606abda06c0bfda3d" },
    { "serpent", "NESSIE Serpent-192 set 1 vector 0",
      "800000000000000000000000000000000000000000000000",
      "00000000000000000000000000000000", "9e274ead9b737bb21efcfca548602689" },
    { "serpent", "NESSIE Serpent-256 set 1 vector 0",
      "8000000000000000000000000000000000000000000000000000000000000000",
      "00000000000000000000000000000000", "a223aa1288463c0e2be38ebd825616c0" },
    /* Schneier et al., "Twofish: A 128-Bit Block Cipher" (1998), test
     * vectors (ecb_tbl.txt). */
    { "twofish", "Twofish paper 128-bit key I=1", "00000000000000000000000000000000",
      "00000000000000000000000000000000", "9f589f5cf6122c32b6bfec2f2ae8c35a" },
    { "twofish", "Twofish paper 256-bit key",
      "0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff",
      "00000000000000000000000000000000", "37527be0052334b89f0cfccae87cfa20" },
    /* RFC 2144, appendix B.1, 128-bit key. */
    { "cast5", "RFC 2144 B.1 CAST-128 128-bit key", "0123456712345678234567893456789a",
      "0123456789abcdef", "238b4fe5847e44b2" },
    /* GB/T 32907-2016, appendix A, example 1. */
    { "sm4", "GB/T 32907-2016 A.1 SM4", "0123456789abcdeffedcba9876543210",
      "0123456789abcdeffedcba9876543210", "681edf34d206965e86b3e94f536e4246" },
    { NULL, NULL, NULL, NULL, NULL }
};

#define TWO_BLOCK "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"

const struct strata_hash_kat strata_hash_kats[] = {
    /* RFC 1321, appendix A.5 (test suite). */
    { "md5", "RFC 1321 A.5 MD5(\"abc\")", "abc", "900150983cd24fb0d6963f7d28e17f72" },
    { "md5", "RFC 1321 A.5 MD5(\"message digest\")", "message digest",
      "f96b697d7cb7938d525a2f31aaf161d0" },
    /* FIPS 180-2 appendices A to D and its change notice (SHA-224), the
     * examples FIPS 180-4 points to: one- and two-block messages. */
    { "sha1", "FIPS 180-2 A.1 SHA-1(\"abc\")", "abc",
      "a9993e364706816aba3e25717850c26c9cd0d89d" },
    { "sha1", "FIPS 180-2 A.2 SHA-1 two-block message", TWO_BLOCK,
      "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
    { "sha224", "FIPS 180-2 change notice SHA-224(\"abc\")", "abc",
      "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7" },
    { "sha256", "FIPS 180-2 B.1 SHA-256(\"abc\")", "abc",
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    { "sha256", "FIPS 180-2 B.2 SHA-256 two-block message", TWO_BLOCK,
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
    { "sha384", "FIPS 180-2 D.1 SHA-384(\"abc\")", "abc",
      "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
      "8086072ba1e7cc2358baeca134c825a7" },
    { "sha512", "FIPS 180-2 C.1 SHA-512(\"abc\")", "abc",
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
    /* Dobbertin, Bosselaers, Preneel, "RIPEMD-160: A Strengthened Version
     * of RIPEMD", test vectors. */
    { "ripemd160", "RIPEMD-160 paper RIPEMD-160(\"abc\")", "abc",
      "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc" },
    /* ISO/IEC 10118-3:2004 / NESSIE Whirlpool test vectors. */
    { "whirlpool", "ISO/IEC 10118-3 Whirlpool(\"abc\")", "abc",
      "4e2448a4c6f486bb16b6562c73b4020bf3043e3a731bce721ae1b303d97e6d4c"
      "7181eebdb6c57e277d0e34957114cbd6c797fc9d95d8b582d225292076d4eef5" },
    /* GB/T 32905-2016, appendix A, example 1. */
    { "sm3", "GB/T 32905-2016 A.1 SM3(\"abc\")", "abc",
      "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" },
    { NULL, NULL, NULL, NULL }
};
