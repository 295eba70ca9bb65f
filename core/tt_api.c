/*
 * Copyright (C) the ngx_tiktok authors.
 * The HTTP API of api.md over the store: routes, keys, posts, groups.
 */


#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "tt_api.h"
#include "tt_time.h"


#define TT_API_ID_MAX        64         /* bytes of a :id path segment */
#define TT_API_BEARER_MAX    256        /* bytes of an API key we hash */
#define TT_API_PER_PAGE      10
#define TT_API_PER_PAGE_MAX  100
#define TT_API_PAGE_MAX      1000000000
#define TT_API_PURGE         16         /* expired idempotency records */
#define TT_API_HEARTBEAT_MS  30000      /* the scheduler is alive if newer */
#define TT_API_SCRATCH_MAX   (1024 * 1024)


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
 * 405, not a lookup of post "batch"); /api/posts/stats stays unrouted
 * until analytics arrives and answers 404 through the :id lookup.
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
    { TT_METHOD_GET, "/api/profiles/:id", TT_ROUTE_PROFILE_GET, 0, 0, 0 }
};


/* what one request knows once its key is checked */
typedef struct {
    tt_txn_t           *t;
    const tt_api_req_t *req;
    tt_api_resp_t      *resp;
    tt_arena_t         *a;
    tt_apikey_t         key;
    const char         *ws;             /* the key's workspace */
    const char         *scope;          /* the key's group, NULL: full */
    const char         *pg;             /* ?profile_group_id, NULL none */
    char                pg_buf[TT_ID_SIZE];
    char                id[TT_ID_SIZE]; /* the :id, "" if it cannot fit */

    /* the profiles of one group, loaded once per request */
    char                prof_group[TT_ID_SIZE];
    tt_profile_t       *profs;
    size_t              nprofs;
    unsigned            profs_loaded:1;
} tt_api_ctx_t;


/* GET /api/posts: the filters and the page being written */
typedef enum {
    TT_API_ST_ANY = 0,
    TT_API_ST_DRAFT,
    TT_API_ST_SCHEDULED,
    TT_API_ST_PUBLISHED,
    TT_API_ST_FAILED
} tt_api_status_filter_e;

typedef struct {
    tt_api_ctx_t   *c;
    const char     *group;
    tt_api_status_filter_e status;
    int64_t         after;
    int64_t         before;
    tt_str_t        queue_id;
    uint64_t        page;
    uint64_t        per_page;
    uint64_t        first;
    uint64_t        total;
    tt_buf_t        data;           /* the page's items, comma-separated */
    tt_arena_t     *scratch;
    int             rc;
} tt_api_list_t;


static int tt_api_match(const char *pattern, const char *path, size_t len,
    tt_str_t *param, unsigned *rank);
