/* Field limits shared by the store's validation, the service and the
 * client library's fixed-size buffers (proto/roster.options repeats the
 * string sizes, plus one for the NUL). Lengths are in bytes of UTF-8. */
#ifndef ROSTER_FIELD_LIMITS_H
#define ROSTER_FIELD_LIMITS_H

#define ROSTER_ID_LEN            36 /* canonical UUID text */
#define ROSTER_MAX_REFERENCE     255
#define ROSTER_MAX_EMAIL         254 /* RFC 5321 path limit */
#define ROSTER_MAX_NAME          255 /* firstName, lastName, tenant name */
#define ROSTER_MAX_PHONE         64
#define ROSTER_MAX_LOCALE        35 /* BCP 47 tags in practice */
#define ROSTER_MAX_TIMEZONE      64 /* IANA zone names */
#define ROSTER_MAX_AVATAR_URL    2048
#define ROSTER_MAX_CUSTOM_DATA   16384 /* encoded JSON object */
#define ROSTER_MAX_FILTER_VALUES 1000  /* entries in valueIn / valueNotIn */
#define ROSTER_MAX_PATTERN       256   /* like, iLike and search values */
#define ROSTER_MAX_BATCH         1000  /* ids in one batch get */
#define ROSTER_MAX_BULK          1000  /* operations in one BulkWrite */
#define ROSTER_DEFAULT_PAGE      20
#define ROSTER_MAX_PAGE          1000
#define ROSTER_MAX_CURSOR        512 /* characters of a list cursor (after, end_cursor) */
#define ROSTER_MAX_RPC_MESSAGE   (4u * 1024u * 1024u) /* nng recv limit, bytes */

/* The reply limit: the most bytes of one reply message. Every client sets
 * its nng receive limit (NNG_OPT_RECVMAXSZ) to it, and the service never
 * sends a reply whose body is over ROSTER_MAX_REPLY_BODY: it answers
 * RESOURCE_EXHAUSTED instead, so an oversize reply never reaches nng's
 * limit, which would close the connection every call on it shares. */
#define ROSTER_MAX_REPLY ROSTER_MAX_RPC_MESSAGE
/* Room kept for the RpcReply envelope around a body: an OK reply's code
 * and body header take at most 8 bytes; the rest is margin. */
#define ROSTER_REPLY_ENVELOPE 1024u
#define ROSTER_MAX_REPLY_BODY (ROSTER_MAX_REPLY - ROSTER_REPLY_ENVELOPE)

/* What one request may make the service allocate, checked on the wire
 * bytes before protobuf-c unpacks them (src/rpc/rpc_wire_scan.c). */
#define ROSTER_MAX_UNKNOWN_FIELDS   64   /* fields of unknown number in one message */
#define ROSTER_MAX_WIRE_DEPTH       16   /* messages nested in a request */
#define ROSTER_MAX_REPEATED_DEFAULT 1000 /* a repeated field with no row below */
#define ROSTER_MAX_CALL_ARENA       (64u * 1024u * 1024u) /* per-call arena, bytes */

/* customData conditions in one filter (ListUsersRequest.filter.custom_data). */
#define ROSTER_MAX_CUSTOM_CONDITIONS 32

/* Most entries of a repeated request field, by protobuf field name; a
 * repeated enum may hold at most its number of values.
 * X(field name, limit) */
#define ROSTER_REPEATED_LIMIT_MAP(X)                                                               \
    X(ids, ROSTER_MAX_BATCH)                                                                       \
    X(values, ROSTER_MAX_FILTER_VALUES)                                                            \
    X(value_in, ROSTER_MAX_FILTER_VALUES)                                                          \
    X(custom_data, ROSTER_MAX_CUSTOM_CONDITIONS)                                                   \
    X(operations, ROSTER_MAX_BULK)

#endif
