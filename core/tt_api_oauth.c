/*
 * Copyright (C) the ngx_tiktok authors.
 * Connecting a TikTok account: POST .../initialize_connection makes the
 * authorize URL and a single-use state; TikTok sends the browser back to
 * the tiktok_oauth_callback location, where the code is kept (sealed) for
 * the scheduler to exchange; the browser waits on a page of ours that
 * refreshes itself until the scheduler is done, then goes to the
 * caller's redirect_url with the outcome.  Nothing here waits on the
 * network.
 */


#include <stdio.h>

#include "tt_api_int.h"


#define TT_OAUTH_URL_MAX         2048   /* a redirect_url's bytes */
#define TT_OAUTH_ARG_MAX         1024   /* a code, a state */
#define TT_OAUTH_EXCHANGE_MAX_MS (2 * 60 * 1000LL)  /* the page gives up */


static int tt_api_connect_ready(tt_api_ctx_t *c, tt_group_t *g,
    const tt_api_conf_t **conf);
static int tt_api_connect_secrets(tt_conn_t *conn, char *state,
    char *verifier, char *challenge);
static int tt_api_connect_reply(tt_api_ctx_t *c, const tt_conn_t *conn,
    const char *state, const char *challenge);
static int tt_api_connect_input(tt_api_ctx_t *c, const char **url);
static int tt_api_url_ok(const char *s, size_t len);
static int tt_api_connect_url(tt_api_ctx_t *c, const tt_conn_t *conn,
    const char *state, const char *challenge, tt_buf_t *out);
static void tt_api_url_enc(tt_buf_t *b, const char *s, size_t len);
static int tt_api_oauth_fail(tt_api_ctx_t *c, tt_conn_t *conn,
    const char *reason, const char *message);
static int tt_api_oauth_final(tt_api_ctx_t *c, const tt_conn_t *conn,
    const char *reason);
static int tt_api_oauth_page(tt_api_ctx_t *c, int status, const char *text,
    const char *refresh_url);
static int tt_api_oauth_code(tt_api_ctx_t *c, tt_conn_t *conn);
static const char *tt_api_scopes_missing(tt_api_ctx_t *c, const char *got);


/* POST /api/profile_groups/:id/initialize_connection */
int
tt_api_group_connect(tt_api_ctx_t *c)
{
    int                   rc;
    char                  state[65], verifier[65], challenge[65];
    tt_conn_t             conn;
    tt_group_t            g;
    const char           *redirect_url;
    const tt_api_conf_t  *conf;

    rc = tt_api_connect_ready(c, &g, &conf);
    if (rc != TT_OK || conf == NULL) {
        return rc;
    }

    rc = tt_api_connect_input(c, &redirect_url);
    if (rc != TT_OK || redirect_url == NULL) {
        return rc;
    }

    memset(&conn, 0, sizeof(conn));

    if (tt_api_connect_secrets(&conn, state, verifier, challenge) != TT_OK) {
        return TT_ERR;
    }

    memcpy(conn.workspace_id, c->ws, strlen(c->ws) + 1);
    memcpy(conn.profile_group_id, g.id, strlen(g.id) + 1);
    conn.redirect_url = redirect_url;
    conn.redirect_uri = tt_arena_strndup(c->a, conf->callback_url.data,
                                         conf->callback_url.len);
    conn.status = TT_CONN_WAITING;
    conn.created_at = c->req->now_ms;
    conn.updated_at = c->req->now_ms;
    conn.expires_at = c->req->now_ms + (conf->state_ttl_ms > 0
                                        ? conf->state_ttl_ms
                                        : TT_CONN_STATE_TTL_MS);
    conn.verifier = verifier;

    if (conn.redirect_uri == NULL) {
        return TT_ERR;
    }

    rc = tt_conn_purge(c->t, c->req->now_ms, 8);

    if (rc == TT_OK) {
        rc = tt_conn_put(c->t, &conn);
    }

    explicit_bzero(verifier, sizeof(verifier));

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    return tt_api_connect_reply(c, &conn, state, challenge);
}


/*
 * the group exists and is visible, and nginx.conf allows connecting;
 * *conf NULL when an answer is set
 */
