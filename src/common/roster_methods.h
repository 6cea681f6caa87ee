/* The methods of roster.v1.UserService, listed once. Each RPC binding
 * expands this table into its own static data: src/rpc (protobuf-c) into
 * message descriptors, src/client (nanopb) into `*_fields` descriptors;
 * the server's dispatch, the gateway, both clients and the metrics all
 * name methods by the one id this header defines (RPC_GET_USER, ...).
 * Everything here is compile-time data; nothing is allocated.
 *
 * Why the table is shaped this way:
 * - An X-macro, not an array of structs: the nanopb client must build
 *   without protobuf-c and the server without nanopb, so no shared object
 *   can hold both bindings' descriptors. Each binding expands the rows
 *   into a table of its own; the rows themselves stay in one place.
 * - Message names are given twice, CamelCase and snake_case: nanopb's
 *   symbols are `roster_v1_GetUserRequest_fields`, protobuf-c's are
 *   `roster__v1__get_user_request__descriptor`, and the preprocessor can
 *   paste tokens but cannot change their case. tests/rpc checks every row
 *   against the service descriptor protobuf-c generates from
 *   proto/roster.proto (method name, request and reply types, order), so
 *   the two spellings cannot drift from each other or from the proto.
 * - Rows follow the order of `service UserService` in roster.proto; the
 *   ids index per-method arrays (stats, metrics), so adding a method means
 *   adding a row here and in the proto, nothing else.
 * - Access and idempotency are not in the proto (it carries no options),
 *   so they are columns here. READ methods run in read transactions and
 *   may be answered on nng's threads; WRITE methods go to the service's
 *   single writer. IDEMPOTENT methods may be sent again when no reply
 *   came; ONCE methods must not be (a second CreateUser creates another
 *   user or fails ALREADY_EXISTS, a second UpdateUser moves updatedAt).
 *
 * - Who may call is a column too (AUTH), the least role a caller's key
 *   must have; roster-users checks it before any handler runs, and the
 *   handlers then confine writer and reader keys to their own tenant.
 *
 * - The call's shape is a column (SHAPE): UNARY methods are served by
 *   roster-users over nng and forwarded by the gateway; SERVER_STREAM
 *   methods (WatchChanges) are served by roster-gateway over gRPC only,
 *   built on unary methods (ListChanges), and roster-users answers them
 *   UNIMPLEMENTED. protobuf-c's service descriptor does not say which
 *   methods stream, so the column is the one place that does.
 *
 * X(ID, Method, Request, request_snake, Reply, reply_snake, ACCESS, REPEAT, AUTH, SHAPE)
 *   ID          enum suffix: RPC_##ID
 *   Method      the gRPC method name; the wire name is ROSTER_METHOD_PATH
 *   Request     request message, CamelCase (nanopb, protobuf-c type names)
 *   request_snake  the same in snake_case (protobuf-c descriptor symbols)
 *   Reply, reply_snake  the reply message, both spellings
 *   ACCESS      READ or WRITE (WRITE: a store write, through the single
 *               writer; RotateSigningKey writes only key files, so READ)
 *   REPEAT      IDEMPOTENT or ONCE (DeleteUser and DeleteTenant are ONCE:
 *               a retry of an applied delete answers NOT_FOUND, so the
 *               caller could not tell it from an unknown id)
 *   AUTH        PUBLIC (no key needed), READER, WRITER or ADMIN
 *   SHAPE       UNARY or SERVER_STREAM (the reply type is the stream's
 *               message type) */
#ifndef ROSTER_METHODS_H
#define ROSTER_METHODS_H

