/* Roster client library: calls the user service (`roster-users`) over nng
 * req0 with protobuf messages encoded by nanopb.
 *
 * Types. Requests and records are the nanopb types generated from
 * proto/roster.proto (`roster_v1_User`, `roster_v1_ListUsersRequest`, ...
 * from "roster.pb.h"). Records are fixed-size structs (strings are char
 * arrays sized by proto/roster.options); string fields of requests are
 * nanopb callbacks, set with roster_pb_str()/roster_pb_strlist() to point
 * at the caller's own strings (borrowed, never copied).
 *
 * Errors. Every function returns a ROSTER_E_* code from "error.h"
 * (ROSTER_E_OK is 0). A reply with a non-OK gRPC status becomes the code
 * roster_err_from_status() gives (NOT_FOUND, ALREADY_EXISTS,
 * INVALID_ARGUMENT, DEADLINE_EXCEEDED, ...); the server's message and its
 * per-field violations land in a roster_status when the caller passes one.
 * A call without a key the service accepts fails UNAUTHENTICATED; one
 * whose key's role or tenant does not allow it, PERMISSION_DENIED.
 * Local failures use the same enum: DEADLINE_EXCEEDED when the call's
 * timeout expires before the reply, UNAVAILABLE when the service cannot be
 * reached, CLOSED after roster_client_close, PROTOCOL for a reply that does
 * not decode, TOO_LARGE when a reply holds more records than the caller's
 * array, CANCELLED when a streaming callback stops the decode.
 *
 * Memory. No heap allocation happens on the request path: requests are
 * encoded straight into the nng message, replies are decoded from it into
 * the caller's structs or into per-call storage that the handle pools and
 * reuses. The pool grows (one allocation per extra concurrent call) only
 * when more calls are in flight than ever before.
 *
 * Threads. A roster_client is safe to use from any number of threads at
 * once; each call runs on its own nng req0 context. Asynchronous calls
 * complete on nng's threads. */
#ifndef ROSTER_CLIENT_H
#define ROSTER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "roster.pb.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Timeout used when neither the call nor the client options give one. */
#define ROSTER_CLIENT_DEFAULT_TIMEOUT_MS 10000u
/* Per-field violations kept in a roster_status (more are counted, not kept). */
#define ROSTER_CLIENT_MAX_VIOLATIONS 8

typedef struct roster_client roster_client;

/* ------------------------------------------------------------ opening */

typedef struct roster_client_options {
    /* PEM file of the certificate authorities trusted for tls+tcp://;
     * required for tls+tcp:// URLs, ignored otherwise. Read during
     * roster_client_open; the string is borrowed only for that call. */
    const char *tls_ca_file;
    /* Name the server certificate must carry; NULL uses the URL's host.
     * Borrowed only during roster_client_open. */
    const char *tls_server_name;
    /* Timeout for calls whose options give none; 0 means
     * ROSTER_CLIENT_DEFAULT_TIMEOUT_MS. */
    uint32_t default_timeout_ms;
    /* Largest reply accepted, in bytes; 0 means ROSTER_MAX_REPLY, the reply
     * limit the service keeps to. */
    size_t max_reply_bytes;
    /* false (default): roster_client_open fails with UNAVAILABLE when the
     * service cannot be reached now. true: open returns at once and calls
     * wait (within their timeout) for the connection, which nng retries. */
    bool lazy_connect;
    /* The API key every call presents (context.credential) unless the
     * call's options name another: api_key is the key text itself;
     * key_file a file holding it, which must be a regular file only its
     * owner may read (one the group or others may read is refused with
     * ROSTER_E_PERMISSION_DENIED, detail field "key_file"). api_key wins
     * over key_file; when both are NULL the ROSTER_KEY environment
     * variable is used, and when that is unset or empty the client is
     * keyless, which the service accepts only over ipc:// and only when
     * started with --allow-keyless-ipc. The key is read and copied during
     * roster_client_open (both strings are borrowed for that call only)
     * and wiped from memory by roster_client_close. */
    const char *api_key;
    const char *key_file;
} roster_client_options;

