/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-driver-file.c - the file protocol driver through the public API:
 * data lands where pread(2) finds it, holes and zeroing checked with
 * SEEK_DATA and st_blocks, preallocation, O_DIRECT with unaligned requests
 * and memory, and image locks against strata itself and against real
 * qemu-io/qemu-img processes. */
#include "hostfile.h"
#include "testutil.h"

#include <strata/strata.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024u * 1024u)
#define KiB 1024u

/* ------------------------------------------------------------ helpers */

static struct strata_node *open_file(const char *path, const char *extra, unsigned flags,
                                     struct strata_error **errp)
{
    char spec[4096];
    snprintf(spec, sizeof spec, "driver=file,filename=%s%s%s", path, extra ? "," : "",
             extra ? extra : "");
    struct strata_node *n = NULL;
    if (strata_open_string(spec, flags, &n, errp) < 0)
        return NULL;
    return n;
}

/* Writes len bytes of the seed pattern at off with pwrite(2). */
static off_t host_seek(const char *path, off_t off, int whence)
{
    int fd = open(path, O_RDONLY);
    CU_ASSERT_FATAL(fd >= 0);
    off_t r = lseek(fd, off, whence);
    close(fd);
    return r;
}

static struct stat host_stat(const char *path)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    return st;
}

/* Whether another open file holds a lock on `byte` of path (F_OFD_GETLK
 * from a descriptor of our own, so strata's code is not involved). */
static bool byte_locked(const char *path, off_t byte)
{
    int fd = open(path, O_RDONLY);
    CU_ASSERT_FATAL(fd >= 0);
    struct flock fl = { .l_whence = SEEK_SET, .l_start = byte, .l_len = 1,
                        .l_type = F_WRLCK };
    CU_ASSERT_EQUAL(fcntl(fd, F_OFD_GETLK, &fl), 0);
    close(fd);
    return fl.l_type != F_UNLCK;
}

/* ------------------------------------------------------------ processes */

static pid_t children[8];

static void kill_children(void)
{
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) {
        if (children[i] > 0) {
            kill(children[i], SIGKILL);
            waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
    }
}

static void track(pid_t pid)
{
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++)
        if (children[i] == 0) {
            children[i] = pid;
            return;
        }
}

static void untrack(pid_t pid)
{
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++)
        if (children[i] == pid)
            children[i] = 0;
}

/* Starts argv with stdin and stdout/stderr on pipes (either may be NULL). */
static pid_t spawn(char *const argv[], int *in_fd, int *out_fd)
{
    int in[2], out[2];
    if (pipe(in) < 0 || pipe(out) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (in_fd)
        *in_fd = in[1];
    else
        close(in[1]);
    if (out_fd)
        *out_fd = out[0];
    else
        close(out[0]);
    if (pid > 0)
        track(pid);
    return pid;
}

/* Reads from fd until `needle` shows up, EOF, or a generous deadline that
 * only guards against a hung peer. */
static bool wait_output(int fd, const char *needle, char *buf, size_t len)
{
    size_t have = 0;
    buf[0] = 0;
    for (int waited = 0; waited < 30000;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, 100);
        if (r == 0) {
            waited += 100;
            continue;
        }
        ssize_t n = read(fd, buf + have, len - 1 - have);
        if (n <= 0)
            return false;
        have += (size_t)n;
        buf[have] = 0;
        if (strstr(buf, needle))
            return true;
        if (have == len - 1)
            have = 0;
    }
    return false;
}

