/*
 * Copyright (C) the ngx_tiktok authors.
 * The HTTP API's front: routes, keys, the request's steps.  The answers
 * are built in tt_api_answer.c, the query string read in tt_api_args.c.
 */


#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "tt_api_int.h"


#define TT_API_ID_MAX        64         /* bytes of a :id path segment */
#define TT_API_BEARER_MAX    256        /* bytes of an API key we hash */
#define TT_API_KEYREC_MAX    512        /* a cached key record, at most */


typedef struct {
    tt_method_e     method;
    const char     *pattern;
    tt_route_e      id;
    unsigned        write:1;
    unsigned        body:1;
    unsigned        open:1;
} tt_api_route_def_t;


/*
 * The routes.  A literal segment wins over ":id" (GET /api/posts/batch is
 * 405, not a lookup of post "batch"; GET /api/posts/stats is the
 * counts, not post "stats").
 */
static const tt_api_route_def_t  tt_api_routes[] = {
    { TT_METHOD_GET, "/api/health", TT_ROUTE_HEALTH, 0, 0, 1 },
    { TT_METHOD_GET, "/api/posts", TT_ROUTE_POSTS_LIST, 0, 0, 0 },
    { TT_METHOD_POST, "/api/posts", TT_ROUTE_POSTS_CREATE, 1, 1, 0 },
    { TT_METHOD_POST, "/api/posts/batch", TT_ROUTE_POSTS_BATCH, 1, 1, 0 },
    { TT_METHOD_GET, "/api/posts/:id", TT_ROUTE_POST_GET, 0, 0, 0 },
    { TT_METHOD_PATCH, "/api/posts/:id", TT_ROUTE_POST_PATCH, 1, 1, 0 },
    { TT_METHOD_DELETE, "/api/posts/:id", TT_ROUTE_POST_DELETE, 1, 0, 0 },
    { TT_METHOD_POST, "/api/posts/:id/publish", TT_ROUTE_POST_PUBLISH,
      1, 0, 0 },
    { TT_METHOD_GET, "/api/profile_groups", TT_ROUTE_GROUPS_LIST, 0, 0, 0 },
    { TT_METHOD_GET, "/api/profile_groups/:id", TT_ROUTE_GROUP_GET,
      0, 0, 0 },
    { TT_METHOD_GET, "/api/profiles", TT_ROUTE_PROFILES_LIST, 0, 0, 0 },
    { TT_METHOD_GET, "/api/profiles/:id", TT_ROUTE_PROFILE_GET, 0, 0, 0 },
    { TT_METHOD_GET, "/api/webhooks", TT_ROUTE_WEBHOOKS_LIST, 0, 0, 0 },
    { TT_METHOD_POST, "/api/webhooks", TT_ROUTE_WEBHOOKS_CREATE, 1, 1, 0 },
    { TT_METHOD_GET, "/api/webhooks/:id", TT_ROUTE_WEBHOOK_GET, 0, 0, 0 },
    { TT_METHOD_PATCH, "/api/webhooks/:id", TT_ROUTE_WEBHOOK_PATCH, 1, 1, 0 },
    { TT_METHOD_DELETE, "/api/webhooks/:id", TT_ROUTE_WEBHOOK_DELETE,
      1, 0, 0 },
    { TT_METHOD_POST, "/api/webhooks/:id/test", TT_ROUTE_WEBHOOK_TEST,
      1, 0, 0 },
    { TT_METHOD_GET, "/api/webhooks/:id/deliveries",
      TT_ROUTE_WEBHOOK_DELIVERIES, 0, 0, 0 },
    { TT_METHOD_POST, "/api/profile_groups", TT_ROUTE_GROUP_CREATE, 1, 1, 0 },
    { TT_METHOD_DELETE, "/api/profile_groups/:id", TT_ROUTE_GROUP_DELETE,
      1, 0, 0 },
    { TT_METHOD_POST, "/api/profile_groups/:id/initialize_connection",
      TT_ROUTE_GROUP_CONNECT, 1, 1, 0 },
    { TT_METHOD_DELETE, "/api/profiles/:id", TT_ROUTE_PROFILE_DELETE,
      1, 0, 0 },
    { TT_METHOD_GET, "/api/post_queues", TT_ROUTE_QUEUES_LIST, 0, 0, 0 },
    { TT_METHOD_POST, "/api/post_queues", TT_ROUTE_QUEUES_CREATE, 1, 1, 0 },
    { TT_METHOD_GET, "/api/post_queues/:id", TT_ROUTE_QUEUE_GET, 0, 0, 0 },
    { TT_METHOD_PATCH, "/api/post_queues/:id", TT_ROUTE_QUEUE_PATCH,
      1, 1, 0 },
    { TT_METHOD_DELETE, "/api/post_queues/:id", TT_ROUTE_QUEUE_DELETE,
      1, 0, 0 },
    { TT_METHOD_GET, "/api/post_queues/:id/next_slot",
      TT_ROUTE_QUEUE_NEXT_SLOT, 0, 0, 0 },
    { TT_METHOD_GET, "/api/export", TT_ROUTE_EXPORT, 0, 0, 0 },
    { TT_METHOD_GET, "/api/posts/stats", TT_ROUTE_POSTS_STATS, 0, 0, 0 }
};


