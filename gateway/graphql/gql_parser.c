#include "gql_parser.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gql_lexer.h"
#include "gql_names.h"

/* Recursion guard when the caller sets no depth limit. */
#define HARD_MAX_DEPTH 1000u

typedef struct parser {
    gql_lexer lx;
    roster_arena *arena;
    gql_errors *errs;
    gql_limits lim;
    uint32_t n_tokens;
    uint32_t depth;
    jmp_buf jb;
    int rc;
} parser;

gql_limits gql_limits_default(void)
{
    gql_limits l = {GQL_DEFAULT_MAX_BYTES, GQL_DEFAULT_MAX_TOKENS, GQL_DEFAULT_MAX_DEPTH};
    return l;
}

static _Noreturn void fail_at(parser *p, int rc, gql_location loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static _Noreturn void fail_at(parser *p, int rc, gql_location loc, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (gql_errors_add(p->errs, GQL_CODE_PARSE_FAILED, &loc, 1, "Syntax Error: %s", msg) == NULL &&
        p->errs->nomem)
        rc = ROSTER_E_NOMEM;
    p->rc = rc;
    longjmp(p->jb, 1);
}

static _Noreturn void fail_nomem(parser *p)
{
    p->rc = ROSTER_E_NOMEM;
    longjmp(p->jb, 1);
}

static void *palloc(parser *p, size_t n)
{
    void *m = roster_arena_alloc(p->arena, n);
    if (m == NULL)
        fail_nomem(p);
    memset(m, 0, n);
    return m;
}

static void advance(parser *p)
{
    int rc = gql_lexer_next(&p->lx);
    if (rc == ROSTER_E_NOMEM)
        fail_nomem(p);
    if (rc != ROSTER_E_OK)
        fail_at(p, ROSTER_E_PARSE, p->lx.err_loc, "%s", p->lx.message);
    if (p->lx.tok.kind != GQL_TOK_EOF) {
        p->n_tokens++;
        if (p->lim.max_tokens && p->n_tokens > p->lim.max_tokens)
            fail_at(p, ROSTER_E_LIMIT, p->lx.tok.loc,
                    "Document contains more than %u tokens (the max_tokens limit). Parsing "
                    "aborted.",
                    p->lim.max_tokens);
    }
}

/* Nesting depth (selection sets, list and object values, type references)
 * is limited while parsing, before anything recursive runs on the tree:
 * the parser itself recurses once per level, and so do validation,
 * execution and the JSON writer. max_depth is checked here on the text and
 * again by gql_prepare with fragments expanded (gql_validate.c). */
static void enter(parser *p, gql_location loc)
{
    p->depth++;
    uint32_t max = p->lim.max_depth ? p->lim.max_depth : HARD_MAX_DEPTH;
    if (p->depth > max)
        fail_at(p, ROSTER_E_LIMIT, loc,
                "Document nesting is deeper than %u levels (the max_depth limit). Parsing "
                "aborted.",
                max);
}

static void leave(parser *p)
{
    p->depth--;
}

#define TOK (p->lx.tok)

static int peek(parser *p, int kind)
{
    return TOK.kind == kind;
}

/* "Name \"x\"", "\"{\"", "<EOF>" */
static void token_desc(parser *p, char *out, size_t cap)
{
    const char *kd = gql_token_kind_desc(TOK.kind);
    if (TOK.kind >= GQL_TOK_NAME) {
        unsigned n = TOK.value.len > 200 ? 200 : TOK.value.len;
        snprintf(out, cap, "%s \"%.*s\"", kd, (int)n, TOK.value.ptr);
    } else {
        snprintf(out, cap, "%s", kd);
    }
}

static _Noreturn void unexpected(parser *p)
{
    char d[256];
    token_desc(p, d, sizeof d);
    fail_at(p, ROSTER_E_PARSE, TOK.loc, "Unexpected %s.", d);
}

static void expect(parser *p, int kind)
{
    if (TOK.kind == kind) {
        advance(p);
        return;
    }
    char d[256];
    token_desc(p, d, sizeof d);
    fail_at(p, ROSTER_E_PARSE, TOK.loc, "Expected %s, found %s.", gql_token_kind_desc(kind), d);
}

static int skip(parser *p, int kind)
{
    if (TOK.kind == kind) {
        advance(p);
        return 1;
    }
    return 0;
}

static int is_keyword(parser *p, const char *kw)
{
    size_t n = strlen(kw);
    return TOK.kind == GQL_TOK_NAME && gql_str_eqn(TOK.value, kw, n);
}

static void expect_keyword(parser *p, const char *kw)
{
    if (is_keyword(p, kw)) {
        advance(p);
        return;
    }
    char d[256];
    token_desc(p, d, sizeof d);
    fail_at(p, ROSTER_E_PARSE, TOK.loc, "Expected \"%s\", found %s.", kw, d);
}

static gql_str parse_name(parser *p, gql_location *loc)
{
    if (TOK.kind != GQL_TOK_NAME)
        expect(p, GQL_TOK_NAME);
    gql_str s = TOK.value;
    if (loc)
        *loc = TOK.loc;
    advance(p);
    return s;
}

/* A growable array in the arena. */
typedef struct vec {
    void *items;
    uint32_t count;
    uint32_t cap;
} vec;

static void *vec_push(parser *p, vec *v, size_t elem)
{
    if (v->count == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 4;
        void *n = palloc(p, (size_t)cap * elem);
        if (v->count)
            memcpy(n, v->items, (size_t)v->count * elem);
        v->items = n;
        v->cap = cap;
    }
    /* Already zero: palloc zeroes the whole array and nothing is popped. */
    void *slot = (char *)v->items + (size_t)v->count * elem;
    v->count++;
    return slot;
}

static gql_value *parse_value(parser *p, int is_const);

static gql_value *new_value(parser *p, int kind)
{
    gql_value *v = palloc(p, sizeof *v);
    v->kind = (uint8_t)kind;
    v->loc = TOK.loc;
    return v;
}

static int64_t parse_int_text(gql_str s, int *overflow)
{
    const char *c = s.ptr;
    const char *e = s.ptr + s.len;
    int neg = 0;
    if (c < e && *c == '-') {
        neg = 1;
        c++;
    }
    uint64_t v = 0;
    *overflow = 0;
    for (; c < e; c++) {
        unsigned d = (unsigned)(*c - '0');
        if (v > (UINT64_MAX - d) / 10) {
            *overflow = 1;
            return 0;
        }
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) {
            *overflow = 1;
            return 0;
        }
        return v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    }
    if (v > (uint64_t)INT64_MAX) {
        *overflow = 1;
        return 0;
    }
    return (int64_t)v;
}

