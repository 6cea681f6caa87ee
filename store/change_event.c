/* Change feed events apart from their storage (change_event.h).
 *
 * - What trimming, scoping and the scrub need (kind, id, tenants, time)
 *   is read off the wire by change_peek without unpacking.
 * - "Personal" fields are every user field the service does not set,
 *   except tenantId (MODEL_SERVER_SET in src/model/model.h): a scrubbed
 *   event keeps id, tenantId, createdAt and updatedAt, so a replica still
 *   orders it, and nothing a person gave. */
#include "change_event.h"

#include "fields.h"

#include "clock.h"

#include <string.h>

/* ------------------------------------------------------------ building */

/* Whether a model field's slots differ between two views. */
static bool slot_differs(model_type type, const void *a, const void *b)
{
    switch (type) {
    case MODEL_T_BOOL:
        return *(const rec_bool *)a != *(const rec_bool *)b;
    case MODEL_T_DATE:
        return *(const int64_t *)a != *(const int64_t *)b;
    default: {
        const rec_str *x = a, *y = b;
        return x->set != y->set || (x->set && (x->n != y->n || memcmp(x->p, y->p, x->n) != 0));
    }
    }
}

static bool slot_set(model_type type, const void *a)
{
    switch (type) {
    case MODEL_T_BOOL:
        return *(const rec_bool *)a >= 0;
    case MODEL_T_DATE:
        return true;
    default:
        return ((const rec_str *)a)->set;
    }
}

static void event_init(change_event *e)
{
    roster__v1__change__init(&e->ch);
    roster__v1__user__init(&e->user);
    roster__v1__tenant__init(&e->tenant);
    e->id[0] = e->tenant_id[0] = e->previous_tenant_id[0] = '\0';
    e->personal = NULL;
    e->ch.has_kind = 1;
}

void change_event_user(change_event *e, const user_view *old, const user_view *nv,
                       const Roster__V1__User *u)
{
    const store_fields *sf = store_fields_get();
    Roster__V1__Change *ch = &e->ch;
    event_init(e);
    e->personal = &nv->id;
    ch->id = u->id;
    if (nv->has_tenant) {
        roster_uuid_format(e->tenant_id, &nv->tenant);
        ch->tenant_id = e->tenant_id;
    }
    if (old == NULL) {
        ch->kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_CREATED;
        ch->user = (Roster__V1__User *)u;
        return;
    }
    uint64_t cleared = 0;
    e->user.id = u->id;
    for (size_t i = 0; i < model_user.n_fields; i++) {
        model_type type = model_user.fields[i].type;
        const void *a = rec_user_slot(old, (int)i), *b = rec_user_slot(nv, (int)i);
        const ProtobufCFieldDescriptor *fd = sf->user.fields[i];
        if (i == MODEL_USER_id || fd == NULL || !slot_differs(type, a, b))
            continue;
        if (slot_set(type, b))
            model_pb_copy(&e->user.base, fd, &u->base, fd);
        else if (fd->id < 64)
            cleared |= UINT64_C(1) << fd->id;
    }
    if (cleared) {
        ch->has_cleared = 1;
        ch->cleared = cleared;
    }
    ch->user = &e->user;
    rec_bool was = old->f.active, now = nv->f.active;
    if (was != 0 && now == 0)
        ch->kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_DEACTIVATED;
    else if (was == 0 && now != 0)
        ch->kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_REACTIVATED;
    else
        ch->kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_UPDATED;
    if (old->has_tenant && (!nv->has_tenant || !roster_uuid_eq(&old->tenant, &nv->tenant))) {
        roster_uuid_format(e->previous_tenant_id, &old->tenant);
        ch->previous_tenant_id = e->previous_tenant_id;
    }
}

int change_event_tenant(change_event *e, const void *old, size_t old_len,
                        const Roster__V1__Tenant *t, const void *bytes, size_t len)
{
    const store_fields *sf = store_fields_get();
    Roster__V1__Change *ch = &e->ch;
    event_init(e);
    ch->id = t->id;
    ch->tenant_id = t->id;
    if (old == NULL) {
        ch->kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_TENANT_CREATED;
        ch->tenant = (Roster__V1__Tenant *)t;
        return ROSTER_E_OK;
    }
    tenant_view ov, nv;
    int err = tenant_view_parse(&ov, old, old_len);
    if (err == ROSTER_E_OK)
        err = tenant_view_parse(&nv, bytes, len);
    if (err != ROSTER_E_OK)
        return err;
    uint64_t cleared = 0;
    e->tenant.id = t->id;
    for (size_t i = 0; i < model_tenant.n_fields; i++) {
        model_type type = model_tenant.fields[i].type;
        const void *a = (const char *)&ov.f + rec_tenant_off[i];
        const void *b = (const char *)&nv.f + rec_tenant_off[i];
        const ProtobufCFieldDescriptor *fd = sf->tenant.fields[i];
        if (i == MODEL_TENANT_id || fd == NULL || !slot_differs(type, a, b))
            continue;
        if (slot_set(type, b))
            model_pb_copy(&e->tenant.base, fd, &t->base, fd);
        else if (fd->id < 64)
            cleared |= UINT64_C(1) << fd->id;
    }
    if (cleared) {
        ch->has_cleared = 1;
        ch->cleared = cleared;
    }
    ch->kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_TENANT_UPDATED;
    ch->tenant = &e->tenant;
    return ROSTER_E_OK;
}

