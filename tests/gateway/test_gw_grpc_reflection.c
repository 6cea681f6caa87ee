/* gRPC server reflection answers: list_services, files by name and by
 * symbol (services, methods, messages, nested messages, fields, oneofs,
 * enums and their values) with their imports, NOT_FOUND and UNIMPLEMENTED
 * error responses, and requests that do not decode. The compiled-in set is
 * roster.proto's, health's and reflection's; a second set made from
 * google/rpc/status.proto and error_details.proto (which import
 * google/protobuf/any.proto and hold nested messages) covers imports. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "google/protobuf/descriptor.pb-c.h"
#include "grpc/reflection/v1alpha/reflection.pb-c.h"
#include "grpc_reflection.h"

typedef Grpc__Reflection__V1alpha__ServerReflectionRequest refl_request;
typedef Grpc__Reflection__V1alpha__ServerReflectionResponse refl_response;

/* tests/gateway/CMakeLists.txt embeds it. */
extern const char gw_test_status_set[];
extern const size_t gw_test_status_set_len;

#define CASE(x)  GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_##x
#define RCASE(x) GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_##x

static refl_response *ask_from(const char *set, size_t set_len, const refl_request *rq)
{
    size_t len = grpc__reflection__v1alpha__server_reflection_request__get_packed_size(rq);
    uint8_t *req = malloc(len + 1);
    ck_assert_ptr_nonnull(req);
    grpc__reflection__v1alpha__server_reflection_request__pack(rq, req);
    uint8_t *out = NULL;
    size_t out_len = 0;
    int err =
        set ? grpc_reflection_answer_from(&out, &out_len, (const uint8_t *)set, set_len, req, len)
            : grpc_reflection_answer(&out, &out_len, req, len);
    ck_assert_int_eq(err, ROSTER_E_OK);
    free(req);
    ck_assert_ptr_nonnull(out);
    refl_response *r =
        grpc__reflection__v1alpha__server_reflection_response__unpack(NULL, out_len, out);
    free(out);
    ck_assert_ptr_nonnull(r);
    return r;
}

static refl_response *ask(const refl_request *rq)
{
    return ask_from(NULL, 0, rq);
}

static refl_response *ask_symbol_from(const char *set, size_t set_len, const char *symbol)
{
    refl_request rq = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__INIT;
    rq.host = "localhost:50051";
    rq.message_request_case = CASE(FILE_CONTAINING_SYMBOL);
    rq.file_containing_symbol = (char *)symbol;
    refl_response *r = ask_from(set, set_len, &rq);
    ck_assert_str_eq(r->valid_host, "localhost:50051");
    ck_assert_ptr_nonnull(r->original_request);
    ck_assert_int_eq(r->original_request->message_request_case, CASE(FILE_CONTAINING_SYMBOL));
    ck_assert_str_eq(r->original_request->file_containing_symbol, symbol);
    return r;
}

/* The names of the files answered, in order, joined by spaces. */
static void files_answered(const refl_response *r, char *names, size_t size)
{
    ck_assert_int_eq(r->message_response_case, RCASE(FILE_DESCRIPTOR_RESPONSE));
    names[0] = '\0';
    for (size_t i = 0; i < r->file_descriptor_response->n_file_descriptor_proto; i++) {
        const ProtobufCBinaryData *b = &r->file_descriptor_response->file_descriptor_proto[i];
        Google__Protobuf__FileDescriptorProto *f =
            google__protobuf__file_descriptor_proto__unpack(NULL, b->len, b->data);
        ck_assert_ptr_nonnull(f);
        if (i > 0)
            strncat(names, " ", size - strlen(names) - 1);
        strncat(names, f->name, size - strlen(names) - 1);
        google__protobuf__file_descriptor_proto__free_unpacked(f, NULL);
    }
}