static double parse_float_text(gql_str s)
{
    char tmp[64];
    if (s.len < sizeof tmp) {
        memcpy(tmp, s.ptr, s.len);
        tmp[s.len] = '\0';
        return strtod(tmp, NULL);
    }
    char *big = malloc(s.len + 1);
    if (big == NULL)
        return 0;
    memcpy(big, s.ptr, s.len);
    big[s.len] = '\0';
    double d = strtod(big, NULL);
    free(big);
    return d;
}

static gql_value *parse_value(parser *p, int is_const)
{
    gql_value *v;
    switch (TOK.kind) {
    case GQL_TOK_BRACKET_L: {
        v = new_value(p, GQL_VALUE_LIST);
        enter(p, TOK.loc);
        advance(p);
        vec items = {0};
        while (!skip(p, GQL_TOK_BRACKET_R)) {
            if (TOK.kind == GQL_TOK_EOF)
                expect(p, GQL_TOK_BRACKET_R);
            gql_value **slot = vec_push(p, &items, sizeof(gql_value *));
            *slot = parse_value(p, is_const);
        }
        leave(p);
        v->u.list.items = items.items;
        v->u.list.count = items.count;
        return v;
    }
    case GQL_TOK_BRACE_L: {
        v = new_value(p, GQL_VALUE_OBJECT);
        enter(p, TOK.loc);
        advance(p);
        vec fields = {0};
        while (!skip(p, GQL_TOK_BRACE_R)) {
            gql_object_field *f = vec_push(p, &fields, sizeof *f);
            f->name = parse_name(p, &f->loc);
            expect(p, GQL_TOK_COLON);
            f->value = parse_value(p, is_const);
        }
        leave(p);
        v->u.object.fields = fields.items;
        v->u.object.count = fields.count;
        return v;
    }
    case GQL_TOK_INT: {
        v = new_value(p, GQL_VALUE_INT);
        v->raw = TOK.value;
        int overflow;
        v->u.integer = parse_int_text(TOK.value, &overflow);
        if (overflow) {
            /* Beyond 64 bits: kept as a FLOAT whose raw text has no '.' or
             * exponent, so Int coercion can still name it an integer. */
            v->kind = GQL_VALUE_FLOAT;
            v->u.number = parse_float_text(TOK.value);
        }
        advance(p);
        return v;
    }
    case GQL_TOK_FLOAT:
        v = new_value(p, GQL_VALUE_FLOAT);
        v->raw = TOK.value;
        v->u.number = parse_float_text(TOK.value);
        advance(p);
        return v;
    case GQL_TOK_STRING:
    case GQL_TOK_BLOCK_STRING:
        v = new_value(p, GQL_VALUE_STRING);
        v->u.string = TOK.value;
        advance(p);
        return v;
    case GQL_TOK_NAME:
        if (is_keyword(p, "true") || is_keyword(p, "false")) {
            v = new_value(p, GQL_VALUE_BOOLEAN);
            v->u.boolean = TOK.value.len == 4;
        } else if (is_keyword(p, "null")) {
            v = new_value(p, GQL_VALUE_NULL);
        } else {
            v = new_value(p, GQL_VALUE_ENUM);
            v->u.string = TOK.value;
        }
        advance(p);
        return v;
    case GQL_TOK_DOLLAR:
        if (is_const) {
            gql_location at = TOK.loc;
            advance(p);
            if (TOK.kind == GQL_TOK_NAME)
                fail_at(p, ROSTER_E_PARSE, at, "Unexpected variable \"$%.*s\" in constant value.",
                        (int)(TOK.value.len > 200 ? 200 : TOK.value.len), TOK.value.ptr);
            unexpected(p);
        }
        v = new_value(p, GQL_VALUE_VARIABLE);
        advance(p);
        v->u.string = parse_name(p, NULL);
        return v;
    default:
        unexpected(p);
    }
}

