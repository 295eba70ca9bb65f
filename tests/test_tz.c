/*
 * Copyright (C) the ngx_tiktok authors.
 * Tests of the time zone layer: names, wall clock to UTC with the queue's
 * gap and repeat rules, UTC to wall clock, and the fast path against cctz
 * alone.  test_tz_all.c compares every zone with glibc.
 */

#include "tt_test.h"

#include <pthread.h>

#include "tt_time.h"
#include "tt_tz.h"


typedef struct {
    const char     *zone;
    const char     *local;          /* "YYYY-MM-DD HH:MM" */
    const char     *utc;
} to_utc_t;


static const to_utc_t  to_utcs[] = {
    /* Los Angeles: 02:00 -> 03:00 on 8 March, 02:00 -> 01:00 on 1 Nov */
    { "America/Los_Angeles", "2026-01-05 09:00", "2026-01-05T17:00:00Z" },
    { "America/Los_Angeles", "2026-07-01 09:00", "2026-07-01T16:00:00Z" },
    { "America/Los_Angeles", "2026-03-08 01:59", "2026-03-08T09:59:00Z" },
    { "America/Los_Angeles", "2026-03-08 02:00", "2026-03-08T10:00:00Z" },
    { "America/Los_Angeles", "2026-03-08 02:30", "2026-03-08T10:00:00Z" },
    { "America/Los_Angeles", "2026-03-08 02:59", "2026-03-08T10:00:00Z" },
    { "America/Los_Angeles", "2026-03-08 03:00", "2026-03-08T10:00:00Z" },
    { "America/Los_Angeles", "2026-03-08 03:01", "2026-03-08T10:01:00Z" },
    { "America/Los_Angeles", "2026-11-01 00:59", "2026-11-01T07:59:00Z" },
    { "America/Los_Angeles", "2026-11-01 01:00", "2026-11-01T08:00:00Z" },
    { "America/Los_Angeles", "2026-11-01 01:30", "2026-11-01T08:30:00Z" },
    { "America/Los_Angeles", "2026-11-01 01:59", "2026-11-01T08:59:00Z" },
    { "America/Los_Angeles", "2026-11-01 02:00", "2026-11-01T10:00:00Z" },
    /* a link of the tz database */
    { "US/Pacific", "2026-11-01 01:30", "2026-11-01T08:30:00Z" },

    /* London: 01:00 -> 02:00 on 29 March, 02:00 -> 01:00 on 25 Oct */
    { "Europe/London", "2026-03-29 00:59", "2026-03-29T00:59:00Z" },
    { "Europe/London", "2026-03-29 01:00", "2026-03-29T01:00:00Z" },
    { "Europe/London", "2026-03-29 01:30", "2026-03-29T01:00:00Z" },
    { "Europe/London", "2026-03-29 02:00", "2026-03-29T01:00:00Z" },
    { "Europe/London", "2026-03-29 02:01", "2026-03-29T01:01:00Z" },
    { "Europe/London", "2026-10-25 00:59", "2026-10-24T23:59:00Z" },
    { "Europe/London", "2026-10-25 01:00", "2026-10-25T00:00:00Z" },
    { "Europe/London", "2026-10-25 01:59", "2026-10-25T00:59:00Z" },
    { "Europe/London", "2026-10-25 02:00", "2026-10-25T02:00:00Z" },

    /* Lord Howe, half-hour DST: 02:00 -> 01:30 on 5 April (+11 to
     * +10:30), 02:00 -> 02:30 on 4 October */
    { "Australia/Lord_Howe", "2026-04-05 01:29", "2026-04-04T14:29:00Z" },
    { "Australia/Lord_Howe", "2026-04-05 01:30", "2026-04-04T14:30:00Z" },
    { "Australia/Lord_Howe", "2026-04-05 01:45", "2026-04-04T14:45:00Z" },
    { "Australia/Lord_Howe", "2026-04-05 01:59", "2026-04-04T14:59:00Z" },
    { "Australia/Lord_Howe", "2026-04-05 02:00", "2026-04-04T15:30:00Z" },
    { "Australia/Lord_Howe", "2026-10-04 01:59", "2026-10-03T15:29:00Z" },
    { "Australia/Lord_Howe", "2026-10-04 02:00", "2026-10-03T15:30:00Z" },
    { "Australia/Lord_Howe", "2026-10-04 02:15", "2026-10-03T15:30:00Z" },
    { "Australia/Lord_Howe", "2026-10-04 02:29", "2026-10-03T15:30:00Z" },
    { "Australia/Lord_Howe", "2026-10-04 02:30", "2026-10-03T15:30:00Z" },
    { "Australia/Lord_Howe", "2026-10-04 02:31", "2026-10-03T15:31:00Z" },

    /* Kathmandu, +05:45 all year */
    { "Asia/Kathmandu", "2026-06-01 09:00", "2026-06-01T03:15:00Z" },
    { "Asia/Kathmandu", "2026-12-31 23:59", "2026-12-31T18:14:00Z" },
    { "Asia/Kathmandu", "2027-01-01 05:44", "2026-12-31T23:59:00Z" },

    /* Chatham, +12:45 / +13:45: 03:45 -> 02:45 on 5 April, 02:45 ->
     * 03:45 on 27 September */
    { "Pacific/Chatham", "2026-04-05 02:44", "2026-04-04T12:59:00Z" },
    { "Pacific/Chatham", "2026-04-05 02:45", "2026-04-04T13:00:00Z" },
    { "Pacific/Chatham", "2026-04-05 03:30", "2026-04-04T13:45:00Z" },
    { "Pacific/Chatham", "2026-04-05 03:45", "2026-04-04T15:00:00Z" },
    { "Pacific/Chatham", "2026-09-27 02:44", "2026-09-26T13:59:00Z" },
    { "Pacific/Chatham", "2026-09-27 02:45", "2026-09-26T14:00:00Z" },
    { "Pacific/Chatham", "2026-09-27 03:00", "2026-09-26T14:00:00Z" },
    { "Pacific/Chatham", "2026-09-27 03:44", "2026-09-26T14:00:00Z" },
    { "Pacific/Chatham", "2026-09-27 03:45", "2026-09-26T14:00:00Z" },
    { "Pacific/Chatham", "2026-09-27 03:46", "2026-09-26T14:01:00Z" },

    /* Tokyo has no DST: the other zones' days change nothing */
    { "Asia/Tokyo", "2026-03-08 02:30", "2026-03-07T17:30:00Z" },
    { "Asia/Tokyo", "2026-11-01 01:30", "2026-10-31T16:30:00Z" },
    { "Asia/Tokyo", "2026-03-29 01:30", "2026-03-28T16:30:00Z" },

    /*
     * Rules newer than ICU 72's tz 2022e, read from the system's tzdata:
     * Mexico City has had no DST since 2022 (-06 all year); Ciudad Juarez
     * (a zone since 2022g) keeps the US's DST, -07/-06.
     */
    { "America/Mexico_City", "2026-01-05 09:00", "2026-01-05T15:00:00Z" },
    { "America/Mexico_City", "2026-07-01 09:00", "2026-07-01T15:00:00Z" },
    { "America/Ciudad_Juarez", "2026-01-05 09:00", "2026-01-05T16:00:00Z" },
    { "America/Ciudad_Juarez", "2026-07-01 09:00", "2026-07-01T15:00:00Z" },
    { "America/Ciudad_Juarez", "2026-03-08 02:30", "2026-03-08T09:00:00Z" },

    /* far years come from the zones' final rules */
    { "America/Los_Angeles", "2087-03-09 02:30", "2087-03-09T10:00:00Z" },
    { "Europe/London", "2090-10-29 01:30", "2090-10-29T00:30:00Z" },
    /* past 2200 and the 400 years of transitions cctz lists */
    { "America/Los_Angeles", "2451-03-12 02:30", "2451-03-12T10:00:00Z" },
    { "America/Los_Angeles", "2451-07-01 09:00", "2451-07-01T16:00:00Z" },
    { "Europe/London", "9999-10-31 01:30", "9999-10-31T00:30:00Z" },
    { "Europe/London", "9999-12-31 23:59", "9999-12-31T23:59:00Z" },
    { "Asia/Tokyo", "9999-12-31 23:59", "9999-12-31T14:59:00Z" },
};


