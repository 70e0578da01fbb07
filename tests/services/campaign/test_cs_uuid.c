/* Unit tests of cs_uuid: RFC 9562 / RFC 4122 vectors, the service's namespaces, notification ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cs_uuid.h"
#include "mf/codec.h"

static void v5_known_vectors(void **state)
{
    (void)state;
    char out[CS_UUID_TEXT];
    cs_uuid u;
    /* RFC 9562 appendix A.4: v5, DNS namespace, "www.example.com" */
    cs_uuid_v5(&CS_NS_DNS, "www.example.com", 15, &u);
    assert_string_equal(cs_uuid_format(&u, out), "2ed6657d-e927-568b-95e1-2665a8aea6a2");
    /* Python's uuid documentation: uuid5(NAMESPACE_DNS, 'python.org') */
    cs_uuid_v5(&CS_NS_DNS, "python.org", 10, &u);
    assert_string_equal(cs_uuid_format(&u, out), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
    /* the namespace constants are what their definition says */
    const struct {
        const cs_uuid *ns;
        const char *name;
    } ns[] = {{&CS_NS_NOTIFICATION, "urn:mflow:campaign-service:notification"},
              {&CS_NS_EVENT, "urn:mflow:campaign-service:event"},
              {&CS_NS_EXECUTION, "urn:mflow:campaign-service:execution"}};
    for (size_t i = 0; i < 3; i++) {
        cs_uuid_v5(&CS_NS_URL, ns[i].name, strlen(ns[i].name), &u);
        assert_memory_equal(u.b, ns[i].ns->b, 16);
    }
}

static void notification_id(void **state)
{
    (void)state;
    char a[CS_UUID_TEXT], b[CS_UUID_TEXT];
    /* computed independently with Python: uuid5(NS_NOTIFICATION, "<execution>/<user>") */
    cs_uuid_v5_text(&CS_NS_NOTIFICATION, "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
                    "6ba7b814-9dad-11d1-80b4-00c04fd430c8", a);
    assert_string_equal(a, "1eff5b16-4bc8-5ae8-b7bd-0e3dbb38cdbb");
    /* case of the inputs does not matter; the order does */
    cs_uuid_v5_text(&CS_NS_NOTIFICATION, "3F2504E0-4F89-41D3-9A0C-0305E82C3301",
                    "6BA7B814-9DAD-11D1-80B4-00C04FD430C8", b);
    assert_string_equal(a, b);
    cs_uuid_v5_text(&CS_NS_NOTIFICATION, "6ba7b814-9dad-11d1-80b4-00c04fd430c8",
                    "3f2504e0-4f89-41d3-9a0c-0305e82c3301", b);
    assert_string_not_equal(a, b);
    assert_true(mf_format_check(MF_FMT_UUID, a, strlen(a)));
    assert_int_equal(a[14], '5');
}

static void v5_long_name(void **state)
{
    (void)state;
    /* longer than any buffer of the implementation; Python: uuid5(NS_NOTIFICATION, "x" * 600) */
    char name[600], out[CS_UUID_TEXT];
    memset(name, 'x', sizeof name);
    cs_uuid u;
    cs_uuid_v5(&CS_NS_NOTIFICATION, name, sizeof name, &u);
    assert_string_equal(cs_uuid_format(&u, out), "d4b29718-8ec7-5b90-9169-25ec69a63e50");
    /* the same answer again, and after another name */
    cs_uuid_v5(&CS_NS_DNS, "www.example.com", 15, &u);
    assert_string_equal(cs_uuid_format(&u, out), "2ed6657d-e927-568b-95e1-2665a8aea6a2");
    cs_uuid_v5(&CS_NS_NOTIFICATION, name, sizeof name, &u);
    assert_string_equal(cs_uuid_format(&u, out), "d4b29718-8ec7-5b90-9169-25ec69a63e50");
}

#define T_THREADS 4
#define T_NAMES 500

