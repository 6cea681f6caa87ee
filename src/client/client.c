#include "roster_client.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "nng_close.h"
#include "envelope.h"
#include "roster_limits.h"

/* The longest roster_client_close waits for nng_close (nng_close.h). */
#define CLOSE_BOUND_MS 2000

void roster_pb_str(pb_callback_t *f, const char *s)
{
    if (f == NULL)
        return;
    f->funcs.encode = s != NULL ? roster_pb_encode_cstr : NULL;
    f->arg = (void *)s;
}

void roster_pb_strlist(pb_callback_t *f, const roster_strlist *list)
{
    if (f == NULL)
        return;
    f->funcs.encode = list != NULL ? roster_pb_encode_strlist : NULL;
    f->arg = (void *)list;
}

static int fail_open(roster_err_detail *d, int err, const char *field, const char *what, int rv)
{
    if (rv != 0)
        return roster_fail(d, err, field, "%s: %s", what, nng_strerror(rv));
    return roster_fail(d, err, field, "%s", what);
}

static int tls_setup(nng_dialer dialer, const char *url, const roster_client_options *opts,
                     roster_err_detail *d)
{
    nng_tls_config *cfg = NULL;
    int rv;
    int err;
    if (opts == NULL || opts->tls_ca_file == NULL)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "tls_ca_file",
                           "tls+tcp:// needs a CA file to verify the service");
    if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT)) != 0)
        return fail_open(d, roster_err_from_nng(rv), "", "TLS configuration", rv);
    if ((rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED)) != 0) {
        err = fail_open(d, roster_err_from_nng(rv), "", "TLS configuration", rv);
        goto fail;
    }
    if ((rv = nng_tls_config_ca_file(cfg, opts->tls_ca_file)) != 0) {
        err = fail_open(d, ROSTER_E_INVALID_ARGUMENT, "tls_ca_file", "cannot load the CA file", rv);
        goto fail;
    }
    if (opts->tls_server_name != NULL &&
        (rv = nng_tls_config_server_name(cfg, opts->tls_server_name)) != 0) {
        err = fail_open(d, ROSTER_E_INVALID_ARGUMENT, "tls_server_name", "bad server name", rv);
        goto fail;
    }
    if ((rv = nng_dialer_set_ptr(dialer, NNG_OPT_TLS_CONFIG, cfg)) != 0) {
        err = fail_open(d, roster_err_from_nng(rv), "url", "TLS on this URL", rv);
        goto fail;
    }
    (void)url;
    nng_tls_config_free(cfg); /* the dialer holds its own reference */
    return ROSTER_E_OK;
fail:
    nng_tls_config_free(cfg);
    return err;
}

/* The client's key: opts->api_key, else the file opts->key_file, else
 * $ROSTER_KEY, else none. */
static int load_key(roster_client *c, const roster_client_options *opts, roster_err_detail *d)
{
    int err = ROSTER_E_OK;
    const char *text = NULL;
    if (opts != NULL && opts->api_key != NULL) {
        text = opts->api_key;
        err = roster_keyfile_check_text(text, "api_key", "api_key", d);
    } else if (opts != NULL && opts->key_file != NULL) {
        err = roster_keyfile_read(c->credential, opts->key_file, d);
    } else if ((text = getenv(ROSTER_KEY_ENV)) != NULL && text[0] != '\0') {
        err = roster_keyfile_check_text(text, ROSTER_KEY_ENV, ROSTER_KEY_ENV, d);
    } else {
        text = NULL;
    }
    if (err != ROSTER_E_OK)
        return err;
    if (text != NULL)
        snprintf(c->credential, sizeof c->credential, "%s", text);
    c->has_credential = c->credential[0] != '\0';
    return ROSTER_E_OK;
}

/* Keeps the client's set of open connections (pipe_set.h); runs on nng's
 * threads and calls nothing of nng's but the clock. */
