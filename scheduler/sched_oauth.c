/*
 * Copyright (C) the ngx_tiktok authors.
 * Connecting TikTok accounts, the scheduler's part: a code the callback
 * kept is exchanged (form-encoded /v2/oauth/token/; success only with an
 * access_token, whatever the HTTP status), the account read (user/info
 * for the display name and avatar, creator_info for the username), and
 * the profile stored active: the workspace's profile of that account
 * updated in place, else a new one in the connection's group.  A deleted
 * profile's access token is revoked (/v2/oauth/revoke/).
 *
 * The work is found in the store at each scan (a wake-up after the
 * callback or a delete, or the periodic rescan); a transfer that fails
 * for want of an answer is tried again at a later scan, at most
 * SCHED_OAUTH_TRIES times.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"
#include "sched_tiktok.h"


#define SCHED_OAUTH_TRIES      3
#define SCHED_REVOKE_TRIES     8
#define SCHED_OAUTH_SCOPES     "user.info.basic,video.publish,video.upload," \
                               "video.list"

typedef enum {
    SO_TOKEN = 0,
    SO_USER,
    SO_CREATOR,
    SO_REVOKE
} sched_oauth_step_e;

typedef struct sched_oauth_op_s  sched_oauth_op_t;

struct sched_oauth_op_s {
    sched_oauth_op_t   *next;
    sched_oauth_step_e  step;
    char                id[TT_ID_SIZE];     /* connection or profile */
    tt_arena_t         *a;
    tt_conn_t           conn;
    tt_revoke_t         rv;
    unsigned            busy:1;
    unsigned            seen:1;
    int                 tries;

    /* the exchange's answers */
    const char         *access_token;
    const char         *refresh_token;
    const char         *open_id;
    const char         *scope;
    int64_t             expires_in;
    int64_t             refresh_expires_in;
    const char         *name;
    const char         *username;
    const char         *avatar;
};


/* one scheduler a process: its operations in flight, its next look */
static sched_oauth_op_t  *sched_oauth_ops;
static int64_t            sched_oauth_next_at;

#define SCHED_OAUTH_RESCAN_MS  30000


static void sched_oauth_start(sched_t *s, sched_oauth_op_t *op);
static void sched_oauth_done(sched_t *s, sched_http_t *h);
static void sched_oauth_token_done(sched_t *s, sched_oauth_op_t *op,
    sched_http_t *h, tt_json_t *root);
static void sched_oauth_user_done(sched_t *s, sched_oauth_op_t *op,
    sched_http_t *h, tt_json_t *root);
static void sched_oauth_creator_done(sched_t *s, sched_oauth_op_t *op,
    sched_http_t *h, tt_json_t *root);
static void sched_oauth_revoke_done(sched_t *s, sched_oauth_op_t *op,
    sched_http_t *h, tt_json_t *root);
static void sched_oauth_connect(sched_t *s, sched_oauth_op_t *op);
static int sched_oauth_profile(sched_t *s, sched_oauth_op_t *op,
    tt_txn_t *t, tt_profile_t *p, const char **reason);
static void sched_oauth_end(sched_t *s, sched_oauth_op_t *op,
    const char *reason, const char *message);
static void sched_oauth_drop(sched_oauth_op_t *op);


static void sched_oauth_scan(sched_t *s);


/* before the agenda's hook: a wake-up (scan_wanted) is seen here too */
static void
sched_oauth_tick(sched_t *s, int64_t now, void *data)
{
    (void) data;

    if (!s->scan_wanted && now < sched_oauth_next_at) {
        return;
    }

    sched_oauth_next_at = now + SCHED_OAUTH_RESCAN_MS;
    sched_oauth_scan(s);
}


static int64_t
sched_oauth_next(sched_t *s, void *data)
{
    (void) s;
    (void) data;

    return sched_oauth_next_at;
}


