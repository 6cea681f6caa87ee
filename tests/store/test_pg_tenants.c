/* Tenants and API keys of the PostgreSQL store against the LMDB store's:
 * each test runs one sequence of operations on an LMDB store and on a
 * PostgreSQL store side by side and compares every answer: codes, detail
 * fields and messages, records field by field (except the ids and times
 * each store makes for itself), list pages, totals and cursors that
 * continue, principals, refusals included. Ids the stores made are kept
 * in pairs, so a request naming "@n" names pair n's id on each side and
 * an id in an LMDB answer must be its pair's in the PostgreSQL one. */
#include "pg_fixture.h"
#include "store_fixture.h"

#include "apikey.h"
#include "clock.h"
#include "roster_limits.h"

#include <protobuf-c/protobuf-c.h>
#include <pthread.h>
#include <time.h>

static pgstore *pg;

/* ------------------------------------------------------------ id pairs */

#define MAX_PAIRS 512
static char lm_id[MAX_PAIRS][ROSTER_UUID_TEXT_LEN + 1];
static char pg_id[MAX_PAIRS][ROSTER_UUID_TEXT_LEN + 1];
static int n_pairs;

static int pair_add(const char *lm, const char *p)
{
    ck_assert_int_lt(n_pairs, MAX_PAIRS);
    ck_assert_uint_eq(strlen(lm), ROSTER_UUID_TEXT_LEN);
    ck_assert_uint_eq(strlen(p), ROSTER_UUID_TEXT_LEN);
    memcpy(lm_id[n_pairs], lm, ROSTER_UUID_TEXT_LEN + 1);
    memcpy(pg_id[n_pairs], p, ROSTER_UUID_TEXT_LEN + 1);
    return n_pairs++;
}

/* The PostgreSQL store's counterpart of LMDB text `lm` (itself when it
 * is not an id of a pair). */
static const char *pg_of(const char *lm)
{
    for (int i = 0; i < n_pairs; i++)
        if (strcmp(lm_id[i], lm) == 0)
            return pg_id[i];
    return lm;
}

/* "@n": pair n's id in a request template. */
static const char *at(int slot)
{
    static char ring[64][12];
    static unsigned k;
    char *b = ring[k++ % 64];
    snprintf(b, sizeof ring[0], "@%d", slot);
    return b;
}

/* Text t of a request template on one side: "@n" becomes pair n's id. */
static char *side(const char *t, bool on_pg)
{
    if (t == NULL || t[0] != '@')
        return (char *)t;
    int i = atoi(t + 1);
    ck_assert_int_lt(i, n_pairs);
    return on_pg ? pg_id[i] : lm_id[i];
}

/* The scope of a caller bound to tenant pair `slot` (-1: unrestricted). */
static const roster_uuid *scope_of(int slot, bool on_pg, roster_uuid *buf)
{
    if (slot < 0)
        return NULL;
    const char *t = on_pg ? pg_id[slot] : lm_id[slot];
    ck_assert_int_eq(roster_uuid_parse(buf, t, strlen(t)), ROSTER_E_OK);
    return buf;
}

/* LMDB's message with every id of a pair replaced by its counterpart. */
static void map_ids(char *out, size_t cap, const char *lm)
{
    snprintf(out, cap, "%s", lm);
    for (int i = 0; i < n_pairs; i++) {
        if (strcmp(lm_id[i], pg_id[i]) == 0)
            continue;
        char *p;
        while ((p = strstr(out, lm_id[i])) != NULL)
            memcpy(p, pg_id[i], ROSTER_UUID_TEXT_LEN);
    }
}

static void same_err(const char *what, int le, const roster_err_detail *ld, int pe,
                     const roster_err_detail *pd)
{
    ck_assert_msg(le == pe, "%s: LMDB answers %s (%s), PostgreSQL %s (%s)", what,
                  roster_strerror(le), ld->message, roster_strerror(pe), pd->message);
    if (le == ROSTER_E_OK)
        return;
    ck_assert_msg(strcmp(ld->field, pd->field) == 0, "%s: field \"%s\" against \"%s\"", what,
                  ld->field, pd->field);
    char want[sizeof ld->message];
    map_ids(want, sizeof want, ld->message);
    ck_assert_msg(strcmp(want, pd->message) == 0, "%s: LMDB says \"%s\", PostgreSQL \"%s\"", what,
                  ld->message, pd->message);
}

/* ------------------------------------------------------------ records */

/* Compare the values of times the stores make themselves, and not only
 * their presence (restored records, whose times are given). */
static bool exact_times;

/* Fields each store makes for itself: compared for presence only. */
static bool made_by_store(const ProtobufCFieldDescriptor *f)
{
    static const char *const times[] = {"created_at", "updated_at", "revoked_at", "rotated_at",
                                        "previous_valid_until"};
    if (strcmp(f->name, "end_cursor") == 0 || strcmp(f->name, "secret") == 0)
        return true;
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
        if (strcmp(f->name, times[i]) == 0)
            return !exact_times;
    return false;
}

static size_t elem_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    default:
        return 4;
    }
}

static bool present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    const char *base = (const char *)m;
    if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
        return *(void *const *)(const void *)(base + f->offset) != NULL;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
        return *(const protobuf_c_boolean *)(const void *)(base + f->quantifier_offset);
    return true;
}

static void same_msg(const ProtobufCMessage *a, const ProtobufCMessage *b, const char *path);

static void same_value(const ProtobufCFieldDescriptor *f, const void *a, const void *b,
                       const char *path)
{
    if (made_by_store(f))
        return;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *x = *(const char *const *)a, *y = *(const char *const *)b;
        ck_assert_msg(strcmp(pg_of(x), y) == 0, "%s: LMDB \"%s\", PostgreSQL \"%s\"", path, x, y);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        same_msg(*(const ProtobufCMessage *const *)a, *(const ProtobufCMessage *const *)b, path);
        break;
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *x = a, *y = b;
        ck_assert_msg(x->len == y->len && (x->len == 0 || memcmp(x->data, y->data, x->len) == 0),
                      "%s: bytes differ", path);
        break;
    }
    default:
        ck_assert_msg(memcmp(a, b, elem_size(f)) == 0,
                      "%s: values differ (LMDB %lld, PostgreSQL %lld)", path,
                      elem_size(f) == 8 ? (long long)*(const int64_t *)a : *(const int32_t *)a,
                      elem_size(f) == 8 ? (long long)*(const int64_t *)b : *(const int32_t *)b);
    }
}

/* Messages a (LMDB's) and b (PostgreSQL's) hold the same fields with the
 * same values, field by field, repeated fields element by element. */
static void same_msg(const ProtobufCMessage *a, const ProtobufCMessage *b, const char *path)
{
    if (a == NULL || b == NULL) {
        ck_assert_msg(a == b, "%s: present in one answer only", path);
        return;
    }
    ck_assert_ptr_eq(a->descriptor, b->descriptor);
    const ProtobufCMessageDescriptor *d = a->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char p[256];
        snprintf(p, sizeof p, "%s.%s", path, f->name);
        const char *fa = (const char *)a + f->offset, *fb = (const char *)b + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t na = *(const size_t *)(const void *)((const char *)a + f->quantifier_offset);
            size_t nb = *(const size_t *)(const void *)((const char *)b + f->quantifier_offset);
            ck_assert_msg(na == nb, "%s: %zu elements in LMDB's answer, %zu in PostgreSQL's", p, na,
                          nb);
            const char *xa = *(const char *const *)(const void *)fa;
            const char *xb = *(const char *const *)(const void *)fb;
            for (size_t j = 0; j < na; j++) {
                char pj[300];
                snprintf(pj, sizeof pj, "%s[%zu]", p, j);
                same_value(f, xa + j * elem_size(f), xb + j * elem_size(f), pj);
            }
            continue;
        }
        bool ha = present(a, f), hb = present(b, f);
        ck_assert_msg(ha == hb, "%s: present in LMDB's answer: %d, in PostgreSQL's: %d", p, ha, hb);
        if (ha)
            same_value(f, fa, fb, p);
    }
}

/* ------------------------------------------------------------ groups */

static store_wtxn *lw;
static pgstore_wtxn *pw;
static bool grouped;

static void group_begin(void)
{
    ck_assert_int_eq(store_write_begin(fx_store, &lw), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_write_begin(pg, &pw), ROSTER_E_OK);
    grouped = true;
}

static void group_commit(void)
{
    ck_assert_int_eq(store_write_commit(lw), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_write_commit(pw), ROSTER_E_OK);
    grouped = false;
}

/* Opens a group for one operation unless one is open; op_close commits
 * what op_open began. */
static bool op_open(void)
{
    if (grouped)
        return false;
    group_begin();
    return true;
}

static void op_close(bool began)
{
    if (began)
        group_commit();
}

static store_rtxn *lr;
static pgstore_rtxn *pr;

static void read_begin(void)
{
    ck_assert_int_eq(store_read_begin(fx_store, &lr), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_read_begin(pg, &pr), ROSTER_E_OK);
}

static void read_end(void)
{
    store_read_end(lr);
    pgstore_read_end(pr);
}

static void setup(void)
{
    fx_setup();
    pgfx_create_db();
    roster_err_detail d = {0};
    pgstore_options o = {.pool_size = 2, .detail = &d};
    ck_assert_msg(pgstore_open(&pg, pgfx_url, &o) == ROSTER_E_OK, "%s", d.message);
    n_pairs = 0;
    exact_times = false;
    grouped = false;
}

static void teardown(void)
{
    pgstore_close(pg);
    pg = NULL;
    pgfx_drop_db();
    fx_teardown();
}

/* ------------------------------------------------------------ tenants */

