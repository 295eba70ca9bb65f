/*
 * Copyright (C) the ngx_tiktok authors.
 * A post written or deleted, with every index it is in: the agenda (due),
 * the lists (tt_store_list.c), its queue's entry (tt_store_queue_post.c)
 * and the webhooks' events (tt_store_event.c), in one transaction.
 */


#include "tt_store_int.h"
#include "tt_webhook.h"


/* the agenda entry of a post due at due_at, in or out */
static int
tt_post_due(tt_txn_t *t, int64_t due_at, const char *id, int add)
{
    tt_skey_t  k;

    if (due_at < 0) {
        return TT_OK;
    }

    if (tt_store_key(&k, "ui", (uint64_t) due_at, id) != TT_OK) {
        return TT_INVALID;
    }

    return add ? tt_db_put(t, TT_DB_DUE, &k, "", 0)
               : tt_db_del(t, TT_DB_DUE, &k);
}


/* drops the agenda entry the stored record of k holds, if any */
static int
tt_post_unindex(tt_txn_t *t, tt_skey_t *k, const char *id)
{
    int             rc;
    MDB_val         v;
    tt_post_peek_t  old;

    rc = tt_db_get(t, TT_DB_POSTS, k, &v);
    if (rc != TT_OK) {
        return rc;
    }

    if (tt_post_peek(v.mv_data, v.mv_size, &old) != TT_OK) {
        t->st->last_error = "corrupt post record in the store";
        return tt_txn_fail(t, TT_ERR);
    }

    return tt_post_due(t, old.due_at, id, 0);
}


int
tt_post_put(tt_txn_t *t, const tt_post_t *p)
{
    return tt_post_put_slot(t, p, TT_QUEUE_NO_SLOT);
}


/*
 * slot: the one it holds in its queue (tt_store_queue.c), or
 * TT_QUEUE_NO_SLOT to keep its entry as it is.  A post of a paused queue
 * that waits for its time is stored with no due time, so that neither
 * the agenda nor a scheduler's job that reads it again takes it.
 */
int
tt_post_put_slot(tt_txn_t *t, const tt_post_t *p, int64_t slot)
{
    int        rc;
    tt_buf_t   b;
    tt_post_t  held;
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", p->id) != TT_OK
        || p->workspace_id[0] == '\0' || p->created_at < 0)
    {
        return TT_INVALID;
    }

    if (p->queue_id[0] != '\0' && p->status == TT_POST_SCHEDULED
        && p->due_at >= 0 && tt_queue_paused(t, p->queue_id))
    {
        held = *p;
        held.due_at = -1;
        p = &held;
    }

    tt_buf_init(&b);

    rc = tt_post_encode(p, &b);
    if (rc != TT_OK) {
        tt_buf_free(&b);
        return rc;
    }

    rc = tt_post_unindex(t, &k, p->id);
    if (rc == TT_OK || rc == TT_NOTFOUND) {
        rc = tt_db_put(t, TT_DB_POSTS, &k, b.data, b.len);
    }

    tt_buf_free(&b);

    if (rc != TT_OK) {
        /* old index entries may be gone: the txn must not commit */
        return tt_txn_fail(t, rc == TT_INVALID ? TT_ERR : rc);
    }

    rc = tt_post_due(t, p->due_at, p->id, 1);
    if (rc != TT_OK) {
        return rc;
    }

    /* the lists: TT_INVALID here would leave the post unlisted */
    rc = tt_post_terms_set(t, p);

    if (rc == TT_OK) {
        rc = tt_queue_post_sync(t, p, slot);
    }

    /* the webhooks' events of its status changes, in this transaction */
    if (rc == TT_OK) {
        rc = tt_event_post(t, p, p->id);
    }

    return rc == TT_INVALID ? tt_txn_fail(t, TT_ERR) : rc;
}


/*
 * A queue's post that waits for its time moved to slot and at, without
 * decoding it: its record patched (tt_post_retime()), its agenda entry,
 * lists and queue entry moved; its status, and so its webhooks' events,
 * stay.  What tt_post_put_slot() does for it decoded, its time and
 * updated_at changed and settled.  TT_DECLINED when that does not apply
 * (another status, a paused queue, its queue's entries not as they
 * should be), before any write.
 */
int
tt_post_put_retime(tt_txn_t *t, const char *id, int64_t slot, int64_t at,
    int64_t now)
{
    int             rc, prio;
    char            queue[TT_ID_SIZE];
    int64_t         old;
    MDB_val         v;
    tt_buf_t        b;
    tt_skey_t       k;
    tt_post_peek_t  peek;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_DECLINED;
    }

    /* its slot, queue entry and lists (below) agree on its queue, or the
     * slow way puts them right */
    rc = tt_queue_slot_of(t, id, queue, &old, &prio);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? TT_DECLINED : rc;
    }

    if (prio < 0 || tt_queue_paused(t, queue)) {
        return TT_DECLINED;
    }

    rc = tt_db_get(t, TT_DB_POSTS, &k, &v);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? TT_DECLINED : rc;
    }

    if (tt_post_peek(v.mv_data, v.mv_size, &peek) != TT_OK) {
        return TT_DECLINED;
    }

    tt_buf_init(&b);

    rc = tt_post_retime(v.mv_data, v.mv_size, at, now, &b);

    /* the first write: its lists, if they are of that queue */
    if (rc == TT_OK) {
        rc = tt_post_terms_retime(t, id, queue, at);
    }

    if (rc != TT_OK) {
        tt_buf_free(&b);
        return rc == TT_DECLINED || rc == TT_INVALID ? TT_DECLINED
                                                     : tt_txn_fail(t, rc);
    }

    rc = tt_db_put(t, TT_DB_POSTS, &k, b.data, b.len);
    tt_buf_free(&b);

    if (rc == TT_OK) {
        rc = tt_post_due(t, peek.due_at, id, 0);
    }

    if (rc == TT_OK) {
        rc = tt_post_due(t, at, id, 1);
    }

    if (rc == TT_OK) {
        rc = tt_queue_post_retime(t, id, queue, old, slot, at);
    }

    /* written in part: the transaction must not commit */
    return rc == TT_OK ? TT_OK
                       : tt_txn_fail(t, rc == TT_INVALID || rc == TT_DECLINED
                                        ? TT_ERR : rc);
}


int
tt_post_del(tt_txn_t *t, const char *id)
{
    int        rc;
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    rc = tt_post_unindex(t, &k, id);
    if (rc == TT_OK) {
        rc = tt_post_terms_drop(t, id);
    }

    if (rc == TT_OK) {
        rc = tt_queue_post_drop(t, id);
    }

    if (rc == TT_OK) {
        rc = tt_event_post(t, NULL, id);
    }

    if (rc != TT_OK) {
        return rc;
    }

    return tt_db_del(t, TT_DB_POSTS, &k);
}
