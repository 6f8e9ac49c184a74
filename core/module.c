/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* module.c - finding, reading and loading plugin modules.
 *
 * Search path, in order: the directories in STRATA_PLUGIN_PATH, those named
 * by snippets' `search-path`, then strata/ next to libstrata itself (the
 * build tree and an installed tree have the same layout, so neither needs a
 * setting).  Snippets (*.conf, libconfig) are read from every
 * STRATA_PLUGIN_PATH directory, from SYSCONFDIR/strata/plugins.d and from
 * plugins.d/ in the default module directory:
 *
 *     search-path = [ "/opt/vendor/lib/strata" ];
 *     modules = ( { file = "cipher-aes.so"; ciphers = [ "aes" ]; } );
 */
#include "module.h"
#include "plugin_check.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <ltdl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef STRATA_SYSCONFDIR
#define STRATA_SYSCONFDIR "/usr/local/etc"
#endif

/* A module is loaded once: a thread that finds it MOD_LOADING by another
 * thread waits on mod_done. */
enum mod_state { MOD_NEW, MOD_LOADING, MOD_DONE };

struct strata_module {
    char *file;            /* as a snippet names it, or a path */
    char *path;            /* where it was found, once loaded */
    enum mod_state state;
    pthread_t loader;      /* while MOD_LOADING */
    bool loaded;
    struct strata_error *err;   /* why it could not be found or loaded */
    lt_dlhandle handle;
    struct strata_module *next;
};

struct claim {
    enum strata_reg_kind kind;
    char *name;
    struct strata_module *mod;
    struct claim *next;
};

/* mod_lock guards the module list and the modules' states; claims and the
 * search path are only written by strata_module_system_init. */
static pthread_mutex_t mod_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mod_done = PTHREAD_COND_INITIALIZER;
static struct strata_module *modules;
static struct claim *claims;
static char **search_path;
static size_t n_search_path;
static const struct strata_module_sink *sink;
/* The one scan for modules no snippet names. */
static enum mod_state unclaimed_scan;
static pthread_t unclaimed_scanner;

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

static void add_search_dir(const char *dir)
{
    if (!*dir)
        return;
    for (size_t i = 0; i < n_search_path; i++)
        if (strcmp(search_path[i], dir) == 0)
            return;
    char **n = realloc(search_path, (n_search_path + 1) * sizeof *n);
    if (!n)
        abort();
    search_path = n;
    search_path[n_search_path++] = xstrdup(dir);
}

static struct strata_module *module_by_file(const char *file)
{
    for (struct strata_module *m = modules; m; m = m->next)
        if (strcmp(m->file, file) == 0 || (m->path && strcmp(m->path, file) == 0))
            return m;
    struct strata_module *m = calloc(1, sizeof *m);
    if (!m)
        abort();
    m->file = xstrdup(file);
    m->next = modules;
    modules = m;
    return m;
}

static void add_claim(enum strata_reg_kind kind, const char *name, struct strata_module *m)
{
    struct claim *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->kind = kind;
    c->name = xstrdup(name);
    c->mod = m;
    c->next = claims;
    claims = c;
}

/* A broken snippet is reported as a warning and skipped: one bad file from a
 * third party must not make every image unopenable. */
static void read_snippet(const char *path, const char *dir)
{
    config_t cfg;
    config_init(&cfg);
    if (!config_read_file(&cfg, path)) {
        strata_warn("%s:%d: %s (plugin snippet ignored)", path,
                    config_error_line(&cfg), config_error_text(&cfg));
        config_destroy(&cfg);
        return;
    }
    config_setting_t *sp = config_lookup(&cfg, "search-path");
    for (int i = 0; sp && i < config_setting_length(sp); i++) {
        const char *d = config_setting_get_string_elem(sp, i);
        if (d)
            add_search_dir(d);
    }
    config_setting_t *mods = config_lookup(&cfg, "modules");
    for (int i = 0; mods && i < config_setting_length(mods); i++) {
        config_setting_t *g = config_setting_get_elem(mods, i);
        const char *file = NULL;
        if (!config_setting_lookup_string(g, "file", &file)) {
            strata_warn("%s: modules entry %d has no 'file' (ignored)", path, i + 1);
            continue;
        }
        char full[PATH_MAX];
        /* A file next to a snippet in a plugin directory is that one. */
        if (file[0] != '/' && dir) {
            snprintf(full, sizeof full, "%s/%s", dir, file);
            struct stat st;
            if (stat(full, &st) == 0)
                file = full;
        }
        struct strata_module *m = module_by_file(file);
        for (int k = 0; k < STRATA_REG_NKINDS; k++) {
            config_setting_t *names = config_setting_get_member(g, strata_kinds[k].snippet_key);
            for (int j = 0; names && j < config_setting_length(names); j++) {
                const char *n = config_setting_get_string_elem(names, j);
                if (n)
                    add_claim(k, n, m);
            }
        }
    }
    config_destroy(&cfg);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Calls fn for each file in dir ending in suffix, in name order, so that the
 * result does not depend on directory order. */
static void for_each_file(const char *dir, const char *suffix,
                          void (*fn)(const char *path, const char *dir))
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    size_t sl = strlen(suffix);
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l <= sl || strcmp(de->d_name + l - sl, suffix) != 0)
            continue;
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        if (!nn)
            abort();
        names = nn;
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        fn(path, dir);
        free(names[i]);
    }
    free(names);
}