static void pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    roster_client *c = arg;
    uint32_t id = (uint32_t)nng_pipe_id(p);
    if (ev == NNG_PIPE_EV_ADD_POST)
        roster_pipe_set_added(&c->pipes, id, (int64_t)nng_clock());
    else if (ev == NNG_PIPE_EV_REM_POST)
        roster_pipe_set_removed(&c->pipes, id, (int64_t)nng_clock());
}

int roster_client_open(roster_client **out, const char *url, const roster_client_options *opts,
                       roster_err_detail *detail)
{
    roster_client *c = NULL;
    nng_dialer dialer;
    int rv;
    int err;
    bool sock_open = false;

    if (out == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "out", "out is NULL");
    if (url == NULL || url[0] == '\0')
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "url", "url is empty");
    if (strncmp(url, "ipc://", 6) != 0 && strncmp(url, "tcp://", 6) != 0 &&
        strncmp(url, "tls+tcp://", 10) != 0)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "url",
                           "url must start with ipc://, tcp:// or tls+tcp:// (got \"%.64s\")", url);
    if ((c = calloc(1, sizeof *c)) == NULL)
        return roster_fail(detail, ROSTER_E_NOMEM, "", "out of memory");
    roster_nng_gate_init(&c->gate);
    roster_pipe_set_init(&c->pipes);
    if ((c->url = strdup(url)) == NULL) {
        roster_pipe_set_fini(&c->pipes);
        roster_nng_gate_destroy(&c->gate);
        free(c);
        return roster_fail(detail, ROSTER_E_NOMEM, "", "out of memory");
    }
    c->default_timeout_ms = opts != NULL && opts->default_timeout_ms != 0
                                ? opts->default_timeout_ms
                                : ROSTER_CLIENT_DEFAULT_TIMEOUT_MS;
    if ((err = load_key(c, opts, detail)) != ROSTER_E_OK)
        goto fail;
    if ((rv = nng_mtx_alloc(&c->mtx)) != 0) {
        err = fail_open(detail, roster_err_from_nng(rv), "", "mutex", rv);
        goto fail;
    }
    if ((rv = nng_req0_open(&c->sock)) != 0) {
        err = fail_open(detail, roster_err_from_nng(rv), "", "req0 socket", rv);
        goto fail;
    }
    sock_open = true;
    size_t maxsz =
        opts != NULL && opts->max_reply_bytes != 0 ? opts->max_reply_bytes : ROSTER_MAX_REPLY;
    if ((rv = nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, maxsz)) != 0 ||
        (rv = nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 20)) != 0 ||
        (rv = nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 1000)) != 0) {
        err = fail_open(detail, roster_err_from_nng(rv), "", "socket options", rv);
        goto fail;
    }
    nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, pipe_event, c);
    nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, pipe_event, c);
    if ((rv = nng_dialer_create(&dialer, c->sock, url)) != 0) {
        err = fail_open(detail, ROSTER_E_INVALID_ARGUMENT, "url", "cannot use this url", rv);
        goto fail;
    }
    roster_redialer_init(&c->redial, c->sock, dialer, &c->gate);
    if (strncmp(url, "tls+tcp://", 10) == 0 &&
        (err = tls_setup(dialer, url, opts, detail)) != ROSTER_E_OK)
        goto fail;
    bool lazy = opts != NULL && opts->lazy_connect;
    if ((rv = nng_dialer_start(dialer, lazy ? NNG_FLAG_NONBLOCK : 0)) != 0) {
        err = fail_open(detail, roster_err_from_nng(rv), "url", "cannot reach the service", rv);
        goto fail;
    }
    *out = c;
    return ROSTER_E_OK;
fail:
    if (sock_open)
        nng_close(c->sock);
    if (c->mtx != NULL)
        nng_mtx_free(c->mtx);
    roster_nng_gate_destroy(&c->gate);
    roster_pipe_set_fini(&c->pipes);
    roster_keyfile_wipe(c->credential, sizeof c->credential);
    free(c->url);
    free(c);
    return err;
}

