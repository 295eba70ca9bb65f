/*
 * Copyright (C) the ngx_tiktok authors.
 * What slotting reads of a queue in O(1), whatever it holds.  Its head
 * (queue_head): owners and definition in a compact record, kept by
 * tt_queue_put.  Its summary (queue_sum): its waiting posts by priority,
 * its started ones and, by priority, the latest creation among the
 * waiting ones, kept by every change of queue_posts
 * (tt_store_queue_post.c) in the same transaction.  A post that goes
 * last is slotted from these two records and the queue's last entries;
 * posts_count is read, not counted.
 */


#include "tt_store_int.h"


/* how far back from a queue's last entry a post that goes last looks */
#define TT_QSUM_WALK  32

/* queue_head: ws, group, enabled, jitter, timezone, n, n x 3 bytes */
#define TT_QHEAD_LEN  (2 * TT_ID_SIZE + 2 + TT_TZ_NAME_MAX + 2)


static void
tt_qsum_be64(uint8_t *b, uint64_t v)
{
    int  i;

    for (i = 0; i < 8; i++) {
        b[i] = (uint8_t) (v >> (56 - 8 * i));
    }
}


int
tt_qsum_get(tt_txn_t *t, const char *queue, tt_qsum_t *s)
{
    int             rc, i;
    MDB_val         v;
    tt_skey_t       k;
    const uint8_t  *b;

    memset(s, 0, sizeof(tt_qsum_t));

    if (tt_store_key(&k, "i", queue) != TT_OK) {
        return TT_OK;
    }

    rc = tt_db_get(t, TT_DB_QUEUE_SUM, &k, &v);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? TT_OK : rc;
    }

    if (v.mv_size != TT_QSUM_LEN) {
        t->st->last_error = "corrupt queue summary in the store";
        return tt_txn_fail(t, TT_ERR);
    }

    b = v.mv_data;

    for (i = 0; i < 3; i++) {
        s->waiting[i] = tt_store_be64(b + 8 * i);
        s->created_max[i] = (int64_t) tt_store_be64(b + 32 + 8 * i);
    }

    s->started = tt_store_be64(b + 24);

    return TT_OK;
}


/* stored, or dropped when the queue has no live post left */
int
tt_qsum_put(tt_txn_t *t, const char *queue, const tt_qsum_t *s)
{
    int        i;
    uint8_t    b[TT_QSUM_LEN];
    tt_skey_t  k;

    if (tt_store_key(&k, "i", queue) != TT_OK) {
        return tt_txn_fail(t, TT_ERR);
    }

    if (s->waiting[0] + s->waiting[1] + s->waiting[2] + s->started == 0) {
        return tt_db_del(t, TT_DB_QUEUE_SUM, &k);
    }

    for (i = 0; i < 3; i++) {
        tt_qsum_be64(b + 8 * i, s->waiting[i]);
        tt_qsum_be64(b + 32 + 8 * i, (uint64_t) s->created_max[i]);
    }

    tt_qsum_be64(b + 24, s->started);

    return tt_db_put(t, TT_DB_QUEUE_SUM, &k, b, sizeof(b));
}


/* one queue_posts value (at, created, priority, started) counted in */
static int
tt_qsum_count(tt_qsum_t *s, const uint8_t *val, int delta)
{
    int       prio;
    int64_t   created;
    uint64_t  *n;

    prio = val[16];
    if (prio > TT_QUEUE_LOW) {
        return TT_ERR;
    }

    n = val[17] ? &s->started : &s->waiting[prio];

    if (delta < 0) {
        if (*n == 0) {
            return TT_ERR;
        }

        /* the creation stays as a bound: still above every waiting one */
        (*n)--;
        return TT_OK;
    }

    (*n)++;
    created = (int64_t) tt_store_be64(val + 8);

    if (!val[17] && created > s->created_max[prio]) {
        s->created_max[prio] = created;
    }

    return TT_OK;
}


