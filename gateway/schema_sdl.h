/* The schema the gateway serves: gateway/schema.graphql, embedded at build
 * time (static data, NUL-terminated, gw_schema_sdl_len bytes without it). */
#ifndef ROSTER_GW_SCHEMA_SDL_H
#define ROSTER_GW_SCHEMA_SDL_H

#include <stddef.h>

extern const char gw_schema_sdl[];
extern const size_t gw_schema_sdl_len;

#endif
