/*
 * Copyright (C) the ngx_tiktok authors.
 * Events into the outbox, in the transaction of the change: a post's and
 * a profile's status changes, the deliveries and their agenda (wh_due).
 */


#include "tt_store_int.h"
#include "tt_time.h"
#include "tt_webhook.h"


/*
 * post_sig: what a post's last put stored of its statuses, one entry of
 * TT_SIG_ENTRY bytes per thing that has one: a kind ('L' a platform by
 * its profile id, 'M' a media by its id, 'P' the post), the id NUL
 * padded, the status.  A put compares the new entries with these: what
 * reached an event's status since is an event.
 */
#define TT_SIG_ENTRY        (2 + TT_ID_SIZE)

typedef struct {
    tt_event_e      type;
    const char     *id;                 /* the platform's or media's */
} tt_post_event_t;

typedef struct {
    const tt_post_t    *post;
    const char         *profile_id;
    const tt_media_t   *media;
} tt_post_event_ctx_t;


static void
tt_sig_entry(uint8_t *e, char kind, const char *id, int status)
{
    size_t  n;

    e[0] = (uint8_t) kind;
    n = strnlen(id, TT_ID_SIZE - 1);
    memcpy(e + 1, id, n);
    memset(e + 1 + n, 0, TT_ID_SIZE - n);
    e[1 + TT_ID_SIZE] = (uint8_t) status;
}


/* the post's entries: platforms, media, then the post itself */
static uint8_t *
tt_sig_build(const tt_post_t *p, size_t *len)
{
    size_t    i, n;
    uint8_t  *sig;

    n = p->nplatforms + p->nmedia + 1;
    sig = malloc(n * TT_SIG_ENTRY);
    if (sig == NULL) {
        return NULL;
    }

    n = 0;

    for (i = 0; i < p->nplatforms; i++, n++) {
        tt_sig_entry(sig + n * TT_SIG_ENTRY, 'L', p->platforms[i].profile_id,
                     p->platforms[i].status);
    }

    for (i = 0; i < p->nmedia; i++, n++) {
        tt_sig_entry(sig + n * TT_SIG_ENTRY, 'M', p->media[i].id,
                     p->media[i].status);
    }

    tt_sig_entry(sig + n * TT_SIG_ENTRY, 'P', p->id, p->status);
    *len = (n + 1) * TT_SIG_ENTRY;

    return sig;
}


/* the status an old sig holds for the entry's kind and id, -1 none */
static int
tt_sig_old(const MDB_val *old, const uint8_t *e)
{
    size_t          i;
    const uint8_t  *o;

    for (i = 0; old != NULL && i + TT_SIG_ENTRY <= old->mv_size;
         i += TT_SIG_ENTRY)
    {
        o = (const uint8_t *) old->mv_data + i;

        if (memcmp(o, e, 1 + TT_ID_SIZE) == 0) {
            return o[1 + TT_ID_SIZE];
        }
    }

    return -1;
}


/* the event an entry's status is, -1 none */
static int
tt_sig_event(const uint8_t *e)
{
    int  st;

    st = e[1 + TT_ID_SIZE];

    switch (e[0]) {

    case 'P':
        return st == TT_POST_PROCESSED ? TT_EVT_POST_PROCESSED : -1;

    case 'M':
        return st == TT_MEDIA_FAILED ? TT_EVT_MEDIA_FAILED : -1;

    default:
        return st == TT_PLAT_PUBLISHED ? TT_EVT_PLAT_PUBLISHED
               : st == TT_PLAT_FAILED ? TT_EVT_PLAT_FAILED
               : st == TT_PLAT_RETRY ? TT_EVT_PLAT_RETRY : -1;
    }
}


static void
tt_event_post_data(tt_jw_t *w, const void *obj)
{
    const tt_post_event_ctx_t  *ctx = obj;

    tt_jw_obj_open(w);

    if (ctx->profile_id != NULL) {
        tt_jw_key(w, "platform");
        tt_jw_cstr(w, "tiktok");
        tt_jw_key(w, "profile_id");
        tt_jw_cstr(w, ctx->profile_id);
    }

    if (ctx->media != NULL) {
        tt_jw_key(w, "media_id");
        tt_jw_cstr(w, ctx->media->id);
        tt_jw_key(w, "error_message");
        tt_jw_cstr(w, ctx->media->error_message);
    }

    tt_jw_key(w, "post");
    tt_post_render(w, ctx->post);
    tt_jw_obj_close(w);
}


