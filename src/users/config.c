#include "config.h"

#include "feed.h"
#include "roster_limits.h"
#include "service.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void users_config_usage(FILE *f)
{
    fprintf(f,
            "Usage: roster-users [OPTIONS]\n"
            "\n"
            "The Roster user service: owns users and tenants in an LMDB store and\n"
            "answers protobuf requests over nng (req0/rep0).\n"
            "\n"
            "Options (each also read from the environment variable shown; the\n"
            "option wins when both are set):\n"
            "  --data DIR          data directory, created if missing: the LMDB store,\n"
            "                      the token signing keys and the default ipc sockets\n"
            "                      [ROSTER_DATA, default ./data]\n"
            "  --store URL         keep users, tenants, keys and the change feed in\n"
            "                      PostgreSQL instead of the data directory's LMDB\n"
            "                      store: a postgres:// or postgresql:// URL (libpq's\n"
            "                      syntax); the schema is created or migrated at start.\n"
            "                      Several roster-users may serve one database\n"
            "                      [ROSTER_STORE, default: LMDB in the data directory]\n"
            "  --store-pool N      connections to PostgreSQL this process keeps at most,\n"
            "                      1..256 (with --store; the writer takes one while it\n"
            "                      commits, reads share the rest)\n"
            "                      [ROSTER_STORE_POOL, default 8]\n"
            "  --listen URL        address to serve: ipc:///path, tcp://host:port or\n"
            "                      tls+tcp://host:port\n"
            "                      [ROSTER_LISTEN, default ipc://<data dir>/users.ipc]\n"
            "  --tls-cert FILE     PEM certificate (chain) for tls+tcp:// [ROSTER_TLS_CERT]\n"
            "  --tls-key FILE      PEM private key for tls+tcp:// [ROSTER_TLS_KEY]\n"
            "  --map-size SIZE     most bytes the store may hold (its LMDB map): a\n"
            "                      number with an optional K, M, G or T suffix (powers\n"
            "                      of 1024), 1M..64T; a store whose map is already\n"
            "                      larger keeps its size. When it is full, writes are\n"
            "                      refused RESOURCE_EXHAUSTED (event=map_full) and reads\n"
            "                      go on; restart with a larger size\n"
            "                      [ROSTER_MAP_SIZE, default 64G]\n"
            "  --workers N         requests served at once, 1..4096\n"
            "                      [ROSTER_WORKERS, default 64]\n"
            "  --list-threads N    threads for list queries (which may scan), 1..64;\n"
            "                      single-record reads run on the I/O threads\n"
            "                      [ROSTER_LIST_THREADS, default 2; with --store, the\n"
            "                      --store-pool size up to 64: on PostgreSQL a list\n"
            "                      query mostly waits for the database]\n"
            "  --max-group N       most write requests committed together, 1..4096\n"
            "                      [ROSTER_MAX_GROUP, default 512]\n"
            "  --no-group-commit   one durable commit per write request\n"
            "                      [ROSTER_NO_GROUP_COMMIT=1]\n"
            "  --ipc-mode OCTAL    permissions of the ipc:// socket file, owner read and\n"
            "                      write required (0660 lets the group connect)\n"
            "                      [ROSTER_IPC_MODE, default 0600]\n"
            "  --listener-check-ms N\n"
            "                      every N ms, check that a new connection still\n"
            "                      completes the handshake, and re-create the listener\n"
            "                      when one does not within 3 s; 0 turns it off,\n"
            "                      otherwise 50..3600000 [ROSTER_LISTENER_CHECK_MS,\n"
            "                      default 1000]\n"
            "  --allow-keyless-ipc callers that present no API key are admin, on an\n"
            "                      ipc:// listener only (the socket file's permissions\n"
            "                      are then the boundary); without it, and always on\n"
            "                      tcp:// and tls+tcp://, every method but Health needs\n"
            "                      a key [ROSTER_ALLOW_KEYLESS_IPC=1, default off]\n"
            "  --init-admin-key FILE\n"
            "                      when the store holds no API keys, mint an admin key\n"
            "                      named \"initial-admin\" and write its text to FILE\n"
            "                      (created with mode 0600; refused if FILE exists)\n"
            "                      [ROSTER_INIT_ADMIN_KEY]\n"
            "  --no-change-feed    record no change feed: ListChanges answers\n"
            "                      FAILED_PRECONDITION, and readers that had read up to\n"
            "                      a seq before the first unrecorded write are answered\n"
            "                      OUT_OF_RANGE once it is back on\n"
            "                      [ROSTER_NO_CHANGE_FEED=1, default: recorded]\n"
            "  --changes-keep-events N\n"
            "                      keep at most N change events (1..1000000000000,\n"
            "                      or none) [ROSTER_CHANGES_KEEP_EVENTS, default 1000000]\n"
            "  --changes-keep-age AGE\n"
            "                      keep no change event older than AGE: a number with\n"
            "                      ms, s, m, h or d (100ms..3650d), or none\n"
            "                      [ROSTER_CHANGES_KEEP_AGE, default 7d]\n"
            "  --changes-listen URL\n"
            "                      pub0 address announcing each committed group of\n"
            "                      change events (seqs only; events are read with\n"
            "                      ListChanges and a key), or off\n"
            "                      [ROSTER_CHANGES_LISTEN, default beside an ipc://\n"
            "                      --listen (users.ipc -> users-changes.ipc), else\n"
            "                      ipc://<data dir>/users-changes.ipc]\n"
            "  --custom-index PATH:TYPE\n"
            "                      index the customData value at dot path PATH, of\n"
            "                      TYPE string, integer, number, boolean or date, so\n"
            "                      users can be filtered and ordered by it; repeat for\n"
            "                      more paths (at most 32). A declared index the store\n"
            "                      lacks is built over the existing users in the\n"
            "                      background while the service answers (queries on\n"
            "                      its path read the records until it is ready;\n"
            "                      event=custom_index_build, then custom_index_ready);\n"
            "                      one the store has but is no longer declared, or\n"
            "                      declared with another type, is dropped at start\n"
            "                      (on a PostgreSQL --store the database's set becomes\n"
            "                      this one: start every roster-users on it with the\n"
            "                      same declarations)\n"
            "                      [ROSTER_CUSTOM_INDEX, declarations separated by\n"
            "                      commas; the options replace it when given]\n"
            "  --global-order FIELD\n"
            "                      keep an index of every tenant's users in the order\n"
            "                      of sortable field FIELD (firstName, lastName, email,\n"
            "                      phone, locale, timezone, active, updatedAt), so\n"
            "                      pages over all tenants ordered by it cost what one\n"
            "                      tenant's do instead of a merge of every tenant's\n"
            "                      range; one more index entry per user each. Built,\n"
            "                      kept and dropped like --custom-index (ignored on a\n"
            "                      PostgreSQL --store, whose orders are global\n"
            "                      already); repeat for more fields\n"
            "                      [ROSTER_GLOBAL_ORDER, fields separated by commas;\n"
            "                      the options replace it when given]\n"
            "  --merge-warn-tenants N\n"
            "                      log a warning (event=order_merge, at most once per\n"
            "                      10 minutes per field) when a page of users over\n"
            "                      every tenant, ordered by a field that has no\n"
            "                      --global-order, merged N or more tenants' ranges;\n"
            "                      it names the --global-order to declare. 0 = never\n"
            "                      [ROSTER_MERGE_WARN_TENANTS, default 1000]\n"
            "  --log-level LEVEL   debug, info, warn or error; debug logs every request\n"
            "                      [ROSTER_LOG_LEVEL, default info]\n"
            "  --help              print this text and exit\n"
            "\n"
            "Requests larger than %u bytes (4 MiB) are refused by the transport: the\n"
            "connection that sent one is closed without a reply, and the service keeps\n"
            "serving everyone else. Writes are applied by one writer; concurrent writes\n"
            "are committed together in one durable LMDB transaction and each is answered\n"
            "with its own result once that commit is on disk.\n"
            "\n"
            "The listener check works around nng 1.5.2 (upstream issue #1518), whose\n"
            "listener stops accepting for good once a peer disconnects during the\n"
            "handshake. Re-creating the listener closes the connections it had\n"
            "accepted (after up to 500 ms for calls in flight to be answered): clients\n"
            "redial and resend their unanswered requests. Each restore is logged as\n"
            "event=listener_restored.\n"
            "\n"
            "Every call's API key (the call context's credential) is checked against\n"
            "the store on every call, so a revoked key is refused from the next call.\n"
            "A key's role (reader < writer < admin) must reach the method's level, and\n"
            "writer and reader keys see only their own tenant. Key changes, deletes\n"
            "and every refused credential are logged (event=key_created, key_rotated,\n"
            "key_revoked, user_deleted, tenant_deleted, auth_failed); secrets and\n"
            "the data of deleted records never are.\n"
            "\n"
            "Logs go to stderr as logfmt lines. SIGTERM, SIGINT or SIGQUIT stops\n"
            "accepting requests, answers those in flight, closes the store and exits 0.\n"
            "SIGHUP does not stop the service: it logs event=signal_ignored.\n"
            "Exit status: 0 after a clean stop, 2 for bad options, 1 when the store\n"
            "or the address cannot be opened.\n",
            ROSTER_MAX_RPC_MESSAGE);
}

