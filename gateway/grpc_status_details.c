#include "grpc_status_details.h"

#include <stdlib.h>

#include "error.h"
#include "google/protobuf/any.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "pb_pack.h"

/* protobuf-c's generated structs hold char * for strings it never writes
 * through when packing; the casts below drop the const of borrowed text. */
static char *borrowed(const char *s)
{
    return (char *)(s ? s : "");
}

int grpc_status_details_encode(uint8_t **out, size_t *out_len, int code, const char *message,
                               size_t n, const char *const *fields, const char *const *descriptions)
{
    int err = ROSTER_E_NOMEM;
    Google__Rpc__BadRequest__FieldViolation *violations = NULL;
    Google__Rpc__BadRequest__FieldViolation **violation_ptrs = NULL;
    uint8_t *bad_request = NULL;

    Google__Rpc__Status status = GOOGLE__RPC__STATUS__INIT;
    status.code = code;
    status.message = borrowed(message);

    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    Google__Protobuf__Any *any_ptr = &any;
    if (n > 0) {
        violations = calloc(n, sizeof *violations);
        violation_ptrs = calloc(n, sizeof *violation_ptrs);
        if (violations == NULL || violation_ptrs == NULL)
            goto fail;
        for (size_t i = 0; i < n; i++) {
            google__rpc__bad_request__field_violation__init(&violations[i]);
            violations[i].field = borrowed(fields ? fields[i] : NULL);
            violations[i].description = borrowed(descriptions ? descriptions[i] : NULL);
            violation_ptrs[i] = &violations[i];
        }
        Google__Rpc__BadRequest br = GOOGLE__RPC__BAD_REQUEST__INIT;
        br.n_field_violations = n;
        br.field_violations = violation_ptrs;
        size_t br_len = 0;
        if (gw_pb_pack(&bad_request, &br_len, &br.base) != ROSTER_E_OK)
            goto fail;
        any.type_url = borrowed(GW_GRPC_BAD_REQUEST_TYPE_URL);
        any.value.data = bad_request;
        any.value.len = br_len;
        status.n_details = 1;
        status.details = &any_ptr;
    }

    err = gw_pb_pack(out, out_len, &status.base);
fail:
    free(bad_request);
    free(violation_ptrs);
    free(violations);
    return err;
}
