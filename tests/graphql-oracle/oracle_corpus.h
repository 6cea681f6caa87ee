/* Corpus cases on disk: NAME.graphql (the document, bytes as given) and an
 * optional NAME.json {"variables": {...}, "operationName": "..."}. */
#ifndef ROSTER_ORACLE_CORPUS_H
#define ROSTER_ORACLE_CORPUS_H

#include <jansson.h>
#include <stddef.h>

typedef struct oracle_case {
    char *name; /* owned, NUL-terminated */
    char *text; /* owned document bytes (NUL-terminated copy) */
    size_t len;
    json_t *variables;    /* owned reference, or NULL */
    char *operation_name; /* owned, or NULL */
} oracle_case;

/* The case names of dir (files ending in .graphql, without the suffix),
 * sorted bytewise. *out is a malloc'd array of malloc'd strings; free with
 * oracle_names_free. ROSTER_E_OK, ROSTER_E_IO or ROSTER_E_NOMEM. */
int oracle_corpus_list(char ***out, size_t *n_out, const char *dir);
void oracle_names_free(char **names, size_t n); /* accepts NULL */

/* Reads case `name` from dir into *out (free with oracle_case_free).
 * ROSTER_E_OK, ROSTER_E_IO (missing file), ROSTER_E_PARSE (bad side file;
 * a message goes to stderr) or ROSTER_E_NOMEM. */
int oracle_case_load(oracle_case *out, const char *dir, const char *name);
void oracle_case_free(oracle_case *c); /* accepts NULL */

/* Reads a whole file into a malloc'd NUL-terminated buffer. ROSTER_E_OK or
 * ROSTER_E_IO / ROSTER_E_NOMEM. */
int oracle_read_file(char **out, size_t *len, const char *path);

#endif
