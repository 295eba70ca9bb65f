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


/* how far back from a queue's last entry a new post looks */
#define TT_QSUM_WALK  128

/* how much earlier than its priority's latest a new post may be created
 * and still be slotted from the queue's tail (ms) */
#define TT_QSUM_LATE  10000

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
 * Whether fresh may be slotted from the queue's tail: no waiting post of
 * a lower priority (those would all move), and none of its own created
 * more than TT_QSUM_LATE before it (a post the API wrote a moment after
 * another one created later, as two workers' writes cross, moves the few
 * it goes before; others read the whole queue).  A post that is due
 * (pinned) still counts: the answer may be no where the tail would do.
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
           || s->created_max[fresh->priority] <= fresh->created + TT_QSUM_LATE;
}


/* the queue's tail as read: the posts after the one that stays */
typedef struct {
    tt_queue_post_t  posts[TT_QSUM_WALK + 1];
    char             ids[TT_QSUM_WALK + 1][TT_ID_SIZE];
    size_t           n;
    int64_t          from;          /* the slot of the one that stays */
} tt_qsum_tail_t;


/*
 * The queue's entries from its last back to the last one that may move
 * and goes before fresh (it and the posts before it keep their slots in
 * an arranged queue), in slot order; tail->from is its slot, or now when
 * there is none.  TT_CONFLICT past TT_QSUM_WALK entries.
 */
static int
tt_qsum_tail(tt_txn_t *t, const char *queue, int64_t now,
    const tt_queue_post_t *fresh, tt_qsum_tail_t *tail)
{
    int               rc;
    size_t            i;
    MDB_val           key, val;
    tt_skey_t         k;
    MDB_cursor       *c;
    const uint8_t    *v;
    tt_queue_post_t   qp, swap;

    tail->n = 0;
    tail->from = now;

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
        if (val.mv_size != TT_QP_VAL_LEN) {
            rc = MDB_CORRUPTED;
            break;
        }

        v = val.mv_data;
        memset(&qp, 0, sizeof(tt_queue_post_t));
        qp.slot = (int64_t) tt_store_be64((uint8_t *) key.mv_data
                                          + TT_ID_SIZE);
        qp.at = (int64_t) tt_store_be64(v);
        qp.created = (int64_t) tt_store_be64(v + 8);
        qp.priority = v[16];
        qp.started = v[17];

        if (!tt_queue_pinned(&qp, now, 0)
            && (qp.priority < fresh->priority
                || (qp.priority == fresh->priority
                    && qp.created <= fresh->created)))
        {
            tail->from = qp.slot;
            rc = MDB_NOTFOUND;
            break;
        }

        if (tail->n == TT_QSUM_WALK) {
            rc = TT_CONFLICT;
            break;
        }

        tail->posts[tail->n] = qp;
        tt_store_key_id((uint8_t *) key.mv_data + TT_ID_SIZE + 8,
                        tail->ids[tail->n]);
        tail->n++;

        rc = mdb_cursor_get(c, &key, &val, MDB_PREV);
    }

    mdb_cursor_close(c);

    if (rc != MDB_NOTFOUND && rc != MDB_SUCCESS) {
        return rc == TT_CONFLICT ? TT_CONFLICT
                                 : tt_txn_fail(t, tt_store_rc(t->st, rc));
    }

    /* in slot order, keys too: ties of creation go by slot, as a load */
    for (i = 0; i < tail->n / 2; i++) {
        swap = tail->posts[i];
        tail->posts[i] = tail->posts[tail->n - 1 - i];
        tail->posts[tail->n - 1 - i] = swap;
        memcpy(tail->ids[TT_QSUM_WALK], tail->ids[i], TT_ID_SIZE);
        memcpy(tail->ids[i], tail->ids[tail->n - 1 - i], TT_ID_SIZE);
        memcpy(tail->ids[tail->n - 1 - i], tail->ids[TT_QSUM_WALK],
               TT_ID_SIZE);
    }

    for (i = 0; i < tail->n; i++) {
        tail->posts[i].key = i;
    }

    return TT_OK;
}


/*
 * A new post, fresh, slotted without reading the whole queue: the
 * summary says it goes after every waiting post but a few of its own
 * priority, and the queue's tail gives them, the slot to start from and
 * the pinned slots after it.  They and fresh are arranged from there, as
 * a full arrangement would (the posts before keep their slots), and those
 * that move are stored.  fresh->slot and at are set.  TT_CONFLICT: the
 * queue must be read whole.
 */
int
tt_queue_join_last(tt_txn_t *t, const char *queue, const tt_queue_def_t *def,
    tt_tz_t *tz, int64_t now, tt_queue_post_t *fresh, tt_queue_rng_t *rng,
    tt_arena_t *a)
{
    int              rc, end, batch;
    size_t           i, n, moved;
    tt_qsum_t        s;
    tt_qsum_tail_t  *tail;

    rc = tt_qsum_get(t, queue, &s);
    if (rc != TT_OK) {
        return rc;
    }

    if (!tt_qsum_last(&s, fresh)) {
        return TT_CONFLICT;
    }

    tail = tt_arena_alloc(a, sizeof(tt_qsum_tail_t));
    if (tail == NULL) {
        return tt_txn_fail(t, TT_NOMEM);
    }

    rc = tt_qsum_tail(t, queue, now, fresh, tail);
    if (rc != TT_OK) {
        return rc;
    }

    n = tail->n;
    tail->posts[n] = *fresh;
    tail->posts[n].key = n;

    rc = tt_queue_arrange_from(def, tz, now, tail->from, tail->posts, n + 1,
                               0, rng, a, &moved);

    /* the posts it goes before, stored at their new slots, lists at once */
    batch = (rc == TT_OK && moved > 1 && tt_list_moves_begin(t) == TT_OK);

    for (i = 0; rc == TT_OK && i < n; i++) {
        if (tail->posts[i].moved) {
            rc = tt_queue_move(t, tail->ids[i], tail->posts[i].slot,
                               tail->posts[i].at);
        }
    }

    if (batch) {
        end = tt_list_moves_end(t, rc == TT_OK);
        rc = (rc == TT_OK) ? end : rc;
    }

    if (rc == TT_OK) {
        fresh->slot = tail->posts[n].slot;
        fresh->at = tail->posts[n].at;
        fresh->moved = tail->posts[n].moved;
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
