/* storebench: wires the command line to bench_run. */
#include "bench.h"

#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    fprintf(stderr,
            "usage: storebench --dir DIR [--users N] [--tenants N] [--batch N]\n"
            "                  [--gets N] [--pages N] [--scans N] [--no-sync]\n"
            "                  [--map-mib N] [--cursors-only] [--scans-only [--only TEXT]]\n"
            "DIR must exist and be empty; the store is left there.\n"
            "--scans-only times only the scans (--scans N passes each), beside a bare\n"
            "LMDB walk of the same records, on the store a previous run left in DIR;\n"
            "--only TEXT runs only the scans whose label holds TEXT.\n");
}

static int num(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == 0 || *end != 0 || v == 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    bench_config cfg = {.users = 1000000,
                        .tenants = 100,
                        .batch = 10000,
                        .gets = 1000000,
                        .pages = 200,
                        .scans = 3,
                        .durable = true};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--dir") == 0 && v)
            cfg.dir = v, i++;
        else if (strcmp(a, "--users") == 0 && v)
            bad = num(v, &cfg.users), i++;
        else if (strcmp(a, "--tenants") == 0 && v)
            bad = num(v, &cfg.tenants), i++;
        else if (strcmp(a, "--batch") == 0 && v)
            bad = num(v, &cfg.batch), i++;
        else if (strcmp(a, "--gets") == 0 && v)
            bad = num(v, &cfg.gets), i++;
        else if (strcmp(a, "--pages") == 0 && v)
            bad = num(v, &cfg.pages), i++;
        else if (strcmp(a, "--scans") == 0 && v)
            bad = num(v, &cfg.scans), i++;
        else if (strcmp(a, "--map-mib") == 0 && v)
            bad = num(v, &cfg.map_mib), i++;
        else if (strcmp(a, "--no-sync") == 0)
            cfg.durable = false;
        else if (strcmp(a, "--cursors-only") == 0)
            cfg.cursors_only = true;
        else if (strcmp(a, "--scans-only") == 0)
            cfg.scans_only = true;
        else if (strcmp(a, "--only") == 0 && v)
            cfg.only = v, i++;
        else
            bad = -1;
        if (bad) {
            fprintf(stderr, "storebench: bad argument %s\n", a);
            usage();
            return 2;
        }
    }
    if (cfg.dir == NULL) {
        usage();
        return 2;
    }
    int err = bench_run(&cfg);
    if (err != ROSTER_E_OK) {
        fprintf(stderr, "storebench: %s\n", roster_strerror(err));
        return 1;
    }
    return 0;
}
