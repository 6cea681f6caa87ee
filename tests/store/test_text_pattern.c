/* The compiled LIKE matcher (text_pattern): hand-checked cases, agreement
 * with a plain dynamic-programming reference over many generated patterns
 * and strings (multi-byte characters under '_', ill-formed bytes, '%%',
 * escapes, the empty pattern, iLike), substring search, and the cost
 * bound: steps grow linearly with the record, whatever the pattern. */
#include "text.h"
#include "text_pattern.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ reference */

/* A character for the reference: a well-formed UTF-8 sequence, else one
 * byte. Found by trying the length the lead byte announces. */
static size_t ref_char_len(const char *s, size_t n)
{
    uint8_t c = (uint8_t)s[0];
    size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (want > 1 && want <= n && text_utf8_valid(s, want))
        return want;
    return 1;
}

enum { REF_STAR = 1, REF_ANY, REF_LIT };
typedef struct ref_tok {
    int kind;
    const char *p; /* REF_LIT: the character */
    size_t n;
} ref_tok;

static bool ref_lit_eq(const ref_tok *t, const char *c, size_t n, bool ci)
{
    if (t->n != n)
        return false;
    if (n == 1 && ci)
        return text_lower(t->p[0]) == text_lower(c[0]);
    return memcmp(t->p, c, n) == 0;
}

/* SQL LIKE by the textbook table: ok[i][j] = tokens [i..) match chars [j..). */
static bool ref_like(const char *s, size_t sn, const char *pat, size_t pn, bool ci)
{
    ref_tok tok[600];
    size_t nt = 0;
    for (size_t i = 0; i < pn;) {
        size_t l = ref_char_len(pat + i, pn - i);
        if (l == 1 && pat[i] == '%') {
            tok[nt++] = (ref_tok){REF_STAR, NULL, 0};
            i++;
        } else if (l == 1 && pat[i] == '_') {
            tok[nt++] = (ref_tok){REF_ANY, NULL, 0};
            i++;
        } else {
            if (l == 1 && pat[i] == '\\' && i + 1 < pn) {
                i++;
                l = ref_char_len(pat + i, pn - i);
            }
            tok[nt++] = (ref_tok){REF_LIT, pat + i, l};
            i += l;
        }
    }
    const char *ch[600];
    size_t cl[600], nc = 0;
    for (size_t j = 0; j < sn;) {
        ch[nc] = s + j;
        cl[nc] = ref_char_len(s + j, sn - j);
        j += cl[nc++];
    }
    static bool ok[601][601];
    for (size_t i = nt + 1; i-- > 0;)
        for (size_t j = nc + 1; j-- > 0;) {
            if (i == nt) {
                ok[i][j] = j == nc;
                continue;
            }
            const ref_tok *t = &tok[i];
            if (t->kind == REF_STAR)
                ok[i][j] = ok[i + 1][j] || (j < nc && ok[i][j + 1]);
            else if (j == nc)
                ok[i][j] = false;
            else if (t->kind == REF_ANY)
                ok[i][j] = ok[i + 1][j + 1];
            else
                ok[i][j] = ref_lit_eq(t, ch[j], cl[j], ci) && ok[i + 1][j + 1];
        }
    return ok[0][0];
}

static bool like(const char *s, const char *pat, bool ci)
{
    text_pattern *p = malloc(sizeof *p);
    ck_assert_ptr_nonnull(p);
    ck_assert(text_pattern_compile(p, pat, strlen(pat), ci));
    bool r = text_pattern_match(p, s, strlen(s));
    free(p);
    return r;
}

