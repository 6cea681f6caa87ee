#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define FILTER_HELP                                                                                \
    "Filter syntax (--filter FIELD OP VALUE, repeatable, conditions ANDed):\n"                     \
    "  =        equalTo              email=ann@acme.com   active=true\n"                           \
    "  !=       notEqualTo           locale!=en-US\n"                                              \
    "  ~        like                 email~%@acme.com     (%: any run, _: one character)\n"        \
    "  ~*       iLike                lastName~*o'%\n"                                              \
    "  <  <=    lessThan lessThanEqual     createdAt<2026-01-01T00:00:00Z\n"                       \
    "  >  >=    moreThan moreThanEqual     updatedAt>=2026-01-01T00:00:00.000Z\n"                  \
    "  =[a,b]   valueIn              id=[ID1,ID2]         locale=[en-US,\"de,DE\"]\n"              \
    "  !=[a,b]  valueNotIn           tenantId!=[ID]\n"                                             \
    "  =null    equalTo: null (IS NULL)        phone=null\n"                                       \
    "  !=null   notEqualTo: null (IS NOT NULL) tenantId!=null\n"                                   \
    "  The value is the rest of the expression, taken literally, unless it is\n"                   \
    "  null, starts with [ (a list; items separated by commas, [] is empty) or\n"                  \
    "  starts with \" (a quoted string where \\\" and \\\\ escape; write \"null\" or\n"            \
    "  \"[x]\" for those literal strings). Operators match longest first. Dates are\n"             \
    "  ISO-8601; booleans true or false. Each operator once per field.\n"                          \
    "  Users: customData.PATH OP VALUE on a path roster-users indexes\n"                           \
    "  (--custom-index), OP one of = != < <= > >= =[..], VALUE JSON or else a\n"                   \
    "  string: customData.plan=pro  customData.billing.seats>=10; and\n"                           \
    "  --order customData.PATH[:asc|desc].\n"

#define PROGRESS_HELP                                                                              \
    "\nProgress goes to stderr: on a terminal a bar with percent, records, rate,\n"                \
    "elapsed time and ETA, redrawn up to 10 times a second; otherwise a plain\n"                   \
    "line every 5 seconds (ROSTERCTL_PROGRESS_INTERVAL_MS sets the interval, in\n"                 \
    "milliseconds), and a summary line at the end. A run shorter than the\n"                       \
    "interval prints none of it. --no-progress turns it off; so does --json\n"                     \
    "when stderr is not a terminal.\n"

static const ctl_opt_spec no_opts[] = {{NULL}};

#define FIELDS_OPT(record)                                                                         \
    {                                                                                              \
        "fields", CTL_OPT_VALUE, false, "F1,F2,...",                                               \
            "only these " record " fields (and id), e.g. id,email: the service sends no others"    \
    }

static const ctl_opt_spec users_get_opts[] = {FIELDS_OPT("user"), {NULL}};

#define LIST_PAGING_OPTS                                                                           \
    {"limit", CTL_OPT_VALUE, false, "N",                                                           \
     "page size, 0..1000 (default 20; 0 gives the count; with --all 1..1000, default 1000)"},      \
        {"offset", CTL_OPT_VALUE, false, "N", "records to skip (default 0)"},                      \
        {"after", CTL_OPT_VALUE, false, "CURSOR",                                                  \
         "the page right after this cursor (a page's endCursor, same filter and order)"},          \
    {                                                                                              \
        "all", CTL_OPT_FLAG, false, NULL,                                                          \
            "every page, walked by cursor and printed as each arrives"                             \
    }

static const ctl_opt_spec users_list_opts[] = {
    {"filter", CTL_OPT_VALUE, true, "EXPR", "condition, see the filter syntax below"},
    {"search", CTL_OPT_VALUE, false, "KEY:VALUE",
     "case-insensitive substring on email|firstName|lastName|locale|phone|timezone"},
    {"order", CTL_OPT_VALUE, false, "FIELD[:asc|desc]",
     "active|createdAt|email|firstName|lastName|locale|phone|timezone|updatedAt "
     "(default createdAt:desc; direction defaults to asc)"},
    LIST_PAGING_OPTS,
    FIELDS_OPT("user"),
    {NULL}};

