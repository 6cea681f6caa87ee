/* roster-rpcload: RPC load generator for the benchmarks.
 *   roster-rpcload --url URL --mode get|create|echo [--inflight N]
 *                  [--seconds S] [--warmup S] [--seed-users N]
 *                  [--req-bytes N] [--timeout-ms N] [--save-reply FILE]
 * Prints one logfmt line with the measurements. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "load.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: roster-rpcload --url URL --mode get|create|echo [options]\n"
               "  --url URL         service (get, create) or roster-echo (echo) address\n"
               "  --mode M          get: GetUser on seeded users; create: CreateUser;\n"
               "                    echo: bare req0 round trips of a GetUser request's size\n"
               "  --inflight N      calls kept in flight (default 1)\n"
               "  --seconds S       measured time (default 5)\n"
               "  --warmup S        unmeasured time first (default 1)\n"
               "  --seed-users N    users created for get (default 100)\n"
               "  --req-bytes N     echo request size (default: a GetUser envelope's)\n"
               "  --timeout-ms N    per-call timeout (default 10000)\n"
               "  --id ID           get: read only this user id, create nothing (for a\n"
               "                    roster-echo --reply-file peer)\n"
               "  --save-reply FILE get: write one GetUser reply to FILE (for roster-echo\n"
               "                    --reply-file)\n");
}

static int num(double *out, const char *name, const char *s, double lo, double hi)
{
    char *end = NULL;
    double v = s != NULL ? strtod(s, &end) : 0;
    if (s == NULL || *s == '\0' || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "roster-rpcload: %s needs a number in [%g, %g], got \"%s\"\n", name, lo, hi,
                s != NULL ? s : "");
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    load_config cfg = {
        .inflight = 1, .seconds = 5, .warmup = 1, .seed_users = 100, .timeout_ms = 10000};
    const char *mode = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d = 0;
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (v == NULL) {
            fprintf(stderr, "roster-rpcload: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--url") == 0) {
            cfg.url = v;
        } else if (strcmp(a, "--id") == 0) {
            cfg.fixed_id = v;
        } else if (strcmp(a, "--save-reply") == 0) {
            cfg.save_reply = v;
        } else if (strcmp(a, "--mode") == 0) {
            mode = v;
        } else if (strcmp(a, "--inflight") == 0) {
            if (num(&d, a, v, 1, 4096))
                return 2;
            cfg.inflight = (unsigned)d;
        } else if (strcmp(a, "--seconds") == 0) {
            if (num(&cfg.seconds, a, v, 0.1, 3600))
                return 2;
        } else if (strcmp(a, "--warmup") == 0) {
            if (num(&cfg.warmup, a, v, 0, 3600))
                return 2;
        } else if (strcmp(a, "--seed-users") == 0) {
            if (num(&d, a, v, 1, 1000000))
                return 2;
            cfg.seed_users = (unsigned)d;
        } else if (strcmp(a, "--req-bytes") == 0) {
            if (num(&d, a, v, 1, 4194304))
                return 2;
            cfg.req_bytes = (size_t)d;
        } else if (strcmp(a, "--timeout-ms") == 0) {
            if (num(&d, a, v, 1, 3600000))
                return 2;
            cfg.timeout_ms = (uint32_t)d;
        } else {
            fprintf(stderr, "roster-rpcload: unknown option \"%s\"\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (cfg.url == NULL || mode == NULL) {
        usage(stderr);
        return 2;
    }
    if (strcmp(mode, "get") == 0)
        cfg.mode = LOAD_GET_USER;
    else if (strcmp(mode, "create") == 0)
        cfg.mode = LOAD_CREATE_USER;
    else if (strcmp(mode, "echo") == 0)
        cfg.mode = LOAD_ECHO;
    else {
        fprintf(stderr, "roster-rpcload: --mode must be get, create or echo, got \"%s\"\n", mode);
        return 2;
    }

    load_result r;
    roster_err_detail d = {{0}};
    int err = load_run(&r, &cfg, &d);
    if (err != ROSTER_E_OK) {
        fprintf(stderr, "roster-rpcload: %s: %s\n", roster_errname(err), d.message);
        return 1;
    }
    printf("mode=%s inflight=%u seconds=%.2f ok=%llu failed=%llu rate=%.0f p50_us=%.0f "
           "p90_us=%.0f p99_us=%.0f max_us=%.0f req_bytes=%zu reply_bytes=%zu",
           mode, cfg.inflight, r.seconds, (unsigned long long)r.ok, (unsigned long long)r.failed,
           r.rate, r.p50_us, r.p90_us, r.p99_us, r.max_us, r.req_bytes, r.reply_bytes);
    if (cfg.mode == LOAD_CREATE_USER)
        printf(" commits=%lld writes_per_commit=%.1f", (long long)r.commits,
               r.commits > 0 ? (double)r.writes / (double)r.commits : 0.0);
    printf("\n");
    if (r.first_error[0] != '\0')
        fprintf(stderr, "roster-rpcload: first failure: %s\n", r.first_error);
    return r.failed == 0 ? 0 : 1;
}
