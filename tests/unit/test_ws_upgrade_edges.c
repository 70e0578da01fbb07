/*
 * test_ws_upgrade_edges.c - the HTTP/1.1 upgrade parsers (runtime/ws/handshake.c) on heads
 * tests/transport/test_ws.c leaves out. Requests: header values with white space around
 * them, token lists, a version that is not a number, keys that are not 16 bytes of base64,
 * a duplicate Origin, a method or target that is not allowed, a request line ended by a
 * bare CR. Responses (the client side): the upgrade in a token list, a second
 * Sec-WebSocket-Accept, an extension or a subprotocol nobody asked for, status lines that
 * are not HTTP/1.x 101, folded or control-character header lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mf/ws.h"
#include "mf_skip.h"

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" /* RFC 6455's example */

static int request(const char *head, mf_ws_request *r, int *status)
{
    size_t used;
    const char *why;
    return mf_ws_parse_request(head, strlen(head), r, &used, status, &why);
}

static void test_requests(void **state)
{
    (void)state;
    mf_ws_request r;
    int status;
    assert_int_equal(request("GET /nats HTTP/1.1\r\nUpgrade:\t h2c , WebSocket \t\r\n"
                             "Connection: keep-alive,\tUpgrade\r\nSec-WebSocket-Version:  13 \r\n"
                             "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Protocol: a, b\r\n"
                             "Sec-WebSocket-Protocol: c\r\nOrigin: http://x\r\n\r\n",
                             &r, &status),
                     1);
    assert_true(r.upgrade);
    assert_int_equal(r.version, 13);
    assert_true(r.key_valid);
    assert_string_equal(r.path, "/nats");
    assert_true(mf_ws_protocol_listed(r.protocols, "c"));
    assert_true(mf_ws_protocol_listed(r.protocols, "b"));
    assert_false(mf_ws_protocol_listed(r.protocols, "C"));
    assert_false(mf_ws_protocol_listed(NULL, "c"));
    assert_false(mf_ws_protocol_listed(r.protocols, NULL));
    assert_string_equal(r.origin, "http://x");

    /* no upgrade without both headers */
    assert_int_equal(request("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: close\r\n\r\n", &r, &status), 1);
    assert_false(r.upgrade);
    /* a version that is not a number */
    assert_int_equal(request("GET / HTTP/1.1\r\nSec-WebSocket-Version: 1x\r\n\r\n", &r, &status), 1);
    assert_true(r.version >= 1000);
    /* keys that are not base64 of 16 bytes */
    const char *bad_keys[] = {"dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ=A", "dGhlIHNhbXBsZSBub25jZ!==",
                              "dGhlIHNhbXBsZSBub25jZQ==="};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        char head[256];
        snprintf(head, sizeof head, "GET / HTTP/1.1\r\nSec-WebSocket-Key: %s\r\n\r\n", bad_keys[i]);
        assert_int_equal(request(head, &r, &status), 1);
        assert_false(r.key_valid);
    }
    /* refused heads */
    const char *refused[] = {
        "GET / HTTP/1.1\r\nOrigin: a\r\nOrigin: b\r\n\r\n",             /* two origins */
        "GET / HTTP/1.1\r\nSec-WebSocket-Key: a\r\nSec-WebSocket-Key: b\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",                                        /* not a token */
        "VERYLONGMETHODNAME / HTTP/1.1\r\n\r\n",                         /* method too long */
        "GET /a\x01 HTTP/1.1\r\n\r\n",                                   /* control character in the target */
        "GET / HTTP/1.1\r\n folded: x\r\n\r\n",                          /* a folded line */
        "GET / HTTP/1.1\r\nName : x\r\n\r\n",                            /* blank before the colon */
        "GET / HTTP/1.1\r\nName: a\x7f\r\n\r\n",                         /* DEL in a value */
        "GET / HTTP/1.1\rX\r\n\r\n",                                     /* a CR alone */
        "GET / HTTP/1.1\r\nName: a\rb\r\n\r\n",                          /* a CR alone in a header */
        "GET / HTTP/x.1\r\n\r\n",
        "GET / HTTP/1.10\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (request(refused[i], &r, &status) != -1)
            fail_msg("accepted: %s", refused[i]);
        assert_int_equal(status, 400);
    }
}

static int response(const char *head, char *why, size_t whysz)
{
    size_t used;
    return mf_ws_parse_response(head, strlen(head), KEY, &used, why, whysz);
}

static void test_responses(void **state)
{
    (void)state;
    char why[160];
    assert_int_equal(response("HTTP/1.1 101 Switching\r\nUpgrade: h2c, websocket\r\nConnection: keep-alive, upgrade\r\n"
                              "Sec-WebSocket-Accept: " ACCEPT "\r\nSec-WebSocket-Extensions:\r\n\r\n",
                              why, sizeof why),
                     1);
    const char *refused[] = {
        "HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: " ACCEPT
        "\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n", /* twice */
        "HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: " ACCEPT
        "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        "HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: " ACCEPT
        "\r\nSec-WebSocket-Protocol: nats\r\n\r\n",
        "HTTP/1.1 101 S\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n", /* no Connection */
        "HTTP/1.1 101 S\r\nConnection: upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n",  /* no Upgrade */
        "HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: upgrade\r\n folded\r\n\r\n",
        "HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: upgrade\r\nX: \x01\r\n\r\n",
        "HTTP/1.1 10\r\n\r\n",
        "HTTP/2.0 101 S\r\n\r\n",
        "HTTP/1.1x101 S\r\n\r\n",
        "HTTP/1.1 1a1 S\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        why[0] = '\0';
        if (response(refused[i], why, sizeof why) != -1)
            fail_msg("accepted: %s", refused[i]);
        assert_true(why[0] != '\0');
    }
    assert_int_equal(response("HTTP/1.1 200 OK\r\n\r\n", why, sizeof why), -1);
    assert_non_null(strstr(why, "200 OK"));
    /* incomplete */
    assert_int_equal(response("HTTP/1.1 101 S\r\nUpgrade: websocket\r\n", why, sizeof why), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
