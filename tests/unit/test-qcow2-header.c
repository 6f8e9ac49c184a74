/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-qcow2-header.c - qcow2 headers: images made by qemu-img (version 2
 * and 3, many options) are parsed into what `qemu-img info --output=json`
 * reports for them, and images made by qemu-img and then damaged byte by
 * byte here (offsets taken from the published format, docs/interop/qcow2.txt)
 * are refused with an error naming the file and the problem, read-only and
 * read-write, without the file changing. */
#include "hostfile.h"
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define KiB 1024ull
#define MiB (1024ull * 1024ull)

/* ------------------------------------------------------------ file kit */

/* A qemu-made v3 image of 4 MiB, 64 KiB clusters, with the first cluster
 * written (so it has an L2 table and a data cluster), loaded in memory. */
static uint8_t *qemu_image(const char *path, const char *opts, size_t *len)
{
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(tu_sh("qemu-img create -q -f qcow2 -o '%s' '%s' 4M && "
                             "qemu-io -f qcow2 -c 'write -P 0x5c 0 64k' '%s' >/dev/null",
                             opts, path, path), 0);
    uint8_t *img = tu_load(path, len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(img);
    return img;
}

/* Opening must fail with `code` and a message naming the file and holding
 * each of the `what` strings (NULL-terminated), read-only and read-write,
 * and leave the file as it was. */
static void expect_refused_v(const char *path, const uint8_t *img, size_t len, int code,
                             const char *const *what)
{
    unsigned modes[] = { 0, STRATA_O_RDWR, STRATA_O_NO_IO };
    for (int m = 0; m < 3; m++) {
        struct strata_error *err = NULL;
        struct strata_node *n = NULL;
        int r = strata_open_file(path, "qcow2", modes[m], &n, &err);
        CU_ASSERT_EQUAL(r, -code);
        CU_ASSERT_PTR_NULL(n);
        if (n)
            strata_close(n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(err);
        bool ok = strstr(err->msg, path) != NULL;
        for (const char *const *w = what; *w; w++)
            ok = ok && strstr(err->msg, *w);
        if (!ok || r != -code)
            fprintf(stderr, "\n    unexpected (%d): %s\n", r, err->msg);
        CU_ASSERT(ok);
        strata_error_free(err);
    }
    CU_ASSERT(tu_unchanged(path, img, len));
}

#define expect_refused(path, img, len, code, ...) \
    expect_refused_v(path, img, len, code, (const char *const[]){ __VA_ARGS__, NULL })

/* Header fields, from the format's table of byte offsets. */
#define H_BACKING_OFF 8
#define H_BACKING_LEN 16
#define H_CLUSTER_BITS 20
#define H_L1_SIZE 36
#define H_L1_OFF 40
#define H_RT_OFF 48
#define H_RT_CLUSTERS 56
#define H_NB_SNAPSHOTS 60
#define H_INCOMPAT 72
#define H_HEADER_LEN 100

/* ------------------------------------------------------------ refusals */

/* The qemu-made image with one n-byte header field set to v, saved to
 * path; the bytes the refused open must leave as they are. */
static uint8_t *image_with_field(const char *path, size_t field, int n, uint64_t v,
                                 size_t *len)
{
    uint8_t *img = qemu_image(path, "compat=1.1", len);
    tu_put_be(img + field, n, v);
    tu_save(path, img, *len);
    return img;
}

static void test_unknown_incompat_bit(void)
{
    const char *p = tu_path("incompat.qcow2");
    size_t len;
    uint8_t *orig = qemu_image(p, "compat=1.1", &len);
    uint8_t *img = malloc(len);

    /* Bit 20, unknown to anyone: the message gives the bit as qemu-img
     * does, a hex mask. */
    memcpy(img, orig, len);
    tu_put_be(img + H_INCOMPAT, 8, tu_get_be(img + H_INCOMPAT, 8) | (1ull << 20));
    tu_save(p, img, len);
    expect_refused(p, img, len, ENOTSUP, "Unsupported qcow2 feature(s): ",
                   "Unknown incompatible feature: 100000");

    /* With the image's own feature name table naming the bit, the name is
     * given too.  qemu-img writes the table (extension 0x6803f857, entries
     * of 48 bytes: type, bit, 46 bytes of name); rename its entry for the
     * extended L2 bit (incompatible, bit 4) into one for bit 20. */
    uint32_t hl = (uint32_t)tu_get_be(img + H_HEADER_LEN, 4);
    bool renamed = false;
    for (uint64_t o = hl; o + 8 <= 65536;) {
        uint32_t type = (uint32_t)tu_get_be(img + o, 4), elen = (uint32_t)tu_get_be(img + o + 4, 4);
        if (type == 0)
            break;
        if (type == 0x6803f857u) {
            for (uint32_t i = 0; i + 48 <= elen; i += 48) {
                uint8_t *e = img + o + 8 + i;
                if (e[0] == 0 && e[1] == 4) {
                    e[1] = 20;
                    memset(e + 2, 0, 46);
                    memcpy(e + 2, "frobnicated clusters", 20);
                    renamed = true;
                }
            }
        }
        o += 8 + ((elen + 7) & ~7u);
    }
    CU_ASSERT_FATAL(renamed);
    tu_save(p, img, len);
    expect_refused(p, img, len, ENOTSUP, "feature(s): frobnicated clusters");

    /* Two unknown bits: the named one by name, the other as a mask. */
    tu_put_be(img + H_INCOMPAT, 8, tu_get_be(img + H_INCOMPAT, 8) | (1ull << 63));
    tu_save(p, img, len);
    expect_refused(p, img, len, ENOTSUP,
                   "frobnicated clusters, Unknown incompatible feature: 8000000000000000");
    free(img);
    free(orig);
}

static void test_bad_cluster_bits(void)
{
    const char *p = tu_path("cbits.qcow2");
    size_t len;
    uint8_t *img = qemu_image(p, "compat=1.1", &len);
    static const uint32_t bad[] = { 0, 8, 22, 63, 64, 0xffffffffu };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_put_be(img + H_CLUSTER_BITS, 4, bad[i]);
        tu_save(p, img, len);
        expect_refused(p, img, len, EINVAL, "cluster");
    }
    free(img);
}

static void test_l1_past_eof(void)
{
    const char *p = tu_path("l1eof.qcow2");
    size_t len;
    uint8_t *img = qemu_image(p, "compat=1.1", &len);
    /* A cluster-aligned L1 table just past the end of the file. */
    uint64_t off = (len + 65535) & ~65535ull;
    char what[64];
    snprintf(what, sizeof what, "L1 table at 0x%llx", (unsigned long long)off);
    tu_put_be(img + H_L1_OFF, 8, off);
    tu_save(p, img, len);
    expect_refused(p, img, len, EINVAL, what, "past end of file");

    /* The table starts inside the file but its 200000 entries do not fit. */
    free(img);
    img = image_with_field(p, H_L1_SIZE, 4, 200000, &len);
    expect_refused(p, img, len, EINVAL, "L1 table", "past end of file");

    /* The refcount table likewise. */
    free(img);
    img = image_with_field(p, H_RT_CLUSTERS, 4, 64, &len);
    expect_refused(p, img, len, EINVAL, "refcount table", "past end of file");
    free(img);
}

/* Sizes an image may ask for beyond the caps of docs/qcow2.md ("Limits on
 * untrusted images"): refused before anything is allocated or read, with
 * the field and the limit named. */
static void test_caps(void)
{
    const char *p = tu_path("caps.qcow2");
    size_t len;
    uint8_t *img = image_with_field(p, H_L1_SIZE, 4, 0xffffffffu, &len);
    expect_refused(p, img, len, EFBIG, "l1_size", "limit of 4194304 entries (32 MiB)");
    free(img);
    img = image_with_field(p, H_RT_CLUSTERS, 4, 0xffffffffu, &len);
    expect_refused(p, img, len, EINVAL, "refcount_table_clusters", "limit of 8 MiB");
    free(img);
    img = image_with_field(p, H_NB_SNAPSHOTS, 4, 1000000, &len);
    expect_refused(p, img, len, EFBIG, "Snapshot table too large");
    free(img);
}

/* An L1 entry pointing past the end of the file: the image opens (L2
 * tables are read on demand), reading the range it maps fails with a clear
 * error, the rest of the image still reads, nothing is written. */
static void test_l2_table_past_eof(void)
{
    const char *p = tu_path("l2eof.qcow2");
    size_t len;
    uint8_t *img = qemu_image(p, "compat=1.1", &len);
    uint64_t l1 = tu_get_be(img + H_L1_OFF, 8);
    uint64_t bad = ((len + 65535) & ~65535ull) + 16 * 65536;
    tu_put_be(img + l1, 8, (1ull << 63) | bad);
    tu_save(p, img, len);
    char what[64];
    snprintf(what, sizeof what, "L2 table at 0x%llx", (unsigned long long)bad);

    unsigned modes[] = { 0, STRATA_O_RDWR };
    for (int m = 0; m < 2; m++) {
        struct strata_error *err = NULL;
        struct strata_node *n = NULL;
        CU_ASSERT_EQUAL_FATAL(strata_open_file(p, "qcow2", modes[m], &n, &err), 0);
        uint8_t buf[4096];
        CU_ASSERT_EQUAL(strata_pread(n, 8192, sizeof buf, buf, 0, &err), -EIO);
        CU_ASSERT_PTR_NOT_NULL_FATAL(err);
        CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, p));
        CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, what));
        CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "past end of file"));
        strata_error_free(err);
        err = NULL;
        if (modes[m] & STRATA_O_RDWR) {
            memset(buf, 0x11, sizeof buf);
            CU_ASSERT_EQUAL(strata_pwrite(n, 8192, sizeof buf, buf, 0, &err), -EIO);
            CU_ASSERT_PTR_NOT_NULL(err && strstr(err->msg, what));
            strata_error_free(err);
            err = NULL;
        }
        strata_close(n);
    }
    CU_ASSERT(tu_unchanged(p, img, len));
    free(img);
}

