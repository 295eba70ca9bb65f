/*
 * Copyright (C) the ngx_tiktok authors.
 * The store's queues: records and a group's index, slotting in the
 * writing transaction, re-arrangement, the paused queue's posts out of
 * the agenda, deletion into drafts, next_slot, the queues' summaries,
 * and schema 3's and 7's migrations.
 */

#include "tt_test.h"

#include "tt_store_int.h"


/* Wednesday 2027-03-10 12:00 UTC */
#define T_NOW      1804680000000LL
#define T_HOUR     3600000LL
#define T_DAY      (24 * T_HOUR)
#define T_WED13    (T_NOW + T_HOUR)
#define T_FRI09    (T_NOW + 2 * T_DAY - 3 * T_HOUR)


typedef struct {
    char           *dir;
    tt_store_t     *st;
    tt_arena_t     *a;
    tt_txn_t        t;
    tt_timeslot_t   slots[2];
    tt_queue_t      q;
} t_env_t;


static void
t_open(t_env_t *e)
{
    char             err[256];
    tt_store_conf_t  conf;

    memset(&conf, 0, sizeof(conf));
    conf.path = e->dir;
    conf.nosync = 1;
    conf.map_size = (size_t) 256 << 20;
    assert_int_equal(tt_store_open(&conf, &e->st, err, sizeof(err)), TT_OK);
}