/* each pattern's segments, counted once */
static pthread_once_t  tt_api_segs_once = PTHREAD_ONCE_INIT;
static size_t          tt_api_segs[TT_ARRAY_SIZE(tt_api_routes)];

static size_t tt_api_segments(const char *s, size_t len);
static void tt_api_segs_init(void);
static int tt_api_match(const char *pattern, const char *path, size_t len,
    tt_str_t *param, unsigned *rank);
static int tt_api_id_segment(const char *seg, size_t n);
static void tt_api_ctx_init(tt_api_ctx_t *c, tt_txn_t *t,
    const tt_api_req_t *req, tt_api_resp_t *resp);
static int tt_api_admit(tt_api_ctx_t *c, int *done);
static int tt_api_dispatch(tt_api_ctx_t *c);
static int tt_api_auth(tt_api_ctx_t *c);


/* routing */

int
tt_api_route(tt_method_e method, const char *path, size_t len,
    tt_route_t *r)
{
    size_t                     i, segs;
    unsigned                   rank, best, mine;
    tt_str_t                   param, found_param;
    const tt_api_route_def_t  *d, *found;

    if (method == TT_METHOD_HEAD) {
        method = TT_METHOD_GET;
    }

    /* a trailing slash is tolerated, one */
    if (len > 1 && path[len - 1] == '/') {
        len--;
    }

    /*
     * One pass: the most literal pattern that matches the path, whatever
     * its method, decides 404 or 405 (best: its rank + 1, 0 for none);
     * the first of the method's patterns of that rank is the route.
     */
    best = 0;
    mine = 0;
    found = NULL;
    found_param.data = NULL;
    found_param.len = 0;
    segs = tt_api_segments(path, len);

    (void) pthread_once(&tt_api_segs_once, tt_api_segs_init);

    for (i = 0; i < TT_ARRAY_SIZE(tt_api_routes); i++) {
        d = &tt_api_routes[i];

        /* a pattern matches only paths of as many segments */
        if (tt_api_segs[i] != segs
            || !tt_api_match(d->pattern, path, len, &param, &rank))
        {
            continue;
        }

        if (rank + 1 > best) {
            best = rank + 1;
        }

        if (d->method == method && rank + 1 > mine) {
            mine = rank + 1;
            found = d;
            found_param = param;
        }
    }

    if (best == 0) {
        return TT_NOTFOUND;
    }

    if (found == NULL || mine != best) {
        return TT_INVALID;
    }

    memset(r, 0, sizeof(tt_route_t));
    r->id = found->id;
    r->write = found->write;
    r->body = found->body;
    r->open = found->open;
    r->param = found_param;

    return TT_OK;
}


/* the number of '/' of a path or a pattern */
static size_t
tt_api_segments(const char *s, size_t len)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        n += (s[i] == '/');
    }

    return n;
}


