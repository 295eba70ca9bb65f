/*
 * Copyright (C) the ngx_tiktok authors.
 * A post's entry among its queue's live posts (queue_posts, post_slot),
 * kept by a post's every write (tt_store_post_put.c) with the queue's
 * summary (tt_store_queue_sum.c), the paused flag that write reads, and
 * schema 4's migration that built the entries.  Calls no other family
 * than the queues'.
 */


#include "tt_store_int.h"


int
tt_queue_paused(tt_txn_t *t, const char *id)
{
    MDB_val    v;
    tt_skey_t  k;

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return 0;
    }

    return tt_db_get(t, TT_DB_QUEUE_OFF, &k, &v) == TT_OK;
}


/* a post's entry among its queue's live posts */

/* not a draft, not ended: it holds a slot of its queue */
int
tt_queue_live(const tt_post_t *p)
{
    if (p->queue_id[0] == '\0' || p->draft) {
        return 0;
    }

    return p->status == TT_POST_PENDING || p->status == TT_POST_SCHEDULED
           || p->status == TT_POST_PROCESSING;
}


uint8_t
tt_queue_prio(tt_priority_e p)
{
    switch (p) {
    case TT_PRIORITY_HIGH:
        return TT_QUEUE_HIGH;
    case TT_PRIORITY_LOW:
        return TT_QUEUE_LOW;
    default:
        return TT_QUEUE_MEDIUM;
    }
}


static void
tt_qp_be64(uint8_t *b, uint64_t v)
{
    int  i;

    for (i = 0; i < 8; i++) {
        b[i] = (uint8_t) (v >> (56 - 8 * i));
    }
}


/* the queue and slot of a post's entry; TT_NOTFOUND if it has none */
int
tt_queue_slot_of(tt_txn_t *t, const char *post_id, char queue[TT_ID_SIZE],
    int64_t *slot, int *prio)
{
    int        rc;
    MDB_val    v, qv;
    tt_skey_t  k, qk;

    if (tt_store_key(&k, "i", post_id) != TT_OK) {
        return TT_NOTFOUND;
    }

    rc = tt_db_get(t, TT_DB_POST_SLOT, &k, &v);
    if (rc != TT_OK) {
        return rc;
    }

    if (v.mv_size != TT_ID_SIZE + 8) {
        t->st->last_error = "corrupt post_slot entry in the store";
        return tt_txn_fail(t, TT_ERR);
    }

    tt_store_key_id(v.mv_data, queue);
    *slot = (int64_t) tt_store_be64((uint8_t *) v.mv_data + TT_ID_SIZE);

    if (prio == NULL) {
        return TT_OK;
    }

    *prio = -1;

    if (tt_store_key(&qk, "iui", queue, (uint64_t) *slot, post_id) == TT_OK
        && tt_db_get(t, TT_DB_QUEUE_POSTS, &qk, &qv) == TT_OK
        && qv.mv_size == TT_QP_VAL_LEN)
    {
        *prio = ((uint8_t *) qv.mv_data)[16];
    }

    return TT_OK;
}


int
tt_queue_post_drop(tt_txn_t *t, const char *id)
{
    int        rc;
    char       queue[TT_ID_SIZE];
    int64_t    slot;
    MDB_val    v;
    uint8_t    val[TT_QP_VAL_LEN];
    tt_skey_t  k;

    rc = tt_queue_slot_of(t, id, queue, &slot, NULL);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? TT_OK : rc;
    }

    if (tt_store_key(&k, "iui", queue, (uint64_t) slot, id) != TT_OK) {
        return tt_txn_fail(t, TT_ERR);
    }

    rc = tt_db_get(t, TT_DB_QUEUE_POSTS, &k, &v);
    if (rc == TT_OK && v.mv_size != TT_QP_VAL_LEN) {
        t->st->last_error = "corrupt queue_posts entry in the store";
        return tt_txn_fail(t, TT_ERR);
    }

    if (rc == TT_OK) {
        memcpy(val, v.mv_data, TT_QP_VAL_LEN);
        rc = tt_db_del(t, TT_DB_QUEUE_POSTS, &k);

        if (rc == TT_OK) {
            rc = tt_qsum_add(t, queue, val, -1);
        }
    }

    if (rc != TT_OK && rc != TT_NOTFOUND) {
        return rc;
    }

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return tt_txn_fail(t, TT_ERR);
    }

    return tt_db_del(t, TT_DB_POST_SLOT, &k);
}