static void parse_arguments(parser *p, int is_const, gql_argument **out, uint32_t *n)
{
    *out = NULL;
    *n = 0;
    if (!peek(p, GQL_TOK_PAREN_L))
        return;
    advance(p);
    vec args = {0};
    do {
        gql_argument *a = vec_push(p, &args, sizeof *a);
        a->name = parse_name(p, &a->loc);
        expect(p, GQL_TOK_COLON);
        a->value = parse_value(p, is_const);
    } while (!skip(p, GQL_TOK_PAREN_R));
    *out = args.items;
    *n = args.count;
}

static void parse_directives(parser *p, int is_const, gql_directive **out, uint32_t *n)
{
    vec dirs = {0};
    while (peek(p, GQL_TOK_AT)) {
        gql_directive *d = vec_push(p, &dirs, sizeof *d);
        d->loc = TOK.loc;
        advance(p);
        d->name = parse_name(p, NULL);
        parse_arguments(p, is_const, &d->args, &d->n_args);
    }
    *out = dirs.items;
    *n = dirs.count;
}

static gql_type_ref *parse_type_ref(parser *p)
{
    gql_type_ref *t = palloc(p, sizeof *t);
    t->loc = TOK.loc;
    if (skip(p, GQL_TOK_BRACKET_L)) {
        enter(p, t->loc);
        t->kind = GQL_TREF_LIST;
        t->of = parse_type_ref(p);
        expect(p, GQL_TOK_BRACKET_R);
        leave(p);
    } else {
        t->kind = GQL_TREF_NAMED;
        t->name = parse_name(p, NULL);
    }
    if (peek(p, GQL_TOK_BANG)) {
        advance(p);
        gql_type_ref *nn = palloc(p, sizeof *nn);
        nn->kind = GQL_TREF_NON_NULL;
        nn->of = t;
        nn->loc = t->loc;
        return nn;
    }
    return t;
}

static gql_selection_set *parse_selection_set(parser *p);

