/* Validation of user and tenant input fields. Each function checks one
 * value and, on failure, fills `detail` (may be NULL) naming `field` and
 * returns ROSTER_E_INVALID_ARGUMENT. Limits are in src/common/roster_limits.h and
 * documented in docs/store.md. */
#ifndef ROSTER_STORE_VALIDATE_H
#define ROSTER_STORE_VALIDATE_H

#include "error.h"
#include "fields.h"
#include "uuid.h"

#include <stdbool.h>
#include <stddef.h>

/* A single-line text value: well-formed UTF-8, no control characters, at
 * most `max` bytes, and not empty when `nonempty`. */
int validate_text(const char *s, size_t max, bool nonempty, const char *field,
                  roster_err_detail *detail);

/* An avatar URL: text rules (at most `max` bytes), and, unless empty, an
 * absolute http:// or https:// URL (scheme in any case) with a non-empty
 * host and no spaces; javascript:, data: and relative URLs are refused. */
int validate_url(const char *s, size_t max, const char *field, roster_err_detail *detail);

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

/* What validate_fields checks. */
enum {
    VALIDATE_REQUIRED = 1u << 0, /* MODEL_REQUIRED fields must be given (create, restore) */
    VALIDATE_VALUES = 1u << 1,   /* the values of the record's own fields */
    VALIDATE_REFS = 1u << 2,     /* ids that name other records (tenantId) */
};

/* Checks the fields of record r that message m holds (sl: the message's
 * check_* slots of store_fields), in model order, each by its model type: TEXT with
 * validate_text (the model's max_len, MODEL_NONEMPTY), URL with validate_url, EMAIL, LOCALE,
 * TIMEZONE and JSON with their validators above, ID as UUID text; booleans and dates need no check.
 * A field absent from m is refused only when VALIDATE_REQUIRED and the model marks it
 * MODEL_REQUIRED ("reference is required"). Fields the service sets (MODEL_SERVER_SET: id,
 * createdAt, updatedAt) are the caller's: a request's id names its target and a restore keeps them.
 * `what` selects values, references or both (one pass in model order), so
 * a caller can check other things between the two.
 * On success ids[i] (MODEL_MAX_FIELDS entries, may be NULL) holds the
 * parsed value of every ID field i that was checked and present. */
int validate_fields(roster_uuid *ids, const model_record *r, const msg_slots *sl,
                    const ProtobufCMessage *m, unsigned what, roster_err_detail *detail);

#endif
