/*
 * Copyright (C) the ngx_tiktok authors.
 * The HTTP API of api.md as plain functions over the store: routing,
 * authentication, every endpoint, and the error shapes.  The nginx module
 * only reads bodies, runs tt_api_exec() inline (reads) or on a thread
 * (writes), and sends what it answers.
 */

#ifndef _TT_API_H_INCLUDED_
#define _TT_API_H_INCLUDED_


#include "tt_store.h"


typedef enum {
    TT_METHOD_GET = 1,
    TT_METHOD_HEAD,
    TT_METHOD_POST,
    TT_METHOD_PATCH,
    TT_METHOD_PUT,
    TT_METHOD_DELETE,
    TT_METHOD_OTHER
} tt_method_e;

typedef enum {
    TT_ROUTE_NONE = 0,
    TT_ROUTE_HEALTH,            /* GET    /api/health */
    TT_ROUTE_POSTS_LIST,        /* GET    /api/posts */
    TT_ROUTE_POSTS_CREATE,      /* POST   /api/posts */
    TT_ROUTE_POSTS_BATCH,       /* POST   /api/posts/batch */
    TT_ROUTE_POSTS_STATS,       /* GET    /api/posts/stats */
    TT_ROUTE_POST_GET,          /* GET    /api/posts/:id */
    TT_ROUTE_POST_PATCH,        /* PATCH  /api/posts/:id */
    TT_ROUTE_POST_DELETE,       /* DELETE /api/posts/:id */
    TT_ROUTE_POST_PUBLISH,      /* POST   /api/posts/:id/publish */
    TT_ROUTE_GROUPS_LIST,       /* GET    /api/profile_groups */
    TT_ROUTE_GROUP_GET,         /* GET    /api/profile_groups/:id */
    TT_ROUTE_PROFILES_LIST,     /* GET    /api/profiles */
    TT_ROUTE_PROFILE_GET,       /* GET    /api/profiles/:id */
    TT_ROUTE_WEBHOOKS_LIST,     /* GET    /api/webhooks */
    TT_ROUTE_WEBHOOKS_CREATE,   /* POST   /api/webhooks */
    TT_ROUTE_WEBHOOK_GET,       /* GET    /api/webhooks/:id */
    TT_ROUTE_WEBHOOK_PATCH,     /* PATCH  /api/webhooks/:id */
    TT_ROUTE_WEBHOOK_DELETE,    /* DELETE /api/webhooks/:id */
    TT_ROUTE_WEBHOOK_TEST,      /* POST   /api/webhooks/:id/test */
    TT_ROUTE_WEBHOOK_DELIVERIES, /* GET   /api/webhooks/:id/deliveries */
    TT_ROUTE_GROUP_CREATE,      /* POST   /api/profile_groups */
    TT_ROUTE_GROUP_DELETE,      /* DELETE /api/profile_groups/:id */
    TT_ROUTE_GROUP_CONNECT,     /* POST   /api/profile_groups/:id/
                                 *        initialize_connection */
    TT_ROUTE_PROFILE_DELETE,    /* DELETE /api/profiles/:id */
    TT_ROUTE_OAUTH_CALLBACK,    /* GET tiktok_oauth_callback ?state= */
    TT_ROUTE_OAUTH_STATUS,      /* GET tiktok_oauth_callback ?connection= */
    TT_ROUTE_QUEUES_LIST,       /* GET    /api/post_queues */
    TT_ROUTE_QUEUES_CREATE,     /* POST   /api/post_queues */
    TT_ROUTE_QUEUE_GET,         /* GET    /api/post_queues/:id */
    TT_ROUTE_QUEUE_PATCH,       /* PATCH  /api/post_queues/:id */
    TT_ROUTE_QUEUE_DELETE,      /* DELETE /api/post_queues/:id */
    TT_ROUTE_QUEUE_NEXT_SLOT,   /* GET    /api/post_queues/:id/next_slot */
    TT_ROUTE_EXPORT,            /* GET    /api/export (streamed) */
    TT_ROUTE_COUNT
} tt_route_e;

typedef struct {
    tt_route_e      id;
    unsigned        write:1;        /* needs a write transaction */
    unsigned        body:1;         /* takes a JSON body */
    unsigned        open:1;         /* no API key needed */
    tt_str_t        param;          /* the :id in the path */
} tt_route_t;

/*
 * TT_OK with r set; TT_NOTFOUND: no such path (404); TT_INVALID: the path
 * exists but not with this method (405).
 */
