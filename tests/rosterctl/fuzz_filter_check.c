#include "fuzz_filter_check.h"

#include "filter.h"
#include "request.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int cond)
{
    if (!cond)
        abort();
}

static void parse_one(ctl_filter *f, const char *expr, bool tenant)
{
    roster_err_detail d = {{0}};
    size_t before = f->count;
    int err =
        ctl_filter_parse(f, tenant ? &ctl_tenant_filter_fields : &ctl_user_filter_fields, expr, &d);
    if (err != ROSTER_E_OK) {
        check(f->count == before);
        check(err == ROSTER_E_INVALID_ARGUMENT || err == ROSTER_E_NOMEM);
        check(d.message[0] != '\0');
    } else {
        check(f->count == before + 1);
    }
}

void fuzz_ctl_filter(const char *text, bool tenant)
{
    fuzz_ctl_filter_bytes(text, strlen(text), tenant);
}

void fuzz_ctl_filter_bytes(const char *bytes, size_t len, bool tenant)
{
    ctl_filter f = {0};
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return;
    memcpy(copy, bytes, len);
    copy[len] = '\0';
    if (strchr(copy, '\n') == NULL) {
        parse_one(&f, copy, tenant);
        parse_one(&f, copy, tenant);
    } else {
        char *line = copy;
        for (int i = 0; i < 16 && line != NULL; i++) {
            char *nl = strchr(line, '\n');
            if (nl != NULL)
                *nl++ = '\0';
            parse_one(&f, line, tenant);
            line = nl;
        }
    }
    static uint8_t buf[1 << 20], again[1 << 20];
    ctl_order o = {0};
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    Roster__V1__ListTenantsRequest treq = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    Roster__V1__ListUsersRequest ureq = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    ProtobufCMessage *req = tenant ? &treq.base : &ureq.base;
    check(ctl_list_request(req, &arena, &f, &o, NULL) == ROSTER_E_OK);
    size_t n = protobuf_c_message_get_packed_size(req);
    check(n <= sizeof buf);
    protobuf_c_message_pack(req, buf);
    ProtobufCMessage *back = protobuf_c_message_unpack(req->descriptor, NULL, n, buf);
    check(back != NULL);
    check(protobuf_c_message_get_packed_size(back) == n);
    protobuf_c_message_pack(back, again);
    check(memcmp(buf, again, n) == 0);
    protobuf_c_message_free_unpacked(back, NULL);
    roster_arena_free(&arena);
    ctl_filter_free(&f);
    free(copy);
}
