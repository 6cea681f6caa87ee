/* Shared helpers of the PostgreSQL store suites: a fresh database of its
 * own on the test cluster (scripts/pg-cluster.sh, started by the ctest
 * fixture `pg`, whose URL is in ROSTER_TEST_PG_URL), dropped at the end. */
#ifndef ROSTER_TEST_PG_FIXTURE_H
#define ROSTER_TEST_PG_FIXTURE_H

#include "pg_store.h"

#include <check.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char pgfx_db[64];
static char pgfx_url[512];

/* The cluster's URL; the test fails when the fixture did not set it. */
static inline const char *pgfx_base_url(void)
{
    const char *u = getenv("ROSTER_TEST_PG_URL");
    ck_assert_msg(u && *u, "ROSTER_TEST_PG_URL is not set (ctest fixture pg)");
    return u;
}

/* Runs sql on the cluster's `roster` database (administration: creating
 * and dropping test databases). */
static inline void pgfx_admin(const char *sql)
{
    PGconn *c = PQconnectdb(pgfx_base_url());
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
                  "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

/* Makes a fresh empty database; pgfx_url names it. */
static inline void pgfx_create_db(void)
{
    static unsigned seq;
    snprintf(pgfx_db, sizeof pgfx_db, "t_%d_%u", (int)getpid(), seq++);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", pgfx_db);
    pgfx_admin(sql);
    const char *base = pgfx_base_url();
    const char *slash = strrchr(base, '/');
    ck_assert_ptr_nonnull(slash);
    snprintf(pgfx_url, sizeof pgfx_url, "%.*s/%s", (int)(slash - base), base, pgfx_db);
}

static inline void pgfx_drop_db(void)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", pgfx_db);
    pgfx_admin(sql);
}

/* Runs sql on the test database (a connection of its own); returns the
 * first column of the first row as an int (0 when no row). */
static inline long pgfx_sql(const char *sql)
{
    PGconn *c = PQconnectdb(pgfx_url);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
                  "%s: %s", sql, PQresultErrorMessage(r));
    long v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0
                 ? strtol(PQgetvalue(r, 0, 0), NULL, 10)
                 : 0;
    PQclear(r);
    PQfinish(c);
    return v;
}

/* Ends every other session on the test database, as a server restart or
 * a broken network would; returns how many there were. */
static inline long pgfx_end_sessions(void)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
             "WHERE datname = '%s' AND pid <> pg_backend_pid()",
             pgfx_db);
    return pgfx_sql(sql);
}

#endif