void roster_client_close(roster_client *c)
{
    if (c == NULL)
        return;
    nng_mtx_lock(c->mtx);
    c->closing = true;
    nng_mtx_unlock(c->mtx);
    /* No thread may be inside nng_ctx_send/recv when the socket closes
     * (nng_gate.h); calls in flight then end CLOSED. */
    roster_nng_gate_close(&c->gate);
    /* nng 1.5.2's reaper may be stuck for good (docs/client.md): then the
     * socket is left open, and the client with it, since nng may still
     * reach its calls and its pipe set. */
    if (!roster_nng_close_bounded(c->sock, CLOSE_BOUND_MS))
        return;
    roster_call_pool_free(c);
    roster_nng_gate_destroy(&c->gate);
    roster_pipe_set_fini(&c->pipes);
    nng_mtx_free(c->mtx);
    roster_keyfile_wipe(c->credential, sizeof c->credential);
    free(c->url);
    free(c);
}

/* ------------------------------------------------------------ call specs */

static roster_call_spec spec_one(rpc_method_id method, const void *req, void *out)
{
    roster_call_spec s = {0};
    s.method = method;
    s.req = req;
    s.out = out;
    return s;
}

/* Applies the call options' field mask to a request's field_mask unless
 * the request sets its own. */
static void mask_apply(bool *has, uint64_t *mask, const roster_call_options *o)
{
    if (o != NULL && o->field_mask != 0 && !*has) {
        *has = true;
        *mask = o->field_mask;
    }
}

static int need(roster_status *st, const void *p, const char *what)
{
    if (p != NULL)
        return ROSTER_E_OK;
    if (st != NULL) {
        memset(st, 0, sizeof *st);
        st->err = ROSTER_E_INVALID_ARGUMENT;
        st->code = -1;
        snprintf(st->message, sizeof st->message, "%s is NULL", what);
    }
    return ROSTER_E_INVALID_ARGUMENT;
}

#define NEED(p) need(st, (p), #p)

int roster_client_create_user(roster_v1_User *out, roster_status *st, roster_client *c,
                              const roster_call_options *o, const roster_v1_CreateUserRequest *req)
{
    int err;
    if ((err = NEED(out)) || (err = NEED(req)))
        return err;
    roster_call_spec s = spec_one(RPC_CREATE_USER, req, out);
    return roster_call_run(st, c, o, &s);
}

int roster_client_update_user(roster_v1_User *out, roster_status *st, roster_client *c,
                              const roster_call_options *o, const roster_v1_UpdateUserRequest *req)
{
    int err;
    if ((err = NEED(out)) || (err = NEED(req)))
        return err;
    roster_call_spec s = spec_one(RPC_UPDATE_USER, req, out);
    return roster_call_run(st, c, o, &s);
}

int roster_client_get_user(roster_v1_User *out, roster_status *st, roster_client *c,
                           const roster_call_options *o, const char *id)
{
    int err;
    if ((err = NEED(out)) || (err = NEED(id)))
        return err;
    roster_v1_GetUserRequest req = roster_v1_GetUserRequest_init_zero;
    roster_pb_str(&req.id, id);
    mask_apply(&req.has_field_mask, &req.field_mask, o);
    roster_call_spec s = spec_one(RPC_GET_USER, &req, out);
    return roster_call_run(st, c, o, &s);
}

int roster_client_delete_user(roster_v1_DeleteUserResponse *out, roster_status *st,
                              roster_client *c, const roster_call_options *o, const char *id)
{
    int err;
    if ((err = NEED(out)) || (err = NEED(id)))
        return err;
    roster_v1_DeleteUserRequest req = roster_v1_DeleteUserRequest_init_zero;
    roster_pb_str(&req.id, id);
    roster_call_spec s = spec_one(RPC_DELETE_USER, &req, out);
    return roster_call_run(st, c, o, &s);
}