static int
tt_event_post_emit(tt_txn_t *t, const tt_post_t *p, const tt_post_event_t *ev)
{
    size_t               i;
    tt_post_event_ctx_t  ctx;

    ctx.post = p;
    ctx.profile_id = NULL;
    ctx.media = NULL;

    if (ev->type == TT_EVT_MEDIA_FAILED) {
        for (i = 0; i < p->nmedia; i++) {
            if (strcmp(p->media[i].id, ev->id) == 0) {
                ctx.media = &p->media[i];
            }
        }

    } else if (ev->type != TT_EVT_POST_PROCESSED) {
        ctx.profile_id = ev->id;
    }

    return tt_event_emit(t, p->workspace_id, ev->type, NULL,
                         tt_event_post_data, &ctx, tt_now_ms(), NULL);
}


/*
 * Whether an entry of sig holds a status that is an event.  One that
 * holds none fires no event, and a later sig fires the same events
 * against it as against none: an entry's event fires when its old status
 * differs, and a status that is not an event always differs from one
 * that is.
 */
static int
tt_sig_has_event(const uint8_t *sig, size_t len)
{
    size_t  i;

    for (i = 0; i + TT_SIG_ENTRY <= len; i += TT_SIG_ENTRY) {
        if (tt_sig_event(sig + i) >= 0) {
            return 1;
        }
    }

    return 0;
}


/* the events of the changes from old to the new sig, into evs */
static size_t
tt_sig_diff(const MDB_val *old, const uint8_t *sig, size_t len,
    const tt_post_t *p, tt_post_event_t *evs)
{
    int             ev;
    size_t          i, n, k;
    const uint8_t  *e;

    n = 0;

    for (i = 0; i < len / TT_SIG_ENTRY; i++) {
        e = sig + i * TT_SIG_ENTRY;
        ev = tt_sig_event(e);

        if (ev < 0 || tt_sig_old(old, e) == e[1 + TT_ID_SIZE]) {
            continue;
        }

        evs[n].type = (tt_event_e) ev;
        evs[n].id = p->id;

        /* the id in the post, not in sig: sig is freed first */
        k = i < p->nplatforms ? i : i - p->nplatforms;

        if (e[0] == 'L') {
            evs[n].id = p->platforms[k].profile_id;

        } else if (e[0] == 'M') {
            evs[n].id = p->media[k].id;
        }

        n++;
    }

    return n;
}


int
tt_event_post(tt_txn_t *t, const tt_post_t *p, const char *id)
{
    int               rc;
    size_t            len, i, n;
    MDB_val           v;
    uint8_t          *sig;
    tt_skey_t         k;
    tt_post_event_t  *evs;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", p ? p->id : id) != TT_OK) {
        return TT_INVALID;
    }

    if (p == NULL) {
        return tt_db_del(t, TT_DB_POST_SIG, &k);
    }

    sig = tt_sig_build(p, &len);
    if (sig == NULL) {
        return tt_txn_fail(t, TT_NOMEM);
    }

    /*
     * No status that is an event (a new post's): no event now, and none
     * kept, since a missing sig fires the same events later as this one
     * would.  A post created writes no sig (a page less per post).
     */
    if (!tt_sig_has_event(sig, len)) {
        free(sig);
        rc = tt_db_del(t, TT_DB_POST_SIG, &k);
        return rc == TT_NOTFOUND ? TT_OK : rc;
    }

    rc = tt_db_get(t, TT_DB_POST_SIG, &k, &v);

    if ((rc == TT_OK && v.mv_size == len && memcmp(v.mv_data, sig, len) == 0)
        || (rc != TT_OK && rc != TT_NOTFOUND))
    {
        free(sig);
        return rc == TT_NOTFOUND ? TT_OK : rc;
    }

    evs = malloc((len / TT_SIG_ENTRY) * sizeof(tt_post_event_t));
    if (evs == NULL) {
        free(sig);
        return tt_txn_fail(t, TT_NOMEM);
    }

    n = tt_sig_diff(rc == TT_OK ? &v : NULL, sig, len, p, evs);

    rc = tt_db_put(t, TT_DB_POST_SIG, &k, sig, len);
    free(sig);

    for (i = 0; rc == TT_OK && i < n; i++) {
        rc = tt_event_post_emit(t, p, &evs[i]);
    }

    free(evs);

    return rc;
}