#define USER_FIELD_OPTS                                                                            \
    {"email", CTL_OPT_VALUE, false, "EMAIL", "email"},                                             \
        {"first-name", CTL_OPT_VALUE, false, "TEXT", "firstName"},                                 \
        {"last-name", CTL_OPT_VALUE, false, "TEXT", "lastName"},                                   \
        {"phone", CTL_OPT_VALUE, false, "TEXT", "phone"},                                          \
        {"locale", CTL_OPT_VALUE, false, "TAG", "locale (BCP 47, e.g. en-US)"},                    \
        {"timezone", CTL_OPT_VALUE, false, "ZONE", "timezone (IANA, e.g. Asia/Bangkok)"},          \
        {"avatar-url", CTL_OPT_VALUE, false, "URL", "avatarUrl"},                                  \
        {"opted-in", CTL_OPT_VALUE, false, "true|false", "isOptedIn"},                             \
        {"active", CTL_OPT_VALUE, false, "true|false", "active"},                                  \
        {"two-factor", CTL_OPT_VALUE, false, "true|false", "twoFactorEnabled"},                    \
        {"tenant-id", CTL_OPT_VALUE, false, "ID", "tenantId"},                                     \
    {                                                                                              \
        "custom-data", CTL_OPT_VALUE, false, "JSON", "customData, a JSON object"                   \
    }

static const ctl_opt_spec users_create_opts[] = {
    {"reference", CTL_OPT_VALUE, false, "REF", "reference (required)"}, USER_FIELD_OPTS, {NULL}};

static const ctl_opt_spec users_update_opts[] = {
    USER_FIELD_OPTS,
    {"clear", CTL_OPT_VALUE, true, "FIELD",
     "set FIELD to null: firstName lastName phone locale timezone avatarUrl isOptedIn "
     "active twoFactorEnabled tenantId customData (kebab-case option names also accepted)"},
    {NULL}};

static const ctl_opt_spec tenants_get_opts[] = {
    {"user-count", CTL_OPT_FLAG, false, NULL, "also show the tenant's user count"},
    FIELDS_OPT("tenant"),
    {NULL}};

static const ctl_opt_spec tenants_list_opts[] = {
    {"filter", CTL_OPT_VALUE, true, "EXPR", "condition on id|name|reference, see below"},
    {"order", CTL_OPT_VALUE, false, "FIELD[:asc|desc]",
     "createdAt|name (default createdAt:desc; direction defaults to asc)"},
    LIST_PAGING_OPTS,
    {"user-count", CTL_OPT_FLAG, false, NULL, "also show each tenant's user count"},
    FIELDS_OPT("tenant"),
    {NULL}};

static const ctl_opt_spec tenants_create_opts[] = {
    {"name", CTL_OPT_VALUE, false, "NAME", "name (required)"},
    {"reference", CTL_OPT_VALUE, false, "REF", "reference"},
    {"default", CTL_OPT_FLAG, false, NULL, "make it the default tenant"},
    {NULL}};

static const ctl_opt_spec tenants_update_opts[] = {
    {"name", CTL_OPT_VALUE, false, "NAME", "name"},
    {"reference", CTL_OPT_VALUE, false, "REF", "reference"},
    {"clear", CTL_OPT_VALUE, true, "FIELD", "set FIELD to null: reference"},
    {"default", CTL_OPT_VALUE, false, "true|false",
     "true makes it the default tenant, false an ordinary one"},
    {NULL}};

static const ctl_opt_spec stats_opts[] = {
    {"offline", CTL_OPT_FLAG, false, NULL, "read the data directory instead of asking the service"},
    {NULL}};

static const ctl_opt_spec load_opts[] = {
    {"dry-run", CTL_OPT_FLAG, false, NULL, "validate everything, write nothing"},
    {"batch", CTL_OPT_VALUE, false, "N",
     "commit every N lines (default: the whole input in one transaction)"},
    {NULL}};

static const ctl_opt_spec migrate_opts[] = {
    {"from", CTL_OPT_VALUE, false, "DIR", "the data directory whose LMDB store is copied"},
    {"to", CTL_OPT_VALUE, false, "URL", "the PostgreSQL store (postgres://...) copied into"},
    {"batch", CTL_OPT_VALUE, false, "N", "records per write group (default 1000)"},
    {NULL}};

static const ctl_opt_spec users_import_opts[] = {
    {"format", CTL_OPT_VALUE, false, "jsonl|csv",
     "the file's format (default: csv for a name ending .csv, else jsonl)"},
    {"dry-run", CTL_OPT_FLAG, false, NULL, "check every record with the service, store nothing"},
    {"batch", CTL_OPT_VALUE, false, "N", "records per BulkWrite call, 1..1000 (default 1000)"},
    {NULL}};

