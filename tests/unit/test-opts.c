/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-opts.c - option lists: qemu's dotted syntax, typed getters,
 * validation against descriptors, subset and merge. */
#include <errno.h>
#include <string.h>

#include <strata/common.h>
#include "testutil.h"

/* Parses text and returns the entries joined as "k=v|k=v|..." so that order
 * and content are checked at once. */
static const char *parse_join(const char *text, const char *implied)
{
    struct strata_opts *o = strata_opts_new();
    struct strata_error *err = NULL;
    int ret = strata_opts_parse(o, text, implied, &err);
    CU_ASSERT_EQUAL(ret, 0);
    CU_ASSERT_PTR_NULL(err);
    if (err) {
        fprintf(stderr, "parse '%s': %s\n", text, err->msg);
        strata_error_free(err);
    }
    const char *joined = tu_opts_join(o);
    strata_opts_free(o);
    return joined;
}

/* Expects a parse error whose message contains `needle`. */
static void parse_fails(const char *text, const char *implied, const char *needle)
{
    struct strata_opts *o = strata_opts_new();
    struct strata_error *err = NULL;
    int ret = strata_opts_parse(o, text, implied, &err);
    CU_ASSERT_EQUAL(ret, -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(err);
    if (err) {
        CU_ASSERT_EQUAL(err->code, EINVAL);
        if (!strstr(err->msg, needle))
            fprintf(stderr, "parse '%s': message '%s' lacks '%s'\n", text, err->msg,
                    needle);
        CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, needle));
        strata_error_free(err);
    }
    strata_opts_free(o);
}

static void test_basic(void)
{
    struct strata_opts *o = strata_opts_new();
    CU_ASSERT_EQUAL(strata_opts_count(o), 0);
    CU_ASSERT_PTR_NULL(strata_opts_get(o, "driver"));
    CU_ASSERT_EQUAL(strata_opts_set(o, "driver", "qcow2"), 0);
    CU_ASSERT_EQUAL(strata_opts_set(o, "file.filename", "a.img"), 0);
    CU_ASSERT_EQUAL(strata_opts_setf(o, "size", "%d%s", 64, "M"), 0);
    CU_ASSERT_STRING_EQUAL(tu_opts_join(o), "driver=qcow2|file.filename=a.img|size=64M");
    /* setting again replaces in place, order kept */
    CU_ASSERT_EQUAL(strata_opts_set(o, "driver", "raw"), 0);
    CU_ASSERT_STRING_EQUAL(tu_opts_join(o), "driver=raw|file.filename=a.img|size=64M");
    CU_ASSERT_EQUAL(strata_opts_count(o), 3);
    CU_ASSERT_STRING_EQUAL(strata_opts_get(o, "file.filename"), "a.img");
    CU_ASSERT_TRUE(strata_opts_del(o, "file.filename"));
    CU_ASSERT_FALSE(strata_opts_del(o, "file.filename"));
    CU_ASSERT_STRING_EQUAL(tu_opts_join(o), "driver=raw|size=64M");
    CU_ASSERT_FALSE(strata_opts_entry(o, 2, NULL, NULL));

    struct strata_opts *d = strata_opts_dup(o);
    strata_opts_set(o, "driver", "changed");
    CU_ASSERT_STRING_EQUAL(tu_opts_join(d), "driver=raw|size=64M");
    strata_opts_free(d);
    strata_opts_free(o);
    strata_opts_free(NULL);
}

static void test_parse(void)
{
    CU_ASSERT_STRING_EQUAL(parse_join("driver=raw,file.filename=x.img", NULL),
                           "driver=raw|file.filename=x.img");
    CU_ASSERT_STRING_EQUAL(parse_join("", NULL), "");
    CU_ASSERT_STRING_EQUAL(parse_join("a=", NULL), "a=");
    CU_ASSERT_STRING_EQUAL(parse_join("a=1,", NULL), "a=1");
    CU_ASSERT_STRING_EQUAL(parse_join("a=x=y", NULL), "a=x=y");
    /* later settings of the same key win */
    CU_ASSERT_STRING_EQUAL(parse_join("a=1,b=2,a=3", NULL), "a=3|b=2");
    CU_ASSERT_STRING_EQUAL(
        parse_join("driver=qcow2,encrypt.key-secret=sec0,file.driver=file,"
                   "file.filename=disk.qcow2", NULL),
        "driver=qcow2|encrypt.key-secret=sec0|file.driver=file|file.filename=disk.qcow2");
}