int
sched_oauth_init(sched_t *s)
{
    sched_hook_t  h = { "oauth", sched_oauth_tick, sched_oauth_next, NULL,
                        NULL };

    sched_oauth_next_at = 0;

    return sched_loop_hook(s, &h);
}


static sched_oauth_op_t *
sched_oauth_find(const char *id, int revoke)
{
    sched_oauth_op_t  *op;

    for (op = sched_oauth_ops; op; op = op->next) {
        if ((op->step == SO_REVOKE) == (revoke != 0)
            && strcmp(op->id, id) == 0)
        {
            return op;
        }
    }

    return NULL;
}


static sched_oauth_op_t *
sched_oauth_add(const char *id, sched_oauth_step_e step)
{
    sched_oauth_op_t  *op;

    op = calloc(1, sizeof(sched_oauth_op_t));
    if (op == NULL) {
        return NULL;
    }

    op->a = tt_arena_create(4096);
    if (op->a == NULL) {
        free(op);
        return NULL;
    }

    op->step = step;
    memcpy(op->id, id, strlen(id) + 1);
    op->next = sched_oauth_ops;
    sched_oauth_ops = op;

    return op;
}


static const char *
sched_oauth_dup(sched_oauth_op_t *op, const char *v)
{
    return v ? tt_arena_strndup(op->a, v, strlen(v)) : NULL;
}


/* the connection, its strings in the op's own arena */
static void
sched_oauth_conn_copy(sched_oauth_op_t *op, const tt_conn_t *c)
{
    op->conn = *c;
    op->conn.redirect_url = sched_oauth_dup(op, c->redirect_url);
    op->conn.redirect_uri = sched_oauth_dup(op, c->redirect_uri);
    op->conn.scopes = sched_oauth_dup(op, c->scopes);
    op->conn.reason = NULL;
    op->conn.message = NULL;
    op->conn.code = sched_oauth_dup(op, c->code);
    op->conn.verifier = sched_oauth_dup(op, c->verifier);
    op->conn.code_sealed = NULL;
    op->conn.verifier_sealed = NULL;
}


/* the work of the store: codes to exchange, tokens to revoke */
static void
sched_oauth_scan(sched_t *s)
{
    size_t             i, nc, nr;
    tt_txn_t           rt, *t;
    tt_conn_t         *conns;
    tt_arena_t        *a;
    tt_revoke_t       *rvs;
    sched_oauth_op_t  *op;

    if (s->stopping || sched_read_begin(s, &rt, &t) != SCHED_OK) {
        return;
    }

    a = tt_arena_create(16384);

    if (a == NULL || tt_conn_pending(t, a, &conns, &nc) != TT_OK
        || tt_revoke_list(t, a, &rvs, &nr) != TT_OK)
    {
        sched_log(SCHED_LOG_ERR, "cannot read the connections to make: %s",
                  tt_store_last_error(s->store));
        sched_read_end(s, &rt, t);
        tt_arena_destroy(a);
        return;
    }

    if (nc || nr) {
        sched_debug("oauth: %zu codes to exchange, %zu tokens to revoke",
                    nc, nr);
    }

    for (i = 0; i < nc; i++) {
        op = sched_oauth_find(conns[i].id, 0);

        if (op == NULL && (op = sched_oauth_add(conns[i].id, SO_TOKEN))) {
            sched_oauth_conn_copy(op, &conns[i]);
        }

        if (op != NULL && !op->busy && conns[i].code != NULL) {
            sched_oauth_start(s, op);
        }
    }

    for (i = 0; i < nr; i++) {
        op = sched_oauth_find(rvs[i].profile_id, 1);

        if (op == NULL && (op = sched_oauth_add(rvs[i].profile_id,
                                                SO_REVOKE)))
        {
            op->rv = rvs[i];
            op->rv.access_token = rvs[i].access_token
                ? tt_arena_strndup(op->a, rvs[i].access_token,
                                   strlen(rvs[i].access_token))
                : NULL;
            op->rv.open_id = NULL;
            op->rv.sealed = NULL;
        }

        if (op != NULL && !op->busy && op->rv.access_token != NULL) {
            sched_oauth_start(s, op);
        }
    }

    sched_read_end(s, &rt, t);
    tt_arena_destroy(a);
}


