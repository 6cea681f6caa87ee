#include "fastline_check.h"

#include "fastline.h"
#include "record.h"

#include <stdlib.h>
#include <string.h>

static const char *const tenant_ignored[] = {"users", NULL};
static const char *const user_ignored[] = {"synced", "tenant", NULL};
static const ctl_line_kind kinds[] = {{&model_tenant, tenant_ignored}, {&model_user, user_ignored}};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

typedef union record {
    Roster__V1__Tenant tenant;
    Roster__V1__User user;
} record;

/* The jansson path: the kind and record, or -1. */
static int slow(record *out, const char *text, size_t len, roster_arena *arena, json_t **obj)
{
    *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    if (*obj == NULL || !json_is_object(*obj))
        return -1;
    const json_t *tn = json_object_get(*obj, "__typename");
    if (!json_is_string(tn))
        return -1;
    for (size_t k = 0; k < N_KINDS; k++) {
        if (strcmp(json_string_value(tn), kinds[k].r->gql_type) != 0)
            continue;
        roster_err_detail d = {{0}};
        if (ctl_record_from_json(&out->tenant.base, kinds[k].r, *obj, kinds[k].ignored, arena,
                                 &d) != ROSTER_E_OK)
            return -1;
        return (int)k;
    }
    return -1;
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(*len ? *len : 1);
    if (b != NULL)
        protobuf_c_message_pack(m, b);
    return b;
}

int fastline_check(const char *text, size_t len)
{
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    record fast, ref;
    size_t kind = N_KINDS;
    json_t *obj = NULL;
    int result = 0;
    if (ctl_fastline_parse(&fast, &kind, kinds, N_KINDS, text, len, &arena)) {
        result = -1;
        int k = slow(&ref, text, len, &arena, &obj);
        if (k >= 0 && (size_t)k == kind) {
            size_t fl, rl;
            uint8_t *fb = pack(&fast.tenant.base, &fl), *rb = pack(&ref.tenant.base, &rl);
            if (fb != NULL && rb != NULL && fl == rl && memcmp(fb, rb, fl) == 0)
                result = 1;
            free(fb);
            free(rb);
        }
    }
    json_decref(obj);
    roster_arena_free(&arena);
    return result;
}
