/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-size.c - size parsing and qemu-img style size printing.
 * Expected strings for strata_format_size were taken from `qemu-img info`
 * ("virtual size: ...") on raw images of those sizes (qemu-utils 7.2). */
#include <errno.h>
#include <string.h>

#include <strata/common.h>
#include "testutil.h"

static uint64_t parse_ok(const char *text)
{
    struct strata_error *err = NULL;
    uint64_t v = 0xdeadbeef;
    int ret = strata_parse_size(text, &v, &err);
    CU_ASSERT_EQUAL(ret, 0);
    CU_ASSERT_PTR_NULL(err);
    if (err) {
        fprintf(stderr, "unexpected error for '%s': %s\n", text, err->msg);
        strata_error_free(err);
    }
    return v;
}

static int parse_err(const char *text)
{
    struct strata_error *err = NULL;
    uint64_t v = 42;
    int ret = strata_parse_size(text, &v, &err);
    CU_ASSERT(ret < 0);
    CU_ASSERT_EQUAL(v, 42);          /* untouched on error */
    CU_ASSERT_PTR_NOT_NULL(err);
    if (err) {
        CU_ASSERT_EQUAL(err->code, -ret);
        CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, text));
        strata_error_free(err);
    }
    return ret;
}

static void test_plain(void)
{
    CU_ASSERT_EQUAL(parse_ok("0"), 0);
    CU_ASSERT_EQUAL(parse_ok("512"), 512);
    CU_ASSERT_EQUAL(parse_ok("1073741824"), 1073741824ull);
    CU_ASSERT_EQUAL(parse_ok("0x1000"), 4096);
    CU_ASSERT_EQUAL(parse_ok("0X10"), 16);
    CU_ASSERT_EQUAL(parse_ok("18446744073709551615"), UINT64_MAX);
    CU_ASSERT_EQUAL(parse_ok("512B"), 512);
}

static void test_suffixes(void)
{
    CU_ASSERT_EQUAL(parse_ok("1K"), 1024);
    CU_ASSERT_EQUAL(parse_ok("1k"), 1024);
    CU_ASSERT_EQUAL(parse_ok("64k"), 65536);
    CU_ASSERT_EQUAL(parse_ok("1M"), 1048576);
    CU_ASSERT_EQUAL(parse_ok("1G"), 1073741824ull);
    CU_ASSERT_EQUAL(parse_ok("1g"), 1073741824ull);
    CU_ASSERT_EQUAL(parse_ok("10G"), 10737418240ull);
    CU_ASSERT_EQUAL(parse_ok("1T"), 1099511627776ull);
    CU_ASSERT_EQUAL(parse_ok("1P"), 1125899906842624ull);
    CU_ASSERT_EQUAL(parse_ok("1E"), 1152921504606846976ull);
    CU_ASSERT_EQUAL(parse_ok("15E"), 17293822569102704640ull);
    CU_ASSERT_EQUAL(parse_ok("1GB"), 1073741824ull);
    CU_ASSERT_EQUAL(parse_ok("1GiB"), 1073741824ull);
    CU_ASSERT_EQUAL(parse_ok("2mib"), 2097152);
    CU_ASSERT_EQUAL(parse_ok("0x10K"), 16384);
}

static void test_decimals(void)
{
    CU_ASSERT_EQUAL(parse_ok("1.5G"), 1610612736ull);
    CU_ASSERT_EQUAL(parse_ok("0.5K"), 512);
    CU_ASSERT_EQUAL(parse_ok("1.25M"), 1310720);
    CU_ASSERT_EQUAL(parse_ok(".5M"), 524288);
    CU_ASSERT_EQUAL(parse_ok("2.0T"), 2199023255552ull);
    CU_ASSERT_EQUAL(parse_ok("15.5E"), 17870283321406128128ull);
}

