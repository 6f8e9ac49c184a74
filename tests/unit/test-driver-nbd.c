/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-driver-nbd.c - the nbd driver: option refusals before any
 * connection is tried, and the behaviour of a fixed-size export served by
 * nbdkit's memory plugin (size, bounds, resize rules, block status, a
 * read-only export, a connection refused). */
#include "testutil.h"

#include <strata/strata.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Opens `dotted` and expects failure with `code` and a message containing
 * every one of the NULL-terminated fragments. */
static void expect_refusal(const char *dotted, unsigned flags, int code, ...)
{
    struct strata_node *n = NULL;
    struct strata_error *err = NULL;
    int r = strata_open_string(dotted, flags, &n, &err);
    CU_ASSERT_EQUAL(r, -code);
    CU_ASSERT_PTR_NULL(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    va_list ap;
    va_start(ap, code);
    for (const char *frag; (frag = va_arg(ap, const char *));) {
        if (!strstr(err->msg, frag)) {
            fprintf(stderr, "\n  '%s': message '%s' lacks '%s'\n", dotted, err->msg, frag);
            CU_FAIL("message lacks an expected fragment");
        }
    }
    va_end(ap);
    strata_error_free(err);
    if (n)
        strata_close(n);
}

static void test_no_server(void)
{
    expect_refusal("driver=nbd", 0, EINVAL, "no server given", "server.type", NULL);
    expect_refusal("driver=nbd,export=x", 0, EINVAL, "no server given", NULL);
}

static void test_incomplete_address(void)
{
    expect_refusal("driver=nbd,server.type=unix", 0, EINVAL, "server.path", NULL);
    expect_refusal("driver=nbd,server.type=inet", 0, EINVAL, "server.host", NULL);
    expect_refusal("driver=nbd,server.type=inet,server.port=10809", 0, EINVAL,
                   "server.host", NULL);
}

static void test_contradictions(void)
{
    expect_refusal("driver=nbd,server.type=unix,server.path=/x,server.host=h", 0, EINVAL,
                   "server.host does not apply", NULL);
    expect_refusal("driver=nbd,server.type=unix,server.path=/x,server.port=1", 0, EINVAL,
                   "server.port does not apply", NULL);
    expect_refusal("driver=nbd,server.type=inet,server.host=h,server.path=/x", 0, EINVAL,
                   "server.path does not apply", NULL);
    expect_refusal("driver=nbd,server.path=/x,server.host=h", 0, EINVAL,
                   "set server.type", NULL);
    expect_refusal("driver=nbd,filename=nbd+unix:///?socket=/x,server.path=/x", 0, EINVAL,
                   "either filename", NULL);
    expect_refusal("driver=nbd,filename=nbd://h/e,export=e", 0, EINVAL,
                   "either filename", NULL);
}

static void test_bad_values(void)
{
    expect_refusal("driver=nbd,server.type=inet,server.host=h,server.port=70000", 0,
                   EINVAL, "server.port '70000'", NULL);
    expect_refusal("driver=nbd,server.type=inet,server.host=h,server.port=http", 0,
                   EINVAL, "server.port 'http'", NULL);
    expect_refusal("driver=nbd,server.type=inet,server.host=h,server.port=0", 0,
                   EINVAL, "server.port '0'", NULL);
    expect_refusal("driver=nbd,server.type=tcp,server.host=h", 0, EINVAL,
                   "server.type", "tcp", NULL);
    expect_refusal("driver=nbd,filename=/dev/nbd0", 0, EINVAL, "not an NBD URI", NULL);
    expect_refusal("driver=nbd,filename=http://h/x", 0, EINVAL, "not an NBD URI", NULL);
    expect_refusal("driver=nbd,server.path=/x,reconnect-attempts=many", 0, EINVAL,
                   "reconnect-attempts", NULL);
    expect_refusal("driver=nbd,server.path=/x,timeout=-1", 0, EINVAL, "timeout", NULL);
    expect_refusal("driver=nbd,server.path=/x,server.bogus=1", 0, EINVAL,
                   "server.bogus", NULL);
}

/* Nothing listens: the error names the address as a URI and the cause. */
static void test_refused(void)
{
    char dotted[512];
    snprintf(dotted, sizeof dotted, "driver=nbd,server.path=%s", tu_path("none.sock"));
    expect_refusal(dotted, 0, ENOENT, "could not connect", "nbd+unix:///?socket=",
                   "none.sock", NULL);
    /* server.type was inferred from server.path: it tried that socket. */
    snprintf(dotted, sizeof dotted, "driver=raw,file.driver=nbd,file.server.type=unix,"
             "file.server.path=%s,file.export=disk", tu_path("none.sock"));
    expect_refusal(dotted, 0, ENOENT, "nbd+unix:///disk?socket=", NULL);
}

/* ------------------------------------------------------------ a live server */

static pid_t server_pid = -1, ro_server_pid = -1;

static pid_t start_nbdkit(const char *sock, bool readonly)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (readonly)
            execlp("nbdkit", "nbdkit", "-f", "-r", "--exit-with-parent", "-U", sock,
                   "memory", "size=4M", (char *)NULL);
        else
            execlp("nbdkit", "nbdkit", "-f", "--exit-with-parent", "-U", sock,
                   "memory", "size=4M", (char *)NULL);
        _exit(127);
    }
    /* Ready when the socket exists; at most 10 s. */
    for (int i = 0; i < 1000; i++) {
        struct stat st;
        if (stat(sock, &st) == 0)
            return pid;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return -1;
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static void stop_nbdkit(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGTERM);
        waitpid(*pid, NULL, 0);
        *pid = -1;
    }
}

