/*
 * Copyright (C) the ngx_tiktok authors.
 * Tests of ISO 8601 parsing and formatting, and of the civil calendar.
 */

#include "tt_test.h"

#include <time.h>

#include "tt_time.h"


typedef struct {
    const char     *in;
    int64_t         ms;
} good_t;


static const good_t  goods[] = {
    { "1970-01-01T00:00:00Z", 0 },
    { "1970-01-01T00:00:00.001Z", 1 },
    { "1970-01-01 00:00:01Z", 1000 },
    { "2026-05-12T09:00:00Z", 1778576400000LL },
    { "2026-05-12T11:00:00+02:00", 1778576400000LL },
    { "2026-05-12T11:00:00+0200", 1778576400000LL },
    { "2026-05-12T04:30:00-04:30", 1778576400000LL },
    { "2026-05-12T04:30:00-0430", 1778576400000LL },
    { "2026-05-12T09:00:00+00:00", 1778576400000LL },
    { "2026-05-12T09:00:00-00:00", 1778576400000LL },
    { "2026-05-12T09:00:00.123Z", 1778576400123LL },
    { "2026-05-12T09:00:00.1Z", 1778576400100LL },
    { "2026-05-12T09:00:00.12Z", 1778576400120LL },
    /* extra digits are truncated, never rounded */
    { "2026-05-12T09:00:00.123999999Z", 1778576400123LL },
    { "2026-05-12T09:00:00.9999+01:00", 1778572800999LL },
    /* an offset crossing midnight and a year */
    { "2027-01-01T00:30:00+01:00", 1798759800000LL },
    { "2026-12-31T23:30:00-01:00", 1798763400000LL },
    { "2026-05-12T23:59:59+23:59", 1778544059000LL },
    /* leap days */
    { "2024-02-29T12:00:00Z", 1709208000000LL },
    { "2000-02-29T00:00:00Z", 951782400000LL },
    { "2400-02-29T00:00:00Z", 13574563200000LL },
    { "2023-02-28T23:59:59Z", 1677628799000LL },
    /* the bounds */
    { "9999-12-31T23:59:59.999Z", 253402300799999LL },
    { "9999-12-31T23:59:59Z", 253402300799000LL },
    { "1970-01-01T01:00:00+01:00", 0 },
    { "2038-01-19T03:14:08Z", 2147483648000LL },
};


static const char  *bads[] = {
    "",
    "2026",
    "2026-05-12",
    "2026-05-12T09:00",
    "2026-05-12T09:00Z",
    /* an offset is required */
    "2026-05-12T09:00:00",
    "2026-05-12T09:00:00.123",
    /* ranges */
    "1969-12-31T23:59:59Z",
    "0000-01-01T00:00:00Z",
    "2026-00-12T09:00:00Z",
    "2026-13-12T09:00:00Z",
    "2026-05-00T09:00:00Z",
    "2026-05-32T09:00:00Z",
    "2026-04-31T09:00:00Z",
    "2026-06-31T09:00:00Z",
    "2026-09-31T09:00:00Z",
    "2026-11-31T09:00:00Z",
    "2026-02-29T09:00:00Z",
    "2023-02-29T09:00:00Z",
    "1900-02-29T09:00:00Z",
    "2100-02-29T09:00:00Z",
    "2026-02-30T09:00:00Z",
    "2026-05-12T24:00:00Z",
    "2026-05-12T09:60:00Z",
    "2026-05-12T09:00:61Z",
    /* a leap second: TikTok takes none, and :59 is not what was asked */
    "2016-12-31T23:59:60Z",
    "2016-12-31T23:59:60.5Z",
    "2026-05-12T09:00:99Z",
    /* offsets */
    "2026-05-12T09:00:00+24:00",
    "2026-05-12T09:00:00+02:60",
    "2026-05-12T09:00:00+2:00",
    "2026-05-12T09:00:00+02",
    "2026-05-12T09:00:00+02:0",
    "2026-05-12T09:00:00+02:000",
    "2026-05-12T09:00:00+020",
    "2026-05-12T09:00:00+02000",
    "2026-05-12T09:00:00+02-00",
    "2026-05-12T09:00:00+ab:cd",
    "2026-05-12T09:00:00 +02:00",
    "2026-05-12T09:00:00z",
    "2026-05-12T09:00:00UTC",
    "2026-05-12T09:00:00ZZ",
    "2026-05-12T09:00:00Z ",
    " 2026-05-12T09:00:00Z",
    /* the result must be within 1970-9999 UTC too */
    "1970-01-01T00:30:00+01:00",
    "9999-12-31T23:59:59-00:01",
    /* separators and digits */
    "2026-05-12t09:00:00Z",
    "2026-05-12_09:00:00Z",
    "2026/05/12T09:00:00Z",
    "2026-05-12T09.00.00Z",
    "2026-5-12T09:00:00Z",
    "2026-05-1T09:00:00Z",
    "20260512T090000Z",
    "+2026-05-12T09:00:00Z",
    "-2026-05-12T09:00:00Z",
    "2026-05-12T09:00:0aZ",
    "2026-0x-12T09:00:00Z",
    "2026-05-12T 9:00:00Z",
    /* fractions need digits; commas are not decimal points here */
    "2026-05-12T09:00:00.Z",
    "2026-05-12T09:00:00.",
    "2026-05-12T09:00:00,5Z",
    "2026-05-12T09:00:00.5.5Z",
    "2026-05-12T09:00:00.-5Z",
};


