/* The command line of rosterctl: the command table (words, positional
 * arguments, options, help text) and the parser that turns argv into a
 * ctl_args. Global options (--data, --connect, --timeout, --key,
 * --key-file, --json, --no-progress, --help) are accepted before or after
 * the command words. */
#ifndef ROSTERCTL_CLI_H
#define ROSTERCTL_CLI_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum ctl_cmd_id {
    CTL_CMD_USERS_GET,
    CTL_CMD_USERS_LIST,
    CTL_CMD_USERS_CREATE,
    CTL_CMD_USERS_UPDATE,
    CTL_CMD_USERS_DEACTIVATE,
    CTL_CMD_USERS_DELETE,
    CTL_CMD_TENANTS_GET,
    CTL_CMD_TENANTS_LIST,
    CTL_CMD_TENANTS_CREATE,
    CTL_CMD_TENANTS_UPDATE,
    CTL_CMD_TENANTS_SET_DEFAULT,
    CTL_CMD_TENANTS_DELETE,
    CTL_CMD_HEALTH,
    CTL_CMD_STATS,
    CTL_CMD_DUMP,
    CTL_CMD_LOAD,
    CTL_CMD_VERIFY,
    CTL_CMD_COMPACT,
    CTL_CMD_UPGRADE,
    CTL_CMD_MIGRATE,
    CTL_CMD_KEYS_CREATE,
    CTL_CMD_KEYS_LIST,
    CTL_CMD_KEYS_SHOW,
    CTL_CMD_KEYS_REVOKE,
    CTL_CMD_KEYS_ROTATE,
    CTL_CMD_ENVIRONMENT,
    CTL_CMD_ENVIRONMENT_ROTATE,
    CTL_CMD_WATCH,
    CTL_CMD_USERS_IMPORT,
} ctl_cmd_id;

typedef enum ctl_opt_kind {
    CTL_OPT_FLAG,  /* --name */
    CTL_OPT_VALUE, /* --name VALUE or --name=VALUE */
} ctl_opt_kind;

typedef struct ctl_opt_spec {
    const char *name; /* without the dashes */
    ctl_opt_kind kind;
    bool repeat;      /* may be given more than once */
    const char *arg;  /* placeholder in help, e.g. "EMAIL" */
    const char *help; /* one line */
} ctl_opt_spec;

typedef struct ctl_command {
    ctl_cmd_id id;
    const char *words;        /* "users list" */
    const char *positional;   /* "ID": exactly one; "[DATADIR]": at most one; NULL: none */
    const ctl_opt_spec *opts; /* terminated by an entry with name NULL */
    const char *summary;      /* one line */
    const char *details;      /* more text for --help, or NULL */
} ctl_command;

/* One occurrence of an option; both strings borrow from argv (or from the
 * static option table for the name). */
typedef struct ctl_opt_value {
    const char *name;
    const char *value; /* NULL for flags */
} ctl_opt_value;

#define CTL_MAX_OPTS 256

typedef struct ctl_args {
    const ctl_command *cmd; /* NULL when only a group or nothing was named */
    const char *group;      /* "users"/"tenants" when only the group was named */
    const char *positional; /* borrowed from argv, or NULL */
    ctl_opt_value opts[CTL_MAX_OPTS];
    size_t nopts;
    const char *data;            /* --data, default "./data" */
    const char *store;           /* --store (a postgres:// URL) or NULL */
    const char *connect;         /* --connect or NULL */
    const char *tls_ca;          /* --tls-ca or NULL */
    const char *tls_server_name; /* --tls-server-name or NULL */
    const char *key;             /* --key or NULL (borrowed from argv) */
    const char *key_file;        /* --key-file or NULL */
    /* The API key live calls present: not set by ctl_cli_parse but by
     * main (ctl_credential_load, from --key, --key-file or ROSTER_KEY);
     * NULL for a keyless caller. Borrowed from main's wiped buffer. */
    const char *credential;
    const char *credential_source; /* static: "--key", "--key-file", "ROSTER_KEY" */
    long timeout_ms;               /* --timeout, default 5000 */
    bool json;
    /* Whether long offline commands report progress on stderr (progress.h):
     * true unless --no-progress; main also turns it off for --json when
     * stderr is not a terminal, so that stderr holds only JSON. */
    bool progress;
    bool help;
} ctl_args;

/* Parses argv (argv[0] is the program name). Everything in *out borrows
 * from argv and from static tables. Returns ROSTER_E_OK, or
 * ROSTER_E_INVALID_ARGUMENT with d->message saying what was wrong (unknown
 * command or option, missing value or positional argument, an option given
 * twice that may be given once). When --help is given the command's
 * required parts are not checked. */
int ctl_cli_parse(ctl_args *out, int argc, char **argv, roster_err_detail *d);

/* The value of option `name` (last occurrence), or NULL if absent. For a
 * flag, returns "" when present. */
const char *ctl_args_get(const ctl_args *a, const char *name);

/* Prints help for a's command, its group, or the whole program. */
void ctl_cli_help(FILE *f, const ctl_args *a);

#endif
