/*
 * The typed API with a subject given by the caller (mf_api_send_to,
 * mf_api_request_to, mf_api_request_async_to, mf_api_subscribe_to): what the
 * generator emits for channels whose AsyncAPI address is not a NATS subject or
 * that have none. Exercised with the operations of the contract (mf_sdk) on
 * other subjects, over a real server (mf-broker, and nats-server when
 * E2E_KIND=E2E_NATS).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "e2e_group.h"
#include "mf_sdk/sdk.h"

#define USER_ID "3f0c9a52-7d1e-4b8a-9c61-2e5f4a7b8d90"

static mf_client *connect_ok(void)
{
    mf_client *c = connect_one(NULL);
    assert_non_null(c);
    return c;
}

static void fill_notification(mf_push_notification *n)
{
    mf_push_notification_init(n);
    n->notification_id = "5b1f3c2a-9d4e-4f6a-8b7c-1d2e3f4a5b6c";
    n->user_id = USER_ID;
    n->title = "Hello";
    n->body = "World";
}

/* send_to publishes on the given subject; the message is validated first. */
static void test_send_to(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *svc = connect_ok(), *peer = connect_ok();
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(peer, "devices.>", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_flush(peer, E2E_WAIT_MS), MF_OK);
    mf_push_notification n;
    fill_notification(&n);
    mf_error err;
    assert_int_equal(mf_api_send_to(svc, &mf_op_send_push_notification_desc, "devices.42.inbox", &n, &err), MF_OK);
    assert_true(e2e_col_wait(&col, 1, E2E_WAIT_MS));
    assert_string_equal(col.last_subject, "devices.42.inbox");
    assert_non_null(strstr(col.last_data, "\"title\":\"Hello\""));
    /* refused before anything is sent */
    assert_int_equal(mf_api_send_to(svc, &mf_op_send_push_notification_desc, NULL, &n, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(mf_api_send_to(svc, &mf_op_send_push_notification_desc, "", &n, &err), MF_ERR_INVALID_ARG);
    static char huge[2048];
    memset(huge, 'a', sizeof huge - 1);
    assert_int_equal(mf_api_send_to(svc, &mf_op_send_push_notification_desc, huge, &n, &err), MF_ERR_INVALID_ARG);
    n.title = NULL;
    assert_int_equal(mf_api_send_to(svc, &mf_op_send_push_notification_desc, "devices.42.inbox", &n, &err),
                     MF_ERR_REQUIRED);
    assert_string_equal(err.pointer, "/title");
    assert_int_equal(mf_client_flush(svc, E2E_WAIT_MS), MF_OK);
    /* one more, valid, proves the refused ones never reached the server */
    fill_notification(&n);
    assert_int_equal(mf_api_send_to(svc, &mf_op_send_push_notification_desc, "devices.43.inbox", &n, &err), MF_OK);
    assert_true(e2e_col_wait(&col, 2, E2E_WAIT_MS));
    assert_int_equal(e2e_col_count(&col), 2);
    assert_string_equal(col.last_subject, "devices.43.inbox");
    mf_client_destroy(svc);
    mf_client_destroy(peer);
    e2e_col_free(&col);
}

/* subscribe_to: a wildcard subject, messages decoded and validated, no parameters. */
typedef struct seen {
    pthread_mutex_t mu;
    int n;
    size_t n_params;
    char subject[128];
    char name[64];
} seen;

static void on_create(void *ctx, const mf_campaign_create *msg, const mf_api_info *info)
{
    seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->n++;
    s->n_params = info->n_params;
    snprintf(s->subject, sizeof s->subject, "%s", info->subject);
    snprintf(s->name, sizeof s->name, "%s", msg->name);
    pthread_mutex_unlock(&s->mu);
}

/* The contract's own example (generated/examples), so it stays valid as the contract changes. */
static char *example(const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", MF_EXAMPLES_DIR, file);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void test_subscribe_to(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *svc = connect_ok(), *client = connect_ok();
    seen s = {PTHREAD_MUTEX_INITIALIZER, 0, 99, "", ""};
    mf_api_sub *sub = NULL;
    mf_error err;
    assert_int_equal(mf_api_subscribe_to(svc, &mf_op_receive_campaign_create_desc, "tenant.*.create",
                                         campaign_service_receive_campaign_create__tramp, (mf_api_fn)on_create, &s,
                                         &sub, &err),
                     MF_OK);
    assert_int_equal(mf_client_flush(svc, E2E_WAIT_MS), MF_OK);
    const char *create_json = example("CampaignCreate.minimal.json");
    assert_int_equal(mf_client_publish(client, "tenant.acme.create", NULL, "{}", 2), MF_OK);
    assert_int_equal(mf_client_publish(client, "tenant.acme.create", NULL, create_json, strlen(create_json)),
                     MF_OK);
    assert_int_equal(mf_client_flush(client, E2E_WAIT_MS), MF_OK);
    mf_api_sub_stats st;
    int64_t deadline = e2e_now_ms() + E2E_WAIT_MS;
    do {
        mf_api_sub_stats_get(sub, &st);
        if (st.handled + st.invalid == 2)
            break;
        e2e_sleep_ms(10);
    } while (e2e_now_ms() < deadline);
    assert_int_equal(st.invalid, 1);
    assert_int_equal(st.handled, 1);
    pthread_mutex_lock(&s.mu);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.n_params, 0);
    assert_string_equal(s.subject, "tenant.acme.create");
    assert_string_equal(s.name, "Spring sale 2026"); /* the example's name */
    pthread_mutex_unlock(&s.mu);
    mf_api_unsubscribe(sub);
    assert_int_equal(mf_api_subscribe_to(svc, &mf_op_receive_campaign_create_desc, "",
                                         campaign_service_receive_campaign_create__tramp, (mf_api_fn)on_create, &s,
                                         &sub, &err),
                     MF_ERR_INVALID_ARG);
    mf_client_destroy(svc);
    mf_client_destroy(client);
}

/* request_to / request_async_to against a responder subscribed with subscribe_to. */
static mf_status answer(void *ctx, const mf_user_info_request *req, mf_user_info_reply *reply,
                        const mf_api_info *info)
{
    (void)ctx;
    (void)info;
    reply->user_id = strdup(req->user_id);
    reply->has_name = true;
    reply->name = strdup("Ada");
    return MF_OK;
}

typedef struct async_result {
    pthread_mutex_t mu;
    int calls;
    mf_status st;
    char name[64];
    char message[512]; /* the error's, "" on success */
} async_result;

static void on_reply(void *ctx, mf_status st, const mf_user_info_reply *reply, const mf_error *err)
{
    async_result *r = ctx;
    pthread_mutex_lock(&r->mu);
    r->calls++;
    r->st = st;
    snprintf(r->name, sizeof r->name, "%s", reply && reply->name ? reply->name : "");
    snprintf(r->message, sizeof r->message, "%s", st != MF_OK && err ? err->message : "");
    pthread_mutex_unlock(&r->mu);
}


static int calls(async_result *r)
{
    pthread_mutex_lock(&r->mu);
    int n = r->calls;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Waits until r has seen n callbacks (or the test's deadline passed); the count. */
static int wait_calls(async_result *r, int n)
{
    int64_t deadline = e2e_now_ms() + E2E_WAIT_MS;
    while (calls(r) < n && e2e_now_ms() < deadline)
        e2e_sleep_ms(5);
    return calls(r);
}

static void test_request_to(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *user = connect_ok(), *campaign = connect_ok();
    mf_api_sub *sub = NULL;
    mf_error err;
    assert_int_equal(mf_api_subscribe_to(user, &mf_op_reply_user_info_desc, "directory.lookup",
                                         user_service_reply_user_info__tramp, (mf_api_fn)answer, NULL, &sub, &err),
                     MF_OK);
    assert_int_equal(mf_client_flush(user, E2E_WAIT_MS), MF_OK);
    mf_user_info_request req;
    mf_user_info_request_init(&req);
    req.user_id = USER_ID;
    mf_user_info_reply reply;
    assert_int_equal(mf_api_request_to(campaign, &mf_op_request_user_info_desc, "directory.lookup", &req, E2E_WAIT_MS,
                                       &reply, &err),
                     MF_OK);
    assert_string_equal(reply.name, "Ada");
    assert_string_equal(reply.user_id, USER_ID);
    mf_user_info_reply_free(&reply);
    /* nobody on the channel's own subject */
    assert_int_equal(mf_api_request_to(campaign, &mf_op_request_user_info_desc, "directory.nobody", &req, 60000,
                                       &reply, &err),
                     MF_ERR_NO_RESPONDERS);

    async_result r = {PTHREAD_MUTEX_INITIALIZER, 0, MF_OK, "", ""};
    assert_int_equal(mf_api_request_async_to(campaign, &mf_op_request_user_info_desc, "directory.lookup", &req, E2E_WAIT_MS,
                                             campaign_service_request_user_info__tramp, (mf_api_fn)on_reply, &r, &err),
                     MF_OK);
    assert_int_equal(wait_calls(&r, 1), 1);
    assert_int_equal(r.st, MF_OK);
    assert_string_equal(r.name, "Ada");
    /* a subject longer than the request record holds inline (send.c keeps it in one allocation
     * the callback frees): answered, and named whole in a failure's message */
    const char *long_ok = "directory.lookup.by.a.subject.long.enough.to.leave.the.request.record.inline.space.behind";
    const char *long_nobody = "directory.nobody.with.a.subject.long.enough.to.leave.the.request.record.inline.space";
    mf_api_sub *sub_long = NULL;
    assert_int_equal(mf_api_subscribe_to(user, &mf_op_reply_user_info_desc, long_ok,
                                         user_service_reply_user_info__tramp, (mf_api_fn)answer, NULL, &sub_long, &err),
                     MF_OK);
    assert_int_equal(mf_client_flush(user, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_api_request_async_to(campaign, &mf_op_request_user_info_desc, long_ok, &req, E2E_WAIT_MS,
                                             campaign_service_request_user_info__tramp, (mf_api_fn)on_reply, &r, &err),
                     MF_OK);
    assert_int_equal(wait_calls(&r, 2), 2);
    assert_int_equal(r.st, MF_OK);
    assert_string_equal(r.name, "Ada");
    assert_int_equal(mf_api_request_async_to(campaign, &mf_op_request_user_info_desc, long_nobody, &req, 60000,
                                             campaign_service_request_user_info__tramp, (mf_api_fn)on_reply, &r, &err),
                     MF_OK);
    assert_int_equal(wait_calls(&r, 3), 3);
    assert_int_equal(r.st, MF_ERR_NO_RESPONDERS);
    assert_non_null(strstr(r.message, long_nobody));
    mf_api_unsubscribe(sub_long);
    assert_int_equal(mf_api_request_async_to(campaign, &mf_op_request_user_info_desc, NULL, &req, 3000,
                                             campaign_service_request_user_info__tramp, (mf_api_fn)on_reply, &r, &err),
                     MF_ERR_INVALID_ARG);
    mf_api_unsubscribe(sub);
    mf_client_destroy(user);
    mf_client_destroy(campaign);
}

/* A channel without a subject (address NULL): only the _to functions can use it. */
static void test_channel_without_subject(void **state)
{
    (void)state;
    REQUIRE_SERVER();
    mf_client *c = connect_ok();
    mf_channel_desc ch = *mf_op_send_push_notification_desc.channel;
    ch.address = NULL;
    ch.wildcard = NULL;
    ch.params = NULL;
    ch.param_count = 0;
    mf_operation_desc send = mf_op_send_push_notification_desc;
    send.channel = &ch;
    mf_operation_desc recv = mf_op_receive_campaign_create_desc;
    recv.channel = &ch;
    mf_push_notification n;
    fill_notification(&n);
    mf_error err;
    const char *one[] = {USER_ID};
    assert_int_equal(mf_api_send(c, &send, one, &n, &err), MF_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "no NATS subject"));
    mf_api_sub *sub = NULL;
    assert_int_equal(mf_api_subscribe(c, &recv, campaign_service_receive_campaign_create__tramp, (mf_api_fn)on_create,
                                      NULL, &sub, &err),
                     MF_ERR_INVALID_ARG);
    assert_null(sub);
    assert_int_equal(mf_api_send_to(c, &send, "devices.1.inbox", &n, &err), MF_OK);
    mf_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_to),
        cmocka_unit_test(test_subscribe_to),
        cmocka_unit_test(test_request_to),
        cmocka_unit_test(test_channel_without_subject),
    };
    return mf_skip_exit(cmocka_run_group_tests(tests, group_setup, group_teardown));
}
