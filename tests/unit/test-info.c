/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-info.c - structured output.  The expected texts are copies of what
 * qemu-img 7.2 prints for the same data ("qemu-img info" of a qcow2 image
 * with one disabled bitmap, of a LUKS image, and of a raw image whose name
 * holds special characters), with only the values that vary changed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <strata/common.h>
#include "testutil.h"

static void check_str(char *got, const char *expected)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    if (strcmp(got, expected) != 0)
        fprintf(stderr, "--- got:\n%s\n--- expected:\n%s\n", got, expected);
    CU_ASSERT_STRING_EQUAL(got, expected);
    free(got);
}

/* qemu-img's "format-specific" object of a qcow2 image with a bitmap. */
static struct strata_info *qcow2_info(void)
{
    struct strata_info *root = strata_info_new_object();
    struct strata_info *fs = strata_info_add_object(root, "format-specific");
    strata_info_add_str(fs, "type", "qcow2");
    struct strata_info *d = strata_info_add_object(fs, "data");
    strata_info_add_str(d, "compat", "1.1");
    strata_info_add_str(d, "compression-type", "zlib");
    strata_info_add_bool(d, "lazy-refcounts", false);
    struct strata_info *bitmaps = strata_info_add_list(d, "bitmaps");
    struct strata_info *bm = strata_info_add_object(bitmaps, NULL);
    strata_info_add_list(bm, "flags");
    strata_info_add_str(bm, "name", "bm0");
    strata_info_add_uint(bm, "granularity", 65536);
    strata_info_add_int(d, "refcount-bits", 16);
    strata_info_add_bool(d, "corrupt", false);
    strata_info_add_bool(d, "extended-l2", false);
    return root;
}

static void test_json_qcow2(void)
{
    struct strata_info *root = qcow2_info();
    check_str(strata_info_to_json(root),
              "{\n"
              "    \"format-specific\": {\n"
              "        \"type\": \"qcow2\",\n"
              "        \"data\": {\n"
              "            \"compat\": \"1.1\",\n"
              "            \"compression-type\": \"zlib\",\n"
              "            \"lazy-refcounts\": false,\n"
              "            \"bitmaps\": [\n"
              "                {\n"
              "                    \"flags\": [\n"
              "                    ],\n"
              "                    \"name\": \"bm0\",\n"
              "                    \"granularity\": 65536\n"
              "                }\n"
              "            ],\n"
              "            \"refcount-bits\": 16,\n"
              "            \"corrupt\": false,\n"
              "            \"extended-l2\": false\n"
              "        }\n"
              "    }\n"
              "}");
    strata_info_free(root);
}

static void test_text_qcow2(void)
{
    struct strata_info *root = qcow2_info();
    const struct strata_info *data =
        strata_info_get(strata_info_get(root, "format-specific"), "data");
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    /* qemu-img prints "Format specific information:" and then the data
     * indented by four. */
    check_str(strata_info_to_text(data, 4),
              "    compat: 1.1\n"
              "    compression type: zlib\n"
              "    lazy refcounts: false\n"
              "    bitmaps:\n"
              "        [0]:\n"
              "            flags:\n"
              "            name: bm0\n"
              "            granularity: 65536\n"
              "    refcount bits: 16\n"
              "    corrupt: false\n"
              "    extended l2: false\n");
    strata_info_free(root);
}

static struct strata_info *luks_data(void)
{
    struct strata_info *d = strata_info_new_object();
    strata_info_add_str(d, "ivgen-alg", "plain64");
    strata_info_add_str(d, "hash-alg", "sha256");
    strata_info_add_str(d, "cipher-alg", "aes-256");
    strata_info_add_str(d, "uuid", "9cae26b5-f57e-45b5-b4d2-867601e51d7c");
    strata_info_add_str(d, "cipher-mode", "xts");
    struct strata_info *slots = strata_info_add_list(d, "slots");
    struct strata_info *s0 = strata_info_add_object(slots, NULL);
    strata_info_add_bool(s0, "active", true);
    strata_info_add_uint(s0, "iters", 42064);
    strata_info_add_uint(s0, "key-offset", 4096);
    strata_info_add_uint(s0, "stripes", 4000);
    struct strata_info *s1 = strata_info_add_object(slots, "ignored-in-lists");
    strata_info_add_bool(s1, "active", false);
    strata_info_add_uint(s1, "key-offset", 262144);
    strata_info_add_uint(d, "payload-offset", 2068480);
    strata_info_add_int(d, "master-key-iters", 10805);
    return d;
}

