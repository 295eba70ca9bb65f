/*
 * Copyright (C) the ngx_tiktok authors.
 * Connected TikTok profiles.
 */


#include "tt_store_int.h"
#include "tt_webhook.h"


/* profiles */

static int
tt_profile_enc_token(tt_txn_t *t, tt_jw_t *w, const char *id,
    const char *field, const char *plain)
{
    int       rc;
    tt_buf_t  b;

    if (plain == NULL) {
        return TT_OK;
    }

    tt_buf_init(&b);

    rc = tt_token_seal(t->st, id, field, plain, &b);
    if (rc == TT_OK) {
        tt_jw_key(w, field);
        tt_jw_str(w, b.data, b.len);
    }

    tt_buf_free(&b);

    return rc;
}


static int
tt_profile_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    const tt_profile_t  *p = obj;

    tt_jw_obj_open(w);
    tt_jw_member_int(w, "v", 1);
    tt_jw_member_str(w, "id", p->id);
    tt_jw_member_str(w, "workspace_id", p->workspace_id);
    tt_jw_member_str(w, "profile_group_id", p->profile_group_id);
    tt_jw_member_str(w, "platform", p->platform ? p->platform : "tiktok");
    tt_jw_member_str(w, "name", p->name);
    tt_jw_member_str(w, "username", p->username);
    tt_jw_member_str(w, "avatar_url", p->avatar_url);
    tt_jw_member_str(w, "open_id", p->open_id);
    tt_jw_member_str(w, "status", tt_profile_status_name(p->status));
    tt_jw_member_int(w, "created_at", p->created_at);
    tt_jw_member_int(w, "expires_at", p->expires_at);
    tt_jw_member_int(w, "refresh_expires_at", p->refresh_expires_at);
    tt_jw_member_str(w, "scope", p->scope);

    if (tt_profile_enc_token(t, w, p->id, "access_token", p->access_token)
        != TT_OK
        || tt_profile_enc_token(t, w, p->id, "refresh_token",
                                p->refresh_token)
           != TT_OK)
    {
        return TT_ERR;
    }

    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_profile_dec_token(tt_store_t *st, const tt_json_t *r, const char *id,
    const char *field, tt_arena_t *a, const char **plain)
{
    const char  *hex;

    *plain = NULL;

    hex = tt_js(r, field);
    if (hex == NULL || !st->open_tokens) {
        return TT_OK;
    }

    if (tt_token_open(st, id, field, hex, a, plain) != TT_OK) {
        st->last_error = "profile token does not open with the token key";
        return TT_ERR;
    }

    return TT_OK;
}


static int
tt_profile_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a, void *obj)
{
    const char    *s;
    tt_profile_t  *p = obj;

    if (tt_jid(r, "id", p->id) != TT_OK
        || tt_jid(r, "workspace_id", p->workspace_id) != TT_OK
        || tt_jid(r, "profile_group_id", p->profile_group_id) != TT_OK)
    {
        return TT_ERR;
    }

    p->platform = tt_js(r, "platform");
    p->name = tt_js(r, "name");
    p->username = tt_js(r, "username");
    p->avatar_url = tt_js(r, "avatar_url");
    p->open_id = tt_js(r, "open_id");
    p->scope = tt_js(r, "scope");
    p->created_at = tt_ji(r, "created_at", -1);
    p->expires_at = tt_ji(r, "expires_at", -1);
    p->refresh_expires_at = tt_ji(r, "refresh_expires_at", -1);

    s = tt_js(r, "status");
    p->status = tt_profile_status_parse(s);

    if (tt_profile_dec_token(st, r, p->id, "access_token", a,
                             &p->access_token)
        != TT_OK)
    {
        return TT_ERR;
    }

    return tt_profile_dec_token(st, r, p->id, "refresh_token", a,
                                &p->refresh_token);
}


/*
 * The index entries of a profile: its group's, its workspace's and its
 * open_id's (one TikTok account is one profile of a workspace).
 */
static int
tt_profile_index(tt_txn_t *t, const tt_profile_t *p, int add)
{
    int        rc;
    size_t     n;
    tt_skey_t  k;

    rc = TT_OK;

    if (p->profile_group_id[0] != '\0') {
        tt_store_key(&k, "ii", p->profile_group_id, p->id);
        rc = add ? tt_db_put(t, TT_DB_PG_PROFILES, &k, "", 0)
                 : tt_db_del(t, TT_DB_PG_PROFILES, &k);
    }

    if (rc == TT_OK && tt_store_key(&k, "ii", p->workspace_id, p->id) == 0) {
        rc = add ? tt_db_put(t, TT_DB_WS_PROFILES, &k, "", 0)
                 : tt_db_del(t, TT_DB_WS_PROFILES, &k);
    }

    n = p->open_id ? strlen(p->open_id) : 0;

    if (rc != TT_OK || n == 0
        || tt_store_key(&k, "ib", p->workspace_id, p->open_id, n) != TT_OK)
    {
        return rc;
    }

    return add ? tt_db_put(t, TT_DB_OPEN_IDS, &k, p->id, strlen(p->id))
               : tt_db_del(t, TT_DB_OPEN_IDS, &k);
}


