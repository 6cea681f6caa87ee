#include "json_budget.h"

#include "error.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

/* The parse running on this thread, if any. */
static _Thread_local bool tl_counting;
static _Thread_local bool tl_over;
static _Thread_local size_t tl_used;
static _Thread_local size_t tl_budget;

enum { MALLOC_HEADER = 16 }; /* what the allocator adds to each block */

static void *budget_malloc(size_t n)
{
    if (tl_counting) {
        tl_used += n + MALLOC_HEADER;
        if (tl_used > tl_budget) {
            tl_over = true;
            return NULL;
        }
    }
    return malloc(n);
}

static pthread_once_t install_once = PTHREAD_ONCE_INIT;

/* jansson's allocator is process-wide; it is set once, before the first
 * bounded parse. Blocks are plain malloc blocks, so trees allocated before
 * or outside a parse are freed the same way. */
static void install(void)
{
    json_set_alloc_funcs(budget_malloc, free);
}

int gw_json_loadb_bounded(json_t **out, json_error_t *jerr, const char *buf, size_t len,
                          size_t flags, size_t budget)
{
    pthread_once(&install_once, install);
    tl_counting = true;
    tl_over = false;
    tl_used = 0;
    tl_budget = budget;
    json_t *j = json_loadb(buf, len, flags, jerr);
    tl_counting = false;
    if (tl_over) {
        json_decref(j);
        return ROSTER_E_LIMIT;
    }
    if (j == NULL)
        return ROSTER_E_PARSE;
    *out = j;
    return ROSTER_E_OK;
}
