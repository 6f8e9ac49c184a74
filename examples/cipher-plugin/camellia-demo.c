/* SPDX-License-Identifier: MIT */
/* camellia-demo.c - encrypts and decrypts sectors with the camellia plugin
 * through strata's crypto API:
 *
 *     camellia-demo SPEC KEYHEX SECTOR SECTOR_SIZE < in > out     (encrypt)
 *     camellia-demo -d SPEC KEYHEX SECTOR SECTOR_SIZE < in > out  (decrypt)
 *
 * SPEC is a cipher specification such as camellia-cbc-plain64 or
 * camellia-ecb. */
#include <strata/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    bool dec = argc > 1 && strcmp(argv[1], "-d") == 0;
    if (argc != 5 + dec) {
        fprintf(stderr, "usage: %s [-d] SPEC KEYHEX SECTOR SECTOR_SIZE < in > out\n", argv[0]);
        return 2;
    }
    argv += dec;
    struct strata_error *err = NULL;
    const struct strata_cipher_alg *alg = strata_cipher_alg_find("camellia", &err);
    if (!alg) {
        fprintf(stderr, "%s\n", err->msg);
        return 1;
    }
    fprintf(stderr, "using %s\n", alg->impl_name);

    uint8_t key[64];
    size_t keylen = strlen(argv[2]) / 2;
    for (size_t i = 0; i < keylen && i < sizeof(key); i++)
        sscanf(argv[2] + 2 * i, "%2hhx", &key[i]);
    uint64_t sector = strtoull(argv[3], NULL, 0);
    size_t ss = strtoul(argv[4], NULL, 0);

    static uint8_t buf[1 << 20];
    size_t len = fread(buf, 1, sizeof(buf), stdin);

    struct strata_cipher_spec spec;
    struct strata_cipher *c;
    if (strata_cipher_spec_parse(argv[1], NULL, &spec, &err) < 0 ||
        strata_cipher_open_spec(&spec, key, keylen, &c, &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        return 1;
    }
    int r = dec ? strata_cipher_decrypt_sectors(c, sector, ss, buf, buf, len, &err)
                : strata_cipher_encrypt_sectors(c, sector, ss, buf, buf, len, &err);
    strata_cipher_free(c);
    if (r < 0) {
        fprintf(stderr, "%s\n", err->msg);
        return 1;
    }
    fwrite(buf, 1, len, stdout);
    return 0;
}
