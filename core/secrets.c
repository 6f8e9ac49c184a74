/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* secrets.c - the secret store: process-wide (--object secret,
 * strata_secret_add, strata_config_load) and per handle (the `secrets` list
 * of a config file opened with strata_open_config, which only that stack
 * sees and which strata_close wipes).  Secrets are bytes kept in secure
 * memory. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cryptsetup's default upper bound for key files; anything larger is more
 * likely a wrong path than a key. */
#define SECRET_MAX_LEN (8u << 20)

struct secret {
    char *id;
    uint8_t *data;
    size_t len;
};

struct secret_set {
    struct secret *v;
    size_t n, cap;
};

/* The secrets of one handle. */
struct strata_secret_scope {
    struct secret_set set;
    const struct strata_node *owner;    /* the top node, once opened */
    struct strata_secret_scope *next;   /* in the list of bound scopes */
};

static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static struct secret_set global;
static struct strata_secret_scope *bound;
/* The scope a stack is being opened in on this thread: secrets defined
 * now go there, and lookups try it before the process-wide store. */
static _Thread_local struct strata_secret_scope *current;

static ssize_t set_find(const struct secret_set *set, const char *id)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->v[i].id, id) == 0)
            return (ssize_t)i;
    return -1;
}

static void secret_release(struct secret *s)
{
    strata_secure_free(s->data, s->len);
    free(s->id);
}

/* Takes ownership of data (a secure buffer of len bytes). */
static int secret_store(const char *id, uint8_t *data, size_t len,
                        struct strata_error **errp)
{
    char *nid = strdup(id);
    if (!nid) {
        strata_secure_free(data, len);
        return strata_error_set(errp, ENOMEM, "secret '%s': out of memory", id);
    }
    pthread_mutex_lock(&secrets_lock);
    struct secret_set *set = current ? &current->set : &global;
    ssize_t i = set_find(set, id);
    if (i >= 0) {
        secret_release(&set->v[i]);
    } else {
        if (set->n == set->cap) {
            size_t cap = set->cap ? set->cap * 2 : 8;
            struct secret *v = realloc(set->v, cap * sizeof *v);
            if (!v) {
                pthread_mutex_unlock(&secrets_lock);
                free(nid);
                strata_secure_free(data, len);
                return strata_error_set(errp, ENOMEM, "secret '%s': out of memory", id);
            }
            set->v = v;
            set->cap = cap;
        }
        i = (ssize_t)set->n++;
    }
    set->v[i].id = nid;
    set->v[i].data = data;
    set->v[i].len = len;
    pthread_mutex_unlock(&secrets_lock);
    return 0;
}

static int check_id(const char *id, struct strata_error **errp)
{
    if (!id || !*id)
        return strata_error_set(errp, EINVAL, "a secret needs a non-empty id");
    return 0;
}

int strata_secret_add(const char *id, const void *data, size_t len,
                      struct strata_error **errp)
{
    int ret = check_id(id, errp);
    if (ret < 0)
        return ret;
    if (!data && len)
        return strata_error_set(errp, EINVAL, "secret '%s': no data", id);
    uint8_t *copy = strata_secure_alloc(len);
    if (!copy)
        return strata_error_set(errp, ENOMEM, "secret '%s': out of secure memory", id);
    if (len)
        memcpy(copy, data, len);
    return secret_store(id, copy, len, errp);
}

/* Reads the whole of path into a secure buffer, exactly as stored: key files
 * are binary, and a trailing newline is part of the key (cryptsetup's
 * --key-file reads it the same way). */