static void parse_selection(parser *p, gql_selection *s)
{
    s->loc = TOK.loc;
    if (skip(p, GQL_TOK_SPREAD)) {
        if (TOK.kind == GQL_TOK_NAME && !is_keyword(p, "on")) {
            s->kind = GQL_SEL_FRAGMENT_SPREAD;
            s->name = parse_name(p, &s->name_loc);
            parse_directives(p, 0, &s->dirs, &s->n_dirs);
            return;
        }
        s->kind = GQL_SEL_INLINE_FRAGMENT;
        if (is_keyword(p, "on")) {
            advance(p);
            s->type_cond = parse_name(p, &s->type_cond_loc);
        }
        parse_directives(p, 0, &s->dirs, &s->n_dirs);
        s->sel = parse_selection_set(p);
        return;
    }
    s->kind = GQL_SEL_FIELD;
    gql_str first = parse_name(p, &s->name_loc);
    if (skip(p, GQL_TOK_COLON)) {
        s->alias = first;
        s->name = parse_name(p, &s->name_loc);
    } else {
        s->name = first;
    }
    parse_arguments(p, 0, &s->args, &s->n_args);
    parse_directives(p, 0, &s->dirs, &s->n_dirs);
    if (peek(p, GQL_TOK_BRACE_L))
        s->sel = parse_selection_set(p);
}

static gql_selection_set *parse_selection_set(parser *p)
{
    gql_selection_set *ss = palloc(p, sizeof *ss);
    ss->loc = TOK.loc;
    expect(p, GQL_TOK_BRACE_L);
    enter(p, ss->loc);
    vec items = {0};
    do {
        gql_selection *s = vec_push(p, &items, sizeof *s);
        parse_selection(p, s);
    } while (!skip(p, GQL_TOK_BRACE_R));
    leave(p);
    ss->items = items.items;
    ss->count = items.count;
    return ss;
}

static gql_operation *parse_operation(parser *p)
{
    gql_operation *op = palloc(p, sizeof *op);
    op->loc = TOK.loc;
    if (peek(p, GQL_TOK_BRACE_L)) {
        op->type = GQL_OP_QUERY;
        op->anonymous = 1;
        op->sel = parse_selection_set(p);
        return op;
    }
    if (is_keyword(p, "query"))
        op->type = GQL_OP_QUERY;
    else if (is_keyword(p, "mutation"))
        op->type = GQL_OP_MUTATION;
    else if (is_keyword(p, "subscription"))
        op->type = GQL_OP_SUBSCRIPTION;
    else
        unexpected(p);
    advance(p);
    if (peek(p, GQL_TOK_NAME))
        op->name = parse_name(p, &op->name_loc);
    else
        op->anonymous = 1;
    if (skip(p, GQL_TOK_PAREN_L)) {
        vec vars = {0};
        do {
            gql_var_def *vd = vec_push(p, &vars, sizeof *vd);
            vd->loc = TOK.loc;
            expect(p, GQL_TOK_DOLLAR);
            vd->name = parse_name(p, &vd->name_loc);
            expect(p, GQL_TOK_COLON);
            vd->type = parse_type_ref(p);
            if (skip(p, GQL_TOK_EQUALS))
                vd->default_value = parse_value(p, 1);
            parse_directives(p, 1, &vd->dirs, &vd->n_dirs);
        } while (!skip(p, GQL_TOK_PAREN_R));
        op->vars = vars.items;
        op->n_vars = vars.count;
    }
    parse_directives(p, 0, &op->dirs, &op->n_dirs);
    op->sel = parse_selection_set(p);
    return op;
}

static gql_fragment *parse_fragment(parser *p)
{
    gql_fragment *f = palloc(p, sizeof *f);
    f->loc = TOK.loc;
    expect_keyword(p, "fragment");
    if (is_keyword(p, "on"))
        unexpected(p);
    f->name = parse_name(p, &f->name_loc);
    expect_keyword(p, "on");
    f->type_cond = parse_name(p, &f->type_cond_loc);
    parse_directives(p, 0, &f->dirs, &f->n_dirs);
    f->sel = parse_selection_set(p);
    return f;
}

/* --- Type system definitions. */

static int parse_description(parser *p, gql_str *out)
{
    if (peek(p, GQL_TOK_STRING) || peek(p, GQL_TOK_BLOCK_STRING)) {
        *out = TOK.value;
        advance(p);
        return 1;
    }
    return 0;
}

static void parse_input_value_defs(parser *p, int open, int close, gql_input_value_def **out,
                                   uint32_t *n)
{
    *out = NULL;
    *n = 0;
    if (!peek(p, open))
        return;
    advance(p);
    vec v = {0};
    do {
        gql_input_value_def *d = vec_push(p, &v, sizeof *d);
        d->has_description = parse_description(p, &d->description);
        d->name = parse_name(p, &d->loc);
        expect(p, GQL_TOK_COLON);
        d->type = parse_type_ref(p);
        if (skip(p, GQL_TOK_EQUALS))
            d->default_value = parse_value(p, 1);
        parse_directives(p, 1, &d->dirs, &d->n_dirs);
    } while (!skip(p, close));
    *out = v.items;
    *n = v.count;
}

