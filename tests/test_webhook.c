/*
 * Copyright (C) the ngx_tiktok authors.
 * Webhooks in the store: the signature, the secret sealed, the outbox
 * written by tt_post_put and tt_profile_put in their transaction (one
 * delivery per event and subscribed webhook, none for a put that changed
 * no status), the deliveries' agenda and attempts.
 */

#include "tt_test.h"

#include "tt_store_int.h"
#include "tt_webhook.h"


#define T_NOW      1804680000000LL


typedef struct {
    char           *dir;
    tt_store_t     *st;
    tt_arena_t     *a;
    tt_txn_t        t;
} t_env_t;


static const uint8_t  t_key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };


static int
t_setup(void **state)
{
    char             err[256];
    t_env_t         *e;
    tt_store_conf_t  conf;

    e = calloc(1, sizeof(t_env_t));
    assert_non_null(e);
    e->dir = tt_test_mkdtemp();
    e->a = tt_arena_create(65536);
    assert_non_null(e->a);

    memset(&conf, 0, sizeof(conf));
    conf.path = e->dir;
    conf.nosync = 1;
    conf.token_key = t_key;
    assert_int_equal(tt_store_open(&conf, &e->st, err, sizeof(err)), TT_OK);
    assert_int_equal(tt_txn_begin(e->st, &e->t, 1), TT_OK);

    *state = e;
    return 0;
}


static int
t_teardown(void **state)
{
    t_env_t  *e = *state;

    tt_txn_abort(&e->t);
    tt_store_close(e->st);
    tt_arena_destroy(e->a);
    tt_test_rmdir(e->dir);
    free(e);

    return 0;
}


static void
t_hook(t_env_t *e, const char *id, const char *ws, unsigned events, int all,
    int enabled)
{
    char          secret[TT_WEBHOOK_SECRET_LEN + 1];
    tt_webhook_t  wh;

    memset(&wh, 0, sizeof(wh));
    snprintf(wh.id, sizeof(wh.id), "%s", id);
    snprintf(wh.workspace_id, sizeof(wh.workspace_id), "%s", ws);
    wh.url = "https://example.com/hook";
    wh.events = events;
    wh.all = all;
    wh.enabled = enabled;
    wh.created_at = T_NOW;
    wh.updated_at = T_NOW;
    assert_int_equal(tt_webhook_secret_new(secret), TT_OK);
    wh.secret = secret;
    assert_int_equal(tt_webhook_put(&e->t, &wh), TT_OK);
}


typedef struct {
    t_env_t        *e;
    tt_delivery_t   d[32];
    size_t          n;
} t_due_t;


static int
t_due_one(void *ctx, int64_t at, const char *id)
{
    t_due_t  *c = ctx;

    assert_true(c->n < 32);
    assert_int_equal(tt_delivery_get(&c->e->t, id, c->e->a, &c->d[c->n]),
                     TT_OK);
    assert_int_equal(c->d[c->n].next_at, at);
    c->n++;

    return 0;
}


/* the deliveries due by until, in *c */
static void
t_due(t_env_t *e, t_due_t *c, int64_t until)
{
    memset(c, 0, sizeof(t_due_t));
    c->e = e;
    assert_int_equal(tt_delivery_due(&e->t, until, t_due_one, c), TT_OK);
}


static size_t
t_count(t_due_t *c, const char *hook, tt_event_e type)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < c->n; i++) {
        n += strcmp(c->d[i].webhook_id, hook) == 0 && c->d[i].type == type;
    }

    return n;
}


static void
test_sign(void **state)
{
    char  hex[65];

    /* python3: hmac.new(b"whsec_test", b'1700000000.{"a":1}', sha256) */
    assert_int_equal(tt_webhook_sign("whsec_test", 10, 1700000000,
                                     "{\"a\":1}", 7, hex), TT_OK);
    assert_string_equal(hex, "38877139021993b830af32feea6e18a8"
                             "da83eb2f6e49ee50bd9e4cf4ca4d3789");

    /* the time is signed: another t, another v1 */
    assert_int_equal(tt_webhook_sign("whsec_test", 10, 1700000001,
                                     "{\"a\":1}", 7, hex), TT_OK);
    assert_string_not_equal(hex, "38877139021993b830af32feea6e18a8"
                                 "da83eb2f6e49ee50bd9e4cf4ca4d3789");
}