/* the profile of a workspace that holds a TikTok account */
int
tt_profile_by_open_id(tt_txn_t *t, const char *ws_id, const char *open_id,
    tt_arena_t *a, tt_profile_t *p)
{
    int        rc;
    char       id[TT_ID_SIZE];
    MDB_val    v;
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "ib", ws_id, open_id, strlen(open_id)) != TT_OK) {
        return TT_NOTFOUND;
    }

    rc = tt_db_get(t, TT_DB_OPEN_IDS, &k, &v);
    if (rc != TT_OK) {
        return rc;
    }

    if (v.mv_size == 0 || v.mv_size >= TT_ID_SIZE) {
        t->st->last_error = "corrupt open_id index in the store";
        return TT_ERR;
    }

    memcpy(id, v.mv_data, v.mv_size);
    id[v.mv_size] = '\0';

    return tt_profile_get(t, id, a, p);
}


/*
 * What a profile may not share: a group holds one profile per platform,
 * a TikTok account is one profile of a workspace.  TT_EXISTS, *other
 * naming the profile in the way and *why the rule.
 */
int
tt_profile_check(tt_txn_t *t, const tt_profile_t *p, tt_arena_t *a,
    tt_profile_t *other, const char **why)
{
    int            rc;
    size_t         i, n;
    tt_profile_t  *list;

    rc = tt_profile_list(t, p->workspace_id, p->profile_group_id, a, &list,
                         &n);

    for (i = 0; rc == TT_OK && i < n; i++) {
        if (strcmp(list[i].id, p->id) != 0
            && strcmp(list[i].platform ? list[i].platform : "tiktok",
                      p->platform ? p->platform : "tiktok") == 0)
        {
            *other = list[i];
            *why = "the profile group already holds a TikTok profile";
            return TT_EXISTS;
        }
    }

    if (rc != TT_OK || p->open_id == NULL || p->open_id[0] == '\0') {
        return rc;
    }

    rc = tt_profile_by_open_id(t, p->workspace_id, p->open_id, a, other);

    if (rc == TT_OK && strcmp(other->id, p->id) != 0) {
        *why = "the TikTok account is already a profile of the workspace";
        return TT_EXISTS;
    }

    return rc == TT_OK || rc == TT_NOTFOUND ? TT_OK : rc;
}


int
tt_profile_put(tt_txn_t *t, const tt_profile_t *p)
{
    int            rc, found;
    const char    *why;
    tt_skey_t      k;
    tt_arena_t    *a;
    tt_profile_t   old, other;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", p->id) != TT_OK
        || p->workspace_id[0] == '\0'
        || (p->open_id != NULL && strlen(p->open_id) > 400))
    {
        return TT_INVALID;
    }

    /* never store a token in the clear */
    if (!t->st->has_key
        && (p->access_token != NULL || p->refresh_token != NULL))
    {
        t->st->last_error = "no token key to seal profile tokens with";
        return TT_INVALID;
    }

    /* a process that never opens tokens read none: it would drop them */
    if (t->st->has_key && !t->st->open_tokens) {
        t->st->last_error = "this process does not open profile tokens";
        return TT_INVALID;
    }

    a = tt_arena_create(4096);
    if (a == NULL) {
        return tt_txn_fail(t, TT_NOMEM);
    }

    rc = tt_profile_check(t, p, a, &other, &why);
    found = 0;

    if (rc == TT_OK) {
        rc = tt_profile_get(t, p->id, a, &old);
        if (rc == TT_OK) {
            found = 1;
            rc = tt_profile_index(t, &old, 0);

        } else if (rc == TT_NOTFOUND) {
            rc = TT_OK;
        }
    }

    if (rc == TT_OK) {
        rc = tt_store_put_json(t, TT_DB_PROFILES, &k, tt_profile_enc, p);
    }

    if (rc == TT_OK) {
        rc = tt_profile_index(t, p, 1);
    }

    /* the webhooks' events of its status change, in this transaction */
    if (rc == TT_OK) {
        rc = tt_event_profile(t, found ? &old : NULL, p);
    }

    tt_arena_destroy(a);

    return rc;
}