static void parse_field_defs(parser *p, gql_type_def *t)
{
    if (!skip(p, GQL_TOK_BRACE_L))
        return;
    vec v = {0};
    do {
        gql_field_def_node *f = vec_push(p, &v, sizeof *f);
        f->has_description = parse_description(p, &f->description);
        f->name = parse_name(p, &f->loc);
        parse_input_value_defs(p, GQL_TOK_PAREN_L, GQL_TOK_PAREN_R, &f->args, &f->n_args);
        expect(p, GQL_TOK_COLON);
        f->type = parse_type_ref(p);
        parse_directives(p, 1, &f->dirs, &f->n_dirs);
    } while (!skip(p, GQL_TOK_BRACE_R));
    t->fields = v.items;
    t->n_fields = v.count;
}

static void parse_implements(parser *p, gql_type_def *t)
{
    if (!is_keyword(p, "implements"))
        return;
    advance(p);
    skip(p, GQL_TOK_AMP);
    vec v = {0};
    do {
        gql_str *s = vec_push(p, &v, sizeof *s);
        *s = parse_name(p, NULL);
    } while (skip(p, GQL_TOK_AMP));
    t->interfaces = v.items;
    t->n_interfaces = v.count;
}

static void parse_type_system(parser *p, gql_definition *d, int has_desc, gql_str desc, int is_ext)
{
    gql_type_def *t = palloc(p, sizeof *t);
    d->u.type = t;
    t->is_extension = is_ext;
    t->has_description = has_desc;
    t->description = desc;
    if (is_keyword(p, "schema")) {
        d->kind = GQL_DEF_SCHEMA;
        advance(p);
        parse_directives(p, 1, &t->dirs, &t->n_dirs);
        if (is_ext && !peek(p, GQL_TOK_BRACE_L)) {
            if (t->n_dirs == 0)
                unexpected(p);
            return;
        }
        expect(p, GQL_TOK_BRACE_L);
        vec v = {0};
        do {
            gql_root_op_def *r = vec_push(p, &v, sizeof *r);
            r->loc = TOK.loc;
            if (is_keyword(p, "query"))
                r->op = GQL_OP_QUERY;
            else if (is_keyword(p, "mutation"))
                r->op = GQL_OP_MUTATION;
            else if (is_keyword(p, "subscription"))
                r->op = GQL_OP_SUBSCRIPTION;
            else
                unexpected(p);
            advance(p);
            expect(p, GQL_TOK_COLON);
            r->type_name = parse_name(p, NULL);
        } while (!skip(p, GQL_TOK_BRACE_R));
        t->roots = v.items;
        t->n_roots = v.count;
        return;
    }
    if (is_keyword(p, "scalar")) {
        d->kind = GQL_DEF_SCALAR;
        advance(p);
        t->name = parse_name(p, NULL);
        parse_directives(p, 1, &t->dirs, &t->n_dirs);
        return;
    }
    if (is_keyword(p, "type") || is_keyword(p, "interface")) {
        d->kind = is_keyword(p, "type") ? GQL_DEF_OBJECT : GQL_DEF_INTERFACE;
        advance(p);
        t->name = parse_name(p, NULL);
        parse_implements(p, t);
        parse_directives(p, 1, &t->dirs, &t->n_dirs);
        parse_field_defs(p, t);
        return;
    }
    if (is_keyword(p, "union")) {
        d->kind = GQL_DEF_UNION;
        advance(p);
        t->name = parse_name(p, NULL);
        parse_directives(p, 1, &t->dirs, &t->n_dirs);
        if (skip(p, GQL_TOK_EQUALS)) {
            skip(p, GQL_TOK_PIPE);
            vec v = {0};
            do {
                gql_str *s = vec_push(p, &v, sizeof *s);
                *s = parse_name(p, NULL);
            } while (skip(p, GQL_TOK_PIPE));
            t->members = v.items;
            t->n_members = v.count;
        }
        return;
    }
    if (is_keyword(p, "enum")) {
        d->kind = GQL_DEF_ENUM;
        advance(p);
        t->name = parse_name(p, NULL);
        parse_directives(p, 1, &t->dirs, &t->n_dirs);
        if (skip(p, GQL_TOK_BRACE_L)) {
            vec v = {0};
            do {
                gql_enum_value_def *e = vec_push(p, &v, sizeof *e);
                e->has_description = parse_description(p, &e->description);
                if (is_keyword(p, "true") || is_keyword(p, "false") || is_keyword(p, "null"))
                    fail_at(p, ROSTER_E_PARSE, TOK.loc,
                            "Name \"%.*s\" is reserved and cannot be used for an enum value.",
                            (int)TOK.value.len, TOK.value.ptr);
                e->name = parse_name(p, &e->loc);
                parse_directives(p, 1, &e->dirs, &e->n_dirs);
            } while (!skip(p, GQL_TOK_BRACE_R));
            t->values = v.items;
            t->n_values = v.count;
        }
        return;
    }
    if (is_keyword(p, "input")) {
        d->kind = GQL_DEF_INPUT_OBJECT;
        advance(p);
        t->name = parse_name(p, NULL);
        parse_directives(p, 1, &t->dirs, &t->n_dirs);
        parse_input_value_defs(p, GQL_TOK_BRACE_L, GQL_TOK_BRACE_R, &t->input_fields,
                               &t->n_input_fields);
        return;
    }
    if (is_keyword(p, "directive") && !is_ext) {
        d->kind = GQL_DEF_DIRECTIVE;
        advance(p);
        expect(p, GQL_TOK_AT);
        t->name = parse_name(p, NULL);
        parse_input_value_defs(p, GQL_TOK_PAREN_L, GQL_TOK_PAREN_R, &t->input_fields,
                               &t->n_input_fields);
        if (is_keyword(p, "repeatable")) {
            t->repeatable = 1;
            advance(p);
        }
        expect_keyword(p, "on");
        skip(p, GQL_TOK_PIPE);
        vec v = {0};
        do {
            int ok = 0;
            for (int i = 0; i < GQL_DLOC_COUNT; i++)
                if (is_keyword(p, gql_dloc_names[i]))
                    ok = 1;
            if (!ok)
                unexpected(p);
            gql_str *s = vec_push(p, &v, sizeof *s);
            *s = parse_name(p, NULL);
        } while (skip(p, GQL_TOK_PIPE));
        t->locations = v.items;
        t->n_locations = v.count;
        return;
    }
    unexpected(p);
}

