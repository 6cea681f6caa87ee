#include "cors.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ORIGIN_CAP 256

struct gw_cors {
    char origins[GW_CORS_MAX_ORIGINS][ORIGIN_CAP];
    size_t n;
};

#define ALLOW_METHODS "GET, POST, OPTIONS"
#define ALLOW_HEADERS                                                                              \
    "content-type, authorization, roq-platform-authorization, roq-platform-server-authorization"
#define MAX_AGE "600"

static const char *const allowed_headers[] = {"content-type", "authorization",
                                              "roq-platform-authorization",
                                              "roq-platform-server-authorization"};

/* Whether [s, s+len) is scheme://host[:port] with scheme http or https and
 * a host of letters, digits, '-', '.', or an IPv6 literal in brackets. */
static int origin_valid(const char *s, size_t len)
{
    size_t i;
    if (len > 7 && strncasecmp(s, "http://", 7) == 0)
        i = 7;
    else if (len > 8 && strncasecmp(s, "https://", 8) == 0)
        i = 8;
    else
        return 0;
    size_t host = i;
    if (s[i] == '[') {
        while (i < len && s[i] != ']') {
            char c = s[i];
            if (!(c == '[' || c == ':' || c == '.' || (c >= '0' && c <= '9') ||
                  (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
                return 0;
            i++;
        }
        if (i == len)
            return 0;
        i++;
    } else {
        while (i < len && s[i] != ':') {
            char c = s[i];
            if (!(c == '-' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                  (c >= 'A' && c <= 'Z')))
                return 0;
            i++;
        }
        if (i == host)
            return 0;
    }
    if (i == len)
        return 1;
    if (s[i] != ':' || i + 1 == len || len - i - 1 > 5)
        return 0;
    for (i++; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int gw_cors_new(gw_cors **out, const char *origins, roster_err_detail *detail)
{
    gw_cors *c = calloc(1, sizeof *c);
    if (c == NULL)
        return roster_fail(detail, ROSTER_E_NOMEM, "cors-origins", "out of memory");
    const char *p = origins ? origins : "";
    while (*p) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, ",");
        size_t end = len;
        while (end > 0 && p[end - 1] == ' ')
            end--;
        if (end == 0 || end >= ORIGIN_CAP || !origin_valid(p, end) || c->n == GW_CORS_MAX_ORIGINS) {
            int n = (int)(end < 200 ? end : 200);
            free(c);
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "cors-origins",
                               "CORS origin \"%.*s\" is not scheme://host[:port] (http or https, "
                               "no path, no wildcard), or there are more than %d",
                               n, p, GW_CORS_MAX_ORIGINS);
        }
        memcpy(c->origins[c->n], p, end);
        c->origins[c->n][end] = '\0';
        c->n++;
        p += len;
        if (*p == ',') {
            p++;
            if (*p == '\0') {
                free(c);
                return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "cors-origins",
                                   "CORS origins end with a comma");
            }
        }
    }
    *out = c;
    return ROSTER_E_OK;
}

void gw_cors_free(gw_cors *c)
{
    free(c);
}

int gw_cors_enabled(const gw_cors *c)
{
    return c != NULL && c->n > 0;
}

static int origin_listed(const gw_cors *c, const char *origin)
{
    if (c == NULL || origin == NULL)
        return 0;
    for (size_t i = 0; i < c->n; i++)
        if (strcasecmp(c->origins[i], origin) == 0)
            return 1;
    return 0;
}

/* Whether every entry of the comma list `list` (NULL: none) is an allowed
 * request header. */
static int headers_allowed(const char *list)
{
    if (list == NULL)
        return 1;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        size_t len = strcspn(p, ", \t");
        int ok = 0;
        for (size_t i = 0; i < sizeof allowed_headers / sizeof allowed_headers[0]; i++)
            if (strlen(allowed_headers[i]) == len && strncasecmp(allowed_headers[i], p, len) == 0)
                ok = 1;
        if (!ok)
            return 0;
        p += len;
    }
    return 1;
}

static void add(gw_cors_answer *a, const char *name, const char *value)
{
    a->headers[2 * a->n_headers] = name;
    a->headers[2 * a->n_headers + 1] = value;
    a->n_headers++;
}

void gw_cors_decide(gw_cors_answer *out, const gw_cors *c, const char *method, const char *origin,
                    const char *request_method, const char *request_headers)
{
    memset(out, 0, sizeof *out);
    int listed = origin_listed(c, origin);
    if (strcmp(method, "OPTIONS") == 0 && origin != NULL && request_method != NULL) {
        out->preflight = 1;
        int method_ok = strcmp(request_method, "GET") == 0 || strcmp(request_method, "POST") == 0 ||
                        strcmp(request_method, "HEAD") == 0 ||
                        strcmp(request_method, "OPTIONS") == 0;
        if (gw_cors_enabled(c))
            add(out, "Vary", "Origin");
        if (!listed || !method_ok || !headers_allowed(request_headers)) {
            out->status = 403;
            return;
        }
        out->status = 204;
        add(out, "Access-Control-Allow-Origin", origin);
        add(out, "Access-Control-Allow-Methods", ALLOW_METHODS);
        add(out, "Access-Control-Allow-Headers", ALLOW_HEADERS);
        add(out, "Access-Control-Max-Age", MAX_AGE);
        return;
    }
    if (!gw_cors_enabled(c))
        return;
    add(out, "Vary", "Origin");
    if (listed)
        add(out, "Access-Control-Allow-Origin", origin);
}
