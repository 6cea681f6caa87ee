/* ListUsers: validation, plan choice and execution.
 *
 * The fields, their filters, sort indexes and search keys come from the
 * data model (fields.h): a condition is a model field's filter read from
 * its view slot, an order is a model field and its sort index.
 *
 * Plans, in the order they are tried, and why each:
 *  - candidates: an id equalTo/valueIn or the equalTo of a unique field
 *    (reference, email; through its unique index, across tenants by key
 *    prefix) names a few users. Nothing is cheaper than reading just
 *    those, so every other condition, the order and the page are applied
 *    to them in memory (a top-k).
 *  - index walk: the index whose key order is the requested order (the
 *    field's sort index; for createdAt the records themselves, which are
 *    in id order, or idx_tenant), restricted to one tenant's part of the
 *    keys when the query names one tenant. Walking in order lets the walk
 *    stop as soon as the page is full, when totalCount needs no count:
 *    that is when only the tenant and the deactivated rule apply, whose
 *    totals the counters hold, so a page at offset n costs n + limit
 *    entry steps whatever the store's size. An equalTo (or equalTo: null)
 *    on active or on a sortable text field with the default order (or
 *    ordered by that field) walks only that value's range of the field's
 *    index, whose entries are in id (createdAt) order: the walk visits
 *    only users that match. Conditions an entry answers (id from the key,
 *    active and the deactivated rule from its flags byte) are checked
 *    without reading the record; others read it.
 *  - scan: record conditions, no single tenant and an order other than
 *    createdAt. No index gives both the order and the conditions, and the
 *    per-field index would visit every user anyway, in random record
 *    order; reading the records in key order once and keeping the best
 *    offset + limit in a heap is the cheaper way to visit everyone. This
 *    is the unindexed case the benchmark measures.
 *
 * Cursors (after, cursor.h): a cursor holds the order key (sort value and
 * id) of the record a page ended with. An index walk whose total comes
 * from the counters seeks its index to that key and stops one match past
 * the page (has_next_page), so a page after a cursor costs what the first
 * page costs however deep it is. A walk that counts its total visits its
 * whole range anyway: the matches up to the cursor are only counted, and
 * the page is collected after it. The top-k plans keep only records after
 * the cursor, so the heap holds limit records instead of offset + limit.
 */
#include "cursor.h"
#include "custom_index.h"
#include "ewalk.h"
#include "query_internal.h"
#include "filter.h"
#include "keys.h"
#include "record.h"
#include "store_internal.h"
#include "text.h"

#include "clock.h"
#include "roster_limits.h"

#include <stdatomic.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The customData path req orders by, or NULL. */
static const char *custom_order_path(const Roster__V1__ListUsersRequest *req)
{
    return req->order && req->order->custom_data && req->order->custom_data[0]
               ? req->order->custom_data
               : NULL;
}

/* The query's fingerprint (cursor.h), computed once. */
uint64_t query_shape(uquery *q)
{
    if (!q->has_shape) {
        const Roster__V1__ListUsersRequest *r = q->req;
        q->shape =
            cursor_shape('u', q->scope, q->sort, q->desc, r->filter ? &r->filter->base : NULL,
                         r->search ? &r->search->base : NULL);
        /* An order by a customData path: the path is part of the shape. */
        const char *path = custom_order_path(r);
        for (const char *c = path; c != NULL && *c; c++)
            q->shape = (q->shape ^ (uint8_t)*c) * 1099511628211ull;
        if (path != NULL)
            q->shape ^= q->shape >> 29;
        q->has_shape = true;
    }
    return q->shape;
}

/* Counts one step of a walk or scan; every STORE_CHECK_EVERY steps checks
 * the deadline and the stop time. */
static int query_step(uquery *q)
{
    return store_limits_step(&q->steps, q->deadline_ns, q->stop_ns);
}

static const Roster__V1__UserFilter empty_filter = ROSTER__V1__USER_FILTER__INIT;

static bool id_is_simple_eq(const id_cond *c)
{
    return c->active && c->has_eq && !c->has_neq && !c->has_in && !c->n_not_in && !c->is_null &&
           !c->not_null;
}

static bool id_is_simple_null(const id_cond *c)
{
    return c->active && c->is_null && !c->has_eq && !c->has_neq && !c->has_in && !c->n_not_in &&
           !c->not_null;
}

/* Whether sf is exactly {equalTo: v} or {equalTo: null}. */
static bool str_simple_eq(const Roster__V1__StringFilter *sf)
{
    if (sf == NULL || sf->not_equal_to || sf->like || sf->i_like || sf->value_in ||
        sf->value_not_in || sf->has_not_equal_to_null)
        return false;
    bool is_null = sf->has_equal_to_null && sf->equal_to_null;
    return (sf->equal_to != NULL) != is_null && !(sf->has_equal_to_null && !is_null);
}

/* Picks the equality plan when one applies (see uquery.range_field).
 * `active` is a boolean index, whose value encodings are written here;
 * the text candidates are the fields with a StringFilter and a sort index,
 * first in model order, except unique fields, whose equalTo is served by
 * the candidates plan (and is never null). */
static void choose_range(uquery *q)
{
    const store_fields *sf = store_fields_get();
    const Roster__V1__UserFilter *f = q->f;
    q->range_field = -1;
    const Roster__V1__BoolFilter *a = f->active;
    if (a && (q->sort == MODEL_USER_createdAt || q->sort == MODEL_USER_active) &&
        !a->has_not_equal_to && !a->has_not_equal_to_null &&
        (a->has_equal_to != (a->has_equal_to_null && a->equal_to_null)) &&
        !(a->has_equal_to_null && !a->equal_to_null)) {
        q->range_field = MODEL_USER_active;
        q->range_val[0] = a->has_equal_to ? (a->equal_to ? 0x02 : 0x01) : 0x03;
        q->range_len = 1;
        return;
    }
    for (size_t i = 0; i < q->n_conds; i++) {
        const field_cond *c = &q->conds[i];
        const Roster__V1__StringFilter *sfl = c->f;
        if (c->kind != MODEL_FILTER_STRING || sf->sort_slot[c->field] < 0 ||
            (model_user.fields[c->field].flags & MODEL_UNIQUE) || !str_simple_eq(sfl) ||
            (q->sort != MODEL_USER_createdAt && q->sort != c->field))
            continue;
        rec_str v = {NULL, 0, false};
        if (sfl->equal_to) {
            size_t n = strlen(sfl->equal_to);
            if (n + 2 > KEY_MAX - 33) {
                q->empty = true; /* longer than any stored value */
                return;
            }
            v.p = sfl->equal_to;
            v.n = (uint32_t)n;
            v.set = true;
        }
        q->range_field = c->field;
        q->range_len = key_str(q->range_val, v);
        return;
    }
}

