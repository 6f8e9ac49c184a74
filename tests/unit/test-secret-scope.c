/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-secret-scope.c - secrets a config file defines belong to the handle
 * strata_open_config returned: another handle using the same secret id
 * sees its own secret or none, and strata_close drops them; secrets added
 * with strata_secret_add stay process-wide. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>
#include "testutil.h"

#define VOL_SIZE (64 * 1024)

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* A LUKS volume whose passphrase is `pass` and whose payload is filled with
 * the pattern for `seed`. */
static void make_volume(const char *path, const char *pass, uint32_t seed)
{
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_secret_add("mk", pass, strlen(pass), NULL), 0);
    struct strata_opts *o = strata_opts_new();
    strata_opts_set(o, "key-secret", "mk");
    strata_opts_set(o, "iter-time", "10");
    int r = strata_image_create("luks", path, VOL_SIZE, o, &err);
    if (r < 0)
        fprintf(stderr, "%s\n", err->msg);
    CU_ASSERT_EQUAL_FATAL(r, 0);
    strata_opts_free(o);
    char dotted[512];
    snprintf(dotted, sizeof dotted, "driver=luks,key-secret=mk,file.filename=%s", path);
    struct strata_node *n;
    CU_ASSERT_EQUAL_FATAL(strata_open_string(dotted, STRATA_O_RDWR, &n, NULL), 0);
    static uint8_t buf[VOL_SIZE];
    tu_fill(buf, 0, sizeof buf, seed);
    CU_ASSERT_EQUAL(strata_pwrite(n, 0, sizeof buf, buf, 0, NULL), 0);
    strata_close(n);
    strata_secret_remove("mk");
}

/* A config file for the volume at `vol`, unlocked with secret "s", which
 * the file defines as `pass` (or leaves to others when pass is NULL). */
static const char *make_config(const char *name, const char *vol, const char *pass)
{
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "stack = { driver = \"luks\"; key-secret = \"s\";\n"
                     "          file = { driver = \"file\"; filename = \"%s\"; }; };\n",
                     vol);
    if (pass)
        snprintf(text + n, sizeof text - (size_t)n,
                 "secrets = ( { id = \"s\"; data = \"%s\"; } );\n", pass);
    const char *path = tu_path(name);
    write_text(path, text);
    return path;
}

static bool reads_pattern(struct strata_node *n, uint32_t seed)
{
    static uint8_t buf[VOL_SIZE];
    return strata_pread(n, 0, sizeof buf, buf, 0, NULL) == 0 &&
           tu_check(buf, 0, sizeof buf, seed) < 0;
}

static bool global_has(const char *id)
{
    uint8_t *d;
    size_t len;
    if (strata_secret_get(id, &d, &len, NULL) < 0)
        return false;
    strata_secret_free(d, len);
    return true;
}

static void test_same_id_two_handles(void)
{
    const char *va = strdup(tu_path("a.luks")), *vb = strdup(tu_path("b.luks"));
    make_volume(va, "alpha passphrase", 1);
    make_volume(vb, "bravo passphrase", 2);
    const char *ca = make_config("a.conf", va, "alpha passphrase");
    const char *cb = make_config("b.conf", vb, "bravo passphrase");

    struct strata_node *a = NULL, *b = NULL;
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_config(ca, 0, &a, &err), 0);
    /* Same id "s", another value: each handle unlocks with its own. */
    CU_ASSERT_EQUAL_FATAL(strata_open_config(cb, 0, &b, &err), 0);
    CU_ASSERT_TRUE(reads_pattern(a, 1));
    CU_ASSERT_TRUE(reads_pattern(b, 2));
    /* Neither went into the process-wide store. */
    CU_ASSERT_FALSE(global_has("s"));

    /* A config that names "s" without defining it does not see a's. */
    const char *cn = make_config("none.conf", va, NULL);
    struct strata_node *x = NULL;
    CU_ASSERT_EQUAL(strata_open_config(cn, 0, &x, &err), -ENOENT);
    CU_ASSERT_PTR_NOT_NULL(err && strstr(err->msg, "No secret with id 's'"));
    strata_error_free(err);
    err = NULL;

    /* After a is closed, b keeps working and a's volume cannot be
     * opened with what a left behind. */
    strata_close(a);
    CU_ASSERT_TRUE(reads_pattern(b, 2));
    CU_ASSERT_EQUAL(strata_open_config(cn, 0, &x, &err), -ENOENT);
    strata_error_free(err);
    err = NULL;
    strata_close(b);
    CU_ASSERT_FALSE(global_has("s"));
    free((void *)va);
    free((void *)vb);
}

static void test_process_wide_secrets_stay(void)
{
    const char *va = strdup(tu_path("c.luks"));
    make_volume(va, "charlie", 3);
    /* A process-wide secret is seen by a config that defines none, and
     * is still there after the handle is closed. */
    CU_ASSERT_EQUAL_FATAL(strata_secret_add("s", "charlie", 7, NULL), 0);
    const char *cn = make_config("c.conf", va, NULL);
    struct strata_node *n = NULL;
    CU_ASSERT_EQUAL_FATAL(strata_open_config(cn, 0, &n, NULL), 0);
    CU_ASSERT_TRUE(reads_pattern(n, 3));
    strata_close(n);
    CU_ASSERT_TRUE(global_has("s"));
    /* A handle's own definition wins over the process-wide one. */
    const char *cw = make_config("w.conf", va, "wrong one");
    struct strata_error *err = NULL;
    CU_ASSERT_EQUAL(strata_open_config(cw, 0, &n, &err), -EACCES);
    strata_error_free(err);
    CU_ASSERT_TRUE(global_has("s"));
    strata_secret_remove("s");
    free((void *)va);
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "two handles with the same secret id", test_same_id_two_handles },
        { "process-wide secrets stay process-wide", test_process_wide_secrets_stay },
        { NULL, NULL },
    };
    tu_add_suite("secret-scope", NULL, NULL, tests);
    return tu_run();
}
