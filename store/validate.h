/* Validation of user and tenant input fields. Each function checks one
 * value and, on failure, fills `detail` (may be NULL) naming `field` and
 * returns ROSTER_E_INVALID_ARGUMENT. Limits are in src/common/roster_limits.h and
 * documented in docs/store.md. */
#ifndef ROSTER_STORE_VALIDATE_H
#define ROSTER_STORE_VALIDATE_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

/* A single-line text value: well-formed UTF-8, no control characters, at
 * most `max` bytes, and not empty when `nonempty`. */
int validate_text(const char *s, size_t max, bool nonempty, const char *field,
                  roster_err_detail *detail);

/* An email address: text rules, at most ROSTER_MAX_EMAIL bytes, exactly
 * one '@' with a local part of 1..64 bytes and a domain of dot-separated
 * non-empty labels, no spaces. */
int validate_email(const char *s, const char *field, roster_err_detail *detail);

/* A BCP 47-shaped tag: letters, digits and '-', 1..ROSTER_MAX_LOCALE. */
int validate_locale(const char *s, const char *field, roster_err_detail *detail);

/* An IANA zone name shape: letters, digits, '/', '_', '-', '+',
 * 1..ROSTER_MAX_TIMEZONE. */
int validate_timezone(const char *s, const char *field, roster_err_detail *detail);

/* Text of a JSON object, at most ROSTER_MAX_CUSTOM_DATA bytes. */
int validate_custom_data(const char *s, const char *field, roster_err_detail *detail);

#endif
