/*
 * Copyright (C) the ngx_tiktok authors.
 * Connecting TikTok accounts: the connections of the OAuth flow, their
 * states, the scheduler's work (codes to exchange, tokens to revoke), and
 * sealing everything again under a new key.
 */


#include "tt_store_int.h"
#include "tt_webhook.h"


#define TT_WORK_EXCHANGE  'x'
#define TT_WORK_REVOKE    'r'
#define TT_WORK_PURGE     'e'


static const char  *tt_conn_status_names[] = {
    "waiting", "exchanging", "connected", "failed"
};


const char *
tt_conn_status_name(tt_conn_status_e s)
{
    if ((size_t) s >= TT_ARRAY_SIZE(tt_conn_status_names)) {
        return "unknown";
    }

    return tt_conn_status_names[s];
}


/* a secret of a record: sealed from plain, else the sealed copy kept */
static int
tt_oauth_enc_secret(tt_txn_t *t, tt_jw_t *w, const char *id,
    const char *field, const char *plain, const char *sealed)
{
    int       rc;
    tt_buf_t  b;

    if (plain == NULL) {
        if (sealed != NULL) {
            tt_jw_member_str(w, field, sealed);
        }

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
tt_oauth_dec_secret(tt_store_t *st, const tt_json_t *r, const char *id,
    const char *field, tt_arena_t *a, const char **plain, const char **sealed)
{
    *plain = NULL;
    *sealed = tt_js(r, field);

    if (*sealed == NULL || !st->open_tokens) {
        return TT_OK;
    }

    if (tt_token_open(st, id, field, *sealed, a, plain) != TT_OK) {
        st->last_error = "an OAuth secret does not open with the token keys";
        return TT_ERR;
    }

    return TT_OK;
}


static int
tt_conn_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    char              hash[65];
    const tt_conn_t  *c = obj;

    tt_hex(c->state_hash, 32, hash);

    tt_jw_obj_open(w);
    tt_jw_member_int(w, "v", 1);
    tt_jw_member_str(w, "id", c->id);
    tt_jw_member_str(w, "workspace_id", c->workspace_id);
    tt_jw_member_str(w, "profile_group_id", c->profile_group_id);
    tt_jw_member_str(w, "state_hash", hash);
    tt_jw_member_str(w, "redirect_url", c->redirect_url);
    tt_jw_member_str(w, "redirect_uri", c->redirect_uri);
    tt_jw_member_str(w, "status", tt_conn_status_name(c->status));
    tt_jw_member_str(w, "reason", c->reason);
    tt_jw_member_str(w, "message", c->message);
    tt_jw_member_str(w, "profile_id", c->profile_id[0] ? c->profile_id
                                                       : NULL);
    tt_jw_member_str(w, "scopes", c->scopes);
    tt_jw_member_int(w, "created_at", c->created_at);
    tt_jw_member_int(w, "expires_at", c->expires_at);
    tt_jw_member_int(w, "updated_at", c->updated_at);

    if (tt_oauth_enc_secret(t, w, c->id, "code", c->code, c->code_sealed)
        != TT_OK
        || tt_oauth_enc_secret(t, w, c->id, "verifier", c->verifier,
                               c->verifier_sealed)
           != TT_OK)
    {
        return TT_ERR;
    }

    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_conn_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a, void *obj)
{
    size_t       i;
    const char  *s;
    tt_conn_t   *c = obj;

    if (tt_jid(r, "id", c->id) != TT_OK
        || tt_jid(r, "workspace_id", c->workspace_id) != TT_OK
        || tt_jid(r, "profile_group_id", c->profile_group_id) != TT_OK)
    {
        return TT_ERR;
    }

    s = tt_js(r, "state_hash");
    if (s == NULL || strlen(s) != 64
        || tt_hex_decode(s, 64, c->state_hash) != TT_OK)
    {
        return TT_ERR;
    }

    c->redirect_url = tt_js(r, "redirect_url");
    c->redirect_uri = tt_js(r, "redirect_uri");
    c->reason = tt_js(r, "reason");
    c->message = tt_js(r, "message");
    c->scopes = tt_js(r, "scopes");
    c->created_at = tt_ji(r, "created_at", -1);
    c->expires_at = tt_ji(r, "expires_at", -1);
    c->updated_at = tt_ji(r, "updated_at", -1);

    if (tt_js(r, "profile_id") != NULL
        && tt_jid(r, "profile_id", c->profile_id) != TT_OK)
    {
        return TT_ERR;
    }

    s = tt_js(r, "status");
    c->status = TT_CONN_FAILED;

    for (i = 0; s != NULL && i < TT_ARRAY_SIZE(tt_conn_status_names); i++) {
        if (strcmp(s, tt_conn_status_names[i]) == 0) {
            c->status = (tt_conn_status_e) i;
        }
    }

    if (tt_oauth_dec_secret(st, r, c->id, "code", a, &c->code,
                            &c->code_sealed)
        != TT_OK)
    {
        return TT_ERR;
    }

    return tt_oauth_dec_secret(st, r, c->id, "verifier", a, &c->verifier,
                               &c->verifier_sealed);
}


/* the work entries of a connection: its exchange while EXCHANGING, and
 * its purge at TT_CONN_KEEP_MS after its creation */
static int
tt_conn_work(tt_txn_t *t, const tt_conn_t *c, int add)
{
    int        rc;
    tt_skey_t  k;

    if (tt_store_key(&k, "ci", TT_WORK_EXCHANGE, c->id) != TT_OK) {
        return TT_INVALID;
    }

    rc = (add && c->status == TT_CONN_EXCHANGING)
         ? tt_db_put(t, TT_DB_OAUTH_WORK, &k, "", 0)
         : tt_db_del(t, TT_DB_OAUTH_WORK, &k);

    if (rc != TT_OK) {
        return rc;
    }

    tt_store_key(&k, "cui", TT_WORK_PURGE,
                 (uint64_t) (c->created_at + TT_CONN_KEEP_MS), c->id);

    if (!add) {
        return tt_db_del(t, TT_DB_OAUTH_WORK, &k);
    }

    rc = tt_db_put(t, TT_DB_OAUTH_WORK, &k, "", 0);

    if (rc == TT_OK) {
        tt_store_key(&k, "b", c->state_hash, (size_t) 32);
        rc = tt_db_put(t, TT_DB_OAUTH_STATES, &k, c->id, strlen(c->id));
    }

    return rc;
}


int
tt_conn_put(tt_txn_t *t, const tt_conn_t *c)
{
    int        rc;
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", c->id) != TT_OK || c->created_at < 0) {
        return TT_INVALID;
    }

    if (!t->st->has_key && (c->code != NULL || c->verifier != NULL)) {
        t->st->last_error = "no token key to seal the OAuth code with";
        return TT_INVALID;
    }

    rc = tt_store_put_json(t, TT_DB_OAUTH, &k, tt_conn_enc, c);

    if (rc == TT_OK) {
        rc = tt_conn_work(t, c, 1);
    }

    return rc;
}