/* the form of a token or revoke request */
static int
sched_oauth_form(sched_t *s, sched_oauth_op_t *op, tt_buf_t *body)
{
    const tt_conn_t  *c;

    if (sched_http_form_field(body, "client_key", s->conf.client_key,
                              strlen(s->conf.client_key)) != SCHED_OK
        || sched_http_form_field(body, "client_secret",
                                 s->client_secret.data,
                                 s->client_secret.len) != SCHED_OK)
    {
        return SCHED_ERR;
    }

    if (op->step == SO_REVOKE) {
        return sched_http_form_field(body, "token", op->rv.access_token,
                                     strlen(op->rv.access_token));
    }

    c = &op->conn;

    if (sched_http_form_field(body, "code", c->code, strlen(c->code))
        != SCHED_OK
        || sched_http_form_field(body, "grant_type", "authorization_code",
                                 sizeof("authorization_code") - 1)
           != SCHED_OK
        || sched_http_form_field(body, "redirect_uri", c->redirect_uri,
                                 strlen(c->redirect_uri)) != SCHED_OK)
    {
        return SCHED_ERR;
    }

    if (c->verifier == NULL) {
        return SCHED_OK;
    }

    return sched_http_form_field(body, "code_verifier", c->verifier,
                                 strlen(c->verifier));
}


/* the request of op's step */
static void
sched_oauth_start(sched_t *s, sched_oauth_op_t *op)
{
    int            rc;
    char          *url;
    tt_buf_t       body;
    sched_http_t  *h;

    if (s->conf.client_key == NULL || s->client_secret.data == NULL) {
        return;
    }

    h = sched_http_new(s, sched_oauth_done, op);
    if (h == NULL) {
        return;
    }

    tt_buf_init(&body);

    switch (op->step) {

    case SO_TOKEN:
    case SO_REVOKE:
        url = sched_tt_url(s, op->a, op->step == SO_TOKEN
                                     ? "/v2/oauth/token/"
                                     : "/v2/oauth/revoke/");
        rc = (url != NULL && sched_oauth_form(s, op, &body) == SCHED_OK)
             ? sched_http_form(h, url, body.data, body.len) : SCHED_ERR;
        break;

    case SO_USER:
        url = sched_tt_url(s, op->a, "/v2/user/info/?fields=open_id,"
                           "avatar_url,display_name");
        rc = url ? sched_http_get(h, url, op->access_token) : SCHED_ERR;
        break;

    default: /* SO_CREATOR */
        url = sched_tt_url(s, op->a, "/v2/post/publish/creator_info/query/");
        rc = url ? sched_http_json(h, url, op->access_token, "", 0)
                 : SCHED_ERR;
        break;
    }

    if (body.len) {
        explicit_bzero(body.data, body.len);
    }

    tt_buf_free(&body);

    if (rc != SCHED_OK || sched_http_start(s, h) != SCHED_OK) {
        sched_http_free(s, h);
        return;
    }

    op->busy = 1;
}


static void
sched_oauth_done(sched_t *s, sched_http_t *h)
{
    char               msg[160];
    tt_json_t         *root;
    tt_arena_t        *a;
    sched_oauth_op_t  *op;

    op = h->data;
    op->busy = 0;

    a = tt_arena_create(4096);
    root = NULL;

    if (a != NULL && h->result == CURLE_OK && h->resp.len) {
        root = tt_json_parse(a, h->resp.data, h->resp.len, msg, sizeof(msg));
    }

    switch (op->step) {

    case SO_TOKEN:
        sched_oauth_token_done(s, op, h, root);
        break;

    case SO_USER:
        sched_oauth_user_done(s, op, h, root);
        break;

    case SO_CREATOR:
        sched_oauth_creator_done(s, op, h, root);
        break;

    default:
        sched_oauth_revoke_done(s, op, h, root);
        break;
    }

    tt_arena_destroy(a);
}