/* Runs a command to completion; returns its exit status, output in out. */
static int run(char *const argv[], char *out, size_t len)
{
    int ofd;
    pid_t pid = spawn(argv, NULL, &ofd);
    CU_ASSERT_FATAL(pid > 0);
    size_t have = 0;
    ssize_t n;
    while ((n = read(ofd, out + have, len - 1 - have)) > 0 && have + (size_t)n < len - 1)
        have += (size_t)n;
    if (n > 0)
        have += (size_t)n;
    out[have] = 0;
    close(ofd);
    int st;
    waitpid(pid, &st, 0);
    untrack(pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void stop(pid_t pid, int in_fd)
{
    if (in_fd >= 0)
        close(in_fd);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    untrack(pid);
}

/* ------------------------------------------------------------ data path */

static void test_roundtrip(void)
{
    const char *img = tu_path("rt.img");
    tu_new_file(img, 0);
    struct strata_error *err = NULL;
    struct strata_node *n = open_file(img, NULL, STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);

    size_t len = 300 * KiB + 17;
    uint8_t *b = malloc(len);
    tu_fill(b, 4097, len, 1);
    CU_ASSERT_EQUAL(strata_pwrite(n, 4097, len, b, 0, &err), 0);
    CU_ASSERT_EQUAL(strata_flush(n, &err), 0);
    uint8_t *h = tu_read_file(img, 4097, len);
    CU_ASSERT_EQUAL(tu_check(h, 4097, len, 1), -1);
    CU_ASSERT_EQUAL((uint64_t)strata_get_length(n), 4097 + len);
    free(h);
    h = tu_read_file(img, 0, 4097);
    CU_ASSERT(tu_all_byte(h, 4097, 0));
    free(h);

    /* And what the host writes, strata reads. */
    tu_fill_file(img, 100000, 5000, 2);
    memset(b, 0, len);
    CU_ASSERT_EQUAL(strata_pread(n, 100000, 5000, b, 0, &err), 0);
    CU_ASSERT_EQUAL(tu_check(b, 100000, 5000, 2), -1);
    free(b);
    strata_close(n);
}

static void test_read_past_eof(void)
{
    const char *img = tu_path("eof.img");
    tu_new_file(img, 0);
    tu_fill_file(img, 0, 1000, 3);
    struct strata_error *err = NULL;
    struct strata_node *n = open_file(img, NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    uint8_t b[8192];
    memset(b, 0xff, sizeof b);
    CU_ASSERT_EQUAL(strata_pread(n, 0, sizeof b, b, 0, &err), 0);
    CU_ASSERT_EQUAL(tu_check(b, 0, 1000, 3), -1);
    CU_ASSERT(tu_all_byte(b + 1000, sizeof b - 1000, 0));
    memset(b, 0xff, sizeof b);
    CU_ASSERT_EQUAL(strata_pread(n, 5 * MiB, 100, b, 0, &err), 0);
    CU_ASSERT(tu_all_byte(b, 100, 0));
    /* Reading does not grow the file. */
    CU_ASSERT_EQUAL(host_stat(img).st_size, 1000);
    strata_close(n);
}

static void test_write_grows(void)
{
    const char *img = tu_path("grow.img");
    tu_new_file(img, 0);
    struct strata_error *err = NULL;
    struct strata_node *n = open_file(img, NULL, STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    uint8_t b[100];
    tu_fill(b, MiB + 5, sizeof b, 4);
    CU_ASSERT_EQUAL(strata_pwrite(n, MiB + 5, sizeof b, b, 0, &err), 0);
    CU_ASSERT_EQUAL(host_stat(img).st_size, (off_t)(MiB + 105));
    CU_ASSERT_EQUAL(strata_get_length(n), (int64_t)(MiB + 105));
    uint8_t *h = tu_read_file(img, MiB + 5, sizeof b);
    CU_ASSERT_EQUAL(tu_check(h, MiB + 5, sizeof b, 4), -1);
    free(h);
    strata_close(n);
}

static void test_write_zeroes(void)
{
    const char *img = tu_path("zero.img");
    tu_new_file(img, 0);
    tu_fill_file(img, 0, MiB, 5);
    struct strata_error *err = NULL;
    struct strata_node *n = open_file(img, NULL, STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);

    /* MAY_UNMAP: the range becomes a hole. */
    blkcnt_t before = host_stat(img).st_blocks;
    CU_ASSERT_EQUAL(strata_pwrite_zeroes(n, 64 * KiB, 128 * KiB, STRATA_REQ_MAY_UNMAP,
                                         &err), 0);
    CU_ASSERT_EQUAL(host_seek(img, 64 * KiB, SEEK_DATA), (off_t)(192 * KiB));
    CU_ASSERT_EQUAL(host_seek(img, 0, SEEK_HOLE), (off_t)(64 * KiB));
    CU_ASSERT(host_stat(img).st_blocks <= before - (blkcnt_t)(128 * KiB / 512));
    uint8_t *h = tu_read_file(img, 0, MiB);
    CU_ASSERT_EQUAL(tu_check(h, 0, 64 * KiB, 5), -1);
    CU_ASSERT(tu_all_byte(h + 64 * KiB, 128 * KiB, 0));
    CU_ASSERT_EQUAL(tu_check(h + 192 * KiB, 192 * KiB, MiB - 192 * KiB, 5), -1);
    free(h);

    /* Without it: zeros, but the blocks stay allocated. */
    before = host_stat(img).st_blocks;
    CU_ASSERT_EQUAL(strata_pwrite_zeroes(n, 512 * KiB, 64 * KiB, 0, &err), 0);
    CU_ASSERT_EQUAL(host_stat(img).st_blocks, before);
    h = tu_read_file(img, 500 * KiB, 100 * KiB);
    CU_ASSERT_EQUAL(tu_check(h, 500 * KiB, 12 * KiB, 5), -1);
    CU_ASSERT(tu_all_byte(h + 12 * KiB, 64 * KiB, 0));
    CU_ASSERT_EQUAL(tu_check(h + 76 * KiB, 576 * KiB, 24 * KiB, 5), -1);
    free(h);

    /* Unaligned edges are zeroed exactly. */
    CU_ASSERT_EQUAL(strata_pwrite_zeroes(n, 700 * KiB + 3, 5000, STRATA_REQ_MAY_UNMAP,
                                         &err), 0);
    h = tu_read_file(img, 700 * KiB, 8 * KiB);
    CU_ASSERT_EQUAL(tu_check(h, 700 * KiB, 3, 5), -1);
    CU_ASSERT(tu_all_byte(h + 3, 5000, 0));
    CU_ASSERT_EQUAL(tu_check(h + 5003, 700 * KiB + 5003, 8 * KiB - 5003, 5), -1);
    free(h);

    /* Past the end: the file grows and reads zeros. */
    CU_ASSERT_EQUAL(strata_pwrite_zeroes(n, 2 * MiB, 100 * KiB, STRATA_REQ_MAY_UNMAP,
                                         &err), 0);
    CU_ASSERT_EQUAL(host_stat(img).st_size, (off_t)(2 * MiB + 100 * KiB));
    strata_close(n);
}

static void test_discard(void)
{
    const char *img = tu_path("discard.img");
    tu_new_file(img, 0);
    tu_fill_file(img, 0, MiB, 6);
    struct strata_error *err = NULL;
    struct strata_node *n = open_file(img, NULL, STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    blkcnt_t before = host_stat(img).st_blocks;
    CU_ASSERT_EQUAL(strata_pdiscard(n, 256 * KiB, 256 * KiB, &err), 0);
    CU_ASSERT_EQUAL(host_seek(img, 256 * KiB, SEEK_DATA), (off_t)(512 * KiB));
    CU_ASSERT_EQUAL(host_stat(img).st_blocks, before - (blkcnt_t)(256 * KiB / 512));
    CU_ASSERT_EQUAL(host_stat(img).st_size, (off_t)MiB);
    uint8_t *h = tu_read_file(img, 0, MiB);
    CU_ASSERT(tu_all_byte(h + 256 * KiB, 256 * KiB, 0));
    CU_ASSERT_EQUAL(tu_check(h + 512 * KiB, 512 * KiB, 512 * KiB, 6), -1);
    free(h);
    strata_close(n);
}

static void test_block_status(void)
{
    const char *img = tu_path("bs.img");
    tu_new_file(img, MiB);
    tu_fill_file(img, 0, 64 * KiB, 7);
    tu_fill_file(img, 512 * KiB, 128 * KiB, 7);
    struct strata_error *err = NULL;
    struct strata_node *n = open_file(img, NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    struct strata_block_status bs;
    const unsigned common = STRATA_BS_OFFSET_VALID | STRATA_BS_ALLOCATED;

    CU_ASSERT_EQUAL_FATAL(strata_block_status(n, 0, MiB, &bs, &err), 0);
    CU_ASSERT_EQUAL(bs.flags, STRATA_BS_DATA | common);
    CU_ASSERT_EQUAL(bs.pnum, 64 * KiB);
    CU_ASSERT_EQUAL(bs.offset, 0);
    CU_ASSERT_PTR_EQUAL(bs.file, n);

    CU_ASSERT_EQUAL_FATAL(strata_block_status(n, 64 * KiB, MiB - 64 * KiB, &bs, &err), 0);
    CU_ASSERT_EQUAL(bs.flags, STRATA_BS_ZERO | common);
    CU_ASSERT_EQUAL(bs.pnum, 448 * KiB);
    CU_ASSERT_EQUAL(bs.offset, 64 * KiB);

    CU_ASSERT_EQUAL_FATAL(strata_block_status(n, 520 * KiB, MiB - 520 * KiB, &bs, &err), 0);
    CU_ASSERT_EQUAL(bs.flags, STRATA_BS_DATA | common);
    CU_ASSERT_EQUAL(bs.pnum, 120 * KiB);

    CU_ASSERT_EQUAL_FATAL(strata_block_status(n, 640 * KiB, MiB - 640 * KiB, &bs, &err), 0);
    CU_ASSERT_EQUAL(bs.flags, STRATA_BS_ZERO | common);
    CU_ASSERT_EQUAL(bs.pnum, MiB - 640 * KiB);

    /* A short request inside data is answered for its own length. */
    CU_ASSERT_EQUAL_FATAL(strata_block_status(n, 4096, 10, &bs, &err), 0);
    CU_ASSERT_EQUAL(bs.flags, STRATA_BS_DATA | common);
    CU_ASSERT_EQUAL(bs.pnum, 10);
    strata_close(n);
}

static void test_allocated_size(void)
{
    const char *img = tu_path("alloc.img");
    tu_new_file(img, 4 * MiB);
    tu_fill_file(img, MiB, 256 * KiB, 8);
    struct strata_error *err = NULL;
    struct strata_node *n = open_file(img, NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_EQUAL(strata_get_allocated_size(n), (int64_t)host_stat(img).st_blocks * 512);
    CU_ASSERT(strata_get_allocated_size(n) >= 256 * KiB);
    CU_ASSERT(strata_get_allocated_size(n) < 4 * MiB);
    CU_ASSERT_EQUAL(strata_get_length(n), 4 * MiB);
    strata_close(n);
}

static void test_truncate(void)
{
    const char *img = tu_path("trunc.img");
    tu_new_file(img, 0);
    tu_fill_file(img, 0, 4096, 9);
    struct strata_error *err = NULL;
    struct strata_node *n = open_file(img, NULL, STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);

    CU_ASSERT_EQUAL(strata_truncate(n, 2 * MiB, false, STRATA_PREALLOC_OFF, &err), 0);
    CU_ASSERT_EQUAL(host_stat(img).st_size, (off_t)(2 * MiB));
    CU_ASSERT(host_stat(img).st_blocks * 512 < (blkcnt_t)MiB);

    CU_ASSERT_EQUAL(strata_truncate(n, 4 * MiB, false, STRATA_PREALLOC_FALLOC, &err), 0);
    CU_ASSERT_EQUAL(host_stat(img).st_size, (off_t)(4 * MiB));
    CU_ASSERT(host_stat(img).st_blocks * 512 >= (blkcnt_t)(2 * MiB));

    CU_ASSERT_EQUAL(strata_truncate(n, 6 * MiB + 100, false, STRATA_PREALLOC_FULL, &err), 0);
    CU_ASSERT_EQUAL(host_stat(img).st_size, (off_t)(6 * MiB + 100));
    CU_ASSERT(host_stat(img).st_blocks * 512 >= (blkcnt_t)(4 * MiB));
    /* Full preallocation writes data, so nothing past 4 MiB is a hole. */
    CU_ASSERT_EQUAL(host_seek(img, 4 * MiB, SEEK_HOLE), (off_t)(6 * MiB + 100));
    uint8_t *h = tu_read_file(img, 4 * MiB, 2 * MiB + 100);
    CU_ASSERT(tu_all_byte(h, 2 * MiB + 100, 0));
    free(h);

    CU_ASSERT_EQUAL(strata_truncate(n, 1000, true, STRATA_PREALLOC_OFF, &err), 0);
    CU_ASSERT_EQUAL(host_stat(img).st_size, 1000);
    CU_ASSERT_EQUAL(strata_get_length(n), 1000);
    h = tu_read_file(img, 0, 1000);
    CU_ASSERT_EQUAL(tu_check(h, 0, 1000, 9), -1);
    free(h);

    /* metadata preallocation means nothing for a plain file. */
    CU_ASSERT(strata_truncate(n, 2000, false, STRATA_PREALLOC_METADATA, &err) < 0);
    CU_ASSERT_PTR_NOT_NULL(err);
    if (err)
        CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "trunc.img"));
    strata_error_free(err);
    strata_close(n);
}

static void test_create(void)
{
    struct strata_error *err = NULL;
    const char *off = tu_path("c-off.img"), *fal = tu_path("c-falloc.img"),
               *full = tu_path("c-full.img");
    tu_fill_file(off, 0, 8192, 1);  /* an old file is truncated first */
    CU_ASSERT_EQUAL(strata_image_create("file", off, 3 * MiB, NULL, &err), 0);
    CU_ASSERT_EQUAL(host_stat(off).st_size, (off_t)(3 * MiB));
    /* Sparse but for its first block, written as QEMU does (alignment probing). */
    CU_ASSERT(host_stat(off).st_blocks * 512 <= 4096);

    struct strata_opts *o = strata_opts_new();
    strata_opts_set(o, "preallocation", "falloc");
    CU_ASSERT_EQUAL(strata_image_create("file", fal, 3 * MiB, o, &err), 0);
    CU_ASSERT_EQUAL(host_stat(fal).st_size, (off_t)(3 * MiB));
    CU_ASSERT(host_stat(fal).st_blocks * 512 >= (blkcnt_t)(3 * MiB));

    strata_opts_set(o, "preallocation", "full");
    CU_ASSERT_EQUAL(strata_image_create("file", full, 3 * MiB, o, &err), 0);
    CU_ASSERT_EQUAL(host_stat(full).st_size, (off_t)(3 * MiB));
    CU_ASSERT(host_stat(full).st_blocks * 512 >= (blkcnt_t)(3 * MiB));
    CU_ASSERT_EQUAL(host_seek(full, 0, SEEK_HOLE), (off_t)(3 * MiB));

    strata_opts_set(o, "preallocation", "metadata");
    CU_ASSERT(strata_image_create("file", tu_path("c-bad.img"), MiB, o, &err) < 0);
    CU_ASSERT_PTR_NOT_NULL(err);
    strata_error_free(err);
    err = NULL;
    strata_opts_free(o);
    if (err)
        fprintf(stderr, "%s\n", err->msg);
}

static void test_open_errors(void)
{
    struct strata_error *err = NULL;
    const char *missing = tu_path("no-such.img");
    CU_ASSERT_PTR_NULL(open_file(missing, NULL, 0, &err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_EQUAL(err->code, ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, missing));
    strata_error_free(err);
    err = NULL;
    CU_ASSERT_PTR_NULL(open_file(tu_tmpdir(), NULL, 0, &err));
    CU_ASSERT_PTR_NOT_NULL(err);
    strata_error_free(err);
}

/* ------------------------------------------------------------ O_DIRECT */

/* The flags of the descriptor strata holds on path, from /proc. */
static long fd_flags_for(const char *path)
{
    DIR *d = opendir("/proc/self/fd");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *e;
    long flags = -1;
    while ((e = readdir(d))) {
        char link[512], target[4096];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = 0;
        if (strcmp(target, path) != 0)
            continue;
        char info[512], line[256];
        snprintf(info, sizeof info, "/proc/self/fdinfo/%s", e->d_name);
        FILE *f = fopen(info, "r");
        while (f && fgets(line, sizeof line, f))
            if (strncmp(line, "flags:", 6) == 0)
                flags = strtol(line + 6, NULL, 8);
        if (f)
            fclose(f);
    }
    closedir(d);
    return flags;
}

static void test_odirect(void)
{
    char img[4096];
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(tu_tmpdir(), img));
    strcat(img, "/direct.img");
    tu_new_file(img, 0);
    tu_fill_file(img, 0, MiB, 10);

    int probe = open(img, O_RDONLY | O_DIRECT);
    if (probe < 0 && errno == EINVAL) {
        /* The file system refuses O_DIRECT: strata must say so clearly. */
        struct strata_error *err = NULL;
        CU_ASSERT_PTR_NULL(open_file(img, "cache=none", 0, &err));
        CU_ASSERT_PTR_NOT_NULL_FATAL(err);
        CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "O_DIRECT"));
        printf("\n    %s refuses O_DIRECT; verified that cache=none fails with: %s\n",
               tu_tmpdir(), err->msg);
        strata_error_free(err);
        return;
    }
    CU_ASSERT_FATAL(probe >= 0);
    close(probe);

    struct strata_error *err = NULL;
    struct strata_node *n = open_file(img, "cache=none", STRATA_O_RDWR, &err);
    if (!n)
        fprintf(stderr, "%s\n", err->msg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    long fl = fd_flags_for(img);
    CU_ASSERT(fl >= 0 && (fl & O_DIRECT));

    struct strata_limits lim;
    strata_node_get_limits(n, &lim);
    CU_ASSERT(lim.request_alignment == 512 || lim.request_alignment == 4096);
    CU_ASSERT(lim.min_mem_alignment >= 1 && lim.min_mem_alignment <= 4096);
#ifdef STATX_DIOALIGN
    struct statx stx;
    if (statx(AT_FDCWD, img, 0, STATX_DIOALIGN, &stx) == 0 &&
        (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
        CU_ASSERT_EQUAL(lim.request_alignment, stx.stx_dio_offset_align);
        CU_ASSERT_EQUAL(lim.min_mem_alignment, stx.stx_dio_mem_align);
    }
#endif

    uint8_t *mem = malloc(64 * KiB + 64);
    /* Unaligned offset, length and memory. */
    tu_fill(mem + 3, 777, 5000, 11);
    CU_ASSERT_EQUAL(strata_pwrite(n, 777, 5000, mem + 3, 0, &err), 0);
    uint8_t *h = tu_read_file(img, 0, 8192);
    CU_ASSERT_EQUAL(tu_check(h, 0, 777, 10), -1);
    CU_ASSERT_EQUAL(tu_check(h + 777, 777, 5000, 11), -1);
    CU_ASSERT_EQUAL(tu_check(h + 5777, 5777, 8192 - 5777, 10), -1);
    free(h);

    memset(mem, 0, 64 * KiB);
    CU_ASSERT_EQUAL(strata_pread(n, 677, 6000, mem + 1, 0, &err), 0);
    CU_ASSERT_EQUAL(tu_check(mem + 1, 677, 100, 10), -1);
    CU_ASSERT_EQUAL(tu_check(mem + 101, 777, 5000, 11), -1);
    CU_ASSERT_EQUAL(tu_check(mem + 5101, 5777, 900, 10), -1);

    /* Aligned request from unaligned memory. */
    tu_fill(mem + 5, 64 * KiB, 32 * KiB, 12);
    CU_ASSERT_EQUAL(strata_pwrite(n, 64 * KiB, 32 * KiB, mem + 5, 0, &err), 0);
    h = tu_read_file(img, 64 * KiB, 32 * KiB);
    CU_ASSERT_EQUAL(tu_check(h, 64 * KiB, 32 * KiB, 12), -1);
    free(h);
    memset(mem, 0, 64 * KiB);
    CU_ASSERT_EQUAL(strata_pread(n, 64 * KiB, 32 * KiB, mem + 7, 0, &err), 0);
    CU_ASSERT_EQUAL(tu_check(mem + 7, 64 * KiB, 32 * KiB, 12), -1);

    /* End of file off the alignment: the rest reads as zeros. */
    tu_fill_file(img, MiB, 100, 13);
    memset(mem, 0xff, 64 * KiB);
    CU_ASSERT_EQUAL(strata_pread(n, MiB - 50, 8192, mem + 9, 0, &err), 0);
    CU_ASSERT_EQUAL(tu_check(mem + 9, MiB - 50, 50, 10), -1);
    CU_ASSERT_EQUAL(tu_check(mem + 59, MiB, 100, 13), -1);
    CU_ASSERT(tu_all_byte(mem + 159, 8192 - 150, 0));

    /* Unaligned write zeroes under O_DIRECT. */
    CU_ASSERT_EQUAL(strata_pwrite_zeroes(n, 200 * KiB + 1, 10000, 0, &err), 0);
    h = tu_read_file(img, 200 * KiB, 12 * KiB);
    CU_ASSERT_EQUAL(tu_check(h, 200 * KiB, 1, 10), -1);
    CU_ASSERT(tu_all_byte(h + 1, 10000, 0));
    CU_ASSERT_EQUAL(tu_check(h + 10001, 200 * KiB + 10001, 12 * KiB - 10001, 10), -1);
    free(h);
    free(mem);
    if (err)
        fprintf(stderr, "%s\n", err->msg);
    strata_error_free(err);
    strata_close(n);
}

/* ------------------------------------------------------------ locking */

static void expect_lock_error(struct strata_node *n, struct strata_error *err,
                              const char *what, const char *img)
{
    CU_ASSERT_PTR_NULL(n);
    if (n)
        strata_close(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    char hint[4200];
    snprintf(hint, sizeof hint, "Is another process using the image [%s]?", img);
    if (!strstr(err->msg, what) || !strstr(err->msg, hint))
        fprintf(stderr, "\n    expected '%s' and '%s', got: %s\n", what, hint, err->msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, what));
    CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, hint));
    CU_ASSERT_EQUAL(err->code, EAGAIN);
    strata_error_free(err);
}

static void test_lock_bytes(void)
{
    const char *img = tu_path("lockbytes.img");
    tu_new_file(img, MiB);
    struct strata_error *err = NULL;
    struct strata_node *w = open_file(img, NULL, STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    /* QEMU's layout: a writer holds consistent read, write and resize and
     * shares neither write nor resize. */
    CU_ASSERT(byte_locked(img, 100));
    CU_ASSERT(byte_locked(img, 101));
    CU_ASSERT(!byte_locked(img, 102));
    CU_ASSERT(byte_locked(img, 103));
    CU_ASSERT(!byte_locked(img, 200));
    CU_ASSERT(byte_locked(img, 201));
    CU_ASSERT(!byte_locked(img, 202));
    CU_ASSERT(byte_locked(img, 203));
    strata_close(w);
    for (off_t b = 100; b < 204; b++)
        CU_ASSERT(!byte_locked(img, b));

    /* A reader: what qemu-img holds on a conversion source. */
    struct strata_node *r = open_file(img, NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT(byte_locked(img, 100));
    CU_ASSERT(!byte_locked(img, 101));
    CU_ASSERT(!byte_locked(img, 103));
    CU_ASSERT(byte_locked(img, 201));
    CU_ASSERT(byte_locked(img, 203));
    strata_close(r);

    struct strata_node *off = open_file(img, "locking=off", STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(off);
    CU_ASSERT(!byte_locked(img, 100));
    CU_ASSERT(!byte_locked(img, 201));
    strata_close(off);
}

static void test_lock_strata(void)
{
    struct strata_node *n;
    const char *img = tu_path("lock.img");
    tu_new_file(img, MiB);
    struct strata_error *err = NULL;
    struct strata_node *a = open_file(img, NULL, STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);

    err = NULL;
    n = open_file(img, NULL, STRATA_O_RDWR, &err);
    expect_lock_error(n, err, "Failed to get \"write\" lock", img);
    err = NULL;
    n = open_file(img, NULL, 0, &err);
    expect_lock_error(n, err, "Failed to get shared \"write\" lock", img);

    /* -U: no locks, read-only only. */
    err = NULL;
    struct strata_node *u = open_file(img, NULL, STRATA_O_FORCE_SHARE, &err);
    CU_ASSERT_PTR_NOT_NULL(u);
    if (u)
        strata_close(u);
    err = NULL;
    u = open_file(img, NULL, STRATA_O_FORCE_SHARE | STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NULL(u);
    CU_ASSERT_PTR_NOT_NULL(err);
    if (err) {
        CU_ASSERT_EQUAL(err->code, EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "read-only"));
    }
    strata_error_free(err);
    err = NULL;

    /* locking=off on the second opener gets through. */
    struct strata_node *off = open_file(img, "locking=off", STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL(off);
    if (off)
        strata_close(off);

    /* Creating over an image in use is refused and leaves it alone. */
    err = NULL;
    CU_ASSERT(strata_image_create("file", img, 4096, NULL, &err) < 0);
    CU_ASSERT_PTR_NOT_NULL(err);
    if (err)
        CU_ASSERT_PTR_NOT_NULL(strstr(err->msg, "Failed to get \"write\" lock"));
    strata_error_free(err);
    CU_ASSERT_EQUAL(host_stat(img).st_size, (off_t)MiB);

    strata_close(a);
    err = NULL;
    struct strata_node *b = open_file(img, NULL, STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL(b);
    if (b)
        strata_close(b);

    /* Two readers share. */
    struct strata_node *r1 = open_file(img, NULL, 0, &err);
    struct strata_node *r2 = open_file(img, NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL(r1);
    CU_ASSERT_PTR_NOT_NULL(r2);
    if (r1)
        strata_close(r1);
    if (r2)
        strata_close(r2);
}

/* A qemu-io that has the image open read-write: it holds consistent read
 * and write (bytes 100, 101) and, like every qemu-io, shares everything. */
static void test_lock_qemu_io_holds(void)
{
    struct strata_node *n;
    const char *img = tu_path("qio.img");
    tu_new_file(img, MiB);
    char *argv[] = { "qemu-io", "-f", "raw", (char *)img, NULL };
    int in, out;
    pid_t pid = spawn(argv, &in, &out);
    CU_ASSERT_FATAL(pid > 0);
    const char cmd[] = "write -P 0xcd 0 512\n";
    CU_ASSERT_EQUAL(write(in, cmd, sizeof cmd - 1), (ssize_t)(sizeof cmd - 1));
    char buf[4096];
    bool ready = wait_output(out, "wrote 512/512 bytes", buf, sizeof buf);
    if (!ready)
        fprintf(stderr, "\n    qemu-io did not start: %s\n", buf);
    CU_ASSERT_FATAL(ready);
    CU_ASSERT(byte_locked(img, 101));

    /* strata does not share write, so it cannot join an existing writer;
     * QEMU's rules name the permission it would have to share. */
    struct strata_error *err = NULL;
    n = open_file(img, NULL, STRATA_O_RDWR, &err);
    expect_lock_error(n, err, "Failed to get shared \"write\" lock", img);
    err = NULL;
    n = open_file(img, NULL, 0, &err);
    expect_lock_error(n, err, "Failed to get shared \"write\" lock", img);

    err = NULL;
    struct strata_node *u = open_file(img, NULL, STRATA_O_FORCE_SHARE, &err);
    CU_ASSERT_PTR_NOT_NULL(u);
    if (u) {
        uint8_t b[512];
        CU_ASSERT_EQUAL(strata_pread(u, 0, 512, b, 0, &err), 0);
        uint8_t want[512];
        memset(want, 0xcd, sizeof want);
        CU_ASSERT_EQUAL(memcmp(b, want, 512), 0);
        strata_close(u);
    }

    stop(pid, in);
    close(out);
    CU_ASSERT(!byte_locked(img, 101));
    struct strata_node *w = open_file(img, NULL, STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL(w);
    if (w)
        strata_close(w);
}

/* qemu-img convert reading the image (rate-limited so it stays open): a
 * reader that does not share write, as strata's readers. */
static void test_lock_qemu_img_reader_holds(void)
{
    struct strata_node *n;
    const char *src = tu_path("conv-src.img");
    const char *dst = tu_path("conv-dst.img");
    tu_new_file(src, 0);
    tu_fill_file(src, 0, 4 * MiB, 14);
    char *argv[] = { "qemu-img", "convert", "-r", "64K", "-f", "raw", "-O", "raw",
                     (char *)src, (char *)dst, NULL };
    pid_t pid = spawn(argv, NULL, NULL);
    CU_ASSERT_FATAL(pid > 0);
    bool held = false;
    for (int i = 0; i < 2000 && !held; i++) {
        held = byte_locked(src, 201);
        if (!held)
            usleep(10000);
    }
    CU_ASSERT_FATAL(held);

    struct strata_error *err = NULL;
    n = open_file(src, NULL, STRATA_O_RDWR, &err);
    expect_lock_error(n, err, "Failed to get \"write\" lock", src);
    err = NULL;
    struct strata_node *r = open_file(src, NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL(r);
    if (r)
        strata_close(r);
    stop(pid, -1);
}

/* strata holding the image, qemu-io and qemu-img trying to join. */
static void test_lock_strata_holds(void)
{
    const char *img = tu_path("held.img");
    tu_new_file(img, MiB);
    char out[8192];
    struct strata_error *err = NULL;
    struct strata_node *w = open_file(img, NULL, STRATA_O_RDWR, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);

    char *qio_rw[] = { "qemu-io", "-f", "raw", "-c", "read 0 512", (char *)img, NULL };
    CU_ASSERT_NOT_EQUAL(run(qio_rw, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Failed to get \"write\" lock"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Is another process using the image"));

    /* qemu-img's conversion source does not share write. */
    char *conv[] = { "qemu-img", "convert", "-f", "raw", "-O", "raw", (char *)img,
                     (char *)tu_path("held-copy.img"), NULL };
    CU_ASSERT_NOT_EQUAL(run(conv, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Failed to get shared \"write\" lock"));

    /* qemu-io readers share everything, -U takes no locks. */
    char *qio_ro[] = { "qemu-io", "-r", "-f", "raw", "-c", "read 0 512", (char *)img,
                       NULL };
    CU_ASSERT_EQUAL(run(qio_ro, out, sizeof out), 0);
    char *qio_u[] = { "qemu-io", "-U", "-r", "-f", "raw", "-c", "read 0 512",
                      (char *)img, NULL };
    CU_ASSERT_EQUAL(run(qio_u, out, sizeof out), 0);
    strata_close(w);

    /* A strata reader refuses qemu-io writers too. */
    struct strata_node *r = open_file(img, NULL, 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_NOT_EQUAL(run(qio_rw, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Failed to get \"write\" lock"));
    strata_close(r);

    CU_ASSERT_EQUAL(run(qio_rw, out, sizeof out), 0);
}

static int suite_clean(void)
{
    kill_children();
    return 0;
}

int main(void)
{
    atexit(kill_children);
    static const struct tu_test data[] = {
        { "write/read round trip vs pread(2)", test_roundtrip },
        { "reads past EOF give zeros", test_read_past_eof },
        { "writes past EOF grow the file", test_write_grows },
        { "write zeroes: holes with MAY_UNMAP, allocated without", test_write_zeroes },
        { "discard punches holes", test_discard },
        { "block status from SEEK_DATA/SEEK_HOLE", test_block_status },
        { "allocated size is st_blocks", test_allocated_size },
        { "truncate with preallocation off/falloc/full", test_truncate },
        { "create with preallocation", test_create },
        { "open errors name the file", test_open_errors },
        { "cache=none: O_DIRECT with unaligned requests", test_odirect },
        { NULL, NULL },
    };
    static const struct tu_test locks[] = {
        { "lock byte layout", test_lock_bytes },
        { "strata vs strata, -U, locking=off", test_lock_strata },
        { "qemu-io writer holds the image", test_lock_qemu_io_holds },
        { "qemu-img reader holds the image", test_lock_qemu_img_reader_holds },
        { "strata holds the image against qemu", test_lock_strata_holds },
        { NULL, NULL },
    };
    tu_add_suite("file driver", NULL, NULL, data);
    tu_add_suite("file locking", NULL, suite_clean, locks);
    return tu_run();
}