void change_event_user_deleted(change_event *e, const roster_uuid *id, const roster_uuid *tenant)
{
    event_init(e);
    roster_uuid_format(e->id, id);
    e->ch.kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_DELETED;
    e->ch.id = e->id;
    if (tenant != NULL) {
        roster_uuid_format(e->tenant_id, tenant);
        e->ch.tenant_id = e->tenant_id;
    }
}

void change_event_tenant_deleted(change_event *e, const roster_uuid *id)
{
    event_init(e);
    roster_uuid_format(e->id, id);
    e->ch.kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_TENANT_DELETED;
    e->ch.id = e->id;
    e->ch.tenant_id = e->id;
}

void change_event_stamp(change_event *e, uint64_t seq, int64_t at_ms)
{
    e->ch.has_seq = 1;
    e->ch.seq = seq;
    e->ch.has_committed_at = 1;
    e->ch.committed_at = at_ms;
}

/* ------------------------------------------------------------ reading */

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
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

int change_peek(change_head *h, const void *bytes, size_t len)
{
    const uint8_t *p = bytes, *end = p + len;
    memset(h, 0, sizeof *h);
    while (p < end) {
        uint64_t key, v;
        if (!varint(&p, end, &key))
            return ROSTER_E_CORRUPT;
        unsigned wt = (unsigned)(key & 7), num = (unsigned)(key >> 3);
        if (wt == 0) {
            if (!varint(&p, end, &v))
                return ROSTER_E_CORRUPT;
            if (num == 1)
                h->seq = v;
            else if (num == 2)
                h->kind = (int)v;
            else if (num == 5)
                h->at = (int64_t)v;
            else if (num == 10)
                h->scrubbed = v != 0;
        } else if (wt == 2) {
            if (!varint(&p, end, &v) || v > (uint64_t)(end - p))
                return ROSTER_E_CORRUPT;
            const char *s = (const char *)p;
            if (num == 3)
                h->id = s, h->id_n = (size_t)v;
            else if (num == 4)
                h->tenant = s, h->tenant_n = (size_t)v;
            else if (num == 9)
                h->prev = s, h->prev_n = (size_t)v;
            p += v;
        } else if (wt == 1 || wt == 5) {
            size_t n = wt == 1 ? 8 : 4;
            if ((size_t)(end - p) < n)
                return ROSTER_E_CORRUPT;
            p += n;
        } else {
            return ROSTER_E_CORRUPT;
        }
    }
    return ROSTER_E_OK;
}

bool change_is_user_kind(int kind)
{
    return kind >= ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_CREATED &&
           kind <= ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_DELETED;
}

int change_scrub(Roster__V1__Change **out, const void *bytes, size_t len, roster_arena *arena)
{
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, arena);
    Roster__V1__Change *ch = roster__v1__change__unpack(&alloc, len, bytes);
    if (ch == NULL)
        return ROSTER_E_CORRUPT;
    const store_fields *sf = store_fields_get();
    for (size_t i = 0; ch->user != NULL && i < model_user.n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = sf->user.fields[i];
        if (fd != NULL && !(model_user.fields[i].flags & MODEL_SERVER_SET) &&
            i != MODEL_USER_tenantId)
            model_pb_clear(&ch->user->base, fd);
    }
    ch->has_cleared = 0;
    ch->cleared = 0;
    ch->has_scrubbed = ch->scrubbed = 1;
    *out = ch;
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ retention */

int64_t change_age_cutoff(uint64_t keep_ms)
{
    if (keep_ms == STORE_CHANGES_UNLIMITED)
        return INT64_MIN;
    return roster_now_ms() - (int64_t)(keep_ms > INT64_MAX ? INT64_MAX : keep_ms);
}

bool change_trim_drops(uint64_t *floor, uint64_t latest, uint64_t keep_events, int64_t cutoff,
                       uint64_t seq, int64_t at)
{
    bool drop = seq <= *floor;
    if (!drop && keep_events != STORE_CHANGES_UNLIMITED)
        drop = latest - *floor > keep_events;
    if (!drop)
        drop = at < cutoff;
    if (drop && seq > *floor)
        *floor = seq;
    return drop;
}

/* ------------------------------------------------------------ pages */

