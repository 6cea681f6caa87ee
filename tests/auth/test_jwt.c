/* Access tokens: base64url, signing and verifying JWTs, reading their
 * claims, and the signing keys of a data directory (first key, file
 * modes, rotation, retired keys read back, retirement). */
#include "b64url.h"
#include "jwt.h"
#include "signkeys.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/roster-jwt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static roster_jwt_claims claims(int64_t iat, int64_t exp)
{
    roster_jwt_claims c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < 16; i++) {
        c.key_id.b[i] = (uint8_t)i;
        c.env.b[i] = (uint8_t)(0xa0 + i);
        c.tenant.b[i] = (uint8_t)(0x30 + i);
    }
    snprintf(c.role, sizeof c.role, "writer");
    c.has_tenant = true;
    c.iat = iat;
    c.exp = exp;
    return c;
}

START_TEST(b64url_round_trip)
{
    uint8_t in[7] = {0xfb, 0xff, 0x00, 0x10, 0x7e, 0x3f, 0x80}, out[8];
    char text[16];
    for (size_t n = 0; n <= sizeof in; n++) {
        size_t len = roster_b64url_encode(text, in, n), back = 99;
        ck_assert_uint_eq(len, ROSTER_B64URL_LEN(n));
        ck_assert(roster_b64url_decode(out, &back, text, len));
        ck_assert_uint_eq(back, n);
        ck_assert(memcmp(in, out, n) == 0);
    }
    size_t n;
    ck_assert(!roster_b64url_decode(out, &n, "AB=", 3));
    ck_assert(!roster_b64url_decode(out, &n, "A", 1));
    ck_assert(!roster_b64url_decode(out, &n, "AB", 2)); /* non-zero trailing bits */
    ck_assert(roster_b64url_decode(out, &n, "AA", 2));
}
END_TEST

