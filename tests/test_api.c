/*
 * Copyright (C) the ngx_tiktok authors.
 * The HTTP API over a real store: routes, keys, posts, groups, replays.
 */


#include "tt_test.h"

#include "tt_api.h"
#include "tt_time.h"


typedef struct {
    char           *dir;
    tt_store_t     *st;
    tt_arena_t     *a;                  /* parsed answers, per test */
    int64_t         now;

    char            ws_a[TT_ID_SIZE];
    char            ws_b[TT_ID_SIZE];
    char            g1[TT_ID_SIZE];     /* ws_a, oldest: the default */
    char            g2[TT_ID_SIZE];     /* ws_a, the scoped key's */
    char            g3[TT_ID_SIZE];     /* ws_a, no profile */
    char            gb[TT_ID_SIZE];     /* ws_b */
    char            prof1[TT_ID_SIZE];
    char            prof2[TT_ID_SIZE];
    char            profb[TT_ID_SIZE];

    char            auth_full[TT_KEY_LEN + 8];
    char            auth_scoped[TT_KEY_LEN + 8];
    char            auth_b[TT_KEY_LEN + 8];
    char            auth_revoked[TT_KEY_LEN + 8];
} fx_t;


typedef struct {
    int             rc;
    int             status;
    unsigned        wake:1;
    unsigned        replayed:1;
    const char     *raw;
    size_t          len;
    tt_json_t      *json;
} ans_t;


static void
new_key(fx_t *fx, tt_txn_t *t, const char *ws, const char *group,
    int revoked, char *auth)
{
    char         key[TT_KEY_LEN + 1];
    uint8_t      hash[32];
    tt_apikey_t  k;

    assert_int_equal(tt_key_new(key), TT_OK);
    tt_sha256(key, strlen(key), hash);

    memset(&k, 0, sizeof(k));
    assert_int_equal(tt_id_new("key_", k.id), TT_OK);
    snprintf(k.workspace_id, TT_ID_SIZE, "%s", ws);
    snprintf(k.profile_group_id, TT_ID_SIZE, "%s", group ? group : "");
    k.name = "test";
    snprintf(k.hint, sizeof(k.hint), "%.7s", key);
    k.created_at = fx->now;
    k.revoked_at = revoked ? fx->now : -1;

    assert_int_equal(tt_apikey_put(t, hash, &k), TT_OK);
    snprintf(auth, TT_KEY_LEN + 8, "Bearer %s", key);
}


static void
new_group(fx_t *fx, tt_txn_t *t, const char *ws, const char *name,
    int64_t at, char *id)
{
    tt_group_t  g;

    memset(&g, 0, sizeof(g));
    assert_int_equal(tt_id_new("pg_", g.id), TT_OK);
    snprintf(g.workspace_id, TT_ID_SIZE, "%s", ws);
    g.name = name;
    g.created_at = at;
    assert_int_equal(tt_group_put(t, &g), TT_OK);
    memcpy(id, g.id, TT_ID_SIZE);
    (void) fx;
}


static void
new_profile(fx_t *fx, tt_txn_t *t, const char *ws, const char *group,
    tt_profile_status_e status, char *id)
{
    tt_profile_t  p;

    memset(&p, 0, sizeof(p));
    assert_int_equal(tt_id_new("prof_", p.id), TT_OK);
    snprintf(p.workspace_id, TT_ID_SIZE, "%s", ws);
    snprintf(p.profile_group_id, TT_ID_SIZE, "%s", group);
    p.platform = "tiktok";
    p.name = "Creator";
    p.username = "creator";
    p.avatar_url = "https://example.com/a.jpg";
    p.open_id = group;          /* one account is one profile */
    p.status = status;
    p.created_at = fx->now;
    p.expires_at = fx->now + 86400000;
    p.refresh_expires_at = fx->now + 86400000LL * 365;
    p.scope = "video.publish";
    assert_int_equal(tt_profile_put(t, &p), TT_OK);
    memcpy(id, p.id, TT_ID_SIZE);
}


static int
setup(void **state)
{
    fx_t             *fx;
    char              err[256];
    tt_txn_t          t;
    tt_workspace_t    ws;
    tt_store_conf_t   conf;

    fx = calloc(1, sizeof(fx_t));
    assert_non_null(fx);

    fx->dir = tt_test_mkdtemp();
    /* near the real clock: requests are stamped with it (req.now_ms) */
    fx->now = tt_now_ms() / 1000 * 1000;
    fx->a = tt_arena_create(65536);
    assert_non_null(fx->a);

    memset(&conf, 0, sizeof(conf));
    conf.path = fx->dir;
    conf.map_size = 4 << 20;
    conf.map_max = 64 << 20;
    conf.max_readers = 16;
    conf.nosync = 1;

    assert_int_equal(tt_store_open(&conf, &fx->st, err, sizeof(err)), TT_OK);
    assert_int_equal(tt_txn_begin(fx->st, &t, 1), TT_OK);

    memset(&ws, 0, sizeof(ws));
    assert_int_equal(tt_id_new("ws_", ws.id), TT_OK);
    ws.name = "A";
    ws.created_at = fx->now;
    assert_int_equal(tt_ws_put(&t, &ws), TT_OK);
    memcpy(fx->ws_a, ws.id, TT_ID_SIZE);

    assert_int_equal(tt_id_new("ws_", ws.id), TT_OK);
    ws.name = "B";
    assert_int_equal(tt_ws_put(&t, &ws), TT_OK);
    memcpy(fx->ws_b, ws.id, TT_ID_SIZE);

    new_group(fx, &t, fx->ws_a, "first", fx->now, fx->g1);
    new_group(fx, &t, fx->ws_a, "second", fx->now + 1, fx->g2);
    new_group(fx, &t, fx->ws_a, "empty", fx->now + 2, fx->g3);
    new_group(fx, &t, fx->ws_b, "other", fx->now, fx->gb);

    new_profile(fx, &t, fx->ws_a, fx->g1, TT_PROFILE_ACTIVE, fx->prof1);
    new_profile(fx, &t, fx->ws_a, fx->g2, TT_PROFILE_REVOKED, fx->prof2);
    new_profile(fx, &t, fx->ws_b, fx->gb, TT_PROFILE_ACTIVE, fx->profb);

    new_key(fx, &t, fx->ws_a, NULL, 0, fx->auth_full);
    new_key(fx, &t, fx->ws_a, fx->g2, 0, fx->auth_scoped);
    new_key(fx, &t, fx->ws_b, NULL, 0, fx->auth_b);
    new_key(fx, &t, fx->ws_a, NULL, 1, fx->auth_revoked);

    assert_int_equal(tt_txn_commit(&t), TT_OK);

    *state = fx;

    return 0;
}


static int
teardown(void **state)
{
    fx_t  *fx;

    fx = *state;
    tt_store_close(fx->st);
    tt_arena_destroy(fx->a);
    tt_test_rmdir(fx->dir);
    free(fx);

    return 0;
}


/*
 * One request the way the module runs it: route, then exec in a read
 * transaction, or in a transaction nested in a write one, committed only
 * on a 2xx.
 */
static ans_t
call(fx_t *fx, tt_method_e method, const char *path, const char *query,
    const char *auth, const char *idem, const char *body)
{
    int            rc;
    char           err[256];
    ans_t          ans;
    tt_txn_t       parent, t;
    tt_arena_t    *a;
    tt_api_req_t   req;
    tt_api_resp_t  resp;

    memset(&ans, 0, sizeof(ans));
    memset(&req, 0, sizeof(req));

    rc = tt_api_route(method, path, strlen(path), &req.route);
    assert_int_equal(rc, TT_OK);

    a = tt_arena_create(16384);
    assert_non_null(a);

    req.args.data = query ? query : "";
    req.args.len = query ? strlen(query) : 0;
    req.auth.data = auth ? auth : "";
    req.auth.len = auth ? strlen(auth) : 0;
    req.idem_key.data = idem ? idem : "";
    req.idem_key.len = idem ? strlen(idem) : 0;
    req.now_ms = fx->now;
    req.arena = a;

    if (body != NULL) {
        req.body = tt_json_parse(a, body, strlen(body), err, sizeof(err));
        if (req.body == NULL) {
            fail_msg("bad test body: %s: %s", err, body);
        }

        tt_sha256(body, strlen(body), req.body_hash);

    } else {
        tt_sha256("", 0, req.body_hash);
    }

    tt_api_resp_init(&resp);

    if (req.route.write) {
        assert_int_equal(tt_txn_begin(fx->st, &parent, 1), TT_OK);
        assert_int_equal(tt_txn_begin_nested(&parent, &t), TT_OK);

        ans.rc = tt_api_exec(&t, &req, &resp);

        if (ans.rc == TT_OK && resp.status >= 200 && resp.status < 300) {
            assert_int_equal(tt_txn_commit(&t), TT_OK);
        } else {
            tt_txn_abort(&t);
        }

        assert_int_equal(tt_txn_commit(&parent), TT_OK);

    } else {
        assert_int_equal(tt_txn_begin(fx->st, &t, 0), TT_OK);
        ans.rc = tt_api_exec(&t, &req, &resp);
        tt_txn_abort(&t);
    }

    tt_arena_destroy(a);

    assert_int_equal(ans.rc, TT_OK);

    ans.status = resp.status;
    ans.wake = resp.wake;
    ans.replayed = resp.replayed;
    ans.len = resp.body.len;
    ans.raw = tt_arena_strndup(fx->a, resp.body.data ? resp.body.data : "",
                               resp.body.len);
    assert_non_null(ans.raw);

    ans.json = tt_json_parse(fx->a, ans.raw, ans.len, err, sizeof(err));
    if (ans.json == NULL) {
        fail_msg("answer is not JSON (%s): %s", err, ans.raw);
    }

    tt_api_resp_free(&resp);

    return ans;
}


/* JSON helpers */

