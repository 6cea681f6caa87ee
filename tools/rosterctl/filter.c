#include "filter.h"

#include "clock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const ctl_field_desc user_fields[] = {
    {"id", CTL_F_ID, CTL_FT_ID},
    {"reference", CTL_F_REFERENCE, CTL_FT_STRING},
    {"email", CTL_F_EMAIL, CTL_FT_STRING},
    {"firstName", CTL_F_FIRST_NAME, CTL_FT_STRING},
    {"lastName", CTL_F_LAST_NAME, CTL_FT_STRING},
    {"phone", CTL_F_PHONE, CTL_FT_STRING},
    {"locale", CTL_F_LOCALE, CTL_FT_STRING},
    {"timezone", CTL_F_TIMEZONE, CTL_FT_STRING},
    {"active", CTL_F_ACTIVE, CTL_FT_BOOL},
    {"isOptedIn", CTL_F_IS_OPTED_IN, CTL_FT_BOOL},
    {"withDeactivated", CTL_F_WITH_DEACTIVATED, CTL_FT_BOOL},
    {"tenantId", CTL_F_TENANT_ID, CTL_FT_ID},
    {"createdAt", CTL_F_CREATED_AT, CTL_FT_DATE},
    {"updatedAt", CTL_F_UPDATED_AT, CTL_FT_DATE},
};

static const ctl_field_desc tenant_fields[] = {
    {"id", CTL_F_ID, CTL_FT_ID},
    {"name", CTL_F_NAME, CTL_FT_STRING},
    {"reference", CTL_F_REFERENCE, CTL_FT_STRING},
};

const ctl_field_table ctl_user_filter_fields = {"user", user_fields,
                                                sizeof user_fields / sizeof user_fields[0]};
const ctl_field_table ctl_tenant_filter_fields = {"tenant", tenant_fields,
                                                  sizeof tenant_fields / sizeof tenant_fields[0]};

const char *ctl_field_name(ctl_field field)
{
    for (size_t i = 0; i < ctl_user_filter_fields.count; i++)
        if (user_fields[i].field == field)
            return user_fields[i].name;
    if (field == CTL_F_NAME)
        return "name";
    return "?";
}

const char *ctl_op_slot(ctl_op op)
{
    switch (op) {
    case CTL_OP_EQ:
    case CTL_OP_IS_NULL:
        return "equalTo";
    case CTL_OP_NE:
    case CTL_OP_NOT_NULL:
        return "notEqualTo";
    case CTL_OP_LIKE:
        return "like";
    case CTL_OP_ILIKE:
        return "iLike";
    case CTL_OP_IN:
        return "valueIn";
    case CTL_OP_NOT_IN:
        return "valueNotIn";
    case CTL_OP_LT:
        return "lessThan";
    case CTL_OP_LE:
        return "lessThanEqual";
    case CTL_OP_GT:
        return "moreThan";
    case CTL_OP_GE:
        return "moreThanEqual";
    }
    return "?";
}

static const char *type_name(ctl_field_type t)
{
    switch (t) {
    case CTL_FT_ID:
        return "id";
    case CTL_FT_STRING:
        return "string";
    case CTL_FT_BOOL:
        return "boolean";
    case CTL_FT_DATE:
        return "date";
    }
    return "?";
}

static const char *allowed_ops(ctl_field_type t)
{
    switch (t) {
    case CTL_FT_ID:
        return "= != =[..] !=[..] =null !=null";
    case CTL_FT_STRING:
        return "= != ~ ~* =[..] !=[..] =null !=null";
    case CTL_FT_BOOL:
        return "= != =null !=null";
    case CTL_FT_DATE:
        return "= != < <= > >= =null !=null";
    }
    return "";
}

static bool op_allowed(ctl_field_type t, ctl_op op)
{
    switch (op) {
    case CTL_OP_EQ:
    case CTL_OP_NE:
    case CTL_OP_IS_NULL:
    case CTL_OP_NOT_NULL:
        return true;
    case CTL_OP_LIKE:
    case CTL_OP_ILIKE:
        return t == CTL_FT_STRING;
    case CTL_OP_IN:
    case CTL_OP_NOT_IN:
        return t == CTL_FT_STRING || t == CTL_FT_ID;
    case CTL_OP_LT:
    case CTL_OP_LE:
    case CTL_OP_GT:
    case CTL_OP_GE:
        return t == CTL_FT_DATE;
    }
    return false;
}

