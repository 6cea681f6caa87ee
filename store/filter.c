#include "filter.h"

#include "keys.h"
#include "text.h"

#include "roster_limits.h"

#include <stdio.h>
#include <string.h>

static int parse_list(roster_uuid **out, size_t *n_out, const Roster__V1__StringList *l,
                      const char *field, roster_arena *arena, roster_err_detail *detail)
{
    if (l->n_values > ROSTER_MAX_FILTER_VALUES)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field,
                           "%s lists %zu values; at most %d are allowed", field, l->n_values,
                           ROSTER_MAX_FILTER_VALUES);
    roster_uuid *ids = roster_arena_alloc(arena, (l->n_values ? l->n_values : 1) * sizeof *ids);
    if (ids == NULL)
        return ROSTER_E_NOMEM;
    for (size_t i = 0; i < l->n_values; i++)
        if (roster_uuid_parse(&ids[i], l->values[i], strlen(l->values[i])) != ROSTER_E_OK)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field,
                               "%s holds a value that is not a UUID", field);
    *out = ids;
    *n_out = l->n_values;
    return ROSTER_E_OK;
}

int filter_id_parse(id_cond *out, const Roster__V1__IdFilter *f, const char *field,
                    roster_arena *arena, roster_err_detail *detail)
{
    id_cond c;
    memset(&c, 0, sizeof c);
    int err;
    if (f == NULL) {
        *out = c;
        return ROSTER_E_OK;
    }
    c.active = true;
    if (f->equal_to) {
        if (roster_uuid_parse(&c.eq, f->equal_to, strlen(f->equal_to)) != ROSTER_E_OK)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field, "%s.equalTo is not a UUID",
                               field);
        c.has_eq = true;
    }
    if (f->not_equal_to) {
        if (roster_uuid_parse(&c.neq, f->not_equal_to, strlen(f->not_equal_to)) != ROSTER_E_OK)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field,
                               "%s.notEqualTo is not a UUID", field);
        c.has_neq = true;
    }
    if (f->value_in) {
        if ((err = parse_list(&c.in, &c.n_in, f->value_in, field, arena, detail)) != ROSTER_E_OK)
            return err;
        c.has_in = true;
    }
    if (f->value_not_in && (err = parse_list(&c.not_in, &c.n_not_in, f->value_not_in, field, arena,
                                             detail)) != ROSTER_E_OK)
        return err;
    c.is_null = f->has_equal_to_null && f->equal_to_null;
    c.not_null = f->has_not_equal_to_null && f->not_equal_to_null;
    *out = c;
    return ROSTER_E_OK;
}

int filter_str_check(const Roster__V1__StringFilter *f, const char *field,
                     roster_err_detail *detail)
{
    if (f == NULL)
        return ROSTER_E_OK;
    if ((f->value_in && f->value_in->n_values > ROSTER_MAX_FILTER_VALUES) ||
        (f->value_not_in && f->value_not_in->n_values > ROSTER_MAX_FILTER_VALUES))
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field, "%s lists more than %d values",
                           field, ROSTER_MAX_FILTER_VALUES);
    const char *pat[2] = {f->like, f->i_like};
    const char *op[2] = {"like", "iLike"};
    for (int i = 0; i < 2; i++) {
        if (pat[i] == NULL)
            continue;
        size_t n = strlen(pat[i]);
        if (n > ROSTER_MAX_PATTERN) {
            char name[sizeof(((roster_err_detail *)0)->field)];
            snprintf(name, sizeof name, "%s.%s", field, op[i]);
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, name,
                               "%s is %zu bytes; at most %d are allowed", name, n,
                               ROSTER_MAX_PATTERN);
        }
    }
    return ROSTER_E_OK;
}

/* The value v[0..n) as a comparison value: measured, and folded into
 * the arena when `fold` (a value too long to fold is kept as it is, as
 * the unique index keeps nothing longer). */
static int str_val_make(str_val *out, const char *v, bool fold, roster_arena *arena)
{
    size_t n = strlen(v);
    if (!fold || n > KEY_FOLD_CAP) {
        *out = (str_val){v, n};
        return ROSTER_E_OK;
    }
    unsigned char *k = roster_arena_alloc(arena, KEY_FOLD_CAP);
    if (k == NULL)
        return ROSTER_E_NOMEM;
    *out = (str_val){(const char *)k, text_fold_key(k, KEY_FOLD_CAP, v, n)};
    return ROSTER_E_OK;
}

static int str_list_make(str_val **out, size_t *n_out, const Roster__V1__StringList *l, bool fold,
                         roster_arena *arena)
{
    str_val *vals = roster_arena_alloc(arena, (l->n_values ? l->n_values : 1) * sizeof *vals);
    if (vals == NULL)
        return ROSTER_E_NOMEM;
    for (size_t i = 0; i < l->n_values; i++) {
        int err = str_val_make(&vals[i], l->values[i], fold, arena);
        if (err != ROSTER_E_OK)
            return err;
    }
    *out = vals;
    *n_out = l->n_values;
    return ROSTER_E_OK;
}

