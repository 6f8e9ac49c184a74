/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* blkdebug.c - a filter that injects I/O errors by rule, as QEMU's blkdebug.
 *
 * Rules come from a rule file (config=: libconfig, or QEMU's INI form) and
 * from inline options (inject-error.*, set-state.*); docs/blkdebug.md
 * describes both.  Each rule
 * waits for a named event: the filter raises read_aio, write_aio,
 * flush_to_disk, discard and write_zeroes itself before each request, and a
 * format above raises its own (l2_update, refblock_alloc, ...) with
 * strata_node_event().  When an event happens in a rule's state, an
 * inject-error rule becomes active (replacing the rules a previous event
 * activated, as in QEMU) and fails the requests it matches; a set-state rule
 * moves the filter to its new state.
 */
#include "blkdebug-int.h"

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strata/plugin.h>
#include <strata/strata.h>

/* Not PROTOCOL: image.filename=X without a driver probes X's format, except
 * where blkdebug itself stands in a protocol position (a format's file),
 * where X is the file (the core's rule for filters). */
static const struct strata_child_role blkdebug_children[] = {
    { "image", STRATA_CHILD_PRIMARY },
    { NULL },
};

#define BLKDEBUG_RULE_OPTION_DESCS(IDX) \
    { .name = "inject-error." IDX "event", .type = STRATA_OPT_STRING, \
      .help = "event that activates the inline inject-error rule" }, \
    { .name = "inject-error." IDX "errno", .type = STRATA_OPT_STRING, .def = "EIO", \
      .help = "error to return: a number or a name such as ENOSPC" }, \
    { .name = "inject-error." IDX "once", .type = STRATA_OPT_BOOL, .def = "off", \
      .help = "fail one request, then retire the rule" }, \
    { .name = "inject-error." IDX "offset", .type = STRATA_OPT_SIZE, \
      .help = "fail only requests covering this byte" }, \
    { .name = "inject-error." IDX "sector", .type = STRATA_OPT_NUMBER, \
      .help = "fail only requests covering this 512-byte sector" }, \
    { .name = "inject-error." IDX "iotype", .type = STRATA_OPT_STRING, \
      .def = "read,write,flush,discard,zero", \
      .help = "request types to fail" }, \
    { .name = "inject-error." IDX "state", .type = STRATA_OPT_NUMBER, .def = "0", \
      .help = "state the event must happen in (0 = any)" }, \
    { .name = "inject-error." IDX "immediately", .type = STRATA_OPT_BOOL, .def = "off", \
      .help = "fail at once (off: let the other requests in flight run first)" }, \
    { .name = "inject-error." IDX "skip", .type = STRATA_OPT_NUMBER, .def = "0", \
      .help = "matching requests to let through before failing" }, \
    { .name = "inject-error." IDX "count", .type = STRATA_OPT_NUMBER, .def = "0", \
      .help = "failures before the rule retires (0 = no limit)" }, \
    { .name = "set-state." IDX "event", .type = STRATA_OPT_STRING, \
      .help = "event that triggers the inline set-state rule" }, \
    { .name = "set-state." IDX "state", .type = STRATA_OPT_NUMBER, .def = "0", \
      .help = "state the event must happen in (0 = any)" }, \
    { .name = "set-state." IDX "new_state", .type = STRATA_OPT_NUMBER, \
      .help = "state to move to" },

static const struct strata_opt_desc blkdebug_open_options[] = {
    { .name = "config", .type = STRATA_OPT_STRING,
      .help = "file of inject-error and set-state rules (libconfig, or QEMU's INI form)" },
    { .name = "align", .type = STRATA_OPT_SIZE,
      .help = "request alignment to announce (a power of two)" },
    { .name = "max-transfer", .type = STRATA_OPT_SIZE,
      .help = "largest request to accept (a multiple of align)" },
    { .name = "opt-write-zero", .type = STRATA_OPT_SIZE,
      .help = "write-zeroes alignment: unaligned parts are written as zeros (a multiple of align)" },
    { .name = "max-write-zero", .type = STRATA_OPT_SIZE,
      .help = "largest write-zeroes request (a multiple of opt-write-zero and align)" },
    { .name = "opt-discard", .type = STRATA_OPT_SIZE,
      .help = "discard alignment: discards are split at its multiples (a multiple of align)" },
    { .name = "max-discard", .type = STRATA_OPT_SIZE,
      .help = "largest discard request (a multiple of opt-discard and align)" },
    BLKDEBUG_RULE_OPTION_DESCS("")
    /* QEMU's lists of rules: inject-error.0.event=..., inject-error.1.event=... */
    BLKDEBUG_RULE_OPTION_DESCS("N.")
    { NULL },
};

static const char *blkdebug_op_name(unsigned io)
{
    switch (io) {
    case BLKDEBUG_IO_READ: return "read";
    case BLKDEBUG_IO_WRITE: return "write";
    case BLKDEBUG_IO_FLUSH: return "flush";
    case BLKDEBUG_IO_DISCARD: return "discard";
    case BLKDEBUG_IO_ZERO: return "write zeroes";
    case BLKDEBUG_IO_BLOCK_STATUS: return "block status";
    }
    return "request";
}

/* Runs the rules of `event`, all judged against the state before it. */
static void blkdebug_raise(struct blkdebug_state *s, enum strata_event event)
{
    pthread_mutex_lock(&s->lock);
    int old = s->state, next = s->state;
    bool injects = false;
    for (size_t i = 0; i < s->nrules; i++) {
        struct blkdebug_rule *r = &s->rules[i];
        if (r->retired || r->event != event)
            continue;
        if (r->state && r->state != old)
            continue;
        if (r->action == BLKDEBUG_SET_STATE) {
            next = r->new_state;
            continue;
        }
        if (!injects) {
            for (size_t j = 0; j < s->nrules; j++)
                s->rules[j].active = false;
            injects = true;
        }
        r->active = true;
    }
    s->state = next;
    pthread_mutex_unlock(&s->lock);
    if (next != old)
        strata_debug("blkdebug: %s: event %s: state %d -> %d",
                     strata_node_filename(s->image), strata_event_name(event), old, next);
    blkdebug_hold_at(s, event);
}

/* Fails the request if an active rule matches it. */
static int blkdebug_check(struct blkdebug_state *s, unsigned io, uint64_t off,
                          uint64_t len, struct strata_error **errp)
{
    int err = 0;
    bool immediately = false;
    char where[64] = "";
    enum strata_event event = STRATA_EV_NONE;

    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->nrules; i++) {
        struct blkdebug_rule *r = &s->rules[i];
        if (r->action != BLKDEBUG_INJECT_ERROR || !r->active || r->retired ||
            !(r->iotypes & io))
            continue;
        if (r->offset >= 0 &&
            ((uint64_t)r->offset < off || (uint64_t)r->offset - off >= len))
            continue;
        if (r->skipped < r->skip) {
            r->skipped++;
            break;
        }
        r->fired++;
        if (r->count && r->fired >= r->count) {
            r->retired = true;
            r->active = false;
        }
        err = r->error;
        immediately = r->immediately;
        snprintf(where, sizeof where, "%s", r->where);
        event = r->event;
        break;
    }
    pthread_mutex_unlock(&s->lock);
    if (!err)
        return 0;
    /* As QEMU: unless immediately=on, the failing request first lets the
     * others in flight run (QEMU reschedules it once), then fails. */
    if (!immediately)
        sched_yield();

    const char *ename = strerrorname_np(err);
    char num[16];
    if (!ename) {
        snprintf(num, sizeof num, "errno %d", err);
        ename = num;
    }
    const char *image = strata_node_filename(s->image);
    if (io == BLKDEBUG_IO_FLUSH) {
        strata_debug("blkdebug: injected %s on flush (%s), rule at %s, event %s",
                     ename, image, where, strata_event_name(event));
        return strata_error_set(errp, err, "blkdebug: injected %s on flush (%s)",
                                ename, image);
    }
    strata_debug("blkdebug: injected %s on %s at offset %llu, %llu bytes (%s), rule at "
                 "%s, event %s", ename, blkdebug_op_name(io), (unsigned long long)off,
                 (unsigned long long)len, image, where, strata_event_name(event));
    return strata_error_set(errp, err, "blkdebug: injected %s on %s at offset %llu (%s)",
                            ename, blkdebug_op_name(io), (unsigned long long)off, image);
}

