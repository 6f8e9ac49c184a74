/* SPDX-License-Identifier: MIT */
/* strata/common.h - types shared by the embedding API and every plugin ABI:
 * errors, option lists, secrets, size parsing, structured output. */
#ifndef STRATA_COMMON_H
#define STRATA_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_EXPORT __attribute__((visibility("default")))
#define STRATA_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ------------------------------------------------------------------ descriptors
 * Every plugin descriptor starts with its ABI version and its own size, so
 * that the core can refuse a descriptor built for another major version and
 * accept an older, shorter one.  Plugins do not write those two members:
 * they begin the descriptor with their kind's head macro,
 *
 *     static const struct strata_cipher_alg my_alg = {
 *         STRATA_CIPHER_HEAD,
 *         .name = "aes",
 *         ...
 *     };
 *
 * which fills both from the headers the plugin is compiled against. */
#define STRATA_DESC_HEAD(tag, abi, type) \
    .abi_version = STRATA_ABI_TAGGED(tag, abi), .struct_size = sizeof(type)

/* abi_version is tag << 24 | major << 16 | minor.  The tag, one letter per
 * kind put there by the head macro, lets the core refuse a descriptor listed
 * as another kind (a hash in a plugin's cipher list).  Descriptors built
 * before tags existed carry 0 there and are accepted as what they are
 * listed as. */
#define STRATA_ABI_TAGGED(tag, abi) (((uint32_t)(tag) << 24) | (uint32_t)(abi))
#define STRATA_ABI_TAG_OF(v) ((uint32_t)(v) >> 24)
#define STRATA_ABI_MAJOR_OF(v) (((uint32_t)(v) >> 16) & 0xff)
#define STRATA_ABI_MINOR_OF(v) ((uint32_t)(v) & 0xffff)

/* ------------------------------------------------------------------ errors
 * Functions return 0 (or a non-negative value) on success and -errno on
 * failure, and take `struct strata_error **errp` last.  errp may be NULL when
 * the caller does not want the message.  The first error set wins: a later
 * strata_error_set() on an already set *errp is ignored, so the innermost,
 * most precise message survives; callers add context with strata_error_prefix.
 */
struct strata_error {
    int code;   /* positive errno value */
    char *msg;  /* "disk.qcow2: L2 table at 0x50000 points past end of file" */
};

/* Sets *errp (if errp and !*errp) and returns -code, so that
 * `return strata_error_set(errp, EINVAL, "...")` reads naturally. */
STRATA_EXPORT int strata_error_set(struct strata_error **errp, int code,
                                   const char *fmt, ...) STRATA_PRINTF(3, 4);
STRATA_EXPORT int strata_error_setv(struct strata_error **errp, int code,
                                    const char *fmt, va_list ap);
/* "fmt: " is put before the existing message; no-op when nothing is set. */
STRATA_EXPORT void strata_error_prefix(struct strata_error **errp,
                                       const char *fmt, ...) STRATA_PRINTF(2, 3);
STRATA_EXPORT void strata_error_free(struct strata_error *err);
/* Moves *src into *dst (if dst is set and empty) and clears *src. */
STRATA_EXPORT void strata_error_propagate(struct strata_error **dst,
                                          struct strata_error **src);

/* Warnings (e.g. "probing guessed raw") go to a process-wide handler; the
 * default prints "warning: MSG" to stderr.  Passing NULL restores it. */
typedef void (*strata_warning_fn)(const char *msg, void *opaque);
STRATA_EXPORT void strata_set_warning_handler(strata_warning_fn fn, void *opaque);
STRATA_EXPORT void strata_warn(const char *fmt, ...) STRATA_PRINTF(1, 2);

/* Debug output (blkdebug injections, plugin loading): enabled by
 * STRATA_DEBUG=1 in the environment or strata_set_debug(true). */
STRATA_EXPORT void strata_set_debug(bool on);
STRATA_EXPORT bool strata_debug_enabled(void);
STRATA_EXPORT void strata_debug(const char *fmt, ...) STRATA_PRINTF(1, 2);

/* ------------------------------------------------------------------ options
 * Every way of writing a stack (libconfig file, dotted options, plain file
 * name) is reduced to one flat, ordered list of dotted keys and string
 * values: "driver"="qcow2", "file.driver"="file", "file.filename"="a.img",
 * "encrypt.key-secret"="sec0".  Keys are unique; setting a key again replaces
 * its value.
 */
struct strata_opts;

