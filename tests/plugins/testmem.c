/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* testmem.c - a memory-backed protocol driver for the core's own tests.
 *
 * It checks what the core promises drivers: every request it receives must
 * respect the `align` and `max-transfer` it announced, and it is not
 * thread-safe, so two callbacks must never overlap.  Violations are counted
 * and reported through get_info, where the tests read them.
 */
#include <strata/strata.h>
#include <strata/plugin.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct testmem {
    uint8_t *data;
    uint64_t size;
    uint32_t align;
    uint64_t max_transfer;
    uint64_t read_delay_us;   /* widens race windows in concurrency tests */
    bool fail_length;         /* the size callback fails: the error channel */
    atomic_int inside;        /* callbacks running right now */
    atomic_long violations;
    atomic_long requests;
    atomic_ulong max_seen;
};

static const struct strata_opt_desc testmem_opts[] = {
    { .name = "size", .type = STRATA_OPT_SIZE, .help = "size in bytes" },
    { .name = "align", .type = STRATA_OPT_SIZE, .help = "request alignment" },
    { .name = "max-transfer", .type = STRATA_OPT_SIZE, .help = "largest request" },
    { .name = "read-delay-us", .type = STRATA_OPT_NUMBER, .help = "sleep in each read" },
    { .name = "filename", .type = STRATA_OPT_STRING, .help = "a label for messages" },
    { .name = "fail-length", .type = STRATA_OPT_BOOL, .help = "fail size queries" },
    { NULL },
};

static int testmem_open(struct strata_node *node, const struct strata_opts *opts,
                        unsigned flags, struct strata_error **errp)
{
    struct testmem *s = strata_node_state(node);
    uint64_t align = 1;
    s->size = 1 << 20;
    if (strata_opts_get_size(opts, "size", &s->size, errp) < 0 ||
        strata_opts_get_size(opts, "align", &align, errp) < 0 ||
        strata_opts_get_size(opts, "max-transfer", &s->max_transfer, errp) < 0 ||
        strata_opts_get_u64(opts, "read-delay-us", &s->read_delay_us, errp) < 0 ||
        strata_opts_get_bool(opts, "fail-length", &s->fail_length, errp) < 0)
        return -EINVAL;
    s->align = (uint32_t)align;
    s->data = calloc(1, s->size);
    if (!s->data)
        return strata_error_set(errp, ENOMEM, "testmem: out of memory");
    struct strata_limits l = { .request_alignment = s->align,
                               .max_transfer = s->max_transfer };
    strata_node_set_limits(node, &l);
    return 0;
}

static void testmem_close(struct strata_node *node)
{
    struct testmem *s = strata_node_state(node);
    free(s->data);
}

static void enter(struct testmem *s, uint64_t off, uint64_t len)
{
    if (atomic_fetch_add(&s->inside, 1) != 0)
        atomic_fetch_add(&s->violations, 1);
    if (off % s->align || len % s->align || (s->max_transfer && len > s->max_transfer))
        atomic_fetch_add(&s->violations, 1);
    atomic_fetch_add(&s->requests, 1);
    unsigned long prev = atomic_load(&s->max_seen);
    while (len > prev && !atomic_compare_exchange_weak(&s->max_seen, &prev, len))
        ;
}

static void leave(struct testmem *s)
{
    atomic_fetch_sub(&s->inside, 1);
}

static int testmem_pread(struct strata_node *node, uint64_t off, uint64_t len, void *buf,
                         unsigned flags, struct strata_error **errp)
{
    struct testmem *s = strata_node_state(node);
    enter(s, off, len);
    if (off + len > s->size) {
        leave(s);
        return strata_error_set(errp, EIO, "testmem: read past end");
    }
    memcpy(buf, s->data + off, len);
    leave(s);
    if (s->read_delay_us)
        usleep((useconds_t)s->read_delay_us);
    return 0;
}

static int testmem_pwrite(struct strata_node *node, uint64_t off, uint64_t len,
                          const void *buf, unsigned flags, struct strata_error **errp)
{
    struct testmem *s = strata_node_state(node);
    enter(s, off, len);
    if (off + len > s->size) {
        leave(s);
        return strata_error_set(errp, ENOSPC, "testmem: write past end");
    }
    memcpy(s->data + off, buf, len);
    leave(s);
    return 0;
}

static int64_t testmem_length(struct strata_node *node, struct strata_error **errp)
{
    struct testmem *s = strata_node_state(node);
    if (s->fail_length)
        return strata_error_set(errp, EIO, "%s: testmem: size withheld",
                                strata_node_filename(node));
    return (int64_t)s->size;
}

static int testmem_get_info(struct strata_node *node, struct strata_info *obj,
                            struct strata_error **errp)
{
    struct testmem *s = strata_node_state(node);
    strata_info_add_int(obj, "violations", atomic_load(&s->violations));
    strata_info_add_int(obj, "requests", atomic_load(&s->requests));
    strata_info_add_uint(obj, "max-request", atomic_load(&s->max_seen));
    return 0;
}

static const struct strata_driver testmem_driver = {
    STRATA_DRIVER_HEAD,
    .name = "testmem",
    .description = "memory disk that checks the core's request guarantees",
    .kind = STRATA_DRIVER_PROTOCOL,
    .state_size = sizeof(struct testmem),
    .open_options = testmem_opts,
    .open = testmem_open,
    .close = testmem_close,
    .pread = testmem_pread,
    .pwrite = testmem_pwrite,
    .length = testmem_length,
    .get_info = testmem_get_info,
};

STRATA_PLUGIN("testmem", .drivers = STRATA_DRIVERS(&testmem_driver));
