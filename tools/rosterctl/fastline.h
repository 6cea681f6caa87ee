/* A fast path for the usual line of a load: a flat JSON object of plain
 * strings, booleans and nulls (and customData, a JSON object), read
 * straight into its record without building a jansson tree.
 *
 * It reads only a narrow form of JSON and answers "not mine" for
 * everything else, so that the caller parses such a line with jansson
 * (json_loadb with JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL) and
 * ctl_record_from_json as before: those give the record, or say what is
 * wrong with the line. The form: one object, whitespace (space, tab, CR,
 * LF) around tokens; strings of printable ASCII without escapes (bytes
 * 0x20..0x7E but '"' and '\'); integers of at most 18 digits without a
 * leading zero (and not "-0"); true, false, null; objects and arrays of
 * those nested at most CTL_FASTLINE_DEPTH deep; no key twice in an
 * object. Every such line is valid JSON that jansson parses to the same
 * values, and the record made here is the one ctl_record_from_json makes
 * of it, customData included byte for byte (json_dumps with JSON_COMPACT
 * writes those values as they are written here). A line in that form
 * whose record ctl_record_from_json would refuse (an unknown key, a wrong
 * type, a bad date) is "not mine" too. */
#ifndef ROSTERCTL_FASTLINE_H
#define ROSTERCTL_FASTLINE_H

#include "arena.h"
#include "model.h"

#include <stdbool.h>
#include <stddef.h>

#define CTL_FASTLINE_DEPTH 32

/* A type of record a line may hold: the one whose r->gql_type its
 * __typename names. `ignored` (NULL-terminated, may be NULL) lists the
 * keys accepted and skipped besides "__typename", as ctl_record_from_json
 * takes them. */
typedef struct ctl_line_kind {
    const model_record *r;
    const char *const *ignored;
} ctl_line_kind;

/* Reads the `len` bytes at `text` (one line, its newline included or not)
 * when they are in the form above: *kind is then the index in kinds[0..n)
 * of the record type the line names and *out (storage for a message of
 * any of the kinds' types) its record, as ctl_record_from_json would make
 * it; strings and customData are allocated in `arena` and live as long as
 * its contents. Returns false, writing neither output, for any other
 * line. */
bool ctl_fastline_parse(void *out, size_t *kind, const ctl_line_kind *kinds, size_t n,
                        const char *text, size_t len, roster_arena *arena);

#endif
