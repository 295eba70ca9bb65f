/*
 * Copyright (C) the ngx_tiktok authors.
 * Every answer of a server with an API location carries X-Request-Id
 * ($request_id, so that a log_format can name it too: the module makes
 * it, ngx_http_tiktok_request_id_set()), and the
 * errors nginx answers by itself there (a bad chunked body, 414, 500,
 * ...) are JSON in the API's shapes rather than nginx's HTML pages.
 *
 * Every error-log line of such a request, the module's and nginx's own,
 * ends with ", request_id: <the same id>" after nginx's context (client,
 * server, request, host): the request's log handler is ours from its
 * headers on (the post-read phase), or from its answer for one that
 * broke before (its request line or headers).  The OAuth callback's
 * lines leave its query string out: it holds TikTok's one-time code.
 */


#include "ngx_http_tiktok_module.h"


/* the replacement of an error page nginx made: JSON, sent once */
struct ngx_http_tiktok_error_page_s {
    ngx_buf_t              *json;
    unsigned                sent:1;
};


static ngx_http_output_header_filter_pt  ngx_http_tiktok_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_tiktok_next_output_filter;
static ngx_int_t                         ngx_http_tiktok_request_id_index;
static ngx_http_log_handler_pt           ngx_http_tiktok_next_log_handler;

static ngx_str_t  ngx_http_tiktok_request_id_name = ngx_string("request_id");


/* a bijection of 64 bits (splitmix64's finalizer) */
static uint64_t
ngx_http_tiktok_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;

    return z ^ (z >> 31);
}


/*
 * The request's id, set into $request_id before anything reads it (so
 * that a log_format's $request_id is the same): nginx makes its own with
 * OpenSSL's RAND_bytes(), which cost 6% of a GET's CPU.  16 bytes, as
 * nginx's, in 32 hex digits: the worker's sequence mixed with two keys
 * drawn at its first request, so unique within the worker (a bijection
 * of the sequence) and across workers and restarts (their keys).  Not
 * secret, as nginx's is not: it names a request in logs and answers.
 */
static ngx_int_t
ngx_http_tiktok_request_id_set(ngx_http_request_t *r,
    ngx_http_variable_value_t *v)
{
    u_char           *p;
    uint64_t          h[2];

    static ngx_pid_t  pid;
    static uint64_t   key[2], seq;

    if (pid != ngx_pid) {
        /* a worker's first request (each is forked from the master) */
        if (tt_random(key, sizeof(key)) != TT_OK) {
            return NGX_ERROR;
        }

        pid = ngx_pid;
        seq = 0;
    }

    seq++;
    h[0] = ngx_http_tiktok_mix(key[0] + seq);
    h[1] = ngx_http_tiktok_mix(key[1] + seq);

    p = ngx_pnalloc(r->pool, 32);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_hex_dump(p, (u_char *) h, sizeof(h));

    v->data = p;
    v->len = 32;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_tiktok_request_id(ngx_http_request_t *r, ngx_str_t *id)
{
    ngx_http_variable_value_t  *v;

    v = &r->variables[ngx_http_tiktok_request_id_index];

    if (!v->valid && !v->not_found
        && ngx_http_tiktok_request_id_set(r, v) != NGX_OK)
    {
        return NGX_ERROR;
    }

    v = ngx_http_get_indexed_variable(r, ngx_http_tiktok_request_id_index);

    if (v == NULL || v->not_found) {
        return NGX_ERROR;
    }

    id->data = v->data;
    id->len = v->len;

    return NGX_OK;
}


/*
 * Leaves the query string out of the request line that nginx's context
 * wrote in [start, end): ", request: \"GET /path?query HTTP/1.1\"".
 * Returns the new end.
 */
static u_char *
ngx_http_tiktok_log_no_query(u_char *start, u_char *end)
{
    u_char  *p, *q;

    static u_char  label[] = ", request: \"";

    p = ngx_strlcasestrn(start, end, label, sizeof(label) - 2);
    if (p == NULL) {
        return end;
    }

    /* past the method, then the path up to its query */
    for (p += sizeof(label) - 1; p < end && *p != ' ' && *p != '"'; p++) {
        /* void */
    }

    for (p++; p < end && *p != '?' && *p != ' ' && *p != '"'; p++) {
        /* void */
    }

    if (p == end || *p != '?') {
        return end;
    }

    for (q = p; q < end && *q != ' ' && *q != '"'; q++) {
        /* void */
    }

    ngx_memmove(p, q, end - q);

    return end - (q - p);
}


/*
 * r's log handler: nginx's context, then the request id.  It never makes
 * the id (no allocation while logging): the id was made when the handler
 * was installed, and sits in r's variables.
 */
static u_char *
ngx_http_tiktok_log_error(ngx_http_request_t *r, ngx_http_request_t *sr,
    u_char *buf, size_t len)
{
    u_char                      *p;
    ngx_http_variable_value_t   *v;
    ngx_http_tiktok_loc_conf_t  *tlcf;

    p = ngx_http_tiktok_next_log_handler(r, sr, buf, len);

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_tiktok_module);

    if (tlcf != NULL && tlcf->oauth_callback) {
        p = ngx_http_tiktok_log_no_query(buf, p);
    }

    len -= p - buf;
    v = &r->variables[ngx_http_tiktok_request_id_index];

    if (!v->valid || v->not_found) {
        return p;
    }

    return ngx_snprintf(p, len, ", request_id: %v", v);
}


