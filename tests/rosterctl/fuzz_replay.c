/* Runs the rosterctl fuzz harness without libFuzzer: every seed file in
 * DIR, then ITERATIONS inputs made by mutating the seeds with a fixed
 * pseudo-random sequence (SEED), so each build exercises fresh inputs and
 * a failure reproduces with the same arguments.
 *   fuzz_rosterctl_replay DIR [ITERATIONS [SEED]] */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seed {
    uint8_t *data;
    size_t len;
} seed;

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

/* Interesting bytes for this syntax. */
static const char tokens[] = "=!~*<>[]\",\\ null true false %_:@-T0Z{}";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [ITERATIONS [SEED]]\n", argv[0]);
        return 2;
    }
    long iterations = argc > 2 ? strtol(argv[2], NULL, 10) : 20000;
    rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : 20261127;
    DIR *dir = opendir(argv[1]);
    if (dir == NULL) {
        perror(argv[1]);
        return 2;
    }
    seed seeds[256];
    size_t nseeds = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL && nseeds < 256) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            continue;
        uint8_t *buf = malloc(1 << 16);
        size_t n = fread(buf, 1, 1 << 16, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        seeds[nseeds].data = buf;
        seeds[nseeds].len = n;
        nseeds++;
    }
    closedir(dir);
    if (nseeds == 0) {
        fprintf(stderr, "no seeds in %s\n", argv[1]);
        return 2;
    }
    uint8_t *buf = malloc(1 << 17);
    for (long i = 0; i < iterations; i++) {
        const seed *s = &seeds[rnd() % nseeds];
        size_t len = s->len;
        memcpy(buf, s->data, len);
        int edits = 1 + (int)(rnd() % 4);
        for (int k = 0; k < edits; k++) {
            uint32_t r = rnd();
            size_t at = len ? rnd() % len : 0;
            switch (r % 4) {
            case 0: /* replace a byte */
                if (len)
                    buf[at] = (r >> 8) & 1 ? (uint8_t)rnd()
                                           : (uint8_t)tokens[rnd() % (sizeof tokens - 1)];
                break;
            case 1: /* insert a token byte */
                if (len < (1 << 16)) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = (uint8_t)tokens[rnd() % (sizeof tokens - 1)];
                    len++;
                }
                break;
            case 2: /* delete a run */
                if (len > 1) {
                    size_t run = 1 + rnd() % 4;
                    if (at + run > len)
                        run = len - at;
                    memmove(buf + at, buf + at + run, len - at - run);
                    len -= run;
                }
                break;
            case 3: /* change the target selector */
                if (len)
                    buf[0] = (uint8_t)(rnd() % 7);
                break;
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("%zu seeds and %ld mutated inputs ran\n", nseeds, iterations);
    free(buf);
    for (size_t i = 0; i < nseeds; i++)
        free(seeds[i].data);
    return 0;
}