/* Creates a tenant on both as a caller of scope pair `scope` (-1: none);
 * def < 0 leaves is_default out. *slot: the new pair. */
static int t_create(int scope, const char *name, const char *ref, int def, int *slot)
{
    Roster__V1__CreateTenantRequest req = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    req.name = (char *)name;
    req.reference = (char *)ref;
    if (def >= 0) {
        req.has_is_default = 1;
        req.is_default = def;
    }
    roster_uuid ls, ps;
    roster_err_detail ld = {0}, pd = {0};
    Roster__V1__Tenant *lt = NULL, *pt = NULL;
    bool began = op_open();
    int le = store_tenant_create(lw, scope_of(scope, false, &ls), &req, &fx_arena, &lt, &ld);
    int pe = pgstore_tenant_create(pw, scope_of(scope, true, &ps), &req, &fx_arena, &pt, &pd);
    op_close(began);
    same_err("create tenant", le, &ld, pe, &pd);
    if (le == ROSTER_E_OK) {
        int s = pair_add(lt->id, pt->id);
        same_msg(&lt->base, &pt->base, "tenant");
        ck_assert_int_eq(pt->created_at, pt->updated_at);
        if (slot)
            *slot = s;
    }
    return le;
}

static int t_create_ok(const char *name, const char *ref, bool def)
{
    int slot = -1;
    ck_assert_int_eq(t_create(-1, name, ref, def, &slot), ROSTER_E_OK);
    return slot;
}

/* Updates on both; tmpl->id is a template. *lo, *po (may be NULL): the
 * answers. */
static int t_update(int scope, const Roster__V1__UpdateTenantRequest *tmpl, Roster__V1__Tenant **lo,
                    Roster__V1__Tenant **po)
{
    Roster__V1__UpdateTenantRequest lq = *tmpl, pq = *tmpl;
    lq.id = side(tmpl->id, false);
    pq.id = side(tmpl->id, true);
    roster_uuid ls, ps;
    roster_err_detail ld = {0}, pd = {0};
    Roster__V1__Tenant *lt = NULL, *pt = NULL;
    bool began = op_open();
    int le = store_tenant_update(lw, scope_of(scope, false, &ls), &lq, &fx_arena, &lt, &ld);
    int pe = pgstore_tenant_update(pw, scope_of(scope, true, &ps), &pq, &fx_arena, &pt, &pd);
    op_close(began);
    same_err("update tenant", le, &ld, pe, &pd);
    if (le == ROSTER_E_OK) {
        same_msg(&lt->base, &pt->base, "tenant");
        if (lo)
            *lo = lt;
        if (po)
            *po = pt;
    }
    return le;
}

static int t_restore(const Roster__V1__Tenant *t)
{
    roster_err_detail ld = {0}, pd = {0};
    bool began = op_open();
    int le = store_tenant_restore(lw, t, &ld);
    int pe = pgstore_tenant_restore(pw, t, &pd);
    op_close(began);
    same_err("restore tenant", le, &ld, pe, &pd);
    return le;
}

static int t_delete(int scope, const char *id)
{
    Roster__V1__DeleteTenantRequest lq = ROSTER__V1__DELETE_TENANT_REQUEST__INIT, pq = lq;
    lq.id = side(id, false);
    pq.id = side(id, true);
    roster_uuid ls, ps;
    roster_err_detail ld = {0}, pd = {0};
    Roster__V1__DeleteTenantResponse *lo = NULL, *po = NULL;
    bool began = op_open();
    int le = store_tenant_delete(lw, scope_of(scope, false, &ls), &lq, &fx_arena, &lo, &ld);
    int pe = pgstore_tenant_delete(pw, scope_of(scope, true, &ps), &pq, &fx_arena, &po, &pd);
    op_close(began);
    same_err("delete tenant", le, &ld, pe, &pd);
    if (le == ROSTER_E_OK) {
        same_msg(&lo->base, &po->base, "deleted");
        ck_assert_str_eq(po->id, pq.id);
    }
    return le;
}

/* Gets on both; *lo, *po (may be NULL): the answers. */
static int t_get(int scope, const char *id, bool count, Roster__V1__Tenant **lo,
                 Roster__V1__Tenant **po)
{
    Roster__V1__GetTenantRequest lq = ROSTER__V1__GET_TENANT_REQUEST__INIT;
    lq.has_include_user_count = count;
    lq.include_user_count = count;
    Roster__V1__GetTenantRequest pq = lq;
    lq.id = side(id, false);
    pq.id = side(id, true);
    roster_uuid ls, ps;
    roster_err_detail ld = {0}, pd = {0};
    Roster__V1__Tenant *lt = NULL, *pt = NULL;
    read_begin();
    int le = store_tenant_get(lr, scope_of(scope, false, &ls), &lq, &fx_arena, &lt, &ld);
    int pe = pgstore_tenant_get(pr, scope_of(scope, true, &ps), &pq, &fx_arena, &pt, &pd);
    read_end();
    same_err("get tenant", le, &ld, pe, &pd);
    if (le == ROSTER_E_OK) {
        same_msg(&lt->base, &pt->base, "tenant");
        if (lo)
            *lo = lt;
        if (po)
            *po = pt;
    }
    return le;
}

static int t_batch(int scope, const char *const *ids, size_t n, bool count)
{
    char **li = roster_arena_alloc(&fx_arena, (n + 1) * sizeof *li);
    char **pi = roster_arena_alloc(&fx_arena, (n + 1) * sizeof *pi);
    for (size_t i = 0; i < n; i++) {
        li[i] = side(ids[i], false);
        pi[i] = side(ids[i], true);
    }
    Roster__V1__BatchGetTenantsRequest lq = ROSTER__V1__BATCH_GET_TENANTS_REQUEST__INIT;
    lq.n_ids = n;
    lq.has_include_user_count = count;
    lq.include_user_count = count;
    Roster__V1__BatchGetTenantsRequest pq = lq;
    lq.ids = li;
    pq.ids = pi;
    roster_uuid ls, ps;
    roster_err_detail ld = {0}, pd = {0};
    Roster__V1__BatchGetTenantsResponse *lo = NULL, *po = NULL;
    read_begin();
    int le = store_tenant_batch_get(lr, scope_of(scope, false, &ls), &lq, &fx_arena, &lo, &ld);
    int pe = pgstore_tenant_batch_get(pr, scope_of(scope, true, &ps), &pq, &fx_arena, &po, &pd);
    read_end();
    same_err("batch get tenants", le, &ld, pe, &pd);
    if (le == ROSTER_E_OK)
        same_msg(&lo->base, &po->base, "batch");
    return le;
}

/* The filter of a list template on one side: ids of the IdFilter
 * resolved (copies in the arena). */
static Roster__V1__TenantFilter *side_filter(const Roster__V1__TenantFilter *f, bool on_pg)
{
    if (f == NULL || f->id == NULL)
        return (Roster__V1__TenantFilter *)f;
    Roster__V1__TenantFilter *c = roster_arena_alloc(&fx_arena, sizeof *c);
    Roster__V1__IdFilter *idf = roster_arena_alloc(&fx_arena, sizeof *idf);
    *c = *f;
    *idf = *f->id;
    idf->equal_to = side(f->id->equal_to, on_pg);
    idf->not_equal_to = side(f->id->not_equal_to, on_pg);
    Roster__V1__StringList *const *lists[] = {&f->id->value_in, &f->id->value_not_in};
    Roster__V1__StringList **outs[] = {&idf->value_in, &idf->value_not_in};
    for (int k = 0; k < 2; k++) {
        const Roster__V1__StringList *l = *lists[k];
        if (l == NULL)
            continue;
        Roster__V1__StringList *nl = roster_arena_alloc(&fx_arena, sizeof *nl);
        *nl = *l;
        nl->values = roster_arena_alloc(&fx_arena, (l->n_values + 1) * sizeof *nl->values);
        for (size_t i = 0; i < l->n_values; i++)
            nl->values[i] = side(l->values[i], on_pg);
        *outs[k] = nl;
    }
    c->id = idf;
    return c;
}

/* One page of tmpl on both, each after its own cursor (NULL: none). */
static int t_list_page(int scope, const Roster__V1__ListTenantsRequest *tmpl, const char *la,
                       const char *pa, Roster__V1__ListTenantsResponse **lo,
                       Roster__V1__ListTenantsResponse **po)
{
    Roster__V1__ListTenantsRequest lq = *tmpl, pq = *tmpl;
    lq.filter = side_filter(tmpl->filter, false);
    pq.filter = side_filter(tmpl->filter, true);
    if (la || pa) {
        lq.after = (char *)la;
        pq.after = (char *)pa;
    }
    roster_uuid ls, ps;
    roster_err_detail ld = {0}, pd = {0};
    Roster__V1__ListTenantsResponse *l = NULL, *p = NULL;
    read_begin();
    int le = store_tenant_list(lr, scope_of(scope, false, &ls), &lq, &fx_arena, &l, &ld);
    int pe = pgstore_tenant_list(pr, scope_of(scope, true, &ps), &pq, &fx_arena, &p, &pd);
    read_end();
    same_err("list tenants", le, &ld, pe, &pd);
    if (le == ROSTER_E_OK) {
        same_msg(&l->base, &p->base, "list");
        ck_assert(p->page_info->has_has_next_page);
        ck_assert_int_eq(p->n_tenants > 0, p->page_info->end_cursor != NULL);
        if (lo)
            *lo = l;
        if (po)
            *po = p;
    }
    return le;
}

/* Every page of tmpl on both, each store continuing from its own
 * cursors; the pages together hold every match. Returns the pages. */
