#include "apikey.h"
#include "error.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static roster_uuid test_id(void)
{
    roster_uuid id;
    for (int i = 0; i < 16; i++)
        id.b[i] = (uint8_t)(0x10 * i + 1);
    return id;
}

START_TEST(mint_then_parse)
{
    roster_uuid id = test_id(), back;
    char text[ROSTER_APIKEY_TEXT_LEN + 1];
    uint8_t h1[ROSTER_APIKEY_HASH_LEN], h2[ROSTER_APIKEY_HASH_LEN];
    ck_assert_int_eq(roster_apikey_mint(text, h1, &id), ROSTER_E_OK);
    ck_assert_uint_eq(strlen(text), ROSTER_APIKEY_TEXT_LEN);
    ck_assert(strncmp(text, "rstr_0111213141516171819", strlen("rstr_0111213141516171819")) == 0);
    ck_assert_int_eq(text[ROSTER_APIKEY_PREFIX_LEN + 32], '_');
    ck_assert_int_eq(roster_apikey_parse(&back, h2, text, strlen(text)), ROSTER_E_OK);
    ck_assert(roster_uuid_eq(&back, &id));
    ck_assert(roster_apikey_hash_eq(h1, h2));
}
END_TEST

START_TEST(secrets_differ)
{
    roster_uuid id = test_id();
    char a[ROSTER_APIKEY_TEXT_LEN + 1], b[ROSTER_APIKEY_TEXT_LEN + 1];
    uint8_t ha[ROSTER_APIKEY_HASH_LEN], hb[ROSTER_APIKEY_HASH_LEN];
    ck_assert_int_eq(roster_apikey_mint(a, ha, &id), ROSTER_E_OK);
    ck_assert_int_eq(roster_apikey_mint(b, hb, &id), ROSTER_E_OK);
    ck_assert_str_ne(a, b);
    ck_assert(!roster_apikey_hash_eq(ha, hb));
}
END_TEST

/* SHA-256 of 32 zero bytes, which the all-'A' secret decodes to. */
START_TEST(known_vector)
{
    const char *text = "rstr_0190b1c4e5f67000800000000000000a_"
                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    static const uint8_t want[32] = {0x66, 0x68, 0x7a, 0xad, 0xf8, 0x62, 0xbd, 0x77,
                                     0x6c, 0x8f, 0xc1, 0x8b, 0x8e, 0x9f, 0x8e, 0x20,
                                     0x08, 0x97, 0x14, 0x85, 0x6e, 0xe2, 0x33, 0xb3,
                                     0x90, 0x2a, 0x59, 0x1d, 0x0d, 0x5f, 0x29, 0x25};
    roster_uuid id;
    uint8_t h[ROSTER_APIKEY_HASH_LEN];
    ck_assert_int_eq(roster_apikey_parse(&id, h, text, strlen(text)), ROSTER_E_OK);
    ck_assert(roster_apikey_hash_eq(h, want));
    ck_assert_int_eq(id.b[0], 0x01);
    ck_assert_int_eq(id.b[15], 0x0a);
}
END_TEST

START_TEST(malformed_refused)
{
    roster_uuid id = test_id(), out;
    memset(&out, 0x5a, sizeof out);
    char good[ROSTER_APIKEY_TEXT_LEN + 1];
    uint8_t h[ROSTER_APIKEY_HASH_LEN];
    ck_assert_int_eq(roster_apikey_mint(good, h, &id), ROSTER_E_OK);
    char bad[ROSTER_APIKEY_TEXT_LEN + 2];
    /* wrong length */
    ck_assert_int_eq(roster_apikey_parse(&out, h, good, ROSTER_APIKEY_TEXT_LEN - 1),
                     ROSTER_E_UNAUTHENTICATED);
    memcpy(bad, good, sizeof good);
    bad[ROSTER_APIKEY_TEXT_LEN] = 'A';
    ck_assert_int_eq(roster_apikey_parse(&out, h, bad, ROSTER_APIKEY_TEXT_LEN + 1),
                     ROSTER_E_UNAUTHENTICATED);
    /* wrong prefix */
    memcpy(bad, good, sizeof good);
    bad[0] = 'R';
    ck_assert_int_eq(roster_apikey_parse(&out, h, bad, ROSTER_APIKEY_TEXT_LEN),
                     ROSTER_E_UNAUTHENTICATED);
    /* upper-case hex */
    memcpy(bad, good, sizeof good);
    bad[ROSTER_APIKEY_PREFIX_LEN + 3] = 'A';
    ck_assert_int_eq(roster_apikey_parse(&out, h, bad, ROSTER_APIKEY_TEXT_LEN),
                     ROSTER_E_UNAUTHENTICATED);
    /* separator */
    memcpy(bad, good, sizeof good);
    bad[ROSTER_APIKEY_PREFIX_LEN + 32] = '-';
    ck_assert_int_eq(roster_apikey_parse(&out, h, bad, ROSTER_APIKEY_TEXT_LEN),
                     ROSTER_E_UNAUTHENTICATED);
    /* outside the alphabet */
    memcpy(bad, good, sizeof good);
    bad[ROSTER_APIKEY_TEXT_LEN - 5] = '+';
    ck_assert_int_eq(roster_apikey_parse(&out, h, bad, ROSTER_APIKEY_TEXT_LEN),
                     ROSTER_E_UNAUTHENTICATED);
    /* non-canonical last character (trailing bits set) */
    const char *nc = "rstr_0190b1c4e5f67000800000000000000a_"
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB";
    ck_assert_int_eq(roster_apikey_parse(&out, h, nc, strlen(nc)), ROSTER_E_UNAUTHENTICATED);
    ck_assert_int_eq(roster_apikey_parse(&out, h, NULL, 0), ROSTER_E_UNAUTHENTICATED);
    /* nothing written on failure */
    ck_assert_int_eq(out.b[0], 0x5a);
}
END_TEST

START_TEST(wipe)
{
    uint8_t buf[8];
    memset(buf, 0xff, sizeof buf);
    roster_secure_wipe(buf, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++)
        ck_assert_int_eq(buf[i], 0);
    roster_secure_wipe(NULL, 4);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("apikey");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, mint_then_parse);
    tcase_add_test(tc, secrets_differ);
    tcase_add_test(tc, known_vector);
    tcase_add_test(tc, malformed_refused);
    tcase_add_test(tc, wipe);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