/* a transfer with no answer: again at a later scan, a few times */
static int
sched_oauth_again(sched_t *s, sched_oauth_op_t *op, sched_http_t *h)
{
    if (h->result == CURLE_OK && h->status < 500 && h->status != 429) {
        return 0;
    }

    if (++op->tries >= (op->step == SO_REVOKE ? SCHED_REVOKE_TRIES
                                              : SCHED_OAUTH_TRIES))
    {
        return 0;
    }

    sched_log(SCHED_LOG_WARN, "%s %s: TikTok did not answer (%s, HTTP %ld); "
              "tried again later", op->step == SO_REVOKE
                                   ? "revoking the token of profile"
                                   : "connection", op->id,
              h->result == CURLE_OK ? "answered" : h->errbuf, h->status);

    return 1;
}


/* /v2/oauth/token/: success only with an access_token */
static void
sched_oauth_token_done(sched_t *s, sched_oauth_op_t *op, sched_http_t *h,
    tt_json_t *root)
{
    int64_t      v;
    const char  *at, *err, *missing;
    char         buf[200];

    at = sched_tt_str(root, "access_token");

    if (at == NULL || at[0] == '\0') {
        if (root == NULL && sched_oauth_again(s, op, h)) {
            return;
        }

        err = sched_tt_str(root, "error");
        (void) snprintf(buf, sizeof(buf), "TikTok refused the code: %s",
                        err ? err : "no answer");
        sched_oauth_end(s, op, "exchange_failed", buf);
        return;
    }

    op->access_token = sched_oauth_dup(op, at);
    op->refresh_token = sched_oauth_dup(op, sched_tt_str(root,
                                                         "refresh_token"));
    op->open_id = sched_oauth_dup(op, sched_tt_str(root, "open_id"));
    op->scope = sched_oauth_dup(op, sched_tt_str(root, "scope"));
    op->expires_in = sched_tt_int64(tt_json_get(root, "expires_in"), &v)
                     == SCHED_OK ? v : 86400;
    op->refresh_expires_in =
        sched_tt_int64(tt_json_get(root, "refresh_expires_in"), &v)
        == SCHED_OK ? v : 31536000;

    if (op->open_id == NULL || op->open_id[0] == '\0'
        || op->refresh_token == NULL)
    {
        sched_oauth_end(s, op, "exchange_failed", "TikTok's answer has no "
                        "open_id or refresh_token");
        return;
    }

    /* the scopes the user granted: TikTok's word, not the callback's */
    missing = NULL;

    for (err = SCHED_OAUTH_SCOPES; *err; err += strcspn(err, ",")
                                              + (err[strcspn(err, ",")] == ','))
    {
        size_t       n = strcspn(err, ",");
        const char  *p = op->scope;

        while (p && !(strncmp(p, err, n) == 0
                      && (p[n] == ',' || p[n] == '\0')))
        {
            p = strchr(p, ',');
            p = p ? p + 1 : NULL;
        }

        if (p == NULL) {
            missing = err;
            break;
        }
    }

    if (missing != NULL) {
        (void) snprintf(buf, sizeof(buf), "the user did not grant %.*s",
                        (int) strcspn(missing, ","), missing);
        sched_oauth_end(s, op, "missing_scope", buf);
        return;
    }

    op->tries = 0;
    op->step = SO_USER;
    sched_oauth_start(s, op);
}