static void
test_secret_sealed(void **state)
{
    t_env_t       *e = *state;
    char           secret[TT_WEBHOOK_SECRET_LEN + 1];
    MDB_val        v;
    tt_skey_t      k;
    const char    *plain;
    tt_webhook_t   wh, got;

    memset(&wh, 0, sizeof(wh));
    snprintf(wh.id, sizeof(wh.id), "%s", "wh_s");
    snprintf(wh.workspace_id, sizeof(wh.workspace_id), "%s", "ws_1");
    wh.url = "https://example.com/";
    wh.all = 1;
    wh.created_at = T_NOW;
    assert_int_equal(tt_webhook_secret_new(secret), TT_OK);
    assert_int_equal(strlen(secret), TT_WEBHOOK_SECRET_LEN);
    assert_memory_equal(secret, "whsec_", 6);
    wh.secret = secret;
    assert_int_equal(tt_webhook_put(&e->t, &wh), TT_OK);

    tt_store_key(&k, "i", "wh_s");
    assert_int_equal(tt_db_get(&e->t, TT_DB_WEBHOOKS, &k, &v), TT_OK);
    assert_null(memmem(v.mv_data, v.mv_size, secret + 6, 64));

    assert_int_equal(tt_webhook_get(&e->t, "wh_s", e->a, &got), TT_OK);
    assert_null(got.secret);
    assert_int_equal(tt_webhook_secret(e->st, &got, e->a, &plain), TT_OK);
    assert_string_equal(plain, secret);

    /* a PATCH keeps it */
    got.url = "https://example.org/";
    assert_int_equal(tt_webhook_put(&e->t, &got), TT_OK);
    assert_int_equal(tt_webhook_get(&e->t, "wh_s", e->a, &got), TT_OK);
    assert_int_equal(tt_webhook_secret(e->st, &got, e->a, &plain), TT_OK);
    assert_string_equal(plain, secret);

    /* no key, no webhook: never in the clear */
    tt_store_set_token_key(e->st, NULL);
    wh.secret = secret;
    snprintf(wh.id, sizeof(wh.id), "%s", "wh_t");
    assert_int_equal(tt_webhook_put(&e->t, &wh), TT_INVALID);
}


static void
t_post_make(t_env_t *e, tt_post_t *p)
{
    tt_post_init(p, T_NOW);
    snprintf(p->id, sizeof(p->id), "%s", "p_1");
    snprintf(p->workspace_id, sizeof(p->workspace_id), "%s", "ws_1");
    snprintf(p->profile_group_id, sizeof(p->profile_group_id), "%s", "pg_1");

    p->platforms = tt_arena_calloc(e->a, sizeof(tt_platform_t));
    p->nplatforms = 1;
    snprintf(p->platforms[0].profile_id, TT_ID_SIZE, "%s", "prof_1");
    p->platforms[0].status = TT_PLAT_PENDING;
    p->platforms[0].attempted_at = -1;
    p->platforms[0].next_attempt_at = -1;
    p->platforms[0].upload_expires_at = -1;

    p->media = tt_arena_calloc(e->a, sizeof(tt_media_t));
    p->nmedia = 1;
    snprintf(p->media[0].id, TT_ID_SIZE, "%s", "m_1");
    p->media[0].status = TT_MEDIA_PROCESSED;
    p->media[0].source_url = "https://example.com/v.mp4";
    p->media[0].size = -1;
    p->media[0].frame_rate = -1;
    p->status = TT_POST_SCHEDULED;
    p->scheduled_at = T_NOW;
    p->due_at = T_NOW;
}


