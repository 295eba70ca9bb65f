/*
 * Copyright (C) the ngx_tiktok authors.
 * Webhooks, their workspace index and sealed secrets, the signature, and
 * the attempts of their deliveries.
 */


#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tt_store_int.h"
#include "tt_webhook.h"


static const char  *tt_event_names[TT_EVT_COUNT] = {
    [TT_EVT_POST_PROCESSED] = "post.processed",
    [TT_EVT_PLAT_PUBLISHED] = "platform_post.published",
    [TT_EVT_PLAT_FAILED] = "platform_post.failed",
    [TT_EVT_PLAT_RETRY] = "platform_post.failed_waiting_for_retry",
    [TT_EVT_MEDIA_FAILED] = "media.failed",
    [TT_EVT_PROFILE_CONNECTED] = "profile.connected",
    [TT_EVT_PROFILE_DISCONNECTED] = "profile.disconnected",
    [TT_EVT_PROFILE_EXPIRED] = "profile.expired",
    [TT_EVT_TEST] = "webhook.test"
};

static const char  *tt_attempt_names[] = {
    "delivered", "retrying", "failed", "dropped"
};


const char *
tt_event_name(tt_event_e e)
{
    return (size_t) e < TT_EVT_COUNT ? tt_event_names[e] : "unknown";
}


int
tt_event_by_name(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < TT_EVT_COUNT; i++) {
        if (strlen(tt_event_names[i]) == len
            && memcmp(tt_event_names[i], s, len) == 0)
        {
            return (int) i;
        }
    }

    return -1;
}


const char *
tt_attempt_status_name(tt_attempt_status_e s)
{
    return (size_t) s < TT_ARRAY_SIZE(tt_attempt_names) ? tt_attempt_names[s]
                                                        : "unknown";
}


int
tt_webhook_wants(const tt_webhook_t *wh, tt_event_e e)
{
    if (e == TT_EVT_TEST) {
        return 1;
    }

    return wh->all || (wh->events & (1u << e)) != 0;
}


int
tt_webhook_secret_new(char out[TT_WEBHOOK_SECRET_LEN + 1])
{
    uint8_t  raw[32];

    if (tt_random(raw, sizeof(raw)) != TT_OK) {
        return TT_ERR;
    }

    memcpy(out, "whsec_", 6);
    tt_hex(raw, sizeof(raw), out + 6);
    OPENSSL_cleanse(raw, sizeof(raw));

    return TT_OK;
}


int
tt_webhook_sign(const char *secret, size_t secret_len, int64_t t,
    const void *body, size_t len, char hex[65])
{
    int            n, ok;
    char           ts[32];
    uint8_t        mac[32];
    EVP_MAC       *mac_alg;
    EVP_MAC_CTX   *ctx;
    OSSL_PARAM     params[2];
    size_t         out;

    n = snprintf(ts, sizeof(ts), "%lld.", (long long) t);
    if (n < 0 || (size_t) n >= sizeof(ts)) {
        return TT_ERR;
    }

    mac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    ctx = mac_alg ? EVP_MAC_CTX_new(mac_alg) : NULL;
    params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *) "SHA256",
                                                 0);
    params[1] = OSSL_PARAM_construct_end();

    out = 0;
    ok = ctx != NULL
         && EVP_MAC_init(ctx, (const uint8_t *) secret, secret_len, params)
         && EVP_MAC_update(ctx, (const uint8_t *) ts, (size_t) n)
         && EVP_MAC_update(ctx, body, len)
         && EVP_MAC_final(ctx, mac, &out, sizeof(mac))
         && out == sizeof(mac);

    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac_alg);

    if (!ok) {
        return TT_ERR;
    }

    tt_hex(mac, sizeof(mac), hex);
    OPENSSL_cleanse(mac, sizeof(mac));

    return TT_OK;
}


/* the record */

