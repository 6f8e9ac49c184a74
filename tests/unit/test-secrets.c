/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-secrets.c - the secret store and secure memory. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <strata/common.h>
#include "testutil.h"

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(write(fd, data, len) == (ssize_t)len);
    close(fd);
}

/* Asserts that secret `id` holds exactly len bytes equal to data. */
static void expect_secret(const char *id, const void *data, size_t len)
{
    uint8_t *got = NULL;
    size_t got_len = 12345;
    struct strata_error *err = NULL;
    int ret = strata_secret_get(id, &got, &got_len, &err);
    CU_ASSERT_EQUAL(ret, 0);
    if (err) {
        fprintf(stderr, "secret '%s': %s\n", id, err->msg);
        strata_error_free(err);
        return;
    }
    CU_ASSERT_EQUAL(got_len, len);
    if (got_len == len)
        CU_ASSERT_EQUAL(memcmp(got, data, len), 0);
    strata_secret_free(got, got_len);
}

static void expect_missing(const char *id)
{
    uint8_t *got = NULL;
    size_t len = 0;
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_secret_get(id, &got, &len, &err), -ENOENT);
    CU_ASSERT_PTR_NULL(got);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    char expected[128];
    snprintf(expected, sizeof expected, "No secret with id '%s'", id);
    CU_ASSERT_STRING_EQUAL(err->msg, expected);
    CU_ASSERT_EQUAL(err->code, ENOENT);
    strata_error_free(err);
}

static void test_add_get(void)
{
    static const uint8_t bin[] = { 0x00, 'a', 0xff, 0x00, '\n', 0x80 };
    CU_ASSERT_EQUAL(strata_secret_add("bin", bin, sizeof bin, NULL), 0);
    expect_secret("bin", bin, sizeof bin);
    CU_ASSERT_EQUAL(strata_secret_add("empty", "", 0, NULL), 0);
    expect_secret("empty", "", 0);
    /* adding again replaces */
    CU_ASSERT_EQUAL(strata_secret_add("bin", "new", 3, NULL), 0);
    expect_secret("bin", "new", 3);
    expect_missing("nope");

    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_secret_add("", "x", 1, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(err);
    strata_error_free(err);

    strata_secret_remove("bin");
    expect_missing("bin");
    expect_secret("empty", "", 0);
    strata_secret_remove("bin");      /* removing twice is harmless */
    strata_secret_add("a", "1", 1, NULL);
    strata_secret_clear_all();
    expect_missing("a");
    expect_missing("empty");
    /* the store works again after clearing */
    CU_ASSERT_EQUAL(strata_secret_add("a", "2", 1, NULL), 0);
    expect_secret("a", "2", 1);
    strata_secret_clear_all();
}

static void test_file(void)
{
    /* Key files are bytes: NUL, 0xff and a final newline all belong to the
     * key, as with cryptsetup --key-file. */
    uint8_t bin[300];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)(255 - i);
    bin[7] = 0;
    bin[299] = '\n';
    write_file(tu_path("key.bin"), bin, sizeof bin);
    CU_ASSERT_EQUAL(strata_secret_add_file("k", tu_path("key.bin"), NULL), 0);
    expect_secret("k", bin, sizeof bin);

    write_file(tu_path("pass.txt"), "hunter2\n", 8);
    CU_ASSERT_EQUAL(strata_secret_add_file("p", tu_path("pass.txt"), NULL), 0);
    expect_secret("p", "hunter2\n", 8);

    /* larger than one read buffer */
    size_t big_len = 100000;
    uint8_t *big = malloc(big_len);
    tu_fill(big, 0, big_len, 7);
    write_file(tu_path("big.key"), big, big_len);
    CU_ASSERT_EQUAL(strata_secret_add_file("big", tu_path("big.key"), NULL), 0);
    expect_secret("big", big, big_len);
    free(big);

    struct strata_error *err = NULL;
    const char *missing = tu_path("does-not-exist");
    CU_ASSERT_EQUAL(strata_secret_add_file("m", missing, &err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, missing));
    strata_error_free(err);
    expect_missing("m");
    strata_secret_clear_all();
}

static int add_opts(const char *text, char *msg, size_t msglen)
{
    struct strata_opts *o = strata_opts_new();
    struct strata_error *err = NULL;
    int ret = strata_opts_parse(o, text, "qom-type", &err);
    CU_ASSERT_EQUAL_FATAL(ret, 0);
    ret = strata_secret_add_opts(o, &err);
    if (msg)
        snprintf(msg, msglen, "%s", err ? err->msg : "");
    CU_ASSERT_EQUAL(ret < 0, err != NULL);
    strata_error_free(err);
    strata_opts_free(o);
    return ret;
}

