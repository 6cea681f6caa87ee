/* rosterctl verify: checks a data directory's indexes against its records
 * (store_verify) and reports every mismatch. */
#ifndef ROSTERCTL_VERIFY_H
#define ROSTERCTL_VERIFY_H

#include "cli.h"

/* Runs the command; returns the exit code (1 when any mismatch). */
int ctl_cmd_verify(const ctl_args *a);

/* Stable lower-case name of a store issue kind ("missing_entry"). */
const char *ctl_issue_kind_name(int kind);

#endif
