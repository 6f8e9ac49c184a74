/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-luks-header.c - the LUKS1 header as the specification (on-disk
 * format 1.2.3) lays it out, and the refusal of corrupt headers: each a
 * clear error, with the file left byte for byte as it was. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <strata/encryption.h>
#include <strata/strata.h>
#include "hostfile.h"
#include "testutil.h"

#define PASS "correct horse battery"
#define IMG_SIZE (1024 * 1024)

static int init_suite(void)
{
    struct strata_error *err = NULL;
    if (strata_secret_add("good", PASS, strlen(PASS), &err) < 0 ||
        strata_secret_add("bad", "wrong", 5, &err) < 0) {
        fprintf(stderr, "%s\n", err ? err->msg : "secret");
        return -1;
    }
    return 0;
}

/* A fresh volume: aes-128 cbc essiv:sha256, sha1, 1 MiB payload. */
static const char *make_image(const char *name)
{
    const char *path = tu_path(name);
    unlink(path);
    struct strata_opts *o = strata_opts_new();
    strata_opts_set(o, "key-secret", "good");
    strata_opts_set(o, "cipher-alg", "aes-128");
    strata_opts_set(o, "cipher-mode", "cbc");
    strata_opts_set(o, "ivgen-alg", "essiv");
    strata_opts_set(o, "ivgen-hash-alg", "sha256");
    strata_opts_set(o, "hash-alg", "sha1");
    strata_opts_set(o, "iter-time", "10");
    struct strata_error *err = NULL;
    int r = strata_image_create("luks", path, IMG_SIZE, o, &err);
    if (r < 0)
        fprintf(stderr, "create: %s\n", err->msg);
    CU_ASSERT_FATAL(r == 0);
    strata_opts_free(o);
    return path;
}

static void patch32(const char *path, off_t off, uint32_t v)
{
    uint8_t b[4];
    tu_put_be(b, 4, v);
    tu_patch(path, off, b, 4);
}

static int open_luks(const char *path, const char *secret, unsigned flags,
                     struct strata_node **n, struct strata_error **err)
{
    char spec[512];
    if (secret)
        snprintf(spec, sizeof spec, "driver=luks,key-secret=%s,file.filename=%s", secret,
                 path);
    else
        snprintf(spec, sizeof spec, "driver=luks,file.filename=%s", path);
    return strata_open_string(spec, flags, n, err);
}

/* ------------------------------------------------------------ layout */

