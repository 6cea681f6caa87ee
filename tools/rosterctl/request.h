/* Turns parsed --filter/--order/--search (filter.h) into the filter, order
 * and search of a protobuf-c list request (roster.v1.ListUsersRequest,
 * ListTenantsRequest). Generic: each condition names its field of the
 * filter message and the field of its kind's filter message it sets
 * (ctl_op_field), and values are written through the descriptors. */
#ifndef ROSTERCTL_REQUEST_H
#define ROSTERCTL_REQUEST_H

#include "arena.h"
#include "filter.h"

/* Sets req's "filter" from f, "order" from o and "search" from s (each may
 * be empty: f->count 0, o->set false, s == NULL or s->set false; a request
 * without a search field takes none). Sub-messages are allocated from
 * `arena`; strings and lists are borrowed from f and s. So req is valid
 * while the arena's contents, f and s are. Returns ROSTER_E_OK,
 * ROSTER_E_NOMEM, or ROSTER_E_INVALID_ARGUMENT when req lacks a field the
 * arguments need (a filter of another entity, a search on tenants). */
int ctl_list_request(ProtobufCMessage *req, roster_arena *arena, const ctl_filter *f,
                     const ctl_order *o, const ctl_search *s);

#endif