static roster_call_spec spec_batch_users(roster_v1_BatchGetUsersRequest *req,
                                         const roster_call_options *o, const roster_strlist *ids,
                                         roster_v1_User *users, bool *found)
{
    roster_pb_strlist(&req->ids, ids);
    mask_apply(&req->has_field_mask, &req->field_mask, o);
    roster_call_spec s = spec_one(RPC_BATCH_GET_USERS, req, NULL);
    s.array = users;
    s.cap = ids->count;
    s.found = found;
    return s;
}

int roster_client_batch_get_users(roster_v1_User *users, bool *found, roster_status *st,
                                  roster_client *c, const roster_call_options *o,
                                  const char *const *ids, size_t n)
{
    int err;
    if (n > 0 && ((err = NEED(users)) || (err = NEED(found)) || (err = NEED(ids))))
        return err;
    roster_strlist list = {ids, n};
    roster_v1_BatchGetUsersRequest req = roster_v1_BatchGetUsersRequest_init_zero;
    roster_call_spec s = spec_batch_users(&req, o, &list, users, found);
    return roster_call_run(st, c, o, &s);
}

int roster_client_batch_get_users_stream(bool *found, roster_status *st, roster_client *c,
                                         const roster_call_options *o, const char *const *ids,
                                         size_t n, roster_user_fn fn, void *arg)
{
    int err;
    if ((err = NEED(fn)) || (n > 0 && (err = NEED(ids))))
        return err;
    roster_strlist list = {ids, n};
    roster_v1_BatchGetUsersRequest req = roster_v1_BatchGetUsersRequest_init_zero;
    roster_call_spec s = spec_batch_users(&req, o, &list, NULL, found);
    s.user_fn = fn;
    s.fn_arg = arg;
    return roster_call_run(st, c, o, &s);
}

/* The request the call sends: *req, or a copy of it in *tmp (caller
 * storage, alive until the call function returns) with the options' mask. */
static const roster_v1_ListUsersRequest *list_users_masked(roster_v1_ListUsersRequest *tmp,
                                                           const roster_v1_ListUsersRequest *req,
                                                           const roster_call_options *o)
{
    if (o == NULL || o->field_mask == 0 || req->has_field_mask)
        return req;
    *tmp = *req;
    mask_apply(&tmp->has_field_mask, &tmp->field_mask, o);
    return tmp;
}

static roster_call_spec spec_list_users(const roster_v1_ListUsersRequest *req,
                                        roster_v1_User *users, size_t *count, int64_t *total,
                                        roster_v1_PageInfo *page, size_t cap)
{
    roster_call_spec s = spec_one(RPC_LIST_USERS, req, NULL);
    s.array = users;
    s.count = count;
    s.total = total;
    s.page = page;
    s.cap = cap;
    return s;
}

int roster_client_list_users(roster_v1_User *users, size_t *count, int64_t *total,
                             roster_v1_PageInfo *page, roster_status *st, roster_client *c,
                             const roster_call_options *o, const roster_v1_ListUsersRequest *req,
                             size_t cap)
{
    int err;
    if ((err = NEED(count)) || (err = NEED(req)) || (cap > 0 && (err = NEED(users))))
        return err;
    roster_v1_ListUsersRequest tmp;
    roster_call_spec s =
        spec_list_users(list_users_masked(&tmp, req, o), users, count, total, page, cap);
    return roster_call_run(st, c, o, &s);
}

int roster_client_list_users_stream(int64_t *total, roster_v1_PageInfo *page, roster_status *st,
                                    roster_client *c, const roster_call_options *o,
                                    const roster_v1_ListUsersRequest *req, roster_user_fn fn,
                                    void *arg)
{
    int err;
    if ((err = NEED(req)) || (err = NEED(fn)))
        return err;
    roster_v1_ListUsersRequest tmp;
    roster_call_spec s =
        spec_list_users(list_users_masked(&tmp, req, o), NULL, NULL, total, page, 0);
    s.user_fn = fn;
    s.fn_arg = arg;
    return roster_call_run(st, c, o, &s);
}

