/* libFuzzer harness: customData values read in place (store/json_path.c)
 * against jansson's tree. The first byte picks the value type (its low
 * three bits, modulo the five types) and the path (the rest); the other
 * bytes are the customData text. Every value custom_index_user_value
 * gives must be custom_index_tree_value's, byte for byte; any
 * difference aborts. */
#include "custom_index.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {"a",   "b",     "plan", "seats", "a.b",
                                        "b.a", "a.b.c", "x",    "x.y",   "p"};
    if (size == 0)
        return 0;
    cdx_def d;
    memset(&d, 0, sizeof d);
    d.id = 1;
    d.type = (store_custom_type)(STORE_CUSTOM_STRING + (data[0] & 7) % 5);
    strcpy(d.path, paths[(data[0] >> 3) % (sizeof paths / sizeof paths[0])]);
    user_view v;
    memset(&v, 0, sizeof v);
    v.f.customData = (rec_str){(const char *)data + 1, (uint32_t)(size - 1), true};
    uint8_t got[CDX_MAX_STRING + 1], want[CDX_MAX_STRING + 1];
    size_t gn = custom_index_user_value(got, &d, &v);
    size_t wn = custom_index_tree_value(want, &d, (const char *)data + 1, size - 1);
    if (gn != wn || memcmp(got, want, gn) != 0) {
        fprintf(stderr, "path %s type %d: %zu bytes, jansson's %zu\n", d.path, (int)d.type, gn, wn);
        abort();
    }
    return 0;
}
