/* rosterctl migrate: an LMDB data directory copied into an empty
 * PostgreSQL store, then checked record by record. */
#include "migrate.h"

#include "datadir.h"
#include "output.h"
#include "progress.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

typedef enum { COPY_TENANT, COPY_USER, COPY_KEY } copy_kind;

/* One pass over the source's records of one kind into the target, in
 * write groups of `batch` records. */
typedef struct copier {
    store *to;
    copy_kind kind;
    size_t batch, in_group;
    store_wtxn *w;
    uint64_t done;
    ctl_progress *progress;
    roster_err_detail *d;
} copier;

static int flush(copier *c)
{
    if (c->w == NULL)
        return ROSTER_E_OK;
    int err = store_write_commit(c->w);
    c->w = NULL;
    c->in_group = 0;
    if (err != ROSTER_E_OK)
        roster_fail(c->d, err, "", "a write group into the PostgreSQL store failed: %s",
                    roster_strerror(err));
    return err;
}

static const char *kind_name(copy_kind k)
{
    return k == COPY_TENANT ? "tenant" : k == COPY_USER ? "user" : "key";
}

static int copy_one(void *ctx, const void *bytes, size_t len)
{
    copier *c = ctx;
    int err;
    if (c->w == NULL && (err = store_write_begin(c->to, &c->w)) != ROSTER_E_OK)
        return roster_fail(c->d, err, "", "cannot begin a write into the PostgreSQL store: %s",
                           roster_strerror(err));
    roster_err_detail od = {{0}};
    ProtobufCMessage *m = NULL;
    switch (c->kind) {
    case COPY_TENANT:
        m = (ProtobufCMessage *)roster__v1__tenant__unpack(NULL, len, bytes);
        err = m ? store_tenant_restore(c->w, (Roster__V1__Tenant *)m, &od) : ROSTER_E_CORRUPT;
        break;
    case COPY_USER:
        m = (ProtobufCMessage *)roster__v1__user__unpack(NULL, len, bytes);
        err = m ? store_user_restore(c->w, (Roster__V1__User *)m, &od) : ROSTER_E_CORRUPT;
        break;
    default:
        m = (ProtobufCMessage *)roster__v1__api_key__unpack(NULL, len, bytes);
        err = m ? store_key_restore(c->w, (Roster__V1__ApiKey *)m, &od) : ROSTER_E_CORRUPT;
        break;
    }
    if (err != ROSTER_E_OK) {
        roster_fail(c->d, err, od.field, "%s record %llu of the source was refused: %s",
                    kind_name(c->kind), (unsigned long long)c->done + 1,
                    od.message[0] ? od.message : roster_strerror(err));
    }
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
    if (err != ROSTER_E_OK)
        return err;
    c->done++;
    ctl_progress_step(c->progress, c->done, c->done);
    if (++c->in_group >= c->batch)
        return flush(c);
    return ROSTER_E_OK;
}

/* The copy's check: every source user is in the target with the same
 * bytes. */
typedef struct checker {
    store_rtxn *to;
    uint64_t users, differ;
    roster_err_detail *d;
} checker;

static int check_user(void *ctx, const void *bytes, size_t len)
{
    checker *c = ctx;
    Roster__V1__User *u = roster__v1__user__unpack(NULL, len, bytes);
    if (u == NULL)
        return roster_fail(c->d, ROSTER_E_CORRUPT, "", "a source user record does not decode");
    const void *got;
    size_t got_len;
    int err = store_user_get_raw(c->to, NULL, u->id, &got, &got_len);
    if (err == ROSTER_E_OK && (got_len != len || memcmp(got, bytes, len) != 0))
        c->differ++;
    else if (err == ROSTER_E_NOT_FOUND)
        c->differ++, err = ROSTER_E_OK;
    roster__v1__user__free_unpacked(u, NULL);
    c->users++;
    return err;
}

static int count_record(void *ctx, const void *bytes, size_t len)
{
    (void)bytes;
    (void)len;
    (*(uint64_t *)ctx)++;
    return ROSTER_E_OK;
}

