/*
 * test_api_args.c - every typed-API function (mf/api.h) given what it must refuse: NULL
 * arguments, an operation of the wrong direction, a send operation used as a request,
 * headers for a message that declares none, subjects that are NULL, empty or too long,
 * routes of different channels or without a handler; on a client that never connects (no
 * server needed). Each call returns MF_ERR_INVALID_ARG with a message, hands out no
 * subscription and leaves the client usable; the sanitizer build checks for leaks. Then
 * what such a client accepts: a channel subscription on an explicit subject, while offline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "e2e_util.h"
#include "mf/api.h"
#include "mf_sdk/registry.h"

static mf_status nop_handler(mf_api_fn fn, void *ctx, const void *msg, void *reply, const mf_api_info *info)
{
    (void)fn;
    (void)ctx;
    (void)msg;
    (void)reply;
    (void)info;
    return MF_OK;
}

static void nop_fn(void)
{
}

static void nop_reply(mf_api_fn fn, void *ctx, mf_status st, const void *reply, const mf_error *err)
{
    (void)fn;
    (void)ctx;
    (void)st;
    (void)reply;
    (void)err;
}

#define REFUSED(call)                                                                                          \
    do {                                                                                                       \
        mf_error_clear(&err);                                                                                  \
        assert_int_equal((call), MF_ERR_INVALID_ARG);                                                          \
        assert_int_equal(err.code, MF_ERR_INVALID_ARG);                                                        \
        assert_true(err.message[0] != '\0');                                                                   \
    } while (0)

/* A send operation whose message declares no headers. */
static const mf_operation_desc *send_without_headers(void)
{
    const mf_operation_desc *ops[] = {&mf_op_send_campaign_status_desc, &mf_op_send_campaign_analytics_desc,
                                      &mf_op_send_user_analytics_desc, &mf_op_send_user_info_update_desc,
                                      &mf_op_send_preferences_update_desc, &mf_op_send_push_notification_desc};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (ops[i]->message && !ops[i]->message->headers)
            return ops[i];
    return NULL;
}

static void test_send_and_request(void **state)
{
    (void)state;
    mf_client *c = e2e_offline_client();
    mf_error err;
    const mf_operation_desc *send = &mf_op_send_campaign_status_desc;
    const mf_operation_desc *recv = &mf_op_receive_campaign_create_desc;
    const mf_operation_desc *req = &mf_op_request_user_info_desc;
    char msg[4096] = {0}, reply[4096] = {0}, hdrs[256] = {0};

    REFUSED(mf_api_send(NULL, send, NULL, msg, &err));
    REFUSED(mf_api_send(c, NULL, NULL, msg, &err));
    REFUSED(mf_api_send(c, recv, NULL, msg, &err)); /* not a send operation */
    assert_non_null(strstr(err.message, "not a send"));
    REFUSED(mf_api_send(c, send, NULL, NULL, &err)); /* no message */
    const mf_operation_desc *plain = send_without_headers();
    assert_non_null(plain);
    REFUSED(mf_api_send_with_headers(c, plain, NULL, msg, hdrs, &err));
    assert_non_null(strstr(err.message, "declares no headers"));

    /* a batch: refused as mf_api_send refuses, and left as it was */
    mf_api_batch b = MF_API_BATCH_INIT;
    REFUSED(mf_api_batch_add(NULL, send, NULL, msg, &err));
    REFUSED(mf_api_batch_add(&b, NULL, NULL, msg, &err));
    REFUSED(mf_api_batch_add(&b, recv, NULL, msg, &err));
    assert_non_null(strstr(err.message, "not a send"));
    REFUSED(mf_api_batch_add(&b, send, NULL, NULL, &err));
    assert_int_equal(mf_api_batch_count(&b), 0);
    assert_int_equal(mf_api_batch_count(NULL), 0);
    size_t sent = 99;
    REFUSED(mf_api_batch_send(NULL, &b, &sent, &err));
    assert_int_equal(sent, 0);
    REFUSED(mf_api_batch_send(c, NULL, &sent, &err));
    assert_int_equal(mf_api_batch_send(c, &b, &sent, &err), MF_OK); /* empty: nothing to do */
    assert_int_equal(sent, 0);
    mf_api_batch_reset(NULL);
    mf_api_batch_free(NULL);
    mf_api_batch_free(&b);

    REFUSED(mf_api_request(NULL, req, NULL, msg, 100, reply, &err));
    REFUSED(mf_api_request(c, NULL, NULL, msg, 100, reply, &err));
    REFUSED(mf_api_request(c, send, NULL, msg, 100, reply, &err)); /* no reply message: not a request */
    assert_non_null(strstr(err.message, "not a request"));
    REFUSED(mf_api_request(c, recv, NULL, msg, 100, reply, &err));
    REFUSED(mf_api_request_to(c, req, NULL, msg, 100, reply, &err));
    REFUSED(mf_api_request_to(c, req, "user.info.request", msg, 100, NULL, &err)); /* no reply_out */
    REFUSED(mf_api_request_async(c, req, NULL, msg, 100, NULL, NULL, NULL, &err)); /* no callback */
    REFUSED(mf_api_request_async(c, send, NULL, msg, 100, nop_reply, nop_fn, NULL, &err));
    REFUSED(mf_api_request_async_to(c, req, "", msg, 100, nop_reply, nop_fn, NULL, &err));
    REFUSED(mf_api_send_to(c, send, NULL, msg, &err));
    REFUSED(mf_api_send_to(c, send, "", msg, &err));
    char longsub[1100];
    memset(longsub, 'a', sizeof longsub - 1);
    longsub[sizeof longsub - 1] = '\0';
    REFUSED(mf_api_send_to(c, send, longsub, msg, &err));
    mf_client_destroy(c);
}