static int
tt_webhook_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    int                  rc;
    size_t               i;
    tt_buf_t             b;
    const tt_webhook_t  *wh = obj;

    tt_jw_obj_open(w);
    tt_jw_member_int(w, "v", 1);
    tt_jw_member_str(w, "id", wh->id);
    tt_jw_member_str(w, "workspace_id", wh->workspace_id);
    tt_jw_member_str(w, "url", wh->url);
    tt_jw_member_str(w, "description", wh->description);
    tt_jw_key(w, "events");
    tt_jw_arr_open(w);

    if (wh->all) {
        tt_jw_cstr(w, "*");
    }

    for (i = 0; i < TT_EVT_TEST; i++) {
        if (!wh->all && (wh->events & (1u << i))) {
            tt_jw_cstr(w, tt_event_names[i]);
        }
    }

    tt_jw_arr_close(w);
    tt_jw_key(w, "enabled");
    tt_jw_bool(w, wh->enabled);
    tt_jw_member_int(w, "created_at", wh->created_at);
    tt_jw_member_int(w, "updated_at", wh->updated_at);

    if (wh->secret == NULL) {
        tt_jw_member_str(w, "secret", wh->sealed);
        tt_jw_obj_close(w);
        return wh->sealed != NULL ? TT_OK : TT_INVALID;
    }

    /* never stored in the clear: the id and field are the seal's AAD */
    if (!t->st->has_key) {
        t->st->last_error = "no token key to seal webhook secrets with";
        return TT_INVALID;
    }

    tt_buf_init(&b);

    rc = tt_token_seal(t->st, wh->id, "secret", wh->secret, &b);
    if (rc == TT_OK) {
        tt_jw_key(w, "secret");
        tt_jw_str(w, b.data, b.len);
    }

    tt_buf_free(&b);
    tt_jw_obj_close(w);

    return rc;
}


static int
tt_webhook_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a, void *obj)
{
    int                rc;
    size_t             i;
    tt_json_t         *ev, *en;
    tt_webhook_t      *wh = obj;

    if (tt_jid(r, "id", wh->id) != TT_OK
        || tt_jid(r, "workspace_id", wh->workspace_id) != TT_OK
        || (wh->url = tt_js(r, "url")) == NULL)
    {
        return TT_ERR;
    }

    wh->description = tt_js(r, "description");
    wh->created_at = tt_ji(r, "created_at", -1);
    wh->updated_at = tt_ji(r, "updated_at", -1);
    wh->sealed = tt_js(r, "secret");
    wh->secret = NULL;

    en = tt_json_get(r, "enabled");
    wh->enabled = (en != NULL && en->type == TT_JSON_TRUE);

    ev = tt_json_get(r, "events");
    wh->events = 0;
    wh->all = 0;

    for (i = 0; ev != NULL && ev->type == TT_JSON_ARRAY && i < ev->n; i++) {
        if (ev->items[i]->type != TT_JSON_STRING) {
            continue;
        }

        if (strcmp(ev->items[i]->str, "*") == 0) {
            wh->all = 1;
            continue;
        }

        rc = tt_event_by_name(ev->items[i]->str, ev->items[i]->len);
        if (rc >= 0) {
            wh->events |= 1u << rc;
        }
    }

    return TT_OK;
}


static int
tt_webhook_index(tt_txn_t *t, const tt_webhook_t *wh, int add)
{
    tt_skey_t  k;

    if (tt_store_key(&k, "iui", wh->workspace_id, (uint64_t) wh->created_at,
                     wh->id)
        != TT_OK)
    {
        return TT_INVALID;
    }

    return add ? tt_db_put(t, TT_DB_WS_WEBHOOKS, &k, "", 0)
               : tt_db_del(t, TT_DB_WS_WEBHOOKS, &k);
}


