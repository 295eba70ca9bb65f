/*
 * Copyright (C) the ngx_tiktok authors.
 * The store's operations families: metrics (counters, histograms, their
 * Prometheus text), posts' stats and their agenda, the schedule of
 * readings, the slice walk the export resumes from, and the sync a
 * worker's batch makes after its commit.
 */

#include "tt_test.h"

#include "tt_api.h"
#include "tt_store.h"


typedef struct {
    char           *dir;
    tt_store_t     *st;
    tt_arena_t     *a;
} fx_t;


static int
setup(void **state)
{
    fx_t             *fx;
    char              err[256];
    tt_store_conf_t   conf;

    fx = calloc(1, sizeof(fx_t));
    assert_non_null(fx);
    fx->dir = tt_test_mkdtemp();
    fx->a = tt_arena_create(4096);

    memset(&conf, 0, sizeof(conf));
    conf.path = fx->dir;
    conf.nosync = 1;
    assert_int_equal(tt_store_open(&conf, &fx->st, err, sizeof(err)), TT_OK);

    *state = fx;
    return 0;
}


static int
teardown(void **state)
{
    fx_t  *fx = *state;

    tt_store_close(fx->st);
    tt_arena_destroy(fx->a);
    tt_test_rmdir(fx->dir);
    free(fx);
    return 0;
}


static void
test_metrics_text(void **state)
{
    fx_t      *fx = *state;
    tt_txn_t   t;
    tt_buf_t   out;
    int64_t    bounds[] = { 100, 1000 };

    assert_int_equal(tt_txn_begin(fx->st, &t, 1), TT_OK);
    assert_int_equal(tt_metric_add(&t, "tiktok_publishes_total", NULL, 0, 2,
                                   0), TT_OK);
    assert_int_equal(tt_metric_add(&t, "tiktok_publishes_total", NULL, 0, 1,
                                   0), TT_OK);
    assert_int_equal(tt_metric_add(&t, "tiktok_publish_failures_total",
                                   "code=\"x\"", 0, 1, 0), TT_OK);
    assert_int_equal(tt_metric_observe(&t, "tiktok_dispatch_lag_seconds",
                                       bounds, 2, 250), TT_OK);
    assert_int_equal(tt_metric_observe(&t, "tiktok_dispatch_lag_seconds",
                                       bounds, 2, 50), TT_OK);
    assert_int_equal(tt_metric_add(&t, "someone_elses_total", NULL, 0, 7,
                                   0), TT_OK);
    assert_int_equal(tt_metric_add(&t, "", NULL, 0, 1, 0), TT_INVALID);
    assert_int_equal(tt_txn_commit(&t), TT_OK);

    tt_buf_init(&out);
    assert_int_equal(tt_txn_begin(fx->st, &t, 0), TT_OK);
    assert_int_equal(tt_metrics_render(&t, 0, fx->a, &out), TT_OK);
    tt_txn_abort(&t);
    assert_int_equal(tt_buf_append(&out, "", 1), TT_OK);

    assert_non_null(strstr(out.data, "\ntiktok_publishes_total 3\n"));
    assert_non_null(strstr(out.data,
                           "tiktok_publish_failures_total{code=\"x\"} 1\n"));
    /* cumulative buckets in increasing le, then +Inf */
    assert_non_null(strstr(out.data,
        "tiktok_dispatch_lag_seconds_bucket{le=\"0.100\"} 1\n"
        "tiktok_dispatch_lag_seconds_bucket{le=\"1.000\"} 2\n"
        "tiktok_dispatch_lag_seconds_bucket{le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(out.data,
                           "tiktok_dispatch_lag_seconds_count 2\n"));
    assert_non_null(strstr(out.data,
                           "tiktok_dispatch_lag_seconds_sum 0.300\n"));
    assert_non_null(strstr(out.data, "# TYPE someone_elses_total untyped\n"
                                     "someone_elses_total 7\n"));
    /* each sample once */
    assert_null(strstr(strstr(out.data, "tiktok_publishes_total 3") + 1,
                       "tiktok_publishes_total 3"));
    tt_buf_free(&out);
}