void strata_plugin_default_dir(char *buf, size_t len)
{
    Dl_info info;
    buf[0] = 0;
    if (dladdr((void *)strata_module_system_init, &info) && info.dli_fname) {
        char real[PATH_MAX];
        const char *p = realpath(info.dli_fname, real) ? real : info.dli_fname;
        const char *slash = strrchr(p, '/');
        if (slash)
            snprintf(buf, len, "%.*s/strata", (int)(slash - p), p);
    }
}

int strata_module_system_init(const struct strata_module_sink *to,
                              struct strata_error **errp)
{
    sink = to;
    if (lt_dlinit() != 0)
        return strata_error_set(errp, EIO, "cannot initialise libltdl: %s", lt_dlerror());

    const char *env = getenv("STRATA_PLUGIN_PATH");
    if (env) {
        char *copy = xstrdup(env), *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
            add_search_dir(d);
            for_each_file(d, ".conf", read_snippet);
        }
        free(copy);
    }
    for_each_file(STRATA_SYSCONFDIR "/strata/plugins.d", ".conf", read_snippet);
    char def[PATH_MAX], snip[PATH_MAX + 16];
    strata_plugin_default_dir(def, sizeof def);
    if (def[0]) {
        snprintf(snip, sizeof snip, "%s/plugins.d", def);
        for_each_file(snip, ".conf", read_snippet);
        add_search_dir(def);
    }
    if (strata_debug_enabled())
        for (size_t i = 0; i < n_search_path; i++)
            strata_debug("plugin search path: %s", search_path[i]);
    return 0;
}

static void search_path_text(char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n_search_path && o < len; i++)
        o += snprintf(buf + o, len - o, "%s%s", i ? ":" : "", search_path[i]);
}

static bool locate(struct strata_module *m, char *out, size_t len)
{
    struct stat st;
    if (strchr(m->file, '/')) {
        snprintf(out, len, "%s", m->file);
        return stat(out, &st) == 0;
    }
    for (size_t i = 0; i < n_search_path; i++) {
        snprintf(out, len, "%s/%s", search_path[i], m->file);
        if (stat(out, &st) == 0)
            return true;
    }
    return false;
}

/* Hands every descriptor of a loaded module to the sink, accepted or with
 * the reason it was refused.  Runs without mod_lock: self-tests are plugin
 * code and may look up names other modules provide. */
static int register_plugin(struct strata_module *m, const struct strata_plugin *p_in,
                           struct strata_error **errp)
{
    struct strata_plugin p = { 0 };
    if (STRATA_ABI_MAJOR_OF(p_in->abi_version) != STRATA_PLUGIN_ABI_MAJOR)
        return strata_error_set(errp, EINVAL,
                                "%s: refused: built for plugin ABI %u.%u, this strata supports %u.x",
                                m->path, STRATA_ABI_MAJOR_OF(p_in->abi_version),
                                STRATA_ABI_MINOR_OF(p_in->abi_version),
                                STRATA_PLUGIN_ABI_MAJOR);
    memcpy(&p, p_in, p_in->struct_size < sizeof p ? p_in->struct_size : sizeof p);

    int ret = 0;
    for (int k = 0; k < STRATA_REG_NKINDS; k++) {
        const void *const *list;
        memcpy(&list, (const char *)&p + strata_kinds[k].list_offset, sizeof list);
        for (size_t i = 0; list && list[i]; i++) {
            struct strata_error *err = NULL;
            const void *d = strata_plugin_check(k, list[i], &err);
            const char *name = ((const struct desc_head *)list[i])->name;
            if (!d) {
                char msg[1024];
                snprintf(msg, sizeof msg, "%s: %s", m->path, err ? err->msg : "refused");
                sink->refuse(k, name ? name : "", msg);
                if (ret == 0)
                    ret = strata_error_set(errp, err ? err->code : EINVAL, "%s", msg);
                strata_error_free(err);
                continue;
            }
            sink->accept(k, name, strata_plugin_desc_priority(k, d), d);
            strata_debug("registered %s '%s' from %s", strata_kinds[k].what, name, m->path);
        }
    }
    return ret;
}

