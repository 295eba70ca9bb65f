/*
 * Copyright (C) the ngx_tiktok authors.
 * GET /api/health's "writable": true only when a write to the store
 * committed, never a guess from permissions.  Each batch of the worker's
 * writer that wrote (or failed to) leaves its result here; a health
 * request takes one at most NGX_HTTP_TIKTOK_WRITE_AGE old, else writes
 * itself: a small write that goes through the thread pool as any other
 * (group committed, never on the event loop), and the answer, a read,
 * follows its result.  A failure says why: the map full at its maximum,
 * or what LMDB said (a read-only disk, an I/O error).
 */


#include "ngx_http_tiktok_module.h"


#define NGX_HTTP_TIKTOK_WRITE_AGE  5000     /* ms a result holds */

#define NGX_HTTP_TIKTOK_FULL       "the store is full at its map's " \
                                   "maximum (tiktok_store_map_size): a " \
                                   "write did not commit"
#define NGX_HTTP_TIKTOK_QUEUE_FULL "the store's write queue is full: no " \
                                   "write could be tried"


static void ngx_http_tiktok_health_done(ngx_http_tiktok_op_t *op);
static ngx_int_t ngx_http_tiktok_health_read(ngx_http_tiktok_op_t *op,
    const char *unwritable);


/* a batch wrote (rc TT_OK) or failed to: error is the store's reason */
void
ngx_http_tiktok_write_result(int rc, const char *error)
{
    u_char                    *p, *last;
    ngx_http_tiktok_worker_t  *w;

    w = &ngx_http_tiktok_worker;
    w->wrote_at = ngx_current_msec ? ngx_current_msec : 1;

    if (rc == TT_OK) {
        w->unwritable = NULL;
        return;
    }

    if (rc == TT_FULL) {
        w->unwritable = NGX_HTTP_TIKTOK_FULL;
        return;
    }

    last = w->unwritable_buf + sizeof(w->unwritable_buf) - 1;
    p = ngx_snprintf(w->unwritable_buf, last - w->unwritable_buf,
                     "a write to the store did not commit: %s",
                     error ? error : "unknown");
    *p = '\0';

    w->unwritable = (const char *) w->unwritable_buf;
}


/*
 * The route's step in the handler: the answer now from a recent result,
 * or NGX_DONE once the probe is queued (the batch's count is taken here)
 */
ngx_int_t
ngx_http_tiktok_health(ngx_http_tiktok_op_t *op)
{
    ngx_http_tiktok_worker_t  *w;

    w = &ngx_http_tiktok_worker;

    if (w->wrote_at != 0
        && ngx_current_msec - w->wrote_at < NGX_HTTP_TIKTOK_WRITE_AGE)
    {
        return ngx_http_tiktok_health_read(op, w->unwritable);
    }

    /* tt_api_exec() runs the route's probe in the batch's transaction */
    op->req.route.write = 1;
    op->done = ngx_http_tiktok_health_done;

    if (ngx_http_tiktok_write(op) != NGX_OK) {
        op->req.route.write = 0;
        return ngx_http_tiktok_health_read(op, NGX_HTTP_TIKTOK_QUEUE_FULL);
    }

    op->request->main->count++;

    return NGX_DONE;
}


/* the probe's batch is over: its result, then the answer */
static void
ngx_http_tiktok_health_done(ngx_http_tiktok_op_t *op)
{
    u_char                    *p;
    const char                *why;
    ngx_http_tiktok_worker_t  *w;

    static u_char  buf[256];

    w = &ngx_http_tiktok_worker;
    op->req.route.write = 0;

    if (op->refused) {
        why = NGX_HTTP_TIKTOK_QUEUE_FULL;

    } else if (op->rc == TT_OK) {
        why = NULL;

    } else if (op->rc == TT_FULL) {
        why = NGX_HTTP_TIKTOK_FULL;

    } else if (w->unwritable != NULL) {
        /* the batch failed as a whole: its result was just recorded */
        why = w->unwritable;

    } else {
        /* the probe alone failed (the one event loop: one buffer) */
        p = ngx_snprintf(buf, sizeof(buf) - 1,
                         "a write to the store did not commit: %s",
                         op->store_error ? op->store_error : "unknown");
        *p = '\0';
        why = (const char *) buf;
    }

    ngx_http_finalize_request(op->request,
                              ngx_http_tiktok_health_read(op, why));
}


/* the answer, a read, saying why the store cannot be written (or NULL) */
static ngx_int_t
ngx_http_tiktok_health_read(ngx_http_tiktok_op_t *op, const char *unwritable)
{
    ngx_int_t  rc;

    op->req.unwritable = unwritable;

    rc = ngx_http_tiktok_read(op);

    if (rc == NGX_DONE) {
        /* it waits for the map: the wait's count is taken here */
        op->request->main->count++;
    }

    return rc;
}