static void test_parse_commas(void)
{
    CU_ASSERT_STRING_EQUAL(parse_join("file.filename=a,,b.img,driver=raw", NULL),
                           "file.filename=a,b.img|driver=raw");
    CU_ASSERT_STRING_EQUAL(parse_join("f=a,,,,b", NULL), "f=a,,b");
    CU_ASSERT_STRING_EQUAL(parse_join("f=,,", NULL), "f=,");
    CU_ASSERT_STRING_EQUAL(parse_join("f=x,,,g=y", NULL), "f=x,|g=y");
    CU_ASSERT_STRING_EQUAL(parse_join("f=,,,,,,", NULL), "f=,,,");
}

static void test_parse_implied(void)
{
    CU_ASSERT_STRING_EQUAL(parse_join("secret,id=s0,file=p", "qom-type"),
                           "qom-type=secret|id=s0|file=p");
    /* no bare word: nothing stored under the implied key */
    CU_ASSERT_STRING_EQUAL(parse_join("id=s0,data=x", "qom-type"), "id=s0|data=x");
    CU_ASSERT_STRING_EQUAL(parse_join("a,,b,c=d", "name"), "name=a,b|c=d");
    /* only the first word may be bare */
    parse_fails("secret,id=s0,loose", "qom-type", "'loose'");
}

static void test_parse_errors(void)
{
    parse_fails("driver", NULL, "'driver' has no value");
    parse_fails("driver=raw,readonly", NULL, "'readonly' has no value");
    parse_fails("=raw", NULL, "missing option name");
    parse_fails("a=1,=2", NULL, "missing option name");
    parse_fails(",a=1", NULL, "empty option");
    parse_fails("file..filename=x", NULL, "'file..filename'");
    parse_fails(".file=x", NULL, "'.file'");
    parse_fails("file.=x", NULL, "'file.'");

    /* errp may be NULL */
    struct strata_opts *o = strata_opts_new();
    CU_ASSERT_EQUAL(strata_opts_parse(o, "x", NULL, NULL), -EINVAL);
    strata_opts_free(o);
}

