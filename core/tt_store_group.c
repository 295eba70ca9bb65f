/*
 * Copyright (C) the ngx_tiktok authors.
 * Profile groups and their workspace index.
 */


#include "tt_store_int.h"


/* profile groups */

static int
tt_group_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    const tt_group_t  *g = obj;

    tt_jw_obj_open(w);
    tt_jw_member_int(w, "v", 1);
    tt_jw_member_str(w, "id", g->id);
    tt_jw_member_str(w, "workspace_id", g->workspace_id);
    tt_jw_member_str(w, "name", g->name ? g->name : "");
    tt_jw_member_int(w, "created_at", g->created_at);
    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_group_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a, void *obj)
{
    tt_group_t  *g = obj;

    if (tt_jid(r, "id", g->id) != TT_OK
        || tt_jid(r, "workspace_id", g->workspace_id) != TT_OK)
    {
        return TT_ERR;
    }

    g->name = tt_js(r, "name");
    g->name = g->name ? g->name : "";
    g->created_at = tt_ji(r, "created_at", -1);

    return TT_OK;
}


static int
tt_group_index(tt_txn_t *t, const tt_group_t *g, int add)
{
    tt_skey_t  k;

    if (tt_store_key(&k, "iui", g->workspace_id, (uint64_t) g->created_at,
                     g->id)
        != TT_OK)
    {
        return TT_INVALID;
    }

    return add ? tt_db_put(t, TT_DB_WS_GROUPS, &k, "", 0)
               : tt_db_del(t, TT_DB_WS_GROUPS, &k);
}


/* the old record, if any, so that a replace moves its index entry */
static int
tt_group_old(tt_txn_t *t, const char *id, tt_group_t *old)
{
    int          rc;
    tt_arena_t  *a;

    a = tt_arena_create(1024);
    if (a == NULL) {
        return TT_NOMEM;
    }

    rc = tt_group_get(t, id, a, old);
    old->name = NULL;

    tt_arena_destroy(a);

    return rc;
}


int
tt_group_put(tt_txn_t *t, const tt_group_t *g)
{
    int         rc;
    tt_group_t  old;
    tt_skey_t   k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", g->id) != TT_OK || g->created_at < 0
        || g->workspace_id[0] == '\0')
    {
        return TT_INVALID;
    }

    rc = tt_group_old(t, g->id, &old);
    if (rc == TT_OK) {
        rc = tt_group_index(t, &old, 0);
    }

    if (rc != TT_OK && rc != TT_NOTFOUND) {
        return rc;
    }

    rc = tt_store_put_json(t, TT_DB_GROUPS, &k, tt_group_enc, g);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_group_index(t, g, 1);
}


int
tt_group_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_group_t *g)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    memset(g, 0, sizeof(tt_group_t));

    return tt_store_get_json(t, TT_DB_GROUPS, &k, a, tt_group_dec, g);
}


int
tt_group_list(tt_txn_t *t, const char *ws_id, tt_arena_t *a,
    tt_group_t **out, size_t *n)
{
    int          rc;
    char         id[TT_ID_SIZE];
    size_t       cap;
    MDB_val      key;
    tt_skey_t    k;
    tt_group_t  *g;
    MDB_cursor  *c;

    tt_txn_check(t);

    *out = NULL;
    *n = 0;
    cap = 0;

    if (tt_store_key(&k, "i", ws_id) != TT_OK) {
        return TT_OK;
    }

    rc = tt_db_cursor(t, TT_DB_WS_GROUPS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_db_seek(t, c, &k, 0, &key);

    while (rc == TT_OK && key.mv_size == 2 * TT_ID_SIZE + 8
           && memcmp(key.mv_data, k.data, TT_ID_SIZE) == 0)
    {
        tt_store_key_id((uint8_t *) key.mv_data + TT_ID_SIZE + 8, id);

        g = tt_store_push(a, (void **) out, n, &cap, sizeof(tt_group_t));
        if (g == NULL) {
            rc = TT_NOMEM;
            break;
        }

        rc = tt_group_get(t, id, a, g);
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


/* the workspace's oldest group, TT_NOTFOUND if it has none */
int
tt_group_first(tt_txn_t *t, const char *ws_id, tt_arena_t *a, tt_group_t *g)
{
    int          rc;
    char         id[TT_ID_SIZE];
    MDB_val      key;
    tt_skey_t    k;
    MDB_cursor  *c;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", ws_id) != TT_OK) {
        return TT_NOTFOUND;
    }

    rc = tt_db_cursor(t, TT_DB_WS_GROUPS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_db_seek(t, c, &k, 0, &key);

    if (rc == TT_OK && (key.mv_size != 2 * TT_ID_SIZE + 8
                        || memcmp(key.mv_data, k.data, TT_ID_SIZE) != 0))
    {
        rc = TT_NOTFOUND;
    }

    if (rc == TT_OK) {
        tt_store_key_id((uint8_t *) key.mv_data + TT_ID_SIZE + 8, id);
    }

    mdb_cursor_close(c);

    return rc == TT_OK ? tt_group_get(t, id, a, g) : rc;
}


int
tt_group_del(tt_txn_t *t, const char *id)
{
    int         rc;
    tt_group_t  old;
    tt_skey_t   k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    rc = tt_group_old(t, id, &old);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_group_index(t, &old, 0);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_db_del(t, TT_DB_GROUPS, &k);
}
