/* rosterctl watch. Its loop is the client library's roster_client_watch
 * over rosterctl's own RPC client: the cursor is the seq of the last event
 * printed (or next_after past events of other tenants), each call asks for
 * what follows it, an event at or before it is never printed again, and
 * an announcement on the service's pub0 socket (or poll_ms without one)
 * wakes the next call. Calls that fail for a passing reason (UNAVAILABLE,
 * DEADLINE_EXCEEDED) are retried, so the watch rides out a restart of the
 * service; OUT_OF_RANGE (the events after the cursor are no longer kept)
 * ends it with the message naming the oldest kept seq. */
#include "watch.h"

#include "clock.h"
#include "feed_url.h"
#include "live.h"
#include "output.h"
#include "record.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/supplemental/util/platform.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WATCH_POLL_MS  1000
#define WATCH_RETRY_MS 200

static const char *kind_name(int kind)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&roster__v1__change_kind__descriptor, kind);
    return v ? model_enum_short_name(&roster__v1__change_kind__descriptor, v) : "UNSPECIFIED";
}

/* The fields an event carries, GraphQL names, present ones only. */
static json_t *event_fields(const model_record *r, const ProtobufCMessage *m)
{
    json_t *o = NULL;
    if (ctl_record_json(&o, r, m, false) != ROSTER_E_OK)
        return NULL;
    for (size_t i = 0; i < r->n_fields; i++)
        if (!model_pb_has(m, model_pb_field(r, &r->fields[i])))
            json_object_del(o, r->fields[i].name);
    return o;
}

static json_t *event_json(const Roster__V1__Change *c)
{
    char at[32] = "";
    roster_time_format_iso(at, sizeof at, c->committed_at);
    json_t *o = json_pack("{s:I, s:s, s:s, s:s}", "seq", (json_int_t)c->seq, "kind",
                          kind_name(c->kind), "id", c->id ? c->id : "", "committedAt", at);
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "tenantId", c->tenant_id ? json_string(c->tenant_id) : json_null());
    if (c->previous_tenant_id)
        json_object_set_new(o, "previousTenantId", json_string(c->previous_tenant_id));
    const model_record *r = c->user ? &model_user : c->tenant ? &model_tenant : NULL;
    const ProtobufCMessage *m = c->user ? &c->user->base : c->tenant ? &c->tenant->base : NULL;
    if (r != NULL) {
        json_t *f = event_fields(r, m);
        json_object_set_new(o, "fields", f ? f : json_null());
        json_t *cleared = json_array();
        for (size_t i = 0; i < r->n_fields && c->has_cleared; i++) {
            const ProtobufCFieldDescriptor *fd = model_pb_field(r, &r->fields[i]);
            if (fd->id < 64 && (c->cleared >> fd->id) & 1)
                json_array_append_new(cleared, json_string(r->fields[i].name));
        }
        json_object_set_new(o, "cleared", cleared);
    }
    if (c->scrubbed)
        json_object_set_new(o, "scrubbed", json_true());
    return o;
}

/* Prints one event: a JSON line, or "SEQ KIND ID tenant=T {fields}". */
static int print_event(const ctl_args *a, const Roster__V1__Change *c)
{
    json_t *o = event_json(c);
    if (o == NULL)
        return ROSTER_E_NOMEM;
    if (a->json) {
        ctl_print_json(stdout, o);
    } else {
        char *fields = NULL;
        json_t *f = json_object_get(o, "fields");
        if (f != NULL && !json_is_null(f))
            fields = json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%llu %s %s tenant=%s%s%s%s\n", (unsigned long long)c->seq, kind_name(c->kind),
               c->id ? c->id : "-", c->tenant_id ? c->tenant_id : "-", fields ? " " : "",
               fields ? fields : "", c->scrubbed ? " (scrubbed)" : "");
        free(fields);
    }
    json_decref(o);
    fflush(stdout);
    return ROSTER_E_OK;
}

static bool sub_open(nng_socket *out, const char *url)
{
    nng_socket s;
    if (nng_sub0_open(&s) != 0)
        return false;
    if (nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, "", 0) != 0 ||
        nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, WATCH_POLL_MS) != 0 ||
        nng_dial(s, url, NULL, NNG_FLAG_NONBLOCK) != 0) {
        nng_close(s);
        return false;
    }
    *out = s;
    return true;
}

