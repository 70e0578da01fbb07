/* Unit tests of cs_tz: zone names, offsets and wall-time resolution across DST changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cs_time.h"
#include "cs_tz.h"

static int64_t utc(int y, unsigned mo, unsigned d, int h, int mi)
{
    return cs_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

/* Local seconds of a wall-clock reading. */
static int64_t wall(int y, unsigned mo, unsigned d, int h, int mi)
{
    return utc(y, mo, d, h, mi);
}

static void zone_names(void **state)
{
    (void)state;
    assert_true(cs_tz_known("Europe/Berlin"));
    assert_true(cs_tz_known("America/New_York"));
    assert_true(cs_tz_known("UTC"));
    assert_true(cs_tz_known("America/Argentina/Buenos_Aires"));
    assert_true(cs_tz_known("Etc/GMT+5"));
    const char *bad[] = {"", "Europe/Nowhere", "../../etc/passwd", "/etc/localtime", "Europe//Berlin",
                         "Europe/Berlin/", "right/UTC", "Europe/Berlin ", "zone.tab", "Europe/../UTC", NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_false(cs_tz_known(bad[i]));
    assert_false(cs_tz_known(NULL));
    /* twice, from the cache */
    assert_true(cs_tz_known("Europe/Berlin"));
    assert_false(cs_tz_known("Europe/Nowhere"));
    int32_t off;
    mf_error err;
    assert_int_equal(cs_tz_offset("Europe/Nowhere", 0, &off, &err), MF_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "Europe/Nowhere"));
}

static void offsets_around_dst(void **state)
{
    (void)state;
    int32_t off;
    /* Berlin: 2024-03-31 01:00Z CET -> CEST, 2024-10-27 01:00Z CEST -> CET */
    assert_int_equal(cs_tz_offset("Europe/Berlin", utc(2024, 3, 31, 0, 59) + 59, &off, NULL), MF_OK);
    assert_int_equal(off, 3600);
    assert_int_equal(cs_tz_offset("Europe/Berlin", utc(2024, 3, 31, 1, 0), &off, NULL), MF_OK);
    assert_int_equal(off, 7200);
    assert_int_equal(cs_tz_offset("Europe/Berlin", utc(2024, 10, 27, 1, 0) - 1, &off, NULL), MF_OK);
    assert_int_equal(off, 7200);
    assert_int_equal(cs_tz_offset("Europe/Berlin", utc(2024, 10, 27, 1, 0), &off, NULL), MF_OK);
    assert_int_equal(off, 3600);
    /* New York: 2024-03-10 07:00Z EST -> EDT, 2024-11-03 06:00Z EDT -> EST */
    assert_int_equal(cs_tz_offset("America/New_York", utc(2024, 3, 10, 7, 0), &off, NULL), MF_OK);
    assert_int_equal(off, -4 * 3600);
    assert_int_equal(cs_tz_offset("America/New_York", utc(2024, 11, 3, 6, 0) - 1, &off, NULL), MF_OK);
    assert_int_equal(off, -4 * 3600);
    assert_int_equal(cs_tz_offset("America/New_York", utc(2024, 11, 3, 6, 0), &off, NULL), MF_OK);
    assert_int_equal(off, -5 * 3600);
    /* a zone with a 45-minute offset and none at all */
    assert_int_equal(cs_tz_offset("Asia/Kathmandu", utc(2024, 1, 1, 0, 0), &off, NULL), MF_OK);
    assert_int_equal(off, 5 * 3600 + 45 * 60);
    assert_int_equal(cs_tz_offset("UTC", utc(2024, 1, 1, 0, 0), &off, NULL), MF_OK);
    assert_int_equal(off, 0);
}