int filter_str_compile(str_cond *out, const Roster__V1__StringFilter *f, const char *field,
                       bool fold, roster_arena *arena, roster_err_detail *detail)
{
    str_cond c;
    memset(&c, 0, sizeof c);
    c.f = f;
    c.fold = fold;
    int err = filter_str_check(f, field, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (f == NULL) {
        *out = c;
        return ROSTER_E_OK;
    }
    if ((f->equal_to && (err = str_val_make(&c.eq, f->equal_to, fold, arena)) != ROSTER_E_OK) ||
        (f->not_equal_to &&
         (err = str_val_make(&c.neq, f->not_equal_to, fold, arena)) != ROSTER_E_OK) ||
        (f->value_in &&
         (err = str_list_make(&c.in, &c.n_in, f->value_in, fold, arena)) != ROSTER_E_OK) ||
        (f->value_not_in && (err = str_list_make(&c.not_in, &c.n_not_in, f->value_not_in, fold,
                                                 arena)) != ROSTER_E_OK))
        return err;
    const char *pat[2] = {f->like, f->i_like};
    text_pattern **dst[2] = {&c.like, &c.i_like};
    for (int i = 0; i < 2; i++) {
        if (pat[i] == NULL)
            continue;
        text_pattern *p = roster_arena_alloc(arena, sizeof *p);
        if (p == NULL)
            return ROSTER_E_NOMEM;
        if (!text_pattern_compile(p, pat[i], strlen(pat[i]), i == 1))
            return ROSTER_E_INVALID_ARGUMENT; /* checked above */
        *dst[i] = p;
    }
    *out = c;
    return ROSTER_E_OK;
}

static bool id_in(const roster_uuid *list, size_t n, const roster_uuid *v)
{
    for (size_t i = 0; i < n; i++)
        if (roster_uuid_eq(&list[i], v))
            return true;
    return false;
}

bool filter_id_match(const id_cond *c, const roster_uuid *value, bool present)
{
    if (!c->active)
        return true;
    if (c->is_null && present)
        return false;
    if (c->not_null && !present)
        return false;
    if (!present)
        return !(c->has_eq || c->has_neq || c->has_in || c->n_not_in);
    if (c->has_eq && !roster_uuid_eq(&c->eq, value))
        return false;
    if (c->has_neq && roster_uuid_eq(&c->neq, value))
        return false;
    if (c->has_in && !id_in(c->in, c->n_in, value))
        return false;
    if (c->n_not_in && id_in(c->not_in, c->n_not_in, value))
        return false;
    return true;
}

static bool val_eq(const char *p, size_t n, str_val v)
{
    return v.n == n && (n == 0 || memcmp(v.p, p, n) == 0);
}

static bool val_in(const char *p, size_t n, const str_val *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (val_eq(p, n, list[i]))
            return true;
    return false;
}

bool filter_str_cond_match(const str_cond *c, rec_str v)
{
    const Roster__V1__StringFilter *f = c->f;
    if (f == NULL)
        return true;
    if (f->has_equal_to_null && f->equal_to_null && v.set)
        return false;
    if (f->has_not_equal_to_null && f->not_equal_to_null && !v.set)
        return false;
    bool value_ops = f->equal_to || f->not_equal_to || f->like || f->i_like || f->value_in ||
                     (f->value_not_in && f->value_not_in->n_values);
    if (!v.set)
        return !value_ops;
    /* The value the equality operators compare: folded for a fold field. */
    const char *e = v.p;
    size_t en = v.n;
    unsigned char folded[KEY_FOLD_CAP];
    if (c->fold && v.n <= KEY_FOLD_CAP &&
        (f->equal_to || f->not_equal_to || f->value_in || f->value_not_in)) {
        en = text_fold_key(folded, sizeof folded, v.p, v.n);
        e = (const char *)folded;
    }
    if (f->equal_to && !val_eq(e, en, c->eq))
        return false;
    if (f->not_equal_to && val_eq(e, en, c->neq))
        return false;
    if (c->like && !text_pattern_match(c->like, v.p, v.n))
        return false;
    if (c->i_like && !text_pattern_match(c->i_like, v.p, v.n))
        return false;
    if (f->value_in && !val_in(e, en, c->in, c->n_in))
        return false;
    if (f->value_not_in && val_in(e, en, c->not_in, c->n_not_in))
        return false;
    return true;
}

bool filter_bool_match(const Roster__V1__BoolFilter *f, rec_bool v)
{
    if (f == NULL)
        return true;
    if (f->has_equal_to_null && f->equal_to_null && v >= 0)
        return false;
    if (f->has_not_equal_to_null && f->not_equal_to_null && v < 0)
        return false;
    if (v < 0)
        return !(f->has_equal_to || f->has_not_equal_to);
    if (f->has_equal_to && (v != 0) != (f->equal_to != 0))
        return false;
    if (f->has_not_equal_to && (v != 0) == (f->not_equal_to != 0))
        return false;
    return true;
}

bool filter_date_match(const Roster__V1__DateFilter *f, int64_t v)
{
    if (f == NULL)
        return true;
    if (f->has_equal_to_null && f->equal_to_null)
        return false; /* dates are never null */
    if (f->has_equal_to && v != f->equal_to)
        return false;
    if (f->has_not_equal_to && v == f->not_equal_to)
        return false;
    if (f->has_less_than && !(v < f->less_than))
        return false;
    if (f->has_less_than_equal && !(v <= f->less_than_equal))
        return false;
    if (f->has_more_than && !(v > f->more_than))
        return false;
    if (f->has_more_than_equal && !(v >= f->more_than_equal))
        return false;
    return true;
}
