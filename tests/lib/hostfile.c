/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostfile.c - test files on the host. */
#include "hostfile.h"

#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

void tu_new_file(const char *path, off_t size)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(ftruncate(fd, size), 0);
    close(fd);
}

void tu_fill_file(const char *path, uint64_t off, size_t len, uint32_t seed)
{
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    CU_ASSERT_FATAL(fd >= 0);
    uint8_t *b = malloc(len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    tu_fill(b, off, len, seed);
    CU_ASSERT_EQUAL(pwrite(fd, b, len, (off_t)off), (ssize_t)len);
    CU_ASSERT_EQUAL(fsync(fd), 0);
    free(b);
    close(fd);
}

uint8_t *tu_read_file(const char *path, uint64_t off, size_t len)
{
    int fd = open(path, O_RDONLY);
    CU_ASSERT_FATAL(fd >= 0);
    uint8_t *b = calloc(1, len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT(pread(fd, b, len, (off_t)off) >= 0);
    close(fd);
    return b;
}

uint8_t *tu_load(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    struct stat st;
    uint8_t *b = NULL;
    if (fstat(fd, &st) == 0 && (b = malloc((size_t)st.st_size + 1)) &&
        pread(fd, b, (size_t)st.st_size, 0) != st.st_size) {
        free(b);
        b = NULL;
    }
    close(fd);
    if (b)
        *len = (size_t)st.st_size;
    return b;
}

void tu_save(const char *path, const uint8_t *img, size_t len)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, img, len), (ssize_t)len);
    close(fd);
}

void tu_patch(const char *path, off_t off, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(pwrite(fd, data, len, off) == (ssize_t)len);
    close(fd);
}

bool tu_unchanged(const char *path, const uint8_t *img, size_t len)
{
    size_t n = 0;
    uint8_t *now = tu_load(path, &n);
    bool same = now && n == len && memcmp(now, img, len) == 0;
    free(now);
    return same;
}

int tu_sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof cmd) {
        fprintf(stderr, "command too long: %.60s...\n", cmd);
        return -1;
    }
    return system(cmd);
}
