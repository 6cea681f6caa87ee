#include "grpc_reflection.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "google/protobuf/descriptor.pb-c.h"
#include "grpc/reflection/v1alpha/reflection.pb-c.h"
#include "pb_pack.h"

typedef Google__Protobuf__FileDescriptorSet desc_set;
typedef Google__Protobuf__FileDescriptorProto file_desc;
typedef Google__Protobuf__DescriptorProto msg_desc;
typedef Google__Protobuf__EnumDescriptorProto enum_desc;
typedef Google__Protobuf__FieldDescriptorProto field_desc;
typedef Grpc__Reflection__V1alpha__ServerReflectionRequest refl_request;
typedef Grpc__Reflection__V1alpha__ServerReflectionResponse refl_response;

/* malloc for protobuf-c's unpackers that remembers a failure, so that a
 * NULL from an unpacker tells "out of memory" from "malformed input". */
static void *tracked_alloc(void *ud, size_t size)
{
    void *p = malloc(size);
    if (p == NULL)
        *(bool *)ud = true;
    return p;
}

static void tracked_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

/* True when `name` (a descriptor's name, NULL when absent) is the `len`
 * bytes at `s`. */
static bool name_is(const char *name, const char *s, size_t len)
{
    return name != NULL && strlen(name) == len && memcmp(name, s, len) == 0;
}

static bool fields_hold(field_desc *const *fields, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (name_is(fields[i]->name, s, len))
            return true;
    return false;
}

/* An enum or one of its values: both are named in the enum's enclosing
 * scope. */
static bool enums_hold(enum_desc *const *enums, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (name_is(enums[i]->name, s, len))
            return true;
        for (size_t j = 0; j < enums[i]->n_value; j++)
            if (name_is(enums[i]->value[j]->name, s, len))
                return true;
    }
    return false;
}

/* Whether `sym`, relative to message m's scope, names something m declares. */
static bool message_declares(const msg_desc *m, const char *sym)
{
    const char *dot = strchr(sym, '.');
    size_t len = dot ? (size_t)(dot - sym) : strlen(sym);
    for (size_t i = 0; i < m->n_nested_type; i++)
        if (name_is(m->nested_type[i]->name, sym, len))
            return dot == NULL || message_declares(m->nested_type[i], dot + 1);
    if (dot != NULL)
        return false;
    for (size_t i = 0; i < m->n_oneof_decl; i++)
        if (name_is(m->oneof_decl[i]->name, sym, len))
            return true;
    return fields_hold(m->field, m->n_field, sym, len) ||
           fields_hold(m->extension, m->n_extension, sym, len) ||
           enums_hold(m->enum_type, m->n_enum_type, sym, len);
}

/* Whether the fully qualified `sym` names something file f declares. */
static bool file_declares(const file_desc *f, const char *sym)
{
    if (f->package != NULL && f->package[0] != '\0') {
        size_t plen = strlen(f->package);
        if (strncmp(sym, f->package, plen) != 0 || sym[plen] != '.')
            return false;
        sym += plen + 1;
    }
    const char *dot = strchr(sym, '.');
    size_t len = dot ? (size_t)(dot - sym) : strlen(sym);
    for (size_t i = 0; i < f->n_message_type; i++)
        if (name_is(f->message_type[i]->name, sym, len))
            return dot == NULL || message_declares(f->message_type[i], dot + 1);
    for (size_t i = 0; i < f->n_service; i++) {
        const Google__Protobuf__ServiceDescriptorProto *s = f->service[i];
        if (!name_is(s->name, sym, len))
            continue;
        if (dot == NULL)
            return true;
        for (size_t j = 0; j < s->n_method; j++)
            if (s->method[j]->name != NULL && strcmp(s->method[j]->name, dot + 1) == 0)
                return true;
        return false;
    }
    if (dot != NULL)
        return false;
    return enums_hold(f->enum_type, f->n_enum_type, sym, len) ||
           fields_hold(f->extension, f->n_extension, sym, len);
}

