/* Streaming JSON output: a growable byte buffer and a writer that appends
 * JSON tokens to it with correct escaping. Used for GraphQL responses by the
 * engine and by the gateway for its own bodies.
 *
 * Memory errors are sticky: once an append fails the buffer stays marked
 * (`oom`) and further writes are ignored, so callers check once at the end
 * with gql_buf_status(). */
#ifndef ROSTER_GQL_JSON_H
#define ROSTER_GQL_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* A malloc'd growable buffer. `data` is owned by the buffer until taken with
 * gql_buf_take or released with gql_buf_free. Not NUL-terminated unless the
 * caller appends a NUL. */
typedef struct gql_buf {
    char *data;
    size_t len;
    size_t cap;
    int oom; /* an append failed; contents are incomplete */
} gql_buf;

/* Empty buffer; allocates nothing until the first append. */
void gql_buf_init(gql_buf *b);

/* Appends n bytes (copied). Returns ROSTER_E_OK or ROSTER_E_NOMEM (sticky). */
int gql_buf_append(gql_buf *b, const void *p, size_t n);

/* Ensures room for `extra` more bytes. ROSTER_E_OK or ROSTER_E_NOMEM. */
int gql_buf_reserve(gql_buf *b, size_t extra);

/* ROSTER_E_OK, or ROSTER_E_NOMEM if any append failed. */
int gql_buf_status(const gql_buf *b);

/* Hands the bytes (malloc'd, NUL-terminated, caller frees with free()) to
 * the caller and leaves the buffer empty. *out_len gets the length without
 * the NUL. Returns ROSTER_E_OK or ROSTER_E_NOMEM (buffer left unchanged). */
int gql_buf_take(char **out, size_t *out_len, gql_buf *b);

/* Empties the buffer, keeping its memory. */
void gql_buf_clear(gql_buf *b);

/* Releases the memory. Accepts NULL. The buffer may be initialised again. */
void gql_buf_free(gql_buf *b);

/* Writer flags. */
#define GQL_JW_ESCAPE_U2028 1u /* write U+2028/U+2029 as \u2028/\u2029 */

/* A JSON writer appending to a caller-owned buffer. It inserts commas and
 * colons itself; the caller is responsible for balancing begin/end calls
 * and for writing a key before each value inside an object. The writer
 * holds no memory of its own (nothing to free). */
typedef struct gql_jw {
    gql_buf *out;   /* borrowed; must outlive the writer */
    unsigned flags; /* GQL_JW_* */
    int need_comma; /* a value was written at the current level */
} gql_jw;

void gql_jw_init(gql_jw *w, gql_buf *out, unsigned flags);
void gql_jw_object_begin(gql_jw *w);
void gql_jw_object_end(gql_jw *w);
void gql_jw_array_begin(gql_jw *w);
void gql_jw_array_end(gql_jw *w);
/* Object member name (escaped like a string); len bytes of key. */
void gql_jw_key(gql_jw *w, const char *key, size_t len);
/* Member name from a NUL-terminated string. */
void gql_jw_keyz(gql_jw *w, const char *key);
/* A string value. Every byte sequence gives valid JSON: control characters
 * are escaped, invalid UTF-8 is replaced by U+FFFD. */
void gql_jw_string(gql_jw *w, const char *s, size_t len);
void gql_jw_stringz(gql_jw *w, const char *s);
void gql_jw_int(gql_jw *w, int64_t v);
/* Finite doubles are written with the shortest text that reads back the
 * same (integral values without a fraction, like JavaScript); NaN and
 * infinities are written as null. */
void gql_jw_double(gql_jw *w, double v);
void gql_jw_bool(gql_jw *w, int v);
void gql_jw_null(gql_jw *w);
/* Appends `len` bytes of already-encoded JSON as one value, verbatim. */
void gql_jw_raw(gql_jw *w, const char *json, size_t len);
/* Writes a jansson value (borrowed) as one value. */
void gql_jw_json(gql_jw *w, const json_t *v);

/* Appends the escaped body of a JSON string (no quotes) to b. */
void gql_json_escape(gql_buf *b, const char *s, size_t len, unsigned flags);

#endif
