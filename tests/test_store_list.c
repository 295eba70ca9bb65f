/*
 * Copyright (C) the ngx_tiktok authors.
 * The lists of GET /api/posts and their counts: stores of schema 1 and 2
 * (tests/fixtures/store_v1 and store_v2, written by those schemas' code)
 * migrate on open, and every list, page and total then equals what
 * schema 1's walk of every post found; writes that move posts keep them
 * so.  Schema 3's API key indexes are built from schema 2's keys.
 */

#include "tt_test.h"

#include <stdint.h>

#include "tt_store.h"
#include "tt_store_int.h"
#include "tt_store_list_int.h"
#include "fixtures/store_v1_posts.h"
#include "fixtures/store_v2_keys.h"
#include "fixtures/store_v8_posts.h"


#define T_FIXTURE     "tests/fixtures/store_v1/data.mdb"
#define T_FIXTURE_V2  "tests/fixtures/store_v2/data.mdb"
#define T_FIXTURE_V8  "tests/fixtures/store_v8/data.mdb"
#define T_MAXP     (GEN_POSTS + 8)


typedef struct {
    char           *dir;
    tt_store_t     *st;
    tt_arena_t     *a;
    tt_post_t       posts[T_MAXP];          /* what the store should hold */
    tt_platform_t   plats[T_MAXP];
    int             live[T_MAXP];
} t_env_t;


typedef struct {
    char            ids[100][TT_ID_SIZE];
    size_t          n;
} t_page_t;


static void
t_copy(const char *from, const char *dir)
{
    char    path[512], buf[65536];
    FILE   *in, *out;
    size_t  n;

    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    in = fopen(from, "rb");
    assert_non_null(in);
    out = fopen(path, "wb");
    assert_non_null(out);

    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
        assert_int_equal(fwrite(buf, 1, n, out), n);
    }

    fclose(in);
    assert_int_equal(fclose(out), 0);
}


static int
t_setup_from(void **state, const char *fixture)
{
    char             err[256];
    unsigned         i;
    t_env_t         *e;
    tt_store_conf_t  conf;

    e = calloc(1, sizeof(t_env_t));
    assert_non_null(e);
    e->dir = tt_test_mkdtemp();
    e->a = tt_arena_create(65536);
    assert_non_null(e->a);

    t_copy(fixture, e->dir);

    memset(&conf, 0, sizeof(conf));
    conf.path = e->dir;
    conf.map_size = 256 * 1024 * 1024;
    conf.nosync = 1;
    err[0] = '\0';
    assert_int_equal(tt_store_open(&conf, &e->st, err, sizeof(err)), TT_OK);

    for (i = 0; i < GEN_POSTS; i++) {
        gen_post(&e->posts[i], &e->plats[i], i);
        e->live[i] = 1;
    }

    *state = e;
    return 0;
}


static int
t_setup(void **state)
{
    return t_setup_from(state, T_FIXTURE);
}


static int
t_setup_v2(void **state)
{
    return t_setup_from(state, T_FIXTURE_V2);
}


static int
t_setup_v8(void **state)
{
    return t_setup_from(state, T_FIXTURE_V8);
}


static int
t_teardown(void **state)
{
    t_env_t  *e = *state;

    tt_store_close(e->st);
    tt_arena_destroy(e->a);
    tt_test_rmdir(e->dir);
    free(e);

    return 0;
}


/* schema 1's verdict on a post (tt_api_list.c's before the lists) */
static int
t_match(const tt_post_t *p, const tt_post_query_t *q)
{
    size_t  i;
    int     pub, fail;

    if (strcmp(p->workspace_id, q->ws_id) != 0
        || (q->group_id && strcmp(p->profile_group_id, q->group_id) != 0)
        || (q->queue_id && strcmp(p->queue_id, q->queue_id) != 0))
    {
        return 0;
    }

    if ((q->after >= 0 || q->before >= 0) && p->scheduled_at < 0) {
        return 0;
    }

    if ((q->after >= 0 && p->scheduled_at < q->after)
        || (q->before >= 0 && p->scheduled_at >= q->before))
    {
        return 0;
    }

    pub = 0;
    fail = 0;

    for (i = 0; i < p->nplatforms; i++) {
        pub |= (p->platforms[i].status == TT_PLAT_PUBLISHED);
        fail |= (p->platforms[i].status == TT_PLAT_FAILED);
    }

    switch (q->cls) {
    case TT_LIST_DRAFT:
        return p->status == TT_POST_DRAFT;
    case TT_LIST_SCHEDULED:
        return p->status == TT_POST_PENDING
               || p->status == TT_POST_SCHEDULED;
    case TT_LIST_PUBLISHED:
        return p->status == TT_POST_PROCESSED && pub;
    case TT_LIST_FAILED:
        return p->status == TT_POST_MEDIA_FAILED
               || ((p->status == TT_POST_PROCESSED
                    || p->status == TT_POST_PROCESSING) && fail);
    default:
        return 1;
    }
}


/* newest created first; with a time filter earliest scheduled first */
static const tt_post_query_t  *t_order_q;

static int
t_order(const void *x, const void *y)
{
    const tt_post_t  *a = *(tt_post_t * const *) x;
    const tt_post_t  *b = *(tt_post_t * const *) y;

    if (t_order_q->after >= 0 || t_order_q->before >= 0) {
        if (a->scheduled_at != b->scheduled_at) {
            return a->scheduled_at < b->scheduled_at ? -1 : 1;
        }

    } else if (a->created_at != b->created_at) {
        return a->created_at > b->created_at ? -1 : 1;
    }

    return strcmp(a->id, b->id);
}