static bool passing(int err)
{
    return err == ROSTER_E_UNAVAILABLE || err == ROSTER_E_DEADLINE_EXCEEDED ||
           err == ROSTER_E_RESOURCE_EXHAUSTED || err == ROSTER_E_CLOSED;
}

int ctl_cmd_watch(const ctl_args *a)
{
    uint64_t cursor = 0, count = 0, printed = 0;
    bool from_latest = true;
    const char *v;
    char *end;
    if ((v = ctl_args_get(a, "after")) != NULL) {
        cursor = strtoull(v, &end, 10);
        if (v[0] < '0' || v[0] > '9' || *end != '\0') {
            ctl_report_error(a->json, a->cmd->words, ROSTER_E_INVALID_ARGUMENT,
                             "--after must be a sequence number (0: from the first event)", NULL);
            return CTL_EXIT_USAGE;
        }
        from_latest = false;
    }
    if ((v = ctl_args_get(a, "count")) != NULL) {
        count = strtoull(v, &end, 10);
        if (v[0] < '1' || v[0] > '9' || *end != '\0') {
            ctl_report_error(a->json, a->cmd->words, ROSTER_E_INVALID_ARGUMENT,
                             "--count must be a whole number of events, at least 1", NULL);
            return CTL_EXIT_USAGE;
        }
    }
    ctl_live l;
    int code;
    int err = ctl_live_open(&l, a);
    if (err != ROSTER_E_OK) {
        ctl_live_close(&l);
        return ctl_exit_code(err);
    }
    char notify[4200];
    const char *nv = ctl_args_get(a, "notify");
    if (nv != NULL)
        snprintf(notify, sizeof notify, "%s", nv);
    else if (roster_feed_url(notify, sizeof notify, l.url) != ROSTER_E_OK)
        snprintf(notify, sizeof notify, "off");
    nng_socket sub;
    bool have_sub = strcmp(notify, "off") != 0 && sub_open(&sub, notify);
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    for (;;) {
        roster_arena_reset(&arena);
        Roster__V1__ListChangesRequest req = ROSTER__V1__LIST_CHANGES_REQUEST__INIT;
        req.has_after = req.has_limit = 1;
        req.after = cursor;
        req.limit = from_latest ? 0 : 500;
        ProtobufCMessage *reply = NULL;
        ctl_status st;
        err = ctl_live_call(&reply, &st, &l, RPC_LIST_CHANGES, &req.base, &arena);
        if (err != ROSTER_E_OK && passing(err)) {
            nng_msleep(WATCH_RETRY_MS);
            continue;
        }
        if (err != ROSTER_E_OK) {
            code = ctl_live_fail(a, a->cmd->words, err, &st);
            break;
        }
        const Roster__V1__ListChangesResponse *r = (const void *)reply;
        if (from_latest) {
            cursor = r->latest_seq;
            from_latest = false;
            continue;
        }
        bool done = false;
        for (size_t i = 0; i < r->n_changes && !done; i++) {
            const Roster__V1__Change *c = r->changes[i];
            if (c->seq <= cursor)
                continue;
            if (print_event(a, c) != ROSTER_E_OK) {
                code = ctl_live_fail(a, a->cmd->words, ROSTER_E_NOMEM, NULL);
                goto out;
            }
            cursor = c->seq;
            done = count != 0 && ++printed == count;
        }
        if (done) {
            code = CTL_EXIT_OK;
            break;
        }
        if (r->next_after > cursor)
            cursor = r->next_after;
        if (cursor < r->latest_seq)
            continue;
        if (!have_sub) {
            nng_msleep(WATCH_POLL_MS);
            continue;
        }
        uint8_t *msg = NULL;
        size_t len = 0;
        if (nng_recv(sub, &msg, &len, NNG_FLAG_ALLOC) == 0) {
            nng_free(msg, len);
            while (nng_recv(sub, &msg, &len, NNG_FLAG_ALLOC | NNG_FLAG_NONBLOCK) == 0)
                nng_free(msg, len);
        }
    }
out:
    if (have_sub)
        nng_close(sub);
    roster_arena_free(&arena);
    ctl_live_close(&l);
    return code;
}
