/*
 * Copyright (C) the ngx_tiktok authors.
 * tiktok_metrics: the metrics in Prometheus's text format, read from the
 * store in one read transaction on the event loop (LMDB reads never
 * wait).  No API key: a location of its own, off unless configured, and
 * restricted with allow/deny as stub_status is.
 */


#include "ngx_http_tiktok_module.h"


static ngx_int_t ngx_http_tiktok_metrics_handler(ngx_http_request_t *r);


char *
ngx_http_tiktok_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_tiktok_main_conf_t  *tmcf;

    tmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_tiktok_module);

    if (tmcf->store.len == 0) {
        return "needs \"tiktok_store\" in the http block before it";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_tiktok_metrics_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_tiktok_metrics_handler(ngx_http_request_t *r)
{
    int          rc;
    tt_buf_t     text;
    tt_txn_t     txn;
    ngx_buf_t   *b;
    ngx_int_t    nrc;
    tt_arena_t  *a;
    tt_store_t  *st;
    ngx_chain_t  out;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "tiktok metrics handler");

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    nrc = ngx_http_discard_request_body(r);
    if (nrc != NGX_OK) {
        return nrc;
    }

    st = ngx_http_tiktok_worker.store;
    if (st == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    rc = ngx_http_tiktok_read_begin(&txn);
    if (rc != TT_OK) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    a = tt_arena_create(4096);
    tt_buf_init(&text);

    rc = (a != NULL) ? tt_metrics_render(&txn, tt_now_ms(), a, &text)
                     : TT_NOMEM;

    tt_txn_abort(&txn);
    tt_arena_destroy(a);

    if (rc != TT_OK) {
        tt_buf_free(&text);
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "tiktok metrics: the store could not be read: %s",
                      tt_store_last_error(st));
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_create_temp_buf(r->pool, text.len);
    if (b == NULL) {
        tt_buf_free(&text);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, text.data, text.len);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    tt_buf_free(&text);

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    nrc = ngx_http_send_header(r);

    if (nrc == NGX_ERROR || nrc > NGX_OK || r->header_only) {
        return nrc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