int roster_client_create_tenant(roster_v1_Tenant *out, roster_status *st, roster_client *c,
                                const roster_call_options *o,
                                const roster_v1_CreateTenantRequest *req)
{
    int err;
    if ((err = NEED(out)) || (err = NEED(req)))
        return err;
    roster_call_spec s = spec_one(RPC_CREATE_TENANT, req, out);
    return roster_call_run(st, c, o, &s);
}

int roster_client_update_tenant(roster_v1_Tenant *out, roster_status *st, roster_client *c,
                                const roster_call_options *o,
                                const roster_v1_UpdateTenantRequest *req)
{
    int err;
    if ((err = NEED(out)) || (err = NEED(req)))
        return err;
    roster_call_spec s = spec_one(RPC_UPDATE_TENANT, req, out);
    return roster_call_run(st, c, o, &s);
}

int roster_client_delete_tenant(roster_v1_DeleteTenantResponse *out, roster_status *st,
                                roster_client *c, const roster_call_options *o, const char *id)
{
    int err;
    if ((err = NEED(out)) || (err = NEED(id)))
        return err;
    roster_v1_DeleteTenantRequest req = roster_v1_DeleteTenantRequest_init_zero;
    roster_pb_str(&req.id, id);
    roster_call_spec s = spec_one(RPC_DELETE_TENANT, &req, out);
    return roster_call_run(st, c, o, &s);
}

int roster_client_get_tenant(roster_v1_Tenant *out, roster_status *st, roster_client *c,
                             const roster_call_options *o, const char *id, bool include_user_count)
{
    int err;
    if ((err = NEED(out)) || (err = NEED(id)))
        return err;
    roster_v1_GetTenantRequest req = roster_v1_GetTenantRequest_init_zero;
    roster_pb_str(&req.id, id);
    mask_apply(&req.has_field_mask, &req.field_mask, o);
    req.has_include_user_count = include_user_count;
    req.include_user_count = include_user_count;
    roster_call_spec s = spec_one(RPC_GET_TENANT, &req, out);
    return roster_call_run(st, c, o, &s);
}

static roster_call_spec spec_batch_tenants(roster_v1_BatchGetTenantsRequest *req,
                                           const roster_call_options *o, const roster_strlist *ids,
                                           bool include_user_count, roster_v1_Tenant *tenants,
                                           bool *found)
{
    roster_pb_strlist(&req->ids, ids);
    mask_apply(&req->has_field_mask, &req->field_mask, o);
    req->has_include_user_count = include_user_count;
    req->include_user_count = include_user_count;
    roster_call_spec s = spec_one(RPC_BATCH_GET_TENANTS, req, NULL);
    s.array = tenants;
    s.cap = ids->count;
    s.found = found;
    return s;
}

int roster_client_batch_get_tenants(roster_v1_Tenant *tenants, bool *found, roster_status *st,
                                    roster_client *c, const roster_call_options *o,
                                    const char *const *ids, size_t n, bool include_user_count)
{
    int err;
    if (n > 0 && ((err = NEED(tenants)) || (err = NEED(found)) || (err = NEED(ids))))
        return err;
    roster_strlist list = {ids, n};
    roster_v1_BatchGetTenantsRequest req = roster_v1_BatchGetTenantsRequest_init_zero;
    roster_call_spec s = spec_batch_tenants(&req, o, &list, include_user_count, tenants, found);
    return roster_call_run(st, c, o, &s);
}

int roster_client_batch_get_tenants_stream(bool *found, roster_status *st, roster_client *c,
                                           const roster_call_options *o, const char *const *ids,
                                           size_t n, bool include_user_count, roster_tenant_fn fn,
                                           void *arg)
{
    int err;
    if ((err = NEED(fn)) || (n > 0 && (err = NEED(ids))))
        return err;
    roster_strlist list = {ids, n};
    roster_v1_BatchGetTenantsRequest req = roster_v1_BatchGetTenantsRequest_init_zero;
    roster_call_spec s = spec_batch_tenants(&req, o, &list, include_user_count, NULL, found);
    s.tenant_fn = fn;
    s.fn_arg = arg;
    return roster_call_run(st, c, o, &s);
}