int query_prepare(uquery *q, const roster_uuid *scope, const Roster__V1__ListUsersRequest *req,
                  roster_arena *arena, roster_err_detail *detail)
{
    memset(q, 0, sizeof *q);
    q->req = req;
    q->scope = scope;
    q->f = req->filter ? req->filter : &empty_filter;
    const Roster__V1__UserFilter *f = q->f;
    int err;
    int32_t limit = req->has_limit ? req->limit : ROSTER_DEFAULT_PAGE;
    if (limit < 0 || limit > ROSTER_MAX_PAGE)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "limit",
                           "limit must be between 0 and %d, got %d", ROSTER_MAX_PAGE, limit);
    int32_t offset = req->has_offset ? req->offset : 0;
    if (offset < 0)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "offset",
                           "offset must not be negative, got %d", offset);
    q->limit = (size_t)limit;
    q->offset = (size_t)offset;

    const store_fields *sf = store_fields_get();
    q->sort = MODEL_USER_createdAt;
    q->desc = true;
    if (req->order) {
        if (req->order->has_sort) {
            int v = (int)req->order->sort;
            int fi = v == ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_UNSPECIFIED
                         ? MODEL_USER_createdAt
                         : store_fields_enum(sf->user_sort, v);
            if (fi < 0)
                return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "order.sort",
                                   "order.sort %d is not a user sort field", v);
            q->sort = fi;
        }
        if (req->order->has_order) {
            if (req->order->order == ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC)
                q->desc = false;
            else if (req->order->order != ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC &&
                     req->order->order != ROSTER__V1__SORT_ORDER__SORT_ORDER_UNSPECIFIED)
                return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "order.order",
                                   "order.order %d is not ASC or DESC", (int)req->order->order);
        }
    }

    q->search_field = -1;
    if (req->search) {
        int k = req->search->has_key ? (int)req->search->key : 0;
        int fi = store_fields_enum(sf->user_search, k);
        if (fi < 0)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "search.key", "%s",
                               sf->search_key_message);
        if (req->search->value == NULL)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "search.value",
                               "search.value is required");
        size_t n = strlen(req->search->value);
        if (n > ROSTER_MAX_PATTERN)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "search.value",
                               "search.value is %zu bytes; at most %d are allowed", n,
                               ROSTER_MAX_PATTERN);
        if ((q->search = roster_arena_alloc(arena, sizeof *q->search)) == NULL)
            return ROSTER_E_NOMEM;
        text_pattern_compile_search(q->search, req->search->value, n);
        q->search_field = fi;
    }

    if ((err = filter_id_parse(&q->id, f->id, "filter.id", arena, detail)) != ROSTER_E_OK ||
        (err = filter_id_parse(&q->tenant, f->tenant_id, "filter.tenantId", arena, detail)) !=
            ROSTER_E_OK)
        return err;
    /* Every field's filter: StringFilters checked (in model order), and
     * the filters only the record answers collected as conditions. The
     * id and tenantId filters were parsed above; they are answered by
     * index entries and keys. */
    q->cand_uniq = -1;
    for (size_t i = 0; i < model_user.n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = sf->user_filter.fields[i];
        model_filter kind = model_user.fields[i].filter;
        if (fd == NULL || kind == MODEL_FILTER_NONE || kind == MODEL_FILTER_ID)
            continue;
        const void *cf = model_pb_ptr(&f->base, fd);
        str_cond sc;
        memset(&sc, 0, sizeof sc);
        if (kind == MODEL_FILTER_STRING &&
            (err = filter_str_compile(&sc, cf, sf->filter_name[i],
                                      model_user.fields[i].flags & MODEL_FOLD_CASE, arena,
                                      detail)) != ROSTER_E_OK)
            return err;
        if (cf == NULL)
            continue;
        q->conds[q->n_conds++] = (field_cond){(int)i, kind, rec_user_off[i], cf, sc};
    }
    for (int u = 0; u < UNIQ__COUNT && q->cand_uniq < 0; u++) {
        const Roster__V1__StringFilter *uf =
            model_pb_ptr(&f->base, sf->user_filter.fields[sf->uniq_field[u]]);
        if (uf && uf->equal_to)
            q->cand_uniq = u;
    }

    q->hide_inactive =
        f->active == NULL && !(f->with_deactivated && f->with_deactivated->has_equal_to &&
                               f->with_deactivated->equal_to);

    /* Tenant plan. */
    if (id_is_simple_eq(&q->tenant)) {
        q->one_tenant = true;
        q->tenant_key = q->tenant.eq;
        q->tenant_covered = true;
        if (scope && !roster_uuid_eq(scope, &q->tenant.eq))
            q->empty = true;
    } else if (id_is_simple_null(&q->tenant)) {
        q->one_tenant = true; /* the all-zero scope: users without a tenant */
        q->tenant_covered = true;
        if (scope)
            q->empty = true;
    } else if (scope) {
        q->one_tenant = true;
        q->tenant_key = *scope;
        q->tenant_covered = !q->tenant.active;
    } else {
        q->tenant_covered = !q->tenant.active;
    }
    choose_range(q);
    /* Index entries answer active (their flags) and the range walked;
     * every other condition reads the record. */
    q->need_record = !q->tenant_covered || q->search_field >= 0;
    for (size_t i = 0; i < q->n_conds; i++)
        if (q->conds[i].field != MODEL_USER_active && q->conds[i].field != q->range_field)
            q->need_record = true;
    q->entry_conds = q->id.active || f->active || q->hide_inactive;
    if (req->after) {
        int type = custom_order_path(req)            ? CURSOR_VALUE_ANY
                   : q->sort == MODEL_USER_createdAt ? -1
                                                     : (int)model_user.fields[q->sort].type;
        if ((err = cursor_decode(q->after, &q->after_len, req->after, offset, query_shape(q), type,
                                 detail)) != ROSTER_E_OK)
            return err;
        q->has_after = true;
    }
    return ROSTER_E_OK;
}

