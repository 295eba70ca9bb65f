/*
 * Copyright (C) the ngx_tiktok authors.
 * Every answer of a server with an API location carries X-Request-Id
 * (nginx's $request_id, so that a log_format can name it too), and the
 * errors nginx answers by itself there (a bad chunked body, 414, 500,
 * ...) are JSON in the API's shapes rather than nginx's HTML pages.
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

static ngx_str_t  ngx_http_tiktok_request_id_name = ngx_string("request_id");


static ngx_int_t
ngx_http_tiktok_request_id(ngx_http_request_t *r, ngx_str_t *id)
{
    ngx_http_variable_value_t  *v;

    v = ngx_http_get_indexed_variable(r, ngx_http_tiktok_request_id_index);

    if (v == NULL || v->not_found) {
        return NGX_ERROR;
    }

    id->data = v->data;
    id->len = v->len;

    return NGX_OK;
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
    ngx_int_t  index;

    index = ngx_http_get_variable_index(cf, &ngx_http_tiktok_request_id_name);
    if (index == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_http_tiktok_request_id_index = index;

    ngx_http_tiktok_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_tiktok_header_filter;

    ngx_http_tiktok_next_output_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_tiktok_output_filter;

    return NGX_OK;
}