static void parse_definition(parser *p, gql_definition *d)
{
    d->loc = TOK.loc;
    if (peek(p, GQL_TOK_BRACE_L)) {
        d->kind = GQL_DEF_OPERATION;
        d->u.op = parse_operation(p);
        return;
    }
    gql_str desc = {0};
    gql_location desc_loc = TOK.loc;
    int has_desc = parse_description(p, &desc);
    if (TOK.kind == GQL_TOK_NAME) {
        static const char *const ts[] = {"schema", "scalar", "type",  "interface",
                                         "union",  "enum",   "input", "directive"};
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
            if (is_keyword(p, ts[i])) {
                parse_type_system(p, d, has_desc, desc, 0);
                return;
            }
        if (has_desc)
            fail_at(p, ROSTER_E_PARSE, desc_loc,
                    "Unexpected description, descriptions are supported only on type "
                    "definitions.");
        if (is_keyword(p, "query") || is_keyword(p, "mutation") || is_keyword(p, "subscription")) {
            d->kind = GQL_DEF_OPERATION;
            d->u.op = parse_operation(p);
            return;
        }
        if (is_keyword(p, "fragment")) {
            d->kind = GQL_DEF_FRAGMENT;
            d->u.frag = parse_fragment(p);
            return;
        }
        if (is_keyword(p, "extend")) {
            advance(p);
            parse_type_system(p, d, 0, desc, 1);
            return;
        }
    }
    unexpected(p);
}