/* The request the call sends: *req, or a copy of it in *tmp (caller
 * storage, alive until the call function returns) with the options' mask. */
static const roster_v1_ListTenantsRequest *
list_tenants_masked(roster_v1_ListTenantsRequest *tmp, const roster_v1_ListTenantsRequest *req,
                    const roster_call_options *o)
{
    if (o == NULL || o->field_mask == 0 || req->has_field_mask)
        return req;
    *tmp = *req;
    mask_apply(&tmp->has_field_mask, &tmp->field_mask, o);
    return tmp;
}

static roster_call_spec spec_list_tenants(const roster_v1_ListTenantsRequest *req,
                                          roster_v1_Tenant *tenants, size_t *count, int64_t *total,
                                          roster_v1_PageInfo *page, size_t cap)
{
    roster_call_spec s = spec_one(RPC_LIST_TENANTS, req, NULL);
    s.array = tenants;
    s.count = count;
    s.total = total;
    s.page = page;
    s.cap = cap;
    return s;
}

int roster_client_list_tenants(roster_v1_Tenant *tenants, size_t *count, int64_t *total,
                               roster_v1_PageInfo *page, roster_status *st, roster_client *c,
                               const roster_call_options *o,
                               const roster_v1_ListTenantsRequest *req, size_t cap)
{
    int err;
    if ((err = NEED(count)) || (err = NEED(req)) || (cap > 0 && (err = NEED(tenants))))
        return err;
    roster_v1_ListTenantsRequest tmp;
    roster_call_spec s =
        spec_list_tenants(list_tenants_masked(&tmp, req, o), tenants, count, total, page, cap);
    return roster_call_run(st, c, o, &s);
}

int roster_client_list_tenants_stream(int64_t *total, roster_v1_PageInfo *page, roster_status *st,
                                      roster_client *c, const roster_call_options *o,
                                      const roster_v1_ListTenantsRequest *req, roster_tenant_fn fn,
                                      void *arg)
{
    int err;
    if ((err = NEED(req)) || (err = NEED(fn)))
        return err;
    roster_v1_ListTenantsRequest tmp;
    roster_call_spec s =
        spec_list_tenants(list_tenants_masked(&tmp, req, o), NULL, NULL, total, page, 0);
    s.tenant_fn = fn;
    s.fn_arg = arg;
    return roster_call_run(st, c, o, &s);
}

int roster_client_health(roster_v1_HealthResponse *out, roster_status *st, roster_client *c,
                         const roster_call_options *o)
{
    int err;
    if ((err = NEED(out)))
        return err;
    roster_v1_HealthRequest req = roster_v1_HealthRequest_init_zero;
    roster_call_spec s = spec_one(RPC_HEALTH, &req, out);
    return roster_call_run(st, c, o, &s);
}

int roster_client_stats(roster_v1_StatsResponse *out, roster_status *st, roster_client *c,
                        const roster_call_options *o)
{
    int err;
    if ((err = NEED(out)))
        return err;
    roster_v1_StatsRequest req = roster_v1_StatsRequest_init_zero;
    roster_call_spec s = spec_one(RPC_STATS, &req, out);
    return roster_call_run(st, c, o, &s);
}

/* ------------------------------------------------------------ asynchronous forms */

#define ASYNC_NEED(p)                                                                              \
    do {                                                                                           \
        if ((p) == NULL)                                                                           \
            return ROSTER_E_INVALID_ARGUMENT;                                                      \
    } while (0)

int roster_client_create_user_async(roster_v1_User *out, roster_client *c,
                                    const roster_call_options *o,
                                    const roster_v1_CreateUserRequest *req, roster_done_fn done,
                                    void *arg)
{
    ASYNC_NEED(out);
    ASYNC_NEED(req);
    roster_call_spec s = spec_one(RPC_CREATE_USER, req, out);
    return roster_call_start(c, o, &s, done, arg);
}