/* Opens a client on `url` (ipc://PATH, tcp://HOST:PORT or
 * tls+tcp://HOST:PORT). `opts` may be NULL for the defaults; it and every
 * string in it are borrowed only for the duration of this call. On
 * success *out is a new handle owned by the caller, to be released with
 * roster_client_close. On failure *out is untouched and `detail` (may be
 * NULL) names what was wrong ("url", "tls_ca_file", ...). */
int roster_client_open(roster_client **out, const char *url, const roster_client_options *opts,
                       roster_err_detail *detail);

/* Closes the connection and frees the handle. Calls still in flight finish
 * with ROSTER_E_CLOSED (their callbacks run) before this returns. Accepts
 * NULL. Must not be called from an asynchronous callback of the same
 * client, and no other thread may use the handle during or after it.
 * Waits at most 2 s for nng to close the socket: when nng 1.5.2's reaper
 * is stuck for good (docs/client.md) it gives up, leaving the socket and
 * the handle allocated, as nng may still reach them. */
void roster_client_close(roster_client *c);

/* ------------------------------------------------------------ per call */

typedef struct roster_call_options {
    /* Time the caller waits for the reply, in ms; 0 uses the client
     * default. Sent to the service as context.timeout_ms (which answers
     * DEADLINE_EXCEEDED rather than doing late work) and enforced here. */
    uint32_t timeout_ms;
    /* Correlation id sent as context.request_id; NULL sends none. */
    const char *request_id;
    /* The caller's API key text ("rstr_..."), sent as
     * context.credential; NULL calls keyless. The service derives the
     * caller's role and tenant from it. */
    const char *credential;
    /* The record fields wanted from a read that returns users or tenants
     * (get, batch get, list): ROSTER_FIELD of each field's nanopb tag,
     * ORed, e.g. ROSTER_FIELD(roster_v1_User_email_tag). The service then
     * encodes only those fields and id; the others decode as absent
     * (has_ false, empty strings). 0 asks for every field. A list request
     * whose own has_field_mask is set keeps its own mask. Ignored by other
     * methods. */
    uint64_t field_mask;
} roster_call_options;

/* The field_mask bit of the record field whose nanopb tag (protobuf field
 * number) is `tag`. */
#define ROSTER_FIELD(tag) (UINT64_C(1) << (tag))
/* Call options, request structs and every string they point to are
 * borrowed only until the call function returns (synchronous and
 * asynchronous alike): the request is encoded before it returns. A NULL
 * roster_call_options means all defaults. */

/* Outcome of a call as the service reported it. */
typedef struct roster_status {
    int err;                 /* the ROSTER_E_* code the call returned */
    int code;                /* gRPC status from the reply; -1 when no reply was decoded */
    char message[256];       /* service message, or why the call failed locally */
    size_t violation_count;  /* violations kept below (<= MAX_VIOLATIONS) */
    size_t violations_total; /* violations in the reply (may be more) */
    roster_err_detail violations[ROSTER_CLIENT_MAX_VIOLATIONS]; /* field, message */
} roster_status;
/* Every call takes `roster_status *st` (may be NULL). It is written on
 * success and on failure alike; st->err equals the return value. */

/* ------------------------------------------------------------ request helpers */

/* Makes string field `f` of a request encode the NUL-terminated string
 * `s` (borrowed: it must stay valid until the call function returns).
 * s == NULL leaves the field absent. */
void roster_pb_str(pb_callback_t *f, const char *s);

/* A borrowed list of NUL-terminated strings. */
typedef struct roster_strlist {
    const char *const *values;
    size_t count;
} roster_strlist;

/* Makes repeated string field `f` (StringList.values) encode the strings
 * of `list` (borrowed with everything it points to until the call
 * function returns). list == NULL or count == 0 encodes no values; the
 * presence of the StringList itself is its has_ flag. */
void roster_pb_strlist(pb_callback_t *f, const roster_strlist *list);

/* ------------------------------------------------------------ streaming */

/* Receives one record of a list or batch reply. `index` counts records in
 * reply order from 0; for batch gets it is the position of the requested
 * id, and a record with has_id == false means that id was not found. The
 * record is borrowed for the duration of the callback only. Return 0 to go
 * on, non-zero to stop: the call then fails with ROSTER_E_CANCELLED.
 * Runs on the calling thread for synchronous calls, on an nng thread for
 * asynchronous ones. */