/* a queue_posts entry of queue in (delta 1) or out (-1) */
int
tt_qsum_add(tt_txn_t *t, const char *queue, const uint8_t *val, int delta)
{
    int        rc;
    tt_qsum_t  s;

    rc = tt_qsum_get(t, queue, &s);
    if (rc != TT_OK) {
        return rc;
    }

    if (tt_qsum_count(&s, val, delta) != TT_OK) {
        t->st->last_error = "queue summary below its entries in the store";
        return tt_txn_fail(t, TT_ERR);
    }

    return tt_qsum_put(t, queue, &s);
}


/*
 * Whether fresh goes after every waiting post as the summary bounds
 * them: no waiting post of a lower priority, none of its own created
 * later.  A post that is due (pinned) still counts: the answer may be no
 * where tt_queue_add() would append, never the other way round.
 */
static int
tt_qsum_last(const tt_qsum_t *s, const tt_queue_post_t *fresh)
{
    int  prio;

    for (prio = fresh->priority + 1; prio <= TT_QUEUE_LOW; prio++) {
        if (s->waiting[prio] != 0) {
            return 0;
        }
    }

    return s->waiting[fresh->priority] == 0
           || s->created_max[fresh->priority] <= fresh->created;
}


/*
 * The queue's last entries, from its last slot back to the last post
 * that may move (the slots after it are pinned posts'), into posts.
 * TT_CONFLICT when more than TT_QSUM_WALK entries would be needed.
 */
