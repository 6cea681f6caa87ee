/* libFuzzer harness for the key text parser: any bytes either parse into
 * an id and a hash or are refused UNAUTHENTICATED, and a parsed key's
 * text is exactly the canonical form. */
#include "apikey.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    roster_uuid id;
    uint8_t hash[ROSTER_APIKEY_HASH_LEN];
    int err = roster_apikey_parse(&id, hash, (const char *)data, size);
    if (err != ROSTER_E_OK && err != ROSTER_E_UNAUTHENTICATED)
        abort();
    if (err == ROSTER_E_OK &&
        (size != ROSTER_APIKEY_TEXT_LEN || memcmp(data, ROSTER_APIKEY_PREFIX, 5) != 0))
        abort();
    return 0;
}
