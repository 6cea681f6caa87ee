/* Turns parsed --filter/--order/--search (filter.h) into the client
 * library's nanopb list requests. */
#ifndef ROSTERCTL_REQUEST_H
#define ROSTERCTL_REQUEST_H

#include "filter.h"
#include "roster_client.h"

/* Storage for the value lists a request points to. */
typedef struct ctl_request_lists {
    roster_strlist *items; /* owned array */
    size_t n;
} ctl_request_lists;

/* Fills req's filter, order and search from f, o and s (each may be empty:
 * f->count 0, o->set false, s->set false). The request borrows the
 * strings of f and s, and lists (allocated here) — all must outlive the
 * call that sends req. Returns ROSTER_E_OK or ROSTER_E_NOMEM. */
int ctl_user_list_request(roster_v1_ListUsersRequest *req, ctl_request_lists *lists,
                          const ctl_filter *f, const ctl_order *o, const ctl_search *s);

/* As above for tenants (no search). */
int ctl_tenant_list_request(roster_v1_ListTenantsRequest *req, ctl_request_lists *lists,
                            const ctl_filter *f, const ctl_order *o);

/* Frees the lists' storage. Accepts NULL. */
void ctl_request_lists_free(ctl_request_lists *l);

#endif