static int t_list_walk(int scope, const Roster__V1__ListTenantsRequest *tmpl)
{
    const char *la = NULL, *pa = NULL;
    int pages = 0;
    int64_t seen = 0, total = 0;
    for (;;) {
        Roster__V1__ListTenantsResponse *l, *p;
        ck_assert_int_eq(t_list_page(scope, tmpl, la, pa, &l, &p), ROSTER_E_OK);
        pages++;
        seen += (int64_t)p->n_tenants;
        total = p->total_count;
        if (!p->page_info->has_next_page || p->n_tenants == 0)
            break;
        la = l->page_info->end_cursor;
        pa = p->page_info->end_cursor;
        ck_assert_int_lt(pages, 200);
    }
    if ((!tmpl->has_limit || tmpl->limit > 0) && !tmpl->has_offset)
        ck_assert_int_eq(seen, total);
    return pages;
}

/* ------------------------------------------------------------ users */

static int u_create(int tenant, const char *ref, bool active, int *slot)
{
    Roster__V1__CreateUserRequest lq = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    char email[128];
    snprintf(email, sizeof email, "%s@example.org", ref);
    lq.reference = (char *)ref;
    lq.email = email;
    lq.has_active = 1;
    lq.active = active;
    Roster__V1__CreateUserRequest pq = lq;
    lq.tenant_id = tenant < 0 ? NULL : lm_id[tenant];
    pq.tenant_id = tenant < 0 ? NULL : pg_id[tenant];
    roster_err_detail ld = {0}, pd = {0};
    Roster__V1__User *lu = NULL, *pu = NULL;
    bool began = op_open();
    int le = store_user_create(lw, NULL, &lq, &fx_arena, &lu, &ld);
    int pe = pgstore_user_create(pw, NULL, &pq, &fx_arena, &pu, &pd);
    op_close(began);
    same_err("create user", le, &ld, pe, &pd);
    if (le == ROSTER_E_OK) {
        int s = pair_add(lu->id, pu->id);
        same_msg(&lu->base, &pu->base, "user");
        if (slot)
            *slot = s;
    }
    return le;
}

/* Moves user pair `user` to tenant pair `tenant` and sets active. */
static void u_move(int user, int tenant, bool active)
{
    Roster__V1__UpdateUserRequest lq = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    lq.has_active = 1;
    lq.active = active;
    Roster__V1__UpdateUserRequest pq = lq;
    lq.id = lm_id[user];
    pq.id = pg_id[user];
    lq.tenant_id = lm_id[tenant];
    pq.tenant_id = pg_id[tenant];
    roster_err_detail ld = {0}, pd = {0};
    bool began = op_open();
    int le = store_user_update(lw, NULL, &lq, &fx_arena, NULL, &ld);
    int pe = pgstore_user_update(pw, NULL, &pq, &fx_arena, NULL, &pd);
    op_close(began);
    same_err("update user", le, &ld, pe, &pd);
    ck_assert_int_eq(le, ROSTER_E_OK);
}

static void u_delete(int user)
{
    Roster__V1__DeleteUserRequest lq = ROSTER__V1__DELETE_USER_REQUEST__INIT, pq = lq;
    lq.id = lm_id[user];
    pq.id = pg_id[user];
    roster_err_detail ld = {0}, pd = {0};
    bool began = op_open();
    int le = store_user_delete(lw, NULL, &lq, &fx_arena, NULL, &ld);
    int pe = pgstore_user_delete(pw, NULL, &pq, &fx_arena, NULL, &pd);
    op_close(began);
    same_err("delete user", le, &ld, pe, &pd);
    ck_assert_int_eq(le, ROSTER_E_OK);
}

/* store_tenant_user_count of tenant pair `tenant` (-1: no tenant) on
 * both: want. */
static void t_user_count(int tenant, int64_t want)
{
    roster_uuid lt, pt;
    int64_t ln = -1, pn = -1;
    read_begin();
    ck_assert_int_eq(store_tenant_user_count(lr, scope_of(tenant, false, &lt), &ln), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_tenant_user_count(pr, scope_of(tenant, true, &pt), &pn), ROSTER_E_OK);
    read_end();
    ck_assert_int_eq(ln, want);
    ck_assert_int_eq(pn, want);
}

/* ------------------------------------------------------------ keys */

static char lm_secret[MAX_PAIRS][ROSTER_APIKEY_TEXT_LEN + 1];
static char pg_secret[MAX_PAIRS][ROSTER_APIKEY_TEXT_LEN + 1];
static char lm_old[MAX_PAIRS][ROSTER_APIKEY_TEXT_LEN + 1]; /* before the last rotation */
static char pg_old[MAX_PAIRS][ROSTER_APIKEY_TEXT_LEN + 1];

static void same_secret(const Roster__V1__KeySecret *l, const Roster__V1__KeySecret *p)
{
    same_msg(&l->base, &p->base, "secret");
    ck_assert_uint_eq(strlen(p->secret), ROSTER_APIKEY_TEXT_LEN);
    ck_assert_uint_eq(strlen(l->secret), ROSTER_APIKEY_TEXT_LEN);
    ck_assert(!p->key->has_secret_hash && !p->key->has_previous_secret_hash);
}

static int k_create(const char *name, Roster__V1__Role role, const char *tenant, int64_t expires,
                    int *slot)
{
    Roster__V1__CreateKeyRequest lq = ROSTER__V1__CREATE_KEY_REQUEST__INIT;
    lq.name = (char *)name;
    if (role != ROSTER__V1__ROLE__ROLE_UNSPECIFIED) {
        lq.has_role = 1;
        lq.role = role;
    }
    if (expires) {
        lq.has_expires_at = 1;
        lq.expires_at = expires;
    }
    Roster__V1__CreateKeyRequest pq = lq;
    lq.tenant_id = side(tenant, false);
    pq.tenant_id = side(tenant, true);
    roster_err_detail ld = {0}, pd = {0};
    Roster__V1__KeySecret *l = NULL, *p = NULL;
    bool began = op_open();
    int le = store_key_create(lw, &lq, &fx_arena, &l, &ld);
    int pe = pgstore_key_create(pw, &pq, &fx_arena, &p, &pd);
    op_close(began);
    same_err("create key", le, &ld, pe, &pd);
    if (le == ROSTER_E_OK) {
        int s = pair_add(l->key->id, p->key->id);
        same_secret(l, p);
        snprintf(lm_secret[s], sizeof lm_secret[s], "%s", l->secret);
        snprintf(pg_secret[s], sizeof pg_secret[s], "%s", p->secret);
        if (slot)
            *slot = s;
    }
    return le;
}

static int k_revoke(const char *id, Roster__V1__ApiKey **lo, Roster__V1__ApiKey **po)
{
    Roster__V1__RevokeKeyRequest lq = ROSTER__V1__REVOKE_KEY_REQUEST__INIT, pq = lq;
    lq.id = side(id, false);
    pq.id = side(id, true);
    roster_err_detail ld = {0}, pd = {0};
    Roster__V1__ApiKey *l = NULL, *p = NULL;
    bool began = op_open();
    int le = store_key_revoke(lw, &lq, &fx_arena, &l, &ld);
    int pe = pgstore_key_revoke(pw, &pq, &fx_arena, &p, &pd);
    op_close(began);
    same_err("revoke key", le, &ld, pe, &pd);
    if (le == ROSTER_E_OK) {
        same_msg(&l->base, &p->base, "key");
        ck_assert(!p->has_secret_hash);
        if (lo)
            *lo = l;
        if (po)
            *po = p;
    }
    return le;
}

/* Rotates the key `id` names ("@n" for pair n; grace < 0: the default);
 * on success pair n's secrets before it move to lm_old/pg_old. */
static int k_rotate(const char *id, int64_t grace)
{
    Roster__V1__RotateKeyRequest lq = ROSTER__V1__ROTATE_KEY_REQUEST__INIT;
    if (grace >= 0) {
        lq.has_grace_seconds = 1;
        lq.grace_seconds = (uint32_t)grace;
    }
    Roster__V1__RotateKeyRequest pq = lq;
    lq.id = side(id, false);
    pq.id = side(id, true);
    roster_err_detail ld = {0}, pd = {0};
    Roster__V1__KeySecret *l = NULL, *p = NULL;
    bool began = op_open();
    int le = store_key_rotate(lw, &lq, &fx_arena, &l, &ld);
    int pe = pgstore_key_rotate(pw, &pq, &fx_arena, &p, &pd);
    op_close(began);
    same_err("rotate key", le, &ld, pe, &pd);
    if (le == ROSTER_E_OK) {
        same_secret(l, p);
        int s = atoi(id + 1);
        memcpy(lm_old[s], lm_secret[s], sizeof lm_old[s]);
        memcpy(pg_old[s], pg_secret[s], sizeof pg_old[s]);
        snprintf(lm_secret[s], sizeof lm_secret[s], "%s", l->secret);
        snprintf(pg_secret[s], sizeof pg_secret[s], "%s", p->secret);
        ck_assert_int_eq(p->key->previous_valid_until - p->key->rotated_at,
                         (grace < 0 ? STORE_KEY_GRACE_DEFAULT_S : grace) * 1000);
    }
    return le;
}

static void k_touch(int slot, int64_t when)
{
    roster_uuid lid, pid;
    ck_assert_int_eq(roster_uuid_parse(&lid, lm_id[slot], ROSTER_UUID_TEXT_LEN), ROSTER_E_OK);
    ck_assert_int_eq(roster_uuid_parse(&pid, pg_id[slot], ROSTER_UUID_TEXT_LEN), ROSTER_E_OK);
    bool began = op_open();
    ck_assert_int_eq(store_key_touch(lw, &lid, when), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_key_touch(pw, &pid, when), ROSTER_E_OK);
    op_close(began);
}

