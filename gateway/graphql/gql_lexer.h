/* The GraphQL lexer (spec October 2021, section 2): produces one token at a
 * time from a borrowed source buffer, skipping whitespace, commas, comments
 * and the byte order mark. String values that need decoding (escapes, block
 * string indentation) are written into the given arena; others are slices
 * of the source. No allocation per token otherwise. */
#ifndef ROSTER_GQL_LEXER_H
#define ROSTER_GQL_LEXER_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "gql_value.h"

typedef enum gql_token_kind {
    GQL_TOK_SOF,
    GQL_TOK_EOF,
    GQL_TOK_BANG,
    GQL_TOK_DOLLAR,
    GQL_TOK_AMP,
    GQL_TOK_PAREN_L,
    GQL_TOK_PAREN_R,
    GQL_TOK_SPREAD,
    GQL_TOK_COLON,
    GQL_TOK_EQUALS,
    GQL_TOK_AT,
    GQL_TOK_BRACKET_L,
    GQL_TOK_BRACKET_R,
    GQL_TOK_BRACE_L,
    GQL_TOK_PIPE,
    GQL_TOK_BRACE_R,
    GQL_TOK_NAME,
    GQL_TOK_INT,
    GQL_TOK_FLOAT,
    GQL_TOK_STRING,
    GQL_TOK_BLOCK_STRING
} gql_token_kind;

typedef struct gql_token {
    uint8_t kind; /* gql_token_kind */
    size_t start; /* byte offsets into the source */
    size_t end;
    gql_location loc; /* line and column (UTF-16 units, as graphql-js) of start */
    gql_str value;    /* NAME/INT/FLOAT: source slice; STRING/BLOCK_STRING: decoded value */
} gql_token;

typedef struct gql_lexer {
    const char *src; /* borrowed, len bytes */
    size_t len;
    size_t pos;        /* next byte to read */
    uint32_t line;     /* current line (1-based) */
    size_t line_start; /* offset of the current line's first byte */
    size_t col_pos;    /* column cache: offset and its column */
    uint32_t col;
    int line_wide;       /* the current line may hold non-ASCII bytes before pos */
    roster_arena *arena; /* for decoded strings (borrowed) */
    gql_token tok;       /* the current token */
    char message[160];   /* set when gql_lexer_next fails */
    gql_location err_loc;
} gql_lexer;

/* Starts lexing src (borrowed for the lexer's life); the current token is
 * SOF. */
void gql_lexer_init(gql_lexer *lx, const char *src, size_t len, roster_arena *arena);

/* Advances to the next token. ROSTER_E_OK, ROSTER_E_PARSE (lx->message and
 * lx->err_loc describe the error, e.g. "Unterminated string.") or
 * ROSTER_E_NOMEM. */
int gql_lexer_next(gql_lexer *lx);

/* "Name", "\"{\"", "<EOF>", ... as graphql-js names token kinds. Static. */
const char *gql_token_kind_desc(int kind);

/* Computes the block string value of raw (the text between the triple
 * quotes, with \""" already unescaped) per the specification's
 * BlockStringValue(): common indentation removed, blank leading and
 * trailing lines dropped. Writes into out (at least len bytes) and returns
 * the length. */
size_t gql_block_string_value(char *out, const char *raw, size_t len);

#endif
