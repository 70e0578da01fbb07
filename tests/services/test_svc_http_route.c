/*
 * test_svc_http_route.c - the admin server's router (patterns, parameters, 404/405) and
 * the removal of the chunked transfer coding from request bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "svc_http_int.h"

static void h1(svc_http_req *rq, void *ctx) { (void)rq, (void)ctx; }
static void h2(svc_http_req *rq, void *ctx) { (void)rq, (void)ctx; }

static const svc_http_route routes[] = {
    {SVC_HTTP_POST, "/users", h1, NULL, NULL, 0, NULL},
    {SVC_HTTP_GET, "/users", h2, NULL, NULL, 0, NULL},
    {SVC_HTTP_POST, "/users/import", h1, NULL, NULL, 0, NULL},
    {SVC_HTTP_GET, "/users/{id}", h1, NULL, NULL, 0, NULL},
    {SVC_HTTP_DELETE, "/users/{id}", h2, NULL, NULL, 0, NULL},
    {SVC_HTTP_PUT, "/users/{id}/preferences", h1, NULL, NULL, 0, NULL},
    {SVC_HTTP_GET, "/a/{x}/b/{y}", h1, NULL, NULL, 0, NULL},
    {SVC_HTTP_GET, "/", h2, NULL, NULL, 0, NULL},
};

static svc_router *build(void)
{
    svc_router *r = NULL;
    mf_error err;
    assert_int_equal(svc_router_build(routes, sizeof routes / sizeof routes[0], &r, &err), MF_OK);
    return r;
}

static void literal_and_parameters(void **state)
{
    (void)state;
    svc_router *r = build();
    svc_route_match m;
    assert_int_equal(svc_router_match(r, SVC_HTTP_GET, "/users", &m), SVC_ROUTE_FOUND);
    assert_ptr_equal(m.route, &routes[1]);
    assert_int_equal(m.n_params, 0);
    assert_int_equal(svc_router_match(r, SVC_HTTP_POST, "/users/", &m), SVC_ROUTE_FOUND); /* trailing / */
    assert_ptr_equal(m.route, &routes[0]);
    assert_int_equal(svc_router_match(r, SVC_HTTP_GET, "/users/abc-1", &m), SVC_ROUTE_FOUND);
    assert_ptr_equal(m.route, &routes[3]);
    assert_int_equal(m.n_params, 1);
    assert_string_equal(m.names[0], "id");
    assert_string_equal(m.values[0], "abc-1");
    assert_int_equal(svc_router_match(r, SVC_HTTP_PUT, "/users/u1/preferences", &m), SVC_ROUTE_FOUND);
    assert_string_equal(m.values[0], "u1");
    assert_int_equal(svc_router_match(r, SVC_HTTP_GET, "/a/1/b/2", &m), SVC_ROUTE_FOUND);
    assert_int_equal(m.n_params, 2);
    assert_string_equal(m.names[1], "y");
    assert_string_equal(m.values[1], "2");
    assert_int_equal(svc_router_match(r, SVC_HTTP_GET, "/", &m), SVC_ROUTE_FOUND);
    assert_ptr_equal(m.route, &routes[7]);
    /* the first route that fits wins: /users/import is not /users/{id} for POST */
    assert_int_equal(svc_router_match(r, SVC_HTTP_POST, "/users/import", &m), SVC_ROUTE_FOUND);
    assert_ptr_equal(m.route, &routes[2]);
    svc_router_free(r);
}

static void not_found_and_not_allowed(void **state)
{
    (void)state;
    svc_router *r = build();
    svc_route_match m;
    const char *missing[] = {"/nope", "/users/a/b", "/users//x", "users", "", "/a/1/b", "//"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++)
        if (svc_router_match(r, SVC_HTTP_GET, missing[i], &m) != SVC_ROUTE_NO_PATH)
            fail_msg("%s should be 404", missing[i]);
    assert_int_equal(svc_router_match(r, SVC_HTTP_GET, NULL, &m), SVC_ROUTE_NO_PATH);
    assert_int_equal(svc_router_match(r, SVC_HTTP_PATCH, "/users", &m), SVC_ROUTE_NO_METHOD);
    assert_int_equal(m.allow, (1u << SVC_HTTP_GET) | (1u << SVC_HTTP_POST));
    assert_int_equal(svc_router_match(r, SVC_HTTP_POST, "/users/x", &m), SVC_ROUTE_NO_METHOD);
    assert_int_equal(m.allow, (1u << SVC_HTTP_GET) | (1u << SVC_HTTP_DELETE));
    /* a parameter longer than the buffer does not match */
    char longpath[600] = "/users/";
    memset(longpath + 7, 'x', 400);
    assert_int_equal(svc_router_match(r, SVC_HTTP_GET, longpath, &m), SVC_ROUTE_NO_PATH);
    svc_router_free(r);
}

