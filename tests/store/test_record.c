/* Record views (record.h): the partial reader a scan parses records with
 * (user_view_parse_some) against the whole-record parser, on hand-encoded
 * protobuf wire data: the fields asked for and only those, fields out of
 * order, repeated and unknown fields, every truncation of a record,
 * malformed wire data, and over-long indexed values read or not read. */
#include "error.h"
#include "model.h"
#include "record.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define ID     "0190a8c2-7b1e-7c3a-8f00-0123456789ab"
#define TENANT "0190a8c2-7b1e-7c3a-8f00-00000000000f"

/* ------------------------------------------------------------ encoder */

typedef struct enc {
    uint8_t b[2048];
    size_t n;
} enc;

static void put_varint(enc *e, uint64_t v)
{
    while (v >= 0x80) {
        e->b[e->n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    e->b[e->n++] = (uint8_t)v;
}

static void put_str(enc *e, uint32_t tag, const char *s, size_t n)
{
    put_varint(e, (uint64_t)tag << 3 | 2);
    put_varint(e, n);
    memcpy(e->b + e->n, s, n);
    e->n += n;
}

static void put_text(enc *e, uint32_t tag, const char *s)
{
    put_str(e, tag, s, strlen(s));
}

static void put_uint(enc *e, uint32_t tag, uint64_t v)
{
    put_varint(e, (uint64_t)tag << 3);
    put_varint(e, v);
}

/* A user as the store writes it: fields in number order. */
static void user_record(enc *e)
{
    e->n = 0;
    put_text(e, 1, ID);
    put_text(e, 2, "ref-1");
    put_text(e, 3, "Ann@Example.io");
    put_text(e, 4, "Ann");
    put_text(e, 5, "Lee");
    put_text(e, 6, "+1 555 0100");
    put_uint(e, 10, 1);
    put_text(e, 12, "{\"plan\":\"gold\"}");
    put_text(e, 14, TENANT);
    put_uint(e, 15, 1700000000000ull);
    put_uint(e, 16, 1700000000001ull);
}

static uint64_t bit(int field)
{
    return (uint64_t)1 << field;
}

static bool str_is(rec_str s, const char *want)
{
    return s.set && s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

/* ------------------------------------------------------------ tests */

START_TEST(reads_the_fields_asked_for_and_only_those)
{
    enc e;
    user_record(&e);
    user_reader r;
    user_reader_init(&r, bit(MODEL_USER_email) | bit(MODEL_USER_active));
    user_view v;
    ck_assert_int_eq(user_view_parse_some(&v, &r, e.b, e.n), ROSTER_E_OK);
    ck_assert(str_is(v.f.id, ID)); /* always read */
    ck_assert(str_is(v.f.email, "Ann@Example.io"));
    ck_assert_int_eq(v.f.active, 1);
    /* Every other field is left null, though the record has it. */
    ck_assert(!v.f.firstName.set);
    ck_assert(!v.f.lastName.set);
    ck_assert(!v.f.phone.set);
    ck_assert(!v.f.customData.set);
    ck_assert(!v.f.tenantId.set);
    ck_assert_int_eq(v.f.createdAt, 0);
    ck_assert(!v.ids_parsed);
    /* The ids of a view read without the tenant: no tenant. */
    ck_assert_int_eq(user_view_ids(&v), ROSTER_E_OK);
    ck_assert(!v.has_tenant);

    /* Asking for every field gives what the whole-record parser gives. */
    user_view all, some;
    user_reader_init(&r, ~(uint64_t)0);
    ck_assert_int_eq(user_view_parse_lazy(&all, e.b, e.n), ROSTER_E_OK);
    ck_assert_int_eq(user_view_parse_some(&some, &r, e.b, e.n), ROSTER_E_OK);
    ck_assert(memcmp(&all.f, &some.f, sizeof all.f) == 0);
    ck_assert_int_eq(user_view_ids(&some), ROSTER_E_OK);
    ck_assert(some.has_tenant);

    /* The tenant alone, for a scope condition. */
    user_reader_init(&r, bit(MODEL_USER_tenantId));
    ck_assert_int_eq(user_view_parse_some(&v, &r, e.b, e.n), ROSTER_E_OK);
    ck_assert(str_is(v.f.tenantId, TENANT));
    ck_assert(!v.f.email.set);
    ck_assert_int_eq(v.f.active, -1);
    ck_assert_int_eq(user_view_ids(&v), ROSTER_E_OK);
    ck_assert(v.has_tenant);
}
END_TEST

/* Protobuf lets fields come in any order, repeat (the last one counts)
 * and be unknown: the reader walks the whole record, so a field after
 * one it does not read, or after an unknown one, is still found. */
START_TEST(fields_out_of_order_repeated_and_unknown)
{
    enc e = {.n = 0};
    put_uint(&e, 16, 5);
    put_text(&e, 29, "unknown, below the table's end");
    put_text(&e, 40, "unknown, past the table's end");
    put_uint(&e, 41, 7);
    put_varint(&e, (uint64_t)42 << 3 | 1); /* fixed64 */
    memcpy(e.b + e.n, "12345678", 8);
    e.n += 8;
    put_varint(&e, (uint64_t)43 << 3 | 5); /* fixed32 */
    memcpy(e.b + e.n, "1234", 4);
    e.n += 4;
    put_text(&e, 4, "First");
    put_text(&e, 14, TENANT);
    put_text(&e, 4, "Second");
    put_uint(&e, 10, 0);
    put_text(&e, 1, ID); /* the id last */
    user_reader r;
    user_reader_init(&r, bit(MODEL_USER_firstName) | bit(MODEL_USER_active));
    user_view v;
    ck_assert_int_eq(user_view_parse_some(&v, &r, e.b, e.n), ROSTER_E_OK);
    ck_assert(str_is(v.f.id, ID));
    ck_assert(str_is(v.f.firstName, "Second"));
    ck_assert_int_eq(v.f.active, 0);
    ck_assert(!v.f.tenantId.set);
    ck_assert_int_eq(v.f.updatedAt, 0);
}
END_TEST

/* Every prefix of a record: the partial reader fails exactly when the
 * whole-record parser does (bad wire data anywhere, or no id yet), and
 * agrees with it on every field it reads. */
START_TEST(every_truncation_agrees_with_the_whole_parser)
{
    enc e;
    user_record(&e);
    user_reader r;
    user_reader_init(&r, bit(MODEL_USER_lastName) | bit(MODEL_USER_createdAt));
    int ok = 0, bad = 0;
    for (size_t n = 0; n <= e.n; n++) {
        /* A copy of exactly n bytes, so a read past it is an error ASan sees. */
        uint8_t *b = malloc(n ? n : 1);
        ck_assert_ptr_nonnull(b);
        memcpy(b, e.b, n);
        user_view all, some;
        int want = user_view_parse_lazy(&all, b, n);
        int got = user_view_parse_some(&some, &r, b, n);
        ck_assert_msg(got == want, "prefix of %zu bytes: %s, whole parser %s", n,
                      roster_errname(got), roster_errname(want));
        if (got == ROSTER_E_OK) {
            ok++;
            ck_assert(all.f.lastName.set == some.f.lastName.set);
            ck_assert(!some.f.lastName.set || (some.f.lastName.p == all.f.lastName.p &&
                                               some.f.lastName.n == all.f.lastName.n));
            ck_assert(some.f.createdAt == all.f.createdAt);
            ck_assert(!some.f.email.set);
        } else {
            bad++;
        }
        free(b);
    }
    /* Whole fields cut off are records without them; cuts inside a field
     * are bad wire data. */
    ck_assert_int_gt(ok, 5);
    ck_assert_int_gt(bad, 40);
}
END_TEST

START_TEST(malformed_wire_data)
{
    user_reader r;
    user_reader_init(&r, bit(MODEL_USER_email));
    user_view v;
    enc e;
    /* No id at all. */
    e.n = 0;
    put_text(&e, 3, "a@b.c");
    ck_assert_int_eq(user_view_parse_some(&v, &r, e.b, e.n), ROSTER_E_CORRUPT);
    /* Group wire types (3, 4) are not in these records. */
    for (unsigned wt = 3; wt <= 4; wt++) {
        user_record(&e);
        put_varint(&e, (uint64_t)20 << 3 | wt);
        ck_assert_int_eq(user_view_parse_some(&v, &r, e.b, e.n), ROSTER_E_CORRUPT);
    }
    /* A varint of more than ten bytes. */
    user_record(&e);
    put_varint(&e, (uint64_t)20 << 3);
    for (int i = 0; i < 11; i++)
        e.b[e.n++] = 0xff;
    e.b[e.n++] = 0x01;
    ck_assert_int_eq(user_view_parse_some(&v, &r, e.b, e.n), ROSTER_E_CORRUPT);
    /* A length past the end, in a field the reader skips. */
    user_record(&e);
    put_varint(&e, (uint64_t)12 << 3 | 2);
    put_varint(&e, 1000);
    e.b[e.n++] = '{';
    ck_assert_int_eq(user_view_parse_some(&v, &r, e.b, e.n), ROSTER_E_CORRUPT);
    /* fixed64 cut short. */
    user_record(&e);
    put_varint(&e, (uint64_t)20 << 3 | 1);
    e.b[e.n++] = 1;
    ck_assert_int_eq(user_view_parse_some(&v, &r, e.b, e.n), ROSTER_E_CORRUPT);
}
END_TEST

/* An indexed value longer than validation allows marks a damaged record
 * when the reader reads that field, and goes unseen when it does not (the
 * whole record is parsed, and so checked, once it matches). */
START_TEST(over_long_indexed_value)
{
    char longname[300];
    memset(longname, 'x', sizeof longname);
    enc e = {.n = 0};
    put_text(&e, 1, ID);
    put_text(&e, 3, "a@b.c");
    put_str(&e, 4, longname, sizeof longname);
    user_view v;
    ck_assert_int_eq(user_view_parse_lazy(&v, e.b, e.n), ROSTER_E_CORRUPT);
    user_reader r;
    user_reader_init(&r, bit(MODEL_USER_email));
    ck_assert_int_eq(user_view_parse_some(&v, &r, e.b, e.n), ROSTER_E_OK);
    ck_assert(str_is(v.f.email, "a@b.c"));
    user_reader_init(&r, bit(MODEL_USER_firstName));
    ck_assert_int_eq(user_view_parse_some(&v, &r, e.b, e.n), ROSTER_E_CORRUPT);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc = tcase_create("partial reader");
    tcase_add_test(tc, reads_the_fields_asked_for_and_only_those);
    tcase_add_test(tc, fields_out_of_order_repeated_and_unknown);
    tcase_add_test(tc, every_truncation_agrees_with_the_whole_parser);
    tcase_add_test(tc, malformed_wire_data);
    tcase_add_test(tc, over_long_indexed_value);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
