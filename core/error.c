/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* error.c - error objects, warnings and debug output. */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int strata_error_setv(struct strata_error **errp, int code, const char *fmt,
                      va_list ap)
{
    if (code < 0)
        code = -code;
    if (code == 0)
        code = EIO;
    if (!errp || *errp)
        return -code;

    struct strata_error *err = calloc(1, sizeof *err);
    if (!err)
        return -code;
    err->code = code;
    if (vasprintf(&err->msg, fmt, ap) < 0) {
        err->msg = strdup(strerror(code));
        if (!err->msg) {
            free(err);
            return -code;
        }
    }
    *errp = err;
    return -code;
}

int strata_error_set(struct strata_error **errp, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int ret = strata_error_setv(errp, code, fmt, ap);
    va_end(ap);
    return ret;
}

void strata_error_prefix(struct strata_error **errp, const char *fmt, ...)
{
    if (!errp || !*errp)
        return;
    char *prefix = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&prefix, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    char *msg = NULL;
    if (asprintf(&msg, "%s: %s", prefix, (*errp)->msg ? (*errp)->msg : "") >= 0) {
        free((*errp)->msg);
        (*errp)->msg = msg;
    }
    free(prefix);
}

void strata_error_free(struct strata_error *err)
{
    if (!err)
        return;
    free(err->msg);
    free(err);
}

void strata_error_propagate(struct strata_error **dst, struct strata_error **src)
{
    if (!src || !*src)
        return;
    if (dst && !*dst) {
        *dst = *src;
    } else {
        strata_error_free(*src);
    }
    *src = NULL;
}

/* ------------------------------------------------------------------ warnings */

static pthread_mutex_t warn_lock = PTHREAD_MUTEX_INITIALIZER;
static strata_warning_fn warn_fn;
static void *warn_opaque;

void strata_set_warning_handler(strata_warning_fn fn, void *opaque)
{
    pthread_mutex_lock(&warn_lock);
    warn_fn = fn;
    warn_opaque = fn ? opaque : NULL;
    pthread_mutex_unlock(&warn_lock);
}

void strata_warn(const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;

    pthread_mutex_lock(&warn_lock);
    strata_warning_fn fn = warn_fn;
    void *opaque = warn_opaque;
    pthread_mutex_unlock(&warn_lock);

    if (fn)
        fn(msg, opaque);
    else
        fprintf(stderr, "warning: %s\n", msg);
    free(msg);
}

/* ------------------------------------------------------------------ debug */

/* -1: not decided yet (environment not read), 0 off, 1 on. */
static atomic_int debug_state = -1;

void strata_set_debug(bool on)
{
    atomic_store(&debug_state, on ? 1 : 0);
}

bool strata_debug_enabled(void)
{
    int s = atomic_load(&debug_state);
    if (s < 0) {
        const char *env = getenv("STRATA_DEBUG");
        int v = env && *env && strcmp(env, "0") != 0;
        int expected = -1;
        /* A concurrent strata_set_debug() wins over the environment. */
        if (!atomic_compare_exchange_strong(&debug_state, &expected, v))
            v = expected;
        s = v;
    }
    return s > 0;
}

void strata_debug(const char *fmt, ...)
{
    if (!strata_debug_enabled())
        return;
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* One fprintf per line so lines from several threads do not interleave. */
    fprintf(stderr, "strata: %s\n", msg);
    free(msg);
}
