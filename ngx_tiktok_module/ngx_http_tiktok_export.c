/*
 * Copyright (C) the ngx_tiktok authors.
 * GET /api/export: the workspace as NDJSON, streamed.
 */


#include "ngx_http_tiktok_module.h"


/*
 * A read transaction on the event loop; a map another process grew is
 * adopted when no write batch of this worker has a transaction open (a
 * read of the export keeps no cursor or value between its slices).
 */
int
ngx_http_tiktok_read_begin(tt_txn_t *txn)
{
    int          rc;
    tt_store_t  *st;

    st = ngx_http_tiktok_worker.store;

    rc = tt_txn_begin(st, txn, 0);

    if (rc == TT_RESIZED && !ngx_http_tiktok_worker.busy
        && tt_store_adopt(st) == TT_OK)
    {
        rc = tt_txn_begin(st, txn, 0);
    }

    return rc;
}


/*
 * The export's life:
 *
 *   handler (read route) -> tt_api_exec: the key, the workspace
 *     -> ngx_http_tiktok_export: keeps the read transaction, sends the
 *        header (chunked), posts the write event, NGX_DONE (the
 *        dispatch takes the request's count)
 *   write event -> unsent bytes first; then one slice: tt_export_next
 *     into the slice buffer, ngx_http_output_filter
 *       all sent      -> the write event is posted again: the next slice
 *                        after the other events of this loop turn
 *       not all sent  -> wait for the socket (send_timeout)
 *       last slice    -> the transaction ends, finalize(rc) once
 *   the request's pool cleanup ends the transaction if it is still open
 *   (the client went away, a timeout).
 *
 * One read transaction from first to last line: every line is of one
 * snapshot.  It holds an LMDB reader slot (MDB_NOTLS: the slot is the
 * transaction's, not the thread's, so the worker's write batches on the
 * thread pool go on with their own) and keeps the pages of its snapshot
 * from reuse while it lasts, which a stalled client bounds by
 * send_timeout.  No cursor or value is kept between slices, so this
 * worker may remap a grown store meanwhile (tt_store_walk).  Memory is
 * one slice buffer, reused once its bytes are sent.
 */

#define NGX_HTTP_TIKTOK_EXPORT_SLICE  65536     /* bytes per slice */
#define NGX_HTTP_TIKTOK_EXPORTS_MAX   16        /* per worker at once */


typedef struct {
    ngx_http_request_t     *request;
    tt_txn_t                txn;
    tt_export_t            *x;
    tt_buf_t                slice;
    ngx_buf_t              *b;
    unsigned                open:1;         /* txn */
} ngx_http_tiktok_export_t;


/* this worker's exports in progress, found by their request (the
 * module's request context is the op's, which the filters read) */
static ngx_http_tiktok_export_t  *ngx_http_tiktok_exports[
                                      NGX_HTTP_TIKTOK_EXPORTS_MAX];


static ngx_int_t ngx_http_tiktok_export_slice(ngx_http_request_t *r,
    ngx_http_tiktok_export_t *ex, ngx_chain_t *out);
static void ngx_http_tiktok_export_wait(ngx_http_request_t *r,
    ngx_http_tiktok_export_t *ex);
static void ngx_http_tiktok_export_fail(ngx_http_request_t *r,
    ngx_http_tiktok_export_t *ex);
static void ngx_http_tiktok_export_write(ngx_http_request_t *r);
static void ngx_http_tiktok_export_end(ngx_http_tiktok_export_t *ex);
static void ngx_http_tiktok_export_cleanup(void *data);


