#include "record.h"

#include "clock.h"
#include "pbfield.h"

#include <stdlib.h>
#include <string.h>

/* The JSON value of field f (model entry mf) of m; a new reference, NULL
 * when out of memory. */
static json_t *value_json(const ProtobufCMessage *m, const model_field *mf,
                          const ProtobufCFieldDescriptor *f)
{
    bool has = ctl_pbfield_has(m, f);
    switch (mf->type) {
    case MODEL_T_BOOL:
        if (!has)
            return (mf->flags & MODEL_NULLABLE) ? json_null() : json_false();
        return json_boolean(ctl_pbfield_int(m, f));
    case MODEL_T_DATE: {
        char buf[32];
        if (!has || roster_time_format_iso(buf, sizeof buf, ctl_pbfield_int(m, f)) == 0)
            return json_null();
        return json_string(buf);
    }
    case MODEL_T_JSON: {
        const char *text = ctl_pbfield_str(m, f);
        if (text == NULL)
            return json_null();
        json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
        return v != NULL ? v : json_string(text);
    }
    default: {
        const char *s = ctl_pbfield_str(m, f);
        return s != NULL ? json_string(s) : json_null();
    }
    }
}

int ctl_record_json(json_t **out, const model_record *r, const ProtobufCMessage *m, bool typename)
{
    json_t *o = json_object();
    if (o == NULL)
        return ROSTER_E_NOMEM;
    int rc = 0;
    if (typename)
        rc |= json_object_set_new(o, "__typename", json_string(r->gql_type));
    for (size_t i = 0; i < r->n_fields && rc == 0; i++) {
        const model_field *mf = &r->fields[i];
        json_t *v = value_json(m, mf, model_pb_field(r, mf));
        rc |= v != NULL ? json_object_set_new(o, mf->name, v) : -1;
    }
    if (rc != 0) {
        json_decref(o);
        return ROSTER_E_NOMEM;
    }
    *out = o;
    return ROSTER_E_OK;
}

/* ---------------------------------------------------------------- parsing */

/* Sets field f (model entry mf) of m from JSON value v; null leaves it
 * absent. */
static int value_from_json(ProtobufCMessage *m, const model_field *mf,
                           const ProtobufCFieldDescriptor *f, const json_t *v, roster_arena *arena,
                           roster_err_detail *d)
{
    const char *key = mf->name;
    if (json_is_null(v)) {
        ctl_pbfield_clear(m, f);
        return ROSTER_E_OK;
    }
    switch (mf->type) {
    case MODEL_T_BOOL:
        if (!json_is_boolean(v))
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, key, "%s must be true, false or null",
                               key);
        ctl_pbfield_set_int(m, f, json_is_true(v));
        return ROSTER_E_OK;
    case MODEL_T_DATE: {
        int64_t ms;
        if (!json_is_string(v) ||
            roster_time_parse_iso(&ms, json_string_value(v), json_string_length(v)) != ROSTER_E_OK)
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, key,
                               "%s must be an ISO-8601 time such as 2026-11-27T04:24:50.123Z", key);
        ctl_pbfield_set_int(m, f, ms);
        return ROSTER_E_OK;
    }
    case MODEL_T_JSON: {
        if (!json_is_object(v))
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, key,
                               "%s must be a JSON object or null", key);
        char *text = json_dumps(v, JSON_COMPACT);
        if (text == NULL)
            return ROSTER_E_NOMEM;
        char *copy = roster_arena_strndup(arena, text, strlen(text));
        free(text);
        if (copy == NULL)
            return ROSTER_E_NOMEM;
        ctl_pbfield_set_str(m, f, copy);
        return ROSTER_E_OK;
    }
    default: {
        if (!json_is_string(v))
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, key, "%s must be a string or null",
                               key);
        const char *s = json_string_value(v);
        if (strlen(s) != json_string_length(v))
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, key, "%s holds a NUL character", key);
        ctl_pbfield_set_str(m, f, s);
        return ROSTER_E_OK;
    }
    }
}

static bool is_ignored(const char *key, const char *const *ignored)
{
    if (strcmp(key, "__typename") == 0)
        return true;
    for (; ignored != NULL && *ignored != NULL; ignored++)
        if (strcmp(key, *ignored) == 0)
            return true;
    return false;
}

int ctl_record_from_json(ProtobufCMessage *out, const model_record *r, const json_t *obj,
                         const char *const *ignored, roster_arena *arena, roster_err_detail *d)
{
    if (!json_is_object(obj))
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "", "a %s must be a JSON object", r->name);
    ProtobufCMessage *m = roster_arena_alloc(arena, r->pb->sizeof_message);
    if (m == NULL)
        return ROSTER_E_NOMEM;
    r->pb->message_init(m);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (is_ignored(key, ignored))
            continue;
        const model_field *mf = model_field_named(r, key, strlen(key));
        if (mf == NULL)
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, key, "unknown %s field '%s'",
                               r->gql_type, key);
        int err = value_from_json(m, mf, model_pb_field(r, mf), v, arena, d);
        if (err != ROSTER_E_OK)
            return err;
    }
    memcpy(out, m, r->pb->sizeof_message);
    return ROSTER_E_OK;
}

int ctl_record_unpack(ProtobufCMessage **out, const model_record *r, const void *bytes, size_t len,
                      roster_arena *arena)
{
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, arena);
    ProtobufCMessage *m = protobuf_c_message_unpack(r->pb, &alloc, len, bytes);
    if (m == NULL)
        return ROSTER_E_CORRUPT;
    *out = m;
    return ROSTER_E_OK;
}

void ctl_record_to_request(ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
                           const model_record *r, const ProtobufCMessage *rec)
{
    desc->message_init(req);
    for (size_t i = 0; i < r->n_fields; i++) {
        const model_field *mf = &r->fields[i];
        const ProtobufCFieldDescriptor *df = ctl_pbfield_named(desc, mf->name, strlen(mf->name));
        if (df != NULL)
            ctl_pbfield_copy(req, df, rec, model_pb_field(r, mf));
    }
}