int
tt_conn_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_conn_t *c)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    memset(c, 0, sizeof(tt_conn_t));

    return tt_store_get_json(t, TT_DB_OAUTH, &k, a, tt_conn_dec, c);
}


int
tt_conn_by_state(tt_txn_t *t, const uint8_t hash[32], tt_arena_t *a,
    tt_conn_t *c)
{
    int        rc;
    char       id[TT_ID_SIZE];
    MDB_val    v;
    tt_skey_t  k;

    tt_txn_check(t);

    tt_store_key(&k, "b", hash, (size_t) 32);

    rc = tt_db_get(t, TT_DB_OAUTH_STATES, &k, &v);
    if (rc != TT_OK) {
        return rc;
    }

    if (v.mv_size == 0 || v.mv_size >= TT_ID_SIZE) {
        t->st->last_error = "corrupt OAuth state index in the store";
        return TT_ERR;
    }

    memcpy(id, v.mv_data, v.mv_size);
    id[v.mv_size] = '\0';

    return tt_conn_get(t, id, a, c);
}


/* the ids after a one-byte type in oauth_work, each handed to cb */
typedef int (*tt_work_pt)(tt_txn_t *t, const uint8_t *rest, size_t len,
    const MDB_val *v, void *ctx);

static int
tt_work_walk(tt_txn_t *t, int type, tt_work_pt cb, void *ctx)
{
    int          rc;
    MDB_val      key, v;
    tt_skey_t    k;
    MDB_cursor  *c;

    tt_store_key(&k, "c", type);

    rc = tt_db_cursor(t, TT_DB_OAUTH_WORK, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_db_seek(t, c, &k, 0, &key);

    while (rc == TT_OK && key.mv_size > 1
           && *(uint8_t *) key.mv_data == (uint8_t) type)
    {
        rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, &v,
                                               MDB_GET_CURRENT));
        if (rc != TT_OK) {
            break;
        }

        rc = cb(t, (uint8_t *) key.mv_data + 1, key.mv_size - 1, &v, ctx);

        if (rc == TT_OK) {
            rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, NULL, MDB_NEXT));
        }
    }

    mdb_cursor_close(c);

    return tt_txn_fail(t, rc == TT_NOTFOUND ? TT_OK : rc);
}