static int k_get(const char *id, Roster__V1__ApiKey **lo, Roster__V1__ApiKey **po)
{
    Roster__V1__GetKeyRequest lq = ROSTER__V1__GET_KEY_REQUEST__INIT, pq = lq;
    lq.id = side(id, false);
    pq.id = side(id, true);
    roster_err_detail ld = {0}, pd = {0};
    Roster__V1__ApiKey *l = NULL, *p = NULL;
    read_begin();
    int le = store_key_get(lr, &lq, &fx_arena, &l, &ld);
    int pe = pgstore_key_get(pr, &pq, &fx_arena, &p, &pd);
    read_end();
    same_err("get key", le, &ld, pe, &pd);
    if (le == ROSTER_E_OK) {
        same_msg(&l->base, &p->base, "key");
        ck_assert(!p->has_secret_hash && !p->has_previous_secret_hash);
        if (lo)
            *lo = l;
        if (po)
            *po = p;
    }
    return le;
}

/* Lists keys on both; returns how many. */
static size_t k_list(bool revoked)
{
    Roster__V1__ListKeysRequest q = ROSTER__V1__LIST_KEYS_REQUEST__INIT;
    q.has_include_revoked = revoked;
    q.include_revoked = revoked;
    roster_err_detail ld = {0}, pd = {0};
    Roster__V1__ListKeysResponse *l = NULL, *p = NULL;
    read_begin();
    int le = store_key_list(lr, &q, &fx_arena, &l, &ld);
    int pe = pgstore_key_list(pr, &q, &fx_arena, &p, &pd);
    read_end();
    same_err("list keys", le, &ld, pe, &pd);
    ck_assert_int_eq(le, ROSTER_E_OK);
    same_msg(&l->base, &p->base, "keys");
    for (size_t i = 0; i < p->n_keys; i++)
        ck_assert(!p->keys[i]->has_secret_hash && !p->keys[i]->has_previous_secret_hash);
    return p->n_keys;
}

static void k_count(uint64_t want)
{
    uint64_t ln = 99, pn = 99;
    read_begin();
    ck_assert_int_eq(store_key_count(lr, &ln), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_key_count(pr, &pn), ROSTER_E_OK);
    read_end();
    ck_assert_uint_eq(ln, want);
    ck_assert_uint_eq(pn, want);
}

