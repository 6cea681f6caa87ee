#include "rpc_wire_scan.h"

#include "roster_limits.h"

#include <string.h>

bool rpc_wire_varint(uint64_t *out, const uint8_t **p, const uint8_t *end)
{
    if (*p < end && !(**p & 0x80)) { /* one byte: most tags and lengths */
        *out = *(*p)++;
        return true;
    }
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

bool rpc_wire_next(rpc_wire_field *out, const uint8_t **p, const uint8_t *end)
{
    uint64_t tag, v;
    if (!rpc_wire_varint(&tag, p, end))
        return false;
    out->number = tag >> 3;
    out->wire_type = (unsigned)(tag & 7);
    out->body = NULL;
    out->len = 0;
    switch (out->wire_type) {
    case 0:
        return rpc_wire_varint(&v, p, end);
    case 1:
    case 5: {
        size_t w = out->wire_type == 1 ? 8 : 4;
        if ((size_t)(end - *p) < w)
            return false;
        *p += w;
        return true;
    }
    case 2:
        if (!rpc_wire_varint(&v, p, end) || v > (uint64_t)(end - *p))
            return false;
        out->body = *p;
        out->len = (size_t)v;
        *p += v;
        return true;
    default:
        return false;
    }
}

void rpc_wire_path_push(char *path, size_t cap, size_t *n, const char *name)
{
    size_t i = *n;
    if (i > 0 && i + 1 < cap)
        path[i++] = '.';
    for (bool up = false; *name != '\0' && i + 1 < cap; name++) {
        if (*name == '_') {
            up = true;
            continue;
        }
        path[i++] = up && *name >= 'a' && *name <= 'z' ? (char)(*name - 'a' + 'A') : *name;
        up = false;
    }
    path[i] = '\0';
    *n = i;
}

typedef struct repeated_limit {
    const char *field;
    size_t limit;
    const char *name;
} repeated_limit;

static const repeated_limit repeated_limits[] = {
#define LIMIT_ROW(field, limit) {#field, limit, #limit},
    ROSTER_REPEATED_LIMIT_MAP(LIMIT_ROW)
#undef LIMIT_ROW
};

static const repeated_limit *limit_row(const ProtobufCFieldDescriptor *f)
{
    for (size_t i = 0; i < sizeof repeated_limits / sizeof repeated_limits[0]; i++)
        if (strcmp(repeated_limits[i].field, f->name) == 0)
            return &repeated_limits[i];
    return NULL;
}

size_t rpc_wire_repeated_limit(const ProtobufCFieldDescriptor *f)
{
    const repeated_limit *row = limit_row(f);
    if (row != NULL)
        return row->limit;
    if (f->type == PROTOBUF_C_TYPE_ENUM)
        return ((const ProtobufCEnumDescriptor *)f->descriptor)->n_values;
    return ROSTER_MAX_REPEATED_DEFAULT;
}

const char *rpc_wire_repeated_limit_name(const ProtobufCFieldDescriptor *f)
{
    const repeated_limit *row = limit_row(f);
    if (row != NULL)
        return row->name;
    if (f->type == PROTOBUF_C_TYPE_ENUM)
        return "its enum's number of values";
    return "ROSTER_MAX_REPEATED_DEFAULT";
}

/* Entries in a packed repeated field's payload of n bytes at p. */
static size_t packed_count(const ProtobufCFieldDescriptor *f, const uint8_t *p, size_t n)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return n / 4;
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return n / 8;
    default: { /* varints: one ends at each byte without the high bit */
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
            c += !(p[i] & 0x80);
        return c;
    }
    }
}

static bool is_packable(const ProtobufCFieldDescriptor *f)
{
    return f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_BYTES &&
           f->type != PROTOBUF_C_TYPE_MESSAGE;
}

enum { SCAN_MAX_FIELDS = 64 }; /* fields counted per message; roster.proto has fewer */

/* The fields leading to the message being scanned; the path naming a
 * field is only written when a limit is passed. */
typedef struct scan {
    const ProtobufCMessageDescriptor *msgs[ROSTER_MAX_WIRE_DEPTH + 2];
    const ProtobufCFieldDescriptor *fields[ROSTER_MAX_WIRE_DEPTH + 2];
    roster_err_detail *detail;
} scan;

/* The GraphQL path of field f at `depth` (NULL f: the message itself, by
 * its type name). With `collapse`, a one-field wrapper's field
 * (StringList.values) is named by the field holding the wrapper. */
