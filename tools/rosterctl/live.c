#include "live.h"

#include "apikey.h"
#include "clock.h"
#include "datadir.h"
#include "nng_error.h"
#include "output.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ opening */

static int fail_nng(roster_err_detail *d, int err, const char *option, const char *what, int rv)
{
    return roster_fail(d, err, option, "%s: %s", what, nng_strerror(rv));
}

/* TLS for the probe dial, verified like the RPC client verifies: the CA
 * of --tls-ca required, the name of --tls-server-name when given. */
static int probe_tls(nng_dialer dialer, const ctl_args *a, roster_err_detail *d)
{
    nng_tls_config *cfg = NULL;
    int err = ROSTER_E_OK;
    int rv;
    if (a->tls_ca == NULL)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "--tls-ca",
                           "tls+tcp:// needs a CA file to verify the service");
    if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT)) != 0)
        return fail_nng(d, roster_err_from_nng(rv), "", "TLS configuration", rv);
    if ((rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED)) != 0) {
        err = fail_nng(d, roster_err_from_nng(rv), "", "TLS configuration", rv);
        goto fail;
    }
    if ((rv = nng_tls_config_ca_file(cfg, a->tls_ca)) != 0) {
        err = fail_nng(d, ROSTER_E_INVALID_ARGUMENT, "--tls-ca", "cannot load the CA file", rv);
        goto fail;
    }
    if (a->tls_server_name != NULL &&
        (rv = nng_tls_config_server_name(cfg, a->tls_server_name)) != 0) {
        err = fail_nng(d, ROSTER_E_INVALID_ARGUMENT, "--tls-server-name", "bad server name", rv);
        goto fail;
    }
    if ((rv = nng_dialer_set_ptr(dialer, NNG_OPT_TLS_CONFIG, cfg)) != 0)
        err = fail_nng(d, roster_err_from_nng(rv), "--connect", "TLS on this URL", rv);
fail:
    nng_tls_config_free(cfg); /* the dialer holds its own reference */
    return err;
}

/* Dials url once, synchronously, and hangs up. d->field names the option
 * at fault ("--connect", "--tls-ca", ...). */
static int probe(const char *url, const ctl_args *a, roster_err_detail *d)
{
    nng_socket sock;
    nng_dialer dialer;
    int err = ROSTER_E_OK;
    int rv;
    if (url[0] == '\0')
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "--connect", "url is empty");
    if (strncmp(url, "ipc://", 6) != 0 && strncmp(url, "tcp://", 6) != 0 &&
        strncmp(url, "tls+tcp://", 10) != 0)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "--connect",
                           "url must start with ipc://, tcp:// or tls+tcp:// (got \"%.64s\")", url);
    if ((rv = nng_req0_open(&sock)) != 0)
        return fail_nng(d, roster_err_from_nng(rv), "", "req0 socket", rv);
    if ((rv = nng_dialer_create(&dialer, sock, url)) != 0) {
        err = fail_nng(d, ROSTER_E_INVALID_ARGUMENT, "--connect", "cannot use this url", rv);
        goto fail;
    }
    if (strncmp(url, "tls+tcp://", 10) == 0 && (err = probe_tls(dialer, a, d)) != ROSTER_E_OK)
        goto fail;
    if ((rv = nng_dialer_start(dialer, 0)) != 0)
        err = roster_fail(d, roster_err_from_nng(rv), "--connect", "%s", nng_strerror(rv));
fail:
    nng_close(sock);
    return err;
}

/* Waits until the client has a connection, at most timeout_ms. A request
 * sent before then waits in nng's queue until the connection is up, and
 * the RPC client issues its receive from that send's completion callback:
 * on nng 1.5.2 this panicked ("pthread_mutex_lock: Invalid argument" in
 * nng_ctx_recv) in a few of every thousand runs on a loaded machine,
 * never once the connection was up before the send (0 in 3,600). */
static void wait_connected(const rpc_client *c, uint32_t timeout_ms)
{
    int64_t end = roster_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (!rpc_client_connected(c) && roster_mono_ns() < end) {
        struct timespec ts = {0, 200 * 1000};
        nanosleep(&ts, NULL);
    }
}

