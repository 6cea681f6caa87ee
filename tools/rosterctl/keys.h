/* rosterctl keys create|list|show|revoke|rotate: API keys, live over RPC
 * (the caller's key must be an admin key) or, with --offline, on the data
 * directory through the store's key API. Each function runs one command
 * and returns its exit code.
 *
 * A secret (the whole key text) appears only in the reply to create and
 * rotate: it is printed once on stdout, a warning that it will not be
 * shown again goes to stderr, and every buffer that held it is wiped. */
#ifndef ROSTERCTL_KEYS_H
#define ROSTERCTL_KEYS_H

#include "cli.h"

#include <stdint.h>

int ctl_cmd_keys_create(const ctl_args *a);
int ctl_cmd_keys_list(const ctl_args *a);
int ctl_cmd_keys_show(const ctl_args *a);
int ctl_cmd_keys_revoke(const ctl_args *a);
int ctl_cmd_keys_rotate(const ctl_args *a);

/* Parses a duration for option `name`: a whole number with an optional
 * unit s (the default), m, h, d or w ("30d", "12h", "0"), at most ten
 * years. *out_s is seconds; written only on success. Errors:
 * ROSTER_E_INVALID_ARGUMENT with d filled. */
int ctl_parse_duration(int64_t *out_s, const char *name, const char *text, roster_err_detail *d);

/* Parses WHEN for option `name`: an ISO-8601 time, or a duration from
 * `now_ms` (ctl_parse_duration). *out_ms is Unix milliseconds. */
int ctl_parse_when(int64_t *out_ms, const char *name, const char *text, int64_t now_ms,
                   roster_err_detail *d);

#endif