static const ctl_opt_spec keys_create_opts[] = {
    {"name", CTL_OPT_VALUE, false, "NAME", "what the key is for (required, 1..255 bytes)"},
    {"role", CTL_OPT_VALUE, false, "admin|writer|reader", "what the key may do (required)"},
    {"tenant", CTL_OPT_VALUE, false, "ID", "the tenant a writer or reader key is bound to"},
    {"expires", CTL_OPT_VALUE, false, "WHEN",
     "ISO-8601 time or a duration from now (30d, 12h, 90m, 3600s, 2w); default never"},
    {"offline", CTL_OPT_FLAG, false, NULL, "write to the data directory instead of the service"},
    {NULL}};

static const ctl_opt_spec keys_list_opts[] = {
    {"all", CTL_OPT_FLAG, false, NULL, "include revoked keys"},
    {"offline", CTL_OPT_FLAG, false, NULL, "read the data directory instead of the service"},
    {NULL}};

static const ctl_opt_spec watch_opts[] = {
    {"after", CTL_OPT_VALUE, false, "SEQ",
     "print the events after SEQ (0: from the first kept); default: from now on"},
    {"count", CTL_OPT_VALUE, false, "N", "stop after N events"},
    {"notify", CTL_OPT_VALUE, false, "URL",
     "the service's announcement address (--changes-listen), or off to poll; default beside "
     "an ipc:// address (users-changes.ipc), none over tcp (polls each second)"},
    {NULL}};

static const ctl_opt_spec keys_offline_opts[] = {
    {"offline", CTL_OPT_FLAG, false, NULL, "use the data directory instead of the service"},
    {NULL}};

static const ctl_opt_spec keys_rotate_opts[] = {
    {"grace", CTL_OPT_VALUE, false, "DURATION",
     "how long the old secret keeps working (default 1h, at most 30d; 0 ends it now)"},
    {"offline", CTL_OPT_FLAG, false, NULL, "write to the data directory instead of the service"},
    {NULL}};

#define KEYS_HELP                                                                                  \
    "Live, the call needs an admin key (--key, --key-file or ROSTER_KEY). With\n"                  \
    "--offline the data directory (--data) is used directly and no key is needed:\n"               \
    "whoever can write the data directory owns the service anyway.\n"

#define SECRET_HELP                                                                                \
    "The secret (the whole key text, rstr_...) is printed once, on stdout, and\n"                  \
    "cannot be shown again: only its hash is stored.\n"

