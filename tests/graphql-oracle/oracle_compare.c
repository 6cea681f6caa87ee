#include "oracle_compare.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER)

/* Compact JSON of v (malloc'd; "null" for NULL). */
static char *dump(const json_t *v)
{
    return v ? json_dumps(v, DUMP_FLAGS) : strdup("null");
}

static int cmp_members(const json_t *a, const json_t *b, const char *const *keys)
{
    for (; *keys; keys++) {
        char *x = dump(json_object_get(a, *keys));
        char *y = dump(json_object_get(b, *keys));
        int r = x && y ? strcmp(x, y) : 0;
        free(x);
        free(y);
        if (r)
            return r;
    }
    return 0;
}

static int cmp_validation(const void *a, const void *b)
{
    static const char *const keys[] = {"locations", "message", NULL};
    return cmp_members(*(json_t *const *)a, *(json_t *const *)b, keys);
}

static int cmp_exec(const void *a, const void *b)
{
    static const char *const keys[] = {"path", "locations", "message", NULL};
    return cmp_members(*(json_t *const *)a, *(json_t *const *)b, keys);
}

static void sort_array(json_t *arr, int (*cmp)(const void *, const void *))
{
    size_t n = json_array_size(arr);
    if (n < 2)
        return;
    json_t **items = malloc(n * sizeof *items);
    if (!items)
        return;
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(arr, i));
    qsort(items, n, sizeof *items, cmp);
    for (size_t i = 0; i < n; i++)
        json_array_set_new(arr, i, items[i]);
    free(items);
}

void oracle_verdict_sort(json_t *v)
{
    sort_array(json_object_get(v, "validation"), cmp_validation);
    sort_array(json_object_get(json_object_get(v, "result"), "errors"), cmp_exec);
}

__attribute__((format(printf, 2, 3))) static void note(gql_buf *r, const char *fmt, ...)
{
    if (!r)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    gql_buf_append(r, "    ", 4);
    gql_buf_append(r, line, (size_t)n);
    gql_buf_append(r, "\n", 1);
}

/* Notes where two JSON values first differ; path is the location so far. */
static void diff_json(gql_buf *r, const char *path, const json_t *a, const json_t *b)
{
    char *x = dump(a), *y = dump(b);
    int same = x && y && strcmp(x, y) == 0;
    if (same) {
        free(x);
        free(y);
        return;
    }
    if (json_is_object(a) && json_is_object(b)) {
        const char *ka, *kb;
        json_t *va, *vb;
        void *ia = json_object_iter((json_t *)a), *ib = json_object_iter((json_t *)b);
        for (; ia && ib; ia = json_object_iter_next((json_t *)a, ia),
                         ib = json_object_iter_next((json_t *)b, ib)) {
            ka = json_object_iter_key(ia);
            kb = json_object_iter_key(ib);
            va = json_object_iter_value(ia);
            vb = json_object_iter_value(ib);
            if (strcmp(ka, kb) != 0) {
                note(r, "%s: key \"%s\" expected, \"%s\" found", path, ka, kb);
                goto out;
            }
            char sub[512];
            snprintf(sub, sizeof sub, "%s.%s", path, ka);
            char *p = dump(va), *q = dump(vb);
            int eq = p && q && strcmp(p, q) == 0;
            free(p);
            free(q);
            if (!eq) {
                diff_json(r, sub, va, vb);
                goto out;
            }
        }
        note(r, "%s: %s", path, ia ? "members missing" : "extra members");
        goto out;
    }
    if (json_is_array(a) && json_is_array(b) && json_array_size(a) == json_array_size(b)) {
        for (size_t i = 0; i < json_array_size(a); i++) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            char *p = dump(json_array_get(a, i)), *q = dump(json_array_get(b, i));
            int eq = p && q && strcmp(p, q) == 0;
            free(p);
            free(q);
            if (!eq) {
                diff_json(r, sub, json_array_get(a, i), json_array_get(b, i));
                goto out;
            }
        }
    }
    note(r, "%s: expected %.300s", path, x ? x : "?");
    note(r, "%s: found    %.300s", path, y ? y : "?");
out:
    free(x);
    free(y);
}

static int same_json(const json_t *a, const json_t *b)
{
    char *x = dump(a), *y = dump(b);
    int r = x && y && strcmp(x, y) == 0;
    free(x);
    free(y);
    return r;
}

static const char *msg(const json_t *e)
{
    const char *m = json_string_value(json_object_get(e, "message"));
    return m ? m : "";
}

static int claimed_exec_message(const json_t *want)
{
    const char *m = msg(want);
    return json_is_true(json_object_get(want, "stub")) ||
           strncmp(m, "Unknown operation named", 23) == 0 ||
           strncmp(m, "Must provide operation name", 27) == 0 ||
           strncmp(m, "Must provide an operation", 25) == 0;
}