int ctl_live_open(ctl_live *out, const ctl_args *a)
{
    memset(out, 0, sizeof *out);
    const char *what = a->cmd ? a->cmd->words : "";
    int err;
    if (a->connect != NULL) {
        if (snprintf(out->url, sizeof out->url, "%s", a->connect) >= (int)sizeof out->url)
            err = ROSTER_E_LIMIT;
        else
            err = ROSTER_E_OK;
    } else {
        err = ctl_datadir_default_url(out->url, sizeof out->url, a->data);
    }
    if (err != ROSTER_E_OK) {
        ctl_report_error(a->json, what, err, "the service address is too long", NULL);
        return err;
    }
    out->timeout_ms = (uint32_t)a->timeout_ms;
    out->credential = a->credential;
    roster_err_detail d = {{0}};
    err = probe(out->url, a, &d);
    if (err == ROSTER_E_OK) {
        rpc_client_options o = {0};
        o.contexts = 1;
        o.default_timeout_ms = out->timeout_ms;
        o.tls_ca_file = a->tls_ca;
        o.tls_server_name = a->tls_server_name;
        err = rpc_client_open(&out->client, out->url, &o, &d);
    }
    if (err == ROSTER_E_OK)
        wait_connected(out->client, out->timeout_ms);
    if (err != ROSTER_E_OK) {
        char msg[4600];
        const char *why = d.message[0] ? d.message : roster_strerror(err);
        if (err == ROSTER_E_UNAVAILABLE || err == ROSTER_E_CLOSED)
            snprintf(msg, sizeof msg, "cannot reach the service at %s: %s", out->url, why);
        else
            snprintf(msg, sizeof msg, "cannot open a client on %s: %s%s%s", out->url, d.field,
                     d.field[0] ? ": " : "", why);
        ctl_report_error(a->json, what, err, msg, NULL);
        out->client = NULL;
        return err;
    }
    return ROSTER_E_OK;
}

void ctl_live_close(ctl_live *l)
{
    if (l == NULL)
        return;
    rpc_client_close(l->client);
    l->client = NULL;
}

/* ------------------------------------------------------------ calls */

/* One call in flight: the RPC client's callback copies what it needs
 * (its result lives only during the callback) and wakes the caller. */
typedef struct call_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    ctl_status *st;
    uint8_t *body; /* malloc'd copy of the reply body */
    size_t body_len;
} call_wait;

void ctl_status_from_result(ctl_status *st, const rpc_result *res)
{
    st->err = res->err;
    snprintf(st->message, sizeof st->message, "%s", res->message);
    st->violation_count = 0;
    for (size_t i = 0; i < res->n_violations && i < CTL_LIVE_MAX_VIOLATIONS; i++) {
        const Roster__V1__FieldViolation *v = res->violations[i];
        roster_err_detail *out = &st->violations[st->violation_count++];
        snprintf(out->field, sizeof out->field, "%s", v->field ? v->field : "");
        snprintf(out->message, sizeof out->message, "%s", v->description ? v->description : "");
    }
}

static void call_done(void *arg, const rpc_result *res)
{
    call_wait *w = arg;
    ctl_status *st = w->st;
    ctl_status_from_result(st, res);
    if (res->err == ROSTER_E_OK) {
        w->body = malloc(res->body_len ? res->body_len : 1);
        if (w->body == NULL) {
            st->err = ROSTER_E_NOMEM;
            snprintf(st->message, sizeof st->message, "%s", roster_strerror(ROSTER_E_NOMEM));
        } else if (res->body_len > 0) {
            memcpy(w->body, res->body, res->body_len);
        }
        w->body_len = res->body_len;
    }
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int ctl_live_call(ProtobufCMessage **reply, ctl_status *st, ctl_live *l, rpc_method_id method,
                  const ProtobufCMessage *req, roster_arena *arena)
{
    call_wait w = {.done = false, .st = st};
    memset(st, 0, sizeof *st);
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    int err = rpc_client_call(l->client, method, req, l->timeout_ms, l->credential, call_done, &w);
    if (err != ROSTER_E_OK) {
        st->err = err;
        snprintf(st->message, sizeof st->message, "%s: %s", roster_strerror(err),
                 err == ROSTER_E_TOO_LARGE ? "request over the message size limit"
                                           : "request not sent");
        goto fail;
    }
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    err = st->err;
    if (err != ROSTER_E_OK)
        goto fail;
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, arena);
    ProtobufCMessage *m =
        protobuf_c_message_unpack(rpc_method_get(method)->reply, &alloc, w.body_len, w.body);
    if (m == NULL) {
        err = st->err = ROSTER_E_PROTOCOL;
        snprintf(st->message, sizeof st->message, "%s: the reply does not decode",
                 roster_strerror(err));
        goto fail;
    }
    *reply = m;
fail:
    /* The body may hold a key's secret (CreateKey, RotateKey). */
    roster_secure_wipe(w.body, w.body_len);
    free(w.body);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    return err;
}

