/* Benchmark (not a test): the cost of checking a presented key's text,
 * roster_apikey_parse (shape check and SHA-256 of the secret), which the
 * service does on every call and the gateway on every cache refresh.
 *   build/<dir>/tests/auth/bench_apikey [iterations]
 * Prints microseconds per parse. */
#include "apikey.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    if (n <= 0)
        n = 200000;
    roster_uuid id;
    for (int i = 0; i < 16; i++)
        id.b[i] = (unsigned char)i;
    char text[ROSTER_APIKEY_TEXT_LEN + 1];
    uint8_t minted[ROSTER_APIKEY_HASH_LEN], parsed[ROSTER_APIKEY_HASH_LEN];
    if (roster_apikey_mint(text, minted, &id) != 0)
        return 1;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        roster_uuid out;
        if (roster_apikey_parse(&out, parsed, text, ROSTER_APIKEY_TEXT_LEN) != 0)
            return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    printf("roster_apikey_parse: %.3f us per key (%ld parses), hash %s\n", ns / (double)n / 1000.0,
           n, roster_apikey_hash_eq(minted, parsed) ? "matches" : "DIFFERS");
    roster_secure_wipe(text, sizeof text);
    return roster_apikey_hash_eq(minted, parsed) ? 0 : 1;
}
