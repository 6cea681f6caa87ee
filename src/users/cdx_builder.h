/* The online build of customData indexes in roster-users: a thread of its
 * own that runs store_index_build_step over the indexes the store records
 * as building (declared at this start, or left building by a run that
 * stopped first), while the service answers. Each step is one write
 * transaction of USERS_CDX_BATCH users, so the writer waits at most that
 * long for LMDB's write lock; the thread pauses a millisecond between
 * steps so the writer gets it. Until an index is ready, queries naming
 * its path read the records (same answers, slower). */
#ifndef ROSTER_USERS_CDX_BUILDER_H
#define ROSTER_USERS_CDX_BUILDER_H

#include "store.h"

/* Users per build step (one write transaction). */
#define USERS_CDX_BATCH 2000

typedef struct users_cdx_builder users_cdx_builder;

/* Starts the build of st's building indexes on a new thread. *out is NULL
 * when no index is building (nothing to run), else caller-owned until
 * users_cdx_builder_stop, which must come before store_close (st is
 * borrowed until then). ROSTER_E_NOMEM, or ROSTER_E_INTERNAL when the
 * thread cannot start. A step that fails logs
 * event=custom_index_build_failed and ends the thread; the index stays
 * building (queries keep reading the records) until the next start. */
int users_cdx_builder_start(users_cdx_builder **out, store *st);

/* Asks the thread to stop between steps, joins it and frees b (NULL is
 * fine). A build not finished logs event=custom_index_build_stopped and
 * stays recorded as building: the next start builds it again from the
 * first user. */
void users_cdx_builder_stop(users_cdx_builder *b);

#endif