static void test_getters(void)
{
    struct strata_opts *o = strata_opts_new();
    strata_opts_parse(o, "t1=on,t2=true,t3=yes,t4=1,f1=off,f2=false,f3=no,f4=0,"
                      "T=ON,bad=maybe,n=123,h=0x1f,neg=-5,nh=-0x10,big=18446744073709551615,"
                      "over=18446744073709551616,s=1.5G,sh=64k,sbad=12Q,e=", NULL, NULL);
    struct strata_error *err = NULL;
    bool b;
    const char *trues[] = { "t1", "t2", "t3", "t4", "T" };
    const char *falses[] = { "f1", "f2", "f3", "f4" };
    for (size_t i = 0; i < 5; i++) {
        b = false;
        CU_ASSERT_EQUAL(strata_opts_get_bool(o, trues[i], &b, NULL), 0);
        CU_ASSERT_TRUE(b);
    }
    for (size_t i = 0; i < 4; i++) {
        b = true;
        CU_ASSERT_EQUAL(strata_opts_get_bool(o, falses[i], &b, NULL), 0);
        CU_ASSERT_FALSE(b);
    }
    /* missing key: untouched, success */
    b = true;
    CU_ASSERT_EQUAL(strata_opts_get_bool(o, "absent", &b, NULL), 0);
    CU_ASSERT_TRUE(b);
    CU_ASSERT_EQUAL(strata_opts_get_bool(o, "bad", &b, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    /* QEMU's message, which names the key and not the value. */
    CU_ASSERT_STRING_EQUAL(err->msg, "Parameter 'bad' expects 'on' or 'off'");
    strata_error_free(err);
    err = NULL;

    uint64_t u = 7;
    CU_ASSERT_EQUAL(strata_opts_get_u64(o, "n", &u, NULL), 0);
    CU_ASSERT_EQUAL(u, 123);
    CU_ASSERT_EQUAL(strata_opts_get_u64(o, "h", &u, NULL), 0);
    CU_ASSERT_EQUAL(u, 31);
    CU_ASSERT_EQUAL(strata_opts_get_u64(o, "big", &u, NULL), 0);
    CU_ASSERT_EQUAL(u, UINT64_MAX);
    u = 7;
    CU_ASSERT_EQUAL(strata_opts_get_u64(o, "absent", &u, NULL), 0);
    CU_ASSERT_EQUAL(u, 7);
    CU_ASSERT_EQUAL(strata_opts_get_u64(o, "neg", &u, NULL), -EINVAL);
    CU_ASSERT_EQUAL(strata_opts_get_u64(o, "s", &u, NULL), -EINVAL);
    CU_ASSERT_EQUAL(strata_opts_get_u64(o, "e", &u, NULL), -EINVAL);
    CU_ASSERT_EQUAL(strata_opts_get_u64(o, "over", &u, &err), -ERANGE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "'over'"));
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(u, 7);

    int64_t i = 0;
    CU_ASSERT_EQUAL(strata_opts_get_i64(o, "neg", &i, NULL), 0);
    CU_ASSERT_EQUAL(i, -5);
    CU_ASSERT_EQUAL(strata_opts_get_i64(o, "nh", &i, NULL), 0);
    CU_ASSERT_EQUAL(i, -16);
    CU_ASSERT_EQUAL(strata_opts_get_i64(o, "h", &i, NULL), 0);
    CU_ASSERT_EQUAL(i, 31);
    CU_ASSERT_EQUAL(strata_opts_get_i64(o, "big", &i, NULL), -ERANGE);
    CU_ASSERT_EQUAL(strata_opts_get_i64(o, "bad", &i, NULL), -EINVAL);

    u = 0;
    CU_ASSERT_EQUAL(strata_opts_get_size(o, "s", &u, NULL), 0);
    CU_ASSERT_EQUAL(u, 1610612736ull);
    CU_ASSERT_EQUAL(strata_opts_get_size(o, "sh", &u, NULL), 0);
    CU_ASSERT_EQUAL(u, 65536);
    CU_ASSERT_EQUAL(strata_opts_get_size(o, "n", &u, NULL), 0);
    CU_ASSERT_EQUAL(u, 123);
    CU_ASSERT_EQUAL(strata_opts_get_size(o, "sbad", &u, &err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "'sbad'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "'12Q'"));
    strata_error_free(err);
    strata_opts_free(o);
}

static const char *const cache_modes[] = { "none", "writeback", "writethrough", NULL };
static const struct strata_opt_desc descs[] = {
    { .name = "filename", .type = STRATA_OPT_STRING, .help = "file" },
    { .name = "offset", .type = STRATA_OPT_SIZE, .help = "start" },
    { .name = "count", .type = STRATA_OPT_NUMBER },
    { .name = "locking", .type = STRATA_OPT_BOOL },
    { .name = "cache", .type = STRATA_OPT_ENUM, .choices = cache_modes },
    { .name = "encrypt.key-secret", .type = STRATA_OPT_STRING },
    { NULL },
};
static const char *const roles[] = { "file", "backing", NULL };

/* Returns validate's result for text; message (if any) into msgbuf. */
static char msgbuf[512];
static int validate(const char *text)
{
    struct strata_opts *o = strata_opts_new();
    CU_ASSERT_EQUAL_FATAL(strata_opts_parse(o, text, NULL, NULL), 0);
    struct strata_error *err = NULL;
    int ret = strata_opts_validate(o, descs, roles, "raw", &err);
    msgbuf[0] = 0;
    if (err) {
        snprintf(msgbuf, sizeof msgbuf, "%s", err->msg);
        CU_ASSERT_EQUAL(err->code, -ret);
        strata_error_free(err);
    }
    CU_ASSERT_EQUAL(ret < 0, msgbuf[0] != 0);
    strata_opts_free(o);
    return ret;
}

static void test_validate(void)
{
    CU_ASSERT_EQUAL(validate("filename=a,offset=1M,count=0x10,locking=off,cache=none,"
                             "encrypt.key-secret=s"), 0);
    /* child options are the child's business */
    CU_ASSERT_EQUAL(validate("file.driver=file,file.anything=1,backing=null,"
                             "backing.x.y=z"), 0);

    CU_ASSERT_EQUAL(validate("foo=1"), -EINVAL);
    CU_ASSERT_STRING_EQUAL(msgbuf, "driver 'raw' does not support option 'foo'");
    /* a role name is only a prefix when followed by a dot */
    CU_ASSERT_EQUAL(validate("filex=1"), -EINVAL);
    CU_ASSERT_STRING_EQUAL(msgbuf, "driver 'raw' does not support option 'filex'");
    CU_ASSERT_EQUAL(validate("encrypt.format=luks"), -EINVAL);
    CU_ASSERT_STRING_EQUAL(msgbuf, "driver 'raw' does not support option 'encrypt.format'");

    CU_ASSERT_EQUAL(validate("offset=12Q"), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(msgbuf, "raw"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msgbuf, "'offset'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msgbuf, "'12Q'"));
    CU_ASSERT_EQUAL(validate("count=1k"), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(msgbuf, "'count'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msgbuf, "'1k'"));
    CU_ASSERT_EQUAL(validate("locking=perhaps"), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(msgbuf, "Parameter 'locking' expects 'on' or 'off'"));
    CU_ASSERT_EQUAL(validate("cache=directsync"), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(msgbuf, "'cache'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msgbuf, "'directsync'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msgbuf, "writeback"));
    CU_ASSERT_EQUAL(validate("count=99999999999999999999"), -ERANGE);
    CU_ASSERT_EQUAL(validate("offset=16E"), -ERANGE);

    /* no descriptors: every own key is unknown, child keys still pass */
    struct strata_opts *o = strata_opts_new();
    strata_opts_set(o, "file.filename", "x");
    CU_ASSERT_EQUAL(strata_opts_validate(o, NULL, roles, "null", NULL), 0);
    strata_opts_set(o, "size", "1");
    CU_ASSERT_EQUAL(strata_opts_validate(o, NULL, roles, "null", NULL), -EINVAL);
    strata_opts_free(o);
}

static void test_subset_merge(void)
{
    struct strata_opts *o = strata_opts_new();
    strata_opts_parse(o, "driver=qcow2,file.driver=file,file.filename=a.img,"
                      "filex=1,backing.file.filename=b.img,file=ref", NULL, NULL);
    struct strata_opts *f = strata_opts_subset(o, "file");
    CU_ASSERT_STRING_EQUAL(tu_opts_join(f), "driver=file|filename=a.img");
    struct strata_opts *b = strata_opts_subset(o, "backing");
    CU_ASSERT_STRING_EQUAL(tu_opts_join(b), "file.filename=b.img");
    struct strata_opts *bf = strata_opts_subset(b, "file");
    CU_ASSERT_STRING_EQUAL(tu_opts_join(bf), "filename=b.img");
    struct strata_opts *none = strata_opts_subset(o, "header");
    CU_ASSERT_EQUAL(strata_opts_count(none), 0);

    struct strata_opts *m = strata_opts_new();
    strata_opts_set(m, "driver", "luks");
    strata_opts_set(m, "file.filename", "old.img");
    CU_ASSERT_EQUAL(strata_opts_merge(m, f, "file"), 0);
    CU_ASSERT_STRING_EQUAL(tu_opts_join(m), "driver=luks|file.filename=a.img|file.driver=file");
    CU_ASSERT_EQUAL(strata_opts_merge(m, bf, NULL), 0);
    CU_ASSERT_STRING_EQUAL(tu_opts_join(m),
                           "driver=luks|file.filename=a.img|file.driver=file|filename=b.img");
    CU_ASSERT_EQUAL(strata_opts_merge(m, b, "image.backing"), 0);
    CU_ASSERT_STRING_EQUAL(strata_opts_get(m, "image.backing.file.filename"), "b.img");

    strata_opts_free(f);
    strata_opts_free(b);
    strata_opts_free(bf);
    strata_opts_free(none);
    strata_opts_free(m);
    strata_opts_free(o);
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "set/get/del/dup", test_basic },
        { "parse", test_parse },
        { "parse ,, escapes", test_parse_commas },
        { "parse implied key", test_parse_implied },
        { "parse errors", test_parse_errors },
        { "typed getters", test_getters },
        { "validate", test_validate },
        { "subset and merge", test_subset_merge },
        { NULL, NULL },
    };
    tu_add_suite("opts", NULL, NULL, tests);
    return tu_run();
}
