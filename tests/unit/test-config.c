/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-config.c - stack config files (strata.conf(5)). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <strata/strata.h>
#include "testutil.h"

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(write(fd, data, len) == (ssize_t)len);
    close(fd);
}

static void write_text(const char *path, const char *text)
{
    write_file(path, text, strlen(text));
}

/* Loads path, expecting success; returns the joined options. */
static const char *load_ok(const char *path)
{
    struct strata_opts *o = NULL;
    struct strata_error *err = NULL;
    int ret = strata_config_load(path, &o, &err);
    CU_ASSERT_EQUAL(ret, 0);
    if (err) {
        fprintf(stderr, "%s\n", err->msg);
        strata_error_free(err);
    }
    if (!o)
        return "";
    const char *joined = tu_opts_join(o);
    strata_opts_free(o);
    return joined;
}

/* Loads path, expecting failure with errno `code`; returns the message. */
static char errmsg[1024];
static const char *load_fails(const char *path, int code)
{
    struct strata_opts *o = (struct strata_opts *)&errmsg; /* must stay untouched */
    struct strata_error *err = NULL;
    int ret = strata_config_load(path, &o, &err);
    CU_ASSERT_EQUAL(ret, -code);
    CU_ASSERT_PTR_EQUAL(o, (struct strata_opts *)&errmsg);
    errmsg[0] = 0;
    if (err) {
        snprintf(errmsg, sizeof errmsg, "%s", err->msg);
        CU_ASSERT_EQUAL(err->code, code);
        strata_error_free(err);
    }
    CU_ASSERT(errmsg[0] != 0);
    return errmsg;
}

static bool secret_is(const char *id, const void *data, size_t len)
{
    uint8_t *got;
    size_t got_len;
    if (strata_secret_get(id, &got, &got_len, NULL) < 0)
        return false;
    bool eq = got_len == len && memcmp(got, data, len) == 0;
    strata_secret_free(got, got_len);
    return eq;
}

static bool secret_exists(const char *id)
{
    uint8_t *got;
    size_t len;
    if (strata_secret_get(id, &got, &len, NULL) < 0)
        return false;
    strata_secret_free(got, len);
    return true;
}

static void test_good(void)
{
    write_text(tu_path("disk.pass"), "correct horse\n");
    const char *conf = tu_path("good.conf");
    write_text(conf,
               "# a qcow2 image encrypted with LUKS\n"
               "stack = {\n"
               "  driver = \"qcow2\";\n"
               "  encrypt = { format = \"luks\"; key-secret = \"sec0\"; };\n"
               "  cache-size = 1048576;\n"
               "  big = 5000000000L;\n"
               "  hex = 0x10000;\n"
               "  ratio = 0.25;\n"
               "  lazy-refcounts = true;\n"
               "  discard = false;\n"
               "  file = { driver = \"file\"; filename = \"disk.qcow2\"; };\n"
               "  backing = { driver = \"raw\"; file = { filename = \"/abs/base.img\"; }; };\n"
               "};\n"
               "secrets = (\n"
               "  { id = \"sec0\"; file = \"disk.pass\"; },\n"
               "  { id = \"sec1\"; data = \"cGFzcw==\"; format = \"base64\"; },\n"
               "  { id = \"sec2\"; data = \"plain\"; }\n"
               ");\n");
    char expected[2048];
    snprintf(expected, sizeof expected,
             "driver=qcow2|encrypt.format=luks|encrypt.key-secret=sec0|"
             "cache-size=1048576|big=5000000000|hex=65536|ratio=0.25|"
             "lazy-refcounts=on|discard=off|file.driver=file|"
             "file.filename=%s/disk.qcow2|backing.driver=raw|"
             "backing.file.filename=/abs/base.img", tu_tmpdir());
    CU_ASSERT_STRING_EQUAL(load_ok(conf), expected);
    CU_ASSERT_TRUE(secret_is("sec0", "correct horse\n", 14));
    CU_ASSERT_TRUE(secret_is("sec1", "pass", 4));
    CU_ASSERT_TRUE(secret_is("sec2", "plain", 5));
    strata_secret_clear_all();
}

/* The config file and dotted options describe the same stack. */
static void test_dotted_equivalence(void)
{
    const char *conf = tu_path("eq.conf");
    write_text(conf,
               "stack = {\n"
               "  driver = \"qcow2\";\n"
               "  encrypt = { key-secret = \"sec0\"; };\n"
               "  file = { driver = \"file\"; filename = \"/images/disk.qcow2\"; };\n"
               "};\n");
    struct strata_opts *o = strata_opts_new();
    CU_ASSERT_EQUAL(strata_opts_parse(o, "driver=qcow2,encrypt.key-secret=sec0,"
                                      "file.driver=file,file.filename=/images/disk.qcow2",
                                      NULL, NULL), 0);
    char dotted[2048];
    snprintf(dotted, sizeof dotted, "%s", tu_opts_join(o));
    strata_opts_free(o);
    CU_ASSERT_STRING_EQUAL(load_ok(conf), dotted);
}