static int parse_uint(unsigned *out, const char *text, unsigned lo, unsigned hi, const char *field,
                      roster_err_detail *d)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || end == text || *end != '\0' || text[0] == '-' || v < lo || v > hi)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                           "%s must be a whole number from %u to %u, not \"%.40s\"", field, lo, hi,
                           text);
    *out = (unsigned)v;
    return ROSTER_E_OK;
}

/* A size in bytes: digits with an optional K, M, G or T suffix (powers of
 * 1024), from 1M to 64T. */
static int parse_size(uint64_t *out, const char *text, roster_err_detail *d)
{
    const uint64_t lo = (uint64_t)1 << 20, hi = (uint64_t)64 << 40;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    unsigned shift = 0;
    switch (*end) {
    case 'k':
    case 'K':
        shift = 10;
        break;
    case 'm':
    case 'M':
        shift = 20;
        break;
    case 'g':
    case 'G':
        shift = 30;
        break;
    case 't':
    case 'T':
        shift = 40;
        break;
    default:
        break;
    }
    if (shift > 0)
        end++;
    if (errno || end == text || *end != '\0' || text[0] < '0' || text[0] > '9' ||
        v > (hi >> shift) || (v << shift) < lo)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, ROSTER_MAP_FULL_FIELD,
                           "map-size must be a size from 1M to 64T (bytes, or with a K, M, G or T "
                           "suffix), not \"%.40s\"",
                           text);
    *out = (uint64_t)v << shift;
    return ROSTER_E_OK;
}

