/* Text helpers for the store: UTF-8 checking and case folding. LIKE
 * patterns and search are text_pattern.h. */
#ifndef ROSTER_STORE_TEXT_H
#define ROSTER_STORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The well-formed UTF-8 sequence at the start of s[0..n) (n >= 1): its
 * length in bytes (1 to 4) with its code point in *cp, or 0 (and *cp
 * untouched) when s does not start with one. */
size_t text_utf8_char(uint32_t *cp, const uint8_t *s, size_t n);

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

#endif
