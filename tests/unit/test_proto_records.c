/*
 * test_proto_records.c - the CONNECT and INFO records as a peer sends them
 * (runtime/nats/proto_json.c), the edges tests/transport/test_proto.c leaves out:
 * every member given as null keeps its default (nats-server sends nulls), a record that
 * does not fit its fixed fields (an over-long server_id, more URLs than the record holds,
 * an URL longer than a slot), NULL text, and a CONNECT with every member set written and
 * read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mf/buf.h"
#include "mf/proto.h"
#include "mf_skip.h"

static void test_connect_nulls_keep_defaults(void **state)
{
    (void)state;
    const char *j = "{\"verbose\":null,\"pedantic\":null,\"tls_required\":null,\"name\":null,\"lang\":null,"
                    "\"version\":null,\"auth_token\":null,\"user\":null,\"pass\":null,\"protocol\":null,"
                    "\"echo\":null,\"headers\":null,\"no_responders\":null}";
    mf_proto_connect c;
    mf_error err;
    assert_int_equal(mf_proto_parse_connect(j, strlen(j), &c, &err), MF_OK);
    assert_false(c.has_verbose);
    assert_false(c.has_pedantic);
    assert_false(c.has_auth_token);
    assert_false(c.verbose || c.pedantic || c.tls_required || c.headers || c.no_responders);
    assert_true(c.echo); /* the default: echo on */
    assert_int_equal(c.protocol, 0);
    assert_string_equal(c.name, "");
    assert_string_equal(c.user, "");
    assert_string_equal(c.pass, "");
    assert_int_equal(mf_proto_parse_connect(NULL, 0, &c, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(err.code, MF_ERR_INVALID_ARG);
}

static void test_connect_every_member_round_trips(void **state)
{
    (void)state;
    mf_proto_connect c;
    mf_proto_connect_init(&c);
    c.verbose = c.pedantic = c.tls_required = c.headers = c.no_responders = true;
    c.echo = false;
    c.protocol = 1;
    strcpy(c.name, "svc");
    strcpy(c.lang, "C");
    strcpy(c.version, "0.1.0");
    strcpy(c.user, "alice");
    strcpy(c.pass, "p\"w\\d"); /* escaped on the wire */
    strcpy(c.auth_token, "tok");
    mf_buf b = MF_BUF_INIT;
    assert_int_equal(mf_proto_write_connect(&b, &c), MF_OK);
    assert_true(b.len > 10);
    assert_memory_equal(b.data, "CONNECT {", 9);
    assert_memory_equal(b.data + b.len - 2, "\r\n", 2);
    mf_proto_connect r;
    mf_error err;
    assert_int_equal(mf_proto_parse_connect(b.data + 8, b.len - 10, &r, &err), MF_OK);
    assert_true(r.verbose && r.pedantic && r.tls_required && r.headers && r.no_responders);
    assert_false(r.echo);
    assert_true(r.has_auth_token);
    assert_string_equal(r.user, "alice");
    assert_string_equal(r.pass, "p\"w\\d");
    assert_string_equal(r.auth_token, "tok");
    assert_string_equal(r.lang, "C");
    mf_buf_free(&b);
    assert_int_equal(mf_proto_write_connect(NULL, &c), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_proto_write_connect(&b, NULL), MF_ERR_INVALID_ARG);
}

static void test_connect_long_credentials_are_refused(void **state)
{
    (void)state;
    mf_buf b = MF_BUF_INIT;
    mf_buf_append_str(&b, "{\"user\":\"");
    for (int i = 0; i < MF_PROTO_STR_MAX; i++)
        mf_buf_append_char(&b, 'u');
    mf_buf_append_str(&b, "\",\"pass\":\"");
    for (int i = 0; i < MF_PROTO_TOKEN_MAX; i++)
        mf_buf_append_char(&b, 'p');
    mf_buf_append_str(&b, "\"}");
    mf_proto_connect c;
    mf_error err;
    /* both too long: the error names the first (mf_error holds the first error met) */
    assert_int_equal(mf_proto_parse_connect(b.data, b.len, &c, &err), MF_ERR_LIMIT);
    assert_non_null(strstr(err.message, "user"));
    assert_null(strstr(err.message, "pass"));
    mf_buf_free(&b);
    /* the password alone */
    mf_buf_append_str(&b, "{\"user\":\"u\",\"pass\":\"");
    for (int i = 0; i < MF_PROTO_TOKEN_MAX; i++)
        mf_buf_append_char(&b, 'p');
    mf_buf_append_str(&b, "\"}");
    assert_int_equal(mf_proto_parse_connect(b.data, b.len, &c, &err), MF_ERR_LIMIT);
    assert_non_null(strstr(err.message, "pass"));
    assert_string_equal(c.user, "u");
    mf_buf_free(&b);
}

static void test_info_nulls_keep_defaults(void **state)
{
    (void)state;
    const char *j = "{\"server_id\":null,\"server_name\":null,\"version\":null,\"host\":null,\"port\":null,"
                    "\"proto\":null,\"max_payload\":null,\"headers\":null,\"auth_required\":null,"
                    "\"tls_required\":null,\"client_id\":null,\"connect_urls\":null}";
    mf_proto_info in;
    mf_error err;
    assert_int_equal(mf_proto_parse_info(j, strlen(j), &in, &err), MF_OK);
    assert_int_equal(in.port, 0);
    assert_int_equal(in.proto, 0);
    assert_int_equal(in.max_payload, 0);
    assert_int_equal(in.client_id, 0);
    assert_false(in.headers || in.auth_required || in.tls_required);
    assert_string_equal(in.server_id, "");
    assert_int_equal(in.n_connect_urls, 0);
    assert_int_equal(mf_proto_parse_info(NULL, 0, &in, &err), MF_ERR_INVALID_ARG);
}

static void test_info_that_does_not_fit(void **state)
{
    (void)state;
    mf_buf b = MF_BUF_INIT;
    mf_proto_info in;
    mf_error err;
    /* more URLs than the record holds, and one longer than a slot: dropped, the rest kept */
    mf_buf_append_str(&b, "{\"connect_urls\":[\"");
    for (int i = 0; i < MF_PROTO_STR_MAX; i++)
        mf_buf_append_char(&b, 'h');
    mf_buf_append_str(&b, ":4222\"");
    for (int i = 0; i < MF_PROTO_MAX_URLS + 4; i++) {
        char u[32];
        snprintf(u, sizeof u, ",\"10.0.0.%d:4222\"", i);
        mf_buf_append_str(&b, u);
    }
    mf_buf_append_str(&b, "],\"max_payload\":1048576,\"headers\":true}");
    assert_int_equal(mf_proto_parse_info(b.data, b.len, &in, &err), MF_OK);
    assert_int_equal(in.n_connect_urls, MF_PROTO_MAX_URLS);
    assert_string_equal(in.connect_urls[0], "10.0.0.0:4222");
    assert_string_equal(in.connect_urls[MF_PROTO_MAX_URLS - 1], "10.0.0.15:4222");
    assert_int_equal(in.max_payload, 1048576);
    assert_true(in.headers);
    mf_buf_free(&b);
    /* identity strings that do not fit are an error (they are not cut: a server id must be exact) */
    const char *members[] = {"server_id", "server_name", "version", "host"};
    for (size_t m = 0; m < 4; m++) {
        mf_buf_append_str(&b, "{\"");
        mf_buf_append_str(&b, members[m]);
        mf_buf_append_str(&b, "\":\"");
        for (int i = 0; i < MF_PROTO_STR_MAX; i++)
            mf_buf_append_char(&b, 's');
        mf_buf_append_str(&b, "\"}");
        assert_int_equal(mf_proto_parse_info(b.data, b.len, &in, &err), MF_ERR_LIMIT);
        assert_non_null(strstr(err.message, members[m]));
        mf_buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_nulls_keep_defaults),
        cmocka_unit_test(test_connect_every_member_round_trips),
        cmocka_unit_test(test_connect_long_credentials_are_refused),
        cmocka_unit_test(test_info_nulls_keep_defaults),
        cmocka_unit_test(test_info_that_does_not_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
