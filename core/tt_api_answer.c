/*
 * Copyright (C) the ngx_tiktok authors.
 * The HTTP API's answers: the response, JSON errors in the API's shapes,
 * and the helpers every handler writes its answer with.
 */


#include <stdarg.h>
#include <stdio.h>

#include "tt_api_int.h"


static const char *tt_api_reason(int status);


void
tt_api_resp_init(tt_api_resp_t *resp)
{
    memset(resp, 0, sizeof(tt_api_resp_t));
    tt_buf_init(&resp->body);
}


void
tt_api_resp_free(tt_api_resp_t *resp)
{
    tt_buf_free(&resp->body);
}


void
tt_api_error(tt_api_resp_t *resp, int status, const char *message)
{
    tt_jw_t      w;
    const char  *reason;

    reason = tt_api_reason(status);

    if (message == NULL) {
        message = reason;
    }

    resp->status = status;
    tt_buf_reset(&resp->body);

    if (tt_jw_init(&w, &resp->body) != TT_OK) {
        return;
    }

    tt_jw_obj_open(&w);

    if (status == 401) {
        tt_jw_key(&w, "error");
        tt_jw_cstr(&w, "Invalid API key");

    } else if (status == 404) {
        tt_jw_key(&w, "error");
        tt_jw_cstr(&w, "Not found");

    } else if (status == 422) {
        tt_jw_key(&w, "errors");
        tt_jw_arr_open(&w);
        tt_jw_cstr(&w, message);
        tt_jw_arr_close(&w);

    } else {
        tt_jw_key(&w, "status");
        tt_jw_int(&w, status);
        tt_jw_key(&w, "error");
        tt_jw_cstr(&w, reason);
        tt_jw_key(&w, "message");
        tt_jw_cstr(&w, message);
    }

    tt_jw_obj_close(&w);

    if (tt_jw_finish(&w) != TT_OK) {
        tt_buf_reset(&resp->body);
    }
}


static const char *
tt_api_reason(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 494: return "Request Header Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
    default: return "Error";
    }
}


/* what tt_api_exec() may return for a failure: the store's, or TT_ERR */
int
tt_api_fail(int rc)
{
    if (rc == TT_FULL || rc == TT_RESIZED) {
        return rc;
    }

    return TT_ERR;
}


/* the fixed answers: 401, 404 */
int
tt_api_reply(tt_api_ctx_t *c, int status)
{
    tt_api_error(c->resp, status, NULL);

    return tt_buf_ok(&c->resp->body) ? TT_OK : TT_ERR;
}


int
tt_api_answer(tt_api_ctx_t *c, int status, const char *fmt, ...)
{
    int      n;
    char     msg[512];
    va_list  ap;

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    if (n < 0) {
        return TT_ERR;
    }

    /* what it quotes (a header, a field) may be cut inside a character */
    tt_utf8_scrub(msg, strlen(msg));

    tt_api_error(c->resp, status, msg);

    return tt_buf_ok(&c->resp->body) ? TT_OK : TT_ERR;
}


int
tt_api_answer_errors(tt_api_ctx_t *c, const tt_errors_t *e)
{
    size_t   i;
    tt_jw_t  w;

    if (e->failed) {
        /* a partial list would hide failing rules: a 500 instead */
        return TT_ERR;
    }

    if (tt_api_jw_begin(c, &w) != TT_OK) {
        return TT_ERR;
    }

    tt_jw_obj_open(&w);
    tt_jw_key(&w, "errors");
    tt_jw_arr_open(&w);

    for (i = 0; i < e->n; i++) {
        tt_jw_cstr(&w, e->msgs[i]);
    }

    tt_jw_arr_close(&w);
    tt_jw_obj_close(&w);

    return tt_api_jw_end(c, &w, 422);
}


int
tt_api_answer_raw(tt_api_ctx_t *c, int status, const tt_str_t *json)
{
    tt_buf_reset(&c->resp->body);

    if (tt_buf_append(&c->resp->body, json->data, json->len) != TT_OK
        || !tt_buf_ok(&c->resp->body))
    {
        return TT_ERR;
    }

    c->resp->status = status;

    return TT_OK;
}


/* w is to write the answer's body, from empty */
int
tt_api_jw_begin(tt_api_ctx_t *c, tt_jw_t *w)
{
    tt_buf_reset(&c->resp->body);

    return tt_jw_init(w, &c->resp->body);
}


/* w is done: the answer is status if every write succeeded */
int
tt_api_jw_end(tt_api_ctx_t *c, tt_jw_t *w, int status)
{
    if (tt_jw_finish(w) != TT_OK || !tt_buf_ok(&c->resp->body)) {
        return TT_ERR;
    }

    c->resp->status = status;

    return TT_OK;
}


/* w is to write a list, {"data":[...]}, or one item bare (!list) */
int
tt_api_data_begin(tt_api_ctx_t *c, tt_jw_t *w, int list)
{
    if (tt_api_jw_begin(c, w) != TT_OK) {
        return TT_ERR;
    }

    if (list) {
        tt_jw_obj_open(w);
        tt_jw_key(w, "data");
        tt_jw_arr_open(w);
    }

    return TT_OK;
}


int
tt_api_data_end(tt_api_ctx_t *c, tt_jw_t *w, int list, int status)
{
    if (list) {
        tt_jw_arr_close(w);
        tt_jw_obj_close(w);
    }

    return tt_api_jw_end(c, w, status);
}