static void test_errors(void)
{
    CU_ASSERT_EQUAL(parse_err(""), -EINVAL);
    CU_ASSERT_EQUAL(parse_err("abc"), -EINVAL);
    CU_ASSERT_EQUAL(parse_err("-1"), -EINVAL);
    CU_ASSERT_EQUAL(parse_err("1X"), -EINVAL);
    CU_ASSERT_EQUAL(parse_err("1GG"), -EINVAL);
    CU_ASSERT_EQUAL(parse_err("1 G"), -EINVAL);
    CU_ASSERT_EQUAL(parse_err(" 1G"), -EINVAL);
    CU_ASSERT_EQUAL(parse_err("1.5"), -EINVAL);    /* fraction of a byte */
    CU_ASSERT_EQUAL(parse_err("1.5b"), -EINVAL);
    CU_ASSERT_EQUAL(parse_ok("1024.0"), 1024u);    /* a whole number, as QEMU */
    CU_ASSERT_EQUAL(parse_ok("1024.0b"), 1024u);
    CU_ASSERT_EQUAL(parse_err("1.5B"), -EINVAL);
    CU_ASSERT_EQUAL(parse_err("1."), -EINVAL);
    CU_ASSERT_EQUAL(parse_err("0x"), -EINVAL);
    CU_ASSERT_EQUAL(parse_err("1Bi"), -EINVAL);
    CU_ASSERT_EQUAL(parse_err("18446744073709551616"), -ERANGE);
    CU_ASSERT_EQUAL(parse_err("16E"), -ERANGE);
    CU_ASSERT_EQUAL(parse_err("17179869184G"), -ERANGE);
    CU_ASSERT_EQUAL(parse_err("0x10000000000000000"), -ERANGE);
    CU_ASSERT_EQUAL(parse_err("16.5E"), -ERANGE);

    /* errp may be NULL */
    uint64_t v;
    CU_ASSERT_EQUAL(strata_parse_size("zz", &v, NULL), -EINVAL);
}

static void check_format(uint64_t bytes, const char *expected)
{
    char buf[32];
    strata_format_size(bytes, buf, sizeof buf);
    if (strcmp(buf, expected) != 0)
        fprintf(stderr, "format_size(%llu) = '%s', expected '%s'\n",
                (unsigned long long)bytes, buf, expected);
    CU_ASSERT_STRING_EQUAL(buf, expected);
}

static void test_format(void)
{
    /* From qemu-img info. */
    check_format(0, "0 B");
    check_format(512, "512 B");
    check_format(1024, "1 KiB");
    check_format(1536, "1.5 KiB");
    check_format(524288, "512 KiB");
    check_format(1572864, "1.5 MiB");
    check_format(1048064, "1 MiB");
    check_format(1024000, "0.977 MiB");
    check_format(123457024, "118 MiB");
    check_format(1073741824ull, "1 GiB");
    check_format(10737418240ull, "10 GiB");
    /* By qemu's rule (three significant digits, next unit from 1000 on). */
    check_format(1, "1 B");
    check_format(999, "999 B");
    check_format(1000, "0.977 KiB");
    check_format(1099511627776ull, "1 TiB");
    check_format(1152921504606846976ull, "1 EiB");
    check_format(UINT64_MAX, "16 EiB");

    /* A short buffer is truncated, never overrun. */
    char small[4] = "xyz";
    strata_format_size(1073741824ull, small, 3);
    CU_ASSERT_STRING_EQUAL(small, "1 ");
}

int main(void)
{
    static const struct tu_test parse[] = {
        { "plain numbers", test_plain },
        { "suffixes", test_suffixes },
        { "decimals", test_decimals },
        { "errors", test_errors },
        { NULL, NULL },
    };
    static const struct tu_test format[] = {
        { "qemu-img sizes", test_format },
        { NULL, NULL },
    };
    tu_add_suite("parse_size", NULL, NULL, parse);
    tu_add_suite("format_size", NULL, NULL, format);
    return tu_run();
}