#define ROSTER_METHOD_MAP(X)                                                                       \
    X(CREATE_USER, CreateUser, CreateUserRequest, create_user_request, User, user, WRITE, ONCE,    \
      WRITER, UNARY)                                                                               \
    X(UPDATE_USER, UpdateUser, UpdateUserRequest, update_user_request, User, user, WRITE, ONCE,    \
      WRITER, UNARY)                                                                               \
    X(DELETE_USER, DeleteUser, DeleteUserRequest, delete_user_request, DeleteUserResponse,         \
      delete_user_response, WRITE, ONCE, WRITER, UNARY)                                            \
    X(GET_USER, GetUser, GetUserRequest, get_user_request, User, user, READ, IDEMPOTENT, READER,   \
      UNARY)                                                                                       \
    X(BATCH_GET_USERS, BatchGetUsers, BatchGetUsersRequest, batch_get_users_request,               \
      BatchGetUsersResponse, batch_get_users_response, READ, IDEMPOTENT, READER, UNARY)            \
    X(LIST_USERS, ListUsers, ListUsersRequest, list_users_request, ListUsersResponse,              \
      list_users_response, READ, IDEMPOTENT, READER, UNARY)                                        \
    X(CREATE_TENANT, CreateTenant, CreateTenantRequest, create_tenant_request, Tenant, tenant,     \
      WRITE, ONCE, ADMIN, UNARY)                                                                   \
    X(UPDATE_TENANT, UpdateTenant, UpdateTenantRequest, update_tenant_request, Tenant, tenant,     \
      WRITE, ONCE, ADMIN, UNARY)                                                                   \
    X(DELETE_TENANT, DeleteTenant, DeleteTenantRequest, delete_tenant_request,                     \
      DeleteTenantResponse, delete_tenant_response, WRITE, ONCE, ADMIN, UNARY)                     \
    X(GET_TENANT, GetTenant, GetTenantRequest, get_tenant_request, Tenant, tenant, READ,           \
      IDEMPOTENT, READER, UNARY)                                                                   \
    X(BATCH_GET_TENANTS, BatchGetTenants, BatchGetTenantsRequest, batch_get_tenants_request,       \
      BatchGetTenantsResponse, batch_get_tenants_response, READ, IDEMPOTENT, READER, UNARY)        \
    X(LIST_TENANTS, ListTenants, ListTenantsRequest, list_tenants_request, ListTenantsResponse,    \
      list_tenants_response, READ, IDEMPOTENT, READER, UNARY)                                      \
    X(HEALTH, Health, HealthRequest, health_request, HealthResponse, health_response, READ,        \
      IDEMPOTENT, PUBLIC, UNARY)                                                                   \
    X(STATS, Stats, StatsRequest, stats_request, StatsResponse, stats_response, READ, IDEMPOTENT,  \
      ADMIN, UNARY)                                                                                \
    X(CREATE_KEY, CreateKey, CreateKeyRequest, create_key_request, KeySecret, key_secret, WRITE,   \
      ONCE, ADMIN, UNARY)                                                                          \
    X(GET_KEY, GetKey, GetKeyRequest, get_key_request, ApiKey, api_key, READ, IDEMPOTENT, ADMIN,   \
      UNARY)                                                                                       \
    X(LIST_KEYS, ListKeys, ListKeysRequest, list_keys_request, ListKeysResponse,                   \
      list_keys_response, READ, IDEMPOTENT, ADMIN, UNARY)                                          \
    X(REVOKE_KEY, RevokeKey, RevokeKeyRequest, revoke_key_request, ApiKey, api_key, WRITE,         \
      IDEMPOTENT, ADMIN, UNARY)                                                                    \
    X(ROTATE_KEY, RotateKey, RotateKeyRequest, rotate_key_request, KeySecret, key_secret, WRITE,   \
      ONCE, ADMIN, UNARY)                                                                          \
    X(ISSUE_SERVICE_TOKEN, IssueServiceToken, IssueServiceTokenRequest,                            \
      issue_service_token_request, AccessToken, access_token, READ, ONCE, READER, UNARY)           \
    X(ISSUE_USER_TOKEN, IssueUserToken, IssueUserTokenRequest, issue_user_token_request,           \
      AccessToken, access_token, READ, ONCE, WRITER, UNARY)                                        \
    X(GET_ENVIRONMENT, GetEnvironment, GetEnvironmentRequest, get_environment_request,             \
      Environment, environment, READ, IDEMPOTENT, READER, UNARY)                                   \
    X(ROTATE_SIGNING_KEY, RotateSigningKey, RotateSigningKeyRequest, rotate_signing_key_request,   \
      Environment, environment, READ, ONCE, ADMIN, UNARY)                                          \
    X(LIST_CHANGES, ListChanges, ListChangesRequest, list_changes_request, ListChangesResponse,    \
      list_changes_response, READ, IDEMPOTENT, READER, UNARY)                                      \
    X(BULK_WRITE, BulkWrite, BulkWriteRequest, bulk_write_request, BulkWriteResponse,              \
      bulk_write_response, WRITE, ONCE, WRITER, UNARY)                                             \
    X(WATCH_CHANGES, WatchChanges, WatchChangesRequest, watch_changes_request, Change, change,     \
      READ, IDEMPOTENT, READER, SERVER_STREAM)

/* The protobuf package and service every method belongs to. */
#define ROSTER_SERVICE_NAME "roster.v1.UserService"

/* A method's wire name, gRPC form: ROSTER_METHOD_PATH(GetUser) is the
 * string literal "/roster.v1.UserService/GetUser". */
#define ROSTER_METHOD_PATH(Method) "/" ROSTER_SERVICE_NAME "/" #Method

/* The ACCESS and REPEAT columns as booleans (1/0):
 * ROSTER_METHOD_WRITES(WRITE) is 1, ROSTER_METHOD_IDEMPOTENT(ONCE) is 0. */
#define ROSTER_METHOD_WRITES(access)        ROSTER_METHOD_WRITES_##access
#define ROSTER_METHOD_WRITES_READ           0
#define ROSTER_METHOD_WRITES_WRITE          1
#define ROSTER_METHOD_IDEMPOTENT(repeat)    ROSTER_METHOD_IDEMPOTENT_##repeat
#define ROSTER_METHOD_IDEMPOTENT_IDEMPOTENT 1
#define ROSTER_METHOD_IDEMPOTENT_ONCE       0

/* The SHAPE column as a boolean: ROSTER_METHOD_STREAMS(SERVER_STREAM) is
 * 1, ROSTER_METHOD_STREAMS(UNARY) is 0. */
#define ROSTER_METHOD_STREAMS(shape)        ROSTER_METHOD_STREAMS_##shape
#define ROSTER_METHOD_STREAMS_UNARY         0
#define ROSTER_METHOD_STREAMS_SERVER_STREAM 1

/* The AUTH column as the least role needed, ordered so that a larger value
 * may do more: ROSTER_METHOD_AUTH(WRITER) is ROSTER_AUTH_WRITER. */
typedef enum roster_auth_level {
    ROSTER_AUTH_PUBLIC = 0,
    ROSTER_AUTH_READER,
    ROSTER_AUTH_WRITER,
    ROSTER_AUTH_ADMIN,
} roster_auth_level;
#define ROSTER_METHOD_AUTH(auth) ROSTER_AUTH_##auth

/* One id per method, in table order. */
typedef enum rpc_method_id {
#define ROSTER_METHOD_ENUM(id, ...) RPC_##id,
    ROSTER_METHOD_MAP(ROSTER_METHOD_ENUM)
#undef ROSTER_METHOD_ENUM
        RPC_METHOD__COUNT
} rpc_method_id;

#endif