static int tt_api_fail(int rc);
static int tt_api_reply(tt_api_ctx_t *c, int status);
static int tt_api_answer(tt_api_ctx_t *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int tt_api_answer_errors(tt_api_ctx_t *c, const tt_errors_t *e);
static int tt_api_answer_post(tt_api_ctx_t *c, int status,
    const tt_post_t *p);
static int tt_api_answer_raw(tt_api_ctx_t *c, int status,
    const tt_str_t *json);
static int tt_api_auth(tt_api_ctx_t *c);
static int tt_api_hexval(int ch);
static int tt_api_args_valid(const tt_str_t *args);
static size_t tt_api_unescape(const char *s, size_t len, char *out);
static int tt_api_arg(tt_api_ctx_t *c, const char *name, tt_str_t *val);
static int tt_api_explicit_group(tt_api_ctx_t *c);
static int tt_api_acting_group(tt_api_ctx_t *c, const char **group);
static int tt_api_idem_valid(const tt_str_t *key);
static int tt_api_idem_hash(tt_api_ctx_t *c, uint8_t hash[32]);
static int tt_api_idem_lookup(tt_api_ctx_t *c, const uint8_t hash[32],
    int *done);
static int tt_api_idem_store(tt_api_ctx_t *c, const uint8_t hash[32]);
static int tt_api_dispatch(tt_api_ctx_t *c);
static int tt_api_health(tt_api_ctx_t *c);
static int tt_api_group_profiles(tt_api_ctx_t *c, const char *group);
static int tt_api_resolve(tt_api_ctx_t *c, const char *group,
    tt_post_input_t *in, const char *prefix, tt_errors_t *errs);
static int tt_api_queue_find(tt_api_ctx_t *c, const char *group,
    const tt_str_t *queue_id);
static int tt_api_check_queue(tt_api_ctx_t *c, const char *group,
    const tt_post_input_t *in, const char *prefix, tt_errors_t *errs);
static int tt_api_prepare(tt_api_ctx_t *c, const tt_json_t *root,
    const char *group, const char *prefix, tt_post_t *p, tt_errors_t *errs);
static int tt_api_body_object(tt_api_ctx_t *c);
static int tt_api_post_load(tt_api_ctx_t *c, int decode,
    tt_post_peek_t *peek, tt_post_t *p);
static const char *tt_api_post_locked(const tt_post_t *p);
static int tt_api_posts_create(tt_api_ctx_t *c);
static int tt_api_posts_batch(tt_api_ctx_t *c);
static int tt_api_posts_list(tt_api_ctx_t *c);
static int tt_api_list_params(tt_api_ctx_t *c, tt_api_list_t *l,
    tt_errors_t *errs);
static int tt_api_arg_uint(tt_api_ctx_t *c, const char *name, uint64_t min,
    uint64_t max, uint64_t *out, tt_errors_t *errs);
static int tt_api_list_one(void *ctx, const char *id, const tt_str_t *rec);
static int tt_api_list_match(tt_api_list_t *l, const tt_str_t *rec,
    const tt_post_peek_t *peek, int *match);
static int tt_api_post_get(tt_api_ctx_t *c);
static int tt_api_post_patch(tt_api_ctx_t *c);
static int tt_api_post_delete(tt_api_ctx_t *c);
static int tt_api_post_publish(tt_api_ctx_t *c);
static void tt_api_render_group(tt_jw_t *w, const tt_group_t *g,
    size_t nprofiles);
static int tt_api_groups(tt_api_ctx_t *c, int one);
static void tt_api_render_profile(tt_jw_t *w, const tt_profile_t *p);
static int tt_api_profiles(tt_api_ctx_t *c, int one);


/* routing */

int
tt_api_route(tt_method_e method, const char *path, size_t len,
    tt_route_t *r)
{
    size_t                     i;
    unsigned                   rank, best;
    tt_str_t                   param;
    const tt_api_route_def_t  *d, *found;

    if (method == TT_METHOD_HEAD) {
        method = TT_METHOD_GET;
    }

    /* a trailing slash is tolerated, one */
    if (len > 1 && path[len - 1] == '/') {
        len--;
    }

    found = NULL;
    best = 0;

    /* the most literal pattern that matches the path decides 404 or 405 */
    for (i = 0; i < TT_ARRAY_SIZE(tt_api_routes); i++) {
        if (tt_api_match(tt_api_routes[i].pattern, path, len, &param, &rank)
            && rank + 1 > best)
        {
            best = rank + 1;
        }
    }

    if (best == 0) {
        return TT_NOTFOUND;
    }

    for (i = 0; i < TT_ARRAY_SIZE(tt_api_routes); i++) {
        d = &tt_api_routes[i];

        if (d->method == method
            && tt_api_match(d->pattern, path, len, &param, &rank)
            && rank + 1 == best)
        {
            found = d;
            break;
        }
    }

    if (found == NULL) {
        return TT_INVALID;
    }

    memset(r, 0, sizeof(tt_route_t));
    r->id = found->id;
    r->write = found->write;
    r->body = found->body;
    r->open = found->open;
    r->param = param;

    return TT_OK;
}


/*
 * Segment by segment; ":id" takes one segment of [A-Za-z0-9_-], 1 to 64
 * bytes.  rank is the number of literal segments, to prefer them.
 */
static int
tt_api_match(const char *pattern, const char *path, size_t len,
    tt_str_t *param, unsigned *rank)
{
    size_t       i, j, n, plen;
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

        plen = strcspn(p, "/");

        if (plen == 3 && memcmp(p, ":id", 3) == 0) {
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


/* answers */

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

    switch (status) {
    case 400: reason = "Bad Request"; break;
    case 405: reason = "Method Not Allowed"; break;
    case 409: reason = "Conflict"; break;
    case 413: reason = "Payload Too Large"; break;
    case 415: reason = "Unsupported Media Type"; break;
    case 429: reason = "Too Many Requests"; break;
    case 500: reason = "Internal Server Error"; break;
    case 503: reason = "Service Unavailable"; break;
    default: reason = "Error"; break;
    }

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


/* what tt_api_exec() may return for a failure: the store's, or TT_ERR */
static int
tt_api_fail(int rc)
{
    if (rc == TT_FULL || rc == TT_RESIZED) {
        return rc;
    }

    return TT_ERR;
}


/* the fixed answers: 401, 404 */
static int
tt_api_reply(tt_api_ctx_t *c, int status)
{
    tt_api_error(c->resp, status, NULL);

    return tt_buf_ok(&c->resp->body) ? TT_OK : TT_ERR;
}


static int
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

    tt_api_error(c->resp, status, msg);

    return tt_buf_ok(&c->resp->body) ? TT_OK : TT_ERR;
}


static int
tt_api_answer_errors(tt_api_ctx_t *c, const tt_errors_t *e)
{
    size_t   i;
    tt_jw_t  w;

    if (e->failed) {
        /* a partial list would hide failing rules: a 500 instead */
        return TT_ERR;
    }

    tt_buf_reset(&c->resp->body);

    if (tt_jw_init(&w, &c->resp->body) != TT_OK) {
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

    if (tt_jw_finish(&w) != TT_OK || !tt_buf_ok(&c->resp->body)) {
        return TT_ERR;
    }

    c->resp->status = 422;

    return TT_OK;
}


static int
tt_api_answer_post(tt_api_ctx_t *c, int status, const tt_post_t *p)
{
    tt_jw_t  w;

    tt_buf_reset(&c->resp->body);

    if (tt_jw_init(&w, &c->resp->body) != TT_OK) {
        return TT_ERR;
    }

    tt_post_render(&w, p);

    if (tt_jw_finish(&w) != TT_OK || !tt_buf_ok(&c->resp->body)) {
        return TT_ERR;
    }

    c->resp->status = status;

    return TT_OK;
}


static int
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


/* the key: TT_OK, TT_INVALID for a 401, or a store failure */
static int
tt_api_auth(tt_api_ctx_t *c)
{
    int              rc;
    size_t           i, len;
    uint8_t          hash[32];
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

    tt_sha256(key, len, hash);

    rc = tt_apikey_get(c->t, hash, c->a, &c->key);

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


/* query strings */

static int
tt_api_hexval(int ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }

    ch |= 0x20;

    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }

    return -1;
}


/* every %XX complete and hexadecimal; %00 refused: values become C strings */
static int
tt_api_args_valid(const tt_str_t *args)
{
    size_t  i;

    for (i = 0; i < args->len; i++) {
        if (args->data[i] != '%') {
            continue;
        }

        if (i + 2 >= args->len
            || tt_api_hexval((unsigned char) args->data[i + 1]) < 0
            || tt_api_hexval((unsigned char) args->data[i + 2]) < 0
            || (args->data[i + 1] == '0' && args->data[i + 2] == '0'))
        {
            return 0;
        }

        i += 2;
    }

    return 1;
}


/* out has room for len + 1 bytes; the input was checked by args_valid */
static size_t
tt_api_unescape(const char *s, size_t len, char *out)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[n++] = ' ';

        } else if (s[i] == '%' && i + 2 < len) {
            out[n++] = (char) (tt_api_hexval((unsigned char) s[i + 1]) * 16
                               + tt_api_hexval((unsigned char) s[i + 2]));
            i += 2;

        } else {
            out[n++] = s[i];
        }
    }

    out[n] = '\0';

    return n;
}


/* the first value of name, decoded and NUL-terminated, or TT_NOTFOUND */
static int
tt_api_arg(tt_api_ctx_t *c, const char *name, tt_str_t *val)
{
    char        *v, buf[32];
    size_t       nlen, vlen;
    const char  *p, *end, *amp, *eq;

    p = c->req->args.data;
    end = p + c->req->args.len;

    while (p != NULL && p < end) {
        amp = memchr(p, '&', (size_t) (end - p));
        if (amp == NULL) {
            amp = end;
        }

        eq = memchr(p, '=', (size_t) (amp - p));
        if (eq == NULL) {
            eq = amp;
        }

        nlen = (size_t) (eq - p);

        /* our names are short: a longer one is someone else's */
        if (nlen < sizeof(buf)
            && tt_api_unescape(p, nlen, buf) == strlen(name)
            && strcmp(buf, name) == 0)
        {
            vlen = eq < amp ? (size_t) (amp - eq - 1) : 0;

            v = tt_arena_alloc(c->a, vlen + 1);
            if (v == NULL) {
                return TT_NOMEM;
            }

            val->len = tt_api_unescape(eq < amp ? eq + 1 : eq, vlen, v);
            val->data = v;

            return TT_OK;
        }

        p = amp + 1;
    }

    return TT_NOTFOUND;
}


/* groups */

/*
 * ?profile_group_id=: a group of the key's workspace, and the key's own
 * group for a scoped key.  TT_NOTFOUND for a 404.  An empty value counts
 * as not given (form tools send empty fields).
 */
