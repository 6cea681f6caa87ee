/* roster-users configuration: command-line options, each mirrored by an
 * environment variable (the option wins when both are given). */
#ifndef ROSTER_USERS_CONFIG_H
#define ROSTER_USERS_CONFIG_H

#include "error.h"
#include "log.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct users_config {
    char *data_dir;             /* absolute path, created if missing; owned */
    char *store_url;            /* postgres:// URL of the store, NULL: LMDB in data_dir; owned */
    unsigned store_pool;        /* most connections to the PostgreSQL store */
    char *listen;               /* URL; default ipc://<data_dir>/users.ipc; owned */
    char *tls_cert;             /* PEM file or NULL; owned */
    char *tls_key;              /* PEM file or NULL; owned */
    char *init_admin_key;       /* file for the first admin key, or NULL; owned */
    uint64_t map_size;          /* store map size in bytes, 0 = the store's default */
    unsigned workers;           /* requests served at once (nng contexts) */
    unsigned max_group;         /* most write requests in one commit */
    unsigned list_threads;      /* threads for list queries */
    unsigned listener_check_ms; /* listener check period, 0 = off */
    int ipc_mode;               /* ipc:// socket file permissions */
    /* The change feed: changes_off stops recording (--no-change-feed);
     * retention in events and ms (STORE_CHANGES_UNLIMITED: "none");
     * changes_listen the pub0 address of its announcements, NULL when
     * off (owned). */
    bool changes_off;
    uint64_t changes_keep_events;
    uint64_t changes_keep_ms;
    char *changes_listen;
    char **custom_index; /* declared "path:type" customData indexes; owned */
    size_t n_custom_index;
    char **global_order; /* declared global orders (field names); owned */
    size_t n_global_order;
    unsigned merge_warn_tenants; /* users_service_set_merge_warn; 0 = off */
    roster_log_level log_level;
    bool group_commit;
    bool allow_keyless_ipc; /* keyless callers are admin on an ipc:// listener */
    bool help;              /* --help was given: print users_config_usage and exit 0 */
} users_config;

/* Parses argv and the environment into *out (caller-owned; release with
 * users_config_free). Creates the data directory when missing. Errors:
 * ROSTER_E_INVALID_ARGUMENT with `detail` naming the option, ROSTER_E_IO
 * (data directory cannot be created), ROSTER_E_NOMEM. On --help, *out has
 * help set and nothing is created. */
int users_config_parse(users_config *out, int argc, char **argv, roster_err_detail *detail);

/* Releases the strings of c (not c itself). Accepts NULL. */
void users_config_free(users_config *c);

/* Writes the --help text to f. */
void users_config_usage(FILE *f);

#endif
