/*
 * Copyright (C) the ngx_tiktok authors.
 * API keys, stored under the SHA-256 of the key.
 */


#include "tt_store_int.h"


/* API keys */

static int
tt_apikey_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    const tt_apikey_t  *k = obj;

    if (memchr(k->hint, '\0', sizeof(k->hint)) == NULL) {
        return TT_INVALID;
    }

    tt_jw_obj_open(w);
    tt_jw_member_int(w, "v", 1);
    tt_jw_member_str(w, "id", k->id);
    tt_jw_member_str(w, "workspace_id", k->workspace_id);
    tt_jw_member_str(w, "profile_group_id", k->profile_group_id);
    tt_jw_member_str(w, "name", k->name);
    tt_jw_member_str(w, "hint", k->hint);
    tt_jw_member_int(w, "created_at", k->created_at);
    tt_jw_member_int(w, "revoked_at", k->revoked_at);
    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_apikey_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a, void *obj)
{
    tt_apikey_t  *k = obj;
    const char   *hint;

    if (tt_jid(r, "id", k->id) != TT_OK
        || tt_jid(r, "workspace_id", k->workspace_id) != TT_OK
        || tt_jid(r, "profile_group_id", k->profile_group_id) != TT_OK)
    {
        return TT_ERR;
    }

    hint = tt_js(r, "hint");
    if (hint == NULL || strlen(hint) >= sizeof(k->hint)) {
        return TT_ERR;
    }

    memcpy(k->hint, hint, strlen(hint) + 1);
    k->name = tt_js(r, "name");
    k->created_at = tt_ji(r, "created_at", -1);
    k->revoked_at = tt_ji(r, "revoked_at", -1);

    return TT_OK;
}


int
tt_apikey_put(tt_txn_t *t, const uint8_t hash[32], const tt_apikey_t *k)
{
    tt_skey_t  key;

    tt_txn_check(t);

    if (k->id[0] == '\0' || k->workspace_id[0] == '\0') {
        return TT_INVALID;
    }

    tt_store_key(&key, "b", hash, (size_t) 32);

    return tt_store_put_json(t, TT_DB_KEYS, &key, tt_apikey_enc, k);
}


int
tt_apikey_get(tt_txn_t *t, const uint8_t hash[32], tt_arena_t *a,
    tt_apikey_t *k)
{
    tt_skey_t  key;

    tt_txn_check(t);

    tt_store_key(&key, "b", hash, (size_t) 32);
    memset(k, 0, sizeof(tt_apikey_t));

    return tt_store_get_json(t, TT_DB_KEYS, &key, a, tt_apikey_dec, k);
}


/* the stored record as it is (valid until the transaction ends) */
int
tt_apikey_get_raw(tt_txn_t *t, const uint8_t hash[32], tt_str_t *raw)
{
    int        rc;
    MDB_val    v;
    tt_skey_t  key;

    tt_txn_check(t);

    tt_store_key(&key, "b", hash, (size_t) 32);

    rc = tt_db_get(t, TT_DB_KEYS, &key, &v);
    if (rc != TT_OK) {
        return rc;
    }

    raw->data = v.mv_data;
    raw->len = v.mv_size;

    return TT_OK;
}


static int
tt_apikey_keep(const void *obj, const void *ctx)
{
    const tt_apikey_t  *k = obj;

    return ctx == NULL || strcmp(k->workspace_id, ctx) == 0;
}


int
tt_apikey_list(tt_txn_t *t, const char *ws_id, tt_arena_t *a,
    tt_apikey_t **out, size_t *n)
{
    tt_txn_check(t);

    return tt_store_scan(t, TT_DB_KEYS, a, tt_apikey_dec, tt_apikey_keep,
                         ws_id, sizeof(tt_apikey_t), (void **) out, n);
}


/* a rare admin action: a scan of the keys beats a second index */
int
tt_apikey_revoke(tt_txn_t *t, const char *key_id, int64_t now_ms)
{
    int           rc;
    MDB_val       key, val;
    tt_skey_t     k;
    tt_arena_t   *a;
    tt_apikey_t   rec;
    MDB_cursor   *c;

    tt_txn_check(t);

    a = tt_arena_create(4096);
    if (a == NULL) {
        return TT_NOMEM;
    }

    rc = tt_db_cursor(t, TT_DB_KEYS, &c);
    if (rc != TT_OK) {
        tt_arena_destroy(a);
        return rc;
    }

    rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, &val, MDB_FIRST));

    while (rc == TT_OK) {
        memset(&rec, 0, sizeof(tt_apikey_t));

        rc = tt_store_parse(t->st, &val, a, tt_apikey_dec, &rec);
        if (rc != TT_OK || strcmp(rec.id, key_id) == 0) {
            break;
        }

        rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, &val, MDB_NEXT));
    }

    if (rc == TT_OK) {
        tt_store_key(&k, "b", key.mv_data, key.mv_size);
    }

    mdb_cursor_close(c);

    if (rc == TT_OK && rec.revoked_at < 0) {
        rec.revoked_at = now_ms;
        rc = tt_store_put_json(t, TT_DB_KEYS, &k, tt_apikey_enc, &rec);
    }

    tt_arena_destroy(a);

    return tt_txn_fail(t, rc);
}