static void
test_parse_good(void **state)
{
    size_t   i;
    int64_t  ms;

    for (i = 0; i < TT_ARRAY_SIZE(goods); i++) {
        ms = -1;

        if (tt_time_parse(goods[i].in, strlen(goods[i].in), &ms) != TT_OK
            || ms != goods[i].ms)
        {
            fail_msg("%s: got %lld", goods[i].in, (long long) ms);
        }
    }
}


static void
test_parse_bad(void **state)
{
    size_t   i;
    int64_t  ms;

    for (i = 0; i < TT_ARRAY_SIZE(bads); i++) {
        ms = 12345;

        if (tt_time_parse(bads[i], strlen(bads[i]), &ms) != TT_INVALID
            || ms != 12345)
        {
            fail_msg("accepted \"%s\"", bads[i]);
        }
    }

    /* the length is honoured: no reading past it, no NUL needed */
    assert_int_equal(tt_time_parse("2026-05-12T09:00:00Zjunk", 20, &ms),
                     TT_OK);
    assert_int_equal(tt_time_parse("2026-05-12T09:00:00Z", 19, &ms),
                     TT_INVALID);
    assert_int_equal(tt_time_parse("2026-05-12T09:00:00.5", 21, &ms),
                     TT_INVALID);
    assert_int_equal(tt_time_parse("2026-05-12T09:00:00+02:00", 24, &ms),
                     TT_INVALID);
    assert_int_equal(tt_time_parse(NULL, 0, &ms), TT_INVALID);
}


static void
test_format(void **state)
{
    char    buf[TT_TIME_LEN + 1];
    size_t  n;

    n = tt_time_format(0, buf);
    assert_int_equal(n, 20);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");

    n = tt_time_format(1778576400000LL, buf);
    assert_string_equal(buf, "2026-05-12T09:00:00Z");

    n = tt_time_format(1778576400123LL, buf);
    assert_int_equal(n, TT_TIME_LEN);
    assert_string_equal(buf, "2026-05-12T09:00:00.123Z");

    n = tt_time_format(1778576400007LL, buf);
    assert_string_equal(buf, "2026-05-12T09:00:00.007Z");

    n = tt_time_format(253402300799999LL, buf);
    assert_int_equal(n, TT_TIME_LEN);
    assert_string_equal(buf, "9999-12-31T23:59:59.999Z");

    n = tt_time_format(1709208000000LL, buf);
    assert_string_equal(buf, "2024-02-29T12:00:00Z");

    /* before 1970 formats (it is never stored), -1 ms is 23:59:59.999 */
    n = tt_time_format(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");

    n = tt_time_format(-62167219200000LL, buf);
    assert_string_equal(buf, "0000-01-01T00:00:00Z");

    /* what does not fit four digits is refused */
    assert_int_equal(tt_time_format(253402300800000LL, buf), 0);
    assert_string_equal(buf, "");
    assert_int_equal(tt_time_format(INT64_MAX, buf), 0);
    assert_int_equal(tt_time_format(INT64_MIN, buf), 0);
    assert_int_equal(tt_time_format(-62167219200001LL, buf), 0);
}


static void
test_roundtrip(void **state)
{
    char     buf[TT_TIME_LEN + 1];
    size_t   n;
    int64_t  ms, back, step;

    /* about 200k points across the whole range, with milliseconds */
    step = 253402300799999LL / 200003;

    for (ms = 0; ms <= 253402300799999LL; ms += step) {
        n = tt_time_format(ms, buf);
        assert_true(n == 20 || n == 24);
        assert_int_equal(tt_time_parse(buf, n, &back), TT_OK);
        assert_true(back == ms);
    }

    /* every millisecond value of one second */
    for (ms = 1778576400000LL; ms < 1778576401000LL; ms++) {
        n = tt_time_format(ms, buf);
        assert_int_equal(tt_time_parse(buf, n, &back), TT_OK);
        assert_true(back == ms);
    }
}


static void
test_civil(void **state)
{
    int64_t     z, y;
    unsigned    m, d;
    struct tm   tm;
    time_t      t;

    assert_true(tt_days_from_civil(1970, 1, 1) == 0);
    assert_true(tt_days_from_civil(1970, 1, 2) == 1);
    assert_true(tt_days_from_civil(1969, 12, 31) == -1);
    assert_true(tt_days_from_civil(2000, 3, 1) == 11017);
    assert_true(tt_days_from_civil(0, 1, 1) == -719528);
    assert_true(tt_days_from_civil(9999, 12, 31) == 2932896);

    /* both directions agree with each other and with glibc, day by day */
    for (z = -800000; z <= 2932896; z++) {
        tt_civil_from_days(z, &y, &m, &d);
        assert_true(tt_days_from_civil(y, m, d) == z);

        if (z % 97 == 0 && z >= 0) {
            t = (time_t) z * 86400;
            assert_non_null(gmtime_r(&t, &tm));
            assert_true(y == tm.tm_year + 1900);
            assert_int_equal(m, (unsigned) tm.tm_mon + 1);
            assert_int_equal(d, (unsigned) tm.tm_mday);
        }
    }

    tt_civil_from_days(11016, &y, &m, &d);
    assert_true(y == 2000);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);

    tt_civil_from_days(-1, &y, &m, &d);
    assert_true(y == 1969);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
}


static void
test_clocks(void **state)
{
    int64_t          a, b, sys;
    struct timespec  ts;

    a = tt_now_ms();
    assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
    sys = (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    assert_true(sys - a >= 0 && sys - a < 1000);
    assert_true(a > 1700000000000LL);

    a = tt_mono_ms();
    usleep(20000);
    b = tt_mono_ms();
    assert_true(a >= 0);
    assert_true(b - a >= 20 && b - a < 2000);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_civil),
        cmocka_unit_test(test_clocks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
