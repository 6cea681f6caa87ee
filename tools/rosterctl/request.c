#include "request.h"

#include <stdlib.h>
#include <string.h>

static roster_strlist *take_list(ctl_request_lists *l, const ctl_cond *c)
{
    roster_strlist *sl = &l->items[l->n++];
    sl->values = (const char *const *)c->list;
    sl->count = c->list_len;
    return sl;
}

static void set_string(roster_v1_StringFilter *sf, const ctl_cond *c, ctl_request_lists *l)
{
    switch (c->op) {
    case CTL_OP_EQ:
        roster_pb_str(&sf->equal_to, c->text);
        break;
    case CTL_OP_NE:
        roster_pb_str(&sf->not_equal_to, c->text);
        break;
    case CTL_OP_LIKE:
        roster_pb_str(&sf->like, c->text);
        break;
    case CTL_OP_ILIKE:
        roster_pb_str(&sf->i_like, c->text);
        break;
    case CTL_OP_IN:
        sf->has_value_in = true;
        roster_pb_strlist(&sf->value_in.values, take_list(l, c));
        break;
    case CTL_OP_NOT_IN:
        sf->has_value_not_in = true;
        roster_pb_strlist(&sf->value_not_in.values, take_list(l, c));
        break;
    case CTL_OP_IS_NULL:
        sf->has_equal_to_null = true;
        sf->equal_to_null = true;
        break;
    case CTL_OP_NOT_NULL:
        sf->has_not_equal_to_null = true;
        sf->not_equal_to_null = true;
        break;
    default:
        break;
    }
}

static void set_id(roster_v1_IdFilter *f, const ctl_cond *c, ctl_request_lists *l)
{
    switch (c->op) {
    case CTL_OP_EQ:
        roster_pb_str(&f->equal_to, c->text);
        break;
    case CTL_OP_NE:
        roster_pb_str(&f->not_equal_to, c->text);
        break;
    case CTL_OP_IN:
        f->has_value_in = true;
        roster_pb_strlist(&f->value_in.values, take_list(l, c));
        break;
    case CTL_OP_NOT_IN:
        f->has_value_not_in = true;
        roster_pb_strlist(&f->value_not_in.values, take_list(l, c));
        break;
    case CTL_OP_IS_NULL:
        f->has_equal_to_null = true;
        f->equal_to_null = true;
        break;
    case CTL_OP_NOT_NULL:
        f->has_not_equal_to_null = true;
        f->not_equal_to_null = true;
        break;
    default:
        break;
    }
}

static void set_bool(roster_v1_BoolFilter *f, const ctl_cond *c)
{
    switch (c->op) {
    case CTL_OP_EQ:
        f->has_equal_to = true;
        f->equal_to = c->boolean;
        break;
    case CTL_OP_NE:
        f->has_not_equal_to = true;
        f->not_equal_to = c->boolean;
        break;
    case CTL_OP_IS_NULL:
        f->has_equal_to_null = true;
        f->equal_to_null = true;
        break;
    case CTL_OP_NOT_NULL:
        f->has_not_equal_to_null = true;
        f->not_equal_to_null = true;
        break;
    default:
        break;
    }
}

static void set_date(roster_v1_DateFilter *f, const ctl_cond *c)
{
    switch (c->op) {
    case CTL_OP_EQ:
        f->has_equal_to = true;
        f->equal_to = c->ms;
        break;
    case CTL_OP_NE:
        f->has_not_equal_to = true;
        f->not_equal_to = c->ms;
        break;
    case CTL_OP_LT:
        f->has_less_than = true;
        f->less_than = c->ms;
        break;
    case CTL_OP_LE:
        f->has_less_than_equal = true;
        f->less_than_equal = c->ms;
        break;
    case CTL_OP_GT:
        f->has_more_than = true;
        f->more_than = c->ms;
        break;
    case CTL_OP_GE:
        f->has_more_than_equal = true;
        f->more_than_equal = c->ms;
        break;
    case CTL_OP_IS_NULL:
        f->has_equal_to_null = true;
        f->equal_to_null = true;
        break;
    case CTL_OP_NOT_NULL:
        f->has_not_equal_to_null = true;
        f->not_equal_to_null = true;
        break;
    default:
        break;
    }
}