/* An L2 entry pointing past the end of the file (what a power cut leaves
 * when it keeps the L2 update and loses the write that grew the file): the
 * cluster reads as zeros, as qemu-io reads it, neighbours read as before,
 * check reports the entry, nothing is written. */
static void test_l2_entry_past_eof(void)
{
    const char *p = tu_path("dataeof.qcow2");
    size_t len;
    uint8_t *img = qemu_image(p, "compat=1.1", &len);
    CU_ASSERT_EQUAL_FATAL(tu_sh("qemu-io -f qcow2 -c 'write -P 0x6d 0 128k' '%s' >/dev/null",
                             p), 0);
    free(img);
    img = tu_load(p, &len);
    uint64_t l1 = tu_get_be(img + H_L1_OFF, 8);
    uint64_t l2 = tu_get_be(img + l1, 8) & 0x00fffffffffffe00ull;
    CU_ASSERT_FATAL(l2 != 0 && l2 + 65536 <= len);
    uint64_t bad = ((len + 65535) & ~65535ull) + 32 * 65536;
    tu_put_be(img + l2, 8, (1ull << 63) | bad);
    tu_save(p, img, len);
    /* qemu-io reads the cluster as zeros; 0x6d stays in the second one. */
    int rc = tu_sh("qemu-io -r -f qcow2 -c 'read -q -P 0 0 64k' -c 'read -q -P 0x6d 64k 64k' "
                   "'%s' | grep -q .", p);
    CU_ASSERT(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);

    unsigned modes[] = { 0, STRATA_O_RDWR };
    for (int m = 0; m < 2; m++) {
        struct strata_error *err = NULL;
        struct strata_node *n = NULL;
        CU_ASSERT_EQUAL_FATAL(strata_open_file(p, "qcow2", modes[m], &n, &err), 0);
        static uint8_t big[128 * 1024];
        memset(big, 0xee, sizeof big);
        CU_ASSERT_EQUAL(strata_pread(n, 0, sizeof big, big, 0, &err), 0);
        if (err)
            fprintf(stderr, "\n    unexpected: %s\n", err->msg);
        strata_error_free(err);
        CU_ASSERT(big[0] == 0 && memcmp(big, big + 1, 65535) == 0);
        CU_ASSERT(big[65536] == 0x6d && memcmp(big + 65536, big + 65537, 65535) == 0);
        strata_close(n);
    }
    CU_ASSERT(tu_unchanged(p, img, len));
    /* Both checks name the reference past the end, alike. */
    rc = tu_sh("strata-img check '%s' >/dev/null 2>&1", p);
    CU_ASSERT(WIFEXITED(rc) && WEXITSTATUS(rc) == 2);
    rc = tu_sh("qemu-img check '%s' >/dev/null 2>&1", p);
    CU_ASSERT(WIFEXITED(rc) && WEXITSTATUS(rc) == 2);
    CU_ASSERT(tu_unchanged(p, img, len));
    free(img);
}