static void blkdebug_close(struct strata_node *node)
{
    struct blkdebug_state *s = strata_node_state(node);
    blkdebug_free_rules(s);
    blkdebug_free_breaks(s);
    pthread_cond_destroy(&s->resumed);
    pthread_mutex_destroy(&s->lock);
}

static bool blkdebug_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static int blkdebug_do_open(struct strata_node *node, const struct strata_opts *opts,
                            unsigned flags, struct strata_error **errp)
{
    struct blkdebug_state *s = strata_node_state(node);
    int r;

    const char *config = strata_opts_get(opts, "config");
    if (config && (r = blkdebug_read_config(s, config, errp)) < 0)
        return r;
    if ((r = blkdebug_inline_rules(s, opts, errp)) < 0)
        return r;

    uint64_t align = 0, max_transfer = 0;
    if ((r = strata_opts_get_size(opts, "align", &align, errp)) < 0 ||
        (r = strata_opts_get_size(opts, "max-transfer", &max_transfer, errp)) < 0)
        return r;
    if (strata_opts_get(opts, "align") && (!blkdebug_pow2(align) || align > (1u << 30)))
        return strata_error_set(errp, EINVAL, "blkdebug: align=%llu must be a power of "
                                "two of at most 1 GiB", (unsigned long long)align);
    uint64_t eff_align = align ? align : 1;
    if (strata_opts_get(opts, "max-transfer") &&
        (max_transfer == 0 || max_transfer % eff_align))
        return strata_error_set(errp, EINVAL, "blkdebug: max-transfer=%llu must be a "
                                "non-zero multiple of align (%llu)",
                                (unsigned long long)max_transfer,
                                (unsigned long long)eff_align);

    /* As QEMU's blkdebug: each a multiple of the alignment, and the
     * maxima of the optimum as well. */
    static const struct {
        const char *name;
        size_t field, opt;
    } zl[] = {
        { "opt-write-zero", offsetof(struct blkdebug_state, opt_write_zero), 0 },
        { "max-write-zero", offsetof(struct blkdebug_state, max_write_zero),
          offsetof(struct blkdebug_state, opt_write_zero) },
        { "opt-discard", offsetof(struct blkdebug_state, opt_discard), 0 },
        { "max-discard", offsetof(struct blkdebug_state, max_discard),
          offsetof(struct blkdebug_state, opt_discard) },
    };
    for (size_t i = 0; i < sizeof zl / sizeof zl[0]; i++) {
        uint64_t *v = (uint64_t *)((char *)s + zl[i].field);
        if ((r = strata_opts_get_size(opts, zl[i].name, v, errp)) < 0)
            return r;
        uint64_t need = eff_align;
        if (zl[i].opt && *(uint64_t *)((char *)s + zl[i].opt) > need)
            need = *(uint64_t *)((char *)s + zl[i].opt);
        if (*v && (*v >= INT32_MAX || *v % need))
            return strata_error_set(errp, EINVAL, "Cannot meet constraints with %s %llu",
                                    zl[i].name, (unsigned long long)*v);
    }

    r = strata_node_open_child(node, "image", NULL, false, &s->image, errp);
    if (r < 0)
        return r;

    /* Start from what the image needs; the options only narrow it. */
    struct strata_limits lim;
    strata_node_get_limits(s->image, &lim);
    if (align)
        lim.request_alignment = (uint32_t)align;
    s->max_transfer = max_transfer;
    if (lim.max_transfer % lim.request_alignment)
        lim.max_transfer -= lim.max_transfer % lim.request_alignment;
    strata_node_set_limits(node, &lim);
    return 0;
}

