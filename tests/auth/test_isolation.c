/* Tenant isolation, property-tested against the real daemons.
 *
 * roster-users listens on tcp:// with an admin key made at first start
 * (--init-admin-key); roster-gateway forwards to it. With the admin key the
 * suite makes two tenants, A and B (B is the default tenant, so a user
 * created without a tenantId must not fall into it from an A key), a
 * writer and a reader key for each, and seeds users in both. Then it runs
 * a few thousand random operations (seeded PRNG; the seed is printed and
 * ROSTER_ISO_SEED replays it, ROSTER_ISO_OPS sets the count, at most 20000
 * so that the admin view stays one page) as the four tenant keys, half over
 * raw RPC (the key as the call's credential), half over GraphQL (the key as
 * an Authorization: Bearer header; POST, and GET for every fourth query).
 *
 * Every read is compared with the admin view of the same request on the
 * same channel, cut down to the caller's tenant: a tenant key must read
 * exactly its tenant's records (same totals, same page under the same
 * order, no record of the other tenant) and each record must equal the
 * suite's model, which is updated on every successful write (deletes, over
 * RPC only, included). Every write
 * the caller may not make must be refused with the expected status and
 * change nothing; at the end the admin view of every user, tenant and key
 * must equal the model, so a refused or foreign write that landed anyway
 * is found. A refusal for another tenant's id must read like the one for a
 * missing id. A concurrent phase then runs all five keys on both channels
 * at once against the unchanged data. Finally a rotated secret, an expired
 * key and a revoked key are checked to stop working. A summary prints
 * operations per kind, refusals per status and the number of records
 * compared; every finding is printed with its operation number. */
#include "daemon.h"
#include "error.h"
#include "iso_http.h"

#include <check.h>
#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define USERS_URL  "tcp://127.0.0.1:24511"
#define GW_PORT    24512
#define GW_HOST    "127.0.0.1:24512"
#define CALL_MS    10000
#define MAX_USERS  4096
#define SEED_USERS 40 /* per tenant */
#define NONE_USERS 8  /* without a tenant */

static const char *gateway_bin;

/* ---------------------------------------------------------------- PRNG */

static uint64_t rng_state;

