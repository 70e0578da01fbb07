/*
 * test_status.c - the names of the status codes and the mf_error helpers
 * (runtime/core/status.c), as a user prints them: every code has its own name, a value
 * outside the enum says so, mf_error_set fills the three fields (truncating what is too
 * long, never overflowing) and accepts NULL where its contract says it may.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mf/status.h"
#include "mf_skip.h"

static const mf_status all[] = {
    MF_OK, MF_ERR_NOMEM, MF_ERR_SYNTAX, MF_ERR_TYPE, MF_ERR_REQUIRED, MF_ERR_ENUM,
    MF_ERR_RANGE, MF_ERR_LENGTH, MF_ERR_FORMAT, MF_ERR_PATTERN, MF_ERR_UTF8,
    MF_ERR_UNKNOWN_FIELD, MF_ERR_DUPLICATE, MF_ERR_CONST, MF_ERR_UNION, MF_ERR_INVALID_ARG,
    MF_ERR_LIMIT, MF_ERR_NOT_FOUND, MF_ERR_IO, MF_ERR_PROTOCOL, MF_ERR_SERVER, MF_ERR_TIMEOUT,
    MF_ERR_NO_RESPONDERS, MF_ERR_CLOSED, MF_ERR_FULL, MF_ERR_PAYLOAD_TOO_BIG, MF_ERR_AUTH,
    MF_ERR_REFUSED,
};
#define N_ALL (sizeof all / sizeof all[0])

static void test_every_code_has_its_own_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ALL; i++) {
        const char *s = mf_status_str(all[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        assert_string_not_equal(s, "unknown status");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, mf_status_str(all[j]));
    }
    assert_string_equal(mf_status_str(MF_OK), "ok");
    assert_string_equal(mf_status_str(MF_ERR_TIMEOUT), "timeout");
    assert_string_equal(mf_status_str(MF_ERR_NO_RESPONDERS), "no responders");
}

static void test_values_outside_the_enum(void **state)
{
    (void)state;
    /* 17..31 are unassigned (the transport codes start at 32), and past the last */
    assert_string_equal(mf_status_str((mf_status)20), "unknown status");
    assert_string_equal(mf_status_str((mf_status)(MF_ERR_REFUSED + 1)), "unknown status");
}

static void test_error_set_and_clear(void **state)
{
    (void)state;
    mf_error e;
    memset(&e, 'x', sizeof e);
    assert_int_equal(mf_error_set(&e, MF_ERR_RANGE, "/a/0", "value %d above %s", 7, "5"), MF_ERR_RANGE);
    assert_int_equal(e.code, MF_ERR_RANGE);
    assert_string_equal(e.pointer, "/a/0");
    assert_string_equal(e.message, "value 7 above 5");

    /* NULL pointer and NULL format: empty strings, never the previous text */
    assert_int_equal(mf_error_set(&e, MF_ERR_IO, NULL, NULL), MF_ERR_IO);
    assert_int_equal(e.code, MF_ERR_IO);
    assert_string_equal(e.pointer, "");
    assert_string_equal(e.message, "");

    mf_error_clear(&e);
    assert_int_equal(e.code, MF_OK);
    assert_string_equal(e.pointer, "");
    assert_string_equal(e.message, "");

    /* NULL err: the code comes back, nothing is written */
    assert_int_equal(mf_error_set(NULL, MF_ERR_FULL, "/x", "m"), MF_ERR_FULL);
    mf_error_clear(NULL);
}

static void test_error_truncates_long_text(void **state)
{
    (void)state;
    char long_ptr[MF_ERROR_POINTER_MAX * 2];
    memset(long_ptr, 'p', sizeof long_ptr - 1);
    long_ptr[sizeof long_ptr - 1] = '\0';
    char long_msg[MF_ERROR_MESSAGE_MAX * 3];
    memset(long_msg, 'm', sizeof long_msg - 1);
    long_msg[sizeof long_msg - 1] = '\0';
    mf_error e;
    mf_error_set(&e, MF_ERR_LENGTH, long_ptr, "%s", long_msg);
    assert_int_equal(strlen(e.pointer), MF_ERROR_POINTER_MAX - 1);
    assert_int_equal(strlen(e.message), MF_ERROR_MESSAGE_MAX - 1);
    assert_memory_equal(e.pointer, long_ptr, MF_ERROR_POINTER_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_its_own_name),
        cmocka_unit_test(test_values_outside_the_enum),
        cmocka_unit_test(test_error_set_and_clear),
        cmocka_unit_test(test_error_truncates_long_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
