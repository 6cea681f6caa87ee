/* The SDL of the built-in scalars, directives and introspection types (as
 * graphql-js 16 defines them), compiled into every schema. */
#ifndef ROSTER_GQL_INTROSPECTION_SDL_H
#define ROSTER_GQL_INTROSPECTION_SDL_H

extern const char gql_builtin_sdl[];

#endif