START_TEST(hand_checked_cases)
{
    struct {
        const char *s, *p;
        bool ci, want;
    } cases[] = {
        {"", "", false, true},           {"", "%", false, true},
        {"", "%%", false, true},         {"a", "", false, false},
        {"", "_", false, false},         {"abc", "a%", false, true},
        {"abc", "%c", false, true},      {"abc", "%b%", false, true},
        {"abc", "a_c", false, true},     {"abc", "a_", false, false},
        {"abc", "ABC", false, false},    {"abc", "ABC", true, true},
        {"aXbXc", "a%b%c", false, true}, {"mississippi", "%iss%ppi", false, true},
        {"a%c", "a\\%c", false, true},   {"abc", "a\\%c", false, false},
        {"a_c", "a\\_c", false, true},   {"abc", "a\\_c", false, false},
        {"a\\", "a\\", false, true},     {"a\\b", "a\\\\b", false, true},
        {"éa", "_a", false, true},       {"€a", "_a", false, true},
        {"😀a", "_a", false, true},       {"😀", "__", false, false},
        {"😀é€", "___", false, true},     {"é", "É", true, false}, /* iLike folds ASCII only */
        {"abab", "%ab", false, true},    {"aab", "%a_b", false, true},
        {"ab", "%a_b", false, false},    {"x\xc3y", "x_y", false, true}, /* a stray byte is one */
        {"\xc3\xa9", "_", false, true},  {"\xc3\xa9", "%\xa9", false, false},
        {"AbC", "a%c", true, true},      {"ab%", "%\\%", false, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_msg(like(cases[i].s, cases[i].p, cases[i].ci) == cases[i].want,
                      "like(%s, %s, %d)", cases[i].s, cases[i].p, cases[i].ci);
        ck_assert_msg(ref_like(cases[i].s, strlen(cases[i].s), cases[i].p, strlen(cases[i].p),
                               cases[i].ci) == cases[i].want,
                      "reference like(%s, %s, %d)", cases[i].s, cases[i].p, cases[i].ci);
    }
    ck_assert(text_utf8_valid("h\xc3\xa9", 3));
    ck_assert(!text_utf8_valid("\xc3", 1));
    ck_assert(!text_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    ck_assert(!text_utf8_valid("\xe0\x80\xaf", 3)); /* overlong */
}
END_TEST

/* Checks that pat[0..pn) compiled into p, as like and as iLike, answers
 * for str[0..sn) what the reference does; the number of matches. */
static int agrees(text_pattern *p, const char *str, size_t sn, const char *pat, size_t pn)
{
    int matched = 0;
    for (int ci = 0; ci < 2; ci++) {
        ck_assert(text_pattern_compile(p, pat, pn, ci));
        bool want = ref_like(str, sn, pat, pn, ci);
        matched += want;
        ck_assert_msg(text_pattern_match(p, str, sn) == want, "like(%.*s, %.*s, %d) != %d", (int)sn,
                      str, (int)pn, pat, ci, want);
    }
    return matched;
}

/* Random patterns and strings over a small alphabet with one-, two-,
 * three- and four-byte characters, a stray lead and a stray continuation
 * byte, a surrogate encoding, escapes and both wildcards: the compiled
 * matcher agrees with the reference on every pair, case-sensitive and
 * not. Long patterns (past 64 tokens) cross state words. */
START_TEST(agrees_with_reference)
{
    static const char *const atoms[] = {
        "a",
        "b",
        "A",
        "%",
        "_",
        "\\",
        "\xc3\xa9",
        "\xa9",
        "\xe2\x82\xac",
        "\xf0\x9f\x98\x80",
        "\xc3",
        "%%",
        "\xed\xa0\x80",
    };
    static const char *const satoms[] = {
        "a",    "b",  "A", "B", "\xc3\xa9", "\xa9", "%", "_", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "\xc3", "\\",
    };
    enum { NA = sizeof atoms / sizeof atoms[0], NS = sizeof satoms / sizeof satoms[0] };
    uint32_t rnd = 12345;
#define RND() (rnd = rnd * 1103515245u + 12345u, (rnd >> 16) & 0x7fff)
    char pat[ROSTER_MAX_PATTERN], str[512];
    text_pattern *p = malloc(sizeof *p);
    ck_assert_ptr_nonnull(p);
    long matched = 0;
    for (int iter = 0; iter < 60000; iter++) {
        size_t pn = 0, sn = 0;
        bool longp = iter % 16 == 0;
        int np = (int)(RND() % (longp ? 80 : 9)), ns = (int)(RND() % (longp ? 120 : 12));
        for (int i = 0; i < np; i++) {
            const char *a = atoms[RND() % NA];
            size_t l = strlen(a);
            if (pn + l > sizeof pat)
                break;
            memcpy(pat + pn, a, l);
            pn += l;
        }
        for (int i = 0; i < ns; i++) {
            const char *a = satoms[RND() % NS];
            memcpy(str + sn, a, strlen(a));
            sn += strlen(a);
        }
        /* Half the time, a string the pattern can match: the pattern
         * itself with its wildcards replaced. */
        if (!longp && RND() % 2 == 0) {
            sn = 0;
            for (size_t i = 0; i < pn; i++) {
                if (pat[i] == '%')
                    for (int k = (int)(RND() % 3); k > 0; k--)
                        str[sn++] = satoms[RND() % 4][0];
                else if (pat[i] == '_')
                    str[sn++] = 'x';
                else if (pat[i] != '\\')
                    str[sn++] = pat[i];
            }
        }
        matched += agrees(p, str, sn, pat, pn);
    }
#undef RND
    ck_assert_int_gt(matched, 10000); /* the generator exercises matches too */
    char big[ROSTER_MAX_PATTERN + 1];
    memset(big, '%', sizeof big);
    ck_assert(text_pattern_compile(p, big, ROSTER_MAX_PATTERN, false));
    ck_assert(text_pattern_match(p, "x", 1));
    ck_assert(!text_pattern_compile(p, big, sizeof big, false));
    /* The most multi-byte characters a pattern can hold, all distinct. */
    char multi[ROSTER_MAX_PATTERN];
    for (int i = 0; i < ROSTER_MAX_PATTERN / 2; i++) {
        multi[2 * i] = (char)(0xc2 + i / 64);
        multi[2 * i + 1] = (char)(0x80 + i % 64);
    }
    ck_assert(text_pattern_compile(p, multi, sizeof multi, true));
    ck_assert(text_pattern_match(p, multi, sizeof multi));
    ck_assert(!text_pattern_match(p, multi, sizeof multi - 2));
    free(p);
}
END_TEST

/* Patterns whose segments are ASCII literals (compared in place, their
 * first byte looked for 16 bytes at a time) against long texts of both
 * cases, digits, multi-byte characters and stray bytes, each with a
 * planted copy of a segment now and then: the matcher agrees with the
 * reference, iLike and like, searches too. Near-matches everywhere make
 * the search hand over to the automaton. */
START_TEST(literal_segments_agree_with_reference)
{
    static const char *const tatoms[] = {
        "a",    "b", "A", "B", "u", "U", "0", "1", "@", ".", "\xc3\xa9", "\xa9", "\xe2\x82\xac",
        "\xc3", "%", "_"};
    static const char *const lits[] = {"a", "b", "A", "u", "U", "0", "1", "@", ".", "\\%", "\\_"};
    enum { NT = sizeof tatoms / sizeof tatoms[0], NL = sizeof lits / sizeof lits[0] };
    uint32_t rnd = 777;
#define RND() (rnd = rnd * 1103515245u + 12345u, (rnd >> 16) & 0x7fff)
    text_pattern *p = malloc(sizeof *p);
    ck_assert_ptr_nonnull(p);
    char pat[ROSTER_MAX_PATTERN], str[600], seg[40];
    long matched = 0;
    for (int iter = 0; iter < 40000; iter++) {
        size_t pn = 0, sn = 0, gn = 0;
        int nseg = 1 + (int)(RND() % 3);
        bool lead = RND() % 2, trail = RND() % 2;
        if (lead)
            pat[pn++] = '%';
        for (int g = 0; g < nseg; g++) {
            if (g)
                pat[pn++] = '%';
            int len = 1 + (int)(RND() % 6);
            for (int i = 0; i < len; i++) {
                const char *a = lits[RND() % NL];
                memcpy(pat + pn, a, strlen(a));
                pn += strlen(a);
            }
        }
        if (trail)
            pat[pn++] = '%';
        /* one segment's text, to plant */
        for (size_t i = 0; i < pn && gn < sizeof seg - 1; i++) {
            if (pat[i] == '%') {
                if (gn && RND() % 2)
                    break;
                gn = 0;
                continue;
            }
            if (pat[i] == '\\')
                i++;
            seg[gn++] = RND() % 2
                            ? pat[i]
                            : (char)(pat[i] ^
                                     ((pat[i] | 0x20) >= 'a' && (pat[i] | 0x20) <= 'z' ? 0x20 : 0));
        }
        int ns = (int)(RND() % 200);
        for (int i = 0; i < ns; i++) {
            if (RND() % 25 == 0 && sn + gn < sizeof str) {
                memcpy(str + sn, seg, gn);
                sn += gn;
            }
            const char *a = tatoms[RND() % NT];
            if (sn + strlen(a) < sizeof str) {
                memcpy(str + sn, a, strlen(a));
                sn += strlen(a);
            }
        }
        matched += agrees(p, str, sn, pat, pn);
        /* search for the planted text */
        ck_assert(text_pattern_compile_search(p, seg, gn));
        char sp[48];
        size_t spn = 0;
        sp[spn++] = '%';
        for (size_t i = 0; i < gn; i++) {
            if (seg[i] == '%' || seg[i] == '_' || seg[i] == '\\')
                sp[spn++] = '\\';
            sp[spn++] = seg[i];
        }
        sp[spn++] = '%';
        ck_assert_msg(text_pattern_match(p, str, sn) == ref_like(str, sn, sp, spn, true),
                      "search %.*s in %.*s", (int)gn, seg, (int)sn, str);
    }
    ck_assert_int_gt(matched, 2000);
    /* near-matches everywhere, the match at the very end */
    char hay[4000];
    memset(hay, 'a', sizeof hay);
    hay[sizeof hay - 1] = 'b';
    char needle[60];
    needle[0] = '%';
    memset(needle + 1, 'a', 50);
    strcpy(needle + 51, "b%");
    for (int ci = 0; ci < 2; ci++) {
        ck_assert(text_pattern_compile(p, needle, strlen(needle), ci));
        ck_assert(text_pattern_match(p, hay, sizeof hay));
        ck_assert(!text_pattern_match(p, hay, sizeof hay - 1));
        needle[53] = 'A'; /* %a...ab%A: the automaton's find, then the next segment */
        needle[54] = 0;
        ck_assert(text_pattern_compile(p, needle, strlen(needle), ci));
        ck_assert(!text_pattern_match(p, hay, sizeof hay));
        needle[53] = 0;
    }
#undef RND
    free(p);
}
END_TEST

START_TEST(search_is_a_literal_substring)
{
    text_pattern *p = malloc(sizeof *p);
    ck_assert_ptr_nonnull(p);
    ck_assert(text_pattern_compile_search(p, "Z.IO", 4));
    ck_assert(text_pattern_match(p, "eve@z.io", 8));
    ck_assert(!text_pattern_match(p, "eve@zxio", 8));
    ck_assert(text_pattern_compile_search(p, "a%_", 3)); /* wildcards are literal */
    ck_assert(text_pattern_match(p, "xa%_y", 5));
    ck_assert(!text_pattern_match(p, "xabc", 4));
    ck_assert(text_pattern_compile_search(p, "", 0));
    ck_assert(text_pattern_match(p, "", 0));
    ck_assert(text_pattern_match(p, "anything", 8));
    char big[ROSTER_MAX_PATTERN + 1] = {0};
    ck_assert(!text_pattern_compile_search(p, big, sizeof big));
    free(p);
}
END_TEST

/* ------------------------------------------------------------ cost */

static uint64_t cost(const text_pattern *p, const char *s, size_t n, bool *matched)
{
    uint64_t steps = 0;
    *matched = text_pattern_match_steps(p, s, n, &steps);
    return steps;
}

/* Patterns that make a backtracking matcher quadratic or worse on a long
 * run of 'a': many '%' between 'a's ending in a missing 'b', long
 * segments that almost match everywhere, '_' runs, the longest pattern.
 * The steps counted grow linearly with the record (doubling the record
 * at most doubles them, plus a constant) and stay under the bound:
 * characters * (1 + words of a segment + 1) plus the pattern's tokens. */
START_TEST(cost_is_linear_on_hostile_patterns)
{
    char pats[6][ROSTER_MAX_PATTERN + 1];
    size_t i;
    /* %a%a%a...%b */
    for (i = 0; i + 3 <= ROSTER_MAX_PATTERN - 1; i += 2)
        memcpy(pats[0] + i, "%a", 2);
    strcpy(pats[0] + i, "b");
    /* %aaaa...ab% and %aaaa...ab */
    pats[1][0] = '%';
    memset(pats[1] + 1, 'a', ROSTER_MAX_PATTERN - 3);
    strcpy(pats[1] + ROSTER_MAX_PATTERN - 2, "b%");
    strcpy(pats[2], pats[1]);
    pats[2][ROSTER_MAX_PATTERN - 1] = 0;
    /* %____..._b and %_%_%_...b */
    pats[3][0] = '%';
    memset(pats[3] + 1, '_', ROSTER_MAX_PATTERN - 2);
    strcpy(pats[3] + ROSTER_MAX_PATTERN - 1, "b");
    for (i = 0; i + 3 <= ROSTER_MAX_PATTERN - 1; i += 2)
        memcpy(pats[4] + i, "%_", 2);
    strcpy(pats[4] + i, "b");
    /* a%a%a%...%a%b, first segment anchored */
    for (i = 0; i + 3 <= ROSTER_MAX_PATTERN - 1; i += 2)
        memcpy(pats[5] + i, "a%", 2);
    strcpy(pats[5] + i, "b");
    enum { MAXN = 64000 };
    char *text = malloc(MAXN);
    ck_assert_ptr_nonnull(text);
    memset(text, 'a', MAXN);
    text_pattern *p = malloc(sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (int k = 0; k < 6; k++) {
        for (int ci = 0; ci < 2; ci++) {
            size_t pn = strlen(pats[k]);
            ck_assert_uint_le(pn, ROSTER_MAX_PATTERN);
            ck_assert(text_pattern_compile(p, pats[k], pn, ci));
            uint64_t prev = 0;
            for (size_t n = 1000; n <= MAXN; n *= 2) {
                bool m;
                uint64_t c = cost(p, text, n, &m);
                ck_assert_msg(!m, "pattern %d matched a run of a", k);
                uint64_t bound = (uint64_t)n * (2 + TEXT_PAT_WORDS) + ROSTER_MAX_PATTERN;
                ck_assert_msg(c <= bound, "pattern %d, %zu bytes: %llu steps > %llu", k, n,
                              (unsigned long long)c, (unsigned long long)bound);
                if (prev)
                    ck_assert_msg(c <= 2 * prev + ROSTER_MAX_PATTERN,
                                  "pattern %d: %llu steps at %zu bytes after %llu", k,
                                  (unsigned long long)c, n, (unsigned long long)prev);
                prev = c;
            }
        }
    }
    free(p);
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("text_pattern");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, hand_checked_cases);
    tcase_add_test(tc, agrees_with_reference);
    tcase_add_test(tc, literal_segments_agree_with_reference);
    tcase_add_test(tc, search_is_a_literal_substring);
    tcase_add_test(tc, cost_is_linear_on_hostile_patterns);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
