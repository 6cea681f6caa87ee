/* Text helpers for the store: UTF-8 checking, ASCII case folding, SQL
 * LIKE matching and case-insensitive substring search. Case-insensitive
 * means ASCII letters only; other characters compare as bytes. */
#ifndef ROSTER_STORE_TEXT_H
#define ROSTER_STORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF). */
bool text_utf8_valid(const char *s, size_t n);

/* ASCII lower-case of c. */
static inline char text_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* SQL LIKE: '%' any run (also empty), '_' exactly one character (UTF-8
 * code point), '\' makes the next pattern character literal. `ci` folds
 * ASCII case. */
bool text_like(const char *s, size_t n, const char *pat, size_t pn, bool ci);

/* True when `needle` occurs in `hay`, ASCII case folded. An empty needle
 * occurs everywhere. */
bool text_contains_ci(const char *hay, size_t n, const char *needle, size_t nn);

/* Equality with ASCII case folding. */
bool text_eq_ci(const char *a, size_t an, const char *b, size_t bn);

#endif
