/* Filter conditions of list queries (StringFilter, IdFilter, BoolFilter,
 * DateFilter) checked and evaluated against record values. Null semantics
 * follow SQL: a null value matches only equalTo: null (IS NULL); every
 * other operator leaves nulls out, except an empty valueNotIn, which is no
 * condition at all. An empty valueIn matches nothing. */
#ifndef ROSTER_STORE_FILTER_H
#define ROSTER_STORE_FILTER_H

#include "record.h"
#include "text_pattern.h"

#include "arena.h"
#include "error.h"
#include "roster.pb-c.h"

/* An IdFilter with its ids parsed. */
typedef struct id_cond {
    bool active; /* a filter was given */
    bool has_eq, has_neq, has_in, is_null, not_null;
    roster_uuid eq, neq;
    roster_uuid *in, *not_in; /* arena arrays */
    size_t n_in, n_not_in;
} id_cond;

/* Parses f (may be NULL: no condition) into *out; ids are checked and a
 * malformed one is INVALID_ARGUMENT naming `field`. Arrays live in arena. */
int filter_id_parse(id_cond *out, const Roster__V1__IdFilter *f, const char *field,
                    roster_arena *arena, roster_err_detail *detail);

/* Checks a StringFilter (may be NULL): list sizes at most
 * ROSTER_MAX_FILTER_VALUES, like and iLike at most ROSTER_MAX_PATTERN
 * bytes (INVALID_ARGUMENT naming `field`.like or `field`.iLike). */
int filter_str_check(const Roster__V1__StringFilter *f, const char *field,
                     roster_err_detail *detail);

/* A value of an equality operator, its length taken once. */
typedef struct str_val {
    const char *p; /* borrowed from the request, or arena-owned when folded */
    size_t n;
} str_val;

/* A StringFilter ready to match: its like and iLike patterns compiled,
 * the values of its equality operators measured once and, for a field
 * compared case-insensitively (MODEL_FOLD_CASE: email), folded as the
 * unique index folds them (text_fold_key), so equalTo, notEqualTo,
 * valueIn and valueNotIn agree with uniqueness. */
typedef struct str_cond {
    const Roster__V1__StringFilter *f; /* borrowed from the request; NULL: no condition */
    bool fold;
    str_val eq, neq;      /* p NULL when not given */
    str_val *in, *not_in; /* arena arrays; NULL when not given */
    size_t n_in, n_not_in;
    text_pattern *like, *i_like; /* NULL when not given; arena-owned */
} str_cond;

/* Checks f (as filter_str_check) and compiles it into *out; NULL f is no
 * condition. `fold` compares equality through text_fold_key. Everything
 * compiled lives in arena. */
int filter_str_compile(str_cond *out, const Roster__V1__StringFilter *f, const char *field,
                       bool fold, roster_arena *arena, roster_err_detail *detail);

/* Whether value (null when !value.set) satisfies the compiled filter c
 * (borrowed for the call). */
bool filter_str_cond_match(const str_cond *c, rec_str value);

/* Whether value (null when !present) satisfies the condition. */
bool filter_id_match(const id_cond *c, const roster_uuid *value, bool present);
bool filter_bool_match(const Roster__V1__BoolFilter *f, rec_bool value);
bool filter_date_match(const Roster__V1__DateFilter *f, int64_t value);

#endif