static int blkdebug_open(struct strata_node *node, const struct strata_opts *opts,
                         unsigned flags, struct strata_error **errp)
{
    struct blkdebug_state *s = strata_node_state(node);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->resumed, NULL);
    /* QEMU's blkdebug starts in state 1. */
    s->state = 1;
    int r = blkdebug_do_open(node, opts, flags, errp);
    if (r < 0)
        blkdebug_close(node);
    return r;
}

/* Reads and writes in pieces of at most max-transfer, each checked
 * against the rules as QEMU's block layer hands them to its blkdebug. */
static int blkdebug_rw(struct blkdebug_state *s, unsigned io, uint64_t off, uint64_t len,
                       uint8_t *buf, unsigned flags, struct strata_error **errp)
{
    blkdebug_raise(s, io == BLKDEBUG_IO_READ ? STRATA_EV_READ_AIO : STRATA_EV_WRITE_AIO);
    int r = 0;
    while (len > 0 && r == 0) {
        uint64_t n = s->max_transfer && len > s->max_transfer ? s->max_transfer : len;
        r = blkdebug_check(s, io, off, n, errp);
        if (r == 0)
            r = io == BLKDEBUG_IO_READ ? strata_pread(s->image, off, n, buf, flags, errp)
                                       : strata_pwrite(s->image, off, n, buf, flags, errp);
        off += n;
        len -= n;
        buf += n;
    }
    return r;
}

static int blkdebug_pread(struct strata_node *node, uint64_t off, uint64_t len,
                          void *buf, unsigned flags, struct strata_error **errp)
{
    return blkdebug_rw(strata_node_state(node), BLKDEBUG_IO_READ, off, len, buf, flags, errp);
}

static int blkdebug_pwrite(struct strata_node *node, uint64_t off, uint64_t len,
                           const void *buf, unsigned flags, struct strata_error **errp)
{
    return blkdebug_rw(strata_node_state(node), BLKDEBUG_IO_WRITE, off, len, (uint8_t *)buf,
                       flags, errp);
}

/* The core flushes the image after this returns. */
static int blkdebug_flush(struct strata_node *node, struct strata_error **errp)
{
    struct blkdebug_state *s = strata_node_state(node);
    blkdebug_raise(s, STRATA_EV_FLUSH_TO_DISK);
    return blkdebug_check(s, BLKDEBUG_IO_FLUSH, 0, 0, errp);
}

