#include "filter.h"

#include "clock.h"
#include "pbfield.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const ctl_field_table ctl_user_filter_fields = {"user", &roster__v1__user_filter__descriptor};
const ctl_field_table ctl_tenant_filter_fields = {"tenant", &roster__v1__tenant_filter__descriptor};

/* The filter kinds: the message each one is, and its name in messages. */
static const struct {
    model_filter kind;
    const char *name;
    const ProtobufCMessageDescriptor *pb;
} kinds[] = {
    {MODEL_FILTER_ID, "id", &roster__v1__id_filter__descriptor},
    {MODEL_FILTER_STRING, "string", &roster__v1__string_filter__descriptor},
    {MODEL_FILTER_BOOL, "boolean", &roster__v1__bool_filter__descriptor},
    {MODEL_FILTER_DATE, "date", &roster__v1__date_filter__descriptor},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

/* The operators in the order help and messages list them: the syntax, and
 * the slot of the kind's filter message each fills. */
static const struct {
    ctl_op op;
    const char *text;  /* as listed: "=[..]" */
    const char *slot;  /* GraphQL operator: "valueIn" */
    const char *field; /* the filter message's field it sets */
} ops[] = {
    {CTL_OP_EQ, "=", "equalTo", "equalTo"},
    {CTL_OP_NE, "!=", "notEqualTo", "notEqualTo"},
    {CTL_OP_LIKE, "~", "like", "like"},
    {CTL_OP_ILIKE, "~*", "iLike", "iLike"},
    {CTL_OP_IN, "=[..]", "valueIn", "valueIn"},
    {CTL_OP_NOT_IN, "!=[..]", "valueNotIn", "valueNotIn"},
    {CTL_OP_LT, "<", "lessThan", "lessThan"},
    {CTL_OP_LE, "<=", "lessThanEqual", "lessThanEqual"},
    {CTL_OP_GT, ">", "moreThan", "moreThan"},
    {CTL_OP_GE, ">=", "moreThanEqual", "moreThanEqual"},
    {CTL_OP_IS_NULL, "=null", "equalTo", "equalToNull"},
    {CTL_OP_NOT_NULL, "!=null", "notEqualTo", "notEqualToNull"},
};
#define NOPS (sizeof ops / sizeof ops[0])

const char *ctl_op_slot(ctl_op op)
{
    for (size_t i = 0; i < NOPS; i++)
        if (ops[i].op == op)
            return ops[i].slot;
    return "?";
}

static const ProtobufCMessageDescriptor *kind_pb(model_filter kind)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (kinds[i].kind == kind)
            return kinds[i].pb;
    return NULL;
}

static const char *kind_name(model_filter kind)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (kinds[i].kind == kind)
            return kinds[i].name;
    return "?";
}

const ProtobufCFieldDescriptor *ctl_op_field(model_filter kind, ctl_op op)
{
    const ProtobufCMessageDescriptor *pb = kind_pb(kind);
    for (size_t i = 0; pb != NULL && i < NOPS; i++)
        if (ops[i].op == op)
            return ctl_pbfield_named(pb, ops[i].field, strlen(ops[i].field));
    return NULL;
}

/* "= != ~ ~* =[..] !=[..] =null !=null" for a string field. */
static const char *allowed_ops(char *buf, size_t cap, model_filter kind)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NOPS && n < cap; i++)
        if (ctl_op_field(kind, ops[i].op) != NULL)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? " " : "", ops[i].text);
    return buf;
}

/* The kind of a filter message's field: which filter message it holds. */
static model_filter field_kind(const ProtobufCFieldDescriptor *f)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->descriptor == kinds[i].pb)
            return kinds[i].kind;
    return MODEL_FILTER_NONE;
}

/* The field of the filter message named (GraphQL name) by `len` bytes. */
static const ProtobufCFieldDescriptor *find_field(const ctl_field_table *t, const char *name,
                                                  size_t len)
{
    const ProtobufCFieldDescriptor *f = ctl_pbfield_named(t->pb, name, len);
    return f != NULL && field_kind(f) != MODEL_FILTER_NONE ? f : NULL;
}

