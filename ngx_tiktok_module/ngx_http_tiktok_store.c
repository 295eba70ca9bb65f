/*
 * Copyright (C) the ngx_tiktok authors.
 * The store's life: opened and migrated by the master, which records the
 * effective configuration in it (at start and reload), and opened by each
 * worker for its reads and its write batches.
 */


#include "ngx_http_tiktok_module.h"


static ngx_int_t ngx_http_tiktok_store_own(ngx_cycle_t *cycle,
    const char *dir);
static ngx_int_t ngx_http_tiktok_store_open(ngx_cycle_t *cycle,
    ngx_http_tiktok_main_conf_t *tmcf, ngx_uint_t worker, tt_store_t **st);
static ngx_int_t ngx_http_tiktok_check_store(ngx_cycle_t *cycle,
    ngx_str_t *store);


/*
 * A master running as root opens the store first, and so creates it: its
 * directory and files go to the workers' user (nginx's "user"), as
 * nginx's own temp paths do, or no worker could open it.
 */
static ngx_int_t
ngx_http_tiktok_store_own(ngx_cycle_t *cycle, const char *dir)
{
    size_t            i;
    u_char            path[NGX_MAX_PATH];
    ngx_core_conf_t  *ccf;
    static const char  *names[] = { "", "/data.mdb", "/lock.mdb" };

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (geteuid() != 0 || ccf->user == (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        return NGX_OK;
    }

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        ngx_snprintf(path, sizeof(path), "%s%s%Z", dir, names[i]);

        if (chown((char *) path, ccf->user, ccf->group) != 0) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "tiktok_store: chown(\"%s\") to the workers' "
                          "user failed", path);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * A worker's commits leave the sync of LMDB's meta page to its batch,
 * which makes it after the writers' lock is let go
 * (ngx_http_tiktok_write.c); the master syncs as it commits.
 */
static ngx_int_t
ngx_http_tiktok_store_open(ngx_cycle_t *cycle,
    ngx_http_tiktok_main_conf_t *tmcf, ngx_uint_t worker, tt_store_t **st)
{
    char             err[512];
    tt_store_conf_t  sc;

    ngx_memzero(&sc, sizeof(tt_store_conf_t));

    sc.path = ngx_http_tiktok_cstr(cycle->pool, &tmcf->store);
    if (sc.path == NULL) {
        return NGX_ERROR;
    }

    sc.map_size = tmcf->map_size;
    sc.map_max = tmcf->map_max;
    sc.max_readers = 512;
    sc.nosync = tmcf->nosync ? 1 : 0;
    sc.sync_later = worker ? 1 : 0;
    sc.token_key = tmcf->token_key;

    if (tt_store_open(&sc, st, err, sizeof(err)) != TT_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "tiktok store \"%V\": %s", &tmcf->store, err);
        return NGX_ERROR;
    }

    if (ngx_http_tiktok_store_own(cycle, sc.path) != NGX_OK) {
        tt_store_close(*st);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the store's directory, or the one it would be made in, is writable */
static ngx_int_t
ngx_http_tiktok_check_store(ngx_cycle_t *cycle, ngx_str_t *store)
{
    u_char           *p, *dir;
    ngx_err_t         err;
    ngx_file_info_t   fi;

    dir = (u_char *) ngx_http_tiktok_cstr(cycle->pool, store);
    if (dir == NULL) {
        return NGX_ERROR;
    }

    /* the nearest directory that exists: the store, or a parent of it */
    while (ngx_file_info(dir, &fi) == NGX_FILE_ERROR) {
        err = ngx_errno;
        p = (u_char *) strrchr((char *) dir, '/');

        if (err != NGX_ENOENT || p == NULL || p == dir) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, err,
                          "tiktok_store \"%V\": cannot reach \"%s\"",
                          store, dir);
            return NGX_ERROR;
        }

        *p = '\0';
    }

    if (!ngx_is_dir(&fi) || access((char *) dir, W_OK | X_OK) != 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_is_dir(&fi) ? ngx_errno
                                                                 : 0,
                      "tiktok_store \"%V\": \"%s\" is not a directory "
                      "this user can write", store, dir);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Runs in the master at start and at each reload, before any worker
 * exists: opens the store (creating or migrating it), records the
 * effective configuration for the scheduler, and closes it again, so no
 * LMDB environment ever crosses fork().
 */
ngx_int_t
ngx_http_tiktok_init_module(ngx_cycle_t *cycle)
{
    int                           rc;
    tt_buf_t                      buf;
    tt_txn_t                      txn;
    tt_conf_t                     c;
    tt_store_t                   *st;
    ngx_pool_t                   *pool;
    ngx_http_tiktok_main_conf_t  *tmcf;

    tmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_tiktok_module);

    if (tmcf == NULL || tmcf->store.len == 0) {
        return NGX_OK;
    }

    /*
     * nginx -t checks a configuration, and must not make the running
     * scheduler's: the record is written by the nginx that will run it.
     * The store is only checked: a reload that cannot open it would stop
     * the master.
     */
    if (ngx_test_config) {
        return ngx_http_tiktok_check_store(cycle, &tmcf->store);
    }

    if (ngx_http_tiktok_store_open(cycle, tmcf, 0, &st) != NGX_OK
        || ngx_http_tiktok_oauth_keys(cycle, tmcf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    pool = cycle->pool;

    ngx_memzero(&c, sizeof(tt_conf_t));
    c.store_path = ngx_http_tiktok_cstr(pool, &tmcf->store);
    c.wake_socket = ngx_http_tiktok_cstr(pool, &tmcf->wake_socket);
    c.spool_dir = ngx_http_tiktok_cstr(pool, &tmcf->spool);
    c.api_base = ngx_http_tiktok_cstr(pool, &tmcf->api_base);
    c.auth_url = ngx_http_tiktok_cstr(pool, &tmcf->authorize_url);
    c.client_key = ngx_http_tiktok_cstr(pool, &tmcf->client_key);
    c.client_secret_file = ngx_http_tiktok_cstr(pool,
                                                &tmcf->client_secret_file);
    c.token_key_file = ngx_http_tiktok_cstr(pool, &tmcf->token_key_file);
    c.max_lateness_ms = tmcf->max_lateness;
    c.max_uploads = tmcf->max_uploads;
    c.chunk_size = tmcf->chunk_size;
    c.refresh_margin_ms = tmcf->refresh_margin;
    c.stats_interval_ms = tmcf->stats_interval;
    c.allow_private_media = tmcf->media_allow_private ? 1 : 0;
    c.webhook_private = tmcf->webhook_allow_private ? 1 : 0;
    c.webhook_timeout_ms = (int64_t) tmcf->webhook_timeout;
    c.spool_retention_ms = (int64_t) tmcf->spool_retention * 1000;
    c.spool_quota = tmcf->spool_quota;
    c.map_max = (int64_t) tmcf->map_max;

    tt_buf_init(&buf);

    rc = tt_conf_encode(&c, &buf);

    if (rc == TT_OK) {
        rc = tt_txn_begin(st, &txn, 1);
        if (rc == TT_OK) {
            tt_meta_put(&txn, "config", buf.data, buf.len);
            rc = tt_txn_commit(&txn);
        }
    }

    tt_buf_free(&buf);

    if (rc != TT_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "tiktok store \"%V\": recording the configuration "
                      "failed: %s", &tmcf->store, tt_store_last_error(st));
    }

    tt_store_close(st);

    return rc == TT_OK ? NGX_OK : NGX_ERROR;
}


ngx_int_t
ngx_http_tiktok_init_process(ngx_cycle_t *cycle)
{
    ngx_http_tiktok_main_conf_t  *tmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    tmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_tiktok_module);

    if (tmcf == NULL || tmcf->store.len == 0) {
        return NGX_OK;
    }

    if (ngx_http_tiktok_store_open(cycle, tmcf, 1,
                                   &ngx_http_tiktok_worker.store)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_tiktok_oauth_worker(tmcf);

    return ngx_http_tiktok_write_init(cycle);
}


void
ngx_http_tiktok_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_tiktok_worker.store == NULL) {
        return;
    }

    if (ngx_http_tiktok_worker.wake_fd != (ngx_socket_t) -1) {
        (void) ngx_close_socket(ngx_http_tiktok_worker.wake_fd);
        ngx_http_tiktok_worker.wake_fd = (ngx_socket_t) -1;
    }

    /* the thread pools, exited before us, have no batch running; an
     * export cut by the exit ends its transaction first */
    ngx_http_tiktok_export_exit();
    tt_store_close(ngx_http_tiktok_worker.store);
    ngx_http_tiktok_worker.store = NULL;
}