static void
test_outbox_post(void **state)
{
    t_env_t    *e = *state;
    t_due_t     c;
    uint64_t    n;
    tt_post_t   p;

    t_hook(e, "wh_all", "ws_1", 0, 1, 1);
    t_hook(e, "wh_proc", "ws_1", 1u << TT_EVT_POST_PROCESSED, 0, 1);
    t_hook(e, "wh_off", "ws_1", 0, 1, 0);
    t_hook(e, "wh_other", "ws_2", 0, 1, 1);

    t_post_make(e, &p);
    assert_int_equal(tt_post_put(&e->t, &p), TT_OK);
    t_due(e, &c, INT64_MAX);
    assert_int_equal(c.n, 0);

    /* no status that is an event: no statuses kept (a page less) */
    assert_int_equal(tt_store_entries(&e->t, TT_DB_POST_SIG, &n), TT_OK);
    assert_int_equal(n, 0);

    /* failed, waiting for a retry: one event, to the webhook of "*" */
    p.status = TT_POST_PROCESSING;
    p.platforms[0].status = TT_PLAT_RETRY;
    assert_int_equal(tt_post_put(&e->t, &p), TT_OK);
    t_due(e, &c, INT64_MAX);
    assert_int_equal(c.n, 1);
    assert_int_equal(t_count(&c, "wh_all", TT_EVT_PLAT_RETRY), 1);
    assert_non_null(strstr(c.d[0].body.data,
                           "\"type\":\"platform_post.failed_waiting_for_"
                           "retry\""));
    assert_non_null(strstr(c.d[0].body.data, "\"profile_id\":\"prof_1\""));
    assert_int_equal(tt_store_entries(&e->t, TT_DB_POST_SIG, &n), TT_OK);
    assert_int_equal(n, 1);

    /* the same statuses again (a chunk's progress): nothing more */
    p.platforms[0].bytes_sent = 5;
    assert_int_equal(tt_post_put(&e->t, &p), TT_OK);
    t_due(e, &c, INT64_MAX);
    assert_int_equal(c.n, 1);

    /* published and processed: two events, one of them to wh_proc too */
    p.status = TT_POST_PROCESSED;
    p.platforms[0].status = TT_PLAT_PUBLISHED;
    assert_int_equal(tt_post_put(&e->t, &p), TT_OK);
    t_due(e, &c, INT64_MAX);
    assert_int_equal(c.n, 4);
    assert_int_equal(t_count(&c, "wh_all", TT_EVT_PLAT_PUBLISHED), 1);
    assert_int_equal(t_count(&c, "wh_all", TT_EVT_POST_PROCESSED), 1);
    assert_int_equal(t_count(&c, "wh_proc", TT_EVT_POST_PROCESSED), 1);
    assert_int_equal(t_count(&c, "wh_proc", TT_EVT_PLAT_PUBLISHED), 0);
    assert_int_equal(t_count(&c, "wh_off", TT_EVT_POST_PROCESSED), 0);
    assert_int_equal(t_count(&c, "wh_other", TT_EVT_POST_PROCESSED), 0);

    /* the same event to two webhooks is one event: the same id */
    {
        size_t  i, j;

        for (i = 0; i < c.n; i++) {
            for (j = 0; j < c.n; j++) {
                if (c.d[i].type == TT_EVT_POST_PROCESSED
                    && c.d[j].type == TT_EVT_POST_PROCESSED)
                {
                    assert_string_equal(c.d[i].event_id, c.d[j].event_id);
                    assert_int_equal(c.d[i].body.len, c.d[j].body.len);
                }
            }
        }
    }

    /* a nested transaction that aborts takes its events with it */
    {
        tt_txn_t  child;

        assert_int_equal(tt_txn_begin_nested(&e->t, &child), TT_OK);
        p.media[0].status = TT_MEDIA_FAILED;
        assert_int_equal(tt_post_put(&child, &p), TT_OK);
        tt_txn_abort(&child);
        t_due(e, &c, INT64_MAX);
        assert_int_equal(c.n, 4);
    }

    /* deleted, then made again: its statuses are new again (the media
     * failed in p as the aborted child left it: that one too) */
    assert_int_equal(tt_post_del(&e->t, "p_1"), TT_OK);
    assert_int_equal(tt_post_put(&e->t, &p), TT_OK);
    t_due(e, &c, INT64_MAX);
    assert_int_equal(c.n, 8);
    assert_int_equal(t_count(&c, "wh_all", TT_EVT_MEDIA_FAILED), 1);
}


static void
test_delivery_done(void **state)
{
    t_env_t       *e = *state;
    size_t         n;
    int64_t        at;
    uint64_t       total;
    char           id[TT_ID_SIZE];
    t_due_t        c;
    tt_post_t      p;
    tt_attempt_t   a, *list;

    t_hook(e, "wh_all", "ws_1", 0, 1, 1);
    t_post_make(e, &p);
    p.status = TT_POST_PROCESSED;
    p.platforms[0].status = TT_PLAT_FAILED;
    assert_int_equal(tt_post_put(&e->t, &p), TT_OK);

    t_due(e, &c, INT64_MAX);
    assert_int_equal(c.n, 2);

    /* the first fails: due again later, its attempt listed */
    memset(&a, 0, sizeof(a));
    memcpy(a.delivery_id, c.d[0].id, TT_ID_SIZE);
    memcpy(a.event_id, c.d[0].event_id, TT_ID_SIZE);
    a.type = c.d[0].type;
    a.attempt_number = 1;
    a.attempted_at = c.d[0].next_at;
    a.next_attempt_at = c.d[0].next_at + 5000;
    a.response_status = 500;
    a.status = TT_ATTEMPT_RETRYING;
    a.error = "answered 500";
    assert_int_equal(tt_delivery_done(&e->t, &c.d[0], &a), TT_OK);

    assert_int_equal(tt_delivery_first(&e->t, &at, id), TT_OK);
    assert_string_equal(id, c.d[1].id);
    t_due(e, &c, a.next_attempt_at);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.d[1].attempts, 1);
    assert_int_equal(c.d[1].next_at, a.next_attempt_at);

    /* delivered: out of the outbox */
    a.attempt_number = 2;
    a.attempted_at = a.next_attempt_at;
    a.next_attempt_at = -1;
    a.response_status = 200;
    a.status = TT_ATTEMPT_DELIVERED;
    a.error = NULL;
    assert_int_equal(tt_delivery_done(&e->t, &c.d[1], &a), TT_OK);
    t_due(e, &c, INT64_MAX);
    assert_int_equal(c.n, 1);

    assert_int_equal(tt_attempt_list(&e->t, "wh_all", 0, 10, e->a, &list,
                                     &n, &total), TT_OK);
    assert_int_equal(total, 2);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].status, TT_ATTEMPT_DELIVERED);   /* newest */
    assert_int_equal(list[0].attempt_number, 2);
    assert_int_equal(list[1].status, TT_ATTEMPT_RETRYING);
    assert_int_equal(list[1].response_status, 500);
    assert_string_equal(list[1].error, "answered 500");

    /* deleted: its attempts go, a late result adds none */
    assert_int_equal(tt_webhook_del(&e->t, "wh_all"), TT_OK);
    assert_int_equal(tt_attempt_list(&e->t, "wh_all", 0, 10, e->a, &list,
                                     &n, &total), TT_OK);
    assert_int_equal(total, 0);
    a.status = TT_ATTEMPT_DROPPED;
    assert_int_equal(tt_delivery_done(&e->t, &c.d[0], &a), TT_OK);
    assert_int_equal(tt_attempt_list(&e->t, "wh_all", 0, 10, e->a, &list,
                                     &n, &total), TT_OK);
    assert_int_equal(total, 0);
    t_due(e, &c, INT64_MAX);
    assert_int_equal(c.n, 0);
}