/* Sets q->rd to the fields match_record reads: the id and tenant when an
 * id, scope or tenant condition applies, active for the deactivated rule,
 * the conditions' and the search's fields, and customData for customData
 * conditions and orders. */
void query_reader(uquery *q)
{
    uint64_t fields = 0;
    if (q->id.active || q->scope || q->tenant.active)
        fields |= (uint64_t)1 << MODEL_USER_tenantId;
    if (q->hide_inactive)
        fields |= (uint64_t)1 << MODEL_USER_active;
    for (size_t i = 0; i < q->n_conds; i++)
        fields |= (uint64_t)1 << q->conds[i].field;
    if (q->search_field >= 0)
        fields |= (uint64_t)1 << q->search_field;
    if (q->cq != NULL)
        fields |= (uint64_t)1 << MODEL_USER_customData;
    user_reader_init(&q->rd, fields);
}

static bool match_entry(const uquery *q, const roster_uuid *id, rec_bool active)
{
    if (!filter_id_match(&q->id, id, true))
        return false;
    if (q->hide_inactive && active == 0)
        return false;
    return filter_bool_match(q->f->active, active);
}

static bool match_record(const uquery *q, user_view *v)
{
    if ((q->id.active || q->scope || q->tenant.active) && user_view_ids(v) != ROSTER_E_OK)
        return false;
    if (q->id.active && !filter_id_match(&q->id, &v->id, true))
        return false;
    if (q->hide_inactive && v->f.active == 0)
        return false;
    if (q->scope && (!v->has_tenant || !roster_uuid_eq(&v->tenant, q->scope)))
        return false;
    if (!filter_id_match(&q->tenant, &v->tenant, v->has_tenant))
        return false;
    for (size_t i = 0; i < q->n_conds; i++) {
        const field_cond *c = &q->conds[i];
        const void *slot = (const char *)&v->f + c->off;
        bool ok;
        switch (c->kind) {
        case MODEL_FILTER_STRING:
            ok = filter_str_cond_match(&c->s, *(const rec_str *)slot);
            break;
        case MODEL_FILTER_BOOL:
            ok = filter_bool_match(c->f, *(const rec_bool *)slot);
            break;
        default:
            ok = filter_date_match(c->f, *(const int64_t *)slot);
            break;
        }
        if (!ok)
            return false;
    }
    if (q->search_field >= 0) {
        const rec_str *s = rec_user_slot(v, q->search_field);
        if (!s->set || !text_pattern_match(q->search, s->p, s->n))
            return false;
    }
    return q->cq == NULL || custom_query_match(q->cq, v);
}

/* Whether the record bytes[0..len) matches q: its fields parsed with q->rd
 * alone, and with `whole`, when it matches, the whole record into *v (for
 * an order key, which may be any field). ROSTER_E_CORRUPT for a damaged
 * record. */
int query_match_bytes(bool *match, user_view *v, const uquery *q, bool whole, const void *bytes,
                      size_t len)
{
    int err = user_view_parse_some(v, &q->rd, bytes, len);
    if (err != ROSTER_E_OK)
        return err;
    *match = match_record(q, v);
    if (*match && whole)
        err = user_view_parse_lazy(v, bytes, len);
    return err;
}

/* ------------------------------------------------------------ page builder */

typedef struct page_acc {
    const uquery *q;
    int64_t total;  /* matches counted so far */
    int64_t before; /* of those, matches up to the cursor (not in the page) */
    bool more;      /* a match after the page was seen: has_next_page */
    size_t n;
    store_slice *items; /* q->limit entries, arena */
    roster_uuid *ids;   /* id of each item whose bytes are fetched later */
} page_acc;

/* Counts one match in walk order after the cursor (if any); keeps it when
 * inside the page, and notes a match past the page in a->more. */
static void acc_add(page_acc *a, const roster_uuid *id, const void *bytes, size_t len)
{
    uint64_t pos = (uint64_t)(a->total++ - a->before);
    if (pos < a->q->offset)
        return;
    if (a->n < a->q->limit) {
        a->items[a->n].data = bytes;
        a->items[a->n].len = len;
        a->ids[a->n] = *id;
        a->n++;
    } else {
        a->more = true;
    }
}

