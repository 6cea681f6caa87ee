/* libFuzzer harness: gRPC server reflection (gateway/grpc_reflection.c),
 * from the bytes of a ServerReflectionRequest as a client sends them to
 * the ServerReflectionResponse answered from the compiled-in descriptors.
 *
 * Checked beyond the sanitizers: the answer is ROSTER_E_OK with a response
 * that decodes and sets exactly one documented message_response case, or
 * ROSTER_E_PROTOCOL (the input is no request); an error_response carries
 * NOT_FOUND, UNIMPLEMENTED or INVALID_ARGUMENT and a message. */
#include "error.h"
#include "grpc/reflection/v1alpha/reflection.pb-c.h"
#include "grpc_reflection.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_gw_grpc_reflection: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    int err = grpc_reflection_answer(&out, &out_len, data, size);
    if (err == ROSTER_E_PROTOCOL) {
        check(out == NULL, "an error wrote *out");
        return 0;
    }
    check(err == ROSTER_E_OK, "neither OK nor PROTOCOL");
    check(out != NULL, "OK without a buffer");
    Grpc__Reflection__V1alpha__ServerReflectionResponse *r =
        grpc__reflection__v1alpha__server_reflection_response__unpack(NULL, out_len, out);
    check(r != NULL, "the response does not decode");
    check(r->original_request != NULL, "no original_request");
    switch (r->message_response_case) {
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE:
        check(r->file_descriptor_response->n_file_descriptor_proto > 0, "no file answered");
        break;
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE:
        check(r->list_services_response->n_service == 3, "not the three services");
        break;
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE: {
        int code = r->error_response->error_code;
        check(code == ROSTER_STATUS_NOT_FOUND || code == ROSTER_STATUS_UNIMPLEMENTED ||
                  code == ROSTER_STATUS_INVALID_ARGUMENT,
              "an undocumented error code");
        check(r->error_response->error_message[0] != '\0', "an error without a message");
        break;
    }
    default:
        check(false, "no documented response case");
    }
    grpc__reflection__v1alpha__server_reflection_response__free_unpacked(r, NULL);
    free(out);
    return 0;
}