/* p's entry at slot, new: the summary counts it, post_slot finds it */
static int
tt_queue_post_add(tt_txn_t *t, const tt_post_t *p, int64_t slot,
    const uint8_t *val)
{
    int        rc;
    uint8_t    pos[TT_ID_SIZE + 8];
    tt_skey_t  k;

    if (tt_store_key(&k, "iui", p->queue_id, (uint64_t) slot, p->id)
        != TT_OK)
    {
        return tt_txn_fail(t, TT_ERR);
    }

    rc = tt_db_put(t, TT_DB_QUEUE_POSTS, &k, val, TT_QP_VAL_LEN);
    if (rc == TT_OK) {
        rc = tt_qsum_add(t, p->queue_id, val, 1);
    }

    if (rc != TT_OK) {
        return rc;
    }

    memset(pos, 0, TT_ID_SIZE);
    memcpy(pos, p->queue_id, strnlen(p->queue_id, TT_ID_SIZE - 1));
    tt_qp_be64(pos + TT_ID_SIZE, (uint64_t) slot);

    tt_store_key(&k, "i", p->id);

    return tt_db_put(t, TT_DB_POST_SLOT, &k, pos, sizeof(pos));
}


/*
 * p stays in the queue whose slot old it holds, at slot: its entry moves
 * or changes in place, and the summary only if what it counts changed.
 * TT_NOTFOUND if the entry is missing (the caller drops and adds).
 */
static int
tt_queue_post_stay(tt_txn_t *t, const tt_post_t *p, int64_t old,
    int64_t slot, const uint8_t *val)
{
    int        rc;
    MDB_val    v;
    uint8_t    was[TT_QP_VAL_LEN], pos[TT_ID_SIZE + 8];
    tt_skey_t  k;

    if (tt_store_key(&k, "iui", p->queue_id, (uint64_t) old, p->id)
        != TT_OK)
    {
        return tt_txn_fail(t, TT_ERR);
    }

    rc = tt_db_get(t, TT_DB_QUEUE_POSTS, &k, &v);
    if (rc != TT_OK || v.mv_size != TT_QP_VAL_LEN) {
        return rc == TT_OK ? TT_NOTFOUND : rc;
    }

    memcpy(was, v.mv_data, TT_QP_VAL_LEN);

    if (old == slot && memcmp(was, val, TT_QP_VAL_LEN) == 0) {
        return TT_OK;
    }

    if (memcmp(was + 8, val + 8, TT_QP_VAL_LEN - 8) != 0) {
        /* counted otherwise (priority, started): out and in again */
        rc = tt_db_del(t, TT_DB_QUEUE_POSTS, &k);
        if (rc == TT_OK) {
            rc = tt_qsum_add(t, p->queue_id, was, -1);
        }

        return rc == TT_OK ? tt_queue_post_add(t, p, slot, val) : rc;
    }

    if (old == slot) {
        /* the same slot, only its time changed */
        return tt_db_put(t, TT_DB_QUEUE_POSTS, &k, val, TT_QP_VAL_LEN);
    }

    /* another slot: the summary counts it as before */
    rc = tt_db_del(t, TT_DB_QUEUE_POSTS, &k);

    if (rc == TT_OK) {
        rc = tt_store_key(&k, "iui", p->queue_id, (uint64_t) slot, p->id);
        rc = (rc == TT_OK) ? tt_db_put(t, TT_DB_QUEUE_POSTS, &k, val,
                                       TT_QP_VAL_LEN)
                           : tt_txn_fail(t, TT_ERR);
    }

    if (rc == TT_OK) {
        memset(pos, 0, TT_ID_SIZE);
        memcpy(pos, p->queue_id, strnlen(p->queue_id, TT_ID_SIZE - 1));
        tt_qp_be64(pos + TT_ID_SIZE, (uint64_t) slot);
        tt_store_key(&k, "i", p->id);
        rc = tt_db_put(t, TT_DB_POST_SLOT, &k, pos, sizeof(pos));
    }

    return rc;
}


/*
 * The entry of a live post of queue, at slot old, moved to slot with its
 * time now at: as tt_queue_post_sync() leaves it for the post so moved,
 * from the entry alone (its creation, priority and start stay).
 * TT_DECLINED when the entry is not there.
 */
