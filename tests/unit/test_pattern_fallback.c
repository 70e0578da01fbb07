/*
 * test_pattern_fallback.c - the `pattern` constraint (runtime/codec/pattern.c) on EREs
 * outside the fast matcher's scope (character classes, non-ASCII, bounds above 255, more
 * than 32 atoms, groups, GNU escapes, stacked quantifiers), on values it leaves to regexec
 * (non-ASCII, longer than 256 bytes for a non-deterministic program), and on EREs that do
 * not compile. The oracle is regexec itself: mf_pattern_check must answer as it does; the
 * fast matcher must stand aside (-1) wherever it does not apply. Also the error message:
 * the value shown is cut at a character boundary, a NULL pattern or value is an error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <regex.h>
#include <cmocka.h>

#include "codec/codec_int.h"
#include "mf_skip.h"

static bool oracle(const char *ere, const char *s)
{
    regex_t re;
    assert_int_equal(regcomp(&re, ere, REG_EXTENDED | REG_NOSUB), 0);
    bool ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static void test_outside_the_fast_scope(void **state)
{
    (void)state;
    static char many[80];
    many[0] = '^';
    for (int i = 1; i < 41; i++)
        many[i] = (char)('a' + i % 26);
    many[41] = '$';
    static const char *eres[] = {
        "^[[:alpha:]]+$", "^[a-c[:digit:]]+$", "^[\xc3\xa9]+$", "^\xc3\xa9+$", "^a{300}$", "^(ab)+$",
        "^a\\w$",         "^a*?b$",            "^a|b$",         "^[^[:space:]]+$", "^[a-z].*$",
    };
    static const char *values[] = {"", "a", "ab", "abab", "abc", "Z9", "a b", "\xc3\xa9", "a_", "aab", "b", "7"};
    /* static: a compiled pattern lives as long as the process (as the generated tables) */
    static mf_pattern pats[sizeof eres / sizeof eres[0] + 1];
    for (size_t i = 0; i <= sizeof eres / sizeof eres[0]; i++) {
        const char *ere = i < sizeof eres / sizeof eres[0] ? eres[i] : many;
        pats[i].source = ere;
        pats[i].ere = ere;
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            const char *s = values[v];
            mf_error err;
            bool want = oracle(ere, s);
            mf_status st = mf_pattern_check(&pats[i], s, strlen(s), "/p", &err);
            if ((st == MF_OK) != want)
                fail_msg("%s on \"%s\": %s, regexec says %s", ere, s, mf_status_str(st), want ? "match" : "no");
            assert_int_equal(mf_pattern_fast_match(&pats[i], s, strlen(s)), -1);
        }
    }
    char val[41]; /* the 40 atoms themselves match */
    memcpy(val, many + 1, 40);
    val[40] = '\0';
    assert_int_equal(mf_pattern_check(&pats[sizeof eres / sizeof eres[0]], val, 40, "/p", NULL), MF_OK);
}

static void test_values_left_to_regexec(void **state)
{
    (void)state;
    static mf_pattern det = {"^[a-z]+$", "^[a-z]+$", 0, NULL};
    assert_int_equal(mf_pattern_fast_match(&det, "abc", 3), 1); /* in scope */
    assert_int_equal(mf_pattern_fast_match(&det, "ab\xc3\xa9", 4), -1);
    assert_int_equal(mf_pattern_check(&det, "ab\xc3\xa9", 4, "/p", NULL), MF_ERR_PATTERN);
    /* not deterministic (a* may eat the a of the next item): values over 256 bytes go to regexec */
    static mf_pattern nd = {"^a*ab$", "^a*ab$", 0, NULL};
    static char longv[400];
    memset(longv, 'a', sizeof longv - 1);
    longv[sizeof longv - 3] = 'a';
    longv[sizeof longv - 2] = 'b';
    assert_int_equal(mf_pattern_fast_match(&nd, longv, strlen(longv)), -1);
    assert_int_equal(mf_pattern_check(&nd, longv, strlen(longv), "/p", NULL), MF_OK);
    assert_int_equal(mf_pattern_fast_match(&nd, "aab", 3), 1);
    longv[sizeof longv - 2] = 'c';
    assert_int_equal(mf_pattern_check(&nd, longv, strlen(longv), "/p", NULL), MF_ERR_PATTERN);
}

static void test_eres_that_do_not_compile(void **state)
{
    (void)state;
    static const char *bad[] = {"^[z-a]$", "^a{3,2}$", "^(a$", "^a{2$"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mf_pattern p = {bad[i], bad[i], 0, NULL};
        mf_error err;
        assert_int_equal(mf_pattern_check(&p, "a", 1, "/p", &err), MF_ERR_PATTERN);
        assert_non_null(strstr(err.message, "could not be compiled"));
        assert_int_equal(mf_pattern_fast_match(&p, "a", 1), -1);
        assert_int_equal(p.state, -1); /* and it is not tried again */
        assert_int_equal(mf_pattern_check(&p, "a", 1, "/p", &err), MF_ERR_PATTERN);
    }
    mf_pattern no_ere = {"src", NULL, 0, NULL};
    mf_error err;
    assert_int_equal(mf_pattern_check(&no_ere, "a", 1, "/p", &err), MF_ERR_PATTERN);
}

static void test_messages(void **state)
{
    (void)state;
    mf_error err;
    assert_int_equal(mf_pattern_check(NULL, "a", 1, "/p", &err), MF_ERR_PATTERN);
    assert_non_null(strstr(err.message, "could not be applied"));
    static mf_pattern p = {"^[0-9]+$", "^[0-9]+$", 0, NULL};
    assert_int_equal(mf_pattern_check(&p, NULL, 0, "/p", &err), MF_ERR_PATTERN);
    assert_string_equal(err.pointer, "/p");
    /* 39 ASCII bytes, then a 2-byte character across the 40-byte cut: shown without it */
    char v[64];
    memset(v, 'x', 39);
    memcpy(v + 39, "\xc3\xa9zz", 5);
    assert_int_equal(mf_pattern_check(&p, v, strlen(v), "/p", &err), MF_ERR_PATTERN);
    assert_null(strstr(err.message, "\xc3"));
    assert_non_null(strstr(err.message, "does not match ^[0-9]+$"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outside_the_fast_scope),
        cmocka_unit_test(test_values_left_to_regexec),
        cmocka_unit_test(test_eres_that_do_not_compile),
        cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
