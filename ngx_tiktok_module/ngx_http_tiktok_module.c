/*
 * Copyright (C) the ngx_tiktok authors.
 * The module's table of contents: directives and configuration.  The
 * store's life in the master and in each worker is in
 * ngx_http_tiktok_store.c.
 */


#include "ngx_http_tiktok_module.h"
#include "tt_chunk.h"


static void *ngx_http_tiktok_create_main_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_tiktok_postconfiguration(ngx_conf_t *cf);
static char *ngx_http_tiktok_init_main_conf(ngx_conf_t *cf, void *conf);
static ngx_int_t ngx_http_tiktok_init_values(ngx_conf_t *cf,
    ngx_http_tiktok_main_conf_t *tmcf);
static ngx_int_t ngx_http_tiktok_init_paths(ngx_conf_t *cf,
    ngx_http_tiktok_main_conf_t *tmcf);
static ngx_int_t ngx_http_tiktok_check_files(ngx_conf_t *cf,
    ngx_http_tiktok_main_conf_t *tmcf);
static ngx_int_t ngx_http_tiktok_check_token_key(ngx_conf_t *cf,
    ngx_http_tiktok_main_conf_t *tmcf);
static ngx_int_t ngx_http_tiktok_check_secret(ngx_conf_t *cf,
    ngx_str_t *file);