static int live_init(void)
{
    server_pid = start_nbdkit(tu_path("mem.sock"), false);
    ro_server_pid = start_nbdkit(tu_path("ro.sock"), true);
    if (server_pid < 0 || ro_server_pid < 0) {
        fprintf(stderr, "cannot start nbdkit (Debian package nbdkit)\n");
        return 1;
    }
    return 0;
}

static int live_clean(void)
{
    stop_nbdkit(&server_pid);
    stop_nbdkit(&ro_server_pid);
    return 0;
}

static struct strata_node *open_live(const char *sockname, unsigned flags)
{
    char dotted[512];
    snprintf(dotted, sizeof dotted, "driver=nbd,server.type=unix,server.path=%s",
             tu_path(sockname));
    struct strata_node *n = NULL;
    struct strata_error *err = NULL;
    int r = strata_open_string(dotted, flags, &n, &err);
    if (r < 0)
        fprintf(stderr, "\n  open: %s\n", err->msg);
    strata_error_free(err);
    return n;
}

static void test_size_and_data(void)
{
    struct strata_node *n = open_live("mem.sock", STRATA_O_RDWR);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(strata_get_length(n), 4 << 20);

    static uint8_t buf[256 * 1024], back[256 * 1024];
    tu_fill(buf, 4096, sizeof buf, 7);
    CU_ASSERT_EQUAL(strata_pwrite(n, 4096, sizeof buf, buf, 0, NULL), 0);
    CU_ASSERT_EQUAL(strata_flush(n, NULL), 0);
    CU_ASSERT_EQUAL(strata_pread(n, 4096, sizeof back, back, 0, NULL), 0);
    CU_ASSERT_EQUAL(tu_check(back, 4096, sizeof back, 7), -1);

    /* Unaligned, FUA. */
    tu_fill(buf, 1000001, 3333, 8);
    CU_ASSERT_EQUAL(strata_pwrite(n, 1000001, 3333, buf, STRATA_REQ_FUA, NULL), 0);
    CU_ASSERT_EQUAL(strata_pread(n, 1000001, 3333, back, 0, NULL), 0);
    CU_ASSERT_EQUAL(tu_check(back, 1000001, 3333, 8), -1);

    /* Zeroing, then block status reports it as zero. */
    CU_ASSERT_EQUAL(strata_pwrite_zeroes(n, 4096, 65536, STRATA_REQ_MAY_UNMAP, NULL), 0);
    CU_ASSERT_EQUAL(strata_pread(n, 4096, 65536, back, 0, NULL), 0);
    static const uint8_t zeros[65536];
    CU_ASSERT_EQUAL(memcmp(back, zeros, 65536), 0);

    struct strata_block_status bs;
    CU_ASSERT_EQUAL(strata_block_status(n, 3 << 20, 1 << 20, &bs, NULL), 0);
    CU_ASSERT(bs.flags & STRATA_BS_ZERO);
    CU_ASSERT(!(bs.flags & STRATA_BS_DATA));
    CU_ASSERT_EQUAL(bs.pnum, 1 << 20);
    CU_ASSERT_EQUAL(strata_block_status(n, 4096 + 65536, 4096, &bs, NULL), 0);
    CU_ASSERT(bs.flags & STRATA_BS_DATA);
    strata_close(n);
}