/* An octal file mode for the ipc socket: 0..0777 with owner read and write
 * (the service's own listener check connects as the owner). */
static int parse_mode(int *out, const char *text, roster_err_detail *d)
{
    size_t n = strlen(text);
    unsigned long v = 0;
    bool ok = n >= 1 && n <= 4;
    for (size_t i = 0; ok && i < n; i++) {
        ok = text[i] >= '0' && text[i] <= '7';
        v = v * 8 + (unsigned long)(text[i] - '0');
    }
    if (!ok || v > 0777)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "ipc-mode",
                           "ipc-mode must be an octal mode from 0600 to 0777, not \"%.40s\"", text);
    if ((v & 0600) != 0600)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "ipc-mode",
                           "ipc-mode %s must give the owner read and write (0600)", text);
    *out = (int)v;
    return ROSTER_E_OK;
}

/* A count of events, or "none" (STORE_CHANGES_UNLIMITED). */
static int parse_events(uint64_t *out, const char *text, roster_err_detail *d)
{
    if (strcmp(text, "none") == 0) {
        *out = STORE_CHANGES_UNLIMITED;
        return ROSTER_E_OK;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end != '\0' || text[0] < '0' || text[0] > '9' || v < 1 ||
        v > 1000000000000ULL)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "changes-keep-events",
                           "changes-keep-events must be a whole number from 1 to 1000000000000 "
                           "or none, not \"%.40s\"",
                           text);
    *out = v;
    return ROSTER_E_OK;
}

/* An age: digits and ms, s, m, h or d (100ms..3650d), or "none". */
static int parse_age(uint64_t *out, const char *text, roster_err_detail *d)
{
    if (strcmp(text, "none") == 0) {
        *out = STORE_CHANGES_UNLIMITED;
        return ROSTER_E_OK;
    }
    static const struct {
        const char *suffix;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    uint64_t ms = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(end, units[i].suffix) == 0 && v <= UINT64_MAX / units[i].ms)
            ms = v * units[i].ms;
    if (errno || end == text || text[0] < '0' || text[0] > '9' || ms < 100 ||
        ms > (uint64_t)3650 * 86400000)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "changes-keep-age",
                           "changes-keep-age must be a number with ms, s, m, h or d from 100ms "
                           "to 3650d, or none, not \"%.40s\"",
                           text);
    *out = ms;
    return ROSTER_E_OK;
}

