#include "record.h"

#include "error.h"
#include "roster_limits.h"
#include "store_internal.h"

#include <pthread.h>
#include <stddef.h>
#include <string.h>

/* Reads a varint at *p (< end). Returns false on truncation/overlong. */
static bool wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
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

/* Where the decoder puts a field: the view slot of the model field that
 * the protobuf field number names, made once from the model and the
 * descriptors (model field -> protobuf field number -> slot offset). */
enum { SLOT_NONE, SLOT_STR, SLOT_BOOL, SLOT_I64 };

/* Field numbers the decoder looks up directly; larger ones are skipped
 * as unknown (the record messages use 1..16). */
#define REC_MAX_TAG 32

typedef struct rec_slot {
    uint16_t off; /* in user_fields / tenant_fields */
    uint8_t kind; /* SLOT_* */
    uint8_t tag;  /* its protobuf field number (REC_MAX_TAG when larger) */
    uint32_t max; /* longest value a valid record holds (index keys), 0: any */
} rec_slot;

typedef struct rec_layout {
    rec_slot by_tag[REC_MAX_TAG];
    /* Slots whose values go into index keys (unique or sortable text): a
     * stored value longer than validation allows means a damaged record,
     * never an oversized key. */
    rec_slot limited[MODEL_MAX_FIELDS];
    size_t n_limited;
} rec_layout;

#define REC_X_USER_OFF(n, t, m, f, fl)   (uint16_t) offsetof(user_fields, n),
#define REC_X_TENANT_OFF(n, t, m, f, fl) (uint16_t) offsetof(tenant_fields, n),
const uint16_t rec_user_off[MODEL_USER__COUNT] = {MODEL_USER_FIELDS(REC_X_USER_OFF)};
const uint16_t rec_tenant_off[MODEL_TENANT__COUNT] = {MODEL_TENANT_FIELDS(REC_X_TENANT_OFF)};
#undef REC_X_USER_OFF
#undef REC_X_TENANT_OFF

static rec_layout user_layout, tenant_layout;
static user_fields user_blank; /* every slot null */
static tenant_fields tenant_blank;
static pthread_once_t layout_once = PTHREAD_ONCE_INIT;

static void layout_make(rec_layout *l, void *blank, const model_record *r, const uint16_t *off)
{
    memset(l, 0, sizeof *l);
    for (size_t i = 0; i < r->n_fields; i++) {
        const model_field *f = &r->fields[i];
        const ProtobufCFieldDescriptor *fd = model_pb_field(r, f);
        rec_slot sl = {.off = off[i], .tag = fd && fd->id < REC_MAX_TAG ? fd->id : REC_MAX_TAG};
        switch (f->type) {
        case MODEL_T_BOOL:
            sl.kind = SLOT_BOOL;
            *(rec_bool *)((char *)blank + sl.off) = -1;
            break;
        case MODEL_T_DATE:
            sl.kind = SLOT_I64;
            break;
        default:
            sl.kind = SLOT_STR;
            if (f->flags & (MODEL_UNIQUE | MODEL_SORTABLE)) {
                sl.max = f->max_len;
                l->limited[l->n_limited++] = sl;
            }
            break;
        }
        if (fd && fd->id < REC_MAX_TAG)
            l->by_tag[fd->id] = sl;
    }
}

static void layouts_make(void)
{
    layout_make(&user_layout, &user_blank, &model_user, rec_user_off);
    layout_make(&tenant_layout, &tenant_blank, &model_tenant, rec_tenant_off);
}

/* Reads a varint at *p (< end) with a fast path for one byte, the usual
 * case of keys, lengths and booleans in these records. */
static inline bool wire_varint1(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    if (*p < end && **p < 0x80) {
        *out = *(*p)++;
        return true;
    }
    return wire_varint(p, end, out);
}

/* Decodes the fields of a record into the slots of `fields` (which holds
 * the blank values): the protobuf wire format walked once, each known
 * field number in `tags` (bit n: field number n) stored into its slot,
 * the others skipped. Zero-copy: strings point into the bytes. Returns
 * false on malformed wire data anywhere in the record or an over-long
 * indexed value among the fields stored. This is the hot path of every
 * list and scan: one table look-up per field, no calls. */