static void test_layout(void)
{
    const char *path = make_image("layout.img");
    size_t len;
    uint8_t *b = tu_load(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    static const uint8_t magic[6] = { 'L', 'U', 'K', 'S', 0xba, 0xbe };

    CU_ASSERT_EQUAL(memcmp(b, magic, 6), 0);
    CU_ASSERT_EQUAL(b[6], 0);
    CU_ASSERT_EQUAL(b[7], 1);
    CU_ASSERT_STRING_EQUAL((char *)b + 8, "aes");
    CU_ASSERT_STRING_EQUAL((char *)b + 40, "cbc-essiv:sha256");
    CU_ASSERT_STRING_EQUAL((char *)b + 72, "sha1");
    /* 16-byte key: 64000 bytes of material per slot, 4 KiB aligned -> 128
     * sectors per slot; slots from sector 8; end 8 + 8 * 128 = 1032, and the
     * payload on the next 1 MiB boundary (sector 2048), as cryptsetup. */
    CU_ASSERT_EQUAL(tu_get_be(b + 104, 4), 2048);
    CU_ASSERT_EQUAL(tu_get_be(b + 108, 4), 16);
    CU_ASSERT(tu_get_be(b + 164, 4) >= 1000);
    CU_ASSERT_EQUAL(strlen((char *)b + 168), 36);
    CU_ASSERT_EQUAL(b[168 + 14], '4');      /* random (version 4) uuid */
    for (unsigned i = 0; i < 8; i++) {
        const uint8_t *s = b + 208 + 48 * i;
        CU_ASSERT_EQUAL(tu_get_be(s, 4), i == 0 ? 0x00AC71F3u : 0x0000DEADu);
        if (i == 0)
            CU_ASSERT(tu_get_be(s + 4, 4) >= 1000);
        CU_ASSERT_EQUAL(tu_get_be(s + 40, 4), 8 + 128 * i);
        CU_ASSERT_EQUAL(tu_get_be(s + 44, 4), 4000);
    }
    /* The user's size is the payload: the header comes on top. */
    CU_ASSERT_EQUAL(len, 2048 * 512 + IMG_SIZE);
    free(b);

    struct strata_node *n;
    struct strata_error *err = NULL;
    CU_ASSERT_FATAL(open_luks(path, "good", STRATA_O_RDWR, &n, &err) == 0);
    CU_ASSERT_EQUAL(strata_get_length(n), IMG_SIZE);
    strata_close(n);
}

/* ------------------------------------------------------------ data */

static void test_roundtrip_and_ciphertext(void)
{
    const char *path = make_image("data.img");
    struct strata_node *n;
    struct strata_error *err = NULL;
    CU_ASSERT_FATAL(open_luks(path, "good", STRATA_O_RDWR, &n, &err) == 0);
    size_t len = IMG_SIZE;
    uint8_t *w = malloc(len), *copy = malloc(len), *r = malloc(len);
    tu_fill(w, 0, len, 7);
    memcpy(copy, w, len);
    CU_ASSERT_EQUAL(strata_pwrite(n, 0, len, w, 0, &err), 0);
    /* The caller's buffer still holds plaintext. */
    CU_ASSERT_EQUAL(memcmp(w, copy, len), 0);
    /* Unaligned access goes through the core's read-modify-write. */
    tu_fill(w, 1000, 3000, 9);
    CU_ASSERT_EQUAL(strata_pwrite(n, 1000, 3000, w, 0, &err), 0);
    CU_ASSERT_EQUAL(strata_pread(n, 0, len, r, 0, &err), 0);
    CU_ASSERT_EQUAL(tu_check(r, 0, 1000, 7), -1);
    CU_ASSERT_EQUAL(tu_check(r + 1000, 1000, 3000, 9), -1);
    CU_ASSERT_EQUAL(tu_check(r + 4000, 4000, len - 4000, 7), -1);
    strata_close(n);

    /* On disk the payload is not the plaintext. */
    size_t flen;
    uint8_t *disk = tu_load(path, &flen);
    CU_ASSERT_PTR_NOT_NULL_FATAL(disk);
    CU_ASSERT_NOT_EQUAL(memcmp(disk + 2048 * 512 + 8192, copy + 8192, 512), 0);
    free(disk);
    free(w);
    free(copy);
    free(r);
}

/* ------------------------------------------------------------ refusals */

struct corruption {
    const char *what;
    off_t off;          /* -1: special */
    uint32_t value;
    const char *expect; /* substring of the message */
};

static void expect_refused(const char *path, const char *expect, const char *what)
{
    size_t len0, len1;
    uint8_t *before = tu_load(path, &len0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(before);
    struct strata_node *n = NULL;
    struct strata_error *err = NULL;
    int r = open_luks(path, "good", STRATA_O_RDWR, &n, &err);
    CU_ASSERT(r < 0);
    if (r == 0) {
        fprintf(stderr, "%s: corrupt header accepted\n", what);
        strata_close(n);
    } else {
        CU_ASSERT_PTR_NOT_NULL(err);
        if (err && !strstr(err->msg, expect)) {
            fprintf(stderr, "%s: message '%s' lacks '%s'\n", what, err->msg, expect);
            CU_FAIL("wrong message");
        }
        if (err && !strstr(err->msg, path)) {
            fprintf(stderr, "%s: message '%s' does not name the file\n", what, err->msg);
            CU_FAIL("message without file name");
        }
    }
    strata_error_free(err);
    /* And info (no key) refuses it the same way. */
    err = NULL;
    r = open_luks(path, NULL, STRATA_O_RDWR | STRATA_O_NO_IO, &n, &err);
    CU_ASSERT(r < 0);
    if (r == 0)
        strata_close(n);
    strata_error_free(err);
    uint8_t *after = tu_load(path, &len1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(after);
    CU_ASSERT_EQUAL(len0, len1);
    if (len0 == len1 && memcmp(before, after, len0) != 0) {
        fprintf(stderr, "%s: the file changed\n", what);
        CU_FAIL("refused open wrote to the file");
    }
    free(before);
    free(after);
}

static void test_corrupt_headers(void)
{
    static const struct corruption cases[] = {
        { "zero master key iterations", 164, 0, "zero master key digest iterations" },
        { "zero slot iterations", 208 + 4, 0, "zero iterations" },
        { "huge master key iterations", 164, 0xffffffff,
          "master key digest iterations 4294967295 exceed the limit of 100000000" },
        { "huge slot iterations", 208 + 4, 100000001,
          "key slot 0 iterations 100000001 exceed the limit of 100000000" },
        { "stripes 0", 208 + 44, 0, "stripes" },
        { "stripes 3999 in an inactive slot", 208 + 48 * 3 + 44, 3999, "stripes" },
        { "slot 1 on slot 0", 208 + 48 + 40, 8, "overlap" },
        { "slot 7 inside the header", 208 + 48 * 7 + 40, 0, "overlaps the header" },
        { "payload inside the header", 104, 1, "inside the header" },
        { "key material over the payload", 104, 1000, "overlaps the payload" },
        { "payload past the end of the file", 104, 100000, "too small" },
        { "key size 0", 108, 0, "invalid key size" },
        { "key size 100", 108, 100, "invalid key size" },
        { "key size 20 for aes", 108, 20, "unusable cipher" },
        { "slot state garbage", 208 + 48 * 2, 0x12345678, "invalid state" },
        { "slot material far past the payload", 208 + 48 * 5 + 40, 3000000, "overlaps the payload" },
        { "version 2 label", 4, 0x0002ffff, "magic" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = make_image("corrupt.img");
        if (cases[i].off == 4) {
            uint8_t v2[4] = { 0xba, 0xbe, 0, 2 };
            tu_patch(path, 4, v2, 4);
        } else {
            patch32(path, cases[i].off, cases[i].value);
        }
        expect_refused(path, strcmp(cases[i].what, "version 2 label") == 0
                                 ? "version 2" : cases[i].expect, cases[i].what);
    }
}

static void test_corrupt_strings(void)
{
    const char *path = make_image("strings.img");
    uint8_t a[32];
    memset(a, 'a', sizeof a);
    tu_patch(path, 8, a, sizeof a);            /* cipher name without NUL */
    expect_refused(path, "not NUL-terminated", "unterminated cipher name");

    path = make_image("strings.img");
    tu_patch(path, 72, a, sizeof a);           /* hash spec without NUL */
    expect_refused(path, "not NUL-terminated", "unterminated hash");

    path = make_image("strings.img");
    uint8_t uu[40];
    memset(uu, '1', sizeof uu);
    tu_patch(path, 168, uu, sizeof uu);
    expect_refused(path, "not NUL-terminated", "unterminated uuid");

    path = make_image("strings.img");
    tu_patch(path, 8, "nosuchcipher\0", 13);
    expect_refused(path, "unusable cipher", "unknown cipher");

    path = make_image("strings.img");
    tu_patch(path, 72, "sha999\0", 7);
    expect_refused(path, "unusable hash", "unknown hash");

    path = make_image("strings.img");
    tu_patch(path, 40, "gcm-plain64\0", 12);
    expect_refused(path, "gcm", "unknown mode");
}

static void test_small_device(void)
{
    const char *path = make_image("small.img");
    CU_ASSERT_FATAL(truncate(path, 400 * 1024) == 0);
    expect_refused(path, "past the end", "device shorter than the key material");
    path = make_image("small.img");
    CU_ASSERT_FATAL(truncate(path, 2048 * 512 - 512) == 0);
    expect_refused(path, "too small", "device shorter than the payload offset");
}

/* ------------------------------------------------------------ keys */

static void test_wrong_passphrase(void)
{
    const char *path = make_image("wrong.img");
    size_t l0, l1;
    uint8_t *before = tu_load(path, &l0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(before);
    struct strata_node *n;
    struct strata_error *err = NULL;
    CU_ASSERT(open_luks(path, "bad", STRATA_O_RDWR, &n, &err) == -EACCES);
    CU_ASSERT(err && strstr(err->msg, "Invalid password, cannot unlock any keyslot"));
    strata_error_free(err);
    err = NULL;
    CU_ASSERT(open_luks(path, "nosuch", 0, &n, &err) < 0);
    CU_ASSERT(err && strstr(err->msg, "nosuch"));
    strata_error_free(err);
    err = NULL;
    CU_ASSERT(open_luks(path, NULL, 0, &n, &err) < 0);
    CU_ASSERT(err && strstr(err->msg, "key-secret"));
    strata_error_free(err);
    uint8_t *after = tu_load(path, &l1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(after);
    CU_ASSERT(l0 == l1 && memcmp(before, after, l0) == 0);
    free(before);
    free(after);
}

/* The format API over a buffer in memory, as qcow2 uses it over clusters. */
struct mem {
    uint8_t *buf;
    size_t len;
    int init_calls;
};

static int mem_read(void *o, uint64_t off, void *buf, size_t len, struct strata_error **errp)
{
    struct mem *m = o;
    if (off + len > m->len)
        return strata_error_set(errp, EIO, "read past the region");
    memcpy(buf, m->buf + off, len);
    return 0;
}

static int mem_write(void *o, uint64_t off, const void *buf, size_t len,
                     struct strata_error **errp)
{
    struct mem *m = o;
    if (off + len > m->len)
        return strata_error_set(errp, EIO, "write past the region");
    memcpy(m->buf + off, buf, len);
    return 0;
}

static int mem_init(void *o, uint64_t len, struct strata_error **errp)
{
    struct mem *m = o;
    m->init_calls++;
    m->buf = calloc(1, len);
    m->len = len;
    return m->buf ? 0 : -ENOMEM;
}

static int slot_count(const struct strata_crypto_format *f, struct strata_crypto_ctx *ctx)
{
    struct strata_info *i = strata_info_new_object();
    CU_ASSERT_EQUAL(f->get_info(ctx, i, NULL), 0);
    char *json = strata_info_to_json(i);
    int n = 0;
    for (const char *p = json; (p = strstr(p, "\"active\": true")); p++)
        n++;
    free(json);
    strata_info_free(i);
    return n;
}

static int amend(const struct strata_crypto_format *f, struct strata_crypto_ctx *ctx,
                 const char *text, bool force, struct strata_error **err)
{
    struct strata_opts *o = strata_opts_new();
    CU_ASSERT_FATAL(strata_opts_parse(o, text, NULL, NULL) == 0);
    int r = f->amend(ctx, o, force, err);
    strata_opts_free(o);
    return r;
}

static int reopen(const struct strata_crypto_format *f, struct strata_crypto_hdr_io *io,
                  const char *secret)
{
    struct strata_opts *o = strata_opts_new();
    strata_opts_set(o, "key-secret", secret);
    struct strata_crypto_ctx *c = NULL;
    int r = f->open(io, o, 0, &c, NULL);
    f->close(c);
    strata_opts_free(o);
    return r;
}

static void test_format_api_keys(void)
{
    struct strata_error *err = NULL;
    const struct strata_crypto_format *f = strata_crypto_format_find("luks", &err);
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_EQUAL(strata_secret_add("k2", "second", 6, NULL), 0);
    static const uint8_t bin[] = { 0, 0xff, 0xfe, 0x80, 0, 'x', 0xc3 };
    CU_ASSERT_EQUAL(strata_secret_add("kbin", bin, sizeof bin, NULL), 0);

    struct mem m = { 0 };
    struct strata_crypto_hdr_io io = { .opaque = &m, .read = mem_read, .write = mem_write,
                                       .init = mem_init, .name = "mem" };
    struct strata_opts *o = strata_opts_new();
    strata_opts_set(o, "key-secret", "good");
    strata_opts_set(o, "iter-time", "10");
    struct strata_crypto_create_params cp = { .payload_align = 4096 };
    uint64_t need;
    CU_ASSERT_EQUAL(f->header_size(o, &cp, &need, NULL), 0);
    /* QEMU's compact layout for a 64-byte key: 8 + 8 * 504 sectors. */
    CU_ASSERT_EQUAL(need, 4040 * 512);
    struct strata_crypto_ctx *ctx = NULL;
    CU_ASSERT_FATAL(f->create(&io, o, &cp, &ctx, &err) == 0);
    strata_opts_free(o);
    CU_ASSERT_EQUAL(m.init_calls, 1);
    CU_ASSERT_EQUAL(m.len, need);
    struct strata_cipher *c;
    uint64_t poff;
    uint32_t ss;
    f->get_cipher(ctx, &c, &poff, &ss);
    CU_ASSERT_PTR_NOT_NULL(c);
    CU_ASSERT_EQUAL(poff, 4040 * 512);
    CU_ASSERT_EQUAL(ss, 512);
    CU_ASSERT_EQUAL(f->header_length(ctx), 4040 * 512);
    io.init = NULL;
    io.size = m.len;

    CU_ASSERT_EQUAL(amend(f, ctx, "state=active,new-secret=kbin,iter-time=10", false, NULL), 0);
    CU_ASSERT_EQUAL(slot_count(f, ctx), 2);
    CU_ASSERT_EQUAL(reopen(f, &io, "kbin"), 0);
    CU_ASSERT_EQUAL(reopen(f, &io, "bad"), -EACCES);
    /* Change: k2 replaces the binary key; the old one stops working. */
    CU_ASSERT_EQUAL(amend(f, ctx, "state=active,old-secret=kbin,new-secret=k2,replace=on,"
                                  "iter-time=10", false, NULL), 0);
    CU_ASSERT_EQUAL(slot_count(f, ctx), 2);
    CU_ASSERT_EQUAL(reopen(f, &io, "k2"), 0);
    CU_ASSERT_EQUAL(reopen(f, &io, "kbin"), -EACCES);
    /* Remove by passphrase, then the last one is protected. */
    CU_ASSERT_EQUAL(amend(f, ctx, "state=inactive,old-secret=good", false, NULL), 0);
    CU_ASSERT_EQUAL(reopen(f, &io, "good"), -EACCES);
    err = NULL;
    CU_ASSERT(amend(f, ctx, "state=inactive,old-secret=k2", false, &err) < 0);
    CU_ASSERT(err && strstr(err->msg, "All the active keyslots match the (old) password"));
    strata_error_free(err);
    CU_ASSERT_EQUAL(slot_count(f, ctx), 1);
    CU_ASSERT_EQUAL(reopen(f, &io, "k2"), 0);
    /* All eight slots in use: a ninth key is refused. */
    for (int i = 0; i < 7; i++)
        CU_ASSERT_EQUAL(amend(f, ctx, "state=active,new-secret=good,iter-time=1", false,
                              NULL), 0);
    err = NULL;
    CU_ASSERT(amend(f, ctx, "state=active,new-secret=good,iter-time=1", false, &err) < 0);
    CU_ASSERT(err && strstr(err->msg, "all keyslots are in use"));
    strata_error_free(err);

    /* Erase: nothing opens any more, and the magic is gone. */
    struct strata_info *rep = strata_info_new_object();
    CU_ASSERT_EQUAL(f->erase(ctx, rep, NULL), 0);
    strata_info_free(rep);
    f->close(ctx);
    CU_ASSERT(reopen(f, &io, "k2") < 0);
    CU_ASSERT_NOT_EQUAL(memcmp(m.buf, "LUKS", 4), 0);
    free(m.buf);
}

static void test_no_active_slot(void)
{
    const char *path = make_image("noslot.img");
    patch32(path, 208, 0x0000DEADu);
    struct strata_node *n;
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(open_luks(path, NULL, STRATA_O_NO_IO, &n, &err), 0);
    if (!err)
        strata_close(n);
    strata_error_free(err);
    err = NULL;
    CU_ASSERT(open_luks(path, "good", 0, &n, &err) < 0);
    CU_ASSERT(err && strstr(err->msg, "Invalid password, cannot unlock any keyslot"));
    strata_error_free(err);
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "header layout per the specification", test_layout },
        { "round trip, plaintext buffer kept", test_roundtrip_and_ciphertext },
        { "corrupt numeric fields refused, file unchanged", test_corrupt_headers },
        { "corrupt strings refused, file unchanged", test_corrupt_strings },
        { "device too small refused", test_small_device },
        { "wrong and missing passphrase", test_wrong_passphrase },
        { "key management through the format API", test_format_api_keys },
        { "header without an active slot", test_no_active_slot },
        { NULL, NULL },
    };
    tu_add_suite("luks-header", init_suite, NULL, tests);
    return tu_run();
}