static int
t_setup(void **state)
{
    t_env_t  *e;

    e = calloc(1, sizeof(t_env_t));
    assert_non_null(e);
    e->dir = tt_test_mkdtemp();
    e->a = tt_arena_create(65536);
    assert_non_null(e->a);
    t_open(e);

    /* a UTC queue: Wednesday 13:00 and Friday 09:00 */
    snprintf(e->slots[0].id, sizeof(e->slots[0].id), "%s", "ts_wed");
    e->slots[0].day = 3;
    e->slots[0].minute = 13 * 60;
    snprintf(e->slots[1].id, sizeof(e->slots[1].id), "%s", "ts_fri");
    e->slots[1].day = 5;
    e->slots[1].minute = 9 * 60;

    snprintf(e->q.id, sizeof(e->q.id), "%s", "q_one");
    snprintf(e->q.workspace_id, sizeof(e->q.workspace_id), "%s", "ws_1");
    snprintf(e->q.profile_group_id, TT_ID_SIZE, "%s", "pg_1");
    snprintf(e->q.timezone, sizeof(e->q.timezone), "%s", "UTC");
    e->q.name = "weekly";
    e->q.enabled = 1;
    e->q.created_at = T_NOW - T_DAY;
    e->q.updated_at = e->q.created_at;
    e->q.slots = e->slots;
    e->q.nslots = 2;

    assert_int_equal(tt_txn_begin(e->st, &e->t, 1), TT_OK);
    assert_int_equal(tt_queue_put(&e->t, &e->q), TT_OK);

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


/* a post of the queue, saved as the API does */
static void
t_post(t_env_t *e, tt_post_t *p, const char *id, tt_priority_e prio,
    int64_t created)
{
    tt_post_init(p, created);
    snprintf(p->id, sizeof(p->id), "%s", id);
    snprintf(p->workspace_id, sizeof(p->workspace_id), "%s", "ws_1");
    snprintf(p->profile_group_id, sizeof(p->profile_group_id), "%s", "pg_1");
    snprintf(p->queue_id, sizeof(p->queue_id), "%s", e->q.id);
    p->queue_priority = prio;
    p->updated_at = T_NOW;
    tt_post_settle(p, T_NOW);

    assert_int_equal(tt_queue_post_save(&e->t, p, T_NOW, e->a), TT_OK);
}


static int64_t
t_at(t_env_t *e, const char *id)
{
    tt_post_t  p;

    assert_int_equal(tt_post_get(&e->t, id, e->a, &p), TT_OK);
    return p.scheduled_at;
}


static void
test_records(void **state)
{
    t_env_t     *e = *state;
    size_t       n;
    tt_queue_t   q, other, *list;
    tt_queue_def_t  def;

    assert_int_equal(tt_queue_get(&e->t, "q_one", e->a, &q), TT_OK);
    assert_string_equal(q.name, "weekly");
    assert_string_equal(q.timezone, "UTC");
    assert_null(q.description);
    assert_int_equal(q.nslots, 2);
    assert_string_equal(q.slots[1].id, "ts_fri");
    assert_int_equal(q.slots[1].minute, 540);

    other = e->q;
    snprintf(other.id, sizeof(other.id), "%s", "q_two");
    other.created_at = T_NOW;
    other.description = "second";
    other.enabled = 0;
    assert_int_equal(tt_queue_put(&e->t, &other), TT_OK);
    snprintf(other.id, sizeof(other.id), "%s", "q_else");
    snprintf(other.profile_group_id, TT_ID_SIZE, "%s", "pg_2");
    assert_int_equal(tt_queue_put(&e->t, &other), TT_OK);

    assert_int_equal(tt_queue_list(&e->t, "pg_1", e->a, &list, &n), TT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, "q_one");
    assert_string_equal(list[1].id, "q_two");
    assert_string_equal(list[1].description, "second");
    assert_int_equal(list[1].enabled, 0);
    assert_true(tt_queue_paused(&e->t, "q_two"));
    assert_false(tt_queue_paused(&e->t, "q_one"));

    tt_queue_to_def(&q, &def);
    assert_int_equal(def.nslots, 2);
    assert_int_equal(def.slots[0].day, 3);

    assert_int_equal(tt_queue_get(&e->t, "q_none", e->a, &q), TT_NOTFOUND);
}


static void
test_slotting(void **state)
{
    t_env_t    *e = *state;
    char        id[TT_ID_SIZE];
    int64_t     at, slot;
    uint64_t    n;
    tt_post_t   p[4];

    t_post(e, &p[0], "p_a", TT_PRIORITY_MEDIUM, T_NOW - 3000);
    t_post(e, &p[1], "p_b", TT_PRIORITY_MEDIUM, T_NOW - 2000);
    t_post(e, &p[2], "p_c", TT_PRIORITY_MEDIUM, T_NOW - 1000);

    /* each took the next free slot, set on the post it was given */
    assert_int_equal(p[0].scheduled_at, T_WED13);
    assert_int_equal(p[1].scheduled_at, T_FRI09);
    assert_int_equal(p[2].scheduled_at, T_WED13 + 7 * T_DAY);
    assert_int_equal(p[0].due_at, T_WED13);
    assert_int_equal(tt_queue_count(&e->t, "q_one", &n), TT_OK);
    assert_int_equal(n, 3);

    assert_int_equal(tt_due_first(&e->t, &at, id), TT_OK);
    assert_int_equal(at, T_WED13);
    assert_string_equal(id, "p_a");

    assert_int_equal(tt_queue_next_slot(&e->t, &e->q, T_NOW, &slot), TT_OK);
    assert_int_equal(slot, T_FRI09 + 7 * T_DAY);

    /* a high one goes first, the others one slot later, agenda too */
    t_post(e, &p[3], "p_h", TT_PRIORITY_HIGH, T_NOW);
    assert_int_equal(p[3].scheduled_at, T_WED13);
    assert_int_equal(t_at(e, "p_a"), T_FRI09);
    assert_int_equal(t_at(e, "p_c"), T_FRI09 + 7 * T_DAY);
    assert_int_equal(tt_due_first(&e->t, &at, id), TT_OK);
    assert_string_equal(id, "p_h");

    /* removed: the gap closes */
    assert_int_equal(tt_queue_post_delete(&e->t, "p_h", T_NOW), TT_OK);
    assert_int_equal(t_at(e, "p_a"), T_WED13);
    assert_int_equal(t_at(e, "p_c"), T_WED13 + 7 * T_DAY);

    /* a draft holds no slot: p_b's goes to p_c */
    assert_int_equal(tt_post_get(&e->t, "p_b", e->a, &p[1]), TT_OK);
    p[1].draft = 1;
    tt_post_settle(&p[1], T_NOW);
    assert_int_equal(tt_queue_post_save(&e->t, &p[1], T_NOW, e->a), TT_OK);
    assert_int_equal(t_at(e, "p_c"), T_FRI09);
    assert_int_equal(tt_queue_count(&e->t, "q_one", &n), TT_OK);
    assert_int_equal(n, 2);

    /* started posts never move: p_a claimed, then a high one arrives */
    assert_int_equal(tt_post_get(&e->t, "p_a", e->a, &p[0]), TT_OK);
    p[0].status = TT_POST_PROCESSING;
    assert_int_equal(tt_post_put(&e->t, &p[0]), TT_OK);
    t_post(e, &p[3], "p_h2", TT_PRIORITY_HIGH, T_NOW);
    assert_int_equal(t_at(e, "p_a"), T_WED13);
    assert_int_equal(p[3].scheduled_at, T_FRI09);
    assert_int_equal(t_at(e, "p_c"), T_WED13 + 7 * T_DAY);
    assert_true(tt_queue_has_waiting(&e->t, "q_one"));
}


static void
test_paused(void **state)
{
    t_env_t    *e = *state;
    char        id[TT_ID_SIZE];
    size_t      moved;
    int64_t     at;
    tt_post_t   p[2];

    t_post(e, &p[0], "p_a", TT_PRIORITY_MEDIUM, T_NOW - 2000);
    t_post(e, &p[1], "p_b", TT_PRIORITY_MEDIUM, T_NOW - 1000);

    e->q.enabled = 0;
    assert_int_equal(tt_queue_put(&e->t, &e->q), TT_OK);
    assert_int_equal(tt_queue_pause(&e->t, &e->q), TT_OK);

    /* out of the agenda, and stored with no due time */
    assert_int_equal(tt_due_first(&e->t, &at, id), TT_NOTFOUND);
    assert_int_equal(tt_post_get(&e->t, "p_a", e->a, &p[0]), TT_OK);
    assert_int_equal(p[0].due_at, -1);
    assert_int_equal(p[0].scheduled_at, T_WED13);

    /* a write of the post (as the scheduler's) keeps it out */
    tt_post_settle(&p[0], T_NOW);
    assert_int_equal(tt_post_put(&e->t, &p[0]), TT_OK);
    assert_int_equal(tt_due_first(&e->t, &at, id), TT_NOTFOUND);

    /* enabled after Wednesday's slot: p_a is past due, takes a future
     * slot after p_b's */
    e->q.enabled = 1;
    assert_int_equal(tt_queue_put(&e->t, &e->q), TT_OK);
    assert_int_equal(tt_queue_enable(&e->t, &e->q, T_WED13 + T_HOUR,
                                     &moved), TT_OK);
    assert_int_equal(t_at(e, "p_a"), T_FRI09);
    assert_int_equal(t_at(e, "p_b"), T_WED13 + 7 * T_DAY);
    assert_int_equal(tt_due_first(&e->t, &at, id), TT_OK);
    assert_int_equal(at, T_FRI09);
    assert_string_equal(id, "p_a");
}


static void
test_delete_queue(void **state)
{
    t_env_t    *e = *state;
    char        id[TT_ID_SIZE];
    int64_t     at;
    uint64_t    n;
    tt_post_t   p;
    tt_queue_t  q;

    t_post(e, &p, "p_a", TT_PRIORITY_MEDIUM, T_NOW);
    p.body = "keep me";
    p.body_len = 7;
    assert_int_equal(tt_post_put(&e->t, &p), TT_OK);

    assert_int_equal(tt_queue_del(&e->t, "q_one", T_NOW), TT_OK);
    assert_int_equal(tt_queue_get(&e->t, "q_one", e->a, &q), TT_NOTFOUND);

    assert_int_equal(tt_post_get(&e->t, "p_a", e->a, &p), TT_OK);
    assert_int_equal(p.status, TT_POST_DRAFT);
    assert_string_equal(p.body, "keep me");
    assert_string_equal(p.queue_id, "");
    assert_int_equal(p.scheduled_at, -1);
    assert_int_equal(tt_due_first(&e->t, &at, id), TT_NOTFOUND);
    assert_int_equal(tt_queue_count(&e->t, "q_one", &n), TT_OK);
    assert_int_equal(n, 0);
}


/* schema 3 had no queue index: a store recorded as schema 3 is indexed
 * from its posts when it opens */
static void
test_migrate_2_3(void **state)
{
    t_env_t    *e = *state;
    char        id[TT_ID_SIZE];
    uint64_t    n;
    int64_t     slot;
    tt_str_t    v;
    tt_post_t   p;

    t_post(e, &p, "p_a", TT_PRIORITY_MEDIUM, T_NOW);
    assert_int_equal(tt_queue_post_drop(&e->t, "p_a"), TT_OK);
    assert_int_equal(tt_meta_put(&e->t, "schema", "3", 1), TT_OK);
    assert_int_equal(tt_txn_commit(&e->t), TT_OK);
    tt_store_close(e->st);

    t_open(e);
    assert_int_equal(tt_txn_begin(e->st, &e->t, 1), TT_OK);
    assert_int_equal(tt_meta_get(&e->t, "schema", &v), TT_OK);
    tt_test_schema_is(v.data, v.len, TT_SCHEMA_VERSION);
    assert_int_equal(tt_queue_count(&e->t, "q_one", &n), TT_OK);
    assert_int_equal(n, 1);

    /* at the slot of its time: the next post goes after it */
    assert_int_equal(tt_queue_next_slot(&e->t, &e->q, T_NOW, &slot), TT_OK);
    assert_int_equal(slot, T_FRI09);
    (void) id;
}


/*
 * The queue's summary against its queue_posts, counted here: waiting
 * posts by priority and started ones exactly, the latest creation of
 * each priority bounded; and, if arranged, the queue as a full
 * arrangement leaves it (jitter 0: nothing moves).
 */
static void
t_check(t_env_t *e, const tt_queue_t *q, int arranged)
{
    int              i, rc;
    size_t           moved;
    int64_t          cmax[3];
    uint64_t         waiting[3], started, n;
    MDB_val          key, val;
    tt_qsum_t        s;
    tt_skey_t        k;
    MDB_cursor      *c;
    const uint8_t   *v;
    char             err[256];

    /* the lists' counts, which moves change in one go, as their entries */
    err[0] = '\0';
    if (tt_list_check(&e->t, err, sizeof(err)) != TT_OK) {
        fail_msg("the lists' counts: %s", err);
    }

    memset(waiting, 0, sizeof(waiting));
    memset(cmax, 0, sizeof(cmax));
    started = 0;

    assert_int_equal(tt_store_key(&k, "i", q->id), TT_OK);
    assert_int_equal(tt_db_cursor(&e->t, TT_DB_QUEUE_POSTS, &c), TT_OK);
    key = k.val;

    for (rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
         rc == MDB_SUCCESS && memcmp(key.mv_data, k.data, TT_ID_SIZE) == 0;
         rc = mdb_cursor_get(c, &key, &val, MDB_NEXT))
    {
        v = val.mv_data;

        if (v[17]) {
            started++;
            continue;
        }

        waiting[v[16]]++;
        if ((int64_t) tt_store_be64(v + 8) > cmax[v[16]]) {
            cmax[v[16]] = (int64_t) tt_store_be64(v + 8);
        }
    }

    mdb_cursor_close(c);

    assert_int_equal(tt_qsum_get(&e->t, q->id, &s), TT_OK);

    for (i = 0; i < 3; i++) {
        assert_int_equal(s.waiting[i], waiting[i]);
        assert_true(waiting[i] == 0 || s.created_max[i] >= cmax[i]);
    }

    assert_int_equal(s.started, started);
    assert_int_equal(tt_queue_count(&e->t, q->id, &n), TT_OK);
    assert_int_equal(n, waiting[0] + waiting[1] + waiting[2] + started);
    assert_int_equal(tt_queue_has_waiting(&e->t, q->id),
                     waiting[0] + waiting[1] + waiting[2] != 0);

    if (arranged) {
        assert_int_equal(tt_queue_rearrange(&e->t, q, T_NOW, 0, &moved),
                         TT_OK);
        assert_int_equal(moved, 0);
    }
}


/* the queue's head says what its record says */
static void
t_head(t_env_t *e, const char *id)
{
    tt_queue_t       q;
    tt_queue_def_t   def;
    tt_queue_head_t  h;

    assert_int_equal(tt_queue_get(&e->t, id, e->a, &q), TT_OK);
    assert_int_equal(tt_queue_head(&e->t, id, &h), TT_OK);
    tt_queue_to_def(&q, &def);
    assert_string_equal(h.workspace_id, q.workspace_id);
    assert_string_equal(h.profile_group_id, q.profile_group_id);
    assert_memory_equal(&h.def, &def, sizeof(def));
}


/* every path that changes a queue's posts keeps its summary */
static void
test_summary(void **state)
{
    t_env_t        *e = *state;
    char            id[TT_ID_SIZE];
    size_t          i, moved;
    tt_post_t        p;
    tt_queue_t       q2;
    tt_timeslot_t    one = { "ts_mon", 1, 8 * 60 };
    tt_queue_head_t  h;
    static const tt_priority_e  prios[] = {
        TT_PRIORITY_MEDIUM, TT_PRIORITY_LOW, TT_PRIORITY_HIGH,
        TT_PRIORITY_MEDIUM, TT_PRIORITY_LOW, TT_PRIORITY_LOW
    };

    q2 = e->q;
    snprintf(q2.id, TT_ID_SIZE, "%s", "q_two");
    q2.slots = &one;
    q2.nslots = 1;
    assert_int_equal(tt_queue_put(&e->t, &q2), TT_OK);

    /* creates that go last (one record read) and others that move posts,
     * some created earlier than posts already there */
    for (i = 0; i < 36; i++) {
        snprintf(id, sizeof(id), "p_%02zu", i);
        t_post(e, &p, id, prios[i % 6],
               T_NOW - 100000 + (int64_t) ((i * 7919) % 36) * 1000);
        t_check(e, &e->q, 1);
    }

    /* posts written a moment after others created later (two workers'
     * writes crossing): each goes before those, which move one slot */
    for (i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "p_late%zu", i);
        t_post(e, &p, id, TT_PRIORITY_LOW, T_NOW - 50000 - (int64_t) i * 100);
        t_check(e, &e->q, 1);
    }

    /* a queue out of order (as schema 3's migration may leave it: each
     * post at the slot of its time): a low post before a medium one.  A
     * new medium post must not go last after the medium one alone: the
     * summary knows of the low one, and the queue is arranged */
    tt_post_init(&p, T_NOW - 500000);
    snprintf(p.id, TT_ID_SIZE, "%s", "p_low");
    snprintf(p.workspace_id, TT_ID_SIZE, "%s", "ws_1");
    snprintf(p.profile_group_id, TT_ID_SIZE, "%s", "pg_1");
    snprintf(p.queue_id, TT_ID_SIZE, "%s", q2.id);
    p.queue_priority = TT_PRIORITY_LOW;
    p.scheduled_at = T_NOW + T_DAY;
    tt_post_settle(&p, T_NOW);
    assert_int_equal(tt_post_put_slot(&e->t, &p, p.scheduled_at), TT_OK);
    snprintf(p.id, TT_ID_SIZE, "%s", "p_med");
    p.queue_priority = TT_PRIORITY_MEDIUM;
    p.scheduled_at = T_NOW + 20 * T_DAY;
    tt_post_settle(&p, T_NOW);
    assert_int_equal(tt_post_put_slot(&e->t, &p, p.scheduled_at), TT_OK);
    t_check(e, &q2, 0);

    snprintf(p.id, TT_ID_SIZE, "%s", "p_med2");
    p.created_at = T_NOW;
    p.scheduled_at = -1;
    tt_post_settle(&p, T_NOW);
    assert_int_equal(tt_queue_post_save(&e->t, &p, T_NOW, e->a), TT_OK);
    t_check(e, &q2, 1);
    assert_int_equal(t_at(e, "p_low"), p.scheduled_at + 7 * T_DAY);

    /* claimed by the scheduler, then published: started, then gone */
    assert_int_equal(tt_post_get(&e->t, "p_00", e->a, &p), TT_OK);
    p.status = TT_POST_PROCESSING;
    assert_int_equal(tt_post_put(&e->t, &p), TT_OK);
    t_check(e, &e->q, 1);
    /* (before its slot: the queue closes up at the next change only) */
    p.status = TT_POST_PROCESSED;
    assert_int_equal(tt_post_put(&e->t, &p), TT_OK);
    t_check(e, &e->q, 0);

    /* a priority changed, a draft, another queue, deleted */
    assert_int_equal(tt_post_get(&e->t, "p_01", e->a, &p), TT_OK);
    p.queue_priority = TT_PRIORITY_HIGH;
    assert_int_equal(tt_queue_post_save(&e->t, &p, T_NOW, e->a), TT_OK);
    t_check(e, &e->q, 1);

    assert_int_equal(tt_post_get(&e->t, "p_02", e->a, &p), TT_OK);
    p.draft = 1;
    tt_post_settle(&p, T_NOW);
    assert_int_equal(tt_queue_post_save(&e->t, &p, T_NOW, e->a), TT_OK);
    t_check(e, &e->q, 1);

    assert_int_equal(tt_post_get(&e->t, "p_03", e->a, &p), TT_OK);
    snprintf(p.queue_id, TT_ID_SIZE, "%s", q2.id);
    assert_int_equal(tt_queue_post_save(&e->t, &p, T_NOW, e->a), TT_OK);
    t_check(e, &e->q, 1);
    t_check(e, &q2, 1);

    assert_int_equal(tt_queue_post_delete(&e->t, "p_04", T_NOW), TT_OK);
    t_check(e, &e->q, 1);

    /* paused, enabled again, re-arranged on other slots */
    e->q.enabled = 0;
    assert_int_equal(tt_queue_put(&e->t, &e->q), TT_OK);
    assert_int_equal(tt_queue_pause(&e->t, &e->q), TT_OK);
    t_check(e, &e->q, 1);
    e->q.enabled = 1;
    assert_int_equal(tt_queue_put(&e->t, &e->q), TT_OK);
    assert_int_equal(tt_queue_enable(&e->t, &e->q, T_NOW, &moved), TT_OK);
    t_check(e, &e->q, 1);
    e->q.slots = &one;
    e->q.nslots = 1;
    e->q.jitter = 7;
    snprintf(e->q.timezone, sizeof(e->q.timezone), "%s", "Asia/Tokyo");
    assert_int_equal(tt_queue_put(&e->t, &e->q), TT_OK);
    t_head(e, e->q.id);
    e->q.jitter = 0;
    assert_int_equal(tt_queue_put(&e->t, &e->q), TT_OK);
    t_head(e, e->q.id);
    assert_int_equal(tt_queue_rearrange(&e->t, &e->q, T_NOW, 0, &moved),
                     TT_OK);
    t_check(e, &e->q, 1);

    /* deleted: its waiting posts are drafts, nothing is left to count */
    assert_int_equal(tt_queue_del(&e->t, e->q.id, T_NOW), TT_OK);
    assert_int_equal(tt_queue_head(&e->t, e->q.id, &h), TT_NOTFOUND);
    t_check(e, &e->q, 1);
    t_check(e, &q2, 1);
}


