#include "mask.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "field_mask.h"

/* Fields of record types whose resolvers (resolvers.c) read record fields
 * other than their own name. */
static const struct {
    const char *type;  /* "UserModel" */
    const char *field; /* "tenant" */
    const char *needs; /* the model field it reads, "tenantId" */
} needs[] = {
    {"UserModel", "tenant", "tenantId"}, /* user_tenant_batch looks the tenant up */
    {"TenantModel", "users", "id"},      /* tenant_users_batch counts by id */
};

struct gw_mask {
    const model_record *r;
    const gql_type *type; /* r's GraphQL type */
    uint64_t *bits;       /* by index in type->fields */
};

int gw_mask_new(gw_mask **out, const gql_schema *schema, const model_record *r)
{
    const gql_type *t = gql_schema_type(schema, r->gql_type, strlen(r->gql_type));
    if (t == NULL || t->n_fields == 0)
        return ROSTER_E_NOT_FOUND;
    gw_mask *m = calloc(1, sizeof *m);
    if (m == NULL || (m->bits = calloc(t->n_fields, sizeof *m->bits)) == NULL) {
        free(m);
        return ROSTER_E_NOMEM;
    }
    m->r = r;
    m->type = t;
    for (uint32_t i = 0; i < t->n_fields; i++)
        m->bits[i] = field_mask_named(r, t->fields[i].name.ptr, t->fields[i].name.len);
    for (size_t i = 0; i < sizeof needs / sizeof needs[0]; i++) {
        if (strcmp(needs[i].type, r->gql_type) != 0)
            continue;
        const gql_field *f = gql_type_field(t, needs[i].field, strlen(needs[i].field));
        uint64_t bit = field_mask_named(r, needs[i].needs, strlen(needs[i].needs));
        if (f == NULL || bit == 0) {
            gw_mask_free(m);
            return ROSTER_E_NOT_FOUND;
        }
        m->bits[f - t->fields] |= bit;
    }
    *out = m;
    return ROSTER_E_OK;
}

void gw_mask_free(gw_mask *m)
{
    if (m == NULL)
        return;
    free(m->bits);
    free(m);
}

const model_record *gw_mask_record(const gw_mask *m)
{
    return m->r;
}

/* Whether t is the GraphQL type of a record (any record, not only m's). */
static int is_record_type(const gql_type *t)
{
    const char *names[] = {model_user.gql_type, model_tenant.gql_type};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (t->name.len == strlen(names[i]) && memcmp(t->name.ptr, names[i], t->name.len) == 0)
            return 1;
    return 0;
}

typedef struct select_state {
    const gw_mask *m;
    uint64_t mask;
} select_state;

static int select_visit(void *ud, const gql_type *parent, const gql_field *def)
{
    select_state *s = ud;
    const gw_mask *m = s->m;
    if (parent == m->type) {
        if (def >= m->type->fields && def < m->type->fields + m->type->n_fields)
            s->mask |= m->bits[def - m->type->fields];
        return 0;
    }
    return !is_record_type(parent);
}

int gw_mask_select(uint64_t *out, gql_call *c, const gw_mask *m)
{
    select_state s = {.m = m, .mask = field_mask_of(m->r, 1, 0)};
    /* A root field's selection reaches the records through its page type;
     * a batched record field's (UserModel.tenant) is on m's type at once. */
    int err = gql_call_walk(c, select_visit, &s);
    if (err)
        return err;
    *out = s.mask;
    return ROSTER_E_OK;
}
