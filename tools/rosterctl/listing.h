/* The paging of rosterctl's list commands (users list, tenants list): one
 * page (--limit, --offset, or --after a cursor), or with --all every page,
 * walked by cursor and printed as it arrives.
 *
 * One page prints as a table with "n of N <noun> (offset k)" and, when
 * more follow, "next page: --after CURSOR"; with --json as one object
 * {"totalCount":N,"data":[...],"pageInfo":{"hasNextPage":B,"endCursor":C}}
 * (UserPageModel / TenantPageModel).
 *
 * --all asks for pages of --limit records (default 1000) by cursor, from
 * the start or from --after, until none follows; it cannot take --offset.
 * Only one page is held at a time: rows are printed as their page
 * arrives (the table's column widths are the first page's), and with
 * --json the one object is written piece by piece: its totalCount is the
 * first page's, its pageInfo the last page's. A page over the service's
 * reply limit is asked for again at half the size. A failure part way
 * reports the error and leaves the JSON object unterminated, so no reader
 * takes a part for the whole. */
#ifndef ROSTERCTL_LISTING_H
#define ROSTERCTL_LISTING_H

#include "cli.h"
#include "roster_methods.h"

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

/* The JSON object of one record of a reply (`table`: for a table row);
 * NULL when out of memory. ctx is ctl_listing.ctx. */
typedef json_t *(*ctl_listing_json_fn)(const ProtobufCMessage *record, bool table, const void *ctx);

typedef struct ctl_listing {
    rpc_method_id method;        /* RPC_LIST_USERS or RPC_LIST_TENANTS */
    ProtobufCMessage *req;       /* its request with filter, order, search and mask set */
    const char *noun;            /* "users", in the table's last line */
    const char *const *columns;  /* table columns, NULL-terminated */
    ctl_listing_json_fn to_json; /* a record as JSON */
    const void *ctx;             /* for to_json */
} ctl_listing;

/* Reads --limit, --offset, --after and --all from `a` into l->req (whose
 * limit, offset and after fields it sets; l and everything it points to
 * are borrowed for the call), opens the service, makes the calls and
 * prints. Returns the exit code: CTL_EXIT_USAGE for a bad option, the
 * call's for a failed call (reported on stderr). */
int ctl_listing_run(const ctl_args *a, const ctl_listing *l);

#endif