static void test_overlapping_metadata(void)
{
    const char *p = tu_path("overlap.qcow2");
    size_t len;
    uint8_t *img = qemu_image(p, "compat=1.1", &len);
    /* The refcount table put on top of the L1 table. */
    uint64_t l1 = tu_get_be(img + H_L1_OFF, 8);
    tu_put_be(img + H_RT_OFF, 8, l1);
    tu_save(p, img, len);
    expect_refused(p, img, len, EINVAL, "overlap", "L1 table", "refcount table");
    free(img);

    /* The L1 table on top of the header. */
    img = qemu_image(p, "compat=1.1", &len);
    tu_put_be(img + H_L1_OFF, 8, 0);
    tu_save(p, img, len);
    expect_refused(p, img, len, EINVAL, "L1 table", "header");
    free(img);
}

static void test_truncated(void)
{
    const char *p = tu_path("short.qcow2");
    size_t len;
    uint8_t *img = qemu_image(p, "compat=1.1", &len);
    /* Shorter than the fixed header. */
    size_t cuts[] = { 0, 4, 71, 100 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        tu_save(p, img, cuts[i]);
        expect_refused(p, img, cuts[i], EINVAL, "qcow2");
    }
    /* The header cluster whole, the tables after it gone. */
    tu_save(p, img, 65536);
    expect_refused(p, img, 65536, EINVAL, "past end of file");
    free(img);
}

