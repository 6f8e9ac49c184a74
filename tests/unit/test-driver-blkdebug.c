/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-driver-blkdebug.c - the blkdebug filter: the Nth matching write
 * fails with an injected -EIO and a message naming image, operation,
 * offset and errno; once/count/skip; offset and iotype matching; the
 * set-state machine; named events raised by a parent; request shaping by
 * align and max-transfer, counted by rules themselves; the debug log;
 * errors in rule files. */
#include "hostfile.h"
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MiB (1024u * 1024u)
#define KiB 1024u

static char img[4096];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void new_image(void)
{
    snprintf(img, sizeof img, "%s", tu_path("bd.img"));
    unlink(img);
    tu_fill_file(img, 0, 4 * MiB, 1);
}

/* raw over blkdebug over file, with `rules` as the rule file (may be NULL)
 * and `extra` blkdebug options. */
static struct strata_node *open_stack(const char *rules, const char *extra,
                                      struct strata_error **errp)
{
    char spec[16384], cfg[4200] = "";
    if (rules) {
        write_text(tu_path("rules.conf"), rules);
        snprintf(cfg, sizeof cfg, "file.config=%s,", tu_path("rules.conf"));
    }
    snprintf(spec, sizeof spec, "driver=raw,file.driver=blkdebug,%s%s%s"
             "file.image.driver=file,file.image.filename=%s",
             rules ? cfg : "", extra ? extra : "", extra ? "," : "", img);
    struct strata_node *n = NULL;
    return strata_open_string(spec, STRATA_O_RDWR, &n, errp) < 0 ? NULL : n;
}

static struct strata_node *must_open(const char *rules, const char *extra)
{
    struct strata_error *err = NULL;
    struct strata_node *n = open_stack(rules, extra, &err);
    if (!n)
        fprintf(stderr, "\n    open failed: %s\n", err ? err->msg : "?");
    strata_error_free(err);
    return n;
}

static int do_write(struct strata_node *n, uint64_t off, uint64_t len, char *msg,
                    size_t msglen)
{
    struct strata_error *err = NULL;
    uint8_t *b = malloc(len);
    tu_fill(b, off, len, 2);
    int r = strata_pwrite(n, off, len, b, 0, &err);
    free(b);
    if (msg)
        snprintf(msg, msglen, "%s", err ? err->msg : "");
    strata_error_free(err);
    return r;
}

static int do_read(struct strata_node *n, uint64_t off, uint64_t len, char *msg,
                   size_t msglen)
{
    struct strata_error *err = NULL;
    uint8_t *b = malloc(len);
    int r = strata_pread(n, off, len, b, 0, &err);
    free(b);
    if (msg)
        snprintf(msg, msglen, "%s", err ? err->msg : "");
    strata_error_free(err);
    return r;
}

static void expect_msg(const char *msg, const char *want)
{
    if (strcmp(msg, want) != 0)
        fprintf(stderr, "\n    got:  %s\n    want: %s\n", msg, want);
    CU_ASSERT_STRING_EQUAL(msg, want);
}

/* ------------------------------------------------------------ tests */

