#include "gql_error.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

void gql_errors_init(gql_errors *e)
{
    e->head = NULL;
    e->tail = NULL;
    e->count = 0;
    e->max = 0;
    e->nomem = 0;
    roster_arena_init(&e->arena, 2048, 0);
}

void gql_errors_free(gql_errors *e)
{
    if (e == NULL)
        return;
    roster_arena_free(&e->arena);
    e->head = NULL;
    e->tail = NULL;
    e->count = 0;
}

gql_error *gql_errors_vadd(gql_errors *e, const char *code, const gql_location *locs,
                           uint32_t n_locs, const char *fmt, va_list ap)
{
    size_t max = e->max ? e->max : 100;
    if (e->count >= max)
        return NULL;
    gql_error *err = roster_arena_alloc(&e->arena, sizeof *err);
    if (err == NULL)
        goto fail;
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        n = 0;
    char *msg = roster_arena_alloc(&e->arena, (size_t)n + 1);
    if (msg == NULL)
        goto fail;
    if ((size_t)n < sizeof small)
        memcpy(msg, small, (size_t)n + 1);
    else
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
    err->message = msg;
    err->message_len = (size_t)n;
    err->code = code ? code : GQL_CODE_INTERNAL;
    err->n_locations = 0;
    err->locations = NULL;
    uint32_t nl = 0;
    for (uint32_t i = 0; i < n_locs; i++)
        if (locs[i].line)
            nl++;
    if (nl) {
        err->locations = roster_arena_alloc(&e->arena, nl * sizeof *err->locations);
        if (err->locations == NULL)
            goto fail;
        for (uint32_t i = 0; i < n_locs; i++)
            if (locs[i].line)
                err->locations[err->n_locations++] = locs[i];
    }
    err->next = NULL;
    if (e->tail)
        e->tail->next = err;
    else
        e->head = err;
    e->tail = err;
    e->count++;
    return err;
fail:
    e->nomem = 1;
    return NULL;
}

gql_error *gql_errors_add(gql_errors *e, const char *code, const gql_location *locs,
                          uint32_t n_locs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gql_error *err = gql_errors_vadd(e, code, locs, n_locs, fmt, ap);
    va_end(ap);
    return err;
}

void gql_error_write(gql_jw *w, const gql_error *err, gql_error_ext_fn ext, void *ud)
{
    gql_jw_object_begin(w);
    gql_jw_key(w, "message", 7);
    gql_jw_string(w, err->message, err->message_len);
    if (err->n_locations) {
        gql_jw_key(w, "locations", 9);
        gql_jw_array_begin(w);
        for (uint32_t i = 0; i < err->n_locations; i++) {
            gql_jw_object_begin(w);
            gql_jw_key(w, "line", 4);
            gql_jw_int(w, err->locations[i].line);
            gql_jw_key(w, "column", 6);
            gql_jw_int(w, err->locations[i].column);
            gql_jw_object_end(w);
        }
        gql_jw_array_end(w);
    }
    gql_jw_key(w, "extensions", 10);
    gql_jw_object_begin(w);
    gql_jw_key(w, "code", 4);
    gql_jw_stringz(w, err->code);
    if (ext)
        ext(w, err->code, err->message, err->message_len, ud);
    gql_jw_object_end(w);
    gql_jw_object_end(w);
}

void gql_errors_write_response(gql_jw *w, const gql_errors *e, gql_error_ext_fn ext, void *ud)
{
    gql_jw_object_begin(w);
    gql_jw_key(w, "errors", 6);
    gql_jw_array_begin(w);
    for (const gql_error *err = e->head; err; err = err->next)
        gql_error_write(w, err, ext, ud);
    gql_jw_array_end(w);
    gql_jw_object_end(w);
}