typedef struct {
    const char     *zone;
    const char     *utc;
    const char     *local;          /* "YYYY-MM-DD HH:MM:SS" */
    int             wday;
    int             offset;
} from_utc_t;


static const from_utc_t  from_utcs[] = {
    /* both 01:30s of Los Angeles' fall-back day */
    { "America/Los_Angeles", "2026-11-01T08:30:00Z", "2026-11-01 01:30:00",
      0, -25200 },
    { "America/Los_Angeles", "2026-11-01T09:30:00Z", "2026-11-01 01:30:00",
      0, -28800 },
    { "America/Los_Angeles", "2026-03-08T10:00:00Z", "2026-03-08 03:00:00",
      0, -25200 },
    { "America/Los_Angeles", "2026-03-08T09:59:59Z", "2026-03-08 01:59:59",
      0, -28800 },
    { "Europe/London", "2026-10-25T00:30:00Z", "2026-10-25 01:30:00",
      0, 3600 },
    { "Europe/London", "2026-10-25T01:30:00Z", "2026-10-25 01:30:00", 0, 0 },
    { "Australia/Lord_Howe", "2026-04-04T14:45:00Z", "2026-04-05 01:45:00",
      0, 39600 },
    { "Australia/Lord_Howe", "2026-04-04T15:15:00Z", "2026-04-05 01:45:00",
      0, 37800 },
    { "Asia/Kathmandu", "2026-01-01T00:00:00Z", "2026-01-01 05:45:00",
      4, 20700 },
    { "Pacific/Chatham", "2026-09-26T14:00:00Z", "2026-09-27 03:45:00",
      0, 49500 },
    { "Pacific/Chatham", "2026-09-26T13:59:00Z", "2026-09-27 02:44:00",
      0, 45900 },
    { "Asia/Tokyo", "2026-12-31T15:00:00Z", "2027-01-01 00:00:00", 5,
      32400 },
    /* a week wraps: Saturday late in UTC is Sunday in Chatham */
    { "Pacific/Chatham", "2026-12-05T12:00:00Z", "2026-12-06 01:45:00",
      0, 49500 },
    { "America/Los_Angeles", "2026-12-06T05:00:00Z", "2026-12-05 21:00:00",
      6, -28800 },
};


