/* The single writer: applies write requests (CreateUser, UpdateUser,
 * CreateTenant, UpdateTenant, CreateKey, RevokeKey, RotateKey) and the
 * keys' last-used times on one thread. Requests queued while a
 * commit is in progress are applied together in the next write
 * transaction (group commit), each in its own nested transaction so one
 * failing request does not fail its neighbours, and every request is
 * answered with its own result only after the commit that holds it is
 * durable. */
#ifndef ROSTER_USERS_WRITER_H
#define ROSTER_USERS_WRITER_H

#include "error.h"
#include "feed.h"
#include "rpc_server.h"
#include "stats.h"
#include "store.h"
#include "uuid.h"

#include <stdbool.h>

typedef struct users_writer users_writer;

/* Starts the writer thread. `st` and `stats` are borrowed and must outlive
 * the writer. group_commit false commits each request on its own;
 * max_group caps the requests in one commit. On success *out is
 * caller-owned until users_writer_stop. */
int users_writer_start(users_writer **out, store *st, users_stats *stats, bool group_commit,
                       unsigned max_group);

/* Hands the writer the change feed's publisher (borrowed; may be NULL):
 * the seqs a group appended are announced on it once its commit is
 * durable. Every trim_ms (0: never) without writes, the writer trims what
 * retention no longer keeps, STORE_CHANGES_TRIM_EXTRA events per
 * transaction. Call before the first write is queued. */
void users_writer_set_feed(users_writer *w, users_feed *feed, unsigned trim_ms);

/* Queues a write call; the writer owns `call` from here and answers it.
 * `scope` (NULL = unrestricted) is copied; `by` is the caller's key id
 * text for the audit log of key changes (NULL = keyless), copied. After
 * users_writer_stop has begun, the call is answered UNAVAILABLE at once.
 * The key text in a CreateKey or RotateKey reply is wiped once sent. */
void users_writer_submit(users_writer *w, rpc_call *call, const roster_uuid *scope, const char *by);

/* Asks the writer to record that key `key_id` (copied) was used at `when`
 * (Unix ms), in its next write transaction; a transaction is started for
 * it when no write is waiting. Cheap (a short lock, no I/O): callers on
 * the read path call it at most once a minute per key. */
void users_writer_touch(users_writer *w, const roster_uuid *key_id, int64_t when);

/* Applies and answers everything queued, stops the thread and frees the
 * writer. Accepts NULL. */
void users_writer_stop(users_writer *w);

#endif
