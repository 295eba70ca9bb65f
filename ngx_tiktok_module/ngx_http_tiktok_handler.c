/*
 * Copyright (C) the ngx_tiktok authors.
 * The content handler: routing, the request body, and the answer.  Reads
 * run inline (LMDB reads never wait); writes go to the worker's batch
 * (ngx_http_tiktok_write.c) and are answered once durable.
 *
 * Who owns the request:
 *
 *   handler -- no body -- read route --> exec inline, send, return rc
 *      |                  write route -> count++, queue, NGX_DONE +
 *      `- body -> read_client_request_body, NGX_DONE              |
 *                  `> body handler -- error --> finalize(rc)       |
 *                                `-- write --> queue --------------+
 *   batch done (event loop) --> send, finalize(rc) exactly once <--+
 */


#include "ngx_http_tiktok_module.h"


static ngx_http_tiktok_op_t *ngx_http_tiktok_op_create(
    ngx_http_request_t *r);
static int ngx_http_tiktok_route(ngx_http_tiktok_op_t *op);
static ngx_int_t ngx_http_tiktok_not_allowed(ngx_http_tiktok_op_t *op);
static ngx_int_t ngx_http_tiktok_request_in(ngx_http_tiktok_op_t *op);
static ngx_int_t ngx_http_tiktok_copy(ngx_http_tiktok_op_t *op,
    tt_str_t *dst, const char *data, size_t len);
static ngx_int_t ngx_http_tiktok_read_body(ngx_http_tiktok_op_t *op);
static void ngx_http_tiktok_body_handler(ngx_http_request_t *r);
static void ngx_http_tiktok_reread(ngx_http_tiktok_op_t *op);
static void ngx_http_tiktok_finalize(ngx_http_tiktok_op_t *op);
static ngx_int_t ngx_http_tiktok_dispatch(ngx_http_tiktok_op_t *op);
static u_char *ngx_http_tiktok_body_bytes(ngx_http_tiktok_op_t *op,
    size_t len);
static ngx_uint_t ngx_http_tiktok_parse_body(ngx_http_tiktok_op_t *op,
    const char **message);
static ngx_int_t ngx_http_tiktok_answer(ngx_http_tiktok_op_t *op);
static ngx_int_t ngx_http_tiktok_answer_headers(ngx_http_tiktok_op_t *op);
static ngx_int_t ngx_http_tiktok_error(ngx_http_tiktok_op_t *op,
    ngx_uint_t status, const char *message);
static ngx_int_t ngx_http_tiktok_header(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);
static ngx_table_elt_t *ngx_http_tiktok_find_header(ngx_http_request_t *r,
    const char *name, size_t len);
static ngx_table_elt_t *ngx_http_tiktok_find_header_after(
    ngx_http_request_t *r, ngx_table_elt_t *h);
static ngx_int_t ngx_http_tiktok_reject(ngx_http_tiktok_op_t *op,
    ngx_uint_t status, const char *message);
static const char *ngx_http_tiktok_too_big(ngx_http_request_t *r);
static ngx_int_t ngx_http_tiktok_is_json(ngx_http_request_t *r);
static tt_method_e ngx_http_tiktok_method(ngx_uint_t method);
static void ngx_http_tiktok_cleanup(void *data);


ngx_int_t
ngx_http_tiktok_handler(ngx_http_request_t *r)
{
    ngx_int_t              rc;
    ngx_http_tiktok_op_t  *op;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "tiktok api handler");

    if (r != r->main) {
        return NGX_DECLINED;
    }

    op = ngx_http_tiktok_op_create(r);
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_tiktok_worker.store == NULL) {
        return ngx_http_tiktok_error(op, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "the store is not open");
    }

    rc = ngx_http_tiktok_route(op);

    if (rc == TT_NOTFOUND) {
        return ngx_http_tiktok_error(op, NGX_HTTP_NOT_FOUND, "Not found");
    }

    if (rc != TT_OK) {
        return ngx_http_tiktok_not_allowed(op);
    }

    rc = ngx_http_tiktok_request_in(op);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        /* which one would the retry send?  As for Authorization */
        r->keepalive = 0;
        return ngx_http_tiktok_reject(op, NGX_HTTP_BAD_REQUEST,
                                      "two Idempotency-Key headers: "
                                      "send one");
    }

    if (!op->req.route.body) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_tiktok_dispatch(op);
    }

    return ngx_http_tiktok_read_body(op);
}


