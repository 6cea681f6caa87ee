/* The change feed in the store: an event per committed change, in the same
 * transaction, numbered without holes; failed operations leave neither an
 * event nor a number; the diff of an update; retention by count and age;
 * the gap and scope rules of store_changes_list; the delete hooks and the
 * scrub of a deleted user's events; a store with the feed off. */
#include "changes.h"
#include "store_fixture.h"

#include "clock.h"

#include <time.h>

/* Opens the fixture's directory again with other feed options. */
static void reopen(bool off, uint64_t keep_events, uint64_t keep_ms)
{
    store_close(fx_store);
    store_options o = {.no_sync = true,
                       .map_size = (uint64_t)1 << 30,
                       .changes_off = off,
                       .changes_keep_events = keep_events,
                       .changes_keep_ms = keep_ms};
    ck_assert_int_eq(store_open(&fx_store, fx_dir, &o), ROSTER_E_OK);
}

typedef struct feed {
    uint64_t oldest, latest, next;
    size_t n;
    Roster__V1__Change *ev[2048];
} feed;

/* Every event after `after` visible in `scope`, unpacked into the arena. */
static int read_feed(feed *f, const roster_uuid *scope, uint64_t after, roster_err_detail *d)
{
    memset(f, 0, sizeof *f);
    for (;;) {
        store_rtxn *r;
        ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
        store_changes_page p;
        int err = store_changes_list(r, scope, after, 1000, 0, &fx_arena, &p, d);
        if (err != ROSTER_E_OK) {
            store_read_end(r);
            return err;
        }
        ProtobufCAllocator alloc;
        roster_arena_protobuf_allocator(&alloc, &fx_arena);
        for (size_t i = 0; i < p.n; i++) {
            ck_assert_uint_lt(f->n, 2048);
            f->ev[f->n] = roster__v1__change__unpack(&alloc, p.items[i].len, p.items[i].data);
            ck_assert_ptr_nonnull(f->ev[f->n]);
            f->n++;
        }
        store_read_end(r);
        f->oldest = p.oldest_seq;
        f->latest = p.latest_seq;
        f->next = p.next_after;
        ck_assert_uint_ge(p.next_after, after);
        if (p.next_after == p.latest_seq)
            return ROSTER_E_OK;
        after = p.next_after;
    }
}