int gql_parse(gql_document **out, gql_errors *errs, const char *text, size_t len,
              const gql_limits *limits)
{
    gql_limits lim = limits ? *limits : gql_limits_default();
    if (lim.max_bytes && len > lim.max_bytes) {
        gql_location none = {0, 0};
        gql_errors_add(errs, GQL_CODE_PARSE_FAILED, &none, 0,
                       "Syntax Error: Document is %zu bytes, more than the max_bytes limit of %zu "
                       "bytes.",
                       len, lim.max_bytes);
        return ROSTER_E_LIMIT;
    }
    /* The document lives in the first block of its own arena: one
     * allocation for documents up to a few KiB. The syntax tree takes 11 to
     * 35 bytes per source byte (the benchmark documents), the most for short
     * documents, so the first block is sized for that. */
    roster_arena arena;
    size_t first = len < (65536 - 4096) / 16 ? len * 16 + 4096 : 65536;
    roster_arena_init(&arena, first, 0);
    gql_document *doc = roster_arena_alloc(&arena, sizeof *doc);
    char *src = doc ? roster_arena_alloc(&arena, len + 1) : NULL;
    if (src == NULL) {
        roster_arena_free(&arena);
        return ROSTER_E_NOMEM;
    }
    memset(doc, 0, sizeof *doc);
    doc->arena = arena;
    if (len)
        memcpy(src, text, len);
    src[len] = '\0';
    doc->source = src;
    doc->source_len = len;
    doc->refs = 1;

    parser pstate;
    parser *p = &pstate;
    p->arena = &doc->arena;
    p->errs = errs;
    p->lim = lim;
    p->n_tokens = 0;
    p->depth = 0;
    p->rc = ROSTER_E_OK;
    gql_lexer_init(&p->lx, src, len, &doc->arena);
    if (setjmp(p->jb)) {
        roster_arena copy = doc->arena;
        roster_arena_free(&copy);
        return pstate.rc;
    }
    advance(p);
    vec defs = {0};
    do {
        gql_definition *d = vec_push(p, &defs, sizeof *d);
        parse_definition(p, d);
    } while (!peek(p, GQL_TOK_EOF));
    doc->defs = defs.items;
    doc->n_defs = defs.count;
    uint32_t nops = 0, nfr = 0;
    for (uint32_t i = 0; i < doc->n_defs; i++) {
        if (doc->defs[i].kind == GQL_DEF_OPERATION)
            nops++;
        else if (doc->defs[i].kind == GQL_DEF_FRAGMENT)
            nfr++;
    }
    doc->ops = palloc(p, (nops + 1) * sizeof *doc->ops);
    doc->frags = palloc(p, (nfr + 1) * sizeof *doc->frags);
    for (uint32_t i = 0; i < doc->n_defs; i++) {
        if (doc->defs[i].kind == GQL_DEF_OPERATION)
            doc->ops[doc->n_ops++] = doc->defs[i].u.op;
        else if (doc->defs[i].kind == GQL_DEF_FRAGMENT)
            doc->frags[doc->n_frags++] = doc->defs[i].u.frag;
    }
    doc->n_tokens = p->n_tokens;
    doc->mem_bytes = doc->arena.used;
    *out = doc;
    return ROSTER_E_OK;
}

gql_document *gql_document_ref(gql_document *doc)
{
    if (doc)
        __atomic_add_fetch(&doc->refs, 1, __ATOMIC_RELAXED);
    return doc;
}

void gql_document_free(gql_document *doc)
{
    if (doc == NULL)
        return;
    if (__atomic_sub_fetch(&doc->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    /* The document itself lives in its arena. */
    roster_arena copy = doc->arena;
    roster_arena_free(&copy);
}

int gql_document_operation(const gql_operation **out, gql_errors *errs, const gql_document *doc,
                           const char *name, size_t len)
{
    const gql_operation *found = NULL;
    if (name == NULL) {
        if (doc->n_ops == 0) {
            gql_errors_add(errs, GQL_CODE_BAD_USER_INPUT, NULL, 0, "Must provide an operation.");
            return ROSTER_E_INVALID_ARGUMENT;
        }
        if (doc->n_ops > 1) {
            gql_errors_add(errs, GQL_CODE_BAD_USER_INPUT, NULL, 0,
                           "Must provide operation name if query contains multiple operations.");
            return ROSTER_E_INVALID_ARGUMENT;
        }
        found = doc->ops[0];
    } else {
        for (uint32_t i = 0; i < doc->n_ops; i++) {
            const gql_operation *op = doc->ops[i];
            if (!op->anonymous && gql_str_eqn(op->name, name, len)) {
                found = op;
                break;
            }
        }
        if (found == NULL) {
            gql_errors_add(errs, GQL_CODE_BAD_USER_INPUT, NULL, 0,
                           "Unknown operation named \"%.*s\".", (int)(len > 200 ? 200 : len), name);
            return ROSTER_E_INVALID_ARGUMENT;
        }
    }
    *out = found;
    return ROSTER_E_OK;
}
