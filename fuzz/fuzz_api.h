/*
 * Copyright (C) the ngx_tiktok authors.
 * The harness of the API's libFuzzer targets: a real store in a
 * directory of its own, made once (a workspace, a group with a profile,
 * a key, a queue, a webhook, a connection waiting for TikTok's
 * callback), and one request at a time the way the module runs it, in a
 * transaction that is always aborted so that every input meets the same
 * store.
 */

#ifndef _FUZZ_API_H_INCLUDED_
#define _FUZZ_API_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "tt_api.h"
#include "tt_time.h"


#define FUZZ_NOW  1767225600000LL       /* 2026-01-01T00:00:00Z */


#define fuzz_check(cond)                                                     \
    if (!(cond)) {                                                           \
        fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);           \
        abort();                                                             \
    }


typedef struct {
    tt_store_t     *st;
    tt_api_conf_t   conf;
    char            auth[TT_KEY_LEN + 8];
    char            group[TT_ID_SIZE];
    char            queue[TT_ID_SIZE];
    char            state[65];          /* the waiting connection's */
    char            hook[TT_ID_SIZE];   /* a webhook's id */
    char            dir[64];
    int64_t         now;                /* requests' clock: FUZZ_NOW */
} fuzz_api_t;


static fuzz_api_t  fuzz_api;

static inline void fuzz_api_done(void);


typedef struct {
    int             status;
    tt_buf_t        body;
    char            location[4096];     /* a redirect's, or "" */
    unsigned        html:1;
} fuzz_answer_t;


/*
 * One request: routed by the caller (r), run in a transaction that is
 * aborted.  Checks what every answer must be: a status of HTTP's, JSON
 * unless an OAuth page.  The answer's body is the caller's to free.
 */
static inline void
fuzz_api_exec(const tt_route_t *r, const char *args, size_t args_len,
    const char *body, size_t body_len, fuzz_answer_t *ans)
{
    int            rc;
    char           err[256];
    tt_txn_t       parent, t;
    tt_arena_t    *a;
    tt_api_req_t   req;
    tt_api_resp_t  resp;

    memset(&req, 0, sizeof(req));
    req.route = *r;
    req.conf = &fuzz_api.conf;
    req.args.data = args;
    req.args.len = args_len;
    req.auth.data = fuzz_api.auth;
    req.auth.len = strlen(fuzz_api.auth);
    req.idem_key.data = "";
    req.now_ms = fuzz_api.now;

    a = tt_arena_create(16384);
    fuzz_check(a != NULL);
    req.arena = a;

    if (body != NULL) {
        req.body = tt_json_parse(a, body, body_len, err, sizeof(err));
        if (req.body == NULL) {
            /* the module answers 400 before the API sees it */
            tt_arena_destroy(a);
            memset(ans, 0, sizeof(*ans));
            ans->status = 400;
            return;
        }
    }

    fuzz_check(tt_sha256(body ? body : "", body ? body_len : 0,
                         req.body_hash) == TT_OK);

    tt_api_resp_init(&resp);

    if (r->write) {
        fuzz_check(tt_txn_begin(fuzz_api.st, &parent, 1) == TT_OK);
        fuzz_check(tt_txn_begin_nested(&parent, &t) == TT_OK);
        rc = tt_api_exec(&t, &req, &resp);
        tt_txn_abort(&t);
        tt_txn_abort(&parent);

    } else {
        fuzz_check(tt_txn_begin(fuzz_api.st, &t, 0) == TT_OK);
        rc = tt_api_exec(&t, &req, &resp);
        tt_txn_abort(&t);
    }

    /* a store failure is the caller's 500; the store here has room */
    fuzz_check(rc == TT_OK);
    fuzz_check(resp.status >= 200 && resp.status <= 599);
    fuzz_check(resp.status != 500);

    if (!resp.html && resp.body.len > 0) {
        fuzz_check(tt_json_parse(a, resp.body.data, resp.body.len, err,
                                 sizeof(err)) != NULL);
    }

    /* FUZZ_API_DEBUG=1 prints every answer: to see where seeds get */
    if (getenv("FUZZ_API_DEBUG") != NULL) {
        fprintf(stderr, "%d %.*s\n", resp.status,
                (int) (resp.body.len > 300 ? 300 : resp.body.len),
                resp.body.data ? resp.body.data : "");
    }

    ans->status = resp.status;
    ans->html = resp.html;
    snprintf(ans->location, sizeof(ans->location), "%s",
             resp.location ? resp.location : "");
    ans->body = resp.body;
    tt_buf_init(&resp.body);

    tt_api_resp_free(&resp);
    tt_arena_destroy(a);
}