static void *ngx_http_tiktok_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_tiktok_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_tiktok_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_tiktok_map_size(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_tiktok_url(ngx_conf_t *cf, void *post, void *data);
static char *ngx_http_tiktok_test_clock(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_tiktok_bounds(ngx_conf_t *cf, void *post, void *data);
static char *ngx_http_tiktok_min_size(ngx_conf_t *cf, void *post,
    void *data);


static ngx_conf_post_handler_pt  ngx_http_tiktok_url_post =
    ngx_http_tiktok_url;

static ngx_conf_num_bounds_t  ngx_http_tiktok_uploads_bounds = {
    ngx_http_tiktok_bounds, 1, 10000
};

/* a body limit under 1k could not hold the smallest valid post */
static ngx_conf_num_bounds_t  ngx_http_tiktok_body_limit_bounds = {
    ngx_http_tiktok_min_size, 1024, 0
};


static ngx_command_t  ngx_http_tiktok_commands[] = {

    { ngx_string("tiktok_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_tiktok_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tiktok_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_tiktok_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tiktok_body_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_tiktok_loc_conf_t, body_limit),
      &ngx_http_tiktok_body_limit_bounds },

    { ngx_string("tiktok_api_retry_after"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_tiktok_loc_conf_t, retry_after),
      NULL },

    { ngx_string("tiktok_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, store),
      NULL },

    { ngx_string("tiktok_store_map_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_tiktok_map_size,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tiktok_store_nosync"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, nosync),
      NULL },

    { ngx_string("tiktok_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, thread_pool_name),
      NULL },

    { ngx_string("tiktok_wake_socket"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, wake_socket),
      NULL },

    { ngx_string("tiktok_spool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, spool),
      NULL },

    { ngx_string("tiktok_spool_retention"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, spool_retention),
      NULL },

    { ngx_string("tiktok_spool_quota"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_off_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, spool_quota),
      NULL },

    { ngx_string("tiktok_api_base"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, api_base),
      &ngx_http_tiktok_url_post },

    { ngx_string("tiktok_authorize_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, authorize_url),
      &ngx_http_tiktok_url_post },

    { ngx_string("tiktok_client_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, client_key),
      NULL },

    { ngx_string("tiktok_client_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, client_secret_file),
      NULL },

    { ngx_string("tiktok_token_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, token_key_file),
      NULL },

    { ngx_string("tiktok_max_lateness"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, max_lateness),
      NULL },

    { ngx_string("tiktok_max_uploads"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, max_uploads),
      &ngx_http_tiktok_uploads_bounds },

    { ngx_string("tiktok_chunk_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, chunk_size),
      NULL },

    { ngx_string("tiktok_stats_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, stats_interval),
      NULL },

    { ngx_string("tiktok_refresh_margin"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, refresh_margin),
      NULL },

    { ngx_string("tiktok_media_allow_private"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, media_allow_private),
      NULL },

    { ngx_string("tiktok_oauth_callback"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_tiktok_oauth_callback,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tiktok_app_audited"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, app_audited),
      NULL },

    { ngx_string("tiktok_oauth_state_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, oauth_state_ttl),
      NULL },

    /* tests only: the queues' clock stands still at this time */
    { ngx_string("tiktok_test_queue_clock"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_tiktok_test_clock,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tiktok_webhook_allow_private"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, webhook_allow_private),
      NULL },

    { ngx_string("tiktok_webhook_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_tiktok_main_conf_t, webhook_timeout),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_tiktok_module_ctx = {
    ngx_http_tiktok_add_variables,         /* preconfiguration */
    ngx_http_tiktok_postconfiguration,     /* postconfiguration */

    ngx_http_tiktok_create_main_conf,      /* create main configuration */
    ngx_http_tiktok_init_main_conf,        /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_tiktok_create_loc_conf,       /* create location configuration */
    ngx_http_tiktok_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_tiktok_module = {
    NGX_MODULE_V1,
    &ngx_http_tiktok_module_ctx,           /* module context */
    ngx_http_tiktok_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_tiktok_init_module,           /* init module */
    ngx_http_tiktok_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_tiktok_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


ngx_http_tiktok_worker_t  ngx_http_tiktok_worker;


static void *
ngx_http_tiktok_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_tiktok_main_conf_t  *tmcf;

    tmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_tiktok_main_conf_t));
    if (tmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     tmcf->store = { 0, NULL };
     *     tmcf->thread_pool_name = { 0, NULL };
     *     tmcf->thread_pool = NULL;
     *     tmcf->wake_socket = { 0, NULL };
     *     tmcf->spool = { 0, NULL };
     *     tmcf->api_base = { 0, NULL };
     *     tmcf->authorize_url = { 0, NULL };
     *     tmcf->client_key = { 0, NULL };
     *     tmcf->client_secret_file = { 0, NULL };
     *     tmcf->token_key_file = { 0, NULL };
     */

    tmcf->map_size = NGX_CONF_UNSET_SIZE;
    tmcf->map_max = NGX_CONF_UNSET_SIZE;
    tmcf->max_lateness = NGX_CONF_UNSET_MSEC;
    tmcf->max_uploads = NGX_CONF_UNSET_UINT;
    tmcf->chunk_size = NGX_CONF_UNSET_SIZE;
    tmcf->refresh_margin = NGX_CONF_UNSET_MSEC;
    tmcf->stats_interval = NGX_CONF_UNSET_MSEC;
    tmcf->media_allow_private = NGX_CONF_UNSET;
    tmcf->webhook_allow_private = NGX_CONF_UNSET;
    tmcf->webhook_timeout = NGX_CONF_UNSET_MSEC;
    tmcf->spool_retention = NGX_CONF_UNSET;
    tmcf->spool_quota = NGX_CONF_UNSET;
    tmcf->nosync = NGX_CONF_UNSET;
    tmcf->app_audited = NGX_CONF_UNSET;
    tmcf->oauth_state_ttl = NGX_CONF_UNSET_MSEC;
    tmcf->test_queue_now = -1;

    return tmcf;
}


/*
 * What the scheduler needs and reads later, checked now, so that nginx -t
 * says what is wrong rather than a daemon's log an hour later.
 */
static ngx_int_t
ngx_http_tiktok_check_files(ngx_conf_t *cf, ngx_http_tiktok_main_conf_t *tmcf)
{
    if (tmcf->wake_socket.len >= sizeof(((struct sockaddr_un *) 0)->sun_path))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tiktok_wake_socket \"%V\" is too long for a unix "
                           "socket (at most %uz bytes)", &tmcf->wake_socket,
                           sizeof(((struct sockaddr_un *) 0)->sun_path) - 1);
        return NGX_ERROR;
    }

    /*
     * The API itself needs none of the app's credentials: one not set is
     * a warning (the scheduler refuses to start without it), one set but
     * unusable an error.
     */
    if (tmcf->client_key.len == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "tiktok_client_key is not set: the scheduler "
                           "cannot publish without the TikTok app's key");
    }

    if (ngx_http_tiktok_check_token_key(cf, tmcf) != NGX_OK
        || ngx_http_tiktok_check_secret(cf, &tmcf->client_secret_file)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_tiktok_check_token_key(ngx_conf_t *cf,
    ngx_http_tiktok_main_conf_t *tmcf)
{
    char       *path, err[512];
    uint8_t     key[32];
    ngx_str_t  *file;

    file = &tmcf->token_key_file;

    if (file->len == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "tiktok_token_key_file is not set: the scheduler "
                           "cannot start without the key that seals the "
                           "profiles' tokens");
        return NGX_OK;
    }

    path = ngx_http_tiktok_cstr(cf->pool, file);
    if (path == NULL) {
        return NGX_ERROR;
    }

    if (tt_read_token_key(path, key, err, sizeof(err)) != TT_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "tiktok_token_key_file: %s",
                           err);
        return NGX_ERROR;
    }

    /* kept: the API seals webhook secrets with it (the workers are
     * forked with it, and may not read the file themselves) */
    tmcf->token_key = ngx_palloc(cf->pool, sizeof(key));
    if (tmcf->token_key != NULL) {
        ngx_memcpy(tmcf->token_key, key, sizeof(key));
    }

    explicit_bzero(key, sizeof(key));

    return tmcf->token_key != NULL ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_tiktok_check_secret(ngx_conf_t *cf, ngx_str_t *file)
{
    char         *path;
    ngx_err_t     err;
    tt_str_t      secret;
    tt_arena_t   *a;

    if (file->len == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "tiktok_client_secret_file is not set: the "
                           "scheduler cannot start without the TikTok "
                           "app's secret");
        return NGX_OK;
    }

    path = ngx_http_tiktok_cstr(cf->pool, file);
    a = tt_arena_create(256);

    if (path == NULL || a == NULL) {
        tt_arena_destroy(a);
        return NGX_ERROR;
    }

    if (tt_read_secret(path, a, &secret) != TT_OK) {
        err = ngx_errno;
        tt_arena_destroy(a);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, err == ENODATA ? 0 : err,
                           "tiktok_client_secret_file: cannot read \"%s\"%s",
                           path, err == ENODATA ? ": it is empty" : "");
        return NGX_ERROR;
    }

    explicit_bzero((char *) secret.data, secret.len);
    tt_arena_destroy(a);

    return NGX_OK;
}


static ngx_int_t
ngx_http_tiktok_postconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_tiktok_body_filter_init(cf) != NGX_OK
        || ngx_http_tiktok_filter_init(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static char *
ngx_http_tiktok_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_tiktok_main_conf_t *tmcf = conf;

    static ngx_str_t  default_pool = ngx_string("default");

    if (tmcf->store.len == 0) {
        /* the module is loaded but unused: nothing to check or open */
        return NGX_CONF_OK;
    }

    if (ngx_conf_full_name(cf->cycle, &tmcf->store, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_tiktok_init_values(cf, tmcf) != NGX_OK
        || ngx_http_tiktok_init_paths(cf, tmcf) != NGX_OK
        || ngx_http_tiktok_check_files(cf, tmcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (tmcf->thread_pool_name.len == 0) {
        tmcf->thread_pool_name = default_pool;
    }

    tmcf->thread_pool = ngx_thread_pool_add(cf, &tmcf->thread_pool_name);
    if (tmcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the defaults (tt_conf.h, tt_chunk.h) and the bounds of the values */
static ngx_int_t
ngx_http_tiktok_init_values(ngx_conf_t *cf,
    ngx_http_tiktok_main_conf_t *tmcf)
{
    ngx_conf_init_size_value(tmcf->map_size, TT_MAP_SIZE_DEFAULT);
    ngx_conf_init_size_value(tmcf->map_max, TT_MAP_MAX_DEFAULT);

    if (tmcf->map_max < tmcf->map_size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tiktok_store_map_size maximum is smaller than "
                           "its initial size");
        return NGX_ERROR;
    }

    ngx_conf_init_msec_value(tmcf->max_lateness, TT_MAX_LATENESS_DEFAULT);
    ngx_conf_init_uint_value(tmcf->max_uploads, TT_MAX_UPLOADS_DEFAULT);
    ngx_conf_init_size_value(tmcf->chunk_size, TT_CHUNK_DEFAULT);
    ngx_conf_init_msec_value(tmcf->stats_interval,
                             TT_STATS_INTERVAL_DEFAULT);
    ngx_conf_init_msec_value(tmcf->refresh_margin,
                             TT_REFRESH_MARGIN_DEFAULT);
    ngx_conf_init_value(tmcf->media_allow_private, 0);
    ngx_conf_init_value(tmcf->app_audited, 0);      /* SELF_ONLY only */
    ngx_conf_init_value(tmcf->webhook_allow_private, 0);
    ngx_conf_init_msec_value(tmcf->webhook_timeout,
                             TT_WEBHOOK_TIMEOUT_DEFAULT);
    ngx_conf_init_value(tmcf->spool_retention,
                        (time_t) (TT_SPOOL_RETENTION_DEFAULT / 1000));
    ngx_conf_init_value(tmcf->spool_quota, (off_t) TT_SPOOL_QUOTA_DEFAULT);
    ngx_conf_init_value(tmcf->nosync, 0);

    if (tmcf->chunk_size < (size_t) TT_CHUNK_MIN
        || tmcf->chunk_size > (size_t) TT_CHUNK_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tiktok_chunk_size must be from %L to %L bytes "
                           "(TikTok's chunk rules)",
                           (int64_t) TT_CHUNK_MIN, (int64_t) TT_CHUNK_MAX);
        return NGX_ERROR;
    }

    /* a century: past that, milliseconds would not fit */
    if (tmcf->spool_retention > (time_t) 100 * 365 * 86400) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tiktok_spool_retention must be at most 100 "
                           "years");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the URLs' defaults, and every path made absolute */
static ngx_int_t
ngx_http_tiktok_init_paths(ngx_conf_t *cf,
    ngx_http_tiktok_main_conf_t *tmcf)
{
    static ngx_str_t  default_api = ngx_string(TT_API_BASE_DEFAULT);
    static ngx_str_t  default_authorize = ngx_string(TT_AUTH_URL_DEFAULT);

    if (tmcf->api_base.len == 0) {
        tmcf->api_base = default_api;
    }

    if (tmcf->authorize_url.len == 0) {
        tmcf->authorize_url = default_authorize;
    }

    if (tmcf->wake_socket.len == 0) {
        tmcf->wake_socket.len = tmcf->store.len + sizeof("/wake.sock") - 1;
        tmcf->wake_socket.data = ngx_pnalloc(cf->pool, tmcf->wake_socket.len);
        if (tmcf->wake_socket.data == NULL) {
            return NGX_ERROR;
        }
        ngx_sprintf(tmcf->wake_socket.data, "%V/wake.sock", &tmcf->store);

    } else if (ngx_conf_full_name(cf->cycle, &tmcf->wake_socket, 0)
               != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (tmcf->spool.len == 0) {
        tmcf->spool.len = tmcf->store.len + sizeof("/spool") - 1;
        tmcf->spool.data = ngx_pnalloc(cf->pool, tmcf->spool.len);
        if (tmcf->spool.data == NULL) {
            return NGX_ERROR;
        }
        ngx_sprintf(tmcf->spool.data, "%V/spool", &tmcf->store);

    } else if (ngx_conf_full_name(cf->cycle, &tmcf->spool, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    if (tmcf->client_secret_file.len
        && ngx_conf_full_name(cf->cycle, &tmcf->client_secret_file, 1)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (tmcf->token_key_file.len
        && ngx_conf_full_name(cf->cycle, &tmcf->token_key_file, 1) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void *
ngx_http_tiktok_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_tiktok_loc_conf_t  *tlcf;

    tlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_tiktok_loc_conf_t));
    if (tlcf == NULL) {
        return NULL;
    }

    tlcf->enable = NGX_CONF_UNSET;
    tlcf->api_server = NGX_CONF_UNSET;
    tlcf->body_limit = NGX_CONF_UNSET_SIZE;
    tlcf->oauth_callback = NGX_CONF_UNSET;
    tlcf->retry_after = NGX_CONF_UNSET;

    return tlcf;
}


static char *
ngx_http_tiktok_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_tiktok_loc_conf_t *prev = parent;
    ngx_http_tiktok_loc_conf_t *conf = child;

    size_t                     buffer;
    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_value(conf->api_server, prev->api_server, 0);
    ngx_conf_merge_value(conf->oauth_callback, prev->oauth_callback, 0);
    ngx_conf_merge_size_value(conf->body_limit, prev->body_limit,
                              1024 * 1024);
    ngx_conf_merge_value(conf->retry_after, prev->retry_after, 1);

    if (!conf->enable) {
        return NGX_CONF_OK;
    }

    /*
     * The API answers an oversized body with its own JSON 413, so nginx's
     * HTML one must not come first (the body filter in the handler bounds
     * chunked bodies instead); and a body within the limit is kept in
     * memory, never in a temporary file, so parsing it never touches the
     * disk.  The read buffer also holds a chunked body's framing: half the
     * limit again leaves room for chunks down to about 32 bytes.  The core
     * module's merge has already run.
     */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    clcf->client_max_body_size = 0;

    buffer = conf->body_limit + conf->body_limit / 2 + 4096;

    if (clcf->client_body_buffer_size < buffer) {
        clcf->client_body_buffer_size = buffer;
    }

    return NGX_CONF_OK;
}


/*
 * tiktok_test_queue_clock TIME: the time that slotting, re-arrangement
 * and next_slot take for now, so that a test can stand before a DST
 * change; never for production (posts would be slotted in the past or
 * the future of the real clock, which the scheduler follows).
 */
static char *
ngx_http_tiktok_test_clock(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_tiktok_main_conf_t  *tmcf = conf;

    ngx_str_t  *value;

    if (tmcf->test_queue_now != -1) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (tt_time_parse((const char *) value[1].data, value[1].len,
                      &tmcf->test_queue_now)
        != TT_OK)
    {
        tmcf->test_queue_now = -1;
        return "takes an ISO 8601 time such as 2027-03-13T12:00:00Z";
    }

    ngx_conf_log_error(NGX_LOG_WARN, cf, 0, "tiktok_test_queue_clock is for "
                       "tests only: queues take %V for now", &value[1]);

    return NGX_CONF_OK;
}


static char *
ngx_http_tiktok_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_tiktok_loc_conf_t *tlcf = conf;

    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_core_srv_conf_t     *cscf;
    ngx_http_tiktok_loc_conf_t   *server;
    ngx_http_tiktok_main_conf_t  *tmcf;

    if (tlcf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    tmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_tiktok_module);

    if (tmcf->store.len == 0) {
        return "needs \"tiktok_store\" in the http block before it";
    }

    tlcf->enable = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_tiktok_handler;

    /* the server's own conf, which its other locations inherit from: its
     * every answer gets X-Request-Id (ngx_http_tiktok_filter.c) */
    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);
    server = cscf->ctx->loc_conf[ngx_http_tiktok_module.ctx_index];
    server->api_server = 1;
    tlcf->api_server = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_tiktok_map_size(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_tiktok_main_conf_t *tmcf = conf;

    ssize_t     size;
    ngx_str_t  *value;
    ngx_uint_t  i;

    if (tmcf->map_size != NGX_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        size = ngx_parse_offset(&value[i]);

        if (size == NGX_ERROR || size < 1024 * 1024) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"%V\" value \"%V\": at least 1m",
                               &value[0], &value[i]);
            return NGX_CONF_ERROR;
        }

        if (i == 1) {
            tmcf->map_size = size;
        } else {
            tmcf->map_max = size;
        }
    }

    return NGX_CONF_OK;
}


/* like ngx_conf_check_num_bounds, with the directive's name in the message */
static char *
ngx_http_tiktok_bounds(ngx_conf_t *cf, void *post, void *data)
{
    ngx_conf_num_bounds_t  *b = post;
    ngx_int_t              *np = data;

    ngx_str_t  *value;

    if (*np >= b->low && *np <= b->high) {
        return NGX_CONF_OK;
    }

    value = cf->args->elts;

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\" must be between %i and %i", &value[0],
                       b->low, b->high);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_tiktok_min_size(ngx_conf_t *cf, void *post, void *data)
{
    ngx_conf_num_bounds_t  *b = post;
    size_t                 *sp = data;

    ngx_str_t  *value;

    if (*sp >= (size_t) b->low) {
        return NGX_CONF_OK;
    }

    value = cf->args->elts;

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\" must be at least %i bytes", &value[0],
                       b->low);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_tiktok_url(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *url = data;

    if (!(url->len > 7 && ngx_strncmp(url->data, "http://", 7) == 0)
        && !(url->len > 8 && ngx_strncmp(url->data, "https://", 8) == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URL \"%V\": http:// or https:// "
                           "expected", url);
        return NGX_CONF_ERROR;
    }

    while (url->len > 8 && url->data[url->len - 1] == '/'
           && ngx_strstr(url->data, "/auth/") == NULL)
    {
        url->len--;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_tiktok_cstr(ngx_pool_t *pool, ngx_str_t *s)
{
    u_char  *p;

    if (s->len == 0) {
        return NULL;
    }

    p = ngx_pnalloc(pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    *ngx_cpymem(p, s->data, s->len) = '\0';

    return (char *) p;
}