static void same_principal(const store_principal *a, const store_principal *b)
{
    char x[ROSTER_UUID_TEXT_LEN + 1], y[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid_format(x, &a->key_id);
    roster_uuid_format(y, &b->key_id);
    ck_assert_str_eq(pg_of(x), y);
    ck_assert_int_eq(a->role, b->role);
    ck_assert_int_eq(a->has_tenant, b->has_tenant);
    if (a->has_tenant) {
        roster_uuid_format(x, &a->tenant);
        roster_uuid_format(y, &b->tenant);
        ck_assert_str_eq(pg_of(x), y);
    }
    ck_assert_int_eq(a->last_used_at, b->last_used_at);
}

/* Authenticates lm_text on LMDB and pg_text on PostgreSQL at `now`;
 * *out (may be NULL): PostgreSQL's principal. */
static int k_auth(const char *lm_text, const char *pg_text, int64_t now, store_principal *out)
{
    store_principal lp, pp;
    roster_err_detail ld = {0}, pd = {0};
    read_begin();
    int le = store_key_authenticate(lr, lm_text, strlen(lm_text), now, &lp, &ld);
    int pe = pgstore_key_authenticate(pr, pg_text, strlen(pg_text), now, &pp, &pd);
    read_end();
    same_err("authenticate", le, &ld, pe, &pd);
    if (le == ROSTER_E_OK) {
        same_principal(&lp, &pp);
        if (out)
            *out = pp;
    }
    return le;
}

/* The refusal reason both give for the key texts, or "" when accepted. */
static const char *k_auth_reason(const char *lm_text, const char *pg_text, int64_t now)
{
    static char reason[256];
    store_principal pp;
    roster_err_detail d = {0};
    pgstore_rtxn *r;
    k_auth(lm_text, pg_text, now, NULL);
    ck_assert_int_eq(pgstore_read_begin(pg, &r), ROSTER_E_OK);
    int err = pgstore_key_authenticate(r, pg_text, strlen(pg_text), now, &pp, &d);
    pgstore_read_end(r);
    if (err == ROSTER_E_OK)
        return "";
    ck_assert_int_eq(err, ROSTER_E_UNAUTHENTICATED);
    ck_assert_str_eq(d.field, "credential");
    snprintf(reason, sizeof reason, "%s", d.message);
    return reason;
}

/* The principal of key pair `slot` at `now` on both; slot < 0: an id no
 * key has. */
static int k_principal(int slot, int64_t now, store_principal *out)
{
    roster_uuid lid, pid;
    if (slot < 0) {
        roster_uuid_v7(&lid, roster_now_ms());
        pid = lid;
    } else {
        ck_assert_int_eq(roster_uuid_parse(&lid, lm_id[slot], ROSTER_UUID_TEXT_LEN), ROSTER_E_OK);
        ck_assert_int_eq(roster_uuid_parse(&pid, pg_id[slot], ROSTER_UUID_TEXT_LEN), ROSTER_E_OK);
    }
    store_principal lp, pp;
    roster_err_detail ld = {0}, pd = {0};
    read_begin();
    int le = store_key_principal(lr, &lid, now, &lp, &ld);
    int pe = pgstore_key_principal(pr, &pid, now, &pp, &pd);
    read_end();
    same_err("principal", le, &ld, pe, &pd);
    if (le == ROSTER_E_OK) {
        same_principal(&lp, &pp);
        if (out)
            *out = pp;
    }
    return le;
}

/* ------------------------------------------------------------ tests */

/* Creates, updates and restores: validation, scope, the default mark
 * moving (the previous default's record changes with it), a restored
 * record kept as given, failed operations inside a group. */
START_TEST(tenant_writes_match)
{
    char long_name[300];
    memset(long_name, 'n', 256);
    long_name[256] = '\0';
    ck_assert_int_eq(t_create(-1, NULL, NULL, -1, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(t_create(-1, "", NULL, -1, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(t_create(-1, long_name, NULL, -1, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(t_create(-1, "a\x01", NULL, -1, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(t_create(-1, "ok", "", -1, NULL), ROSTER_E_INVALID_ARGUMENT);
    int a = t_create_ok("Acme", "acme-1", true);
    /* A tenant-bound caller cannot create tenants. */
    ck_assert_int_eq(t_create(a, "Evil", NULL, 0, NULL), ROSTER_E_PERMISSION_DENIED);
    int b = t_create_ok("Beta", NULL, false);
    int c;
    ck_assert_int_eq(t_create(-1, "Gamma", NULL, -1, &c), ROSTER_E_OK);
    Roster__V1__Tenant *la, *pa;
    ck_assert_int_eq(t_get(-1, at(a), false, &la, &pa), ROSTER_E_OK);
    ck_assert(pa->is_default);

    /* A new default takes the mark from the previous one, whose record
     * changes with it. */
    int d = t_create_ok("Delta", NULL, true);
    Roster__V1__Tenant *ld, *pd;
    ck_assert_int_eq(t_get(-1, at(a), false, &la, &pa), ROSTER_E_OK);
    ck_assert_int_eq(t_get(-1, at(d), false, &ld, &pd), ROSTER_E_OK);
    ck_assert(!pa->is_default && !la->is_default);
    ck_assert(pd->is_default);
    ck_assert_int_ge(pa->updated_at, pd->created_at);
    ck_assert_int_ge(la->updated_at, ld->created_at);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_tenants WHERE is_default"), 1);

    /* Updates: checks first, then the stored tenant. */
    Roster__V1__UpdateTenantRequest u = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
    u.name = "Acme 2";
    ck_assert_int_eq(t_update(-1, &u, NULL, NULL), ROSTER_E_INVALID_ARGUMENT); /* no id */
    u.id = "nope";
    ck_assert_int_eq(t_update(-1, &u, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    u.id = "0190c1a2-0000-7000-8000-000000000001";
    ck_assert_int_eq(t_update(-1, &u, NULL, NULL), ROSTER_E_NOT_FOUND);
    u.id = (char *)at(a);
    u.reference = "r";
    u.has_clear_reference = u.clear_reference = 1;
    ck_assert_int_eq(t_update(-1, &u, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    u.reference = NULL;
    u.name = "";
    ck_assert_int_eq(t_update(-1, &u, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    u.name = "Acme 2";
    Roster__V1__Tenant *lu, *pu;
    ck_assert_int_eq(t_update(-1, &u, &lu, &pu), ROSTER_E_OK);
    ck_assert_ptr_null(pu->reference);
    ck_assert_str_eq(pu->name, "Acme 2");
    /* A tenant-bound caller: another tenant does not exist for it, its
     * own it may rename, the default it may not change. */
    Roster__V1__UpdateTenantRequest s = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
    s.id = (char *)at(a);
    s.name = "Mine";
    ck_assert_int_eq(t_update(b, &s, NULL, NULL), ROSTER_E_NOT_FOUND);
    s.id = (char *)at(b);
    ck_assert_int_eq(t_update(b, &s, NULL, NULL), ROSTER_E_OK);
    s.has_is_default = 1;
    s.is_default = 1;
    ck_assert_int_eq(t_update(b, &s, NULL, NULL), ROSTER_E_PERMISSION_DENIED);
    s.is_default = 0;
    ck_assert_int_eq(t_update(b, &s, NULL, NULL), ROSTER_E_PERMISSION_DENIED);
    /* The mark moves by update, and goes. */
    Roster__V1__UpdateTenantRequest m = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
    m.id = (char *)at(b);
    m.has_is_default = m.is_default = 1;
    m.reference = "beta";
    ck_assert_int_eq(t_update(-1, &m, &lu, &pu), ROSTER_E_OK);
    ck_assert(pu->is_default);
    ck_assert_int_eq(t_get(-1, at(d), false, &ld, &pd), ROSTER_E_OK);
    ck_assert(!pd->is_default);
    ck_assert_int_eq(t_update(-1, &m, NULL, NULL), ROSTER_E_OK); /* already the default */
    m.is_default = 0;
    ck_assert_int_eq(t_update(-1, &m, &lu, &pu), ROSTER_E_OK);
    ck_assert(!pu->is_default);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_tenants WHERE is_default"), 0);
    m.is_default = 1;
    ck_assert_int_eq(t_update(-1, &m, NULL, NULL), ROSTER_E_OK);

    /* Restores keep what they are given; a default restored takes the
     * mark, the previous default's updatedAt moving to the restored
     * one's. */
    int64_t later = roster_now_ms() + 3600 * 1000;
    Roster__V1__Tenant r = ROSTER__V1__TENANT__INIT;
    r.id = "0190C1A2-0000-7000-8000-0000000000AA";
    r.name = "Restored";
    r.reference = "rst";
    r.has_created_at = r.has_updated_at = 1;
    r.created_at = 1700000000000;
    r.updated_at = later;
    r.has_is_default = r.is_default = 1;
    r.has_user_count = 1;
    r.user_count = 42;
    ck_assert_int_eq(t_restore(&r), ROSTER_E_OK);
    ck_assert_int_eq(t_restore(&r), ROSTER_E_ALREADY_EXISTS);
    exact_times = true;
    Roster__V1__Tenant *lr_, *pr_;
    ck_assert_int_eq(t_get(-1, "0190c1a2-0000-7000-8000-0000000000aa", false, &lr_, &pr_),
                     ROSTER_E_OK);
    exact_times = false;
    ck_assert_str_eq(pr_->id, "0190c1a2-0000-7000-8000-0000000000aa");
    ck_assert(pr_->is_default && !pr_->has_user_count);
    ck_assert_int_eq(pr_->updated_at, later);
    Roster__V1__Tenant *lb, *pb;
    ck_assert_int_eq(t_get(-1, at(b), false, &lb, &pb), ROSTER_E_OK);
    ck_assert(!pb->is_default);
    ck_assert_int_eq(pb->updated_at, later);
    ck_assert_int_eq(lb->updated_at, later);
    Roster__V1__Tenant bad = r;
    bad.id = "00000000-0000-0000-0000-000000000000";
    ck_assert_int_eq(t_restore(&bad), ROSTER_E_INVALID_ARGUMENT);
    bad.id = "0190c1a2-0000-7000-8000-0000000000ab";
    bad.has_updated_at = 0;
    ck_assert_int_eq(t_restore(&bad), ROSTER_E_INVALID_ARGUMENT);
    bad.has_updated_at = 1;
    bad.name = NULL;
    ck_assert_int_eq(t_restore(&bad), ROSTER_E_INVALID_ARGUMENT);
    bad.name = "Plain";
    bad.has_is_default = 0;
    ck_assert_int_eq(t_restore(&bad), ROSTER_E_OK);

    /* One group: a failed operation leaves its neighbours alone. */
    group_begin();
    int e = t_create_ok("Epsilon", NULL, false);
    ck_assert_int_eq(t_create(-1, NULL, NULL, -1, NULL), ROSTER_E_INVALID_ARGUMENT);
    u.id = (char *)at(e);
    u.name = "Epsilon 2";
    u.has_clear_reference = u.clear_reference = 0;
    ck_assert_int_eq(t_update(-1, &u, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(t_restore(&r), ROSTER_E_ALREADY_EXISTS);
    int z = t_create_ok("Zeta", NULL, true);
    group_commit();
    ck_assert_int_eq(t_get(-1, at(e), false, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(t_get(-1, at(z), false, NULL, &pu), ROSTER_E_OK);
    ck_assert(pu->is_default);
    ck_assert_int_eq(t_get(-1, "0190c1a2-0000-7000-8000-0000000000aa", false, NULL, &pu),
                     ROSTER_E_OK);
    ck_assert(!pu->is_default);
    Roster__V1__ListTenantsRequest all = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    all.has_limit = 1;
    all.limit = 100;
    t_list_walk(-1, &all);
}
END_TEST

/* Delete refusals and deletes: scope, malformed and unknown ids, users
 * (deactivated ones included), the default tenant, live API keys
 * (revoked ones do not count), and a delete after the users left in the
 * same group. */
START_TEST(tenant_deletes_match)
{
    int a = t_create_ok("Acme", NULL, true);
    int b = t_create_ok("Beta", NULL, false);
    int c = t_create_ok("Gamma", NULL, false);
    int u1, u2, u3;
    ck_assert_int_eq(u_create(b, "u1", true, &u1), ROSTER_E_OK);
    ck_assert_int_eq(u_create(b, "u2", false, &u2), ROSTER_E_OK);
    ck_assert_int_eq(u_create(c, "u3", false, &u3), ROSTER_E_OK);
    int kb, kc;
    ck_assert_int_eq(k_create("kb", ROSTER__V1__ROLE__ROLE_WRITER, at(b), 0, &kb), ROSTER_E_OK);
    ck_assert_int_eq(k_create("kc", ROSTER__V1__ROLE__ROLE_READER, at(c), 0, &kc), ROSTER_E_OK);
    ck_assert_int_eq(k_create("admin", ROSTER__V1__ROLE__ROLE_ADMIN, NULL, 0, NULL), ROSTER_E_OK);
    ck_assert_int_eq(k_revoke(at(kc), NULL, NULL), ROSTER_E_OK);

    ck_assert_int_eq(t_delete(b, at(b)), ROSTER_E_PERMISSION_DENIED);
    ck_assert_int_eq(t_delete(-1, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(t_delete(-1, "x"), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(t_delete(-1, "0190c1a2-0000-7000-8000-000000000001"), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(t_delete(-1, at(a)), ROSTER_E_FAILED_PRECONDITION);
    ck_assert_int_eq(t_delete(-1, at(b)), ROSTER_E_FAILED_PRECONDITION);
    ck_assert_int_eq(t_delete(-1, at(c)), ROSTER_E_FAILED_PRECONDITION); /* one deactivated */
    u_delete(u1);
    ck_assert_int_eq(t_delete(-1, at(b)), ROSTER_E_FAILED_PRECONDITION);
    u_delete(u2);
    /* No users left, but a live key names it. */
    ck_assert_int_eq(t_delete(-1, at(b)), ROSTER_E_FAILED_PRECONDITION);
    ck_assert_int_eq(k_revoke(at(kb), NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(t_delete(-1, at(b)), ROSTER_E_OK);
    ck_assert_int_eq(t_delete(-1, at(b)), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(t_get(-1, at(b), false, NULL, NULL), ROSTER_E_NOT_FOUND);
    /* Its counter went with it; a key cannot name it any more. */
    t_user_count(b, 0);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM roster_counts WHERE scope = '%s'", pg_id[b]);
    ck_assert_int_eq(pgfx_sql(sql), 0);
    ck_assert_int_eq(k_create("late", ROSTER__V1__ROLE__ROLE_READER, at(b), 0, NULL),
                     ROSTER_E_NOT_FOUND);

    /* A user moved out makes the tenant deletable; revoked keys keep
     * naming it. */
    u_move(u3, a, false);
    ck_assert_int_eq(t_delete(-1, at(c)), ROSTER_E_OK);
    k_list(true);

    /* The default: refused until the mark goes. */
    u_delete(u3);
    ck_assert_int_eq(t_delete(-1, at(a)), ROSTER_E_FAILED_PRECONDITION);
    Roster__V1__UpdateTenantRequest m = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
    m.id = (char *)at(a);
    m.has_is_default = 1;
    m.is_default = 0;
    ck_assert_int_eq(t_update(-1, &m, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(t_delete(-1, at(a)), ROSTER_E_OK);

    /* In one group: users created and deleted, then the tenant; a delete
     * refused in the middle changes nothing. */
    int d = t_create_ok("Delta", NULL, false);
    group_begin();
    int u4, u5;
    ck_assert_int_eq(u_create(d, "u4", true, &u4), ROSTER_E_OK);
    ck_assert_int_eq(u_create(d, "u5", false, &u5), ROSTER_E_OK);
    ck_assert_int_eq(t_delete(-1, at(d)), ROSTER_E_FAILED_PRECONDITION);
    u_delete(u4);
    u_delete(u5);
    ck_assert_int_eq(t_delete(-1, at(d)), ROSTER_E_OK);
    group_commit();
    ck_assert_int_eq(t_get(-1, at(d), false, NULL, NULL), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_tenants"), 0);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_counts WHERE users <> 0"), 0);
    Roster__V1__ListTenantsRequest all = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    t_list_walk(-1, &all);
}
END_TEST

/* Point reads and counts: user_count leaves deactivated users out and
 * follows moves; scope; batch answers in request order. */
START_TEST(tenant_reads_match)
{
    int a = t_create_ok("Acme", NULL, false);
    int b = t_create_ok("Beta", "b", true);
    int c = t_create_ok("Gamma", NULL, false);
    int us[6];
    for (int i = 0; i < 4; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "a%d", i);
        ck_assert_int_eq(u_create(a, ref, i != 3, &us[i]), ROSTER_E_OK);
    }
    ck_assert_int_eq(u_create(b, "b0", true, &us[4]), ROSTER_E_OK);
    ck_assert_int_eq(u_create(-1, "none", true, &us[5]), ROSTER_E_OK); /* the default: b */
    t_user_count(a, 3);
    t_user_count(b, 2);
    t_user_count(c, 0);
    u_move(us[4], c, true);
    u_move(us[0], c, false);
    t_user_count(a, 2);
    t_user_count(b, 1);
    t_user_count(c, 1);
    t_user_count(-1, 0);

    Roster__V1__Tenant *lt, *pt;
    ck_assert_int_eq(t_get(-1, at(a), true, &lt, &pt), ROSTER_E_OK);
    ck_assert(pt->has_user_count);
    ck_assert_int_eq(pt->user_count, 2);
    ck_assert_int_eq(t_get(-1, at(c), false, &lt, &pt), ROSTER_E_OK);
    ck_assert(!pt->has_user_count);
    ck_assert_int_eq(t_get(a, at(a), true, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(t_get(a, at(b), true, NULL, NULL), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(t_get(-1, "nope", false, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(t_get(-1, NULL, false, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(t_get(-1, "0190c1a2-0000-7000-8000-000000000009", false, NULL, NULL),
                     ROSTER_E_NOT_FOUND);

    const char *ids[] = {at(c), "0190c1a2-0000-7000-8000-000000000009", at(a), at(c), at(b)};
    ck_assert_int_eq(t_batch(-1, ids, 5, true), ROSTER_E_OK);
    ck_assert_int_eq(t_batch(-1, ids, 5, false), ROSTER_E_OK);
    ck_assert_int_eq(t_batch(c, ids, 5, true), ROSTER_E_OK);
    ck_assert_int_eq(t_batch(-1, ids, 0, true), ROSTER_E_OK);
    const char *bad[] = {at(a), "zz"};
    ck_assert_int_eq(t_batch(-1, bad, 2, false), ROSTER_E_INVALID_ARGUMENT);
    static const char *many[ROSTER_MAX_BATCH + 1];
    for (size_t i = 0; i <= ROSTER_MAX_BATCH; i++)
        many[i] = at(a);
    ck_assert_int_eq(t_batch(-1, many, ROSTER_MAX_BATCH + 1, false), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(t_batch(-1, many, ROSTER_MAX_BATCH, true), ROSTER_E_OK);
}
END_TEST

static Roster__V1__StringFilter *sfilter(void)
{
    Roster__V1__StringFilter *f = roster_arena_alloc(&fx_arena, sizeof *f);
    roster__v1__string_filter__init(f);
    return f;
}

static Roster__V1__StringList *slist(size_t n, const char *const *v)
{
    Roster__V1__StringList *l = roster_arena_alloc(&fx_arena, sizeof *l);
    roster__v1__string_list__init(l);
    l->n_values = n;
    l->values = roster_arena_alloc(&fx_arena, (n + 1) * sizeof *l->values);
    for (size_t i = 0; i < n; i++)
        l->values[i] = (char *)v[i];
    return l;
}

/* Walks every page of one list query (sort, order, limit < 0: absent;
 * include_user_count when the limit is 1) on both stores as a caller of
 * scope pair `scope`, then its pages at offsets 1, 8, ... up to
 * max_offset. */
static void list_case(int scope, int sort, int order, const Roster__V1__TenantFilter *f, int limit,
                      int max_offset)
{
    Roster__V1__ListTenantsRequest q = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    Roster__V1__TenantOrder ord = ROSTER__V1__TENANT_ORDER__INIT;
    if (sort >= 0 || order >= 0) {
        ord.has_sort = sort >= 0;
        ord.sort = sort >= 0 ? sort : 0;
        ord.has_order = order >= 0;
        ord.order = order >= 0 ? order : 0;
        q.order = &ord;
    }
    q.filter = (Roster__V1__TenantFilter *)f;
    if (limit >= 0) {
        q.has_limit = 1;
        q.limit = limit;
    }
    q.has_include_user_count = q.include_user_count = limit == 1;
    t_list_walk(scope, &q);
    for (int off = 1; off <= max_offset; off += 7) {
        q.has_offset = 1;
        q.offset = off;
        ck_assert_int_eq(t_list_page(scope, &q, NULL, NULL, NULL, NULL), ROSTER_E_OK);
    }
}

/* Lists: every order, a set of filters and scopes, limits and offsets,
 * walked page by page through each store's own cursors; totals; request
 * errors; a cursor that continues after the tenants around it changed. */
START_TEST(tenant_lists_match)
{
    static const char *const names[] = {"Acme",      "acme", "ACME",  "Acme",      "Ac",
                                        "Acme Corp", "Beta", "b",     "\xc3\x84g", "Zulu",
                                        "Acme",      "Ω",    "Delta", "_x_",       "100%"};
    enum { N = sizeof names / sizeof names[0] };
    int t[N];
    for (int i = 0; i < N; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "ref-%d", i % 4);
        t[i] = t_create_ok(names[i], i % 3 ? ref : NULL, i == 5);
    }
    int user;
    ck_assert_int_eq(u_create(t[2], "u", true, &user), ROSTER_E_OK);

    /* Filters (ids as templates), scopes. */
    enum { NF = 11 };
    Roster__V1__TenantFilter filters[NF];
    for (int i = 0; i < NF; i++)
        roster__v1__tenant_filter__init(&filters[i]);
    Roster__V1__IdFilter idf[4];
    for (int i = 0; i < 4; i++)
        roster__v1__id_filter__init(&idf[i]);
    filters[1].name = sfilter();
    filters[1].name->like = "Ac%";
    filters[2].name = sfilter();
    filters[2].name->i_like = "acme%";
    filters[3].reference = sfilter();
    filters[3].reference->has_equal_to_null = filters[3].reference->equal_to_null = 1;
    filters[4].reference = sfilter();
    filters[4].reference->not_equal_to = "ref-1";
    const char *in[] = {"Acme", "b", "Zulu", "nobody"};
    filters[5].name = sfilter();
    filters[5].name->value_in = slist(4, in);
    idf[0].equal_to = (char *)at(t[3]);
    filters[6].id = &idf[0];
    const char *notin[] = {at(t[0]), at(t[3]), at(t[4])};
    idf[1].value_not_in = slist(3, notin);
    filters[7].id = &idf[1];
    filters[7].name = sfilter();
    filters[7].name->like = "%c%";
    filters[8].name = sfilter();
    filters[8].name->equal_to = "100%";
    idf[2].not_equal_to = (char *)at(t[6]);
    filters[9].id = &idf[2];
    filters[10].name = sfilter();
    filters[10].name->like = "nothing here";

    static const int sorts[] = {-1, ROSTER__V1__TENANT_SORT_FIELD__TENANT_SORT_FIELD_UNSPECIFIED,
                                ROSTER__V1__TENANT_SORT_FIELD__TENANT_SORT_FIELD_CREATED_AT,
                                ROSTER__V1__TENANT_SORT_FIELD__TENANT_SORT_FIELD_NAME};
    static const int orders[] = {-1, ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC,
                                 ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC};
    static const int limits[] = {-1, 0, 1, 4};
    int walks = 0;
    for (size_t s = 0; s < 4; s++)
        for (size_t o = 0; o < 3; o++)
            for (int f = -1; f < NF; f++)
                for (size_t l = 0; l < 4; l++) {
                    const Roster__V1__TenantFilter *fi = f >= 0 ? &filters[f] : NULL;
                    list_case(-1, sorts[s], orders[o], fi, limits[l], l == 3 ? N + 1 : 0);
                    walks++;
                    if (f <= 1 && l <= 2) {
                        list_case(t[3], sorts[s], orders[o], fi, limits[l], 0);
                        walks++;
                    }
                }
    ck_assert_int_gt(walks, 300);

    /* Totals and pages for a few queries checked by hand too. */
    Roster__V1__ListTenantsRequest q = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    Roster__V1__ListTenantsResponse *l, *p;
    ck_assert_int_eq(t_list_page(-1, &q, NULL, NULL, &l, &p), ROSTER_E_OK);
    ck_assert_int_eq(p->total_count, N);
    ck_assert_uint_eq(p->n_tenants, N);
    ck_assert_str_eq(p->tenants[0]->id, pg_id[t[N - 1]]); /* createdAt DESC */
    Roster__V1__TenantOrder by_name = ROSTER__V1__TENANT_ORDER__INIT;
    by_name.has_sort = by_name.has_order = 1;
    by_name.sort = ROSTER__V1__TENANT_SORT_FIELD__TENANT_SORT_FIELD_NAME;
    by_name.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    q.order = &by_name;
    q.filter = &filters[1];
    ck_assert_int_eq(t_list_page(-1, &q, NULL, NULL, &l, &p), ROSTER_E_OK);
    ck_assert_int_eq(p->total_count, 5); /* Ac, Acme x3, Acme Corp */
    ck_assert_str_eq(p->tenants[0]->name, "Ac");
    ck_assert_str_eq(p->tenants[1]->id, pg_id[t[0]]); /* equal names in id order */
    ck_assert_str_eq(p->tenants[2]->id, pg_id[t[3]]);
    ck_assert_str_eq(p->tenants[3]->id, pg_id[t[10]]);
    ck_assert_str_eq(p->tenants[4]->name, "Acme Corp");

    /* Errors. */
    Roster__V1__ListTenantsRequest e = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    e.has_limit = 1;
    e.limit = -1;
    ck_assert_int_eq(t_list_page(-1, &e, NULL, NULL, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    e.limit = ROSTER_MAX_PAGE + 1;
    ck_assert_int_eq(t_list_page(-1, &e, NULL, NULL, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    e.limit = 2;
    e.has_offset = 1;
    e.offset = -3;
    ck_assert_int_eq(t_list_page(-1, &e, NULL, NULL, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    e.offset = 0;
    Roster__V1__TenantOrder bad = ROSTER__V1__TENANT_ORDER__INIT;
    bad.has_sort = 1;
    bad.sort = 99;
    e.order = &bad;
    ck_assert_int_eq(t_list_page(-1, &e, NULL, NULL, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    bad.has_sort = 0;
    bad.has_order = 1;
    bad.order = 7;
    ck_assert_int_eq(t_list_page(-1, &e, NULL, NULL, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    e.order = NULL;
    Roster__V1__TenantFilter longlike = ROSTER__V1__TENANT_FILTER__INIT;
    char pat[300];
    memset(pat, '%', 299);
    pat[299] = '\0';
    longlike.name = sfilter();
    longlike.name->like = pat;
    e.filter = &longlike;
    ck_assert_int_eq(t_list_page(-1, &e, NULL, NULL, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    e.filter = NULL;
    Roster__V1__IdFilter badid = ROSTER__V1__ID_FILTER__INIT;
    badid.equal_to = "nope";
    Roster__V1__TenantFilter idbad = ROSTER__V1__TENANT_FILTER__INIT;
    idbad.id = &badid;
    e.filter = &idbad;
    ck_assert_int_eq(t_list_page(-1, &e, NULL, NULL, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    e.filter = NULL;
    ck_assert_int_eq(t_list_page(-1, &e, "garbage", "garbage", NULL, NULL),
                     ROSTER_E_INVALID_ARGUMENT);
    /* A cursor with an offset, and one of another query. */
    ck_assert_int_eq(t_list_page(-1, &e, NULL, NULL, &l, &p), ROSTER_E_OK);
    const char *lc = l->page_info->end_cursor, *pc = p->page_info->end_cursor;
    e.offset = 1;
    ck_assert_int_eq(t_list_page(-1, &e, lc, pc, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    e.offset = 0;
    e.order = &by_name;
    ck_assert_int_eq(t_list_page(-1, &e, lc, pc, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    e.order = NULL;
    ck_assert_int_eq(t_list_page(t[3], &e, lc, pc, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);

    /* A cursor continues after the tenant it names is gone and others
     * came: in name order ascending and createdAt descending, without
     * and with a filter. Nothing refuses the deletes: the user and the
     * default mark go first. */
    u_delete(user);
    Roster__V1__UpdateTenantRequest plain = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
    plain.id = (char *)at(t[5]);
    plain.has_is_default = 1;
    ck_assert_int_eq(t_update(-1, &plain, NULL, NULL), ROSTER_E_OK);
    Roster__V1__TenantFilter acme = ROSTER__V1__TENANT_FILTER__INIT;
    acme.name = sfilter();
    acme.name->i_like = "%a%";
    for (int k = 0; k < 4; k++) {
        Roster__V1__ListTenantsRequest c = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
        c.has_limit = 1;
        c.limit = 3;
        c.order = k % 2 ? &by_name : NULL;
        c.filter = k >= 2 ? &acme : NULL;
        ck_assert_int_eq(t_list_page(-1, &c, NULL, NULL, &l, &p), ROSTER_E_OK);
        const char *gone = p->tenants[2]->id;
        int slot = -1;
        for (int i = 0; i < n_pairs; i++)
            if (strcmp(pg_id[i], gone) == 0)
                slot = i;
        ck_assert_int_ge(slot, 0);
        ck_assert_int_eq(t_delete(-1, at(slot)), ROSTER_E_OK);
        t_create_ok("Aardvark", NULL, false);
        t_create_ok("Zebra", NULL, false);
        Roster__V1__ListTenantsResponse *l2, *p2;
        ck_assert_int_eq(
            t_list_page(-1, &c, l->page_info->end_cursor, p->page_info->end_cursor, &l2, &p2),
            ROSTER_E_OK);
        ck_assert_uint_gt(p2->n_tenants, 0);
        t_list_walk(-1, &c);
    }
}
END_TEST

/* API keys: create checks, reads, revocation, rotation with its grace,
 * last use, and every authentication answer. */
START_TEST(keys_match)
{
    int a = t_create_ok("Acme", NULL, false);
    int b = t_create_ok("Beta", NULL, false);
    char long_name[300];
    memset(long_name, 'k', 256);
    long_name[256] = '\0';
    int64_t now = roster_now_ms();
    const Roster__V1__Role admin = ROSTER__V1__ROLE__ROLE_ADMIN,
                           writer = ROSTER__V1__ROLE__ROLE_WRITER,
                           reader = ROSTER__V1__ROLE__ROLE_READER;
    ck_assert_int_eq(k_create(NULL, admin, NULL, 0, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(k_create(long_name, admin, NULL, 0, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(k_create("k\n", admin, NULL, 0, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(k_create("k \xc3", admin, NULL, 0, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(k_create("k", ROSTER__V1__ROLE__ROLE_UNSPECIFIED, NULL, 0, NULL),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(k_create("k", (Roster__V1__Role)9, NULL, 0, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(k_create("k", admin, at(a), 0, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(k_create("k", writer, NULL, 0, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(k_create("k", writer, "not-a-uuid", 0, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(k_create("k", reader, at(a), now - 1, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(k_create("k", reader, "0190C1A2-0000-7000-8000-00000000000F", 0, NULL),
                     ROSTER_E_NOT_FOUND);
    long_name[255] = '\0';
    int k1, k2, k3, k4;
    ck_assert_int_eq(k_create(long_name, admin, NULL, 0, &k1), ROSTER_E_OK);
    ck_assert_int_eq(k_create("writer a", writer, at(a), 0, &k2), ROSTER_E_OK);
    int64_t expires = now + 60000;
    ck_assert_int_eq(k_create("reader b", reader, at(b), expires, &k3), ROSTER_E_OK);
    ck_assert_int_eq(k_create("writer a 2", writer, at(a), 0, &k4), ROSTER_E_OK);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_keys WHERE tenant_id IS NOT NULL"), 3);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_keys WHERE tenant_id IS NULL"), 1);

    ck_assert_int_eq(k_get(at(k3), NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(k_get("0190c1a2-0000-7000-8000-000000000009", NULL, NULL), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(k_get("bad", NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(k_get(NULL, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_uint_eq(k_list(false), 4);
    k_count(4);

    /* Authentication. */
    store_principal pp;
    ck_assert_int_eq(k_auth(lm_secret[k1], pg_secret[k1], now, &pp), ROSTER_E_OK);
    ck_assert_int_eq(pp.role, admin);
    ck_assert(!pp.has_tenant);
    ck_assert_int_eq(k_auth(lm_secret[k2], pg_secret[k2], now, &pp), ROSTER_E_OK);
    ck_assert(pp.has_tenant);
    ck_assert_str_eq(k_auth_reason("rstr_short", "rstr_short", now), "malformed key");
    ck_assert_str_eq(k_auth_reason("", "", now), "malformed key");
    char unknown[ROSTER_APIKEY_TEXT_LEN + 1];
    uint8_t hash[ROSTER_APIKEY_HASH_LEN];
    roster_uuid nid;
    roster_uuid_v7(&nid, now);
    ck_assert_int_eq(roster_apikey_mint(unknown, hash, &nid), ROSTER_E_OK);
    ck_assert_str_eq(k_auth_reason(unknown, unknown, now), "unknown key");
    char lwrong[ROSTER_APIKEY_TEXT_LEN + 1], pwrong[ROSTER_APIKEY_TEXT_LEN + 1];
    memcpy(lwrong, lm_secret[k2], sizeof lwrong);
    memcpy(pwrong, pg_secret[k2], sizeof pwrong);
    lwrong[ROSTER_APIKEY_TEXT_LEN - 3] = lwrong[ROSTER_APIKEY_TEXT_LEN - 3] == 'A' ? 'B' : 'A';
    pwrong[ROSTER_APIKEY_TEXT_LEN - 3] = pwrong[ROSTER_APIKEY_TEXT_LEN - 3] == 'A' ? 'B' : 'A';
    ck_assert_str_eq(k_auth_reason(lwrong, pwrong, now), "wrong secret");
    ck_assert_str_eq(k_auth_reason(lm_secret[k3], pg_secret[k3], expires - 1), "");
    ck_assert_str_eq(k_auth_reason(lm_secret[k3], pg_secret[k3], expires), "key expired");
    ck_assert_int_eq(k_principal(k3, expires - 1, NULL), ROSTER_E_OK);
    ck_assert_int_eq(k_principal(k3, expires, NULL), ROSTER_E_UNAUTHENTICATED);
    ck_assert_int_eq(k_principal(-1, now, NULL), ROSTER_E_UNAUTHENTICATED);

    /* Revocation: idempotent, keeps the first time; the key stops. */
    Roster__V1__ApiKey *l1, *p1, *l2, *p2;
    ck_assert_int_eq(k_revoke(at(k4), &l1, &p1), ROSTER_E_OK);
    ck_assert(p1->has_revoked_at);
    ck_assert_int_eq(k_revoke(at(k4), &l2, &p2), ROSTER_E_OK);
    ck_assert_int_eq(p2->revoked_at, p1->revoked_at);
    ck_assert_int_eq(l2->revoked_at, l1->revoked_at);
    ck_assert_int_eq(k_revoke("0190c1a2-0000-7000-8000-000000000009", NULL, NULL),
                     ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(k_revoke("", NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(k_auth_reason(lm_secret[k4], pg_secret[k4], now), "key revoked");
    ck_assert_int_eq(k_principal(k4, now, NULL), ROSTER_E_UNAUTHENTICATED);
    ck_assert_uint_eq(k_list(false), 3);
    ck_assert_uint_eq(k_list(true), 4);
    k_count(4);

    /* Rotation: the new secret works, the old one for its grace. */
    ck_assert_int_eq(k_rotate(at(k2), STORE_KEY_GRACE_MAX_S + 1), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(k_rotate(at(k4), 10), ROSTER_E_FAILED_PRECONDITION);
    ck_assert_int_eq(k_rotate("0190c1a2-0000-7000-8000-000000000009", 10), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(k_rotate(NULL, 10), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(k_rotate(at(k2), 10), ROSTER_E_OK);
    now = roster_now_ms();
    ck_assert_str_eq(k_auth_reason(lm_secret[k2], pg_secret[k2], now), "");
    ck_assert_str_eq(k_auth_reason(lm_old[k2], pg_old[k2], now), "");
    ck_assert_str_eq(k_auth_reason(lm_old[k2], pg_old[k2], now + 11000),
                     "previous secret past its grace period");
    ck_assert_int_eq(k_rotate(at(k2), -1), ROSTER_E_OK);
    ck_assert_int_eq(k_rotate(at(k2), 0), ROSTER_E_OK);
    ck_assert_str_eq(k_auth_reason(lm_old[k2], pg_old[k2], roster_now_ms()),
                     "previous secret past its grace period");
    ck_assert_str_eq(k_auth_reason(lm_secret[k2], pg_secret[k2], roster_now_ms()), "");
    ck_assert_int_eq(k_get(at(k2), NULL, NULL), ROSTER_E_OK);

    /* Last use moves forward only; a missing key is ignored. */
    k_touch(k1, now + 1000);
    k_touch(k1, now + 500);
    ck_assert_int_eq(k_principal(k1, now, &pp), ROSTER_E_OK);
    ck_assert_int_eq(pp.last_used_at, now + 1000);
    Roster__V1__ApiKey *lk, *pk;
    ck_assert_int_eq(k_get(at(k1), &lk, &pk), ROSTER_E_OK);
    ck_assert_int_eq(pk->last_used_at, now + 1000);
    roster_uuid none;
    roster_uuid_v7(&none, now);
    group_begin();
    ck_assert_int_eq(store_key_touch(lw, &none, now), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_key_touch(pw, &none, now), ROSTER_E_OK);
    /* In a group: a failed create leaves the others. */
    int k5;
    ck_assert_int_eq(k_create("in group", reader, at(b), 0, &k5), ROSTER_E_OK);
    ck_assert_int_eq(k_create("", reader, at(b), 0, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(k_revoke(at(k5), NULL, NULL), ROSTER_E_OK);
    group_commit();
    k_count(5);
    ck_assert_uint_eq(k_list(true), 5);
    ck_assert_uint_eq(k_list(false), 3);
    ck_assert_str_eq(k_auth_reason(lm_secret[k5], pg_secret[k5], roster_now_ms()), "key revoked");
    /* No record in PostgreSQL holds a secret's text. */
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_keys WHERE position('rstr_' in "
                              "encode(record, 'escape')) > 0"),
                     0);
}
END_TEST

/* ------------------------------------------------------------ PostgreSQL only */

/* A write group of its own on another thread. */
typedef struct side_group {
    const char *tenant; /* the tenant operated on (PostgreSQL id text) */
    const char *ref;    /* op 2: the user's reference and email's local part */
    int op;             /* 0: create a default tenant; 1: delete `tenant`; 2: a user in it */
    int err;
    roster_err_detail d;
    char id[ROSTER_UUID_TEXT_LEN + 1]; /* what op 0 created */
} side_group;

static void *side_run(void *arg)
{
    side_group *g = arg;
    roster_arena a;
    roster_arena_init(&a, 0, 0);
    pgstore_wtxn *w;
    g->err = pgstore_write_begin(pg, &w);
    if (g->err != ROSTER_E_OK)
        return NULL;
    if (g->op == 0) {
        Roster__V1__CreateTenantRequest req = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
        req.name = "Second";
        req.has_is_default = req.is_default = 1;
        Roster__V1__Tenant *t = NULL;
        g->err = pgstore_tenant_create(w, NULL, &req, &a, &t, &g->d);
        if (g->err == ROSTER_E_OK)
            snprintf(g->id, sizeof g->id, "%s", t->id);
    } else if (g->op == 1) {
        Roster__V1__DeleteTenantRequest req = ROSTER__V1__DELETE_TENANT_REQUEST__INIT;
        req.id = (char *)g->tenant;
        g->err = pgstore_tenant_delete(w, NULL, &req, &a, NULL, &g->d);
    } else {
        Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        char email[64];
        snprintf(email, sizeof email, "%s@example.org", g->ref);
        req.reference = (char *)g->ref;
        req.email = email;
        req.tenant_id = (char *)g->tenant;
        g->err = pgstore_user_create(w, NULL, &req, &a, NULL, &g->d);
    }
    int cerr = pgstore_write_commit(w);
    if (g->err == ROSTER_E_OK)
        g->err = cerr;
    roster_arena_free(&a);
    return NULL;
}

/* Whether thread th ends within ms milliseconds (joined if so). */
static bool ends_within(pthread_t th, long ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return pthread_timedjoin_np(th, NULL, &until) == 0;
}

static char *pg_tenant(pgstore_wtxn *w, const char *name, bool def)
{
    Roster__V1__CreateTenantRequest req = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    req.name = (char *)name;
    req.has_is_default = req.is_default = def;
    Roster__V1__Tenant *t;
    ck_assert_int_eq(pgstore_tenant_create(w, NULL, &req, &fx_arena, &t, NULL), ROSTER_E_OK);
    return t->id;
}

static bool pg_is_default(const char *id)
{
    pgstore_rtxn *r;
    Roster__V1__GetTenantRequest g = ROSTER__V1__GET_TENANT_REQUEST__INIT;
    g.id = (char *)id;
    Roster__V1__Tenant *t;
    ck_assert_int_eq(pgstore_read_begin(pg, &r), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_tenant_get(r, NULL, &g, &fx_arena, &t, NULL), ROSTER_E_OK);
    pgstore_read_end(r);
    return t->has_is_default && t->is_default;
}

/* Groups at once on PostgreSQL (the LMDB store has one writer): two
 * defaults made at once take turns and leave one; a delete waits for a
 * group adding an API key to the tenant and then refuses; a group adding
 * a user waits for a group changing its tenant, then goes on. */
START_TEST(concurrent_groups)
{
    pgstore_wtxn *w;
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    char *first = pg_tenant(w, "First", true);
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);

    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    char *mine = pg_tenant(w, "Mine", true);
    side_group g = {.op = 0};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, side_run, &g), 0);
    ck_assert(!ends_within(th, 300)); /* waits for this group's default */
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
    ck_assert(ends_within(th, 10000));
    ck_assert_msg(g.err == ROSTER_E_OK, "%s", g.d.message);
    ck_assert(!pg_is_default(first));
    ck_assert(!pg_is_default(mine));
    ck_assert(pg_is_default(g.id));
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_tenants WHERE is_default"), 1);

    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    Roster__V1__CreateKeyRequest kr = ROSTER__V1__CREATE_KEY_REQUEST__INIT;
    kr.name = "k";
    kr.has_role = 1;
    kr.role = ROSTER__V1__ROLE__ROLE_READER;
    kr.tenant_id = first;
    Roster__V1__KeySecret *ks;
    ck_assert_int_eq(pgstore_key_create(w, &kr, &fx_arena, &ks, NULL), ROSTER_E_OK);
    side_group del = {.op = 1, .tenant = first};
    ck_assert_int_eq(pthread_create(&th, NULL, side_run, &del), 0);
    ck_assert(!ends_within(th, 300)); /* the key's group holds the tenant */
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
    ck_assert(ends_within(th, 10000));
    ck_assert_int_eq(del.err, ROSTER_E_FAILED_PRECONDITION);
    ck_assert_ptr_nonnull(strstr(del.d.message, "API key"));

    /* Write groups take turns from their first operation (the change
     * feed numbers events in commit order, pg_internal.h): a group adding
     * a user waits for one changing its tenant, rename or not, and goes
     * on once it commits. */
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    Roster__V1__UpdateTenantRequest u = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
    u.id = mine;
    u.reference = "mine";
    ck_assert_int_eq(pgstore_tenant_update(w, NULL, &u, &fx_arena, NULL, NULL), ROSTER_E_OK);
    side_group usr = {.op = 2, .tenant = mine, .ref = "side1"};
    ck_assert_int_eq(pthread_create(&th, NULL, side_run, &usr), 0);
    ck_assert(!ends_within(th, 300));
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
    ck_assert(ends_within(th, 10000));
    ck_assert_msg(usr.err == ROSTER_E_OK, "%s", usr.d.message);
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    u.reference = NULL;
    u.name = "Renamed";
    ck_assert_int_eq(pgstore_tenant_update(w, NULL, &u, &fx_arena, NULL, NULL), ROSTER_E_OK);
    side_group usr2 = {.op = 2, .tenant = mine, .ref = "side2"};
    ck_assert_int_eq(pthread_create(&th, NULL, side_run, &usr2), 0);
    ck_assert(!ends_within(th, 300));
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
    ck_assert(ends_within(th, 10000));
    ck_assert_msg(usr2.err == ROSTER_E_OK, "%s", usr2.d.message);
    pgstore_rtxn *r;
    int64_t n = 0;
    roster_uuid mid;
    ck_assert_int_eq(roster_uuid_parse(&mid, mine, strlen(mine)), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_read_begin(pg, &r), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_tenant_user_count(r, &mid, &n), ROSTER_E_OK);
    pgstore_read_end(r);
    ck_assert_int_eq(n, 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pg_tenants");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, tenant_writes_match);
    tcase_add_test(tc, tenant_deletes_match);
    tcase_add_test(tc, tenant_reads_match);
    tcase_add_test(tc, tenant_lists_match);
    tcase_add_test(tc, keys_match);
    tcase_add_test(tc, concurrent_groups);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