int
tt_webhook_put(tt_txn_t *t, const tt_webhook_t *wh)
{
    int            rc;
    tt_skey_t      k;
    tt_arena_t    *a;
    tt_webhook_t   old;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", wh->id) != TT_OK || wh->created_at < 0
        || wh->workspace_id[0] == '\0' || wh->url == NULL)
    {
        return TT_INVALID;
    }

    a = tt_arena_create(2048);
    if (a == NULL) {
        return tt_txn_fail(t, TT_NOMEM);
    }

    rc = tt_webhook_get(t, wh->id, a, &old);
    if (rc == TT_OK) {
        rc = tt_webhook_index(t, &old, 0);

    } else if (rc == TT_NOTFOUND) {
        rc = TT_OK;
    }

    tt_arena_destroy(a);

    if (rc == TT_OK) {
        rc = tt_store_put_json(t, TT_DB_WEBHOOKS, &k, tt_webhook_enc, wh);
    }

    if (rc == TT_OK) {
        rc = tt_webhook_index(t, wh, 1);
    }

    return rc;
}


int
tt_webhook_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_webhook_t *wh)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    memset(wh, 0, sizeof(tt_webhook_t));

    return tt_store_get_json(t, TT_DB_WEBHOOKS, &k, a, tt_webhook_dec, wh);
}