static uint64_t rnd(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int rnd_below(int n)
{
    return n <= 0 ? 0 : (int)(rnd() % (uint64_t)n);
}

static bool chance(int pct)
{
    return rnd_below(100) < pct;
}

/* ---------------------------------------------------------------- records */

enum {
    S_ID,
    S_REFERENCE,
    S_EMAIL,
    S_FIRST_NAME,
    S_LAST_NAME,
    S_PHONE,
    S_LOCALE,
    S_TIMEZONE,
    S_TENANT_ID,
    S__COUNT
};
static const char *const s_gql[S__COUNT] = {
    "id", "reference", "email", "firstName", "lastName", "phone", "locale", "timezone", "tenantId"};

typedef struct urec {
    char *s[S__COUNT]; /* NULL = absent */
    int active, opted; /* -1 = absent */
    int64_t created_at, updated_at;
} urec;

typedef struct trec {
    char *id, *name, *reference;
    int is_default;
    int64_t user_count; /* -1 when not asked */
} trec;

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void urec_clear(urec *u)
{
    for (int i = 0; i < S__COUNT; i++)
        free(u->s[i]);
    memset(u, 0, sizeof *u);
}

static void urec_copy(urec *dst, const urec *src)
{
    urec_clear(dst);
    *dst = *src;
    for (int i = 0; i < S__COUNT; i++)
        dst->s[i] = dup_or_null(src->s[i]);
}

static void trec_clear(trec *t)
{
    free(t->id);
    free(t->name);
    free(t->reference);
    memset(t, 0, sizeof *t);
}

static void urec_from_pb(urec *u, const Roster__V1__User *p)
{
    memset(u, 0, sizeof *u);
    u->s[S_ID] = dup_or_null(p->id);
    u->s[S_REFERENCE] = dup_or_null(p->reference);
    u->s[S_EMAIL] = dup_or_null(p->email);
    u->s[S_FIRST_NAME] = dup_or_null(p->first_name);
    u->s[S_LAST_NAME] = dup_or_null(p->last_name);
    u->s[S_PHONE] = dup_or_null(p->phone);
    u->s[S_LOCALE] = dup_or_null(p->locale);
    u->s[S_TIMEZONE] = dup_or_null(p->timezone);
    u->s[S_TENANT_ID] = dup_or_null(p->tenant_id);
    u->active = p->has_active ? p->active : -1;
    u->opted = p->has_is_opted_in ? p->is_opted_in : -1;
    u->created_at = p->has_created_at ? p->created_at : -1;
    u->updated_at = p->has_updated_at ? p->updated_at : -1;
}

static void trec_from_pb(trec *t, const Roster__V1__Tenant *p)
{
    memset(t, 0, sizeof *t);
    t->id = dup_or_null(p->id);
    t->name = dup_or_null(p->name);
    t->reference = dup_or_null(p->reference);
    t->is_default = p->has_is_default ? p->is_default : 0;
    t->user_count = p->has_user_count ? p->user_count : -1;
}

static void iso_date(char out[64], int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static int64_t parse_date(const char *s)
{
    struct tm tm = {0};
    int ms = 0;
    if (s == NULL || sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
        return -2;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int jbool(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_boolean(v) ? json_is_true(v) : -1;
}

static void urec_from_json(urec *u, const json_t *o)
{
    memset(u, 0, sizeof *u);
    for (int i = 0; i < S__COUNT; i++)
        u->s[i] = dup_or_null(jstr(o, s_gql[i]));
    u->active = jbool(o, "active");
    u->opted = jbool(o, "isOptedIn");
    u->created_at = parse_date(jstr(o, "createdAt"));
    u->updated_at = parse_date(jstr(o, "updatedAt"));
}

static void trec_from_json(trec *t, const json_t *o)
{
    memset(t, 0, sizeof *t);
    t->id = dup_or_null(jstr(o, "id"));
    t->name = dup_or_null(jstr(o, "name"));
    t->reference = dup_or_null(jstr(o, "reference"));
    t->is_default = jbool(o, "isDefault");
    json_t *us = json_object_get(o, "users");
    t->user_count =
        json_is_object(us) ? (int64_t)json_integer_value(json_object_get(us, "totalCount")) : -1;
}

static bool str_eq(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Writes the first difference into why; true when equal. */
static bool urec_eq(const urec *a, const urec *b, char *why, size_t cap)
{
    for (int i = 0; i < S__COUNT; i++)
        if (!str_eq(a->s[i], b->s[i])) {
            snprintf(why, cap, "%s: \"%s\" vs \"%s\"", s_gql[i], a->s[i] ? a->s[i] : "(null)",
                     b->s[i] ? b->s[i] : "(null)");
            return false;
        }
    if (a->active != b->active || a->opted != b->opted) {
        snprintf(why, cap, "active/isOptedIn: %d/%d vs %d/%d", a->active, a->opted, b->active,
                 b->opted);
        return false;
    }
    if (a->created_at != b->created_at || a->updated_at != b->updated_at) {
        snprintf(why, cap, "createdAt/updatedAt: %lld/%lld vs %lld/%lld", (long long)a->created_at,
                 (long long)a->updated_at, (long long)b->created_at, (long long)b->updated_at);
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- model */

static urec model[MAX_USERS];
static int n_model;
static int htab[2 * MAX_USERS]; /* index + 1, open addressing */

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static int model_find(const char *id)
{
    if (id == NULL)
        return -1;
    for (uint32_t i = hash_str(id) % (2 * MAX_USERS);; i = (i + 1) % (2 * MAX_USERS)) {
        if (htab[i] == 0)
            return -1;
        if (strcmp(model[htab[i] - 1].s[S_ID], id) == 0)
            return htab[i] - 1;
    }
}

static void model_put(const urec *u)
{
    int i = model_find(u->s[S_ID]);
    if (i >= 0) {
        urec_copy(&model[i], u);
        return;
    }
    ck_assert_int_lt(n_model, MAX_USERS);
    urec_copy(&model[n_model], u);
    uint32_t h = hash_str(u->s[S_ID]) % (2 * MAX_USERS);
    while (htab[h] != 0)
        h = (h + 1) % (2 * MAX_USERS);
    htab[h] = ++n_model;
}

/* Drops user `id` from the model (a delete went through). */
static void model_remove(const char *id)
{
    int i = model_find(id);
    if (i < 0)
        return;
    urec_clear(&model[i]);
    if (i != n_model - 1) {
        model[i] = model[n_model - 1];
        memset(&model[n_model - 1], 0, sizeof model[0]);
    }
    n_model--;
    memset(htab, 0, sizeof htab);
    for (int j = 0; j < n_model; j++) {
        uint32_t h = hash_str(model[j].s[S_ID]) % (2 * MAX_USERS);
        while (htab[h] != 0)
            h = (h + 1) % (2 * MAX_USERS);
        htab[h] = j + 1;
    }
}

/* ---------------------------------------------------------------- actors */

enum { T_A, T_B, T_NONE }; /* T_NONE: users without a tenant */
enum { ACT_ADMIN, ACT_A_WRITER, ACT_A_READER, ACT_B_WRITER, ACT_B_READER, ACT__COUNT };
enum { CH_RPC, CH_GQL };
static const char *const ch_name[] = {"rpc", "graphql"};

typedef struct actor {
    const char *name;
    int tenant; /* T_A, T_B, or -1 for admin */
    bool writer;
    char key[160];
    char key_id[40];
} actor;

static actor actors[ACT__COUNT] = {
    {"admin", -1, true, "", ""},      {"A-writer", T_A, true, "", ""},
    {"A-reader", T_A, false, "", ""}, {"B-writer", T_B, true, "", ""},
    {"B-reader", T_B, false, "", ""},
};
static trec tenants[2];
static rpc_client *cli;

/* ---------------------------------------------------------------- bookkeeping */

enum {
    K_GET_USER,
    K_BATCH_GET,
    K_LIST,
    K_COUNT,
    K_NESTED,
    K_GET_TENANT,
    K_LIST_TENANTS,
    K_CREATE_USER,
    K_UPDATE_USER,
    K_DELETE_USER,
    K_TENANT_WRITE,
    K_STATS,
    K_KEYS,
    K_ADMIN_WRITE,
    K_UNAUTH,
    K__COUNT
};
static const char *const k_name[K__COUNT] = {
    "get user",     "batch get",    "list users",  "count users", "nested tenant",
    "get tenant",   "list tenants", "create user", "update user", "delete user",
    "tenant write", "stats",        "key methods", "admin write", "no/bad key"};
static const int k_weight[K__COUNT] = {13, 8, 24, 6, 7, 6, 5, 9, 10, 3, 3, 2, 2, 3, 2};

static long ops_done[K__COUNT][2];
static long refusals[ROSTER_STATUS__COUNT];
static long records_compared, reads_compared, foreign_seen;
static long violations, mismatches;
/* The operation being checked, per thread (the concurrent phase runs
 * several); the counters above are guarded by report_mu there. */
static _Thread_local long op_no;
static _Thread_local int cur_kind, cur_actor, cur_ch;
static pthread_mutex_t report_mu = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

static void report(bool isolation, const char *fmt, ...)
{
    pthread_mutex_lock(&report_mu);
    va_list ap;
    va_start(ap, fmt);
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (isolation)
        violations++;
    else
        mismatches++;
    if (violations + mismatches <= 40)
        fprintf(stderr, "%s: op #%ld (%s, %s, %s): %s\n",
                isolation ? "ISOLATION VIOLATION" : "MISMATCH", op_no, k_name[cur_kind],
                actors[cur_actor].name, ch_name[cur_ch], msg);
    pthread_mutex_unlock(&report_mu);
}

/* Checks a refusal (or success) against the expected status. */
static void expect_code(int got, int want, const char *what, const char *detail)
{
    if (got != ROSTER_STATUS_OK && got == want)
        refusals[got]++;
    if (got == want)
        return;
    /* A call that should have been refused and was not breaks isolation.
     * So does ALREADY_EXISTS where the model holds no conflicting value in
     * the caller's tenant: uniqueness was judged against records outside
     * the caller's scope, which tells the caller what they hold. Any other
     * wrong code is a contract mismatch. */
    bool leak = (got == ROSTER_STATUS_OK && want != ROSTER_STATUS_OK) ||
                (got == ROSTER_STATUS_ALREADY_EXISTS && cur_actor != ACT_ADMIN);
    report(leak, "%s: got %s, want %s (%s)", what, roster_status_name(got),
           roster_status_name(want), detail ? detail : "");
}

/* ---------------------------------------------------------------- transports */

/* RPC as `key` (NULL = no credential). */
static int rpc(call_res *r, rpc_method_id m, const ProtobufCMessage *req, const char *key)
{
    return call_sync(cli, m, req, CALL_MS, key, r);
}

static int status_from_gql(const char *code)
{
    static const struct {
        const char *name;
        int status;
    } map[] = {
        {"FORBIDDEN", ROSTER_STATUS_PERMISSION_DENIED},
        {"NOT_FOUND", ROSTER_STATUS_NOT_FOUND},
        {"UNAUTHENTICATED", ROSTER_STATUS_UNAUTHENTICATED},
        {"ALREADY_EXISTS", ROSTER_STATUS_ALREADY_EXISTS},
        {"BAD_USER_INPUT", ROSTER_STATUS_INVALID_ARGUMENT},
        {"UNAVAILABLE", ROSTER_STATUS_UNAVAILABLE},
        {"DEADLINE_EXCEEDED", ROSTER_STATUS_DEADLINE_EXCEEDED},
    };
    for (size_t i = 0; code != NULL && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(code, map[i].name) == 0)
            return map[i].status;
    return ROSTER_STATUS_INTERNAL;
}

/* Appends `text` percent-encoded (all but unreserved characters) at
 * out + at; out has room for three bytes per character. Returns the new
 * length. */
static size_t url_encode(char *out, size_t at, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (isalnum(*p) || strchr("-._~", *p) != NULL) {
            out[at++] = (char)*p;
        } else {
            out[at++] = '%';
            out[at++] = hex[*p >> 4];
            out[at++] = hex[*p & 15];
        }
    }
    out[at] = '\0';
    return at;
}

/* POST /graphql (every fourth query GET /graphql) as `key` (NULL = no Authorization header) with
 * `vars` (stolen). Returns the reply's "data" member (owned by *root, which the caller frees with
 * json_decref) when the request succeeded without errors; sets *code to a status (HTTP 401 and
 * extensions.code mapped back). */
static json_t *gql(json_t **root, int *code, char *detail, size_t cap, const char *key,
                   const char *query, json_t *vars)
{
    if (vars == NULL)
        vars = json_object();
    char auth[200];
    if (key != NULL)
        snprintf(auth, sizeof auth, "Bearer %s", key);
    iso_http_reply hr;
    *root = NULL;
    detail[0] = '\0';
    int rc;
    /* Every fourth query goes as GET /graphql?query=&variables=. */
    static _Thread_local unsigned n_queries;
    if (strncmp(query, "query", 5) == 0 && n_queries++ % 4 == 0) {
        char *vtext = json_dumps(vars, JSON_COMPACT);
        json_decref(vars);
        size_t cap_url = 32 + 3 * (strlen(query) + strlen(vtext));
        char *url = malloc(cap_url);
        size_t n = (size_t)snprintf(url, cap_url, "/graphql?query=");
        n = url_encode(url, n, query);
        n += (size_t)snprintf(url + n, cap_url - n, "&variables=");
        url_encode(url, n, vtext);
        free(vtext);
        rc = iso_http_request(&hr, GW_PORT, "GET", url, GW_HOST, key ? auth : NULL, NULL);
        free(url);
    } else {
        json_t *req = json_pack("{s:s, s:o}", "query", query, "variables", vars);
        char *body = json_dumps(req, JSON_COMPACT);
        json_decref(req);
        rc = iso_http_request(&hr, GW_PORT, "POST", "/graphql", GW_HOST, key ? auth : NULL, body);
        free(body);
    }
    if (rc != 0) {
        *code = ROSTER_STATUS_UNAVAILABLE;
        snprintf(detail, cap, "no HTTP reply");
        return NULL;
    }
    json_t *j = json_loads(hr.body, 0, NULL);
    if (hr.status == 401) {
        *code = ROSTER_STATUS_UNAUTHENTICATED;
        snprintf(detail, cap, "HTTP 401");
        iso_http_reply_free(&hr);
        json_decref(j);
        return NULL;
    }
    if (j == NULL) {
        *code = ROSTER_STATUS_INTERNAL;
        snprintf(detail, cap, "HTTP %d, not JSON: %.120s", hr.status, hr.body);
        iso_http_reply_free(&hr);
        return NULL;
    }
    iso_http_reply_free(&hr);
    *root = j;
    json_t *errs = json_object_get(j, "errors");
    if (json_array_size(errs) > 0) {
        json_t *e0 = json_array_get(errs, 0);
        const char *c =
            json_string_value(json_object_get(json_object_get(e0, "extensions"), "code"));
        *code = status_from_gql(c);
        snprintf(detail, cap, "%s: %s", c ? c : "(no code)", jstr(e0, "message"));
        return NULL;
    }
    json_t *data = json_object_get(j, "data");
    if (!json_is_object(data)) {
        *code = ROSTER_STATUS_INTERNAL;
        snprintf(detail, cap, "no data");
        return NULL;
    }
    *code = ROSTER_STATUS_OK;
    return data;
}

#define USER_FIELDS                                                                                \
    "id reference email firstName lastName phone locale timezone isOptedIn active tenantId "       \
    "createdAt updatedAt"
static const char Q_USER[] = "query($id: ID!) { user(id: $id) { " USER_FIELDS " } }";
static const char Q_USERS[] =
    "query($f: UserFilterArgType, $l: Int, $o: Int, $ord: UserOrderArgType, "
    "$s: UserSearchArgType) { users(filter: $f, limit: $l, offset: $o, order: $ord, search: $s) "
    "{ totalCount data { " USER_FIELDS " } } }";
static const char Q_NESTED[] =
    "query($f: UserFilterArgType, $l: Int) { users(filter: $f, limit: $l) { totalCount "
    "data { id tenantId tenant { id name isDefault users { totalCount } } } } }";
static const char Q_USER_NESTED[] =
    "query($id: ID!) { user(id: $id) { id tenantId tenant { id users { totalCount } } } }";
static const char Q_TENANT[] =
    "query($id: ID!) { tenant(id: $id) { id name reference isDefault users { totalCount } } }";
static const char Q_TENANTS[] =
    "query($f: TenantFilterArgType) { tenants(filter: $f, limit: 100) { totalCount "
    "data { id name reference isDefault users { totalCount } } } }";
static const char M_CREATE_USER[] =
    "mutation($u: UserCreateDto!) { createUser(user: $u) { " USER_FIELDS " } }";
static const char M_UPDATE_USER[] =
    "mutation($id: ID!, $u: UserUpdateDto!) { updateUser(id: $id, user: $u) { " USER_FIELDS " } }";
static const char M_CREATE_TENANT[] =
    "mutation($t: TenantCreateDto!) { createTenant(tenant: $t) { id name } }";
static const char M_UPDATE_TENANT[] =
    "mutation($id: ID!, $t: TenantUpdateDto!) { updateTenant(id: $id, tenant: $t) { id name } }";

/* ---------------------------------------------------------------- user queries */

typedef enum {
    QF_ID,
    QF_REFERENCE,
    QF_EMAIL,
    QF_FIRST_NAME,
    QF_LAST_NAME,
    QF_PHONE,
    QF_LOCALE,
    QF_TIMEZONE,
    QF_ACTIVE,
    QF_IS_OPTED_IN,
    QF_WITH_DEACTIVATED,
    QF_TENANT_ID,
    QF_CREATED_AT,
    QF_UPDATED_AT,
    QF__COUNT
} qfield;
static const char *const qf_gql[QF__COUNT] = {
    "id",       "reference", "email",     "firstName",       "lastName", "phone",     "locale",
    "timezone", "active",    "isOptedIn", "withDeactivated", "tenantId", "createdAt", "updatedAt"};
/* The record field a string or id condition looks at. */
static const int qf_str[QF__COUNT] = {
    S_ID,       S_REFERENCE, S_EMAIL, S_FIRST_NAME, S_LAST_NAME, S_PHONE, S_LOCALE,
    S_TIMEZONE, -1,          -1,      -1,           S_TENANT_ID, -1,      -1};

typedef enum {
    QO_EQ,
    QO_NE,
    QO_LIKE,
    QO_ILIKE,
    QO_IN,
    QO_NOT_IN,
    QO_EQ_NULL,
    QO_NE_NULL,
    QO_LT,
    QO_LE,
    QO_GT,
    QO_GE,
    QO__COUNT
} qop;
static const char *const qo_gql[QO__COUNT] = {
    "equalTo", "notEqualTo", "like",     "iLike",         "valueIn",  "valueNotIn",
    "equalTo", "notEqualTo", "lessThan", "lessThanEqual", "moreThan", "moreThanEqual"};

typedef struct qcond {
    qfield f;
    qop op;
    char v[4][128];
    int nv;
    bool b;
    int64_t d;
} qcond;

typedef struct uquery {
    qcond c[3];
    int nc;
    int limit;  /* -1: the default */
    int offset; /* -1: the default */
    int sort;   /* 0: default order, else UserSortField 1..9 */
    bool desc;
    int search_key; /* 0: none, else UserSearchKey 1..6 */
    char search[64];
} uquery;

static const char *const sort_gql[10] = {"",          "active",   "createdAt", "email",
                                         "firstName", "lastName", "locale",    "phone",
                                         "timezone",  "updatedAt"};
static const char *const search_gql[7] = {"",       "email", "firstName", "lastName",
                                          "locale", "phone", "timezone"};
static const int search_str[7] = {-1,       S_EMAIL, S_FIRST_NAME, S_LAST_NAME,
                                  S_LOCALE, S_PHONE, S_TIMEZONE};

static const char *const missing_ids[] = {"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
                                          "01900000-0000-7000-8000-000000000001"};
/* The store keys users without a tenant under the all-zero id. */
static const char zero_id[] = "00000000-0000-0000-0000-000000000000";

static const urec *any_user(void)
{
    return &model[rnd_below(n_model)];
}

static int own_users(const urec **out, int cap, int tenant)
{
    int n = 0;
    for (int i = 0; i < n_model && n < cap; i++)
        if (str_eq(model[i].s[S_TENANT_ID], tenant == T_NONE ? NULL : tenants[tenant].id))
            out[n++] = &model[i];
    return n;
}

static const urec *user_of(int tenant)
{
    static const urec *tmp[MAX_USERS];
    int n = own_users(tmp, MAX_USERS, tenant);
    return n > 0 ? tmp[rnd_below(n)] : any_user();
}

/* A substring of s, 1..4 characters long, from a random offset. */
static void piece(char *out, size_t cap, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0) {
        snprintf(out, cap, "e");
        return;
    }
    size_t at = (size_t)rnd_below((int)len);
    size_t n = 1 + (size_t)rnd_below(4);
    if (at + n > len)
        n = len - at;
    snprintf(out, cap, "%.*s", (int)n, s + at);
}

static void id_value(char *out, size_t cap, qfield f)
{
    if (f == QF_TENANT_ID) {
        int r = rnd_below(10);
        snprintf(out, cap, "%s", r < 8 ? tenants[r % 2].id : r < 9 ? missing_ids[0] : zero_id);
    } else {
        snprintf(out, cap, "%s", chance(90) ? any_user()->s[S_ID] : missing_ids[rnd_below(2)]);
    }
}

static void random_cond(qcond *c, qfield f)
{
    memset(c, 0, sizeof *c);
    c->f = f;
    const urec *u = any_user();
    if (f == QF_ACTIVE || f == QF_IS_OPTED_IN || f == QF_WITH_DEACTIVATED) {
        c->op = chance(50) ? QO_EQ : QO_NE;
        c->b = chance(50);
        return;
    }
    if (f == QF_CREATED_AT || f == QF_UPDATED_AT) {
        static const qop ops[] = {QO_EQ, QO_NE, QO_LT, QO_LE, QO_GT, QO_GE};
        c->op = ops[rnd_below(6)];
        c->d = f == QF_CREATED_AT ? u->created_at : u->updated_at;
        return;
    }
    if (f == QF_ID || f == QF_TENANT_ID) {
        static const qop ops[] = {QO_EQ, QO_NE, QO_IN, QO_NOT_IN, QO_EQ_NULL, QO_NE_NULL};
        c->op = ops[rnd_below(chance(90) ? 4 : 6)];
        c->nv = (c->op == QO_IN || c->op == QO_NOT_IN) ? 1 + rnd_below(4) : 1;
        for (int i = 0; i < c->nv; i++)
            id_value(c->v[i], sizeof c->v[i], f);
        return;
    }
    c->op = (qop)rnd_below(QO_NE_NULL + 1);
    const char *s = u->s[qf_str[f]];
    switch (c->op) {
    case QO_LIKE:
    case QO_ILIKE: {
        char p[16];
        piece(p, sizeof p, s);
        if (c->op == QO_ILIKE)
            for (char *q = p; *q; q++)
                *q = (char)toupper((unsigned char)*q);
        snprintf(c->v[0], sizeof c->v[0], "%s%s%%", chance(50) ? "%" : "", p);
        c->nv = 1;
        break;
    }
    case QO_IN:
    case QO_NOT_IN:
        c->nv = 1 + rnd_below(3);
        for (int i = 0; i < c->nv; i++) {
            const char *v = any_user()->s[qf_str[f]];
            snprintf(c->v[i], sizeof c->v[i], "%s", v ? v : "nobody");
        }
        break;
    default:
        snprintf(c->v[0], sizeof c->v[0], "%s", s ? s : "nobody");
        c->nv = 1;
        break;
    }
}

static void random_query(uquery *q, bool count_only)
{
    memset(q, 0, sizeof *q);
    int n = rnd_below(4);
    bool used[QF__COUNT] = {false};
    for (int i = 0; i < n; i++) {
        qfield f = chance(25) ? QF_TENANT_ID : (qfield)rnd_below(QF__COUNT);
        if (used[f])
            continue;
        used[f] = true;
        random_cond(&q->c[q->nc++], f);
    }
    static const int limits[] = {-1, 1, 5, 20, 1000, 3};
    static const int offsets[] = {-1, 0, 0, 0, 1, 4};
    q->limit = count_only ? 0 : limits[rnd_below(6)];
    q->offset = offsets[rnd_below(6)];
    q->sort = chance(60) ? 1 + rnd_below(9) : 0;
    q->desc = chance(50);
    if (chance(20)) {
        q->search_key = 1 + rnd_below(6);
        piece(q->search, sizeof q->search, any_user()->s[search_str[q->search_key]]);
    }
}

/* The protobuf form of a query; every message lives in the struct. */
typedef struct pb_query {
    Roster__V1__ListUsersRequest req;
    Roster__V1__UserFilter filter;
    Roster__V1__IdFilter idf[QF__COUNT];
    Roster__V1__StringFilter sf[QF__COUNT];
    Roster__V1__BoolFilter bf[QF__COUNT];
    Roster__V1__DateFilter df[QF__COUNT];
    Roster__V1__StringList list[QF__COUNT];
    char *vals[QF__COUNT][4];
    Roster__V1__UserOrder order;
    Roster__V1__UserSearch search;
} pb_query;

static void pb_list(Roster__V1__StringList *l, char **vals, qcond *c)
{
    roster__v1__string_list__init(l);
    for (int i = 0; i < c->nv; i++)
        vals[i] = c->v[i];
    l->n_values = (size_t)c->nv;
    l->values = vals;
}

static void build_pb(pb_query *p, uquery *q)
{
    memset(p, 0, sizeof *p);
    roster__v1__list_users_request__init(&p->req);
    roster__v1__user_filter__init(&p->filter);
    for (int i = 0; i < q->nc; i++) {
        qcond *c = &q->c[i];
        qfield f = c->f;
        if (f == QF_ID || f == QF_TENANT_ID) {
            Roster__V1__IdFilter *m = &p->idf[f];
            roster__v1__id_filter__init(m);
            switch (c->op) {
            case QO_EQ:
                m->equal_to = c->v[0];
                break;
            case QO_NE:
                m->not_equal_to = c->v[0];
                break;
            case QO_IN:
                pb_list(&p->list[f], p->vals[f], c);
                m->value_in = &p->list[f];
                break;
            case QO_NOT_IN:
                pb_list(&p->list[f], p->vals[f], c);
                m->value_not_in = &p->list[f];
                break;
            case QO_EQ_NULL:
                m->has_equal_to_null = m->equal_to_null = 1;
                break;
            default:
                m->has_not_equal_to_null = m->not_equal_to_null = 1;
                break;
            }
            if (f == QF_ID)
                p->filter.id = m;
            else
                p->filter.tenant_id = m;
        } else if (f == QF_ACTIVE || f == QF_IS_OPTED_IN || f == QF_WITH_DEACTIVATED) {
            Roster__V1__BoolFilter *m = &p->bf[f];
            roster__v1__bool_filter__init(m);
            if (c->op == QO_EQ)
                m->has_equal_to = 1, m->equal_to = c->b;
            else
                m->has_not_equal_to = 1, m->not_equal_to = c->b;
            if (f == QF_ACTIVE)
                p->filter.active = m;
            else if (f == QF_IS_OPTED_IN)
                p->filter.is_opted_in = m;
            else
                p->filter.with_deactivated = m;
        } else if (f == QF_CREATED_AT || f == QF_UPDATED_AT) {
            Roster__V1__DateFilter *m = &p->df[f];
            roster__v1__date_filter__init(m);
            switch (c->op) {
            case QO_EQ:
                m->has_equal_to = 1, m->equal_to = c->d;
                break;
            case QO_NE:
                m->has_not_equal_to = 1, m->not_equal_to = c->d;
                break;
            case QO_LT:
                m->has_less_than = 1, m->less_than = c->d;
                break;
            case QO_LE:
                m->has_less_than_equal = 1, m->less_than_equal = c->d;
                break;
            case QO_GT:
                m->has_more_than = 1, m->more_than = c->d;
                break;
            default:
                m->has_more_than_equal = 1, m->more_than_equal = c->d;
                break;
            }
            if (f == QF_CREATED_AT)
                p->filter.created_at = m;
            else
                p->filter.updated_at = m;
        } else {
            Roster__V1__StringFilter *m = &p->sf[f];
            roster__v1__string_filter__init(m);
            switch (c->op) {
            case QO_EQ:
                m->equal_to = c->v[0];
                break;
            case QO_NE:
                m->not_equal_to = c->v[0];
                break;
            case QO_LIKE:
                m->like = c->v[0];
                break;
            case QO_ILIKE:
                m->i_like = c->v[0];
                break;
            case QO_IN:
                pb_list(&p->list[f], p->vals[f], c);
                m->value_in = &p->list[f];
                break;
            case QO_NOT_IN:
                pb_list(&p->list[f], p->vals[f], c);
                m->value_not_in = &p->list[f];
                break;
            case QO_EQ_NULL:
                m->has_equal_to_null = m->equal_to_null = 1;
                break;
            default:
                m->has_not_equal_to_null = m->not_equal_to_null = 1;
                break;
            }
            Roster__V1__StringFilter **slot[QF__COUNT] = {
                [QF_REFERENCE] = &p->filter.reference,   [QF_EMAIL] = &p->filter.email,
                [QF_FIRST_NAME] = &p->filter.first_name, [QF_LAST_NAME] = &p->filter.last_name,
                [QF_PHONE] = &p->filter.phone,           [QF_LOCALE] = &p->filter.locale,
                [QF_TIMEZONE] = &p->filter.timezone};
            *slot[f] = m;
        }
    }
    if (q->nc > 0)
        p->req.filter = &p->filter;
    if (q->limit >= 0)
        p->req.has_limit = 1, p->req.limit = q->limit;
    if (q->offset >= 0)
        p->req.has_offset = 1, p->req.offset = q->offset;
    if (q->sort > 0) {
        roster__v1__user_order__init(&p->order);
        p->order.has_sort = p->order.has_order = 1;
        p->order.sort = (Roster__V1__UserSortField)q->sort;
        p->order.order = q->desc ? ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC
                                 : ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
        p->req.order = &p->order;
    }
    if (q->search_key > 0) {
        roster__v1__user_search__init(&p->search);
        p->search.has_key = 1;
        p->search.key = (Roster__V1__UserSearchKey)q->search_key;
        p->search.value = q->search;
        p->req.search = &p->search;
    }
}

static json_t *json_filter(const uquery *q)
{
    json_t *f = json_object();
    for (int i = 0; i < q->nc; i++) {
        const qcond *c = &q->c[i];
        json_t *v;
        switch (c->op) {
        case QO_IN:
        case QO_NOT_IN:
            v = json_array();
            for (int k = 0; k < c->nv; k++)
                json_array_append_new(v, json_string(c->v[k]));
            break;
        case QO_EQ_NULL:
        case QO_NE_NULL:
            v = json_null();
            break;
        default:
            if (c->f == QF_ACTIVE || c->f == QF_IS_OPTED_IN || c->f == QF_WITH_DEACTIVATED) {
                v = json_boolean(c->b);
            } else if (c->f == QF_CREATED_AT || c->f == QF_UPDATED_AT) {
                char d[64];
                iso_date(d, c->d);
                v = json_string(d);
            } else {
                v = json_string(c->v[0]);
            }
        }
        json_t *o = json_object();
        json_object_set_new(o, qo_gql[c->op], v);
        json_object_set_new(f, qf_gql[c->f], o);
    }
    return f;
}

static json_t *json_query_vars(const uquery *q)
{
    json_t *vars = json_object();
    if (q->nc > 0)
        json_object_set_new(vars, "f", json_filter(q));
    if (q->limit >= 0)
        json_object_set_new(vars, "l", json_integer(q->limit));
    if (q->offset >= 0)
        json_object_set_new(vars, "o", json_integer(q->offset));
    if (q->sort > 0)
        json_object_set_new(
            vars, "ord",
            json_pack("{s:s, s:s}", "order", q->desc ? "DESC" : "ASC", "sort", sort_gql[q->sort]));
    if (q->search_key > 0)
        json_object_set_new(
            vars, "s",
            json_pack("{s:s, s:s}", "key", search_gql[q->search_key], "value", q->search));
    return vars;
}

/* A list result, normalized. */
typedef struct ulist {
    int code;
    char detail[300];
    int64_t total;
    urec *u;
    int n;
} ulist;

static void ulist_clear(ulist *l)
{
    for (int i = 0; i < l->n; i++)
        urec_clear(&l->u[i]);
    free(l->u);
    memset(l, 0, sizeof *l);
}

static void run_list(ulist *out, int ch, const char *key, uquery *q)
{
    memset(out, 0, sizeof *out);
    out->total = -1;
    if (ch == CH_RPC) {
        pb_query *p = malloc(sizeof *p);
        build_pb(p, q);
        call_res r;
        out->code = rpc(&r, RPC_LIST_USERS, &p->req.base, key);
        snprintf(out->detail, sizeof out->detail, "%s", r.message);
        if (out->code == ROSTER_STATUS_OK) {
            Roster__V1__ListUsersResponse *lr = (void *)r.reply;
            out->total = lr->total_count;
            out->u = calloc(lr->n_users + 1, sizeof *out->u);
            for (size_t i = 0; i < lr->n_users; i++)
                urec_from_pb(&out->u[out->n++], lr->users[i]);
        }
        call_res_free(&r);
        free(p);
        return;
    }
    json_t *root;
    json_t *data =
        gql(&root, &out->code, out->detail, sizeof out->detail, key, Q_USERS, json_query_vars(q));
    if (data != NULL) {
        json_t *page = json_object_get(data, "users");
        out->total = (int64_t)json_integer_value(json_object_get(page, "totalCount"));
        json_t *arr = json_object_get(page, "data");
        out->u = calloc(json_array_size(arr) + 1, sizeof *out->u);
        for (size_t i = 0; i < json_array_size(arr); i++)
            urec_from_json(&out->u[out->n++], json_array_get(arr, i));
    }
    json_decref(root);
}

static bool sort_key_eq(const urec *a, const urec *b, int sort)
{
    static const int str_of_sort[10] = {-1,          -1,       -1,      S_EMAIL,    S_FIRST_NAME,
                                        S_LAST_NAME, S_LOCALE, S_PHONE, S_TIMEZONE, -1};
    switch (sort) {
    case 0:
    case 2:
        return a->created_at == b->created_at;
    case 1:
        return a->active == b->active;
    case 9:
        return a->updated_at == b->updated_at;
    default: {
        const char *x = a->s[str_of_sort[sort]], *y = b->s[str_of_sort[sort]];
        return (x == NULL && y == NULL) || (x != NULL && y != NULL && strcasecmp(x, y) == 0);
    }
    }
}

/* A record a tenant caller read: it must belong to the caller's tenant and
 * equal the model. */
static void check_read(const urec *got, int tenant, const char *what)
{
    pthread_mutex_lock(&report_mu);
    records_compared++;
    int m = model_find(got->s[S_ID]);
    const char *mt = m >= 0 ? model[m].s[S_TENANT_ID] : NULL;
    char why[300];
    if (!str_eq(got->s[S_TENANT_ID], tenants[tenant].id) || !str_eq(mt, tenants[tenant].id)) {
        foreign_seen++;
        report(true, "%s: read user %s of tenant %s (model: %s) with a key of tenant %s", what,
               got->s[S_ID], got->s[S_TENANT_ID] ? got->s[S_TENANT_ID] : "(none)",
               mt ? mt : "unknown", tenants[tenant].id);
    } else if (!urec_eq(got, &model[m], why, sizeof why)) {
        report(false, "%s: user %s differs from the model: %s", what, got->s[S_ID], why);
    }
    pthread_mutex_unlock(&report_mu);
}

/* An admin reads a record: it must equal the model. */
static void check_admin_read(const urec *got, const char *what)
{
    records_compared++;
    int m = model_find(got->s[S_ID]);
    char why[300];
    if (m < 0)
        report(true, "%s: the admin view holds user %s (tenant %s) that no allowed write made",
               what, got->s[S_ID], got->s[S_TENANT_ID] ? got->s[S_TENANT_ID] : "(none)");
    else if (!urec_eq(got, &model[m], why, sizeof why))
        report(true, "%s: the admin view of user %s (tenant %s) differs from the model: %s", what,
               got->s[S_ID], model[m].s[S_TENANT_ID], why);
}

/* One list request as a tenant key, compared with the admin's answer to
 * the same request (whole result) cut down to the caller's tenant. */
static void op_list(int ch, const actor *a, uquery *q)
{
    ulist got, all;
    run_list(&got, ch, a->key, q);
    uquery aq = *q;
    aq.limit = 1000;
    aq.offset = 0;
    run_list(&all, ch, actors[ACT_ADMIN].key, &aq);
    reads_compared++;
    if (all.code != ROSTER_STATUS_OK) {
        /* A request the service rejects as such is rejected for everyone. */
        if (got.code != all.code)
            report(false, "list: admin got %s (%s), tenant key got %s (%s)",
                   roster_status_name(all.code), all.detail, roster_status_name(got.code),
                   got.detail);
        goto done;
    }
    for (int i = 0; i < all.n; i++)
        check_admin_read(&all.u[i], "list (admin)");
    if (all.total != all.n)
        report(false, "list (admin): totalCount %lld for %d users", (long long)all.total, all.n);
    if (got.code != ROSTER_STATUS_OK) {
        report(false, "list: admin OK, tenant key got %s (%s)", roster_status_name(got.code),
               got.detail);
        goto done;
    }
    /* The admin's answer restricted to the caller's tenant. */
    const urec **own = calloc((size_t)all.n + 1, sizeof *own);
    int n_own = 0;
    for (int i = 0; i < all.n; i++)
        if (str_eq(all.u[i].s[S_TENANT_ID], tenants[a->tenant].id))
            own[n_own++] = &all.u[i];
    for (int i = 0; i < got.n; i++)
        check_read(&got.u[i], a->tenant, "list");
    if (got.total != n_own)
        report(got.total > n_own, "list: totalCount %lld, the admin view has %d in the tenant",
               (long long)got.total, n_own);
    int off = q->offset < 0 ? 0 : q->offset;
    int lim = q->limit < 0 ? 20 : q->limit;
    int want_n = n_own - off < 0 ? 0 : n_own - off;
    if (want_n > lim)
        want_n = lim;
    if (got.n != want_n) {
        report(got.n > want_n, "list: %d users on the page, the admin view gives %d", got.n,
               want_n);
    } else {
        for (int i = 0; i < got.n; i++) {
            if (!sort_key_eq(&got.u[i], own[off + i], q->sort)) {
                report(false, "list: position %d holds %s, the admin view %s (sort %s %s)", i,
                       got.u[i].s[S_ID], own[off + i]->s[S_ID], sort_gql[q->sort],
                       q->desc ? "DESC" : "ASC");
                break;
            }
        }
    }
    free(own);
done:
    ulist_clear(&got);
    ulist_clear(&all);
}

/* ---------------------------------------------------------------- single reads */

static int get_user(urec *out, int ch, const char *key, const char *id, char *detail, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (ch == CH_RPC) {
        Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
        g.id = (char *)id;
        call_res r;
        int code = rpc(&r, RPC_GET_USER, &g.base, key);
        snprintf(detail, cap, "%s", r.message);
        if (code == ROSTER_STATUS_OK)
            urec_from_pb(out, (void *)r.reply);
        call_res_free(&r);
        return code;
    }
    json_t *root;
    int code;
    json_t *data = gql(&root, &code, detail, cap, key, Q_USER, json_pack("{s:s}", "id", id));
    if (data != NULL)
        urec_from_json(out, json_object_get(data, "user"));
    json_decref(root);
    return code;
}

static const char *pick_target(int tenant, int *kind)
{
    int r = rnd_below(100);
    *kind = r < 55 ? 0 : r < 92 ? 1 : 2; /* own, foreign, missing */
    if (*kind == 0)
        return user_of(tenant)->s[S_ID];
    if (*kind == 1)
        return user_of(r < 84 ? 1 - tenant : T_NONE)->s[S_ID];
    return missing_ids[rnd_below(2)];
}

/* A refusal for another tenant's record must read exactly like the one
 * for an id that does not exist (the id itself aside), or the message is an
 * oracle for what other tenants hold. The first message of each kind is
 * kept per operation and channel and the others are compared with it. */
enum { SAME_GET_USER, SAME_UPDATE_USER, SAME_DELETE_USER, SAME_GET_TENANT, SAME__COUNT };
static char same_msg[SAME__COUNT][2][2][300]; /* [op][channel][foreign] */
static long same_checked;

static void same_refusal(int op, int ch, bool foreign, const char *id, const char *detail)
{
    char norm[300];
    size_t n = 0, idlen = strlen(id);
    for (const char *p = detail; *p && n + 5 < sizeof norm;) {
        if (strncasecmp(p, id, idlen) == 0) {
            memcpy(norm + n, "<id>", 4);
            n += 4;
            p += idlen;
        } else {
            norm[n++] = *p++;
        }
    }
    norm[n] = '\0';
    char *mine = same_msg[op][ch][foreign], *other = same_msg[op][ch][!foreign];
    if (mine[0] == '\0')
        snprintf(mine, sizeof same_msg[0][0][0], "%s", norm);
    if (other[0] != '\0') {
        same_checked++;
        if (strcmp(norm, other) != 0)
            report(true, "the refusal for %s id reads \"%s\", for %s id \"%s\"",
                   foreign ? "another tenant's" : "a missing", norm,
                   foreign ? "a missing" : "another tenant's", other);
    }
}

static void op_get_user(int ch, const actor *a)
{
    int kind;
    const char *id = pick_target(a->tenant, &kind);
    urec got;
    char det[300];
    int code = get_user(&got, ch, a->key, id, det, sizeof det);
    reads_compared++;
    if (kind == 0) {
        expect_code(code, ROSTER_STATUS_OK, "get own user", det);
        if (code == ROSTER_STATUS_OK)
            check_read(&got, a->tenant, "get user");
    } else {
        if (code == ROSTER_STATUS_OK)
            foreign_seen++;
        expect_code(code, ROSTER_STATUS_NOT_FOUND,
                    kind == 1 ? "get another tenant's user" : "get a missing user", det);
        if (code == ROSTER_STATUS_NOT_FOUND)
            same_refusal(SAME_GET_USER, ch, kind == 1, id, det);
    }
    urec_clear(&got);
}

static void op_batch_get(int ch, const actor *a)
{
    if (ch == CH_GQL) {
        /* GraphQL has no batch read: the same through users(filter: {id: {valueIn}}). */
        uquery q = {0};
        q.nc = 2;
        q.c[0].f = QF_ID;
        q.c[0].op = QO_IN;
        q.c[0].nv = 2 + rnd_below(3);
        for (int i = 0; i < q.c[0].nv; i++) {
            int k;
            snprintf(q.c[0].v[i], sizeof q.c[0].v[i], "%s", pick_target(a->tenant, &k));
        }
        q.c[1].f = QF_WITH_DEACTIVATED;
        q.c[1].op = QO_EQ;
        q.c[1].b = true;
        q.limit = 100;
        q.offset = -1;
        op_list(ch, a, &q);
        return;
    }
    char *ids[6];
    int kinds[6];
    size_t n = 2 + (size_t)rnd_below(5);
    for (size_t i = 0; i < n; i++)
        ids[i] = (char *)pick_target(a->tenant, &kinds[i]);
    Roster__V1__BatchGetUsersRequest bg = ROSTER__V1__BATCH_GET_USERS_REQUEST__INIT;
    bg.n_ids = n;
    bg.ids = ids;
    call_res r;
    int code = rpc(&r, RPC_BATCH_GET_USERS, &bg.base, a->key);
    reads_compared++;
    expect_code(code, ROSTER_STATUS_OK, "batch get", r.message);
    if (code == ROSTER_STATUS_OK) {
        Roster__V1__BatchGetUsersResponse *br = (void *)r.reply;
        if (br->n_found != n || br->n_users != n) {
            report(false, "batch get: %zu ids, %zu found flags, %zu users", n, br->n_found,
                   br->n_users);
        } else {
            for (size_t i = 0; i < n; i++) {
                if (kinds[i] != 0 && br->found[i]) {
                    foreign_seen++;
                    report(true, "batch get: id %s (%s) found with a key of tenant %s", ids[i],
                           kinds[i] == 1 ? "other tenant" : "missing", tenants[a->tenant].id);
                } else if (kinds[i] == 0 && !br->found[i]) {
                    report(false, "batch get: own user %s not found", ids[i]);
                } else if (br->found[i]) {
                    urec u;
                    urec_from_pb(&u, br->users[i]);
                    check_read(&u, a->tenant, "batch get");
                    urec_clear(&u);
                }
            }
        }
    }
    call_res_free(&r);
}

/* Nested tenant lookups must give the caller's own tenant and its count. */
/* Users of `tenant` that count (deactivated ones do not), per the model. */
static int64_t model_user_count(int tenant)
{
    int64_t n = 0;
    for (int i = 0; i < n_model; i++)
        n += str_eq(model[i].s[S_TENANT_ID], tenants[tenant].id) && model[i].active != 0;
    return n;
}

static int64_t admin_user_count(int tenant)
{
    Roster__V1__GetTenantRequest g = ROSTER__V1__GET_TENANT_REQUEST__INIT;
    g.id = tenants[tenant].id;
    g.has_include_user_count = g.include_user_count = 1;
    call_res r;
    int code = rpc(&r, RPC_GET_TENANT, &g.base, actors[ACT_ADMIN].key);
    int64_t n = code == ROSTER_STATUS_OK ? ((Roster__V1__Tenant *)r.reply)->user_count : -1;
    call_res_free(&r);
    if (code != ROSTER_STATUS_OK)
        report(false, "admin GetTenant: %s %s", roster_status_name(code), r.message);
    else if (n != model_user_count(tenant))
        report(false, "tenant %s: user count %lld, the model has %lld", tenants[tenant].id,
               (long long)n, (long long)model_user_count(tenant));
    return n;
}

static void check_nested_tenant(const json_t *user, int tenant, int64_t want_count)
{
    json_t *t = json_object_get(user, "tenant");
    const char *tid = jstr(t, "id");
    int64_t got =
        (int64_t)json_integer_value(json_object_get(json_object_get(t, "users"), "totalCount"));
    pthread_mutex_lock(&report_mu);
    records_compared++;
    if (!str_eq(jstr(user, "tenantId"), tenants[tenant].id) || !str_eq(tid, tenants[tenant].id)) {
        foreign_seen++;
        report(true, "nested: user %s with tenantId %s and tenant %s, key of tenant %s",
               jstr(user, "id"), jstr(user, "tenantId"), tid ? tid : "(null)", tenants[tenant].id);
    } else if (got != want_count) {
        report(got > want_count, "nested: tenant { users { totalCount } } = %lld, admin says %lld",
               (long long)got, (long long)want_count);
    }
    pthread_mutex_unlock(&report_mu);
}

static void op_nested(int ch, const actor *a)
{
    int64_t want = admin_user_count(a->tenant);
    if (ch == CH_RPC) {
        /* The RPC form: GetTenant with the user count, own and other. */
        int other = chance(50);
        int t = other ? 1 - a->tenant : a->tenant;
        Roster__V1__GetTenantRequest g = ROSTER__V1__GET_TENANT_REQUEST__INIT;
        g.id = tenants[t].id;
        g.has_include_user_count = g.include_user_count = 1;
        call_res r;
        int code = rpc(&r, RPC_GET_TENANT, &g.base, a->key);
        reads_compared++;
        if (other) {
            expect_code(code, ROSTER_STATUS_NOT_FOUND, "GetTenant(other, count)", r.message);
        } else {
            expect_code(code, ROSTER_STATUS_OK, "GetTenant(own, count)", r.message);
            if (code == ROSTER_STATUS_OK && ((Roster__V1__Tenant *)r.reply)->user_count != want)
                report(true, "GetTenant(own) user_count %lld, admin says %lld",
                       (long long)((Roster__V1__Tenant *)r.reply)->user_count, (long long)want);
        }
        call_res_free(&r);
        return;
    }
    json_t *root;
    int code;
    char det[300];
    reads_compared++;
    if (chance(50)) {
        int kind;
        const char *id = pick_target(a->tenant, &kind);
        json_t *data =
            gql(&root, &code, det, sizeof det, a->key, Q_USER_NESTED, json_pack("{s:s}", "id", id));
        if (kind == 0) {
            expect_code(code, ROSTER_STATUS_OK, "user { tenant } of own user", det);
            if (data != NULL)
                check_nested_tenant(json_object_get(data, "user"), a->tenant, want);
        } else {
            expect_code(code, ROSTER_STATUS_NOT_FOUND, "user { tenant } of a foreign user", det);
        }
        json_decref(root);
        return;
    }
    uquery q;
    random_query(&q, false);
    json_t *vars = json_object();
    if (q.nc > 0)
        json_object_set_new(vars, "f", json_filter(&q));
    json_object_set_new(vars, "l", json_integer(chance(50) ? 1000 : 10));
    json_t *data = gql(&root, &code, det, sizeof det, a->key, Q_NESTED, vars);
    json_t *aroot;
    int acode;
    char adet[300];
    vars = json_object();
    if (q.nc > 0)
        json_object_set_new(vars, "f", json_filter(&q));
    json_object_set_new(vars, "l", json_integer(1000));
    json_t *adata = gql(&aroot, &acode, adet, sizeof adet, actors[ACT_ADMIN].key, Q_NESTED, vars);
    if (code != acode) {
        report(false, "users { tenant }: admin %s (%s), tenant key %s (%s)",
               roster_status_name(acode), adet, roster_status_name(code), det);
    } else if (data != NULL && adata != NULL) {
        json_t *arr = json_object_get(json_object_get(data, "users"), "data");
        for (size_t i = 0; i < json_array_size(arr); i++)
            check_nested_tenant(json_array_get(arr, i), a->tenant, want);
        json_t *all = json_object_get(json_object_get(adata, "users"), "data");
        int64_t own = 0;
        for (size_t i = 0; i < json_array_size(all); i++)
            own += str_eq(jstr(json_array_get(all, i), "tenantId"), tenants[a->tenant].id);
        int64_t total = (int64_t)json_integer_value(
            json_object_get(json_object_get(data, "users"), "totalCount"));
        if (total != own)
            report(total > own, "users { totalCount } = %lld, admin view has %lld in the tenant",
                   (long long)total, (long long)own);
    }
    json_decref(root);
    json_decref(aroot);
}

/* ---------------------------------------------------------------- tenant reads */

static bool trec_matches(const trec *got, int t)
{
    return str_eq(got->id, tenants[t].id) && str_eq(got->name, tenants[t].name) &&
           str_eq(got->reference, tenants[t].reference) && got->is_default == tenants[t].is_default;
}

static void op_get_tenant(int ch, const actor *a)
{
    int r = rnd_below(10);
    int t = r < 5 ? a->tenant : 1 - a->tenant;
    const char *id = r < 9 ? tenants[t].id : missing_ids[0];
    int code;
    char det[300];
    trec got = {0};
    if (ch == CH_RPC) {
        if (chance(40)) {
            /* BatchGetTenants with both tenants and a missing id. */
            char *ids[3] = {tenants[T_A].id, tenants[T_B].id, (char *)missing_ids[1]};
            Roster__V1__BatchGetTenantsRequest bg = ROSTER__V1__BATCH_GET_TENANTS_REQUEST__INIT;
            bg.n_ids = 3;
            bg.ids = ids;
            call_res cr;
            code = rpc(&cr, RPC_BATCH_GET_TENANTS, &bg.base, a->key);
            reads_compared++;
            expect_code(code, ROSTER_STATUS_OK, "batch get tenants", cr.message);
            if (code == ROSTER_STATUS_OK) {
                Roster__V1__BatchGetTenantsResponse *br = (void *)cr.reply;
                for (size_t i = 0; i < br->n_found && i < 3; i++) {
                    bool own = (int)i == a->tenant;
                    if (br->found[i] && !own) {
                        foreign_seen++;
                        report(true, "batch get tenants: %s found with a key of tenant %s", ids[i],
                               tenants[a->tenant].id);
                    } else if (!br->found[i] && own) {
                        report(false, "batch get tenants: own tenant not found");
                    }
                }
                if (br->n_found != 3)
                    report(false, "batch get tenants: %zu found flags", br->n_found);
            }
            call_res_free(&cr);
            return;
        }
        Roster__V1__GetTenantRequest g = ROSTER__V1__GET_TENANT_REQUEST__INIT;
        g.id = (char *)id;
        call_res cr;
        code = rpc(&cr, RPC_GET_TENANT, &g.base, a->key);
        snprintf(det, sizeof det, "%s", cr.message);
        if (code == ROSTER_STATUS_OK)
            trec_from_pb(&got, (void *)cr.reply);
        call_res_free(&cr);
    } else {
        json_t *root;
        json_t *data =
            gql(&root, &code, det, sizeof det, a->key, Q_TENANT, json_pack("{s:s}", "id", id));
        if (data != NULL)
            trec_from_json(&got, json_object_get(data, "tenant"));
        json_decref(root);
    }
    reads_compared++;
    if (t == a->tenant && r < 9) {
        expect_code(code, ROSTER_STATUS_OK, "get own tenant", det);
        if (code == ROSTER_STATUS_OK && !trec_matches(&got, t))
            report(false, "get own tenant: %s / %s differs from the model", got.id, got.name);
    } else {
        if (code == ROSTER_STATUS_OK)
            foreign_seen++;
        expect_code(code, ROSTER_STATUS_NOT_FOUND,
                    r < 9 ? "get another tenant" : "get a missing tenant", det);
        if (code == ROSTER_STATUS_NOT_FOUND)
            same_refusal(SAME_GET_TENANT, ch, r < 9, id, det);
    }
    trec_clear(&got);
}

typedef struct tlist {
    int code;
    char detail[300];
    int64_t total;
    trec t[16];
    int n;
} tlist;

static void run_tenants(tlist *out, int ch, const char *key, int variant)
{
    memset(out, 0, sizeof *out);
    if (ch == CH_RPC) {
        Roster__V1__ListTenantsRequest lt = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
        Roster__V1__TenantFilter tf = ROSTER__V1__TENANT_FILTER__INIT;
        Roster__V1__IdFilter idf = ROSTER__V1__ID_FILTER__INIT;
        Roster__V1__StringFilter sf = ROSTER__V1__STRING_FILTER__INIT;
        Roster__V1__StringList sl = ROSTER__V1__STRING_LIST__INIT;
        char *both[2] = {tenants[T_A].id, tenants[T_B].id};
        switch (variant) {
        case 1:
            idf.equal_to = tenants[T_A].id, tf.id = &idf;
            break;
        case 2:
            idf.equal_to = tenants[T_B].id, tf.id = &idf;
            break;
        case 3:
            sl.n_values = 2, sl.values = both, idf.value_in = &sl, tf.id = &idf;
            break;
        case 4:
            sf.i_like = "%A%", tf.name = &sf;
            break;
        case 5:
            sf.equal_to = "beta", tf.reference = &sf;
            break;
        default:
            break;
        }
        if (variant > 0)
            lt.filter = &tf;
        lt.has_limit = 1, lt.limit = 100;
        lt.has_include_user_count = lt.include_user_count = 1;
        call_res r;
        out->code = rpc(&r, RPC_LIST_TENANTS, &lt.base, key);
        snprintf(out->detail, sizeof out->detail, "%s", r.message);
        if (out->code == ROSTER_STATUS_OK) {
            Roster__V1__ListTenantsResponse *lr = (void *)r.reply;
            out->total = lr->total_count;
            for (size_t i = 0; i < lr->n_tenants && out->n < 16; i++)
                trec_from_pb(&out->t[out->n++], lr->tenants[i]);
        }
        call_res_free(&r);
        return;
    }
    json_t *f = NULL;
    switch (variant) {
    case 1:
        f = json_pack("{s:{s:s}}", "id", "equalTo", tenants[T_A].id);
        break;
    case 2:
        f = json_pack("{s:{s:s}}", "id", "equalTo", tenants[T_B].id);
        break;
    case 3:
        f = json_pack("{s:{s:[s,s]}}", "id", "valueIn", tenants[T_A].id, tenants[T_B].id);
        break;
    case 4:
        f = json_pack("{s:{s:s}}", "name", "iLike", "%A%");
        break;
    case 5:
        f = json_pack("{s:{s:s}}", "reference", "equalTo", "beta");
        break;
    default:
        break;
    }
    json_t *vars = json_object();
    if (f != NULL)
        json_object_set_new(vars, "f", f);
    json_t *root;
    json_t *data = gql(&root, &out->code, out->detail, sizeof out->detail, key, Q_TENANTS, vars);
    if (data != NULL) {
        json_t *page = json_object_get(data, "tenants");
        out->total = (int64_t)json_integer_value(json_object_get(page, "totalCount"));
        json_t *arr = json_object_get(page, "data");
        for (size_t i = 0; i < json_array_size(arr) && out->n < 16; i++)
            trec_from_json(&out->t[out->n++], json_array_get(arr, i));
    }
    json_decref(root);
}

static void tlist_clear(tlist *l)
{
    for (int i = 0; i < l->n; i++)
        trec_clear(&l->t[i]);
}

static void op_list_tenants(int ch, const actor *a)
{
    int variant = rnd_below(6);
    tlist got, all;
    run_tenants(&got, ch, a->key, variant);
    run_tenants(&all, ch, actors[ACT_ADMIN].key, variant);
    reads_compared++;
    if (got.code != ROSTER_STATUS_OK || all.code != ROSTER_STATUS_OK) {
        report(false, "list tenants: admin %s, tenant key %s (%s)", roster_status_name(all.code),
               roster_status_name(got.code), got.detail);
        goto done;
    }
    int64_t own = 0, own_count = -1;
    for (int i = 0; i < all.n; i++)
        if (str_eq(all.t[i].id, tenants[a->tenant].id))
            own++, own_count = all.t[i].user_count;
    for (int i = 0; i < got.n; i++) {
        records_compared++;
        if (!str_eq(got.t[i].id, tenants[a->tenant].id)) {
            foreign_seen++;
            report(true, "list tenants (filter %d): tenant %s listed for a key of tenant %s",
                   variant, got.t[i].id, tenants[a->tenant].id);
        } else if (!trec_matches(&got.t[i], a->tenant) || got.t[i].user_count != own_count) {
            report(false, "list tenants: own tenant differs from the model / admin count");
        }
    }
    if (got.total != own || got.n != own)
        report(got.total > own || got.n > own,
               "list tenants (filter %d): totalCount %lld, %d listed, admin view has %lld", variant,
               (long long)got.total, got.n, (long long)own);
done:
    tlist_clear(&got);
    tlist_clear(&all);
}

/* ---------------------------------------------------------------- user writes */

static const char *const first_names[] = {"Ada", "Bob", "Cyd", "Dee", "Eve", "Fay", "Gus"};
static const char *const last_names[] = {"Lovelace", "Hopper", "Turing", "Knuth", "Liskov"};
static const char *const locales[] = {"en-US", "th-TH", "de-DE", "fr-FR"};
static const char *const zones[] = {"Asia/Bangkok", "Europe/Berlin", "America/New_York"};
static long serial;

typedef struct uspec {
    const char *email, *reference, *first_name, *last_name, *phone, *locale, *timezone;
    const char *tenant_id;
    int active, opted;    /* -1: leave out */
    bool clear_last_name; /* updates only */
    bool clear_tenant;    /* updates only: tenantId null */
    bool null_tenant;     /* GraphQL creates: tenantId given as null */
    char email_buf[96], ref_buf[48], phone_buf[24];
} uspec;

static void random_fields(uspec *s, bool create)
{
    s->first_name = chance(create ? 90 : 40) ? first_names[rnd_below(7)] : NULL;
    s->last_name = chance(create ? 80 : 30) ? last_names[rnd_below(5)] : NULL;
    if (chance(create ? 50 : 20)) {
        snprintf(s->phone_buf, sizeof s->phone_buf, "+6681%07d", rnd_below(10000000));
        s->phone = s->phone_buf;
    }
    s->locale = chance(create ? 70 : 20) ? locales[rnd_below(4)] : NULL;
    s->timezone = chance(create ? 60 : 20) ? zones[rnd_below(3)] : NULL;
    s->active = chance(create ? 20 : 25) ? chance(create ? 30 : 60) : -1;
    s->opted = chance(40) ? chance(50) : -1;
    if (!create && s->last_name == NULL && chance(15))
        s->clear_last_name = true;
    if (!create && s->first_name == NULL && s->last_name == NULL && s->phone == NULL &&
        s->locale == NULL && s->timezone == NULL && s->active < 0 && s->opted < 0 &&
        !s->clear_last_name)
        s->first_name = first_names[rnd_below(7)]; /* an update changes something */
}

static int write_user(urec *out, int ch, const char *key, const char *update_id, const uspec *s,
                      char *detail, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (ch == CH_RPC) {
        call_res r;
        int code;
        if (update_id == NULL) {
            Roster__V1__CreateUserRequest c = ROSTER__V1__CREATE_USER_REQUEST__INIT;
            c.email = (char *)s->email, c.reference = (char *)s->reference;
            c.first_name = (char *)s->first_name, c.last_name = (char *)s->last_name;
            c.phone = (char *)s->phone, c.locale = (char *)s->locale;
            c.timezone = (char *)s->timezone, c.tenant_id = (char *)s->tenant_id;
            if (s->active >= 0)
                c.has_active = 1, c.active = s->active;
            if (s->opted >= 0)
                c.has_is_opted_in = 1, c.is_opted_in = s->opted;
            code = rpc(&r, RPC_CREATE_USER, &c.base, key);
        } else {
            Roster__V1__UpdateUserRequest u = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
            Roster__V1__UserField clear[2];
            u.id = (char *)update_id;
            u.email = (char *)s->email;
            u.first_name = (char *)s->first_name, u.last_name = (char *)s->last_name;
            u.phone = (char *)s->phone, u.locale = (char *)s->locale;
            u.timezone = (char *)s->timezone, u.tenant_id = (char *)s->tenant_id;
            if (s->active >= 0)
                u.has_active = 1, u.active = s->active;
            if (s->opted >= 0)
                u.has_is_opted_in = 1, u.is_opted_in = s->opted;
            if (s->clear_last_name)
                clear[u.n_clear++] = ROSTER__V1__USER_FIELD__USER_FIELD_LAST_NAME;
            if (s->clear_tenant)
                clear[u.n_clear++] = ROSTER__V1__USER_FIELD__USER_FIELD_TENANT_ID;
            u.clear = clear;
            code = rpc(&r, RPC_UPDATE_USER, &u.base, key);
        }
        snprintf(detail, cap, "%s", r.message);
        if (code == ROSTER_STATUS_OK)
            urec_from_pb(out, (void *)r.reply);
        call_res_free(&r);
        return code;
    }
    json_t *u = json_object();
#define SET_S(name, v)                                                                             \
    if ((v) != NULL)                                                                               \
    json_object_set_new(u, name, json_string(v))
    SET_S("email", s->email);
    if (update_id == NULL)
        SET_S("reference", s->reference);
    SET_S("firstName", s->first_name);
    SET_S("lastName", s->last_name);
    SET_S("phone", s->phone);
    SET_S("locale", s->locale);
    SET_S("timezone", s->timezone);
    SET_S("tenantId", s->tenant_id);
#undef SET_S
    if (s->active >= 0)
        json_object_set_new(u, "active", json_boolean(s->active));
    if (s->opted >= 0)
        json_object_set_new(u, "isOptedIn", json_boolean(s->opted));
    if (s->clear_last_name)
        json_object_set_new(u, "lastName", json_null());
    if (s->clear_tenant || s->null_tenant)
        json_object_set_new(u, "tenantId", json_null());
    json_t *vars = update_id == NULL ? json_pack("{s:o}", "u", u)
                                     : json_pack("{s:s, s:o}", "id", update_id, "u", u);
    json_t *root;
    int code;
    json_t *data = gql(&root, &code, detail, cap, key,
                       update_id == NULL ? M_CREATE_USER : M_UPDATE_USER, vars);
    if (data != NULL)
        urec_from_json(out, json_object_get(data, update_id == NULL ? "createUser" : "updateUser"));
    json_decref(root);
    return code;
}

/* True when a user of `tenant` other than `except` has this email
 * (case-insensitively) or reference. */
static bool taken_in(int tenant, const char *email, const char *ref, const char *except)
{
    for (int i = 0; i < n_model; i++) {
        const urec *u = &model[i];
        if (!str_eq(u->s[S_TENANT_ID], tenant == T_NONE ? NULL : tenants[tenant].id) ||
            str_eq(u->s[S_ID], except))
            continue;
        if ((email && u->s[S_EMAIL] && strcasecmp(email, u->s[S_EMAIL]) == 0) ||
            (ref && u->s[S_REFERENCE] && strcmp(ref, u->s[S_REFERENCE]) == 0))
            return true;
    }
    return false;
}

/* After a refused write: the admin view of that user (or of users with
 * that email) must still equal the model. */
static void verify_unchanged(int ch, const char *id, const char *email)
{
    if (id != NULL && model_find(id) >= 0) {
        urec now;
        char det[300];
        int code = get_user(&now, ch, actors[ACT_ADMIN].key, id, det, sizeof det);
        if (code != ROSTER_STATUS_OK)
            report(true, "after a refused write, admin cannot read user %s: %s", id, det);
        else
            check_admin_read(&now, "after a refused write");
        urec_clear(&now);
    }
    if (email != NULL) {
        uquery q = {0};
        q.nc = 2;
        q.c[0].f = QF_EMAIL;
        q.c[0].op = QO_EQ;
        snprintf(q.c[0].v[0], sizeof q.c[0].v[0], "%s", email);
        q.c[0].nv = 1;
        q.c[1].f = QF_WITH_DEACTIVATED;
        q.c[1].op = QO_EQ;
        q.c[1].b = true;
        q.limit = 100;
        q.offset = -1;
        ulist l;
        run_list(&l, CH_RPC, actors[ACT_ADMIN].key, &q);
        for (int i = 0; i < l.n; i++)
            check_admin_read(&l.u[i], "after a refused create");
        ulist_clear(&l);
    }
}

/* The status a tenant key gets for putting a user into another tenant. */
#define FOREIGN_TENANT_REFUSAL ROSTER_STATUS_PERMISSION_DENIED

static void op_create_user(int ch, const actor *a)
{
    uspec s = {0};
    random_fields(&s, true);
    int r = rnd_below(100);
    int dest = r < 50 ? a->tenant : r < 85 ? 1 - a->tenant : -1; /* -1: no tenantId */
    s.tenant_id = dest >= 0 ? tenants[dest].id : NULL;
    char upper[64];
    if (dest >= 0 && dest != a->tenant && chance(30)) {
        /* The other tenant's id spelled in capitals. */
        snprintf(upper, sizeof upper, "%s", tenants[dest].id);
        for (char *q = upper; *q; q++)
            *q = (char)toupper((unsigned char)*q);
        s.tenant_id = upper;
    } else if (dest >= 0 && dest != a->tenant && chance(15)) {
        s.tenant_id = zero_id; /* the key of "no tenant" */
    }
    s.null_tenant = dest < 0 && ch == CH_GQL && chance(50);
    serial++;
    snprintf(s.email_buf, sizeof s.email_buf, "u%ld.%llx@iso.example", serial,
             (unsigned long long)(rnd() & 0xffff));
    snprintf(s.ref_buf, sizeof s.ref_buf, "ref-%ld", serial);
    s.email = s.email_buf;
    s.reference = s.ref_buf;
    /* Emails and references of the other tenant are free to use; those of
     * the caller's own tenant collide. */
    int reuse = rnd_below(100);
    if (reuse < 15)
        s.email = user_of(1 - a->tenant)->s[S_EMAIL];
    else if (reuse < 22)
        s.reference = user_of(1 - a->tenant)->s[S_REFERENCE];
    else if (reuse < 27)
        s.email = user_of(a->tenant)->s[S_EMAIL];
    urec got;
    char det[300];
    int code = write_user(&got, ch, a->key, NULL, &s, det, sizeof det);
    int home = dest >= 0 ? dest : a->tenant; /* a tenant key's users stay in its tenant */
    int want;
    if (!a->writer)
        want = ROSTER_STATUS_PERMISSION_DENIED;
    else if (home != a->tenant)
        want = FOREIGN_TENANT_REFUSAL;
    else if (taken_in(a->tenant, s.email, s.reference, NULL))
        want = ROSTER_STATUS_ALREADY_EXISTS;
    else
        want = ROSTER_STATUS_OK;
    char what[96];
    snprintf(what, sizeof what, "create user %s",
             dest < 0            ? "without tenantId"
             : dest == a->tenant ? "in own tenant"
                                 : "in the other tenant");
    if (want == FOREIGN_TENANT_REFUSAL && s.tenant_id == upper &&
        code == ROSTER_STATUS_INVALID_ARGUMENT)
        want = code; /* capitals may be refused as a malformed id */
    if (want == FOREIGN_TENANT_REFUSAL && code == ROSTER_STATUS_ALREADY_EXISTS)
        /* Uniqueness judged before scope tells the caller what the other
         * tenant holds. */
        report(true, "%s: ALREADY_EXISTS reveals the other tenant's email/reference (%s)", what,
               det);
    else
        expect_code(code, want, what, det);
    if (code == ROSTER_STATUS_OK) {
        if (!str_eq(got.s[S_TENANT_ID], tenants[a->tenant].id))
            report(true, "%s: created user %s in tenant %s with a key of tenant %s", what,
                   got.s[S_ID], got.s[S_TENANT_ID] ? got.s[S_TENANT_ID] : "(none)",
                   tenants[a->tenant].id);
        model_put(&got);
    } else {
        verify_unchanged(ch, NULL, s.email);
    }
    urec_clear(&got);
}

static void op_update_user(int ch, const actor *a)
{
    int kind;
    const char *id = pick_target(a->tenant, &kind);
    if (kind == 2 && chance(70))
        id = user_of(1 - a->tenant)->s[S_ID], kind = 1;
    char idbuf[64];
    snprintf(idbuf, sizeof idbuf, "%s", id);
    uspec s = {0};
    random_fields(&s, false);
    int move = -1;
    if (chance(25)) {
        /* Move the user: to the other tenant, or into the caller's own. */
        move = kind == 0 ? (chance(80) ? 1 - a->tenant : a->tenant) : a->tenant;
        s.tenant_id = tenants[move].id;
    }
    if (move < 0 && chance(12))
        s.email = user_of(chance(60) ? 1 - a->tenant : a->tenant)->s[S_EMAIL];
    else if (move < 0 && chance(8))
        s.clear_tenant = true; /* take the user out of every tenant */
    urec got;
    char det[300];
    int code = write_user(&got, ch, a->key, idbuf, &s, det, sizeof det);
    int want;
    const char *what;
    if (!a->writer) {
        want = ROSTER_STATUS_PERMISSION_DENIED;
        what = "update by a reader key";
    } else if (s.clear_tenant) {
        /* Refused before the user is looked up, so the answer is the same
         * for every id and says nothing about other tenants. */
        want = ROSTER_STATUS_PERMISSION_DENIED;
        what = "clear a user's tenantId";
    } else if (kind != 0) {
        want = ROSTER_STATUS_NOT_FOUND;
        what = kind == 1 ? "update another tenant's user" : "update a missing user";
    } else if (move >= 0 && move != a->tenant) {
        want = FOREIGN_TENANT_REFUSAL;
        what = "move own user to the other tenant";
    } else if (s.email != NULL && taken_in(a->tenant, s.email, NULL, idbuf)) {
        want = ROSTER_STATUS_ALREADY_EXISTS;
        what = "update own user to an email taken in the tenant";
    } else {
        want = ROSTER_STATUS_OK;
        what = "update own user";
    }
    expect_code(code, want, what, det);
    if (want == ROSTER_STATUS_NOT_FOUND && code == want)
        same_refusal(SAME_UPDATE_USER, ch, kind == 1, idbuf, det);
    if (code == ROSTER_STATUS_OK) {
        if (!str_eq(got.s[S_TENANT_ID], tenants[a->tenant].id) || kind != 0)
            report(true, "%s: user %s now in tenant %s, key of tenant %s", what, got.s[S_ID],
                   got.s[S_TENANT_ID] ? got.s[S_TENANT_ID] : "(none)", tenants[a->tenant].id);
        model_put(&got);
    } else {
        verify_unchanged(ch, idbuf, NULL);
    }
    urec_clear(&got);
}

/* DeleteUser (RPC only: the gateway has no delete mutation yet). A writer
 * deletes its own tenant's users; another tenant's user, a user without a
 * tenant and an id nobody has are NOT_FOUND, alike; a reader is refused.
 * A refused delete changes nothing; one that went through leaves the
 * model, and the final admin view must agree. */
static void op_delete_user(const actor *a)
{
    int kind;
    char id[64];
    snprintf(id, sizeof id, "%s", pick_target(a->tenant, &kind));
    int at = model_find(id);
    if (at >= 0) /* user_of falls back to any user when a tenant has none */
        kind = str_eq(model[at].s[S_TENANT_ID], tenants[a->tenant].id) ? 0 : 1;
    Roster__V1__DeleteUserRequest q = ROSTER__V1__DELETE_USER_REQUEST__INIT;
    q.id = id;
    call_res r;
    int code = rpc(&r, RPC_DELETE_USER, &q.base, a->key);
    char det[300];
    snprintf(det, sizeof det, "%s", r.message);
    if (code == ROSTER_STATUS_OK && !str_eq(((Roster__V1__DeleteUserResponse *)r.reply)->id, id))
        report(false, "DeleteUser answered id %s for %s",
               ((Roster__V1__DeleteUserResponse *)r.reply)->id, id);
    call_res_free(&r);
    int want;
    const char *what;
    if (!a->writer) {
        want = ROSTER_STATUS_PERMISSION_DENIED;
        what = "delete by a reader key";
    } else if (kind != 0) {
        want = ROSTER_STATUS_NOT_FOUND;
        what = kind == 1 ? "delete another tenant's user" : "delete a missing user";
    } else {
        want = ROSTER_STATUS_OK;
        what = "delete own user";
    }
    expect_code(code, want, what, det);
    if (want == ROSTER_STATUS_NOT_FOUND && code == want)
        same_refusal(SAME_DELETE_USER, CH_RPC, kind == 1, id, det);
    if (code == ROSTER_STATUS_OK) {
        if (kind != 0)
            report(true, "%s: user %s deleted by a key of tenant %s", what, id,
                   tenants[a->tenant].id);
        model_remove(id);
        urec gone;
        char gdet[300];
        int g = get_user(&gone, CH_RPC, actors[ACT_ADMIN].key, id, gdet, sizeof gdet);
        if (g != ROSTER_STATUS_NOT_FOUND)
            report(false, "a deleted user still reads as %s", roster_status_name(g));
        urec_clear(&gone);
    } else {
        verify_unchanged(CH_RPC, id, NULL);
    }
}

static void op_admin_write(int ch)
{
    const actor *ad = &actors[ACT_ADMIN];
    uspec s = {0};
    urec got;
    char det[300];
    int code;
    if (chance(50)) {
        random_fields(&s, true);
        serial++;
        snprintf(s.email_buf, sizeof s.email_buf, "admin%ld@iso.example", serial);
        snprintf(s.ref_buf, sizeof s.ref_buf, "aref-%ld", serial);
        s.email = s.email_buf;
        s.reference = s.ref_buf;
        s.tenant_id = tenants[rnd_below(2)].id;
        code = write_user(&got, ch, ad->key, NULL, &s, det, sizeof det);
    } else if (chance(60)) {
        random_fields(&s, false);
        char id[64];
        snprintf(id, sizeof id, "%s", any_user()->s[S_ID]);
        code = write_user(&got, ch, ad->key, id, &s, det, sizeof det);
    } else {
        /* Move a user between A, B and no tenant: the per-tenant counts
         * and indexes must follow. */
        const urec *u = any_user();
        int from = u->s[S_TENANT_ID] == NULL                    ? T_NONE
                   : str_eq(u->s[S_TENANT_ID], tenants[T_A].id) ? T_A
                                                                : T_B;
        int to = chance(15) ? T_NONE : from == T_NONE ? rnd_below(2) : 1 - from;
        if (to == from)
            to = T_A;
        char id[64];
        snprintf(id, sizeof id, "%s", u->s[S_ID]);
        bool taken = taken_in(to, u->s[S_EMAIL], u->s[S_REFERENCE], id);
        s.clear_tenant = to == T_NONE;
        s.tenant_id = to == T_NONE ? NULL : tenants[to].id;
        code = write_user(&got, ch, ad->key, id, &s, det, sizeof det);
        expect_code(code, taken ? ROSTER_STATUS_ALREADY_EXISTS : ROSTER_STATUS_OK,
                    "admin moves a user", det);
        if (code == ROSTER_STATUS_OK)
            model_put(&got);
        urec_clear(&got);
        return;
    }
    expect_code(code, ROSTER_STATUS_OK, "admin write", det);
    if (code == ROSTER_STATUS_OK)
        model_put(&got);
    urec_clear(&got);
}

/* ---------------------------------------------------------------- admin-only methods */

static void check_tenants_unchanged(void)
{
    for (int t = 0; t < 2; t++) {
        Roster__V1__GetTenantRequest g = ROSTER__V1__GET_TENANT_REQUEST__INIT;
        g.id = tenants[t].id;
        call_res r;
        int code = rpc(&r, RPC_GET_TENANT, &g.base, actors[ACT_ADMIN].key);
        if (code != ROSTER_STATUS_OK) {
            report(true, "admin cannot read tenant %s: %s", tenants[t].id, r.message);
        } else {
            trec now;
            trec_from_pb(&now, (void *)r.reply);
            if (!trec_matches(&now, t))
                report(true, "tenant %s changed: name \"%s\" reference \"%s\" default %d", now.id,
                       now.name, now.reference ? now.reference : "(null)", now.is_default);
            trec_clear(&now);
        }
        call_res_free(&r);
    }
}

static void op_tenant_write(int ch, const actor *a)
{
    /* GraphQL has no default, clear or delete */
    int r = rnd_below(ch == CH_RPC ? 5 : 2);
    int t = chance(50) ? a->tenant : 1 - a->tenant;
    int code;
    char det[300] = "";
    const char *what = r == 0   ? "create tenant"
                       : r == 1 ? "rename a tenant"
                       : r == 2 ? "make a tenant the default"
                       : r == 3 ? "clear a tenant's reference"
                                : "delete a tenant";
    if (ch == CH_RPC) {
        call_res cr;
        if (r == 4) {
            Roster__V1__DeleteTenantRequest dt = ROSTER__V1__DELETE_TENANT_REQUEST__INIT;
            dt.id = tenants[t].id;
            code = rpc(&cr, RPC_DELETE_TENANT, &dt.base, a->key);
        } else if (r == 0) {
            Roster__V1__CreateTenantRequest c = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
            c.name = "Mallory";
            c.has_is_default = c.is_default = chance(50);
            code = rpc(&cr, RPC_CREATE_TENANT, &c.base, a->key);
        } else {
            Roster__V1__UpdateTenantRequest u = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
            u.id = tenants[t].id;
            if (r == 1)
                u.name = "Pwned";
            else if (r == 2)
                u.has_is_default = 1, u.is_default = 1;
            else
                u.has_clear_reference = u.clear_reference = 1;
            code = rpc(&cr, RPC_UPDATE_TENANT, &u.base, a->key);
        }
        snprintf(det, sizeof det, "%s", cr.message);
        call_res_free(&cr);
    } else {
        json_t *root;
        if (r == 0)
            gql(&root, &code, det, sizeof det, a->key, M_CREATE_TENANT,
                json_pack("{s:{s:s}}", "t", "name", "Mallory"));
        else
            gql(&root, &code, det, sizeof det, a->key, M_UPDATE_TENANT,
                json_pack("{s:s, s:{s:s}}", "id", tenants[t].id, "t", "name", "Pwned"));
        json_decref(root);
    }
    expect_code(code, ROSTER_STATUS_PERMISSION_DENIED, what, det);
    check_tenants_unchanged();
}

static void op_stats(const actor *a)
{
    Roster__V1__StatsRequest s = ROSTER__V1__STATS_REQUEST__INIT;
    call_res r;
    int code = rpc(&r, RPC_STATS, &s.base, a->key);
    expect_code(code, ROSTER_STATUS_PERMISSION_DENIED, "Stats", r.message);
    call_res_free(&r);
}

static void op_keys(const actor *a)
{
    call_res r;
    int code;
    const char *what;
    int v = rnd_below(7);
    const actor *victim = &actors[rnd_below(ACT__COUNT)];
    switch (v) {
    case 0:
    case 1:
    case 2: {
        Roster__V1__CreateKeyRequest c = ROSTER__V1__CREATE_KEY_REQUEST__INIT;
        c.name = "escalate";
        c.has_role = 1;
        c.role = v == 0 ? ROSTER__V1__ROLE__ROLE_ADMIN : ROSTER__V1__ROLE__ROLE_WRITER;
        if (v > 0)
            c.tenant_id = tenants[v == 1 ? a->tenant : 1 - a->tenant].id;
        code = rpc(&r, RPC_CREATE_KEY, &c.base, a->key);
        what = v == 0   ? "CreateKey(admin)"
               : v == 1 ? "CreateKey(writer, own tenant)"
                        : "CreateKey(writer, other tenant)";
        break;
    }
    case 3: {
        Roster__V1__ListKeysRequest l = ROSTER__V1__LIST_KEYS_REQUEST__INIT;
        code = rpc(&r, RPC_LIST_KEYS, &l.base, a->key);
        what = "ListKeys";
        break;
    }
    case 4: {
        Roster__V1__GetKeyRequest g = ROSTER__V1__GET_KEY_REQUEST__INIT;
        g.id = (char *)victim->key_id;
        code = rpc(&r, RPC_GET_KEY, &g.base, a->key);
        what = "GetKey";
        break;
    }
    case 5: {
        Roster__V1__RevokeKeyRequest k = ROSTER__V1__REVOKE_KEY_REQUEST__INIT;
        k.id = (char *)victim->key_id;
        code = rpc(&r, RPC_REVOKE_KEY, &k.base, a->key);
        what = "RevokeKey";
        break;
    }
    default: {
        Roster__V1__RotateKeyRequest k = ROSTER__V1__ROTATE_KEY_REQUEST__INIT;
        k.id = (char *)victim->key_id;
        code = rpc(&r, RPC_ROTATE_KEY, &k.base, a->key);
        what = "RotateKey";
        break;
    }
    }
    expect_code(code, ROSTER_STATUS_PERMISSION_DENIED, what, r.message);
    call_res_free(&r);
}

/* Calls without a usable key: none, malformed, a real key id with a wrong
 * secret, a well-formed key that was never issued. */
static long host_refusals;

/* The envelope's old tenant_scope field, set by the caller to the other
 * tenant, with the caller's own key or with none: the service must ignore
 * it (scope comes from the key alone). Sent as hand-made envelope bytes. */
static void op_claimed_scope(const actor *a)
{
    const char *target = user_of(1 - a->tenant)->s[S_ID];
    Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
    g.id = (char *)target;
    uint8_t body[256];
    size_t blen = roster__v1__get_user_request__pack(&g, body);
    Roster__V1__CallContext ctx = ROSTER__V1__CALL_CONTEXT__INIT;
    ctx.request_id = "claimed-scope";
    ctx.has_timeout_ms = 1, ctx.timeout_ms = CALL_MS;
    ctx.tenant_scope = tenants[1 - a->tenant].id;
    bool keyed = chance(60);
    if (keyed)
        ctx.credential = (char *)a->key;
    Roster__V1__RpcRequest env = ROSTER__V1__RPC_REQUEST__INIT;
    env.method = "/roster.v1.UserService/GetUser";
    env.has_body = 1;
    env.body.data = body;
    env.body.len = blen;
    env.context = &ctx;
    uint8_t buf[1024];
    ck_assert_uint_le(roster__v1__rpc_request__get_packed_size(&env), sizeof buf);
    size_t n = roster__v1__rpc_request__pack(&env, buf);
    call_res r;
    int code = send_bytes_sync(cli, buf, n, CALL_MS, &r);
    if (code == ROSTER_STATUS_OK)
        foreign_seen++;
    expect_code(code, keyed ? ROSTER_STATUS_NOT_FOUND : ROSTER_STATUS_UNAUTHENTICATED,
                keyed ? "GetUser(other tenant's user) claiming its tenant_scope"
                      : "keyless GetUser claiming a tenant_scope",
                r.message);
    call_res_free(&r);
}

static void op_unauth(int ch, const actor *a)
{
    if (ch == CH_GQL && chance(25)) {
        /* A valid key from a page whose Host is not on the allowlist (DNS
         * rebinding) is refused before the key is looked at. */
        char body[256];
        snprintf(body, sizeof body,
                 "{\"query\":\"query($id: ID!) { user(id: $id) { id } }\","
                 "\"variables\":{\"id\":\"%s\"}}",
                 user_of(a->tenant)->s[S_ID]);
        char auth[200];
        snprintf(auth, sizeof auth, "Bearer %s", a->key);
        iso_http_reply hr;
        int rc =
            iso_http_request(&hr, GW_PORT, "POST", "/graphql", "rebound.example:24512", auth, body);
        if (rc != 0 || hr.status != 421)
            report(rc == 0 && hr.status == 200, "Host rebound.example: HTTP %d, want 421",
                   rc == 0 ? hr.status : 0);
        else
            host_refusals++;
        if (rc == 0)
            iso_http_reply_free(&hr);
        return;
    }
    char bad[160];
    if (ch == CH_RPC && chance(30)) {
        op_claimed_scope(a);
        return;
    }
    int v = rnd_below(5);
    const char *key = NULL;
    if (v == 4) {
        key = "";
    } else if (v == 1) {
        key = "rstr_not-a-key";
    } else if (v >= 2) {
        snprintf(bad, sizeof bad, "%s", a->key);
        size_t n = strlen(bad);
        if (v == 2) /* same id, another secret */
            bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
        else /* another id */
            bad[6] = bad[6] == '0' ? '1' : '0';
        key = bad;
    }
    char det[300];
    urec got;
    int code = get_user(&got, ch, key, user_of(a->tenant)->s[S_ID], det, sizeof det);
    if (code == ROSTER_STATUS_OK)
        foreign_seen++;
    expect_code(code, ROSTER_STATUS_UNAUTHENTICATED, v == 0 ? "no key" : "bad key", det);
    urec_clear(&got);
}

/* ---------------------------------------------------------------- daemons */

static pid_t gateway_pid;

static void gateway_start(void)
{
    ck_assert_ptr_nonnull(gateway_bin);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open("/tmp/roster-iso-gateway.log", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            close(fd);
        }
        execl(gateway_bin, gateway_bin, "--listen", "http://" GW_HOST, "--upstream", USERS_URL,
              (char *)NULL);
        _exit(127);
    }
    gateway_pid = pid;
    for (int i = 0; i < 200; i++) {
        iso_http_reply r;
        if (iso_http_request(&r, GW_PORT, "GET", "/readyz", GW_HOST, NULL, NULL) == 0) {
            int st = r.status;
            iso_http_reply_free(&r);
            if (st == 200)
                return;
        }
        usleep(50000);
    }
    ck_abort_msg("roster-gateway did not become ready (see /tmp/roster-iso-gateway.log)");
}

static int gateway_stop(void)
{
    kill(gateway_pid, SIGTERM);
    int st = 0;
    waitpid(gateway_pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void create_key(actor *a)
{
    Roster__V1__CreateKeyRequest c = ROSTER__V1__CREATE_KEY_REQUEST__INIT;
    c.name = (char *)a->name;
    c.has_role = 1;
    c.role = a->writer ? ROSTER__V1__ROLE__ROLE_WRITER : ROSTER__V1__ROLE__ROLE_READER;
    c.tenant_id = tenants[a->tenant].id;
    call_res r;
    int code = rpc(&r, RPC_CREATE_KEY, &c.base, actors[ACT_ADMIN].key);
    ck_assert_msg(code == ROSTER_STATUS_OK, "CreateKey %s: %s", a->name, r.message);
    Roster__V1__KeySecret *ks = (void *)r.reply;
    snprintf(a->key, sizeof a->key, "%s", ks->secret);
    snprintf(a->key_id, sizeof a->key_id, "%s", ks->key->id);
    call_res_free(&r);
}

/* Keys that would have no scope, or a scope and the admin role, are not
 * made: a writer or reader key without a tenant would see every tenant. */
static void key_contract_checks(void)
{
    static const struct {
        Roster__V1__Role role;
        int tenant; /* T_A, or -1 none, -2 a missing tenant, -3 not a UUID */
        int want;
        const char *what;
    } cases[] = {
        {ROSTER__V1__ROLE__ROLE_ADMIN, T_A, ROSTER_STATUS_INVALID_ARGUMENT,
         "CreateKey(admin bound to a tenant)"},
        {ROSTER__V1__ROLE__ROLE_WRITER, -1, ROSTER_STATUS_INVALID_ARGUMENT,
         "CreateKey(writer without a tenant)"},
        {ROSTER__V1__ROLE__ROLE_READER, -1, ROSTER_STATUS_INVALID_ARGUMENT,
         "CreateKey(reader without a tenant)"},
        {ROSTER__V1__ROLE__ROLE_READER, -2, ROSTER_STATUS_NOT_FOUND,
         "CreateKey(reader of a missing tenant)"},
        {ROSTER__V1__ROLE__ROLE_WRITER, -3, ROSTER_STATUS_INVALID_ARGUMENT,
         "CreateKey(writer, tenantId not a UUID)"},
        {ROSTER__V1__ROLE__ROLE_UNSPECIFIED, T_A, ROSTER_STATUS_INVALID_ARGUMENT,
         "CreateKey(no role)"},
    };
    cur_kind = K_KEYS;
    cur_actor = ACT_ADMIN;
    cur_ch = CH_RPC;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Roster__V1__CreateKeyRequest c = ROSTER__V1__CREATE_KEY_REQUEST__INIT;
        c.name = "contract";
        c.has_role = 1;
        c.role = cases[i].role;
        c.tenant_id = cases[i].tenant == T_A  ? tenants[T_A].id
                      : cases[i].tenant == -2 ? (char *)missing_ids[0]
                      : cases[i].tenant == -3 ? "tenant-a"
                                              : NULL;
        call_res r;
        int code = rpc(&r, RPC_CREATE_KEY, &c.base, actors[ACT_ADMIN].key);
        expect_code(code, cases[i].want, cases[i].what, r.message);
        call_res_free(&r);
    }
}

static void create_tenant(int t, const char *name, const char *ref, bool is_default)
{
    Roster__V1__CreateTenantRequest c = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    c.name = (char *)name;
    c.reference = (char *)ref;
    c.has_is_default = 1, c.is_default = is_default;
    call_res r;
    int code = rpc(&r, RPC_CREATE_TENANT, &c.base, actors[ACT_ADMIN].key);
    ck_assert_msg(code == ROSTER_STATUS_OK, "CreateTenant: %s", r.message);
    trec_from_pb(&tenants[t], (void *)r.reply);
    call_res_free(&r);
}

static void seed_users(void)
{
    for (int i = 0; i < 2 * SEED_USERS; i++) {
        uspec s = {0};
        random_fields(&s, true);
        snprintf(s.email_buf, sizeof s.email_buf, "%s.%d@seed.example", first_names[i % 7], i / 2);
        snprintf(s.ref_buf, sizeof s.ref_buf, "seed-%d", i / 2); /* same refs in both tenants */
        s.email = s.email_buf;
        s.reference = s.ref_buf;
        s.tenant_id = tenants[i % 2].id;
        urec got;
        char det[300];
        int code = write_user(&got, i % 3 == 0 ? CH_GQL : CH_RPC, actors[ACT_ADMIN].key, NULL, &s,
                              det, sizeof det);
        ck_assert_msg(code == ROSTER_STATUS_OK, "seed user %d: %s", i, det);
        model_put(&got);
        urec_clear(&got);
    }
}

static void seed_tenantless(void)
{
    for (int i = 0; i < NONE_USERS; i++) {
        uspec s = {0};
        random_fields(&s, true);
        snprintf(s.email_buf, sizeof s.email_buf, "nobody.%d@seed.example", i);
        snprintf(s.ref_buf, sizeof s.ref_buf, "seed-%d", i);
        s.email = s.email_buf;
        s.reference = s.ref_buf;
        urec got;
        char det[300];
        int code = write_user(&got, i % 2 ? CH_GQL : CH_RPC, actors[ACT_ADMIN].key, NULL, &s, det,
                              sizeof det);
        ck_assert_msg(code == ROSTER_STATUS_OK, "tenantless user %d: %s", i, det);
        ck_assert_msg(got.s[S_TENANT_ID] == NULL, "user without tenantId got tenant %s",
                      got.s[S_TENANT_ID]);
        model_put(&got);
        urec_clear(&got);
    }
}

/* ---------------------------------------------------------------- concurrent reads */

/* All four tenant keys and the admin key at once, on both channels, so
 * that their requests interleave in the gateway (pooled requests, the key
 * cache, batched nested lookups) and in the service (recycled contexts,
 * the list pool). Read only: the model does not change, so every total is
 * known. A worker never asserts; it reports. */
typedef struct worker {
    int actor, ch, ops;
    uint64_t rng;
    long reads;
} worker;

static uint64_t wrnd(worker *w)
{
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A model user of `tenant` (T_NONE: without one), picked at random. */
static const urec *wpick(worker *w, int tenant)
{
    const char *tid = tenant == T_NONE ? NULL : tenants[tenant].id;
    for (;;) {
        const urec *u = &model[wrnd(w) % (uint64_t)n_model];
        if (str_eq(u->s[S_TENANT_ID], tid))
            return u;
    }
}

static int64_t model_all_count(int tenant)
{
    int64_t n = 0;
    for (int i = 0; i < n_model; i++)
        n += str_eq(model[i].s[S_TENANT_ID], tenants[tenant].id);
    return n;
}

static void worker_list(worker *w, const actor *a, int t)
{
    uquery q = {0};
    int v = (int)(wrnd(w) % 4);
    int64_t want;
    q.limit = 1000;
    q.offset = -1;
    if (v == 0) {
        want = model_user_count(t); /* deactivated users left out */
    } else {
        q.nc = 1;
        q.c[0].f = QF_WITH_DEACTIVATED;
        q.c[0].op = QO_EQ;
        q.c[0].b = true;
        want = model_all_count(t);
        if (v >= 2) {
            /* Name the other tenant (or users without one): nothing matches. */
            q.nc = 2;
            q.c[1].f = v == 2 ? QF_TENANT_ID : QF_ID;
            q.c[1].op = QO_IN;
            q.c[1].nv = 3;
            for (int i = 0; i < 3; i++)
                snprintf(q.c[1].v[i], sizeof q.c[1].v[i], "%s",
                         v == 2 ? tenants[1 - t].id : wpick(w, i == 2 ? T_NONE : 1 - t)->s[S_ID]);
            want = 0;
        }
    }
    ulist l;
    run_list(&l, w->ch, a->key, &q);
    if (l.code != ROSTER_STATUS_OK) {
        report(false, "list: %s (%s)", roster_status_name(l.code), l.detail);
    } else {
        if (t >= 0) {
            for (int i = 0; i < l.n; i++)
                check_read(&l.u[i], t, "concurrent list");
            if (l.total != want || l.n != want)
                report(l.total > want || l.n > want,
                       "concurrent list (variant %d): totalCount %lld, %d users, want %lld", v,
                       (long long)l.total, l.n, (long long)want);
        }
    }
    ulist_clear(&l);
}

static void worker_get(worker *w, const actor *a, int t)
{
    int r = (int)(wrnd(w) % 10);
    const urec *u = wpick(w, r < 5 ? t : r < 9 ? 1 - t : T_NONE);
    urec got;
    char det[300];
    int code = get_user(&got, w->ch, a->key, u->s[S_ID], det, sizeof det);
    if (r < 5) {
        if (code != ROSTER_STATUS_OK)
            report(false, "concurrent get own user: %s (%s)", roster_status_name(code), det);
        else
            check_read(&got, t, "concurrent get");
    } else if (code != ROSTER_STATUS_NOT_FOUND) {
        report(code == ROSTER_STATUS_OK, "concurrent get of a foreign user: %s (%s)",
               roster_status_name(code), det);
    }
    urec_clear(&got);
}

static void worker_nested(const actor *a, int t)
{
    json_t *root;
    int code;
    char det[300];
    json_t *vars = json_pack("{s:{s:{s:b}}, s:i}", "f", "withDeactivated", "equalTo", 1, "l", 1000);
    json_t *data = gql(&root, &code, det, sizeof det, a->key, Q_NESTED, vars);
    if (data == NULL) {
        report(false, "concurrent users { tenant }: %s (%s)", roster_status_name(code), det);
    } else {
        json_t *arr = json_object_get(json_object_get(data, "users"), "data");
        for (size_t i = 0; i < json_array_size(arr); i++)
            check_nested_tenant(json_array_get(arr, i), t, model_user_count(t));
        if ((int64_t)json_array_size(arr) != model_all_count(t))
            report(true, "concurrent users { tenant }: %zu users, the tenant has %lld",
                   json_array_size(arr), (long long)model_all_count(t));
    }
    json_decref(root);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    const actor *a = &actors[w->actor];
    cur_actor = w->actor;
    cur_ch = w->ch;
    for (op_no = 1; op_no <= w->ops; op_no++) {
        int k = (int)(wrnd(w) % 3);
        cur_kind = k == 0 ? K_LIST : k == 1 ? K_GET_USER : K_NESTED;
        if (w->actor == ACT_ADMIN) {
            /* The admin reads everything, so that replies worth leaking are
             * in flight next to the tenant keys' requests. */
            uquery q = {0};
            q.limit = 1000;
            q.offset = -1;
            ulist l;
            run_list(&l, w->ch, a->key, &q);
            ulist_clear(&l);
        } else if (k == 0) {
            worker_list(w, a, a->tenant);
        } else if (k == 1 || w->ch == CH_RPC) {
            worker_get(w, a, a->tenant);
        } else {
            worker_nested(a, a->tenant);
        }
        w->reads++;
    }
    return NULL;
}

/* Runs the concurrent phase; returns the number of reads made. */
static long concurrent_phase(int ops_per_worker)
{
    enum { N_WORKERS = 2 * ACT__COUNT };
    worker ws[N_WORKERS];
    pthread_t th[N_WORKERS];
    for (int i = 0; i < N_WORKERS; i++) {
        ws[i] = (worker){.actor = i / 2, .ch = i % 2, .ops = ops_per_worker, .rng = rnd()};
        ck_assert_int_eq(pthread_create(&th[i], NULL, worker_main, &ws[i]), 0);
    }
    long reads = 0;
    for (int i = 0; i < N_WORKERS; i++) {
        pthread_join(th[i], NULL);
        reads += ws[i].reads;
    }
    return reads;
}

/* ---------------------------------------------------------------- final checks */

static void final_checks(void)
{
    /* Every user the admin sees equals the model, and every model user is there. */
    uquery q = {0};
    q.nc = 1;
    q.c[0].f = QF_WITH_DEACTIVATED;
    q.c[0].op = QO_EQ;
    q.c[0].b = true;
    q.limit = 1000;
    q.offset = -1;
    ulist all;
    run_list(&all, CH_RPC, actors[ACT_ADMIN].key, &q);
    ck_assert_msg(all.code == ROSTER_STATUS_OK, "final admin list: %s", all.detail);
    ck_assert_int_le(n_model, 1000);
    cur_kind = K_ADMIN_WRITE;
    cur_actor = ACT_ADMIN;
    cur_ch = CH_RPC;
    long before = violations;
    for (int i = 0; i < all.n; i++)
        check_admin_read(&all.u[i], "final admin view");
    if (all.n != n_model || all.total != n_model)
        report(true, "final admin view: %d users (total %lld), the model has %d", all.n,
               (long long)all.total, n_model);
    int per[3] = {0, 0, 0};
    for (int i = 0; i < n_model; i++)
        per[model[i].s[S_TENANT_ID] == NULL                    ? T_NONE
            : str_eq(model[i].s[S_TENANT_ID], tenants[T_B].id) ? T_B
                                                               : T_A]++;
    printf("final admin view: %d users (A %d, B %d, no tenant %d), %ld differences from the "
           "model\n",
           all.n, per[T_A], per[T_B], per[T_NONE], violations - before);
    ulist_clear(&all);
    check_tenants_unchanged();

    /* No tenant was added, and the keys are the five made at the start. */
    Roster__V1__ListTenantsRequest lt = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    call_res r;
    ck_assert_int_eq(rpc(&r, RPC_LIST_TENANTS, &lt.base, actors[ACT_ADMIN].key), 0);
    if (((Roster__V1__ListTenantsResponse *)r.reply)->total_count != 2)
        report(true, "final: %lld tenants, want 2",
               (long long)((Roster__V1__ListTenantsResponse *)r.reply)->total_count);
    call_res_free(&r);
    Roster__V1__ListKeysRequest lk = ROSTER__V1__LIST_KEYS_REQUEST__INIT;
    lk.has_include_revoked = lk.include_revoked = 1;
    ck_assert_int_eq(rpc(&r, RPC_LIST_KEYS, &lk.base, actors[ACT_ADMIN].key), 0);
    Roster__V1__ListKeysResponse *kr = (void *)r.reply;
    if (kr->n_keys != ACT__COUNT)
        report(true, "final: %zu keys, want %d", kr->n_keys, ACT__COUNT);
    for (size_t i = 0; i < kr->n_keys; i++) {
        Roster__V1__ApiKey *k = kr->keys[i];
        if (k->has_revoked_at || k->has_rotated_at)
            report(true, "final: key %s (%s) was revoked or rotated", k->id, k->name);
        if (k->has_secret_hash || k->has_previous_secret_hash)
            report(true, "final: ListKeys sends the hash of key %s", k->id);
    }
    call_res_free(&r);
}

static int64_t wall_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A key made to expire 1.5 s from now works until then and is refused
 * afterwards, on both channels. */
static void expiry_checks(const char *user_id)
{
    Roster__V1__CreateKeyRequest c = ROSTER__V1__CREATE_KEY_REQUEST__INIT;
    c.name = "A-reader-expiring";
    c.has_role = 1;
    c.role = ROSTER__V1__ROLE__ROLE_READER;
    c.tenant_id = tenants[T_A].id;
    int64_t until = wall_ms() + 1500;
    c.has_expires_at = 1, c.expires_at = until;
    call_res r;
    ck_assert_int_eq(rpc(&r, RPC_CREATE_KEY, &c.base, actors[ACT_ADMIN].key), 0);
    char key[160];
    snprintf(key, sizeof key, "%s", ((Roster__V1__KeySecret *)r.reply)->secret);
    call_res_free(&r);
    urec got;
    char det[300];
    for (int ch = 0; ch < 2; ch++) {
        cur_ch = ch;
        expect_code(get_user(&got, ch, key, user_id, det, sizeof det), ROSTER_STATUS_OK,
                    "key before its expiry", det);
        urec_clear(&got);
    }
    while (wall_ms() <= until + 50)
        usleep(50000);
    for (int ch = 0; ch < 2; ch++) {
        cur_ch = ch;
        expect_code(get_user(&got, ch, key, user_id, det, sizeof det),
                    ROSTER_STATUS_UNAUTHENTICATED, "key after its expiry", det);
        urec_clear(&got);
    }
}

/* A revoked key and a rotated secret stop working (the rotated one at once
 * with grace 0). Returns the time the revocation took to bite, in ms. */
static long revocation_checks(void)
{
    actor tmp = {"A-writer-temp", T_A, true, "", ""};
    create_key(&tmp);
    const char *id = user_of(T_A)->s[S_ID];
    urec got;
    char det[300];
    for (int ch = 0; ch < 2; ch++) {
        ck_assert_msg(get_user(&got, ch, tmp.key, id, det, sizeof det) == 0, "%s", det);
        urec_clear(&got);
    }
    Roster__V1__RotateKeyRequest rk = ROSTER__V1__ROTATE_KEY_REQUEST__INIT;
    rk.id = tmp.key_id;
    rk.has_grace_seconds = 1, rk.grace_seconds = 0;
    call_res r;
    ck_assert_int_eq(rpc(&r, RPC_ROTATE_KEY, &rk.base, actors[ACT_ADMIN].key), 0);
    char fresh[160];
    snprintf(fresh, sizeof fresh, "%s", ((Roster__V1__KeySecret *)r.reply)->secret);
    call_res_free(&r);
    for (int ch = 0; ch < 2; ch++) {
        cur_ch = ch;
        expect_code(get_user(&got, ch, tmp.key, id, det, sizeof det), ROSTER_STATUS_UNAUTHENTICATED,
                    "old secret after RotateKey(grace 0)", det);
        urec_clear(&got);
        expect_code(get_user(&got, ch, fresh, id, det, sizeof det), ROSTER_STATUS_OK,
                    "new secret after RotateKey", det);
        urec_clear(&got);
    }
    expiry_checks(id);
    Roster__V1__RevokeKeyRequest rv = ROSTER__V1__REVOKE_KEY_REQUEST__INIT;
    rv.id = tmp.key_id;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(rpc(&r, RPC_REVOKE_KEY, &rv.base, actors[ACT_ADMIN].key), 0);
    call_res_free(&r);
    int code[2] = {0, 0};
    long ms = 0;
    while (ms < 10000) {
        for (int ch = 0; ch < 2; ch++) {
            code[ch] = get_user(&got, ch, fresh, id, det, sizeof det);
            urec_clear(&got);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (code[0] == ROSTER_STATUS_UNAUTHENTICATED && code[1] == ROSTER_STATUS_UNAUTHENTICATED)
            break;
        usleep(20000);
    }
    for (int ch = 0; ch < 2; ch++) {
        cur_ch = ch;
        expect_code(code[ch], ROSTER_STATUS_UNAUTHENTICATED, "revoked key", "");
    }
    return ms;
}

/* ---------------------------------------------------------------- the test */

START_TEST(tenant_isolation)
{
    const char *seed_env = getenv("ROSTER_ISO_SEED");
    uint64_t seed =
        seed_env ? strtoull(seed_env, NULL, 0) : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
    const char *ops_env = getenv("ROSTER_ISO_OPS");
    long n_ops = ops_env ? strtol(ops_env, NULL, 10) : 4000;
    ck_assert_msg(n_ops > 0 && n_ops <= 20000, "ROSTER_ISO_OPS must be 1..20000");
    rng_state = seed;
    printf("tenant isolation: seed %llu (replay with ROSTER_ISO_SEED=%llu), %ld operations\n",
           (unsigned long long)seed, (unsigned long long)seed, n_ops);
    fflush(stdout);

    /* On tcp:// daemon_start passes --init-admin-key and reads the key the
     * service writes at its first start. */
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, USERS_URL, NULL);
    ck_assert_msg(strncmp(d.key, "rstr_", 5) == 0, "no initial admin key");
    snprintf(actors[ACT_ADMIN].key, sizeof actors[ACT_ADMIN].key, "%s", d.key);
    /* A client without a default credential: a call passing none is keyless. */
    roster_err_detail det;
    ck_assert_int_eq(rpc_client_open(&cli, d.url, NULL, &det), ROSTER_E_OK);
    gateway_start();

    Roster__V1__ListKeysRequest lk = ROSTER__V1__LIST_KEYS_REQUEST__INIT;
    call_res r;
    ck_assert_int_eq(rpc(&r, RPC_LIST_KEYS, &lk.base, actors[ACT_ADMIN].key), 0);
    ck_assert_uint_eq(((Roster__V1__ListKeysResponse *)r.reply)->n_keys, 1);
    snprintf(actors[ACT_ADMIN].key_id, sizeof actors[ACT_ADMIN].key_id, "%s",
             ((Roster__V1__ListKeysResponse *)r.reply)->keys[0]->id);
    call_res_free(&r);

    /* Users without a tenant are made while no tenant is the default. */
    create_tenant(T_A, "Alpha", "alpha", false);
    seed_tenantless();
    create_tenant(T_B, "Beta", "beta", true); /* the default tenant */
    key_contract_checks();
    for (int i = ACT_A_WRITER; i < ACT__COUNT; i++)
        create_key(&actors[i]);
    seed_users();

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int wsum = 0;
    for (int k = 0; k < K__COUNT; k++)
        wsum += k_weight[k];
    for (op_no = 1; op_no <= n_ops; op_no++) {
        int w = rnd_below(wsum), k = 0;
        while (w >= k_weight[k])
            w -= k_weight[k++];
        cur_kind = k;
        cur_actor = ACT_A_WRITER + rnd_below(4);
        cur_ch = rnd_below(2);
        if (k == K_STATS || k == K_KEYS || k == K_DELETE_USER)
            cur_ch = CH_RPC; /* RPC-only methods */
        if (k == K_ADMIN_WRITE)
            cur_actor = ACT_ADMIN;
        const actor *a = &actors[cur_actor];
        ops_done[k][cur_ch]++;
        switch (k) {
        case K_GET_USER:
            op_get_user(cur_ch, a);
            break;
        case K_BATCH_GET:
            op_batch_get(cur_ch, a);
            break;
        case K_LIST:
        case K_COUNT: {
            uquery q;
            random_query(&q, k == K_COUNT);
            op_list(cur_ch, a, &q);
            break;
        }
        case K_NESTED:
            op_nested(cur_ch, a);
            break;
        case K_GET_TENANT:
            op_get_tenant(cur_ch, a);
            break;
        case K_LIST_TENANTS:
            op_list_tenants(cur_ch, a);
            break;
        case K_CREATE_USER:
            op_create_user(cur_ch, a);
            break;
        case K_UPDATE_USER:
            op_update_user(cur_ch, a);
            break;
        case K_DELETE_USER:
            op_delete_user(a);
            break;
        case K_TENANT_WRITE:
            op_tenant_write(cur_ch, a);
            break;
        case K_STATS:
            op_stats(a);
            break;
        case K_KEYS:
            op_keys(a);
            break;
        case K_ADMIN_WRITE:
            op_admin_write(cur_ch);
            break;
        default:
            op_unauth(cur_ch, a);
            break;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    long conc = concurrent_phase(150);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double csecs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cur_kind = K_ADMIN_WRITE;

    final_checks();
    cur_kind = K_KEYS;
    cur_actor = ACT_ADMIN;
    long revoke_ms = revocation_checks();

    printf("%-16s %8s %8s\n", "operation", "rpc", "graphql");
    for (int k = 0; k < K__COUNT; k++)
        printf("%-16s %8ld %8ld\n", k_name[k], ops_done[k][CH_RPC], ops_done[k][CH_GQL]);
    printf("refusals:");
    for (int s = 1; s < ROSTER_STATUS__COUNT; s++)
        if (refusals[s] > 0)
            printf(" %s %ld", roster_status_name(s), refusals[s]);
    printf(" HTTP-421 %ld", host_refusals);
    printf("; refusal messages compared foreign vs missing: %ld", same_checked);
    printf("\nreads compared with the admin view: %ld (%ld records); foreign records read: %ld\n",
           reads_compared, records_compared, foreign_seen);
    printf("%ld operations in %.1f s; %ld concurrent reads by %d threads in %.1f s; revoked key "
           "refused after %ld ms\n",
           n_ops, secs, conc, 2 * ACT__COUNT, csecs, revoke_ms);
    printf("isolation violations: %ld, other mismatches: %ld (seed %llu)\n", violations, mismatches,
           (unsigned long long)seed);
    fflush(stdout);

    rpc_client_close(cli);
    ck_assert_int_eq(gateway_stop(), 0);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    for (int i = 0; i < n_model; i++)
        urec_clear(&model[i]);
    for (int t = 0; t < 2; t++)
        trec_clear(&tenants[t]);
    if (violations == 0 && mismatches == 0)
        daemon_rmdir(&d);
    ck_assert_msg(violations == 0, "%ld isolation violations (seed %llu, first ones above)",
                  violations, (unsigned long long)seed);
    ck_assert_msg(mismatches == 0, "%ld mismatches with the admin view (seed %llu)", mismatches,
                  (unsigned long long)seed);
}
END_TEST

int main(int argc, char **argv)
{
    roster_users_bin = argc > 1 ? argv[1] : getenv("ROSTER_USERS_BIN");
    gateway_bin = argc > 2 ? argv[2] : getenv("ROSTER_GATEWAY_BIN");
    if (roster_users_bin == NULL || gateway_bin == NULL) {
        fprintf(stderr, "usage: test_isolation ROSTER_USERS_BIN ROSTER_GATEWAY_BIN "
                        "(or set them in the environment)\n");
        return 2;
    }
    Suite *s = suite_create("isolation");
    TCase *tc = tcase_create("isolation");
    tcase_set_timeout(tc, 170);
    tcase_add_test(tc, tenant_isolation);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
