/* Unit tests of cs_variant: deterministic, within statistical bounds, zero splits never chosen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "cs_test_util.h"
#include "cs_variant.h"

#define CAMPAIGN "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define OTHER "1b4e28ba-2fa1-41d2-883f-0016d3cca427"

static void deterministic(void **state)
{
    (void)state;
    const double split[] = {0.5, 0.5};
    size_t v = cs_variant_pick(CAMPAIGN, "3f0c9a52-7d1e-4b8a-9c61-2e5f4a7b8d90", split, 2);
    for (int i = 0; i < 10; i++)
        assert_int_equal(cs_variant_pick(CAMPAIGN, "3f0c9a52-7d1e-4b8a-9c61-2e5f4a7b8d90", split, 2), v);
    assert_int_equal(cs_variant_pick("7C9E6679-7425-40DE-944B-E07FC1F90AE7", "3F0C9A52-7D1E-4B8A-9C61-2E5F4A7B8D90",
                                     split, 2),
                     v);
    double u = cs_variant_point(CAMPAIGN, "3f0c9a52-7d1e-4b8a-9c61-2e5f4a7b8d90");
    assert_true(u >= 0 && u < 1);
}

static void split_within_bounds(void **state)
{
    (void)state;
    const double split[] = {0.2, 0.3, 0.5};
    const size_t n = 100000;
    size_t count[3] = {0}, both0 = 0;
    char id[37];
    for (size_t i = 0; i < n; i++) {
        cs_test_uuid(i + 1, id);
        size_t v = cs_variant_pick(CAMPAIGN, id, split, 3);
        assert_true(v < 3);
        count[v]++;
        if (v == 0 && cs_variant_pick(OTHER, id, split, 3) == 0)
            both0++;
    }
    for (int k = 0; k < 3; k++) {
        double sd = sqrt((double)n * split[k] * (1 - split[k]));
        double dev = fabs((double)count[k] - (double)n * split[k]);
        if (dev > 5 * sd)
            fail_msg("variant %d: %zu of %zu, expected %.0f +- %.0f", k, count[k], n, n * split[k], 5 * sd);
    }
    /* another campaign spreads users independently: P(0 and 0) = 0.04 */
    double sd = sqrt((double)n * 0.04 * 0.96);
    assert_true(fabs((double)both0 - n * 0.04) <= 5 * sd);
}

static void zero_splits_and_edges(void **state)
{
    (void)state;
    const double split[] = {0.0, 1.0, 0.0};
    char id[37];
    for (size_t i = 0; i < 1000; i++) {
        cs_test_uuid(i + 7, id);
        assert_int_equal(cs_variant_pick(CAMPAIGN, id, split, 3), 1);
    }
    /* a split summing to a hair under 1 and u past it: the last non-zero variant */
    const double under[] = {0.5, 0.4999999999, 0.0};
    assert_int_equal(cs_variant_for_point(0.99999999995, under, 3), 1);
    assert_int_equal(cs_variant_for_point(0.0, under, 3), 0);
    assert_int_equal(cs_variant_for_point(0.5, under, 3), 1);
    const double one[] = {1.0};
    assert_int_equal(cs_variant_for_point(0.999, one, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deterministic),
        cmocka_unit_test(split_within_bounds),
        cmocka_unit_test(zero_splits_and_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