typedef int (*roster_user_fn)(void *arg, size_t index, const roster_v1_User *user);
typedef int (*roster_tenant_fn)(void *arg, size_t index, const roster_v1_Tenant *tenant);

/* ------------------------------------------------------------ synchronous calls */
/* Out-parameters come first. Single records, *count and *total are
 * written only when the call returns ROSTER_E_OK. Caller arrays (users,
 * tenants, found) are filled while the reply is decoded: after ROSTER_E_OK
 * entries [0, *count) (batch: [0, n)) hold the answer; after a failure
 * their contents are unspecified. */

int roster_client_create_user(roster_v1_User *out, roster_status *st, roster_client *c,
                              const roster_call_options *o, const roster_v1_CreateUserRequest *req);
int roster_client_update_user(roster_v1_User *out, roster_status *st, roster_client *c,
                              const roster_call_options *o, const roster_v1_UpdateUserRequest *req);
/* `id` borrowed until return. */
int roster_client_get_user(roster_v1_User *out, roster_status *st, roster_client *c,
                           const roster_call_options *o, const char *id);
/* Deletes the user `id` (borrowed until return) with every index entry it
 * owns; its reference and email are free at once. out->id is the deleted
 * id, canonical. A writer key deletes only its tenant's users (another's
 * fail NOT_FOUND); a reader key is refused (PERMISSION_DENIED).
 * ROSTER_E_NOT_FOUND for an id no user has, which is also what a delete
 * that already went through answers: the client never resends a delete,
 * and when one ends UNAVAILABLE without a reply, calling again and
 * getting NOT_FOUND means the user is gone. */
int roster_client_delete_user(roster_v1_DeleteUserResponse *out, roster_status *st,
                              roster_client *c, const roster_call_options *o, const char *id);
/* users[i] and found[i] answer ids[i]; both arrays hold n entries and are
 * caller-owned. n may be 0. */
int roster_client_batch_get_users(roster_v1_User *users, bool *found, roster_status *st,
                                  roster_client *c, const roster_call_options *o,
                                  const char *const *ids, size_t n);
/* Streaming form: each entry goes to fn (not-found ids as records without
 * has_id); found (n entries, may be NULL) is filled when it returns OK. */
int roster_client_batch_get_users_stream(bool *found, roster_status *st, roster_client *c,
                                         const roster_call_options *o, const char *const *ids,
                                         size_t n, roster_user_fn fn, void *arg);
/* Fills users[0..*count) (cap entries, caller-owned), *total (may be
 * NULL) with the exact number of matches and *page (may be NULL) with
 * where the page ends: page->has_next_page says whether a record follows
 * it, and page->end_cursor (has_end_cursor; "" for an empty page) is the
 * text to pass as the next request's `after` (roster_pb_str(&req.after,
 * page->end_cursor)), which continues right after this page at a cost that
 * does not grow with the depth. A cursor belongs to the filter, search and
 * order that made it, and goes with offset 0 (roster.proto, "Cursor
 * paging"). A reply holding more than cap records fails with
 * ROSTER_E_TOO_LARGE: ask for limit <= cap. */
int roster_client_list_users(roster_v1_User *users, size_t *count, int64_t *total,
                             roster_v1_PageInfo *page, roster_status *st, roster_client *c,
                             const roster_call_options *o, const roster_v1_ListUsersRequest *req,
                             size_t cap);
/* Streaming form: each record goes to fn as it is decoded; the page is
 * never held whole. *total and *page (each may be NULL) are written on
 * success. */
int roster_client_list_users_stream(int64_t *total, roster_v1_PageInfo *page, roster_status *st,
                                    roster_client *c, const roster_call_options *o,
                                    const roster_v1_ListUsersRequest *req, roster_user_fn fn,
                                    void *arg);

int roster_client_create_tenant(roster_v1_Tenant *out, roster_status *st, roster_client *c,
                                const roster_call_options *o,
                                const roster_v1_CreateTenantRequest *req);
int roster_client_update_tenant(roster_v1_Tenant *out, roster_status *st, roster_client *c,
                                const roster_call_options *o,
                                const roster_v1_UpdateTenantRequest *req);
/* Deletes the tenant `id` (borrowed until return); admin keys only.
 * ROSTER_E_FAILED_PRECONDITION while the tenant has users (deactivated
 * ones included), is the default tenant, or is named by an API key that
 * is not revoked (st->message says which); ROSTER_E_NOT_FOUND as for
 * roster_client_delete_user. */