static bool truthy(const char *v)
{
    return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0);
}

static int set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = v ? strdup(v) : NULL;
    return (v && *dst == NULL) ? ROSTER_E_NOMEM : ROSTER_E_OK;
}

/* mkdir -p */
static int make_dirs(const char *path, roster_err_detail *d)
{
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "data", "data directory path too long");
    strcpy(buf, path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0700) != 0 && errno != EEXIST)
                return roster_fail(d, ROSTER_E_IO, "data", "cannot create %s: %s", buf,
                                   strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return roster_fail(d, ROSTER_E_IO, "data", "%s is not a directory", path);
    return ROSTER_E_OK;
}

/* Frees a list of declarations (customData indexes or global orders). */
static void free_decls(char ***v, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free((*v)[i]);
    free(*v);
    *v = NULL;
    *n = 0;
}

static void free_custom(users_config *c)
{
    free_decls(&c->custom_index, &c->n_custom_index);
    free_decls(&c->global_order, &c->n_global_order);
}

/* Appends the declaration text[0..n) to *v (*n of them) after checking
 * it: a customData index "path:type", or (order) a global order's field. */
static int add_decl(char ***v, size_t *n_v, bool order, const char *text, size_t n,
                    roster_err_detail *d)
{
    char *spec = strndup(text, n);
    if (spec == NULL)
        return ROSTER_E_NOMEM;
    char path[STORE_CUSTOM_PATH_MAX + 1];
    store_custom_type type;
    int err = order ? store_global_order_parse(path, spec, d)
                    : store_custom_index_parse(path, &type, spec, d);
    if (err == ROSTER_E_OK && *n_v == STORE_MAX_CUSTOM_INDEXES)
        err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, order ? "global-order" : "custom-index",
                          "at most %d %s declarations are allowed", STORE_MAX_CUSTOM_INDEXES,
                          order ? "global-order" : "custom-index");
    char **x = err == ROSTER_E_OK ? realloc(*v, (*n_v + 1) * sizeof **v) : NULL;
    if (err == ROSTER_E_OK && x == NULL)
        err = ROSTER_E_NOMEM;
    if (err != ROSTER_E_OK) {
        free(spec);
        return err;
    }
    *v = x;
    (*v)[(*n_v)++] = spec;
    return ROSTER_E_OK;
}

/* Appends the comma-separated declarations of `list` (an environment
 * variable's value) to *v. */
static int add_decl_list(char ***v, size_t *n_v, bool order, const char *list, roster_err_detail *d)
{
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        int err;
        if (n && (err = add_decl(v, n_v, order, p, n, d)) != ROSTER_E_OK)
            return err;
        p = comma ? comma + 1 : p + n;
    }
    return ROSTER_E_OK;
}

