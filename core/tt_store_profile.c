/*
 * Copyright (C) the ngx_tiktok authors.
 * Connected TikTok profiles.
 */


#include "tt_store_int.h"


/* profiles */

static const char  *tt_profile_status_names[] = {
    "active", "expired", "revoked"
};


const char *
tt_profile_status_name(tt_profile_status_e s)
{
    if ((size_t) s >= TT_ARRAY_SIZE(tt_profile_status_names)) {
        return "unknown";
    }

    return tt_profile_status_names[s];
}


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
    if (hex == NULL || !st->has_key) {
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
    size_t         i;
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
    p->status = TT_PROFILE_ACTIVE;

    for (i = 0; s != NULL && i < TT_ARRAY_SIZE(tt_profile_status_names); i++)
    {
        if (strcmp(s, tt_profile_status_names[i]) == 0) {
            p->status = (tt_profile_status_e) i;
        }
    }

    if (tt_profile_dec_token(st, r, p->id, "access_token", a,
                             &p->access_token)
        != TT_OK)
    {
        return TT_ERR;
    }

    return tt_profile_dec_token(st, r, p->id, "refresh_token", a,
                                &p->refresh_token);
}


int
tt_profile_put(tt_txn_t *t, const tt_profile_t *p)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", p->id) != TT_OK
        || p->workspace_id[0] == '\0')
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

    return tt_store_put_json(t, TT_DB_PROFILES, &k, tt_profile_enc, p);
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


typedef struct {
    const char     *ws_id;
    const char     *group_id;
} tt_profile_filter_t;


static int
tt_profile_keep(const void *obj, const void *ctx)
{
    const tt_profile_t         *p = obj;
    const tt_profile_filter_t  *f = ctx;

    return (f->ws_id == NULL || strcmp(p->workspace_id, f->ws_id) == 0)
           && (f->group_id == NULL
               || strcmp(p->profile_group_id, f->group_id) == 0);
}


int
tt_profile_list(tt_txn_t *t, const char *ws_id, const char *group_id,
    tt_arena_t *a, tt_profile_t **out, size_t *n)
{
    tt_profile_filter_t  f;

    tt_txn_check(t);

    f.ws_id = ws_id;
    f.group_id = group_id;

    return tt_store_scan(t, TT_DB_PROFILES, a, tt_profile_dec,
                         tt_profile_keep, &f, sizeof(tt_profile_t),
                         (void **) out, n);
}


int
tt_profile_del(tt_txn_t *t, const char *id)
{
    int        rc;
    MDB_val    v;
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    rc = tt_db_get(t, TT_DB_PROFILES, &k, &v);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_db_del(t, TT_DB_PROFILES, &k);
}