static void resolve_wall_times(void **state)
{
    (void)state;
    cs_tz_instants in;
    /* an ordinary time */
    assert_int_equal(cs_tz_resolve("Europe/Berlin", wall(2024, 7, 1, 12, 0), &in, NULL), MF_OK);
    assert_int_equal(in.count, 1);
    assert_false(in.skipped);
    assert_int_equal(in.t[0], utc(2024, 7, 1, 10, 0));
    /* Berlin spring forward: 02:30 does not exist; the next valid instant is 03:00 CEST = 01:00Z */
    assert_int_equal(cs_tz_resolve("Europe/Berlin", wall(2024, 3, 31, 2, 30), &in, NULL), MF_OK);
    assert_int_equal(in.count, 1);
    assert_true(in.skipped);
    assert_int_equal(in.t[0], utc(2024, 3, 31, 1, 0));
    /* Berlin fall back: 02:30 happens at 00:30Z (CEST) and 01:30Z (CET) */
    assert_int_equal(cs_tz_resolve("Europe/Berlin", wall(2024, 10, 27, 2, 30), &in, NULL), MF_OK);
    assert_int_equal(in.count, 2);
    assert_int_equal(in.t[0], utc(2024, 10, 27, 0, 30));
    assert_int_equal(in.t[1], utc(2024, 10, 27, 1, 30));
    /* the edges of the overlap: 02:00 twice, 03:00 once */
    assert_int_equal(cs_tz_resolve("Europe/Berlin", wall(2024, 10, 27, 2, 0), &in, NULL), MF_OK);
    assert_int_equal(in.count, 2);
    assert_int_equal(cs_tz_resolve("Europe/Berlin", wall(2024, 10, 27, 3, 0), &in, NULL), MF_OK);
    assert_int_equal(in.count, 1);
    assert_int_equal(in.t[0], utc(2024, 10, 27, 2, 0));
    /* New York: 02:15 skipped on 2024-03-10 (next valid 03:00 EDT = 07:00Z), 01:15 twice on 11-03 */
    assert_int_equal(cs_tz_resolve("America/New_York", wall(2024, 3, 10, 2, 15), &in, NULL), MF_OK);
    assert_true(in.skipped);
    assert_int_equal(in.t[0], utc(2024, 3, 10, 7, 0));
    assert_int_equal(cs_tz_resolve("America/New_York", wall(2024, 11, 3, 1, 15), &in, NULL), MF_OK);
    assert_int_equal(in.count, 2);
    assert_int_equal(in.t[0], utc(2024, 11, 3, 5, 15));
    assert_int_equal(in.t[1], utc(2024, 11, 3, 6, 15));
    mf_error err;
    assert_int_equal(cs_tz_resolve("Mars/Olympus", 0, &in, &err), MF_ERR_NOT_FOUND);
}

/* Every resolved instant reads the asked wall time, and every instant of a year maps back. */
static void resolve_agrees_with_offsets(void **state)
{
    (void)state;
    const char *zones[] = {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago",
                           "Asia/Tehran", "Pacific/Chatham"};
    srand(7);
    for (size_t z = 0; z < sizeof zones / sizeof *zones; z++) {
        for (int i = 0; i < 400; i++) {
            int64_t t = utc(2024, 1, 1, 0, 0) + (int64_t)(rand() % (366 * 24 * 4)) * 900 + rand() % 900;
            int32_t off;
            assert_int_equal(cs_tz_offset(zones[z], t, &off, NULL), MF_OK);
            cs_tz_instants in;
            assert_int_equal(cs_tz_resolve(zones[z], t + off, &in, NULL), MF_OK);
            assert_false(in.skipped);
            assert_true(in.t[0] == t || (in.count == 2 && in.t[1] == t));
            for (int k = 0; k < in.count; k++) {
                int32_t o2;
                assert_int_equal(cs_tz_offset(zones[z], in.t[k], &o2, NULL), MF_OK);
                assert_int_equal(in.t[k] + o2, t + off);
            }
        }
    }
    cs_tz_restore();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zone_names),
        cmocka_unit_test(offsets_around_dst),
        cmocka_unit_test(resolve_wall_times),
        cmocka_unit_test(resolve_agrees_with_offsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