/* the request's error-log lines carry its id from now on */
static void
ngx_http_tiktok_log_request_id(ngx_http_request_t *r)
{
    ngx_str_t  id;

    r = r->main;

    if (r->log_handler == ngx_http_tiktok_log_error
        || r->log_handler == NULL
        || ngx_http_tiktok_request_id(r, &id) != NGX_OK)
    {
        return;
    }

    /* nginx's ngx_http_log_error_handler, the same for every request */
    ngx_http_tiktok_next_log_handler = r->log_handler;
    r->log_handler = ngx_http_tiktok_log_error;
}


/* the post-read phase: every request of a server with an API location */
static ngx_int_t
ngx_http_tiktok_post_read(ngx_http_request_t *r)
{
    ngx_http_tiktok_loc_conf_t  *tlcf;

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_tiktok_module);

    if (tlcf != NULL && tlcf->api_server) {
        ngx_http_tiktok_log_request_id(r);
    }

    return NGX_DECLINED;
}


/*
 * A 413's line in the error log, as nginx's client_max_body_size writes
 * one; a chunked body's size is what came before its end (the rest was
 * read and dropped)
 */
void
ngx_http_tiktok_log_too_big(ngx_http_request_t *r)
{
    ngx_http_tiktok_loc_conf_t  *tlcf;

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_tiktok_module);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "client %s: %O bytes, over tiktok_body_limit's %uz",
                  r->headers_in.chunked ? "sent too large chunked body"
                                        : "intended to send too large body",
                  r->headers_in.content_length_n, tlcf->body_limit);
}


/* an answer of nginx's own, not the API's: is it the API's to make? */
static ngx_uint_t
ngx_http_tiktok_owns_error(ngx_http_request_t *r,
    ngx_http_tiktok_loc_conf_t *tlcf)
{
    ngx_http_tiktok_op_t      *op;
    ngx_http_core_srv_conf_t  *cscf;

    if (r->headers_out.status < NGX_HTTP_BAD_REQUEST) {
        return 0;
    }

    op = ngx_http_get_module_ctx(r, ngx_http_tiktok_module);
    if (op != NULL && op->answered) {
        return 0;
    }

    if (tlcf->enable) {
        return 1;
    }

    /*
     * A request that broke before it reached a location (its request
     * line or headers) is the API's too; any other answer of the
     * server's own locations, or of none, is left as it is.
     */
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);

    if (r->loc_conf != cscf->ctx->loc_conf) {
        return 0;
    }

    switch (r->headers_out.status) {
    case NGX_HTTP_BAD_REQUEST:
    case NGX_HTTP_NOT_ALLOWED:                  /* TRACE */
    case NGX_HTTP_REQUEST_URI_TOO_LARGE:
    case NGX_HTTP_REQUEST_HEADER_TOO_LARGE:
    case NGX_HTTP_NOT_IMPLEMENTED:              /* Transfer-Encoding */
        return 1;
    default:
        return 0;
    }
}


static const char *
ngx_http_tiktok_error_message(ngx_http_request_t *r)
{
    switch (r->headers_out.status) {
    case NGX_HTTP_BAD_REQUEST:
        /*
         * nginx answers headers too large (its 494) with a 400, whose
         * r->err_status is already 400 here.  What tells it: nginx's
         * special response turns lingering_close off for a 400 (a bad
         * request line, header or chunked body), but not for a 494, which
         * had set it; and the header buffer is full, every byte parsed.
         * The buffer alone is no proof: a chunked body that filled it to
         * the byte, then went bad in the next read, leaves it so too.
         */
        if (r->lingering_close
            && r->header_in != NULL && r->header_in->end != NULL
            && r->header_in->pos == r->header_in->end
            && r->header_in->last == r->header_in->end)
        {
            return "the request headers are too large: a header line must "
                   "fit one of large_client_header_buffers, and all of "
                   "them the whole set";
        }

        return "the request is malformed (its request line, headers or "
               "chunked body)";
    case NGX_HTTP_NOT_ALLOWED:
        return "method not allowed";
    case NGX_HTTP_REQUEST_TIME_OUT:
        return "the request was not received in time";
    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        return "request body is larger than the limit";
    case NGX_HTTP_REQUEST_URI_TOO_LARGE:
        return "the request URI is too long";
    case NGX_HTTP_REQUEST_HEADER_TOO_LARGE:
        return "the request headers are too large";
    case NGX_HTTP_SERVICE_UNAVAILABLE:
        return "the service is unavailable, try again later";
    case NGX_HTTP_TOO_MANY_REQUESTS:            /* limit_req */
        return "too many requests with this API key: retry after "
               "Retry-After seconds";
    default:
        return NULL;        /* the reason phrase */
    }
}


