/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-qcow-io.c - qcow (version 1) data written by strata read back by
 * qemu-img: plain and unaligned writes, copy-on-write from a backing file on
 * partial cluster writes, compressed clusters, legacy AES, and the order of
 * metadata updates when blkdebug fails a request at each qcow event.  The
 * expected content is built in memory with tu_fill(); qemu-img convert
 * provides the independent reading. */
#include "hostfile.h"
#include "qcow-header.h"
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MiB (1024u * 1024u)
#define KiB 1024u

/* qemu-img's view of the image (extra = options before the image) equals
 * exp[0, len). */
static bool qemu_reads(const char *extra, const char *image, const uint8_t *exp, size_t len)
{
    const char *out = tu_path("qemu-view.raw");
    unlink(out);
    if (tu_sh("qemu-img convert %s -O raw %s '%s' 2>&1", extra, image, out) != 0)
        return false;
    size_t n = 0;
    uint8_t *got = tu_load(out, &n);
    bool same = got && n == len && memcmp(got, exp, len) == 0;
    if (got && !same) {
        size_t i = 0;
        while (i < n && i < len && got[i] == exp[i])
            i++;
        fprintf(stderr, "\n    qemu-img reads %zu bytes, %zu expected; first difference "
                "at %zu\n", n, len, i);
    }
    free(got);
    return same;
}

static void write_fill(struct strata_node *n, uint8_t *exp, uint64_t off, size_t len,
                       uint32_t seed)
{
    struct strata_error *err = NULL;
    uint8_t *b = malloc(len);
    tu_fill(b, off, len, seed);
    memcpy(exp + off, b, len);
    int r = strata_pwrite(n, off, len, b, 0, &err);
    if (r < 0)
        fprintf(stderr, "\n    write %llu+%zu: %s\n", (unsigned long long)off, len,
                err ? err->msg : "?");
    CU_ASSERT_EQUAL(r, 0);
    strata_error_free(err);
    free(b);
}

static bool strata_reads(struct strata_node *n, const uint8_t *exp, size_t len)
{
    struct strata_error *err = NULL;
    uint8_t *b = malloc(len);
    bool ok = strata_pread(n, 0, len, b, 0, &err) == 0 && memcmp(b, exp, len) == 0;
    strata_error_free(err);
    free(b);
    return ok;
}

/* Writes at odd places, across clusters and L2 tables, read back by
 * qemu-img; the file only grows by what was written. */
static void test_plain_writes(void)
{
    const char *p = tu_path("plain.qcow");
    const size_t size = 6 * MiB;
    struct strata_error *err = NULL;
    unlink(p);
    CU_ASSERT_EQUAL_FATAL(strata_image_create("qcow", p, size, NULL, &err), 0);
    uint8_t *exp = calloc(1, size);
    struct strata_node *n = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_file(p, "qcow", STRATA_O_RDWR, &n, &err), 0);
    write_fill(n, exp, 0, 4096, 1);
    write_fill(n, exp, 5000, 100, 2);                 /* inside one cluster */
    write_fill(n, exp, 2 * MiB - 3000, 9000, 3);      /* across an L2 table */
    write_fill(n, exp, 4 * MiB + 511, 300 * KiB, 4);  /* long, unaligned */
    write_fill(n, exp, 4096, 4096, 5);                /* overwrite in place */
    write_fill(n, exp, size - 700, 700, 6);           /* the last bytes */
    CU_ASSERT(strata_reads(n, exp, size));

    /* Unallocated clusters read as zeros and say so; data has its host
     * offset, where the bytes are in the file. */
    struct strata_block_status bs;
    CU_ASSERT_EQUAL(strata_block_status(n, 3 * MiB, MiB, &bs, &err), 0);
    CU_ASSERT_EQUAL(bs.flags, STRATA_BS_ZERO);
    CU_ASSERT_EQUAL(strata_block_status(n, 5000, 100, &bs, &err), 0);
    CU_ASSERT(bs.flags & STRATA_BS_ALLOCATED && bs.flags & STRATA_BS_DATA &&
              bs.flags & STRATA_BS_OFFSET_VALID);
    uint64_t host = bs.offset;
    strata_close(n);
    size_t flen = 0;
    uint8_t *file = tu_load(p, &flen);
    CU_ASSERT_FATAL(file && host + 100 <= flen);
    CU_ASSERT(memcmp(file + host, exp + 5000, 100) == 0);
    free(file);
    CU_ASSERT(qemu_reads("-f qcow", p, exp, size));
    /* And qemu-io, a second reader, agrees on a few bytes. */
    CU_ASSERT_EQUAL(tu_sh("qemu-io -f qcow -c 'read -P 0 3M 1M' '%s' >/dev/null", p), 0);
    free(exp);
}

