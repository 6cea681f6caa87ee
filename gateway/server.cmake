# roster-gateway: the HTTP daemon (GraphQL over HTTP) and its resolvers.
# Included by gateway/CMakeLists.txt; the engine (roster_graphql) is built
# there.
set(GW_SCHEMA_C ${CMAKE_CURRENT_BINARY_DIR}/schema_sdl.c)
add_custom_command(
    OUTPUT ${GW_SCHEMA_C}
    COMMAND ${CMAKE_COMMAND} -DIN=${CMAKE_CURRENT_SOURCE_DIR}/schema.graphql -DOUT=${GW_SCHEMA_C}
            -P ${CMAKE_CURRENT_SOURCE_DIR}/embed_schema.cmake
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/schema.graphql
            ${CMAKE_CURRENT_SOURCE_DIR}/embed_schema.cmake
    COMMENT "embed schema.graphql")

if(TARGET roster_graphql AND TARGET roster_rpc)
    # Everything but main.c, so unit suites link the same code.
    add_library(roster_gateway_core STATIC
        auth.c
        config.c
        http_server.c
        graphql_http.c
        request_params.c
        metrics.c
        probes.c
        resolvers.c
        status_map.c
        upstream.c
        ${GW_SCHEMA_C})
    target_include_directories(roster_gateway_core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
    target_link_libraries(roster_gateway_core
        PUBLIC roster_graphql roster_rpc roster_auth roster_proto roster_common nng::nng
               PkgConfig::JANSSON Threads::Threads
        PRIVATE roster_flags)

    add_executable(roster-gateway main.c)
    target_link_libraries(roster-gateway PRIVATE roster_gateway_core roster_flags)
    install(TARGETS roster-gateway RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
