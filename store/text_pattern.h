/* SQL LIKE patterns compiled once per query and matched against records
 * in time linear in the record.
 *
 * Syntax: '%' any run of characters (also empty), '_' exactly one
 * character, '\' makes the next character literal (a '\' at the end is a
 * literal '\'). A character is a well-formed UTF-8 sequence (as
 * text_utf8_valid defines it); any other byte is a character by itself.
 * iLike folds ASCII case; other characters compare exactly.
 *
 * Cost: compiling reads the pattern once. Matching reads each character
 * of the record once (decoding it and looking up its token mask in a
 * table), and advances a bit-parallel (shift-and) state of the current
 * segment by one step: at most ceil(segment tokens / 64) + 1 machine
 * words. A record of n bytes therefore costs O(n * ceil(m / 64)) for a
 * pattern of m bytes (m <= ROSTER_MAX_PATTERN, so at most 5 words a
 * step), whatever the pattern, with no pass over the pattern text.
 *
 * A segment of ASCII literals alone (no '_', no other character: the
 * usual iLike '%text%' and every search of ASCII text) is compared in
 * place instead: anchored at the start or the end, byte for byte; between
 * '%'s, by looking for its first byte (either case under iLike) 16 bytes
 * at a time and comparing the rest where it occurs. An ASCII byte is
 * always a character of its own in UTF-8 and in the ill-formed bytes
 * above, so this finds what the automaton finds. When the comparisons
 * exceed twice the text left (a text that nearly matches everywhere) the
 * automaton takes over where the search stopped, which keeps the cost
 * linear. */
#ifndef ROSTER_STORE_TEXT_PATTERN_H
#define ROSTER_STORE_TEXT_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roster_limits.h"

#define TEXT_PAT_WORDS ((ROSTER_MAX_PATTERN + 63) / 64)
#define TEXT_PAT_MULTI (ROSTER_MAX_PATTERN / 2) /* distinct multi-byte characters */
#define TEXT_PAT_SLOTS (2 * TEXT_PAT_MULTI)     /* hash slots, a power of two */

/* A compiled pattern. Tokens are numbered in pattern order; segment i
 * (the text between two '%' runs) holds tokens [seg_end[i-1], seg_end[i]).
 * Bit t of a mask is token t. */
typedef struct text_pattern {
    uint16_t n_tok;
    uint16_t n_seg;
    uint16_t seg_end[ROSTER_MAX_PATTERN + 1];
    uint64_t any[TEXT_PAT_WORDS];                   /* the '_' tokens */
    uint64_t byte[256][TEXT_PAT_WORDS];             /* tokens matching a one-byte character */
    uint64_t multi[TEXT_PAT_MULTI][TEXT_PAT_WORDS]; /* by multi-byte character */
    uint32_t slot_cp[TEXT_PAT_SLOTS];               /* code point in a hash slot; 0: empty */
    uint8_t slot_multi[TEXT_PAT_SLOTS];             /* its index in multi */
    uint16_t n_multi;
    /* The in-place comparison of ASCII literal segments: seg_lit[i] when
     * segment i is ASCII literals only, lit[t] the byte of token t (lower
     * case under iLike) and fold the byte a text byte compares as. */
    bool seg_lit[ROSTER_MAX_PATTERN + 1];
    uint8_t lit[ROSTER_MAX_PATTERN];
    uint8_t fold[256];
} text_pattern;

/* Compiles pat[0..pn) into *out (caller-owned, not kept; about 14 KiB,
 * so callers allocate it in an arena). `ci` folds ASCII case (iLike).
 * False when pn is over ROSTER_MAX_PATTERN; *out is then untouched. */
bool text_pattern_compile(text_pattern *out, const char *pat, size_t pn, bool ci);

/* Compiles a case-insensitive (ASCII) substring search for
 * needle[0..nn) into *out: every character literal, as iLike
 * '%needle%' with the wildcards escaped. An empty needle matches every
 * value. False when nn is over ROSTER_MAX_PATTERN; *out is then untouched. */
bool text_pattern_compile_search(text_pattern *out, const char *needle, size_t nn);

/* Whether s[0..n) matches p (borrowed for the call). */
bool text_pattern_match(const text_pattern *p, const char *s, size_t n);

/* text_pattern_match that also adds to *steps the work done: one per
 * character read plus one per state word advanced. For tests of the cost
 * bound. */
bool text_pattern_match_steps(const text_pattern *p, const char *s, size_t n, uint64_t *steps);

#endif