static void test_luks(void)
{
    struct strata_info *d = luks_data();
    check_str(strata_info_to_text(d, 4),
              "    ivgen alg: plain64\n"
              "    hash alg: sha256\n"
              "    cipher alg: aes-256\n"
              "    uuid: 9cae26b5-f57e-45b5-b4d2-867601e51d7c\n"
              "    cipher mode: xts\n"
              "    slots:\n"
              "        [0]:\n"
              "            active: true\n"
              "            iters: 42064\n"
              "            key offset: 4096\n"
              "            stripes: 4000\n"
              "        [1]:\n"
              "            active: false\n"
              "            key offset: 262144\n"
              "    payload offset: 2068480\n"
              "    master key iters: 10805\n");
    check_str(strata_info_to_text(d, 0),
              "ivgen alg: plain64\n"
              "hash alg: sha256\n"
              "cipher alg: aes-256\n"
              "uuid: 9cae26b5-f57e-45b5-b4d2-867601e51d7c\n"
              "cipher mode: xts\n"
              "slots:\n"
              "    [0]:\n"
              "        active: true\n"
              "        iters: 42064\n"
              "        key offset: 4096\n"
              "        stripes: 4000\n"
              "    [1]:\n"
              "        active: false\n"
              "        key offset: 262144\n"
              "payload offset: 2068480\n"
              "master key iters: 10805\n");
    check_str(strata_info_to_json(d),
              "{\n"
              "    \"ivgen-alg\": \"plain64\",\n"
              "    \"hash-alg\": \"sha256\",\n"
              "    \"cipher-alg\": \"aes-256\",\n"
              "    \"uuid\": \"9cae26b5-f57e-45b5-b4d2-867601e51d7c\",\n"
              "    \"cipher-mode\": \"xts\",\n"
              "    \"slots\": [\n"
              "        {\n"
              "            \"active\": true,\n"
              "            \"iters\": 42064,\n"
              "            \"key-offset\": 4096,\n"
              "            \"stripes\": 4000\n"
              "        },\n"
              "        {\n"
              "            \"active\": false,\n"
              "            \"key-offset\": 262144\n"
              "        }\n"
              "    ],\n"
              "    \"payload-offset\": 2068480,\n"
              "    \"master-key-iters\": 10805\n"
              "}");
    strata_info_free(d);
}

static void test_escapes(void)
{
    /* qemu-img info --output=json of a file named
     * /tmp/q<U+00E9><0x01>"\<TAB><U+1F600><0xff>z.img */
    struct strata_info *o = strata_info_new_object();
    strata_info_add_str(o, "filename",
                        "/tmp/q\xc3\xa9\x01\"\\\t\xf0\x9f\x98\x80\xffz.img");
    check_str(strata_info_to_json(o),
              "{\n"
              "    \"filename\": \"/tmp/q\\u00E9\\u0001\\\"\\\\\\t\\uD83D\\uDE00\\uFFFDz.img\"\n"
              "}");
    strata_info_free(o);

    /* The remaining JSON escapes (RFC 8259 section 7), as qemu-img info
     * prints them for a file named /tmp/r<BS><FF><CR><LF><0x1f><0x7f>.img */
    o = strata_info_new_object();
    strata_info_add_str(o, "a\nb", "\b\f\r\n\x1f\x7f/");
    check_str(strata_info_to_json(o),
              "{\n"
              "    \"a\\nb\": \"\\b\\f\\r\\n\\u001F\\u007F/\"\n"
              "}");
    strata_info_free(o);
}

