/*
 * Copyright (C) the ngx_tiktok authors.
 * Idempotency records and their expiry.
 */


#include "tt_store_int.h"


/* idempotency */

static int
tt_idem_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    char              hex[65];
    const tt_idem_t  *rec = obj;

    tt_hex(rec->hash, 32, hex);

    tt_jw_obj_open(w);
    tt_jw_member_int(w, "v", 1);
    tt_jw_member_str(w, "hash", hex);
    tt_jw_member_int(w, "route", rec->route);
    tt_jw_member_int(w, "status", rec->status);
    tt_jw_key(w, "body");
    tt_jw_str(w, rec->body.data ? rec->body.data : "", rec->body.len);
    tt_jw_member_int(w, "expires_at", rec->expires_at);
    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_idem_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a, void *obj)
{
    tt_idem_t    *rec = obj;
    tt_json_t    *body;
    const char   *hash;

    hash = tt_js(r, "hash");
    body = tt_json_get(r, "body");

    if (hash == NULL || strlen(hash) != 64
        || tt_hex_decode(hash, 64, rec->hash) != TT_OK
        || body == NULL || body->type != TT_JSON_STRING)
    {
        return TT_ERR;
    }

    rec->body.data = body->str;
    rec->body.len = body->len;
    rec->route = (int) tt_ji(r, "route", 0);
    rec->status = (int) tt_ji(r, "status", 0);
    rec->expires_at = tt_ji(r, "expires_at", 0);

    return TT_OK;
}


static int
tt_idem_key(tt_skey_t *k, const char *ws_id, const tt_str_t *key)
{
    if (key->len == 0 || key->len > TT_IDEM_KEY_MAX) {
        return TT_INVALID;
    }

    return tt_store_key(k, "ib", ws_id, key->data, key->len);
}


int
tt_idem_get(tt_txn_t *t, const char *ws_id, const tt_str_t *key,
    int64_t now_ms, tt_arena_t *a, tt_idem_t *rec)
{
    int        rc;
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_idem_key(&k, ws_id, key) != TT_OK) {
        return TT_INVALID;
    }

    memset(rec, 0, sizeof(tt_idem_t));

    rc = tt_store_get_json(t, TT_DB_IDEM, &k, a, tt_idem_dec, rec);

    /*
     * purge runs now and then: until it does, expired is absent, by the
     * caller's clock so that one request sees one time throughout
     */
    if (rc == TT_OK && rec->expires_at <= now_ms) {
        return TT_NOTFOUND;
    }

    return rc;
}


static int
tt_idem_exp_key(tt_skey_t *k, int64_t expires_at, const char *ws_id,
    const tt_str_t *key)
{
    return tt_store_key(k, "uib", (uint64_t) expires_at, ws_id, key->data,
                        key->len);
}


int
tt_idem_put(tt_txn_t *t, const char *ws_id, const tt_str_t *key,
    const tt_idem_t *rec)
{
    int          rc;
    MDB_val      v;
    tt_idem_t    old;
    tt_skey_t    k, e;
    tt_arena_t  *a;

    tt_txn_check(t);

    if (tt_idem_key(&k, ws_id, key) != TT_OK || rec->expires_at < 0) {
        return TT_INVALID;
    }

    rc = tt_db_get(t, TT_DB_IDEM, &k, &v);

    if (rc == TT_OK) {
        a = tt_arena_create(4096);
        if (a == NULL) {
            return TT_NOMEM;
        }

        rc = tt_store_parse(t->st, &v, a, tt_idem_dec, &old);
        tt_arena_destroy(a);

        if (rc == TT_OK) {
            tt_idem_exp_key(&e, old.expires_at, ws_id, key);
            rc = tt_db_del(t, TT_DB_IDEM_EXP, &e);
        }
    }

    if (rc != TT_OK && rc != TT_NOTFOUND) {
        return tt_txn_fail(t, rc);
    }

    rc = tt_store_put_json(t, TT_DB_IDEM, &k, tt_idem_enc, rec);
    if (rc != TT_OK) {
        return rc;
    }

    tt_idem_exp_key(&e, rec->expires_at, ws_id, key);

    return tt_db_put(t, TT_DB_IDEM_EXP, &e, "", 0);
}


int
tt_idem_purge(tt_txn_t *t, int64_t now_ms, unsigned max)
{
    int          rc;
    MDB_val      key;
    unsigned     n;
    tt_skey_t    k, e;
    MDB_cursor  *c;

    tt_txn_check(t);

    rc = tt_db_cursor(t, TT_DB_IDEM_EXP, &c);
    if (rc != TT_OK) {
        return rc;
    }

    for (n = 0; n < max && rc == TT_OK; n++) {
        rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, NULL, MDB_FIRST));
        if (rc != TT_OK || key.mv_size <= 8 + TT_ID_SIZE
            || (int64_t) tt_store_be64(key.mv_data) > now_ms)
        {
            break;
        }

        /* the record's key is this one without the time */
        tt_store_key(&e, "b", key.mv_data, key.mv_size);
        tt_store_key(&k, "b", e.data + 8, e.val.mv_size - 8);

        rc = tt_db_del(t, TT_DB_IDEM, &k);
        if (rc == TT_OK) {
            rc = tt_db_del(t, TT_DB_IDEM_EXP, &e);
        }
    }

    mdb_cursor_close(c);

    return tt_txn_fail(t, rc == TT_NOTFOUND ? TT_OK : rc);
}