static const char  *good_names[] = {
    "America/Los_Angeles", "US/Pacific", "Europe/London", "UTC", "Etc/UTC",
    "GMT", "EST", "CET", "EST5EDT", "Etc/GMT+3", "Asia/Kolkata",
    "Asia/Calcutta", "Australia/Lord_Howe", "Pacific/Chatham",
    "America/Argentina/Buenos_Aires", "Asia/Kathmandu", "Asia/Katmandu",
    "America/Ciudad_Juarez", "America/Coyhaique", "Etc/GMT-14", "GMT0",
    "America/Argentina/ComodRivadavia", "Factory",
};


static const char  *bad_names[] = {
    "", "Mars/Olympus", "America/Los Angeles", "America/Nowhere",
    "Etc/Unknown", "PST", "IST", "CST", "SystemV/PST8", "US/Pacific-New",
    "GMT+3", "GMT+03:00", "UTC+1", "../../etc/passwd", "/etc/localtime",
    "America/Los_Angeles ", " America/Los_Angeles", "Europe/London\n",
    "Asia/Kolkata;", "America/Los_Angeles/", "a",
    "America/Argentina/Buenos_Aires/Very/Long/Name/That/Goes/On/And/On/X",
    /* files and paths that are not zones */
    "../etc/passwd", "Europe/../../etc/passwd", "/etc/passwd",
    "/usr/share/zoneinfo/Europe/London", "./Europe/London",
    "Europe/./London", "Europe//London", "Europe", "Europe/", "posix",
    "posix/Europe/London", "right/Europe/London", "localtime",
    "posixrules", "leapseconds", "zone.tab", "tzdata.zi", "iso3166.tab",
    "-Europe/London", "Europe/-London", "_Europe/London", "9Europe",
    "Europe/London\\", "Europe\\London", "file:Europe/London",
    "Fixed/UTC+01:00:00", "libc:localtime", "Europe/London%00",
};