static void test_subscriptions(void **state)
{
    (void)state;
    mf_client *c = e2e_offline_client();
    mf_error err;
    const mf_operation_desc *recv = &mf_op_receive_campaign_create_desc;
    const mf_operation_desc *send = &mf_op_send_campaign_status_desc;
    mf_api_sub *sub = (mf_api_sub *)&err; /* must come back NULL */

    REFUSED(mf_api_subscribe(NULL, recv, nop_handler, nop_fn, NULL, &sub, &err));
    REFUSED(mf_api_subscribe(c, NULL, nop_handler, nop_fn, NULL, &sub, &err));
    REFUSED(mf_api_subscribe(c, recv, NULL, nop_fn, NULL, &sub, &err));
    REFUSED(mf_api_subscribe(c, recv, nop_handler, nop_fn, NULL, NULL, &err));
    REFUSED(mf_api_subscribe(c, send, nop_handler, nop_fn, NULL, &sub, &err)); /* not a receive operation */
    assert_non_null(strstr(err.message, "not a receive"));
    assert_null(sub);
    REFUSED(mf_api_subscribe_to(c, recv, NULL, nop_handler, nop_fn, NULL, &sub, &err));
    REFUSED(mf_api_subscribe_to(c, recv, "", nop_handler, nop_fn, NULL, &sub, &err));
    assert_null(sub);

    mf_api_route routes[2] = {{recv, nop_handler, nop_fn}, {&mf_op_receive_campaign_execute_desc, nop_handler,
                                                            nop_fn}};
    REFUSED(mf_api_subscribe_channel(NULL, routes, 1, NULL, NULL, NULL, &sub, &err));
    REFUSED(mf_api_subscribe_channel(c, NULL, 1, NULL, NULL, NULL, &sub, &err));
    REFUSED(mf_api_subscribe_channel(c, routes, 0, NULL, NULL, NULL, &sub, &err));
    REFUSED(mf_api_subscribe_channel(c, routes, 1, NULL, NULL, NULL, NULL, &err));
    REFUSED(mf_api_subscribe_channel(c, routes, 2, NULL, NULL, NULL, &sub, &err)); /* two channels */
    assert_non_null(strstr(err.message, "different channels"));
    mf_api_route wrong_way[1] = {{send, nop_handler, nop_fn}};
    REFUSED(mf_api_subscribe_channel(c, wrong_way, 1, NULL, NULL, NULL, &sub, &err));
    mf_api_route no_handler[1] = {{recv, NULL, nop_fn}};
    REFUSED(mf_api_subscribe_channel(c, no_handler, 1, NULL, NULL, NULL, &sub, &err));
    REFUSED(mf_api_subscribe_channel_to(NULL, routes, 1, "x.y", NULL, NULL, &sub, &err));
    REFUSED(mf_api_subscribe_channel_to(c, routes, 0, "x.y", NULL, NULL, &sub, &err));
    REFUSED(mf_api_subscribe_channel_to(c, routes, 1, NULL, NULL, NULL, &sub, &err));
    REFUSED(mf_api_subscribe_channel_to(c, routes, 1, "", NULL, NULL, &sub, &err));
    char longsub[1100];
    memset(longsub, 'a', sizeof longsub - 1);
    longsub[sizeof longsub - 1] = '\0';
    REFUSED(mf_api_subscribe_channel_to(c, routes, 1, longsub, NULL, NULL, &sub, &err));
    assert_null(sub);

    /* NULL is fine for the two functions that take a subscription */
    mf_api_unsubscribe(NULL);
    mf_api_sub_stats st;
    memset(&st, 0xff, sizeof st);
    mf_api_sub_stats_get(NULL, &st);
    mf_api_sub_stats_get(NULL, NULL);

    /* the client is still usable: a channel subscription on an explicit subject, offline */
    assert_int_equal(mf_api_subscribe_channel_to(c, routes, 1, "campaign.create.other", "q1", NULL, &sub, &err),
                     MF_OK);
    assert_non_null(sub);
    mf_api_sub_stats_get(sub, &st);
    assert_int_equal(st.received, 0);
    mf_api_unsubscribe(sub);
    mf_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_and_request),
        cmocka_unit_test(test_subscriptions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
