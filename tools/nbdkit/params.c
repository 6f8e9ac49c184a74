/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* params.c - the plugin's command-line parameters.
 *
 *   nbdkit strata disk.conf                      (config=, the magic key)
 *   nbdkit strata driver=qcow2 file.filename=disk.qcow2 object=secret,id=s,file=key
 *   nbdkit strata stack=driver=raw,file.filename=disk.img
 *
 * nbdkit changes to / when it daemonizes, so file names are made absolute
 * here, while the user's working directory is still current.  Secrets are
 * read when their parameter is seen: from the config file's secrets list or
 * from a key file named by object=secret,...,file=, or by password= in
 * nbdkit's conventions (-, +FILE, -FD); a secret reaches the command line
 * only if the user writes data= or password=TEXT there.
 */
#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "nbdkit-strata.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The secret id password= defines ('%' keeps it apart from object= ids). */
#define SRV_PASSWORD_ID "%password"

static char *srv_config;              /* absolute path of config= */
static bool srv_password;             /* password= was given */
static struct strata_opts *srv_cmdline; /* stack options from the command line */
static bool srv_readonly;
static unsigned srv_cache;            /* cache=: STRATA_O_* */

const char srv_param_help[] =
    "config=<FILE>            stack config file (strata.conf(5)); 'config=' may\n"
    "                         be left out\n"
    "driver=..., KEY.SUB=...  stack options (dotted, as --image-opts); they\n"
    "                         override the config file's\n"
    "stack=<DOTTED>           the same options as one comma-separated string\n"
    "object=secret,id=ID,file=PATH\n"
    "                         a secret read from a key file\n"
    "password=<PASSWORD>      the encrypted image's passphrase, as nbdkit reads\n"
    "                         passwords: '-' asks at the terminal, '+FILE' reads\n"
    "                         a file, '-FD' a file descriptor; used as key-secret\n"
    "                         (or encrypt.key-secret) unless a stack option names one\n"
    "readonly=true            open the stack read-only (-r alone serves it\n"
    "                         read-only but opens it read-write)\n"
    "cache=MODE               none, writeback (default), writethrough,\n"
    "                         directsync or unsafe, as QEMU's cache modes";

int srv_fail(struct strata_error *err, int code)
{
    int e = err && err->code > 0 ? err->code : (code < 0 ? -code : EIO);
    nbdkit_error("%s", err && err->msg ? err->msg : strerror(e));
    nbdkit_set_error(e);
    strata_error_free(err);
    return -1;
}

/* The last component names a path: filename, or a socket's server.path. */
static bool srv_is_path_key(const char *key)
{
    const char *last = strrchr(key, '.');
    last = last ? last + 1 : key;
    return strcmp(last, "filename") == 0 || strcmp(key, "server.path") == 0 ||
           (strlen(key) > 12 && strcmp(key + strlen(key) - 12, ".server.path") == 0);
}

static int srv_set_stack_opt(const char *key, const char *value)
{
    char *abs = NULL;
    if (srv_is_path_key(key) && *value && !strstr(value, "://")) {
        abs = nbdkit_absolute_path(value);
        if (!abs)
            return -1;
        value = abs;
    }
    int r = strata_opts_set(srv_cmdline, key, value);
    free(abs);
    if (r < 0) {
        nbdkit_error("%s: out of memory", key);
        return -1;
    }
    return 0;
}

static int srv_param_stack(const char *dotted)
{
    struct strata_error *err = NULL;
    struct strata_opts *o = strata_opts_new();
    int r = o ? strata_opts_parse(o, dotted, NULL, &err) : -ENOMEM;
    if (r < 0) {
        strata_error_prefix(&err, "stack");
        strata_opts_free(o);
        return srv_fail(err, r);
    }
    const char *k, *v;
    for (size_t i = 0; r == 0 && strata_opts_entry(o, i, &k, &v); i++)
        r = srv_set_stack_opt(k, v);
    strata_opts_free(o);
    return r;
}

static int srv_param_object(const char *text)
{
    struct strata_error *err = NULL;
    struct strata_opts *o = strata_opts_new();
    int r = o ? strata_opts_parse(o, text, "qom-type", &err) : -ENOMEM;
    const char *type = r == 0 ? strata_opts_get(o, "qom-type") : NULL;
    if (r == 0 && (!type || strcmp(type, "secret") != 0))
        r = strata_error_set(&err, EINVAL, "object: only 'secret,id=ID,file=PATH' "
                             "objects are supported");
    if (r == 0) {
        strata_opts_del(o, "qom-type");
        r = strata_secret_add_opts(o, &err);
    }
    strata_opts_free(o);
    if (r < 0) {
        strata_error_prefix(&err, "object");
        return srv_fail(err, r);
    }
    return 0;
}