static void test_nth_write(void)
{
    new_image();
    struct strata_node *n = must_open(
        "inject-error = ( { event = \"write_aio\"; iotype = \"write\";\n"
        "                   skip = 2; once = true; } );\n", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    char msg[1024], want[5000];
    CU_ASSERT_EQUAL(do_write(n, 0, 4096, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(do_write(n, 4096, 4096, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(do_write(n, 8192, 4096, msg, sizeof msg), -EIO);
    snprintf(want, sizeof want, "blkdebug: injected EIO on write at offset 8192 (%s)", img);
    expect_msg(msg, want);
    /* once: the fourth and later writes go through. */
    CU_ASSERT_EQUAL(do_write(n, 8192, 4096, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(do_write(n, 12288, 4096, msg, sizeof msg), 0);
    /* Reads were never affected. */
    CU_ASSERT_EQUAL(do_read(n, 0, 4096, NULL, 0), 0);
    strata_close(n);
}

static void test_failed_write_not_written(void)
{
    new_image();
    struct strata_node *n = must_open(NULL, "file.inject-error.event=write_aio,"
                                            "file.inject-error.once=on");
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(do_write(n, 65536, 4096, NULL, 0), -EIO);
    strata_close(n);
    int fd = open(img, O_RDONLY);
    uint8_t b[4096];
    CU_ASSERT_EQUAL(pread(fd, b, sizeof b, 65536), (ssize_t)sizeof b);
    close(fd);
    CU_ASSERT_EQUAL(tu_check(b, 65536, sizeof b, 1), -1);
}

static void test_once_vs_always(void)
{
    new_image();
    struct strata_node *n = must_open(
        "inject-error = { event = \"read_aio\"; errno = \"ENOSPC\"; };\n", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    char msg[1024];
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(do_read(n, 0, 512, msg, sizeof msg), -ENOSPC);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "injected ENOSPC on read at offset 0"));
    /* A rule active since read_aio fails writes too (iotype not limited). */
    CU_ASSERT_EQUAL(do_write(n, 0, 512, NULL, 0), -ENOSPC);
    strata_close(n);

    n = must_open("inject-error = ( { event = \"read_aio\"; errno = 28; once = true; } );",
                  NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(do_read(n, 0, 512, NULL, 0), -ENOSPC);
    CU_ASSERT_EQUAL(do_read(n, 0, 512, NULL, 0), 0);
    CU_ASSERT_EQUAL(do_read(n, 0, 512, NULL, 0), 0);
    strata_close(n);

    /* count = 2: exactly two failures. */
    n = must_open("inject-error = ( { event = \"read_aio\"; count = 2; } );", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(do_read(n, 0, 512, NULL, 0), -EIO);
    CU_ASSERT_EQUAL(do_read(n, 0, 512, NULL, 0), -EIO);
    CU_ASSERT_EQUAL(do_read(n, 0, 512, NULL, 0), 0);
    strata_close(n);
}

static void test_offset_and_iotype(void)
{
    new_image();
    struct strata_node *n = must_open(
        "inject-error = ( { event = \"write_aio\"; offset = 8192; iotype = \"write\"; },\n"
        "                 { event = \"flush_to_disk\"; iotype = [ \"flush\" ];\n"
        "                   errno = \"EROFS\"; once = true; } );\n", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    char msg[1024], want[5000];
    CU_ASSERT_EQUAL(do_write(n, 0, 8192, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(do_write(n, 8193, 100, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(do_write(n, 4096, 8192, msg, sizeof msg), -EIO);
    snprintf(want, sizeof want, "blkdebug: injected EIO on write at offset 4096 (%s)", img);
    expect_msg(msg, want);
    CU_ASSERT_EQUAL(do_read(n, 8192, 512, NULL, 0), 0);

    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_flush(n, &err), -EROFS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    snprintf(want, sizeof want, "blkdebug: injected EROFS on flush (%s)", img);
    expect_msg(err->msg, want);
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(strata_flush(n, &err), 0);
    strata_close(n);

    /* sector = 16 is offset 8192; discard and zero requests match by type. */
    n = must_open("inject-error = ( { event = \"discard\"; sector = 16; iotype = \"discard\"; },"
                  " { event = \"write_zeroes\"; iotype = \"zero\"; errno = \"EPERM\"; } );",
                  NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(strata_pdiscard(n, 0, 4096, &err), 0);
    CU_ASSERT_EQUAL(strata_pdiscard(n, 4096, 8192, &err), -EIO);
    CU_ASSERT_PTR_NOT_NULL(err);
    if (err)
        CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "on discard at offset 4096"));
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(strata_pwrite_zeroes(n, 0, 4096, 0, &err), -EPERM);
    CU_ASSERT_PTR_NOT_NULL(err);
    if (err)
        CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "injected EPERM on write zeroes at offset 0"));
    strata_error_free(err);
    strata_close(n);
}

static void test_set_state(void)
{
    new_image();
    struct strata_node *n = must_open(
        "inject-error = ( { event = \"read_aio\"; state = 1; iotype = \"read\"; },\n"
        "                 { event = \"read_aio\"; state = 2; iotype = \"read\";\n"
        "                   errno = \"ENOSPC\"; } );\n"
        "set-state = ( { event = \"write_aio\"; state = 1; new_state = 2; },\n"
        "              { event = \"write_aio\"; state = 2; new_state = 3; } );\n", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(do_read(n, 0, 512, NULL, 0), -EIO);      /* state 1 */
    CU_ASSERT_EQUAL(do_write(n, 0, 512, NULL, 0), 0);        /* 1 -> 2, not 3 */
    CU_ASSERT_EQUAL(do_read(n, 0, 512, NULL, 0), -ENOSPC);   /* state 2 */
    CU_ASSERT_EQUAL(do_write(n, 0, 512, NULL, 0), 0);        /* 2 -> 3 */
    /* In state 3 no read rule activates; the ENOSPC rule is still the
     * active one, as QEMU keeps rules active until another event replaces
     * them. */
    CU_ASSERT_EQUAL(do_read(n, 0, 512, NULL, 0), -ENOSPC);
    strata_close(n);
}

static void expect_open_fails(const char *rules, const char *extra, const char *needle);

/* QEMU's INI rule files and its numbered inline rules behave as the same
 * rules in strata's own forms (test_set_state). */
static void test_qemu_forms(void)
{
    new_image();
    struct strata_node *n = must_open(
        "# QEMU's syntax\n"
        "[inject-error]\n"
        "event = \"read_aio\"\n"
        "state = \"1\"\n"
        "iotype = \"read\"\n"
        "\n"
        "[inject-error]\n"
        "event = \"read_aio\"\n"
        "state = \"2\"\n"
        "iotype = \"read\"\n"
        "errno = \"28\"\n"
        "[set-state]\n"
        "event = \"write_aio\"\n"
        "state = \"1\"\n"
        "new_state = \"2\"\n", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(do_read(n, 0, 512, NULL, 0), -EIO);
    CU_ASSERT_EQUAL(do_write(n, 0, 512, NULL, 0), 0);
    CU_ASSERT_EQUAL(do_read(n, 0, 512, NULL, 0), -ENOSPC);
    strata_close(n);

    n = must_open(NULL, "file.inject-error.0.event=read_aio,file.inject-error.0.state=1,"
                  "file.inject-error.0.iotype=read,file.inject-error.7.event=read_aio,"
                  "file.inject-error.7.state=2,file.inject-error.7.iotype=read,"
                  "file.inject-error.7.errno=ENOSPC,file.set-state.0.event=write_aio,"
                  "file.set-state.0.state=1,file.set-state.0.new_state=2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(do_read(n, 0, 512, NULL, 0), -EIO);
    CU_ASSERT_EQUAL(do_write(n, 0, 512, NULL, 0), 0);
    CU_ASSERT_EQUAL(do_read(n, 0, 512, NULL, 0), -ENOSPC);
    strata_close(n);

    expect_open_fails("[inject-error]\nevent = \"read_aio\"\ncolour = \"red\"\n", NULL,
                      "rules.conf:1: unknown key 'colour'");
    expect_open_fails("[suspend]\nevent = \"read_aio\"\n", NULL,
                      "rules.conf:1: unknown section [suspend]");
    expect_open_fails("[inject-error]\nevent\n", NULL, "rules.conf:2: expected a [section] or key");
    expect_open_fails(NULL, "file.inject-error.x.event=read_aio",
                      "does not support option 'inject-error.x.event'");
}

static void test_named_events(void)
{
    new_image();
    struct strata_node *n = must_open(
        "set-state = ( { event = \"l2_update\"; new_state = 2; } );\n"
        "inject-error = ( { event = \"refblock_alloc\"; state = 2; once = true;\n"
        "                   errno = \"EIO\"; } );\n", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    struct strata_node *bd = strata_node_child(n, "file");
    CU_ASSERT_PTR_NOT_NULL_FATAL(bd);
    CU_ASSERT_STRING_EQUAL(strata_node_driver_name(bd), "blkdebug");

    /* State 1: refblock_alloc activates nothing. */
    strata_node_event(bd, STRATA_EV_REFBLOCK_ALLOC);
    CU_ASSERT_EQUAL(do_write(n, 0, 512, NULL, 0), 0);
    strata_node_event(bd, STRATA_EV_L2_UPDATE);
    CU_ASSERT_EQUAL(do_write(n, 0, 512, NULL, 0), 0);
    strata_node_event(bd, STRATA_EV_REFBLOCK_ALLOC);
    char msg[1024];
    CU_ASSERT_EQUAL(do_write(n, 1024, 512, msg, sizeof msg), -EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "injected EIO on write at offset 1024"));
    CU_ASSERT_EQUAL(do_write(n, 1024, 512, NULL, 0), 0);
    strata_close(n);
}

static void test_align_max_transfer(void)
{
    new_image();
    /* Read-modify-write: a 100-byte write at 5000 becomes a read of the
     * aligned block at 4096, and only that read is failed here. */
    struct strata_node *n = must_open(
        "inject-error = ( { event = \"read_aio\"; iotype = \"read\"; once = true; } );\n",
        "file.align=4096");
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    struct strata_node *bd = strata_node_child(n, "file");
    struct strata_limits lim;
    strata_node_get_limits(bd, &lim);
    CU_ASSERT_EQUAL(lim.request_alignment, 4096);
    char msg[1024];
    CU_ASSERT_EQUAL(do_write(n, 5000, 100, msg, sizeof msg), -EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "injected EIO on read at offset 4096"));
    CU_ASSERT_EQUAL(do_write(n, 5000, 100, msg, sizeof msg), 0);
    strata_close(n);
    int fd = open(img, O_RDONLY);
    uint8_t b[8192];
    CU_ASSERT_EQUAL(pread(fd, b, sizeof b, 0), (ssize_t)sizeof b);
    close(fd);
    CU_ASSERT_EQUAL(tu_check(b, 0, 5000, 1), -1);
    CU_ASSERT_EQUAL(tu_check(b + 5000, 5000, 100, 2), -1);
    CU_ASSERT_EQUAL(tu_check(b + 5100, 5100, sizeof b - 5100, 1), -1);

    /* max-transfer=64K: a 256K write arrives as four requests.  Failing the
     * fourth names its offset; skipping four lets the whole write pass. */
    n = must_open("inject-error = ( { event = \"write_aio\"; iotype = \"write\";"
                  " skip = 3; once = true; } );\n", "file.align=4096,file.max-transfer=64K");
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    /* The filter splits reads and writes itself: announced, the limit would
     * split write-zeroes too, which QEMU's max-transfer does not. */
    strata_node_get_limits(strata_node_child(n, "file"), &lim);
    CU_ASSERT_EQUAL(lim.max_transfer, 0);
    CU_ASSERT_EQUAL(do_write(n, 0, 256 * KiB, msg, sizeof msg), -EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "injected EIO on write at offset 196608"));
    strata_close(n);

    n = must_open("inject-error = ( { event = \"write_aio\"; iotype = \"write\";"
                  " skip = 4; once = true; } );\n", "file.align=4096,file.max-transfer=64K");
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(do_write(n, 0, 256 * KiB, msg, sizeof msg), 0);
    /* The next request is the fifth: it fails, at the offset it asked for. */
    CU_ASSERT_EQUAL(do_write(n, 512 * KiB, 4096, msg, sizeof msg), -EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "at offset 524288"));
    strata_close(n);

    /* Without max-transfer the same write is one request. */
    n = must_open("inject-error = ( { event = \"write_aio\"; iotype = \"write\";"
                  " skip = 1; once = true; } );\n", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(do_write(n, 0, 256 * KiB, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(do_write(n, 0, 4096, msg, sizeof msg), -EIO);
    strata_close(n);
}

static void test_debug_log(void)
{
    new_image();
    struct strata_node *n = must_open(NULL, "file.inject-error.event=write_aio,"
                                            "file.inject-error.errno=ENOSPC,"
                                            "file.inject-error.once=on");
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    const char *log = tu_path("debug.log");
    fflush(stderr);
    int saved = dup(2);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CU_ASSERT_FATAL(fd >= 0 && saved >= 0);
    dup2(fd, 2);
    close(fd);
    strata_set_debug(true);
    int r = do_write(n, 12288, 4096, NULL, 0);
    strata_set_debug(false);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    CU_ASSERT_EQUAL(r, -ENOSPC);
    FILE *f = fopen(log, "r");
    char text[4096] = "";
    size_t got = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[got] = 0;
    if (f)
        fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "blkdebug: injected ENOSPC on write at offset "
                                        "12288"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, img));
    strata_close(n);
}

static void expect_open_fails(const char *rules, const char *extra, const char *needle)
{
    struct strata_error *err = NULL;
    struct strata_node *n = open_stack(rules, extra, &err);
    CU_ASSERT_PTR_NULL(n);
    if (n)
        strata_close(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    if (!strstr(err->msg, needle))
        fprintf(stderr, "\n    '%s' not in: %s\n", needle, err->msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, needle));
    strata_error_free(err);
}

static void test_bad_rules(void)
{
    new_image();
    expect_open_fails("inject-error = ( { event = \"read_aio\"; colour = 1; } );",
                      NULL, "rules.conf:1: unknown key 'colour'");
    expect_open_fails("inject-error = ( { errno = 5; } );", NULL, "without 'event'");
    expect_open_fails("inject-error = ( { event = \"read_aio\"; errno = \"EWHATEVER\"; } );",
                      NULL, "EWHATEVER");
    expect_open_fails("inject-error = ( { event = \"read_aio\"; iotype = \"fsync\"; } );",
                      NULL, "iotype 'fsync'");
    expect_open_fails("set-state = ( { event = \"read_aio\"; state = 1; } );", NULL,
                      "without 'new_state'");
    expect_open_fails("\n\ninject-error = ( { event = \"read_aio\"; } ", NULL, "rules.conf:");
    expect_open_fails("rules = ();", NULL, "unknown setting 'rules'");
    expect_open_fails(NULL, "file.config=/nonexistent/rules.conf", "/nonexistent/rules.conf");
    expect_open_fails(NULL, "file.align=3000", "power of two");
    expect_open_fails(NULL, "file.align=4096,file.max-transfer=6000", "multiple of align");
    expect_open_fails(NULL, "file.inject-error.errno=EIO", "without 'event'");
    /* Event names are a fixed, case-sensitive list: a misspelt one would
     * never fire, so it is refused. */
    expect_open_fails("inject-error = ( { event = \"L2_UPDATE\"; } );", NULL,
                      "rules.conf:1: unknown event 'L2_UPDATE'");
    expect_open_fails(NULL, "file.inject-error.event=write_aoi",
                      "unknown event 'write_aoi'");
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "the Nth write fails with the injected message", test_nth_write },
        { "a failed write writes nothing", test_failed_write_not_written },
        { "once, count and unlimited rules", test_once_vs_always },
        { "offset, sector and iotype matching", test_offset_and_iotype },
        { "set-state changes which rules fire", test_set_state },
        { "QEMU's rule files and numbered rules", test_qemu_forms },
        { "events raised by a parent", test_named_events },
        { "align and max-transfer shape requests", test_align_max_transfer },
        { "injections are logged with strata_debug", test_debug_log },
        { "bad rules are refused with their place", test_bad_rules },
        { NULL, NULL },
    };
    tu_add_suite("blkdebug driver", NULL, NULL, tests);
    return tu_run();
}