typedef struct v5_job {
    char (*want)[CS_UUID_TEXT];
    int mismatches;
} v5_job;

static void v5_name(int i, char out[CS_UUID_TEXT])
{
    char user[32];
    snprintf(user, sizeof user, "user-%d", i);
    cs_uuid_v5_text(&CS_NS_NOTIFICATION, "3f2504e0-4f89-41d3-9a0c-0305e82c3301", user, out);
}

static void *v5_thread(void *arg)
{
    v5_job *j = arg;
    char got[CS_UUID_TEXT];
    for (int i = 0; i < T_NAMES; i++) {
        v5_name(i, got);
        j->mismatches += strcmp(got, j->want[i]) != 0;
    }
    return NULL;
}

/* Threads computing at once agree with this thread. */
static void v5_threads(void **state)
{
    (void)state;
    static char want[T_NAMES][CS_UUID_TEXT];
    for (int i = 0; i < T_NAMES; i++)
        v5_name(i, want[i]);
    char first[CS_UUID_TEXT];
    cs_uuid_v5_text(&CS_NS_NOTIFICATION, "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
                    "6ba7b814-9dad-11d1-80b4-00c04fd430c8", first);
    assert_string_equal(first, "1eff5b16-4bc8-5ae8-b7bd-0e3dbb38cdbb");
    pthread_t t[T_THREADS];
    v5_job jobs[T_THREADS];
    for (int k = 0; k < T_THREADS; k++) {
        jobs[k] = (v5_job){.want = want};
        assert_int_equal(pthread_create(&t[k], NULL, v5_thread, &jobs[k]), 0);
    }
    for (int k = 0; k < T_THREADS; k++) {
        assert_int_equal(pthread_join(t[k], NULL), 0);
        assert_int_equal(jobs[k].mismatches, 0);
    }
    assert_string_not_equal(want[0], want[1]);
}

/* The event ids of notification_sent: a re-sent event must carry the id it had the first time,
 * whichever build computes it. Python: uuid5(NS_EVENT, "<notification_id>/notification_sent"). */
static void event_id(void **state)
{
    (void)state;
    char out[CS_UUID_TEXT];
    cs_uuid_v5_text(&CS_NS_EVENT, "1eff5b16-4bc8-5ae8-b7bd-0e3dbb38cdbb", "notification_sent", out);
    assert_string_equal(out, "19c827de-6714-5998-9315-6645ea753e42");
    cs_uuid_v5_text(&CS_NS_EVENT, "1EFF5B16-4BC8-5AE8-B7BD-0E3DBB38CDBB", "NOTIFICATION_SENT", out);
    assert_string_equal(out, "19c827de-6714-5998-9315-6645ea753e42");
}

/* Lower-casing touches A-Z only: the characters next to them and bytes >= 0x80 stay as they are
 * (Python over the bytes "@az[`az{" U+00C4 in UTF-8 "/user"); names are cut as they always were:
 * a at 255 bytes, the whole name at 511. */
static void v5_text_lowering_and_limits(void **state)
{
    (void)state;
    char out[CS_UUID_TEXT], a[301], b[601];
    cs_uuid_v5_text(&CS_NS_NOTIFICATION, "@AZ[`az{\xc3\x84", "USER", out);
    assert_string_equal(out, "0531d034-9d04-58e3-af00-78a978fab3a1");
    memset(a, 'A', 300);
    a[300] = '\0';
    memset(b, 'B', 400);
    b[400] = '\0';
    cs_uuid_v5_text(&CS_NS_NOTIFICATION, a, b, out); /* uuid5(NS, "a" * 255 + "/" + "b" * 255) */
    assert_string_equal(out, "8c54c7ba-9e97-5281-a847-f0996df91275");
    memset(b, 'Y', 600);
    b[600] = '\0';
    cs_uuid_v5_text(&CS_NS_NOTIFICATION, "XXXXXXXXXX", b, out); /* "x" * 10 + "/" + "y" * 500 */
    assert_string_equal(out, "c0e5ae6c-3a60-527d-a073-5f49d2b4ecef");
}

