#include "graphiql.h"

#include <string.h>

#include "graphiql_assets.h"
#include "request_params.h"

const char gw_graphiql_prefix[] = "/graphiql";

#define CACHE_IMMUTABLE "public, max-age=31536000, immutable"
#define CACHE_NO_CACHE  "no-cache"
#define CT_JS           "text/javascript; charset=utf-8"
#define CT_CSS          "text/css; charset=utf-8"
#define CT_TEXT         "text/plain; charset=utf-8"
#define CT_HTML         "text/html; charset=utf-8"

/* The page loads only what the gateway serves; GraphiQL sets inline
 * styles and its CSS carries fonts as data: URLs. */
#define PAGE_CSP                                                                                   \
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "                    \
    "font-src 'self' data:; img-src 'self' data:; connect-src 'self'; base-uri 'none'; "           \
    "form-action 'none'; frame-ancestors 'none'"

/* X(path below the prefix, symbol, content type, cache) */
#define GW_GRAPHIQL_ASSET_MAP(X)                                                                   \
    X("/graphiql-3.8.3.min.js", gw_graphiql_js, CT_JS, CACHE_IMMUTABLE)                            \
    X("/graphiql-3.8.3.min.css", gw_graphiql_css, CT_CSS, CACHE_IMMUTABLE)                         \
    X("/react-18.3.1.production.min.js", gw_react_js, CT_JS, CACHE_IMMUTABLE)                      \
    X("/react-dom-18.3.1.production.min.js", gw_react_dom_js, CT_JS, CACHE_IMMUTABLE)              \
    X("/roster.js", gw_graphiql_roster_js, CT_JS, CACHE_NO_CACHE)                                  \
    X("/roster.css", gw_graphiql_roster_css, CT_CSS, CACHE_NO_CACHE)                               \
    X("/LICENSES.txt", gw_graphiql_licenses, CT_TEXT, CACHE_NO_CACHE)

typedef struct asset {
    const char *path;
    const char *body;
    const size_t *len;
    const char *content_type;
    const char *cache;
} asset;

static const asset assets[] = {
#define ASSET_ROW(path, sym, ct, cache) {path, sym, &sym##_len, ct, cache},
    GW_GRAPHIQL_ASSET_MAP(ASSET_ROW)
#undef ASSET_ROW
};

/* Length of the path part of a request target. */
static size_t path_len(const char *uri)
{
    return strcspn(uri, "?#");
}

/* Whether the query string of `uri` has a parameter named `query`. */
static bool has_query_param(const char *uri)
{
    const char *q = strchr(uri, '?');
    if (q == NULL)
        return false;
    const char *p = q + 1;
    while (*p && *p != '#') {
        size_t n = strcspn(p, "&=#");
        if (n == 5 && memcmp(p, "query", 5) == 0)
            return true;
        p += strcspn(p, "&#");
        if (*p == '&')
            p++;
    }
    return false;
}

bool gw_graphiql_page_wanted(const char *method, const char *uri, const char *accept)
{
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return false;
    if (accept == NULL || has_query_param(uri))
        return false;
    int html_exact, gr_exact, js_exact;
    double html = gw_accept_quality(accept, "text/html", &html_exact);
    double gr = gw_accept_quality(accept, "application/graphql-response+json", &gr_exact);
    double js = gw_accept_quality(accept, "application/json", &js_exact);
    double best = gr > js ? gr : js;
    if (html <= 0 || html < best)
        return false;
    if (html > best)
        return true;
    return html_exact && !gr_exact && !js_exact;
}

static void add_header(gw_static_answer *a, const char *name, const char *value)
{
    a->headers[2 * a->n_headers] = name;
    a->headers[2 * a->n_headers + 1] = value;
    a->n_headers++;
}

static void answer(gw_static_answer *out, uint16_t status, const char *ct, const char *body,
                   size_t len)
{
    memset(out, 0, sizeof *out);
    out->status = status;
    out->content_type = ct;
    out->body = body;
    out->len = len;
    add_header(out, "X-Content-Type-Options", "nosniff");
}

void gw_graphiql_page(gw_static_answer *out)
{
    answer(out, 200, CT_HTML, gw_graphiql_page_html, gw_graphiql_page_html_len);
    add_header(out, "Cache-Control", CACHE_NO_CACHE);
    add_header(out, "Content-Security-Policy", PAGE_CSP);
    add_header(out, "Referrer-Policy", "no-referrer");
    add_header(out, "X-Frame-Options", "DENY");
    /* The same path answers GraphQL requests in JSON. */
    add_header(out, "Vary", "Accept");
}

void gw_graphiql_asset(gw_static_answer *out, const char *method, const char *uri)
{
    static const char not_found[] = "not found\n";
    static const char not_allowed[] = "only GET and HEAD are allowed\n";
    size_t plen = path_len(uri);
    size_t pre = sizeof gw_graphiql_prefix - 1;
    const asset *hit = NULL;
    if (plen > pre && memcmp(uri, gw_graphiql_prefix, pre) == 0) {
        for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
            if (strlen(assets[i].path) == plen - pre &&
                memcmp(assets[i].path, uri + pre, plen - pre) == 0)
                hit = &assets[i];
    }
    if (hit == NULL) {
        answer(out, 404, CT_TEXT, not_found, sizeof not_found - 1);
        return;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        answer(out, 405, CT_TEXT, not_allowed, sizeof not_allowed - 1);
        add_header(out, "Allow", "GET, HEAD");
        return;
    }
    answer(out, 200, hit->content_type, hit->body, *hit->len);
    add_header(out, "Cache-Control", hit->cache);
}

void gw_static_answer_send(gw_req *r, const gw_static_answer *a)
{
    gw_req_respond(r, a->status, a->content_type, a->body, a->len, a->headers, a->n_headers);
}

void gw_graphiql_route(gw_req *r, void *ud)
{
    (void)ud;
    gw_static_answer a;
    gw_graphiql_asset(&a, gw_req_method(r), gw_req_uri(r));
    gw_static_answer_send(r, &a);
}