static tt_tz_t *
open_zone(const char *name)
{
    tt_tz_t  *tz;

    assert_int_equal(tt_tz_open(name, strlen(name), &tz), TT_OK);
    assert_non_null(tz);
    return tz;
}


static void
parse_local(const char *s, tt_tz_tm_t *tm)
{
    memset(tm, 0, sizeof(*tm));
    assert_int_equal(strlen(s), 16);
    tm->year = (int) strtol(s, NULL, 10);
    tm->month = (int) strtol(s + 5, NULL, 10);
    tm->day = (int) strtol(s + 8, NULL, 10);
    tm->hour = (int) strtol(s + 11, NULL, 10);
    tm->minute = (int) strtol(s + 14, NULL, 10);
}


static void
test_to_utc(void **state)
{
    size_t       i;
    int64_t      got, want, icu;
    tt_tz_t     *tz;
    tt_tz_tm_t   tm;

    for (i = 0; i < TT_ARRAY_SIZE(to_utcs); i++) {
        tz = open_zone(to_utcs[i].zone);
        parse_local(to_utcs[i].local, &tm);
        assert_int_equal(tt_time_parse(to_utcs[i].utc,
                                       strlen(to_utcs[i].utc), &want),
                         TT_OK);

        assert_int_equal(tt_tz_to_utc(tz, &tm, &got), TT_OK);
        if (got != want) {
            print_error("%s %s: %lld, want %s\n", to_utcs[i].zone,
                        to_utcs[i].local, (long long) got, to_utcs[i].utc);
        }
        assert_int_equal(got, want);

        /* again, now that the zone has learnt the period: the fast path */
        assert_int_equal(tt_tz_to_utc(tz, &tm, &got), TT_OK);
        assert_int_equal(got, want);

        assert_int_equal(tt_tz_local_to_utc_slow(tz,
                             tt_days_from_civil(tm.year, tm.month, tm.day)
                             * TT_TZ_DAY_MS + tm.hour * TT_TZ_HOUR_MS
                             + tm.minute * TT_TZ_MIN_MS, &icu), TT_OK);
        assert_int_equal(icu, want);

        tt_tz_close(tz);
    }
}


static void
test_from_utc(void **state)
{
    size_t       i;
    char         buf[32];
    int64_t      ms;
    tt_tz_t     *tz;
    tt_tz_tm_t   tm;

    for (i = 0; i < TT_ARRAY_SIZE(from_utcs); i++) {
        tz = open_zone(from_utcs[i].zone);
        assert_int_equal(tt_time_parse(from_utcs[i].utc,
                                       strlen(from_utcs[i].utc), &ms),
                         TT_OK);

        assert_int_equal(tt_tz_from_utc(tz, ms, &tm), TT_OK);
        snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d",
                 tm.year, tm.month, tm.day, tm.hour, tm.minute, tm.second);
        assert_string_equal(buf, from_utcs[i].local);
        assert_int_equal(tm.wday, from_utcs[i].wday);
        assert_int_equal(tm.offset, from_utcs[i].offset);

        tt_tz_close(tz);
    }
}