int roster_client_update_user_async(roster_v1_User *out, roster_client *c,
                                    const roster_call_options *o,
                                    const roster_v1_UpdateUserRequest *req, roster_done_fn done,
                                    void *arg)
{
    ASYNC_NEED(out);
    ASYNC_NEED(req);
    roster_call_spec s = spec_one(RPC_UPDATE_USER, req, out);
    return roster_call_start(c, o, &s, done, arg);
}

int roster_client_get_user_async(roster_v1_User *out, roster_client *c,
                                 const roster_call_options *o, const char *id, roster_done_fn done,
                                 void *arg)
{
    ASYNC_NEED(out);
    ASYNC_NEED(id);
    roster_v1_GetUserRequest req = roster_v1_GetUserRequest_init_zero;
    roster_pb_str(&req.id, id);
    mask_apply(&req.has_field_mask, &req.field_mask, o);
    roster_call_spec s = spec_one(RPC_GET_USER, &req, out);
    return roster_call_start(c, o, &s, done, arg);
}

int roster_client_delete_user_async(roster_v1_DeleteUserResponse *out, roster_client *c,
                                    const roster_call_options *o, const char *id,
                                    roster_done_fn done, void *arg)
{
    ASYNC_NEED(out);
    ASYNC_NEED(id);
    roster_v1_DeleteUserRequest req = roster_v1_DeleteUserRequest_init_zero;
    roster_pb_str(&req.id, id);
    roster_call_spec s = spec_one(RPC_DELETE_USER, &req, out);
    return roster_call_start(c, o, &s, done, arg);
}

int roster_client_batch_get_users_async(roster_v1_User *users, bool *found, roster_client *c,
                                        const roster_call_options *o, const char *const *ids,
                                        size_t n, roster_done_fn done, void *arg)
{
    if (n > 0) {
        ASYNC_NEED(users);
        ASYNC_NEED(found);
        ASYNC_NEED(ids);
    }
    roster_strlist list = {ids, n};
    roster_v1_BatchGetUsersRequest req = roster_v1_BatchGetUsersRequest_init_zero;
    roster_call_spec s = spec_batch_users(&req, o, &list, users, found);
    return roster_call_start(c, o, &s, done, arg);
}

int roster_client_list_users_async(roster_v1_User *users, size_t *count, int64_t *total,
                                   roster_v1_PageInfo *page, roster_client *c,
                                   const roster_call_options *o,
                                   const roster_v1_ListUsersRequest *req, size_t cap,
                                   roster_done_fn done, void *arg)
{
    ASYNC_NEED(count);
    ASYNC_NEED(req);
    if (cap > 0)
        ASYNC_NEED(users);
    roster_v1_ListUsersRequest tmp;
    roster_call_spec s =
        spec_list_users(list_users_masked(&tmp, req, o), users, count, total, page, cap);
    return roster_call_start(c, o, &s, done, arg);
}

int roster_client_list_users_stream_async(int64_t *total, roster_v1_PageInfo *page,
                                          roster_client *c, const roster_call_options *o,
                                          const roster_v1_ListUsersRequest *req, roster_user_fn fn,
                                          void *fn_arg, roster_done_fn done, void *arg)
{
    ASYNC_NEED(req);
    ASYNC_NEED(fn);
    roster_v1_ListUsersRequest tmp;
    roster_call_spec s =
        spec_list_users(list_users_masked(&tmp, req, o), NULL, NULL, total, page, 0);
    s.user_fn = fn;
    s.fn_arg = fn_arg;
    return roster_call_start(c, o, &s, done, arg);
}

int roster_client_create_tenant_async(roster_v1_Tenant *out, roster_client *c,
                                      const roster_call_options *o,
                                      const roster_v1_CreateTenantRequest *req, roster_done_fn done,
                                      void *arg)
{
    ASYNC_NEED(out);
    ASYNC_NEED(req);
    roster_call_spec s = spec_one(RPC_CREATE_TENANT, req, out);
    return roster_call_start(c, o, &s, done, arg);
}

