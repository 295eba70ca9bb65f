/*
 * Copyright (C) the ngx_tiktok authors.
 * Unit tests of when a post may still change: held back before TikTok
 * got anything (a retry, the creator's daily cap, an upload slot), or
 * already asked to publish.
 */


#include "tt_test.h"

#include "tt_post.h"


#define T_NOW  1767225600000LL     /* 2026-01-01T00:00:00Z */


static void
t_post(tt_post_t *p, tt_platform_t *pl)
{
    tt_post_init(p, T_NOW);

    memset(pl, 0, sizeof(tt_platform_t));
    pl->status = TT_PLAT_PENDING;
    pl->attempted_at = -1;
    pl->next_attempt_at = -1;
    pl->upload_expires_at = -1;
    pl->params.video_cover_timestamp_ms = -1;

    p->platforms = pl;
    p->nplatforms = 1;
    p->scheduled_at = T_NOW + 3600000;
    tt_post_settle(p, T_NOW);
}


/* the 16th post of the day: waiting 24 h for the creator's daily cap */
static void
test_daily_cap_held(void **state)
{
    tt_post_t      p;
    tt_platform_t  pl;

    t_post(&p, &pl);
    pl.status = TT_PLAT_RETRY;
    pl.attempts = 0;
    pl.next_attempt_at = T_NOW + 24 * 3600000LL;
    pl.error = "Waiting: this creator reached the daily number of posts "
               "the scheduler sends";
    tt_post_settle(&p, T_NOW);

    assert_int_equal(p.status, TT_POST_PROCESSING);
    assert_null(tt_post_locked(&p));

    assert_int_equal(tt_post_unhold(&p), 1);
    tt_post_settle(&p, T_NOW);

    assert_int_equal(pl.status, TT_PLAT_PENDING);
    assert_int_equal(pl.next_attempt_at, -1);
    assert_null(pl.error);
    assert_int_equal(p.status, TT_POST_SCHEDULED);
    assert_int_equal(p.due_at, T_NOW + 3600000);
}


/* a 429 on the init: attempt 1 failed, the upload cleared */
static void
test_retry_held(void **state)
{
    tt_post_t      p;
    tt_platform_t  pl;

    t_post(&p, &pl);
    pl.status = TT_PLAT_RETRY;
    pl.attempts = 1;
    pl.attempted_at = T_NOW;
    pl.next_attempt_at = T_NOW + 5000;
    pl.error_code = "rate_limit_exceeded";
    tt_post_settle(&p, T_NOW);

    assert_null(tt_post_locked(&p));
    assert_int_equal(tt_post_unhold(&p), 1);
    assert_int_equal(pl.attempts, 0);
    assert_int_equal(pl.attempted_at, -1);
    assert_null(pl.error_code);
}


/* claimed, waiting for an upload slot: processing, stage NONE */
static void
test_slot_held(void **state)
{
    tt_post_t      p;
    tt_platform_t  pl;

    t_post(&p, &pl);
    pl.status = TT_PLAT_PROCESSING;
    pl.attempts = 1;
    p.status = TT_POST_PROCESSING;
    p.due_at = T_NOW;

    assert_null(tt_post_locked(&p));
    assert_int_equal(tt_post_unhold(&p), 1);
    tt_post_settle(&p, T_NOW);
    assert_int_equal(p.status, TT_POST_SCHEDULED);
}


/* TikTok was asked: the INIT mark, an upload, a poll, a kept publish_id */
static void
test_started_locked(void **state)
{
    tt_post_t      p;
    tt_platform_t  pl;
    const char    *why;

    t_post(&p, &pl);
    pl.status = TT_PLAT_PROCESSING;
    pl.stage = TT_STAGE_INIT;
    p.status = TT_POST_PROCESSING;

    why = tt_post_locked(&p);
    assert_non_null(why);
    assert_non_null(strstr(why, "init was sent"));
    assert_int_equal(tt_post_unhold(&p), 0);
    assert_int_equal(pl.status, TT_PLAT_PROCESSING);

    pl.stage = TT_STAGE_UPLOAD;
    pl.publish_id = "v_pub_file~v2-1.123";
    assert_non_null(tt_post_locked(&p));

    /* a retry that kept TikTok's publish (the last chunk may have landed) */
    pl.status = TT_PLAT_RETRY;
    tt_post_settle(&p, T_NOW);
    assert_non_null(tt_post_locked(&p));
    assert_int_equal(tt_post_unhold(&p), 0);

    pl.stage = TT_STAGE_POLL;
    assert_non_null(tt_post_locked(&p));
}


static void
test_ends_locked(void **state)
{
    tt_post_t      p;
    tt_platform_t  pl;

    t_post(&p, &pl);
    assert_null(tt_post_locked(&p));
    assert_int_equal(tt_post_unhold(&p), 0);

    pl.status = TT_PLAT_PUBLISHED;
    tt_post_settle(&p, T_NOW);
    assert_string_equal(tt_post_locked(&p), "has already been published");

    pl.status = TT_PLAT_FAILED;
    tt_post_settle(&p, T_NOW);
    assert_string_equal(tt_post_locked(&p), "has already been processed");
}


/* published, the id awaited: on the agenda at the scheduler's time */
static void
test_id_awaited(void **state)
{
    tt_post_t       p, q;
    tt_platform_t   pl;
    tt_buf_t        rec;
    tt_arena_t     *a;

    t_post(&p, &pl);
    pl.status = TT_PLAT_PUBLISHED;
    pl.stage = TT_STAGE_POLL;
    pl.publish_id = "v_pub_file~v2-1.7";
    pl.id_until = T_NOW + 72 * 3600000LL;
    p.due_at = T_NOW + 10000;
    tt_post_settle(&p, T_NOW);

    assert_int_equal(p.status, TT_POST_PROCESSED);
    assert_true(tt_post_id_awaited(&p));
    assert_int_equal(p.due_at, T_NOW + 10000);

    /* kept in the record */
    a = tt_arena_create(4096);
    assert_non_null(a);
    tt_buf_init(&rec);
    assert_int_equal(tt_post_encode(&p, &rec), TT_OK);
    assert_int_equal(tt_post_decode(rec.data, rec.len, a, &q), TT_OK);
    assert_int_equal(q.platforms[0].id_until, pl.id_until);
    assert_int_equal(q.due_at, T_NOW + 10000);
    tt_buf_free(&rec);
    tt_arena_destroy(a);

    /* the id came: off the agenda */
    pl.platform_id = 7000000000000000001LL;
    tt_post_settle(&p, T_NOW);
    assert_false(tt_post_id_awaited(&p));
    assert_int_equal(p.due_at, -1);

    /* given up */
    pl.platform_id = 0;
    pl.id_until = 0;
    p.due_at = T_NOW;
    tt_post_settle(&p, T_NOW);
    assert_int_equal(p.due_at, -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_daily_cap_held),
        cmocka_unit_test(test_retry_held),
        cmocka_unit_test(test_slot_held),
        cmocka_unit_test(test_started_locked),
        cmocka_unit_test(test_ends_locked),
        cmocka_unit_test(test_id_awaited),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