static void
test_names(void **state)
{
    char      buf[4096];
    size_t    i;
    tt_tz_t  *tz;

    for (i = 0; i < TT_ARRAY_SIZE(good_names); i++) {
        if (tt_tz_check(good_names[i], strlen(good_names[i])) != TT_OK) {
            print_error("rejected %s\n", good_names[i]);
            fail();
        }
    }

    for (i = 0; i < TT_ARRAY_SIZE(bad_names); i++) {
        if (tt_tz_check(bad_names[i], strlen(bad_names[i])) != TT_INVALID) {
            print_error("accepted \"%s\"\n", bad_names[i]);
            fail();
        }

        tz = (tt_tz_t *) 1;
        assert_int_equal(tt_tz_open(bad_names[i], strlen(bad_names[i]), &tz),
                         TT_INVALID);
        assert_null(tz);
    }

    /* a NUL inside the given length is not the end of the name */
    assert_int_equal(tt_tz_check("UTC\0x", 5), TT_INVALID);

    /* only the given length counts */
    assert_int_equal(tt_tz_check("Asia/TokyoXYZ", 10), TT_OK);

    /* 63 bytes is the most; no zone is that long */
    memset(buf, 'A', sizeof(buf));
    assert_int_equal(tt_tz_check(buf, TT_TZ_NAME_MAX - 1), TT_INVALID);
    assert_int_equal(tt_tz_check(buf, sizeof(buf)), TT_INVALID);
}


static void
test_bad_fields(void **state)
{
    size_t       i;
    int64_t      ms;
    tt_tz_t     *tz;
    tt_tz_tm_t   tm;

    static const char  *bads[] = {
        "2026-02-29 09:00", "2026-04-31 09:00", "2026-13-01 09:00",
        "2026-00-10 09:00", "2026-01-00 09:00", "2026-01-01 24:00",
        "2026-01-01 09:60", "1969-12-31 23:59", "2024-02-30 00:00",
    };

    tz = open_zone("Europe/London");

    for (i = 0; i < TT_ARRAY_SIZE(bads); i++) {
        parse_local(bads[i], &tm);
        assert_int_equal(tt_tz_to_utc(tz, &tm, &ms), TT_INVALID);
    }

    parse_local("2024-02-29 12:00", &tm);
    assert_int_equal(tt_tz_to_utc(tz, &tm, &ms), TT_OK);

    parse_local("2026-01-01 09:00", &tm);
    tm.year = 10000;
    assert_int_equal(tt_tz_to_utc(tz, &tm, &ms), TT_INVALID);
    tm.year = 9999;
    tm.second = 60;
    assert_int_equal(tt_tz_to_utc(tz, &tm, &ms), TT_INVALID);

    assert_int_equal(tt_tz_local_to_utc(tz, -1, &ms), TT_INVALID);
    assert_int_equal(tt_tz_from_utc(tz, 253402300800000LL + TT_TZ_DAY_MS,
                                    &tm), TT_INVALID);

    tt_tz_close(tz);
}


/*
 * The fast path against ICU alone, every 7 minutes (so that every minute
 * of the day is met) across two years of zones with odd transitions, in
 * both directions.
 */