/* schema step: every post's statuses as they are, so none is an event */
static int
tt_event_reindex_one(void *ctx, const char *id, const tt_str_t *rec)
{
    int          rc;
    size_t       len;
    uint8_t     *sig;
    tt_txn_t    *t = ctx;
    tt_post_t    p;
    tt_skey_t    k;
    tt_arena_t  *a;

    a = tt_arena_create(8192);
    if (a == NULL) {
        tt_txn_fail(t, TT_NOMEM);
        return 1;
    }

    rc = tt_post_decode(rec->data, rec->len, a, &p);
    sig = rc == TT_OK ? tt_sig_build(&p, &len) : NULL;

    if (sig != NULL && tt_store_key(&k, "i", id) == TT_OK) {
        rc = tt_db_put(t, TT_DB_POST_SIG, &k, sig, len);

    } else {
        t->st->last_error = "a post record does not decode";
        rc = tt_txn_fail(t, TT_ERR);
    }

    free(sig);
    tt_arena_destroy(a);

    return rc != TT_OK;
}


int
tt_event_post_reindex(tt_txn_t *t)
{
    int   rc;
    char  pos[TT_ID_SIZE];

    pos[0] = '\0';

    do {
        rc = tt_post_scan(t, pos, 1024, tt_event_reindex_one, t);
    } while (rc == TT_OK && t->rc == TT_OK && pos[0] != '\0');

    return rc == TT_OK ? t->rc : rc;
}


/* profiles */

/* {"profile": profile}, the profile as GET /api/profiles/:id shows it */
static void
tt_event_profile_data(tt_jw_t *w, const void *obj)
{
    tt_jw_obj_open(w);
    tt_jw_key(w, "profile");
    tt_profile_render(w, obj);
    tt_jw_obj_close(w);
}


int
tt_event_profile(tt_txn_t *t, const tt_profile_t *old, const tt_profile_t *p)
{
    int                  ev;
    tt_profile_t         gone;
    const tt_profile_t  *of;

    ev = -1;
    of = p;

    if (p == NULL) {
        /* deleted: as it was, revoked (its tokens are, at TikTok) */
        if (old != NULL && old->status != TT_PROFILE_REVOKED) {
            ev = TT_EVT_PROFILE_DISCONNECTED;
            gone = *old;
            gone.status = TT_PROFILE_REVOKED;
            of = &gone;
        }

    } else if (old == NULL || old->status != p->status) {
        ev = p->status == TT_PROFILE_ACTIVE ? TT_EVT_PROFILE_CONNECTED
             : old == NULL ? -1
             : p->status == TT_PROFILE_EXPIRED ? TT_EVT_PROFILE_EXPIRED
             : TT_EVT_PROFILE_DISCONNECTED;
    }

    if (ev < 0) {
        return TT_OK;
    }

    return tt_event_emit(t, of->workspace_id, (tt_event_e) ev, NULL,
                         tt_event_profile_data, of, tt_now_ms(), NULL);
}


/* the outbox */

static int
tt_delivery_enc(tt_txn_t *t, tt_jw_t *w, const void *obj)
{
    const tt_delivery_t  *d = obj;

    tt_jw_obj_open(w);
    tt_jw_member_int(w, "v", 1);
    tt_jw_member_str(w, "id", d->id);
    tt_jw_member_str(w, "webhook_id", d->webhook_id);
    tt_jw_member_str(w, "workspace_id", d->workspace_id);
    tt_jw_member_str(w, "event_id", d->event_id);
    tt_jw_member_str(w, "event_type", tt_event_name(d->type));
    tt_jw_member_int(w, "created_at", d->created_at);
    tt_jw_member_int(w, "next_at", d->next_at);
    tt_jw_member_int(w, "attempts", d->attempts);
    tt_jw_key(w, "body");
    tt_jw_str(w, d->body.data, d->body.len);
    tt_jw_obj_close(w);

    return TT_OK;
}


static int
tt_delivery_dec(tt_store_t *st, const tt_json_t *r, tt_arena_t *a, void *obj)
{
    int             e;
    const char     *s;
    tt_json_t      *b;
    tt_delivery_t  *d = obj;

    if (tt_jid(r, "id", d->id) != TT_OK
        || tt_jid(r, "webhook_id", d->webhook_id) != TT_OK
        || tt_jid(r, "workspace_id", d->workspace_id) != TT_OK
        || tt_jid(r, "event_id", d->event_id) != TT_OK)
    {
        return TT_ERR;
    }

    s = tt_js(r, "event_type");
    e = s ? tt_event_by_name(s, strlen(s)) : -1;
    b = tt_json_get(r, "body");

    if (e < 0 || b == NULL || b->type != TT_JSON_STRING) {
        return TT_ERR;
    }

    d->type = (tt_event_e) e;
    d->created_at = tt_ji(r, "created_at", 0);
    d->next_at = tt_ji(r, "next_at", 0);
    d->attempts = tt_ji(r, "attempts", 0);
    d->body.data = b->str;
    d->body.len = b->len;

    return TT_OK;
}