static void bad_patterns_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {"users", "/a/{x", "/a/x}", "/a/b{x}", "/{a}/{b}/{c}/{d}/{e}", "/a//b", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        svc_http_route rt = {SVC_HTTP_GET, bad[i], h1, NULL, NULL, 0, NULL};
        svc_router *r = NULL;
        mf_error err;
        if (svc_router_build(&rt, 1, &r, &err) != MF_ERR_INVALID_ARG)
            fail_msg("pattern %s accepted", bad[i] ? bad[i] : "(null)");
        assert_null(r);
    }
    svc_http_route no_handler = {SVC_HTTP_GET, "/x", NULL, NULL, NULL, 0, NULL};
    svc_router *r = NULL;
    assert_int_equal(svc_router_build(&no_handler, 1, &r, NULL), MF_ERR_INVALID_ARG);
    svc_http_route bad_method = {(svc_http_method)9, "/x", h1, NULL, NULL, 0, NULL};
    assert_int_equal(svc_router_build(&bad_method, 1, &r, NULL), MF_ERR_INVALID_ARG);
}

/* ------------------------------------------------------------- chunked bodies */

typedef struct sink {
    char buf[256];
    size_t len;
} sink;

static void collect(void *ctx, const char *data, size_t len)
{
    sink *s = ctx;
    assert_true(s->len + len < sizeof s->buf);
    memcpy(s->buf + s->len, data, len);
    s->len += len;
}

static const char FRAMED[] = "5;ext=1\r\nhello\r\nB\r\n, chunked!\n\r\n0\r\nX-Trailer: 1\r\n\r\n";

static void dechunk_whole_and_byte_by_byte(void **state)
{
    (void)state;
    sink s = {{0}, 0};
    svc_dechunk d = {0};
    assert_int_equal(svc_dechunk_feed(&d, FRAMED, sizeof FRAMED - 1, collect, &s), 1);
    assert_int_equal(s.len, 16);
    assert_memory_equal(s.buf, "hello, chunked!\n", 16);
    sink s2 = {{0}, 0};
    svc_dechunk d2 = {0};
    for (size_t i = 0; i < sizeof FRAMED - 1; i++) {
        int r = svc_dechunk_feed(&d2, FRAMED + i, 1, collect, &s2);
        assert_int_equal(r, i == sizeof FRAMED - 2 ? 1 : 0);
    }
    assert_int_equal(s2.len, 16);
    assert_memory_equal(s2.buf, "hello, chunked!\n", 16);
    /* bytes after the end are left alone */
    svc_dechunk d3 = {0};
    sink s3 = {{0}, 0};
    assert_int_equal(svc_dechunk_feed(&d3, "0\r\n\r\nGET / HTTP/1.1", 19, collect, &s3), 1);
    assert_int_equal(s3.len, 0);
}

static void dechunk_errors(void **state)
{
    (void)state;
    const char *bad[] = {"x\r\n", "\r\n", "5\r\nhelloXX", "5\nhello", "5\r\nhello\r\n0\r\n\rX",
                         "1234567890123456\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        svc_dechunk d = {0};
        sink s = {{0}, 0};
        if (svc_dechunk_feed(&d, bad[i], strlen(bad[i]), collect, &s) != -1)
            fail_msg("framing %zu accepted", i);
    }
    svc_dechunk d = {0};
    sink s = {{0}, 0};
    assert_int_equal(svc_dechunk_feed(&d, "A\r\n01234", 8, collect, &s), 0); /* incomplete: go on */
    assert_int_equal(s.len, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(literal_and_parameters),
        cmocka_unit_test(not_found_and_not_allowed),
        cmocka_unit_test(bad_patterns_are_refused),
        cmocka_unit_test(dechunk_whole_and_byte_by_byte),
        cmocka_unit_test(dechunk_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