typedef struct {
    tt_arena_t     *a;
    void           *arr;
    size_t          n;
    size_t          cap;
} tt_work_list_t;


static int
tt_conn_pending_one(tt_txn_t *t, const uint8_t *rest, size_t len,
    const MDB_val *v, void *ctx)
{
    int              rc;
    char             id[TT_ID_SIZE];
    tt_conn_t       *c;
    tt_work_list_t  *l = ctx;

    (void) v;

    if (len != TT_ID_SIZE) {
        return TT_OK;
    }

    tt_store_key_id(rest, id);

    c = tt_store_push(l->a, &l->arr, &l->n, &l->cap, sizeof(tt_conn_t));
    if (c == NULL) {
        return TT_NOMEM;
    }

    rc = tt_conn_get(t, id, l->a, c);

    if (rc == TT_NOTFOUND) {
        l->n--;
        return TT_OK;
    }

    return rc;
}


int
tt_conn_pending(tt_txn_t *t, tt_arena_t *a, tt_conn_t **out, size_t *n)
{
    int             rc;
    tt_work_list_t  l;

    tt_txn_check(t);

    memset(&l, 0, sizeof(l));
    l.a = a;

    rc = tt_work_walk(t, TT_WORK_EXCHANGE, tt_conn_pending_one, &l);

    *out = l.arr;
    *n = l.n;

    return rc;
}


int
tt_conn_purge(tt_txn_t *t, int64_t now_ms, unsigned max)
{
    int          rc;
    char         id[TT_ID_SIZE];
    unsigned     done;
    MDB_val      key;
    tt_skey_t    k;
    tt_conn_t    c;
    tt_arena_t  *a;

    tt_txn_check(t);

    a = tt_arena_create(4096);
    if (a == NULL) {
        return tt_txn_fail(t, TT_NOMEM);
    }

    rc = TT_OK;

    for (done = 0; rc == TT_OK && done < max; done++) {
        MDB_cursor  *cur;

        tt_store_key(&k, "c", TT_WORK_PURGE);

        rc = tt_db_cursor(t, TT_DB_OAUTH_WORK, &cur);
        if (rc != TT_OK) {
            break;
        }

        rc = tt_db_seek(t, cur, &k, 0, &key);
        mdb_cursor_close(cur);

        if (rc != TT_OK || key.mv_size != 1 + 8 + TT_ID_SIZE
            || *(uint8_t *) key.mv_data != TT_WORK_PURGE
            || (int64_t) tt_store_be64((uint8_t *) key.mv_data + 1) > now_ms)
        {
            break;
        }

        tt_store_key_id((uint8_t *) key.mv_data + 9, id);
        tt_store_key(&k, "b", key.mv_data, key.mv_size);
        rc = tt_db_del(t, TT_DB_OAUTH_WORK, &k);

        if (rc == TT_OK && tt_conn_get(t, id, a, &c) == TT_OK) {
            rc = tt_conn_work(t, &c, 0);

            if (rc == TT_OK) {
                tt_store_key(&k, "b", c.state_hash, (size_t) 32);
                rc = tt_db_del(t, TT_DB_OAUTH_STATES, &k);
            }

            if (rc == TT_OK && tt_store_key(&k, "i", id) == TT_OK) {
                rc = tt_db_del(t, TT_DB_OAUTH, &k);
            }
        }
    }

    tt_arena_destroy(a);

    return rc == TT_NOTFOUND ? TT_OK : rc;
}


