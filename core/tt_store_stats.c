/*
 * Copyright (C) the ngx_tiktok authors.
 * Posts' TikTok counts over time (GET /api/posts/stats) and the agenda of
 * the scheduler's video/query calls that record them.
 *
 *   stats      post id, recorded_at BE64  -> views, likes, comments,
 *                                            shares (BE64 each)
 *   stats_due  due BE64, post id          -> published_at BE64
 */


#include "tt_store_int.h"


#define TT_STAT_VAL   32


static void
tt_stats_be(uint8_t *p, int64_t v)
{
    int  i;

    for (i = 0; i < 8; i++) {
        p[i] = (uint8_t) ((uint64_t) v >> (56 - 8 * i));
    }
}


int
tt_stats_put(tt_txn_t *t, const char *post_id, const tt_stat_t *s)
{
    uint8_t    val[TT_STAT_VAL];
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "iu", post_id, (uint64_t) s->recorded_at) != TT_OK
        || s->recorded_at < 0)
    {
        return TT_INVALID;
    }

    tt_stats_be(val, s->views);
    tt_stats_be(val + 8, s->likes);
    tt_stats_be(val + 16, s->comments);
    tt_stats_be(val + 24, s->shares);

    return tt_db_put(t, TT_DB_STATS, &k, val, sizeof(val));
}


/* a post's records from from to to (ms, both in; -1 open), at most max */
int
tt_stats_get(tt_txn_t *t, const char *post_id, int64_t from, int64_t to,
    size_t max, tt_arena_t *a, tt_stat_t **out, size_t *n)
{
    int           rc;
    size_t        cap;
    MDB_val       key, val;
    tt_stat_t    *s;
    tt_skey_t     k;
    MDB_cursor   *c;
    const uint8_t *v;

    tt_txn_check(t);

    *out = NULL;
    *n = 0;
    cap = 0;

    if (tt_store_key(&k, "iu", post_id, (uint64_t) (from < 0 ? 0 : from))
        != TT_OK)
    {
        return TT_INVALID;
    }

    rc = tt_db_cursor(t, TT_DB_STATS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    key = k.val;
    rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);

    for ( /* void */ ; rc == MDB_SUCCESS && *n < max;
         rc = mdb_cursor_get(c, &key, &val, MDB_NEXT))
    {
        if (key.mv_size != TT_ID_SIZE + 8
            || memcmp(key.mv_data, k.data, TT_ID_SIZE) != 0)
        {
            break;
        }

        if (val.mv_size != TT_STAT_VAL) {
            continue;
        }

        v = val.mv_data;

        s = tt_store_push(a, (void **) out, n, &cap, sizeof(tt_stat_t));
        if (s == NULL) {
            mdb_cursor_close(c);
            return TT_NOMEM;
        }

        s->recorded_at = (int64_t) tt_store_be64((uint8_t *) key.mv_data
                                                 + TT_ID_SIZE);
        if (to >= 0 && s->recorded_at > to) {
            (*n)--;
            break;
        }

        s->views = (int64_t) tt_store_be64(v);
        s->likes = (int64_t) tt_store_be64(v + 8);
        s->comments = (int64_t) tt_store_be64(v + 16);
        s->shares = (int64_t) tt_store_be64(v + 24);
    }

    mdb_cursor_close(c);

    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        return tt_txn_fail(t, tt_store_rc(t->st, rc));
    }

    return TT_OK;
}


int
tt_stats_due_put(tt_txn_t *t, int64_t at, const char *post_id,
    int64_t published_at)
{
    uint8_t    val[8];
    tt_skey_t  k;

    tt_txn_check(t);

    if (at < 0
        || tt_store_key(&k, "ui", (uint64_t) at, post_id) != TT_OK)
    {
        return TT_INVALID;
    }

    tt_stats_be(val, published_at);

    return tt_db_put(t, TT_DB_STATS_DUE, &k, val, sizeof(val));
}


int
tt_stats_due_del(tt_txn_t *t, int64_t at, const char *post_id)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (at < 0
        || tt_store_key(&k, "ui", (uint64_t) at, post_id) != TT_OK)
    {
        return TT_INVALID;
    }

    return tt_db_del(t, TT_DB_STATS_DUE, &k);
}


/* up to max entries due at or before until, earliest first; *next: the
 * first one after them (-1 none) */
int
tt_stats_due_list(tt_txn_t *t, int64_t until, size_t max,
    tt_stats_due_t *out, size_t *n, int64_t *next)
{
    int          rc;
    int64_t      at;
    MDB_val      key, val;
    MDB_cursor  *c;

    tt_txn_check(t);

    *n = 0;
    *next = -1;

    rc = tt_db_cursor(t, TT_DB_STATS_DUE, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = mdb_cursor_get(c, &key, &val, MDB_FIRST);

    for ( /* void */ ; rc == MDB_SUCCESS;
         rc = mdb_cursor_get(c, &key, &val, MDB_NEXT))
    {
        if (key.mv_size != 8 + TT_ID_SIZE || val.mv_size != 8) {
            continue;
        }

        at = (int64_t) tt_store_be64(key.mv_data);

        if (at > until || *n == max) {
            *next = at;
            break;
        }

        out[*n].at = at;
        tt_store_key_id((uint8_t *) key.mv_data + 8, out[*n].post_id);
        out[*n].published_at = (int64_t) tt_store_be64(val.mv_data);
        (*n)++;
    }

    mdb_cursor_close(c);

    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        return tt_txn_fail(t, tt_store_rc(t->st, rc));
    }

    return TT_OK;
}


/*
 * When to ask again: every interval (an hour by default) while the post
 * is less than a day old, daily for a month, then weekly; the day and the
 * week are 24 and 168 intervals.
 */
int64_t
tt_stats_next(int64_t published_at, int64_t now, int64_t interval)
{
    int64_t  age;

    age = now - published_at;

    if (age < 24 * interval) {
        return now + interval;
    }

    if (age < 30 * 24 * interval) {
        return now + 24 * interval;
    }

    return now + 7 * 24 * interval;
}
