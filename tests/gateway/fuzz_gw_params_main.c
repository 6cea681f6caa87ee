/* Runs the fuzz_gw_params harness without libFuzzer: on a fixed set of
 * seeds and on deterministic random mutations of them (ITERATIONS, default
 * 20000), so every sanitizer build exercises the readers on garbage. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const seeds[] = {
    "\x00"
    "application/graphql-response+json;q=0.9, application/json;q=0.8, */*;q=0.1",
    "\x01"
    "/graphql?query=%7B%20__typename%20%7D&variables=%7B%22a%22%3A1%7D&operationName=A",
    "\x01"
    "/graphql?query=a&query=b&extensions=%7B%7D",
    "\x02"
    "{\"query\":\"{ users { data { id } } }\",\"variables\":{\"a\":[1,2,{\"b\":null}]}}",
    "\x02"
    "{\"query\":\"q\",\"operationName\":\"Q\",\"extensions\":{\"persistedQuery\":{}}}",
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
    uint8_t buf[512];
    size_t n_seeds = sizeof seeds / sizeof seeds[0];
    for (size_t i = 0; i < n_seeds; i++) {
        size_t len = 1 + strlen(seeds[i] + 1);
        LLVMFuzzerTestOneInput((const uint8_t *)seeds[i], len);
    }
    for (long it = 0; it < iterations; it++) {
        const char *s = seeds[next() % n_seeds];
        size_t len = 1 + strlen(s + 1);
        memcpy(buf, s, len);
        int edits = 1 + (int)(next() % 8);
        for (int e = 0; e < edits; e++) {
            uint32_t op = next() % 4;
            size_t at = len > 1 ? 1 + next() % (len - 1) : 1;
            if (op == 0 && len > 1) {
                buf[at] = (uint8_t)next();
            } else if (op == 1 && len > 2) {
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
            } else if (op == 2 && len < sizeof buf) {
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = "{}[]\"%&=,;:\\0"[next() % 13];
                len++;
            } else {
                len = 1 + next() % len;
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("fuzz_gw_params: %zu seeds and %ld mutations, no crash\n", n_seeds, iterations);
    return 0;
}