STRATA_EXPORT struct strata_opts *strata_opts_new(void);
STRATA_EXPORT void strata_opts_free(struct strata_opts *o);
STRATA_EXPORT struct strata_opts *strata_opts_dup(const struct strata_opts *o);
STRATA_EXPORT int strata_opts_set(struct strata_opts *o, const char *key,
                                  const char *value);
STRATA_EXPORT int strata_opts_setf(struct strata_opts *o, const char *key,
                                   const char *fmt, ...) STRATA_PRINTF(3, 4);
STRATA_EXPORT bool strata_opts_del(struct strata_opts *o, const char *key);
STRATA_EXPORT const char *strata_opts_get(const struct strata_opts *o,
                                          const char *key);
STRATA_EXPORT size_t strata_opts_count(const struct strata_opts *o);
/* i-th entry in insertion order; returns false past the end. */
STRATA_EXPORT bool strata_opts_entry(const struct strata_opts *o, size_t i,
                                     const char **key, const char **value);
/* New list with the entries under "prefix." with the prefix removed. */
STRATA_EXPORT struct strata_opts *strata_opts_subset(const struct strata_opts *o,
                                                     const char *prefix);
/* Copies every entry of src into dst under "prefix." (prefix may be NULL). */
STRATA_EXPORT int strata_opts_merge(struct strata_opts *dst,
                                    const struct strata_opts *src,
                                    const char *prefix);

/* Typed getters; `what` names the source for messages (a file name or
 * "option"), may be NULL.  A missing key leaves *out untouched and returns 0,
 * so callers preset defaults.  Wrong type gives -EINVAL with a message naming
 * the key and the value. */
STRATA_EXPORT int strata_opts_get_bool(const struct strata_opts *o, const char *key,
                                       bool *out, struct strata_error **errp);
STRATA_EXPORT int strata_opts_get_u64(const struct strata_opts *o, const char *key,
                                      uint64_t *out, struct strata_error **errp);
STRATA_EXPORT int strata_opts_get_i64(const struct strata_opts *o, const char *key,
                                      int64_t *out, struct strata_error **errp);
/* Accepts size suffixes (see strata_parse_size). */
STRATA_EXPORT int strata_opts_get_size(const struct strata_opts *o, const char *key,
                                       uint64_t *out, struct strata_error **errp);

/* Parses "driver=raw,file.filename=x.img" (qemu's --image-opts syntax: ",,"
 * is a literal comma).  A leading bare word is stored under implied_key
 * (e.g. "secret" for "--object secret,id=s0,..."), if implied_key is given. */
STRATA_EXPORT int strata_opts_parse(struct strata_opts *o, const char *text,
                                    const char *implied_key,
                                    struct strata_error **errp);

/* Option descriptors: drivers and encryption formats declare what they take.
 * The core refuses unknown keys and ill-typed values before a driver sees
 * them, naming the driver, the key and the value. */
enum strata_opt_type {
    STRATA_OPT_STRING = 1,
    STRATA_OPT_BOOL,      /* on/off, true/false, yes/no, 1/0 */
    STRATA_OPT_NUMBER,    /* unsigned decimal or 0x hex */
    STRATA_OPT_SIZE,      /* number with optional K/M/G/T/P/E suffix */
    STRATA_OPT_ENUM,      /* one of `choices` */
};

struct strata_opt_desc {
    const char *name;     /* may be dotted: "encrypt.key-secret"; a segment
                             "N" takes any list index: "inject-error.N.event"
                             matches "inject-error.0.event" */
    enum strata_opt_type type;
    const char *help;
    const char *def;      /* default shown in help, NULL if none */
    const char *const *choices;   /* STRATA_OPT_ENUM: NULL-terminated */
};

/* Validates every key of o against descs (terminated by a {NULL} entry);
 * keys starting with one of the `children` role names followed by '.' (or
 * equal to a role name) are skipped.  `owner` names the driver in messages. */
STRATA_EXPORT int strata_opts_validate(const struct strata_opts *o,
                                       const struct strata_opt_desc *descs,
                                       const char *const *children,
                                       const char *owner,
                                       struct strata_error **errp);

/* "1G" -> 1073741824.  Suffixes K/M/G/T/P/E (binary, as qemu-img), an
 * optional trailing 'B' or 'iB'; bare numbers are bytes; decimals allowed
 * with a suffix ("1.5G").  -EINVAL on garbage, -ERANGE on overflow. */
STRATA_EXPORT int strata_parse_size(const char *text, uint64_t *out,
                                    struct strata_error **errp);
/* "1 GiB", "512 KiB", "1.5 MiB" as qemu-img prints sizes. */
STRATA_EXPORT void strata_format_size(uint64_t bytes, char *buf, size_t len);