static void
tt_api_segs_init(void)
{
    size_t  i;

    for (i = 0; i < TT_ARRAY_SIZE(tt_api_routes); i++) {
        tt_api_segs[i] = tt_api_segments(tt_api_routes[i].pattern,
                                         strlen(tt_api_routes[i].pattern));
    }
}


/*
 * Segment by segment; ":id" takes one segment (see tt_api_id_segment).
 * rank is the number of literal segments, to prefer them.
 */
static int
tt_api_match(const char *pattern, const char *path, size_t len,
    tt_str_t *param, unsigned *rank)
{
    size_t       i, n, plen;
    unsigned     k;
    const char  *p, *seg;

    param->len = 0;
    param->data = NULL;
    k = 0;
    i = 0;
    p = pattern;

    while (*p != '\0') {
        /* both are at a '/' */
        if (i >= len || path[i] != '/' || *p != '/') {
            return 0;
        }

        p++;
        i++;
        seg = path + i;

        for (n = 0; i + n < len && path[i + n] != '/'; n++) {
            /* void */
        }

        for (plen = 0; p[plen] != '\0' && p[plen] != '/'; plen++) {
            /* void */
        }

        if (plen == 3 && p[0] == ':' && p[1] == 'i' && p[2] == 'd') {
            if (!tt_api_id_segment(seg, n)) {
                return 0;
            }

            param->data = seg;
            param->len = n;

        } else {
            if (plen != n || memcmp(p, seg, n) != 0) {
                return 0;
            }

            k++;
        }

        p += plen;
        i += n;
    }

    if (i != len) {
        return 0;
    }

    *rank = k;

    return 1;
}


