/* libFuzzer harness: rosterctl's --filter parser (tools/rosterctl/filter.c)
 * and the list request built from it. The first byte picks user (even) or
 * tenant (odd) fields; the rest is the text, one expression per line.
 * The invariants are fuzz_ctl_filter's (tests/rosterctl/fuzz_filter_check.h). */
#include "fuzz_filter_check.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0)
        fuzz_ctl_filter_bytes((const char *)data + 1, size - 1, data[0] & 1);
    return 0;
}
