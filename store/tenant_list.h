/* Tenant lists, whatever the backend keeps tenants in: the request's
 * checks and filters (a plan), and the walk that turns tenants met in
 * list order into a page, its total and its cursor, as
 * store_tenant_list answers. Tenants are few, so a backend walks every
 * tenant in the order asked (createdAt: the id; name: key_tenant_name's
 * bytes, the name's encoding then the id) and offers each to the walk;
 * with no condition at all (tenant_list_counted) it may instead count
 * the tenants, start right after the cursor and stop once the walk says
 * so. */
#ifndef ROSTER_STORE_TENANT_LIST_H
#define ROSTER_STORE_TENANT_LIST_H

#include "cursor.h"
#include "filter.h"
#include "record.h"

#include "arena.h"
#include "error.h"
#include "roster.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A checked list request. Borrows the request (filters) and keeps what
 * it compiled in the arena given to tenant_list_plan_make. */
typedef struct tenant_list_plan {
    const roster_uuid *scope; /* borrowed; NULL: unrestricted */
    int32_t limit, offset;
    bool by_name; /* name order (else createdAt) */
    bool desc;
    bool with_count; /* include_user_count */
    id_cond idc;
    size_t n_conds;
    str_cond conds[MODEL_TENANT__COUNT]; /* the StringFilters given, model order */
    int cond_field[MODEL_TENANT__COUNT]; /* the model_tenant field each reads */
    uint64_t shape;                      /* the cursors' fingerprint */
    bool has_after;
    uint8_t after[CURSOR_POS_MAX]; /* the cursor's order key */
    size_t after_len;
} tenant_list_plan;

/* Checks req of a caller of `scope` (borrowed while *p is used) and
 * compiles its filters into *p (arena). INVALID_ARGUMENT naming "limit",
 * "offset", "order.sort", "order.order", "filter.<field>" or "after". */
int tenant_list_plan_make(tenant_list_plan *p, const roster_uuid *scope,
                          const Roster__V1__ListTenantsRequest *req, roster_arena *arena,
                          roster_err_detail *detail);

/* Whether p has no condition at all (no scope, no filter): every tenant
 * matches and the total is the number of tenants. */
bool tenant_list_counted(const tenant_list_plan *p);

/* Whether tenant t is visible in p's scope and matches its filters. */
bool tenant_list_match(const tenant_list_plan *p, const tenant_view *t);

/* A page being made. */
typedef struct tenant_walk {
    const tenant_list_plan *p;
    bool counted; /* only tenants after the cursor are offered, all matching */
    bool pre;     /* still at or before the cursor: matches only count */
    int64_t matched, before;
    bool more; /* a match past the page was met */
    Roster__V1__ListTenantsResponse *resp;
    size_t n;
    uint8_t last[CURSOR_POS_MAX]; /* order key of the page's last tenant */
    size_t last_len;
} tenant_walk;

/* Starts the page of plan p (borrowed while wk is used): its response
 * with room for p->limit tenants, in `arena`. `counted`: the backend
 * offers only the tenants after p's cursor, each matching (allowed when
 * tenant_list_counted). ROSTER_E_NOMEM. */
int tenant_walk_begin(tenant_walk *wk, const tenant_list_plan *p, bool counted,
                      roster_arena *arena);

/* The next tenant in list order, order key key[0..kn) (kn <= CURSOR_POS_MAX),
 * before its record is looked at: whether the page would take it if it
 * matches (a backend reads only those records when counted). */
bool tenant_walk_at(tenant_walk *wk, const uint8_t *key, size_t kn);

/* The tenant last given to tenant_walk_at matches (take: what that
 * said). TENANT_WALK_TAKE: the page takes it, the caller stores it in
 * wk->resp->tenants[wk->n - 1]; TENANT_WALK_SKIP: go on; TENANT_WALK_STOP:
 * nothing more is needed (a counted walk found a match past the page). */
typedef enum tenant_walk_step {
    TENANT_WALK_SKIP,
    TENANT_WALK_TAKE,
    TENANT_WALK_STOP,
} tenant_walk_step;
tenant_walk_step tenant_walk_match(tenant_walk *wk, bool take, const uint8_t *key, size_t kn);

/* A counted list that can be answered from the number of tenants alone
 * (no cursor, and a limit of 0 or an offset past the end): records the
 * answer in wk and returns true; the walk is then over. */
bool tenant_walk_short(tenant_walk *wk, int64_t total);

/* Ends the page: total_count (`total` when counted, else the matches
 * met), page_info (has_next_page, the end cursor of the page's last
 * tenant) and the tenants taken; *out is wk->resp. ROSTER_E_NOMEM. */
int tenant_walk_end(tenant_walk *wk, int64_t total, roster_arena *arena,
                    Roster__V1__ListTenantsResponse **out);

#endif