static int
tt_api_explicit_group(tt_api_ctx_t *c)
{
    int         rc;
    tt_str_t    v;
    tt_group_t  g;

    c->pg = NULL;

    rc = tt_api_arg(c, "profile_group_id", &v);

    if (rc == TT_NOTFOUND || (rc == TT_OK && v.len == 0)) {
        return TT_OK;
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (v.len >= TT_ID_SIZE) {
        return TT_NOTFOUND;
    }

    rc = tt_group_get(c->t, v.data, c->a, &g);

    if (rc == TT_NOTFOUND) {
        return TT_NOTFOUND;
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (strcmp(g.workspace_id, c->ws) != 0
        || (c->scope != NULL && strcmp(c->scope, g.id) != 0))
    {
        return TT_NOTFOUND;
    }

    memcpy(c->pg_buf, g.id, TT_ID_SIZE);
    c->pg_buf[TT_ID_SIZE - 1] = '\0';
    c->pg = c->pg_buf;

    return TT_OK;
}


/* the group a call acts on; NULL when the workspace has none */
static int
tt_api_acting_group(tt_api_ctx_t *c, const char **group)
{
    int          rc;
    size_t       n;
    tt_group_t  *list;

    if (c->pg != NULL) {
        *group = c->pg;
        return TT_OK;
    }

    if (c->scope != NULL) {
        *group = c->scope;
        return TT_OK;
    }

    rc = tt_group_list(c->t, c->ws, c->a, &list, &n);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    *group = n ? list[0].id : NULL;

    return TT_OK;
}


/* idempotency */

static int
tt_api_idem_valid(const tt_str_t *key)
{
    size_t  i;

    if (key->len > TT_IDEM_KEY_MAX) {
        return 0;
    }

    for (i = 0; i < key->len; i++) {
        if (key->data[i] <= 0x20 || key->data[i] >= 0x7f) {
            return 0;
        }
    }

    return 1;
}


/*
 * What makes two requests the same: the body, and also the path's id, the
 * query and the key's scope, so that a key reused for another post or
 * by a narrower key is "a different request", not a replay of an answer
 * that request was not entitled to.
 */
static int
tt_api_idem_hash(tt_api_ctx_t *c, uint8_t hash[32])
{
    tt_buf_t  b;

    tt_buf_init(&b);
    tt_buf_append(&b, c->req->body_hash, 32);
    tt_buf_append(&b, c->req->route.param.data, c->req->route.param.len);
    tt_buf_append(&b, "", 1);
    tt_buf_append(&b, c->req->args.data, c->req->args.len);
    tt_buf_append(&b, "", 1);
    tt_buf_append_str(&b, c->scope ? c->scope : "");

    if (!tt_buf_ok(&b)) {
        tt_buf_free(&b);
        return TT_ERR;
    }

    tt_sha256(b.data, b.len, hash);
    tt_buf_free(&b);

    return TT_OK;
}


/* *done: the answer is set (a replay or a 422) */
static int
tt_api_idem_lookup(tt_api_ctx_t *c, const uint8_t hash[32], int *done)
{
    int        rc;
    tt_str_t   body;
    tt_idem_t  rec;

    *done = 0;

    rc = tt_idem_get(c->t, c->ws, &c->req->idem_key, c->a, &rec);

    /* expired but not yet purged is absent, by the request's clock */
    if (rc == TT_NOTFOUND
        || (rc == TT_OK && rec.expires_at <= c->req->now_ms))
    {
        return TT_OK;
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    *done = 1;

    if (rec.route != (int) c->req->route.id
        || memcmp(rec.hash, hash, 32) != 0)
    {
        return tt_api_answer(c, 422, "Idempotency-Key %.*s was already used "
                             "with a different request",
                             (int) c->req->idem_key.len,
                             c->req->idem_key.data);
    }

    body = rec.body;

    if (tt_api_answer_raw(c, rec.status, &body) != TT_OK) {
        return TT_ERR;
    }

    c->resp->replayed = 1;

    return TT_OK;
}


static int
tt_api_idem_store(tt_api_ctx_t *c, const uint8_t hash[32])
{
    int        rc;
    tt_idem_t  rec;

    memset(&rec, 0, sizeof(tt_idem_t));
    memcpy(rec.hash, hash, 32);
    rec.route = (int) c->req->route.id;
    rec.status = c->resp->status;
    rec.body.data = c->resp->body.data;
    rec.body.len = c->resp->body.len;
    rec.expires_at = c->req->now_ms + TT_IDEM_TTL_MS;

    rc = tt_idem_put(c->t, c->ws, &c->req->idem_key, &rec);

    return rc == TT_OK ? TT_OK : tt_api_fail(rc);
}


/* the request */

int
tt_api_exec(tt_txn_t *t, const tt_api_req_t *req, tt_api_resp_t *resp)
{
    int           rc, done, idem;
    uint8_t       hash[32];
    tt_api_ctx_t  c;

    memset(hash, 0, sizeof(hash));
    memset(&c, 0, sizeof(tt_api_ctx_t));
    c.t = t;
    c.req = req;
    c.resp = resp;
    c.a = req->arena;

    resp->status = 0;
    resp->retry_after = 0;
    resp->wake = 0;
    resp->replayed = 0;
    tt_buf_reset(&resp->body);

    /* an id too long for the store cannot name anything: "" is a 404 */
    if (req->route.param.len > 0 && req->route.param.len < TT_ID_SIZE) {
        memcpy(c.id, req->route.param.data, req->route.param.len);
    }

    if (req->route.open) {
        if (req->route.id == TT_ROUTE_HEALTH) {
            return tt_api_health(&c);
        }

        return tt_api_reply(&c, 404);
    }

    rc = tt_api_auth(&c);

    if (rc == TT_INVALID) {
        return tt_api_reply(&c, 401);
    }

    if (rc != TT_OK) {
        return rc;
    }

    if (!tt_api_args_valid(&req->args)) {
        return tt_api_answer(&c, 400, "the query string has an invalid "
                             "percent-encoding");
    }

    rc = tt_api_explicit_group(&c);

    if (rc == TT_NOTFOUND) {
        return tt_api_reply(&c, 404);
    }

    if (rc != TT_OK) {
        return rc;
    }

    idem = 0;

    if (req->route.write) {
        if (!tt_api_idem_valid(&req->idem_key)) {
            return tt_api_answer(&c, 400, "Idempotency-Key must be at most "
                                 "%d visible ASCII characters",
                                 TT_IDEM_KEY_MAX);
        }

        /* a few at a time: the cost of expiry is spread over the writes */
        rc = tt_idem_purge(t, req->now_ms, TT_API_PURGE);
        if (rc != TT_OK) {
            return tt_api_fail(rc);
        }

        if (req->idem_key.len > 0) {
            idem = 1;

            if (tt_api_idem_hash(&c, hash) != TT_OK) {
                return TT_ERR;
            }

            rc = tt_api_idem_lookup(&c, hash, &done);
            if (rc != TT_OK || done) {
                return rc;
            }
        }
    }

    rc = tt_api_dispatch(&c);

    if (rc == TT_OK && idem && resp->status >= 200 && resp->status < 300) {
        rc = tt_api_idem_store(&c, hash);
    }

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

    default:
        return tt_api_reply(c, 404);
    }
}


/*
 * GET /api/health: the store answers (this ran in a transaction) and the
 * scheduler's heartbeat, 8 bytes of big-endian ms in meta.
 */
static int
tt_api_health(tt_api_ctx_t *c)
{
    int       rc, i;
    int64_t   seen;
    tt_jw_t   w;
    tt_str_t  v;

    seen = -1;

    rc = tt_meta_get(c->t, "scheduler_heartbeat", &v);

    if (rc == TT_OK && v.len == 8) {
        seen = 0;

        for (i = 0; i < 8; i++) {
            seen = (int64_t) (((uint64_t) seen << 8)
                              | (unsigned char) v.data[i]);
        }

    } else if (rc != TT_OK && rc != TT_NOTFOUND) {
        return tt_api_fail(rc);
    }

    tt_buf_reset(&c->resp->body);

    if (tt_jw_init(&w, &c->resp->body) != TT_OK) {
        return TT_ERR;
    }

    tt_jw_obj_open(&w);
    tt_jw_key(&w, "status");
    tt_jw_cstr(&w, "ok");
    tt_jw_key(&w, "store");
    tt_jw_obj_open(&w);
    tt_jw_key(&w, "map_size");
    tt_jw_int(&w, (int64_t) tt_store_map_size(c->t->st));
    tt_jw_obj_close(&w);
    tt_jw_key(&w, "scheduler");
    tt_jw_obj_open(&w);
    tt_jw_key(&w, "alive");
    tt_jw_bool(&w, seen >= 0
                   && c->req->now_ms - seen < TT_API_HEARTBEAT_MS);
    tt_jw_key(&w, "last_seen");
    tt_jw_time(&w, seen);
    tt_jw_obj_close(&w);
    tt_jw_obj_close(&w);

    if (tt_jw_finish(&w) != TT_OK || !tt_buf_ok(&c->resp->body)) {
        return TT_ERR;
    }

    c->resp->status = 200;

    return TT_OK;
}


/* posts: from a body to a post */

static int
tt_api_group_profiles(tt_api_ctx_t *c, const char *group)
{
    int  rc;

    if (c->profs_loaded && strcmp(c->prof_group, group) == 0) {
        return TT_OK;
    }

    c->profs_loaded = 0;

    rc = tt_profile_list(c->t, c->ws, group, c->a, &c->profs, &c->nprofs);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    snprintf(c->prof_group, TT_ID_SIZE, "%s", group);
    c->profs_loaded = 1;

    return TT_OK;
}


/*
 * profiles: ids of the group's profiles or platform names.  The same
 * message for an unknown id and another group's or workspace's id: the
 * answer must not tell which ids exist.
 */
static int
tt_api_resolve(tt_api_ctx_t *c, const char *group, tt_post_input_t *in,
    const char *prefix, tt_errors_t *errs)
{
    int                  rc;
    size_t               i, j;
    const tt_str_t      *s;
    const tt_profile_t  *hit;

    in->profile_id[0] = '\0';

    if (!in->has_profiles || in->profiles == NULL) {
        return TT_OK;
    }

    if (group == NULL) {
        tt_errors_add(errs, "%sprofiles: the workspace has no profile group",
                      prefix);
        return TT_OK;
    }

    rc = tt_api_group_profiles(c, group);
    if (rc != TT_OK) {
        return rc;
    }

    for (i = 0; i < in->nprofiles; i++) {
        s = &in->profiles[i];
        hit = NULL;

        if (s->len == 0) {
            /* tt_post_input_parse() said so already */
            continue;
        }

        for (j = 0; j < c->nprofs; j++) {
            if (c->profs[j].platform == NULL
                || strcmp(c->profs[j].platform, "tiktok") != 0)
            {
                continue;
            }

            if (tt_str_eq(s, "tiktok")
                || (strlen(c->profs[j].id) == s->len
                    && memcmp(c->profs[j].id, s->data, s->len) == 0))
            {
                hit = &c->profs[j];
                break;
            }
        }

        if (hit == NULL) {
            if (tt_str_eq(s, "tiktok")) {
                tt_errors_add(errs, "%sprofiles[%zu]: profile group %s has "
                              "no tiktok profile", prefix, i, group);
            } else {
                tt_errors_add(errs, "%sprofiles[%zu] is not a profile of "
                              "profile group %s", prefix, i, group);
            }

            continue;
        }

        if (in->profile_id[0] != '\0'
            && strcmp(in->profile_id, hit->id) != 0)
        {
            /* a group holds one profile per platform: cannot happen */
            tt_errors_add(errs, "%sprofiles[%zu]: a post goes to one tiktok "
                          "profile", prefix, i);
            continue;
        }

        snprintf(in->profile_id, TT_ID_SIZE, "%s", hit->id);
    }

    return TT_OK;
}


/*
 * Queues come with their own store; until then no queue exists.  The
 * lookup is a function of its own so that it is the one place to fill.
 */
static int
tt_api_queue_find(tt_api_ctx_t *c, const char *group,
    const tt_str_t *queue_id)
{
    (void) c;
    (void) group;
    (void) queue_id;

    return TT_NOTFOUND;
}


static int
tt_api_check_queue(tt_api_ctx_t *c, const char *group,
    const tt_post_input_t *in, const char *prefix, tt_errors_t *errs)
{
    int  rc;

    if (!in->has_queue_id || in->queue_id.len == 0) {
        return TT_OK;
    }

    rc = group ? tt_api_queue_find(c, group, &in->queue_id) : TT_NOTFOUND;

    if (rc == TT_NOTFOUND) {
        tt_errors_add(errs, "%squeue_id %.*s is not a queue of profile "
                      "group %s", prefix, (int) in->queue_id.len,
                      in->queue_id.data, group ? group : "(none)");
        return TT_OK;
    }

    return rc == TT_OK ? TT_OK : tt_api_fail(rc);
}


/*
 * A new post from a create body: the body's rules, the profiles and the
 * queue, every failing rule collected.  TT_OK with p ready to store,
 * TT_INVALID with errs filled, or a failure.
 */
static int
tt_api_prepare(tt_api_ctx_t *c, const tt_json_t *root, const char *group,
    const char *prefix, tt_post_t *p, tt_errors_t *errs)
{
    int              rc, prc;
    size_t           nerr;
    tt_post_input_t  in;

    nerr = errs->n;

    prc = tt_post_input_parse(root, 0, prefix, &in, errs, c->a);

    if (prc != TT_OK && prc != TT_INVALID) {
        return TT_ERR;
    }

    if (root == NULL || root->type != TT_JSON_OBJECT) {
        return TT_INVALID;
    }

    if (!in.has_profiles) {
        tt_errors_add(errs, "%sprofiles is required", prefix);
    }

    rc = tt_api_resolve(c, group, &in, prefix, errs);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_api_check_queue(c, group, &in, prefix, errs);
    if (rc != TT_OK) {
        return rc;
    }

    /* apply's own checks would repeat the parser's complaints */
    if (prc == TT_OK) {
        tt_post_init(p, c->req->now_ms);

        rc = tt_post_apply(p, &in, c->req->now_ms, prefix, errs, c->a);
        if (rc != TT_OK && rc != TT_INVALID) {
            return TT_ERR;
        }
    }

    if (errs->failed) {
        return TT_ERR;
    }

    if (errs->n > nerr) {
        return TT_INVALID;
    }

    snprintf(p->workspace_id, TT_ID_SIZE, "%s", c->ws);
    snprintf(p->profile_group_id, TT_ID_SIZE, "%s", group);
    tt_post_settle(p, c->req->now_ms);

    return TT_OK;
}


static int
tt_api_body_object(tt_api_ctx_t *c)
{
    return c->req->body != NULL && c->req->body->type == TT_JSON_OBJECT;
}


/*
 * The post of the path, if the key may see it: same workspace, and same
 * group for a scoped key or an explicit ?profile_group_id.  TT_NOTFOUND
 * for a 404 either way.  A full-access key needs only the header.
 */
static int
tt_api_post_load(tt_api_ctx_t *c, int decode, tt_post_peek_t *peek,
    tt_post_t *p)
{
    int       rc;
    tt_str_t  rec;

    if (c->id[0] == '\0') {
        return TT_NOTFOUND;
    }

    rc = tt_post_get_raw(c->t, c->id, &rec);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? rc : tt_api_fail(rc);
    }

    if (tt_post_peek(rec.data, rec.len, peek) != TT_OK) {
        return TT_ERR;
    }

    if (strcmp(peek->workspace_id, c->ws) != 0) {
        return TT_NOTFOUND;
    }

    if (!decode && c->scope == NULL && c->pg == NULL) {
        return TT_OK;
    }

    if (tt_post_decode(rec.data, rec.len, c->a, p) != TT_OK) {
        return TT_ERR;
    }

    if ((c->scope != NULL && strcmp(p->profile_group_id, c->scope) != 0)
        || (c->pg != NULL && strcmp(p->profile_group_id, c->pg) != 0))
    {
        return TT_NOTFOUND;
    }

    return TT_OK;
}


/* why a post can no longer change, or NULL */
static const char *
tt_api_post_locked(const tt_post_t *p)
{
    size_t  i;

    for (i = 0; i < p->nplatforms; i++) {
        if (p->platforms[i].status == TT_PLAT_PUBLISHED) {
            return "has already been published";
        }
    }

    if (p->status == TT_POST_PROCESSED) {
        return "has already been processed";
    }

    if (p->status == TT_POST_PROCESSING) {
        return "is already publishing";
    }

    for (i = 0; i < p->nplatforms; i++) {
        if (p->platforms[i].status != TT_PLAT_PENDING
            || p->platforms[i].attempts > 0)
        {
            return "is already publishing";
        }
    }

    return NULL;
}


/* POST /api/posts */
static int
tt_api_posts_create(tt_api_ctx_t *c)
{
    int           rc;
    tt_post_t     p;
    const char   *group;
    tt_errors_t   errs;

    if (!tt_api_body_object(c)) {
        return tt_api_answer(c, 400, "the request body must be a JSON "
                             "object");
    }

    rc = tt_api_acting_group(c, &group);
    if (rc != TT_OK) {
        return rc;
    }

    tt_errors_init(&errs, c->a);

    rc = tt_api_prepare(c, c->req->body, group, "", &p, &errs);

    if (rc == TT_INVALID) {
        return tt_api_answer_errors(c, &errs);
    }

    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_post_put(c->t, &p);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    c->resp->wake = (p.due_at >= 0);

    return tt_api_answer_post(c, 201, &p);
}


/* POST /api/posts/batch: every post valid, or none stored */
static int
tt_api_posts_batch(tt_api_ctx_t *c)
{
    int                      rc, bad;
    char                     prefix[32];
    size_t                   i, n;
    tt_jw_t                  w;
    tt_post_t               *posts;
    const char              *group;
    tt_errors_t              errs;
    const tt_json_t         *list, *body;
    const tt_json_member_t  *m;

    if (!tt_api_body_object(c)) {
        return tt_api_answer(c, 400, "the request body must be a JSON "
                             "object");
    }

    body = c->req->body;
    tt_errors_init(&errs, c->a);

    for (i = 0; i < body->n; i++) {
        m = &body->members[i];

        if (strcmp(m->key, "posts") != 0) {
            n = m->key_len;

            /* quote at most 64 bytes, cut where a character starts */
            if (n > 64) {
                n = 64;

                while (n > 0 && ((unsigned char) m->key[n] & 0xc0) == 0x80)
                {
                    n--;
                }
            }

            tt_errors_add(&errs, "%.*s%s is not a known field", (int) n,
                          m->key, n < m->key_len ? "..." : "");
        }
    }

    list = tt_json_get(body, "posts");

    if (list == NULL || list->type != TT_JSON_ARRAY || list->n == 0
        || list->n > TT_BATCH_MAX)
    {
        tt_errors_add(&errs, "posts must be an array of 1 to %d posts",
                      TT_BATCH_MAX);
        return tt_api_answer_errors(c, &errs);
    }

    rc = tt_api_acting_group(c, &group);
    if (rc != TT_OK) {
        return rc;
    }

    posts = tt_arena_calloc(c->a, list->n * sizeof(tt_post_t));
    if (posts == NULL) {
        return TT_ERR;
    }

    bad = 0;

    for (i = 0; i < list->n; i++) {
        snprintf(prefix, sizeof(prefix), "posts[%zu]: ", i);

        if (list->items[i]->type != TT_JSON_OBJECT) {
            tt_errors_add(&errs, "posts[%zu] must be an object", i);
            bad = 1;
            continue;
        }

        rc = tt_api_prepare(c, list->items[i], group, prefix, &posts[i],
                            &errs);

        if (rc == TT_INVALID) {
            bad = 1;

        } else if (rc != TT_OK) {
            return rc;
        }
    }

    if (bad || errs.n > 0) {
        return tt_api_answer_errors(c, &errs);
    }

    for (i = 0; i < list->n; i++) {
        rc = tt_post_put(c->t, &posts[i]);
        if (rc != TT_OK) {
            return tt_api_fail(rc);
        }

        if (posts[i].due_at >= 0) {
            c->resp->wake = 1;
        }
    }

    tt_buf_reset(&c->resp->body);

    if (tt_jw_init(&w, &c->resp->body) != TT_OK) {
        return TT_ERR;
    }

    tt_jw_obj_open(&w);
    tt_jw_key(&w, "data");
    tt_jw_arr_open(&w);

    for (i = 0; i < list->n; i++) {
        tt_post_render(&w, &posts[i]);
    }

    tt_jw_arr_close(&w);
    tt_jw_obj_close(&w);

    if (tt_jw_finish(&w) != TT_OK || !tt_buf_ok(&c->resp->body)) {
        return TT_ERR;
    }

    c->resp->status = 201;

    return TT_OK;
}


/*
 * GET /api/posts.  The envelope is written by hand so that each item is
 * the stored API bytes, copied, never decoded and re-rendered; a post is
 * decoded only when a filter needs what the header does not hold.  The
 * total is known only at the end, so the page's items wait in l.data.
 */
static int
tt_api_posts_list(tt_api_ctx_t *c)
{
    int            rc;
    tt_buf_t      *out;
    tt_errors_t    errs;
    tt_api_list_t  l;

    memset(&l, 0, sizeof(tt_api_list_t));
    l.c = c;
    l.after = -1;
    l.before = -1;

    tt_errors_init(&errs, c->a);

    rc = tt_api_list_params(c, &l, &errs);
    if (rc != TT_OK) {
        return rc;
    }

    if (errs.n > 0 || errs.failed) {
        return tt_api_answer_errors(c, &errs);
    }

    /* a full-access key without a group sees the whole workspace */
    l.group = c->pg ? c->pg : c->scope;
    tt_buf_init(&l.data);

    rc = tt_post_iter(c->t, c->ws, tt_api_list_one, &l);

    if (l.scratch != NULL) {
        tt_arena_destroy(l.scratch);
    }

    if (rc == TT_OK) {
        rc = l.rc;
    }

    if (rc == TT_OK && !tt_buf_ok(&l.data)) {
        rc = TT_NOMEM;
    }

    if (rc != TT_OK) {
        tt_buf_free(&l.data);
        return tt_api_fail(rc);
    }

    out = &c->resp->body;
    tt_buf_reset(out);
    tt_buf_printf(out, "{\"total\":%" PRIu64 ",\"page\":%" PRIu64
                  ",\"per_page\":%" PRIu64 ",\"data\":[", l.total, l.page,
                  l.per_page);
    tt_buf_append(out, l.data.data, l.data.len);
    tt_buf_append(out, "]}", 2);
    tt_buf_free(&l.data);

    if (!tt_buf_ok(out)) {
        return TT_ERR;
    }

    c->resp->status = 200;

    return TT_OK;
}


static int
tt_api_list_params(tt_api_ctx_t *c, tt_api_list_t *l, tt_errors_t *errs)
{
    int             rc;
    size_t          i;
    tt_str_t        v;
    uint64_t        page, per_page;

    static const struct {
        const char             *name;
        tt_api_status_filter_e  value;
    }  statuses[] = {
        { "draft", TT_API_ST_DRAFT },
        { "scheduled", TT_API_ST_SCHEDULED },
        { "published", TT_API_ST_PUBLISHED },
        { "failed", TT_API_ST_FAILED }
    };

    rc = tt_api_arg(c, "status", &v);

    if (rc == TT_OK) {
        for (i = 0; i < TT_ARRAY_SIZE(statuses); i++) {
            if (strcmp(v.data, statuses[i].name) == 0) {
                l->status = statuses[i].value;
                break;
            }
        }

        if (i == TT_ARRAY_SIZE(statuses)) {
            tt_errors_add(errs, "status must be one of draft, scheduled, "
                          "published, failed");
        }

    } else if (rc != TT_NOTFOUND) {
        return tt_api_fail(rc);
    }

    rc = tt_api_arg(c, "scheduled_after", &v);

    if (rc == TT_OK) {
        if (tt_time_parse(v.data, v.len, &l->after) != TT_OK) {
            l->after = -1;
            tt_errors_add(errs, "scheduled_after is not an ISO 8601 time "
                          "with an offset");
        }

    } else if (rc != TT_NOTFOUND) {
        return tt_api_fail(rc);
    }

    rc = tt_api_arg(c, "scheduled_before", &v);

    if (rc == TT_OK) {
        if (tt_time_parse(v.data, v.len, &l->before) != TT_OK) {
            l->before = -1;
            tt_errors_add(errs, "scheduled_before is not an ISO 8601 time "
                          "with an offset");
        }

    } else if (rc != TT_NOTFOUND) {
        return tt_api_fail(rc);
    }

    rc = tt_api_arg(c, "queue_id", &v);

    if (rc == TT_OK) {
        if (v.len == 0 || v.len >= TT_ID_SIZE) {
            tt_errors_add(errs, "queue_id is not a valid queue id");
        }

        l->queue_id = v;

    } else if (rc != TT_NOTFOUND) {
        return tt_api_fail(rc);
    }

    page = 0;
    per_page = TT_API_PER_PAGE;

    rc = tt_api_arg_uint(c, "page", 0, TT_API_PAGE_MAX, &page, errs);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_api_arg_uint(c, "per_page", 1, TT_API_PER_PAGE_MAX, &per_page,
                         errs);
    if (rc != TT_OK) {
        return rc;
    }

    l->page = page;
    l->per_page = per_page;
    l->first = page * per_page;

    return TT_OK;
}


/* a decimal in [min, max]; absent leaves *out as it is */
static int
tt_api_arg_uint(tt_api_ctx_t *c, const char *name, uint64_t min,
    uint64_t max, uint64_t *out, tt_errors_t *errs)
{
    int                  rc;
    char                *end;
    tt_str_t             v;
    unsigned long long   n;

    rc = tt_api_arg(c, name, &v);

    if (rc == TT_NOTFOUND) {
        return TT_OK;
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    n = 0;
    end = NULL;

    /* strtoull() takes signs and blanks: only digits here */
    if (v.len > 0 && v.data[0] >= '0' && v.data[0] <= '9') {
        n = strtoull(v.data, &end, 10);
    }

    if (end == NULL || *end != '\0' || n < min || n > max) {
        tt_errors_add(errs, "%s must be an integer from %" PRIu64 " to %"
                      PRIu64, name, min, max);
        return TT_OK;
    }

    *out = n;

    return TT_OK;
}


static int
tt_api_list_one(void *ctx, const char *id, const tt_str_t *rec)
{
    int             match;
    tt_buf_t       *out;
    tt_api_list_t  *l;
    tt_post_peek_t  peek;

    (void) id;

    l = ctx;

    if (tt_post_peek(rec->data, rec->len, &peek) != TT_OK) {
        l->rc = TT_ERR;
        return 1;
    }

    l->rc = tt_api_list_match(l, rec, &peek, &match);

    if (l->rc != TT_OK) {
        return 1;
    }

    if (!match) {
        return 0;
    }

    if (l->total >= l->first && l->total < l->first + l->per_page) {
        out = &l->data;

        if (out->len > 0) {
            tt_buf_append(out, ",", 1);
        }

        tt_buf_append(out, peek.api.data, peek.api.len);
    }

    l->total++;

    return 0;
}


static int
tt_api_list_match(tt_api_list_t *l, const tt_str_t *rec,
    const tt_post_peek_t *peek, int *match)
{
    int        need;
    size_t     i;
    tt_post_t  p;

    *match = 0;

    if (strcmp(peek->workspace_id, l->c->ws) != 0) {
        return TT_OK;
    }

    /* posts without a time never match a time filter */
    if ((l->after >= 0 || l->before >= 0) && peek->scheduled_at < 0) {
        return TT_OK;
    }

    if ((l->after >= 0 && peek->scheduled_at < l->after)
        || (l->before >= 0 && peek->scheduled_at >= l->before))
    {
        return TT_OK;
    }

    need = (l->group != NULL || l->queue_id.len > 0);

    switch (l->status) {

    case TT_API_ST_DRAFT:
        if (peek->status != TT_POST_DRAFT) {
            return TT_OK;
        }
        break;

    case TT_API_ST_SCHEDULED:
        if (peek->status != TT_POST_PENDING
            && peek->status != TT_POST_SCHEDULED)
        {
            return TT_OK;
        }
        break;

    case TT_API_ST_PUBLISHED:
        if (peek->status != TT_POST_PROCESSED) {
            return TT_OK;
        }
        need = 1;
        break;

    case TT_API_ST_FAILED:
        if (peek->status == TT_POST_PROCESSED
            || peek->status == TT_POST_PROCESSING)
        {
            need = 1;

        } else if (peek->status != TT_POST_MEDIA_FAILED) {
            return TT_OK;
        }
        break;

    default:
        break;
    }

    if (!need) {
        *match = 1;
        return TT_OK;
    }

    /* decoded posts pile up in the arena: recycle it now and then */
    if (l->scratch != NULL && tt_arena_used(l->scratch) > TT_API_SCRATCH_MAX)
    {
        tt_arena_destroy(l->scratch);
        l->scratch = NULL;
    }

    if (l->scratch == NULL) {
        l->scratch = tt_arena_create(16384);
        if (l->scratch == NULL) {
            return TT_NOMEM;
        }
    }

    if (tt_post_decode(rec->data, rec->len, l->scratch, &p) != TT_OK) {
        return TT_ERR;
    }

    if (l->group != NULL && strcmp(p.profile_group_id, l->group) != 0) {
        return TT_OK;
    }

    if (l->queue_id.len > 0
        && (strlen(p.queue_id) != l->queue_id.len
            || memcmp(p.queue_id, l->queue_id.data, l->queue_id.len) != 0))
    {
        return TT_OK;
    }

    if (l->status == TT_API_ST_PUBLISHED
        || (l->status == TT_API_ST_FAILED
            && peek->status != TT_POST_MEDIA_FAILED))
    {
        for (i = 0; i < p.nplatforms; i++) {
            if (p.platforms[i].status
                == (l->status == TT_API_ST_PUBLISHED ? TT_PLAT_PUBLISHED
                                                     : TT_PLAT_FAILED))
            {
                break;
            }
        }

        if (i == p.nplatforms) {
            return TT_OK;
        }
    }

    *match = 1;

    return TT_OK;
}


/* GET /api/posts/:id: the stored bytes as they are */
static int
tt_api_post_get(tt_api_ctx_t *c)
{
    int             rc;
    tt_post_t       p;
    tt_post_peek_t  peek;

    rc = tt_api_post_load(c, 0, &peek, &p);

    if (rc == TT_NOTFOUND) {
        return tt_api_reply(c, 404);
    }

    if (rc != TT_OK) {
        return rc;
    }

    return tt_api_answer_raw(c, 200, &peek.api);
}


/* PATCH /api/posts/:id */
static int
tt_api_post_patch(tt_api_ctx_t *c)
{
    int              rc, prc, was_due;
    tt_post_t        p;
    const char      *why;
    tt_errors_t      errs;
    tt_post_peek_t   peek;
    tt_post_input_t  in;

    if (!tt_api_body_object(c)) {
        return tt_api_answer(c, 400, "the request body must be a JSON "
                             "object");
    }

    rc = tt_api_post_load(c, 1, &peek, &p);

    if (rc == TT_NOTFOUND) {
        return tt_api_reply(c, 404);
    }

    if (rc != TT_OK) {
        return rc;
    }

    why = tt_api_post_locked(&p);
    if (why != NULL) {
        return tt_api_answer(c, 409, "post %s %s", p.id, why);
    }

    tt_errors_init(&errs, c->a);

    prc = tt_post_input_parse(c->req->body, 1, "", &in, &errs, c->a);

    if (prc != TT_OK && prc != TT_INVALID) {
        return TT_ERR;
    }

    /* the post stays in its group: profiles and queue are of that one */
    rc = tt_api_resolve(c, p.profile_group_id, &in, "", &errs);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_api_check_queue(c, p.profile_group_id, &in, "", &errs);
    if (rc != TT_OK) {
        return rc;
    }

    if (prc == TT_OK) {
        rc = tt_post_apply(&p, &in, c->req->now_ms, "", &errs, c->a);
        if (rc != TT_OK && rc != TT_INVALID) {
            return TT_ERR;
        }
    }

    if (errs.n > 0 || errs.failed) {
        return tt_api_answer_errors(c, &errs);
    }

    was_due = (peek.due_at >= 0);

    p.updated_at = c->req->now_ms;
    tt_post_settle(&p, c->req->now_ms);

    rc = tt_post_put(c->t, &p);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    c->resp->wake = (was_due || p.due_at >= 0);

    return tt_api_answer_post(c, 200, &p);
}


/*
 * DELETE /api/posts/:id.  A post being published is refused: its upload
 * may be in flight and cannot be recalled.  A finished one only loses our
 * record of it.
 */
static int
tt_api_post_delete(tt_api_ctx_t *c)
{
    int             rc;
    tt_post_t       p;
    tt_post_peek_t  peek;

    rc = tt_api_post_load(c, 0, &peek, &p);

    if (rc == TT_NOTFOUND) {
        return tt_api_reply(c, 404);
    }

    if (rc != TT_OK) {
        return rc;
    }

    if (peek.status == TT_POST_PROCESSING) {
        return tt_api_answer(c, 409, "post %s is being published and cannot "
                             "be deleted now", c->id);
    }

    rc = tt_post_del(c->t, c->id);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    c->resp->wake = (peek.due_at >= 0);

    tt_buf_reset(&c->resp->body);
    tt_buf_append_str(&c->resp->body, "{\"deleted\":true}");

    if (!tt_buf_ok(&c->resp->body)) {
        return TT_ERR;
    }

    c->resp->status = 200;

    return TT_OK;
}


/* POST /api/posts/:id/publish: now, whatever time it had */
static int
tt_api_post_publish(tt_api_ctx_t *c)
{
    int             rc;
    tt_post_t       p;
    const char     *why;
    tt_post_peek_t  peek;

    rc = tt_api_post_load(c, 1, &peek, &p);

    if (rc == TT_NOTFOUND) {
        return tt_api_reply(c, 404);
    }

    if (rc != TT_OK) {
        return rc;
    }

    why = tt_api_post_locked(&p);
    if (why != NULL) {
        return tt_api_answer(c, 409, "post %s %s", p.id, why);
    }

    if (p.status == TT_POST_MEDIA_FAILED) {
        return tt_api_answer(c, 409, "post %s has media that failed "
                             "processing: change its media first", p.id);
    }

    p.draft = 0;
    p.scheduled_at = c->req->now_ms;
    p.updated_at = c->req->now_ms;
    tt_post_settle(&p, c->req->now_ms);

    rc = tt_post_put(c->t, &p);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    c->resp->wake = 1;

    return tt_api_answer_post(c, 200, &p);
}


/* profile groups and profiles, read-only here */

static void
tt_api_render_group(tt_jw_t *w, const tt_group_t *g, size_t nprofiles)
{
    tt_jw_obj_open(w);
    tt_jw_key(w, "id");
    tt_jw_cstr(w, g->id);
    tt_jw_key(w, "name");
    tt_jw_cstr(w, g->name);
    tt_jw_key(w, "profiles_count");
    tt_jw_int(w, (int64_t) nprofiles);
    tt_jw_obj_close(w);
}


/* one: GET /api/profile_groups/:id, else the list */
static int
tt_api_groups(tt_api_ctx_t *c, int one)
{
    int            rc;
    size_t         i, n, np;
    tt_jw_t        w;
    tt_group_t    *list, g;
    const char    *only;
    tt_profile_t  *profs;

    only = one ? c->id : (c->pg ? c->pg : c->scope);
    list = NULL;
    n = 0;

    if (only != NULL) {
        if (only[0] == '\0') {
            return tt_api_reply(c, 404);
        }

        rc = tt_group_get(c->t, only, c->a, &g);

        if (rc == TT_OK
            && strcmp(g.workspace_id, c->ws) == 0
            && (c->scope == NULL || strcmp(c->scope, g.id) == 0)
            && (c->pg == NULL || strcmp(c->pg, g.id) == 0))
        {
            list = &g;
            n = 1;

        } else if (rc != TT_OK && rc != TT_NOTFOUND) {
            return tt_api_fail(rc);
        }

        if (one && n == 0) {
            return tt_api_reply(c, 404);
        }

    } else {
        rc = tt_group_list(c->t, c->ws, c->a, &list, &n);
        if (rc != TT_OK) {
            return tt_api_fail(rc);
        }
    }

    tt_buf_reset(&c->resp->body);

    if (tt_jw_init(&w, &c->resp->body) != TT_OK) {
        return TT_ERR;
    }

    if (!one) {
        tt_jw_obj_open(&w);
        tt_jw_key(&w, "data");
        tt_jw_arr_open(&w);
    }

    for (i = 0; i < n; i++) {
        rc = tt_profile_list(c->t, c->ws, list[i].id, c->a, &profs, &np);
        if (rc != TT_OK) {
            tt_jw_finish(&w);
            return tt_api_fail(rc);
        }

        tt_api_render_group(&w, &list[i], np);
    }

    if (!one) {
        tt_jw_arr_close(&w);
        tt_jw_obj_close(&w);
    }

    if (tt_jw_finish(&w) != TT_OK || !tt_buf_ok(&c->resp->body)) {
        return TT_ERR;
    }

    c->resp->status = 200;

    return TT_OK;
}


/* what a client may know of a profile: never a token */
static void
tt_api_render_profile(tt_jw_t *w, const tt_profile_t *p)
{
    tt_jw_obj_open(w);
    tt_jw_key(w, "id");
    tt_jw_cstr(w, p->id);
    tt_jw_key(w, "platform");
    tt_jw_cstr(w, p->platform);
    tt_jw_key(w, "name");
    tt_jw_cstr(w, p->name);
    tt_jw_key(w, "username");
    tt_jw_cstr(w, p->username);
    tt_jw_key(w, "status");
    tt_jw_cstr(w, tt_profile_status_name(p->status));
    tt_jw_key(w, "profile_group_id");
    tt_jw_cstr(w, p->profile_group_id);
    tt_jw_key(w, "expires_at");
    tt_jw_time(w, p->expires_at);
    tt_jw_obj_close(w);
}


/* one: GET /api/profiles/:id, else the list */
static int
tt_api_profiles(tt_api_ctx_t *c, int one)
{
    int            rc;
    size_t         i, n;
    tt_jw_t        w;
    tt_profile_t  *list, p;

    list = NULL;
    n = 0;

    if (one) {
        if (c->id[0] == '\0') {
            return tt_api_reply(c, 404);
        }

        rc = tt_profile_get(c->t, c->id, c->a, &p);

        if (rc == TT_NOTFOUND
            || (rc == TT_OK
                && (strcmp(p.workspace_id, c->ws) != 0
                    || (c->scope != NULL
                        && strcmp(c->scope, p.profile_group_id) != 0)
                    || (c->pg != NULL
                        && strcmp(c->pg, p.profile_group_id) != 0))))
        {
            return tt_api_reply(c, 404);
        }

        if (rc != TT_OK) {
            return tt_api_fail(rc);
        }

        list = &p;
        n = 1;

    } else {
        rc = tt_profile_list(c->t, c->ws, c->pg ? c->pg : c->scope, c->a,
                             &list, &n);
        if (rc != TT_OK) {
            return tt_api_fail(rc);
        }
    }

    tt_buf_reset(&c->resp->body);

    if (tt_jw_init(&w, &c->resp->body) != TT_OK) {
        return TT_ERR;
    }

    if (!one) {
        tt_jw_obj_open(&w);
        tt_jw_key(&w, "data");
        tt_jw_arr_open(&w);
    }

    for (i = 0; i < n; i++) {
        tt_api_render_profile(&w, &list[i]);
    }

    if (!one) {
        tt_jw_arr_close(&w);
        tt_jw_obj_close(&w);
    }

    if (tt_jw_finish(&w) != TT_OK || !tt_buf_ok(&c->resp->body)) {
        return TT_ERR;
    }

    c->resp->status = 200;

    return TT_OK;
}