static int
tt_delivery_due_key(tt_txn_t *t, int64_t at, const char *id, int add)
{
    tt_skey_t  k;

    if (tt_store_key(&k, "ui", (uint64_t) (at < 0 ? 0 : at), id) != TT_OK) {
        return TT_INVALID;
    }

    return add ? tt_db_put(t, TT_DB_WH_DUE, &k, "", 0)
               : tt_db_del(t, TT_DB_WH_DUE, &k);
}


static int
tt_delivery_put(tt_txn_t *t, const tt_delivery_t *d)
{
    int        rc;
    tt_skey_t  k;

    if (tt_store_key(&k, "i", d->id) != TT_OK) {
        return TT_INVALID;
    }

    rc = tt_store_put_json(t, TT_DB_WH_OUTBOX, &k, tt_delivery_enc, d);

    return rc == TT_OK ? tt_delivery_due_key(t, d->next_at, d->id, 1) : rc;
}


/* the event's body: {"id", "type", "created_at", "data"} */
static int
tt_event_body(const char *evt_id, tt_event_e type, tt_event_data_pt data,
    const void *ctx, int64_t now_ms, tt_buf_t *out)
{
    tt_jw_t  w;

    if (tt_jw_init(&w, out) != TT_OK) {
        return TT_NOMEM;
    }

    tt_jw_obj_open(&w);
    tt_jw_key(&w, "id");
    tt_jw_cstr(&w, evt_id);
    tt_jw_key(&w, "type");
    tt_jw_cstr(&w, tt_event_name(type));
    tt_jw_key(&w, "created_at");
    tt_jw_time(&w, now_ms);
    tt_jw_key(&w, "data");
    data(&w, ctx);
    tt_jw_obj_close(&w);

    return tt_jw_finish(&w) == TT_OK ? TT_OK : TT_NOMEM;
}


/* the webhooks of ws_id that take type (only: that one), into *list */
static int
tt_event_targets(tt_txn_t *t, const char *ws_id, tt_event_e type,
    const char *only, tt_arena_t *a, tt_webhook_t **list, size_t *n)
{
    int            rc;
    size_t         i, m;
    tt_webhook_t  *all;

    rc = tt_webhook_list(t, ws_id, a, &all, n);
    if (rc != TT_OK) {
        return rc;
    }

    m = 0;

    for (i = 0; i < *n; i++) {
        if (only != NULL ? strcmp(all[i].id, only) == 0
                         : all[i].enabled && tt_webhook_wants(&all[i], type))
        {
            all[m++] = all[i];
        }
    }

    *list = all;
    *n = m;

    return TT_OK;
}


int
tt_event_emit(tt_txn_t *t, const char *ws_id, tt_event_e type,
    const char *only, tt_event_data_pt data, const void *ctx, int64_t now_ms,
    char evt_id[TT_ID_SIZE])
{
    int             rc;
    char            id[TT_ID_SIZE];
    size_t          i, n;
    tt_buf_t        body;
    tt_arena_t     *a;
    tt_webhook_t   *list;
    tt_delivery_t   d;

    tt_txn_check(t);

    if (evt_id != NULL) {
        evt_id[0] = '\0';
    }

    a = tt_arena_create(4096);
    if (a == NULL) {
        return tt_txn_fail(t, TT_NOMEM);
    }

    rc = tt_event_targets(t, ws_id, type, only, a, &list, &n);

    if (rc != TT_OK || n == 0) {
        tt_arena_destroy(a);
        return rc;
    }

    tt_buf_init(&body);

    rc = tt_id_new("evt_", id);
    if (rc == TT_OK) {
        rc = tt_event_body(id, type, data, ctx, now_ms, &body);
    }

    memset(&d, 0, sizeof(tt_delivery_t));
    memcpy(d.event_id, id, TT_ID_SIZE);
    memcpy(d.workspace_id, ws_id, strnlen(ws_id, TT_ID_SIZE - 1));
    d.type = type;
    d.created_at = now_ms;
    d.next_at = now_ms;
    d.body.data = body.data;
    d.body.len = body.len;

    for (i = 0; rc == TT_OK && i < n; i++) {
        memcpy(d.webhook_id, list[i].id, TT_ID_SIZE);
        rc = tt_id_new("dlv_", d.id);
        if (rc == TT_OK) {
            rc = tt_delivery_put(t, &d);
        }
    }

    tt_buf_free(&body);
    tt_arena_destroy(a);

    if (rc == TT_OK && evt_id != NULL) {
        memcpy(evt_id, id, TT_ID_SIZE);
    }

    return tt_txn_fail(t, rc == TT_INVALID ? TT_ERR : rc);
}