/* an API path, or the OAuth callback's location */
static int
ngx_http_tiktok_route(ngx_http_tiktok_op_t *op)
{
    tt_str_t                     args;
    ngx_http_request_t          *r;
    ngx_http_tiktok_loc_conf_t  *tlcf;

    r = op->request;
    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_tiktok_module);
    op->req.conf = &ngx_http_tiktok_worker.api_conf;

    if (!tlcf->oauth_callback) {
        return tt_api_route(ngx_http_tiktok_method(r->method),
                            (const char *) r->uri.data, r->uri.len,
                            &op->req.route);
    }

    args.data = (const char *) r->args.data;
    args.len = r->args.len;

    return tt_api_callback_route(ngx_http_tiktok_method(r->method), &args,
                                 &op->req.route);
}


/*
 * The request's op: the request's pool cleanup frees it, or leaves it to
 * the write batch that holds it (ngx_http_tiktok_op_gone())
 */
static ngx_http_tiktok_op_t *
ngx_http_tiktok_op_create(ngx_http_request_t *r)
{
    ngx_str_t              id;
    ngx_pool_cleanup_t    *cln;
    ngx_http_tiktok_op_t  *op;

    /* the cleanup is added before the op exists: nothing can leak */
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    op = ngx_calloc(sizeof(ngx_http_tiktok_op_t), r->connection->log);
    if (op == NULL) {
        return NULL;
    }

    op->request = r;
    tt_api_resp_init(&op->resp);

    if (ngx_http_tiktok_request_id(r, &id) == NGX_OK) {
        op->request_id_len = ngx_min(id.len, sizeof(op->request_id));
        ngx_memcpy(op->request_id, id.data, op->request_id_len);
    }

    cln->handler = ngx_http_tiktok_cleanup;
    cln->data = op;

    op->req.arena = tt_arena_create(4096);
    if (op->req.arena == NULL) {
        return NULL;
    }

    return op;
}