static void test_binary_secret(void)
{
    static const uint8_t key[] = { 0x00, 0xff, 0x00, 0x01, 0xfe, 'k', 0x00, '\n',
                                   0xc3, 0x28, 0xff, 0x00 };
    write_file(tu_path("bin.key"), key, sizeof key);
    const char *conf = tu_path("bin.conf");
    write_text(conf,
               "stack = { driver = \"luks\"; key-secret = \"k0\";\n"
               "          file = { filename = \"x.luks\"; }; };\n"
               "secrets = ( { id = \"k0\"; file = \"bin.key\"; format = \"raw\"; } );\n");
    load_ok(conf);
    CU_ASSERT_TRUE(secret_is("k0", key, sizeof key));
    strata_secret_clear_all();
}

/* Relative paths are relative to the config file, whatever the cwd. */
static void test_relative_paths(void)
{
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/sub", tu_tmpdir());
    mkdir(sub, 0700);
    char conf[PATH_MAX + 16], key[PATH_MAX + 16];
    snprintf(conf, sizeof conf, "%s/rel.conf", sub);
    snprintf(key, sizeof key, "%s/k.pass", sub);
    write_text(key, "subkey");
    write_text(conf,
               "stack = {\n"
               "  driver = \"blkdebug\";\n"
               "  config = \"rules.conf\";\n"
               "  key-secret = \"relative-looking\";\n"
               "  image = {\n"
               "    driver = \"raw\";\n"
               "    file = { filename = \"../img/x.img\"; };\n"
               "    backing = { filename = \"nbd://host/export\"; };\n"
               "    header = { filename = \"\"; };\n"
               "  };\n"
               "};\n"
               "secrets = ( { id = \"r\"; file = \"k.pass\"; } );\n");
    char cwd[PATH_MAX];
    CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
    CU_ASSERT_EQUAL_FATAL(chdir("/"), 0);
    char expected[4 * PATH_MAX];
    snprintf(expected, sizeof expected,
             "driver=blkdebug|config=%s/rules.conf|key-secret=relative-looking|"
             "image.driver=raw|image.file.filename=%s/../img/x.img|"
             "image.backing.filename=nbd://host/export|image.header.filename=",
             sub, sub);
    CU_ASSERT_STRING_EQUAL(load_ok(conf), expected);
    CU_ASSERT_TRUE(secret_is("r", "subkey", 6));

    /* A config named without a directory leaves names as they are: they
     * are already relative to the cwd the config is in. */
    CU_ASSERT_EQUAL_FATAL(chdir(sub), 0);
    write_text("plain.conf", "stack = { driver = \"raw\"; file = { filename = \"d.img\"; }; };\n");
    CU_ASSERT_STRING_EQUAL(load_ok("plain.conf"), "driver=raw|file.filename=d.img");
    CU_ASSERT_EQUAL(chdir(cwd), 0);
    strata_secret_clear_all();
}

static void test_include(void)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/inc", tu_tmpdir());
    mkdir(dir, 0700);
    char main_conf[PATH_MAX + 16], part[PATH_MAX + 16];
    snprintf(main_conf, sizeof main_conf, "%s/main.conf", dir);
    snprintf(part, sizeof part, "%s/file-part.conf", dir);
    write_text(part, "file = { driver = \"file\"; filename = \"inc.img\"; };\n");
    write_text(main_conf, "stack = {\n  driver = \"raw\";\n  @include \"file-part.conf\"\n};\n");
    char cwd[PATH_MAX];
    CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
    CU_ASSERT_EQUAL_FATAL(chdir("/"), 0);
    char expected[2 * PATH_MAX];
    snprintf(expected, sizeof expected,
             "driver=raw|file.driver=file|file.filename=%s/inc.img", dir);
    CU_ASSERT_STRING_EQUAL(load_ok(main_conf), expected);
    CU_ASSERT_EQUAL(chdir(cwd), 0);
}

static void test_syntax_error(void)
{
    const char *conf = tu_path("syntax.conf");
    write_text(conf,
               "stack = {\n"
               "  driver = \"raw\";\n"
               "  file = { filename = ; };\n"
               "};\n");
    char prefix[PATH_MAX + 16];
    snprintf(prefix, sizeof prefix, "%s:3: ", conf);
    const char *msg = load_fails(conf, EINVAL);
    CU_ASSERT_EQUAL(strncmp(msg, prefix, strlen(prefix)), 0);
    CU_ASSERT(strlen(msg) > strlen(prefix));

    /* unterminated group, reported at the end */
    write_text(conf, "stack = {\n  driver = \"raw\";\n\n");
    msg = load_fails(conf, EINVAL);
    CU_ASSERT_EQUAL(strncmp(msg, conf, strlen(conf)), 0);
    CU_ASSERT_EQUAL(msg[strlen(conf)], ':');
}

