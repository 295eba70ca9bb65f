/*
 * Copyright (C) the ngx_tiktok authors.
 * Idempotency-Key for the API's writes: check, replay, and keep answers.
 */


#include "tt_api_int.h"


#define TT_API_PURGE         16         /* expired idempotency records */


static int tt_api_idem_valid(const tt_str_t *key);
static int tt_api_idem_hash(tt_api_ctx_t *c, uint8_t hash[32]);
static int tt_api_idem_lookup(tt_api_ctx_t *c, int *done);


/*
 * Before a write runs: the key checked (400), a few expired records
 * purged, and a replay or a 422 when the key was seen.  *done when the
 * answer is set.  Reads pass through untouched.
 */
int
tt_api_idem_begin(tt_api_ctx_t *c, int *done)
{
    int  rc;

    *done = 0;

    if (!c->req->route.write) {
        return TT_OK;
    }

    if (!tt_api_idem_valid(&c->req->idem_key)) {
        *done = 1;
        return tt_api_answer(c, 400, "Idempotency-Key must be at most "
                             "%d visible ASCII characters", TT_IDEM_KEY_MAX);
    }

    /* a few at a time: the cost of expiry is spread over the writes */
    rc = tt_idem_purge(c->t, c->req->now_ms, TT_API_PURGE);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (c->req->idem_key.len == 0) {
        return TT_OK;
    }

    c->idem = 1;

    if (tt_api_idem_hash(c, c->idem_hash) != TT_OK) {
        return TT_ERR;
    }

    return tt_api_idem_lookup(c, done);
}


/* after the write: a 2xx answer is kept for the key's replays */
int
tt_api_idem_end(tt_api_ctx_t *c)
{
    int        rc;
    tt_idem_t  rec;

    if (!c->idem || c->resp->status < 200 || c->resp->status >= 300) {
        return TT_OK;
    }

    memset(&rec, 0, sizeof(tt_idem_t));
    memcpy(rec.hash, c->idem_hash, 32);
    rec.route = (int) c->req->route.id;
    rec.status = c->resp->status;
    rec.body.data = c->resp->body.data;
    rec.body.len = c->resp->body.len;
    rec.expires_at = c->req->now_ms + TT_IDEM_TTL_MS;

    rc = tt_idem_put(c->t, c->ws, &c->req->idem_key, &rec);

    return rc == TT_OK ? TT_OK : tt_api_fail(rc);
}


static int
tt_api_idem_valid(const tt_str_t *key)
{
    size_t  i;

    if (key->len > TT_IDEM_KEY_MAX) {
        return 0;
    }

    for (i = 0; i < key->len; i++) {
        if (key->data[i] <= 0x20 || key->data[i] >= 0x7f) {
            return 0;
        }
    }

    return 1;
}


/*
 * What makes two requests the same: the body, and also the path's id, the
 * query and the key's scope, so that a key reused for another post or
 * by a narrower key is "a different request", not a replay of an answer
 * that request was not entitled to.
 */
static int
tt_api_idem_hash(tt_api_ctx_t *c, uint8_t hash[32])
{
    int       rc;
    tt_buf_t  b;

    tt_buf_init(&b);
    tt_buf_append(&b, c->req->body_hash, 32);
    tt_buf_append(&b, c->req->route.param.data, c->req->route.param.len);
    tt_buf_append(&b, "", 1);
    tt_buf_append(&b, c->req->args.data, c->req->args.len);
    tt_buf_append(&b, "", 1);
    tt_buf_append_str(&b, c->scope ? c->scope : "");

    if (!tt_buf_ok(&b)) {
        tt_buf_free(&b);
        return TT_ERR;
    }

    rc = tt_sha256(b.data, b.len, hash);
    tt_buf_free(&b);

    return rc;
}


/* *done: the answer is set (a replay or a 422) */
static int
tt_api_idem_lookup(tt_api_ctx_t *c, int *done)
{
    int        rc;
    tt_str_t   body;
    tt_idem_t  rec;

    *done = 0;

    /* expired but not yet purged is absent, by the request's clock */
    rc = tt_idem_get(c->t, c->ws, &c->req->idem_key, c->req->now_ms, c->a,
                     &rec);

    if (rc == TT_NOTFOUND) {
        return TT_OK;
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    *done = 1;

    if (rec.route != (int) c->req->route.id
        || memcmp(rec.hash, c->idem_hash, 32) != 0)
    {
        return tt_api_answer(c, 422, "Idempotency-Key %.*s was already used "
                             "with a different request",
                             (int) c->req->idem_key.len,
                             c->req->idem_key.data);
    }

    body = rec.body;

    if (tt_api_answer_raw(c, rec.status, &body) != TT_OK) {
        return TT_ERR;
    }

    c->resp->replayed = 1;

    return TT_OK;
}