/* Fills items whose bytes were not at hand during the walk. */
static int acc_fetch(page_acc *a, MDB_txn *txn, const store *s)
{
    for (size_t i = 0; i < a->n; i++) {
        if (a->items[i].data)
            continue;
        MDB_val k = {16, a->ids[i].b}, v;
        int rc = mdb_get(txn, s->users, &k, &v);
        if (rc != 0)
            return rc == MDB_NOTFOUND ? ROSTER_E_CORRUPT : store_mdb_err(rc);
        a->items[i].data = v.mv_data;
        a->items[i].len = v.mv_size;
    }
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ index walk */

/* A scan reads the records in key order, page after page of the map, and
 * each record would cost a cache miss of its own. When the scan reaches a
 * new page it asks the CPU for the first line of each of the
 * SCAN_PREFETCH_AHEAD pages that follow in walk direction: LMDB takes a
 * growing database's new leaf pages from the end of the file, so the
 * next leaf in key order is most often a few pages further on (2 to 16
 * for 82% of the leaves of storebench's store), and its header is then at
 * hand when the cursor moves there. The records themselves are
 * prefetched one by one (scan_ahead); asking for the whole page too, 64
 * lines at once, cost more than it saved. Hints only: a wrong guess
 * costs a wasted load, never a result. *last is the page last seen (0:
 * none yet). */
#define SCAN_PREFETCH_PAGE  4096
#define SCAN_PREFETCH_AHEAD 16
static inline void scan_prefetch(const void *rec, bool desc, uintptr_t *last)
{
    uintptr_t page = (uintptr_t)rec & ~(uintptr_t)(SCAN_PREFETCH_PAGE - 1);
    if (page == *last)
        return;
    *last = page;
    for (uintptr_t j = 1; j <= SCAN_PREFETCH_AHEAD; j++)
        __builtin_prefetch(
            (const void *)(desc ? page - j * SCAN_PREFETCH_PAGE : page + j * SCAN_PREFETCH_PAGE), 0,
            3);
}

/* A scan of the users database in key order (either way) reads its
 * records SCAN_AHEAD ahead of the one it matches: each record's lines are
 * prefetched when the cursor reaches it, so they arrive while the records
 * before it are matched (the matcher's first load of a record was the
 * scan's largest stall), and the pages ahead as above. LMDB fills a leaf
 * from its end down, so in ascending key order a page's nodes lie at
 * descending addresses, which the hardware's prefetcher (following
 * ascending streams) leaves alone, and the cursor's first load of each
 * next node stalled: an ascending scan also prefetches the SCAN_BELOW
 * bytes below the node it reached. The cursor's keys and values point
 * into the map and stay valid for the read transaction, so holding a few
 * is free. */
#define SCAN_AHEAD 4
#define SCAN_BELOW 512

typedef struct scan_ahead {
    MDB_cursor *c;
    bool desc;
    MDB_cursor_op op; /* the cursor's next move */
    int rc;           /* its last result: 0, or MDB_NOTFOUND at the end, or an error */
    MDB_val key[SCAN_AHEAD], val[SCAN_AHEAD];
    size_t head, n; /* the records read and not yet returned */
    uintptr_t last_page;
} scan_ahead;

static void scan_ahead_init(scan_ahead *a, MDB_cursor *c, bool desc)
{
    memset(a, 0, sizeof *a);
    a->c = c;
    a->desc = desc;
    a->op = desc ? MDB_LAST : MDB_FIRST;
}

/* The next record of the scan into *k, *v: 0, MDB_NOTFOUND past the
 * last, or the cursor's error. */
static int scan_ahead_next(scan_ahead *a, MDB_val *k, MDB_val *v)
{
    while (a->rc == 0 && a->n < SCAN_AHEAD) {
        size_t at = (a->head + a->n) % SCAN_AHEAD;
        if ((a->rc = mdb_cursor_get(a->c, &a->key[at], &a->val[at], a->op)) != 0)
            break;
        a->op = a->desc ? MDB_PREV : MDB_NEXT;
        a->n++;
        const MDB_val *r = &a->val[at];
        scan_prefetch(r->mv_data, a->desc, &a->last_page);
        uintptr_t line = (uintptr_t)r->mv_data & ~(uintptr_t)63,
                  end = (uintptr_t)r->mv_data + r->mv_size;
        for (; line < end; line += 64)
            __builtin_prefetch((const void *)line, 0, 3);
        if (!a->desc) { /* the nodes below, which the cursor reads next */
            uintptr_t node = (uintptr_t)a->key[at].mv_data;
            for (line = node - SCAN_BELOW; line < node; line += 64)
                __builtin_prefetch((const void *)line, 0, 3);
        }
    }
    if (a->n == 0)
        return a->rc;
    *k = a->key[a->head];
    *v = a->val[a->head];
    a->head = (a->head + 1) % SCAN_AHEAD;
    a->n--;
    return 0;
}

/* The walk of an index plan (see the top): which database, which key
 * ranges (one scope, or every scope merged, for the duplicate-sorted
 * indexes), and whether its entries are the records themselves. */
static int open_walk(ewalk *w, bool *records, uquery *q, MDB_txn *txn, const store *s)
{
    uint8_t part[KEY_MAX];
    size_t pn = 0;
    const store_fields *sf = store_fields_get();
    *records = false;
    if (q->cq && custom_query_order(q->cq, q->one_tenant, &q->tenant_key, part, &pn))
        return ewalk_open(w, txn, s->custom, EWALK_PLAIN, NULL, 0, part, pn, q->desc, s->cursors);
    MDB_dbi dbi;
    ewalk_layout layout = EWALK_DUP;
    if (q->range_field >= 0) {
        dbi = s->sort[sf->sort_slot[q->range_field]];
        if (sf->sort_vdata[sf->sort_slot[q->range_field]])
            layout = EWALK_VDATA;
        memcpy(part, q->range_val, q->range_len);
        pn = q->range_len;
    } else if (q->sort == MODEL_USER_createdAt) {
        if (!q->one_tenant) {
            *records = true;
            return ewalk_open(w, txn, s->users, EWALK_PLAIN, NULL, 0, NULL, 0, q->desc, s->cursors);
        }
        dbi = s->idx_tenant;
    } else {
        dbi = s->sort[sf->sort_slot[q->sort]];
        if (sf->sort_vdata[sf->sort_slot[q->sort]])
            layout = EWALK_VDATA;
    }
    if (q->one_tenant)
        return ewalk_open(w, txn, dbi, layout, (const uint8_t(*)[16])q->tenant_key.b, 1, part, pn,
                          q->desc, s->cursors);
    /* Every user in a field's order: its global order when one is built
     * (the same order keys, value then id, in one range). */
    const cdx_def *g = q->range_field < 0 ? custom_index_global_order(s, q->sort) : NULL;
    if (g != NULL && cdx_built(g, txn)) {
        uint8_t gp[2] = {g->id, 'g'};
        return ewalk_open(w, txn, s->custom, EWALK_PLAIN, NULL, 0, gp, 2, q->desc, s->cursors);
    }
    /* Every user: the merge of every scope's range. */
    uint8_t(*scopes)[16];
    size_t n;
    int rc = ewalk_scopes(txn, s->idx_tenant, &scopes, &n);
    if (rc == 0)
        rc = ewalk_open(w, txn, dbi, layout, (const uint8_t(*)[16])scopes, n, part, pn, q->desc,
                        s->cursors);
    if (q->range_field < 0)
        q->merged = n; /* an order a global order would serve */
    /* A planning hint, not the store's data: readers write it through
     * the const store they hold. */
    atomic_store_explicit(&((store *)s)->merge_scopes, n, memory_order_relaxed);
    free(scopes);
    return rc;
}

/* The walk of the records themselves in createdAt order (open_walk's
 * `records`) when their conditions need every record read (the total is
 * counted): walk_index's loop over a scan_ahead. Matches up to the cursor
 * are only counted. */
static int walk_records(uquery *q, MDB_txn *txn, const store *s, page_acc *a)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->users, &c), err = ROSTER_E_OK;
    if (rc != 0)
        return store_mdb_err(rc);
    bool before = q->has_after;
    scan_ahead sa;
    scan_ahead_init(&sa, c, q->desc);
    MDB_val k, v;
    while ((rc = scan_ahead_next(&sa, &k, &v)) == 0) {
        if ((err = query_step(q)) != ROSTER_E_OK)
            break;
        if (before && cursor_key_past(&k, q->after, q->after_len, q->desc)) {
            before = false;
            a->before = a->total;
        }
        user_view uv;
        bool m;
        if ((err = query_match_bytes(&m, &uv, q, false, v.mv_data, v.mv_size)) != ROSTER_E_OK)
            break;
        if (!m)
            continue;
        if (before) {
            a->total++;
            continue;
        }
        roster_uuid id;
        memcpy(id.b, (const uint8_t *)k.mv_data + k.mv_size - 16, 16);
        acc_add(a, &id, v.mv_data, v.mv_size);
    }
    mdb_cursor_close(c);
    if (err != ROSTER_E_OK)
        return err;
    if (rc != MDB_NOTFOUND)
        return store_mdb_err(rc);
    if (before) /* nothing came after the cursor */
        a->before = a->total;
    return ROSTER_E_OK;
}

