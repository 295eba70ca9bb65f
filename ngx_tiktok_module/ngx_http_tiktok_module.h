/*
 * Copyright (C) the ngx_tiktok authors.
 * Shared declarations of the nginx adapter: configuration, the per-worker
 * state and the functions the module's files call each other with.
 */

#ifndef _NGX_HTTP_TIKTOK_MODULE_H_INCLUDED_
#define _NGX_HTTP_TIKTOK_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "tt_api.h"
#include "tt_conf.h"
#include "tt_time.h"


typedef struct {
    ngx_str_t               store;
    size_t                  map_size;
    size_t                  map_max;
    ngx_str_t               thread_pool_name;
    ngx_thread_pool_t      *thread_pool;
    ngx_str_t               wake_socket;
    ngx_str_t               spool;
    ngx_str_t               api_base;
    ngx_str_t               authorize_url;
    ngx_str_t               client_key;
    ngx_str_t               client_secret_file;
    ngx_str_t               token_key_file;
    ngx_msec_t              max_lateness;
    ngx_uint_t              max_uploads;
    size_t                  chunk_size;
    ngx_msec_t              refresh_margin;
    ngx_msec_t              stats_interval;
    ngx_flag_t              media_allow_private;
    ngx_flag_t              webhook_allow_private;
    ngx_msec_t              webhook_timeout;
    u_char                 *token_key;      /* 32 bytes: seals webhook
                                             * secrets; NULL without */
    time_t                  spool_retention;
    off_t                   spool_quota;
    ngx_flag_t              nosync;
    ngx_str_t               oauth_callback; /* its public URL */
    ngx_flag_t              app_audited;
    ngx_msec_t              oauth_state_ttl;
    int64_t                 test_queue_now;     /* tests only; -1 off */
} ngx_http_tiktok_main_conf_t;


typedef struct {
    ngx_flag_t              enable;
    ngx_flag_t              api_server;     /* a tiktok_api location in
                                             * this server */
    size_t                  body_limit;
    ngx_flag_t              oauth_callback; /* tiktok_oauth_callback here */
    time_t                  retry_after;    /* tiktok_api_retry_after */
} ngx_http_tiktok_loc_conf_t;


typedef struct ngx_http_tiktok_error_page_s  ngx_http_tiktok_error_page_t;


/*
 * One request's life: the handler, the body reader and the write batch.
 * An op is malloc'ed, not in the request's pool: nginx may free the request
 * (a client gone, a worker's shutdown timeout) while its write runs in the
 * thread, which then finishes with the op alone.  Everything tt_api_exec()
 * reads is in the op's arena, none of it in the request's memory.
 */
typedef struct ngx_http_tiktok_op_s  ngx_http_tiktok_op_t;

/* where the writer holds an op (ngx_http_tiktok_op_t's `held') */
#define NGX_HTTP_TIKTOK_OP_FREE     0       /* nowhere: the request's */
#define NGX_HTTP_TIKTOK_OP_PENDING  1       /* waits for the next batch */
#define NGX_HTTP_TIKTOK_OP_RUNNING  2       /* in the batch in the thread */
#define NGX_HTTP_TIKTOK_OP_READER   3       /* a read waiting for the map */

/* what the writer calls when an op it holds is done (or may read now) */
typedef void (*ngx_http_tiktok_op_done_pt)(ngx_http_tiktok_op_t *op);

struct ngx_http_tiktok_op_s {
    ngx_http_request_t     *request;        /* NULL once nginx freed it */
    ngx_http_tiktok_op_done_pt  done;       /* set by whoever queues it */
    ngx_queue_t             queue;          /* pending or running batch */
    tt_api_req_t            req;
    tt_api_resp_t           resp;
    int                     rc;             /* tt_api_exec() result */
    const char             *store_error;    /* why rc, for the log */
    off_t                   body_seen;      /* body bytes read so far */
    ngx_http_tiktok_error_page_t  *error_page; /* see the filter */
    unsigned                body_too_big:1; /* the rest is dropped */
    unsigned                answered:1;     /* the API's own answer */
    unsigned                held:2;         /* NGX_HTTP_TIKTOK_OP_* */
    unsigned                refused:1;      /* the thread pool was full */
    size_t                  request_id_len;
    u_char                  request_id[32]; /* for the log once the
                                             * request is gone */
};