static void expect_file(const char *set, size_t set_len, const char *symbol, const char *files)
{
    refl_response *r = ask_symbol_from(set, set_len, symbol);
    char names[256];
    ck_assert_msg(r->message_response_case == RCASE(FILE_DESCRIPTOR_RESPONSE), "%s: case %d",
                  symbol, (int)r->message_response_case);
    files_answered(r, names, sizeof names);
    ck_assert_msg(strcmp(names, files) == 0, "%s: got \"%s\", want \"%s\"", symbol, names, files);
    grpc__reflection__v1alpha__server_reflection_response__free_unpacked(r, NULL);
}

static void expect_error(const char *set, size_t set_len, const char *symbol, int code)
{
    refl_response *r = ask_symbol_from(set, set_len, symbol);
    ck_assert_msg(r->message_response_case == RCASE(ERROR_RESPONSE), "%s: case %d", symbol,
                  (int)r->message_response_case);
    ck_assert_int_eq(r->error_response->error_code, code);
    ck_assert_ptr_nonnull(strstr(r->error_response->error_message, symbol));
    grpc__reflection__v1alpha__server_reflection_response__free_unpacked(r, NULL);
}

START_TEST(list_services)
{
    refl_request rq = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__INIT;
    rq.message_request_case = CASE(LIST_SERVICES);
    rq.list_services = "*";
    refl_response *r = ask(&rq);
    ck_assert_int_eq(r->message_response_case, RCASE(LIST_SERVICES_RESPONSE));
    ck_assert_str_eq(r->valid_host, "");
    ck_assert_str_eq(r->original_request->list_services, "*");
    const char *want[] = {"roster.v1.UserService", "grpc.health.v1.Health",
                          "grpc.reflection.v1alpha.ServerReflection"};
    ck_assert_uint_eq(r->list_services_response->n_service, 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(r->list_services_response->service[i]->name, want[i]);
    grpc__reflection__v1alpha__server_reflection_response__free_unpacked(r, NULL);
}
END_TEST

START_TEST(symbols_of_the_served_files)
{
    const char *roster[] = {
        "roster.v1.UserService",
        "roster.v1.UserService.GetUser",
        "roster.v1.UserService.BulkWrite",
        "roster.v1.User",
        ".roster.v1.User",
        "roster.v1.User.email",
        "roster.v1.BulkOperation.operation",
        "roster.v1.BulkOperation.create_user",
        "roster.v1.Role",
        "roster.v1.ROLE_ADMIN",
        "roster.v1.ChangeKind",
        "roster.v1.RpcReply",
    };
    for (size_t i = 0; i < sizeof roster / sizeof roster[0]; i++)
        expect_file(NULL, 0, roster[i], "roster.proto");
    expect_file(NULL, 0, "grpc.health.v1.Health", "grpc/health/v1/health.proto");
    expect_file(NULL, 0, "grpc.health.v1.Health.Watch", "grpc/health/v1/health.proto");
    expect_file(NULL, 0, "grpc.health.v1.HealthCheckResponse.ServingStatus",
                "grpc/health/v1/health.proto");
    expect_file(NULL, 0, "grpc.health.v1.HealthCheckResponse.SERVING",
                "grpc/health/v1/health.proto");
    expect_file(NULL, 0, "grpc.reflection.v1alpha.ServerReflection.ServerReflectionInfo",
                "grpc/reflection/v1alpha/reflection.proto");
}
END_TEST

START_TEST(unknown_symbols)
{
    const char *unknown[] = {
        "roster.v1.Nope",
        "roster.v1.UserService.Nope",
        "roster.v1.UserService.GetUser.x",
        "roster.v1.User.nope",
        "roster.v1.User.email.x",
        "roster.v1.Role.ROLE_ADMIN", /* values live in the enum's parent scope */
        "roster.v1",
        "roster.v1.",
        "roster",
        "User",
        "roster.v2.User",
        "",
        ".",
        "grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING",
    };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        expect_error(NULL, 0, unknown[i], ROSTER_STATUS_NOT_FOUND);
}
END_TEST

START_TEST(files_by_name)
{
    refl_request rq = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__INIT;
    rq.message_request_case = CASE(FILE_BY_FILENAME);
    rq.file_by_filename = "roster.proto";
    refl_response *r = ask(&rq);
    char names[256];
    files_answered(r, names, sizeof names);
    ck_assert_str_eq(names, "roster.proto");
    /* The file as protoc wrote it: package, services and the comments. */
    const ProtobufCBinaryData *b = &r->file_descriptor_response->file_descriptor_proto[0];
    Google__Protobuf__FileDescriptorProto *f =
        google__protobuf__file_descriptor_proto__unpack(NULL, b->len, b->data);
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(f->package, "roster.v1");
    ck_assert_uint_eq(f->n_service, 1);
    ck_assert_str_eq(f->service[0]->name, "UserService");
    ck_assert_ptr_nonnull(f->source_code_info);
    ck_assert_uint_gt(f->source_code_info->n_location, 0);
    google__protobuf__file_descriptor_proto__free_unpacked(f, NULL);
    grpc__reflection__v1alpha__server_reflection_response__free_unpacked(r, NULL);

    rq.file_by_filename = "grpc/health/v1/health.proto";
    r = ask(&rq);
    files_answered(r, names, sizeof names);
    ck_assert_str_eq(names, "grpc/health/v1/health.proto");
    grpc__reflection__v1alpha__server_reflection_response__free_unpacked(r, NULL);

    const char *unknown[] = {"nope.proto", "", "health.proto", "roster.proto "};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        rq.file_by_filename = (char *)unknown[i];
        r = ask(&rq);
        ck_assert_int_eq(r->message_response_case, RCASE(ERROR_RESPONSE));
        ck_assert_int_eq(r->error_response->error_code, ROSTER_STATUS_NOT_FOUND);
        ck_assert_ptr_nonnull(strstr(r->error_response->error_message, "unknown file"));
        grpc__reflection__v1alpha__server_reflection_response__free_unpacked(r, NULL);
    }
}
END_TEST

