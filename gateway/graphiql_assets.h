/* The GraphiQL page and its assets, compiled in from gateway/graphiql/ by
 * roster_embed_file (gateway/CMakeLists.txt). Each array is static data
 * followed by a NUL that _len does not count. */
#ifndef ROSTER_GW_GRAPHIQL_ASSETS_H
#define ROSTER_GW_GRAPHIQL_ASSETS_H

#include <stddef.h>

/* X(symbol) */
#define GW_GRAPHIQL_EMBED_MAP(X)                                                                   \
    X(gw_graphiql_page_html)                                                                       \
    X(gw_graphiql_roster_js)                                                                       \
    X(gw_graphiql_roster_css)                                                                      \
    X(gw_graphiql_js)                                                                              \
    X(gw_graphiql_css)                                                                             \
    X(gw_react_js)                                                                                 \
    X(gw_react_dom_js)                                                                             \
    X(gw_graphiql_licenses)

#define GW_GRAPHIQL_EMBED_DECL(sym)                                                                \
    extern const char sym[];                                                                       \
    extern const size_t sym##_len;
GW_GRAPHIQL_EMBED_MAP(GW_GRAPHIQL_EMBED_DECL)
#undef GW_GRAPHIQL_EMBED_DECL

#endif