int users_config_parse(users_config *out, int argc, char **argv, roster_err_detail *detail)
{
    enum {
        O_DATA = 1,
        O_LISTEN,
        O_CERT,
        O_KEY,
        O_WORKERS,
        O_LISTS,
        O_GROUP,
        O_NOGROUP,
        O_LOG,
        O_IPCMODE,
        O_CHECK,
        O_KEYLESS,
        O_INITKEY,
        O_MAPSIZE,
        O_NOFEED,
        O_KEEPEVENTS,
        O_KEEPAGE,
        O_CHLISTEN,
        O_CUSTOM,
        O_ORDER,
        O_MERGEWARN,
        O_STORE,
        O_STOREPOOL,
        O_HELP
    };
    static const struct option longopts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"listen", required_argument, NULL, O_LISTEN},
        {"tls-cert", required_argument, NULL, O_CERT},
        {"tls-key", required_argument, NULL, O_KEY},
        {"workers", required_argument, NULL, O_WORKERS},
        {"list-threads", required_argument, NULL, O_LISTS},
        {"max-group", required_argument, NULL, O_GROUP},
        {"no-group-commit", no_argument, NULL, O_NOGROUP},
        {"log-level", required_argument, NULL, O_LOG},
        {"ipc-mode", required_argument, NULL, O_IPCMODE},
        {"listener-check-ms", required_argument, NULL, O_CHECK},
        {"allow-keyless-ipc", no_argument, NULL, O_KEYLESS},
        {"init-admin-key", required_argument, NULL, O_INITKEY},
        {"map-size", required_argument, NULL, O_MAPSIZE},
        {"no-change-feed", no_argument, NULL, O_NOFEED},
        {"changes-keep-events", required_argument, NULL, O_KEEPEVENTS},
        {"changes-keep-age", required_argument, NULL, O_KEEPAGE},
        {"changes-listen", required_argument, NULL, O_CHLISTEN},
        {"custom-index", required_argument, NULL, O_CUSTOM},
        {"global-order", required_argument, NULL, O_ORDER},
        {"merge-warn-tenants", required_argument, NULL, O_MERGEWARN},
        {"store", required_argument, NULL, O_STORE},
        {"store-pool", required_argument, NULL, O_STOREPOOL},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    users_config c = {0};
    int err = ROSTER_E_OK;
    const char *data = getenv("ROSTER_DATA");
    const char *store_url = getenv("ROSTER_STORE");
    const char *store_pool = getenv("ROSTER_STORE_POOL");
    const char *listen = getenv("ROSTER_LISTEN");
    const char *cert = getenv("ROSTER_TLS_CERT");
    const char *key = getenv("ROSTER_TLS_KEY");
    const char *workers = getenv("ROSTER_WORKERS");
    const char *group = getenv("ROSTER_MAX_GROUP");
    const char *lists = getenv("ROSTER_LIST_THREADS");
    const char *level = getenv("ROSTER_LOG_LEVEL");
    const char *nogroup = getenv("ROSTER_NO_GROUP_COMMIT");
    const char *ipcmode = getenv("ROSTER_IPC_MODE");
    const char *check = getenv("ROSTER_LISTENER_CHECK_MS");
    const char *keyless = getenv("ROSTER_ALLOW_KEYLESS_IPC");
    const char *initkey = getenv("ROSTER_INIT_ADMIN_KEY");
    const char *mapsize = getenv("ROSTER_MAP_SIZE");
    const char *nofeed = getenv("ROSTER_NO_CHANGE_FEED");
    const char *keepevents = getenv("ROSTER_CHANGES_KEEP_EVENTS");
    const char *keepage = getenv("ROSTER_CHANGES_KEEP_AGE");
    const char *chlisten = getenv("ROSTER_CHANGES_LISTEN");
    const char *mergewarn = getenv("ROSTER_MERGE_WARN_TENANTS");
    c.changes_off = truthy(nofeed);
    if (nofeed != NULL && nofeed[0] && !truthy(nofeed) && strcmp(nofeed, "0") != 0 &&
        strcmp(nofeed, "false") != 0 && strcmp(nofeed, "no") != 0) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "ROSTER_NO_CHANGE_FEED",
                          "ROSTER_NO_CHANGE_FEED must be 1/true/yes or 0/false/no");
        goto fail;
    }
    const char *custom_env = getenv("ROSTER_CUSTOM_INDEX");
    const char *order_env = getenv("ROSTER_GLOBAL_ORDER");
    bool custom_opt = false, order_opt = false;
    c.allow_keyless_ipc = truthy(keyless);
    if (keyless != NULL && keyless[0] && !truthy(keyless) && strcmp(keyless, "0") != 0 &&
        strcmp(keyless, "false") != 0 && strcmp(keyless, "no") != 0) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "ROSTER_ALLOW_KEYLESS_IPC",
                          "ROSTER_ALLOW_KEYLESS_IPC must be 1/true/yes or 0/false/no");
        goto fail;
    }
    c.group_commit = !truthy(nogroup);
    if (nogroup != NULL && nogroup[0] && !truthy(nogroup) && strcmp(nogroup, "0") != 0 &&
        strcmp(nogroup, "false") != 0 && strcmp(nogroup, "no") != 0) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "ROSTER_NO_GROUP_COMMIT",
                          "ROSTER_NO_GROUP_COMMIT must be 1/true/yes or 0/false/no");
        goto fail;
    }

    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (ch) {
        case O_DATA:
            data = optarg;
            break;
        case O_STORE:
            store_url = optarg;
            break;
        case O_STOREPOOL:
            store_pool = optarg;
            break;
        case O_LISTEN:
            listen = optarg;
            break;
        case O_CERT:
            cert = optarg;
            break;
        case O_KEY:
            key = optarg;
            break;
        case O_WORKERS:
            workers = optarg;
            break;
        case O_GROUP:
            group = optarg;
            break;
        case O_LISTS:
            lists = optarg;
            break;
        case O_NOGROUP:
            c.group_commit = false;
            break;
        case O_LOG:
            level = optarg;
            break;
        case O_IPCMODE:
            ipcmode = optarg;
            break;
        case O_CHECK:
            check = optarg;
            break;
        case O_KEYLESS:
            c.allow_keyless_ipc = true;
            break;
        case O_INITKEY:
            initkey = optarg;
            break;
        case O_MAPSIZE:
            mapsize = optarg;
            break;
        case O_NOFEED:
            c.changes_off = true;
            break;
        case O_KEEPEVENTS:
            keepevents = optarg;
            break;
        case O_KEEPAGE:
            keepage = optarg;
            break;
        case O_CHLISTEN:
            chlisten = optarg;
            break;
        case O_CUSTOM:
            custom_opt = true;
            if ((err = add_decl(&c.custom_index, &c.n_custom_index, false, optarg, strlen(optarg),
                                detail)))
                goto fail;
            break;
        case O_ORDER:
            order_opt = true;
            if ((err = add_decl(&c.global_order, &c.n_global_order, true, optarg, strlen(optarg),
                                detail)))
                goto fail;
            break;
        case O_MERGEWARN:
            mergewarn = optarg;
            break;
        case O_HELP:
            c.help = true;
            break;
        case ':':
            err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, argv[optind - 1],
                              "option %s needs a value", argv[optind - 1]);
            goto fail;
        default:
            err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, argv[optind - 1],
                              "unknown option %s (see --help)", argv[optind - 1]);
            goto fail;
        }
    }
    if (optind < argc) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, argv[optind],
                          "unexpected argument %s (see --help)", argv[optind]);
        goto fail;
    }
    if (c.help) {
        *out = c;
        return ROSTER_E_OK;
    }
    c.workers = 64;
    c.max_group = 512;
    c.list_threads = 2;
    c.log_level = ROSTER_LOG_INFO;
    c.listener_check_ms = 1000;
    c.ipc_mode = 0600;
    if (check &&
        (err = parse_uint(&c.listener_check_ms, check, 0, 3600000, "listener-check-ms", detail)))
        goto fail;
    if (c.listener_check_ms > 0 && c.listener_check_ms < 50) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "listener-check-ms",
                          "listener-check-ms must be 0 (off) or from 50 to 3600000, not %u",
                          c.listener_check_ms);
        goto fail;
    }
    c.merge_warn_tenants = USERS_MERGE_WARN_TENANTS;
    if (mergewarn && (err = parse_uint(&c.merge_warn_tenants, mergewarn, 0, 100000000,
                                       "merge-warn-tenants", detail)))
        goto fail;
    if (mapsize && (err = parse_size(&c.map_size, mapsize, detail)))
        goto fail;
    c.changes_keep_events = STORE_CHANGES_DEFAULT_EVENTS;
    c.changes_keep_ms = STORE_CHANGES_DEFAULT_MS;
    if (keepevents && (err = parse_events(&c.changes_keep_events, keepevents, detail)))
        goto fail;
    if (keepage && (err = parse_age(&c.changes_keep_ms, keepage, detail)))
        goto fail;
    /* The options replace the variables when given. */
    if (!custom_opt &&
        (err = add_decl_list(&c.custom_index, &c.n_custom_index, false, custom_env, detail)))
        goto fail;
    if (!order_opt &&
        (err = add_decl_list(&c.global_order, &c.n_global_order, true, order_env, detail)))
        goto fail;
    if (ipcmode && (err = parse_mode(&c.ipc_mode, ipcmode, detail)))
        goto fail;
    if (workers && (err = parse_uint(&c.workers, workers, 1, 4096, "workers", detail)))
        goto fail;
    c.store_pool = 8;
    if (store_pool && (err = parse_uint(&c.store_pool, store_pool, 1, 256, "store-pool", detail)))
        goto fail;
    if (store_url != NULL && store_url[0] != '\0')
        c.list_threads = c.store_pool < 64 ? c.store_pool : 64;
    if (lists && (err = parse_uint(&c.list_threads, lists, 1, 64, "list-threads", detail)))
        goto fail;
    if (group && (err = parse_uint(&c.max_group, group, 1, 4096, "max-group", detail)))
        goto fail;
    if (level && roster_log_level_parse(&c.log_level, level) != ROSTER_E_OK) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "log-level",
                          "log level must be debug, info, warn or error, not \"%.40s\"", level);
        goto fail;
    }
    if ((cert == NULL) != (key == NULL)) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, cert ? "tls-key" : "tls-cert",
                          "--tls-cert and --tls-key go together");
        goto fail;
    }
    if (store_url != NULL && store_url[0] != '\0') {
        if (!store_is_postgres(store_url)) {
            err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "store",
                              "--store takes a postgres:// or postgresql:// URL");
            goto fail;
        }
        if ((err = set_str(&c.store_url, store_url)))
            goto fail;
    }
    if (data == NULL || data[0] == '\0')
        data = "./data";
    if ((err = make_dirs(data, detail)))
        goto fail;
    char abs[PATH_MAX];
    if (realpath(data, abs) == NULL) {
        err = roster_fail(detail, ROSTER_E_IO, "data", "cannot resolve %s: %s", data,
                          strerror(errno));
        goto fail;
    }
    if ((err = set_str(&c.data_dir, abs)))
        goto fail;
    if (listen == NULL || listen[0] == '\0') {
        size_t n = strlen(abs) + sizeof "ipc:///users.ipc";
        c.listen = malloc(n);
        if (c.listen == NULL) {
            err = ROSTER_E_NOMEM;
            goto fail;
        }
        snprintf(c.listen, n, "ipc://%s/users.ipc", abs);
    } else if ((err = set_str(&c.listen, listen))) {
        goto fail;
    }
    if (strncmp(c.listen, "ipc://", 6) != 0 && strncmp(c.listen, "tcp://", 6) != 0 &&
        strncmp(c.listen, "tls+tcp://", 10) != 0) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "listen",
                          "listen URL must start with ipc://, tcp:// or tls+tcp://, not "
                          "\"%.60s\"",
                          c.listen);
        goto fail;
    }
    if (strncmp(c.listen, "tls+tcp://", 10) == 0 && cert == NULL) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "tls-cert",
                          "tls+tcp:// needs --tls-cert and --tls-key");
        goto fail;
    }
    if ((err = set_str(&c.tls_cert, cert)) || (err = set_str(&c.tls_key, key)))
        goto fail;
    if (chlisten != NULL && chlisten[0] != '\0' && strcmp(chlisten, "off") != 0) {
        if (strncmp(chlisten, "ipc://", 6) != 0 && strncmp(chlisten, "tcp://", 6) != 0 &&
            strncmp(chlisten, "tls+tcp://", 10) != 0) {
            err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "changes-listen",
                              "changes-listen must start with ipc://, tcp:// or tls+tcp://, or "
                              "be off, not \"%.60s\"",
                              chlisten);
            goto fail;
        }
        if (strncmp(chlisten, "tls+tcp://", 10) == 0 && cert == NULL) {
            err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "tls-cert",
                              "a tls+tcp:// changes-listen needs --tls-cert and --tls-key");
            goto fail;
        }
        if ((err = set_str(&c.changes_listen, chlisten)))
            goto fail;
    } else if (chlisten == NULL || chlisten[0] == '\0') {
        char url[PATH_MAX + 32];
        if ((err = users_feed_default_url(url, sizeof url, c.listen, c.data_dir, detail)) ||
            (err = set_str(&c.changes_listen, url)))
            goto fail;
    }
    if (c.changes_off) {
        free(c.changes_listen);
        c.changes_listen = NULL;
    }
    if (initkey != NULL && initkey[0] != '\0' && (err = set_str(&c.init_admin_key, initkey)))
        goto fail;
    *out = c;
    return ROSTER_E_OK;
fail:
    users_config_free(&c);
    return err;
}

void users_config_free(users_config *c)
{
    if (c == NULL)
        return;
    free(c->data_dir);
    free(c->store_url);
    free(c->listen);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->init_admin_key);
    free(c->changes_listen);
    c->changes_listen = NULL;
    free_custom(c);
    c->store_url = NULL;
    c->data_dir = c->listen = c->tls_cert = c->tls_key = c->init_admin_key = NULL;
}