static const char *
jstr(const tt_json_t *o, const char *key)
{
    const tt_json_t  *v;

    v = tt_json_get(o, key);
    if (v == NULL || v->type != TT_JSON_STRING) {
        return NULL;
    }

    return v->str;
}


static int64_t
jint(const tt_json_t *o, const char *key)
{
    const tt_json_t  *v;

    v = tt_json_get(o, key);
    assert_non_null(v);
    assert_int_equal(v->type, TT_JSON_NUMBER);
    assert_true(v->is_int);

    return v->i;
}


static const tt_json_t *
jarr(const tt_json_t *o, const char *key)
{
    const tt_json_t  *v;

    v = tt_json_get(o, key);
    assert_non_null(v);
    assert_int_equal(v->type, TT_JSON_ARRAY);

    return v;
}


/* the 422 names exactly this message */
static int
has_error(const ans_t *ans, const char *msg)
{
    size_t            i;
    const tt_json_t  *e;

    e = tt_json_get(ans->json, "errors");
    if (e == NULL || e->type != TT_JSON_ARRAY) {
        return 0;
    }

    for (i = 0; i < e->n; i++) {
        if (e->items[i]->type == TT_JSON_STRING
            && strcmp(e->items[i]->str, msg) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static void
print_errors(const ans_t *ans)
{
    print_message("status %d: %s\n", ans->status, ans->raw);
}


#define assert_error(ans, msg)                                               \
    do {                                                                     \
        if (!has_error(ans, msg)) {                                          \
            print_errors(ans);                                               \
            fail_msg("missing error \"%s\"", msg);                           \
        }                                                                    \
    } while (0)


static void
assert_status(const ans_t *ans, int status)
{
    if (ans->status != status) {
        print_errors(ans);
    }

    assert_int_equal(ans->status, status);
}


static const char *
fmt(fx_t *fx, const char *f, ...) __attribute__((format(printf, 2, 3)));

static const char *
fmt(fx_t *fx, const char *f, ...)
{
    int       n;
    char     *s;
    va_list   ap;

    va_start(ap, f);
    n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    assert_true(n >= 0);

    s = tt_arena_alloc(fx->a, (size_t) n + 1);
    assert_non_null(s);

    va_start(ap, f);
    vsnprintf(s, (size_t) n + 1, f, ap);
    va_end(ap);

    return s;
}


/* a valid create body; extra goes inside "post" */
static const char *
post_body(fx_t *fx, const char *caption, const char *post_extra,
    const char *profile)
{
    return fmt(fx, "{\"post\":{\"body\":\"%s\"%s},\"profiles\":[\"%s\"],"
               "\"media\":[\"https://cdn.example.com/v.mp4\"],"
               "\"platforms\":{\"tiktok\":{\"privacy_status\":"
               "\"SELF_ONLY\"}}}", caption, post_extra ? post_extra : "",
               profile ? profile : "tiktok");
}


static const char *
create(fx_t *fx, const char *auth, const char *query, const char *body)
{
    ans_t        ans;
    const char  *id;

    ans = call(fx, TT_METHOD_POST, "/api/posts", query, auth, NULL, body);
    assert_status(&ans, 201);

    id = jstr(ans.json, "id");
    assert_non_null(id);

    return id;
}


/*
 * What the scheduler would have done to a post: media fetched or failed,
 * platform moved on, queue assigned.  -1 leaves a part as it is.
 */
static void
edit_post(fx_t *fx, const char *id, int media, int plat, int attempts,
    const char *queue_id)
{
    size_t       i;
    tt_txn_t     t;
    tt_post_t    p;
    tt_arena_t  *a;

    a = tt_arena_create(16384);
    assert_non_null(a);

    assert_int_equal(tt_txn_begin(fx->st, &t, 1), TT_OK);
    assert_int_equal(tt_post_get(&t, id, a, &p), TT_OK);

    if (media >= 0) {
        for (i = 0; i < p.nmedia; i++) {
            p.media[i].status = (tt_media_status_e) media;
            p.media[i].error_message = (media == TT_MEDIA_FAILED)
                                       ? "video is shorter than 3 s" : NULL;
        }
    }

    if (plat >= 0) {
        p.platforms[0].status = (tt_plat_status_e) plat;
    }

    if (attempts >= 0) {
        p.platforms[0].attempts = attempts;
    }

    if (queue_id != NULL) {
        snprintf(p.queue_id, TT_ID_SIZE, "%s", queue_id);
        p.queue_priority = TT_PRIORITY_MEDIUM;
    }

    tt_post_settle(&p, fx->now);
    assert_int_equal(tt_post_put(&t, &p), TT_OK);
    assert_int_equal(tt_txn_commit(&t), TT_OK);

    tt_arena_destroy(a);
}


/* TikTok was asked: the platform processing at a stage past NONE */
static void
edit_stage(fx_t *fx, const char *id, tt_stage_e stage, const char *pub)
{
    tt_txn_t     t;
    tt_post_t    p;
    tt_arena_t  *a;

    a = tt_arena_create(16384);
    assert_non_null(a);

    assert_int_equal(tt_txn_begin(fx->st, &t, 1), TT_OK);
    assert_int_equal(tt_post_get(&t, id, a, &p), TT_OK);

    p.platforms[0].status = TT_PLAT_PROCESSING;
    p.platforms[0].stage = stage;
    p.platforms[0].publish_id = pub;

    tt_post_settle(&p, fx->now);
    assert_int_equal(tt_post_put(&t, &p), TT_OK);
    assert_int_equal(tt_txn_commit(&t), TT_OK);

    tt_arena_destroy(a);
}


static ans_t
get_post(fx_t *fx, const char *auth, const char *id)
{
    return call(fx, TT_METHOD_GET, fmt(fx, "/api/posts/%s", id), NULL, auth,
                NULL, NULL);
}


/* ids of the data array, comma-joined */
static const char *
ids_of(fx_t *fx, const ans_t *ans)
{
    size_t            i;
    tt_buf_t          b;
    const char       *s;
    const tt_json_t  *data;

    data = jarr(ans->json, "data");
    tt_buf_init(&b);

    for (i = 0; i < data->n; i++) {
        tt_buf_printf(&b, "%s%s", i ? "," : "", jstr(data->items[i], "id"));
    }

    assert_true(tt_buf_ok(&b));
    s = tt_arena_strndup(fx->a, b.data ? b.data : "", b.len);
    tt_buf_free(&b);

    return s;
}


static const char *
list_ids(fx_t *fx, const char *auth, const char *query)
{
    ans_t  ans;

    ans = call(fx, TT_METHOD_GET, "/api/posts", query, auth, NULL, NULL);
    assert_status(&ans, 200);

    return ids_of(fx, &ans);
}


/* the tests */

/* a 405's Allow header: the methods the path takes */
static void
test_allowed(void **state)
{
    char  buf[64];

    tt_api_allowed("/api/posts", 10, buf, sizeof(buf));
    assert_string_equal(buf, "GET, HEAD, POST");

    tt_api_allowed("/api/posts/p_abc", 16, buf, sizeof(buf));
    assert_string_equal(buf, "GET, HEAD, PATCH, DELETE");

    tt_api_allowed("/api/nothing", 12, buf, sizeof(buf));
    assert_string_equal(buf, "");

    /* cut to size, whole names only */
    tt_api_allowed("/api/posts", 10, buf, 10);
    assert_string_equal(buf, "GET, HEAD");
}


static void
test_route(void **state)
{
    size_t      i;
    tt_route_t  r;
    char        long_id[80];

    static const struct {
        tt_method_e  m;
        const char  *path;
        tt_route_e   id;
        unsigned     write, body, open;
        const char  *param;
    }  ok[] = {
        { TT_METHOD_GET, "/api/health", TT_ROUTE_HEALTH, 0, 0, 1, "" },
        { TT_METHOD_HEAD, "/api/health/", TT_ROUTE_HEALTH, 0, 0, 1, "" },
        { TT_METHOD_GET, "/api/posts", TT_ROUTE_POSTS_LIST, 0, 0, 0, "" },
        { TT_METHOD_GET, "/api/posts/", TT_ROUTE_POSTS_LIST, 0, 0, 0, "" },
        { TT_METHOD_POST, "/api/posts", TT_ROUTE_POSTS_CREATE, 1, 1, 0, "" },
        { TT_METHOD_POST, "/api/posts/batch", TT_ROUTE_POSTS_BATCH,
          1, 1, 0, "" },
        { TT_METHOD_GET, "/api/posts/p_abc", TT_ROUTE_POST_GET,
          0, 0, 0, "p_abc" },
        { TT_METHOD_HEAD, "/api/posts/p_abc/", TT_ROUTE_POST_GET,
          0, 0, 0, "p_abc" },
        { TT_METHOD_GET, "/api/posts/stats", TT_ROUTE_POSTS_STATS,
          0, 0, 0, "" },
        { TT_METHOD_PATCH, "/api/posts/p_a-b", TT_ROUTE_POST_PATCH,
          1, 1, 0, "p_a-b" },
        { TT_METHOD_DELETE, "/api/posts/p_x", TT_ROUTE_POST_DELETE,
          1, 0, 0, "p_x" },
        { TT_METHOD_POST, "/api/posts/p_x/publish", TT_ROUTE_POST_PUBLISH,
          1, 0, 0, "p_x" },
        { TT_METHOD_GET, "/api/profile_groups", TT_ROUTE_GROUPS_LIST,
          0, 0, 0, "" },
        { TT_METHOD_GET, "/api/profile_groups/pg_1", TT_ROUTE_GROUP_GET,
          0, 0, 0, "pg_1" },
        { TT_METHOD_GET, "/api/profiles", TT_ROUTE_PROFILES_LIST,
          0, 0, 0, "" },
        { TT_METHOD_GET, "/api/profiles/prof_1", TT_ROUTE_PROFILE_GET,
          0, 0, 0, "prof_1" },
        { TT_METHOD_POST, "/api/profile_groups", TT_ROUTE_GROUP_CREATE,
          1, 1, 0, "" },
        { TT_METHOD_DELETE, "/api/profile_groups/pg_1", TT_ROUTE_GROUP_DELETE,
          1, 0, 0, "pg_1" },
        { TT_METHOD_POST, "/api/profile_groups/pg_1/initialize_connection",
          TT_ROUTE_GROUP_CONNECT, 1, 1, 0, "pg_1" },
        { TT_METHOD_DELETE, "/api/profiles/prof_1", TT_ROUTE_PROFILE_DELETE,
          1, 0, 0, "prof_1" }
    };

    static const struct {
        tt_method_e  m;
        const char  *path;
        int          rc;
    }  bad[] = {
        { TT_METHOD_POST, "/api/health", TT_INVALID },
        { TT_METHOD_PUT, "/api/posts", TT_INVALID },
        { TT_METHOD_DELETE, "/api/posts", TT_INVALID },
        { TT_METHOD_GET, "/api/posts/batch", TT_INVALID },
        { TT_METHOD_POST, "/api/posts/p_1", TT_INVALID },
        { TT_METHOD_OTHER, "/api/posts/p_1", TT_INVALID },
        { TT_METHOD_GET, "/api/posts/p_1/publish", TT_INVALID },
        { TT_METHOD_POST, "/api/profiles", TT_INVALID },
        { TT_METHOD_PATCH, "/api/profile_groups/pg_1", TT_INVALID },
        { TT_METHOD_GET, "/api", TT_NOTFOUND },
        { TT_METHOD_GET, "/", TT_NOTFOUND },
        { TT_METHOD_GET, "", TT_NOTFOUND },
        { TT_METHOD_GET, "/api/postsx", TT_NOTFOUND },
        { TT_METHOD_GET, "/api/posts//", TT_NOTFOUND },
        { TT_METHOD_GET, "//api/posts", TT_NOTFOUND },
        { TT_METHOD_GET, "/api/posts/p.1", TT_NOTFOUND },
        { TT_METHOD_GET, "/api/posts/p%201", TT_NOTFOUND },
        { TT_METHOD_GET, "/api/posts/p_1/x", TT_NOTFOUND },
        { TT_METHOD_POST, "/api/posts/p_1/publish/x", TT_NOTFOUND },
        { TT_METHOD_GET, "/api/queues", TT_NOTFOUND },
        { TT_METHOD_GET, "/API/posts", TT_NOTFOUND }
    };

    (void) state;

    for (i = 0; i < TT_ARRAY_SIZE(ok); i++) {
        memset(&r, 0xff, sizeof(r));
        assert_int_equal(tt_api_route(ok[i].m, ok[i].path,
                                      strlen(ok[i].path), &r), TT_OK);
        assert_int_equal(r.id, ok[i].id);
        assert_int_equal(r.write, ok[i].write);
        assert_int_equal(r.body, ok[i].body);
        assert_int_equal(r.open, ok[i].open);
        assert_int_equal(r.param.len, strlen(ok[i].param));
        assert_memory_equal(r.param.data ? r.param.data : "", ok[i].param,
                            r.param.len);
    }

    for (i = 0; i < TT_ARRAY_SIZE(bad); i++) {
        if (tt_api_route(bad[i].m, bad[i].path, strlen(bad[i].path), &r)
            != bad[i].rc)
        {
            fail_msg("route %d %s", (int) bad[i].m, bad[i].path);
        }
    }

    /* :id is at most 64 bytes; the length given wins over the NUL */
    memset(long_id, 'a', sizeof(long_id));
    memcpy(long_id, "/api/posts/", 11);
    assert_int_equal(tt_api_route(TT_METHOD_GET, long_id, 11 + 64, &r),
                     TT_OK);
    assert_int_equal(r.param.len, 64);
    assert_int_equal(tt_api_route(TT_METHOD_GET, long_id, 11 + 65, &r),
                     TT_NOTFOUND);
    assert_int_equal(tt_api_route(TT_METHOD_GET, "/api/healthz", 11, &r),
                     TT_OK);
    assert_int_equal(r.id, TT_ROUTE_HEALTH);
}


static void
test_error_shapes(void **state)
{
    char            err[128];
    size_t          i;
    fx_t           *fx;
    tt_json_t      *j;
    tt_api_resp_t   resp;

    static const struct {
        int          status;
        const char  *error;
    }  shaped[] = {
        { 400, "Bad Request" }, { 405, "Method Not Allowed" },
        { 409, "Conflict" }, { 413, "Payload Too Large" },
        { 415, "Unsupported Media Type" }, { 500, "Internal Server Error" }
    };

    fx = *state;
    tt_api_resp_init(&resp);

    for (i = 0; i < TT_ARRAY_SIZE(shaped); i++) {
        tt_api_error(&resp, shaped[i].status, "why \"quoted\"");
        assert_int_equal(resp.status, shaped[i].status);
        j = tt_json_parse(fx->a, resp.body.data, resp.body.len, err,
                          sizeof(err));
        assert_non_null(j);
        assert_int_equal(j->n, 3);
        assert_int_equal(jint(j, "status"), shaped[i].status);
        assert_string_equal(jstr(j, "error"), shaped[i].error);
        assert_string_equal(jstr(j, "message"), "why \"quoted\"");
    }

    tt_api_error(&resp, 401, "ignored");
    assert_int_equal(resp.status, 401);
    assert_int_equal(resp.body.len, strlen("{\"error\":\"Invalid API key\"}"));
    assert_memory_equal(resp.body.data, "{\"error\":\"Invalid API key\"}",
                        resp.body.len);

    tt_api_error(&resp, 404, NULL);
    assert_memory_equal(resp.body.data, "{\"error\":\"Not found\"}",
                        resp.body.len);

    tt_api_error(&resp, 422, "post.body is longer than 2200 characters");
    assert_int_equal(resp.status, 422);
    j = tt_json_parse(fx->a, resp.body.data, resp.body.len, err, sizeof(err));
    assert_non_null(j);
    assert_int_equal(j->n, 1);
    assert_int_equal(jarr(j, "errors")->n, 1);
    assert_string_equal(jarr(j, "errors")->items[0]->str,
                        "post.body is longer than 2200 characters");

    tt_api_resp_free(&resp);
}


static void
test_health(void **state)
{
    ans_t             ans;
    uint8_t           be[8];
    int64_t           seen;
    tt_txn_t          t;
    unsigned          i;
    const tt_json_t  *s;
    char              iso[TT_TIME_LEN + 1];
    fx_t             *fx;

    fx = *state;

    /* open: no key needed, and no key is even looked at; no scheduler
     * ever ran: 503 */
    ans = call(fx, TT_METHOD_GET, "/api/health", NULL, NULL, NULL, NULL);
    assert_status(&ans, 503);
    assert_string_equal(jstr(ans.json, "status"), "unavailable");
    assert_int_equal(tt_json_get(tt_json_get(ans.json, "store"),
                                 "writable")->type, TT_JSON_TRUE);
    assert_true(jint(tt_json_get(ans.json, "store"), "map_size")
                >= 4 << 20);
    s = tt_json_get(ans.json, "scheduler");
    assert_non_null(s);
    assert_int_equal(tt_json_get(s, "alive")->type, TT_JSON_FALSE);
    assert_int_equal(tt_json_get(s, "last_seen")->type, TT_JSON_NULL);

    seen = fx->now - 5000;

    for (i = 0; i < 8; i++) {
        be[i] = (uint8_t) ((uint64_t) seen >> (56 - 8 * i));
    }

    assert_int_equal(tt_txn_begin(fx->st, &t, 1), TT_OK);
    assert_int_equal(tt_meta_put(&t, "scheduler_heartbeat", be, 8), TT_OK);
    assert_int_equal(tt_txn_commit(&t), TT_OK);

    ans = call(fx, TT_METHOD_GET, "/api/health", NULL, "Bearer junk", NULL,
               NULL);
    assert_status(&ans, 200);
    assert_string_equal(jstr(ans.json, "status"), "ok");
    s = tt_json_get(ans.json, "scheduler");
    assert_int_equal(tt_json_get(s, "alive")->type, TT_JSON_TRUE);
    tt_time_format(seen, iso);
    assert_string_equal(jstr(s, "last_seen"), iso);

    /* 30 s without a heartbeat: dead */
    fx->now += 26000;
    ans = call(fx, TT_METHOD_HEAD, "/api/health", NULL, NULL, NULL, NULL);
    assert_status(&ans, 503);
    s = tt_json_get(ans.json, "scheduler");
    assert_int_equal(tt_json_get(s, "alive")->type, TT_JSON_FALSE);
    assert_string_equal(jstr(s, "last_seen"), iso);
}


static void
test_auth(void **state)
{
    size_t        i, nkeys;
    ans_t         ans;
    char          lower[TT_KEY_LEN + 8], fresh[TT_KEY_LEN + 8];
    fx_t         *fx;
    tt_txn_t      t;
    tt_apikey_t  *keys;
    const char   *bad[8];

    fx = *state;

    bad[0] = NULL;
    bad[1] = "";
    bad[2] = "Bearer";
    bad[3] = "Bearer ";
    bad[4] = fmt(fx, "Basic %s", fx->auth_full + 7);
    bad[5] = fmt(fx, "Bearer  %s", fx->auth_full + 7);
    bad[6] = "Bearer tt_0000000000000000000000000000000000000000";
    bad[7] = fx->auth_revoked;

    for (i = 0; i < TT_ARRAY_SIZE(bad); i++) {
        ans = call(fx, TT_METHOD_GET, "/api/posts", NULL, bad[i], NULL,
                   NULL);
        assert_status(&ans, 401);
        assert_string_equal(ans.raw, "{\"error\":\"Invalid API key\"}");

        /* writes too, and before any body check */
        ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, bad[i], NULL,
                   "[]");
        assert_status(&ans, 401);
    }

    /* a trailing part after the key is part of the key: unknown */
    ans = call(fx, TT_METHOD_GET, "/api/posts", NULL,
               fmt(fx, "%s x", fx->auth_full), NULL, NULL);
    assert_status(&ans, 401);

    /* the scheme is case-insensitive */
    snprintf(lower, sizeof(lower), "bEARER %s", fx->auth_full + 7);
    ans = call(fx, TT_METHOD_GET, "/api/posts", NULL, lower, NULL, NULL);
    assert_status(&ans, 200);
    assert_int_equal(jint(ans.json, "total"), 0);

    /* a key revoked after use is refused at once: the key cache sees it */
    assert_int_equal(tt_txn_begin(fx->st, &t, 1), TT_OK);
    new_key(fx, &t, fx->ws_a, NULL, 0, fresh);
    assert_int_equal(tt_txn_commit(&t), TT_OK);

    for (i = 0; i < 2; i++) {
        ans = call(fx, TT_METHOD_GET, "/api/posts", NULL, fresh, NULL, NULL);
        assert_status(&ans, 200);
    }

    assert_int_equal(tt_txn_begin(fx->st, &t, 1), TT_OK);
    assert_int_equal(tt_apikey_list(&t, fx->ws_a, fx->a, &keys, &nkeys),
                     TT_OK);
    for (i = 0; i < nkeys; i++) {
        if (strncmp(keys[i].hint, fresh + 7, 7) == 0) {
            assert_int_equal(tt_apikey_revoke(&t, keys[i].id, fx->now),
                             TT_OK);
        }
    }
    assert_int_equal(tt_txn_commit(&t), TT_OK);

    ans = call(fx, TT_METHOD_GET, "/api/posts", NULL, fresh, NULL, NULL);
    assert_status(&ans, 401);
}


static void
test_create_get(void **state)
{
    ans_t             ans, got;
    const char       *id;
    const tt_json_t  *pl, *m;
    char              iso[TT_TIME_LEN + 1];
    fx_t             *fx;

    fx = *state;

    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full, NULL,
               post_body(fx, "New drop",
                         ",\"scheduled_at\":\"2026-05-12T11:00:00+02:00\"",
                         NULL));
    assert_status(&ans, 201);
    assert_true(ans.wake);
    assert_false(ans.replayed);

    id = jstr(ans.json, "id");
    assert_non_null(id);
    assert_true(tt_id_valid("p_", id, strlen(id)));
    assert_string_equal(jstr(ans.json, "body"), "New drop");
    assert_string_equal(jstr(ans.json, "status"), "pending");
    assert_string_equal(jstr(ans.json, "scheduled_at"),
                        "2026-05-12T09:00:00Z");
    tt_time_format(fx->now, iso);
    assert_string_equal(jstr(ans.json, "created_at"), iso);
    assert_int_equal(tt_json_get(ans.json, "draft")->type, TT_JSON_FALSE);

    m = jarr(ans.json, "media");
    assert_int_equal(m->n, 1);
    assert_string_equal(jstr(m->items[0], "source_url"),
                        "https://cdn.example.com/v.mp4");

    /* "tiktok" resolved in the default group: the oldest */
    pl = jarr(ans.json, "platforms");
    assert_int_equal(pl->n, 1);
    assert_string_equal(jstr(pl->items[0], "profile_id"), fx->prof1);
    assert_string_equal(jstr(pl->items[0], "status"), "pending");

    /* GET answers the stored bytes: the same as the create answer */
    got = get_post(fx, fx->auth_full, id);
    assert_status(&got, 200);
    assert_int_equal(got.len, ans.len);
    assert_memory_equal(got.raw, ans.raw, ans.len);

    got = call(fx, TT_METHOD_HEAD, fmt(fx, "/api/posts/%s/", id), NULL,
               fx->auth_full, NULL, NULL);
    assert_status(&got, 200);
    assert_memory_equal(got.raw, ans.raw, ans.len);

    /* by profile id, in an explicit group; a revoked profile is fine */
    ans = call(fx, TT_METHOD_POST, "/api/posts",
               fmt(fx, "profile_group_id=%s", fx->g2), fx->auth_full, NULL,
               post_body(fx, "second", ",\"draft\":true", fx->prof2));
    assert_status(&ans, 201);
    assert_false(ans.wake);
    assert_string_equal(jstr(ans.json, "status"), "draft");
    assert_string_equal(jstr(jarr(ans.json, "platforms")->items[0],
                             "profile_id"), fx->prof2);

    /* the id and the platform name together are one profile */
    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full, NULL,
               fmt(fx, "{\"post\":{\"body\":\"x\"},\"profiles\":[\"tiktok\","
                   "\"%s\"],\"media\":[\"https://cdn.example.com/v.mp4\"],"
                   "\"platforms\":{\"tiktok\":{\"privacy_status\":"
                   "\"SELF_ONLY\"}}}", fx->prof1));
    assert_status(&ans, 201);

    /* unknown posts */
    got = get_post(fx, fx->auth_full, "p_00000000000000000000");
    assert_status(&got, 404);
    assert_string_equal(got.raw, "{\"error\":\"Not found\"}");

    got = get_post(fx, fx->auth_full, "p_0000000000000000000000000000000000");
    assert_status(&got, 404);

    /* the counts' route: without post_ids, 422 naming it */
    got = get_post(fx, fx->auth_full, "stats");
    assert_status(&got, 422);
    assert_non_null(strstr(got.raw, "post_ids is required"));
}


