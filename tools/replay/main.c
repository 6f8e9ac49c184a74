/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main.c - strata-replay: lists a write log made by the logwrites filter,
 * names the crash states it allows, rebuilds a device in one of them and
 * checks a guest's flushed data (docs/reliability.md, strata-replay(1)). */
#include "replay.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>

static const char usage_text[] =
    "Usage: strata-replay list LOG\n"
    "       strata-replay points [-s STREAM]... [-r COUNT] [-S SEED] LOG\n"
    "       strata-replay build [-s STREAM] -c CUT [-d DROP-SEED] LOG BASE OUT\n"
    "       strata-replay verify [-s STREAM] -c CUT LOG BASE ACTUAL\n"
    "\n"
    "  list     one line per record: index, stream, type, offset, length, flags\n"
    "  points   crash states, one a line, \"CUT DROP-SEED KIND\": the start, after\n"
    "           every flush of the streams given (default 0), the end, and COUNT\n"
    "           random cuts with random lost writes (seeded by SEED, default 1)\n"
    "  build    BASE (the device before the log) as the state CUT/DROP-SEED\n"
    "           leaves it, written to OUT, from the records of STREAM (default 0)\n"
    "  verify   exit 0 when ACTUAL (the guest's content, raw, after the cut)\n"
    "           holds all that STREAM (default 1), starting from BASE, had\n"
    "           written and flushed before the cut\n";

static int usage(void)
{
    fputs(usage_text, stderr);
    return 2;
}

static int parse_u64(const char *s, const char *what, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || *s == '-') {
        fprintf(stderr, "strata-replay: %s '%s' is not a number\n", what, s);
        return -1;
    }
    *out = v;
    return 0;
}

static const char *type_name(enum wlog_type t)
{
    switch (t) {
    case WLOG_WRITE: return "write";
    case WLOG_ZERO: return "zero";
    case WLOG_DISCARD: return "discard";
    case WLOG_FLUSH: return "flush";
    case WLOG_TRUNCATE: return "truncate";
    }
    return "?";
}

static int cmd_list(const struct replay_log *log)
{
    for (size_t i = 0; i < log->n; i++) {
        const struct wlog_rec *r = &log->recs[i];
        printf("%zu %u %s %" PRIu64 " %" PRIu64 "%s\n", i, r->stream, type_name(r->type),
               r->offset, r->length, (r->flags & WLOG_F_FUA) ? " fua" : "");
    }
    return 0;
}

static int cmd_points(const struct replay_log *log, const bool *streams, uint64_t count,
                      uint64_t seed)
{
    printf("0 0 start\n");
    for (size_t i = 0; i < log->n; i++)
        if (log->recs[i].type == WLOG_FLUSH && streams[log->recs[i].stream] &&
            i + 1 < log->n)
            printf("%zu 0 flush\n", i + 1);
    printf("%zu 0 end\n", log->n);
    uint64_t x = seed;
    for (uint64_t k = 0; k < count; k++) {
        x = replay_mix(x);
        size_t cut = (size_t)(x % (log->n + 1));
        x = replay_mix(x);
        printf("%zu %" PRIu64 " random\n", cut, x ? x : 1);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("strata-replay version %s\n", strata_version());
        return 0;
    }
    bool streams[256] = { false }, any_stream = false;
    uint64_t stream = UINT64_MAX, cut = UINT64_MAX, drop = 0, count = 0, seed = 1;
    int c;
    optind = 2;
    while ((c = getopt(argc, argv, "s:c:d:r:S:")) != -1) {
        uint64_t v;
        switch (c) {
        case 's':
            if (parse_u64(optarg, "stream", &v) < 0)
                return 2;
            if (v > 255) {
                fprintf(stderr, "strata-replay: stream %s is not in 0-255\n", optarg);
                return 2;
            }
            stream = v;
            streams[v] = any_stream = true;
            break;
        case 'c':
            if (parse_u64(optarg, "cut", &cut) < 0)
                return 2;
            break;
        case 'd':
            if (parse_u64(optarg, "drop seed", &drop) < 0)
                return 2;
            break;
        case 'r':
            if (parse_u64(optarg, "count", &count) < 0)
                return 2;
            break;
        case 'S':
            if (parse_u64(optarg, "seed", &seed) < 0)
                return 2;
            break;
        default:
            return usage();
        }
    }
    int nargs = argc - optind;
    char **args = argv + optind;
    bool one_log = !strcmp(cmd, "list") || !strcmp(cmd, "points");
    bool three = !strcmp(cmd, "build") || !strcmp(cmd, "verify");
    if (!(one_log && nargs == 1) && !(three && nargs == 3))
        return usage();
    if (three && cut == UINT64_MAX) {
        fprintf(stderr, "strata-replay: %s needs -c CUT\n", cmd);
        return 2;
    }

    struct replay_log log;
    if (replay_log_open(&log, args[0]) < 0)
        return 1;
    int ret;
    if (cut != UINT64_MAX && cut > log.n) {
        fprintf(stderr, "strata-replay: cut %" PRIu64 " is past the log's %zu records\n",
                cut, log.n);
        ret = 2;
    } else if (!strcmp(cmd, "list")) {
        ret = cmd_list(&log);
    } else if (!strcmp(cmd, "points")) {
        if (!any_stream)
            streams[0] = true;
        ret = cmd_points(&log, streams, count, seed);
    } else {
        struct replay_cut rc = { .cut = (size_t)cut, .seed = drop };
        if (!strcmp(cmd, "build"))
            ret = replay_build(&log, stream == UINT64_MAX ? 0 : (unsigned)stream, &rc,
                               args[1], args[2]);
        else
            ret = replay_verify(&log, stream == UINT64_MAX ? 1 : (unsigned)stream, &rc,
                                args[1], args[2]);
    }
    replay_log_close(&log);
    return ret;
}