/* The next piece of [off, off+len) for limits opt (alignment) and max:
 * up to the next multiple of opt, else whole multiples of it (at most max).
 * *aligned tells which. */
static uint64_t blkdebug_piece(uint64_t off, uint64_t len, uint64_t opt, uint64_t max,
                               bool *aligned)
{
    uint64_t n = len;
    *aligned = true;
    if (opt > 1 && off % opt) {
        n = opt - off % opt;
        *aligned = false;
    } else if (opt > 1 && len < opt) {
        *aligned = false;
    } else if (opt > 1) {
        n = len / opt * opt;
    }
    if (n > len)
        n = len;
    if (*aligned && max && n > max)
        n = opt > 1 ? max / opt * opt : max;
    return n;
}

/* As QEMU's block layer above its blkdebug: the parts of a request that
 * are not aligned to opt-write-zero are written as zeros, the rest goes
 * down as write-zeroes of at most max-write-zero. */
static int blkdebug_pwrite_zeroes(struct strata_node *node, uint64_t off, uint64_t len,
                                  unsigned flags, struct strata_error **errp)
{
    struct blkdebug_state *s = strata_node_state(node);
    blkdebug_raise(s, STRATA_EV_WRITE_ZEROES);
    int r = 0;
    while (len > 0 && r == 0) {
        bool aligned;
        uint64_t n = blkdebug_piece(off, len, s->opt_write_zero, s->max_write_zero, &aligned);
        if (aligned) {
            r = blkdebug_check(s, BLKDEBUG_IO_ZERO, off, n, errp);
            if (r == 0)
                r = strata_pwrite_zeroes(s->image, off, n, flags, errp);
        } else {
            uint8_t *zeros = calloc(1, n);
            if (!zeros)
                return strata_error_set(errp, ENOMEM, "out of memory");
            r = blkdebug_rw(s, BLKDEBUG_IO_WRITE, off, n, zeros, flags & STRATA_REQ_FUA, errp);
            free(zeros);
        }
        off += n;
        len -= n;
    }
    return r;
}

/* Discards are split at multiples of opt-discard, in pieces of at most
 * max-discard. */
static int blkdebug_pdiscard(struct strata_node *node, uint64_t off, uint64_t len,
                             struct strata_error **errp)
{
    struct blkdebug_state *s = strata_node_state(node);
    blkdebug_raise(s, STRATA_EV_DISCARD);
    int r = 0;
    while (len > 0 && r == 0) {
        bool aligned;
        uint64_t n = blkdebug_piece(off, len, s->opt_discard, s->max_discard, &aligned);
        r = blkdebug_check(s, BLKDEBUG_IO_DISCARD, off, n, errp);
        if (r == 0)
            r = strata_pdiscard(s->image, off, n, errp);
        off += n;
        len -= n;
    }
    return r;
}

static void blkdebug_event(struct strata_node *node, enum strata_event event)
{
    blkdebug_raise(strata_node_state(node), event);
}

/* Only to fail the query (iotype block-status); the answer is the image's. */
static int blkdebug_block_status(struct strata_node *node, uint64_t off, uint64_t len,
                                 struct strata_block_status *bs,
                                 struct strata_error **errp)
{
    struct blkdebug_state *s = strata_node_state(node);
    int r = blkdebug_check(s, BLKDEBUG_IO_BLOCK_STATUS, off, len, errp);
    return r < 0 ? r : strata_block_status(s->image, off, len, bs, errp);
}

static const struct strata_driver blkdebug_driver = {
    STRATA_DRIVER_HEAD,
    .name = "blkdebug",
    .description = "error injection by rule (testing)",
    .kind = STRATA_DRIVER_FILTER,
    .flags = STRATA_DRIVER_THREAD_SAFE,
    .state_size = sizeof(struct blkdebug_state),
    .child_roles = blkdebug_children,
    .open_options = blkdebug_open_options,
    .open = blkdebug_open,
    .close = blkdebug_close,
    .pread = blkdebug_pread,
    .pwrite = blkdebug_pwrite,
    .flush = blkdebug_flush,
    .pwrite_zeroes = blkdebug_pwrite_zeroes,
    .pdiscard = blkdebug_pdiscard,
    .block_status = blkdebug_block_status,
    .on_event = blkdebug_event,
    .debug_breakpoint = blkdebug_breakpoint,
    .debug_remove_breakpoint = blkdebug_remove_breakpoint,
    .debug_resume = blkdebug_resume,
    .debug_is_suspended = blkdebug_is_suspended,
};

STRATA_PLUGIN("blkdebug", .drivers = STRATA_DRIVERS(&blkdebug_driver));