static void cond_free(ctl_cond *c)
{
    free(c->text);
    for (size_t i = 0; i < c->list_len; i++)
        free(c->list[i]);
    free(c->list);
}

void ctl_filter_free(ctl_filter *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->count; i++)
        cond_free(&f->conds[i]);
    free(f->conds);
    memset(f, 0, sizeof *f);
}

/* Reads a double-quoted string starting at *p (which points at the opening
 * quote) into a new heap string; *p moves past the closing quote. */
static int read_quoted(char **out, const char **p, const char *field, roster_err_detail *d)
{
    const char *s = *p + 1;
    size_t len = strlen(s);
    char *buf = malloc(len + 1);
    if (buf == NULL)
        return ROSTER_E_NOMEM;
    size_t n = 0;
    for (;;) {
        if (*s == '\0') {
            free(buf);
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                               "filter %s: unterminated quoted string", field);
        }
        if (*s == '"')
            break;
        if (*s == '\\') {
            if (s[1] != '"' && s[1] != '\\') {
                free(buf);
                return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                                   "filter %s: only \\\" and \\\\ may be escaped in a quoted "
                                   "string",
                                   field);
            }
            s++;
        }
        buf[n++] = *s++;
    }
    buf[n] = '\0';
    *p = s + 1;
    *out = buf;
    return ROSTER_E_OK;
}

static int parse_list(ctl_cond *c, const char *v, const char *field, roster_err_detail *d)
{
    /* v points at '['. */
    const char *p = v + 1;
    char **items = NULL;
    size_t n = 0, cap = 0;
    int err;
    while (*p == ' ')
        p++;
    if (*p == ']') {
        p++;
        goto done;
    }
    for (;;) {
        char *item = NULL;
        while (*p == ' ')
            p++;
        if (*p == '"') {
            err = read_quoted(&item, &p, field, d);
            if (err != ROSTER_E_OK)
                goto fail;
            while (*p == ' ')
                p++;
            if (*p != ',' && *p != ']') {
                free(item);
                err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                                  "filter %s: expected ',' or ']' after a quoted list item", field);
                goto fail;
            }
        } else {
            const char *start = p;
            while (*p != '\0' && *p != ',' && *p != ']')
                p++;
            if (*p == '\0') {
                err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                                  "filter %s: list is missing its closing ']'", field);
                goto fail;
            }
            const char *end = p;
            while (end > start && end[-1] == ' ')
                end--;
            item = strndup(start, (size_t)(end - start));
            if (item == NULL) {
                err = ROSTER_E_NOMEM;
                goto fail;
            }
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            char **grown = realloc(items, ncap * sizeof *grown);
            if (grown == NULL) {
                free(item);
                err = ROSTER_E_NOMEM;
                goto fail;
            }
            items = grown;
            cap = ncap;
        }
        items[n++] = item;
        if (*p == ']') {
            p++;
            break;
        }
        if (*p != ',') {
            err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                              "filter %s: list is missing its closing ']'", field);
            goto fail;
        }
        p++;
    }
done:
    if (*p != '\0') {
        err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                          "filter %s: unexpected text after the list: '%s'", field, p);
        goto fail;
    }
    c->list = items;
    c->list_len = n;
    return ROSTER_E_OK;
fail:
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
    return err;
}

static const ctl_field_desc *find_field(const ctl_field_table *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->count; i++)
        if (strlen(t->fields[i].name) == len && memcmp(t->fields[i].name, name, len) == 0)
            return &t->fields[i];
    return NULL;
}