static int read_secret_file(const char *id, const char *path, uint8_t **datap,
                            size_t *lenp, struct strata_error **errp)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return strata_error_set(errp, errno, "%s: cannot open secret file for '%s': %s",
                                path, id, strerror(errno));
    size_t cap = 4096, len = 0;
    uint8_t *buf = strata_secure_alloc(cap);
    if (!buf) {
        close(fd);
        return strata_error_set(errp, ENOMEM, "%s: out of secure memory", path);
    }
    for (;;) {
        if (len == cap) {
            if (cap >= SECRET_MAX_LEN) {
                strata_secure_free(buf, cap);
                close(fd);
                return strata_error_set(errp, EFBIG,
                                        "%s: secret file is larger than %u bytes",
                                        path, SECRET_MAX_LEN);
            }
            uint8_t *nb = strata_secure_alloc(cap * 2);
            if (!nb) {
                strata_secure_free(buf, cap);
                close(fd);
                return strata_error_set(errp, ENOMEM, "%s: out of secure memory", path);
            }
            memcpy(nb, buf, len);
            strata_secure_free(buf, cap);
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            strata_secure_free(buf, cap);
            close(fd);
            return strata_error_set(errp, e, "%s: cannot read secret file: %s",
                                    path, strerror(e));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    /* Shrink to the exact size so that the stored length is the buffer's. */
    uint8_t *exact = strata_secure_alloc(len);
    if (!exact) {
        strata_secure_free(buf, cap);
        return strata_error_set(errp, ENOMEM, "%s: out of secure memory", path);
    }
    memcpy(exact, buf, len);
    strata_secure_free(buf, cap);
    *datap = exact;
    *lenp = len;
    return 0;
}

int strata_secret_add_file(const char *id, const char *path, struct strata_error **errp)
{
    int ret = check_id(id, errp);
    if (ret < 0)
        return ret;
    if (!path || !*path)
        return strata_error_set(errp, EINVAL, "secret '%s': no file name", id);
    uint8_t *data;
    size_t len;
    ret = read_secret_file(id, path, &data, &len, errp);
    if (ret < 0)
        return ret;
    return secret_store(id, data, len, errp);
}

static int b64_value(uint8_t c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes standard base64 (RFC 4648), tolerating white space such as the
 * newline a text editor leaves at the end of a file. */
static int base64_decode(const uint8_t *in, size_t inlen, uint8_t **outp,
                         size_t *outlen)
{
    uint8_t *out = strata_secure_alloc(inlen / 4 * 3 + 3);
    if (!out)
        return -ENOMEM;
    size_t n = 0, pad = 0;
    unsigned quad = 0, bits = 0;
    for (size_t i = 0; i < inlen; i++) {
        uint8_t c = in[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || pad)
            goto bad;
        quad = (quad << 6) | (unsigned)v;
        bits++;
        if (bits == 4) {
            out[n++] = (uint8_t)(quad >> 16);
            out[n++] = (uint8_t)(quad >> 8);
            out[n++] = (uint8_t)quad;
            quad = 0;
            bits = 0;
        }
    }
    if (bits == 1 || (bits && bits + pad != 4) || (!bits && pad))
        goto bad;
    if (bits == 2) {
        out[n++] = (uint8_t)(quad >> 4);
    } else if (bits == 3) {
        out[n++] = (uint8_t)(quad >> 10);
        out[n++] = (uint8_t)(quad >> 2);
    }
    quad = 0;
    *outp = out;
    *outlen = n;
    return 0;
bad:
    quad = 0;
    strata_secure_free(out, inlen / 4 * 3 + 3);
    return -EINVAL;
}

int strata_secret_add_opts(const struct strata_opts *o, struct strata_error **errp)
{
    const char *id = strata_opts_get(o, "id");
    const char *data = strata_opts_get(o, "data");
    const char *file = strata_opts_get(o, "file");
    const char *format = strata_opts_get(o, "format");

    if (!id || !*id)
        return strata_error_set(errp, EINVAL, "secret: parameter 'id' is missing");
    const char *key, *value;
    for (size_t i = 0; strata_opts_entry(o, i, &key, &value); i++) {
        if (!strcmp(key, "id") || !strcmp(key, "data") || !strcmp(key, "file") ||
            !strcmp(key, "format"))
            continue;
        /* The object type, when the caller kept it ("secret,id=..."). */
        if ((!strcmp(key, "qom-type") || !strcmp(key, "type")) && !strcmp(value, "secret"))
            continue;
        return strata_error_set(errp, EINVAL, "secret '%s': unsupported option '%s'",
                                id, key);
    }
    if (!data == !file)
        return strata_error_set(errp, EINVAL,
                                "secret '%s': exactly one of 'data' and 'file' is needed",
                                id);
    bool b64 = false;
    if (format && !strcmp(format, "base64"))
        b64 = true;
    else if (format && strcmp(format, "raw") != 0)
        return strata_error_set(errp, EINVAL,
                                "secret '%s': invalid format '%s': expected raw or base64",
                                id, format);

    uint8_t *bytes;
    size_t len;
    if (file) {
        int ret = read_secret_file(id, file, &bytes, &len, errp);
        if (ret < 0)
            return ret;
    } else {
        len = strlen(data);
        bytes = strata_secure_alloc(len);
        if (!bytes)
            return strata_error_set(errp, ENOMEM, "secret '%s': out of secure memory", id);
        memcpy(bytes, data, len);
    }
    if (b64) {
        uint8_t *dec;
        size_t dlen;
        int ret = base64_decode(bytes, len, &dec, &dlen);
        strata_secure_free(bytes, len);
        if (ret < 0) {
            if (file)
                return strata_error_set(errp, -ret, "%s: secret '%s' is not valid base64",
                                        file, id);
            return strata_error_set(errp, -ret, "secret '%s': data is not valid base64", id);
        }
        bytes = dec;
        len = dlen;
    }
    return secret_store(id, bytes, len, errp);
}

int strata_secret_get(const char *id, uint8_t **data, size_t *len,
                      struct strata_error **errp)
{
    if (!id || !data || !len)
        return strata_error_set(errp, EINVAL, "no secret id given");
    pthread_mutex_lock(&secrets_lock);
    const struct secret_set *set = current ? &current->set : NULL;
    ssize_t i = set ? set_find(set, id) : -1;
    if (i < 0) {
        set = &global;
        i = set_find(set, id);
    }
    if (i < 0) {
        pthread_mutex_unlock(&secrets_lock);
        return strata_error_set(errp, ENOENT, "No secret with id '%s'", id);
    }
    const struct secret *sec = &set->v[i];
    uint8_t *copy = strata_secure_alloc(sec->len);
    if (!copy) {
        pthread_mutex_unlock(&secrets_lock);
        return strata_error_set(errp, ENOMEM, "secret '%s': out of secure memory", id);
    }
    if (sec->len)
        memcpy(copy, sec->data, sec->len);
    *data = copy;
    *len = sec->len;
    pthread_mutex_unlock(&secrets_lock);
    return 0;
}

void strata_secret_free(uint8_t *data, size_t len)
{
    strata_secure_free(data, len);
}

void strata_secret_remove(const char *id)
{
    if (!id)
        return;
    pthread_mutex_lock(&secrets_lock);
    ssize_t i = set_find(&global, id);
    if (i >= 0) {
        secret_release(&global.v[i]);
        memmove(&global.v[i], &global.v[i + 1],
                (global.n - (size_t)i - 1) * sizeof global.v[0]);
        global.n--;
    }
    pthread_mutex_unlock(&secrets_lock);
}

static void set_clear(struct secret_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        secret_release(&set->v[i]);
    free(set->v);
    set->v = NULL;
    set->n = set->cap = 0;
}

void strata_secret_clear_all(void)
{
    pthread_mutex_lock(&secrets_lock);
    set_clear(&global);
    pthread_mutex_unlock(&secrets_lock);
}

/* ------------------------------------------------------------ scopes */

struct strata_secret_scope *strata_secret_scope_new(void)
{
    return calloc(1, sizeof(struct strata_secret_scope));
}

struct strata_secret_scope *strata_secret_scope_enter(struct strata_secret_scope *scope)
{
    struct strata_secret_scope *prev = current;
    current = scope;
    return prev;
}

void strata_secret_scope_free(struct strata_secret_scope *scope)
{
    if (!scope)
        return;
    pthread_mutex_lock(&secrets_lock);
    set_clear(&scope->set);
    pthread_mutex_unlock(&secrets_lock);
    free(scope);
}

void strata_secret_scope_bind(struct strata_secret_scope *scope,
                              const struct strata_node *owner)
{
    pthread_mutex_lock(&secrets_lock);
    scope->owner = owner;
    scope->next = bound;
    bound = scope;
    pthread_mutex_unlock(&secrets_lock);
}

void strata_secret_scope_release(const struct strata_node *owner)
{
    pthread_mutex_lock(&secrets_lock);
    struct strata_secret_scope *found = NULL;
    for (struct strata_secret_scope **p = &bound; *p; p = &(*p)->next) {
        if ((*p)->owner == owner) {
            found = *p;
            *p = found->next;
            break;
        }
    }
    pthread_mutex_unlock(&secrets_lock);
    strata_secret_scope_free(found);
}