int
tt_queue_post_retime(tt_txn_t *t, const char *id, const char *queue,
    int64_t old, int64_t slot, int64_t at)
{
    int        rc;
    MDB_val    v;
    uint8_t    val[TT_QP_VAL_LEN];
    tt_post_t  p;
    tt_skey_t  k;

    if (tt_store_key(&k, "iui", queue, (uint64_t) old, id) != TT_OK) {
        return TT_DECLINED;
    }

    rc = tt_db_get(t, TT_DB_QUEUE_POSTS, &k, &v);
    if (rc != TT_OK || v.mv_size != TT_QP_VAL_LEN) {
        return (rc == TT_OK || rc == TT_NOTFOUND) ? TT_DECLINED : rc;
    }

    memcpy(val, v.mv_data, TT_QP_VAL_LEN);
    tt_qp_be64(val, (uint64_t) at);

    /* what tt_queue_post_stay() reads of the post */
    memset(&p, 0, sizeof(tt_post_t));
    memcpy(p.id, id, strnlen(id, TT_ID_SIZE - 1));
    memcpy(p.queue_id, queue, strnlen(queue, TT_ID_SIZE - 1));

    rc = tt_queue_post_stay(t, &p, old, slot, val);

    return rc == TT_NOTFOUND ? tt_txn_fail(t, TT_ERR) : rc;
}


/*
 * The entry of p as stored: in its queue at slot (TT_QUEUE_NO_SLOT: the
 * one it holds, if it stays in the same queue), or none when it is not
 * live.  Called by tt_post_put_slot for every write of a post, so that
 * the scheduler's writes (a claim, an end) keep the entry true.
 */
int
tt_queue_post_sync(tt_txn_t *t, const tt_post_t *p, int64_t slot)
{
    int        rc, found, same;
    char       queue[TT_ID_SIZE];
    int64_t    old;
    uint8_t    val[TT_QP_VAL_LEN];

    rc = tt_queue_slot_of(t, p->id, queue, &old, NULL);
    if (rc != TT_OK && rc != TT_NOTFOUND) {
        return rc;
    }

    found = (rc == TT_OK);
    same = found && strcmp(queue, p->queue_id) == 0;

    if (same && slot == TT_QUEUE_NO_SLOT) {
        slot = old;
    }

    if (slot == TT_QUEUE_NO_SLOT && p->scheduled_at >= 0) {
        /* not slotted here (a store from before queues): its time */
        slot = p->scheduled_at;
    }

    tt_qp_be64(val, (uint64_t) p->scheduled_at);
    tt_qp_be64(val + 8, (uint64_t) p->created_at);
    val[16] = tt_queue_prio(p->queue_priority);
    val[17] = (p->status == TT_POST_PROCESSING);

    if (same && tt_queue_live(p) && slot >= 0) {
        rc = tt_queue_post_stay(t, p, old, slot, val);
        if (rc != TT_NOTFOUND) {
            return rc;
        }
    }

    if (found) {
        rc = tt_queue_post_drop(t, p->id);
        if (rc != TT_OK) {
            return rc;
        }
    }

    if (!tt_queue_live(p) || slot < 0) {
        return TT_OK;
    }

    return tt_queue_post_add(t, p, slot, val);
}


/*
 * Schema 3's migration: every post that names a stored queue joins its
 * live posts at the slot of its time (a store of schema 2 has no queue:
 * nothing to do there but look).
 */
typedef struct {
    int             rc;
    tt_txn_t       *t;
} tt_queue_reindex_t;


static int
tt_queue_reindex_post(void *data, const char *id, const tt_str_t *rec)
{
    tt_post_t            p;
    tt_queue_t           q;
    tt_arena_t          *a;
    tt_queue_reindex_t  *c = data;

    (void) id;

    a = tt_arena_create(4096);
    if (a == NULL) {
        c->rc = TT_NOMEM;
        return 1;
    }

    c->rc = tt_post_decode(rec->data, rec->len, a, &p);

    if (c->rc == TT_OK && p.queue_id[0] != '\0'
        && tt_queue_get(c->t, p.queue_id, a, &q) == TT_OK)
    {
        c->rc = tt_queue_post_sync(c->t, &p, TT_QUEUE_NO_SLOT);
    }

    tt_arena_destroy(a);

    return c->rc != TT_OK;
}


int
tt_queue_reindex(tt_txn_t *t)
{
    int                 rc;
    char                pos[TT_ID_SIZE];
    tt_queue_reindex_t  c;

    pos[0] = '\0';
    c.rc = TT_OK;
    c.t = t;

    do {
        rc = tt_post_scan(t, pos, 1024, tt_queue_reindex_post, &c);
    } while (rc == TT_OK && c.rc == TT_OK && pos[0] != '\0');

    return rc != TT_OK ? rc : c.rc;
}
