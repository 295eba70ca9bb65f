/*
 * Copyright (C) the ngx_tiktok authors.
 * Posts, their indexes and the agenda (due).
 */


#include "tt_store_int.h"
#include "tt_webhook.h"


/* posts */

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


int
tt_post_get_raw(tt_txn_t *t, const char *id, tt_str_t *rec)
{
    int        rc;
    MDB_val    v;
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    rc = tt_db_get(t, TT_DB_POSTS, &k, &v);
    if (rc != TT_OK) {
        return rc;
    }

    rec->data = v.mv_data;
    rec->len = v.mv_size;

    return TT_OK;
}


int
tt_post_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_post_t *p)
{
    int       rc;
    tt_str_t  rec;

    rc = tt_post_get_raw(t, id, &rec);
    if (rc != TT_OK) {
        return rc;
    }

    if (tt_post_decode(rec.data, rec.len, a, p) != TT_OK) {
        t->st->last_error = "corrupt post record in the store";
        return TT_ERR;
    }

    return TT_OK;
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


/*
 * Every post in id order, from the one after pos ("": from the first),
 * at most max of them; pos gets the last id handed to cb, or "" when the
 * walk reached the end.  Lets the scheduler walk a large store in short
 * transactions.  cb returns non-zero to stop (pos is then its post).
 */
int
tt_post_scan(tt_txn_t *t, char pos[TT_ID_SIZE], size_t max,
    tt_post_iter_pt cb, void *ctx)
{
    int          rc, after;
    size_t       n;
    char         id[TT_ID_SIZE];
    MDB_val      key;
    tt_str_t     rec;
    tt_skey_t    k;
    MDB_cursor  *c;

    static const uint8_t  first[TT_ID_SIZE];

    tt_txn_check(t);

    after = (pos[0] != '\0');

    if (!after || tt_store_key(&k, "i", pos) != TT_OK) {
        tt_store_key(&k, "b", first, sizeof(first));
        after = 0;
    }

    c = NULL;
    rc = tt_db_cursor(t, TT_DB_POSTS, &c);

    for (n = 0; rc == TT_OK && n < max; n++) {
        rc = tt_db_seek(t, c, &k, after, &key);

        if (rc != TT_OK) {
            break;
        }

        if (key.mv_size != TT_ID_SIZE) {
            /* not a post's key: nothing sane can follow */
            rc = TT_NOTFOUND;
            break;
        }

        /* the callback may write: keep the position, not the cursor */
        tt_store_key(&k, "b", key.mv_data, key.mv_size);
        tt_store_key_id(k.data, id);
        after = 1;
        memcpy(pos, id, TT_ID_SIZE);

        rc = tt_post_get_raw(t, id, &rec);

        if (rc == TT_NOTFOUND) {
            rc = TT_OK;
            continue;
        }

        if (rc == TT_OK && cb(ctx, id, &rec) != 0) {
            break;
        }
    }

    if (c != NULL) {
        mdb_cursor_close(c);
    }

    if (rc == TT_NOTFOUND) {
        pos[0] = '\0';
        return TT_OK;
    }

    if (rc != TT_OK) {
        pos[0] = '\0';
    }

    return rc;
}



int
tt_due_first(tt_txn_t *t, int64_t *at, char id[TT_ID_SIZE])
{
    int          rc;
    MDB_val      key;
    MDB_cursor  *c;

    tt_txn_check(t);

    rc = tt_db_cursor(t, TT_DB_DUE, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, NULL, MDB_FIRST));

    if (rc == TT_OK && key.mv_size == 8 + TT_ID_SIZE) {
        *at = (int64_t) tt_store_be64(key.mv_data);
        tt_store_key_id((uint8_t *) key.mv_data + 8, id);
    }

    mdb_cursor_close(c);

    return tt_txn_fail(t, rc);
}


int
tt_due_iter(tt_txn_t *t, int64_t until, tt_due_iter_pt cb, void *ctx)
{
    int          rc, after;
    char         id[TT_ID_SIZE];
    int64_t      at;
    MDB_val      key;
    tt_skey_t    k;
    MDB_cursor  *c;

    tt_txn_check(t);

    rc = tt_db_cursor(t, TT_DB_DUE, &c);
    if (rc != TT_OK) {
        return rc;
    }

    tt_store_key(&k, "u", (uint64_t) 0);
    after = 0;

    while (rc == TT_OK) {
        rc = tt_db_seek(t, c, &k, after, &key);
        if (rc != TT_OK || key.mv_size != 8 + TT_ID_SIZE) {
            break;
        }

        at = (int64_t) tt_store_be64(key.mv_data);
        if (at > until) {
            break;
        }

        /* the callback may claim the post and so move this very key */
        tt_store_key(&k, "b", key.mv_data, key.mv_size);
        tt_store_key_id(k.data + 8, id);
        after = 1;

        if (cb(ctx, at, id) != 0) {
            break;
        }
    }

    mdb_cursor_close(c);

    return rc == TT_NOTFOUND ? TT_OK : rc;
}