static int
t_page_cb(void *ctx, const char *id, const tt_str_t *rec)
{
    t_page_t  *pg = ctx;

    (void) rec;
    assert_true(pg->n < 100);
    memcpy(pg->ids[pg->n++], id, TT_ID_SIZE);

    return 0;
}


static void t_check_in(t_env_t *e, tt_post_query_t *q, tt_txn_t *in);


/* every page of q against the reference */
static void
t_check(t_env_t *e, tt_post_query_t *q)
{
    t_check_in(e, q, NULL);
}


/* the same in the transaction in, or in a read transaction of its own */
static void
t_check_in(t_env_t *e, tt_post_query_t *q, tt_txn_t *in)
{
    size_t       i, n, k;
    uint64_t     total;
    tt_txn_t     t;
    t_page_t     pg;
    tt_post_t   *ref[T_MAXP];

    for (i = 0, n = 0; i < T_MAXP; i++) {
        if (e->live[i] && t_match(&e->posts[i], q)) {
            ref[n++] = &e->posts[i];
        }
    }

    t_order_q = q;
    qsort(ref, n, sizeof(ref[0]), t_order);

    if (in == NULL) {
        assert_int_equal(tt_txn_begin(e->st, &t, 0), TT_OK);
    }

    for (q->offset = 0; q->offset <= n; q->offset += q->limit) {
        memset(&pg, 0, sizeof(pg));
        assert_int_equal(tt_post_list(in ? in : &t, q, &total, t_page_cb,
                                      &pg), TT_OK);
        assert_int_equal(total, n);

        k = n - q->offset < q->limit ? n - q->offset : q->limit;
        assert_int_equal(pg.n, k);

        for (i = 0; i < k; i++) {
            assert_string_equal(pg.ids[i], ref[q->offset + i]->id);
        }
    }

    if (in == NULL) {
        tt_txn_abort(&t);
    }
}


/* every count of the lists against their entries */
static void
t_counts_in(t_env_t *e, tt_txn_t *in)
{
    char      err[256];
    tt_txn_t  t;

    err[0] = '\0';

    if (in == NULL) {
        assert_int_equal(tt_txn_begin(e->st, &t, 0), TT_OK);
    }

    if (tt_list_check(in ? in : &t, err, sizeof(err)) != TT_OK) {
        fail_msg("the lists' counts: %s", err);
    }

    if (in == NULL) {
        tt_txn_abort(&t);
    }
}


/* how many cells of a level the lists keep counts of */
static size_t
t_cells_at(t_env_t *e, int level)
{
    int          op;
    size_t       n;
    MDB_val      key;
    tt_txn_t     t;
    MDB_cursor  *c;

    assert_int_equal(tt_txn_begin(e->st, &t, 0), TT_OK);
    assert_int_equal(tt_db_cursor(&t, TT_DB_POST_COUNTS, &c), TT_OK);

    for (n = 0, op = MDB_FIRST;
         mdb_cursor_get(c, &key, NULL, op) == MDB_SUCCESS;
         op = MDB_NEXT)
    {
        if (key.mv_size == tt_list_count_len(level)
            && ((uint8_t *) key.mv_data)[TT_LIST_PREFIX] == level)
        {
            n++;
        }
    }

    mdb_cursor_close(c);
    tt_txn_abort(&t);

    return n;
}


/* every filter the API has, in every combination, at three page sizes */
static void
t_check_all(t_env_t *e)
{
    unsigned          w, g, qu, c, tm, l;
    tt_post_query_t   q;

    t_counts_in(e, NULL);

    static const char      *groups[] = { NULL, "pg_fix_1", "pg_fix_2",
                                         "pg_fix_3" };
    static const char      *queues[] = { NULL, "q_fix_1", "q_fix_5",
                                         "q_none" };
    static const uint64_t   limits[] = { 1, 7, 100 };
    static const int64_t    times[][2] = {
        { -1, -1 },
        { 1790000000000LL + 30 * 3600000, -1 },
        { -1, 1790000000000LL + 60 * 3600000 + 1 },
        { 1790000000000LL + 10 * 3600000, 1790000000000LL + 90 * 3600000 }
    };

    for (w = 0; w < 2; w++)
    for (g = 0; g < 4; g++)
    for (qu = 0; qu < 4; qu++)
    for (c = 0; c < TT_LIST_CLASSES; c++)
    for (tm = 0; tm < 4; tm++)
    for (l = 0; l < 3; l++) {
        memset(&q, 0, sizeof(q));
        q.ws_id = gen_ws[w];
        q.group_id = groups[g];
        q.queue_id = queues[qu];
        q.cls = (tt_list_class_e) c;
        q.after = times[tm][0];
        q.before = times[tm][1];
        q.limit = limits[l];
        t_check(e, &q);
    }
}


static void
test_migrated(void **state)
{
    t_env_t   *e = *state;
    unsigned   i;
    tt_txn_t   t;
    tt_str_t   v;
    tt_post_t  got;

    assert_int_equal(tt_txn_begin(e->st, &t, 0), TT_OK);
    assert_int_equal(tt_meta_get(&t, "schema", &v), TT_OK);
    tt_test_schema_is(v.data, v.len, TT_SCHEMA_VERSION);

    for (i = 0; i < GEN_POSTS; i++) {
        assert_int_equal(tt_post_get(&t, e->posts[i].id, e->a, &got), TT_OK);
        assert_int_equal(got.status, e->posts[i].status);
        assert_int_equal(got.created_at, e->posts[i].created_at);
        assert_int_equal(got.scheduled_at, e->posts[i].scheduled_at);
        assert_string_equal(got.queue_id, e->posts[i].queue_id);
    }

    tt_txn_abort(&t);

    t_check_all(e);
}