/* user/info: the display name and avatar (without them, still connected) */
static void
sched_oauth_user_done(sched_t *s, sched_oauth_op_t *op, sched_http_t *h,
    tt_json_t *root)
{
    sched_answer_t  ans;
    tt_json_t      *user;

    sched_tt_answer(h, op->a, &ans);

    if (ans.result == SCHED_R_OK) {
        user = tt_json_get(ans.data, "user");
        op->name = sched_oauth_dup(op, sched_tt_str(user, "display_name"));
        op->avatar = sched_oauth_dup(op, sched_tt_str(user, "avatar_url"));

    } else {
        sched_log(SCHED_LOG_WARN, "connection %s: user/info failed: %s",
                  op->id, ans.code ? ans.code : "no answer");
    }

    op->step = SO_CREATOR;
    sched_oauth_start(s, op);

    if (!op->busy) {
        sched_oauth_connect(s, op);
    }
}


/* creator_info: the username (user.info.profile is not asked for) */
static void
sched_oauth_creator_done(sched_t *s, sched_oauth_op_t *op, sched_http_t *h,
    tt_json_t *root)
{
    sched_answer_t  ans;

    sched_tt_answer(h, op->a, &ans);

    if (ans.result == SCHED_R_OK) {
        op->username = sched_oauth_dup(op, sched_tt_str(ans.data,
                                                        "creator_username"));

        if (op->name == NULL) {
            op->name = sched_oauth_dup(op, sched_tt_str(ans.data,
                                                        "creator_nickname"));
        }

        if (op->avatar == NULL) {
            op->avatar = sched_oauth_dup(op,
                                         sched_tt_str(ans.data,
                                                      "creator_avatar_url"));
        }

    } else {
        sched_log(SCHED_LOG_WARN, "connection %s: creator_info failed: %s",
                  op->id, ans.code ? ans.code : "no answer");
    }

    sched_oauth_connect(s, op);
}


/* the profile, in one transaction with the connection's end */
static void
sched_oauth_connect(sched_t *s, sched_oauth_op_t *op)
{
    tt_txn_t      *t;
    tt_conn_t      c;
    const char    *reason;
    tt_profile_t   p;

    t = sched_txn(s);

    if (t == NULL || tt_conn_get(t, op->id, op->a, &c) != TT_OK
        || c.status != TT_CONN_EXCHANGING)
    {
        sched_oauth_drop(op);
        return;
    }

    reason = NULL;

    if (sched_oauth_profile(s, op, t, &p, &reason) != TT_OK) {
        sched_oauth_end(s, op, reason ? reason : "store_failed",
                        reason ? "the profile group already holds another "
                                 "TikTok account"
                               : "the profile could not be stored");
        return;
    }

    memcpy(op->conn.profile_id, p.id, sizeof(p.id));
    sched_log(SCHED_LOG_INFO, "connection %s: TikTok account connected as "
              "profile %s", op->id, p.id);

    /* posts waiting on a profile that was expired may go now */
    s->scan_wanted = 1;

    sched_oauth_end(s, op, NULL, NULL);
}


/*
 * The workspace's profile of this account, updated in place (same id,
 * new tokens, active); else a new profile in the connection's group.
 */