int tt_api_route(tt_method_e method, const char *path, size_t len,
    tt_route_t *r);

/* the methods a path takes, for a 405's Allow: "GET, HEAD, DELETE" */
void tt_api_allowed(const char *path, size_t len, char *buf, size_t size);


/* what the API needs of nginx.conf */
typedef struct {
    tt_str_t        authorize_url;  /* tiktok_authorize_url */
    tt_str_t        client_key;     /* tiktok_client_key, len 0: none */
    tt_str_t        callback_url;   /* tiktok_oauth_callback, len 0: none */
    int64_t         state_ttl_ms;   /* tiktok_oauth_state_ttl, 0: 10m */
    unsigned        unaudited:1;    /* tiktok_app_audited off */
} tt_api_conf_t;

/*
 * The routes of a tiktok_oauth_callback location: GET or HEAD, with
 * ?connection= the browser's wait for the outcome (a read), else TikTok's
 * redirect back (a write).  TT_INVALID for another method (405).
 */
int tt_api_callback_route(tt_method_e method, const tt_str_t *args,
    tt_route_t *r);


typedef struct {
    tt_route_t      route;
    const tt_api_conf_t *conf;      /* NULL: none of it is set */
    tt_str_t        args;           /* query string, without '?' */
    tt_str_t        auth;           /* Authorization header value */
    tt_str_t        idem_key;       /* Idempotency-Key, len 0 if none */
    const tt_json_t *body;          /* parsed body or NULL */
    uint8_t         body_hash[32];  /* SHA-256 of the raw body */
    int64_t         now_ms;
    int64_t         queue_now_ms;   /* the queues' clock: now_ms, or a
                                     * test's (tiktok_test_queue_clock);
                                     * 0: now_ms */
    tt_arena_t     *arena;          /* scratch for this request */
    unsigned        webhook_http:1; /* http:// webhook URLs allowed
                                     * (tiktok_webhook_allow_private) */

    /*
     * GET /api/health: why the adapter's last write to the store did not
     * commit (its probe's, or a recent batch's), NULL: it committed.  In
     * a write transaction (route.write set by the adapter) the route is
     * that probe: a small write that must commit.
     */
    const char     *unwritable;
} tt_api_req_t;

typedef struct {
    int             status;         /* HTTP status */
    tt_buf_t        body;           /* JSON */
    unsigned        retry_after;    /* seconds, 0 none */
    const char     *location;       /* a redirect's, or NULL */
    unsigned        html:1;         /* text/html (the OAuth pages) */
    unsigned        refresh:1;      /* Refresh: 1; url=location */
    unsigned        oauth:1;        /* no-store, no referrer */
    unsigned        wake:1;         /* the agenda changed */
    unsigned        replayed:1;     /* an idempotent replay */

    /* GET /api/export: no body here, the caller streams the export of
     * this workspace (and group, "" all) from the same transaction */
    unsigned        stream:1;
    char            export_ws[TT_ID_SIZE];
    char            export_pg[TT_ID_SIZE];
} tt_api_resp_t;

void tt_api_resp_init(tt_api_resp_t *resp);
void tt_api_resp_free(tt_api_resp_t *resp);

/*
 * Runs one request in t: a read transaction for !route.write, else a
 * write transaction (nested, so a failed request leaves no trace).  Any
 * HTTP answer, 4xx included, is TT_OK with resp set.  Store failures
 * return TT_FULL, TT_RESIZED or TT_ERR: the caller retries the whole
 * transaction (nothing was committed) or answers 500.
 */
int tt_api_exec(tt_txn_t *t, const tt_api_req_t *req, tt_api_resp_t *resp);

/*
 * The export's slices (tt_api_export.c): tt_export_next appends the next
 * NDJSON lines to out, about max_bytes; TT_NOTFOUND after the last.
 */
typedef struct tt_export_s  tt_export_t;

tt_export_t *tt_export_create(const char *ws, const char *pg, int64_t now);
int tt_export_next(tt_export_t *x, tt_txn_t *t, tt_buf_t *out,
    size_t max_bytes);
void tt_export_free(tt_export_t *x);

/* the metrics in Prometheus's text format (tiktok_metrics), read in t */
int tt_metrics_render(tt_txn_t *t, int64_t now_ms, tt_arena_t *a,
    tt_buf_t *out);

/* the error shapes of api.md, for errors found before tt_api_exec() */
void tt_api_error(tt_api_resp_t *resp, int status, const char *message);


#endif /* _TT_API_H_INCLUDED_ */