static int
tt_qsum_tail(tt_txn_t *t, const char *queue, int64_t now,
    tt_queue_post_t *posts, size_t *n)
{
    int               rc;
    MDB_val           key, val;
    tt_skey_t         k;
    MDB_cursor       *c;
    const uint8_t    *v;
    tt_queue_post_t  *qp;

    *n = 0;

    if (tt_store_key(&k, "iu", queue, UINT64_MAX) != TT_OK) {
        return TT_CONFLICT;
    }

    rc = tt_db_cursor(t, TT_DB_QUEUE_POSTS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    key = k.val;
    rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
    rc = mdb_cursor_get(c, &key, &val, rc == MDB_SUCCESS ? MDB_PREV : MDB_LAST);

    while (rc == MDB_SUCCESS && key.mv_size == TT_QP_KEY_LEN
           && memcmp(key.mv_data, k.data, TT_ID_SIZE) == 0)
    {
        if (val.mv_size != TT_QP_VAL_LEN || *n == TT_QSUM_WALK) {
            rc = (val.mv_size != TT_QP_VAL_LEN) ? MDB_CORRUPTED : TT_CONFLICT;
            break;
        }

        v = val.mv_data;
        qp = &posts[*n];
        memset(qp, 0, sizeof(tt_queue_post_t));
        qp->key = *n;
        qp->slot = (int64_t) tt_store_be64((uint8_t *) key.mv_data
                                           + TT_ID_SIZE);
        qp->at = (int64_t) tt_store_be64(v);
        qp->created = (int64_t) tt_store_be64(v + 8);
        qp->priority = v[16];
        qp->started = v[17];
        (*n)++;

        if (!tt_queue_pinned(qp, now, 0)) {
            rc = MDB_NOTFOUND;
            break;
        }

        rc = mdb_cursor_get(c, &key, &val, MDB_PREV);
    }

    mdb_cursor_close(c);

    if (rc == MDB_NOTFOUND || rc == MDB_SUCCESS) {
        return TT_OK;
    }

    return rc == TT_CONFLICT ? TT_CONFLICT
                             : tt_txn_fail(t, tt_store_rc(t->st, rc));
}


/*
 * A new post, fresh, slotted last without reading the queue: the
 * summary says it goes after every waiting post, and the queue's last
 * entries give the slot to start from and the pinned slots after it.
 * fresh->slot and at are set; no other post moves.  TT_CONFLICT: the
 * queue must be read and arranged (tt_queue_add() on all of it).
 */
int
tt_queue_join_last(tt_txn_t *t, const char *queue, const tt_queue_def_t *def,
    tt_tz_t *tz, int64_t now, tt_queue_post_t *fresh, tt_queue_rng_t *rng,
    tt_arena_t *a)
{
    int              rc;
    size_t           n, moved;
    tt_qsum_t        s;
    tt_queue_post_t  posts[TT_QSUM_WALK + 1];

    rc = tt_qsum_get(t, queue, &s);
    if (rc != TT_OK) {
        return rc;
    }

    if (!tt_qsum_last(&s, fresh)) {
        return TT_CONFLICT;
    }

    rc = tt_qsum_tail(t, queue, now, posts, &n);
    if (rc != TT_OK) {
        return rc;
    }

    posts[n] = *fresh;
    posts[n].key = n;

    rc = tt_queue_append(def, tz, now, posts, n + 1, 0, rng, a, &moved);
    if (rc == TT_OK) {
        fresh->slot = posts[n].slot;
        fresh->at = posts[n].at;
        fresh->moved = posts[n].moved;
    }

    return rc;
}


/* the head of q in (add) or out */
int
tt_queue_head_put(tt_txn_t *t, const tt_queue_t *q, int add)
{
    int             rc;
    size_t          i, len;
    uint8_t        *b, *s;
    tt_skey_t       k;
    tt_queue_def_t  def;

    if (tt_store_key(&k, "i", q->id) != TT_OK) {
        return TT_INVALID;
    }

    if (!add) {
        return tt_db_del(t, TT_DB_QUEUE_HEAD, &k);
    }

    tt_queue_to_def(q, &def);
    len = TT_QHEAD_LEN + 3 * def.nslots;

    b = calloc(1, len);
    if (b == NULL) {
        return tt_txn_fail(t, TT_NOMEM);
    }

    memcpy(b, q->workspace_id, strnlen(q->workspace_id, TT_ID_SIZE - 1));
    memcpy(b + TT_ID_SIZE, q->profile_group_id,
           strnlen(q->profile_group_id, TT_ID_SIZE - 1));
    b[2 * TT_ID_SIZE] = def.enabled ? 1 : 0;
    b[2 * TT_ID_SIZE + 1] = (uint8_t) def.jitter;
    memcpy(b + 2 * TT_ID_SIZE + 2, def.timezone,
           strnlen(def.timezone, TT_TZ_NAME_MAX - 1));
    b[TT_QHEAD_LEN - 2] = (uint8_t) (def.nslots >> 8);
    b[TT_QHEAD_LEN - 1] = (uint8_t) def.nslots;

    for (i = 0; i < def.nslots; i++) {
        s = b + TT_QHEAD_LEN + 3 * i;
        s[0] = def.slots[i].day;
        s[1] = (uint8_t) (def.slots[i].minute >> 8);
        s[2] = (uint8_t) def.slots[i].minute;
    }

    rc = tt_db_put(t, TT_DB_QUEUE_HEAD, &k, b, len);
    free(b);

    return rc;
}


int
tt_queue_head(tt_txn_t *t, const char *id, tt_queue_head_t *h)
{
    int             rc;
    size_t          i, n;
    MDB_val         v;
    tt_skey_t       k;
    const uint8_t  *b, *s;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    rc = tt_db_get(t, TT_DB_QUEUE_HEAD, &k, &v);
    if (rc != TT_OK) {
        return rc;
    }

    b = v.mv_data;
    n = v.mv_size >= TT_QHEAD_LEN
        ? ((size_t) b[TT_QHEAD_LEN - 2] << 8 | b[TT_QHEAD_LEN - 1]) : 0;

    if (v.mv_size != TT_QHEAD_LEN + 3 * n || n > TT_QUEUE_SLOTS_MAX
        || b[2 * TT_ID_SIZE + 1 + TT_TZ_NAME_MAX] != '\0')
    {
        t->st->last_error = "corrupt queue head in the store";
        return tt_txn_fail(t, TT_ERR);
    }

    memset(h, 0, sizeof(tt_queue_head_t));
    tt_store_key_id(b, h->workspace_id);
    tt_store_key_id(b + TT_ID_SIZE, h->profile_group_id);
    h->def.enabled = b[2 * TT_ID_SIZE];
    h->def.jitter = b[2 * TT_ID_SIZE + 1];
    memcpy(h->def.timezone, b + 2 * TT_ID_SIZE + 2, TT_TZ_NAME_MAX);
    h->def.nslots = (unsigned) n;

    for (i = 0; i < n; i++) {
        s = b + TT_QHEAD_LEN + 3 * i;
        h->def.slots[i].day = s[0];
        h->def.slots[i].minute = (uint16_t) (s[1] << 8 | s[2]);
    }

    return TT_OK;
}


/* schema 7's migration: each queue's head from its record */
static int
tt_queue_head_reindex(tt_txn_t *t)
{
    int          rc;
    char         id[TT_ID_SIZE];
    MDB_val      key;
    tt_queue_t   q;
    tt_arena_t  *a;
    MDB_cursor  *c;

    rc = tt_db_cursor(t, TT_DB_QUEUES, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, NULL, MDB_FIRST));

    while (rc == TT_OK) {
        tt_store_key_id(key.mv_data, id);

        a = tt_arena_create(4096);
        if (a == NULL) {
            rc = TT_NOMEM;
            break;
        }

        rc = tt_queue_get(t, id, a, &q);
        if (rc == TT_OK) {
            rc = tt_queue_head_put(t, &q, 1);
        }

        tt_arena_destroy(a);

        if (rc == TT_OK) {
            rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, NULL, MDB_NEXT));
        }
    }

    mdb_cursor_close(c);

    return tt_txn_fail(t, rc == TT_NOTFOUND ? TT_OK : rc);
}