static int walk_index(uquery *q, MDB_txn *txn, const store *s, page_acc *a)
{
    /* The total comes from counters when only tenant and the deactivated
     * rule apply: the store's, or for an order by a customData path with
     * no condition, its index's (custom_index_order_total). */
    const cdx_def *counted_order = NULL;
    if (q->cq != NULL && custom_query_conditions(q->cq) == 0) {
        bool indexed = false;
        const cdx_def *d = custom_query_order_def(q->cq, &indexed);
        if (d != NULL && indexed && d->counted)
            counted_order = d;
    }
    bool counted = !q->need_record && !q->id.active && q->f->active == NULL && q->range_field < 0 &&
                   (q->cq == NULL || counted_order != NULL);
    /* Sorting by active with deactivated users left out: their entries
     * (value 0x01) form one run that the walk skips or stops at. */
    bool skip_false = q->sort == MODEL_USER_active && q->hide_inactive && q->range_field < 0;
    int64_t counter_total = 0;
    if (counted && counted_order != NULL) {
        int err = custom_index_order_total(s, txn, counted_order, q->one_tenant, &q->tenant_key,
                                           q->hide_inactive, &counter_total);
        if (err != ROSTER_E_OK)
            return err;
    } else if (counted) {
        store_counter c;
        int err = store_counter_get(txn, s, &q->tenant_key, !q->one_tenant, &c);
        if (err != ROSTER_E_OK)
            return err;
        counter_total = (int64_t)(q->hide_inactive ? c.active : c.users);
    }
    if (counted) {
        if (!q->has_after && (q->limit == 0 || q->offset >= (uint64_t)counter_total)) {
            a->total = counter_total;
            a->more = q->offset < (uint64_t)counter_total;
            return ROSTER_E_OK;
        }
    }
    /* After a cursor: the order key of its record, with the range value
     * in front when the order (createdAt) leaves it out. */
    uint8_t seek[EWALK_ORD_MAX];
    size_t sn = 0;
    if (q->has_after) {
        if (q->range_field >= 0 && q->sort == MODEL_USER_createdAt) {
            memcpy(seek, q->range_val, q->range_len);
            sn = q->range_len;
        }
        memcpy(seek + sn, q->after, q->after_len);
        sn += q->after_len;
    }
    /* A counted walk seeks past the cursor; one that counts its total
     * walks from the start and only counts the matches up to it. */
    bool before = q->has_after && !counted;
    ewalk w;
    bool records;
    int rc = open_walk(&w, &records, q, txn, s);
    if (rc == 0 && records && !counted) {
        ewalk_close(&w);
        return walk_records(q, txn, s, a);
    }
    int err = ROSTER_E_OK;
    static const uint8_t not_false = 0x02; /* the first value that is not deactivated */
    MDB_val sv = {1, (void *)&not_false};
    if (rc != 0) {
        /* reported below */
    } else if (q->has_after && counted &&
               !(skip_false && !q->desc && cursor_key_past(&sv, seek, sn, false))) {
        rc = ewalk_seek_after(&w, seek, sn);
    } else if (skip_false && !q->desc) {
        rc = ewalk_seek_value(&w, &not_false, 1);
    } else {
        rc = ewalk_first(&w);
    }
    for (; rc == 0 && ewalk_valid(&w); rc = ewalk_next(&w)) {
        /* The deactivated run: in walk order nothing after it is wanted;
         * counting unordered, only this source's rest is left out. */
        while (skip_false && ewalk_valid(&w) && w.ord[0] == 0x01 && w.unordered)
            ewalk_drop_current(&w);
        if (!ewalk_valid(&w) || (skip_false && w.ord[0] == 0x01))
            break;
        if ((err = query_step(q)) != ROSTER_E_OK)
            break;
        MDB_val ok = {w.on, w.ord};
        if (before && cursor_key_past(&ok, seek, sn, q->desc)) {
            before = false;
            a->before = a->total;
        }
        roster_uuid id;
        memcpy(id.b, w.ord + w.on - 16, 16);
        const void *bytes = NULL;
        size_t len = 0;
        if (records) {
            user_view uv;
            bool m;
            if ((err = query_match_bytes(&m, &uv, q, false, w.data.mv_data, w.data.mv_size)) !=
                ROSTER_E_OK)
                break;
            if (!m)
                continue;
            bytes = w.data.mv_data;
            len = w.data.mv_size;
        } else {
            rec_bool act = rec_flags_active(ewalk_flags(&w));
            if (q->entry_conds && !match_entry(q, &id, act))
                continue;
            if (q->need_record) {
                MDB_val rk = {16, id.b}, rv;
                if ((rc = mdb_get(txn, s->users, &rk, &rv)) != 0)
                    break;
                user_view uv;
                bool m;
                if ((err = query_match_bytes(&m, &uv, q, false, rv.mv_data, rv.mv_size)) !=
                    ROSTER_E_OK)
                    break;
                if (!m)
                    continue;
                bytes = rv.mv_data;
                len = rv.mv_size;
            }
        }
        if (before) {
            a->total++;
            continue;
        }
        bool was_more = a->more;
        acc_add(a, &id, bytes, len);
        /* The counters know the total: stop at the first match past the
         * page, which says there is a next page. */
        if (counted && a->more)
            break;
        /* Past the page only the total is left to count, which needs no
         * order: the merge of several ranges stops sorting. */
        if (a->more && !was_more)
            ewalk_unordered(&w);
    }
    ewalk_close(&w);
    if (err != ROSTER_E_OK)
        return err;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_mdb_err(rc);
    if (before) /* nothing came after the cursor */
        a->before = a->total;
    if (counted)
        a->total = counter_total;
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ top-k */

int query_offer(const uquery *q, topk *t, int64_t *total, int64_t *past, const void *bytes,
                size_t len)
{
    user_view uv;
    bool m;
    int err = query_match_bytes(&m, &uv, q, true, bytes, len);
    if (err != ROSTER_E_OK || !m)
        return err;
    if ((err = user_view_ids(&uv)) != ROSTER_E_OK)
        return err;
    (*total)++;
    uint8_t key[CDX_KEY_MAX];
    size_t kl = q->cq ? custom_query_order_value(q->cq, &uv, key) : 0;
    if (kl == 0 && q->sort != MODEL_USER_createdAt)
        kl = key_sort_value(key, q->sort, &uv);
    memcpy(key + kl, uv.id.b, 16);
    MDB_val kv = {kl + 16, key};
    if (q->has_after && !cursor_key_past(&kv, q->after, q->after_len, q->desc))
        return ROSTER_E_OK;
    (*past)++;
    return topk_add(t, key, kl + 16, bytes, len);
}

static int cmp_uuid(const void *a, const void *b)
{
    return roster_uuid_cmp(a, b);
}

/* Candidate ids from a unique index: keys `value 0x00 scope`. */
static int unique_candidates(MDB_txn *txn, MDB_dbi dbi, const char *value, bool fold,
                             roster_uuid **ids, size_t *n, size_t *cap)
{
    size_t vn = strlen(value);
    if (vn + 1 > KEY_MAX - 16)
        return ROSTER_E_OK; /* longer than any stored value */
    uint8_t p[KEY_MAX];
    if (fold)
        vn = text_fold_key(p, KEY_FOLD_CAP, value, vn);
    else
        memcpy(p, value, vn);
    p[vn] = 0;
    size_t pn = vn + 1;
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, dbi, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k = {pn, p}, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != pn + 16 || memcmp(k.mv_data, p, pn) != 0)
            break;
        if (v.mv_size != 16)
            continue;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            roster_uuid *x = realloc(*ids, nc * sizeof *x);
            if (x == NULL) {
                mdb_cursor_close(c);
                return ROSTER_E_NOMEM;
            }
            *ids = x;
            *cap = nc;
        }
        memcpy((*ids)[(*n)++].b, v.mv_data, 16);
    }
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? ROSTER_E_OK : store_mdb_err(rc);
}

