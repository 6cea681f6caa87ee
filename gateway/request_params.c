#include "request_params.h"

#include "json_budget.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

double gw_accept_quality(const char *accept, const char *type, int *exact)
{
    double best_q = 0;
    int best_spec = -1;
    *exact = 0;
    const char *slash = strchr(type, '/');
    size_t major_len = (size_t)(slash - type);
    const char *p = accept;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t rlen = (size_t)(p - start);
        double q = 1.0;
        while (*p && *p != ',') {
            if (*p == ';') {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
                    q = strtod(p + 2, NULL);
                    if (q < 0 || q > 1)
                        q = 0;
                }
                continue;
            }
            p++;
        }
        int spec = -1;
        if (rlen == strlen(type) && strncasecmp(start, type, rlen) == 0)
            spec = 2;
        else if (rlen == major_len + 2 && strncasecmp(start, type, major_len + 1) == 0 &&
                 start[major_len + 1] == '*')
            spec = 1;
        else if (rlen == 3 && strncmp(start, "*/*", 3) == 0)
            spec = 0;
        if (spec > best_spec) {
            best_spec = spec;
            best_q = q;
        }
    }
    *exact = best_spec == 2;
    return best_spec < 0 ? 0 : best_q;
}

int gw_negotiate(const char *accept)
{
    if (accept == NULL || *accept == '\0')
        return 0;
    int gr_exact, js_exact;
    double gr = gw_accept_quality(accept, "application/graphql-response+json", &gr_exact);
    double js = gw_accept_quality(accept, "application/json", &js_exact);
    if (gr <= 0 && js <= 0)
        return -1;
    if (gr > js)
        return 1;
    if (js > gr)
        return 0;
    return gr_exact ? 1 : 0; /* a tie goes to the media type named outright */
}

void gw_params_free(gw_params *p)
{
    if (p == NULL)
        return;
    json_decref(p->root);
    json_decref(p->owned_vars);
    free(p->get_buf);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* URL-decodes [s, s+n) into dst (at least n+1 bytes); returns the length or
 * -1 on a malformed escape. */
static long url_decode(char *dst, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            dst[o++] = ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= n)
                return -1;
            int h = hexval((unsigned char)s[i + 1]);
            int l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            dst[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            dst[o++] = s[i];
        }
    }
    dst[o] = '\0';
    return (long)o;
}