static void cond_free(ctl_cond *c)
{
    free(c->path);
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

/* The grammar, FIELD OP VALUE, is read left to right without
 * backtracking: FIELD is the longest run of letters and '_' (so it ends
 * where the operator starts); OP is the longest operator spelled there
 * ("!=" before "=", "~*" before "~", "<=" before "<"); VALUE is everything
 * after it. Only then does the value's first character choose its form:
 * exactly `null` turns = / != into IS NULL / IS NOT NULL, a leading `[`
 * turns them into valueIn / valueNotIn (a list), a leading `"` is a quoted
 * string, and anything else is taken literally, so values may hold
 * operators and spaces. The operator is checked against the field's kind
 * after that rewriting, and the slot it fills (equalTo for both `=v` and
 * `=null`) may be used once per field. */
/* Appends c to f, taking what it owns (freed on failure): refused when
 * the same operator of the same field (or customData path) is given
 * twice. */
static int cond_append(ctl_filter *f, ctl_cond *c, const char *expr, roster_err_detail *d)
{
    const char *field = c->path ? c->path : c->name;
    for (size_t i = 0; i < f->count; i++) {
        const ctl_cond *o = &f->conds[i];
        bool same = c->path ? o->path && strcmp(o->path, c->path) == 0 : o->field == c->field;
        if (same && strcmp(ctl_op_slot(o->op), ctl_op_slot(c->op)) == 0) {
            int err =
                roster_fail(d, ROSTER_E_INVALID_ARGUMENT, c->path ? "customData" : field,
                            "filter '%s': %s.%s is given twice", expr, field, ctl_op_slot(c->op));
            cond_free(c);
            return err;
        }
    }
    if (f->count == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 8;
        ctl_cond *grown = realloc(f->conds, ncap * sizeof *grown);
        if (grown == NULL) {
            cond_free(c);
            return ROSTER_E_NOMEM;
        }
        f->conds = grown;
        f->cap = ncap;
    }
    f->conds[f->count++] = *c;
    return ROSTER_E_OK;
}

/* A customData value as JSON text in *out (heap-owned): v when it parses
 * as JSON, else v as a JSON string. INVALID_ARGUMENT naming the path when
 * v is not UTF-8 (no JSON string can hold it), ROSTER_E_NOMEM. */
static int json_text(char **out, const char *v, bool quoted, const char *path, roster_err_detail *d)
{
    json_t *j = quoted ? NULL : json_loads(v, JSON_DECODE_ANY, NULL);
    if (j != NULL) {
        json_decref(j);
        return (*out = strdup(v)) != NULL ? ROSTER_E_OK : ROSTER_E_NOMEM;
    }
    json_t *str = json_string(v);
    if (str == NULL)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "customData",
                           "filter customData.%s: the value is not valid UTF-8", path);
    *out = json_dumps(str, JSON_ENCODE_ANY);
    json_decref(str);
    return *out != NULL ? ROSTER_E_OK : ROSTER_E_NOMEM;
}

#define CUSTOM_PREFIX "customData."