static void
test_create_invalid(void **state)
{
    ans_t   ans;
    fx_t   *fx;

    fx = *state;

    /* not an object: a malformed request */
    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full, NULL,
               "[1]");
    assert_status(&ans, 400);
    assert_int_equal(jint(ans.json, "status"), 400);
    assert_string_equal(jstr(ans.json, "error"), "Bad Request");
    assert_non_null(jstr(ans.json, "message"));

    /* a group without a tiktok profile */
    ans = call(fx, TT_METHOD_POST, "/api/posts",
               fmt(fx, "profile_group_id=%s", fx->g3), fx->auth_full, NULL,
               post_body(fx, "x", NULL, NULL));
    assert_status(&ans, 422);
    assert_error(&ans, fmt(fx, "profiles[0]: profile group %s has no tiktok "
                           "profile", fx->g3));

    /* another group's, another workspace's, or no such profile: one text */
    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full, NULL,
               fmt(fx, "{\"post\":{\"body\":\"x\"},\"profiles\":[\"%s\","
                   "\"%s\",\"prof_nope\",\"instagram\"],"
                   "\"media\":[\"https://cdn.example.com/v.mp4\"],"
                   "\"platforms\":{\"tiktok\":{\"privacy_status\":"
                   "\"SELF_ONLY\"}}}", fx->prof2, fx->profb));
    assert_status(&ans, 422);
    assert_int_equal(jarr(ans.json, "errors")->n, 4);
    assert_error(&ans, fmt(fx, "profiles[0] is not a profile of profile "
                           "group %s", fx->g1));
    assert_error(&ans, fmt(fx, "profiles[1] is not a profile of profile "
                           "group %s", fx->g1));
    assert_error(&ans, fmt(fx, "profiles[2] is not a profile of profile "
                           "group %s", fx->g1));
    assert_error(&ans, fmt(fx, "profiles[3] is not a profile of profile "
                           "group %s", fx->g1));

    /* every failing rule at once: body, profiles and queue */
    ans = call(fx, TT_METHOD_POST, "/api/posts",
               fmt(fx, "profile_group_id=%s", fx->g3), fx->auth_full, NULL,
               "{\"post\":{\"body\":7,\"colour\":1},\"profiles\":[\"tiktok\"],"
               "\"queue_id\":\"q_abc\"}");
    assert_status(&ans, 422);
    assert_error(&ans, "post.body must be a string");
    assert_error(&ans, "post.colour is not a known field");
    assert_error(&ans, "platforms.tiktok.privacy_status is required");
    assert_error(&ans, fmt(fx, "profiles[0]: profile group %s has no tiktok "
                           "profile", fx->g3));
    assert_error(&ans, fmt(fx, "queue_id q_abc is not a queue of profile "
                           "group %s", fx->g3));

    /* profiles are required */
    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full, NULL,
               "{\"post\":{\"body\":\"x\"},"
               "\"media\":[\"https://cdn.example.com/v.mp4\"],"
               "\"platforms\":{\"tiktok\":{\"privacy_status\":"
               "\"SELF_ONLY\"}}}");
    assert_status(&ans, 422);
    assert_error(&ans, "profiles is required");
    assert_int_equal(jarr(ans.json, "errors")->n, 1);

    /* a valid queue_id is still no queue (queues come later) */
    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full, NULL,
               "{\"post\":{\"body\":\"x\"},\"profiles\":[\"tiktok\"],"
               "\"media\":[\"https://cdn.example.com/v.mp4\"],"
               "\"queue_id\":\"q_abc\",\"platforms\":{\"tiktok\":"
               "{\"privacy_status\":\"SELF_ONLY\"}}}");
    assert_status(&ans, 422);
    assert_int_equal(jarr(ans.json, "errors")->n, 1);
    assert_error(&ans, fmt(fx, "queue_id q_abc is not a queue of profile "
                           "group %s", fx->g1));

    /* nothing of it was stored */
    assert_string_equal(list_ids(fx, fx->auth_full, NULL), "");
}


