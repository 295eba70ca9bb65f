/*
 * Copyright (C) the ngx_tiktok authors.
 * Posts read: one record, every post in id order, and the agenda (due).
 * The families that index posts (lists, queues, webhooks' events) read
 * them here; a post's write, which keeps those indexes, is
 * tt_store_post_put.c's.
 */


#include "tt_store_int.h"


/* posts, read */

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