/* a path of the API, but not with this method: 405 with Allow */
static ngx_int_t
ngx_http_tiktok_not_allowed(ngx_http_tiktok_op_t *op)
{
    ngx_str_t                    allow;
    ngx_http_request_t          *r;
    ngx_http_tiktok_loc_conf_t  *tlcf;

    r = op->request;

    allow.data = ngx_pnalloc(r->pool, 64);
    if (allow.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tt_api_allowed((const char *) r->uri.data, r->uri.len,
                   (char *) allow.data, 64);
    allow.len = ngx_strlen(allow.data);

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_tiktok_module);

    if (tlcf->oauth_callback) {
        ngx_str_set(&allow, "GET, HEAD");
    }

    if (ngx_http_tiktok_header(r, "Allow", &allow) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_tiktok_error(op, NGX_HTTP_NOT_ALLOWED,
                                 "method not allowed on this path");
}


/*
 * What the API reads of the request line and headers, copied into the
 * op's arena: a write may outlive its request.  NGX_DECLINED for two
 * Idempotency-Key headers, which the caller refuses; NGX_ERROR when out of
 * memory.
 */
static ngx_int_t
ngx_http_tiktok_request_in(ngx_http_tiktok_op_t *op)
{
    ngx_table_elt_t              *h;
    ngx_http_request_t           *r;
    ngx_http_tiktok_main_conf_t  *tmcf;

    r = op->request;
    op->req.now_ms = tt_now_ms();
    op->req.webhook_http = ((ngx_http_tiktok_main_conf_t *)
                            ngx_http_get_module_main_conf(r,
                                ngx_http_tiktok_module))
                           ->webhook_allow_private == 1;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tiktok_module);
    op->req.queue_now_ms = tmcf->test_queue_now >= 0 ? tmcf->test_queue_now
                                                     : op->req.now_ms;

    if (ngx_http_tiktok_copy(op, &op->req.route.param,
                             op->req.route.param.data,
                             op->req.route.param.len) != NGX_OK
        || ngx_http_tiktok_copy(op, &op->req.args, (const char *) r->args.data,
                                r->args.len) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (r->headers_in.authorization
        && ngx_http_tiktok_copy(op, &op->req.auth,
               (const char *) r->headers_in.authorization->value.data,
               r->headers_in.authorization->value.len) != NGX_OK)
    {
        return NGX_ERROR;
    }

    h = ngx_http_tiktok_find_header(r, "idempotency-key",
                                    sizeof("idempotency-key") - 1);
    if (h == NULL) {
        return NGX_OK;
    }

    if (ngx_http_tiktok_copy(op, &op->req.idem_key,
                             (const char *) h->value.data, h->value.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_tiktok_find_header_after(r, h) ? NGX_DECLINED : NGX_OK;
}


/* dst = a copy of data in the op's arena */
static ngx_int_t
ngx_http_tiktok_copy(ngx_http_tiktok_op_t *op, tt_str_t *dst,
    const char *data, size_t len)
{
    char  *p;

    if (len == 0) {
        dst->data = "";
        dst->len = 0;
        return NGX_OK;
    }

    p = tt_arena_strndup(op->req.arena, data, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    dst->data = p;
    dst->len = len;

    return NGX_OK;
}


/* a route with a body: checked as far as the headers tell, then read */
static ngx_int_t
ngx_http_tiktok_read_body(ngx_http_tiktok_op_t *op)
{
    ngx_int_t                    rc;
    ngx_http_request_t          *r;
    ngx_http_tiktok_loc_conf_t  *tlcf;

    r = op->request;
    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_tiktok_module);

    if (r->headers_in.content_length_n > (off_t) tlcf->body_limit) {
        r->keepalive = 0;
        ngx_http_tiktok_log_too_big(r);
        return ngx_http_tiktok_reject(op, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                      ngx_http_tiktok_too_big(r));
    }

    if (ngx_http_tiktok_is_json(r) != NGX_OK) {
        return ngx_http_tiktok_reject(op, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                      "Content-Type must be "
                                      "application/json");
    }

    ngx_http_set_ctx(r, op, ngx_http_tiktok_module);

    rc = ngx_http_read_client_request_body(r, ngx_http_tiktok_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_tiktok_body_handler(ngx_http_request_t *r)
{
    ngx_int_t              rc;
    ngx_uint_t             status;
    const char            *message;
    ngx_http_tiktok_op_t  *op;

    op = ngx_http_get_module_ctx(r, ngx_http_tiktok_module);

    if (op->body_too_big) {
        r->keepalive = 0;
        ngx_http_tiktok_log_too_big(r);
        status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        message = ngx_http_tiktok_too_big(r);

    } else {
        status = ngx_http_tiktok_parse_body(op, &message);
    }

    if (status != 0) {
        rc = ngx_http_tiktok_error(op, status, message);

    } else {
        rc = ngx_http_tiktok_dispatch(op);
        if (rc == NGX_DONE) {
            /* the batch finalizes; ours is the body reader's count */
            return;
        }
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * Counts an API request's body as it arrives.  A Content-Length over the
 * limit is answered before the body is read; this is for chunked bodies,
 * whose size shows only as they come.  Past the limit the rest is read and
 * dropped: nothing more is kept in memory or written to a temporary file,
 * and the body handler answers 413 once the body has ended.
 */
static ngx_http_request_body_filter_pt  ngx_http_tiktok_next_body_filter;


static ngx_int_t
ngx_http_tiktok_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_uint_t                   last;
    ngx_buf_t                   *b;
    ngx_chain_t                 *cl;
    ngx_http_tiktok_op_t        *op;
    ngx_http_tiktok_loc_conf_t  *tlcf;

    op = ngx_http_get_module_ctx(r, ngx_http_tiktok_module);

    if (op == NULL) {
        return ngx_http_tiktok_next_body_filter(r, in);
    }

    if (!op->body_too_big) {
        for (cl = in; cl; cl = cl->next) {
            op->body_seen += ngx_buf_size(cl->buf);
        }

        tlcf = ngx_http_get_module_loc_conf(r, ngx_http_tiktok_module);

        if (op->body_seen <= (off_t) tlcf->body_limit) {
            return ngx_http_tiktok_next_body_filter(r, in);
        }

        op->body_too_big = 1;

        /*
         * What was kept so far goes too: buffers left holding data would
         * be "busy" when the read buffer next fills
         */
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            cl->buf->pos = cl->buf->last;
            cl->buf->file_pos = cl->buf->file_last;
        }

        r->request_body->bufs = NULL;
    }

    last = 0;

    for (cl = in; cl; cl = cl->next) {
        last |= cl->buf->last_buf;
        cl->buf->pos = cl->buf->last;
    }

    if (!last) {
        return NGX_OK;
    }

    /* only the end of the body goes on, so that the read completes */

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last_buf = 1;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    return ngx_http_tiktok_next_body_filter(r, cl);
}


ngx_int_t
ngx_http_tiktok_body_filter_init(ngx_conf_t *cf)
{
    ngx_http_tiktok_next_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_tiktok_body_filter;

    return NGX_OK;
}


/*
 * 0 when the body is parsed into op->req.body; else the HTTP status of the
 * answer, with its message.
 */
static ngx_uint_t
ngx_http_tiktok_parse_body(ngx_http_tiktok_op_t *op, const char **message)
{
    size_t                       len;
    u_char                      *data;
    ngx_chain_t                 *cl;
    tt_json_t                   *root;
    ngx_http_request_t          *r;
    ngx_http_tiktok_loc_conf_t  *tlcf;

    static char  err[256];

    r = op->request;
    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_tiktok_module);

    *message = ngx_http_tiktok_too_big(r);

    /* only a chunked body of tiny chunks, with more framing than data */
    if (r->request_body && r->request_body->temp_file) {
        *message = "request body did not fit in memory: send it with "
                   "Content-Length or in larger chunks";
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    len = 0;
    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl;
         cl = cl->next)
    {
        if (cl->buf->in_file) {
            return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        }

        len += cl->buf->last - cl->buf->pos;
    }

    if (len > tlcf->body_limit) {
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    if (len == 0) {
        *message = "request body is empty: a JSON object is expected";
        return NGX_HTTP_BAD_REQUEST;
    }

    *message = "out of memory";

    data = ngx_http_tiktok_body_bytes(op, len);
    if (data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (tt_sha256(data, len, op->req.body_hash) != TT_OK) {
        *message = "SHA-256 failed";
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the event loop is single-threaded: one static buffer serves */
    root = tt_json_parse(op->req.arena, data, len, err, sizeof(err));
    if (root == NULL) {
        *message = err;
        return NGX_HTTP_BAD_REQUEST;
    }

    op->req.body = root;

    return 0;
}


/*
 * The body's len bytes in one piece: its one buffer as it is, or its
 * buffers copied into the op's arena; NULL when out of memory
 */
static u_char *
ngx_http_tiktok_body_bytes(ngx_http_tiktok_op_t *op, size_t len)
{
    u_char       *p, *data;
    ngx_chain_t  *cl;

    cl = op->request->request_body->bufs;

    if (cl->next == NULL) {
        return cl->buf->pos;
    }

    data = tt_arena_alloc(op->req.arena, len);
    if (data == NULL) {
        return NULL;
    }

    /* a chunked body ends with an empty buffer whose pos is NULL:
     * memcpy() of it, even of 0 bytes, is undefined */
    p = data;
    for ( /* void */ ; cl; cl = cl->next) {
        if (cl->buf->last != cl->buf->pos) {
            p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
        }
    }

    return data;
}


/*
 * NGX_DONE when a write was queued (the batch finalizes the request);
 * else the request's rc.
 */
static ngx_int_t
ngx_http_tiktok_dispatch(ngx_http_tiktok_op_t *op)
{
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = op->request;

    if (op->req.route.id == TT_ROUTE_HEALTH) {
        return ngx_http_tiktok_health(op);
    }

    if (!op->req.route.write) {
        rc = ngx_http_tiktok_read(op);

        if (rc == NGX_DONE && !op->req.route.body) {
            /* it waits for the map: the wait's count is taken here */
            r->main->count++;
        }

        return rc;
    }

    if (op->req.idem_key.len
        && ngx_http_tiktok_in_flight(&op->req.auth, &op->req.idem_key))
    {
        return ngx_http_tiktok_error(op, NGX_HTTP_CONFLICT,
                                     "a request with this Idempotency-Key "
                                     "is still being processed");
    }

    op->done = ngx_http_tiktok_finalize;

    if (ngx_http_tiktok_write(op) != NGX_OK) {
        return ngx_http_tiktok_error(op, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "the store's write queue is full");
    }

    if (!op->req.route.body) {
        /* the body reader holds no count: the batch's is taken here */
        r->main->count++;
    }

    return NGX_DONE;
}


/*
 * A read, inline.  NGX_DONE when it waits for the map: another process
 * grew it, and this one cannot take the new size while its write batch
 * has a transaction open in the thread; the batch's end reads it again
 * (ngx_http_tiktok_wait_map()).
 */
ngx_int_t
ngx_http_tiktok_read(ngx_http_tiktok_op_t *op)
{
    int        rc;
    tt_txn_t   txn;
    tt_store_t *st;

    st = ngx_http_tiktok_worker.store;

    rc = tt_txn_begin(st, &txn, 0);

    if (rc == TT_RESIZED && !ngx_http_tiktok_worker.busy) {
        /* another process grew the map; nothing of ours is open */
        if (tt_store_adopt(st) == TT_OK) {
            rc = tt_txn_begin(st, &txn, 0);
        }
    }

    if (rc == TT_RESIZED && ngx_http_tiktok_worker.busy) {
        op->done = ngx_http_tiktok_reread;
        ngx_http_tiktok_wait_map(op);
        return NGX_DONE;
    }

    if (rc == TT_RESIZED) {
        op->resp.retry_after = 1;
        return ngx_http_tiktok_error(op, NGX_HTTP_SERVICE_UNAVAILABLE,
                                     "the store is being resized");
    }

    if (rc != TT_OK) {
        ngx_log_error(NGX_LOG_ALERT, op->request->connection->log, 0,
                      "tiktok store read failed: %s",
                      tt_store_last_error(st));
        return ngx_http_tiktok_error(op, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "the store could not be read");
    }

    rc = tt_api_exec(&txn, &op->req, &op->resp);

    if (rc == TT_OK && op->resp.stream) {
        /* GET /api/export keeps the transaction: NGX_DONE, it finalizes */
        return ngx_http_tiktok_export(op, &txn);
    }

    tt_txn_abort(&txn);

    if (rc != TT_OK) {
        ngx_log_error(NGX_LOG_ALERT, op->request->connection->log, 0,
                      "tiktok store read failed: %s",
                      tt_store_last_error(st));
        return ngx_http_tiktok_error(op, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                     "the store could not be read");
    }

    return ngx_http_tiktok_answer(op);
}


/* a read that waited for the map, run again once no batch is open */
static void
ngx_http_tiktok_reread(ngx_http_tiktok_op_t *op)
{
    ngx_http_finalize_request(op->request, ngx_http_tiktok_read(op));
}


/* what a client whose write failed in the store is told */
static const char *
ngx_http_tiktok_store_why(int rc)
{
    switch (rc) {

    case TT_FULL:
        return "the store is full: raise tiktok_store_map_size";

    case TT_UNSYNCED:
        /* committed, but the disk did not confirm it: kept or lost */
        return "the write may have been stored, but the disk failed to "
               "confirm it: retry it with the same Idempotency-Key";

    default:
        return "the store could not be written";
    }
}


/* called by the batch on the event loop once the write is durable */
static void
ngx_http_tiktok_finalize(ngx_http_tiktok_op_t *op)
{
    ngx_int_t  rc;

    if (op->refused) {
        op->resp.retry_after = 1;
        rc = ngx_http_tiktok_error(op, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   "the store's write queue is full");

    } else if (op->rc != TT_OK) {
        tt_buf_reset(&op->resp.body);
        op->resp.retry_after = 0;
        rc = ngx_http_tiktok_error(op, op->rc == TT_FULL
                                       ? 507
                                       : NGX_HTTP_INTERNAL_SERVER_ERROR,
                                   ngx_http_tiktok_store_why(op->rc));
    } else {
        rc = ngx_http_tiktok_answer(op);
    }

    ngx_http_finalize_request(op->request, rc);
}


static ngx_int_t
ngx_http_tiktok_error(ngx_http_tiktok_op_t *op, ngx_uint_t status,
    const char *message)
{
    tt_buf_reset(&op->resp.body);
    tt_api_error(&op->resp, (int) status, message);

    return ngx_http_tiktok_answer(op);
}


/* sends resp; returns what the handler returns or finalizes with */
static ngx_int_t
ngx_http_tiktok_answer(ngx_http_tiktok_op_t *op)
{
    ngx_buf_t           *b;
    ngx_int_t            rc;
    ngx_chain_t          out;
    ngx_http_request_t  *r;

    r = op->request;

    if (!tt_buf_ok(&op->resp.body)) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = op->resp.status;
    r->headers_out.content_length_n = op->resp.body.len;

    /* a status nginx has no reason phrase for */
    if (op->resp.status == 422) {
        ngx_str_set(&r->headers_out.status_line, "422 Unprocessable Entity");
    }

    ngx_str_set(&r->headers_out.content_type,
                "application/json; charset=utf-8");
    r->headers_out.content_type_len = sizeof("application/json") - 1;

    if (ngx_http_tiktok_oauth_headers(r, &op->resp) != NGX_OK
        || ngx_http_tiktok_answer_headers(op) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (op->resp.body.len == 0 || r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
    }

    /* X-Request-Id is the filter's, on this answer as on nginx's own;
     * a failure above is nginx's 500, which the filter makes JSON */
    op->answered = 1;
    ngx_http_set_ctx(r, op, ngx_http_tiktok_module);

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    /* the body's memory is freed by the pool cleanup, after sending */
    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = (u_char *) op->resp.body.data;
    b->last = b->pos + op->resp.body.len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* the answer's own headers: Retry-After, Idempotent-Replayed */
static ngx_int_t
ngx_http_tiktok_answer_headers(ngx_http_tiktok_op_t *op)
{
    u_char              *p;
    ngx_str_t            v;
    ngx_http_request_t  *r;

    r = op->request;

    if (op->resp.retry_after) {
        p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v.data = p;
        v.len = ngx_sprintf(p, "%ui", (ngx_uint_t) op->resp.retry_after) - p;

        if (ngx_http_tiktok_header(r, "Retry-After", &v) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (op->resp.replayed) {
        ngx_str_set(&v, "true");
        if (ngx_http_tiktok_header(r, "Idempotent-Replayed", &v) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * An answer before the body is read: the body, if any, is dropped, and a
 * client that sent "Expect: 100-continue" gets the answer at once, never
 * a "100 Continue" for a body that is refused
 */
static ngx_int_t
ngx_http_tiktok_reject(ngx_http_tiktok_op_t *op, ngx_uint_t status,
    const char *message)
{
    ngx_int_t  rc;

    op->request->expect_tested = 1;

    rc = ngx_http_discard_request_body(op->request);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_tiktok_error(op, status, message);
}


/* the 413's message: the limit, and the directive that sets it */
static const char *
ngx_http_tiktok_too_big(ngx_http_request_t *r)
{
    u_char                      *p, *last;
    ngx_http_tiktok_loc_conf_t  *tlcf;

    static u_char  msg[128];

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_tiktok_module);
    last = msg + sizeof(msg) - 1;

    /* the event loop is single-threaded: one static buffer serves */
    p = ngx_snprintf(msg, last - msg, "request body is larger than the "
                     "limit of %uz bytes (tiktok_body_limit)",
                     tlcf->body_limit);
    *p = '\0';

    return (const char *) msg;
}


static ngx_int_t
ngx_http_tiktok_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;

    return NGX_OK;
}


static ngx_table_elt_t *
ngx_http_tiktok_find_header(ngx_http_request_t *r, const char *name,
    size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/* another header of the same name as h, after it */
static ngx_table_elt_t *
ngx_http_tiktok_find_header_after(ngx_http_request_t *r, ngx_table_elt_t *h)
{
    ngx_uint_t        i, seen;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *e;

    seen = 0;
    part = &r->headers_in.headers.part;
    e = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            e = part->elts;
            i = 0;
        }

        if (&e[i] == h) {
            seen = 1;
            continue;
        }

        if (seen && e[i].key.len == h->key.len
            && ngx_strncasecmp(e[i].key.data, h->key.data, h->key.len) == 0)
        {
            return &e[i];
        }
    }
}


static ngx_int_t
ngx_http_tiktok_is_json(ngx_http_request_t *r)
{
    u_char     *p, *last;
    ngx_str_t  *ct;

    static const char  json[] = "application/json";

    if (r->headers_in.content_type == NULL) {
        return NGX_DECLINED;
    }

    ct = &r->headers_in.content_type->value;
    p = ct->data;
    last = p + ct->len;

    while (p < last && *p == ' ') {
        p++;
    }

    if ((size_t) (last - p) < sizeof(json) - 1
        || ngx_strncasecmp(p, (u_char *) json, sizeof(json) - 1) != 0)
    {
        return NGX_DECLINED;
    }

    p += sizeof(json) - 1;

    /* only parameters ("; charset=utf-8") may follow */
    while (p < last && *p == ' ') {
        p++;
    }

    return (p == last || *p == ';') ? NGX_OK : NGX_DECLINED;
}


static tt_method_e
ngx_http_tiktok_method(ngx_uint_t method)
{
    switch (method) {
    case NGX_HTTP_GET:
        return TT_METHOD_GET;
    case NGX_HTTP_HEAD:
        return TT_METHOD_HEAD;
    case NGX_HTTP_POST:
        return TT_METHOD_POST;
    case NGX_HTTP_PATCH:
        return TT_METHOD_PATCH;
    case NGX_HTTP_PUT:
        return TT_METHOD_PUT;
    case NGX_HTTP_DELETE:
        return TT_METHOD_DELETE;
    default:
        return TT_METHOD_OTHER;
    }
}


/* the request is freed: its op with it, or later by the batch */
static void
ngx_http_tiktok_cleanup(void *data)
{
    ngx_http_tiktok_op_t  *op = data;

    ngx_http_tiktok_op_gone(op);
}