int roster_client_delete_tenant(roster_v1_DeleteTenantResponse *out, roster_status *st,
                                roster_client *c, const roster_call_options *o, const char *id);
int roster_client_get_tenant(roster_v1_Tenant *out, roster_status *st, roster_client *c,
                             const roster_call_options *o, const char *id, bool include_user_count);
int roster_client_batch_get_tenants(roster_v1_Tenant *tenants, bool *found, roster_status *st,
                                    roster_client *c, const roster_call_options *o,
                                    const char *const *ids, size_t n, bool include_user_count);
int roster_client_batch_get_tenants_stream(bool *found, roster_status *st, roster_client *c,
                                           const roster_call_options *o, const char *const *ids,
                                           size_t n, bool include_user_count, roster_tenant_fn fn,
                                           void *arg);
/* As the user lists, with tenants (and ListTenantsRequest.after). */
int roster_client_list_tenants(roster_v1_Tenant *tenants, size_t *count, int64_t *total,
                               roster_v1_PageInfo *page, roster_status *st, roster_client *c,
                               const roster_call_options *o,
                               const roster_v1_ListTenantsRequest *req, size_t cap);
int roster_client_list_tenants_stream(int64_t *total, roster_v1_PageInfo *page, roster_status *st,
                                      roster_client *c, const roster_call_options *o,
                                      const roster_v1_ListTenantsRequest *req, roster_tenant_fn fn,
                                      void *arg);

int roster_client_health(roster_v1_HealthResponse *out, roster_status *st, roster_client *c,
                         const roster_call_options *o);
int roster_client_stats(roster_v1_StatsResponse *out, roster_status *st, roster_client *c,
                        const roster_call_options *o);

/* ------------------------------------------------------------ change feed
 * Every committed change to a user or tenant is an event numbered by a
 * sequence that only grows (roster.v1.Change; proto/roster.proto says
 * what each kind carries). A writer or reader key sees its own tenant's
 * events only. docs/client.md, "Change feed", shows a replica kept with
 * roster_client_watch. */

/* Receives one event, borrowed for the duration of the callback. Return 0
 * to go on, non-zero to stop. */
typedef int (*roster_change_fn)(void *arg, const roster_v1_Change *change);

/* The seqs of a ListChanges answer. */
typedef struct roster_changes_info {
    uint64_t oldest_seq; /* the oldest event the service still keeps */
    uint64_t latest_seq; /* the last committed seq (0: none yet) */
    uint64_t next_after; /* the `after` that continues where this answer ended */
    size_t count;        /* events delivered */
} roster_changes_info;

/* One page of events with seq > after (at most `limit`, 1..1000; 0 asks
 * for the seqs only), each passed to fn (may be NULL) in seq order.
 * *info (may be NULL) is written on success. Errors as the service's:
 * OUT_OF_RANGE when events after `after` are no longer kept (the message
 * names the oldest kept seq) or after is past the latest seq;
 * FAILED_PRECONDITION when the service records no feed; CANCELLED when fn
 * stopped the decode. */
int roster_client_list_changes(roster_changes_info *info, roster_status *st, roster_client *c,
                               const roster_call_options *o, uint64_t after, int32_t limit,
                               roster_change_fn fn, void *arg);

typedef struct roster_watch_options {
    /* Where the service announces commits (its --changes-listen); NULL
     * derives it from an ipc:// client URL as roster-users does
     * (ipc://DIR/users.ipc -> ipc://DIR/users-changes.ipc) and polls over
     * tcp:// (name the service's tcp:// --changes-listen here; tls+tcp://
     * uses the client's TLS settings); "off" polls only. Borrowed for the
     * call. */
    const char *notify_url;
    /* Events asked for per call, 1..1000; 0 means 500. */
    int32_t limit;
    /* Longest wait for an announcement before asking anyway, in ms; 0
     * means 1000. Bounds the delay when announcements are lost. */
    uint32_t poll_ms;
    /* Wait after a call failed for a reason that may pass (UNAVAILABLE,
     * DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, a reply that does not decode),
     * in ms; 0 means 200. */
    uint32_t retry_ms;
    /* Checked between calls and at least every poll_ms: non-zero makes
     * the watch return ROSTER_E_OK. May be NULL; a signal handler may set
     * it. */
    const volatile int *stop;
} roster_watch_options;

