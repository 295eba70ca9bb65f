/*
 * Copyright (C) the ngx_tiktok authors.
 * API keys, stored under the SHA-256 of the key, with two indexes: a
 * workspace's keys (ws_keys) and a key's hash by its id (key_ids).
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


/* the index entries of a key, in or out */
static int
tt_apikey_index(tt_txn_t *t, const uint8_t hash[32], const tt_apikey_t *k,
    int add)
{
    int        rc;
    tt_skey_t  ws, id;

    if (tt_store_key(&ws, "ib", k->workspace_id, hash, (size_t) 32)
        != TT_OK
        || tt_store_key(&id, "i", k->id) != TT_OK)
    {
        return TT_INVALID;
    }

    if (!add) {
        rc = tt_db_del(t, TT_DB_WS_KEYS, &ws);
        return rc == TT_OK ? tt_db_del(t, TT_DB_KEY_IDS, &id) : rc;
    }

    rc = tt_db_put(t, TT_DB_WS_KEYS, &ws, "", 0);

    return rc == TT_OK ? tt_db_put(t, TT_DB_KEY_IDS, &id, hash, 32) : rc;
}


int
tt_apikey_put(tt_txn_t *t, const uint8_t hash[32], const tt_apikey_t *k)
{
    int          rc;
    tt_skey_t    key;
    tt_arena_t  *a;
    tt_apikey_t  old;

    tt_txn_check(t);

    if (k->id[0] == '\0' || k->workspace_id[0] == '\0') {
        return TT_INVALID;
    }

    a = tt_arena_create(1024);
    if (a == NULL) {
        return TT_NOMEM;
    }

    /* a record put again under the same hash drops its old entries */
    rc = tt_apikey_get(t, hash, a, &old);

    if (rc == TT_OK) {
        rc = tt_apikey_index(t, hash, &old, 0);

    } else if (rc == TT_NOTFOUND) {
        rc = TT_OK;
    }

    tt_arena_destroy(a);

    if (rc == TT_OK) {
        rc = tt_apikey_index(t, hash, k, 1);
    }

    if (rc != TT_OK) {
        return rc;
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
    return 1;
}


/* a workspace's keys from its index; NULL: every key (the admin's list) */
int
tt_apikey_list(tt_txn_t *t, const char *ws_id, tt_arena_t *a,
    tt_apikey_t **out, size_t *n)
{
    int           rc;
    size_t        cap;
    MDB_val       key;
    tt_skey_t     k;
    tt_apikey_t  *rec;
    MDB_cursor   *c;

    tt_txn_check(t);

    if (ws_id == NULL) {
        return tt_store_scan(t, TT_DB_KEYS, a, tt_apikey_dec, tt_apikey_keep,
                             NULL, sizeof(tt_apikey_t), (void **) out, n);
    }

    *out = NULL;
    *n = 0;
    cap = 0;

    if (tt_store_key(&k, "i", ws_id) != TT_OK) {
        return TT_OK;
    }

    rc = tt_db_cursor(t, TT_DB_WS_KEYS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_db_seek(t, c, &k, 0, &key);

    while (rc == TT_OK && key.mv_size == TT_ID_SIZE + 32
           && memcmp(key.mv_data, k.data, TT_ID_SIZE) == 0)
    {
        rec = tt_store_push(a, (void **) out, n, &cap, sizeof(tt_apikey_t));
        if (rec == NULL) {
            rc = TT_NOMEM;
            break;
        }

        rc = tt_apikey_get(t, (uint8_t *) key.mv_data + TT_ID_SIZE, a, rec);
        if (rc == TT_NOTFOUND) {
            (*n)--;
            rc = TT_OK;

        } else if (rc != TT_OK) {
            break;
        }

        rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, NULL, MDB_NEXT));
    }

    mdb_cursor_close(c);

    return tt_txn_fail(t, rc == TT_NOTFOUND ? TT_OK : rc);
}


/* a key found by its id in key_ids; revoking twice keeps the first time */
int
tt_apikey_revoke(tt_txn_t *t, const char *key_id, int64_t now_ms)
{
    int           rc;
    MDB_val       v;
    uint8_t       hash[32];
    tt_skey_t     k;
    tt_arena_t   *a;
    tt_apikey_t   rec;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", key_id) != TT_OK) {
        return TT_NOTFOUND;
    }

    rc = tt_db_get(t, TT_DB_KEY_IDS, &k, &v);
    if (rc != TT_OK) {
        return rc;
    }

    if (v.mv_size != 32) {
        t->st->last_error = "corrupt key id index in the store";
        return tt_txn_fail(t, TT_ERR);
    }

    memcpy(hash, v.mv_data, 32);

    a = tt_arena_create(1024);
    if (a == NULL) {
        return TT_NOMEM;
    }

    rc = tt_apikey_get(t, hash, a, &rec);

    if (rc == TT_OK && rec.revoked_at < 0) {
        rec.revoked_at = now_ms;
        rc = tt_apikey_put(t, hash, &rec);
    }

    tt_arena_destroy(a);

    return rc == TT_NOTFOUND ? tt_txn_fail(t, TT_ERR) : rc;
}


/* schema 3: the indexes of the keys already stored */
int
tt_apikey_reindex(tt_txn_t *t)
{
    int           rc;
    MDB_val       key, val;
    uint8_t       hash[32];
    tt_arena_t   *a;
    tt_apikey_t   rec;
    MDB_cursor   *c;

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

        if (rc == TT_OK && key.mv_size == 32) {
            memcpy(hash, key.mv_data, 32);
            rc = tt_apikey_index(t, hash, &rec, 1);
        }

        if (rc == TT_OK) {
            rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, &val, MDB_NEXT));
        }
    }

    mdb_cursor_close(c);
    tt_arena_destroy(a);

    return tt_txn_fail(t, rc == TT_NOTFOUND ? TT_OK : rc);
}