static void
test_isolation(void **state)
{
    ans_t        ans;
    const char  *pa, *ps, *pb, *q;
    fx_t        *fx;

    fx = *state;

    pa = create(fx, fx->auth_full, NULL, post_body(fx, "a", NULL, NULL));
    fx->now++;
    ps = create(fx, fx->auth_scoped, NULL, post_body(fx, "s", NULL, NULL));
    fx->now++;
    pb = create(fx, fx->auth_b, NULL, post_body(fx, "b", NULL, NULL));

    /* the scoped key acts on its own group */
    ans = get_post(fx, fx->auth_scoped, ps);
    assert_status(&ans, 200);
    assert_string_equal(jstr(jarr(ans.json, "platforms")->items[0],
                             "profile_id"), fx->prof2);

    /* another workspace's post: 404 for both kinds of key, every route */
    ans = get_post(fx, fx->auth_full, pb);
    assert_status(&ans, 404);
    assert_string_equal(ans.raw, "{\"error\":\"Not found\"}");
    ans = get_post(fx, fx->auth_scoped, pb);
    assert_status(&ans, 404);
    ans = get_post(fx, fx->auth_b, pa);
    assert_status(&ans, 404);

    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", pa), NULL,
               fx->auth_b, NULL, "{\"post\":{\"body\":\"x\"}}");
    assert_status(&ans, 404);
    ans = call(fx, TT_METHOD_DELETE, fmt(fx, "/api/posts/%s", pa), NULL,
               fx->auth_b, NULL, NULL);
    assert_status(&ans, 404);
    ans = call(fx, TT_METHOD_POST, fmt(fx, "/api/posts/%s/publish", pa),
               NULL, fx->auth_b, NULL, NULL);
    assert_status(&ans, 404);

    /* the scoped key sees nothing of the other groups */
    ans = get_post(fx, fx->auth_scoped, pa);
    assert_status(&ans, 404);
    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", pa), NULL,
               fx->auth_scoped, NULL, "{\"post\":{\"body\":\"x\"}}");
    assert_status(&ans, 404);
    ans = call(fx, TT_METHOD_DELETE, fmt(fx, "/api/posts/%s", pa), NULL,
               fx->auth_scoped, NULL, NULL);
    assert_status(&ans, 404);
    ans = call(fx, TT_METHOD_POST, fmt(fx, "/api/posts/%s/publish", pa),
               NULL, fx->auth_scoped, NULL, NULL);
    assert_status(&ans, 404);

    assert_string_equal(list_ids(fx, fx->auth_scoped, NULL), ps);
    assert_string_equal(list_ids(fx, fx->auth_full, NULL),
                        fmt(fx, "%s,%s", ps, pa));
    assert_string_equal(list_ids(fx, fx->auth_b, NULL), pb);

    /* a group outside the key's reach is a 404, whatever the route */
    q = fmt(fx, "profile_group_id=%s", fx->g1);
    ans = call(fx, TT_METHOD_GET, "/api/posts", q, fx->auth_scoped, NULL,
               NULL);
    assert_status(&ans, 404);
    ans = call(fx, TT_METHOD_POST, "/api/posts", q, fx->auth_scoped, NULL,
               post_body(fx, "s", NULL, NULL));
    assert_status(&ans, 404);
    ans = call(fx, TT_METHOD_GET, "/api/posts",
               fmt(fx, "profile_group_id=%s", fx->gb), fx->auth_full, NULL,
               NULL);
    assert_status(&ans, 404);
    ans = call(fx, TT_METHOD_GET, "/api/posts", "profile_group_id=pg_nope",
               fx->auth_full, NULL, NULL);
    assert_status(&ans, 404);

    /* a full key narrows itself with an explicit group */
    assert_string_equal(list_ids(fx, fx->auth_full,
                                 fmt(fx, "profile_group_id=%s", fx->g2)),
                        ps);
    ans = call(fx, TT_METHOD_GET, fmt(fx, "/api/posts/%s", pa),
               fmt(fx, "profile_group_id=%s", fx->g2), fx->auth_full, NULL,
               NULL);
    assert_status(&ans, 404);
    assert_string_equal(list_ids(fx, fx->auth_scoped,
                                 fmt(fx, "profile_group_id=%s", fx->g2)),
                        ps);
}