/*
 * A store written by schema 6's code (tests/fixtures/store_v6, made by
 * store_v6.sh): opening it sums up each queue's live posts, and a post
 * slotted after that goes where a full arrangement puts it.
 */
static void
test_migrate_6_7(void **state)
{
    t_env_t     *e = *state;
    char         path[512], buf[65536];
    size_t       n;
    FILE        *in, *out;
    tt_str_t     v;
    tt_post_t    p;
    tt_queue_t   q;
    const char  *ids[] = { "q_fix_a", "q_fix_b" };

    tt_txn_abort(&e->t);
    tt_store_close(e->st);

    snprintf(path, sizeof(path), "%s/data.mdb", e->dir);
    in = fopen("tests/fixtures/store_v6/data.mdb", "rb");
    assert_non_null(in);
    out = fopen(path, "wb");
    assert_non_null(out);

    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
        assert_int_equal(fwrite(buf, 1, n, out), n);
    }

    fclose(in);
    assert_int_equal(fclose(out), 0);

    t_open(e);
    assert_int_equal(tt_txn_begin(e->st, &e->t, 1), TT_OK);
    assert_int_equal(tt_meta_get(&e->t, "schema", &v), TT_OK);
    tt_test_schema_is(v.data, v.len, TT_SCHEMA_VERSION);

    for (n = 0; n < 2; n++) {
        assert_int_equal(tt_queue_get(&e->t, ids[n], e->a, &q), TT_OK);
        t_check(e, &q, 1);
        t_head(e, ids[n]);
    }

    assert_int_equal(tt_queue_count(&e->t, "q_fix_a", &n), TT_OK);
    assert_int_equal(n, 45);
    assert_int_equal(tt_queue_count(&e->t, "q_fix_b", &n), TT_OK);
    assert_int_equal(n, 15);

    /* new posts of each priority join the migrated queue */
    e->q = q;
    t_post(e, &p, "p_new_l", TT_PRIORITY_LOW, T_NOW);
    t_check(e, &q, 1);
    t_post(e, &p, "p_new_h", TT_PRIORITY_HIGH, T_NOW);
    t_check(e, &q, 1);
    assert_int_equal(tt_queue_count(&e->t, "q_fix_b", &n), TT_OK);
    assert_int_equal(n, 17);
}