/* Checks that s is valid UTF-8 without NUL bytes. */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned min;
        if ((c & 0xe0) == 0xc0) {
            k = 1;
            c &= 0x1f;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2;
            c &= 0x0f;
            min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3;
            c &= 0x07;
            min = 0x10000;
        } else {
            return 0;
        }
        if (i + k >= n)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            c = (c << 6) | (s[i + j] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* Fills `d` (may be NULL) with `field` and the formatted message, as
 * roster_fail does, and returns the HTTP status. */
static int http_fail(roster_err_detail *d, int http_status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int http_fail(roster_err_detail *d, int http_status, const char *field, const char *fmt, ...)
{
    if (d == NULL)
        return http_status;
    snprintf(d->field, sizeof d->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof d->message, fmt, ap);
    va_end(ap);
    return http_status;
}

/* 400 for JSON whose tree would pass GW_JSON_MAX_MEMORY. */
static int json_over_budget(roster_err_detail *d, const char *field, const char *what)
{
    return http_fail(d, 400, field,
                     "%s needs more than the JSON memory limit of %u bytes (max-json-memory) "
                     "once parsed: send fewer values",
                     what, GW_JSON_MAX_MEMORY);
}

int gw_params_from_get(gw_params *p, const char *uri, roster_err_detail *detail)
{
    const char *qs = strchr(uri, '?');
    if (qs == NULL) {
        return http_fail(detail, 400, "query",
                         "a GET request needs a query parameter: /graphql?query=...");
    }
    qs++;
    size_t qlen = strlen(qs);
    p->get_buf = malloc(qlen + 1);
    if (p->get_buf == NULL) {
        return http_fail(detail, 503, "", "out of memory");
    }
    char *out = p->get_buf;
    const char *vars = NULL, *ext = NULL;
    size_t vars_len = 0, ext_len = 0;
    int have_query = 0, have_op = 0;
    const char *s = qs;
    while (*s) {
        const char *amp = strchr(s, '&');
        size_t plen = amp ? (size_t)(amp - s) : strlen(s);
        const char *eq = memchr(s, '=', plen);
        size_t klen = eq ? (size_t)(eq - s) : plen;
        const char *v = eq ? eq + 1 : s + plen;
        size_t vlen = eq ? plen - klen - 1 : 0;
        char key[32];
        long kd = -1;
        if (klen < sizeof key)
            kd = url_decode(key, s, klen);
        long vd = url_decode(out, v, vlen);
        if (vd < 0 || (klen < sizeof key && kd < 0)) {
            return http_fail(detail, 400, "query",
                             "malformed percent-encoding in the query string");
        }
        if (!utf8_valid((const unsigned char *)out, (size_t)vd)) {
            return http_fail(detail, 400, "query", "query string parameters must be UTF-8 text");
        }
        int dup = 0;
        if (kd >= 0 && strcmp(key, "query") == 0) {
            dup = have_query++;
            p->query = out;
            p->query_len = (size_t)vd;
        } else if (kd >= 0 && strcmp(key, "operationName") == 0) {
            dup = have_op++;
            p->op_name = vd ? out : NULL;
            p->op_name_len = (size_t)vd;
        } else if (kd >= 0 && strcmp(key, "variables") == 0) {
            dup = vars != NULL;
            vars = out;
            vars_len = (size_t)vd;
        } else if (kd >= 0 && strcmp(key, "extensions") == 0) {
            dup = ext != NULL;
            ext = out;
            ext_len = (size_t)vd;
        }
        if (dup) {
            return http_fail(detail, 400, key, "the %s parameter is given more than once", key);
        }
        out += vd + 1;
        s += plen;
        if (*s == '&')
            s++;
    }
    if (!have_query) {
        return http_fail(detail, 400, "query",
                         "a GET request needs a query parameter: /graphql?query=...");
    }
    json_error_t jerr;
    if (vars && vars_len) {
        int err = gw_json_loadb_bounded(&p->owned_vars, &jerr, vars, vars_len, JSON_DECODE_ANY,
                                        GW_JSON_MAX_MEMORY);
        if (err == ROSTER_E_LIMIT)
            return json_over_budget(detail, "variables", "the variables parameter");
        if (err != ROSTER_E_OK) {
            return http_fail(detail, 400, "variables",
                             "the variables parameter is not valid JSON: %s", jerr.text);
        }
        if (json_is_null(p->owned_vars)) {
            json_decref(p->owned_vars);
            p->owned_vars = NULL;
        } else if (!json_is_object(p->owned_vars)) {
            return http_fail(detail, 400, "variables",
                             "the variables parameter must be a JSON object");
        }
        p->variables = p->owned_vars;
    }
    if (ext && ext_len) {
        json_t *e = json_loadb(ext, ext_len, JSON_DECODE_ANY, &jerr);
        int ok = e && (json_is_object(e) || json_is_null(e));
        json_decref(e);
        if (!ok) {
            return http_fail(detail, 400, "extensions",
                             "the extensions parameter must be a JSON object");
        }
    }
    return 0;
}

/* Media type of a Content-Type header is application/json with a UTF-8
 * charset or none. */
static int content_type_ok(const char *ct)
{
    if (ct == NULL)
        return 0;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (!(n == 16 && strncasecmp(ct, "application/json", 16) == 0))
        return 0;
    const char *cs = strcasestr(ct, "charset=");
    if (cs == NULL)
        return 1;
    cs += 8;
    if (*cs == '"')
        cs++;
    return strncasecmp(cs, "utf-8", 5) == 0 || strncasecmp(cs, "utf8", 4) == 0;
}

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

int gw_params_from_post(gw_params *p, const char *ct, const char *body, size_t len,
                        roster_err_detail *detail)
{
    if (!content_type_ok(ct)) {
        return http_fail(detail, 415, "Content-Type",
                         "Content-Type must be application/json (UTF-8), not \"%.100s\"",
                         ct ? ct : "(none)");
    }
    if (len == 0) {
        return http_fail(detail, 400, "query",
                         "the request body is empty: send {\"query\": \"...\"}");
    }
    json_error_t jerr;
    int err = gw_json_loadb_bounded(&p->root, &jerr, body, len,
                                    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, GW_JSON_MAX_MEMORY);
    if (err == ROSTER_E_LIMIT)
        return json_over_budget(detail, "", "the request body");
    if (err != ROSTER_E_OK) {
        return http_fail(detail, 400, "",
                         "the request body is not valid JSON: %s (line %d, column %d)", jerr.text,
                         jerr.line, jerr.column);
    }
    if (!json_is_object(p->root)) {
        return http_fail(detail, 400, "", "the request body must be a JSON object, not %s",
                         json_kind(p->root));
    }
    json_t *q = json_object_get(p->root, "query");
    if (q == NULL || json_is_null(q)) {
        return http_fail(detail, 400, "query", "the request body has no \"query\" string");
    }
    if (!json_is_string(q)) {
        return http_fail(detail, 400, "query", "\"query\" must be a string, not %s", json_kind(q));
    }
    p->query = json_string_value(q);
    p->query_len = json_string_length(q);
    json_t *op = json_object_get(p->root, "operationName");
    if (op && !json_is_null(op)) {
        if (!json_is_string(op)) {
            return http_fail(detail, 400, "operationName",
                             "\"operationName\" must be a string or null, not %s", json_kind(op));
        }
        if (json_string_length(op) > 0) {
            p->op_name = json_string_value(op);
            p->op_name_len = json_string_length(op);
        }
    }
    json_t *v = json_object_get(p->root, "variables");
    if (v && !json_is_null(v)) {
        if (!json_is_object(v)) {
            return http_fail(detail, 400, "variables",
                             "\"variables\" must be an object or null, not %s", json_kind(v));
        }
        p->variables = v;
    }
    json_t *e = json_object_get(p->root, "extensions");
    if (e && !json_is_null(e) && !json_is_object(e)) {
        return http_fail(detail, 400, "extensions",
                         "\"extensions\" must be an object or null, not %s", json_kind(e));
    }
    return 0;
}