static void
test_list(void **state)
{
    int          i;
    ans_t        ans;
    const char  *p[8], *q;
    fx_t        *fx;

    static const char *const  bad_per_page[] = {
        "per_page=101", "per_page=abc", "per_page=1x", "per_page=",
        "per_page=+5", "per_page=%205", "per_page=99999999999999999999999"
    };

    static const char *const  bad_enc[] = {
        "status=%zz", "status=%4", "status=%", "st%atus=draft",
        "status=dr%00aft"
    };

    fx = *state;

    /* p1 draft, p2 scheduled (media ready), p3 pending, p4 published,
     * p5 failed at TikTok, p6 media failed, p7 in a queue */
    p[1] = create(fx, fx->auth_full, NULL,
                  post_body(fx, "1", ",\"draft\":true", NULL));
    fx->now++;
    p[2] = create(fx, fx->auth_full, NULL,
                  post_body(fx, "2", ",\"scheduled_at\":"
                            "\"2026-05-12T09:00:00Z\"", NULL));
    fx->now++;
    p[3] = create(fx, fx->auth_full, NULL,
                  post_body(fx, "3", ",\"scheduled_at\":"
                            "\"2026-05-13T09:00:00Z\"", NULL));
    fx->now++;
    p[4] = create(fx, fx->auth_full, NULL, post_body(fx, "4", NULL, NULL));
    fx->now++;
    p[5] = create(fx, fx->auth_full, NULL, post_body(fx, "5", NULL, NULL));
    fx->now++;
    p[6] = create(fx, fx->auth_full, NULL, post_body(fx, "6", NULL, NULL));
    fx->now++;
    p[7] = create(fx, fx->auth_full, NULL, post_body(fx, "7", NULL, NULL));

    edit_post(fx, p[2], TT_MEDIA_PROCESSED, -1, -1, NULL);
    edit_post(fx, p[4], TT_MEDIA_PROCESSED, TT_PLAT_PUBLISHED, 1, NULL);
    edit_post(fx, p[5], TT_MEDIA_PROCESSED, TT_PLAT_FAILED, 1, NULL);
    edit_post(fx, p[6], TT_MEDIA_FAILED, -1, -1, NULL);
    edit_post(fx, p[7], -1, -1, -1, "q_abc");

    ans = call(fx, TT_METHOD_GET, "/api/posts", NULL, fx->auth_full, NULL,
               NULL);
    assert_status(&ans, 200);
    assert_int_equal(ans.json->n, 4);
    assert_string_equal(ans.json->members[0].key, "total");
    assert_int_equal(jint(ans.json, "total"), 7);
    assert_int_equal(jint(ans.json, "page"), 0);
    assert_int_equal(jint(ans.json, "per_page"), 10);
    assert_string_equal(ids_of(fx, &ans),
                        fmt(fx, "%s,%s,%s,%s,%s,%s,%s", p[7], p[6], p[5],
                            p[4], p[3], p[2], p[1]));

    /* the items are the stored posts, as GET answers them */
    for (i = 1; i <= 7; i++) {
        assert_non_null(strstr(ans.raw, get_post(fx, fx->auth_full,
                                                 p[i]).raw));
    }

    assert_string_equal(list_ids(fx, fx->auth_full, "status=draft"), p[1]);
    assert_string_equal(list_ids(fx, fx->auth_full, "status=scheduled"),
                        fmt(fx, "%s,%s,%s", p[7], p[3], p[2]));
    assert_string_equal(list_ids(fx, fx->auth_full, "status=published"),
                        p[4]);
    assert_string_equal(list_ids(fx, fx->auth_full, "status=failed"),
                        fmt(fx, "%s,%s", p[6], p[5]));
    assert_string_equal(list_ids(fx, fx->auth_full, "status=dr%61ft"), p[1]);

    /*
     * times: after inclusive, before exclusive; no time never matches;
     * a time filter lists by scheduled_at, earliest first
     */
    assert_string_equal(list_ids(fx, fx->auth_full,
                                 "scheduled_after=2026-05-12T10:00:00Z"),
                        p[3]);
    assert_string_equal(list_ids(fx, fx->auth_full,
                                 "scheduled_after=2026-05-12T11:00:00%2B02:00"),
                        fmt(fx, "%s,%s", p[2], p[3]));
    assert_string_equal(list_ids(fx, fx->auth_full,
                                 "scheduled_before=2026-05-13T09:00:00Z"),
                        p[2]);
    assert_string_equal(list_ids(fx, fx->auth_full,
                                 "scheduled_after=2026-05-12T09:00:00Z&"
                                 "scheduled_before=2026-05-14T00:00:00Z&"
                                 "status=scheduled"),
                        fmt(fx, "%s,%s", p[2], p[3]));

    assert_string_equal(list_ids(fx, fx->auth_full, "queue_id=q_abc"), p[7]);
    assert_string_equal(list_ids(fx, fx->auth_full, "queue_id=q_other"), "");
    assert_string_equal(list_ids(fx, fx->auth_full,
                                 "queue_id=q_abc&status=draft"), "");

    /* unknown parameters are someone else's */
    assert_string_equal(list_ids(fx, fx->auth_full,
                                 "status=published&utm_source=x&=&&"), p[4]);

    /* paging */
    ans = call(fx, TT_METHOD_GET, "/api/posts", "per_page=2", fx->auth_full,
               NULL, NULL);
    assert_status(&ans, 200);
    assert_int_equal(jint(ans.json, "total"), 7);
    assert_int_equal(jint(ans.json, "per_page"), 2);
    assert_string_equal(ids_of(fx, &ans), fmt(fx, "%s,%s", p[7], p[6]));

    ans = call(fx, TT_METHOD_GET, "/api/posts", "page=1&per_page=2",
               fx->auth_full, NULL, NULL);
    assert_int_equal(jint(ans.json, "page"), 1);
    assert_string_equal(ids_of(fx, &ans), fmt(fx, "%s,%s", p[5], p[4]));

    assert_string_equal(list_ids(fx, fx->auth_full, "page=3&per_page=2"),
                        p[1]);

    ans = call(fx, TT_METHOD_GET, "/api/posts", "page=4&per_page=2",
               fx->auth_full, NULL, NULL);
    assert_status(&ans, 200);
    assert_int_equal(jint(ans.json, "total"), 7);
    assert_int_equal(jarr(ans.json, "data")->n, 0);

    assert_string_equal(list_ids(fx, fx->auth_full,
                                 "status=failed&per_page=1&page=1"), p[5]);
    assert_string_equal(list_ids(fx, fx->auth_full, "per_page=100"),
                        list_ids(fx, fx->auth_full, NULL));

    /* bad parameters: 422 naming each */
    ans = call(fx, TT_METHOD_GET, "/api/posts",
               "status=live&scheduled_after=tomorrow&scheduled_before=2026&"
               "page=-1&per_page=0&queue_id=", fx->auth_full, NULL, NULL);
    assert_status(&ans, 422);
    assert_int_equal(jarr(ans.json, "errors")->n, 6);
    assert_error(&ans, "status must be one of draft, scheduled, published, "
                 "failed");
    assert_error(&ans, "scheduled_after is not an ISO 8601 time with an "
                 "offset");
    assert_error(&ans, "scheduled_before is not an ISO 8601 time with an "
                 "offset");
    assert_error(&ans, "page must be an integer from 0 to 1000000000");
    assert_error(&ans, "per_page must be an integer from 1 to 100");
    assert_error(&ans, "queue_id is not a valid queue id");

    for (i = 0; i < (int) TT_ARRAY_SIZE(bad_per_page); i++) {
        ans = call(fx, TT_METHOD_GET, "/api/posts", bad_per_page[i],
                   fx->auth_full, NULL, NULL);
        assert_status(&ans, 422);
        assert_int_equal(jarr(ans.json, "errors")->n, 1);
        assert_error(&ans, "per_page must be an integer from 1 to 100");
    }

    /* '+' is a space: "2026-05-12T11:00:00 02:00" has no offset */
    q = "scheduled_after=2026-05-12T11:00:00+02:00";
    ans = call(fx, TT_METHOD_GET, "/api/posts", q, fx->auth_full, NULL,
               NULL);
    assert_status(&ans, 422);

    /* broken encodings are malformed requests */
    for (i = 0; i < (int) TT_ARRAY_SIZE(bad_enc); i++) {
        ans = call(fx, TT_METHOD_GET, "/api/posts", bad_enc[i],
                   fx->auth_full, NULL, NULL);
        assert_status(&ans, 400);
        assert_string_equal(jstr(ans.json, "error"), "Bad Request");
    }
}