int
tt_delivery_get(tt_txn_t *t, const char *id, tt_arena_t *a, tt_delivery_t *d)
{
    tt_skey_t  k;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", id) != TT_OK) {
        return TT_NOTFOUND;
    }

    memset(d, 0, sizeof(tt_delivery_t));

    return tt_store_get_json(t, TT_DB_WH_OUTBOX, &k, a, tt_delivery_dec, d);
}


int
tt_delivery_first(tt_txn_t *t, int64_t *at, char id[TT_ID_SIZE])
{
    int          rc;
    MDB_val      key;
    MDB_cursor  *c;

    tt_txn_check(t);

    rc = tt_db_cursor(t, TT_DB_WH_DUE, &c);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_store_rc(t->st, mdb_cursor_get(c, &key, NULL, MDB_FIRST));

    if (rc == TT_OK && key.mv_size == 8 + TT_ID_SIZE) {
        *at = (int64_t) tt_store_be64(key.mv_data);
        tt_store_key_id((uint8_t *) key.mv_data + 8, id);

    } else if (rc == TT_OK) {
        rc = TT_NOTFOUND;
    }

    mdb_cursor_close(c);

    return tt_txn_fail(t, rc);
}


int
tt_delivery_due(tt_txn_t *t, int64_t until, tt_delivery_iter_pt cb, void *ctx)
{
    int          rc, after;
    char         id[TT_ID_SIZE];
    int64_t      at;
    MDB_val      key;
    tt_skey_t    k;
    MDB_cursor  *c;

    tt_txn_check(t);

    rc = tt_db_cursor(t, TT_DB_WH_DUE, &c);
    if (rc != TT_OK) {
        return rc;
    }

    tt_store_key(&k, "u", (uint64_t) 0);
    after = 0;

    while (rc == TT_OK) {
        rc = tt_db_seek(t, c, &k, after, &key);
        if (rc != TT_OK || key.mv_size != 8 + TT_ID_SIZE) {
            break;
        }

        at = (int64_t) tt_store_be64(key.mv_data);
        if (at > until) {
            break;
        }

        tt_store_key(&k, "b", key.mv_data, key.mv_size);
        tt_store_key_id(k.data + 8, id);
        after = 1;

        if (cb(ctx, at, id) != 0) {
            break;
        }
    }

    mdb_cursor_close(c);

    return rc == TT_NOTFOUND ? TT_OK : rc;
}


int
tt_delivery_done(tt_txn_t *t, const tt_delivery_t *d, const tt_attempt_t *at)
{
    int            rc;
    MDB_val        v;
    tt_skey_t      k;
    tt_delivery_t  next;

    tt_txn_check(t);

    if (tt_store_key(&k, "i", d->webhook_id) != TT_OK) {
        return TT_INVALID;
    }

    /* a deleted webhook's attempts went with it */
    rc = tt_db_get(t, TT_DB_WEBHOOKS, &k, &v);

    if (rc == TT_OK) {
        rc = tt_attempt_add(t, d->webhook_id, at);

    } else if (rc == TT_NOTFOUND) {
        rc = TT_OK;
    }

    if (rc == TT_OK) {
        rc = tt_delivery_due_key(t, d->next_at, d->id, 0);
    }

    if (rc != TT_OK) {
        return tt_txn_fail(t, rc == TT_INVALID ? TT_ERR : rc);
    }

    if (at->status == TT_ATTEMPT_RETRYING) {
        next = *d;
        next.attempts = at->attempt_number;
        next.next_at = at->next_attempt_at;
        return tt_delivery_put(t, &next);
    }

    if (tt_store_key(&k, "i", d->id) != TT_OK) {
        return TT_INVALID;
    }

    return tt_db_del(t, TT_DB_WH_OUTBOX, &k);
}