static int run_topk(uquery *q, MDB_txn *txn, const store *s, bool candidates, page_acc *a)
{
    topk t = {.desc = q->desc, .k = q->offset + q->limit};
    roster_uuid *ids = NULL;
    size_t n_ids = 0, cap = 0;
    int err = ROSTER_E_OK, rc;
    int64_t total = 0, past = 0;
    if (candidates) {
        const Roster__V1__UserFilter *f = q->f;
        if (q->cand_custom) {
            ids = q->cand_ids;
            n_ids = q->n_cand_ids;
            q->cand_ids = NULL;
        } else if (q->id.has_eq) {
            ids = malloc(sizeof *ids);
            if (ids == NULL) {
                err = ROSTER_E_NOMEM;
                goto out;
            }
            ids[0] = q->id.eq;
            n_ids = 1;
        } else if (q->id.has_in) {
            ids = malloc((q->id.n_in ? q->id.n_in : 1) * sizeof *ids);
            if (ids == NULL) {
                err = ROSTER_E_NOMEM;
                goto out;
            }
            memcpy(ids, q->id.in, q->id.n_in * sizeof *ids);
            n_ids = q->id.n_in;
        } else {
            int fi = store_fields_get()->uniq_field[q->cand_uniq];
            const Roster__V1__StringFilter *uf =
                model_pb_ptr(&f->base, store_fields_get()->user_filter.fields[fi]);
            err = unique_candidates(txn, s->uniq[q->cand_uniq], uf->equal_to,
                                    model_user.fields[fi].flags & MODEL_FOLD_CASE, &ids, &n_ids,
                                    &cap);
        }
        if (err != ROSTER_E_OK)
            goto out;
        if (n_ids > 1)
            qsort(ids, n_ids, sizeof *ids, cmp_uuid);
        for (size_t i = 0; i < n_ids; i++) {
            if (i > 0 && roster_uuid_eq(&ids[i], &ids[i - 1]))
                continue;
            MDB_val k = {16, ids[i].b}, v;
            rc = mdb_get(txn, s->users, &k, &v);
            if (rc == MDB_NOTFOUND)
                continue;
            if (rc != 0) {
                err = store_mdb_err(rc);
                goto out;
            }
            if ((err = query_offer(q, &t, &total, &past, v.mv_data, v.mv_size)) != ROSTER_E_OK)
                goto out;
        }
    } else {
        MDB_cursor *c;
        if ((rc = mdb_cursor_open(txn, s->users, &c)) != 0) {
            err = store_mdb_err(rc);
            goto out;
        }
        MDB_val k, v;
        scan_ahead sa;
        scan_ahead_init(&sa, c, false);
        while ((rc = scan_ahead_next(&sa, &k, &v)) == 0)
            if ((err = query_step(q)) != ROSTER_E_OK ||
                (err = query_offer(q, &t, &total, &past, v.mv_data, v.mv_size)) != ROSTER_E_OK)
                break;
        mdb_cursor_close(c);
        if (err == ROSTER_E_OK && rc != MDB_NOTFOUND)
            err = store_mdb_err(rc);
        if (err != ROSTER_E_OK)
            goto out;
    }
    topk_sort(&t);
    for (size_t i = q->offset; i < t.n && a->n < q->limit; i++) {
        a->items[a->n].data = t.h[i].bytes;
        a->items[a->n].len = t.h[i].len;
        a->n++;
    }
    a->total = total;
    a->more = (uint64_t)past > q->offset + a->n;
out:
    free(ids);
    free(q->cand_flags);
    q->cand_flags = NULL;
    topk_free(&t);
    return err;
}

/* <0 when id a comes before b in the requested order. */
static int id_order(bool desc, const roster_uuid *a, const roster_uuid *b)
{
    int c = roster_uuid_cmp(a, b);
    return desc ? -c : c;
}

