/* Change feed events apart from where a backend keeps them: the event of
 * a user or tenant write (the fields that changed between the old and the
 * new record), the deletion events, the scrub of a deleted user's
 * personal fields, the head of an encoded event read without unpacking
 * it, the retention rule, and the pages of ListChanges (the `after`
 * bounds, the scope with its reduced view of a user that left the
 * tenant, the byte cap). The LMDB feed (changes.c) and the PostgreSQL
 * feed (pg/pg_changes.c) both build on it, so their events and pages are
 * the same byte for byte but for the times.
 *
 * Events are roster.v1.Change encodings with their seq inside. A backend
 * builds a change_event, stamps it with its seq and time, packs it and
 * stores it with what change_peek reads off it. */
#ifndef ROSTER_STORE_CHANGE_EVENT_H
#define ROSTER_STORE_CHANGE_EVENT_H

#include "record.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ building */

/* An event being built. Its pointers point into itself and into the
 * records it was built from: it lives on the builder's stack, is not
 * copied, and is packed (protobuf_c_message_pack(&e->ch.base, ...))
 * while those records are still there. */
typedef struct change_event {
    Roster__V1__Change ch;
    Roster__V1__User user;     /* an update's changed fields */
    Roster__V1__Tenant tenant; /* likewise for a tenant */
    char id[ROSTER_UUID_TEXT_LEN + 1];
    char tenant_id[ROSTER_UUID_TEXT_LEN + 1];
    char previous_tenant_id[ROSTER_UUID_TEXT_LEN + 1];
    /* The user whose personal data the event carries, which the feed
     * indexes for the scrub of a later delete; NULL for tenant events and
     * deletions, which carry none. */
    const roster_uuid *personal;
} change_event;

/* The event of a user write: `old` is the stored record replaced (NULL for
 * a create or restore), `nv` the view of the new encoding and `u` the new
 * record; e borrows from all three. USER_CREATED with the whole record,
 * or USER_UPDATED, USER_DEACTIVATED or USER_REACTIVATED with the id and
 * the fields that changed (`cleared` for those made null) and the tenant
 * left, if any, in previous_tenant_id. */
void change_event_user(change_event *e, const user_view *old, const user_view *nv,
                       const Roster__V1__User *u);

/* The event of a tenant write: `old`/`old_len` the stored encoding
 * replaced (NULL for a new tenant), `t` the new record and `bytes`/`len`
 * its encoding; e borrows from them. TENANT_CREATED or TENANT_UPDATED.
 * ROSTER_E_CORRUPT when an encoding does not parse. */
int change_event_tenant(change_event *e, const void *old, size_t old_len,
                        const Roster__V1__Tenant *t, const void *bytes, size_t len);

/* USER_DELETED of user `id` in `tenant` (NULL: none): the id and the
 * tenant only. */
void change_event_user_deleted(change_event *e, const roster_uuid *id, const roster_uuid *tenant);

/* TENANT_DELETED of tenant `id`. */
void change_event_tenant_deleted(change_event *e, const roster_uuid *id);

/* Sets the event's seq and commit time (Unix ms). */
void change_event_stamp(change_event *e, uint64_t seq, int64_t at_ms);

/* ------------------------------------------------------------ reading */

/* What change_peek reads off an event's encoding; strings borrowed from
 * it. */
typedef struct change_head {
    uint64_t seq;
    int kind;
    int64_t at;
    const char *id, *tenant, *prev;
    size_t id_n, tenant_n, prev_n;
    bool scrubbed; /* its user was deleted: no personal data left */
} change_head;

/* The top-level fields of a Change encoding that the feed's own work
 * reads. ROSTER_E_CORRUPT when the bytes are not one. */
int change_peek(change_head *h, const void *bytes, size_t len);

/* Whether a ChangeKind is one of a user's. */
bool change_is_user_kind(int kind);

/* The event at bytes/len without the personal fields of its user: every
 * user field the service does not set, except tenantId (MODEL_SERVER_SET
 * in src/model/model.h), so a scrubbed event keeps id, tenantId,
 * createdAt and updatedAt and nothing a person gave; `cleared` goes too
 * and `scrubbed` is set. *out is unpacked into `arena` (the caller
 * packs it). ROSTER_E_CORRUPT when the bytes are not an event,
 * ROSTER_E_NOMEM. */
int change_scrub(Roster__V1__Change **out, const void *bytes, size_t len, roster_arena *arena);

/* ------------------------------------------------------------ retention */

/* The time before which retention keeping `keep_ms` drops events
 * (INT64_MIN for STORE_CHANGES_UNLIMITED). */
int64_t change_age_cutoff(uint64_t keep_ms);

/* Retention at the oldest kept event `seq` (committed at `at`), with the
 * feed's counters *floor and `latest`: whether it is dropped (at or
 * below the floor, more than keep_events after the floor, or older than
 * `cutoff`); when it is, *floor moves up to it. A trim drops events from
 * the oldest while this says so. */
bool change_trim_drops(uint64_t *floor, uint64_t latest, uint64_t keep_events, int64_t cutoff,
                       uint64_t seq, int64_t at);

/* ------------------------------------------------------------ pages */

/* OUT_OF_RANGE naming "after" unless oldest - 1 <= after <= latest, with
 * a message that says what to do. */
int change_check_after(uint64_t after, uint64_t oldest, uint64_t latest, roster_err_detail *detail);

/* One store_changes_list answer being gathered. A backend offers the
 * events after `after` in seq order until change_pager_full or a stop,
 * then finishes it. */
typedef struct change_pager {
    const roster_uuid *scope;
    char scope_text[ROSTER_UUID_TEXT_LEN + 1];
    uint32_t limit; /* clamped to STORE_CHANGES_PAGE_MAX */
    size_t max_bytes;
    roster_arena *arena;
    store_slice *items; /* in arena, room for limit */
    size_t n, bytes;
    uint64_t next;     /* the last seq covered */
    unsigned examined; /* events offered */
} change_pager;

/* Starts a page of at most `limit` events and max_bytes bytes for
 * `scope` (NULL: every event), its items array in `arena`.
 * ROSTER_E_NOMEM. */
int change_pager_init(change_pager *pg, const roster_uuid *scope, uint64_t after, uint32_t limit,
                      size_t max_bytes, roster_arena *arena);

/* Whether the page takes no more events: `limit` taken, or
 * STORE_CHANGES_SCAN_MAX examined. */
bool change_pager_full(const change_pager *pg);

/* Offers event `seq` (bytes/len, borrowed until the page is used): in
 * scope it is taken as it is, an event of a user that left the scope's
 * tenant is taken reduced (kind, id and both tenants, packed into the
 * arena), any other is skipped. *stop is set, and the event not
 * covered, when taking it would pass max_bytes (and the page holds one
 * already). ROSTER_E_CORRUPT when the bytes are not an event. */
int change_pager_offer(change_pager *pg, uint64_t seq, const void *bytes, size_t len, bool *stop);

/* Every event up to `seq` is covered: those not offered are known to be
 * outside the scope (a backend that filters by scope itself). */
void change_pager_cover(change_pager *pg, uint64_t seq);

/* The answer: `end` says the offers reached the feed's last event, and
 * then (with a limit) everything up to `latest` is covered. */
void change_pager_finish(change_pager *pg, bool end, uint64_t oldest, uint64_t latest,
                         store_changes_page *out);

#endif