/* Follows the feed from `after` (0: from the first event; pass the last
 * seq a previous watch delivered to resume): every event with seq >
 * after that the key may see goes to fn once, in seq order, with no gap
 * and no duplicate, across lost connections and service restarts (calls
 * that fail for a passing reason are retried after retry_ms; the
 * announcement socket redials by itself). Blocks the calling thread
 * until *stop is set (ROSTER_E_OK), fn returns non-zero
 * (ROSTER_E_CANCELLED), or an error retrying cannot mend: OUT_OF_RANGE
 * (the events after *last are no longer kept: read the data afresh and
 * watch from the latest seq), UNAUTHENTICATED, PERMISSION_DENIED,
 * FAILED_PRECONDITION, INVALID_ARGUMENT, CLOSED. *last (may be NULL) is
 * written whatever the result: the seq of the last event delivered, or
 * `after`. `st` holds the last call's status. `wo` may be NULL. */
int roster_client_watch(uint64_t *last, roster_status *st, roster_client *c,
                        const roster_call_options *o, const roster_watch_options *wo,
                        uint64_t after, roster_change_fn fn, void *arg);

/* ------------------------------------------------------------ bulk writes
 * Any number of user creates, updates and deletes streamed through the
 * BulkWrite method, ROSTER_MAX_BULK operations (or about 1 MiB) per call
 * with a few calls in flight, in bounded memory. docs/client.md, "Bulk
 * writes", has an example. */

/* Supplies the next operation: fill *op (zeroed before each call; set
 * which_operation and the chosen member, strings with roster_pb_str) and
 * return 1; return 0 when there are no more, or a negative value to stop
 * (the bulk then ends ROSTER_E_CANCELLED once what was sent is answered).
 * What *op points to is borrowed until next is called again or the bulk
 * returns: each operation is encoded before the next is asked for. Runs
 * on the calling thread. */
typedef int (*roster_bulk_next_fn)(void *arg, roster_v1_BulkOperation *op);

/* Receives one operation's outcome (code 0: applied; otherwise code,
 * message and field say why nothing of it was applied). `index` counts
 * operations from 0 in the order next supplied them; results arrive in
 * that order. Borrowed for the callback only; runs on the calling thread.
 * Return 0 to go on, non-zero to stop as next's negative return does. */
typedef int (*roster_bulk_result_fn)(void *arg, uint64_t index, const roster_v1_BulkResult *result);

typedef struct roster_bulk_options {
    /* Check every operation and report what would happen, storing nothing. */
    bool dry_run;
    /* Operations per BulkWrite call, 1..ROSTER_MAX_BULK; 0 means
     * ROSTER_MAX_BULK. A call also closes at about 1 MiB of operations. */
    uint32_t batch;
    /* BulkWrite calls outstanding at once, 1..16; 0 means 4. Each call's
     * operations apply in order, but two calls in flight may apply in
     * either order: an operation that needs an earlier one of another call
     * (an update of a user created a batch before, by id) needs 1. */
    uint32_t in_flight;
} roster_bulk_options;

typedef struct roster_bulk_summary {
    uint64_t sent;    /* operations sent */
    uint64_t applied; /* results with code 0 */
    uint64_t failed;  /* results with another code */
} roster_bulk_summary;

/* Streams operations from next through BulkWrite until next returns 0,
 * passing each result to result_fn (may be NULL) in order. Returns
 * ROSTER_E_OK when every operation was answered (some may have failed:
 * see the summary); a call that fails as a whole (UNAVAILABLE,
 * DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED when the store is full,
 * UNAUTHENTICATED, PERMISSION_DENIED, ...) ends the stream with its error
 * in st, after the calls already in flight are answered; operations of a
 * failed call were not applied unless its error was UNAVAILABLE or
 * DEADLINE_EXCEEDED after sending, when they may have been (BulkWrite is
 * not retried). *sum (may be NULL) is written whatever the result. `bo`
 * may be NULL. Memory: in_flight encoded calls and their results. */