int ctl_filter_parse(ctl_filter *f, const ctl_field_table *table, const char *expr,
                     roster_err_detail *d)
{
    ctl_cond c;
    memset(&c, 0, sizeof c);
    int err;
    const char *p = expr;
    while (isalpha((unsigned char)*p) || *p == '_')
        p++;
    size_t name_len = (size_t)(p - expr);
    if (name_len == 0)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "filter",
                           "filter '%s': expected FIELD OP VALUE, e.g. email~%%@acme.com", expr);
    const ctl_field_desc *fd = find_field(table, expr, name_len);
    if (fd == NULL) {
        char names[256];
        size_t off = 0;
        names[0] = '\0';
        for (size_t i = 0; i < table->count && off < sizeof names; i++)
            off += (size_t)snprintf(names + off, sizeof names - off, "%s%s", i ? " " : "",
                                    table->fields[i].name);
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "filter",
                           "filter '%s': unknown %s field '%.*s' (fields: %s)", expr, table->entity,
                           (int)name_len, expr, names);
    }
    const char *field = fd->name;
    c.field = fd->field;
    c.type = fd->type;

    /* Operator, longest match first. */
    static const struct {
        const char *text;
        ctl_op op;
    } ops[] = {{"!=", CTL_OP_NE}, {"<=", CTL_OP_LE}, {">=", CTL_OP_GE}, {"~*", CTL_OP_ILIKE},
               {"=", CTL_OP_EQ},  {"<", CTL_OP_LT},  {">", CTL_OP_GT},  {"~", CTL_OP_LIKE}};
    const char *optext = NULL;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t l = strlen(ops[i].text);
        if (strncmp(p, ops[i].text, l) == 0) {
            c.op = ops[i].op;
            optext = ops[i].text;
            p += l;
            break;
        }
    }
    if (optext == NULL)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                           "filter '%s': expected an operator after '%s' (one of %s)", expr, field,
                           allowed_ops(fd->type));
    const char *v = p;

    if (strcmp(v, "null") == 0) {
        if (c.op != CTL_OP_EQ && c.op != CTL_OP_NE)
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                               "filter '%s': null goes only with = (IS NULL) or != (IS NOT NULL)",
                               expr);
        c.op = c.op == CTL_OP_EQ ? CTL_OP_IS_NULL : CTL_OP_NOT_NULL;
    } else if (*v == '[' && (c.op == CTL_OP_EQ || c.op == CTL_OP_NE)) {
        c.op = c.op == CTL_OP_EQ ? CTL_OP_IN : CTL_OP_NOT_IN;
    }
    if (!op_allowed(fd->type, c.op))
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                           "filter '%s': %s%s (%s) does not apply to %s field %s; use %s", expr,
                           optext, c.op == CTL_OP_IN || c.op == CTL_OP_NOT_IN ? "[..]" : "",
                           ctl_op_slot(c.op), type_name(fd->type), field, allowed_ops(fd->type));

    switch (c.op) {
    case CTL_OP_IS_NULL:
    case CTL_OP_NOT_NULL:
        break;
    case CTL_OP_IN:
    case CTL_OP_NOT_IN:
        err = parse_list(&c, v, field, d);
        if (err != ROSTER_E_OK)
            return err;
        if (c.list_len > 1000) {
            cond_free(&c);
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                               "filter %s: a list holds at most 1000 values", field);
        }
        break;
    default: {
        char *text = NULL;
        if (*v == '"') {
            const char *q = v;
            err = read_quoted(&text, &q, field, d);
            if (err != ROSTER_E_OK)
                return err;
            if (*q != '\0') {
                free(text);
                return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                                   "filter '%s': unexpected text after the quoted string", expr);
            }
        } else {
            text = strdup(v);
            if (text == NULL)
                return ROSTER_E_NOMEM;
        }
        if (fd->type == CTL_FT_BOOL) {
            bool b = strcmp(text, "true") == 0;
            if (!b && strcmp(text, "false") != 0) {
                err =
                    roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                                "filter '%s': %s takes true or false, not '%s'", expr, field, text);
                free(text);
                return err;
            }
            free(text);
            c.boolean = b;
        } else if (fd->type == CTL_FT_DATE) {
            int64_t ms;
            if (roster_time_parse_iso(&ms, text, strlen(text)) != ROSTER_E_OK) {
                err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                                  "filter '%s': '%s' is not an ISO-8601 time such as "
                                  "2026-01-01T00:00:00Z",
                                  expr, text);
                free(text);
                return err;
            }
            free(text);
            c.ms = ms;
        } else {
            c.text = text;
        }
        break;
    }
    }

    for (size_t i = 0; i < f->count; i++) {
        if (f->conds[i].field == c.field &&
            strcmp(ctl_op_slot(f->conds[i].op), ctl_op_slot(c.op)) == 0) {
            cond_free(&c);
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                               "filter '%s': %s.%s is given twice", expr, field, ctl_op_slot(c.op));
        }
    }
    if (f->count == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 8;
        ctl_cond *grown = realloc(f->conds, ncap * sizeof *grown);
        if (grown == NULL) {
            cond_free(&c);
            return ROSTER_E_NOMEM;
        }
        f->conds = grown;
        f->cap = ncap;
    }
    f->conds[f->count++] = c;
    return ROSTER_E_OK;
}