/* a worker's store and its writer */
typedef struct {
    tt_store_t             *store;
    ngx_thread_pool_t      *thread_pool;
    ngx_thread_task_t      *task;
    ngx_queue_t             pending;        /* ops waiting for a batch */
    ngx_queue_t             running;        /* ops in the thread now */
    ngx_queue_t             readers;        /* reads waiting for the map */
    ngx_uint_t              running_count;
    ngx_event_t             hold;           /* keeps an exiting worker */
    ngx_event_t             refused;        /* posted: the pool refused
                                             * the batch */
    unsigned                busy:1;
    ngx_socket_t            wake_fd;
    ngx_log_t              *log;
    tt_api_conf_t           api_conf;       /* what the API needs */

    /* the last batch that wrote, or failed to: GET /api/health's */
    ngx_msec_t              wrote_at;       /* 0: none yet */
    const char             *unwritable;     /* why not, NULL: committed */
    u_char                  unwritable_buf[256];
} ngx_http_tiktok_worker_t;


extern ngx_module_t               ngx_http_tiktok_module;
extern ngx_http_tiktok_worker_t   ngx_http_tiktok_worker;


ngx_int_t ngx_http_tiktok_handler(ngx_http_request_t *r);
/* a read route, inline (ngx_http_tiktok_handler.c); NGX_DONE: it waits
 * for the map, and op->done reads again */
ngx_int_t ngx_http_tiktok_read(ngx_http_tiktok_op_t *op);

/* ngx_http_tiktok_health.c: GET /api/health, its write, and the result
 * of each batch that wrote (or failed to) */
ngx_int_t ngx_http_tiktok_health(ngx_http_tiktok_op_t *op);
void ngx_http_tiktok_write_result(int rc, const char *error);

/* ngx_http_tiktok_store.c: the module's process hooks */
ngx_int_t ngx_http_tiktok_init_module(ngx_cycle_t *cycle);
ngx_int_t ngx_http_tiktok_init_process(ngx_cycle_t *cycle);
void ngx_http_tiktok_exit_process(ngx_cycle_t *cycle);

/* a NUL-terminated copy in pool, or NULL for an empty or failed one */
char *ngx_http_tiktok_cstr(ngx_pool_t *pool, ngx_str_t *s);
ngx_int_t ngx_http_tiktok_body_filter_init(ngx_conf_t *cf);
ngx_int_t ngx_http_tiktok_filter_init(ngx_conf_t *cf);
/* ngx_http_tiktok_filter.c: the request's $request_id (made once, then
 * kept in its variables), and a 413's error-log line */
ngx_int_t ngx_http_tiktok_request_id(ngx_http_request_t *r, ngx_str_t *id);
void ngx_http_tiktok_log_too_big(ngx_http_request_t *r);
void ngx_http_tiktok_send(ngx_http_tiktok_op_t *op);

/* the writer (ngx_http_tiktok_write.c): each calls op->done when done */
ngx_int_t ngx_http_tiktok_write(ngx_http_tiktok_op_t *op);
void ngx_http_tiktok_wait_map(ngx_http_tiktok_op_t *op);
ngx_int_t ngx_http_tiktok_in_flight(tt_str_t *auth, tt_str_t *key);
void ngx_http_tiktok_op_gone(ngx_http_tiktok_op_t *op);
void ngx_http_tiktok_op_free(ngx_http_tiktok_op_t *op);
ngx_int_t ngx_http_tiktok_write_init(ngx_cycle_t *cycle);
void ngx_http_tiktok_wake(void);

/* ngx_http_tiktok_oauth.c: the OAuth callback location, the app's audit,
 * the keys that seal an OAuth code */
char *ngx_http_tiktok_oauth_callback(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_tiktok_oauth_keys(ngx_cycle_t *cycle,
    ngx_http_tiktok_main_conf_t *tmcf);
void ngx_http_tiktok_oauth_worker(ngx_http_tiktok_main_conf_t *tmcf);
ngx_int_t ngx_http_tiktok_oauth_headers(ngx_http_request_t *r,
    tt_api_resp_t *resp);

/* ngx_http_tiktok_limit.c: $tiktok_api_key_id for limit_req, and the
 * Retry-After of its 429 */
ngx_int_t ngx_http_tiktok_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_tiktok_retry_after(ngx_http_request_t *r,
    ngx_http_tiktok_loc_conf_t *tlcf);

/* ngx_http_tiktok_metrics.c, ngx_http_tiktok_export.c */
char *ngx_http_tiktok_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
int ngx_http_tiktok_read_begin(tt_txn_t *txn);
ngx_int_t ngx_http_tiktok_export(ngx_http_tiktok_op_t *op, tt_txn_t *txn);
void ngx_http_tiktok_export_exit(void);


#endif /* _NGX_HTTP_TIKTOK_MODULE_H_INCLUDED_ */