static int lists_init(ctl_request_lists *l, const ctl_filter *f)
{
    memset(l, 0, sizeof *l);
    if (f->count == 0)
        return ROSTER_E_OK;
    l->items = calloc(f->count, sizeof *l->items);
    return l->items ? ROSTER_E_OK : ROSTER_E_NOMEM;
}

#define STR_FIELD(F, member)                                                                       \
    case F:                                                                                        \
        uf->has_##member = true;                                                                   \
        set_string(&uf->member, c, lists);                                                         \
        break

int ctl_user_list_request(roster_v1_ListUsersRequest *req, ctl_request_lists *lists,
                          const ctl_filter *f, const ctl_order *o, const ctl_search *s)
{
    int err = lists_init(lists, f);
    if (err != ROSTER_E_OK)
        return err;
    roster_v1_UserFilter *uf = &req->filter;
    req->has_filter = f->count > 0;
    for (size_t i = 0; i < f->count; i++) {
        const ctl_cond *c = &f->conds[i];
        switch (c->field) {
        case CTL_F_ID:
            uf->has_id = true;
            set_id(&uf->id, c, lists);
            break;
        case CTL_F_TENANT_ID:
            uf->has_tenant_id = true;
            set_id(&uf->tenant_id, c, lists);
            break;
            STR_FIELD(CTL_F_REFERENCE, reference);
            STR_FIELD(CTL_F_EMAIL, email);
            STR_FIELD(CTL_F_FIRST_NAME, first_name);
            STR_FIELD(CTL_F_LAST_NAME, last_name);
            STR_FIELD(CTL_F_PHONE, phone);
            STR_FIELD(CTL_F_LOCALE, locale);
            STR_FIELD(CTL_F_TIMEZONE, timezone);
        case CTL_F_ACTIVE:
            uf->has_active = true;
            set_bool(&uf->active, c);
            break;
        case CTL_F_IS_OPTED_IN:
            uf->has_is_opted_in = true;
            set_bool(&uf->is_opted_in, c);
            break;
        case CTL_F_WITH_DEACTIVATED:
            uf->has_with_deactivated = true;
            set_bool(&uf->with_deactivated, c);
            break;
        case CTL_F_CREATED_AT:
            uf->has_created_at = true;
            set_date(&uf->created_at, c);
            break;
        case CTL_F_UPDATED_AT:
            uf->has_updated_at = true;
            set_date(&uf->updated_at, c);
            break;
        case CTL_F_NAME:
            break;
        }
    }
    if (o->set) {
        req->has_order = true;
        req->order.has_sort = true;
        req->order.sort = (roster_v1_UserSortField)o->sort;
        req->order.has_order = true;
        req->order.order = (roster_v1_SortOrder)o->order;
    }
    if (s->set) {
        req->has_search = true;
        req->search.has_key = true;
        req->search.key = (roster_v1_UserSearchKey)s->key;
        roster_pb_str(&req->search.value, s->value);
    }
    return ROSTER_E_OK;
}

int ctl_tenant_list_request(roster_v1_ListTenantsRequest *req, ctl_request_lists *lists,
                            const ctl_filter *f, const ctl_order *o)
{
    int err = lists_init(lists, f);
    if (err != ROSTER_E_OK)
        return err;
    roster_v1_TenantFilter *tf = &req->filter;
    req->has_filter = f->count > 0;
    for (size_t i = 0; i < f->count; i++) {
        const ctl_cond *c = &f->conds[i];
        switch (c->field) {
        case CTL_F_ID:
            tf->has_id = true;
            set_id(&tf->id, c, lists);
            break;
        case CTL_F_NAME:
            tf->has_name = true;
            set_string(&tf->name, c, lists);
            break;
        case CTL_F_REFERENCE:
            tf->has_reference = true;
            set_string(&tf->reference, c, lists);
            break;
        default:
            break;
        }
    }
    if (o->set) {
        req->has_order = true;
        req->order.has_sort = true;
        req->order.sort = (roster_v1_TenantSortField)o->sort;
        req->order.has_order = true;
        req->order.order = (roster_v1_SortOrder)o->order;
    }
    return ROSTER_E_OK;
}

void ctl_request_lists_free(ctl_request_lists *l)
{
    if (l == NULL)
        return;
    free(l->items);
    l->items = NULL;
    l->n = 0;
}
