/*
 * Copyright (C) the ngx_tiktok authors.
 * Workspaces.
 */


#include "tt_store_int.h"


/* workspaces */

static int
tt_ws_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    const tt_workspace_t  *ws = obj;

    tt_jw_obj_open(w);
    tt_jw_member_int(w, "v", 1);
    tt_jw_member_str(w, "id", ws->id);
    tt_jw_member_str(w, "name", ws->name ? ws->name : "");
    tt_jw_member_int(w, "created_at", ws->created_at);
    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_ws_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a, void *obj)
{
    tt_workspace_t  *ws = obj;

    if (tt_jid(r, "id", ws->id) != TT_OK) {
        return TT_ERR;
    }

    ws->name = tt_js(r, "name");
    ws->name = ws->name ? ws->name : "";
    ws->created_at = tt_ji(r, "created_at", -1);

    return TT_OK;
}


int
tt_ws_put(tt_txn_t *t, const tt_workspace_t *ws)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", ws->id) != TT_OK) {
        return TT_INVALID;
    }

    return tt_store_put_json(t, TT_DB_WORKSPACES, &k, tt_ws_enc, ws);
}


int
tt_ws_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_workspace_t *ws)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    memset(ws, 0, sizeof(tt_workspace_t));

    return tt_store_get_json(t, TT_DB_WORKSPACES, &k, a, tt_ws_dec, ws);
}


int
tt_ws_list(tt_txn_t *t, tt_arena_t *a, tt_workspace_t **out, size_t *n)
{
    tt_txn_check(t);

    return tt_store_scan(t, TT_DB_WORKSPACES, a, tt_ws_dec, NULL, NULL,
                         sizeof(tt_workspace_t), (void **) out, n);
}