START_TEST(imports_and_nested_types)
{
    const char *set = gw_test_status_set;
    size_t n = gw_test_status_set_len;
    expect_file(set, n, "google.rpc.Status", "google/rpc/status.proto google/protobuf/any.proto");
    expect_file(set, n, "google.rpc.Status.details",
                "google/rpc/status.proto google/protobuf/any.proto");
    expect_file(set, n, "google.protobuf.Any", "google/protobuf/any.proto");
    expect_file(set, n, "google.rpc.BadRequest", "google/rpc/error_details.proto");
    expect_file(set, n, "google.rpc.BadRequest.FieldViolation", "google/rpc/error_details.proto");
    expect_file(set, n, "google.rpc.BadRequest.FieldViolation.description",
                "google/rpc/error_details.proto");
    expect_error(set, n, "google.rpc.BadRequest.FieldViolation.nope", ROSTER_STATUS_NOT_FOUND);
    expect_error(set, n, "google.rpc.BadRequest.Nope.field", ROSTER_STATUS_NOT_FOUND);
    expect_error(set, n, "roster.v1.User", ROSTER_STATUS_NOT_FOUND);

    refl_request rq = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__INIT;
    rq.message_request_case = CASE(FILE_BY_FILENAME);
    rq.file_by_filename = "google/rpc/status.proto";
    refl_response *r = ask_from(set, n, &rq);
    char names[256];
    files_answered(r, names, sizeof names);
    ck_assert_str_eq(names, "google/rpc/status.proto google/protobuf/any.proto");
    grpc__reflection__v1alpha__server_reflection_response__free_unpacked(r, NULL);

    /* The services of a set without any: an empty list. */
    rq.message_request_case = CASE(LIST_SERVICES);
    rq.list_services = "";
    r = ask_from(set, n, &rq);
    ck_assert_int_eq(r->message_response_case, RCASE(LIST_SERVICES_RESPONSE));
    ck_assert_uint_eq(r->list_services_response->n_service, 0);
    grpc__reflection__v1alpha__server_reflection_response__free_unpacked(r, NULL);
}
END_TEST