static ngx_int_t
ngx_http_tiktok_error_json(ngx_http_request_t *r)
{
    u_char                        *p;
    ngx_buf_t                     *b;
    tt_api_resp_t                  resp;
    ngx_http_tiktok_op_t          *op;
    ngx_http_tiktok_error_page_t  *page;

    op = ngx_http_get_module_ctx(r, ngx_http_tiktok_module);

    if (op == NULL) {
        op = ngx_pcalloc(r->pool, sizeof(ngx_http_tiktok_op_t));
        if (op == NULL) {
            return NGX_ERROR;
        }

        op->request = r;
        ngx_http_set_ctx(r, op, ngx_http_tiktok_module);
    }

    page = ngx_pcalloc(r->pool, sizeof(ngx_http_tiktok_error_page_t));
    if (page == NULL) {
        return NGX_ERROR;
    }

    tt_api_resp_init(&resp);
    tt_api_error(&resp, (int) r->headers_out.status,
                 ngx_http_tiktok_error_message(r));

    p = tt_buf_ok(&resp.body) ? ngx_pnalloc(r->pool, resp.body.len) : NULL;
    b = ngx_calloc_buf(r->pool);

    if (p == NULL || b == NULL) {
        tt_buf_free(&resp.body);
        return NGX_ERROR;
    }

    ngx_memcpy(p, resp.body.data, resp.body.len);

    b->pos = p;
    b->last = p + resp.body.len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    page->json = b;
    op->error_page = page;

    ngx_http_clear_content_length(r);
    r->headers_out.content_length_n = resp.body.len;
    ngx_str_set(&r->headers_out.content_type,
                "application/json; charset=utf-8");
    r->headers_out.content_type_len = sizeof("application/json") - 1;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    tt_buf_free(&resp.body);

    return NGX_OK;
}


static ngx_int_t
ngx_http_tiktok_header_filter(ngx_http_request_t *r)
{
    ngx_str_t                    id;
    ngx_table_elt_t             *h;
    ngx_http_tiktok_loc_conf_t  *tlcf;

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_tiktok_module);

    if (r != r->main || tlcf == NULL || !tlcf->api_server) {
        return ngx_http_tiktok_next_header_filter(r);
    }

    ngx_http_tiktok_log_request_id(r);

    if (ngx_http_tiktok_request_id(r, &id) == NGX_OK) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "X-Request-Id");
        h->value = id;
    }

    if (ngx_http_tiktok_owns_error(r, tlcf)
        && (ngx_http_tiktok_error_json(r) != NGX_OK
            || ngx_http_tiktok_retry_after(r, tlcf) != NGX_OK))
    {
        return NGX_ERROR;
    }

    return ngx_http_tiktok_next_header_filter(r);
}


/* nginx's page is dropped, the JSON goes in its place, once */
static ngx_int_t
ngx_http_tiktok_output_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t                    out, *cl;
    ngx_http_tiktok_op_t          *op;
    ngx_http_tiktok_error_page_t  *page;

    op = ngx_http_get_module_ctx(r, ngx_http_tiktok_module);

    if (op == NULL || op->error_page == NULL) {
        return ngx_http_tiktok_next_output_filter(r, in);
    }

    page = op->error_page;

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (page->sent) {
        return ngx_http_tiktok_next_output_filter(r, NULL);
    }

    page->sent = 1;
    out.buf = page->json;
    out.next = NULL;

    return ngx_http_tiktok_next_output_filter(r, &out);
}


ngx_int_t
ngx_http_tiktok_filter_init(ngx_conf_t *cf)
{
    ngx_int_t                   index;
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    index = ngx_http_get_variable_index(cf, &ngx_http_tiktok_request_id_name);
    if (index == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_http_tiktok_request_id_index = index;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_tiktok_post_read;

    ngx_http_tiktok_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_tiktok_header_filter;

    ngx_http_tiktok_next_output_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_tiktok_output_filter;

    return NGX_OK;
}
