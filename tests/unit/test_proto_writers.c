/*
 * test_proto_writers.c - the NATS operation writers (runtime/nats/proto.c) given what they
 * must refuse: no buffer, no or an empty subject, a length without its data, a reply or
 * header length without its bytes, no sid, empty INFO JSON, an -ERR text that would end the
 * line early. Each refusal is MF_ERR_INVALID_ARG and leaves the buffer as it was; the
 * accepted forms are written exactly. Also the name of every operation kind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mf/buf.h"
#include "mf/proto.h"
#include "mf_skip.h"

#define BAD(call)                                                                                              \
    do {                                                                                                       \
        assert_int_equal((call), MF_ERR_INVALID_ARG);                                                          \
        assert_int_equal(b.len, before);                                                                       \
    } while (0)

static void test_refusals_leave_the_buffer(void **state)
{
    (void)state;
    mf_buf b = MF_BUF_INIT;
    mf_buf_append_str(&b, "kept");
    size_t before = b.len;
    const char *d = "x";
    BAD(mf_proto_write_pub(NULL, "s", NULL, d, 1));
    BAD(mf_proto_write_pub(&b, NULL, NULL, d, 1));
    BAD(mf_proto_write_pub(&b, "", NULL, d, 1));
    BAD(mf_proto_write_pub(&b, "s", NULL, NULL, 1));
    BAD(mf_proto_write_hpub(NULL, "s", NULL, "h", 1, d, 1));
    BAD(mf_proto_write_hpub(&b, NULL, NULL, "h", 1, d, 1));
    BAD(mf_proto_write_hpub(&b, "", NULL, "h", 1, d, 1));
    BAD(mf_proto_write_hpub(&b, "s", NULL, "h", 1, NULL, 1));
    BAD(mf_proto_write_hpub(&b, "s", NULL, NULL, 1, d, 1));
    BAD(mf_proto_write_sub(NULL, "s", NULL, 1));
    BAD(mf_proto_write_sub(&b, NULL, NULL, 1));
    BAD(mf_proto_write_sub(&b, "", "q", 1));
    BAD(mf_proto_write_unsub(NULL, 1, 0));
    BAD(mf_proto_write_msg(NULL, "s", 1, "1", 1, NULL, 0, d, 1));
    BAD(mf_proto_write_msg(&b, NULL, 1, "1", 1, NULL, 0, d, 1));
    BAD(mf_proto_write_msg(&b, "s", 0, "1", 1, NULL, 0, d, 1));
    BAD(mf_proto_write_msg(&b, "s", 1, NULL, 1, NULL, 0, d, 1));
    BAD(mf_proto_write_msg(&b, "s", 1, "1", 0, NULL, 0, d, 1));
    BAD(mf_proto_write_msg(&b, "s", 1, "1", 1, NULL, 0, NULL, 1));
    BAD(mf_proto_write_msg(&b, "s", 1, "1", 1, NULL, 3, d, 1));
    BAD(mf_proto_write_hmsg(NULL, "s", 1, "1", 1, NULL, 0, "h", 1, d, 1));
    BAD(mf_proto_write_hmsg(&b, NULL, 1, "1", 1, NULL, 0, "h", 1, d, 1));
    BAD(mf_proto_write_hmsg(&b, "s", 0, "1", 1, NULL, 0, "h", 1, d, 1));
    BAD(mf_proto_write_hmsg(&b, "s", 1, NULL, 1, NULL, 0, "h", 1, d, 1));
    BAD(mf_proto_write_hmsg(&b, "s", 1, "1", 0, NULL, 0, "h", 1, d, 1));
    BAD(mf_proto_write_hmsg(&b, "s", 1, "1", 1, NULL, 0, "h", 1, NULL, 1));
    BAD(mf_proto_write_hmsg(&b, "s", 1, "1", 1, NULL, 2, "h", 1, d, 1));
    BAD(mf_proto_write_hmsg(&b, "s", 1, "1", 1, NULL, 0, NULL, 1, d, 1));
    BAD(mf_proto_write_info(NULL, "{}"));
    BAD(mf_proto_write_info(&b, NULL));
    BAD(mf_proto_write_info(&b, ""));
    BAD(mf_proto_write_ping(NULL));
    BAD(mf_proto_write_pong(NULL));
    BAD(mf_proto_write_ok(NULL));
    BAD(mf_proto_write_err(NULL, "x"));
    BAD(mf_proto_write_err(&b, NULL));
    BAD(mf_proto_write_err(&b, "two\r\nlines"));
    BAD(mf_proto_write_err(&b, "line\n"));
    BAD(mf_proto_write_connect(NULL, NULL));
    assert_string_equal(b.data, "kept");
    mf_buf_free(&b);
}

static void test_accepted_forms(void **state)
{
    (void)state;
    mf_buf b = MF_BUF_INIT;
    assert_int_equal(mf_proto_write_pub(&b, "s", "", NULL, 0), MF_OK); /* empty reply = none */
    assert_int_equal(mf_proto_write_sub(&b, "s", "", 7), MF_OK);       /* empty queue = none */
    assert_int_equal(mf_proto_write_unsub(&b, 7, 3), MF_OK);
    assert_int_equal(mf_proto_write_msg(&b, "s", 1, "7", 1, "r", 1, "ab", 2), MF_OK);
    assert_int_equal(mf_proto_write_hmsg(&b, "s", 1, "7", 1, NULL, 0, "NATS/1.0\r\n\r\n", 12, NULL, 0), MF_OK);
    assert_int_equal(mf_proto_write_ping(&b), MF_OK);
    assert_int_equal(mf_proto_write_pong(&b), MF_OK);
    assert_int_equal(mf_proto_write_ok(&b), MF_OK);
    assert_int_equal(mf_proto_write_err(&b, "Unknown Protocol Operation"), MF_OK);
    assert_string_equal(b.data, "PUB s 0\r\n\r\n"
                                "SUB s 7\r\n"
                                "UNSUB 7 3\r\n"
                                "MSG s 7 r 2\r\nab\r\n"
                                "HMSG s 7 12 12\r\nNATS/1.0\r\n\r\n\r\n"
                                "PING\r\nPONG\r\n+OK\r\n"
                                "-ERR 'Unknown Protocol Operation'\r\n");
    mf_buf_free(&b);
}

static void test_kind_names(void **state)
{
    (void)state;
    const struct {
        mf_proto_kind k;
        const char *name;
    } kinds[] = {{MF_OP_INFO, "INFO"}, {MF_OP_CONNECT, "CONNECT"}, {MF_OP_PUB, "PUB"},   {MF_OP_HPUB, "HPUB"},
                 {MF_OP_SUB, "SUB"},   {MF_OP_UNSUB, "UNSUB"},     {MF_OP_MSG, "MSG"},   {MF_OP_HMSG, "HMSG"},
                 {MF_OP_PING, "PING"}, {MF_OP_PONG, "PONG"},       {MF_OP_OK, "+OK"},    {MF_OP_ERR, "-ERR"},
                 {MF_OP_NONE, "NONE"}, {(mf_proto_kind)99, "NONE"}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        assert_string_equal(mf_proto_kind_str(kinds[i].k), kinds[i].name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals_leave_the_buffer),
        cmocka_unit_test(test_accepted_forms),
        cmocka_unit_test(test_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
