/*
 * Copyright (C) the ngx_tiktok authors.
 * Unit tests of the scheduler's client-side limits and retry backoff.
 * The file under test has no libcurl call; it is included here.
 */

#include "tt_test.h"
#include "../scheduler/sched_limit.c"


static void
test_window(void **state)
{
    sched_prof_t  p;
    int64_t       t;
    int           i;

    memset(&p, 0, sizeof(p));
    t = 1000000;

    /*
     * TikTok's number, written here rather than the constant under test:
     * 6 inits a minute go through, the 7th waits for the oldest
     */
    for (i = 0; i < 6; i++) {
        assert_int_equal(sched_limit_wait(&p, SCHED_LIM_INIT, t + i * 1000),
                         0);
        sched_limit_take(&p, SCHED_LIM_INIT, t + i * 1000);
    }

    assert_true(sched_limit_wait(&p, SCHED_LIM_INIT, t + 10000) > 50000);
    assert_true(sched_limit_wait(&p, SCHED_LIM_INIT, t + 10000) <= 50250);

    /* sliding: once the oldest is a minute old, one more fits */
    assert_int_equal(sched_limit_wait(&p, SCHED_LIM_INIT, t + 60000), 0);
    sched_limit_take(&p, SCHED_LIM_INIT, t + 60000);
    assert_true(sched_limit_wait(&p, SCHED_LIM_INIT, t + 60000) > 0);
    assert_int_equal(sched_limit_wait(&p, SCHED_LIM_INIT, t + 61000), 0);

    /* the kinds are independent */
    assert_int_equal(sched_limit_wait(&p, SCHED_LIM_STATUS, t + 10000), 0);
}


static void
test_window_sizes(void **state)
{
    sched_prof_t  p;
    int           i;

    memset(&p, 0, sizeof(p));

    /* TikTok's numbers: 20 creator_info and 30 status/fetch a minute */
    for (i = 0; i < 20; i++) {
        assert_int_equal(sched_limit_wait(&p, SCHED_LIM_CREATOR, 5000), 0);
        sched_limit_take(&p, SCHED_LIM_CREATOR, 5000);
    }

    assert_true(sched_limit_wait(&p, SCHED_LIM_CREATOR, 5000) > 0);

    for (i = 0; i < 30; i++) {
        assert_int_equal(sched_limit_wait(&p, SCHED_LIM_STATUS, 5000), 0);
        sched_limit_take(&p, SCHED_LIM_STATUS, 5000);
    }

    assert_true(sched_limit_wait(&p, SCHED_LIM_STATUS, 5000) > 0);
}


static void
test_daily(void **state)
{
    sched_prof_t  p;
    int64_t       day;
    int           i;

    memset(&p, 0, sizeof(p));
    day = 24 * 3600 * 1000LL;

    /* TikTok's number: 15 posts a creator in 24 hours, the 16th waits */
    for (i = 0; i < 15; i++) {
        assert_int_equal(sched_daily_wait(&p, 1000 + i), 0);
        sched_daily_take(&p, 1000 + i);
    }

    assert_int_equal(sched_daily_wait(&p, 2000), day - 1000);
    assert_int_equal(sched_daily_wait(&p, 1000 + day), 0);
}


static void
test_backoff(void **state)
{
    int64_t  d, prev, lo, hi;
    int      i;

    prev = 0;

    for (i = 1; i <= 8; i++) {
        d = sched_backoff(i);
        assert_true(d >= 5000);
        assert_true(d <= 30 * 60 * 1000 * 6 / 5 + 1);

        /* doubles, jitter below 20% so the order holds */
        assert_true(d > prev);
        /* README: from 5 s, doubling, up to 20% jitter */
        prev = (5000LL << (i - 1)) * 6 / 5;
        assert_true(d <= prev + 1);
        prev = 5000LL << (i - 1);
    }

    /*
     * capped at 30 minutes, jitter up to 20% above: over 2,000 draws the
     * least is under 31 minutes and the most over 35 (a cap a minute off
     * either way fails this but with a chance under 1e-90)
     */
    lo = INT64_MAX;
    hi = 0;

    for (i = 0; i < 2000; i++) {
        d = sched_backoff(40);
        assert_true(d >= 30 * 60 * 1000LL);
        assert_true(d <= 30 * 60 * 1000LL * 6 / 5 + 1);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }

    assert_true(lo < 31 * 60 * 1000LL);
    assert_true(hi > 35 * 60 * 1000LL);

    /* the first retry: 5 s, up to 6 s */
    lo = INT64_MAX;
    hi = 0;

    for (i = 0; i < 2000; i++) {
        d = sched_backoff(1);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }

    assert_true(lo >= 5000 && lo < 5100);
    assert_true(hi > 5900 && hi <= 6000);
}


static void
test_prof_table(void **state)
{
    sched_t        s;
    sched_prof_t  *a, *b;

    memset(&s, 0, sizeof(s));
    assert_int_equal(sched_profs_init(&s), SCHED_OK);

    a = sched_prof_get(&s, "prof_a");
    b = sched_prof_get(&s, "prof_b");
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_ptr_equal(sched_prof_get(&s, "prof_a"), a);
    assert_string_equal(b->id, "prof_b");

    sched_profs_free(&s);
    assert_null(s.profs);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_window_sizes),
        cmocka_unit_test(test_daily),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_prof_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