/* a setup request, committed */
static inline void
fuzz_api_setup_call(tt_method_e m, const char *path, const char *body,
    tt_buf_t *out)
{
    char           err[256];
    tt_txn_t       t;
    tt_arena_t    *a;
    tt_api_req_t   req;
    tt_api_resp_t  resp;

    memset(&req, 0, sizeof(req));
    fuzz_check(tt_api_route(m, path, strlen(path), &req.route) == TT_OK);

    a = tt_arena_create(16384);
    fuzz_check(a != NULL);

    req.conf = &fuzz_api.conf;
    req.args.data = "";
    req.auth.data = fuzz_api.auth;
    req.auth.len = strlen(fuzz_api.auth);
    req.idem_key.data = "";
    req.now_ms = FUZZ_NOW;
    req.arena = a;
    req.body = tt_json_parse(a, body, strlen(body), err, sizeof(err));
    fuzz_check(req.body != NULL);
    fuzz_check(tt_sha256(body, strlen(body), req.body_hash) == TT_OK);

    tt_api_resp_init(&resp);
    fuzz_check(tt_txn_begin(fuzz_api.st, &t, 1) == TT_OK);
    fuzz_check(tt_api_exec(&t, &req, &resp) == TT_OK);

    if (resp.status < 200 || resp.status > 299) {
        fprintf(stderr, "setup %s: %d %.*s\n", path, resp.status,
                (int) resp.body.len, resp.body.data);
        abort();
    }

    fuzz_check(tt_txn_commit(&t) == TT_OK);
    fuzz_check(tt_buf_append(out, resp.body.data, resp.body.len) == TT_OK);

    tt_api_resp_free(&resp);
    tt_arena_destroy(a);
}


/* the value of "key":"..." in a JSON answer, into buf */
static inline void
fuzz_api_field(const tt_buf_t *b, const char *key, char *buf, size_t size)
{
    char        pat[64];
    const char *p, *e;

    snprintf(pat, sizeof(pat), "\"%s\":\"", key);
    p = memmem(b->data, b->len, pat, strlen(pat));
    fuzz_check(p != NULL);
    p += strlen(pat);
    e = memchr(p, '"', (size_t) (b->data + b->len - p));
    fuzz_check(e != NULL && (size_t) (e - p) < size);
    memcpy(buf, p, (size_t) (e - p));
    buf[e - p] = '\0';
}


