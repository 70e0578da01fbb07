/*
 * test_client_msg.c - the received-message helpers of the client (runtime/client/msg.c)
 * on the header blocks a server may send: the status line (with tabs, too short, two
 * digits, another version), a header looked up case-insensitively with its white space
 * trimmed, lines without CR, a last line without a newline, the empty line that ends the
 * block, no status line at all; owned copies with and without reply, headers and data;
 * and the header block of an HPUB refusing names and values that would break it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "client/client_int.h"
#include "mf_skip.h"

static int status_of(const char *s)
{
    return mf_msg_parse_status(s, strlen(s));
}

static void test_status_line(void **state)
{
    (void)state;
    assert_int_equal(status_of("NATS/1.0 503\r\n\r\n"), 503);
    assert_int_equal(status_of("NATS/1.0\t404 No Messages\r\n\r\n"), 404);
    assert_int_equal(status_of("NATS/1.0 \t 408\r\n"), 408);
    assert_int_equal(status_of("NATS/1.0\r\n\r\n"), 0);          /* no status */
    assert_int_equal(status_of("NATS/1.0 50\r\n\r\n"), 0);       /* two digits */
    assert_int_equal(status_of("NATS/1.1 503\r\n\r\n"), 0);      /* another version */
    assert_int_equal(status_of("NATS/1.0 5"), 0);                /* too short */
    assert_int_equal(status_of("NATS/1.0 5031\r\n"), 503);       /* three digits are the code */
    assert_int_equal(mf_msg_parse_status(NULL, 20), 0);
}

static mf_msg with_headers(const char *h)
{
    mf_msg m;
    memset(&m, 0, sizeof m);
    m.subject = "s";
    m.subject_len = 1;
    m.data = "";
    m.headers = h;
    m.headers_len = h ? strlen(h) : 0;
    return m;
}

static void test_header_lookup(void **state)
{
    (void)state;
    size_t n = 0;
    mf_msg m = with_headers("NATS/1.0\r\nX-One: 1\r\nx-two:\t two words \t\r\nBare\r\nX-Three:3\n\r\nX-After: no\r\n");
    const char *v = mf_msg_header(&m, "x-one", &n);
    assert_non_null(v);
    assert_int_equal(n, 1);
    assert_memory_equal(v, "1", 1);
    v = mf_msg_header(&m, "X-TWO", &n); /* case-insensitive, trimmed */
    assert_non_null(v);
    assert_int_equal(n, 9);
    assert_memory_equal(v, "two words", 9);
    v = mf_msg_header(&m, "X-Three", NULL); /* a line ended by LF alone */
    assert_non_null(v);
    assert_int_equal(v[0], '3');
    assert_null(mf_msg_header(&m, "Bare", &n));    /* a line without a colon */
    assert_null(mf_msg_header(&m, "X-After", &n)); /* after the empty line */
    assert_null(mf_msg_header(&m, "X-On", &n));    /* a prefix is not the name */
    assert_null(mf_msg_header(&m, "X-One-More", &n));

    /* the last line without a newline */
    m = with_headers("NATS/1.0\r\nA: last");
    v = mf_msg_header(&m, "a", &n);
    assert_non_null(v);
    assert_int_equal(n, 4);
    assert_null(mf_msg_header(&m, "b", &n));
    /* no status line end: nothing to look in */
    m = with_headers("NATS/1.0 A: 1");
    assert_null(mf_msg_header(&m, "A", &n));
    /* no headers, NULL arguments */
    m = with_headers(NULL);
    assert_null(mf_msg_header(&m, "A", &n));
    assert_null(mf_msg_header(NULL, "A", &n));
    m = with_headers("NATS/1.0\r\nA: 1\r\n\r\n");
    assert_null(mf_msg_header(&m, NULL, &n));
}

static void test_owned_copy(void **state)
{
    (void)state;
    mf_msg m = with_headers("NATS/1.0\r\nK: v\r\n\r\n");
    m.reply = "_INBOX.x";
    m.reply_len = 8;
    m.data = "payload";
    m.len = 7;
    m.sid = 9;
    mf_msg_owned *o = NULL;
    assert_int_equal(mf_msg_copy(&m, &o), MF_OK);
    assert_non_null(o);
    assert_string_equal(o->msg.subject, "s");
    assert_string_equal(o->msg.reply, "_INBOX.x");
    assert_int_equal(o->msg.len, 7);
    assert_string_equal((const char *)o->msg.data, "payload"); /* NUL-terminated */
    assert_int_equal(o->msg.sid, 0);
    size_t n;
    const char *v = mf_msg_header(&o->msg, "k", &n);
    assert_non_null(v);
    assert_memory_equal(v, "v", 1);
    assert_ptr_not_equal(o->msg.headers, m.headers);
    mf_msg_owned_free(o);

    /* nothing but a subject */
    mf_msg bare = with_headers(NULL);
    bare.subject = NULL;
    bare.subject_len = 0;
    assert_int_equal(mf_msg_copy(&bare, &o), MF_OK);
    assert_string_equal(o->msg.subject, "");
    assert_null(o->msg.reply);
    assert_null(o->msg.headers);
    assert_string_equal((const char *)o->msg.data, "");
    mf_msg_owned_free(o);
    mf_msg_owned_free(NULL);
    assert_int_equal(mf_msg_copy(NULL, &o), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_msg_copy(&m, NULL), MF_ERR_INVALID_ARG);
}

static void test_build_headers(void **state)
{
    (void)state;
    mf_buf b = MF_BUF_INIT;
    const mf_header ok[] = {{"Trace-Id", "abc"}, {"Empty", NULL}, {"K", "a: b"}};
    assert_int_equal(mf_msg_build_headers(&b, ok, 3), MF_OK);
    assert_string_equal(b.data, "NATS/1.0\r\nTrace-Id: abc\r\nEmpty: \r\nK: a: b\r\n\r\n");
    mf_buf_free(&b);
    assert_int_equal(mf_msg_build_headers(&b, NULL, 0), MF_OK);
    assert_string_equal(b.data, "NATS/1.0\r\n\r\n");
    mf_buf_free(&b);
    const char *bad_names[] = {"", "a:b", "a b", "a\x7f", "caf\xc3\xa9", "tab\t"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        const mf_header h[] = {{bad_names[i], "v"}};
        assert_int_equal(mf_msg_build_headers(&b, h, 1), MF_ERR_INVALID_ARG);
        mf_buf_free(&b);
    }
    const mf_header no_name[] = {{NULL, "v"}};
    assert_int_equal(mf_msg_build_headers(&b, no_name, 1), MF_ERR_INVALID_ARG);
    mf_buf_free(&b);
    const char *bad_values[] = {"a\rb", "a\nb", "\r\n"};
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        const mf_header h[] = {{"K", bad_values[i]}};
        assert_int_equal(mf_msg_build_headers(&b, h, 1), MF_ERR_INVALID_ARG);
        mf_buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_line),
        cmocka_unit_test(test_header_lookup),
        cmocka_unit_test(test_owned_copy),
        cmocka_unit_test(test_build_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