static void
test_patch(void **state)
{
    ans_t             ans;
    const char       *id, *media_id;
    const tt_json_t  *m, *pl;
    fx_t             *fx;

    fx = *state;

    id = create(fx, fx->auth_full, NULL,
                post_body(fx, "before", ",\"scheduled_at\":"
                          "\"2026-05-12T09:00:00Z\"", NULL));
    edit_post(fx, id, TT_MEDIA_PROCESSED, -1, -1, NULL);

    ans = get_post(fx, fx->auth_full, id);
    assert_string_equal(jstr(ans.json, "status"), "scheduled");
    media_id = jstr(jarr(ans.json, "media")->items[0], "id");

    /* only the keys given change */
    fx->now += 1000;
    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL, "{\"post\":{\"body\":\"after\"}}");
    assert_status(&ans, 200);
    assert_true(ans.wake);
    assert_string_equal(jstr(ans.json, "body"), "after");
    assert_string_equal(jstr(ans.json, "status"), "scheduled");
    assert_string_equal(jstr(ans.json, "scheduled_at"),
                        "2026-05-12T09:00:00Z");
    assert_string_equal(jstr(jarr(ans.json, "media")->items[0], "id"),
                        media_id);
    assert_string_equal(jstr(jarr(ans.json, "platforms")->items[0],
                             "profile_id"), fx->prof1);

    /* stored */
    ans = get_post(fx, fx->auth_full, id);
    assert_string_equal(jstr(ans.json, "body"), "after");

    /* new media: processed again */
    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL,
               "{\"media\":[\"https://cdn.example.com/w.mp4\"],"
               "\"post\":{\"draft\":true}}");
    assert_status(&ans, 200);
    assert_string_equal(jstr(ans.json, "status"), "draft");
    m = jarr(ans.json, "media");
    assert_string_equal(jstr(m->items[0], "source_url"),
                        "https://cdn.example.com/w.mp4");
    assert_string_equal(jstr(m->items[0], "status"), "pending");
    assert_string_not_equal(jstr(m->items[0], "id"), media_id);

    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL, "{\"post\":{\"draft\":false}}");
    assert_status(&ans, 200);
    assert_string_equal(jstr(ans.json, "status"), "pending");

    /* profiles are resolved in the post's group */
    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL,
               fmt(fx, "{\"profiles\":[\"%s\"]}", fx->prof2));
    assert_status(&ans, 422);
    assert_error(&ans, fmt(fx, "profiles[0] is not a profile of profile "
                           "group %s", fx->g1));
    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL,
               fmt(fx, "{\"profiles\":[\"%s\"]}", fx->prof1));
    assert_status(&ans, 200);

    /* validation, all at once, and nothing changes */
    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL,
               "{\"post\":{\"scheduled_at\":\"soon\"},\"queue_id\":\"q_x\","
               "\"platforms\":{\"tiktok\":{\"privacy_status\":\"ALL\"}}}");
    assert_status(&ans, 422);
    assert_true(jarr(ans.json, "errors")->n >= 3);
    assert_error(&ans, "post.scheduled_at is not an ISO 8601 time with an "
                 "offset");
    assert_error(&ans, fmt(fx, "queue_id q_x is not a queue of profile "
                           "group %s", fx->g1));
    ans = get_post(fx, fx->auth_full, id);
    assert_string_equal(jstr(ans.json, "body"), "after");

    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL, "\"body\"");
    assert_status(&ans, 400);

    /* held before TikTok got anything (a retry, the daily cap, an upload
     * slot): still the user's, and back to scheduled */
    edit_post(fx, id, TT_MEDIA_PROCESSED, TT_PLAT_RETRY, 1, NULL);
    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL, "{\"post\":{\"body\":\"held\"}}");
    assert_status(&ans, 200);
    assert_string_equal(jstr(ans.json, "status"), "scheduled");
    pl = jarr(ans.json, "platforms")->items[0];
    assert_string_equal(jstr(pl, "status"), "pending");
    assert_int_equal(jint(pl, "attempts"), 0);

    edit_post(fx, id, -1, TT_PLAT_PROCESSING, 1, NULL);
    ans = get_post(fx, fx->auth_full, id);
    assert_string_equal(jstr(ans.json, "status"), "processing");
    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL, "{\"post\":{\"body\":\"after\"}}");
    assert_status(&ans, 200);
    assert_string_equal(jstr(ans.json, "status"), "scheduled");

    /* TikTok was asked to publish it: too late, and the message says so */
    edit_stage(fx, id, TT_STAGE_INIT, NULL);
    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL, "{\"post\":{\"body\":\"late\"}}");
    assert_status(&ans, 409);
    assert_int_equal(jint(ans.json, "status"), 409);
    assert_string_equal(jstr(ans.json, "error"), "Conflict");
    assert_string_equal(jstr(ans.json, "message"),
                        fmt(fx, "post %s is being published: TikTok was "
                            "already asked to publish it (its init was "
                            "sent), and that cannot be recalled", id));

    edit_stage(fx, id, TT_STAGE_UPLOAD, "v_pub_file~v2-1.1");
    edit_post(fx, id, -1, TT_PLAT_RETRY, 1, NULL);
    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL, "{\"post\":{\"body\":\"late\"}}");
    assert_status(&ans, 409);

    edit_post(fx, id, -1, TT_PLAT_PUBLISHED, 1, NULL);
    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL, "{\"post\":{\"body\":\"late\"}}");
    assert_status(&ans, 409);
    assert_string_equal(jstr(ans.json, "message"),
                        fmt(fx, "post %s has already been published", id));

    ans = get_post(fx, fx->auth_full, id);
    assert_string_equal(jstr(ans.json, "body"), "after");

    ans = call(fx, TT_METHOD_PATCH, "/api/posts/p_nope", NULL, fx->auth_full,
               NULL, "{\"post\":{\"body\":\"x\"}}");
    assert_status(&ans, 404);

    /* failed media never started a publish: new media is the way out */
    id = create(fx, fx->auth_full, NULL, post_body(fx, "m", NULL, NULL));
    edit_post(fx, id, TT_MEDIA_FAILED, -1, -1, NULL);
    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL, "{\"post\":{\"body\":\"still\"}}");
    assert_status(&ans, 200);
    assert_string_equal(jstr(ans.json, "status"), "media_processing_failed");
    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL,
               "{\"media\":[\"https://cdn.example.com/fixed.mp4\"]}");
    assert_status(&ans, 200);
    assert_true(ans.wake);
    assert_string_equal(jstr(ans.json, "status"), "pending");
}


static void
test_delete(void **state)
{
    ans_t        ans;
    const char  *id;
    fx_t        *fx;

    fx = *state;

    id = create(fx, fx->auth_full, NULL, post_body(fx, "x", NULL, NULL));

    ans = call(fx, TT_METHOD_DELETE, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL, NULL);
    assert_status(&ans, 200);
    assert_string_equal(ans.raw, "{\"deleted\":true}");
    assert_true(ans.wake);

    ans = get_post(fx, fx->auth_full, id);
    assert_status(&ans, 404);
    ans = call(fx, TT_METHOD_DELETE, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, NULL, NULL);
    assert_status(&ans, 404);
    assert_string_equal(list_ids(fx, fx->auth_full, NULL), "");

    /* held before TikTok got anything (an upload slot): deleted */
    id = create(fx, fx->auth_scoped, NULL, post_body(fx, "x", NULL, NULL));
    edit_post(fx, id, TT_MEDIA_PROCESSED, TT_PLAT_PROCESSING, 1, NULL);
    ans = call(fx, TT_METHOD_DELETE, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_scoped, NULL, NULL);
    assert_status(&ans, 200);
    assert_true(ans.wake);

    /* an upload in flight cannot be recalled */
    id = create(fx, fx->auth_scoped, NULL, post_body(fx, "x", NULL, NULL));
    edit_post(fx, id, TT_MEDIA_PROCESSED, -1, 1, NULL);
    edit_stage(fx, id, TT_STAGE_UPLOAD, "v_pub_file~v2-1.2");
    ans = call(fx, TT_METHOD_DELETE, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_scoped, NULL, NULL);
    assert_status(&ans, 409);
    assert_string_equal(jstr(ans.json, "error"), "Conflict");
    assert_string_equal(jstr(ans.json, "message"),
                        fmt(fx, "post %s cannot be deleted now: it is being "
                            "published: TikTok was already asked to publish "
                            "it (its init was sent), and that cannot be "
                            "recalled", id));
    ans = get_post(fx, fx->auth_scoped, id);
    assert_status(&ans, 200);

    /* a finished one only loses our record */
    edit_post(fx, id, -1, TT_PLAT_PUBLISHED, -1, NULL);
    ans = call(fx, TT_METHOD_DELETE, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_scoped, NULL, NULL);
    assert_status(&ans, 200);
    assert_false(ans.wake);
    assert_string_equal(list_ids(fx, fx->auth_full, NULL), "");
}


