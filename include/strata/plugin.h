/* SPDX-License-Identifier: MIT */
/* strata/plugin.h - the one entry point every plugin module exports.
 *
 *     static const struct strata_driver raw_driver = { ... };
 *     STRATA_PLUGIN("raw", .drivers = STRATA_DRIVERS(&raw_driver));
 *
 * expands to an exported function `strata_plugin_entry` returning a
 * `struct strata_plugin` that lists the module's descriptors of every kind.
 * The loader checks the plugin struct's ABI, then each descriptor's own ABI
 * version and size, mandatory callbacks and (ciphers, hashes, KDFs) the known-answer
 * self-test; a refused descriptor is reported with the module's file name.
 */
#ifndef STRATA_PLUGIN_H
#define STRATA_PLUGIN_H

#include <strata/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_PLUGIN_ABI_MAJOR 1
#define STRATA_PLUGIN_ABI_MINOR 1
#define STRATA_PLUGIN_ABI ((STRATA_PLUGIN_ABI_MAJOR << 16) | STRATA_PLUGIN_ABI_MINOR)
#define STRATA_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)

#define STRATA_PLUGIN_ENTRY_SYMBOL "strata_plugin_entry"

struct strata_driver;
struct strata_cipher_alg;
struct strata_hash_alg;
struct strata_crypto_format;
struct strata_kdf_alg;

struct strata_plugin {
    uint32_t abi_version;   /* STRATA_PLUGIN_ABI */
    uint32_t struct_size;   /* sizeof(struct strata_plugin) */
    const char *name;       /* module name, for messages */
    /* NULL-terminated lists; any may be NULL */
    const struct strata_driver *const *drivers;
    const struct strata_cipher_alg *const *ciphers;
    const struct strata_hash_alg *const *hashes;
    const struct strata_crypto_format *const *crypto_formats;
    /* Since plugin ABI 1.1; a module built for 1.0 reads as NULL here. */
    const struct strata_kdf_alg *const *kdfs;
};

typedef const struct strata_plugin *(*strata_plugin_entry_fn)(void);

/* Typed NULL-terminated lists for the STRATA_PLUGIN() fields. */
#define STRATA_DRIVERS(...) ((const struct strata_driver *const[]){ __VA_ARGS__, NULL })
#define STRATA_CIPHERS(...) ((const struct strata_cipher_alg *const[]){ __VA_ARGS__, NULL })
#define STRATA_HASHES(...) ((const struct strata_hash_alg *const[]){ __VA_ARGS__, NULL })
#define STRATA_CRYPTO_FORMATS(...) \
    ((const struct strata_crypto_format *const[]){ __VA_ARGS__, NULL })
#define STRATA_KDFS(...) ((const struct strata_kdf_alg *const[]){ __VA_ARGS__, NULL })

/* Use once per module, at file scope:
 *     STRATA_PLUGIN("raw", .drivers = STRATA_DRIVERS(&raw_driver));     */
#define STRATA_PLUGIN(modname, ...)                                          \
    static const struct strata_plugin strata_plugin_desc_ = {                \
        .abi_version = STRATA_PLUGIN_ABI,                                    \
        .struct_size = sizeof(struct strata_plugin),                         \
        .name = modname,                                                     \
        __VA_ARGS__                                                          \
    };                                                                       \
    STRATA_EXPORT const struct strata_plugin *strata_plugin_entry(void);     \
    const struct strata_plugin *strata_plugin_entry(void)                    \
    {                                                                        \
        return &strata_plugin_desc_;                                         \
    }

#ifdef __cplusplus
}
#endif
#endif