/* a large re-arrangement: the reference is every post as stored */
#define T_BIG       1200
#define T_EXACT     60
#define T_ALL       (T_BIG + T_EXACT)

static tt_post_t            *t_ref[T_ALL];
static const tt_post_query_t *t_ref_q;


static int
t_ref_cmp(const void *x, const void *y)
{
    const tt_post_t  *a = *(tt_post_t * const *) x;
    const tt_post_t  *b = *(tt_post_t * const *) y;

    if (t_ref_q->after >= 0 || t_ref_q->before >= 0) {
        if (a->scheduled_at != b->scheduled_at) {
            return a->scheduled_at < b->scheduled_at ? -1 : 1;
        }

    } else if (a->created_at != b->created_at) {
        return a->created_at > b->created_at ? -1 : 1;
    }

    return strcmp(a->id, b->id);
}


static int
t_ref_match(const tt_post_t *p, const tt_post_query_t *q)
{
    if ((q->group_id && strcmp(p->profile_group_id, q->group_id) != 0)
        || (q->queue_id && strcmp(p->queue_id, q->queue_id) != 0)
        || !(tt_post_classes(p) & (1u << q->cls)))
    {
        return 0;
    }

    if ((q->after >= 0 || q->before >= 0) && p->scheduled_at < 0) {
        return 0;
    }

    return (q->after < 0 || p->scheduled_at >= q->after)
           && (q->before < 0 || p->scheduled_at < q->before);
}