static void test_fixed_size(void)
{
    struct strata_node *n = open_live("mem.sock", STRATA_O_RDWR);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    uint8_t b[512] = { 1 };
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_pwrite(n, (4 << 20) - 256, 512, b, 0, &err), -ENOSPC);
    CU_ASSERT(err && strstr(err->msg, "past the end of the export"));
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(strata_truncate(n, 8 << 20, false, STRATA_PREALLOC_OFF, &err), -ENOSPC);
    CU_ASSERT(err && strstr(err->msg, "cannot grow"));
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_EQUAL(strata_truncate(n, 1 << 20, true, STRATA_PREALLOC_OFF, &err), -ENOTSUP);
    strata_error_free(err);
    CU_ASSERT_EQUAL(strata_truncate(n, 1 << 20, false, STRATA_PREALLOC_OFF, NULL), 0);
    CU_ASSERT_EQUAL(strata_truncate(n, 4 << 20, true, STRATA_PREALLOC_OFF, NULL), 0);
    CU_ASSERT_EQUAL(strata_get_length(n), 4 << 20);
    /* Reads past the end give zeros, as a file's do. */
    uint8_t r[1024];
    memset(r, 0xff, sizeof r);
    CU_ASSERT_EQUAL(strata_pread(n, (4 << 20) - 512, 1024, r, 0, NULL), 0);
    CU_ASSERT_EQUAL(r[1023], 0);
    strata_close(n);
}

static void test_read_only_export(void)
{
    char dotted[512];
    snprintf(dotted, sizeof dotted, "driver=nbd,server.path=%s", tu_path("ro.sock"));
    expect_refusal(dotted, STRATA_O_RDWR, EROFS, "read-only", NULL);
    struct strata_node *n = open_live("ro.sock", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    uint8_t b[4096];
    CU_ASSERT_EQUAL(strata_pread(n, 0, sizeof b, b, 0, NULL), 0);
    strata_close(n);
}

/* The URI form reaches the same export. */
static void test_uri(void)
{
    char dotted[512];
    snprintf(dotted, sizeof dotted, "driver=nbd,filename=nbd+unix:///?socket=%s",
             tu_path("mem.sock"));
    struct strata_node *n = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_string(dotted, 0, &n, NULL), 0);
    CU_ASSERT_EQUAL(strata_get_length(n), 4 << 20);
    strata_close(n);
}

int main(void)
{
    static const struct tu_test refusals[] = {
        { "no server", test_no_server },
        { "incomplete address", test_incomplete_address },
        { "contradictions", test_contradictions },
        { "bad values", test_bad_values },
        { "connection refused", test_refused },
        { NULL },
    };
    static const struct tu_test live[] = {
        { "size and data", test_size_and_data },
        { "fixed size", test_fixed_size },
        { "read-only export", test_read_only_export },
        { "URI", test_uri },
        { NULL },
    };
    signal(SIGPIPE, SIG_IGN);
    tu_add_suite("nbd options", NULL, NULL, refusals);
    tu_add_suite("nbd export", live_init, live_clean, live);
    return tu_run();
}