static Roster__V1__User *update(const char *id, void (*set)(Roster__V1__UpdateUserRequest *))
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__UpdateUserRequest req = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    req.id = (char *)id;
    set(&req);
    Roster__V1__User *u = NULL;
    ck_assert_int_eq(store_user_update(w, NULL, &req, &fx_arena, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    return u;
}

static void set_name(Roster__V1__UpdateUserRequest *r)
{
    r->first_name = "Ada";
    r->phone = "+44 1";
}

static void clear_phone(Roster__V1__UpdateUserRequest *r)
{
    static Roster__V1__UserField f = ROSTER__V1__USER_FIELD__USER_FIELD_PHONE;
    r->n_clear = 1;
    r->clear = &f;
}

static void deactivate(Roster__V1__UpdateUserRequest *r)
{
    r->has_active = r->active = 1;
    r->active = 0;
}

static void reactivate(Roster__V1__UpdateUserRequest *r)
{
    r->has_active = 1;
    r->active = 1;
    r->last_name = "Lovelace";
}

START_TEST(events_for_every_write)
{
    char *t1 = fx_tenant("one", true);
    Roster__V1__User *u;
    ck_assert_int_eq(fx_user(NULL, "r1", "a@x.io", NULL, &u, NULL), ROSTER_E_OK);
    update(u->id, set_name);
    update(u->id, clear_phone);
    update(u->id, deactivate);
    update(u->id, reactivate);
    char *t2 = fx_tenant("two", true); /* t1 loses the default mark */
    feed f;
    ck_assert_int_eq(read_feed(&f, NULL, 0, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 8);
    ck_assert_uint_eq(f.latest, 8);
    ck_assert_uint_eq(f.oldest, 1);
    for (size_t i = 0; i < f.n; i++) {
        ck_assert_uint_eq(f.ev[i]->seq, i + 1);
        ck_assert(f.ev[i]->has_committed_at && f.ev[i]->committed_at > 0);
    }
    ck_assert_int_eq(f.ev[0]->kind, ROSTER__V1__CHANGE_KIND__CHANGE_KIND_TENANT_CREATED);
    ck_assert_str_eq(f.ev[0]->id, t1);
    ck_assert_str_eq(f.ev[0]->tenant->name, "one");
    ck_assert_int_eq(f.ev[1]->kind, ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_CREATED);
    ck_assert_str_eq(f.ev[1]->tenant_id, t1);
    ck_assert_str_eq(f.ev[1]->user->email, "a@x.io");
    ck_assert_str_eq(f.ev[1]->user->reference, "r1");
    /* An update carries id and what changed, nothing else. */
    const Roster__V1__User *e = f.ev[2]->user;
    ck_assert_int_eq(f.ev[2]->kind, ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_UPDATED);
    ck_assert_str_eq(e->id, u->id);
    ck_assert_str_eq(e->first_name, "Ada");
    ck_assert_str_eq(e->phone, "+44 1");
    ck_assert_ptr_null(e->email);
    ck_assert_ptr_null(e->reference);
    ck_assert(!e->has_active);
    ck_assert(!f.ev[2]->has_cleared);
    /* A cleared field is a bit of `cleared`, by field number. */
    ck_assert(f.ev[3]->has_cleared);
    ck_assert_uint_eq(f.ev[3]->cleared, UINT64_C(1) << 6);
    ck_assert_ptr_null(f.ev[3]->user->phone);
    ck_assert_int_eq(f.ev[4]->kind, ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_DEACTIVATED);
    ck_assert(f.ev[4]->user->has_active && !f.ev[4]->user->active);
    ck_assert_int_eq(f.ev[5]->kind, ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_REACTIVATED);
    ck_assert_str_eq(f.ev[5]->user->last_name, "Lovelace");
    /* The previous default's lost mark, then the new tenant. */
    ck_assert_int_eq(f.ev[6]->kind, ROSTER__V1__CHANGE_KIND__CHANGE_KIND_TENANT_UPDATED);
    ck_assert_str_eq(f.ev[6]->id, t1);
    ck_assert(f.ev[6]->tenant->has_is_default && !f.ev[6]->tenant->is_default);
    ck_assert_ptr_null(f.ev[6]->tenant->name);
    ck_assert_int_eq(f.ev[7]->kind, ROSTER__V1__CHANGE_KIND__CHANGE_KIND_TENANT_CREATED);
    ck_assert_str_eq(f.ev[7]->id, t2);
    ck_assert(f.ev[7]->tenant->is_default);
}
END_TEST

/* A created user's event carries the record's encoding as it was
 * stored, and is the encoding protobuf-c makes of the event: the bytes a
 * packer of the same event writes. */
START_TEST(created_event_encoding)
{
    char *t1 = fx_tenant("one", false);
    /* A record longer than 127 bytes (a length of two bytes), and a
     * short one. */
    ck_assert_int_eq(fx_user(NULL,
                             "a-reference-long-enough-to-take-the-record-past-127-bytes-"
                             "0123456789",
                             "ann@example.com", t1, NULL, NULL),
                     ROSTER_E_OK);
    ck_assert_int_eq(fx_user(NULL, "r2", "b@x.io", NULL, NULL, NULL), ROSTER_E_OK);
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    store_changes_page p;
    ck_assert_int_eq(store_changes_list(r, NULL, 0, 1000, 0, &fx_arena, &p, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(p.n, 3);
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, &fx_arena);
    size_t long_records = 0;
    for (size_t i = 1; i < p.n; i++) {
        Roster__V1__Change *ch =
            roster__v1__change__unpack(&alloc, p.items[i].len, p.items[i].data);
        ck_assert_ptr_nonnull(ch);
        ck_assert_int_eq(ch->kind, ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_CREATED);
        uint8_t packed[4096];
        ck_assert_uint_eq(roster__v1__change__get_packed_size(ch), p.items[i].len);
        roster__v1__change__pack(ch, packed);
        ck_assert_mem_eq(packed, p.items[i].data, p.items[i].len);
        const void *rec;
        size_t rec_len;
        ck_assert_int_eq(store_user_get_raw(r, NULL, ch->user->id, &rec, &rec_len), ROSTER_E_OK);
        ck_assert_uint_eq(roster__v1__user__get_packed_size(ch->user), rec_len);
        roster__v1__user__pack(ch->user, packed);
        ck_assert_mem_eq(packed, rec, rec_len);
        long_records += rec_len >= 128;
    }
    ck_assert_uint_ge(long_records, 1);
    store_read_end(r);
}
END_TEST

START_TEST(failed_operations_leave_no_event)
{
    Roster__V1__User *u;
    ck_assert_int_eq(fx_user(NULL, "r1", "a@x.io", NULL, &u, NULL), ROSTER_E_OK);
    /* A group: ok, duplicate (refused), ok. The refused one takes no seq. */
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    req.reference = "r2";
    req.email = "b@x.io";
    ck_assert_int_eq(store_user_create(w, NULL, &req, &fx_arena, NULL, NULL), ROSTER_E_OK);
    req.reference = "r1";
    req.email = "c@x.io";
    ck_assert_int_eq(store_user_create(w, NULL, &req, &fx_arena, NULL, NULL),
                     ROSTER_E_ALREADY_EXISTS);
    req.reference = "r3";
    ck_assert_int_eq(store_user_create(w, NULL, &req, &fx_arena, NULL, NULL), ROSTER_E_OK);
    uint64_t first = 0, last = 0;
    ck_assert_int_eq(store_changes_pending(w, &first, &last), ROSTER_E_OK);
    ck_assert_uint_eq(first, 2);
    ck_assert_uint_eq(last, 3);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    /* An aborted group leaves nothing and its numbers are reused. */
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    req.reference = "r4";
    req.email = "d@x.io";
    ck_assert_int_eq(store_user_create(w, NULL, &req, &fx_arena, NULL, NULL), ROSTER_E_OK);
    store_write_abort(w);
    ck_assert_int_eq(fx_user(NULL, "r5", "e@x.io", NULL, &u, NULL), ROSTER_E_OK);
    feed f;
    ck_assert_int_eq(read_feed(&f, NULL, 0, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 4);
    for (size_t i = 0; i < f.n; i++)
        ck_assert_uint_eq(f.ev[i]->seq, i + 1);
    ck_assert_str_eq(f.ev[2]->user->reference, "r3");
    ck_assert_str_eq(f.ev[3]->user->reference, "r5");
    /* The bulk mode too. */
    ck_assert_int_eq(store_write_begin_bulk(fx_store, &w), ROSTER_E_OK);
    req.reference = "r1";
    req.email = "f@x.io";
    ck_assert_int_eq(store_user_create(w, NULL, &req, &fx_arena, NULL, NULL),
                     ROSTER_E_ALREADY_EXISTS);
    req.reference = "r6";
    ck_assert_int_eq(store_user_create(w, NULL, &req, &fx_arena, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    ck_assert_int_eq(read_feed(&f, NULL, 4, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 1);
    ck_assert_uint_eq(f.ev[0]->seq, 5);
    ck_assert_str_eq(f.ev[0]->user->reference, "r6");
}
END_TEST

START_TEST(gap_and_paging)
{
    reopen(false, 10, 0);
    Roster__V1__User *u;
    char ref[32], email[32];
    for (int i = 0; i < 25; i++) {
        snprintf(ref, sizeof ref, "r%d", i);
        snprintf(email, sizeof email, "u%d@x.io", i);
        ck_assert_int_eq(fx_user(NULL, ref, email, NULL, &u, NULL), ROSTER_E_OK);
    }
    feed f;
    roster_err_detail d = {{0}};
    ck_assert_int_eq(read_feed(&f, NULL, 15, &d), ROSTER_E_OK);
    ck_assert_uint_eq(f.oldest, 16);
    ck_assert_uint_eq(f.latest, 25);
    ck_assert_uint_eq(f.n, 10);
    /* Events 1..15 are gone: after < 15 is a gap, named. */
    ck_assert_int_eq(read_feed(&f, NULL, 14, &d), ROSTER_E_OUT_OF_RANGE);
    ck_assert_str_eq(d.field, "after");
    ck_assert_ptr_nonnull(strstr(d.message, "oldest retained sequence is 16"));
    ck_assert_int_eq(read_feed(&f, NULL, 0, &d), ROSTER_E_OUT_OF_RANGE);
    ck_assert_int_eq(read_feed(&f, NULL, 26, &d), ROSTER_E_OUT_OF_RANGE);
    ck_assert_ptr_nonnull(strstr(d.message, "past the latest"));
    /* Pages: limit, and the byte cap still gives one event. */
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    store_changes_page p;
    ck_assert_int_eq(store_changes_list(r, NULL, 20, 3, 0, &fx_arena, &p, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(p.n, 3);
    ck_assert_uint_eq(p.next_after, 23);
    ck_assert_int_eq(store_changes_list(r, NULL, 20, 3, 1, &fx_arena, &p, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(p.n, 1);
    ck_assert_uint_eq(p.next_after, 21);
    ck_assert_int_eq(store_changes_list(r, NULL, 20, 0, 0, &fx_arena, &p, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(p.n, 0);
    ck_assert_uint_eq(p.next_after, 20);
    ck_assert_uint_eq(p.latest_seq, 25);
    ck_assert_int_eq(store_changes_list(r, NULL, 25, 10, 0, &fx_arena, &p, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(p.n, 0);
    ck_assert_uint_eq(p.next_after, 25);
    store_read_end(r);
    /* The index of user events shrinks with the trimmed events. */
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    store_stats st;
    ck_assert_int_eq(store_stat(r, &st), ROSTER_E_OK);
    store_read_end(r);
    for (size_t i = 0; i < st.n_dbs; i++)
        if (strcmp(st.dbs[i].name, "changes") == 0 || strcmp(st.dbs[i].name, "changes_user") == 0)
            ck_assert_uint_eq(st.dbs[i].entries, 10);
}
END_TEST

START_TEST(retention_by_age)
{
    reopen(false, STORE_CHANGES_UNLIMITED, 200);
    Roster__V1__User *u;
    ck_assert_int_eq(fx_user(NULL, "r1", "a@x.io", NULL, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(fx_user(NULL, "r2", "b@x.io", NULL, &u, NULL), ROSTER_E_OK);
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    ck_assert_int_eq(fx_user(NULL, "r3", "c@x.io", NULL, &u, NULL), ROSTER_E_OK);
    feed f;
    ck_assert_int_eq(read_feed(&f, NULL, 2, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.oldest, 3);
    ck_assert_uint_eq(f.n, 1);
    /* With no writes, store_changes_trim trims the rest, bounded. */
    nanosleep(&ts, NULL);
    store_wtxn *w;
    unsigned n = 9;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    ck_assert_int_eq(store_changes_trim(w, 0, &n), ROSTER_E_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(store_changes_trim(w, 5, &n), ROSTER_E_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    ck_assert_int_eq(read_feed(&f, NULL, 3, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.oldest, 4);
    ck_assert_uint_eq(f.latest, 3);
    ck_assert_uint_eq(f.n, 0);
    /* Numbering goes on after an empty feed. */
    ck_assert_int_eq(fx_user(NULL, "r4", "d@x.io", NULL, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(read_feed(&f, NULL, 3, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 1);
    ck_assert_uint_eq(f.ev[0]->seq, 4);
}
END_TEST

/* Runs a delete hook the way the delete path will: in an operation. */
static void delete_user(const char *id_text, const char *tenant_text)
{
    roster_uuid id, tenant;
    ck_assert_int_eq(roster_uuid_parse(&id, id_text, strlen(id_text)), ROSTER_E_OK);
    if (tenant_text)
        ck_assert_int_eq(roster_uuid_parse(&tenant, tenant_text, strlen(tenant_text)), ROSTER_E_OK);
    store_wtxn *w;
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    ck_assert_int_eq(store_op_begin(w, &txn), ROSTER_E_OK);
    int err = changes_append_user_deleted(w, txn, &id, tenant_text ? &tenant : NULL);
    ck_assert_int_eq(store_op_end(w, txn, err), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
}

START_TEST(deleted_user_is_scrubbed)
{
    char *t = fx_tenant("one", true);
    Roster__V1__User *a, *b;
    ck_assert_int_eq(fx_user(NULL, "ra", "ada@x.io", NULL, &a, NULL), ROSTER_E_OK);
    ck_assert_int_eq(fx_user(NULL, "rb", "bob@x.io", NULL, &b, NULL), ROSTER_E_OK);
    update(a->id, set_name);
    update(b->id, set_name);
    update(a->id, deactivate);
    delete_user(a->id, t);
    feed f;
    ck_assert_int_eq(read_feed(&f, NULL, 0, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 7);
    int seen_a = 0;
    for (size_t i = 0; i < f.n; i++) {
        const Roster__V1__Change *c = f.ev[i];
        if (c->id == NULL || strcmp(c->id, a->id) != 0)
            continue;
        seen_a++;
        if (c->kind == ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_DELETED) {
            ck_assert_uint_eq(c->seq, 7);
            ck_assert_ptr_null(c->user);
            ck_assert_str_eq(c->tenant_id, t);
            continue;
        }
        ck_assert(c->scrubbed);
        ck_assert_ptr_null(c->user->email);
        ck_assert_ptr_null(c->user->reference);
        ck_assert_ptr_null(c->user->first_name);
        ck_assert_ptr_null(c->user->phone);
        ck_assert(!c->user->has_active);
        ck_assert_str_eq(c->user->id, a->id);
        if (c->kind == ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_CREATED) {
            ck_assert_str_eq(c->user->tenant_id, t);
            ck_assert(c->user->has_created_at);
        }
    }
    ck_assert_int_eq(seen_a, 4);
    /* Bob's events are untouched. */
    ck_assert_str_eq(f.ev[2]->user->email, "bob@x.io");
    ck_assert(!f.ev[2]->scrubbed);
    ck_assert_str_eq(f.ev[4]->user->first_name, "Ada");
    /* No byte of Ada's personal data is left in the feed's databases. */
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    store_changes_page p;
    ck_assert_int_eq(store_changes_list(r, NULL, 0, 1000, 0, &fx_arena, &p, NULL), ROSTER_E_OK);
    for (size_t i = 0; i < p.n; i++)
        ck_assert_ptr_null(memmem(p.items[i].data, p.items[i].len, "ada@x.io", 8));
    store_read_end(r);
    /* The tenant hook. */
    roster_uuid tid;
    ck_assert_int_eq(roster_uuid_parse(&tid, t, strlen(t)), ROSTER_E_OK);
    store_wtxn *w;
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    ck_assert_int_eq(store_op_begin(w, &txn), ROSTER_E_OK);
    ck_assert_int_eq(store_op_end(w, txn, changes_append_tenant_deleted(w, txn, &tid)),
                     ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    ck_assert_int_eq(read_feed(&f, NULL, 7, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 1);
    ck_assert_int_eq(f.ev[0]->kind, ROSTER__V1__CHANGE_KIND__CHANGE_KIND_TENANT_DELETED);
    ck_assert_str_eq(f.ev[0]->id, t);
    ck_assert_ptr_null(f.ev[0]->tenant);
}
END_TEST

START_TEST(delete_rolled_back_keeps_events)
{
    Roster__V1__User *a;
    ck_assert_int_eq(fx_user(NULL, "ra", "ada@x.io", NULL, &a, NULL), ROSTER_E_OK);
    roster_uuid id;
    ck_assert_int_eq(roster_uuid_parse(&id, a->id, strlen(a->id)), ROSTER_E_OK);
    store_wtxn *w;
    MDB_txn *txn;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    ck_assert_int_eq(store_op_begin(w, &txn), ROSTER_E_OK);
    ck_assert_int_eq(changes_append_user_deleted(w, txn, &id, NULL), ROSTER_E_OK);
    /* The delete fails later: its scrub and its event go with it. */
    ck_assert_int_eq(store_op_end(w, txn, ROSTER_E_NOT_FOUND), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    feed f;
    ck_assert_int_eq(read_feed(&f, NULL, 0, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 1);
    ck_assert_str_eq(f.ev[0]->user->email, "ada@x.io");
    ck_assert(!f.ev[0]->scrubbed);
}
END_TEST

START_TEST(scope)
{
    char *t1 = fx_tenant("one", false), *t2 = fx_tenant("two", false);
    roster_uuid s1, s2;
    ck_assert_int_eq(roster_uuid_parse(&s1, t1, strlen(t1)), ROSTER_E_OK);
    ck_assert_int_eq(roster_uuid_parse(&s2, t2, strlen(t2)), ROSTER_E_OK);
    Roster__V1__User *a, *b;
    ck_assert_int_eq(fx_user(NULL, "ra", "ada@x.io", t1, &a, NULL), ROSTER_E_OK);
    ck_assert_int_eq(fx_user(NULL, "rb", "bob@x.io", t2, &b, NULL), ROSTER_E_OK);
    /* Ada moves from one to two. */
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__UpdateUserRequest req = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    req.id = a->id;
    req.tenant_id = t2;
    req.first_name = "Ada";
    ck_assert_int_eq(store_user_update(w, NULL, &req, &fx_arena, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    feed f;
    ck_assert_int_eq(read_feed(&f, &s1, 0, NULL), ROSTER_E_OK);
    /* Tenant one sees itself, Ada's creation and her leaving, reduced. */
    ck_assert_uint_eq(f.n, 3);
    ck_assert_uint_eq(f.latest, 5);
    ck_assert_uint_eq(f.next, 5);
    ck_assert_str_eq(f.ev[0]->id, t1);
    ck_assert_str_eq(f.ev[1]->user->email, "ada@x.io");
    ck_assert_uint_eq(f.ev[2]->seq, 5);
    ck_assert_str_eq(f.ev[2]->previous_tenant_id, t1);
    ck_assert_str_eq(f.ev[2]->tenant_id, t2);
    ck_assert_str_eq(f.ev[2]->id, a->id);
    ck_assert_ptr_null(f.ev[2]->user);
    ck_assert_int_eq(read_feed(&f, &s2, 0, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 3);
    ck_assert_str_eq(f.ev[0]->id, t2);
    ck_assert_str_eq(f.ev[1]->user->email, "bob@x.io");
    ck_assert_str_eq(f.ev[2]->user->first_name, "Ada");
    /* next_after skips what the scope does not see. */
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    store_changes_page p;
    ck_assert_int_eq(store_changes_list(r, &s1, 3, 10, 0, &fx_arena, &p, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(p.n, 1);
    ck_assert_uint_eq(p.next_after, 5);
    store_read_end(r);
}
END_TEST

START_TEST(feed_off_leaves_a_gap)
{
    Roster__V1__User *u;
    ck_assert_int_eq(fx_user(NULL, "r1", "a@x.io", NULL, &u, NULL), ROSTER_E_OK);
    reopen(true, 0, 0);
    ck_assert_int_eq(fx_user(NULL, "r2", "b@x.io", NULL, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(fx_user(NULL, "r3", "c@x.io", NULL, &u, NULL), ROSTER_E_OK);
    reopen(false, 0, 0);
    ck_assert_int_eq(fx_user(NULL, "r4", "d@x.io", NULL, &u, NULL), ROSTER_E_OK);
    feed f;
    roster_err_detail d = {{0}};
    /* A reader at 1 missed r2 and r3: told so, not given r4 alone. */
    ck_assert_int_eq(read_feed(&f, NULL, 1, &d), ROSTER_E_OUT_OF_RANGE);
    ck_assert_int_eq(read_feed(&f, NULL, 3, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.oldest, 4);
    ck_assert_uint_eq(f.n, 1);
    ck_assert_uint_eq(f.ev[0]->seq, 4);
    ck_assert_str_eq(f.ev[0]->user->reference, "r4");
    /* Reopened, the counters are where they were. */
    reopen(false, 0, 0);
    ck_assert_int_eq(fx_user(NULL, "r5", "e@x.io", NULL, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(read_feed(&f, NULL, 3, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 2);
    ck_assert_uint_eq(f.ev[1]->seq, 5);
}
END_TEST

START_TEST(restore_records_events)
{
    char *t = fx_tenant("one", false);
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin_bulk(fx_store, &w), ROSTER_E_OK);
    Roster__V1__User u = ROSTER__V1__USER__INIT;
    u.id = "01900000-0000-7000-8000-000000000001";
    u.reference = "rr";
    u.email = "rr@x.io";
    u.tenant_id = t;
    u.has_created_at = u.has_updated_at = 1;
    u.created_at = u.updated_at = 1700000000000;
    ck_assert_int_eq(store_user_restore(w, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    feed f;
    ck_assert_int_eq(read_feed(&f, NULL, 1, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 1);
    ck_assert_int_eq(f.ev[0]->kind, ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_CREATED);
    ck_assert_str_eq(f.ev[0]->user->email, "rr@x.io");
    ck_assert_int_eq(f.ev[0]->user->created_at, 1700000000000);
}
END_TEST

static void count_issue(void *ctx, const store_issue *is)
{
    (void)is;
    ++*(int *)ctx;
}

typedef struct msg_seen {
    int personal; /* issues about personal data left in the feed */
} msg_seen;

static void find_issue(void *ctx, const store_issue *is)
{
    if (strstr(is->message, "personal data") != NULL)
        ((msg_seen *)ctx)->personal++;
}

START_TEST(verify_checks_the_feed)
{
    Roster__V1__User *a;
    ck_assert_int_eq(fx_user(NULL, "ra", "ada@x.io", NULL, &a, NULL), ROSTER_E_OK);
    update(a->id, set_name);
    store_rtxn *r;
    uint64_t issues = 9;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_verify(r, NULL, NULL, &issues), ROSTER_E_OK);
    store_read_end(r);
    ck_assert_uint_eq(issues, 0);
    /* Drop the index entry of event 2 behind the store's back. */
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    uint8_t kb[24];
    roster_uuid id;
    ck_assert_int_eq(roster_uuid_parse(&id, a->id, strlen(a->id)), ROSTER_E_OK);
    memcpy(kb, id.b, 16);
    memset(kb + 16, 0, 8);
    kb[23] = 2;
    MDB_val k = {24, kb};
    ck_assert_int_eq(mdb_del(w->txn, fx_store->changes_user, &k, NULL), 0);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    int seen = 0;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_verify(r, count_issue, &seen, &issues), ROSTER_E_OK);
    store_read_end(r);
    ck_assert_uint_eq(issues, 1);
    ck_assert_int_eq(seen, 1);
}
END_TEST

/* A user record removed without the delete's scrub leaves its events
 * holding personal data: verify names each of them. */
START_TEST(verify_finds_personal_data_of_a_gone_user)
{
    Roster__V1__User *a;
    ck_assert_int_eq(fx_user(NULL, "rb", "bea@x.io", NULL, &a, NULL), ROSTER_E_OK);
    update(a->id, set_name);
    roster_uuid id;
    ck_assert_int_eq(roster_uuid_parse(&id, a->id, strlen(a->id)), ROSTER_E_OK);
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    MDB_val k = {16, id.b};
    ck_assert_int_eq(mdb_del(w->txn, fx_store->users, &k, NULL), 0);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    msg_seen seen = {0};
    uint64_t issues = 0;
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_verify(r, find_issue, &seen, &issues), ROSTER_E_OK);
    store_read_end(r);
    /* Its created and updated events; the counts and indexes of the
     * missing record are reported too. */
    ck_assert_int_eq(seen.personal, 2);
    ck_assert_uint_ge(issues, 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_changes");
    TCase *tc = tcase_create("changes");
    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, events_for_every_write);
    tcase_add_test(tc, created_event_encoding);
    tcase_add_test(tc, failed_operations_leave_no_event);
    tcase_add_test(tc, gap_and_paging);
    tcase_add_test(tc, retention_by_age);
    tcase_add_test(tc, deleted_user_is_scrubbed);
    tcase_add_test(tc, delete_rolled_back_keeps_events);
    tcase_add_test(tc, scope);
    tcase_add_test(tc, feed_off_leaves_a_gap);
    tcase_add_test(tc, restore_records_events);
    tcase_add_test(tc, verify_checks_the_feed);
    tcase_add_test(tc, verify_finds_personal_data_of_a_gone_user);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
