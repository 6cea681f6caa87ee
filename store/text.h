/* Text helpers for the store: UTF-8 checking, ASCII case folding, SQL
 * LIKE matching and case-insensitive substring search. Case-insensitive
 * means ASCII letters only; other characters compare as bytes. */
#ifndef ROSTER_STORE_TEXT_H
#define ROSTER_STORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roster_limits.h"

/* True when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF). */
bool text_utf8_valid(const char *s, size_t n);

/* ASCII lower-case of c. */
static inline char text_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* The key form of a case-insensitive unique value (email), written to out
 * (cap bytes, cap >= n) and its length returned. ASCII text is ASCII
 * lower-cased, byte for byte (the key format of every store so far).
 * Other well-formed UTF-8 gets Unicode full case folding (locale
 * independent, CaseFolding.txt statuses C and F: "ß" and "SS" both fold
 * to "ss") followed by NFC normalization, through libunistring's
 * u8_casefold; when that fails or does not fit in cap bytes, the ASCII
 * lower-casing is used instead, so the result is always defined. */
size_t text_fold_key(unsigned char *out, size_t cap, const char *s, size_t n);

/* SQL LIKE: '%' any run (also empty), '_' exactly one character (UTF-8
 * code point), '\' makes the next pattern character literal. `ci` folds
 * ASCII case. */
bool text_like(const char *s, size_t n, const char *pat, size_t pn, bool ci);

/* A LIKE pattern compiled once per query: its tokens (literal bytes,
 * ASCII-folded for iLike, and '_') split into the segments between '%'.
 * Matching reads each record byte against one segment at a time, with no
 * pass over the pattern text; patterns are at most ROSTER_MAX_PATTERN
 * bytes, so a record costs at most its length times one segment. */
#define TEXT_PAT_ANY 0x100 /* token: '_' (one UTF-8 code point) */
typedef struct text_pattern {
    bool ci;
    uint16_t n_tok; /* tokens in tok */
    uint16_t n_seg; /* segments: n_seg - 1 '%' runs between them */
    uint16_t tok[ROSTER_MAX_PATTERN];
    uint16_t seg_end[ROSTER_MAX_PATTERN + 1]; /* segment i: tok[seg_end[i-1] .. seg_end[i]) */
} text_pattern;

/* Compiles pat[0..pn) into *out (caller-owned, not kept). False when pn is
 * over ROSTER_MAX_PATTERN; *out is then untouched. */
bool text_pattern_compile(text_pattern *out, const char *pat, size_t pn, bool ci);

/* The same result as text_like(s, n, pattern, ci) for the pattern p was
 * compiled from. */
bool text_pattern_match(const text_pattern *p, const char *s, size_t n);

/* True when `needle` occurs in `hay`, ASCII case folded. An empty needle
 * occurs everywhere. */
bool text_contains_ci(const char *hay, size_t n, const char *needle, size_t nn);

/* Equality with ASCII case folding. */
bool text_eq_ci(const char *a, size_t an, const char *b, size_t bn);

#endif