/* customData.PATH OP VALUE (see filter.h). */
static int custom_parse(ctl_filter *f, const ctl_field_table *table, const char *expr,
                        roster_err_detail *d)
{
    ctl_cond c;
    memset(&c, 0, sizeof c);
    if (table != &ctl_user_filter_fields)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "filter",
                           "filter '%s': customData conditions are for users", expr);
    const char *path = expr + strlen(CUSTOM_PREFIX), *p = path;
    while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.')
        p++;
    if (p == path)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "customData",
                           "filter '%s': expected customData.PATH OP VALUE, e.g. "
                           "customData.plan=pro",
                           expr);
    static const struct {
        const char *text;
        ctl_op op;
    } spelled[] = {{"!=", CTL_OP_NE}, {"<=", CTL_OP_LE}, {">=", CTL_OP_GE},
                   {"=", CTL_OP_EQ},  {"<", CTL_OP_LT},  {">", CTL_OP_GT}};
    const char *v = NULL;
    for (size_t i = 0; i < sizeof spelled / sizeof spelled[0] && v == NULL; i++)
        if (strncmp(p, spelled[i].text, strlen(spelled[i].text)) == 0) {
            c.op = spelled[i].op;
            v = p + strlen(spelled[i].text);
        }
    if (v == NULL)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "customData",
                           "filter '%s': expected an operator after customData.%.*s (one of = "
                           "!= < <= > >= =[..])",
                           expr, (int)(p - path), path);
    if ((c.path = strndup(path, (size_t)(p - path))) == NULL)
        return ROSTER_E_NOMEM;
    int err = ROSTER_E_OK;
    if (*v == '[' && c.op == CTL_OP_EQ) {
        c.op = CTL_OP_IN;
        if ((err = parse_list(&c, v, c.path, d)) != ROSTER_E_OK) {
            free(c.path);
            return err;
        }
        for (size_t i = 0; i < c.list_len && err == ROSTER_E_OK; i++) {
            char *j = NULL;
            err = json_text(&j, c.list[i], false, c.path, d);
            free(c.list[i]);
            c.list[i] = j;
        }
    } else {
        char *text = NULL;
        bool quoted = *v == '"';
        if (quoted) {
            const char *q = v;
            if ((err = read_quoted(&text, &q, c.path, d)) == ROSTER_E_OK && *q != '\0') {
                free(text);
                text = NULL;
                err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "customData",
                                  "filter '%s': unexpected text after the quoted string", expr);
            }
        } else if ((text = strdup(v)) == NULL) {
            err = ROSTER_E_NOMEM;
        }
        if (err == ROSTER_E_OK)
            err = json_text(&c.text, text, quoted, c.path, d);
        free(text);
    }
    if (err != ROSTER_E_OK) {
        cond_free(&c);
        return err;
    }
    return cond_append(f, &c, expr, d);
}

int ctl_filter_parse(ctl_filter *f, const ctl_field_table *table, const char *expr,
                     roster_err_detail *d)
{
    if (strncmp(expr, CUSTOM_PREFIX, strlen(CUSTOM_PREFIX)) == 0)
        return custom_parse(f, table, expr, d);
    ctl_cond c;
    memset(&c, 0, sizeof c);
    int err;
    char allowed[64];
    const char *p = expr;
    while (isalpha((unsigned char)*p) || *p == '_')
        p++;
    size_t name_len = (size_t)(p - expr);
    if (name_len == 0)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "filter",
                           "filter '%s': expected FIELD OP VALUE, e.g. email~%%@acme.com", expr);
    const ProtobufCFieldDescriptor *fd = find_field(table, expr, name_len);
    if (fd == NULL) {
        char names[256];
        size_t off = 0;
        names[0] = '\0';
        for (unsigned i = 0; i < table->pb->n_fields && off < sizeof names; i++) {
            char camel[48];
            if (field_kind(&table->pb->fields[i]) == MODEL_FILTER_NONE)
                continue;
            model_camel_name(camel, sizeof camel, table->pb->fields[i].name);
            off += (size_t)snprintf(names + off, sizeof names - off, "%s%s", off ? " " : "", camel);
        }
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "filter",
                           "filter '%s': unknown %s field '%.*s' (fields: %s)", expr, table->entity,
                           (int)name_len, expr, names);
    }
    c.field = fd;
    c.kind = field_kind(fd);
    model_camel_name(c.name, sizeof c.name, fd->name);
    const char *field = c.name;

    /* Operator, longest match first. */
    static const struct {
        const char *text;
        ctl_op op;
    } spelled[] = {{"!=", CTL_OP_NE}, {"<=", CTL_OP_LE}, {">=", CTL_OP_GE}, {"~*", CTL_OP_ILIKE},
                   {"=", CTL_OP_EQ},  {"<", CTL_OP_LT},  {">", CTL_OP_GT},  {"~", CTL_OP_LIKE}};
    const char *optext = NULL;
    for (size_t i = 0; i < sizeof spelled / sizeof spelled[0]; i++) {
        size_t l = strlen(spelled[i].text);
        if (strncmp(p, spelled[i].text, l) == 0) {
            c.op = spelled[i].op;
            optext = spelled[i].text;
            p += l;
            break;
        }
    }
    if (optext == NULL)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                           "filter '%s': expected an operator after '%s' (one of %s)", expr, field,
                           allowed_ops(allowed, sizeof allowed, c.kind));
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
    if (ctl_op_field(c.kind, c.op) == NULL)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                           "filter '%s': %s%s (%s) does not apply to %s field %s; use %s", expr,
                           optext, c.op == CTL_OP_IN || c.op == CTL_OP_NOT_IN ? "[..]" : "",
                           ctl_op_slot(c.op), kind_name(c.kind), field,
                           allowed_ops(allowed, sizeof allowed, c.kind));

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
        if (c.kind == MODEL_FILTER_BOOL) {
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
        } else if (c.kind == MODEL_FILTER_DATE) {
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

    return cond_append(f, &c, expr, d);
}