static long find_file(const desc_set *set, const char *name)
{
    for (size_t i = 0; i < set->n_file; i++)
        if (set->file[i]->name != NULL && strcmp(set->file[i]->name, name) == 0)
            return (long)i;
    return -1;
}

static long find_symbol(const desc_set *set, const char *sym)
{
    if (sym[0] == '.')
        sym++;
    for (size_t i = 0; i < set->n_file; i++)
        if (file_declares(set->file[i], sym))
            return (long)i;
    return -1;
}

/* Packs file `first` and every file it imports, transitively, each once,
 * `first` first, into files (n_files of them, each malloc'ed). */
static int pack_with_imports(ProtobufCBinaryData **files_out, size_t *n_files_out,
                             const desc_set *set, size_t first)
{
    int err = ROSTER_E_NOMEM;
    size_t n = 0;
    size_t *order = calloc(set->n_file, sizeof *order);
    bool *taken = calloc(set->n_file, sizeof *taken);
    ProtobufCBinaryData *files = NULL;
    if (order == NULL || taken == NULL)
        goto fail;
    order[n++] = first;
    taken[first] = true;
    for (size_t i = 0; i < n; i++) {
        const file_desc *f = set->file[order[i]];
        for (size_t d = 0; d < f->n_dependency; d++) {
            long j = find_file(set, f->dependency[d]);
            if (j >= 0 && !taken[j]) {
                taken[j] = true;
                order[n++] = (size_t)j;
            }
        }
    }
    files = calloc(n, sizeof *files);
    if (files == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (gw_pb_pack(&files[i].data, &files[i].len, &set->file[order[i]]->base) != ROSTER_E_OK)
            goto fail;
    *files_out = files;
    *n_files_out = n;
    files = NULL;
    err = ROSTER_E_OK;
fail:
    if (files != NULL)
        for (size_t i = 0; i < n; i++)
            free(files[i].data);
    free(files);
    free(taken);
    free(order);
    return err;
}

int grpc_reflection_answer(uint8_t **out, size_t *out_len, const uint8_t *req, size_t req_len)
{
    int err = grpc_reflection_answer_from(out, out_len, (const uint8_t *)gw_grpc_descriptor_set,
                                          gw_grpc_descriptor_set_len, req, req_len);
    return err == ROSTER_E_INVALID_ARGUMENT ? ROSTER_E_INTERNAL : err;
}

int grpc_reflection_answer_from(uint8_t **out, size_t *out_len, const uint8_t *set_bytes,
                                size_t set_len, const uint8_t *req, size_t req_len)
{
    static const uint8_t nothing[1];
    bool oom = false;
    ProtobufCAllocator alloc = {tracked_alloc, tracked_free, &oom};
    int err = ROSTER_E_NOMEM;
    desc_set *set = NULL;
    ProtobufCBinaryData *files = NULL;
    size_t n_files = 0;
    Grpc__Reflection__V1alpha__ServiceResponse *services = NULL;
    Grpc__Reflection__V1alpha__ServiceResponse **service_ptrs = NULL;
    char *error_message = NULL;
    refl_response resp = GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ListServiceResponse list =
        GRPC__REFLECTION__V1ALPHA__LIST_SERVICE_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__FileDescriptorResponse fdr =
        GRPC__REFLECTION__V1ALPHA__FILE_DESCRIPTOR_RESPONSE__INIT;
    Grpc__Reflection__V1alpha__ErrorResponse error =
        GRPC__REFLECTION__V1ALPHA__ERROR_RESPONSE__INIT;
    int error_code = ROSTER_STATUS_OK;
    long file = -1;

    refl_request *rq = grpc__reflection__v1alpha__server_reflection_request__unpack(
        &alloc, req_len, req ? req : nothing);
    if (rq == NULL)
        return oom ? ROSTER_E_NOMEM : ROSTER_E_PROTOCOL;
    set = google__protobuf__file_descriptor_set__unpack(&alloc, set_len,
                                                        set_bytes ? set_bytes : nothing);
    if (set == NULL) {
        err = oom ? ROSTER_E_NOMEM : ROSTER_E_INVALID_ARGUMENT;
        goto fail;
    }
    /* The request is echoed without the fields it held that reflection
     * does not know: protobuf-c keeps those as they came (a field number 0
     * among them), and packing them back would make a response that does
     * not decode. */
    refl_request echo = *rq;
    echo.base.n_unknown_fields = 0;
    echo.base.unknown_fields = NULL;
    resp.valid_host = rq->host;
    resp.original_request = &echo;

    switch (rq->message_request_case) {
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES: {
        size_t n = 0;
        for (size_t i = 0; i < set->n_file; i++)
            n += set->file[i]->n_service;
        services = calloc(n ? n : 1, sizeof *services);
        service_ptrs = calloc(n ? n : 1, sizeof *service_ptrs);
        if (services == NULL || service_ptrs == NULL)
            goto fail;
        list.service = service_ptrs;
        for (size_t i = 0; i < set->n_file; i++) {
            const file_desc *f = set->file[i];
            bool has_package = f->package != NULL && f->package[0] != '\0';
            for (size_t j = 0; j < f->n_service; j++) {
                Grpc__Reflection__V1alpha__ServiceResponse *s = &services[list.n_service];
                grpc__reflection__v1alpha__service_response__init(s);
                if (asprintf(&s->name, "%s%s%s", has_package ? f->package : "",
                             has_package ? "." : "",
                             f->service[j]->name ? f->service[j]->name : "") < 0)
                    goto fail;
                service_ptrs[list.n_service++] = s;
            }
        }
        resp.message_response_case =
            GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
        resp.list_services_response = &list;
        break;
    }
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
        file = find_file(set, rq->file_by_filename);
        if (file < 0) {
            error_code = ROSTER_STATUS_NOT_FOUND;
            if (asprintf(&error_message, "unknown file: %s", rq->file_by_filename) < 0)
                error_message = NULL;
        }
        break;
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
        file = find_symbol(set, rq->file_containing_symbol);
        if (file < 0) {
            error_code = ROSTER_STATUS_NOT_FOUND;
            if (asprintf(&error_message, "unknown symbol: %s", rq->file_containing_symbol) < 0)
                error_message = NULL;
        }
        break;
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION:
    case GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
        error_code = ROSTER_STATUS_UNIMPLEMENTED;
        error_message = strdup("extension queries are not supported: the services declare no "
                               "extensions");
        break;
    default:
        error_code = ROSTER_STATUS_INVALID_ARGUMENT;
        error_message = strdup("the request sets none of the message_request fields");
        break;
    }

    if (error_code != ROSTER_STATUS_OK) {
        if (error_message == NULL)
            goto fail;
        error.error_code = error_code;
        error.error_message = error_message;
        resp.message_response_case =
            GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
        resp.error_response = &error;
    } else if (file >= 0) {
        err = pack_with_imports(&files, &n_files, set, (size_t)file);
        if (err != ROSTER_E_OK)
            goto fail;
        err = ROSTER_E_NOMEM;
        fdr.n_file_descriptor_proto = n_files;
        fdr.file_descriptor_proto = files;
        resp.message_response_case =
            GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
        resp.file_descriptor_response = &fdr;
    }

    err = gw_pb_pack(out, out_len, &resp.base);
fail:
    if (services != NULL)
        for (size_t i = 0; i < list.n_service; i++)
            free(services[i].name);
    free(services);
    free(service_ptrs);
    for (size_t i = 0; i < n_files; i++)
        free(files[i].data);
    free(files);
    free(error_message);
    google__protobuf__file_descriptor_set__free_unpacked(set, &alloc);
    grpc__reflection__v1alpha__server_reflection_request__free_unpacked(rq, &alloc);
    return err;
}