/* Matches camelCase or UPPER_SNAKE: "firstName" == "FIRST_NAME". */
static bool name_matches(const char *camel, const char *text, size_t len)
{
    if (strlen(camel) == len && memcmp(camel, text, len) == 0)
        return true;
    char snake[64];
    size_t n = 0;
    for (const char *s = camel; *s && n + 2 < sizeof snake; s++) {
        if (isupper((unsigned char)*s))
            snake[n++] = '_';
        snake[n++] = (char)toupper((unsigned char)*s);
    }
    return n == len && memcmp(snake, text, len) == 0;
}

int ctl_order_parse(ctl_order *out, bool tenant, const char *text, roster_err_detail *d)
{
    /* Proto enum numbers: UserSortField and TenantSortField. */
    static const struct {
        const char *name;
        int sort;
    } user_sorts[] = {{"active", 1},    {"createdAt", 2}, {"email", 3},
                      {"firstName", 4}, {"lastName", 5},  {"locale", 6},
                      {"phone", 7},     {"timezone", 8},  {"updatedAt", 9}},
      tenant_sorts[] = {{"createdAt", 1}, {"name", 2}};
    const char *colon = strchr(text, ':');
    size_t flen = colon ? (size_t)(colon - text) : strlen(text);
    int sort = -1;
    size_t n = tenant ? 2 : 9;
    for (size_t i = 0; i < n; i++) {
        const char *name = tenant ? tenant_sorts[i].name : user_sorts[i].name;
        if (name_matches(name, text, flen))
            sort = tenant ? tenant_sorts[i].sort : user_sorts[i].sort;
    }
    if (sort < 0)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "order",
                           "order '%s': unknown sort field '%.*s' (one of %s)", text, (int)flen,
                           text,
                           tenant ? "createdAt name"
                                  : "active createdAt email firstName lastName locale phone "
                                    "timezone updatedAt");
    int order = 1;
    if (colon != NULL) {
        if (strcasecmp(colon + 1, "asc") == 0)
            order = 1;
        else if (strcasecmp(colon + 1, "desc") == 0)
            order = 2;
        else
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "order",
                               "order '%s': direction must be asc or desc, not '%s'", text,
                               colon + 1);
    }
    out->set = true;
    out->sort = sort;
    out->order = order;
    return ROSTER_E_OK;
}

int ctl_search_parse(ctl_search *out, const char *text, roster_err_detail *d)
{
    static const struct {
        const char *name;
        int key;
    } keys[] = {{"email", 1},  {"firstName", 2}, {"lastName", 3},
                {"locale", 4}, {"phone", 5},     {"timezone", 6}};
    const char *colon = strchr(text, ':');
    if (colon == NULL)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "search",
                           "search '%s': expected KEY:VALUE, e.g. email:acme", text);
    size_t klen = (size_t)(colon - text);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strlen(keys[i].name) == klen && memcmp(keys[i].name, text, klen) == 0) {
            out->set = true;
            out->key = keys[i].key;
            out->value = colon + 1;
            return ROSTER_E_OK;
        }
    }
    return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "search",
                       "search '%s': unknown key '%.*s' (one of email firstName lastName "
                       "locale phone timezone)",
                       text, (int)klen, text);
}