/* "active createdAt email ..." : every value of e but UNSPECIFIED. */
static const char *enum_names(char *buf, size_t cap, const ProtobufCEnumDescriptor *e)
{
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < e->n_values && n < cap; i++) {
        char camel[64];
        if (e->values[i].value == 0)
            continue;
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? " " : "",
                              ctl_pbfield_enum_name(camel, sizeof camel, e, &e->values[i]));
    }
    return buf;
}

int ctl_order_parse(ctl_order *out, bool tenant, const char *text, roster_err_detail *d)
{
    const ProtobufCEnumDescriptor *e = tenant ? &roster__v1__tenant_sort_field__descriptor
                                              : &roster__v1__user_sort_field__descriptor;
    const ProtobufCEnumDescriptor *dir = &roster__v1__sort_order__descriptor;
    const char *colon = strchr(text, ':');
    size_t flen = colon ? (size_t)(colon - text) : strlen(text);
    size_t pn = strlen(CUSTOM_PREFIX);
    bool custom = !tenant && flen > pn && strncmp(text, CUSTOM_PREFIX, pn) == 0;
    if (custom && flen - pn >= sizeof out->custom)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "order",
                           "order '%s': the customData path is too long", text);
    const ProtobufCEnumValue *sort = custom ? NULL : model_enum_value(e, text, flen);
    if (sort == NULL && !custom) {
        char names[256];
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "order",
                           "order '%s': unknown sort field '%.*s' (one of %s)", text, (int)flen,
                           text, enum_names(names, sizeof names, e));
    }
    const ProtobufCEnumValue *order = model_enum_value(dir, "ASC", 3);
    if (colon != NULL) {
        order = NULL;
        for (unsigned i = 0; i < dir->n_values && order == NULL; i++)
            if (dir->values[i].value != 0 &&
                strcasecmp(model_enum_short_name(dir, &dir->values[i]), colon + 1) == 0)
                order = &dir->values[i];
        if (order == NULL)
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "order",
                               "order '%s': direction must be asc or desc, not '%s'", text,
                               colon + 1);
    }
    out->set = true;
    out->sort = sort ? sort->value : 0;
    out->order = order->value;
    out->custom[0] = '\0';
    if (custom)
        snprintf(out->custom, sizeof out->custom, "%.*s", (int)(flen - pn), text + pn);
    return ROSTER_E_OK;
}

int ctl_search_parse(ctl_search *out, const char *text, roster_err_detail *d)
{
    const ProtobufCEnumDescriptor *e = &roster__v1__user_search_key__descriptor;
    const char *colon = strchr(text, ':');
    if (colon == NULL)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "search",
                           "search '%s': expected KEY:VALUE, e.g. email:acme", text);
    size_t klen = (size_t)(colon - text);
    for (unsigned i = 0; i < e->n_values; i++) {
        char camel[64];
        if (e->values[i].value == 0)
            continue;
        ctl_pbfield_enum_name(camel, sizeof camel, e, &e->values[i]);
        if (strlen(camel) == klen && memcmp(camel, text, klen) == 0) {
            out->set = true;
            out->key = e->values[i].value;
            out->value = colon + 1;
            return ROSTER_E_OK;
        }
    }
    char names[256];
    return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "search",
                       "search '%s': unknown key '%.*s' (one of %s)", text, (int)klen, text,
                       enum_names(names, sizeof names, e));
}
