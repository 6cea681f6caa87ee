/* The parts of a user list query that do not depend on where records
 * are kept, shared by the LMDB store (query.c) and the PostgreSQL store
 * (pg/pg_query.c): validating a request into a uquery, matching a
 * record against it, a page's cursor and its reply. Internal to store/. */
#ifndef ROSTER_STORE_QUERY_INTERNAL_H
#define ROSTER_STORE_QUERY_INTERNAL_H

#include "custom_index.h"
#include "filter.h"
#include "keys.h"
#include "record.h"
#include "store_internal.h"
#include "text_pattern.h"
#include "topk.h"

/* A condition on one field that only the record answers: the filter of a
 * model field with a StringFilter, BoolFilter or DateFilter, and the slot
 * of the view it reads. */
typedef struct field_cond {
    int field; /* index in model_user.fields */
    model_filter kind;
    uint16_t off;  /* slot in user_fields (rec_user_off) */
    const void *f; /* the Roster__V1__{String,Bool,Date}Filter */
    str_cond s;    /* the StringFilter compiled (kind MODEL_FILTER_STRING) */
} field_cond;

typedef struct uquery {
    const Roster__V1__ListUsersRequest *req;
    const Roster__V1__UserFilter *f; /* never NULL (an empty filter when absent) */
    const roster_uuid *scope;
    id_cond id, tenant;
    bool hide_inactive;
    field_cond conds[MODEL_USER__COUNT]; /* the fields' filters given, in model order */
    size_t n_conds;
    int search_field;     /* -1: none, else the searched field (model_user index) */
    text_pattern *search; /* the search value compiled; arena-owned */
    int sort;             /* the sort field (model_user index) */
    int cand_uniq;        /* unique index whose field has an equalTo value, or -1 */
    bool desc;
    size_t limit, offset;
    /* after: the page starts right after the record of this order key
     * (cursor.h: sort value, none for createdAt, then id) */
    bool has_after;
    uint8_t after[CURSOR_POS_MAX];
    size_t after_len;
    bool has_shape;
    uint64_t shape; /* the query's fingerprint, once computed (query_shape) */
    /* plan */
    bool one_tenant; /* walk the per-tenant part of an index */
    roster_uuid tenant_key;
    bool tenant_covered; /* the tenant conditions hold for every entry walked */
    bool need_record;    /* conditions only the record answers */
    bool entry_conds;    /* conditions the index entry answers (id, active) */
    bool empty;          /* the conditions contradict: nothing matches */
    /* Equality plan: an equalTo (or equalTo: null) on an indexed field
     * walks only that value's range of the field's index, whose entries
     * are in id (createdAt) order. A model_user index, -1 when not used. */
    int range_field;
    uint8_t range_val[KEY_MAX];
    size_t range_len;
    /* The fields match_record reads (query_reader): a record is parsed for
     * its conditions with only these, and parsed whole once it matches. */
    user_reader rd;
    /* limits of the read transaction (store_read_set_limits) */
    int64_t deadline_ns;
    const _Atomic int64_t *stop_ns;
    unsigned steps; /* records and entries visited since the last check */
    size_t merged;  /* open_walk merged this many tenants' ranges for the order */
    /* customData conditions and order (custom_query.c); NULL: none */
    custom_query *cq;
    bool cand_custom;      /* run_topk takes its candidates from cand_ids */
    bool custom_scan;      /* ordered by a building customData index: scan */
    bool cand_entries;     /* run_ids answers from cand_ids and cand_flags alone */
    bool cand_sorted;      /* cand_ids are in id order (one value drove) */
    roster_uuid *cand_ids; /* malloc'd; run_topk or run_ids frees them */
    uint8_t *cand_flags;   /* malloc'd: the flags byte of each candidate's entry */
    size_t n_cand_ids;
} uquery;

/* Validates req for a caller of `scope` into *q (arena-owned parts in
 * `arena`) and chooses the plan the LMDB store would run; errors name the
 * request's field ("limit", "filter.email", "after", ...). */
int query_prepare(uquery *q, const roster_uuid *scope, const Roster__V1__ListUsersRequest *req,
                  roster_arena *arena, roster_err_detail *detail);

/* Sets q->rd to the fields query_match_bytes reads. */
void query_reader(uquery *q);

/* The query's fingerprint (cursor.h), computed once. */
uint64_t query_shape(uquery *q);

/* Whether record bytes[0..len) matches q (every condition, the scope,
 * the deactivated rule, search and customData), into *match; with
 * `whole`, a matching record is parsed whole into *v. ROSTER_E_CORRUPT
 * for a damaged record. */
int query_match_bytes(bool *match, user_view *v, const uquery *q, bool whole, const void *bytes,
                      size_t len);

/* Offers record bytes[0..len) to top-k t (t->k = q's offset + limit)
 * when it matches q: every match counts in *total, and one after q's
 * cursor (every match without one) in *past and the heap, keyed by its
 * order key (the customData order value or sort value, then the id).
 * ROSTER_E_CORRUPT for a damaged record, ROSTER_E_NOMEM. */
int query_offer(const uquery *q, topk *t, int64_t *total, int64_t *past, const void *bytes,
                size_t len);

/* The candidates plan applies: an id equalTo/valueIn or a unique field's
 * equalTo names a few users. */
bool query_candidates(const uquery *q);

/* The cursor of a page ending with record `last` (its order key), in
 * `arena`. */
int query_end_cursor(char **out, uquery *q, const store_slice *last, roster_arena *arena);

/* The ListUsersResponse of page (records unpacked into `arena`). */
int query_page_response(const store_page *page, roster_arena *arena,
                        Roster__V1__ListUsersResponse **out);

#endif
