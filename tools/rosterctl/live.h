/* The live side of rosterctl: a client connection to the user service
 * chosen by --connect / --data, error reporting for a failed call, and
 * views of the client library's nanopb records as protobuf-c records (so
 * one JSON conversion, record.h, serves live and offline commands). */
#ifndef ROSTERCTL_LIVE_H
#define ROSTERCTL_LIVE_H

#include "cli.h"
#include "roster.pb-c.h"
#include "roster_client.h"

typedef struct ctl_live {
    roster_client *client;    /* owned; released by ctl_live_close */
    roster_call_options call; /* timeout from --timeout */
    char url[4200];
} ctl_live;

/* Opens a client on a->connect, or on ipc://<absolute a->data>/users.ipc.
 * On failure reports the error on stderr (naming the URL) and returns it;
 * *out is then closed. */
int ctl_live_open(ctl_live *out, const ctl_args *a);

/* Closes the client. Accepts NULL and a live that failed to open. */
void ctl_live_close(ctl_live *l);

/* Reports a failed call (status message and field violations) for command
 * `what` and returns the exit code for err. st may be NULL. */
int ctl_live_fail(const ctl_args *a, const char *what, int err, const roster_status *st);

/* Fills *out so its pointers borrow the strings of *in (which must outlive
 * *out). */
void ctl_user_view(Roster__V1__User *out, const roster_v1_User *in);
void ctl_tenant_view(Roster__V1__Tenant *out, const roster_v1_Tenant *in);

/* Parses "true"/"false" for option `name`; returns ROSTER_E_OK or
 * ROSTER_E_INVALID_ARGUMENT with d filled. */
int ctl_parse_bool(bool *out, const char *name, const char *text, roster_err_detail *d);

/* Parses a non-negative decimal int32 for option `name`. */
int ctl_parse_count(int32_t *out, const char *name, const char *text, roster_err_detail *d);

#endif