int ctl_live_exchange(ProtobufCMessage **reply, int *code, ctl_live *l, const ctl_args *a,
                      rpc_method_id method, const ProtobufCMessage *req, roster_arena *arena)
{
    ctl_status st;
    int err = ctl_live_open(l, a);
    if (err != ROSTER_E_OK) {
        *code = ctl_exit_code(err);
        return err;
    }
    err = ctl_live_call(reply, &st, l, method, req, arena);
    if (err != ROSTER_E_OK)
        *code = ctl_live_fail(a, a->cmd->words, err, &st);
    return err;
}

int ctl_live_delete(const ctl_args *a, rpc_method_id method, const char *noun)
{
    const rpc_method *m = rpc_method_get(method);
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    ProtobufCMessage *req = roster_arena_alloc(&arena, m->request->sizeof_message);
    const ProtobufCFieldDescriptor *id_in =
        protobuf_c_message_descriptor_get_field_by_name(m->request, "id");
    const ProtobufCFieldDescriptor *id_out =
        protobuf_c_message_descriptor_get_field_by_name(m->reply, "id");
    int code = CTL_EXIT_INTERNAL;
    if (req == NULL || id_in == NULL || id_out == NULL) {
        ctl_report_error(a->json, a->cmd->words, ROSTER_E_INTERNAL, NULL, NULL);
        goto done;
    }
    protobuf_c_message_init(m->request, req);
    *(const char **)(void *)((char *)req + id_in->offset) = a->positional;
    ctl_live l;
    ProtobufCMessage *reply = NULL;
    if (ctl_live_exchange(&reply, &code, &l, a, method, req, &arena) == ROSTER_E_OK) {
        const char *id = *(const char **)(void *)((char *)reply + id_out->offset);
        if (id == NULL)
            id = a->positional;
        if (a->json) {
            json_t *o = json_pack("{s:s}", "id", id);
            ctl_print_json(stdout, o);
            json_decref(o);
        } else {
            printf("deleted %s %s\n", noun, id);
        }
        code = CTL_EXIT_OK;
    }
    ctl_live_close(&l);
done:
    roster_arena_free(&arena);
    return code;
}

int ctl_live_fail(const ctl_args *a, const char *what, int err, const ctl_status *st)
{
    json_t *vio = NULL;
    const char *msg = st != NULL && st->message[0] ? st->message : roster_strerror(err);
    bool refused = err == ROSTER_E_UNAUTHENTICATED || err == ROSTER_E_PERMISSION_DENIED;
    char buf[600];
    /* A refusal says what to do about the key; its violation (field
     * "credential") only repeats the message, so tables leave it out. */
    if (st != NULL && st->violation_count > 0 && (a->json || !refused)) {
        vio = json_array();
        for (size_t i = 0; i < st->violation_count; i++)
            json_array_append_new(vio, json_pack("{s:s, s:s}", "field", st->violations[i].field,
                                                 "description", st->violations[i].message));
    }
    if (err == ROSTER_E_PERMISSION_DENIED) {
        snprintf(buf, sizeof buf, "permission denied: %s", msg);
        msg = buf;
    } else if (err == ROSTER_E_UNAUTHENTICATED && a->credential == NULL) {
        snprintf(buf, sizeof buf,
                 "unauthenticated: %s (no API key was given: use --key, --key-file or "
                 "ROSTER_KEY)",
                 msg);
        msg = buf;
    } else if (err == ROSTER_E_UNAUTHENTICATED) {
        snprintf(buf, sizeof buf,
                 "unauthenticated: %s (the key from %s is unknown, revoked, expired or "
                 "malformed)",
                 msg, a->credential_source);
        msg = buf;
    }
    ctl_report_error(a->json, what, err, msg, vio);
    json_decref(vio);
    return ctl_exit_code(err);
}

/* ------------------------------------------------------------ option values */

int ctl_parse_bool(bool *out, const char *name, const char *text, roster_err_detail *d)
{
    if (strcmp(text, "true") == 0) {
        *out = true;
        return ROSTER_E_OK;
    }
    if (strcmp(text, "false") == 0) {
        *out = false;
        return ROSTER_E_OK;
    }
    return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, name, "--%s takes true or false, not '%s'",
                       name, text);
}

int ctl_parse_count(int32_t *out, const char *name, const char *text, roster_err_detail *d)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || errno != 0 || v < 0 || v > INT32_MAX)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, name,
                           "--%s takes a whole number from 0 to 2147483647, not '%s'", name, text);
    *out = (int32_t)v;
    return ROSTER_E_OK;
}

int ctl_print_record(const ctl_args *a, json_t *o)
{
    if (o == NULL)
        return ctl_live_fail(a, a->cmd->words, ROSTER_E_NOMEM, NULL);
    if (a->json)
        ctl_print_json(stdout, o);
    else
        ctl_print_object(stdout, o);
    json_decref(o);
    return CTL_EXIT_OK;
}