static const ctl_command commands[] = {
    {CTL_CMD_USERS_GET, "users get", "ID", users_get_opts, "show one user", NULL},
    {CTL_CMD_USERS_LIST, "users list", NULL, users_list_opts,
     "list users with filters, search, order and paging",
     "Deactivated users are left out unless --filter withDeactivated=true or an\n"
     "active filter is given.\n\n" FILTER_HELP
     "  Fields: id tenantId (id); reference email firstName lastName phone locale\n"
     "  timezone (string); active isOptedIn withDeactivated (boolean); createdAt\n"
     "  updatedAt (date); customData.PATH (a path roster-users indexes).\n\n"
     "Example:\n"
     "  rosterctl users list --filter email~%@acme.com --filter active=true \\\n"
     "      --filter createdAt>2026-01-01T00:00:00Z --order createdAt:desc --limit 50\n"},
    {CTL_CMD_USERS_CREATE, "users create", NULL, users_create_opts,
     "create a user (--reference and --email required)", NULL},
    {CTL_CMD_USERS_UPDATE, "users update", "ID", users_update_opts,
     "change the given fields of a user; --clear FIELD sets one to null", NULL},
    {CTL_CMD_USERS_DEACTIVATE, "users deactivate", "ID", no_opts,
     "deactivate a user (active: false)", NULL},
    {CTL_CMD_USERS_DELETE, "users delete", "ID", no_opts,
     "delete a user and every index entry it has; its reference and email are free at once",
     "The user is gone from every query and index when the call returns. Its\n"
     "bytes may stay in the data file (freed pages, unused parts of pages)\n"
     "until LMDB reuses them or rosterctl compact rewrites the file, and in\n"
     "every backup or dump made before. A writer key deletes its tenant's\n"
     "users only. Deleting a user that is already gone is not found (exit 1),\n"
     "which is also what repeating a delete that went through answers.\n"},
    {CTL_CMD_USERS_IMPORT, "users import", "FILE", users_import_opts,
     "create and update users from a JSON Lines or CSV file (- reads stdin)",
     "Records go to the service in BulkWrite calls of --batch records, a few\n"
     "calls at a time. JSON Lines: one UserModel object per line, as dump\n"
     "writes them (GraphQL field names; blank lines skipped). CSV: a header row\n"
     "of UserModel field names, then one user per row; an empty cell leaves\n"
     "the field absent, booleans are true or false, customData is the text of\n"
     "a JSON object. A record without id is created; one with id updates that\n"
     "user's fields the record has (createdAt, updatedAt and synced are\n"
     "ignored). Each record is applied or refused alone: every refused one is\n"
     "reported on stderr with its line (CSV: row) and the field at fault, and\n"
     "the exit code is then 4. A summary of created, updated and failed\n"
     "records ends the output. Updates that depend on a create of the same\n"
     "file need --batch large enough to hold both (calls may apply in either\n"
     "order).\n"},
    {CTL_CMD_TENANTS_GET, "tenants get", "ID", tenants_get_opts, "show one tenant", NULL},
    {CTL_CMD_TENANTS_LIST, "tenants list", NULL, tenants_list_opts,
     "list tenants with filters, order and paging",
     FILTER_HELP "  Fields: id (id); name reference (string).\n"},
    {CTL_CMD_TENANTS_CREATE, "tenants create", NULL, tenants_create_opts,
     "create a tenant (--name required)", NULL},
    {CTL_CMD_TENANTS_UPDATE, "tenants update", "ID", tenants_update_opts,
     "change the given fields of a tenant", NULL},
    {CTL_CMD_TENANTS_SET_DEFAULT, "tenants set-default", "ID", no_opts,
     "make a tenant the default one (users created without tenantId join it)", NULL},
    {CTL_CMD_TENANTS_DELETE, "tenants delete", "ID", no_opts,
     "delete a tenant that has no users, is not the default and no live key names",
     "Needs an admin key. Refused (exit 4, failed precondition) while the\n"
     "tenant has users (deactivated ones included), is the default tenant\n"
     "(tenants update ID --default false first) or is named by an API key\n"
     "that is not revoked (keys revoke KEY first).\n"},
    {CTL_CMD_HEALTH, "health", NULL, no_opts, "ask the service whether it is serving", NULL},
    {CTL_CMD_STATS, "stats", NULL, stats_opts,
     "service counters; --offline: the data directory's tables, indexes and map use",
     "Without --offline the running service is asked over RPC (--connect) for\n"
     "requests by method and status, p50/p90/p99/max latency, uptime, users,\n"
     "tenants, store map size and use, in-flight requests and group commits.\n"
     "With --offline the data directory (--data) is opened read-only (safe\n"
     "while the service runs) for records per table, entries and pages per\n"
     "index, map size and use, and the schema version.\n"},
    {CTL_CMD_DUMP, "dump", NULL, no_opts,
     "write every tenant then every user as JSON Lines to stdout (offline, read-only)",
     "Each line is one JSON object: {\"__typename\":\"TenantModel\",...} or\n"
     "{\"__typename\":\"UserModel\",...} with the GraphQL field names; every field\n"
     "is present (null when unset); dates are ISO-8601 UTC with milliseconds.\n"
     "The percent counts records against the store's counts; with stdout a\n"
     "terminal the records are the progress and no bar is drawn.\n" PROGRESS_HELP},
    {CTL_CMD_LOAD, "load", NULL, load_opts,
     "read JSON Lines (the dump format) from stdin into the data directory (offline)",
     "All lines are validated with the service's rules and written in one\n"
     "transaction: a bad line is reported with its line number and nothing is\n"
     "written. With --batch N every N lines are one transaction: a batch with a\n"
     "bad line is not written, nor anything after it (later lines are still\n"
     "checked and reported), and the report names the last committed line.\n"
     "Records keep their id, createdAt, updatedAt and isDefault.\n"
     "Lines for users may omit id and the dates (new ones are made); the\n"
     "__typename field says what a line is. Blank lines are skipped.\n"
     "The percent and ETA count the bytes read of a file on stdin (none from a\n"
     "pipe).\n" PROGRESS_HELP},
    {CTL_CMD_VERIFY, "verify", NULL, no_opts,
     "check that every index agrees with the records and uniqueness holds (offline)",
     "Every mismatch is reported; the exit code is 1 when there is any.\n"
     "The percent counts the tenant and user records checked; the counters,\n"
     "keys and change feed are checked after them.\n" PROGRESS_HELP},
    {CTL_CMD_COMPACT, "compact", "[DATADIR]", no_opts,
     "rewrite the data file with only live data, erasing deleted records' bytes (offline)",
     "DATADIR defaults to --data. Every database is written anew into a\n"
     "temporary file in DATADIR, compacted (mdb_env_copy2, MDB_CP_COMPACT),\n"
     "compared entry by entry with the store, synced and renamed over\n"
     "data.mdb. Afterwards no byte of a deleted user or tenant is in data.mdb.\n"
     "Needs free space for twice the live data. Refused (exit 4) while\n"
     "roster-users or any other process has the store open: stop the service\n"
     "first (systemctl stop roster-users), compact, start it again. On any\n"
     "failure data.mdb is left as it was.\n"},
    {CTL_CMD_UPGRADE, "upgrade", "[DATADIR]", no_opts,
     "rewrite a data directory of an older schema version in this build's layout (offline)",
     "DATADIR defaults to --data. A store written by an older Roster (schema\n"
     "version 1) is refused by roster-users and the offline commands until it\n"
     "is upgraded. The upgrade rewrites it the way compact does (a temporary\n"
     "file in DATADIR, compared entry by entry with the store, synced and\n"
     "renamed over data.mdb): records, unique indexes, keys and the change feed\n"
     "are copied, the sort indexes rewritten in the new layout. A store already\n"
     "at this build's version is left alone. Needs free space for twice the\n"
     "live data. Refused (exit 4) while roster-users or any other process has\n"
     "the store open. On any failure data.mdb is left as it was. Run\n"
     "rosterctl verify afterwards.\n"},
    {CTL_CMD_MIGRATE, "migrate", NULL, migrate_opts,
     "copy an LMDB data directory into an empty PostgreSQL store and check the copy (offline)",
     "Copies the tenants, users and API keys of --from's store into the empty\n"
     "PostgreSQL store --to names (roster-users must not be running on\n"
     "either), in write groups of --batch records, then checks the copy: the\n"
     "same tenants and keys, every user record byte for byte, and verify\n"
     "finding nothing. Until the check passes the database is marked as an\n"
     "unfinished load, which roster-users refuses; after a failure drop the\n"
     "database's roster_ tables and migrate again. The change feed is not\n"
     "copied: subscribers start again from the new store's first event.\n"
     "customData indexes are not copied: roster-users started on the URL\n"
     "with the same --custom-index declarations builds them there.\n"
     "Refused (exit 4) when the target already holds data.\n"},
    {CTL_CMD_KEYS_CREATE, "keys create", NULL, keys_create_opts,
     "mint an API key (--name and --role required) and print its secret once",
     "Roles: admin (every tenant, tenants, keys, stats), writer (its tenant's\n"
     "users; reads its tenant), reader (its tenant, read only). Writer and\n"
     "reader keys need --tenant.\n" SECRET_HELP KEYS_HELP},
    {CTL_CMD_KEYS_LIST, "keys list", NULL, keys_list_opts,
     "list API keys (revoked ones with --all); secrets are never shown", KEYS_HELP},
    {CTL_CMD_KEYS_SHOW, "keys show", "ID", keys_offline_opts, "show one API key", KEYS_HELP},
    {CTL_CMD_KEYS_REVOKE, "keys revoke", "ID", keys_offline_opts,
     "revoke an API key: it stops working at once", KEYS_HELP},
    {CTL_CMD_KEYS_ROTATE, "keys rotate", "ID", keys_rotate_opts,
     "give a key a new secret (printed once); the old one works for --grace",
     SECRET_HELP KEYS_HELP},
    {CTL_CMD_ENVIRONMENT_ROTATE, "environment rotate-signing-key", NULL, keys_offline_opts,
     "make a new key for signing access tokens; the old one verifies for 24 h",
     "Live (admin key): the service signs with the new key at once. With\n"
     "--offline the data directory's key is replaced and the service uses it\n"
     "from its next start. Tokens signed with the old key keep working until\n"
     "they expire (at most 24 hours).\n"},
    {CTL_CMD_ENVIRONMENT, "environment", NULL, keys_offline_opts,
     "show the environment id (the ROQ SDK's environmentId) and the token signing key's id",
     "Made with the data directory at the service's first start. Live with\n"
     "any valid key, or --offline on the data directory.\n"},
    {CTL_CMD_WATCH, "watch", NULL, watch_opts,
     "follow the change feed: print each committed user and tenant change as it comes",
     "Events come in sequence order, each once, from ListChanges (any key; a\n"
     "writer or reader key sees its own tenant's events only), woken by the\n"
     "service's announcements. A lost connection or a restart of the service\n"
     "is waited out. Give --after with the last seq printed to resume without a\n"
     "gap; when those events are no longer kept the watch ends OUT_OF_RANGE\n"
     "(exit 4) naming the oldest kept seq. --json prints one JSON object per\n"
     "line: seq, kind, id, committedAt, tenantId, previousTenantId, fields (the\n"
     "new values), cleared (fields made null), scrubbed.\n"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* The URLs store_open takes for a PostgreSQL store (store_is_postgres;
 * the command line is parsed without the store library). */
static bool is_postgres_url(const char *v)
{
    return strncmp(v, "postgres://", 11) == 0 || strncmp(v, "postgresql://", 13) == 0;
}

static const ctl_opt_spec global_opts[] = {
    {"data", CTL_OPT_VALUE, false, "DIR", "data directory (default ./data)"},
    {"store", CTL_OPT_VALUE, false, "URL",
     "a PostgreSQL store (postgres://...) for the offline commands instead of the data "
     "directory's LMDB store (ROSTER_STORE)"},
    {"connect", CTL_OPT_VALUE, false, "URL",
     "service address (default ipc://<absolute data dir>/users.ipc)"},
    {"timeout", CTL_OPT_VALUE, false, "MS", "RPC deadline in milliseconds (default 5000)"},
    {"tls-ca", CTL_OPT_VALUE, false, "FILE",
     "PEM certificate authorities trusted for a tls+tcp:// service"},
    {"tls-server-name", CTL_OPT_VALUE, false, "NAME",
     "name the service certificate must carry (default: the URL's host)"},
    {"key", CTL_OPT_VALUE, false, "KEY",
     "API key for live calls (visible to other local users in ps: prefer --key-file)"},
    {"key-file", CTL_OPT_VALUE, false, "PATH",
     "file holding the API key; must be private (chmod 600). Default: $ROSTER_KEY"},
    {"json", CTL_OPT_FLAG, false, NULL, "machine-readable JSON output"},
    {"no-progress", CTL_OPT_FLAG, false, NULL,
     "no progress report on stderr from dump, load and verify"},
    {"help", CTL_OPT_FLAG, false, NULL, "show help"},
    {NULL}};

static const ctl_opt_spec *find_opt(const ctl_opt_spec *specs, const char *name, size_t len)
{
    for (const ctl_opt_spec *s = specs; s && s->name; s++)
        if (strlen(s->name) == len && memcmp(s->name, name, len) == 0)
            return s;
    return NULL;
}

/* Words of a command: does `words` start with w1 (and w2 when given)? */
static const ctl_command *find_command(const char *w1, const char *w2, bool *group)
{
    *group = false;
    size_t l1 = strlen(w1);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const char *w = commands[i].words;
        if (strncmp(w, w1, l1) != 0)
            continue;
        if (w[l1] == '\0')
            return &commands[i];
        if (w[l1] == ' ') {
            *group = true;
            if (w2 != NULL && strcmp(w + l1 + 1, w2) == 0)
                return &commands[i];
        }
    }
    return NULL;
}

int ctl_cli_parse(ctl_args *out, int argc, char **argv, roster_err_detail *d)
{
    ctl_args a;
    memset(&a, 0, sizeof a);
    a.data = "./data";
    a.store = getenv("ROSTER_STORE");
    if (a.store != NULL && !is_postgres_url(a.store))
        a.store = NULL;
    a.timeout_ms = 5000;
    a.progress = true;
    const char *words[2] = {NULL, NULL};
    int nwords = 0;
    const char *positional[2] = {NULL, NULL};
    int npositional = 0;
    bool seen_global[16] = {false};
    _Static_assert(sizeof global_opts / sizeof global_opts[0] <= 16, "seen_global too small");

    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_positional && strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (!only_positional && (strcmp(arg, "-h") == 0)) {
            a.help = true;
            continue;
        }
        if (!only_positional && strncmp(arg, "--", 2) == 0) {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const ctl_opt_spec *g = find_opt(global_opts, name, len);
            const char *value = eq ? eq + 1 : NULL;
            if (g != NULL) {
                size_t gi = (size_t)(g - global_opts);
                if (g->kind == CTL_OPT_FLAG) {
                    if (eq)
                        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, g->name,
                                           "option --%s takes no value", g->name);
                } else if (value == NULL) {
                    if (i + 1 >= argc)
                        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, g->name,
                                           "option --%s needs a value (%s)", g->name, g->arg);
                    value = argv[++i];
                }
                if (seen_global[gi])
                    return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, g->name,
                                       "option --%s is given twice", g->name);
                seen_global[gi] = true;
                if (strcmp(g->name, "data") == 0) {
                    a.data = value;
                } else if (strcmp(g->name, "store") == 0) {
                    if (!is_postgres_url(value))
                        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "store",
                                           "--store takes a postgres:// or postgresql:// URL, "
                                           "not '%s'",
                                           value);
                    a.store = value;
                } else if (strcmp(g->name, "connect") == 0) {
                    a.connect = value;
                } else if (strcmp(g->name, "timeout") == 0) {
                    char *end;
                    long t = strtol(value, &end, 10);
                    if (*value == '\0' || *end != '\0' || t <= 0 || t > 3600000)
                        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "timeout",
                                           "--timeout must be milliseconds between 1 and "
                                           "3600000, not '%s'",
                                           value);
                    a.timeout_ms = t;
                } else if (strcmp(g->name, "tls-ca") == 0) {
                    a.tls_ca = value;
                } else if (strcmp(g->name, "tls-server-name") == 0) {
                    a.tls_server_name = value;
                } else if (strcmp(g->name, "key") == 0) {
                    a.key = value;
                } else if (strcmp(g->name, "key-file") == 0) {
                    a.key_file = value;
                } else if (strcmp(g->name, "json") == 0) {
                    a.json = true;
                } else if (strcmp(g->name, "no-progress") == 0) {
                    a.progress = false;
                } else {
                    a.help = true;
                }
                continue;
            }
            /* Command options: the command words come first, so its
             * option table is known here. */
            bool group;
            const ctl_command *c =
                nwords > 0 ? find_command(words[0], nwords > 1 ? words[1] : NULL, &group) : NULL;
            if (c == NULL)
                return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "",
                                   "option %s given before a command", arg);
            const ctl_opt_spec *s = find_opt(c->opts, name, len);
            if (s == NULL)
                return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "",
                                   "%s: unknown option --%.*s (see rosterctl %s --help)", c->words,
                                   (int)len, name, c->words);
            if (s->kind == CTL_OPT_VALUE && eq == NULL) {
                if (i + 1 >= argc)
                    return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, s->name,
                                       "%s: option --%s needs a value (%s)", c->words, s->name,
                                       s->arg);
                i++;
            } else if (s->kind == CTL_OPT_FLAG && eq != NULL) {
                return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, s->name,
                                   "%s: option --%s takes no value", c->words, s->name);
            }
            if (a.nopts == CTL_MAX_OPTS)
                return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "", "too many options");
            if (!s->repeat && ctl_args_get(&a, s->name) != NULL)
                return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, s->name,
                                   "%s: option --%s is given twice", c->words, s->name);
            a.opts[a.nopts].name = s->name;
            a.opts[a.nopts].value = s->kind == CTL_OPT_FLAG ? "" : (eq ? eq + 1 : argv[i]);
            a.nopts++;
            continue;
        }
        /* A word: command words first, then the positional argument. */
        bool group = false;
        const ctl_command *c =
            nwords > 0 ? find_command(words[0], nwords > 1 ? words[1] : NULL, &group) : NULL;
        /* A command that is also a group ("environment" and "environment
         * rotate-signing-key"): a second word naming a subcommand wins. */
        if (c != NULL && nwords == 1 && group && !only_positional) {
            bool g2 = false;
            const ctl_command *sub = find_command(words[0], arg, &g2);
            if (sub != NULL && sub != c) {
                words[nwords++] = arg;
                continue;
            }
        }
        if (c == NULL && nwords < 2 && !only_positional) {
            words[nwords++] = arg;
            c = find_command(words[0], nwords > 1 ? words[1] : NULL, &group);
            if (c == NULL && (!group || nwords == 2)) {
                if (nwords == 1 && strcmp(arg, "help") == 0) {
                    a.help = true;
                    nwords = 0;
                    continue;
                }
                if (nwords == 1)
                    return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "",
                                       "unknown command '%s' (see rosterctl --help)", arg);
                return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "",
                                   "unknown command '%s %s' (see rosterctl %s --help)", words[0],
                                   arg, words[0]);
            }
            continue;
        }
        if (c == NULL)
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "", "unexpected argument '%s'", arg);
        if (npositional >= 1 || c->positional == NULL)
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "", "%s: unexpected argument '%s'",
                               c->words, arg);
        positional[npositional++] = arg;
    }

    bool group = false;
    const ctl_command *c =
        nwords > 0 ? find_command(words[0], nwords > 1 ? words[1] : NULL, &group) : NULL;
    a.cmd = c;
    a.group = (c == NULL && group) ? words[0] : NULL;
    a.positional = positional[0];
    if (!a.help) {
        if (c == NULL && group)
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "",
                               "%s: which one? (see rosterctl %s --help)", words[0], words[0]);
        if (c == NULL)
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "",
                               "no command given (see rosterctl --help)");
        if (c->positional != NULL && c->positional[0] != '[' && a.positional == NULL)
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "", "%s: missing %s", c->words,
                               c->positional);
    }
    *out = a;
    return ROSTER_E_OK;
}