int oracle_compare(const json_t *want, const json_t *got, gql_buf *r)
{
    int verdict = ORACLE_MATCH;
#define MISMATCH(...)                                                                              \
    do {                                                                                           \
        note(r, __VA_ARGS__);                                                                      \
        verdict = ORACLE_MISMATCH;                                                                 \
    } while (0)
#define WORDING(...)                                                                               \
    do {                                                                                           \
        note(r, __VA_ARGS__);                                                                      \
        if (verdict == ORACLE_MATCH)                                                               \
            verdict = ORACLE_WORDING;                                                              \
    } while (0)

    const char *failure = json_string_value(json_object_get(got, "engine_failure"));
    if (failure)
        MISMATCH("engine failure: %s", failure);

    const json_t *wp = json_object_get(want, "parse"), *gp = json_object_get(got, "parse");
    int wok = json_is_true(json_object_get(wp, "ok")),
        gok = json_is_true(json_object_get(gp, "ok"));
    if (wok != gok) {
        MISMATCH("parse: graphql-js %s, ours %s (%s)", wok ? "ok" : "error", gok ? "ok" : "error",
                 wok ? msg(gp) : msg(wp));
        return verdict;
    }
    if (!wok) {
        if (!same_json(json_object_get(wp, "locations"), json_object_get(gp, "locations"))) {
            char *x = dump(json_object_get(wp, "locations"));
            char *y = dump(json_object_get(gp, "locations"));
            MISMATCH("parse location: graphql-js %s, ours %s (%s)", x, y, msg(wp));
            free(x);
            free(y);
        }
        if (strcmp(msg(wp), msg(gp)) != 0)
            WORDING("parse message: graphql-js \"%s\", ours \"%s\"", msg(wp), msg(gp));
        return verdict;
    }

    const json_t *wv = json_object_get(want, "validation"),
                 *gv = json_object_get(got, "validation");
    size_t nw = json_array_size(wv), ng = json_array_size(gv);
    if (nw != ng) {
        MISMATCH("validation: graphql-js %zu errors, ours %zu", nw, ng);
        for (size_t i = 0; i < nw; i++)
            note(r, "  graphql-js: %s", msg(json_array_get(wv, i)));
        for (size_t i = 0; i < ng; i++)
            note(r, "  ours:       %s", msg(json_array_get(gv, i)));
        return verdict;
    }
    for (size_t i = 0; i < nw; i++) {
        const json_t *a = json_array_get(wv, i), *b = json_array_get(gv, i);
        if (!same_json(json_object_get(a, "locations"), json_object_get(b, "locations"))) {
            char *x = dump(json_object_get(a, "locations")),
                 *y = dump(json_object_get(b, "locations"));
            MISMATCH("validation[%zu] locations: graphql-js %s, ours %s (%s)", i, x, y, msg(a));
            free(x);
            free(y);
        } else if (strcmp(msg(a), msg(b)) != 0) {
            MISMATCH("validation[%zu] message: graphql-js \"%s\", ours \"%s\"", i, msg(a), msg(b));
        }
    }
    if (nw)
        return verdict;

    const json_t *wr = json_object_get(want, "result"), *gr = json_object_get(got, "result");
    if (!gr) {
        if (!failure)
            MISMATCH("no execution result");
        return verdict;
    }
    const json_t *wd = json_object_get(wr, "data"), *gd = json_object_get(gr, "data");
    if (!wd != !gd)
        MISMATCH("result: graphql-js %s \"data\", ours %s", wd ? "has" : "has no",
                 gd ? "has it" : "has not");
    else if (wd && !same_json(wd, gd)) {
        verdict = ORACLE_MISMATCH;
        diff_json(r, "data", wd, gd);
    }
    const json_t *we = json_object_get(wr, "errors"), *ge = json_object_get(gr, "errors");
    nw = json_array_size(we);
    ng = json_array_size(ge);
    if (nw != ng) {
        MISMATCH("errors: graphql-js %zu, ours %zu", nw, ng);
        for (size_t i = 0; i < nw; i++)
            note(r, "  graphql-js: %s", msg(json_array_get(we, i)));
        for (size_t i = 0; i < ng; i++)
            note(r, "  ours:       %s", msg(json_array_get(ge, i)));
        return verdict;
    }
    for (size_t i = 0; i < nw; i++) {
        const json_t *a = json_array_get(we, i), *b = json_array_get(ge, i);
        char where[32];
        snprintf(where, sizeof where, "errors[%zu]", i);
        if (!same_json(json_object_get(a, "path"), json_object_get(b, "path"))) {
            verdict = ORACLE_MISMATCH;
            diff_json(r, where, json_object_get(a, "path"), json_object_get(b, "path"));
        }
        if (!same_json(json_object_get(a, "locations"), json_object_get(b, "locations"))) {
            char *x = dump(json_object_get(a, "locations")),
                 *y = dump(json_object_get(b, "locations"));
            MISMATCH("%s locations: graphql-js %s, ours %s (%s)", where, x, y, msg(a));
            free(x);
            free(y);
        }
        if (json_is_true(json_object_get(a, "stub")) != json_is_true(json_object_get(b, "stub")))
            MISMATCH("%s: raised by the stub on one side only (%s)", where, msg(a));
        if (strcmp(msg(a), msg(b)) != 0) {
            if (claimed_exec_message(a))
                MISMATCH("%s message: graphql-js \"%s\", ours \"%s\"", where, msg(a), msg(b));
            else
                WORDING("%s message: graphql-js \"%s\", ours \"%s\"", where, msg(a), msg(b));
        }
    }
    return verdict;
#undef MISMATCH
#undef WORDING
}
