/* Schema versions and migrations of the PostgreSQL store (pg_schema.h). */
#include "pg_schema.h"

#include "fields.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The advisory lock every migration holds ("Roster" in ASCII). */
#define MIGRATE_LOCK "82269603566450"

static char sort_columns[SORT__COUNT][FIELDS_NAME_MAX + 2];
static char uniq_columns[UNIQ__COUNT][FIELDS_NAME_MAX + 2];
static pthread_once_t columns_once = PTHREAD_ONCE_INIT;

/* "idx_first_name" -> "s_first_name", "uniq_email" -> "u_email". */
static void make_columns(void)
{
    const store_fields *sf = store_fields_get();
    for (int i = 0; i < SORT__COUNT; i++) {
        const char *db = sf->sort_db[i];
        const char *us = strchr(db, '_');
        snprintf(sort_columns[i], sizeof sort_columns[i], "s_%s", us ? us + 1 : db);
    }
    for (int i = 0; i < UNIQ__COUNT; i++) {
        const char *db = sf->uniq_db[i];
        const char *us = strchr(db, '_');
        snprintf(uniq_columns[i], sizeof uniq_columns[i], "u_%s", us ? us + 1 : db);
    }
}

const char *pg_sort_column(int sort)
{
    pthread_once(&columns_once, make_columns);
    return sort_columns[sort];
}

const char *pg_uniq_column(int uniq)
{
    pthread_once(&columns_once, make_columns);
    return uniq_columns[uniq];
}

/* A growing SQL text. */
typedef struct sqlbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sqlbuf;

