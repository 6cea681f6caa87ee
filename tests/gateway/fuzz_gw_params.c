/* Fuzz harness for the gateway's request-parameter readers: the first byte
 * picks the reader (Accept negotiation, GET query string, POST body), the
 * rest is the input. Built as a libFuzzer target with -DROSTER_FUZZ=ON and
 * clang; every build runs it through fuzz_gw_params_main.c. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request_params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *text = malloc(size + 8);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    roster_err_detail d = {{0}};
    gw_params p = {0};
    switch (data[0] % 3) {
    case 0:
        (void)gw_negotiate(text);
        break;
    case 1:
        (void)gw_params_from_get(&p, text, &d);
        break;
    default:
        (void)gw_params_from_post(&p, "application/json", (const char *)data + 1, size - 1, &d);
        break;
    }
    gw_params_free(&p);
    free(text);
    return 0;
}
