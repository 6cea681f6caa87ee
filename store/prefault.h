/* Pages of a writable map made ahead of the writer (bulk_load stores).
 *
 * With MDB_WRITEMAP LMDB writes new pages straight into the map, and the
 * first write to each page of the (sparse) data file is a page fault in
 * which the kernel makes a zeroed page for it: about a quarter of a load's
 * writing thread, one fault per 4 KiB. A store in bulk-load mode runs a
 * thread that keeps the pages past the ones in use already made
 * (MADV_POPULATE_WRITE, many pages per call), on another core, so that the
 * writer finds them mapped. The writer says how far it has got
 * (prefault_note: where the last record it appended is), the thread keeps
 * PREFAULT_AHEAD bytes made past that. Pages it makes that LMDB
 * never uses are past the last page in use, which store_close cuts off. */
#ifndef ROSTER_STORE_PREFAULT_H
#define ROSTER_STORE_PREFAULT_H

#include <stddef.h>
#include <stdint.h>

typedef struct prefault prefault;

/* Starts the thread for a map of pages of `page_size` bytes (a power of
 * two). *out is NULL (and nothing runs) when the thread cannot start;
 * where the system cannot populate ahead the thread stops at its first
 * try, and the writer takes its page faults as before. */
void prefault_start(prefault **out, size_t page_size);

/* The writer has written at `at`, in the map: keeps the pages past it
 * made. Cheap (an atomic store; a wake-up when the thread has fallen
 * behind). Addresses only go up: a lower one is ignored. Accepts NULL. */
void prefault_note(prefault *p, const void *at);

/* Stops and joins the thread and frees p. Accepts NULL. */
void prefault_stop(prefault *p);

#endif