static void sql_add(sqlbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sql_add(sqlbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->oom = true;
            return;
        }
        if (b->p && b->n + (size_t)w < b->cap) {
            b->n += (size_t)w;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)w;
        char *np = realloc(b->p, cap);
        if (np == NULL) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

/* Version 1: meta, tenants, users with their unique and sort indexes,
 * user counters, API keys. */
static void migration_1(sqlbuf *b)
{
    sql_add(b, "CREATE TABLE roster_meta (key text PRIMARY KEY, value bytea NOT NULL);"
               "CREATE TABLE roster_tenants ("
               " id uuid PRIMARY KEY,"
               " name_key bytea NOT NULL,"
               " is_default boolean NOT NULL DEFAULT false,"
               " record bytea NOT NULL);"
               "CREATE UNIQUE INDEX roster_tenants_name ON roster_tenants (name_key, id);"
               "CREATE UNIQUE INDEX roster_tenants_default ON roster_tenants (is_default)"
               " WHERE is_default;"
               "CREATE TABLE roster_users ("
               " id uuid PRIMARY KEY,"
               " tenant_id uuid REFERENCES roster_tenants (id),"
               " scope uuid NOT NULL,"
               " flags smallint NOT NULL,");
    for (int i = 0; i < UNIQ__COUNT; i++)
        sql_add(b, " %s bytea NOT NULL,", pg_uniq_column(i));
    for (int i = 0; i < SORT__COUNT; i++)
        sql_add(b, " %s bytea NOT NULL,", pg_sort_column(i));
    sql_add(b, " record bytea NOT NULL);");
    /* Unique indexes in model order: PostgreSQL checks a row's indexes in
     * the order they were made, so a row breaking both is refused for
     * the first, as the LMDB store checks them. */
    for (int i = 0; i < UNIQ__COUNT; i++)
        sql_add(b, "CREATE UNIQUE INDEX roster_users_%s ON roster_users (scope, %s);",
                pg_uniq_column(i), pg_uniq_column(i));
    sql_add(b, "CREATE INDEX roster_users_scope ON roster_users (scope, id);"
               "CREATE INDEX roster_users_tenant ON roster_users (tenant_id);");
    for (int i = 0; i < SORT__COUNT; i++) {
        const char *c = pg_sort_column(i);
        sql_add(b,
                "CREATE INDEX roster_users_%s ON roster_users (scope, %s, id);"
                "CREATE INDEX roster_users_%s_all ON roster_users (%s, id);",
                c, c, c, c);
    }
    sql_add(b, "CREATE TABLE roster_counts ("
               " scope uuid PRIMARY KEY,"
               " users bigint NOT NULL,"
               " active bigint NOT NULL);"
               "CREATE TABLE roster_keys ("
               " id uuid PRIMARY KEY,"
               " tenant_id uuid,"
               " record bytea NOT NULL);");
}

/* Version 2: the change feed. A store migrated from version 1 starts its
 * feed empty at seq 0, as an LMDB store made before the feed does. */
static void migration_2(sqlbuf *b)
{
    sql_add(b, "CREATE TABLE roster_changes ("
               " seq bigint PRIMARY KEY,"
               " user_id uuid,"
               " tenant_id uuid,"
               " prev_tenant_id uuid,"
               " at_ms bigint NOT NULL,"
               " record bytea NOT NULL);"
               "CREATE INDEX roster_changes_user ON roster_changes (user_id)"
               " WHERE user_id IS NOT NULL;"
               "CREATE INDEX roster_changes_tenant ON roster_changes (tenant_id, seq);"
               "CREATE INDEX roster_changes_prev ON roster_changes (prev_tenant_id, seq)"
               " WHERE prev_tenant_id IS NOT NULL;"
               "CREATE TABLE roster_feed (one boolean PRIMARY KEY DEFAULT true CHECK (one),"
               " latest bigint NOT NULL,"
               " floor bigint NOT NULL,"
               " CHECK (0 <= floor AND floor <= latest));"
               "INSERT INTO roster_feed (latest, floor) VALUES (0, 0);");
}

/* Version 3: the unique indexes lead with the value, then the scope, as
 * the LMDB store's do (value, scope), so a value is found in every tenant
 * at once (a reference or email equalTo over all users) and not by a scan.
 * Made again in model order, under the same names (their names are what
 * a uniqueness failure reports, and the first one made is the one a row
 * breaking both is refused for). */
static void migration_3(sqlbuf *b)
{
    for (int i = 0; i < UNIQ__COUNT; i++)
        sql_add(b, "DROP INDEX roster_users_%s;", pg_uniq_column(i));
    for (int i = 0; i < UNIQ__COUNT; i++)
        sql_add(b, "CREATE UNIQUE INDEX roster_users_%s ON roster_users (%s, scope);",
                pg_uniq_column(i), pg_uniq_column(i));
}

/* Version 4: customData indexes (pg_custom.c). roster_custom_decl holds
 * the declared set ("path:type", ready once built, dropping while its
 * entries are deleted after it was undeclared); roster_custom one
 * entry per user and declared path where the user's customData holds a
 * value of the path's type, as the encoded bytes the LMDB index keys hold
 * (custom_index.h), with the user's scope and flags (roster_users.flags,
 * as the LMDB entries' flags byte), indexed over all users and per scope
 * with the flags included, so a count of matches reads only the index;
 * roster_custom_counts the entries and active entries per declaration and
 * scope, kept by the writers and exact once the declaration is ready (an
 * order by the path alone takes its total there). roster_feed.custom_gen
 * changes whenever the declared set does (under that row's lock), so writers learn the set to keep
 * from the row they lock anyway. */
static void migration_4(sqlbuf *b)
{
    sql_add(b, "CREATE TABLE roster_custom_decl ("
               " decl text PRIMARY KEY,"
               " ready boolean NOT NULL DEFAULT false,"
               " dropping boolean NOT NULL DEFAULT false);"
               "CREATE TABLE roster_custom ("
               " decl text NOT NULL REFERENCES roster_custom_decl (decl) ON DELETE CASCADE,"
               " user_id uuid NOT NULL REFERENCES roster_users (id) ON DELETE CASCADE,"
               " cscope uuid NOT NULL,"
               " flags smallint NOT NULL,"
               " value bytea NOT NULL,"
               " PRIMARY KEY (decl, user_id));"
               "CREATE INDEX roster_custom_value ON roster_custom (decl, value, user_id)"
               " INCLUDE (flags);"
               "CREATE INDEX roster_custom_scope ON roster_custom (decl, cscope, value, user_id)"
               " INCLUDE (flags);"
               "CREATE INDEX roster_custom_user ON roster_custom (user_id);"
               "CREATE TABLE roster_custom_counts ("
               " decl text NOT NULL REFERENCES roster_custom_decl (decl) ON DELETE CASCADE,"
               " cscope uuid NOT NULL,"
               " entries bigint NOT NULL,"
               " active bigint NOT NULL,"
               " PRIMARY KEY (decl, cscope));"
               "ALTER TABLE roster_feed ADD COLUMN custom_gen bigint NOT NULL DEFAULT 0;");
}

typedef void (*migration_fn)(sqlbuf *b);
static const migration_fn migrations[PG_SCHEMA_VERSION] = {migration_1, migration_2, migration_3,
                                                           migration_4};

/* The version recorded in the database, 0 when it has no roster_schema. */
static int read_version(pg_conn *c, uint32_t *out, roster_err_detail *detail)
{
    PGresult *res = PQexec(c->c, "SELECT to_regclass('roster_schema') IS NOT NULL");
    int err = pg_conn_err(c, res, detail);
    bool exists = err == ROSTER_E_OK && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (err != ROSTER_E_OK)
        return err;
    if (!exists) {
        *out = 0;
        return ROSTER_E_OK;
    }
    res = PQexec(c->c, "SELECT version FROM roster_schema");
    if ((err = pg_conn_err(c, res, detail)) == ROSTER_E_OK) {
        if (PQntuples(res) != 1)
            err = roster_fail(detail, ROSTER_E_CORRUPT, "store",
                              "roster_schema holds %d rows, not one", PQntuples(res));
        else
            *out = (uint32_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
    }
    PQclear(res);
    return err;
}

static int migrate_locked(pg_conn *c, bool read_only, uint32_t *from, roster_err_detail *detail)
{
    uint32_t v = 0; /* read_version sets it on success; a Release build cannot tell */
    int err = read_version(c, &v, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (from)
        *from = v;
    if (v > PG_SCHEMA_VERSION)
        return roster_fail(detail, ROSTER_E_VERSION, "store",
                           "the database's Roster schema is version %u, newer than this build's "
                           "(%d): run a newer roster-users",
                           v, PG_SCHEMA_VERSION);
    if (read_only) {
        if (v == 0)
            return roster_fail(detail, ROSTER_E_NOT_FOUND, "store",
                               "the database holds no Roster store");
        if (v != PG_SCHEMA_VERSION)
            return roster_fail(detail, ROSTER_E_VERSION, "store",
                               "the database's Roster schema is version %u; this build reads "
                               "version %d (start roster-users on it to migrate it)",
                               v, PG_SCHEMA_VERSION);
        return ROSTER_E_OK;
    }
    if (v == PG_SCHEMA_VERSION)
        return ROSTER_E_OK;
    sqlbuf b = {0};
    if (v == 0)
        sql_add(&b, "CREATE TABLE roster_schema (one boolean PRIMARY KEY DEFAULT true CHECK (one),"
                    " version integer NOT NULL);"
                    "INSERT INTO roster_schema (version) VALUES (0);");
    for (uint32_t m = v; m < PG_SCHEMA_VERSION; m++)
        migrations[m](&b);
    sql_add(&b, "UPDATE roster_schema SET version = %d;", PG_SCHEMA_VERSION);
    if (b.oom) {
        free(b.p);
        return ROSTER_E_NOMEM;
    }
    err = pg_exec(c, b.p, detail);
    free(b.p);
    return err;
}

int pg_schema_migrate(pg_conn *c, bool read_only, uint32_t *from, roster_err_detail *detail)
{
    int err = pg_exec(c, read_only ? "BEGIN READ ONLY" : "BEGIN", detail);
    if (err != ROSTER_E_OK)
        return err;
    /* A shared lock for readers: they wait for a migration under way. */
    err = pg_exec(c,
                  read_only ? "SELECT pg_advisory_xact_lock_shared(" MIGRATE_LOCK ")"
                            : "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")",
                  detail);
    if (err == ROSTER_E_OK)
        err = migrate_locked(c, read_only, from, detail);
    if (err == ROSTER_E_OK)
        return pg_exec(c, "COMMIT", detail);
    roster_err_detail ignored;
    if (!c->broken)
        pg_exec(c, "ROLLBACK", &ignored);
    return err;
}
