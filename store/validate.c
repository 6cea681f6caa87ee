#include "validate.h"

#include "roster_limits.h"
#include "text.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

static int validate_one(roster_uuid *id, const model_field *f, const char *s,
                        roster_err_detail *detail)
{
    switch (f->type) {
    case MODEL_T_TEXT:
        return validate_text(s, f->max_len, (f->flags & MODEL_NONEMPTY) != 0, f->name, detail);
    case MODEL_T_URL:
        return validate_url(s, f->max_len, f->name, detail);
    case MODEL_T_EMAIL:
        return validate_email(s, f->name, detail);
    case MODEL_T_LOCALE:
        return validate_locale(s, f->name, detail);
    case MODEL_T_TIMEZONE:
        return validate_timezone(s, f->name, detail);
    case MODEL_T_JSON:
        return validate_custom_data(s, f->name, detail);
    case MODEL_T_ID:
        if (roster_uuid_parse(id, s, strlen(s)) != ROSTER_E_OK)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, f->name,
                               "%s is not a UUID (8-4-4-4-12 hex digits)", f->name);
        return ROSTER_E_OK;
    default:
        return ROSTER_E_OK;
    }
}

int validate_fields(roster_uuid *ids, const model_record *r, const msg_slots *sl,
                    const ProtobufCMessage *m, unsigned what, roster_err_detail *detail)
{
    roster_uuid parsed[MODEL_MAX_FIELDS];
    uint32_t ids_parsed = 0; /* bit i: parsed[i] holds an id */
    int err;
    for (size_t i = 0; i < sl->n; i++) {
        const msg_slot *s = &sl->s[i];
        const model_field *f = &r->fields[s->field];
        if (!(what & (f->type == MODEL_T_ID ? VALIDATE_REFS : VALIDATE_VALUES)))
            continue;
        if (!msg_slot_has(m, s)) {
            if ((what & VALIDATE_REQUIRED) && (f->flags & MODEL_REQUIRED))
                return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, f->name, "%s is required",
                                   f->name);
            continue;
        }
        if (!s->ptr)
            continue; /* booleans and dates: any value is valid */
        const char *text = *(const char *const *)(const void *)((const char *)m + s->off);
        if ((err = validate_one(&parsed[s->field], f, text, detail)) != ROSTER_E_OK)
            return err;
        if (f->type == MODEL_T_ID)
            ids_parsed |= 1u << s->field;
    }
    for (; ids && ids_parsed; ids_parsed &= ids_parsed - 1) {
        int i = __builtin_ctz(ids_parsed);
        ids[i] = parsed[i];
    }
    return ROSTER_E_OK;
}

int validate_text(const char *s, size_t max, bool nonempty, const char *field,
                  roster_err_detail *detail)
{
    size_t n = strlen(s);
    if (nonempty && n == 0)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field, "%s must not be empty", field);
    if (n > max)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field,
                           "%s is %zu bytes long; at most %zu are allowed", field, n, max);
    if (!text_utf8_valid(s, n))
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field, "%s is not valid UTF-8",
                           field);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field,
                               "%s contains a control character", field);
    }
    return ROSTER_E_OK;
}

int validate_email(const char *s, const char *field, roster_err_detail *detail)
{
    int rc = validate_text(s, ROSTER_MAX_EMAIL, true, field, detail);
    if (rc != ROSTER_E_OK)
        return rc;
    const char *at = strchr(s, '@');
    size_t n = strlen(s);
    if (at == NULL || strchr(at + 1, '@') != NULL || strchr(s, ' ') != NULL)
        goto bad;
    size_t local = (size_t)(at - s), domain = n - local - 1;
    if (local == 0 || local > 64 || domain == 0)
        goto bad;
    const char *d = at + 1;
    if (d[0] == '.' || d[domain - 1] == '.' || strstr(d, "..") != NULL)
        goto bad;
    return ROSTER_E_OK;
bad:
    return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field,
                       "%s is not an email address (local@domain)", field);
}

int validate_url(const char *s, size_t max, const char *field, roster_err_detail *detail)
{
    int rc = validate_text(s, max, false, field, detail);
    if (rc != ROSTER_E_OK || s[0] == '\0')
        return rc; /* "" clears the field */
    size_t scheme = strncasecmp(s, "https://", 8) == 0  ? 8
                    : strncasecmp(s, "http://", 7) == 0 ? 7
                                                        : 0;
    if (scheme == 0)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field,
                           "%s must be an absolute http:// or https:// URL", field);
    if (strchr(s, ' ') != NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field, "%s contains a space", field);
    const char *host = s + scheme;
    size_t hlen = strcspn(host, "/?#");
    const char *at = memchr(host, '@', hlen); /* userinfo@host */
    if (at != NULL) {
        hlen -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    if (hlen == 0 || host[0] == ':')
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field, "%s has no host", field);
    return ROSTER_E_OK;
}

static int validate_charset(const char *s, size_t max, const char *extra, const char *what,
                            const char *field, roster_err_detail *detail)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field,
                           "%s must be 1 to %zu characters long", field, max);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr(extra, c) != NULL))
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field, "%s is not %s", field,
                               what);
    }
    return ROSTER_E_OK;
}

int validate_locale(const char *s, const char *field, roster_err_detail *detail)
{
    return validate_charset(s, ROSTER_MAX_LOCALE, "-", "a BCP 47 language tag (e.g. en-US)", field,
                            detail);
}

int validate_timezone(const char *s, const char *field, roster_err_detail *detail)
{
    return validate_charset(s, ROSTER_MAX_TIMEZONE, "/_-+",
                            "an IANA time zone name (e.g. Asia/Bangkok)", field, detail);
}

int validate_custom_data(const char *s, const char *field, roster_err_detail *detail)
{
    size_t n = strlen(s);
    if (n > ROSTER_MAX_CUSTOM_DATA)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field,
                           "%s is %zu bytes of JSON; at most %d are allowed", field, n,
                           ROSTER_MAX_CUSTOM_DATA);
    json_error_t err;
    json_t *j = json_loadb(s, n, 0, &err);
    if (j == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field, "%s is not JSON: %s", field,
                           err.text);
    bool obj = json_is_object(j);
    json_decref(j);
    if (!obj)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field, "%s must be a JSON object",
                           field);
    return ROSTER_E_OK;
}