const char *ctl_args_get(const ctl_args *a, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < a->nopts; i++)
        if (strcmp(a->opts[i].name, name) == 0)
            v = a->opts[i].value;
    return v;
}

static void print_opts(FILE *f, const ctl_opt_spec *specs)
{
    for (const ctl_opt_spec *s = specs; s && s->name; s++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", s->name, s->arg ? " " : "", s->arg ? s->arg : "");
        fprintf(f, "  %-26s %s%s\n", left, s->help, s->repeat ? " (repeatable)" : "");
    }
}

static void print_globals(FILE *f)
{
    fprintf(f, "\nGlobal options (before or after the command):\n");
    print_opts(f, global_opts);
}

static const char exit_codes[] =
    "\nExit codes: 0 ok; 1 not found, or verify found a mismatch; 2 usage error\n"
    "(also a key file others may read); 3 service unavailable or deadline\n"
    "exceeded; 4 invalid input or conflict (already exists, failed precondition);\n"
    "5 internal or I/O error; 6 refused: no key or a key the service does not\n"
    "accept (unauthenticated), or a key whose role or tenant does not allow the\n"
    "call (permission denied).\n";

void ctl_cli_help(FILE *f, const ctl_args *a)
{
    const ctl_command *c = a->cmd;
    if (c != NULL) {
        fprintf(f, "usage: rosterctl %s%s%s [options]\n\n%s.\n", c->words, c->positional ? " " : "",
                c->positional ? c->positional : "", c->summary);
        if (c->opts && c->opts->name) {
            fprintf(f, "\nOptions:\n");
            print_opts(f, c->opts);
        }
        if (c->details)
            fprintf(f, "\n%s", c->details);
        print_globals(f);
        fputs(exit_codes, f);
        return;
    }
    size_t glen = a->group ? strlen(a->group) : 0;
    if (a->group)
        fprintf(f, "usage: rosterctl %s COMMAND [options]\n\nCommands:\n", a->group);
    else
        fprintf(f, "usage: rosterctl [global options] COMMAND [ARGS] [options]\n\n"
                   "Roster's operator tool. Live commands talk to the running roster-users\n"
                   "service; offline commands (stats --offline, dump, load, verify) open the\n"
                   "data directory directly and are safe while the service runs; compact\n"
                   "needs the service stopped.\n"
                   "Live calls present the API key of --key, --key-file or $ROSTER_KEY\n"
                   "(required over tcp:// and tls+tcp://).\n\n"
                   "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const ctl_command *k = &commands[i];
        if (a->group && (strncmp(k->words, a->group, glen) != 0 || k->words[glen] != ' '))
            continue;
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", k->words, k->positional ? " " : "",
                 k->positional ? k->positional : "");
        fprintf(f, "  %-24s %s\n", left, k->summary);
    }
    fprintf(f, "\nrosterctl COMMAND --help shows a command's options.\n");
    print_globals(f);
    fputs(exit_codes, f);
}