ngx_int_t
ngx_http_tiktok_export(ngx_http_tiktok_op_t *op, tt_txn_t *txn)
{
    ngx_int_t                  rc;
    ngx_uint_t                 i;
    ngx_pool_cleanup_t        *cln;
    ngx_http_request_t        *r;
    ngx_http_tiktok_export_t  *ex;

    r = op->request;

    for (i = 0; i < NGX_HTTP_TIKTOK_EXPORTS_MAX; i++) {
        if (ngx_http_tiktok_exports[i] == NULL) {
            break;
        }
    }

    if (i == NGX_HTTP_TIKTOK_EXPORTS_MAX) {
        tt_txn_abort(txn);
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "tiktok export refused: %d exports run in this "
                      "worker", NGX_HTTP_TIKTOK_EXPORTS_MAX);
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    ex = ngx_pcalloc(r->pool, sizeof(ngx_http_tiktok_export_t));
    if (cln == NULL || ex == NULL) {
        tt_txn_abort(txn);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ex->request = r;
    ex->txn = *txn;
    ex->open = 1;
    tt_buf_init(&ex->slice);
    ngx_http_tiktok_exports[i] = ex;

    cln->handler = ngx_http_tiktok_export_cleanup;
    cln->data = ex;

    ex->x = tt_export_create(op->resp.export_ws, op->resp.export_pg,
                             op->req.now_ms);
    ex->b = ngx_calloc_buf(r->pool);

    if (ex->x == NULL || ex->b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "tiktok export of workspace \"%s\" started",
                  op->resp.export_ws);

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = -1;
    ngx_str_set(&r->headers_out.content_type,
                "application/x-ndjson; charset=utf-8");
    r->headers_out.content_type_len = sizeof("application/x-ndjson") - 1;

    /* answered by the API: the error-page filter leaves it alone */
    op->answered = 1;
    ngx_http_set_ctx(r, op, ngx_http_tiktok_module);

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    r->write_event_handler = ngx_http_tiktok_export_write;
    ngx_post_event(r->connection->write, &ngx_posted_events);

    return NGX_DONE;
}


static ngx_http_tiktok_export_t *
ngx_http_tiktok_export_of(ngx_http_request_t *r)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_TIKTOK_EXPORTS_MAX; i++) {
        if (ngx_http_tiktok_exports[i] != NULL
            && ngx_http_tiktok_exports[i]->request == r)
        {
            return ngx_http_tiktok_exports[i];
        }
    }

    return NULL;
}


/*
 * The bytes of the last slice are all gone to the socket (the writer
 * moves pos as it sends; what it holds back it flags).  The header alone
 * may wait in r->out for the first slice's flush: that is not unsent.
 */
static ngx_uint_t
ngx_http_tiktok_export_sent(ngx_http_tiktok_export_t *ex)
{
    return ex->b->pos == ex->b->last
           && !(ex->request->connection->buffered & NGX_HTTP_WRITE_BUFFERED);
}


static void
ngx_http_tiktok_export_write(ngx_http_request_t *r)
{
    int                        rc;
    ngx_event_t               *wev;
    ngx_chain_t                out;
    ngx_http_tiktok_export_t  *ex;

    wev = r->connection->write;
    ex = ngx_http_tiktok_export_of(r);

    if (ex == NULL) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, NGX_ETIMEDOUT,
                      "tiktok export: the client stopped reading");
        r->connection->timedout = 1;
        ngx_http_tiktok_export_fail(r, ex);
        return;
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    if (!ngx_http_tiktok_export_sent(ex)) {
        if (ngx_http_output_filter(r, NULL) == NGX_ERROR) {
            ngx_http_tiktok_export_fail(r, ex);
            return;
        }

        if (!ngx_http_tiktok_export_sent(ex)) {
            ngx_http_tiktok_export_wait(r, ex);
            return;
        }
    }

    rc = ngx_http_tiktok_export_slice(r, ex, &out);

    if (rc == NGX_ERROR) {
        ngx_http_tiktok_export_fail(r, ex);
        return;
    }

    if (rc == NGX_DONE) {
        /* the last slice: the snapshot is let go before the last bytes
         * leave; nginx's writer sends what the socket did not take */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "tiktok export done");
        ngx_http_tiktok_export_end(ex);
        ngx_http_finalize_request(r, ngx_http_output_filter(r, &out));
        return;
    }

    if (ngx_http_output_filter(r, &out) == NGX_ERROR) {
        ngx_http_tiktok_export_fail(r, ex);
        return;
    }

    if (ngx_http_tiktok_export_sent(ex)) {
        /* the socket took it all: the next slice after the other
         * events of this turn of the loop */
        ngx_post_event(wev, &ngx_posted_events);
        return;
    }

    ngx_http_tiktok_export_wait(r, ex);
}