/* Puts x at hole j of the heap ids[0..n) (root: the last in the
 * requested order), moving later children up. */
static void ids_sift_down(roster_uuid *ids, size_t n, size_t j, roster_uuid x, bool desc)
{
    for (;;) {
        size_t l = 2 * j + 1, r = l + 1, w = j;
        const roster_uuid *wv = &x;
        if (l < n && id_order(desc, &ids[l], wv) > 0)
            w = l, wv = &ids[l];
        if (r < n && id_order(desc, &ids[r], wv) > 0)
            w = r, wv = &ids[r];
        if (w == j)
            break;
        ids[j] = ids[w];
        j = w;
    }
    ids[j] = x;
}

/* Moves the k first of ids[m] in the requested order to ids[0..k), in
 * order: a heap of k whose root is the last kept, O(m log k). */
static void ids_first_k(roster_uuid *ids, size_t m, size_t k, bool desc)
{
    for (size_t i = 0; i < m; i++) {
        roster_uuid x = ids[i];
        if (i < k) {
            size_t j = i; /* sift up */
            while (j > 0 && id_order(desc, &x, &ids[(j - 1) / 2]) > 0) {
                ids[j] = ids[(j - 1) / 2];
                j = (j - 1) / 2;
            }
            ids[j] = x;
        } else if (k > 0 && id_order(desc, &x, &ids[0]) < 0) {
            ids_sift_down(ids, k, 0, x, desc); /* replaces the root */
        }
    }
    /* heap sort of the k kept */
    for (size_t n = k < m ? k : m; n > 1; n--) {
        roster_uuid top = ids[0];
        ids_sift_down(ids, n - 1, 0, ids[n - 1], desc);
        ids[n - 1] = top;
    }
}

/* The ids plan: candidates whose index entries answer every condition
 * (cand_entries), each user once, in id (createdAt) order when one value
 * drives (cand_sorted); the total is their number, the page the first
 * offset + limit of those after the cursor (whose order key is an id; a
 * bounded heap when they are not in order), has_next_page whether more
 * follow, and only the page's records are read (acc_fetch). Frees the
 * candidates. */
static void run_ids(uquery *q, page_acc *a)
{
    roster_uuid *ids = q->cand_ids;
    size_t m = 0;
    for (size_t i = 0; i < q->n_cand_ids; i++)
        if (!q->entry_conds || match_entry(q, &ids[i], rec_flags_active(q->cand_flags[i])))
            ids[m++] = ids[i];
    a->total = (int64_t)m;
    if (q->has_after) {
        roster_uuid at;
        memcpy(at.b, q->after + q->after_len - 16, 16);
        size_t past = 0;
        for (size_t i = 0; i < m; i++)
            if (id_order(q->desc, &ids[i], &at) > 0)
                ids[past++] = ids[i];
        m = past;
    }
    size_t k = q->offset + q->limit < m ? q->offset + q->limit : m;
    if (q->cand_sorted && q->desc)
        for (size_t i = 0; i < m / 2; i++) {
            roster_uuid t = ids[i];
            ids[i] = ids[m - 1 - i];
            ids[m - 1 - i] = t;
        }
    else if (!q->cand_sorted)
        ids_first_k(ids, m, k, q->desc);
    for (size_t i = q->offset; i < k; i++) {
        a->items[a->n].data = NULL;
        a->items[a->n].len = 0;
        a->ids[a->n++] = ids[i];
    }
    a->more = m > q->offset + a->n;
    free(q->cand_ids);
    free(q->cand_flags);
    q->cand_ids = NULL;
    q->cand_flags = NULL;
}

/* The candidates plan: a few users named by id or a unique value. */
bool query_candidates(const uquery *q)
{
    return q->id.has_eq || q->id.has_in || q->cand_uniq >= 0;
}

/* The scan plan: every user record read into a top-k. */
static bool query_scans(const uquery *q)
{
    return q->need_record && !q->one_tenant && q->sort != MODEL_USER_createdAt;
}

/* Adds the customData conditions and order of req to q (custom_query.c):
 * they are checked on every record, an order by a customData path walks
 * its index (or, while that index is building, is a scan), and otherwise
 * the most selective indexed condition names the candidates (candidates
 * plan). */
static int query_custom(uquery *q, store_rtxn *r, const Roster__V1__ListUsersRequest *req,
                        roster_arena *arena, roster_err_detail *detail)
{
    int err = custom_query_prepare(&q->cq, r->s->cdx, r->s->n_cdx, r->s->custom_scan, r->txn, req,
                                   arena, detail);
    if (err != ROSTER_E_OK || q->cq == NULL || q->empty)
        return err;
    size_t n = custom_query_conditions(q->cq);
    bool ordered = custom_query_ordered(q->cq);
    /* An order by an index still building: every record into a top-k. */
    q->custom_scan = custom_query_order_scans(q->cq);
    /* One condition, default order and nothing else only a record
     * answers: the driving index's entries (ids and flags) are the
     * answer, and only the page's records are read. */
    q->cand_entries = n == 1 && !ordered && !q->need_record && q->sort == MODEL_USER_createdAt &&
                      (q->range_field < 0 || q->range_field == MODEL_USER_active);
    if (ordered && q->range_field >= 0) {
        q->range_field = -1; /* the order's index is walked instead */
        q->need_record = true;
    }
    if (n)
        q->need_record = true;
    if (ordered || query_candidates(q) || !custom_query_drives(q->cq)) {
        q->cand_entries = false;
        return ROSTER_E_OK;
    }
    q->cand_custom = !q->cand_entries;
    return custom_query_candidates(q->cq, r->txn, r->s, q->one_tenant, &q->tenant_key, &q->cand_ids,
                                   &q->cand_flags, &q->n_cand_ids, &q->cand_sorted);
}

/* Whether s (NULL: none) holds an index of `path` that is building. */
static bool custom_building(const store *s, const char *path)
{
    for (size_t i = 0; s != NULL && path != NULL && i < s->n_cdx; i++)
        if (strcmp(s->cdx[i].path, path) == 0)
            return cdx_building_now(&s->cdx[i]);
    return false;
}