static void
test_publish(void **state)
{
    ans_t             ans;
    const char       *id;
    const tt_json_t  *pl;
    char         iso[TT_TIME_LEN + 1];
    fx_t        *fx;

    fx = *state;

    id = create(fx, fx->auth_full, NULL,
                post_body(fx, "x", ",\"draft\":true", NULL));
    edit_post(fx, id, TT_MEDIA_PROCESSED, -1, -1, NULL);

    ans = get_post(fx, fx->auth_full, id);
    assert_string_equal(jstr(ans.json, "status"), "draft");

    fx->now += 60000;
    tt_time_format(fx->now, iso);

    ans = call(fx, TT_METHOD_POST, fmt(fx, "/api/posts/%s/publish", id),
               NULL, fx->auth_full, NULL, NULL);
    assert_status(&ans, 200);
    assert_true(ans.wake);
    assert_string_equal(jstr(ans.json, "id"), id);
    assert_int_equal(tt_json_get(ans.json, "draft")->type, TT_JSON_FALSE);
    assert_string_equal(jstr(ans.json, "status"), "scheduled");
    assert_string_equal(jstr(ans.json, "scheduled_at"), iso);

    ans = get_post(fx, fx->auth_full, id);
    assert_string_equal(jstr(ans.json, "scheduled_at"), iso);

    /* a scheduled post may be published now; a started one may not */
    ans = call(fx, TT_METHOD_POST, fmt(fx, "/api/posts/%s/publish/", id),
               NULL, fx->auth_full, NULL, NULL);
    assert_status(&ans, 200);

    /* held for a retry: published now, from the start */
    edit_post(fx, id, -1, TT_PLAT_RETRY, 1, NULL);
    ans = call(fx, TT_METHOD_POST, fmt(fx, "/api/posts/%s/publish", id),
               NULL, fx->auth_full, NULL, NULL);
    assert_status(&ans, 200);
    assert_string_equal(jstr(ans.json, "status"), "scheduled");

    edit_stage(fx, id, TT_STAGE_INIT, NULL);
    ans = call(fx, TT_METHOD_POST, fmt(fx, "/api/posts/%s/publish", id),
               NULL, fx->auth_full, NULL, NULL);
    assert_status(&ans, 409);
    assert_string_equal(jstr(ans.json, "message"),
                        fmt(fx, "post %s is being published: TikTok was "
                            "already asked to publish it (its init was "
                            "sent), and that cannot be recalled", id));

    edit_post(fx, id, -1, TT_PLAT_PUBLISHED, 1, NULL);
    ans = call(fx, TT_METHOD_POST, fmt(fx, "/api/posts/%s/publish", id),
               NULL, fx->auth_full, NULL, NULL);
    assert_status(&ans, 409);

    id = create(fx, fx->auth_full, NULL, post_body(fx, "x", NULL, NULL));
    edit_post(fx, id, TT_MEDIA_FAILED, -1, -1, NULL);
    ans = call(fx, TT_METHOD_POST, fmt(fx, "/api/posts/%s/publish", id),
               NULL, fx->auth_full, NULL, NULL);
    assert_status(&ans, 409);

    /* a post that failed on TikTok is tried again from the start */
    id = create(fx, fx->auth_full, NULL, post_body(fx, "x", NULL, NULL));
    edit_post(fx, id, TT_MEDIA_PROCESSED, TT_PLAT_FAILED, 3, NULL);
    ans = get_post(fx, fx->auth_full, id);
    assert_string_equal(jstr(ans.json, "status"), "processed");

    ans = call(fx, TT_METHOD_POST, fmt(fx, "/api/posts/%s/publish", id),
               NULL, fx->auth_full, NULL, NULL);
    assert_status(&ans, 200);
    assert_true(ans.wake);
    assert_string_equal(jstr(ans.json, "status"), "scheduled");
    pl = tt_json_get(ans.json, "platforms");
    assert_non_null(pl);
    assert_int_equal(pl->n, 1);
    pl = pl->items[0];
    assert_string_equal(jstr(pl, "status"), "pending");
    assert_int_equal(jint(pl, "attempts"), 0);

    ans = call(fx, TT_METHOD_POST, "/api/posts/p_nope/publish", NULL,
               fx->auth_full, NULL, NULL);
    assert_status(&ans, 404);
}


static void
test_batch(void **state)
{
    int               i;
    ans_t             ans;
    tt_buf_t          b;
    const char       *good;
    const tt_json_t  *data;
    fx_t             *fx;

    static const char *const  bad[] = {
        "{}", "{\"posts\":[]}", "{\"posts\":{}}", "{\"posts\":null}"
    };

    fx = *state;
    good = post_body(fx, "ok", NULL, NULL);

    /* one bad post: nothing is stored, every failure is named */
    ans = call(fx, TT_METHOD_POST, "/api/posts/batch", NULL, fx->auth_full,
               NULL, fmt(fx, "{\"posts\":[%s,%s,%s,7]}", good,
                         post_body(fx, "bad", ",\"scheduled_at\":\"x\"",
                                   "prof_nope"), good));
    assert_status(&ans, 422);
    assert_int_equal(jarr(ans.json, "errors")->n, 3);
    assert_error(&ans, "posts[1]: post.scheduled_at is not an ISO 8601 time "
                 "with an offset");
    assert_error(&ans, fmt(fx, "posts[1]: profiles[0] is not a profile of "
                           "profile group %s", fx->g1));
    assert_error(&ans, "posts[3] must be an object");
    assert_string_equal(list_ids(fx, fx->auth_full, NULL), "");

    /* all good: all stored, in order */
    ans = call(fx, TT_METHOD_POST, "/api/posts/batch", NULL, fx->auth_full,
               NULL, fmt(fx, "{\"posts\":[%s,%s]}", good,
                         post_body(fx, "two", ",\"draft\":true", NULL)));
    assert_status(&ans, 201);
    assert_true(ans.wake);
    assert_int_equal(ans.json->n, 1);
    data = jarr(ans.json, "data");
    assert_int_equal(data->n, 2);
    assert_string_equal(jstr(data->items[0], "body"), "ok");
    assert_string_equal(jstr(data->items[1], "body"), "two");
    assert_string_equal(jstr(data->items[1], "status"), "draft");
    assert_string_not_equal(jstr(data->items[0], "id"),
                            jstr(data->items[1], "id"));

    ans = call(fx, TT_METHOD_GET, "/api/posts", NULL, fx->auth_full, NULL,
               NULL);
    assert_int_equal(jint(ans.json, "total"), 2);
    ans = get_post(fx, fx->auth_full, jstr(data->items[1], "id"));
    assert_status(&ans, 200);

    /* the scoped key's batch lands in its group */
    ans = call(fx, TT_METHOD_POST, "/api/posts/batch", NULL,
               fx->auth_scoped, NULL, fmt(fx, "{\"posts\":[%s]}", good));
    assert_status(&ans, 201);
    assert_string_equal(jstr(jarr(jarr(ans.json, "data")->items[0],
                                  "platforms")->items[0], "profile_id"),
                        fx->prof2);

    /* 1 to 100 posts */
    for (i = 0; i < (int) TT_ARRAY_SIZE(bad); i++) {
        ans = call(fx, TT_METHOD_POST, "/api/posts/batch", NULL,
                   fx->auth_full, NULL, bad[i]);
        assert_status(&ans, 422);
        assert_error(&ans, "posts must be an array of 1 to 100 posts");
    }

    ans = call(fx, TT_METHOD_POST, "/api/posts/batch", NULL, fx->auth_full,
               NULL, fmt(fx, "{\"posts\":[%s],\"extra\":1}", good));
    assert_status(&ans, 422);
    assert_error(&ans, "extra is not a known field");

    ans = call(fx, TT_METHOD_POST, "/api/posts/batch", NULL, fx->auth_full,
               NULL, "[]");
    assert_status(&ans, 400);

    tt_buf_init(&b);
    tt_buf_append_str(&b, "{\"posts\":[");

    for (i = 0; i < 101; i++) {
        tt_buf_printf(&b, "%s%s", i ? "," : "", good);
    }

    tt_buf_append_str(&b, "]}");
    assert_true(tt_buf_ok(&b));

    ans = call(fx, TT_METHOD_POST, "/api/posts/batch", NULL, fx->auth_full,
               NULL, b.data);
    assert_status(&ans, 422);
    assert_error(&ans, "posts must be an array of 1 to 100 posts");

    /* exactly 100 is fine */
    b.len -= strlen(good) + 3;
    tt_buf_append_str(&b, "]}");
    ans = call(fx, TT_METHOD_POST, "/api/posts/batch", NULL, fx->auth_full,
               NULL, b.data);
    assert_status(&ans, 201);
    assert_int_equal(jarr(ans.json, "data")->n, 100);
    tt_buf_free(&b);

    ans = call(fx, TT_METHOD_GET, "/api/posts", NULL, fx->auth_full, NULL,
               NULL);
    assert_int_equal(jint(ans.json, "total"), 103);
}