/*
 * The next slice into out: NGX_OK, NGX_DONE for the last one (its buffer
 * marked last), or NGX_ERROR.  On an error the chunked answer ends
 * without its last chunk: the client sees a cut export, never a short one.
 */
static ngx_int_t
ngx_http_tiktok_export_slice(ngx_http_request_t *r,
    ngx_http_tiktok_export_t *ex, ngx_chain_t *out)
{
    int  rc;

    tt_buf_reset(&ex->slice);

    rc = tt_export_next(ex->x, &ex->txn, &ex->slice,
                        NGX_HTTP_TIKTOK_EXPORT_SLICE);

    if ((rc != TT_OK && rc != TT_NOTFOUND) || !tt_buf_ok(&ex->slice)) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "tiktok export failed: %s",
                      tt_store_last_error(ngx_http_tiktok_worker.store));
        return NGX_ERROR;
    }

    ngx_memzero(ex->b, sizeof(ngx_buf_t));
    ex->b->pos = (u_char *) ex->slice.data;
    ex->b->last = ex->b->pos + ex->slice.len;
    ex->b->memory = (ex->slice.len > 0);
    ex->b->flush = 1;

    out->buf = ex->b;
    out->next = NULL;

    if (rc == TT_NOTFOUND) {
        ex->b->last_buf = 1;
        ex->b->last_in_chain = 1;
        return NGX_DONE;
    }

    return NGX_OK;
}


/* the socket is full: wait for it to take more, within send_timeout */
static void
ngx_http_tiktok_export_wait(ngx_http_request_t *r,
    ngx_http_tiktok_export_t *ex)
{
    ngx_event_t               *wev;
    ngx_http_core_loc_conf_t  *clcf;

    wev = r->connection->write;
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    ngx_add_timer(wev, clcf->send_timeout);

    if (ngx_handle_write_event(wev, clcf->send_lowat) != NGX_OK) {
        ngx_http_tiktok_export_fail(r, ex);
    }
}


static void
ngx_http_tiktok_export_fail(ngx_http_request_t *r,
    ngx_http_tiktok_export_t *ex)
{
    ngx_http_tiktok_export_end(ex);
    ngx_http_finalize_request(r, NGX_ERROR);
}


/* the transaction, the slot and the state go; the request may live on */
static void
ngx_http_tiktok_export_end(ngx_http_tiktok_export_t *ex)
{
    ngx_uint_t  i;

    if (ex->open) {
        tt_txn_abort(&ex->txn);
        ex->open = 0;
    }

    if (ex->x != NULL) {
        tt_export_free(ex->x);
        ex->x = NULL;
    }

    for (i = 0; i < NGX_HTTP_TIKTOK_EXPORTS_MAX; i++) {
        if (ngx_http_tiktok_exports[i] == ex) {
            ngx_http_tiktok_exports[i] = NULL;
        }
    }
}


/* the worker exits with exports still open (worker_shutdown_timeout):
 * their transactions end before the store closes */
void
ngx_http_tiktok_export_exit(void)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_TIKTOK_EXPORTS_MAX; i++) {
        if (ngx_http_tiktok_exports[i] != NULL) {
            ngx_http_tiktok_export_end(ngx_http_tiktok_exports[i]);
        }
    }
}


/* the request's end: whatever is still held (the slice last: the
 * writer may have sent it up to here) */
static void
ngx_http_tiktok_export_cleanup(void *data)
{
    ngx_http_tiktok_export_t  *ex = data;

    ngx_http_tiktok_export_end(ex);
    tt_buf_free(&ex->slice);
}