/* ------------------------------------------------------------------ secrets
 * A process-wide store of secrets by id, filled from --object
 * secret,id=ID,data=...|file=PATH and from a config file's `secrets` list.
 * Secrets are bytes, not text: any byte value, any length.  The data lives in
 * libgcrypt's secure memory when available and is wiped when removed.
 */
STRATA_EXPORT int strata_secret_add(const char *id, const void *data, size_t len,
                                    struct strata_error **errp);
STRATA_EXPORT int strata_secret_add_file(const char *id, const char *path,
                                         struct strata_error **errp);
/* Parses "id=ID,data=TEXT" / "id=ID,file=PATH" (format=raw|base64 optional). */
STRATA_EXPORT int strata_secret_add_opts(const struct strata_opts *o,
                                         struct strata_error **errp);
/* Copies the secret into a fresh secure buffer that the caller releases with
 * strata_secret_free().  -ENOENT with "No secret with id 'X'" when absent. */
STRATA_EXPORT int strata_secret_get(const char *id, uint8_t **data, size_t *len,
                                    struct strata_error **errp);
STRATA_EXPORT void strata_secret_free(uint8_t *data, size_t len);
STRATA_EXPORT void strata_secret_remove(const char *id);
STRATA_EXPORT void strata_secret_clear_all(void);

/* Secure memory for key material (libgcrypt's secure heap if available). */
STRATA_EXPORT void *strata_secure_alloc(size_t len);
STRATA_EXPORT void strata_secure_free(void *p, size_t len);
STRATA_EXPORT void strata_wipe(void *p, size_t len);

/* ------------------------------------------------------------------ output
 * Structured information (info, check, map, format-specific data) is built
 * as a small tree and rendered by the tools as JSON or as qemu-img-like text.
 */
struct strata_info;

STRATA_EXPORT struct strata_info *strata_info_new_object(void);
STRATA_EXPORT void strata_info_free(struct strata_info *i);
STRATA_EXPORT void strata_info_add_str(struct strata_info *obj, const char *key,
                                       const char *val);
STRATA_EXPORT void strata_info_add_int(struct strata_info *obj, const char *key,
                                       int64_t val);
STRATA_EXPORT void strata_info_add_uint(struct strata_info *obj, const char *key,
                                        uint64_t val);
STRATA_EXPORT void strata_info_add_bool(struct strata_info *obj, const char *key,
                                        bool val);
/* Returns the new child object/list (owned by the parent). key is ignored
 * when the parent is a list. */
STRATA_EXPORT struct strata_info *strata_info_add_object(struct strata_info *parent,
                                                         const char *key);
STRATA_EXPORT struct strata_info *strata_info_add_list(struct strata_info *parent,
                                                       const char *key);
STRATA_EXPORT const struct strata_info *strata_info_get(const struct strata_info *obj,
                                                        const char *key);
/* The i-th member of an object or list (in order), NULL past the end. */
STRATA_EXPORT const struct strata_info *strata_info_at(const struct strata_info *obj,
                                                       size_t i);
/* Typed reads of an object's members: false (out untouched) when the key is
 * absent or holds another type.  get_int accepts unsigned values that fit. */
STRATA_EXPORT bool strata_info_get_int(const struct strata_info *obj, const char *key,
                                       int64_t *out);
STRATA_EXPORT bool strata_info_get_bool(const struct strata_info *obj, const char *key,
                                        bool *out);
STRATA_EXPORT const char *strata_info_get_str(const struct strata_info *obj,
                                              const char *key);
/* Detaches a member of an object and returns it as a root the caller owns
 * (NULL if there was none). */
STRATA_EXPORT struct strata_info *strata_info_take(struct strata_info *obj,
                                                   const char *key);
/* Removes a member of an object; false if there was none. */
STRATA_EXPORT bool strata_info_remove(struct strata_info *obj, const char *key);
/* Moves a root (from strata_info_new_object() or strata_info_take()) into
 * parent under key; parent owns it afterwards. */
STRATA_EXPORT int strata_info_attach(struct strata_info *parent, const char *key,
                                     struct strata_info *child);
/* Renders as JSON (pretty, 4-space indent like qemu-img) into a malloc'ed
 * string. */
STRATA_EXPORT char *strata_info_to_json(const struct strata_info *i);
/* Renders as indented "key: value" text, qemu-img's human format for
 * format-specific information.  `indent` is the starting indentation. */
STRATA_EXPORT char *strata_info_to_text(const struct strata_info *i, int indent);

#ifdef __cplusplus
}
#endif
#endif
