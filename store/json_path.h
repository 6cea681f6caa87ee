/* Reading one value at a dot path of a stored customData object without
 * building a JSON tree: what a scan that tests customData on every record
 * needs, where jansson's parse (an allocation per member) was most of the
 * cost.
 *
 * The reader takes only the plain form most stored JSON has and answers
 * for it exactly what json_loadb (flags 0) followed by a walk of the path
 * gives: strings without escapes or control characters (well-formed UTF-8,
 * as jansson checks it), integers of at most 18 digits, decimals without
 * an exponent, true, false, null, objects and arrays nested at most
 * JSON_PATH_DEPTH deep, and an object at the top. A repeated key holds
 * the value it is given last, as jansson keeps it. For any other text
 * (escapes, exponents, long numbers, deep nesting, anything malformed) it
 * says so, and the caller parses with jansson instead. */
#ifndef ROSTER_STORE_JSON_PATH_H
#define ROSTER_STORE_JSON_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_PATH_DEPTH 32
#define JSON_PATH_MAX   32 /* paths json_path_read takes at once */

/* A value in the text: its bytes (a string's without the quotes). */
typedef enum json_path_kind {
    JSON_PATH_NONE, /* no value at the path */
    JSON_PATH_STRING,
    JSON_PATH_INTEGER, /* a number without fraction or exponent */
    JSON_PATH_REAL,    /* a number with a fraction */
    JSON_PATH_TRUE,
    JSON_PATH_FALSE,
    JSON_PATH_NULL,
    JSON_PATH_OBJECT,
    JSON_PATH_ARRAY,
} json_path_kind;

typedef struct json_path_value {
    json_path_kind kind;
    const char *p; /* borrowed from the text */
    size_t n;
} json_path_value;

/* Reads text[0..n) once: false when it is not a JSON object in the plain
 * form above (the caller then parses it with jansson, which may accept it
 * or not); else true, with the value at dot path paths[i]
 * (NUL-terminated; "a.b" is member b of member a) in out[i] for each of
 * the np paths: kind JSON_PATH_NONE when a member is missing or a step is
 * not an object. Values are borrowed slices of text. */
bool json_path_read(json_path_value *out, const char *const *paths, size_t np, const char *text,
                    size_t n);

/* Whether text[0..n), whatever it holds, surely has no value at `path`:
 * it holds no backslash (so every key is written as it reads) and no
 * quoted first step of the path. A cheap test before any parse. */
bool json_path_surely_absent(const char *text, size_t n, const char *path);

/* The value of an integer the reader returned (at most 18 digits). */
int64_t json_path_integer(const json_path_value *v);

/* The value of a number the reader returned (an integer converted, as
 * json_number_value converts it, or a decimal read with strtod, as
 * jansson reads it). */
double json_path_number(const json_path_value *v);

#endif