/* schema 2's keys found through schema 3's indexes, which writes keep */
static void
test_keys_v2(void **state)
{
    t_env_t       *e = *state;
    size_t         i, n;
    uint8_t        hash[32];
    tt_txn_t       t;
    tt_apikey_t    k, *list;

    assert_int_equal(tt_txn_begin(e->st, &t, 1), TT_OK);

    assert_int_equal(tt_apikey_list(&t, "ws_fix_a", e->a, &list, &n), TT_OK);
    assert_int_equal(n, 4);

    /* in hash order: keys 6, 4, 2, 0 */
    for (i = 0; i < n; i++) {
        gen_key(&k, hash, 6 - 2 * (unsigned) i);
        assert_string_equal(list[i].id, k.id);
        assert_string_equal(list[i].workspace_id, "ws_fix_a");
        assert_string_equal(list[i].profile_group_id, k.profile_group_id);
        assert_string_equal(list[i].hint, k.hint);
        assert_int_equal(list[i].revoked_at, -1);
    }

    assert_int_equal(tt_apikey_list(&t, "ws_fix_b", e->a, &list, &n), TT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(tt_apikey_list(&t, "ws_none", e->a, &list, &n), TT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(tt_apikey_list(&t, NULL, e->a, &list, &n), TT_OK);
    assert_int_equal(n, GEN_KEYS);

    /* revoked by id; a revoked key keeps its time */
    assert_int_equal(tt_apikey_revoke(&t, "key_fix_2", 9000), TT_OK);
    assert_int_equal(tt_apikey_revoke(&t, "key_fix_3", 9000), TT_OK);
    assert_int_equal(tt_apikey_revoke(&t, "key_fix_9", 9000), TT_NOTFOUND);

    gen_key(&k, hash, 2);
    assert_int_equal(tt_apikey_get(&t, hash, e->a, &k), TT_OK);
    assert_int_equal(k.revoked_at, 9000);
    gen_key(&k, hash, 3);
    assert_int_equal(tt_apikey_get(&t, hash, e->a, &k), TT_OK);
    assert_int_equal(k.revoked_at, 5000);

    /* a key put again in another workspace leaves the first one's list */
    gen_key(&k, hash, 0);
    snprintf(k.workspace_id, TT_ID_SIZE, "ws_fix_b");
    assert_int_equal(tt_apikey_put(&t, hash, &k), TT_OK);
    assert_int_equal(tt_apikey_list(&t, "ws_fix_a", e->a, &list, &n), TT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(tt_apikey_list(&t, "ws_fix_b", e->a, &list, &n), TT_OK);
    assert_int_equal(n, 4);
    assert_int_equal(tt_apikey_revoke(&t, "key_fix_0", 9500), TT_OK);
    assert_int_equal(tt_apikey_get(&t, hash, e->a, &k), TT_OK);
    assert_int_equal(k.revoked_at, 9500);

    assert_int_equal(tt_txn_commit(&t), TT_OK);
}


/* posts that change status, time, queue and group, or go, move lists */
static void
test_moves(void **state)
{
    t_env_t   *e = *state;
    unsigned   i;
    tt_txn_t   t;

    assert_int_equal(tt_txn_begin(e->st, &t, 1), TT_OK);

    for (i = 0; i < GEN_POSTS; i += 3) {
        tt_post_t  *p = &e->posts[i];

        if (i % 9 == 0) {
            assert_int_equal(tt_post_del(&t, p->id), TT_OK);
            e->live[i] = 0;
            continue;
        }

        p->status = (tt_post_status_e) ((p->status + 1) % 6);
        p->platforms[0].status = (tt_plat_status_e) (i % 5);
        p->scheduled_at = (i % 2) ? -1 : p->scheduled_at + 7 * 3600000;
        snprintf(p->queue_id, TT_ID_SIZE, "%s", (i % 4) ? "q_fix_5" : "");

        if (strcmp(p->workspace_id, "ws_fix_a") == 0) {
            snprintf(p->profile_group_id, TT_ID_SIZE, "%s",
                     (i % 2) ? "pg_fix_1" : "pg_fix_2");
        }

        assert_int_equal(tt_post_put(&t, p), TT_OK);
        /* a second put with nothing changed leaves the counts as they are */
        assert_int_equal(tt_post_put(&t, p), TT_OK);
    }

    /* a new post, created at the same time as another */
    gen_post(&e->posts[GEN_POSTS], &e->plats[GEN_POSTS], 4);
    snprintf(e->posts[GEN_POSTS].id, TT_ID_SIZE, "p_fix_new");
    e->live[GEN_POSTS] = 1;
    assert_int_equal(tt_post_put(&t, &e->posts[GEN_POSTS]), TT_OK);

    assert_int_equal(tt_txn_commit(&t), TT_OK);

    t_check_all(e);
}


/* a few lists read inside a write transaction, every page */
static void
t_check_some(t_env_t *e, tt_txn_t *t)
{
    unsigned          g, c;
    tt_post_query_t   q;

    static const char  *groups[] = { NULL, "pg_fix_1", "pg_fix_2" };

    t_counts_in(e, t);

    for (g = 0; g < 3; g++)
    for (c = 0; c < TT_LIST_CLASSES; c++) {
        memset(&q, 0, sizeof(q));
        q.ws_id = gen_ws[0];
        q.group_id = groups[g];
        q.cls = (tt_list_class_e) c;
        q.after = -1;
        q.before = 1790000000000LL + 60 * 3600000 + 1;
        q.limit = 7;
        t_check_in(e, &q, t);
    }
}


/*
 * The lists' counts are written when a transaction commits, from the sums
 * each one keeps: one request per nested transaction, as the module's
 * batches run them.  A nested one that commits gives its sums to its
 * parent, one that aborts drops them; a read in a nested one sees its
 * parent's and its own, whether it then commits or aborts.
 */
static void
test_nested(void **state)
{
    t_env_t   *e = *state;
    unsigned   i;
    tt_txn_t   t, c;
    tt_post_t  was;

    assert_int_equal(tt_txn_begin(e->st, &t, 1), TT_OK);

    for (i = 0; i < GEN_POSTS; i += 2) {
        tt_post_t  *p = &e->posts[i];

        assert_int_equal(tt_txn_begin_nested(&t, &c), TT_OK);
        was = *p;

        if (i == 0) {
            tt_txn_t  g;

            /* one level only: a grandchild's counts would count twice */
            assert_int_equal(tt_txn_begin_nested(&c, &g), TT_INVALID);
        }

        if (i % 10 == 0) {
            assert_int_equal(tt_post_del(&c, p->id), TT_OK);
            e->live[i] = 0;

        } else {
            p->status = (tt_post_status_e) ((p->status + 2) % 6);
            p->scheduled_at = (i % 4) ? p->scheduled_at + 3 * 3600000 : -1;
            if (strcmp(p->workspace_id, "ws_fix_a") == 0) {
                snprintf(p->profile_group_id, TT_ID_SIZE, "%s",
                         (i % 3) ? "pg_fix_1" : "pg_fix_2");
            }

            assert_int_equal(tt_post_put(&c, p), TT_OK);
        }

        /* every third reads its lists, and so writes the counts waiting */
        if (i % 3 == 0) {
            t_check_some(e, &c);
        }

        if (i % 7 == 3) {
            tt_txn_abort(&c);
            *p = was;
            e->live[i] = 1;

        } else {
            assert_int_equal(tt_txn_commit(&c), TT_OK);
        }

        if (i % 11 == 0) {
            t_check_some(e, &t);
        }
    }

    assert_int_equal(tt_txn_commit(&t), TT_OK);

    t_check_all(e);
}


/*
 * A dense list: T_DENSE posts created 4 per millisecond, all scheduled at
 * the same instant.  Every page is found by reading at most T_DENSE_READS
 * entries and counts (the counts' cells, then one leaf's posts), however
 * deep: stepping through the posts of one 256 ms bucket (as the lists by
 * creation did before schema 9) or through a 62nd of the posts of the
 * instant (645, as its list did before schema 10) would pass it.  The
 * ids of T_DENSE_BURST of them were made in one millisecond: their cells
 * split by the first random character.
 */
#define T_DENSE        40000
#define T_DENSE_BURST  1000
#define T_DENSE_AT     1790000000000LL
#define T_DENSE_READS  450

typedef struct {
    char            id[TT_ID_SIZE];
    int64_t         created;
} t_dense_t;


/* the lists hold an id as it is, NULs past its end */
static void
test_list_id_form(void **state)
{
    char         held[TT_ID_SIZE];
    const char  *made = "p_0VcsiAaWxyz0123456789";
    size_t       i;

    memset(held, 'x', sizeof(held));
    tt_list_id_put(held, made);
    assert_string_equal(held, made);

    for (i = strlen(made); i < TT_ID_SIZE; i++) {
        assert_int_equal(held[i], 0);
    }
}


/* the order of the entries of one scheduled_at: their ids' */
static int
t_dense_id(const void *x, const void *y)
{
    return strcmp(((const t_dense_t *) x)->id, ((const t_dense_t *) y)->id);
}


static int
t_dense_created(const void *x, const void *y)
{
    const t_dense_t  *a = x, *b = y;

    if (a->created != b->created) {
        return a->created > b->created ? -1 : 1;
    }

    return t_dense_id(a, b);
}


static void
t_dense_page(t_env_t *e, tt_post_query_t *q, const t_dense_t *ref,
    uint64_t offset)
{
    size_t     i;
    uint64_t   total, reads;
    tt_txn_t   t;
    t_page_t   pg;

    memset(&pg, 0, sizeof(pg));
    q->offset = offset;
    q->limit = 100;

    assert_int_equal(tt_txn_begin(e->st, &t, 0), TT_OK);
    reads = tt_store_list_reads(e->st);
    if (tt_post_list(&t, q, &total, t_page_cb, &pg) != TT_OK) {
        fail_msg("page at %llu after %lld: %s", (unsigned long long) offset,
                 (long long) q->after, tt_store_last_error(e->st));
    }

    reads = tt_store_list_reads(e->st) - reads;
    tt_txn_abort(&t);

    assert_int_equal(total, T_DENSE);
    assert_int_equal(pg.n, T_DENSE - offset < 100 ? T_DENSE - offset : 100);

    for (i = 0; i < pg.n; i++) {
        assert_string_equal(pg.ids[i], ref[offset + i].id);
    }

    if (reads > T_DENSE_READS) {
        fail_msg("page at %llu read %llu entries and counts",
                 (unsigned long long) offset, (unsigned long long) reads);
    }
}


static void
test_dense(void **state)
{
    t_env_t          *e = *state;
    size_t            i, k;
    int64_t           made;
    tt_txn_t          t;
    tt_post_t         p;
    t_dense_t        *ref;
    tt_platform_t     pl;
    tt_post_query_t   q;

    static const uint64_t  offsets[] = {
        0, 100, 2500, 5000, 7777, 12345, 19900, 25000, 33333, T_DENSE - 1
    };

    ref = calloc(T_DENSE, sizeof(t_dense_t));
    assert_non_null(ref);

    assert_int_equal(tt_txn_begin(e->st, &t, 1), TT_OK);

    for (i = 0; i < T_DENSE; i++) {
        gen_post(&p, &pl, 3);
        snprintf(p.workspace_id, TT_ID_SIZE, "ws_dense");
        p.created_at = 1780000000000LL + (int64_t) (i / 4);
        made = (i >= T_DENSE_BURST && i < 2 * T_DENSE_BURST)
               ? 1780000000000LL : p.created_at;
        assert_int_equal(tt_id_new_at("p_", made, p.id), TT_OK);
        p.scheduled_at = T_DENSE_AT;
        p.status = TT_POST_SCHEDULED;
        p.draft = 0;
        p.due_at = T_DENSE_AT;
        assert_int_equal(tt_post_put(&t, &p), TT_OK);

        memcpy(ref[i].id, p.id, TT_ID_SIZE);
        ref[i].created = p.created_at;
    }

    assert_int_equal(tt_txn_commit(&t), TT_OK);

    memset(&q, 0, sizeof(q));
    q.ws_id = "ws_dense";
    q.cls = TT_LIST_SCHEDULED;
    q.after = -1;
    q.before = -1;

    qsort(ref, T_DENSE, sizeof(t_dense_t), t_dense_created);

    for (k = 0; k < TT_ARRAY_SIZE(offsets); k++) {
        t_dense_page(e, &q, ref, offsets[k]);
    }

    /* by scheduled_at: one instant, in the order of the ids */
    q.after = T_DENSE_AT - 3600000;
    q.before = T_DENSE_AT + 1;
    qsort(ref, T_DENSE, sizeof(t_dense_t), t_dense_id);

    for (k = 0; k < TT_ARRAY_SIZE(offsets); k++) {
        t_dense_page(e, &q, ref, offsets[k]);
    }

    q.after = T_DENSE_AT;
    q.before = -1;
    q.cls = TT_LIST_ANY;
    t_dense_page(e, &q, ref, T_DENSE - 50);

    t_counts_in(e, NULL);
    free(ref);

    /* the burst's posts, a millisecond's, split by a random character */
    assert_true(t_cells_at(e, TT_LIST_LAST) > 0);
}


/*
 * Counts are kept below a cell only while it holds more than
 * TT_LIST_LEAF_MAX posts, and dropped when it falls to TT_LIST_LEAF_LOW.
 * T_LEAF posts join one 65-second bucket of both orders (two by two at
 * the same scheduled_at), one per transaction, then in a batch, then in
 * nested transactions of which some abort; they leave it one at a time;
 * then all move at once (a queue re-arranged) far apart and back.  After
 * each step every count matches its entries and every page its posts.
 */
#define T_LEAF         160
#define T_LEAF_AT      (27313 * 65536LL * 1000)     /* a bucket's start */
#define T_LEAF_MADE    (26000 * 65536LL * 1000)

typedef struct {
    tt_post_t       p[T_LEAF];
    tt_platform_t   pl[T_LEAF];
    int             live[T_LEAF];
} t_leaf_t;


static void
t_leaf_post(t_leaf_t *lf, unsigned i, int64_t at)
{
    tt_post_t  *p = &lf->p[i];

    gen_post(p, &lf->pl[i], 3);
    snprintf(p->id, TT_ID_SIZE, "p_leaf_%04u", i);
    snprintf(p->workspace_id, TT_ID_SIZE, "ws_leaf");
    p->created_at = T_LEAF_MADE + (int64_t) i * 10;
    p->scheduled_at = at;
    p->status = TT_POST_SCHEDULED;
    p->draft = 0;
    p->due_at = at;
}


/* the pages of one list: the live posts in order i (or its reverse) */
static void
t_leaf_list(t_env_t *e, const t_leaf_t *lf, tt_txn_t *t, int64_t after,
    int64_t before, uint64_t limit)
{
    size_t           i, n, k;
    uint64_t         total;
    t_page_t         pg;
    const char      *ref[T_LEAF];
    tt_post_query_t  q;

    memset(&q, 0, sizeof(q));
    q.ws_id = "ws_leaf";
    q.cls = TT_LIST_ANY;
    q.after = after;
    q.before = before;
    q.limit = limit;

    for (i = 0, n = 0; i < T_LEAF; i++) {
        k = (after < 0 && before < 0) ? T_LEAF - 1 - i : i;

        if (lf->live[k]
            && (after < 0 || lf->p[k].scheduled_at >= after)
            && (before < 0 || lf->p[k].scheduled_at < before))
        {
            ref[n++] = lf->p[k].id;
        }
    }

    for (q.offset = 0; q.offset <= n; q.offset += limit) {
        memset(&pg, 0, sizeof(pg));

        if (tt_post_list(t, &q, &total, t_page_cb, &pg) != TT_OK) {
            fail_msg("list: %s", tt_store_last_error(e->st));
        }

        assert_int_equal(total, n);
        k = n - q.offset < limit ? n - q.offset : limit;
        assert_int_equal(pg.n, k);

        for (i = 0; i < k; i++) {
            assert_string_equal(pg.ids[i], ref[q.offset + i]);
        }
    }
}


static void
t_leaf_check(t_env_t *e, const t_leaf_t *lf, tt_txn_t *in)
{
    tt_txn_t   t;
    tt_txn_t  *r;

    if (in == NULL) {
        assert_int_equal(tt_txn_begin(e->st, &t, 0), TT_OK);
    }

    r = in ? in : &t;
    t_counts_in(e, r);

    t_leaf_list(e, lf, r, -1, -1, 7);
    t_leaf_list(e, lf, r, T_LEAF_AT - 1, -1, 100);
    t_leaf_list(e, lf, r, T_LEAF_AT + 9000, T_LEAF_AT + 19000, 3);
    t_leaf_list(e, lf, r, 0, T_LEAF_AT + 30000, 7);

    if (in == NULL) {
        tt_txn_abort(&t);
    }
}


static void
test_leaves(void **state)
{
    t_env_t   *e = *state;
    int64_t    at;
    unsigned   i, k, back, pass;
    tt_txn_t   t, c;
    t_leaf_t  *lf;

    lf = calloc(1, sizeof(t_leaf_t));
    assert_non_null(lf);

    for (i = 0; i < T_LEAF; i++) {
        t_leaf_post(lf, i, T_LEAF_AT + (int64_t) (i / 2) * 300);
    }

    /* one by one past TT_LIST_LEAF_MAX at every level */
    for (i = 0; i < 80; i++) {
        assert_int_equal(tt_txn_begin(e->st, &t, 1), TT_OK);
        assert_int_equal(tt_post_put(&t, &lf->p[i]), TT_OK);
        assert_int_equal(tt_txn_commit(&t), TT_OK);
        lf->live[i] = 1;
        t_leaf_check(e, lf, NULL);
    }

    /* a batch: read half way, in the transaction */
    assert_int_equal(tt_txn_begin(e->st, &t, 1), TT_OK);

    for (i = 80; i < 120; i++) {
        assert_int_equal(tt_post_put(&t, &lf->p[i]), TT_OK);
        lf->live[i] = 1;

        if (i == 100) {
            t_leaf_check(e, lf, &t);
        }
    }

    assert_int_equal(tt_txn_commit(&t), TT_OK);
    t_leaf_check(e, lf, NULL);

    /* nested, as the module's batches run requests; every third aborts */
    assert_int_equal(tt_txn_begin(e->st, &t, 1), TT_OK);

    for (i = 120; i < T_LEAF; i++) {
        assert_int_equal(tt_txn_begin_nested(&t, &c), TT_OK);
        assert_int_equal(tt_post_put(&c, &lf->p[i]), TT_OK);

        if (i % 3 == 0) {
            tt_txn_abort(&c);

        } else {
            assert_int_equal(tt_txn_commit(&c), TT_OK);
            lf->live[i] = 1;
        }

        if (i % 10 == 0) {
            t_leaf_check(e, lf, &t);
        }
    }

    assert_int_equal(tt_txn_commit(&t), TT_OK);
    t_leaf_check(e, lf, NULL);

    /* all moved at once, far apart (each alone) and back together */
    for (back = 0; back < 2; back++) {
        assert_int_equal(tt_txn_begin(e->st, &t, 1), TT_OK);
        assert_int_equal(tt_list_moves_begin(&t), TT_OK);

        for (i = 0; i < T_LEAF; i++) {
            lf->p[i].scheduled_at = back
                                    ? T_LEAF_AT + (int64_t) (i / 2) * 300
                                    : T_LEAF_AT + (int64_t) i * 3600000;
            if (lf->live[i]) {
                assert_int_equal(tt_post_put(&t, &lf->p[i]), TT_OK);
            }
        }

        assert_int_equal(tt_list_moves_end(&t, 1), TT_OK);
        assert_int_equal(tt_txn_commit(&t), TT_OK);
        t_leaf_check(e, lf, NULL);
    }

    /* moved more than once in one batch: far and 7 ms on; then far, 13 ms
     * on and back where they were: listed once, where the last move put
     * them */
    for (back = 0; back < 2; back++) {
        assert_int_equal(tt_txn_begin(e->st, &t, 1), TT_OK);
        assert_int_equal(tt_list_moves_begin(&t), TT_OK);

        for (pass = 0; pass < 2 + back; pass++) {
            for (i = 0; i < T_LEAF; i++) {
                at = T_LEAF_AT + (int64_t) (i / 2) * 300;
                lf->p[i].scheduled_at = (pass == 0) ? at + (int64_t) i * 3600000
                                        : (pass == 1) ? at + 7 + 6 * back
                                        : at;
                if (lf->live[i]) {
                    assert_int_equal(tt_post_put(&t, &lf->p[i]), TT_OK);
                }
            }
        }

        assert_int_equal(tt_list_moves_end(&t, 1), TT_OK);
        assert_int_equal(tt_txn_commit(&t), TT_OK);
        t_leaf_check(e, lf, NULL);
    }

    /* moved, then changed otherwise in the same batch (drafted and moved
     * again, then scheduled), deleted and made again, or moved twice: each
     * leaves from where it was, and is listed once, at its last time */
    assert_int_equal(tt_txn_begin(e->st, &t, 1), TT_OK);
    assert_int_equal(tt_list_moves_begin(&t), TT_OK);

    for (i = 0; i < T_LEAF; i++) {
        if (!lf->live[i]) {
            continue;
        }

        at = T_LEAF_AT + (int64_t) (i / 2) * 300;
        lf->p[i].scheduled_at = at + (int64_t) i * 3600000;
        assert_int_equal(tt_post_put(&t, &lf->p[i]), TT_OK);

        if (i % 3 == 0) {
            lf->p[i].status = TT_POST_DRAFT;
            lf->p[i].draft = 1;
            assert_int_equal(tt_post_put(&t, &lf->p[i]), TT_OK);

        } else if (i % 3 == 1) {
            assert_int_equal(tt_post_del(&t, lf->p[i].id), TT_OK);
        }

        lf->p[i].scheduled_at = at + 11;
        assert_int_equal(tt_post_put(&t, &lf->p[i]), TT_OK);

        if (i % 3 == 0) {
            lf->p[i].status = TT_POST_SCHEDULED;
            lf->p[i].draft = 0;
            lf->p[i].due_at = lf->p[i].scheduled_at;
            assert_int_equal(tt_post_put(&t, &lf->p[i]), TT_OK);
        }
    }

    assert_int_equal(tt_list_moves_end(&t, 1), TT_OK);
    assert_int_equal(tt_txn_commit(&t), TT_OK);
    t_leaf_check(e, lf, NULL);

    /* a nested transaction may not change a post that waits in the
     * batch: its change is refused, and the batch goes on */
    for (k = 0; !lf->live[k]; k++) { /* void */ }

    assert_int_equal(tt_txn_begin(e->st, &t, 1), TT_OK);
    assert_int_equal(tt_list_moves_begin(&t), TT_OK);
    lf->p[k].scheduled_at -= 7;     /* still before the next post */
    assert_int_equal(tt_post_put(&t, &lf->p[k]), TT_OK);
    assert_int_equal(tt_txn_begin_nested(&t, &c), TT_OK);
    lf->p[k].status = TT_POST_DRAFT;
    lf->p[k].draft = 1;
    assert_int_equal(tt_post_put(&c, &lf->p[k]), TT_CONFLICT);
    tt_txn_abort(&c);
    lf->p[k].status = TT_POST_SCHEDULED;
    lf->p[k].draft = 0;
    assert_int_equal(tt_list_moves_end(&t, 1), TT_OK);
    assert_int_equal(tt_txn_commit(&t), TT_OK);
    t_leaf_check(e, lf, NULL);

    /* one by one out, down past TT_LIST_LEAF_LOW, from both ends */
    for (i = 0; i < T_LEAF; i++) {
        k = (i % 2) ? T_LEAF - 1 - i / 2 : i / 2;

        if (!lf->live[k]) {
            continue;
        }

        assert_int_equal(tt_txn_begin(e->st, &t, 1), TT_OK);
        assert_int_equal(tt_post_del(&t, lf->p[k].id), TT_OK);
        assert_int_equal(tt_txn_commit(&t), TT_OK);
        lf->live[k] = 0;
        t_leaf_check(e, lf, NULL);
    }

    free(lf);
}


/* a group holds one TikTok profile; an account is one profile */
static void
test_profile_rules(void **state)
{
    t_env_t       *e = *state;
    size_t         n;
    tt_txn_t       t;
    const char    *why;
    tt_profile_t   p, other, *list;

    memset(&p, 0, sizeof(p));
    snprintf(p.id, TT_ID_SIZE, "prof_fix_new");
    snprintf(p.workspace_id, TT_ID_SIZE, "ws_fix_a");
    snprintf(p.profile_group_id, TT_ID_SIZE, "pg_fix_1");
    p.platform = "tiktok";
    p.open_id = "another-account";

    assert_int_equal(tt_txn_begin(e->st, &t, 1), TT_OK);

    /* the migration indexed the fixture's profiles */
    assert_int_equal(tt_profile_list(&t, "ws_fix_a", "pg_fix_1", e->a, &list,
                                     &n), TT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, "prof_fix_0");
    assert_int_equal(tt_profile_list(&t, "ws_fix_a", NULL, e->a, &list, &n),
                     TT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(tt_profile_list(&t, "ws_fix_b", "pg_fix_1", e->a, &list,
                                     &n), TT_OK);
    assert_int_equal(n, 0);

    assert_int_equal(tt_profile_check(&t, &p, e->a, &other, &why), TT_EXISTS);
    assert_string_equal(other.id, "prof_fix_0");
    assert_string_equal(why, "the profile group already holds a TikTok "
                        "profile");
    assert_int_equal(tt_profile_put(&t, &p), TT_EXISTS);

    /* the same account in another group of the workspace */
    snprintf(p.profile_group_id, TT_ID_SIZE, "pg_fix_new");
    p.open_id = "pg_fix_2";
    assert_int_equal(tt_profile_put(&t, &p), TT_EXISTS);

    p.open_id = "another-account";
    assert_int_equal(tt_profile_put(&t, &p), TT_OK);
    assert_int_equal(tt_profile_by_open_id(&t, "ws_fix_a", "another-account",
                                           e->a, &other), TT_OK);
    assert_string_equal(other.id, "prof_fix_new");

    /* moving it moves its entries; deleting it frees the account */
    snprintf(p.profile_group_id, TT_ID_SIZE, "pg_fix_other");
    assert_int_equal(tt_profile_put(&t, &p), TT_OK);
    assert_int_equal(tt_profile_list(&t, "ws_fix_a", "pg_fix_new", e->a,
                                     &list, &n), TT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(tt_profile_del(&t, p.id), TT_OK);
    assert_int_equal(tt_profile_by_open_id(&t, "ws_fix_a", "another-account",
                                           e->a, &other), TT_NOTFOUND);
    assert_int_equal(tt_profile_list(&t, "ws_fix_a", "pg_fix_other", e->a,
                                     &list, &n), TT_OK);
    assert_int_equal(n, 0);

    assert_int_equal(tt_txn_commit(&t), TT_OK);
}


/*
 * A store written by schema 8's code (tests/fixtures/store_v8, made by
 * store_v8.sh), whose counts of one scheduled_at were cells of one key
 * and id character, whose lists by creation stopped at 256 ms, and
 * whose entries held a time-ordered id with its first random character
 * in front: opened, every list and count is made again (schema 9: a
 * level of one key; schema 10: the ids as they are, with levels of their
 * time); each list's pages hold the posts they held, those of one key in
 * the order of their ids.
 */
static const tt_post_t  *t_v8_posts;
static int               t_v8_created;

/* newest first by creation, or earliest by scheduled_at; then the ids */
static int
t_v8_order(const void *x, const void *y)
{
    const tt_post_t  *p, *q;

    p = &t_v8_posts[*(const unsigned *) x];
    q = &t_v8_posts[*(const unsigned *) y];

    if (t_v8_created && p->created_at != q->created_at) {
        return p->created_at > q->created_at ? -1 : 1;
    }

    if (!t_v8_created && p->scheduled_at != q->scheduled_at) {
        return p->scheduled_at < q->scheduled_at ? -1 : 1;
    }

    return strcmp(p->id, q->id);
}


static void
t_v8_list(t_env_t *e, tt_txn_t *t, tt_post_t *posts, int drafts,
    int64_t after, int64_t before)
{
    unsigned         i, n, at[GEN_V8_POSTS];
    uint64_t         total;
    t_page_t         pg;
    tt_post_query_t  q;

    for (i = 0, n = 0; i < GEN_V8_POSTS; i++) {
        if ((!drafts || posts[i].draft)
            && (after < 0 || posts[i].scheduled_at >= after)
            && (before < 0 || posts[i].scheduled_at < before))
        {
            at[n++] = i;
        }
    }

    t_v8_posts = posts;
    t_v8_created = (after < 0 && before < 0);
    qsort(at, n, sizeof(unsigned), t_v8_order);

    memset(&q, 0, sizeof(q));
    q.ws_id = "ws_v8";
    q.cls = drafts ? TT_LIST_DRAFT : TT_LIST_ANY;
    q.after = after;
    q.before = before;
    q.limit = 7;

    for (q.offset = 0; q.offset <= n; q.offset += q.limit) {
        memset(&pg, 0, sizeof(pg));

        if (tt_post_list(t, &q, &total, t_page_cb, &pg) != TT_OK) {
            fail_msg("list: %s", tt_store_last_error(e->st));
        }

        assert_int_equal(total, n);

        for (i = 0; i < pg.n; i++) {
            assert_string_equal(pg.ids[i], posts[at[q.offset + i]].id);
        }

        assert_int_equal(pg.n, n - q.offset < 7 ? n - q.offset : 7);
    }
}


static void
test_migrate_v8(void **state)
{
    t_env_t        *e = *state;
    unsigned        i;
    tt_str_t        v;
    tt_txn_t        t;
    tt_post_t      *posts;
    tt_platform_t  *pl;

    posts = calloc(GEN_V8_POSTS, sizeof(tt_post_t));
    pl = calloc(GEN_V8_POSTS, sizeof(tt_platform_t));
    assert_non_null(posts);
    assert_non_null(pl);

    for (i = 0; i < GEN_V8_POSTS; i++) {
        gen_v8_post(&posts[i], &pl[i], i);
    }

    /* the ids are of the form whose characters schema 9 moved */
    assert_int_equal(strlen(posts[0].id), TT_ID_POST_LEN + TT_ID_CHARS);

    assert_int_equal(tt_txn_begin(e->st, &t, 0), TT_OK);
    assert_int_equal(tt_meta_get(&t, "schema", &v), TT_OK);
    tt_test_schema_is(v.data, v.len, TT_SCHEMA_VERSION);

    t_counts_in(e, &t);

    t_v8_list(e, &t, posts, 0, -1, -1);
    t_v8_list(e, &t, posts, 1, -1, -1);
    t_v8_list(e, &t, posts, 0, GEN_V8_AT, GEN_V8_AT + 1);
    t_v8_list(e, &t, posts, 0, GEN_V8_AT, -1);
    t_v8_list(e, &t, posts, 1, 0, GEN_V8_AT + 3600000 * 80LL);

    tt_txn_abort(&t);
    free(posts);
    free(pl);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrated, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_moves, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_migrated, t_setup_v2,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_moves, t_setup_v2, t_teardown),
        cmocka_unit_test_setup_teardown(test_nested, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_keys_v2, t_setup_v2,
                                        t_teardown),
        cmocka_unit_test(test_list_id_form),
        cmocka_unit_test_setup_teardown(test_migrate_v8, t_setup_v8,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_dense, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_leaves, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_profile_rules, t_setup,
                                        t_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