/* revocations */

static int
tt_revoke_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    const tt_revoke_t  *r = obj;

    tt_jw_obj_open(w);
    tt_jw_member_int(w, "v", 1);
    tt_jw_member_str(w, "profile_id", r->profile_id);
    tt_jw_member_str(w, "workspace_id", r->workspace_id);
    tt_jw_member_str(w, "open_id", r->open_id);
    tt_jw_member_int(w, "created_at", r->created_at);
    tt_jw_member_int(w, "tries", r->tries);

    /* the profile's own AAD: the token moves without being opened */
    if (tt_oauth_enc_secret(t, w, r->profile_id, "access_token",
                            r->access_token, r->sealed)
        != TT_OK)
    {
        return TT_ERR;
    }

    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_revoke_dec(tt_store_t *st, const tt_json_t *j, tt_arena_t *a, void *obj)
{
    tt_revoke_t  *r = obj;

    if (tt_jid(j, "profile_id", r->profile_id) != TT_OK
        || tt_jid(j, "workspace_id", r->workspace_id) != TT_OK)
    {
        return TT_ERR;
    }

    r->open_id = tt_js(j, "open_id");
    r->created_at = tt_ji(j, "created_at", -1);
    r->tries = tt_ji(j, "tries", 0);

    return tt_oauth_dec_secret(st, j, r->profile_id, "access_token", a,
                               &r->access_token, &r->sealed);
}


int
tt_revoke_put(tt_txn_t *t, const tt_revoke_t *r)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "ci", TT_WORK_REVOKE, r->profile_id) != TT_OK) {
        return TT_INVALID;
    }

    return tt_store_put_json(t, TT_DB_OAUTH_WORK, &k, tt_revoke_enc, r);
}


int
tt_revoke_del(tt_txn_t *t, const char *profile_id)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "ci", TT_WORK_REVOKE, profile_id) != TT_OK) {
        return TT_NOTFOUND;
    }

    return tt_db_del(t, TT_DB_OAUTH_WORK, &k);
}


static int
tt_revoke_list_one(tt_txn_t *t, const uint8_t *rest, size_t len,
    const MDB_val *v, void *ctx)
{
    int              rc;
    tt_revoke_t     *r;
    tt_work_list_t  *l = ctx;

    (void) rest;
    (void) len;

    r = tt_store_push(l->a, &l->arr, &l->n, &l->cap, sizeof(tt_revoke_t));
    if (r == NULL) {
        return TT_NOMEM;
    }

    memset(r, 0, sizeof(tt_revoke_t));

    rc = tt_store_parse(t->st, v, l->a, tt_revoke_dec, r);

    if (rc != TT_OK) {
        /* one record that does not open stops no other */
        l->n--;
    }

    return rc == TT_NOMEM ? rc : TT_OK;
}


int
tt_revoke_list(tt_txn_t *t, tt_arena_t *a, tt_revoke_t **out, size_t *n)
{
    int             rc;
    tt_work_list_t  l;

    tt_txn_check(t);

    memset(&l, 0, sizeof(l));
    l.a = a;

    rc = tt_work_walk(t, TT_WORK_REVOKE, tt_revoke_list_one, &l);

    *out = l.arr;
    *n = l.n;

    return rc;
}


