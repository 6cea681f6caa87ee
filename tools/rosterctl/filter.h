/* The compact list syntax of rosterctl: --filter expressions, --order and
 * --search, parsed into a neutral form that the live commands turn into a
 * ListUsers / ListTenants request.
 *
 * Filter expression:  FIELD OP VALUE
 *   OP      GraphQL operator      field types
 *   =       equalTo               id string boolean date
 *   !=      notEqualTo            id string boolean date
 *   ~       like                  string
 *   ~*      iLike                 string
 *   <  <=   lessThan lessThanEqual   date
 *   >  >=   moreThan moreThanEqual   date
 *   =[a,b]  valueIn               id string
 *   !=[a,b] valueNotIn            id string
 *   =null   equalTo: null         any (IS NULL)
 *   !=null  notEqualTo: null      any (IS NOT NULL)
 * Operators are matched longest first right after the field name. VALUE is
 * the rest of the expression taken literally, unless it is `null`, starts
 * with `[` (a list) or starts with `"` (a quoted string: \" and \\ escape,
 * so "null" and "[x]" are plain strings). List items are separated by
 * commas; an item may be quoted to hold a comma or a bracket; `[]` is an
 * empty list. Booleans are `true` or `false`; dates are ISO-8601.
 *
 * customData: `customData.PATH OP VALUE` with PATH a dot path declared as
 * an index by roster-users (--custom-index) and OP one of = != < <= > >=
 * =[..]; VALUE is JSON (10, true, "pro") or, when it does not parse as
 * JSON, a string (customData.plan=pro is "pro"). Each such expression is
 * one CustomDataCondition, ANDed with the rest.
 *
 * Nothing here names a field. The fields are those of the filter message
 * (roster.v1.UserFilter, TenantFilter), in its order, with their GraphQL
 * names; a field's kind is the filter message it holds (IdFilter,
 * StringFilter, BoolFilter, DateFilter: model_filter), and the operators a
 * kind takes are the slots its message has ("like" for `~`, "equalToNull"
 * for `=null`...). A new filterable field or operator in roster.proto is
 * picked up without a change here. */
#ifndef ROSTERCTL_FILTER_H
#define ROSTERCTL_FILTER_H

#include "error.h"
#include "model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Operators; each fills one GraphQL operator slot (see ctl_op_slot). */
typedef enum ctl_op {
    CTL_OP_EQ,
    CTL_OP_NE,
    CTL_OP_LIKE,
    CTL_OP_ILIKE,
    CTL_OP_IN,
    CTL_OP_NOT_IN,
    CTL_OP_LT,
    CTL_OP_LE,
    CTL_OP_GT,
    CTL_OP_GE,
    CTL_OP_IS_NULL,  /* equalTo: null */
    CTL_OP_NOT_NULL, /* notEqualTo: null */
} ctl_op;

/* What may be filtered on: the filter message of a list request. */
typedef struct ctl_field_table {
    const char *entity;                   /* "user" or "tenant", for messages */
    const ProtobufCMessageDescriptor *pb; /* roster.v1.UserFilter */
} ctl_field_table;

/* Static: UserFilter (UserFilterArgType) and TenantFilter. */
extern const ctl_field_table ctl_user_filter_fields;
extern const ctl_field_table ctl_tenant_filter_fields;

/* One condition. Strings are owned by the condition (freed with the
 * filter that holds it). Which member is meaningful depends on op and the
 * field's kind: text for id/string ops, list for IN/NOT_IN, boolean for
 * bool EQ/NE, ms for date ops; nothing for IS_NULL/NOT_NULL. */
typedef struct ctl_cond {
    const ProtobufCFieldDescriptor *field; /* the field of the filter message; static */
    char name[48];                         /* its GraphQL name, "firstName" */
    model_filter kind;
    ctl_op op;
    char *text;
    char **list;
    size_t list_len;
    bool boolean;
    int64_t ms;
    char *path; /* customData condition: the dot path (owned); text and
                 * list hold JSON texts; field is NULL */
} ctl_cond;

/* A set of conditions, ANDed. Zero-initialise before the first parse. */
typedef struct ctl_filter {
    ctl_cond *conds; /* owned array */
    size_t count;
    size_t cap;
} ctl_filter;

/* Parses one expression against `table` and appends its condition to f.
 * Returns ROSTER_E_OK; ROSTER_E_INVALID_ARGUMENT with d naming the field
 * and what was wrong (unknown field, operator not valid for the field's
 * kind, bad value, an operator given twice for one field); ROSTER_E_NOMEM.
 * On failure f is unchanged. `expr` is borrowed for the call only. */
int ctl_filter_parse(ctl_filter *f, const ctl_field_table *table, const char *expr,
                     roster_err_detail *d);

/* Frees what f owns and zeroes it. Accepts NULL. */
void ctl_filter_free(ctl_filter *f);

/* GraphQL name of the operator slot an op fills ("equalTo", "iLike"...);
 * IS_NULL shares equalTo and NOT_NULL shares notEqualTo. Static. */
const char *ctl_op_slot(ctl_op op);

/* The field of the kind's filter message (IdFilter...) that op sets:
 * the slot, or equalToNull / notEqualToNull for IS_NULL / NOT_NULL.
 * Static; NULL when the kind has no such operator. */
const ProtobufCFieldDescriptor *ctl_op_field(model_filter kind, ctl_op op);

/* --order FIELD[:asc|desc]. sort is the number of a UserSortField /
 * TenantSortField value, order of a SortOrder value (ASC or DESC). */
typedef struct ctl_order {
    bool set;
    int sort;
    int order;
    char custom[136]; /* customData.PATH given: PATH (sort unset), else "" */
} ctl_order;

/* Parses a user (`tenant` false) or tenant order. FIELD is a camelCase or
 * UPPER_SNAKE name of UserSortField / TenantSortField (the GraphQL
 * UserOrderSortEnum / TenantOrderSortEnum), or for users customData.PATH
 * (a declared customData index); direction is asc or desc in
 * any case and defaults to asc. Returns ROSTER_E_OK or
 * ROSTER_E_INVALID_ARGUMENT with d filled; *out written only on success. */
int ctl_order_parse(ctl_order *out, bool tenant, const char *text, roster_err_detail *d);

/* --search KEY:VALUE with KEY the camelCase name of a UserSearchKey value.
 * key is its number; value borrows from the parsed text. */
typedef struct ctl_search {
    bool set;
    int key;
    const char *value;
} ctl_search;

/* Returns ROSTER_E_OK or ROSTER_E_INVALID_ARGUMENT with d filled; *out
 * written only on success and borrows `text`, which must outlive it. */
int ctl_search_parse(ctl_search *out, const char *text, roster_err_detail *d);

#endif