static void test_opts(void)
{
    char msg[256];
    CU_ASSERT_EQUAL(add_opts("secret,id=s0,data=letmein", NULL, 0), 0);
    expect_secret("s0", "letmein", 7);
    /* ",," is a comma inside data */
    CU_ASSERT_EQUAL(add_opts("id=s1,data=a,,b", NULL, 0), 0);
    expect_secret("s1", "a,b", 3);
    CU_ASSERT_EQUAL(add_opts("id=s2,data=cGFzc3dvcmQ=,format=base64", NULL, 0), 0);
    expect_secret("s2", "password", 8);
    CU_ASSERT_EQUAL(add_opts("id=s3,data=x,format=raw", NULL, 0), 0);
    expect_secret("s3", "x", 1);

    static const uint8_t bin[] = { 0xff, 0x00, 0xfe, '\r', '\n' };
    write_file(tu_path("opt.key"), bin, sizeof bin);
    char text[512];
    snprintf(text, sizeof text, "secret,id=f0,file=%s", tu_path("opt.key"));
    CU_ASSERT_EQUAL(add_opts(text, NULL, 0), 0);
    expect_secret("f0", bin, sizeof bin);
    /* base64 in a file, with the newline an editor leaves */
    write_file(tu_path("b64.key"), "AP8A\n", 5);
    snprintf(text, sizeof text, "id=f1,file=%s,format=base64", tu_path("b64.key"));
    CU_ASSERT_EQUAL(add_opts(text, NULL, 0), 0);
    expect_secret("f1", "\x00\xff\x00", 3);

    CU_ASSERT_EQUAL(add_opts("secret,data=x", msg, sizeof msg), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "'id'"));
    CU_ASSERT_EQUAL(add_opts("id=e1", msg, sizeof msg), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "e1"));
    CU_ASSERT_EQUAL(add_opts("id=e2,data=x,file=/dev/null", msg, sizeof msg), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "e2"));
    CU_ASSERT_EQUAL(add_opts("id=e3,data=x,format=hex", msg, sizeof msg), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "'hex'"));
    CU_ASSERT_EQUAL(add_opts("id=e4,data=x,keyid=k", msg, sizeof msg), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "'keyid'"));
    CU_ASSERT_EQUAL(add_opts("id=e5,data=*notbase64*,format=base64", msg, sizeof msg),
                    -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "base64"));
    snprintf(text, sizeof text, "id=e6,file=%s", tu_path("nothing-here"));
    CU_ASSERT_EQUAL(add_opts(text, msg, sizeof msg), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, tu_path("nothing-here")));
    for (int i = 1; i <= 6; i++) {
        char id[16];
        snprintf(id, sizeof id, "e%d", i);
        expect_missing(id);
    }
    strata_secret_clear_all();
}

/* RFC 4648 section 10 test vectors, plus malformed input. */
static void test_base64(void)
{
    static const char *const vec[][2] = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
    };
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "id=v,format=base64,data=%s", vec[i][1]);
        CU_ASSERT_EQUAL(add_opts(text, NULL, 0), 0);
        expect_secret("v", vec[i][0], strlen(vec[i][0]));
    }
    static const char *const bad[] = { "Zg", "Zg=", "Z===", "Zm9v=", "Zg==Zg==", "Zm9!", "Z" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "id=bad,format=base64,data=%s", bad[i]);
        CU_ASSERT_EQUAL(add_opts(text, NULL, 0), -EINVAL);
    }
    expect_missing("bad");
    strata_secret_clear_all();
}

static void test_secure_memory(void)
{
    uint8_t *p = strata_secure_alloc(64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    for (size_t i = 0; i < 64; i++)
        CU_ASSERT_EQUAL(p[i], 0);
    memset(p, 0xa5, 64);
    strata_wipe(p + 8, 16);
    for (size_t i = 0; i < 64; i++)
        CU_ASSERT_EQUAL(p[i], (i >= 8 && i < 24) ? 0 : 0xa5);
    strata_secure_free(p, 64);
    strata_secure_free(NULL, 0);
    void *z = strata_secure_alloc(0);
    CU_ASSERT_PTR_NOT_NULL(z);
    strata_secure_free(z, 0);
}

static void *hammer(void *arg)
{
    char id[32];
    snprintf(id, sizeof id, "t%d", (int)(intptr_t)arg);
    for (int i = 0; i < 300; i++) {
        uint8_t v[4] = { (uint8_t)i, (uint8_t)(intptr_t)arg, 0, 0xff };
        if (strata_secret_add(id, v, sizeof v, NULL) < 0)
            return (void *)1;
        uint8_t *got;
        size_t len;
        if (strata_secret_get(id, &got, &len, NULL) < 0)
            return (void *)1;
        bool ok = len == 4 && memcmp(got, v, 4) == 0;
        strata_secret_free(got, len);
        if (!ok)
            return (void *)1;
        if (i % 3 == 0)
            strata_secret_remove(id);
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, hammer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(t[i], &r);
        CU_ASSERT_PTR_NULL(r);
    }
    strata_secret_clear_all();
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "add, get, replace, remove", test_add_get },
        { "files are bytes", test_file },
        { "secret object options", test_opts },
        { "base64", test_base64 },
        { "secure memory", test_secure_memory },
        { "concurrent use", test_threads },
        { NULL, NULL },
    };
    tu_add_suite("secrets", NULL, NULL, tests);
    return tu_run();
}
