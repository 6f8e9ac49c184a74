/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* replay.c - runs a fuzz harness without libFuzzer: each argument, a file
 * or a directory of files, is fed once to LLVMFuzzerTestOneInput.  A crash
 * or a sanitizer report ends the run as it would end a fuzzing run. */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: could not read\n", path);
        free(buf);
        return -1;
    }
    printf("%s (%zu bytes)\n", path, len);
    fflush(stdout);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory's regular files in name order, so runs are repeatable. */
static int run_dir(const char *dir, unsigned *count)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, NULL);
    if (n < 0) {
        perror(dir);
        return -1;
    }
    char **names = calloc((size_t)n + 1, sizeof *names);
    int k = 0, ret = 0;
    for (int i = 0; i < n; i++) {
        if (names && ents[i]->d_name[0] != '.')
            names[k++] = strdup(ents[i]->d_name);
        free(ents[i]);
    }
    free(ents);
    if (!names)
        return -1;
    qsort(names, (size_t)k, sizeof *names, cmp);
    for (int i = 0; i < k; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (names[i] && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(path) < 0)
                ret = -1;
            (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return ret;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    unsigned count = 0;
    int ret = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            perror(argv[i]);
            ret = 1;
        } else if (S_ISDIR(st.st_mode)) {
            if (run_dir(argv[i], &count) < 0)
                ret = 1;
        } else {
            if (run_file(argv[i]) < 0)
                ret = 1;
            count++;
        }
    }
    printf("%u inputs replayed\n", count);
    return ret;
}
