/*
 * Copyright (C) the ngx_tiktok authors.
 * The API's own rate limit is nginx's limit_req; this file gives it what
 * it keys on and what its refusal says:
 *
 *   $tiktok_api_key_id  a stable, non-secret id of the request's API key:
 *                       the first 8 bytes of the SHA-256 of the Bearer
 *                       token, in hex (16 characters).  Empty when there
 *                       is no Bearer token, so limit_req counts nothing.
 *   Retry-After         on a 429 that limit_req answers in an API
 *                       location (limit_req_status 429), from
 *                       tiktok_api_retry_after; the filter makes its body
 *                       JSON in the API's shape.
 */


#include "ngx_http_tiktok_module.h"

#include "tt_id.h"


#define NGX_HTTP_TIKTOK_KEY_ID_BYTES  8
#define NGX_HTTP_TIKTOK_BEARER_MAX    256   /* as the API: a longer one is
                                             * no key (401) */


static ngx_int_t ngx_http_tiktok_key_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_tiktok_vars[] = {

    { ngx_string("tiktok_api_key_id"), NULL,
      ngx_http_tiktok_key_id_variable, 0, 0, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_tiktok_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_tiktok_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/* never the key itself: only a prefix of its hash leaves this function */
static ngx_int_t
ngx_http_tiktok_key_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char           *p;
    size_t            len;
    uint8_t           digest[32];
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h == NULL || h->value.len <= 7
        || ngx_strncasecmp(h->value.data, (u_char *) "Bearer ", 7) != 0)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    len = h->value.len - 7;

    if (len > NGX_HTTP_TIKTOK_BEARER_MAX) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (tt_sha256(h->value.data + 7, len, digest) != TT_OK) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, 2 * NGX_HTTP_TIKTOK_KEY_ID_BYTES);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_hex_dump(p, digest, NGX_HTTP_TIKTOK_KEY_ID_BYTES);
    ngx_explicit_memzero(digest, sizeof(digest));

    v->len = 2 * NGX_HTTP_TIKTOK_KEY_ID_BYTES;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = p;

    return NGX_OK;
}


/* a 429 of nginx's own (limit_req) in an API location: when to retry */
ngx_int_t
ngx_http_tiktok_retry_after(ngx_http_request_t *r,
    ngx_http_tiktok_loc_conf_t *tlcf)
{
    u_char           *p;
    ngx_table_elt_t  *h;

    if (r->headers_out.status != NGX_HTTP_TOO_MANY_REQUESTS) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    h->value.data = p;
    h->value.len = ngx_sprintf(p, "%T", tlcf->retry_after) - p;

    return NGX_OK;
}