static void test_structure_errors(void)
{
    const char *conf = tu_path("bad.conf");
    char needle[PATH_MAX + 64];

    write_text(conf, "secrets = ( { id = \"x\"; data = \"y\"; } );\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(load_fails(conf, EINVAL), "no 'stack' group"));
    CU_ASSERT_PTR_NOT_NULL(strstr(errmsg, conf));
    CU_ASSERT_FALSE(secret_exists("x"));

    write_text(conf, "stack = \"raw\";\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(load_fails(conf, EINVAL), "'stack' must be a group"));

    write_text(conf,
               "stack = {\n"
               "  driver = \"raw\";\n"
               "  file = {\n"
               "    sizes = [ 1, 2 ];\n"
               "  };\n"
               "};\n");
    load_fails(conf, EINVAL);
    snprintf(needle, sizeof needle, "%s:4: ", conf);
    CU_ASSERT_EQUAL(strncmp(errmsg, needle, strlen(needle)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(errmsg, "'stack.file.sizes'"));

    write_text(conf, "stack = { driver = \"raw\"; list = ( \"a\" ); };\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(load_fails(conf, EINVAL), "'stack.list'"));

    write_text(conf,
               "stack = { driver = \"raw\"; };\n"
               "stacks = { driver = \"qcow2\"; };\n");
    load_fails(conf, EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(errmsg, "'stacks'"));
    snprintf(needle, sizeof needle, "%s:2: ", conf);
    CU_ASSERT_EQUAL(strncmp(errmsg, needle, strlen(needle)), 0);

    const char *missing = tu_path("no-such.conf");
    CU_ASSERT_PTR_NOT_NULL(strstr(load_fails(missing, ENOENT), missing));
}

static void test_secret_errors(void)
{
    const char *conf = tu_path("sec.conf");
    static const char stack[] = "stack = { driver = \"raw\"; };\n";
    char text[1024];

    snprintf(text, sizeof text, "%ssecrets = ( { id = \"a\"; data = \"x\"; colour = \"red\"; } );\n",
             stack);
    write_text(conf, text);
    CU_ASSERT_PTR_NOT_NULL(strstr(load_fails(conf, EINVAL), "'colour'"));
    CU_ASSERT_FALSE(secret_exists("a"));

    snprintf(text, sizeof text, "%ssecrets = ( { id = \"a\"; data = \"x\"; file = \"f\"; } );\n",
             stack);
    write_text(conf, text);
    load_fails(conf, EINVAL);

    snprintf(text, sizeof text, "%ssecrets = ( { data = \"x\"; } );\n", stack);
    write_text(conf, text);
    CU_ASSERT_PTR_NOT_NULL(strstr(load_fails(conf, EINVAL), "no id"));

    snprintf(text, sizeof text, "%ssecrets = { id = \"a\"; data = \"x\"; };\n", stack);
    write_text(conf, text);
    CU_ASSERT_PTR_NOT_NULL(strstr(load_fails(conf, EINVAL), "'secrets' must be a list"));

    snprintf(text, sizeof text, "%ssecrets = ( { id = 5; data = \"x\"; } );\n", stack);
    write_text(conf, text);
    CU_ASSERT_PTR_NOT_NULL(strstr(load_fails(conf, EINVAL), "must be a string"));

    /* a missing key file names that file */
    snprintf(text, sizeof text, "%ssecrets = ( { id = \"a\"; file = \"gone.key\"; } );\n",
             stack);
    write_text(conf, text);
    CU_ASSERT_PTR_NOT_NULL(strstr(load_fails(conf, ENOENT), "gone.key"));

    /* nothing is stored when the stack itself is bad */
    write_text(conf, "stack = { l = [1]; };\nsecrets = ( { id = \"b\"; data = \"x\"; } );\n");
    load_fails(conf, EINVAL);
    CU_ASSERT_FALSE(secret_exists("b"));
    strata_secret_clear_all();
}

int main(void)
{
    static const struct tu_test tests[] = {
        { "good config", test_good },
        { "same as dotted options", test_dotted_equivalence },
        { "binary secret file", test_binary_secret },
        { "relative paths", test_relative_paths },
        { "@include", test_include },
        { "syntax errors", test_syntax_error },
        { "structure errors", test_structure_errors },
        { "secret errors", test_secret_errors },
        { NULL, NULL },
    };
    tu_add_suite("config", NULL, NULL, tests);
    return tu_run();
}