START_TEST(sign_decode_verify)
{
    make_dir();
    roster_signkeys *k = NULL;
    ck_assert_int_eq(roster_signkeys_open(&k, dir, true, 1000, NULL), ROSTER_E_OK);
    roster_jwt_claims c = claims(1000, 1900), back;
    char tok[ROSTER_JWT_MAX_LEN + 1];
    size_t len = 0;
    ck_assert_int_eq(roster_signkeys_sign(tok, &len, k, &c), ROSTER_E_OK);
    ck_assert_uint_eq(strlen(tok), len);
    ck_assert(roster_jwt_shaped(tok, len));
    ck_assert_int_eq(roster_jwt_decode(&back, tok, len, NULL), ROSTER_E_OK);
    ck_assert_str_eq(back.kid, c.kid);
    ck_assert_str_eq(back.role, "writer");
    ck_assert(!back.is_user);
    ck_assert(roster_uuid_eq(&back.key_id, &c.key_id));
    ck_assert(roster_uuid_eq(&back.env, &c.env));
    ck_assert(back.has_tenant && roster_uuid_eq(&back.tenant, &c.tenant));
    ck_assert_int_eq(back.exp, 1900);
    ck_assert_int_eq(roster_signkeys_check(k, tok, len, &back, 1000, NULL), ROSTER_E_OK);

    /* A changed claim or signature byte: refused. */
    char bad[ROSTER_JWT_MAX_LEN + 1];
    memcpy(bad, tok, len + 1);
    char *dot = strchr(bad, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(roster_signkeys_check(k, bad, len, &back, 1000, NULL),
                     ROSTER_E_UNAUTHENTICATED);
    memcpy(bad, tok, len + 1);
    bad[len - 3] = bad[len - 3] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(roster_signkeys_check(k, bad, len, &back, 1000, NULL),
                     ROSTER_E_UNAUTHENTICATED);

    /* A user token carries its user. */
    c.is_user = true;
    c.user.b[0] = 0x42;
    ck_assert_int_eq(roster_signkeys_sign(tok, &len, k, &c), ROSTER_E_OK);
    ck_assert_int_eq(roster_jwt_decode(&back, tok, len, NULL), ROSTER_E_OK);
    ck_assert(back.is_user);
    ck_assert_str_eq(back.role, "user");
    ck_assert(roster_uuid_eq(&back.user, &c.user));
    roster_signkeys_free(k);
    remove_dir();
}
END_TEST

START_TEST(malformed_refused)
{
    static const char *const bad[] = {
        "",
        "rstr_0123",
        "eyJ.e30.",
        "eyJhbGciOiJub25lIn0.e30.",                                       /* alg none */
        "eyJhbGciOiJFZERTQSJ9.e30.AAAA",                                  /* no kid */
        "eyJhbGciOiJFZERTQSIsImtpZCI6IjAxMjM0NTY3ODlhYmNkZWYifQ.e30.AA",  /* no claims */
        "eyJhbGciOiJFZERTQSIsImtpZCI6IjAxMjM0NTY3ODlhYmNkZWYifQ.WzFd.AA", /* claims not an object */
    };
    roster_jwt_claims c;
    roster_err_detail d = {{0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(roster_jwt_decode(&c, bad[i], strlen(bad[i]), &d),
                         ROSTER_E_UNAUTHENTICATED);
    ck_assert_str_eq(d.field, "credential");
}
END_TEST

START_TEST(key_file_mode_and_rotation)
{
    make_dir();
    char path[128];
    snprintf(path, sizeof path, "%s/signing/current.pem", dir);
    roster_signkeys *k = NULL;
    ck_assert_int_eq(roster_signkeys_open(&k, dir, false, 1000, NULL), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(roster_signkeys_open(&k, dir, true, 1000, NULL), ROSTER_E_OK);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);

    roster_jwt_claims c = claims(1000, 1900), old_c, new_c;
    char old_tok[ROSTER_JWT_MAX_LEN + 1], new_tok[ROSTER_JWT_MAX_LEN + 1];
    size_t old_len, new_len;
    ck_assert_int_eq(roster_signkeys_sign(old_tok, &old_len, k, &c), ROSTER_E_OK);
    char fresh[ROSTER_JWT_KID_LEN + 1], old[ROSTER_JWT_KID_LEN + 1];
    ck_assert_int_eq(roster_signkeys_rotate(k, 1000, fresh, old, NULL), ROSTER_E_OK);
    ck_assert_str_ne(fresh, old);
    ck_assert_int_eq(roster_signkeys_sign(new_tok, &new_len, k, &c), ROSTER_E_OK);
    ck_assert_int_eq(roster_jwt_decode(&old_c, old_tok, old_len, NULL), ROSTER_E_OK);
    ck_assert_int_eq(roster_jwt_decode(&new_c, new_tok, new_len, NULL), ROSTER_E_OK);
    ck_assert_str_eq(old_c.kid, old);
    ck_assert_str_eq(new_c.kid, fresh);
    ck_assert_int_eq(roster_signkeys_check(k, old_tok, old_len, &old_c, 1000, NULL), ROSTER_E_OK);
    ck_assert_int_eq(roster_signkeys_check(k, new_tok, new_len, &new_c, 1000, NULL), ROSTER_E_OK);
    /* Past its retirement the old key no longer verifies. */
    int64_t until = 1000 + ROSTER_JWT_MAX_LIFETIME_S;
    ck_assert_int_eq(roster_signkeys_check(k, old_tok, old_len, &old_c, until, NULL),
                     ROSTER_E_UNAUTHENTICATED);
    roster_signkeys_free(k);

    /* Read back: the current key is the rotated one, the old one retired. */
    ck_assert_int_eq(roster_signkeys_open(&k, dir, false, 2000, NULL), ROSTER_E_OK);
    char kid[ROSTER_JWT_KID_LEN + 1];
    roster_signkeys_kid(kid, k);
    ck_assert_str_eq(kid, fresh);
    ck_assert_int_eq(roster_signkeys_check(k, old_tok, old_len, &old_c, 2000, NULL), ROSTER_E_OK);
    roster_signkeys_free(k);
    ck_assert_int_eq(roster_signkeys_open(&k, dir, false, until, NULL), ROSTER_E_OK);
    ck_assert_int_eq(roster_signkeys_check(k, old_tok, old_len, &old_c, until, NULL),
                     ROSTER_E_UNAUTHENTICATED);
    roster_signkeys_free(k);

    /* A private key others may read is refused. */
    ck_assert_int_eq(chmod(path, 0644), 0);
    roster_err_detail d = {{0}};
    ck_assert_int_eq(roster_signkeys_open(&k, dir, true, 1000, &d), ROSTER_E_PERMISSION_DENIED);
    ck_assert_ptr_nonnull(strstr(d.message, "chmod 600"));
    remove_dir();
}
END_TEST

/* More retired keys than a set holds: the ones that end latest are kept,
 * whatever order they come in, from files or from PEM text. */
START_TEST(retired_keys_latest_kept)
{
    enum { N = ROSTER_SIGNKEYS_MAX_RETIRED + 3 };
    make_dir();
    roster_signkeys *k = NULL;
    ck_assert_int_eq(roster_signkeys_open(&k, dir, true, 1000, NULL), ROSTER_E_OK);
    char kids[N][ROSTER_JWT_KID_LEN + 1], fresh[ROSTER_JWT_KID_LEN + 1];
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(roster_signkeys_rotate(k, 1000 + i, fresh, kids[i], NULL), ROSTER_E_OK);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < N; i++)
            ck_assert_int_eq(roster_signkeys_knows(k, kids[i], 1000),
                             i >= N - ROSTER_SIGNKEYS_MAX_RETIRED);
        roster_signkeys_free(k);
        /* Read back from the files, in directory order. */
        ck_assert_int_eq(roster_signkeys_open(&k, dir, false, 1000, NULL), ROSTER_E_OK);
    }
    roster_signkeys_free(k);
    remove_dir();

    /* From PEM text: retired keys in no particular order, one past its time. */
    char *cur, *priv[N], *pub[N];
    size_t cur_len, priv_len[N], pub_len[N];
    ck_assert_int_eq(roster_signkeys_new_pem(&cur, &cur_len, NULL), ROSTER_E_OK);
    roster_signkey_pem retired[N];
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(roster_signkeys_new_pem(&priv[i], &priv_len[i], NULL), ROSTER_E_OK);
        ck_assert_int_eq(
            roster_signkeys_public_pem(&pub[i], &pub_len[i], kids[i], priv[i], priv_len[i], NULL),
            ROSTER_E_OK);
        int64_t until = i == 0 ? 999 : 2000 + (i * 7) % N; /* a permutation of 2000.. */
        retired[i] = (roster_signkey_pem){pub[i], pub_len[i], until};
    }
    ck_assert_int_eq(roster_signkeys_from_pem(&k, cur, cur_len, retired, N, 1000, NULL),
                     ROSTER_E_OK);
    for (int i = 0; i < N; i++) {
        int rank = 0; /* how many live keys end later than key i */
        for (int j = 1; j < N; j++)
            rank += retired[j].until > retired[i].until;
        ck_assert_int_eq(roster_signkeys_knows(k, kids[i], 1000),
                         i != 0 && rank < ROSTER_SIGNKEYS_MAX_RETIRED);
        roster_signkeys_pem_free(priv[i], priv_len[i]);
        roster_signkeys_pem_free(pub[i], pub_len[i]);
    }
    roster_signkeys_pem_free(cur, cur_len);
    roster_signkeys_free(k);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, b64url_round_trip);
    tcase_add_test(tc, sign_decode_verify);
    tcase_add_test(tc, malformed_refused);
    tcase_add_test(tc, key_file_mode_and_rotation);
    tcase_add_test(tc, retired_keys_latest_kept);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