static void
test_stats_series(void **state)
{
    fx_t            *fx = *state;
    size_t           n;
    int64_t          next;
    tt_txn_t         t;
    tt_stat_t        s, *got;
    tt_stats_due_t   due[4];

    assert_int_equal(tt_txn_begin(fx->st, &t, 1), TT_OK);

    for (s.recorded_at = 1000; s.recorded_at <= 5000; s.recorded_at += 1000) {
        s.views = s.recorded_at * 10;
        s.likes = 1;
        s.comments = 2;
        s.shares = 3;
        assert_int_equal(tt_stats_put(&t, "p_a", &s), TT_OK);
    }

    s.recorded_at = 2500;
    assert_int_equal(tt_stats_put(&t, "p_b", &s), TT_OK);

    assert_int_equal(tt_stats_due_put(&t, 300, "p_a", 100), TT_OK);
    assert_int_equal(tt_stats_due_put(&t, 200, "p_b", 50), TT_OK);
    assert_int_equal(tt_stats_due_put(&t, 900, "p_c", 50), TT_OK);
    assert_int_equal(tt_txn_commit(&t), TT_OK);

    assert_int_equal(tt_txn_begin(fx->st, &t, 0), TT_OK);

    assert_int_equal(tt_stats_get(&t, "p_a", -1, -1, 100, fx->a, &got, &n),
                     TT_OK);
    assert_int_equal(n, 5);
    assert_int_equal(got[0].recorded_at, 1000);
    assert_int_equal(got[4].views, 50000);
    assert_int_equal(got[4].shares, 3);

    /* both ends in; another post's never */
    assert_int_equal(tt_stats_get(&t, "p_a", 2000, 4000, 100, fx->a, &got,
                                  &n), TT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(got[0].recorded_at, 2000);
    assert_int_equal(got[2].recorded_at, 4000);
    assert_int_equal(tt_stats_get(&t, "p_a", -1, -1, 2, fx->a, &got, &n),
                     TT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(tt_stats_get(&t, "p_z", -1, -1, 9, fx->a, &got, &n),
                     TT_OK);
    assert_int_equal(n, 0);

    /* the agenda: due ones earliest first, and the next after */
    assert_int_equal(tt_stats_due_list(&t, 500, 4, due, &n, &next), TT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(due[0].post_id, "p_b");
    assert_int_equal(due[0].published_at, 50);
    assert_string_equal(due[1].post_id, "p_a");
    assert_int_equal(next, 900);
    tt_txn_abort(&t);
}


static void
test_stats_schedule(void **state)
{
    int64_t  h = 3600 * 1000LL;

    /* hourly for a day, daily for a month, weekly after */
    assert_int_equal(tt_stats_next(0, 0, h), h);
    assert_int_equal(tt_stats_next(0, 23 * h, h), 24 * h);
    assert_int_equal(tt_stats_next(0, 24 * h, h), 48 * h);
    assert_int_equal(tt_stats_next(0, 29 * 24 * h, h), 30 * 24 * h);
    assert_int_equal(tt_stats_next(0, 30 * 24 * h, h), 37 * 24 * h);
}


static int
walk_cb(void *ctx, const void *key, size_t klen, const void *val,
    size_t vlen)
{
    (*(int *) ctx)++;
    return 0;
}


static void
test_walk_slices(void **state)
{
    fx_t      *fx = *state;
    int        seen, rc, slices;
    size_t     pos_len;
    uint8_t    pos[TT_STORE_POS_MAX];
    tt_txn_t   t;
    tt_stat_t  s;

    memset(&s, 0, sizeof(s));
    assert_int_equal(tt_txn_begin(fx->st, &t, 1), TT_OK);

    for (s.recorded_at = 0; s.recorded_at < 1000; s.recorded_at++) {
        assert_int_equal(tt_stats_put(&t, "p_w", &s), TT_OK);
    }

    assert_int_equal(tt_txn_commit(&t), TT_OK);

    /* 1,000 entries in slices of 64, resumed from the last key; a write
     * between slices is not seen (one snapshot) */
    assert_int_equal(tt_txn_begin(fx->st, &t, 0), TT_OK);
    seen = 0;
    slices = 0;
    pos_len = 0;

    do {
        tt_txn_t  w;

        rc = tt_store_walk(&t, TT_DB_STATS, NULL, 0, pos, &pos_len, 64,
                           walk_cb, &seen);
        slices++;

        if (slices == 3) {
            s.recorded_at = 5000;
            assert_int_equal(tt_txn_begin(fx->st, &w, 1), TT_OK);
            assert_int_equal(tt_stats_put(&w, "p_w", &s), TT_OK);
            assert_int_equal(tt_txn_commit(&w), TT_OK);
        }
    } while (rc == TT_OK);

    tt_txn_abort(&t);

    assert_int_equal(rc, TT_NOTFOUND);
    assert_int_equal(seen, 1000);
    assert_int_equal(slices, 16);
}


/* a store of the schema before ours with a published post: the step
 * puts it on the stats agenda, due at once */
static void
test_migrate_published(void **state)
{
    fx_t            *fx = *state;
    char             err[256], schema[2] = "";
    size_t           n;
    int64_t          next;
    tt_txn_t         t;
    tt_post_t        p;
    tt_platform_t    pl[1];
    tt_stats_due_t   due[4];
    tt_store_conf_t  conf;

    tt_post_init(&p, 1000);
    memcpy(p.id, "p_published", sizeof("p_published"));
    memcpy(p.workspace_id, "ws_a", sizeof("ws_a"));
    memset(pl, 0, sizeof(pl));
    memcpy(pl[0].profile_id, "prof_a", sizeof("prof_a"));
    pl[0].status = TT_PLAT_PUBLISHED;
    pl[0].platform_id = 7077642457847991554LL;
    pl[0].attempted_at = 5000;
    pl[0].attempts = 1;
    pl[0].next_attempt_at = -1;
    pl[0].params.video_cover_timestamp_ms = -1;
    p.platforms = pl;
    p.nplatforms = 1;
    p.status = TT_POST_PROCESSED;
    p.due_at = -1;

    assert_int_equal(tt_txn_begin(fx->st, &t, 1), TT_OK);
    assert_int_equal(tt_post_put(&t, &p), TT_OK);
    memcpy(p.id, "p_draft", sizeof("p_draft"));
    pl[0].status = TT_PLAT_PENDING;
    pl[0].platform_id = 0;
    p.status = TT_POST_DRAFT;
    assert_int_equal(tt_post_put(&t, &p), TT_OK);
    schema[0] = '0' + TT_SCHEMA_OPS_FROM;
    assert_int_equal(tt_meta_put(&t, "schema", schema, 1), TT_OK);
    assert_int_equal(tt_txn_commit(&t), TT_OK);
    tt_store_close(fx->st);

    memset(&conf, 0, sizeof(conf));
    conf.path = fx->dir;
    conf.nosync = 1;
    assert_int_equal(tt_store_open(&conf, &fx->st, err, sizeof(err)), TT_OK);

    assert_int_equal(tt_txn_begin(fx->st, &t, 0), TT_OK);
    assert_int_equal(tt_stats_due_list(&t, 0, 4, due, &n, &next), TT_OK);
    tt_txn_abort(&t);

    assert_int_equal(n, 1);
    assert_string_equal(due[0].post_id, "p_published");
    assert_int_equal(due[0].published_at, 5000);
}


/*
 * sync_later (the nginx workers' store): a commit syncs its pages and
 * leaves the meta page to tt_store_sync(), which the batch calls before
 * it answers; the write is the store's, in this process and the next
 */
static void
test_sync_later(void **state)
{
    int               nosync;
    char              err[256], *dir;
    tt_str_t          v;
    tt_txn_t          t;
    tt_store_t       *st;
    tt_store_conf_t   conf;

    for (nosync = 0; nosync < 2; nosync++) {
        dir = tt_test_mkdtemp();

        memset(&conf, 0, sizeof(conf));
        conf.path = dir;
        conf.sync_later = 1;
        conf.nosync = nosync;
        assert_int_equal(tt_store_open(&conf, &st, err, sizeof(err)), TT_OK);

        assert_int_equal(tt_txn_begin(st, &t, 1), TT_OK);
        assert_int_equal(tt_meta_put(&t, "t_sync", "later", 5), TT_OK);
        assert_int_equal(tt_txn_commit(&t), TT_OK);
        assert_int_equal(tt_store_sync(st), TT_OK);

        /* nothing committed since: nothing to sync */
        assert_int_equal(tt_txn_begin(st, &t, 1), TT_OK);
        assert_int_equal(tt_txn_commit(&t), TT_OK);
        assert_int_equal(tt_store_sync(st), TT_OK);

        assert_int_equal(tt_txn_begin(st, &t, 0), TT_OK);
        assert_int_equal(tt_meta_get(&t, "t_sync", &v), TT_OK);
        assert_int_equal(v.len, 5);
        tt_txn_abort(&t);
        tt_store_close(st);

        memset(&conf, 0, sizeof(conf));
        conf.path = dir;
        assert_int_equal(tt_store_open(&conf, &st, err, sizeof(err)), TT_OK);
        assert_int_equal(tt_txn_begin(st, &t, 0), TT_OK);
        assert_int_equal(tt_meta_get(&t, "t_sync", &v), TT_OK);
        assert_memory_equal(v.data, "later", 5);
        tt_txn_abort(&t);
        tt_store_close(st);

        tt_test_rmdir(dir);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_metrics_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_series, setup, teardown),
        cmocka_unit_test(test_stats_schedule),
        cmocka_unit_test_setup_teardown(test_walk_slices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_published, setup,
                                        teardown),
        cmocka_unit_test(test_sync_later),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