static int
sched_oauth_profile(sched_t *s, sched_oauth_op_t *op, tt_txn_t *t,
    tt_profile_t *p, const char **reason)
{
    int            rc;
    size_t         n;
    int64_t        now;
    tt_profile_t  *list;

    now = tt_now_ms();

    rc = tt_profile_by_open_id(t, op->conn.workspace_id, op->open_id, op->a,
                               p);

    if (rc == TT_NOTFOUND) {
        rc = tt_profile_list(t, op->conn.workspace_id,
                             op->conn.profile_group_id, op->a, &list, &n);
        if (rc != TT_OK) {
            return rc;
        }

        if (n > 0) {
            *reason = "group_has_profile";
            return TT_EXISTS;
        }

        memset(p, 0, sizeof(tt_profile_t));

        if (tt_id_new("prof_", p->id) != TT_OK) {
            return TT_ERR;
        }

        memcpy(p->workspace_id, op->conn.workspace_id, TT_ID_SIZE);
        memcpy(p->profile_group_id, op->conn.profile_group_id, TT_ID_SIZE);
        p->platform = "tiktok";
        p->created_at = now;

    } else if (rc != TT_OK) {
        return rc;
    }

    p->open_id = op->open_id;
    p->name = op->name ? op->name : p->name;
    p->username = op->username ? op->username : p->username;
    p->avatar_url = op->avatar ? op->avatar : p->avatar_url;
    p->status = TT_PROFILE_ACTIVE;
    p->scope = op->scope;
    p->access_token = op->access_token;
    p->refresh_token = op->refresh_token;
    p->expires_at = now + op->expires_in * 1000;
    p->refresh_expires_at = now + op->refresh_expires_in * 1000;

    return tt_profile_put(t, p);
}


/* the connection's end: connected (reason NULL) or failed; the code and
 * verifier are forgotten */
static void
sched_oauth_end(sched_t *s, sched_oauth_op_t *op, const char *reason,
    const char *message)
{
    tt_txn_t   *t;
    tt_conn_t  *c;

    c = &op->conn;
    c->code = NULL;
    c->code_sealed = NULL;
    c->verifier = NULL;
    c->verifier_sealed = NULL;
    c->status = reason ? TT_CONN_FAILED : TT_CONN_CONNECTED;
    c->reason = reason;
    c->message = message;
    c->updated_at = tt_now_ms();

    if (reason != NULL) {
        sched_log(SCHED_LOG_WARN, "connection %s failed: %s (%s)", op->id,
                  reason, message);
    }

    t = sched_txn(s);

    if (t == NULL || tt_conn_put(t, c) != TT_OK) {
        sched_log(SCHED_LOG_ERR, "connection %s: cannot store its end: %s",
                  op->id, tt_store_last_error(s->store));
    }

    sched_oauth_drop(op);
}


/* /v2/oauth/revoke/: {} (or an empty body) is done; a token TikTok no
 * longer knows is as good as revoked */
static void
sched_oauth_revoke_done(sched_t *s, sched_oauth_op_t *op, sched_http_t *h,
    tt_json_t *root)
{
    tt_txn_t    *t;
    const char  *err;

    err = sched_tt_str(root, "error");

    if ((err == NULL && h->result == CURLE_OK && h->status == 200)
        || (err != NULL && strcmp(err, "invalid_client") != 0))
    {
        sched_log(SCHED_LOG_INFO, "profile %s: its TikTok token is revoked%s",
                  op->id, err ? " (TikTok no longer knew it)" : "");

    } else if (sched_oauth_again(s, op, h)) {
        return;

    } else {
        sched_log(SCHED_LOG_ERR, "profile %s: TikTok did not revoke its "
                  "token (%s); it is forgotten here", op->id,
                  err ? err : "no answer");
    }

    t = sched_txn(s);

    if (t == NULL || tt_revoke_del(t, op->id) != TT_OK) {
        sched_log(SCHED_LOG_ERR, "profile %s: cannot forget its token: %s",
                  op->id, tt_store_last_error(s->store));
    }

    sched_oauth_drop(op);
}


static void
sched_oauth_drop(sched_oauth_op_t *op)
{
    sched_oauth_op_t  **pp;

    for (pp = &sched_oauth_ops; *pp; pp = &(*pp)->next) {
        if (*pp == op) {
            *pp = op->next;
            break;
        }
    }

    tt_arena_destroy(op->a);
    explicit_bzero(op, sizeof(sched_oauth_op_t));
    free(op);
}


/* at exit, after every transfer was detached */
void
sched_oauth_free(sched_t *s)
{
    sched_oauth_op_t  *op;

    (void) s;

    while ((op = sched_oauth_ops) != NULL) {
        sched_oauth_drop(op);
    }
}