int
tt_webhook_list(tt_txn_t *t, const char *ws_id, tt_arena_t *a,
    tt_webhook_t **out, size_t *n)
{
    int            rc;
    char           id[TT_ID_SIZE];
    size_t         cap;
    MDB_val        key;
    tt_skey_t      k;
    MDB_cursor    *c;
    tt_webhook_t  *wh;

    tt_txn_check(t);

    *out = NULL;
    *n = 0;
    cap = 0;

    if (tt_store_key(&k, "i", ws_id) != TT_OK) {
        return TT_OK;
    }

    rc = tt_db_cursor(t, TT_DB_WS_WEBHOOKS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_db_seek(t, c, &k, 0, &key);

    while (rc == TT_OK && key.mv_size == 2 * TT_ID_SIZE + 8
           && memcmp(key.mv_data, k.data, TT_ID_SIZE) == 0)
    {
        tt_store_key_id((uint8_t *) key.mv_data + TT_ID_SIZE + 8, id);

        wh = tt_store_push(a, (void **) out, n, &cap, sizeof(tt_webhook_t));
        if (wh == NULL) {
            rc = TT_NOMEM;
            break;
        }

        rc = tt_webhook_get(t, id, a, wh);
        if (rc == TT_NOTFOUND) {
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


/*
 * Deletes from the cursor's key on while keys start with the plen bytes
 * of prefix; each step seeks again from the key deleted.
 */
static int
tt_wh_del_rest(tt_txn_t *t, MDB_cursor *c, const uint8_t *prefix,
    size_t plen, MDB_val *key, int rc)
{
    tt_skey_t  pos;

    while (rc == TT_OK && key->mv_size > plen
           && memcmp(key->mv_data, prefix, plen) == 0)
    {
        if (tt_store_key(&pos, "b", key->mv_data, key->mv_size) != TT_OK) {
            return TT_ERR;
        }

        rc = tt_store_rc(t->st, mdb_cursor_del(c, 0));
        if (rc == TT_OK) {
            rc = tt_db_seek(t, c, &pos, 0, key);
        }
    }

    return rc == TT_NOTFOUND ? TT_OK : rc;
}


/* every key of db that starts with the webhook id, gone */
static int
tt_webhook_drop_range(tt_txn_t *t, int db, const char *id)
{
    int          rc;
    MDB_val      key;
    tt_skey_t    k;
    MDB_cursor  *c;

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_OK;
    }

    rc = tt_db_cursor(t, db, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_db_seek(t, c, &k, 0, &key);
    rc = tt_wh_del_rest(t, c, k.data, TT_ID_SIZE, &key, rc);

    mdb_cursor_close(c);

    return tt_txn_fail(t, rc);
}


int
tt_webhook_del(tt_txn_t *t, const char *id)
{
    int            rc;
    tt_skey_t      k;
    tt_arena_t    *a;
    tt_webhook_t   old;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    a = tt_arena_create(2048);
    if (a == NULL) {
        return tt_txn_fail(t, TT_NOMEM);
    }

    rc = tt_webhook_get(t, id, a, &old);
    if (rc == TT_OK) {
        rc = tt_webhook_index(t, &old, 0);
    }

    tt_arena_destroy(a);

    if (rc == TT_OK) {
        rc = tt_db_del(t, TT_DB_WEBHOOKS, &k);
    }

    return rc == TT_OK ? tt_webhook_drop_range(t, TT_DB_WH_ATTEMPTS, id) : rc;
}


int
tt_webhook_secret(tt_store_t *st, const tt_webhook_t *wh, tt_arena_t *a,
    const char **plain)
{
    *plain = NULL;

    if (!st->has_key || wh->sealed == NULL) {
        return TT_ERR;
    }

    return tt_token_open(st, wh->id, "secret", wh->sealed, a, plain);
}


/*
 * Every webhook's signing secret opened (with any key of the ring) and
 * sealed again under its first key, in t; *n counts them.  TT_ERR when
 * one opens with no key of the ring.
 */
int
tt_webhook_reseal(tt_txn_t *t, tt_arena_t *a, size_t *n)
{
    int            rc;
    size_t         i, nw;
    const char    *plain;
    tt_webhook_t  *list;

    rc = tt_store_scan(t, TT_DB_WEBHOOKS, a, tt_webhook_dec, NULL, NULL,
                       sizeof(tt_webhook_t), (void **) &list, &nw);

    for (i = 0; rc == TT_OK && i < nw; i++) {
        if (tt_webhook_secret(t->st, &list[i], a, &plain) != TT_OK) {
            t->st->last_error = "a webhook's signing secret does not open "
                                "with the token keys";
            return tt_txn_fail(t, TT_ERR);
        }

        list[i].secret = plain;
        rc = tt_webhook_put(t, &list[i]);
        explicit_bzero((char *) plain, strlen(plain));
        (*n)++;
    }

    return rc;
}


/* attempts */

static int
tt_attempt_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    const tt_attempt_t  *at = obj;

    tt_jw_obj_open(w);
    tt_jw_member_str(w, "delivery_id", at->delivery_id);
    tt_jw_member_str(w, "event_id", at->event_id);
    tt_jw_member_str(w, "event_type", tt_event_name(at->type));
    tt_jw_member_int(w, "attempt_number", at->attempt_number);
    tt_jw_member_int(w, "attempted_at", at->attempted_at);
    tt_jw_member_int(w, "next_attempt_at", at->next_attempt_at);
    tt_jw_member_int(w, "duration_ms", at->duration_ms);
    tt_jw_member_int(w, "response_status", at->response_status);
    tt_jw_member_str(w, "status", tt_attempt_status_name(at->status));
    tt_jw_member_str(w, "error", at->error);
    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_attempt_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a, void *obj)
{
    int            e;
    size_t         i;
    const char    *s;
    tt_attempt_t  *at = obj;

    if (tt_jid(r, "delivery_id", at->delivery_id) != TT_OK
        || tt_jid(r, "event_id", at->event_id) != TT_OK)
    {
        return TT_ERR;
    }

    s = tt_js(r, "event_type");
    e = s ? tt_event_by_name(s, strlen(s)) : -1;
    at->type = e >= 0 ? (tt_event_e) e : TT_EVT_TEST;
    at->attempt_number = tt_ji(r, "attempt_number", 0);
    at->attempted_at = tt_ji(r, "attempted_at", -1);
    at->next_attempt_at = tt_ji(r, "next_attempt_at", -1);
    at->duration_ms = tt_ji(r, "duration_ms", 0);
    at->response_status = (long) tt_ji(r, "response_status", 0);
    at->error = tt_js(r, "error");

    s = tt_js(r, "status");
    at->status = TT_ATTEMPT_FAILED;

    for (i = 0; s != NULL && i < TT_ARRAY_SIZE(tt_attempt_names); i++) {
        if (strcmp(s, tt_attempt_names[i]) == 0) {
            at->status = (tt_attempt_status_e) i;
        }
    }

    return TT_OK;
}


/* keeps the newest TT_WEBHOOK_ATTEMPTS_MAX of a webhook */
static int
tt_attempt_trim(tt_txn_t *t, const char *wh_id)
{
    int          rc;
    size_t       n;
    MDB_val      key;
    tt_skey_t    k;
    MDB_cursor  *c;

    if (tt_store_key(&k, "i", wh_id) != TT_OK) {
        return TT_OK;
    }

    rc = tt_db_cursor(t, TT_DB_WH_ATTEMPTS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_db_seek(t, c, &k, 0, &key);

    for (n = 0; rc == TT_OK && n < TT_WEBHOOK_ATTEMPTS_MAX
                && key.mv_size > TT_ID_SIZE
                && memcmp(key.mv_data, k.data, TT_ID_SIZE) == 0; n++)
    {
        rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, NULL, MDB_NEXT));
    }

    rc = tt_wh_del_rest(t, c, k.data, TT_ID_SIZE, &key, rc);

    mdb_cursor_close(c);

    return tt_txn_fail(t, rc);
}


int
tt_attempt_add(tt_txn_t *t, const char *wh_id, const tt_attempt_t *at)
{
    int        rc;
    tt_skey_t  k;

    if (tt_store_key(&k, "iniu", wh_id, (uint64_t) at->attempted_at,
                     at->delivery_id, (uint64_t) at->attempt_number)
        != TT_OK)
    {
        return TT_INVALID;
    }

    rc = tt_store_put_json(t, TT_DB_WH_ATTEMPTS, &k, tt_attempt_enc, at);

    return rc == TT_OK ? tt_attempt_trim(t, wh_id) : rc;
}


int
tt_attempt_list(tt_txn_t *t, const char *wh_id, uint64_t offset,
    uint64_t limit, tt_arena_t *a, tt_attempt_t **out, size_t *n,
    uint64_t *total)
{
    int            rc;
    size_t         cap;
    uint64_t       i;
    MDB_val        key, v;
    tt_skey_t      k;
    MDB_cursor    *c;
    tt_attempt_t  *at;

    tt_txn_check(t);

    *out = NULL;
    *n = 0;
    *total = 0;
    cap = 0;

    if (tt_store_key(&k, "i", wh_id) != TT_OK) {
        return TT_OK;
    }

    rc = tt_db_cursor(t, TT_DB_WH_ATTEMPTS, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_db_seek(t, c, &k, 0, &key);

    /* at most TT_WEBHOOK_ATTEMPTS_MAX: counted, not kept in a count */
    for (i = 0; rc == TT_OK && key.mv_size > TT_ID_SIZE
                && memcmp(key.mv_data, k.data, TT_ID_SIZE) == 0; i++)
    {
        if (i >= offset && i < offset + limit) {
            rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, &v,
                                                   MDB_GET_CURRENT));

            at = rc == TT_OK ? tt_store_push(a, (void **) out, n, &cap,
                                             sizeof(tt_attempt_t))
                             : NULL;
            if (at == NULL) {
                rc = rc == TT_OK ? TT_NOMEM : rc;
                break;
            }

            memset(at, 0, sizeof(tt_attempt_t));
            rc = tt_store_parse(t->st, &v, a, tt_attempt_dec, at);
            if (rc != TT_OK) {
                break;
            }
        }

        rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, NULL, MDB_NEXT));
    }

    mdb_cursor_close(c);

    *total = i;

    return tt_txn_fail(t, rc == TT_NOTFOUND ? TT_OK : rc);
}