/* A qcow with 4 KiB clusters over a raw backing file, laid out by hand (qemu
 * only makes 512-byte clusters over backing files): writes that cover part
 * of a cluster must copy the rest from the backing file, since qemu reads an
 * allocated cluster entirely from the image. */
static const char *make_cow_image(const char *name, size_t size)
{
    const char *base = tu_path("cow-base.raw");
    const char *p = tu_path(name);
    uint8_t *b = malloc(size);
    tu_fill(b, 0, size, 77);
    int fd = open(base, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CU_ASSERT_EQUAL(write(fd, b, size - MiB), (ssize_t)(size - MiB)); /* shorter */
    close(fd);
    free(b);

    uint8_t hdr[512 + 64] = { 0 };
    const char *bn = "cow-base.raw";
    tu_qcow_header(hdr, &(struct tu_qcow_hdr){ .magic = TU_QCOW_MAGIC, .version = 1,
                                               .backing_offset = 48,
                                               .backing_size = (uint32_t)strlen(bn),
                                               .size = size, .cluster_bits = 12,
                                               .l2_bits = 9, .l1_offset = 64 });
    memcpy(hdr + 48, bn, strlen(bn));
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CU_ASSERT_EQUAL(write(fd, hdr, sizeof hdr), (ssize_t)sizeof hdr);
    close(fd);
    return p;
}

static uint8_t *cow_expected(size_t size)
{
    uint8_t *exp = calloc(1, size);
    tu_fill(exp, 0, size - MiB, 77);
    return exp;
}

static void test_cow_from_backing(void)
{
    const size_t size = 4 * MiB;
    const char *p = make_cow_image("cow.qcow", size);
    uint8_t *exp = cow_expected(size);
    struct strata_error *err = NULL;
    struct strata_node *n = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_file(p, "qcow", STRATA_O_RDWR, &n, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strata_node_child(n, "backing"));
    CU_ASSERT(strata_reads(n, exp, size));
    write_fill(n, exp, 4096 + 512, 1024, 1);          /* middle of a cluster */
    write_fill(n, exp, 3 * 4096 - 512, 3 * 4096, 2);  /* partial head and tail */
    write_fill(n, exp, size - MiB - 1024, 2048, 3);   /* where backing ends */
    write_fill(n, exp, 2 * MiB + 100, 50, 4);         /* new L2 table, unaligned */
    CU_ASSERT(strata_reads(n, exp, size));
    /* Allocated at this layer, the rest comes from below. */
    int depth = -1;
    struct strata_block_status bs;
    CU_ASSERT_EQUAL(strata_block_status_above(n, 4096, 4096, &bs, &depth, &err), 0);
    CU_ASSERT_EQUAL(depth, 0);
    CU_ASSERT_EQUAL(strata_block_status_above(n, 8 * 4096, 4096, &bs, &depth, &err), 0);
    CU_ASSERT_EQUAL(depth, 1);
    strata_close(n);
    CU_ASSERT(qemu_reads("-f qcow", p, exp, size));
    free(exp);
}

/* blkdebug between qcow and its file fails every request after one of the
 * qcow events: the write fails with the injected error, and the image still
 * reads as it did before (metadata is only updated after what it points to
 * is written). */
static void test_events_keep_image_consistent(void)
{
    static const char *const events[] = { "l1_update", "l2_alloc", "l2_update",
                                          "cluster_alloc", "cow_read", "cow_write" };
    const size_t size = 4 * MiB;
    for (size_t e = 0; e < sizeof events / sizeof events[0]; e++) {
        const char *p = make_cow_image("ev.qcow", size);
        uint8_t *exp = cow_expected(size);
        struct strata_error *err = NULL;
        struct strata_node *n = NULL;
        char opts[2048];
        snprintf(opts, sizeof opts, "driver=qcow,file.driver=blkdebug,"
                 "file.image.driver=file,file.image.filename=%s,"
                 "file.inject-error.event=%s,file.inject-error.errno=ENOSPC", p, events[e]);
        CU_ASSERT_EQUAL_FATAL(strata_open_string(opts, STRATA_O_RDWR, &n, &err), 0);
        uint8_t buf[1024];
        tu_fill(buf, 100, sizeof buf, 9);
        /* Partial cluster in a new L2 table: raises all six events. */
        int r = strata_pwrite(n, 100, sizeof buf, buf, 0, &err);
        if (r != -ENOSPC)
            fprintf(stderr, "\n    event %s: write returned %d (%s)\n", events[e], r,
                    err ? err->msg : "no error");
        CU_ASSERT_EQUAL(r, -ENOSPC);
        CU_ASSERT(err && strstr(err->msg, "injected"));
        strata_error_free(err);
        strata_close(n);
        CU_ASSERT(qemu_reads("-f qcow", p, exp, size));
        /* And strata, without the filter, reads the same. */
        CU_ASSERT_EQUAL_FATAL(strata_open_file(p, "qcow", 0, &n, NULL), 0);
        CU_ASSERT(strata_reads(n, exp, size));
        strata_close(n);
        free(exp);
    }
}

/* Compressed clusters: whole clusters shrink, the rest is stored plainly;
 * qemu-img reads all of it, and the L2 entries carry the compressed flag. */
static void test_compressed_writes(void)
{
    const char *p = tu_path("z.qcow");
    const size_t size = 1 * MiB;
    struct strata_error *err = NULL;
    unlink(p);
    CU_ASSERT_EQUAL_FATAL(strata_image_create("qcow", p, size, NULL, &err), 0);
    uint8_t *exp = calloc(1, size);
    /* Compressible: a short repeating text; incompressible: xorshift. */
    for (size_t i = 0; i < 16 * 4096; i++)
        exp[i] = (uint8_t)"qcow compressed cluster "[i % 24];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 16 * 4096; i < 17 * 4096; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        exp[i] = (uint8_t)(x >> 24);
    }
    tu_fill(exp + 20 * 4096 + 512, 20 * 4096 + 512, 1024, 6);
    struct strata_node *n = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_file(p, "qcow", STRATA_O_RDWR, &n, &err), 0);
    CU_ASSERT_EQUAL(strata_pwrite_compressed(n, 0, 17 * 4096, exp, &err), 0);
    CU_ASSERT_EQUAL(strata_pwrite_compressed(n, 20 * 4096 + 512, 1024,
                                             exp + 20 * 4096 + 512, &err), 0);
    struct strata_block_status bs;
    CU_ASSERT_EQUAL(strata_block_status(n, 0, size, &bs, &err), 0);
    CU_ASSERT_EQUAL(bs.pnum, 16 * 4096);
    CU_ASSERT_EQUAL(bs.flags, STRATA_BS_ALLOCATED | STRATA_BS_DATA | STRATA_BS_COMPRESSED);
    CU_ASSERT(strata_reads(n, exp, size));
    /* Rewriting part of a compressed cluster decompresses it first. */
    uint8_t patch[512];
    tu_fill(patch, 4096 + 1024, sizeof patch, 7);
    memcpy(exp + 4096 + 1024, patch, sizeof patch);
    CU_ASSERT_EQUAL(strata_pwrite(n, 4096 + 1024, sizeof patch, patch, 0, &err), 0);
    CU_ASSERT(strata_reads(n, exp, size));
    strata_close(n);
    CU_ASSERT(qemu_reads("-f qcow", p, exp, size));

    /* Count L2 entries by kind straight from the file. */
    size_t flen = 0;
    uint8_t *f = tu_load(p, &flen);
    CU_ASSERT_FATAL(f != NULL);
    uint64_t l2 = 0;
    for (int j = 0; j < 8; j++)
        l2 = l2 << 8 | f[48 + j];
    int compressed = 0, plain = 0;
    for (int i = 0; i < 512 && l2 + 8 * i + 8 <= flen; i++) {
        uint64_t ent = 0;
        for (int j = 0; j < 8; j++)
            ent = ent << 8 | f[l2 + 8 * i + j];
        if (ent >> 63)
            compressed++;
        else if (ent)
            plain++;
    }
    CU_ASSERT_EQUAL(compressed, 15);   /* cluster 1 was rewritten */
    CU_ASSERT_EQUAL(plain, 3);         /* 1, 16 (incompressible), 20 (partial) */
    free(f);
    free(exp);
}