static void scan_path(char *path, size_t cap, const scan *s, unsigned depth,
                      const ProtobufCFieldDescriptor *f, bool collapse)
{
    size_t n = 0;
    path[0] = '\0';
    for (unsigned i = 0; i < depth; i++)
        rpc_wire_path_push(path, cap, &n, s->fields[i]->name);
    if (f == NULL)
        rpc_wire_path_push(path, cap, &n, s->msgs[depth]->short_name);
    else if (!(collapse && depth > 0 && s->msgs[depth]->n_fields == 1))
        rpc_wire_path_push(path, cap, &n, f->name);
}

static int scan_message(scan *s, const uint8_t *p, const uint8_t *end, unsigned depth)
{
    const ProtobufCMessageDescriptor *desc = s->msgs[depth];
    size_t counts[SCAN_MAX_FIELDS], limits[SCAN_MAX_FIELDS];
    memset(counts, 0, sizeof counts);
    size_t unknown = 0;
    char path[96];
    while (p < end) {
        rpc_wire_field w;
        if (!rpc_wire_next(&w, &p, end))
            return ROSTER_E_OK; /* framing: the unpacker's to refuse */
        const ProtobufCFieldDescriptor *f =
            w.number <= UINT32_MAX
                ? protobuf_c_message_descriptor_get_field(desc, (unsigned)w.number)
                : NULL;
        if (f == NULL) {
            if (++unknown > ROSTER_MAX_UNKNOWN_FIELDS) {
                scan_path(path, sizeof path, s, depth, NULL, true);
                return roster_fail(s->detail, ROSTER_E_INVALID_ARGUMENT, path,
                                   "%s holds more than %d unknown fields "
                                   "(ROSTER_MAX_UNKNOWN_FIELDS)",
                                   path, ROSTER_MAX_UNKNOWN_FIELDS);
            }
            continue;
        }
        size_t idx = (size_t)(f - desc->fields);
        if (idx >= SCAN_MAX_FIELDS) {
            /* not counted: wire_scan_covers_requests keeps requests below */
        } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t add = w.wire_type == 2 && is_packable(f) ? packed_count(f, w.body, w.len) : 1;
            if (counts[idx] == 0)
                limits[idx] = rpc_wire_repeated_limit(f);
            if ((counts[idx] += add) > limits[idx]) {
                scan_path(path, sizeof path, s, depth, f, true);
                return roster_fail(s->detail, ROSTER_E_INVALID_ARGUMENT, path,
                                   "%s holds more than %zu entries (%s)", path, limits[idx],
                                   rpc_wire_repeated_limit_name(f));
            }
        } else if (++counts[idx] > 1) {
            scan_path(path, sizeof path, s, depth, f, true);
            return roster_fail(s->detail, ROSTER_E_INVALID_ARGUMENT, path,
                               "%s appears more than once; it holds one value", path);
        }
        /* protobuf-c hands strings over as C strings: one holding a NUL
         * would be cut there without a word. */
        if (f->type == PROTOBUF_C_TYPE_STRING && w.wire_type == 2 &&
            memchr(w.body, '\0', w.len) != NULL) {
            scan_path(path, sizeof path, s, depth, f, false);
            return roster_fail(s->detail, ROSTER_E_INVALID_ARGUMENT, path,
                               "%s contains a NUL character", path);
        }
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && w.wire_type == 2) {
            if (depth + 1 > ROSTER_MAX_WIRE_DEPTH) {
                scan_path(path, sizeof path, s, depth, f, true);
                return roster_fail(s->detail, ROSTER_E_INVALID_ARGUMENT, path,
                                   "%s nests messages more than %d deep (ROSTER_MAX_WIRE_DEPTH)",
                                   path, ROSTER_MAX_WIRE_DEPTH);
            }
            s->fields[depth] = f;
            s->msgs[depth + 1] = f->descriptor;
            int err = scan_message(s, w.body, w.body + w.len, depth + 1);
            if (err != ROSTER_E_OK)
                return err;
        }
    }
    return ROSTER_E_OK;
}

int rpc_wire_scan(const ProtobufCMessageDescriptor *desc, const void *buf, size_t len,
                  roster_err_detail *detail)
{
    if (buf == NULL)
        return ROSTER_E_OK;
    scan s = {.detail = detail};
    s.msgs[0] = desc;
    return scan_message(&s, buf, (const uint8_t *)buf + len, 0);
}