/* the API's profile object: what a client may know, never a token */
void
tt_profile_render(tt_jw_t *w, const tt_profile_t *p)
{
    const char  *s, *e;

    tt_jw_obj_open(w);
    tt_jw_key(w, "id");
    tt_jw_cstr(w, p->id);
    tt_jw_key(w, "platform");
    tt_jw_cstr(w, p->platform);
    tt_jw_key(w, "name");
    tt_jw_cstr(w, p->name);
    tt_jw_key(w, "username");
    tt_jw_cstr(w, p->username);
    tt_jw_key(w, "status");
    tt_jw_cstr(w, tt_profile_status_name(p->status));
    tt_jw_key(w, "profile_group_id");
    tt_jw_cstr(w, p->profile_group_id);
    tt_jw_key(w, "expires_at");
    tt_jw_time(w, p->expires_at);
    tt_jw_key(w, "avatar_url");
    tt_jw_cstr(w, p->avatar_url);
    tt_jw_key(w, "scopes");
    tt_jw_arr_open(w);

    for (s = p->scope; s != NULL && *s != '\0'; s = e + (*e == ',')) {
        e = strchr(s, ',');
        if (e == NULL) {
            e = s + strlen(s);
        }

        if (e > s) {
            tt_jw_str(w, s, (size_t) (e - s));
        }
    }

    tt_jw_arr_close(w);
    tt_jw_obj_close(w);
}


int
tt_profile_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_profile_t *p)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    memset(p, 0, sizeof(tt_profile_t));

    return tt_store_get_json(t, TT_DB_PROFILES, &k, a, tt_profile_dec, p);
}


/* the records whose ids follow prefix k in the index db */
static int
tt_profile_walk(tt_txn_t *t, int db, tt_skey_t *k, const char *ws_id,
    tt_arena_t *a, tt_profile_t **out, size_t *n)
{
    int            rc;
    char           id[TT_ID_SIZE];
    size_t         cap, plen;
    MDB_val        key;
    MDB_cursor    *c;
    tt_profile_t  *p;

    cap = 0;
    plen = k->val.mv_size;

    rc = tt_db_cursor(t, db, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_db_seek(t, c, k, 0, &key);

    while (rc == TT_OK && key.mv_size == plen + TT_ID_SIZE
           && memcmp(key.mv_data, k->data, plen) == 0)
    {
        tt_store_key_id((uint8_t *) key.mv_data + plen, id);

        p = tt_store_push(a, (void **) out, n, &cap, sizeof(tt_profile_t));
        if (p == NULL) {
            rc = TT_NOMEM;
            break;
        }

        rc = tt_profile_get(t, id, a, p);

        if (rc == TT_NOTFOUND || (rc == TT_OK && ws_id != NULL
                                  && strcmp(p->workspace_id, ws_id) != 0))
        {
            (*n)--;
            rc = TT_OK;
        }

        if (rc == TT_OK) {
            rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, NULL, MDB_NEXT));
        }
    }

    mdb_cursor_close(c);

    return tt_txn_fail(t, rc == TT_NOTFOUND ? TT_OK : rc);
}


int
tt_profile_list(tt_txn_t *t, const char *ws_id, const char *group_id,
    tt_arena_t *a, tt_profile_t **out, size_t *n)
{
    tt_skey_t  k;

    tt_txn_check(t);

    *out = NULL;
    *n = 0;

    if (group_id != NULL) {
        if (tt_store_key(&k, "i", group_id) != TT_OK) {
            return TT_OK;
        }

        return tt_profile_walk(t, TT_DB_PG_PROFILES, &k, ws_id, a, out, n);
    }

    if (ws_id != NULL) {
        if (tt_store_key(&k, "i", ws_id) != TT_OK) {
            return TT_OK;
        }

        return tt_profile_walk(t, TT_DB_WS_PROFILES, &k, NULL, a, out, n);
    }

    /* every profile of the store: an admin's listing */
    return tt_store_scan(t, TT_DB_PROFILES, a, tt_profile_dec, NULL, NULL,
                         sizeof(tt_profile_t), (void **) out, n);
}


int
tt_profile_del(tt_txn_t *t, const char *id)
{
    int            rc;
    tt_arena_t    *a;
    tt_skey_t      k;
    tt_profile_t   old;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    a = tt_arena_create(4096);
    if (a == NULL) {
        return tt_txn_fail(t, TT_NOMEM);
    }

    rc = tt_profile_get(t, id, a, &old);
    if (rc == TT_OK) {
        rc = tt_profile_index(t, &old, 0);
    }

    if (rc == TT_OK) {
        rc = tt_event_profile(t, &old, NULL);
    }

    tt_arena_destroy(a);

    if (rc != TT_OK) {
        return rc;
    }

    return tt_db_del(t, TT_DB_PROFILES, &k);
}


/* schema 2: the group, workspace and open_id entries of every profile */
int
tt_profile_reindex(tt_txn_t *t)
{
    int            rc;
    size_t         i, n;
    tt_arena_t    *a;
    tt_profile_t  *list;

    a = tt_arena_create(65536);
    if (a == NULL) {
        return TT_NOMEM;
    }

    rc = tt_store_scan(t, TT_DB_PROFILES, a, tt_profile_dec, NULL, NULL,
                       sizeof(tt_profile_t), (void **) &list, &n);

    for (i = 0; rc == TT_OK && i < n; i++) {
        rc = tt_profile_index(t, &list[i], 1);
    }

    tt_arena_destroy(a);

    return rc;
}