int roster_client_update_tenant_async(roster_v1_Tenant *out, roster_client *c,
                                      const roster_call_options *o,
                                      const roster_v1_UpdateTenantRequest *req, roster_done_fn done,
                                      void *arg)
{
    ASYNC_NEED(out);
    ASYNC_NEED(req);
    roster_call_spec s = spec_one(RPC_UPDATE_TENANT, req, out);
    return roster_call_start(c, o, &s, done, arg);
}

int roster_client_delete_tenant_async(roster_v1_DeleteTenantResponse *out, roster_client *c,
                                      const roster_call_options *o, const char *id,
                                      roster_done_fn done, void *arg)
{
    ASYNC_NEED(out);
    ASYNC_NEED(id);
    roster_v1_DeleteTenantRequest req = roster_v1_DeleteTenantRequest_init_zero;
    roster_pb_str(&req.id, id);
    roster_call_spec s = spec_one(RPC_DELETE_TENANT, &req, out);
    return roster_call_start(c, o, &s, done, arg);
}

int roster_client_get_tenant_async(roster_v1_Tenant *out, roster_client *c,
                                   const roster_call_options *o, const char *id,
                                   bool include_user_count, roster_done_fn done, void *arg)
{
    ASYNC_NEED(out);
    ASYNC_NEED(id);
    roster_v1_GetTenantRequest req = roster_v1_GetTenantRequest_init_zero;
    roster_pb_str(&req.id, id);
    mask_apply(&req.has_field_mask, &req.field_mask, o);
    req.has_include_user_count = include_user_count;
    req.include_user_count = include_user_count;
    roster_call_spec s = spec_one(RPC_GET_TENANT, &req, out);
    return roster_call_start(c, o, &s, done, arg);
}

int roster_client_batch_get_tenants_async(roster_v1_Tenant *tenants, bool *found, roster_client *c,
                                          const roster_call_options *o, const char *const *ids,
                                          size_t n, bool include_user_count, roster_done_fn done,
                                          void *arg)
{
    if (n > 0) {
        ASYNC_NEED(tenants);
        ASYNC_NEED(found);
        ASYNC_NEED(ids);
    }
    roster_strlist list = {ids, n};
    roster_v1_BatchGetTenantsRequest req = roster_v1_BatchGetTenantsRequest_init_zero;
    roster_call_spec s = spec_batch_tenants(&req, o, &list, include_user_count, tenants, found);
    return roster_call_start(c, o, &s, done, arg);
}

int roster_client_list_tenants_async(roster_v1_Tenant *tenants, size_t *count, int64_t *total,
                                     roster_v1_PageInfo *page, roster_client *c,
                                     const roster_call_options *o,
                                     const roster_v1_ListTenantsRequest *req, size_t cap,
                                     roster_done_fn done, void *arg)
{
    ASYNC_NEED(count);
    ASYNC_NEED(req);
    if (cap > 0)
        ASYNC_NEED(tenants);
    roster_v1_ListTenantsRequest tmp;
    roster_call_spec s =
        spec_list_tenants(list_tenants_masked(&tmp, req, o), tenants, count, total, page, cap);
    return roster_call_start(c, o, &s, done, arg);
}

int roster_client_health_async(roster_v1_HealthResponse *out, roster_client *c,
                               const roster_call_options *o, roster_done_fn done, void *arg)
{
    ASYNC_NEED(out);
    roster_v1_HealthRequest req = roster_v1_HealthRequest_init_zero;
    roster_call_spec s = spec_one(RPC_HEALTH, &req, out);
    return roster_call_start(c, o, &s, done, arg);
}

int roster_client_stats_async(roster_v1_StatsResponse *out, roster_client *c,
                              const roster_call_options *o, roster_done_fn done, void *arg)
{
    ASYNC_NEED(out);
    roster_v1_StatsRequest req = roster_v1_StatsRequest_init_zero;
    roster_call_spec s = spec_one(RPC_STATS, &req, out);
    return roster_call_start(c, o, &s, done, arg);
}