/* Whether q, an index walk, merges every tenant's range (open_walk). */
static bool query_merges(const store *s, const uquery *q)
{
    if (q->one_tenant || (q->sort == MODEL_USER_createdAt && q->range_field < 0))
        return false;
    const cdx_def *g = q->range_field < 0 ? custom_index_global_order(s, q->sort) : NULL;
    return g == NULL || cdx_building_now(g);
}

bool store_user_list_scans(const store *s, const roster_uuid *scope,
                           const Roster__V1__ListUsersRequest *req, roster_arena *arena)
{
    uquery q;
    if (query_prepare(&q, scope, req, arena, NULL) != ROSTER_E_OK || q.empty ||
        query_candidates(&q))
        return false;
    /* customData: an order by a path with conditions reads every entry's
     * record, and conditions no index drives (notEqualTo alone) read
     * every record; conditions an index drives read their candidates. */
    size_t n = req->filter ? req->filter->n_custom_data : 0;
    bool ordered = req->order && req->order->custom_data;
    if (n || ordered) {
        bool drives = false;
        for (size_t i = 0; i < n; i++) {
            const Roster__V1__CustomDataCondition *c = req->filter->custom_data[i];
            drives |= (c->equal_to || c->n_value_in || c->less_than || c->less_than_equal ||
                       c->more_than || c->more_than_equal) &&
                      !custom_building(s, c->path) && !(s && s->custom_scan);
        }
        if (ordered && custom_building(s, req->order->custom_data))
            return true;
        return ordered ? n > 0 || q.need_record : !drives;
    }
    if (q.need_record && q.range_field < 0)
        return true;
    return s != NULL && !s->pg && query_merges(s, &q) &&
           atomic_load_explicit(&((store *)s)->merge_scopes, memory_order_relaxed) >=
               STORE_MERGE_SCAN_SCOPES;
}

/* The cursor of a page ending with the record `last`: its order key. */
int query_end_cursor(char **out, uquery *q, const store_slice *last, roster_arena *arena)
{
    user_view uv;
    int err = user_view_parse_lazy(&uv, last->data, last->len);
    if (err == ROSTER_E_OK)
        err = user_view_ids(&uv);
    if (err != ROSTER_E_OK)
        return err;
    uint8_t pos[KEY_MAX];
    size_t n = q->cq ? custom_query_order_value(q->cq, &uv, pos) : 0;
    if (n == 0 && q->sort != MODEL_USER_createdAt)
        n = key_sort_value(pos, q->sort, &uv);
    memcpy(pos + n, uv.id.b, 16);
    return cursor_encode(out, query_shape(q), pos, n + 16, arena);
}

int store_user_list_raw(store_rtxn *r, const roster_uuid *scope,
                        const Roster__V1__ListUsersRequest *req, roster_arena *arena,
                        store_page *out, roster_err_detail *detail)
{
    r->merged = 0;
    r->merged_sort = -1;
    if (r->pg)
        return pgstore_user_list_raw(r->pg, scope, req, arena, out, detail);
    uquery q;
    int err = query_prepare(&q, scope, req, arena, detail);
    if (err == ROSTER_E_OK)
        err = query_custom(&q, r, req, arena, detail);
    if (err != ROSTER_E_OK)
        return err;
    query_reader(&q);
    q.deadline_ns = r->deadline_ns;
    q.stop_ns = r->stop_ns;
    page_acc a = {.q = &q};
    a.items = roster_arena_alloc(arena, (q.limit ? q.limit : 1) * sizeof *a.items);
    a.ids = roster_arena_alloc(arena, (q.limit ? q.limit : 1) * sizeof *a.ids);
    if (a.items == NULL || a.ids == NULL) {
        free(q.cand_ids);
        free(q.cand_flags);
        return ROSTER_E_NOMEM;
    }
    if (!q.empty) {
        if (q.cand_entries)
            run_ids(&q, &a);
        else if (query_candidates(&q) || q.cand_custom)
            err = run_topk(&q, r->txn, r->s, true, &a);
        else if (query_scans(&q) || q.custom_scan)
            err = run_topk(&q, r->txn, r->s, false, &a);
        else
            err = walk_index(&q, r->txn, r->s, &a);
        r->merged = q.merged;
        r->merged_sort = q.merged ? q.sort : -1;
        if (err == ROSTER_E_OK)
            err = acc_fetch(&a, r->txn, r->s);
        if (err != ROSTER_E_OK)
            return err;
    }
    char *cursor = NULL;
    if (a.n > 0 && (err = query_end_cursor(&cursor, &q, &a.items[a.n - 1], arena)) != ROSTER_E_OK)
        return err;
    out->total_count = a.total;
    out->n = a.n;
    out->items = a.items;
    out->has_next_page = a.more;
    out->end_cursor = cursor;
    return ROSTER_E_OK;
}

int query_page_response(const store_page *page, roster_arena *arena,
                        Roster__V1__ListUsersResponse **out)
{
    Roster__V1__ListUsersResponse *resp = roster_arena_alloc(arena, sizeof *resp);
    Roster__V1__PageInfo *info = roster_arena_alloc(arena, sizeof *info);
    Roster__V1__User **users = roster_arena_alloc(arena, (page->n ? page->n : 1) * sizeof *users);
    if (resp == NULL || info == NULL || users == NULL)
        return ROSTER_E_NOMEM;
    roster__v1__list_users_response__init(resp);
    roster__v1__page_info__init(info);
    info->has_has_next_page = 1;
    info->has_next_page = page->has_next_page;
    info->end_cursor = (char *)page->end_cursor;
    resp->page_info = info;
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, arena);
    for (size_t i = 0; i < page->n; i++) {
        users[i] = roster__v1__user__unpack(&alloc, page->items[i].len, page->items[i].data);
        if (users[i] == NULL)
            return ROSTER_E_NOMEM;
    }
    resp->has_total_count = 1;
    resp->total_count = page->total_count;
    resp->n_users = page->n;
    resp->users = users;
    *out = resp;
    return ROSTER_E_OK;
}

int store_user_list(store_rtxn *r, const roster_uuid *scope,
                    const Roster__V1__ListUsersRequest *req, roster_arena *arena,
                    Roster__V1__ListUsersResponse **out, roster_err_detail *detail)
{
    store_page page;
    int err = store_user_list_raw(r, scope, req, arena, &page, detail);
    if (err != ROSTER_E_OK)
        return err;
    return query_page_response(&page, arena, out);
}