/* Legacy AES written by strata (with the override) is read by qemu-img with
 * the same passphrase; the first 16 bytes of a longer one are the key. */
static void test_aes_write(void)
{
    const char *p = tu_path("aes.qcow");
    const char *pass = "a passphrase longer than sixteen bytes";
    const size_t size = 2 * MiB;
    struct strata_error *err = NULL;
    unlink(p);
    CU_ASSERT_EQUAL_FATAL(strata_secret_add("aes0", pass, strlen(pass), &err), 0);
    struct strata_opts *o = strata_opts_new();
    strata_opts_set(o, "encrypt.format", "aes");
    strata_opts_set(o, "encrypt.key-secret", "aes0");
    strata_opts_set(o, "encrypt.allow-legacy-aes", "on");
    CU_ASSERT_EQUAL_FATAL(strata_image_create("qcow", p, size, o, &err), 0);
    strata_opts_free(o);
    uint8_t *exp = calloc(1, size);
    char spec[1024];
    snprintf(spec, sizeof spec, "driver=qcow,file.filename=%s,encrypt.key-secret=aes0,"
             "encrypt.allow-legacy-aes=on", p);
    struct strata_node *n = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_string(spec, STRATA_O_RDWR, &n, &err), 0);
    write_fill(n, exp, 0, 8192, 1);
    write_fill(n, exp, 10000, 3000, 2);
    write_fill(n, exp, MiB + 512, 64 * KiB, 3);
    CU_ASSERT(strata_reads(n, exp, size));
    /* Encrypted data has no host offset: the file holds ciphertext. */
    struct strata_block_status bs;
    CU_ASSERT_EQUAL(strata_block_status(n, 0, 4096, &bs, &err), 0);
    CU_ASSERT_EQUAL(bs.flags, STRATA_BS_ALLOCATED | STRATA_BS_DATA);
    strata_close(n);
    char extra[512];
    snprintf(extra, sizeof extra, "--object secret,id=s,data='%s' --image-opts", pass);
    char img[1024];
    snprintf(img, sizeof img, "driver=qcow,encrypt.key-secret=s,file.filename=%s", p);
    CU_ASSERT(qemu_reads(extra, img, exp, size));

    /* The plaintext is not in the file. */
    size_t flen = 0;
    uint8_t *f = tu_load(p, &flen);
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_PTR_NULL(memmem(f, flen, exp + MiB + 4096, 64));
    free(f);
    free(exp);
    strata_secret_remove("aes0");
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "writes read back by qemu-img", test_plain_writes },
        { "copy-on-write from the backing file", test_cow_from_backing },
        { "blkdebug at each qcow event", test_events_keep_image_consistent },
        { "compressed clusters", test_compressed_writes },
        { "legacy AES written, read by qemu-img", test_aes_write },
        { NULL, NULL },
    };
    tu_add_suite("qcow I/O", NULL, NULL, tests);
    return tu_run();
}