int roster_client_bulk_write(roster_bulk_summary *sum, roster_status *st, roster_client *c,
                             const roster_call_options *o, const roster_bulk_options *bo,
                             roster_bulk_next_fn next, void *next_arg,
                             roster_bulk_result_fn result_fn, void *result_arg);

/* ------------------------------------------------------------ asynchronous calls */

/* Completion of an asynchronous call: `err` is the call's ROSTER_E_* code
 * and `st` its status, borrowed for the duration of the callback only.
 * Runs exactly once, on an nng thread, after the out-parameters have been
 * written (on success). It may start further calls on the same client; it
 * must not block for long and must not call roster_client_close. */
typedef void (*roster_done_fn)(void *arg, int err, const roster_status *st);

/* Each starts the call and returns at once. ROSTER_E_OK: `done` will run
 * exactly once; out-parameters (and the streaming fn/arg) must stay valid
 * until it has run. Any other return: the call was not started, `done`
 * will not run. Request and options are borrowed only until return. */
int roster_client_create_user_async(roster_v1_User *out, roster_client *c,
                                    const roster_call_options *o,
                                    const roster_v1_CreateUserRequest *req, roster_done_fn done,
                                    void *arg);
int roster_client_update_user_async(roster_v1_User *out, roster_client *c,
                                    const roster_call_options *o,
                                    const roster_v1_UpdateUserRequest *req, roster_done_fn done,
                                    void *arg);
int roster_client_get_user_async(roster_v1_User *out, roster_client *c,
                                 const roster_call_options *o, const char *id, roster_done_fn done,
                                 void *arg);
int roster_client_delete_user_async(roster_v1_DeleteUserResponse *out, roster_client *c,
                                    const roster_call_options *o, const char *id,
                                    roster_done_fn done, void *arg);
int roster_client_batch_get_users_async(roster_v1_User *users, bool *found, roster_client *c,
                                        const roster_call_options *o, const char *const *ids,
                                        size_t n, roster_done_fn done, void *arg);
int roster_client_list_users_async(roster_v1_User *users, size_t *count, int64_t *total,
                                   roster_v1_PageInfo *page, roster_client *c,
                                   const roster_call_options *o,
                                   const roster_v1_ListUsersRequest *req, size_t cap,
                                   roster_done_fn done, void *arg);
int roster_client_list_users_stream_async(int64_t *total, roster_v1_PageInfo *page,
                                          roster_client *c, const roster_call_options *o,
                                          const roster_v1_ListUsersRequest *req, roster_user_fn fn,
                                          void *fn_arg, roster_done_fn done, void *arg);
int roster_client_create_tenant_async(roster_v1_Tenant *out, roster_client *c,
                                      const roster_call_options *o,
                                      const roster_v1_CreateTenantRequest *req, roster_done_fn done,
                                      void *arg);
int roster_client_update_tenant_async(roster_v1_Tenant *out, roster_client *c,
                                      const roster_call_options *o,
                                      const roster_v1_UpdateTenantRequest *req, roster_done_fn done,
                                      void *arg);
int roster_client_delete_tenant_async(roster_v1_DeleteTenantResponse *out, roster_client *c,
                                      const roster_call_options *o, const char *id,
                                      roster_done_fn done, void *arg);
int roster_client_get_tenant_async(roster_v1_Tenant *out, roster_client *c,
                                   const roster_call_options *o, const char *id,
                                   bool include_user_count, roster_done_fn done, void *arg);
int roster_client_batch_get_tenants_async(roster_v1_Tenant *tenants, bool *found, roster_client *c,
                                          const roster_call_options *o, const char *const *ids,
                                          size_t n, bool include_user_count, roster_done_fn done,
                                          void *arg);
int roster_client_list_tenants_async(roster_v1_Tenant *tenants, size_t *count, int64_t *total,
                                     roster_v1_PageInfo *page, roster_client *c,
                                     const roster_call_options *o,
                                     const roster_v1_ListTenantsRequest *req, size_t cap,
                                     roster_done_fn done, void *arg);
int roster_client_health_async(roster_v1_HealthResponse *out, roster_client *c,
                               const roster_call_options *o, roster_done_fn done, void *arg);
int roster_client_stats_async(roster_v1_StatsResponse *out, roster_client *c,
                              const roster_call_options *o, roster_done_fn done, void *arg);

#ifdef __cplusplus
}
#endif

#endif
