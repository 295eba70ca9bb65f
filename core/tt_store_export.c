/*
 * Copyright (C) the ngx_tiktok authors.
 * A walk of a family in key order, a slice at a time, resumed from the
 * last key it handed out: what streams a large store (GET /api/export)
 * in one read transaction without keeping a cursor between slices.
 */


#include "tt_store_int.h"


/*
 * Hands cb the entries of db whose key starts with prefix, from after
 * pos (pos_len 0: from the first), at most max of them; cb returns
 * non-zero to stop after the entry it got.  pos is the last key handed
 * out.  TT_OK: more may follow; TT_NOTFOUND: the range is done.
 *
 * No cursor or value outlives the call: between two slices this process
 * may remap the store (a write batch that grew it), and the transaction
 * goes on from a copy of the key.
 */
int
tt_store_walk(tt_txn_t *t, int db, const void *prefix, size_t plen,
    uint8_t *pos, size_t *pos_len, unsigned max, tt_walk_pt cb, void *ctx)
{
    int          rc, stop;
    unsigned     n;
    MDB_val      key, val;
    MDB_cursor  *c;

    tt_txn_check(t);

    if (plen > TT_STORE_KEY_MAX || *pos_len > TT_STORE_KEY_MAX) {
        return TT_INVALID;
    }

    rc = tt_db_cursor(t, db, &c);
    if (rc != TT_OK) {
        return rc;
    }

    if (*pos_len > 0) {
        key.mv_data = pos;
        key.mv_size = *pos_len;
        rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);

        if (rc == MDB_SUCCESS && key.mv_size == *pos_len
            && memcmp(key.mv_data, pos, *pos_len) == 0)
        {
            rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
        }

    } else {
        key.mv_data = (void *) prefix;
        key.mv_size = plen;
        rc = mdb_cursor_get(c, &key, &val, plen ? MDB_SET_RANGE : MDB_FIRST);
    }

    stop = 0;

    for (n = 0; rc == MDB_SUCCESS; n++) {
        if (plen > 0 && (key.mv_size < plen
                         || memcmp(key.mv_data, prefix, plen) != 0))
        {
            rc = MDB_NOTFOUND;
            break;
        }

        if (n == max || stop) {
            break;
        }

        memcpy(pos, key.mv_data, key.mv_size);
        *pos_len = key.mv_size;

        stop = cb(ctx, key.mv_data, key.mv_size, val.mv_data, val.mv_size);

        if (stop < 0) {
            break;
        }

        rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
    }

    mdb_cursor_close(c);

    if (stop < 0) {
        return t->rc != TT_OK ? t->rc : TT_ERR;
    }

    if (rc == MDB_NOTFOUND) {
        return TT_NOTFOUND;
    }

    return tt_txn_fail(t, tt_store_rc(t->st, rc));
}