static int
tt_api_connect_ready(tt_api_ctx_t *c, tt_group_t *g,
    const tt_api_conf_t **conf)
{
    int  rc;

    *conf = NULL;

    rc = c->id[0] ? tt_group_get(c->t, c->id, c->a, g) : TT_NOTFOUND;

    if (rc == TT_NOTFOUND
        || (rc == TT_OK && !tt_api_visible(c, g->workspace_id, g->id)))
    {
        return tt_api_reply(c, 404);
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (c->req->conf == NULL || c->req->conf->callback_url.len == 0
        || c->req->conf->client_key.len == 0
        || c->req->conf->authorize_url.len == 0)
    {
        return tt_api_answer(c, 503, "connecting TikTok accounts needs "
                             "tiktok_client_key and a location with "
                             "tiktok_oauth_callback in nginx.conf");
    }

    if (!tt_store_can_seal(c->t->st)) {
        return tt_api_answer(c, 503, "connecting TikTok accounts needs "
                             "tiktok_token_key_file in nginx.conf");
    }

    *conf = c->req->conf;

    return TT_OK;
}


/*
 * the state and the PKCE verifier, 256 random bits each, as hex; the
 * state's hash into conn, and TikTok's PKCE challenge: the lower-case
 * hex of SHA-256(verifier)
 */
static int
tt_api_connect_secrets(tt_conn_t *conn, char *state, char *verifier,
    char *challenge)
{
    uint8_t  raw[32], hash[32];

    if (tt_id_new("oc_", conn->id) != TT_OK
        || tt_random(raw, sizeof(raw)) != TT_OK)
    {
        return TT_ERR;
    }

    tt_hex(raw, sizeof(raw), state);

    if (tt_random(raw, sizeof(raw)) != TT_OK) {
        return TT_ERR;
    }

    tt_hex(raw, sizeof(raw), verifier);

    if (tt_sha256(state, 64, conn->state_hash) != TT_OK
        || tt_sha256(verifier, 64, hash) != TT_OK)
    {
        return TT_ERR;
    }

    tt_hex(hash, sizeof(hash), challenge);

    return TT_OK;
}


/* {"url": the authorize URL, "success": true} */
static int
tt_api_connect_reply(tt_api_ctx_t *c, const tt_conn_t *conn,
    const char *state, const char *challenge)
{
    tt_jw_t   w;
    tt_buf_t  url;

    tt_buf_init(&url);

    if (tt_api_connect_url(c, conn, state, challenge, &url) != TT_OK
        || tt_api_jw_begin(c, &w) != TT_OK)
    {
        tt_buf_free(&url);
        return TT_ERR;
    }

    tt_jw_obj_open(&w);
    tt_jw_key(&w, "url");
    tt_jw_str(&w, url.data, url.len);
    tt_jw_key(&w, "success");
    tt_jw_bool(&w, 1);
    tt_jw_obj_close(&w);

    tt_buf_free(&url);

    return tt_api_jw_end(c, &w, 200);
}


/* the body's redirect_url; *url NULL when a 422 is set */
static int
tt_api_connect_input(tt_api_ctx_t *c, const char **url)
{
    size_t            i;
    const char       *k;
    const tt_json_t  *root, *v;

    *url = NULL;
    root = c->req->body;

    if (root == NULL || root->type != TT_JSON_OBJECT) {
        return tt_api_answer(c, 422, "the body must be a JSON object");
    }

    for (i = 0; i < root->n; i++) {
        k = root->members[i].key;

        if (strcmp(k, "platform") != 0 && strcmp(k, "redirect_url") != 0) {
            return tt_api_answer(c, 422, "%s is not a known key", k);
        }
    }

    v = tt_json_get(root, "platform");

    if (v == NULL || v->type != TT_JSON_STRING
        || strcmp(v->str, "tiktok") != 0)
    {
        return tt_api_answer(c, 422, "platform must be \"tiktok\"");
    }

    v = tt_json_get(root, "redirect_url");

    if (v == NULL || v->type != TT_JSON_STRING
        || !tt_api_url_ok(v->str, v->len))
    {
        return tt_api_answer(c, 422, "redirect_url must be an absolute "
                             "http or https URL, without a fragment, of at "
                             "most %d bytes", TT_OAUTH_URL_MAX);
    }

    *url = v->str;

    return TT_OK;
}


/* http(s)://host..., printable ASCII, no fragment, no space */
static int
tt_api_url_ok(const char *s, size_t len)
{
    size_t  i, skip;

    if (len > TT_OAUTH_URL_MAX) {
        return 0;
    }

    if (len > 8 && strncmp(s, "https://", 8) == 0) {
        skip = 8;

    } else if (len > 7 && strncmp(s, "http://", 7) == 0) {
        skip = 7;

    } else {
        return 0;
    }

    if (s[skip] == '/' || s[skip] == '?' || s[skip] == '@') {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] <= 0x20 || (unsigned char) s[i] >= 0x7f
            || s[i] == '#' || s[i] == '\\' || s[i] == '"' || s[i] == '<'
            || s[i] == '>')
        {
            return 0;
        }
    }

    return 1;
}