/* what forgetting a profile needs of its record, tokens left sealed */
static int
tt_profile_dec_sealed(tt_store_t *st, const tt_json_t *j, tt_arena_t *a,
    void *obj)
{
    tt_revoke_t  *r = obj;

    (void) st;
    (void) a;

    if (tt_jid(j, "id", r->profile_id) != TT_OK
        || tt_jid(j, "workspace_id", r->workspace_id) != TT_OK)
    {
        return TT_ERR;
    }

    r->open_id = tt_js(j, "open_id");
    r->sealed = tt_js(j, "access_token");

    return TT_OK;
}


int
tt_profile_forget(tt_txn_t *t, const char *id, int64_t now_ms)
{
    int           rc;
    tt_skey_t     k;
    tt_arena_t   *a;
    tt_revoke_t   r;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    a = tt_arena_create(4096);
    if (a == NULL) {
        return tt_txn_fail(t, TT_NOMEM);
    }

    memset(&r, 0, sizeof(r));

    rc = tt_store_get_json(t, TT_DB_PROFILES, &k, a, tt_profile_dec_sealed,
                           &r);

    if (rc == TT_OK) {
        rc = tt_profile_del(t, id);
    }

    if (rc == TT_OK && r.sealed != NULL && r.sealed[0] != '\0') {
        r.created_at = now_ms;
        rc = tt_revoke_put(t, &r);
    }

    tt_arena_destroy(a);

    return rc;
}


/* sealing again under the ring's first key */

static int
tt_reseal_profiles(tt_txn_t *t, tt_arena_t *a, size_t *n)
{
    int            rc;
    size_t         i, np;
    tt_profile_t  *list;

    rc = tt_profile_list(t, NULL, NULL, a, &list, &np);

    for (i = 0; rc == TT_OK && i < np; i++) {
        rc = tt_profile_put(t, &list[i]);
        *n += (list[i].access_token != NULL) + (list[i].refresh_token != NULL);
    }

    return rc;
}


static int
tt_reseal_conn(tt_txn_t *t, const uint8_t *rest, size_t len,
    const MDB_val *v, void *ctx)
{
    int              rc;
    char             id[TT_ID_SIZE];
    tt_conn_t        c;
    tt_work_list_t  *l = ctx;

    (void) v;

    if (len != 8 + TT_ID_SIZE) {
        return TT_OK;
    }

    tt_store_key_id(rest + 8, id);

    rc = tt_conn_get(t, id, l->a, &c);
    if (rc == TT_NOTFOUND) {
        return TT_OK;
    }

    /* the record is rewritten in place: the walk's keys do not change */
    if (rc == TT_OK && (c.code != NULL || c.verifier != NULL)) {
        tt_skey_t  k;

        tt_store_key(&k, "i", c.id);
        rc = tt_store_put_json(t, TT_DB_OAUTH, &k, tt_conn_enc, &c);
        l->n += (c.code != NULL) + (c.verifier != NULL);
    }

    return rc;
}


int
tt_store_reseal(tt_txn_t *t, size_t *n)
{
    int             rc;
    size_t          i, nr;
    tt_revoke_t    *rv;
    tt_arena_t     *a;
    tt_work_list_t  l;

    tt_txn_check(t);

    *n = 0;

    if (!t->st->has_key || !t->st->open_tokens) {
        t->st->last_error = "no token keys to seal with";
        return TT_INVALID;
    }

    a = tt_arena_create(65536);
    if (a == NULL) {
        return tt_txn_fail(t, TT_NOMEM);
    }

    memset(&l, 0, sizeof(l));
    l.a = a;

    rc = tt_reseal_profiles(t, a, n);

    if (rc == TT_OK) {
        rc = tt_webhook_reseal(t, a, n);
    }

    if (rc == TT_OK) {
        rc = tt_work_walk(t, TT_WORK_PURGE, tt_reseal_conn, &l);
        *n += l.n;
    }

    if (rc == TT_OK) {
        rc = tt_revoke_list(t, a, &rv, &nr);
    }

    for (i = 0; rc == TT_OK && i < nr; i++) {
        rv[i].sealed = NULL;

        if (rv[i].access_token != NULL) {
            rc = tt_revoke_put(t, &rv[i]);
            (*n)++;
        }
    }

    tt_arena_destroy(a);

    return rc;
}