static inline bool decode(void *fields, const rec_layout *l, uint64_t tags, const void *bytes,
                          size_t len)
{
    const uint8_t *p = bytes, *end = p + len;
    while (p < end) {
        uint64_t key, v;
        if (!wire_varint1(&p, end, &key))
            return false;
        uint32_t tag = (uint32_t)(key >> 3);
        /* by_tag[0] is never a field (protobuf numbers start at 1): the
         * slot of every field that is skipped. */
        const rec_slot *sl = &l->by_tag[tag < REC_MAX_TAG && ((tags >> tag) & 1) ? tag : 0];
        char *at = (char *)fields + sl->off;
        switch (key & 7) {
        case 0:
            if (!wire_varint1(&p, end, &v))
                return false;
            if (sl->kind == SLOT_BOOL)
                *(rec_bool *)at = v != 0;
            else if (sl->kind == SLOT_I64)
                *(int64_t *)(void *)at = (int64_t)v;
            break;
        case 2:
            if (!wire_varint1(&p, end, &v) || v > (uint64_t)(end - p))
                return false;
            if (sl->kind == SLOT_STR) {
                rec_str *s = (rec_str *)(void *)at;
                s->p = (const char *)p;
                s->n = (uint32_t)v;
                s->set = true;
            }
            p += v;
            break;
        case 1:
            if (end - p < 8)
                return false;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return false;
            p += 4;
            break;
        default:
            return false;
        }
    }
    for (size_t i = 0; i < l->n_limited; i++)
        if (((tags >> l->limited[i].tag) & 1) &&
            ((const rec_str *)(const void *)((const char *)fields + l->limited[i].off))->n >
                l->limited[i].max)
            return false;
    return true;
}

/* Every field number a record can have. */
#define REC_ALL_TAGS (~(uint64_t)0)

/* Parses the fields of `tags` into *v in place (a scan's hot path: no
 * copy of the view); *v is meaningless when it fails. */
static inline int parse_into(user_view *v, uint64_t tags, const void *bytes, size_t len)
{
    pthread_once(&layout_once, layouts_make);
    v->f = user_blank;
    v->ids_parsed = v->has_tenant = false;
    memset(&v->id, 0, sizeof v->id);
    memset(&v->tenant, 0, sizeof v->tenant);
    if (!decode(&v->f, &user_layout, tags, bytes, len) || !v->f.id.set)
        return ROSTER_E_CORRUPT;
    return ROSTER_E_OK;
}

static int view_parse(user_view *out, uint64_t tags, const void *bytes, size_t len)
{
    user_view v;
    int err = parse_into(&v, tags, bytes, len);
    if (err == ROSTER_E_OK)
        *out = v;
    return err;
}

void user_reader_init(user_reader *r, uint64_t fields)
{
    uint64_t tags = 0;
    for (size_t i = 0; i < model_user.n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = model_pb_field(&model_user, &model_user.fields[i]);
        if (fd != NULL && fd->id < REC_MAX_TAG && (i == MODEL_USER_id || ((fields >> i) & 1)))
            tags |= (uint64_t)1 << fd->id;
    }
    r->tags = tags;
}

int user_view_parse_some(user_view *out, const user_reader *r, const void *bytes, size_t len)
{
    return parse_into(out, r->tags, bytes, len);
}

int user_view_ids(user_view *v)
{
    if (v->ids_parsed)
        return ROSTER_E_OK;
    if (roster_uuid_parse(&v->id, v->f.id.p, v->f.id.n) != ROSTER_E_OK)
        return ROSTER_E_CORRUPT;
    if (v->f.tenantId.set) {
        if (roster_uuid_parse(&v->tenant, v->f.tenantId.p, v->f.tenantId.n) != ROSTER_E_OK)
            return ROSTER_E_CORRUPT;
        v->has_tenant = true;
    }
    v->ids_parsed = true;
    return ROSTER_E_OK;
}

int user_view_parse_lazy(user_view *out, const void *bytes, size_t len)
{
    return view_parse(out, REC_ALL_TAGS, bytes, len);
}

int user_view_parse(user_view *out, const void *bytes, size_t len)
{
    user_view v;
    int err = view_parse(&v, REC_ALL_TAGS, bytes, len);
    if (err == ROSTER_E_OK)
        err = user_view_ids(&v);
    if (err == ROSTER_E_OK)
        *out = v;
    return err;
}

int tenant_view_parse(tenant_view *out, const void *bytes, size_t len)
{
    pthread_once(&layout_once, layouts_make);
    tenant_view v;
    v.f = tenant_blank;
    if (!decode(&v.f, &tenant_layout, REC_ALL_TAGS, bytes, len) || !v.f.id.set ||
        roster_uuid_parse(&v.id, v.f.id.p, v.f.id.n) != ROSTER_E_OK)
        return ROSTER_E_CORRUPT;
    *out = v;
    return ROSTER_E_OK;
}

uint8_t rec_active_flags(rec_bool active)
{
    if (active < 0)
        return FLAG_ACTIVE_NULL;
    return active ? 0 : FLAG_INACTIVE;
}

rec_bool rec_flags_active(uint8_t flags)
{
    if (flags & FLAG_ACTIVE_NULL)
        return -1;
    return (flags & FLAG_INACTIVE) ? 0 : 1;
}