static void test_tree(void)
{
    struct strata_info *o = strata_info_new_object();
    check_str(strata_info_to_json(o), "{\n}");
    check_str(strata_info_to_text(o, 0), "");

    strata_info_add_int(o, "neg", INT64_MIN);
    strata_info_add_uint(o, "max", UINT64_MAX);
    strata_info_add_str(o, "s", "x");
    /* a key set again keeps its place and takes the new value and type */
    strata_info_add_bool(o, "s", true);
    struct strata_info *l = strata_info_add_list(o, "l");
    strata_info_add_str(l, NULL, "one");
    strata_info_add_int(l, "ignored", 2);
    strata_info_add_list(l, NULL);
    check_str(strata_info_to_json(o),
              "{\n"
              "    \"neg\": -9223372036854775808,\n"
              "    \"max\": 18446744073709551615,\n"
              "    \"s\": true,\n"
              "    \"l\": [\n"
              "        \"one\",\n"
              "        2,\n"
              "        [\n"
              "        ]\n"
              "    ]\n"
              "}");
    check_str(strata_info_to_text(o, 0),
              "neg: -9223372036854775808\n"
              "max: 18446744073709551615\n"
              "s: true\n"
              "l:\n"
              "    [0]: one\n"
              "    [1]: 2\n"
              "    [2]:\n");

    CU_ASSERT_PTR_NOT_NULL(strata_info_get(o, "max"));
    CU_ASSERT_PTR_NULL(strata_info_get(o, "nothing"));
    CU_ASSERT_PTR_NULL(strata_info_get(l, "ignored"));
    /* scalars take no members */
    CU_ASSERT_PTR_NULL(strata_info_add_object((struct strata_info *)strata_info_get(o, "s"),
                                              "x"));
    CU_ASSERT_PTR_NULL(strata_info_add_list(NULL, "x"));
    strata_info_free(o);
    strata_info_free(NULL);
}

/* Reading members back, and moving subtrees between objects, as the tools do
 * to lift image-level facts out of a driver's format-specific data. */
static void test_typed_reads_and_moves(void)
{
    struct strata_info *data = strata_info_new_object();
    strata_info_add_str(data, "compat", "1.1");
    strata_info_add_int(data, "cluster-size", 65536);
    strata_info_add_uint(data, "big", UINT64_MAX);
    strata_info_add_bool(data, "encrypted", true);
    struct strata_info *snaps = strata_info_add_list(data, "snapshots");
    strata_info_add_str(strata_info_add_object(snaps, NULL), "name", "s1");

    int64_t i = 0;
    bool b = false;
    CU_ASSERT_TRUE(strata_info_get_int(data, "cluster-size", &i));
    CU_ASSERT_EQUAL(i, 65536);
    CU_ASSERT_FALSE(strata_info_get_int(data, "big", &i));      /* does not fit */
    CU_ASSERT_FALSE(strata_info_get_int(data, "compat", &i));   /* a string */
    CU_ASSERT_EQUAL(i, 65536);
    CU_ASSERT_TRUE(strata_info_get_bool(data, "encrypted", &b));
    CU_ASSERT_TRUE(b);
    CU_ASSERT_STRING_EQUAL(strata_info_get_str(data, "compat"), "1.1");
    CU_ASSERT_PTR_NULL(strata_info_get_str(data, "cluster-size"));

    struct strata_info *taken = strata_info_take(data, "snapshots");
    CU_ASSERT_PTR_NOT_NULL_FATAL(taken);
    CU_ASSERT_PTR_NULL(strata_info_get(data, "snapshots"));
    CU_ASSERT_TRUE(strata_info_remove(data, "cluster-size"));
    CU_ASSERT_FALSE(strata_info_remove(data, "cluster-size"));
    CU_ASSERT_TRUE(strata_info_remove(data, "big"));

    struct strata_info *top = strata_info_new_object();
    strata_info_add_int(top, "virtual-size", 1024);
    CU_ASSERT_EQUAL(strata_info_attach(top, "snapshots", taken), 0);
    struct strata_info *fs = strata_info_add_object(top, "format-specific");
    CU_ASSERT_EQUAL(strata_info_attach(fs, "data", data), 0);
    char *json = strata_info_to_json(top);
    CU_ASSERT_STRING_EQUAL(json,
        "{\n"
        "    \"virtual-size\": 1024,\n"
        "    \"snapshots\": [\n"
        "        {\n"
        "            \"name\": \"s1\"\n"
        "        }\n"
        "    ],\n"
        "    \"format-specific\": {\n"
        "        \"data\": {\n"
        "            \"compat\": \"1.1\",\n"
        "            \"encrypted\": true\n"
        "        }\n"
        "    }\n"
        "}");
    free(json);
    strata_info_free(top);
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "qcow2 json", test_json_qcow2 },
        { "qcow2 text", test_text_qcow2 },
        { "luks text and json", test_luks },
        { "json escapes", test_escapes },
        { "tree operations", test_tree },
        { "typed reads, take, remove, attach", test_typed_reads_and_moves },
        { NULL, NULL },
    };
    tu_add_suite("info", NULL, NULL, tests);
    return tu_run();
}