static void
test_idempotency(void **state)
{
    ans_t        first, ans;
    char         long_key[300];
    const char  *body, *id;
    fx_t        *fx;

    fx = *state;
    body = post_body(fx, "once", NULL, NULL);

    first = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full,
                 "key-1", body);
    assert_status(&first, 201);
    assert_false(first.replayed);

    /* a retry replays the first answer, and stores nothing new */
    fx->now += 3600000;
    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full,
               "key-1", body);
    assert_status(&ans, 201);
    assert_true(ans.replayed);
    assert_int_equal(ans.len, first.len);
    assert_memory_equal(ans.raw, first.raw, first.len);
    assert_string_equal(list_ids(fx, fx->auth_full, NULL),
                        jstr(first.json, "id"));

    /* the same key with another body, or on another route */
    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full,
               "key-1", post_body(fx, "twice", NULL, NULL));
    assert_status(&ans, 422);
    assert_error(&ans, "Idempotency-Key key-1 was already used with a "
                 "different request");

    ans = call(fx, TT_METHOD_POST, "/api/posts/batch", NULL, fx->auth_full,
               "key-1", body);
    assert_status(&ans, 422);
    assert_error(&ans, "Idempotency-Key key-1 was already used with a "
                 "different request");

    /* or by a narrower key of the same workspace */
    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_scoped,
               "key-1", body);
    assert_status(&ans, 422);

    /* keys are per workspace */
    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_b, "key-1",
               body);
    assert_status(&ans, 201);
    assert_false(ans.replayed);

    /* errors are not stored: the fixed request then runs */
    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full,
               "key-2", "{\"post\":{}}");
    assert_status(&ans, 422);
    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full,
               "key-2", post_body(fx, "fixed", NULL, NULL));
    assert_status(&ans, 201);
    assert_false(ans.replayed);
    assert_string_equal(jstr(ans.json, "body"), "fixed");

    /* PATCH and DELETE replay too; the id in the path is the request */
    id = jstr(first.json, "id");
    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, "key-3", "{\"post\":{\"body\":\"p\"}}");
    assert_status(&ans, 200);
    ans = call(fx, TT_METHOD_PATCH, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, "key-3", "{\"post\":{\"body\":\"p\"}}");
    assert_status(&ans, 200);
    assert_true(ans.replayed);
    ans = call(fx, TT_METHOD_PATCH, "/api/posts/p_other", NULL,
               fx->auth_full, "key-3", "{\"post\":{\"body\":\"p\"}}");
    assert_status(&ans, 422);

    ans = call(fx, TT_METHOD_DELETE, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, "key-4", NULL);
    assert_status(&ans, 200);
    ans = call(fx, TT_METHOD_DELETE, fmt(fx, "/api/posts/%s", id), NULL,
               fx->auth_full, "key-4", NULL);
    assert_status(&ans, 200);
    assert_true(ans.replayed);
    assert_string_equal(ans.raw, "{\"deleted\":true}");

    /* 24 h later the key is free again */
    fx->now += TT_IDEM_TTL_MS;
    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full,
               "key-1", body);
    assert_status(&ans, 201);
    assert_false(ans.replayed);
    assert_string_not_equal(jstr(ans.json, "id"), jstr(first.json, "id"));

    /* what a key may be */
    memset(long_key, 'k', sizeof(long_key));
    long_key[256] = '\0';
    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full,
               long_key, body);
    assert_status(&ans, 400);
    assert_string_equal(jstr(ans.json, "error"), "Bad Request");
    long_key[255] = '\0';
    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full,
               long_key, body);
    assert_status(&ans, 201);

    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full,
               "a key", body);
    assert_status(&ans, 400);
    ans = call(fx, TT_METHOD_POST, "/api/posts", NULL, fx->auth_full,
               "cl\xc3\xa9", body);
    assert_status(&ans, 400);

    /* reads ignore it */
    ans = call(fx, TT_METHOD_GET, "/api/posts", NULL, fx->auth_full,
               "a key", NULL);
    assert_status(&ans, 200);
}


static void
test_groups_profiles(void **state)
{
    ans_t             ans;
    const tt_json_t  *d, *p;
    fx_t             *fx;

    fx = *state;

    ans = call(fx, TT_METHOD_GET, "/api/profile_groups", NULL, fx->auth_full,
               NULL, NULL);
    assert_status(&ans, 200);
    assert_int_equal(ans.json->n, 1);
    d = jarr(ans.json, "data");
    assert_int_equal(d->n, 3);
    assert_string_equal(jstr(d->items[0], "id"), fx->g1);
    assert_string_equal(jstr(d->items[0], "name"), "first");
    assert_int_equal(jint(d->items[0], "profiles_count"), 1);
    assert_string_equal(jstr(d->items[2], "id"), fx->g3);
    assert_int_equal(jint(d->items[2], "profiles_count"), 0);

    ans = call(fx, TT_METHOD_GET, "/api/profile_groups", NULL,
               fx->auth_scoped, NULL, NULL);
    d = jarr(ans.json, "data");
    assert_int_equal(d->n, 1);
    assert_string_equal(jstr(d->items[0], "id"), fx->g2);

    ans = call(fx, TT_METHOD_GET, fmt(fx, "/api/profile_groups/%s", fx->g2),
               NULL, fx->auth_full, NULL, NULL);
    assert_status(&ans, 200);
    assert_string_equal(jstr(ans.json, "id"), fx->g2);
    assert_string_equal(jstr(ans.json, "name"), "second");
    assert_int_equal(jint(ans.json, "profiles_count"), 1);

    ans = call(fx, TT_METHOD_GET, fmt(fx, "/api/profile_groups/%s", fx->g1),
               NULL, fx->auth_scoped, NULL, NULL);
    assert_status(&ans, 404);
    ans = call(fx, TT_METHOD_GET, fmt(fx, "/api/profile_groups/%s", fx->gb),
               NULL, fx->auth_full, NULL, NULL);
    assert_status(&ans, 404);
    ans = call(fx, TT_METHOD_GET, "/api/profile_groups/pg_nope", NULL,
               fx->auth_full, NULL, NULL);
    assert_status(&ans, 404);
    assert_string_equal(ans.raw, "{\"error\":\"Not found\"}");

    /* profiles: never a token, the scoped key sees its group's */
    ans = call(fx, TT_METHOD_GET, "/api/profiles", NULL, fx->auth_full,
               NULL, NULL);
    assert_status(&ans, 200);
    d = jarr(ans.json, "data");
    assert_int_equal(d->n, 2);
    assert_null(strstr(ans.raw, "token"));
    assert_null(strstr(ans.raw, "open_id"));

    ans = call(fx, TT_METHOD_GET, "/api/profiles",
               fmt(fx, "profile_group_id=%s", fx->g2), fx->auth_full, NULL,
               NULL);
    d = jarr(ans.json, "data");
    assert_int_equal(d->n, 1);
    assert_string_equal(jstr(d->items[0], "id"), fx->prof2);
    assert_string_equal(jstr(d->items[0], "status"), "revoked");

    ans = call(fx, TT_METHOD_GET, "/api/profiles", NULL, fx->auth_scoped,
               NULL, NULL);
    d = jarr(ans.json, "data");
    assert_int_equal(d->n, 1);
    assert_string_equal(jstr(d->items[0], "id"), fx->prof2);

    ans = call(fx, TT_METHOD_GET, fmt(fx, "/api/profiles/%s", fx->prof1),
               NULL, fx->auth_full, NULL, NULL);
    assert_status(&ans, 200);
    p = ans.json;
    assert_int_equal(p->n, 9);       /* with avatar_url and scopes */
    assert_string_equal(jstr(p, "id"), fx->prof1);
    assert_string_equal(jstr(p, "platform"), "tiktok");
    assert_string_equal(jstr(p, "name"), "Creator");
    assert_string_equal(jstr(p, "username"), "creator");
    assert_string_equal(jstr(p, "status"), "active");
    assert_string_equal(jstr(p, "profile_group_id"), fx->g1);
    assert_non_null(jstr(p, "expires_at"));

    ans = call(fx, TT_METHOD_GET, fmt(fx, "/api/profiles/%s", fx->prof1),
               NULL, fx->auth_scoped, NULL, NULL);
    assert_status(&ans, 404);
    ans = call(fx, TT_METHOD_GET, fmt(fx, "/api/profiles/%s", fx->profb),
               NULL, fx->auth_full, NULL, NULL);
    assert_status(&ans, 404);
    ans = call(fx, TT_METHOD_GET, fmt(fx, "/api/profiles/%s", fx->profb),
               NULL, fx->auth_b, NULL, NULL);
    assert_status(&ans, 200);
}


/*
 * A field's name quoted in an error is cut at 64 bytes: cut inside a
 * character, the answer must stay a 422 of valid JSON (it was a 500: the
 * JSON writer refused the message), the cut character shown as '?'.
 */
static void
test_cut_character(void **state)
{
    ans_t   ans;
    fx_t   *fx = *state;
    char    body[256], want[128];

    /* 63 bytes of 'a', then a two-byte character across the cut */
    snprintf(body, sizeof(body), "{\"profile_group_id\":\"%s\",\"%.63s"
             "\xc3\xa9\":1,\"post_queue\":{\"name\":\"q\"}}", fx->g1,
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    snprintf(want, sizeof(want), "%.63s? is not a known field",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");

    ans = call(fx, TT_METHOD_POST, "/api/post_queues", NULL, fx->auth_full,
               NULL, body);
    assert_status(&ans, 422);
    assert_error(&ans, want);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_route, setup, teardown),
        cmocka_unit_test(test_allowed),
        cmocka_unit_test_setup_teardown(test_error_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_invalid, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_character, setup, teardown),
        cmocka_unit_test_setup_teardown(test_groups_profiles, setup,
                                        teardown)
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
