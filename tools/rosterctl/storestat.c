#include "storestat.h"

#include "datadir.h"
#include "output.h"
#include "store.h"

int ctl_cmd_store_stats(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    store *s = NULL;
    store_rtxn *r = NULL;
    store_stats st;
    json_t *o = NULL;
    int err = ctl_datadir_open(&s, ctl_store_location(a), true, &d);
    if (err != ROSTER_E_OK) {
        ctl_report_error(a->json, "stats", err, d.message, NULL);
        goto fail;
    }
    err = store_read_begin(s, &r);
    if (err == ROSTER_E_OK)
        err = store_stat(r, &st);
    if (err != ROSTER_E_OK) {
        ctl_report_error(a->json, "stats", err, NULL, NULL);
        goto fail;
    }
    json_t *dbs = json_array();
    for (size_t i = 0; i < st.n_dbs && i < STORE_MAX_DBS; i++) {
        const store_db_stat *db = &st.dbs[i];
        json_array_append_new(
            dbs, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "name", db->name, "entries",
                           (json_int_t)db->entries, "depth", (json_int_t)db->depth, "branchPages",
                           (json_int_t)db->branch_pages, "leafPages", (json_int_t)db->leaf_pages,
                           "overflowPages", (json_int_t)db->overflow_pages));
    }
    o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "schemaVersion",
                  (json_int_t)st.schema_version, "users", (json_int_t)st.users, "usersActive",
                  (json_int_t)st.users_active, "tenants", (json_int_t)st.tenants, "mapSizeBytes",
                  (json_int_t)st.map_size, "usedBytes", (json_int_t)st.used_bytes, "freeBytes",
                  (json_int_t)st.free_bytes, "pageSize", (json_int_t)st.page_size, "lastTxnId",
                  (json_int_t)st.last_txnid, "databases", dbs);
    if (o == NULL) {
        err = ROSTER_E_NOMEM;
        ctl_report_error(a->json, "stats", err, NULL, NULL);
        goto fail;
    }
    if (a->json) {
        ctl_print_json(stdout, o);
    } else {
        printf("data directory   %s\n", a->data);
        printf("schema version   %u\n", st.schema_version);
        printf("users            %llu (%llu active)\n", (unsigned long long)st.users,
               (unsigned long long)st.users_active);
        printf("tenants          %llu\n", (unsigned long long)st.tenants);
        printf("map size         %llu bytes\n", (unsigned long long)st.map_size);
        printf("used             %llu bytes (%.2f%% of the map, page size %u)\n",
               (unsigned long long)st.used_bytes,
               st.map_size ? 100.0 * (double)st.used_bytes / (double)st.map_size : 0.0,
               st.page_size);
        printf("free             %llu bytes of those (free pages: reused by later writes "
               "before the file grows, returned by compact)\n",
               (unsigned long long)st.free_bytes);
        printf("last txn id      %llu\n\n", (unsigned long long)st.last_txnid);
        static const char *const cols[] = {"name",      "entries",       "depth", "branchPages",
                                           "leafPages", "overflowPages", NULL};
        ctl_print_table(stdout, json_object_get(o, "databases"), cols);
    }
fail:
    json_decref(o);
    store_read_end(r);
    store_close(s);
    return ctl_exit_code(err);
}