typedef struct {
    char            ids[100][TT_ID_SIZE];
    size_t          n;
} t_page_t;


static int
t_page_cb(void *ctx, const char *id, const tt_str_t *rec)
{
    t_page_t  *pg = ctx;

    (void) rec;
    assert_true(pg->n < 100);
    memcpy(pg->ids[pg->n++], id, TT_ID_SIZE);

    return 0;
}


/* every page of q, its total and its order, against the reference */
static void
t_list(t_env_t *e, tt_post_query_t *q)
{
    size_t      i, n, k;
    uint64_t    total;
    t_page_t    pg;
    tt_post_t  *ref[T_ALL];

    for (i = 0, n = 0; i < T_ALL; i++) {
        if (t_ref_match(t_ref[i], q)) {
            ref[n++] = t_ref[i];
        }
    }

    t_ref_q = q;
    qsort(ref, n, sizeof(ref[0]), t_ref_cmp);

    for (q->offset = 0; q->offset <= n; q->offset += q->limit) {
        memset(&pg, 0, sizeof(pg));
        assert_int_equal(tt_post_list(&e->t, q, &total, t_page_cb, &pg),
                         TT_OK);
        assert_int_equal(total, n);

        k = n - q->offset < q->limit ? n - q->offset : q->limit;
        assert_int_equal(pg.n, k);

        for (i = 0; i < k; i++) {
            assert_string_equal(pg.ids[i], ref[q->offset + i]->id);
        }
    }
}