/* Finds and opens m and calls its entry point; *p is what it returned. */
static int open_module(struct strata_module *m, const struct strata_plugin **p)
{
    char path[PATH_MAX];
    if (!locate(m, path, sizeof path)) {
        char sp[2048];
        search_path_text(sp, sizeof sp);
        return strata_error_set(&m->err, ENOENT,
                                "module %s was not found in the plugin path (%s)", m->file, sp);
    }
    char real[PATH_MAX];
    m->path = xstrdup(realpath(path, real) ? real : path);
    for (struct strata_module *o = modules; o; o = o->next)
        if (o != m && o->loaded && o->path && strcmp(o->path, m->path) == 0) {
            m->loaded = true;   /* same file under another name: already in */
            return 0;
        }

    lt_dlhandle h = lt_dlopen(m->path);
    if (!h)
        return strata_error_set(&m->err, EIO, "%s: cannot load module: %s", m->path,
                                lt_dlerror());
    void *sym = lt_dlsym(h, STRATA_PLUGIN_ENTRY_SYMBOL);
    if (!sym) {
        lt_dlclose(h);
        return strata_error_set(&m->err, EINVAL, "%s: not a strata plugin: no %s symbol",
                                m->path, STRATA_PLUGIN_ENTRY_SYMBOL);
    }
    strata_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);
    *p = entry();
    if (!*p) {
        lt_dlclose(h);
        return strata_error_set(&m->err, EINVAL, "%s: plugin entry returned nothing",
                                m->path);
    }
    m->handle = h;
    m->loaded = true;
    strata_debug("loaded module %s", m->path);
    return 0;
}

/* Called with mod_lock held, which it drops while the module's descriptors
 * are checked. */
static int load_module(struct strata_module *m, struct strata_error **errp)
{
    while (m->state == MOD_LOADING && !pthread_equal(m->loader, pthread_self()))
        pthread_cond_wait(&mod_done, &mod_lock);
    /* Done, or being loaded by this very thread (a self-test that looks up
     * a name of its own module): report what is known. */
    if (m->state != MOD_NEW) {
        if (m->err && errp && !*errp)
            return strata_error_set(errp, m->err->code, "%s", m->err->msg);
        return m->loaded ? 0 : -ENOENT;
    }
    m->state = MOD_LOADING;
    m->loader = pthread_self();

    const struct strata_plugin *p = NULL;
    int r = open_module(m, &p);
    if (r < 0)
        strata_debug("%s", m->err->msg);
    if (r == 0 && p) {
        /* Kept loaded even when some descriptor was refused: the others work. */
        pthread_mutex_unlock(&mod_lock);
        r = register_plugin(m, p, &m->err);
        pthread_mutex_lock(&mod_lock);
    }
    m->state = MOD_DONE;
    pthread_cond_broadcast(&mod_done);
    if (r < 0 && errp && !*errp)
        strata_error_set(errp, m->err->code, "%s", m->err->msg);
    return r;
}

bool strata_module_load_claimed(enum strata_reg_kind kind, const char *name,
                                struct strata_error **errp)
{
    bool any = false;
    pthread_mutex_lock(&mod_lock);
    for (struct claim *c = claims; c; c = c->next) {
        if (c->kind != kind || strcmp(c->name, name) != 0)
            continue;
        any = true;
        struct strata_error *err = NULL;
        if (load_module(c->mod, &err) < 0 && err) {
            strata_error_prefix(&err, "cannot use %s '%s'", strata_kinds[kind].what, name);
            strata_error_propagate(errp, &err);
        }
        strata_error_free(err);
    }
    pthread_mutex_unlock(&mod_lock);
    return any;
}

void strata_module_load_kind(enum strata_reg_kind kind)
{
    pthread_mutex_lock(&mod_lock);
    for (struct claim *c = claims; c; c = c->next)
        if (c->kind == kind)
            load_module(c->mod, NULL);
    pthread_mutex_unlock(&mod_lock);
}

static void load_unclaimed_file(const char *path, const char *dir)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        return;
    for (struct strata_module *m = modules; m; m = m->next)
        if (m->path && strcmp(m->path, real) == 0)
            return;
    /* A module a snippet names but that was not loaded yet stays lazy. */
    const char *base = strrchr(real, '/') + 1;
    for (struct strata_module *m = modules; m; m = m->next)
        if (m->state == MOD_NEW && (strcmp(m->file, base) == 0 || strcmp(m->file, real) == 0))
            return;
    load_module(module_by_file(real), NULL);
}

void strata_module_load_unclaimed(void)
{
    pthread_mutex_lock(&mod_lock);
    while (unclaimed_scan == MOD_LOADING &&
           !pthread_equal(unclaimed_scanner, pthread_self()))
        pthread_cond_wait(&mod_done, &mod_lock);
    if (unclaimed_scan == MOD_NEW) {
        unclaimed_scan = MOD_LOADING;
        unclaimed_scanner = pthread_self();
        for (size_t i = 0; i < n_search_path; i++)
            for_each_file(search_path[i], ".so", load_unclaimed_file);
        unclaimed_scan = MOD_DONE;
        pthread_cond_broadcast(&mod_done);
    }
    pthread_mutex_unlock(&mod_lock);
}

int strata_module_load_path(const char *path, struct strata_error **errp)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        return strata_error_set(errp, errno, "%s: %s", path, strerror(errno));
    pthread_mutex_lock(&mod_lock);
    int r = load_module(module_by_file(real), errp);
    pthread_mutex_unlock(&mod_lock);
    return r;
}
