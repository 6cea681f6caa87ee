#include "compact.h"

#include "output.h"
#include "store.h"

/* compact and upgrade rewrite an LMDB data file; a PostgreSQL store has
 * neither (refused before anything is opened). */
static int refuse_postgres(const ctl_args *a, const char *cmd, const char *instead)
{
    ctl_report_error(a->json, cmd, ROSTER_E_FAILED_PRECONDITION, instead, NULL);
    return ctl_exit_code(ROSTER_E_FAILED_PRECONDITION);
}

int ctl_cmd_compact(const ctl_args *a)
{
    if (a->store)
        return refuse_postgres(a, "compact",
                               "compact rewrites an LMDB data directory; a PostgreSQL store "
                               "gives deleted rows' space back with VACUUM (FULL rewrites the "
                               "tables without their old bytes)");
    const char *dir = a->positional != NULL ? a->positional : a->data;
    roster_err_detail d = {{0}};
    store_compact_stats st = {0};
    int err = store_compact(dir, &st, &d);
    if (err != ROSTER_E_OK) {
        ctl_report_error(a->json, "compact", err, d.message[0] ? d.message : NULL, NULL);
        return ctl_exit_code(err);
    }
    if (a->json) {
        json_t *o = json_pack("{s:s, s:I, s:I, s:I}", "data", dir, "bytesBefore",
                              (json_int_t)st.bytes_before, "bytesAfter", (json_int_t)st.bytes_after,
                              "entries", (json_int_t)st.entries);
        ctl_print_json(stdout, o);
        json_decref(o);
    } else {
        printf("compacted %s/data.mdb: %llu bytes before, %llu after (%llu entries)\n", dir,
               (unsigned long long)st.bytes_before, (unsigned long long)st.bytes_after,
               (unsigned long long)st.entries);
    }
    return CTL_EXIT_OK;
}

int ctl_cmd_upgrade(const ctl_args *a)
{
    if (a->store)
        return refuse_postgres(a, "upgrade",
                               "upgrade rewrites an LMDB data directory; roster-users migrates a "
                               "PostgreSQL store's schema itself when it starts");
    const char *dir = a->positional != NULL ? a->positional : a->data;
    roster_err_detail d = {{0}};
    store_compact_stats st = {0};
    int err = store_upgrade(dir, &st, &d);
    if (err != ROSTER_E_OK) {
        ctl_report_error(a->json, "upgrade", err, d.message[0] ? d.message : NULL, NULL);
        return ctl_exit_code(err);
    }
    bool done = st.from_version != STORE_SCHEMA_VERSION;
    if (a->json) {
        json_t *o = json_pack("{s:s, s:i, s:i, s:b, s:I, s:I, s:I}", "data", dir, "fromVersion",
                              (int)st.from_version, "toVersion", STORE_SCHEMA_VERSION, "upgraded",
                              done, "bytesBefore", (json_int_t)st.bytes_before, "bytesAfter",
                              (json_int_t)st.bytes_after, "entries", (json_int_t)st.entries);
        ctl_print_json(stdout, o);
        json_decref(o);
    } else if (done) {
        printf("upgraded %s/data.mdb from schema version %u to %d: %llu bytes before, %llu "
               "after (%llu entries)\n",
               dir, st.from_version, STORE_SCHEMA_VERSION, (unsigned long long)st.bytes_before,
               (unsigned long long)st.bytes_after, (unsigned long long)st.entries);
    } else {
        printf("%s/data.mdb is at schema version %d already: nothing to do\n", dir,
               STORE_SCHEMA_VERSION);
    }
    return CTL_EXIT_OK;
}