static int
tt_api_connect_url(tt_api_ctx_t *c, const tt_conn_t *conn, const char *state,
    const char *challenge, tt_buf_t *out)
{
    const tt_api_conf_t  *conf;

    conf = c->req->conf;

    tt_buf_append(out, conf->authorize_url.data, conf->authorize_url.len);
    tt_buf_append_str(out, memchr(conf->authorize_url.data, '?',
                                  conf->authorize_url.len)
                           ? "&client_key=" : "?client_key=");
    tt_api_url_enc(out, conf->client_key.data, conf->client_key.len);
    /* TikTok's scopes are comma-separated, the commas as they are */
    tt_buf_append_str(out, "&scope=" TT_OAUTH_SCOPES
                      "&response_type=code&redirect_uri=");
    tt_api_url_enc(out, conn->redirect_uri, strlen(conn->redirect_uri));
    tt_buf_printf(out, "&state=%s&code_challenge=%s"
                  "&code_challenge_method=S256", state, challenge);

    return tt_buf_ok(out) ? TT_OK : TT_ERR;
}


static void
tt_api_url_enc(tt_buf_t *b, const char *s, size_t len)
{
    size_t         i;
    unsigned char  ch;

    for (i = 0; i < len; i++) {
        ch = (unsigned char) s[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
            || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'
            || ch == '.' || ch == '~')
        {
            tt_buf_append(b, &s[i], 1);

        } else {
            tt_buf_printf(b, "%%%02X", ch);
        }
    }
}


/*
 * GET <callback>?code=&scopes=&state= (or ?error=&state=): TikTok's
 * redirect back.  A write: the state is used up here, once.
 */