/* Lower-casing agrees with tolower() (the C locale) for every byte value at every position of
 * the 8-byte words the implementation works in, and in the bytes after the last whole word. */
static void v5_text_every_byte(void **state)
{
    (void)state;
    for (int c = 1; c < 256; c++) {
        for (size_t pos = 0; pos < 19; pos++) {
            char a[20], low[40];
            for (size_t k = 0; k < sizeof a - 1; k++)
                a[k] = (char)('A' + (int)((k * 7 + (size_t)c) % 58)); /* A-Z, the six between, a-z */
            a[pos] = (char)c;
            a[sizeof a - 1] = '\0';
            for (size_t k = 0; a[k]; k++)
                low[k] = (char)tolower((unsigned char)a[k]);
            memcpy(low + 19, "/u", 3);
            char got[CS_UUID_TEXT], want[CS_UUID_TEXT];
            cs_uuid u;
            cs_uuid_v5(&CS_NS_NOTIFICATION, low, 21, &u);
            cs_uuid_format(&u, want);
            cs_uuid_v5_text(&CS_NS_NOTIFICATION, a, "U", got);
            if (strcmp(got, want) != 0)
                fail_msg("byte 0x%02x at %zu: %s, tolower() gives %s", c, pos, got, want);
        }
    }
}

/* Every byte value formats as two lower-case hex digits, and parses back. */
static void format_every_byte(void **state)
{
    (void)state;
    for (int v = 0; v < 256; v += 16) {
        cs_uuid u, back;
        for (int j = 0; j < 16; j++)
            u.b[j] = (uint8_t)(v + j);
        char out[CS_UUID_TEXT], want[CS_UUID_TEXT];
        snprintf(want, sizeof want, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u.b[0],
                 u.b[1], u.b[2], u.b[3], u.b[4], u.b[5], u.b[6], u.b[7], u.b[8], u.b[9], u.b[10], u.b[11], u.b[12],
                 u.b[13], u.b[14], u.b[15]);
        assert_string_equal(cs_uuid_format(&u, out), want);
        assert_int_equal(cs_uuid_parse(out, &back, NULL), MF_OK);
        assert_memory_equal(back.b, u.b, 16);
    }
}

static void v4_and_parse(void **state)
{
    (void)state;
    char a[CS_UUID_TEXT], b[CS_UUID_TEXT];
    assert_int_equal(cs_uuid_v4_text(a, NULL), MF_OK);
    assert_int_equal(cs_uuid_v4_text(b, NULL), MF_OK);
    assert_string_not_equal(a, b);
    assert_int_equal(a[14], '4');
    assert_true(strchr("89ab", a[19]) != NULL);
    cs_uuid u;
    assert_int_equal(cs_uuid_parse("6BA7B810-9DAD-11D1-80B4-00C04FD430C8", &u, NULL), MF_OK);
    assert_memory_equal(u.b, CS_NS_DNS.b, 16);
    mf_error err;
    assert_int_equal(cs_uuid_parse("6ba7b810-9dad-11d1-80b4-00c04fd430c", &u, &err), MF_ERR_FORMAT);
    assert_int_equal(cs_uuid_parse("6ba7b810x9dad-11d1-80b4-00c04fd430c8", &u, &err), MF_ERR_FORMAT);
    assert_int_equal(cs_uuid_parse(NULL, &u, &err), MF_ERR_FORMAT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v5_known_vectors),
        cmocka_unit_test(notification_id),
        cmocka_unit_test(v5_long_name),
        cmocka_unit_test(v5_threads),
        cmocka_unit_test(event_id),
        cmocka_unit_test(v5_text_lowering_and_limits),
        cmocka_unit_test(v5_text_every_byte),
        cmocka_unit_test(format_every_byte),
        cmocka_unit_test(v4_and_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
