/* A temporary LMDB store for the fuzz harnesses that write (the service
 * and the JSON Lines loader): one per process, in a fresh directory under
 * /dev/shm (or /tmp), opened without sync. It is emptied every `period`
 * inputs (the harness's choice), so it stays small and execs stay fast
 * over a long campaign, and removed at exit. An input therefore meets the
 * records of up to period - 1 inputs before it. */
#ifndef ROSTER_FUZZ_STORE_H
#define ROSTER_FUZZ_STORE_H

#include "store.h"

#include <stdbool.h>

/* Counts one input and returns the store for it (caller-borrowed until the
 * next call or exit), emptied first when `period` inputs have used it. *fresh is true when the
 * store was just opened (empty): the harness then builds what it keeps on it. Before the store is
 * closed (at a reset or at exit) `before_close` (may be NULL; the same on every call) runs, to stop
 * whatever uses it. Aborts when no store can be opened: the harness cannot run without one. */
store *fuzz_store_next(bool *fresh, unsigned period, void (*before_close)(void));

#endif