static inline void
fuzz_api_init(void)
{
    char             err[256], dir[] = "/tmp/tt-fuzz-api.XXXXXX";
    char             key[TT_KEY_LEN + 1], path[256], body[512];
    uint8_t          hash[32];
    static uint8_t   seal[32];
    const char      *p;
    tt_txn_t         t;
    tt_buf_t         out;
    tt_group_t       g;
    tt_apikey_t      k;
    tt_profile_t     pr;
    tt_workspace_t   ws;
    tt_store_conf_t  conf;

    if (fuzz_api.st != NULL) {
        return;
    }

    fuzz_check(mkdtemp(dir) != NULL);
    memcpy(fuzz_api.dir, dir, sizeof(dir));
    fuzz_api.now = FUZZ_NOW;

    memset(&conf, 0, sizeof(conf));
    conf.path = dir;
    conf.map_size = 4 << 20;
    conf.map_max = 256 << 20;
    conf.max_readers = 16;
    conf.nosync = 1;
    memset(seal, 7, sizeof(seal));
    conf.token_key = seal;

    if (tt_store_open(&conf, &fuzz_api.st, err, sizeof(err)) != TT_OK) {
        fprintf(stderr, "store: %s\n", err);
        abort();
    }

    fuzz_check(tt_txn_begin(fuzz_api.st, &t, 1) == TT_OK);

    memset(&ws, 0, sizeof(ws));
    fuzz_check(tt_id_new("ws_", ws.id) == TT_OK);
    ws.name = "fuzz";
    ws.created_at = FUZZ_NOW;
    fuzz_check(tt_ws_put(&t, &ws) == TT_OK);

    memset(&g, 0, sizeof(g));
    fuzz_check(tt_id_new("pg_", g.id) == TT_OK);
    memcpy(g.workspace_id, ws.id, TT_ID_SIZE);
    g.name = "group";
    g.created_at = FUZZ_NOW;
    fuzz_check(tt_group_put(&t, &g) == TT_OK);
    memcpy(fuzz_api.group, g.id, TT_ID_SIZE);

    memset(&pr, 0, sizeof(pr));
    fuzz_check(tt_id_new("prof_", pr.id) == TT_OK);
    memcpy(pr.workspace_id, ws.id, TT_ID_SIZE);
    memcpy(pr.profile_group_id, g.id, TT_ID_SIZE);
    pr.platform = "tiktok";
    pr.name = "Creator";
    pr.username = "creator";
    pr.avatar_url = "https://example.com/a.jpg";
    pr.open_id = "open";
    pr.status = TT_PROFILE_ACTIVE;
    pr.created_at = FUZZ_NOW;
    pr.expires_at = FUZZ_NOW + 86400000;
    pr.refresh_expires_at = FUZZ_NOW + 86400000LL * 365;
    pr.scope = "video.publish";
    fuzz_check(tt_profile_put(&t, &pr) == TT_OK);

    fuzz_check(tt_key_new(key) == TT_OK);
    fuzz_check(tt_sha256(key, strlen(key), hash) == TT_OK);
    memset(&k, 0, sizeof(k));
    fuzz_check(tt_id_new("key_", k.id) == TT_OK);
    memcpy(k.workspace_id, ws.id, TT_ID_SIZE);
    k.name = "fuzz";
    snprintf(k.hint, sizeof(k.hint), "%.7s", key);
    k.created_at = FUZZ_NOW;
    k.revoked_at = -1;
    fuzz_check(tt_apikey_put(&t, hash, &k) == TT_OK);
    snprintf(fuzz_api.auth, sizeof(fuzz_api.auth), "Bearer %s", key);

    fuzz_check(tt_txn_commit(&t) == TT_OK);

    fuzz_api.conf.authorize_url.data = "http://127.0.0.1:9/authorize";
    fuzz_api.conf.authorize_url.len = strlen("http://127.0.0.1:9/authorize");
    fuzz_api.conf.client_key.data = "client";
    fuzz_api.conf.client_key.len = 6;
    fuzz_api.conf.callback_url.data = "http://127.0.0.1:9/callback";
    fuzz_api.conf.callback_url.len = strlen("http://127.0.0.1:9/callback");

    /* a queue, and a connection waiting for its callback */
    tt_buf_init(&out);
    snprintf(body, sizeof(body), "{\"profile_group_id\":\"%s\","
             "\"post_queue\":{\"name\":\"q\",\"timezone\":"
             "\"Europe/London\",\"queue_timeslots_attributes\":"
             "[{\"day\":1,\"time\":\"09:00\"}]}}", fuzz_api.group);
    fuzz_api_setup_call(TT_METHOD_POST, "/api/post_queues", body, &out);
    fuzz_api_field(&out, "id", fuzz_api.queue, sizeof(fuzz_api.queue));

    out.len = 0;
    fuzz_api_setup_call(TT_METHOD_POST, "/api/webhooks",
        "{\"url\":\"https://hooks.example.com/x\",\"events\":[\"*\"]}",
        &out);
    fuzz_api_field(&out, "id", fuzz_api.hook, sizeof(fuzz_api.hook));

    out.len = 0;
    snprintf(path, sizeof(path), "/api/profile_groups/%s/"
             "initialize_connection", fuzz_api.group);
    fuzz_api_setup_call(TT_METHOD_POST, path,
        "{\"platform\":\"tiktok\",\"redirect_url\":\"https://a.example/\"}",
        &out);
    fuzz_check(tt_buf_append(&out, "", 1) == TT_OK);
    p = strstr(out.data, "state=");
    fuzz_check(p != NULL);
    memcpy(fuzz_api.state, p + 6, 64);
    fuzz_api.state[64] = '\0';
    tt_buf_free(&out);

    /* a fuzzer's store goes with it */
    (void) atexit(fuzz_api_done);
}


/* the store closed and its directory removed */
static inline void
fuzz_api_done(void)
{
    char            path[512];
    DIR            *d;
    struct dirent  *e;

    if (fuzz_api.st == NULL) {
        return;
    }

    tt_store_close(fuzz_api.st);
    fuzz_api.st = NULL;

    d = opendir(fuzz_api.dir);
    if (d == NULL) {
        return;
    }

    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof(path), "%s/%s", fuzz_api.dir, e->d_name);
            (void) unlink(path);
        }
    }

    (void) closedir(d);
    (void) rmdir(fuzz_api.dir);
}


/*
 * The input with "@G", "@Q", "@H" and "@S" replaced by the group's id,
 * the queue's, the webhook's and the waiting connection's state, so
 * that the fuzzer reaches past "no such id"; malloc'd, NUL-terminated,
 * *len set.
 */
static inline char *
fuzz_api_expand(const uint8_t *data, size_t size, size_t *len)
{
    size_t       i, n;
    char        *out;
    const char  *v;

    out = malloc(size * 64 + 1);
    fuzz_check(out != NULL);

    for (i = 0, n = 0; i < size; i++) {
        v = NULL;

        if (data[i] == '@' && i + 1 < size) {
            v = data[i + 1] == 'G' ? fuzz_api.group
                : data[i + 1] == 'Q' ? fuzz_api.queue
                : data[i + 1] == 'H' ? fuzz_api.hook
                : data[i + 1] == 'S' ? fuzz_api.state : NULL;
        }

        if (v != NULL) {
            memcpy(out + n, v, strlen(v));
            n += strlen(v);
            i++;

        } else {
            out[n++] = (char) data[i];
        }
    }

    out[n] = '\0';
    *len = n;

    return out;
}


#endif /* _FUZZ_API_H_INCLUDED_ */
