/* Replays the key parser harness on minted keys and a fixed, seeded
 * series of their mutations (truncations, byte changes, insertions).
 * Exit 0 when no input crashed. Usage: fuzz_apikey_replay [MUTATIONS] */
#include "apikey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
    char key[ROSTER_APIKEY_TEXT_LEN + 1];
    uint8_t hash[ROSTER_APIKEY_HASH_LEN];
    roster_uuid id;
    memset(&id, 0x5a, sizeof id);
    if (roster_apikey_mint(key, hash, &id) != 0)
        return EXIT_FAILURE;
    LLVMFuzzerTestOneInput((const uint8_t *)key, strlen(key));
    uint8_t buf[2 * ROSTER_APIKEY_TEXT_LEN];
    for (long i = 0; i < n; i++) {
        size_t len = ROSTER_APIKEY_TEXT_LEN;
        memcpy(buf, key, len);
        switch (next() % 4) {
        case 0:
            len = next() % (ROSTER_APIKEY_TEXT_LEN + 1);
            break;
        case 1:
            buf[next() % len] = (uint8_t)next();
            break;
        case 2: {
            size_t at = next() % len;
            memmove(buf + at + 1, buf + at, len - at);
            buf[at] = (uint8_t)next();
            len++;
            break;
        }
        default:
            for (int k = 0; k < 4; k++)
                buf[next() % len] = "rstr_-0aF/+="[next() % 12];
            break;
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("%ld inputs\n", n + 1);
    return EXIT_SUCCESS;
}
