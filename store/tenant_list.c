/* Tenant list plans and page walks, shared by the backends
 * (tenant_list.h). */
#include "tenant_list.h"

#include "fields.h"

#include "roster_limits.h"

#include <string.h>

int tenant_list_plan_make(tenant_list_plan *p, const roster_uuid *scope,
                          const Roster__V1__ListTenantsRequest *req, roster_arena *arena,
                          roster_err_detail *detail)
{
    memset(p, 0, sizeof *p);
    p->scope = scope;
    p->limit = req->has_limit ? req->limit : ROSTER_DEFAULT_PAGE;
    if (p->limit < 0 || p->limit > ROSTER_MAX_PAGE)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "limit",
                           "limit must be between 0 and %d, got %d", ROSTER_MAX_PAGE, p->limit);
    p->offset = req->has_offset ? req->offset : 0;
    if (p->offset < 0)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "offset",
                           "offset must not be negative, got %d", p->offset);
    /* The name order is the one sortable tenant field besides createdAt. */
    const store_fields *sf = store_fields_get();
    p->desc = true;
    if (req->order) {
        if (req->order->has_sort) {
            int v = (int)req->order->sort;
            int fi = v == ROSTER__V1__TENANT_SORT_FIELD__TENANT_SORT_FIELD_UNSPECIFIED
                         ? MODEL_TENANT_createdAt
                         : store_fields_enum(sf->tenant_sort, v);
            if (fi < 0)
                return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "order.sort",
                                   "order.sort %d is not a tenant sort field", v);
            p->by_name = fi == MODEL_TENANT_name;
        }
        if (req->order->has_order) {
            if (req->order->order == ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC)
                p->desc = false;
            else if (req->order->order != ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC &&
                     req->order->order != ROSTER__V1__SORT_ORDER__SORT_ORDER_UNSPECIFIED)
                return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "order.order",
                                   "order.order %d is not ASC or DESC", (int)req->order->order);
        }
    }
    p->with_count = req->has_include_user_count && req->include_user_count;
    const Roster__V1__TenantFilter *f = req->filter;
    int err = filter_id_parse(&p->idc, f ? f->id : NULL, "filter.id", arena, detail);
    if (err != ROSTER_E_OK)
        return err;
    /* The StringFilters of the tenant's fields, compiled in model order
     * and kept with the field each reads. */
    for (size_t i = 0; f && i < model_tenant.n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = sf->tenant_filter.fields[i];
        if (fd == NULL || model_tenant.fields[i].filter != MODEL_FILTER_STRING)
            continue;
        const Roster__V1__StringFilter *one = model_pb_ptr(&f->base, fd);
        if ((err = filter_str_compile(&p->conds[p->n_conds], one, sf->tenant_filter_name[i],
                                      model_tenant.fields[i].flags & MODEL_FOLD_CASE, arena,
                                      detail)) != ROSTER_E_OK)
            return err;
        if (one)
            p->cond_field[p->n_conds++] = (int)i;
    }
    /* after: the order key of a tenant is its id, or its name's encoding
     * and id (key_tenant_name). */
    if (req->after || p->limit > 0) {
        int sort = p->by_name ? MODEL_TENANT_name : MODEL_TENANT_createdAt;
        p->shape = cursor_shape('t', scope, sort, p->desc, f ? &f->base : NULL, NULL);
    }
    if (req->after) {
        if ((err = cursor_decode(p->after, &p->after_len, req->after, p->offset, p->shape,
                                 p->by_name ? (int)model_tenant.fields[MODEL_TENANT_name].type : -1,
                                 detail)) != ROSTER_E_OK)
            return err;
        p->has_after = true;
    }
    return ROSTER_E_OK;
}

bool tenant_list_counted(const tenant_list_plan *p)
{
    return p->scope == NULL && !p->idc.active && p->n_conds == 0;
}

bool tenant_list_match(const tenant_list_plan *p, const tenant_view *t)
{
    if (p->scope && !roster_uuid_eq(p->scope, &t->id))
        return false;
    if (!filter_id_match(&p->idc, &t->id, true))
        return false;
    for (size_t j = 0; j < p->n_conds; j++) {
        const rec_str *v =
            (const rec_str *)(const void *)((const char *)&t->f + rec_tenant_off[p->cond_field[j]]);
        if (!filter_str_cond_match(&p->conds[j], *v))
            return false;
    }
    return true;
}

int tenant_walk_begin(tenant_walk *wk, const tenant_list_plan *p, bool counted, roster_arena *arena)
{
    memset(wk, 0, sizeof *wk);
    wk->p = p;
    wk->counted = counted;
    /* Matches up to the cursor only count (toward the total). */
    wk->pre = p->has_after && !counted;
    Roster__V1__ListTenantsResponse *resp = roster_arena_alloc(arena, sizeof *resp);
    Roster__V1__PageInfo *info = roster_arena_alloc(arena, sizeof *info);
    Roster__V1__Tenant **ts =
        roster_arena_alloc(arena, (p->limit ? (size_t)p->limit : 1) * sizeof *ts);
    if (resp == NULL || info == NULL || ts == NULL)
        return ROSTER_E_NOMEM;
    roster__v1__list_tenants_response__init(resp);
    roster__v1__page_info__init(info);
    resp->page_info = info;
    resp->tenants = ts;
    wk->resp = resp;
    return ROSTER_E_OK;
}

bool tenant_walk_at(tenant_walk *wk, const uint8_t *key, size_t kn)
{
    if (wk->pre) {
        MDB_val k = {kn, (void *)key};
        if (cursor_key_past(&k, wk->p->after, wk->p->after_len, wk->p->desc)) {
            wk->pre = false;
            wk->before = wk->matched;
        }
    }
    return !wk->pre && wk->matched - wk->before >= wk->p->offset && wk->n < (size_t)wk->p->limit;
}

tenant_walk_step tenant_walk_match(tenant_walk *wk, bool take, const uint8_t *key, size_t kn)
{
    wk->matched++;
    if (!take) {
        if (!wk->pre && wk->matched - wk->before > wk->p->offset) {
            wk->more = true; /* a match past the page */
            if (wk->counted)
                return TENANT_WALK_STOP;
        }
        return TENANT_WALK_SKIP;
    }
    wk->n++;
    /* A key too long for a cursor (none is) makes tenant_walk_end fail. */
    memcpy(wk->last, key, kn < sizeof wk->last ? kn : sizeof wk->last);
    wk->last_len = kn;
    return TENANT_WALK_TAKE;
}

bool tenant_walk_short(tenant_walk *wk, int64_t total)
{
    const tenant_list_plan *p = wk->p;
    if (!wk->counted || p->has_after || (p->limit != 0 && p->offset < total))
        return false;
    wk->more = p->offset < total;
    return true;
}

int tenant_walk_end(tenant_walk *wk, int64_t total, roster_arena *arena,
                    Roster__V1__ListTenantsResponse **out)
{
    Roster__V1__ListTenantsResponse *resp = wk->resp;
    resp->page_info->has_has_next_page = 1;
    resp->page_info->has_next_page = wk->more;
    if (wk->n > 0) {
        int err = cursor_encode(&resp->page_info->end_cursor, wk->p->shape, wk->last, wk->last_len,
                                arena);
        if (err != ROSTER_E_OK)
            return err;
    }
    resp->has_total_count = 1;
    resp->total_count = wk->counted ? total : wk->matched;
    resp->n_tenants = wk->n;
    *out = resp;
    return ROSTER_E_OK;
}