/* schema 7's migration: each queue's summary from its queue_posts */
int
tt_qsum_reindex(tt_txn_t *t)
{
    int          rc;
    char         queue[TT_ID_SIZE], cur[TT_ID_SIZE];
    MDB_val      key, val;
    tt_qsum_t    s;
    MDB_cursor  *c;

    rc = mdb_drop(t->txn, t->st->dbi[TT_DB_QUEUE_SUM], 0);
    if (rc != MDB_SUCCESS) {
        return tt_txn_fail(t, tt_store_rc(t->st, rc));
    }

    rc = tt_db_cursor(t, TT_DB_QUEUE_POSTS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    cur[0] = '\0';
    memset(&s, 0, sizeof(s));
    rc = mdb_cursor_get(c, &key, &val, MDB_FIRST);

    while (rc == MDB_SUCCESS) {
        if (key.mv_size != TT_QP_KEY_LEN || val.mv_size != TT_QP_VAL_LEN) {
            rc = MDB_CORRUPTED;
            break;
        }

        tt_store_key_id(key.mv_data, queue);

        if (strcmp(queue, cur) != 0) {
            if (cur[0] != '\0' && tt_qsum_put(t, cur, &s) != TT_OK) {
                mdb_cursor_close(c);
                return t->rc != TT_OK ? t->rc : TT_ERR;
            }

            memcpy(cur, queue, TT_ID_SIZE);
            memset(&s, 0, sizeof(s));
        }

        if (tt_qsum_count(&s, val.mv_data, 1) != TT_OK) {
            rc = MDB_CORRUPTED;
            break;
        }

        rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
    }

    mdb_cursor_close(c);

    if (rc != MDB_NOTFOUND) {
        t->st->last_error = "corrupt queue_posts entry in the store";
        return tt_txn_fail(t, tt_store_rc(t->st, rc));
    }

    rc = cur[0] != '\0' ? tt_qsum_put(t, cur, &s) : TT_OK;

    return rc == TT_OK ? tt_queue_head_reindex(t) : rc;
}