static void test_backing_name_outside_header(void)
{
    const char *p = tu_path("bname.qcow2");
    size_t len;
    uint8_t *img = qemu_image(p, "compat=1.1", &len);
    /* Inside the file, but past the first cluster. */
    tu_put_be(img + H_BACKING_OFF, 8, 65536 + 8);
    tu_put_be(img + H_BACKING_LEN, 4, 10);
    tu_save(p, img, len);
    expect_refused(p, img, len, EINVAL, "backing file name", "header cluster");
    /* Starts inside, runs out of it. */
    tu_put_be(img + H_BACKING_OFF, 8, 65530);
    tu_save(p, img, len);
    expect_refused(p, img, len, EINVAL, "backing file name", "header cluster");
    /* Longer than the format allows (1023 bytes). */
    tu_put_be(img + H_BACKING_OFF, 8, 4096);
    tu_put_be(img + H_BACKING_LEN, 4, 2000);
    tu_save(p, img, len);
    expect_refused(p, img, len, EINVAL, "backing file name");
    free(img);
}

/* ------------------------------------------------------------ qemu-made */

/* Every scalar qemu-img info reports for the image, flattened to
 * "path=value" lines (path members joined with '/'), from python3's JSON
 * parser: an independent reading of qemu's output. */
static char *qemu_info_lines(const char *path)
{
    char out[512];
    snprintf(out, sizeof out, "%s.info", path);
    int r = tu_sh("qemu-img info --output=json '%s' | python3 -c '\n"
               "import json, sys\n"
               "def walk(p, v):\n"
               "    if isinstance(v, dict):\n"
               "        for k in v: walk(p + [k], v[k])\n"
               "    elif isinstance(v, list):\n"
               "        for i, x in enumerate(v): walk(p + [str(i)], x)\n"
               "    elif isinstance(v, bool): print(\"/\".join(p) + \"=\" + str(v).lower())\n"
               "    else: print(\"/\".join(p) + \"=\" + str(v))\n"
               "walk([], json.load(sys.stdin))' > '%s'", path, out);
    CU_ASSERT_EQUAL_FATAL(r, 0);
    size_t len;
    uint8_t *b = tu_load(out, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    b[len] = 0;
    return (char *)b;
}

/* Looks `path` up in strata's info tree (object members by key, list
 * members by index) and compares it with qemu's value. */
static bool info_matches(const struct strata_info *root, const char *path, const char *want)
{
    char *p = strdup(path), *save = NULL;
    const struct strata_info *cur = root;
    char *last = NULL;
    for (char *tok = strtok_r(p, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        if (last) {
            char *end;
            unsigned long idx = strtoul(last, &end, 10);
            const struct strata_info *next = strata_info_get(cur, last);
            if (!next && *end == 0)
                next = strata_info_at(cur, idx);
            cur = next;
            if (!cur)
                break;
        }
        last = tok;
    }
    bool ok = false;
    if (cur && last) {
        int64_t iv;
        bool bv;
        const char *sv = strata_info_get_str(cur, last);
        char buf[64];
        if (sv)
            ok = strcmp(sv, want) == 0;
        else if (strata_info_get_bool(cur, last, &bv))
            ok = strcmp(bv ? "true" : "false", want) == 0;
        else if (strata_info_get_int(cur, last, &iv))
            ok = (snprintf(buf, sizeof buf, "%lld", (long long)iv), strcmp(buf, want) == 0);
    }
    free(p);
    return ok;
}

/* Fields qemu-img derives from how it opened the image, not from the
 * header: "filename"/"format" (given to it), "actual-size" (host
 * allocation), "full-backing-filename" (resolved against the directory);
 * the virtual size is compared with strata_get_length. */
static bool header_field(const char *key)
{
    static const char *const skip[] = { "filename", "format", "actual-size", "dirty-flag",
                                        "virtual-size", "full-backing-filename", NULL };
    for (const char *const *s = skip; *s; s++)
        if (strcmp(key, *s) == 0)
            return false;
    return true;
}

static void compare_with_qemu(const char *path, const char *opts)
{
    char *lines = qemu_info_lines(path);
    struct strata_error *err = NULL;
    struct strata_node *n = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_file(path, "qcow2", STRATA_O_NO_IO, &n, &err), 0);
    struct strata_info *fs = strata_info_new_object();
    CU_ASSERT_EQUAL_FATAL(strata_image_info(n, fs, &err), 0);
    /* qemu-img puts the driver's data under format-specific/data, and the
     * image-level facts at the top: make the same tree. */
    struct strata_info *root = strata_info_new_object();
    static const char *const lifted[] = { "cluster-size", "encrypted", "backing-filename",
                                          "backing-filename-format", "snapshots", NULL };
    for (const char *const *k = lifted; *k; k++) {
        struct strata_info *v = strata_info_take(fs, *k);
        if (v)
            strata_info_attach(root, *k, v);
    }
    strata_info_remove(fs, "dirty-flag");
    struct strata_info *spec = strata_info_add_object(root, "format-specific");
    strata_info_add_str(spec, "type", "qcow2");
    strata_info_attach(spec, "data", fs);

    int fields = 0;
    for (char *save = NULL, *l = strtok_r(lines, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(l, '=');
        CU_ASSERT_PTR_NOT_NULL_FATAL(eq);
        *eq = 0;
        const char *key = l, *val = eq + 1;
        if (strcmp(key, "virtual-size") == 0) {
            CU_ASSERT_EQUAL(strata_get_length(n), strtoll(val, NULL, 10));
            fields++;
            continue;
        }
        if (!header_field(key))
            continue;
        bool ok = info_matches(root, key, val);
        if (!ok)
            fprintf(stderr, "\n    %s (%s): qemu-img has %s=%s, strata differs\n", path,
                    opts, key, val);
        CU_ASSERT(ok);
        fields++;
    }
    CU_ASSERT(fields >= 5);
    strata_info_free(root);
    strata_close(n);
    free(lines);
}

static void test_qemu_made_headers(void)
{
    static const char *const opts[] = {
        "compat=0.10",
        "compat=0.10,cluster_size=4096",
        "compat=1.1",
        "compat=1.1,lazy_refcounts=on",
        "compat=1.1,cluster_size=512,refcount_bits=1",
        "compat=1.1,cluster_size=2M,refcount_bits=64",
        "compat=1.1,refcount_bits=8",
        "compat=1.1,extended_l2=on",
        "compat=1.1,compression_type=zstd",
        NULL,
    };
    int i = 0;
    for (const char *const *o = opts; *o; o++, i++) {
        char name[32];
        snprintf(name, sizeof name, "made%d.qcow2", i);
        const char *p = tu_path(name);
        CU_ASSERT_EQUAL_FATAL(tu_sh("qemu-img create -q -f qcow2 -o '%s' '%s' 5G", *o, p), 0);
        compare_with_qemu(p, *o);
    }
    /* With a backing file (name and format as stored). */
    const char *base = tu_path("base.qcow2");
    CU_ASSERT_EQUAL_FATAL(tu_sh("qemu-img create -q -f qcow2 '%s' 3M && cd '%s' && "
                             "qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 "
                             "-o compat=0.10 over2.qcow2 && "
                             "qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 "
                             "over3.qcow2 7M", base, tu_tmpdir()), 0);
    compare_with_qemu(tu_path("over2.qcow2"), "v2 with backing");
    compare_with_qemu(tu_path("over3.qcow2"), "v3 with backing");
}

int main(void)
{
    static const struct tu_test refusals[] = {
        { "unknown incompatible feature bit", test_unknown_incompat_bit },
        { "bad cluster_bits", test_bad_cluster_bits },
        { "L1 and refcount table past end of file", test_l1_past_eof },
        { "L2 table past end of file", test_l2_table_past_eof },
        { "sizes beyond the caps", test_caps },
        { "L2 entry past end of file", test_l2_entry_past_eof },
        { "overlapping metadata", test_overlapping_metadata },
        { "truncated file", test_truncated },
        { "backing file name outside the header cluster", test_backing_name_outside_header },
        { NULL, NULL },
    };
    static const struct tu_test made[] = {
        { "qemu-img made headers, v2 and v3", test_qemu_made_headers },
        { NULL, NULL },
    };
    tu_add_suite("qcow2 corrupt headers", NULL, NULL, refusals);
    tu_add_suite("qcow2 headers from qemu-img", NULL, NULL, made);
    return tu_run();
}