START_TEST(extensions_unimplemented)
{
    refl_request rq = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__INIT;
    rq.message_request_case = CASE(ALL_EXTENSION_NUMBERS_OF_TYPE);
    rq.all_extension_numbers_of_type = "roster.v1.User";
    refl_response *r = ask(&rq);
    ck_assert_int_eq(r->message_response_case, RCASE(ERROR_RESPONSE));
    ck_assert_int_eq(r->error_response->error_code, ROSTER_STATUS_UNIMPLEMENTED);
    grpc__reflection__v1alpha__server_reflection_response__free_unpacked(r, NULL);

    Grpc__Reflection__V1alpha__ExtensionRequest ext =
        GRPC__REFLECTION__V1ALPHA__EXTENSION_REQUEST__INIT;
    ext.containing_type = "roster.v1.User";
    ext.extension_number = 100;
    rq.message_request_case = CASE(FILE_CONTAINING_EXTENSION);
    rq.file_containing_extension = &ext;
    r = ask(&rq);
    ck_assert_int_eq(r->message_response_case, RCASE(ERROR_RESPONSE));
    ck_assert_int_eq(r->error_response->error_code, ROSTER_STATUS_UNIMPLEMENTED);
    ck_assert_str_eq(r->original_request->file_containing_extension->containing_type,
                     "roster.v1.User");
    grpc__reflection__v1alpha__server_reflection_response__free_unpacked(r, NULL);
}
END_TEST

START_TEST(bad_requests)
{
    /* Nothing asked: an error response, INVALID_ARGUMENT. */
    uint8_t *out = NULL;
    size_t out_len = 0;
    ck_assert_int_eq(grpc_reflection_answer(&out, &out_len, NULL, 0), ROSTER_E_OK);
    refl_response *r =
        grpc__reflection__v1alpha__server_reflection_response__unpack(NULL, out_len, out);
    free(out);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->message_response_case, RCASE(ERROR_RESPONSE));
    ck_assert_int_eq(r->error_response->error_code, ROSTER_STATUS_INVALID_ARGUMENT);
    grpc__reflection__v1alpha__server_reflection_response__free_unpacked(r, NULL);

    /* Bytes that are no ServerReflectionRequest: ROSTER_E_PROTOCOL, the
     * out-parameters untouched. */
    const uint8_t garbage[][6] = {
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, /* a varint that never ends */
        {0x22, 0x10, 'r', 'o', 's', 't'},     /* a string cut short */
        {0x3a, 0x02, 0xc3, 0x28, 0x00, 0x00}, /* list_services: invalid UTF-8, then junk */
        {0x07, 0x00, 0x00, 0x00, 0x00, 0x00}, /* wire type 7 */
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        uint8_t *o = (uint8_t *)"untouched";
        size_t l = 12345;
        ck_assert_int_eq(grpc_reflection_answer(&o, &l, garbage[i], sizeof garbage[i]),
                         ROSTER_E_PROTOCOL);
        ck_assert_str_eq((const char *)o, "untouched");
        ck_assert_uint_eq(l, 12345);
    }

    /* A descriptor set that does not decode. */
    const uint8_t list_req[] = {0x3a, 0x00};
    uint8_t *o = NULL;
    size_t l = 0;
    ck_assert_int_eq(grpc_reflection_answer_from(&o, &l, (const uint8_t *)"\xff\xff", 2, list_req,
                                                 sizeof list_req),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(o);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gw_grpc_reflection");
    TCase *tc = tcase_create("reflection");
    tcase_add_test(tc, list_services);
    tcase_add_test(tc, symbols_of_the_served_files);
    tcase_add_test(tc, unknown_symbols);
    tcase_add_test(tc, files_by_name);
    tcase_add_test(tc, imports_and_nested_types);
    tcase_add_test(tc, extensions_unimplemented);
    tcase_add_test(tc, bad_requests);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
