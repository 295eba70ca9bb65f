/*
 * Copyright (C) the ngx_tiktok authors.
 * The nginx side of connecting TikTok accounts: the tiktok_oauth_callback
 * location, the keys that seal the code TikTok sends back, and the
 * headers of the callback's answers.  The callback runs as any API
 * request does (ngx_http_tiktok_handler.c): the state is used up in a
 * write on the thread pool, the browser's wait is a read inline.
 */


#include "ngx_http_tiktok_module.h"

#include "tt_keyring.h"


/* read by the master at start and reload; the workers inherit it */
static tt_keyring_t  ngx_http_tiktok_keyring;


/*
 * tiktok_oauth_callback URL: this location is where TikTok sends the
 * browser back, and URL is how TikTok reaches it (the redirect URI to
 * register with the app): absolute, http or https, no query, no fragment.
 */
char *
ngx_http_tiktok_oauth_callback(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_tiktok_loc_conf_t *tlcf = conf;

    ngx_str_t                    *value, *url;
    ngx_uint_t                    i;
    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_tiktok_main_conf_t  *tmcf;

    if (tlcf->oauth_callback != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    tmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_tiktok_module);

    if (tmcf->store.len == 0) {
        return "needs \"tiktok_store\" in the http block before it";
    }

    value = cf->args->elts;
    url = &value[1];

    if (!(url->len > 7 && ngx_strncmp(url->data, "http://", 7) == 0)
        && !(url->len > 8 && ngx_strncmp(url->data, "https://", 8) == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid URL \"%V\": the "
                           "callback's absolute http:// or https:// URL, as "
                           "registered with the TikTok app, is expected",
                           url);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < url->len; i++) {
        if (url->data[i] == '?' || url->data[i] == '#'
            || url->data[i] <= ' ' || url->data[i] >= 0x7f)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid URL \"%V\": "
                               "TikTok takes no query, fragment or space "
                               "in a redirect URI", url);
            return NGX_CONF_ERROR;
        }
    }

    if (url->len >= 512) {
        return "is longer than TikTok's 512 characters for a redirect URI";
    }

    if (tmcf->oauth_callback.len
        && (tmcf->oauth_callback.len != url->len
            || ngx_strncmp(tmcf->oauth_callback.data, url->data, url->len)
               != 0))
    {
        return "is set twice with different URLs: the API gives TikTok one";
    }

    tmcf->oauth_callback = *url;
    tlcf->oauth_callback = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_tiktok_handler;

    return NGX_CONF_OK;
}


/*
 * The master reads the token keys at start and reload (before workers
 * that might not be allowed to read the file): they seal the codes the
 * callback keeps.  No file: codes cannot be kept, and connecting answers
 * 503 saying so (nginx -t warned already).
 */
ngx_int_t
ngx_http_tiktok_oauth_keys(ngx_cycle_t *cycle,
    ngx_http_tiktok_main_conf_t *tmcf)
{
    char   err[256];
    char  *path;

    tt_keyring_clear(&ngx_http_tiktok_keyring);

    if (tmcf->token_key_file.len == 0) {
        return NGX_OK;
    }

    path = ngx_pnalloc(cycle->pool, tmcf->token_key_file.len + 1);
    if (path == NULL) {
        return NGX_ERROR;
    }

    *ngx_cpymem(path, tmcf->token_key_file.data, tmcf->token_key_file.len)
        = '\0';

    if (tt_keyring_read(path, &ngx_http_tiktok_keyring, err, sizeof(err))
        != TT_OK)
    {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "tiktok_token_key_file: %s: connecting TikTok "
                      "accounts is off", err);
    }

    return NGX_OK;
}


/* a worker's store seals with the keys but never opens a token */
void
ngx_http_tiktok_oauth_worker(ngx_http_tiktok_main_conf_t *tmcf)
{
    tt_api_conf_t  *c;

    if (ngx_http_tiktok_keyring.n) {
        tt_store_set_token_keys(ngx_http_tiktok_worker.store,
                                &ngx_http_tiktok_keyring, 0);
    }

    c = &ngx_http_tiktok_worker.api_conf;

    c->authorize_url.data = (const char *) tmcf->authorize_url.data;
    c->authorize_url.len = tmcf->authorize_url.len;
    c->client_key.data = (const char *) tmcf->client_key.data;
    c->client_key.len = tmcf->client_key.len;
    c->callback_url.data = (const char *) tmcf->oauth_callback.data;
    c->callback_url.len = tmcf->oauth_callback.len;
    c->unaudited = tmcf->app_audited == 0;
    c->state_ttl_ms = tmcf->oauth_state_ttl == NGX_CONF_UNSET_MSEC
                      ? 0 : (int64_t) tmcf->oauth_state_ttl;
}


static ngx_int_t
ngx_http_tiktok_oauth_header(ngx_http_request_t *r, const char *name,
    const char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = (u_char *) value;
    h->value.len = len;

    return NGX_OK;
}


/*
 * The callback's answers: a redirect, or a page that reloads itself; never
 * cached, and the URL (with its state) never sent on as a Referer.
 */
ngx_int_t
ngx_http_tiktok_oauth_headers(ngx_http_request_t *r, tt_api_resp_t *resp)
{
    ngx_table_elt_t  *h;

    if (resp->html) {
        ngx_str_set(&r->headers_out.content_type, "text/html; charset=utf-8");
        r->headers_out.content_type_len = sizeof("text/html") - 1;
    }

    if (resp->location != NULL) {
        if (ngx_http_tiktok_oauth_header(r, "Location", resp->location,
                                         ngx_strlen(resp->location))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        h = r->headers_out.headers.last->elts;
        r->headers_out.location = &h[r->headers_out.headers.last->nelts - 1];
    }

    if (resp->refresh
        && ngx_http_tiktok_oauth_header(r, "Refresh", "1", 1) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!resp->oauth) {
        return NGX_OK;
    }

    if (ngx_http_tiktok_oauth_header(r, "Cache-Control", "no-store",
                                     sizeof("no-store") - 1)
        != NGX_OK
        || ngx_http_tiktok_oauth_header(r, "Referrer-Policy", "no-referrer",
                                        sizeof("no-referrer") - 1)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