static void
test_fast_path(void **state)
{
    size_t    i;
    int64_t   l, start, end, fast, icu;
    tt_tz_t  *a, *b;

    static const char  *zones[] = {
        "America/Los_Angeles", "Europe/London", "Australia/Lord_Howe",
        "Asia/Kathmandu", "Pacific/Chatham", "Asia/Tokyo", "Pacific/Apia",
        "America/Santiago", "Africa/Casablanca", "Antarctica/Troll",
    };

    start = tt_days_from_civil(2011, 1, 1) * TT_TZ_DAY_MS;
    end = tt_days_from_civil(2013, 1, 1) * TT_TZ_DAY_MS;

    for (i = 0; i < TT_ARRAY_SIZE(zones); i++) {
        a = open_zone(zones[i]);
        b = open_zone(zones[i]);

        for (l = start; l < end; l += 7 * TT_TZ_MIN_MS) {
            assert_int_equal(tt_tz_local_to_utc(a, l, &fast), TT_OK);
            assert_int_equal(tt_tz_local_to_utc_slow(b, l, &icu), TT_OK);
            if (fast != icu) {
                print_error("%s local %lld: %lld, ICU %lld\n", zones[i],
                            (long long) l, (long long) fast,
                            (long long) icu);
            }
            assert_int_equal(fast, icu);
        }

        /* backwards: the period known is the one after a transition */
        for (l = end - TT_TZ_MIN_MS; l >= start; l -= 7 * TT_TZ_MIN_MS) {
            assert_int_equal(tt_tz_local_to_utc(a, l, &fast), TT_OK);
            assert_int_equal(tt_tz_local_to_utc_slow(b, l, &icu), TT_OK);
            assert_int_equal(fast, icu);
        }

        tt_tz_close(a);
        tt_tz_close(b);
    }
}


/* Samoa skipped 30 December 2011: its wall times move to the 31st */
static void
test_skipped_day(void **state)
{
    int64_t      ms, want;
    tt_tz_t     *tz;
    tt_tz_tm_t   tm;

    tz = open_zone("Pacific/Apia");
    parse_local("2011-12-30 09:00", &tm);
    assert_int_equal(tt_tz_to_utc(tz, &tm, &ms), TT_OK);
    assert_int_equal(tt_time_parse("2011-12-30T10:00:00Z", 20, &want), TT_OK);
    assert_int_equal(ms, want);

    assert_int_equal(tt_tz_from_utc(tz, ms, &tm), TT_OK);
    assert_int_equal(tm.day, 31);
    assert_int_equal(tm.hour, 0);
    assert_int_equal(tm.wday, 6);
    tt_tz_close(tz);
}


typedef struct {
    const char     *zone;
    int64_t         sum;
    int             rc;
} thread_arg_t;


static void *
thread_main(void *p)
{
    int64_t        l, ms;
    tt_tz_t       *tz;
    thread_arg_t  *arg;

    arg = p;
    arg->rc = tt_tz_open(arg->zone, strlen(arg->zone), &tz);
    if (arg->rc != TT_OK) {
        return NULL;
    }

    for (l = tt_days_from_civil(2026, 1, 1) * TT_TZ_DAY_MS;
         l < tt_days_from_civil(2028, 1, 1) * TT_TZ_DAY_MS;
         l += 13 * TT_TZ_MIN_MS)
    {
        if (tt_tz_local_to_utc_slow(tz, l, &ms) != TT_OK) {
            arg->rc = TT_ERR;
            break;
        }
        arg->sum += ms;
    }

    tt_tz_close(tz);
    return NULL;
}


/* zones used by four threads at once answer as one thread alone */
static void
test_threads(void **state)
{
    int           i;
    pthread_t     th[4];
    thread_arg_t  args[4], alone;

    static const char  *zones[] = {
        "America/Los_Angeles", "Pacific/Chatham", "America/Los_Angeles",
        "Australia/Lord_Howe"
    };

    for (i = 0; i < 4; i++) {
        memset(&args[i], 0, sizeof(args[i]));
        args[i].zone = zones[i];
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &args[i]),
                         0);
    }

    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i].rc, TT_OK);

        memset(&alone, 0, sizeof(alone));
        alone.zone = zones[i];
        thread_main(&alone);
        assert_int_equal(alone.rc, TT_OK);
        assert_int_equal(alone.sum, args[i].sum);
    }
}


static void
test_version(void **state)
{
    const char  *v;

    v = tt_tz_data_version();
    /* "2022e": four digits and a letter */
    assert_true(strlen(v) >= 5);
    assert_true(v[0] >= '1' && v[0] <= '9');
    assert_true(v[4] >= 'a' && v[4] <= 'z');
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_to_utc),
        cmocka_unit_test(test_from_utc),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_fast_path),
        cmocka_unit_test(test_skipped_day),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_version),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