int change_check_after(uint64_t after, uint64_t oldest, uint64_t latest, roster_err_detail *detail)
{
    if (after + 1 < oldest)
        return roster_fail(detail, ROSTER_E_OUT_OF_RANGE, "after",
                           "after %llu is older than the change feed keeps: the oldest retained "
                           "sequence is %llu; read the data afresh and resume from latest "
                           "sequence %llu",
                           (unsigned long long)after, (unsigned long long)oldest,
                           (unsigned long long)latest);
    if (after > latest)
        return roster_fail(detail, ROSTER_E_OUT_OF_RANGE, "after",
                           "after %llu is past the latest sequence %llu of this store",
                           (unsigned long long)after, (unsigned long long)latest);
    return ROSTER_E_OK;
}

static bool text_is(const char *p, size_t n, const char *want)
{
    return p != NULL && n == ROSTER_UUID_TEXT_LEN && memcmp(p, want, n) == 0;
}

/* The event reduced to what a caller of the tenant a user left may see:
 * kind, id and both tenants. Packed into `arena`. */
static int reduced(store_slice *out, const change_head *h, roster_arena *arena)
{
    Roster__V1__Change ch = ROSTER__V1__CHANGE__INIT;
    char id[ROSTER_UUID_TEXT_LEN + 1] = "", tenant[ROSTER_UUID_TEXT_LEN + 1] = "",
                                   prev[ROSTER_UUID_TEXT_LEN + 1] = "";
    if (h->id_n > ROSTER_UUID_TEXT_LEN || h->tenant_n > ROSTER_UUID_TEXT_LEN ||
        h->prev_n > ROSTER_UUID_TEXT_LEN)
        return ROSTER_E_CORRUPT;
    ch.has_seq = ch.has_kind = ch.has_committed_at = 1;
    ch.seq = h->seq;
    ch.kind = (Roster__V1__ChangeKind)h->kind;
    ch.committed_at = h->at;
    memcpy(id, h->id, h->id_n);
    ch.id = id;
    if (h->tenant != NULL) {
        memcpy(tenant, h->tenant, h->tenant_n);
        ch.tenant_id = tenant;
    }
    memcpy(prev, h->prev, h->prev_n);
    ch.previous_tenant_id = prev;
    size_t len = protobuf_c_message_get_packed_size(&ch.base);
    uint8_t *b = roster_arena_alloc(arena, len ? len : 1);
    if (b == NULL)
        return ROSTER_E_NOMEM;
    protobuf_c_message_pack(&ch.base, b);
    out->data = b;
    out->len = len;
    return ROSTER_E_OK;
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

int change_pager_init(change_pager *pg, const roster_uuid *scope, uint64_t after, uint32_t limit,
                      size_t max_bytes, roster_arena *arena)
{
    memset(pg, 0, sizeof *pg);
    if (limit > STORE_CHANGES_PAGE_MAX)
        limit = STORE_CHANGES_PAGE_MAX;
    pg->items = roster_arena_alloc(arena, (limit ? limit : 1) * sizeof *pg->items);
    if (pg->items == NULL)
        return ROSTER_E_NOMEM;
    pg->scope = scope;
    if (scope != NULL)
        roster_uuid_format(pg->scope_text, scope);
    pg->limit = limit;
    pg->max_bytes = max_bytes;
    pg->arena = arena;
    pg->next = after;
    return ROSTER_E_OK;
}

bool change_pager_full(const change_pager *pg)
{
    return pg->n == pg->limit || pg->examined == STORE_CHANGES_SCAN_MAX;
}

int change_pager_offer(change_pager *pg, uint64_t seq, const void *bytes, size_t len, bool *stop)
{
    *stop = false;
    pg->examined++;
    store_slice item = {bytes, len};
    bool take = true;
    if (pg->scope != NULL) {
        change_head h;
        int err = change_peek(&h, bytes, len);
        if (err != ROSTER_E_OK)
            return err;
        if (text_is(h.tenant, h.tenant_n, pg->scope_text))
            take = true;
        else if (text_is(h.prev, h.prev_n, pg->scope_text))
            err = reduced(&item, &h, pg->arena);
        else
            take = false;
        if (err != ROSTER_E_OK)
            return err;
    }
    if (take) {
        size_t cost = 1 + varint_len(item.len) + item.len;
        if (pg->max_bytes != 0 && pg->n > 0 && pg->bytes + cost > pg->max_bytes) {
            *stop = true;
            return ROSTER_E_OK;
        }
        pg->bytes += cost;
        pg->items[pg->n++] = item;
    }
    pg->next = seq;
    return ROSTER_E_OK;
}

void change_pager_cover(change_pager *pg, uint64_t seq)
{
    if (seq > pg->next)
        pg->next = seq;
}

void change_pager_finish(change_pager *pg, bool end, uint64_t oldest, uint64_t latest,
                         store_changes_page *out)
{
    /* Having walked to the end, everything up to latest is covered. */
    if (end && pg->limit > 0)
        pg->next = latest;
    out->oldest_seq = oldest;
    out->latest_seq = latest;
    out->next_after = pg->next;
    out->n = pg->n;
    out->items = pg->items;
}