/* nbdkit's password conventions; the passphrase goes straight into the
 * secret store and the copy nbdkit made is wiped. */
static int srv_param_password(const char *value)
{
    char *pw = NULL;
    if (nbdkit_read_password(value, &pw) == -1)
        return -1;
    struct strata_error *err = NULL;
    size_t len = strlen(pw);
    int r = strata_secret_add(SRV_PASSWORD_ID, pw, len, &err);
    strata_wipe(pw, len);
    free(pw);
    if (r < 0) {
        strata_error_prefix(&err, "password");
        return srv_fail(err, r);
    }
    srv_password = true;
    return 0;
}

/* password= is the key of the encrypted format at the top of the stack,
 * unless an option already names one. */
static int srv_use_password(struct strata_opts *o)
{
    const char *k, *v;
    for (size_t i = 0; strata_opts_entry(o, i, &k, &v); i++) {
        size_t n = strlen(k);
        if (n >= 10 && strcmp(k + n - 10, "key-secret") == 0)
            return 0;
    }
    const char *driver = strata_opts_get(o, "driver");
    struct strata_node *probe = NULL;
    if (!driver) {
        struct strata_error *err = NULL;
        int r = strata_open_opts(o, STRATA_O_NO_IO | STRATA_O_NO_PROBE_WARN, &probe, &err);
        if (r < 0)
            return srv_fail(err, r);
        driver = strata_node_driver_name(probe);
    }
    int r = strata_opts_set(o, strcmp(driver, "luks") == 0 ? "key-secret"
                                                          : "encrypt.key-secret",
                            SRV_PASSWORD_ID);
    strata_close(probe);
    if (r < 0) {
        nbdkit_error("out of memory");
        return -1;
    }
    return 0;
}

int srv_param(const char *key, const char *value)
{
    if (!srv_cmdline && !(srv_cmdline = strata_opts_new())) {
        nbdkit_error("out of memory");
        return -1;
    }
    if (strcmp(key, "config") == 0) {
        if (srv_config) {
            nbdkit_error("config: given twice ('%s' and '%s')", srv_config, value);
            return -1;
        }
        srv_config = nbdkit_absolute_path(value);
        return srv_config ? 0 : -1;
    }
    if (strcmp(key, "stack") == 0)
        return srv_param_stack(value);
    if (strcmp(key, "object") == 0)
        return srv_param_object(value);
    if (strcmp(key, "password") == 0)
        return srv_param_password(value);
    if (strcmp(key, "cache") == 0) {
        struct strata_error *err = NULL;
        int r = strata_cache_mode_flags(value, &srv_cache, &err);
        if (r < 0) {
            strata_error_prefix(&err, "cache");
            return srv_fail(err, r);
        }
        return 0;
    }
    if (strcmp(key, "readonly") == 0) {
        int b = nbdkit_parse_bool(value);
        if (b < 0)
            return -1;
        srv_readonly = b;
        return 0;
    }
    /* Everything else is the stack's; the core refuses what no driver
     * takes when the stack is opened. */
    return srv_set_stack_opt(key, value);
}

struct strata_opts *srv_params_done(void)
{
    struct strata_error *err = NULL;
    struct strata_opts *o = NULL;
    bool have_cmdline = srv_cmdline && strata_opts_count(srv_cmdline) > 0;

    if (!srv_config && !have_cmdline) {
        nbdkit_error("no stack given: use config=FILE or stack options "
                     "(driver=..., file.filename=...)");
        return NULL;
    }
    if (srv_config) {
        int r = strata_config_load(srv_config, &o, &err);
        if (r < 0) {
            srv_fail(err, r);
            return NULL;
        }
    } else if (!(o = strata_opts_new())) {
        nbdkit_error("out of memory");
        return NULL;
    }
    if (have_cmdline && strata_opts_merge(o, srv_cmdline, NULL) < 0) {
        nbdkit_error("out of memory");
        strata_opts_free(o);
        return NULL;
    }
    if (srv_password && srv_use_password(o) < 0) {
        strata_opts_free(o);
        return NULL;
    }
    return o;
}

bool srv_param_readonly(void)
{
    return srv_readonly;
}

unsigned srv_param_cache(void)
{
    return srv_cache;
}

void srv_params_free(void)
{
    free(srv_config);
    srv_config = NULL;
    strata_opts_free(srv_cmdline);
    srv_cmdline = NULL;
}