int ctl_cmd_migrate(const ctl_args *a)
{
    const char *from = ctl_args_get(a, "from"), *to = ctl_args_get(a, "to");
    const char *batch_text = ctl_args_get(a, "batch");
    roster_err_detail d = {{0}};
    store *src = NULL, *dst = NULL;
    store_rtxn *r = NULL, *tr = NULL;
    int err = ROSTER_E_OK;
    size_t batch = 1000;
    if (from == NULL || to == NULL || store_is_postgres(from) || !store_is_postgres(to)) {
        ctl_report_error(a->json, "migrate", ROSTER_E_INVALID_ARGUMENT,
                         "migrate takes --from DIR (an LMDB data directory) and --to URL (a "
                         "postgres:// URL)",
                         NULL);
        return CTL_EXIT_USAGE;
    }
    if (batch_text) {
        char *end;
        unsigned long long n = strtoull(batch_text, &end, 10);
        if (*batch_text == '\0' || *batch_text == '-' || *end != '\0' || n == 0 || n > 100000) {
            ctl_report_error(a->json, "migrate", ROSTER_E_INVALID_ARGUMENT,
                             "--batch takes a number of records from 1 to 100000", NULL);
            return CTL_EXIT_USAGE;
        }
        batch = (size_t)n;
    }
    if ((err = ctl_datadir_open(&src, from, true, &d)) != ROSTER_E_OK ||
        (err = ctl_datadir_open(&dst, to, false, &d)) != ROSTER_E_OK)
        goto done;
    /* Only into an empty store: a copy merged into other data could not
     * be checked, and its uniqueness refusals would leave it half made. */
    store_stats st;
    uint64_t keys = 0;
    if ((err = store_read_begin(dst, &tr)) == ROSTER_E_OK &&
        (err = store_stat(tr, &st)) == ROSTER_E_OK)
        err = store_key_count(tr, &keys);
    store_read_end(tr);
    tr = NULL;
    if (err == ROSTER_E_OK && (st.users || st.tenants || keys))
        err = roster_fail(&d, ROSTER_E_FAILED_PRECONDITION, "to",
                          "the PostgreSQL store already holds %llu tenants, %llu users and "
                          "%llu keys: migrate copies into an empty one",
                          (unsigned long long)st.tenants, (unsigned long long)st.users,
                          (unsigned long long)keys);
    if (err != ROSTER_E_OK)
        goto done;
    store_stats src_st;
    if ((err = store_read_begin(src, &r)) != ROSTER_E_OK ||
        (err = store_stat(r, &src_st)) != ROSTER_E_OK)
        goto done;
    /* A copy stopped halfway leaves the mark: roster-users refuses the
     * database until it is emptied and the copy made again. */
    if ((err = store_load_mark(dst, true)) != ROSTER_E_OK)
        goto done;
    copier c = {.to = dst, .batch = batch, .d = &d};
    if (a->progress)
        c.progress = ctl_progress_begin("migrate", src_st.tenants + src_st.users, "records");
    c.kind = COPY_TENANT;
    err = store_each_tenant(r, copy_one, &c);
    uint64_t tenants = c.done;
    if (err == ROSTER_E_OK && (err = flush(&c)) == ROSTER_E_OK) {
        c.kind = COPY_USER;
        err = store_each_user(r, copy_one, &c);
    }
    uint64_t users = c.done - tenants;
    if (err == ROSTER_E_OK && (err = flush(&c)) == ROSTER_E_OK) {
        c.kind = COPY_KEY;
        err = store_each_key(r, copy_one, &c);
    }
    if (err == ROSTER_E_OK)
        err = flush(&c);
    store_write_abort(c.w);
    ctl_progress_end(c.progress, c.done, err == ROSTER_E_OK);
    uint64_t copied_keys = c.done - tenants - users;
    if (err != ROSTER_E_OK)
        goto done;

    /* The check: counts, every user's bytes, then verify on the target. */
    checker ck = {.d = &d};
    uint64_t n_tenants = 0, n_keys = 0, issues = 0;
    if ((err = store_read_begin(dst, &tr)) == ROSTER_E_OK) {
        ck.to = tr;
        err = store_each_user(r, check_user, &ck);
    }
    if (err == ROSTER_E_OK)
        err = store_each_tenant(tr, count_record, &n_tenants);
    if (err == ROSTER_E_OK)
        err = store_each_key(tr, count_record, &n_keys);
    if (err == ROSTER_E_OK)
        err = store_verify(tr, NULL, NULL, &issues);
    if (err != ROSTER_E_OK)
        goto done;
    if (ck.differ || n_tenants != tenants || n_keys != copied_keys || issues) {
        err = roster_fail(&d, ROSTER_E_INTERNAL, "",
                          "the copy differs from the source: %llu users missing or different, "
                          "%llu of %llu tenants, %llu of %llu keys, %llu verify issues",
                          (unsigned long long)ck.differ, (unsigned long long)n_tenants,
                          (unsigned long long)tenants, (unsigned long long)n_keys,
                          (unsigned long long)copied_keys, (unsigned long long)issues);
        goto done;
    }
    store_read_end(tr);
    tr = NULL;
    if ((err = store_load_mark(dst, false)) != ROSTER_E_OK)
        goto done;
    if (a->json) {
        json_t *o = json_pack("{s:b, s:I, s:I, s:I}", "ok", 1, "tenants", (json_int_t)tenants,
                              "users", (json_int_t)users, "keys", (json_int_t)copied_keys);
        ctl_print_json(stdout, o);
        json_decref(o);
    } else {
        printf("migrated %llu tenants, %llu users and %llu keys; the copy matches the source\n",
               (unsigned long long)tenants, (unsigned long long)users,
               (unsigned long long)copied_keys);
    }
done:
    store_read_end(tr);
    store_read_end(r);
    store_close(dst);
    store_close(src);
    if (err != ROSTER_E_OK) {
        ctl_report_error(a->json, "migrate", err, d.message[0] ? d.message : NULL, NULL);
        return ctl_exit_code(err);
    }
    return CTL_EXIT_OK;
}