static int
t_due_cb(void *ctx, int64_t at, const char *id)
{
    size_t  *n = ctx;
    size_t   i;

    for (i = 0; i < T_ALL; i++) {
        if (strcmp(t_ref[i]->id, id) == 0) {
            assert_int_equal(t_ref[i]->due_at, at);
            (*n)++;
            return 0;
        }
    }

    fail_msg("%s in the agenda is no post of the test", id);
    return 1;
}


/*
 * 1,200 posts of a queue (a few started) and 60 exact-time posts, some
 * at the very times the queue's posts move to; the queue's timezone,
 * timeslots and jitter change, and it is re-arranged in one transaction.
 * Afterwards every post's time (its record, its queue entry, its agenda
 * entry), every list's order and total, by creation and by scheduled_at
 * over ranges that cut the counts' buckets, and the summary are checked.
 */
static void
test_large_rearrange(void **state)
{
    t_env_t         *e = *state;
    char             id[TT_ID_SIZE];
    size_t           i, moved, n;
    int64_t          at, slot;
    MDB_val          key, val;
    tt_post_t        p;
    tt_skey_t        k;
    MDB_cursor      *c;
    tt_timeslot_t    tokyo[3] = {
        { "ts_mon", 1, 9 * 60 }, { "ts_wed", 3, 13 * 60 + 30 },
        { "ts_sat", 6, 18 * 60 }
    };
    unsigned         g, qu, cls, r;
    tt_post_query_t  q;
    static const tt_list_class_e  classes[] = {
        TT_LIST_ANY, TT_LIST_SCHEDULED, TT_LIST_DRAFT
    };
    static const int64_t  ranges[][2] = {
        { -1, -1 },
        { T_NOW + 100 * T_DAY + 1, -1 },
        { -1, T_NOW + 400 * T_DAY + 777 },
        { T_NOW + 33 * T_DAY + 65537, T_NOW + 1500 * T_DAY + 255 },
        { T_NOW + 2 * T_DAY, T_NOW + 2 * T_DAY + 7 * T_HOUR }
    };

    e->q.jitter = 5;
    assert_int_equal(tt_queue_put(&e->t, &e->q), TT_OK);

    for (i = 0; i < T_BIG; i++) {
        snprintf(id, sizeof(id), "p_q%04zu", i);
        /* in the queue's order, so that each goes last */
        t_post(e, &p, id, i < T_BIG / 7 ? TT_PRIORITY_HIGH
                          : i >= T_BIG - T_BIG / 5 ? TT_PRIORITY_LOW
                          : TT_PRIORITY_MEDIUM,
               T_NOW - 10000000 + (int64_t) i * 1000);

        /* the scheduler claimed a few */
        if (i % 400 == 3) {
            p.status = TT_POST_PROCESSING;
            assert_int_equal(tt_post_put(&e->t, &p), TT_OK);
        }
    }

    /* exact times, some where the queue's posts go (Mondays 09:00 in
     * Tokyo: Sunday 00:00 UTC), one a draft */
    for (i = 0; i < T_EXACT; i++) {
        tt_post_init(&p, T_NOW - 5000 + (int64_t) i);
        snprintf(p.id, TT_ID_SIZE, "p_x%04zu", i);
        snprintf(p.workspace_id, TT_ID_SIZE, "%s", "ws_1");
        snprintf(p.profile_group_id, TT_ID_SIZE, "%s", i % 2 ? "pg_1" : "pg_2");
        p.scheduled_at = T_NOW + 4 * T_DAY - 12 * T_HOUR
                         + (int64_t) (i % 20) * 7 * T_DAY
                         + (i % 3 == 0 ? 0 : (int64_t) i * 60000);
        p.draft = (i == 7);
        tt_post_settle(&p, T_NOW);
        assert_int_equal(tt_post_put(&e->t, &p), TT_OK);
    }

    /* another zone, other slots, less jitter: every waiting post moves */
    snprintf(e->q.timezone, sizeof(e->q.timezone), "%s", "Asia/Tokyo");
    e->q.slots = tokyo;
    e->q.nslots = 3;
    e->q.jitter = 2;
    assert_int_equal(tt_queue_put(&e->t, &e->q), TT_OK);
    assert_int_equal(tt_queue_rearrange(&e->t, &e->q, T_NOW, 0, &moved),
                     TT_OK);
    assert_int_equal(moved, T_BIG - 3);

    /* the reference: every post as stored */
    for (i = 0; i < T_ALL; i++) {
        t_ref[i] = tt_arena_alloc(e->a, sizeof(tt_post_t));
        assert_non_null(t_ref[i]);
        snprintf(id, sizeof(id), i < T_BIG ? "p_q%04zu" : "p_x%04zu",
                 i < T_BIG ? i : i - T_BIG);
        assert_int_equal(tt_post_get(&e->t, id, e->a, t_ref[i]), TT_OK);
    }

    /* each queue entry: its post's time, a slot within the jitter, and
     * the waiting posts in (priority, creation) order */
    assert_int_equal(tt_store_key(&k, "i", e->q.id), TT_OK);
    assert_int_equal(tt_db_cursor(&e->t, TT_DB_QUEUE_POSTS, &c), TT_OK);
    key = k.val;
    n = 0;

    for (int rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
         rc == MDB_SUCCESS && memcmp(key.mv_data, k.data, TT_ID_SIZE) == 0;
         rc = mdb_cursor_get(c, &key, &val, MDB_NEXT))
    {
        slot = (int64_t) tt_store_be64((uint8_t *) key.mv_data + TT_ID_SIZE);
        at = (int64_t) tt_store_be64(val.mv_data);
        tt_store_key_id((uint8_t *) key.mv_data + TT_ID_SIZE + 8, id);
        assert_int_equal(tt_post_get(&e->t, id, e->a, &p), TT_OK);
        assert_int_equal(p.scheduled_at, at);
        assert_true(((uint8_t *) val.mv_data)[17]
                    || (at >= slot - 2 * 60000 && at <= slot + 2 * 60000
                        && slot % (30 * 60000) == 0));
        n++;
    }

    mdb_cursor_close(c);
    assert_int_equal(n, T_BIG);

    /* the summary, and a second arrangement moves nothing */
    t_check(e, &e->q, 1);

    /* the agenda: exactly the posts with a due time, at it */
    n = 0;
    assert_int_equal(tt_due_iter(&e->t, INT64_MAX, t_due_cb, &n), TT_OK);
    for (i = 0, moved = 0; i < T_ALL; i++) {
        moved += t_ref[i]->due_at >= 0;
    }
    assert_int_equal(n, moved);

    /* every list */
    for (g = 0; g < 2; g++)
    for (qu = 0; qu < 2; qu++)
    for (cls = 0; cls < TT_ARRAY_SIZE(classes); cls++)
    for (r = 0; r < TT_ARRAY_SIZE(ranges); r++) {
        memset(&q, 0, sizeof(q));
        q.ws_id = "ws_1";
        q.group_id = g ? "pg_1" : NULL;
        q.queue_id = qu ? e->q.id : NULL;
        q.cls = classes[cls];
        q.after = ranges[r][0];
        q.before = ranges[r][1];
        q.limit = 100;
        t_list(e, &q);
    }
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_records, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_slotting, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_paused, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_delete_queue, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_2_3, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_summary, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_6_7, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_large_rearrange, t_setup,
                                        t_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