int
tt_api_oauth_callback(tt_api_ctx_t *c)
{
    int          rc;
    uint8_t      hash[32];
    tt_str_t     state, err;
    tt_conn_t    conn;
    tt_group_t   g;

    c->resp->oauth = 1;

    rc = tt_api_arg(c, "state", &state);

    if (rc == TT_NOTFOUND || (rc == TT_OK && (state.len == 0
                                              || state.len > 256)))
    {
        return tt_api_oauth_page(c, 400, "This sign-in link has no valid "
                                 "state. Start connecting the TikTok "
                                 "account again from your application.",
                                 NULL);
    }

    if (rc != TT_OK || tt_sha256(state.data, state.len, hash) != TT_OK) {
        return TT_ERR;
    }

    rc = tt_conn_by_state(c->t, hash, c->a, &conn);

    if (rc == TT_NOTFOUND) {
        return tt_api_oauth_page(c, 400, "This sign-in link is unknown or "
                                 "too old. Start connecting the TikTok "
                                 "account again from your application.",
                                 NULL);
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (conn.status != TT_CONN_WAITING) {
        /* used once already: the record stays as it is */
        return tt_api_oauth_final(c, &conn, "state_used");
    }

    if (c->req->now_ms >= conn.expires_at) {
        return tt_api_oauth_fail(c, &conn, "state_expired", "the state "
                                 "expired before TikTok sent the browser "
                                 "back");
    }

    rc = tt_group_get(c->t, conn.profile_group_id, c->a, &g);

    if (rc == TT_NOTFOUND
        || (rc == TT_OK && strcmp(g.workspace_id, conn.workspace_id) != 0))
    {
        return tt_api_oauth_fail(c, &conn, "group_deleted", "the profile "
                                 "group was deleted");
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (tt_api_arg(c, "error", &err) == TT_OK) {
        return tt_api_oauth_fail(c, &conn,
                                 tt_str_eq(&err, "access_denied")
                                 ? "access_denied" : "authorization_failed",
                                 "TikTok did not authorize the app");
    }

    return tt_api_oauth_code(c, &conn);
}


/* the code: kept sealed for the scheduler, the browser sent to wait */
static int
tt_api_oauth_code(tt_api_ctx_t *c, tt_conn_t *conn)
{
    int          rc;
    tt_buf_t    *b;
    tt_str_t     code, scopes;
    const char  *missing;

    rc = tt_api_arg(c, "code", &code);

    if (rc != TT_OK || code.len == 0 || code.len > TT_OAUTH_ARG_MAX) {
        return tt_api_oauth_fail(c, conn, "invalid_callback", "TikTok's "
                                 "answer has no code");
    }

    /* TikTok says which scopes the user granted; the token's answer is
     * checked again by the scheduler */
    if (tt_api_arg(c, "scopes", &scopes) == TT_OK) {
        missing = tt_api_scopes_missing(c, scopes.data);

        if (missing != NULL) {
            return tt_api_oauth_fail(c, conn, "missing_scope", missing);
        }

        conn->scopes = scopes.data;
    }

    conn->code = code.data;
    conn->status = TT_CONN_EXCHANGING;
    conn->updated_at = c->req->now_ms;

    rc = tt_conn_put(c->t, conn);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    c->resp->wake = 1;

    b = &c->resp->body;
    tt_buf_reset(b);
    tt_buf_append(b, c->req->conf->callback_url.data,
                  c->req->conf->callback_url.len);
    tt_buf_printf(b, "%cconnection=%s",
                  memchr(c->req->conf->callback_url.data, '?',
                         c->req->conf->callback_url.len) ? '&' : '?',
                  conn->id);

    if (!tt_buf_ok(b)) {
        return TT_ERR;
    }

    c->resp->location = tt_arena_strndup(c->a, b->data, b->len);
    tt_buf_reset(b);

    if (c->resp->location == NULL) {
        return TT_ERR;
    }

    c->resp->status = 303;

    return TT_OK;
}


/* NULL when every scope we ask for is in got, else a sentence */
static const char *
tt_api_scopes_missing(tt_api_ctx_t *c, const char *got)
{
    char         buf[256];
    size_t       n, len;
    const char  *s, *e, *p;

    n = 0;
    buf[0] = '\0';

    for (s = TT_OAUTH_SCOPES; *s; s = e + (*e == ',')) {
        e = strchr(s, ',');
        if (e == NULL) {
            e = s + strlen(s);
        }

        len = (size_t) (e - s);

        for (p = got; p != NULL; p = strchr(p, ',') ? strchr(p, ',') + 1
                                                    : NULL)
        {
            if (strncmp(p, s, len) == 0 && (p[len] == ',' || p[len] == '\0'))
            {
                break;
            }
        }

        if (p == NULL && n < sizeof(buf)) {
            n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s%.*s",
                                   n ? ", " : "", (int) len, s);
        }
    }

    if (n == 0) {
        return NULL;
    }

    s = tt_arena_alloc(c->a, n + 64);
    if (s != NULL) {
        snprintf((char *) s, n + 64, "the user did not grant %s", buf);
    }

    return s ? s : "the user did not grant every scope";
}


/* a connection that ends here: recorded, then the browser sent back */
static int
tt_api_oauth_fail(tt_api_ctx_t *c, tt_conn_t *conn, const char *reason,
    const char *message)
{
    int  rc;

    conn->status = TT_CONN_FAILED;
    conn->reason = reason;
    conn->message = message;
    conn->updated_at = c->req->now_ms;

    rc = tt_conn_put(c->t, conn);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    return tt_api_oauth_final(c, conn, reason);
}


/*
 * 303 to the caller's redirect_url: ?profile_id=…&status=connected, or
 * ?status=error&reason=…
 */
static int
tt_api_oauth_final(tt_api_ctx_t *c, const tt_conn_t *conn,
    const char *reason)
{
    char      sep;
    tt_buf_t  b;

    if (conn->redirect_url == NULL) {
        return TT_ERR;
    }

    sep = strchr(conn->redirect_url, '?') ? '&' : '?';

    tt_buf_init(&b);

    if (reason == NULL) {
        tt_buf_printf(&b, "%s%cprofile_id=%s&status=connected",
                      conn->redirect_url, sep, conn->profile_id);

    } else {
        tt_buf_printf(&b, "%s%cstatus=error&reason=", conn->redirect_url,
                      sep);
        tt_api_url_enc(&b, reason, strlen(reason));
    }

    c->resp->location = tt_buf_ok(&b)
                        ? tt_arena_strndup(c->a, b.data, b.len) : NULL;
    tt_buf_free(&b);

    if (c->resp->location == NULL) {
        return TT_ERR;
    }

    c->resp->oauth = 1;
    c->resp->status = 303;
    tt_buf_reset(&c->resp->body);

    return TT_OK;
}


/* GET <callback>?connection=oc_…: the browser waits for the outcome */
int
tt_api_oauth_status(tt_api_ctx_t *c)
{
    int        rc;
    char       id[TT_ID_SIZE];
    tt_str_t   v;
    tt_conn_t  conn;

    c->resp->oauth = 1;

    rc = tt_api_arg(c, "connection", &v);

    if (rc != TT_OK || v.len == 0 || v.len >= TT_ID_SIZE
        || !tt_id_valid("oc_", v.data, v.len))
    {
        return rc == TT_NOMEM ? TT_ERR
               : tt_api_oauth_page(c, 404, "There is no such connection.",
                                   NULL);
    }

    memcpy(id, v.data, v.len);
    id[v.len] = '\0';

    rc = tt_conn_get(c->t, id, c->a, &conn);

    if (rc == TT_NOTFOUND) {
        return tt_api_oauth_page(c, 404, "There is no such connection.",
                                 NULL);
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    switch (conn.status) {

    case TT_CONN_CONNECTED:
        return tt_api_oauth_final(c, &conn, NULL);

    case TT_CONN_FAILED:
        return tt_api_oauth_final(c, &conn, conn.reason ? conn.reason
                                                        : "failed");

    default:
        if (c->req->now_ms - conn.updated_at > TT_OAUTH_EXCHANGE_MAX_MS) {
            /* the scheduler is not running, or TikTok not answering */
            return tt_api_oauth_final(c, &conn, "exchange_timeout");
        }

        return tt_api_oauth_page(c, 200, "Connecting your TikTok "
                                 "account...", "");
    }
}


/*
 * A small HTML page of ours.  refresh_url "" reloads this URL every second
 * (the module sends the Refresh header with the request's own URI).
 */
static int
tt_api_oauth_page(tt_api_ctx_t *c, int status, const char *text,
    const char *refresh_url)
{
    tt_buf_t  *b;

    b = &c->resp->body;
    tt_buf_reset(b);

    tt_buf_printf(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                  "%s<title>TikTok</title></head>\n<body><p>%s</p></body>"
                  "</html>\n",
                  refresh_url ? "<meta http-equiv=\"refresh\" content=\"1\">"
                              : "",
                  text);

    c->resp->status = status;
    c->resp->html = 1;
    c->resp->oauth = 1;
    c->resp->refresh = refresh_url != NULL;

    return tt_buf_ok(b) ? TT_OK : TT_ERR;
}


/* the routes of a tiktok_oauth_callback location */
int
tt_api_callback_route(tt_method_e method, const tt_str_t *args,
    tt_route_t *r)
{
    const char  *p;

    if (method != TT_METHOD_GET && method != TT_METHOD_HEAD) {
        return TT_INVALID;
    }

    memset(r, 0, sizeof(tt_route_t));
    r->open = 1;
    r->id = TT_ROUTE_OAUTH_CALLBACK;
    r->write = 1;

    /* ?connection= (first, or after an &) is the wait: a read */
    for (p = args->data; p != NULL && p < args->data + args->len;
         p = memchr(p, '&', args->len - (size_t) (p - args->data)))
    {
        if (*p == '&') {
            p++;
        }

        if ((size_t) (args->data + args->len - p) >= 11
            && memcmp(p, "connection=", 11) == 0)
        {
            r->id = TT_ROUTE_OAUTH_STATUS;
            r->write = 0;
            break;
        }
    }

    return TT_OK;
}