static void
test_outbox_profile(void **state)
{
    t_env_t       *e = *state;
    size_t         i;
    t_due_t        c;
    tt_profile_t   p;

    t_hook(e, "wh_all", "ws_1", 0, 1, 1);

    memset(&p, 0, sizeof(p));
    snprintf(p.id, sizeof(p.id), "%s", "prof_1");
    snprintf(p.workspace_id, sizeof(p.workspace_id), "%s", "ws_1");
    snprintf(p.profile_group_id, sizeof(p.profile_group_id), "%s", "pg_1");
    p.platform = "tiktok";
    p.username = "creator";
    p.open_id = "open-1";
    p.status = TT_PROFILE_ACTIVE;
    p.created_at = T_NOW;
    p.access_token = "act.secret";
    p.refresh_token = "rft.secret";

    assert_int_equal(tt_profile_put(&e->t, &p), TT_OK);
    p.expires_at = T_NOW + 1000;
    assert_int_equal(tt_profile_put(&e->t, &p), TT_OK);
    p.status = TT_PROFILE_EXPIRED;
    assert_int_equal(tt_profile_put(&e->t, &p), TT_OK);
    assert_int_equal(tt_profile_del(&e->t, "prof_1"), TT_OK);

    t_due(e, &c, INT64_MAX);
    assert_int_equal(c.n, 3);
    assert_int_equal(t_count(&c, "wh_all", TT_EVT_PROFILE_CONNECTED), 1);
    assert_int_equal(t_count(&c, "wh_all", TT_EVT_PROFILE_EXPIRED), 1);
    assert_int_equal(t_count(&c, "wh_all", TT_EVT_PROFILE_DISCONNECTED), 1);

    /* never a token in an event */
    for (i = 0; i < c.n; i++) {
        assert_null(strstr(c.d[i].body.data, "secret"));
        assert_non_null(strstr(c.d[i].body.data, "\"username\":\"creator\""));
    }
}


/* the migration step: every post's statuses, and no event for them */
static void
test_reindex(void **state)
{
    t_env_t    *e = *state;
    t_due_t     c;
    tt_skey_t   k;
    tt_post_t   p;

    t_post_make(e, &p);
    p.status = TT_POST_PROCESSED;
    p.platforms[0].status = TT_PLAT_PUBLISHED;
    assert_int_equal(tt_post_put(&e->t, &p), TT_OK);

    /* a store from before webhooks: no statuses kept */
    tt_store_key(&k, "i", "p_1");
    assert_int_equal(tt_db_del(&e->t, TT_DB_POST_SIG, &k), TT_OK);
    assert_int_equal(tt_event_post_reindex(&e->t), TT_OK);

    t_hook(e, "wh_all", "ws_1", 0, 1, 1);
    p.platforms[0].bytes_sent = 1;
    assert_int_equal(tt_post_put(&e->t, &p), TT_OK);
    t_due(e, &c, INT64_MAX);
    assert_int_equal(c.n, 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_sign),
        cmocka_unit_test_setup_teardown(test_secret_sealed, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_outbox_post, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_delivery_done, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_outbox_profile, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_reindex, t_setup, t_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