/* an :id is 1 to 64 bytes of [A-Za-z0-9_-] */
static int
tt_api_id_segment(const char *seg, size_t n)
{
    size_t  j;

    if (n == 0 || n > TT_API_ID_MAX) {
        return 0;
    }

    for (j = 0; j < n; j++) {
        if (!((seg[j] >= 'a' && seg[j] <= 'z')
              || (seg[j] >= 'A' && seg[j] <= 'Z')
              || (seg[j] >= '0' && seg[j] <= '9')
              || seg[j] == '_' || seg[j] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


void
tt_api_allowed(const char *path, size_t len, char *buf, size_t size)
{
    size_t       i, n;
    tt_route_t   r;

    static const struct {
        tt_method_e   method;
        const char   *name;
    } methods[] = {
        { TT_METHOD_GET, "GET" }, { TT_METHOD_HEAD, "HEAD" },
        { TT_METHOD_POST, "POST" }, { TT_METHOD_PATCH, "PATCH" },
        { TT_METHOD_PUT, "PUT" }, { TT_METHOD_DELETE, "DELETE" }
    };

    n = 0;

    if (size > 0) {
        buf[0] = '\0';
    }

    for (i = 0; i < TT_ARRAY_SIZE(methods); i++) {
        if (tt_api_route(methods[i].method, path, len, &r) == TT_OK
            && n + strlen(methods[i].name) + 3 <= size)
        {
            n += (size_t) snprintf(buf + n, size - n, "%s%s", n ? ", " : "",
                                   methods[i].name);
        }
    }
}


/* the request */

int
tt_api_exec(tt_txn_t *t, const tt_api_req_t *req, tt_api_resp_t *resp)
{
    int           rc, done;
    tt_api_ctx_t  c;

    tt_api_ctx_init(&c, t, req, resp);

    if (req->route.open) {
        /* health is the one open route */
        if (req->route.id == TT_ROUTE_HEALTH) {
            return req->route.write ? tt_api_health_probe(&c)
                                    : tt_api_health(&c);
        }

        if (req->route.id == TT_ROUTE_OAUTH_CALLBACK) {
            return tt_api_oauth_callback(&c);
        }

        if (req->route.id == TT_ROUTE_OAUTH_STATUS) {
            return tt_api_oauth_status(&c);
        }

        return tt_api_reply(&c, 404);
    }

    rc = tt_api_admit(&c, &done);
    if (rc != TT_OK || done) {
        return rc;
    }

    rc = tt_api_idem_begin(&c, &done);
    if (rc != TT_OK || done) {
        return rc;
    }

    rc = tt_api_dispatch(&c);

    if (rc == TT_OK) {
        rc = tt_api_idem_end(&c);
    }

    return rc;
}


static void
tt_api_ctx_init(tt_api_ctx_t *c, tt_txn_t *t, const tt_api_req_t *req,
    tt_api_resp_t *resp)
{
    memset(c, 0, sizeof(tt_api_ctx_t));
    c->t = t;
    c->req = req;
    c->resp = resp;
    c->a = req->arena;

    resp->status = 0;
    resp->retry_after = 0;
    resp->location = NULL;
    resp->html = 0;
    resp->refresh = 0;
    resp->oauth = 0;
    resp->wake = 0;
    resp->replayed = 0;
    tt_buf_reset(&resp->body);

    /* an id too long for the store cannot name anything: "" is a 404 */
    if (req->route.param.len > 0 && req->route.param.len < TT_ID_SIZE) {
        memcpy(c->id, req->route.param.data, req->route.param.len);
    }
}


/*
 * Who may go on: the key (401), the query string (400) and the explicit
 * group (404).  *done when the answer is set.
 */
static int
tt_api_admit(tt_api_ctx_t *c, int *done)
{
    int          rc;
    const char  *name;

    *done = 1;

    rc = tt_api_auth(c);

    if (rc == TT_INVALID) {
        return tt_api_reply(c, 401);
    }

    if (rc != TT_OK) {
        return rc;
    }

    if (!tt_api_args_valid(&c->req->args)) {
        return tt_api_answer(c, 400, "the query string has an invalid "
                             "percent-encoding");
    }

    name = tt_api_args_repeated(&c->req->args);

    if (name != NULL) {
        /* which one counts would be a guess: the client says */
        return tt_api_answer(c, 400, "the query parameter %s is given more "
                             "than once", name);
    }

    rc = tt_api_explicit_group(c);

    if (rc == TT_NOTFOUND) {
        return tt_api_reply(c, 404);
    }

    *done = 0;

    return rc;
}


static int
tt_api_dispatch(tt_api_ctx_t *c)
{
    switch (c->req->route.id) {

    case TT_ROUTE_POSTS_LIST:
        return tt_api_posts_list(c);

    case TT_ROUTE_POSTS_CREATE:
        return tt_api_posts_create(c);

    case TT_ROUTE_POSTS_BATCH:
        return tt_api_posts_batch(c);

    case TT_ROUTE_POST_GET:
        return tt_api_post_get(c);

    case TT_ROUTE_POST_PATCH:
        return tt_api_post_patch(c);

    case TT_ROUTE_POST_DELETE:
        return tt_api_post_delete(c);

    case TT_ROUTE_POST_PUBLISH:
        return tt_api_post_publish(c);

    case TT_ROUTE_GROUPS_LIST:
        return tt_api_groups(c, 0);

    case TT_ROUTE_GROUP_GET:
        return tt_api_groups(c, 1);

    case TT_ROUTE_PROFILES_LIST:
        return tt_api_profiles(c, 0);

    case TT_ROUTE_PROFILE_GET:
        return tt_api_profiles(c, 1);

    case TT_ROUTE_WEBHOOKS_LIST:
    case TT_ROUTE_WEBHOOKS_CREATE:
    case TT_ROUTE_WEBHOOK_GET:
    case TT_ROUTE_WEBHOOK_PATCH:
    case TT_ROUTE_WEBHOOK_DELETE:
    case TT_ROUTE_WEBHOOK_TEST:
    case TT_ROUTE_WEBHOOK_DELIVERIES:
        return tt_api_webhooks(c, c->req->route.id);

    case TT_ROUTE_GROUP_CREATE:
        return tt_api_group_create(c);

    case TT_ROUTE_GROUP_DELETE:
        return tt_api_group_delete(c);

    case TT_ROUTE_GROUP_CONNECT:
        return tt_api_group_connect(c);

    case TT_ROUTE_PROFILE_DELETE:
        return tt_api_profile_delete(c);

    case TT_ROUTE_QUEUES_LIST:
    case TT_ROUTE_QUEUES_CREATE:
    case TT_ROUTE_QUEUE_GET:
    case TT_ROUTE_QUEUE_PATCH:
    case TT_ROUTE_QUEUE_DELETE:
    case TT_ROUTE_QUEUE_NEXT_SLOT:
        return tt_api_queues(c);

    case TT_ROUTE_EXPORT:
        return tt_api_export_open(c);

    case TT_ROUTE_POSTS_STATS:
        return tt_api_posts_stats(c);

    default:
        return tt_api_reply(c, 404);
    }
}


/*
 * The last key each thread saw, with its stored record: a request with the
 * same key skips the hash, and when the record is still byte for byte the
 * same, the decode too.  Revoking a key rewrites its record, so a revoked
 * key is refused at once.  Per thread: writes authenticate on the thread
 * pool.
 */
typedef struct {
    size_t          bearer_len;
    char            bearer[TT_API_BEARER_MAX];
    uint8_t         hash[32];
    size_t          rec_len;
    char            rec[TT_API_KEYREC_MAX];
    tt_apikey_t     key;
} tt_api_keycache_t;

static __thread tt_api_keycache_t  tt_api_keycache;


static int
tt_api_key_lookup(tt_api_ctx_t *c, const char *bearer, size_t len)
{
    int                 rc;
    tt_str_t            rec;
    tt_api_keycache_t  *kc;

    kc = &tt_api_keycache;

    if (kc->bearer_len != len || memcmp(kc->bearer, bearer, len) != 0) {
        kc->bearer_len = 0;
        kc->rec_len = 0;

        if (tt_sha256(bearer, len, kc->hash) != TT_OK) {
            return TT_ERR;
        }

        memcpy(kc->bearer, bearer, len);
        kc->bearer_len = len;
    }

    rc = tt_apikey_get_raw(c->t, kc->hash, &rec);
    if (rc != TT_OK) {
        return rc;
    }

    if (kc->rec_len != 0 && kc->rec_len == rec.len
        && memcmp(kc->rec, rec.data, rec.len) == 0)
    {
        c->key = kc->key;
        return TT_OK;
    }

    kc->rec_len = 0;

    rc = tt_apikey_get(c->t, kc->hash, c->a, &c->key);
    if (rc != TT_OK) {
        return rc;
    }

    if (rec.len <= TT_API_KEYREC_MAX) {
        memcpy(kc->rec, rec.data, rec.len);
        kc->rec_len = rec.len;
        kc->key = c->key;
        kc->key.name = NULL;            /* in the request's arena */
    }

    return TT_OK;
}


/* the key: TT_OK, TT_INVALID for a 401, or a store failure */
static int
tt_api_auth(tt_api_ctx_t *c)
{
    int              rc;
    size_t           i, len;
    const char      *key;
    const tt_str_t  *h;

    h = &c->req->auth;

    if (h->len <= 7 || strncasecmp(h->data, "bearer ", 7) != 0) {
        return TT_INVALID;
    }

    key = h->data + 7;
    len = h->len - 7;

    if (len > TT_API_BEARER_MAX) {
        return TT_INVALID;
    }

    for (i = 0; i < len; i++) {
        if (key[i] <= 0x20 || key[i] >= 0x7f) {
            return TT_INVALID;
        }
    }

    rc = tt_api_key_lookup(c, key, len);

    if (rc == TT_NOTFOUND) {
        return TT_INVALID;
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (c->key.revoked_at >= 0 || c->key.workspace_id[0] == '\0') {
        return TT_INVALID;
    }

    c->ws = c->key.workspace_id;
    c->scope = c->key.profile_group_id[0] ? c->key.profile_group_id : NULL;

    return TT_OK;
}
