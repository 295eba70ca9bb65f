/*
 * Copyright (C) the ngx_tiktok authors.
 * /api/webhooks: create (the secret shown once), list, get, PATCH,
 * DELETE, a test event on demand, and the attempts of the deliveries.
 * A webhook takes every event of its workspace, so a profile-group
 * scoped key may not manage one.
 */


#include <inttypes.h>
#include <stdio.h>
#include <strings.h>

#include "tt_api_int.h"
#include "tt_webhook.h"


#define TT_API_WH_EVENTS_MAX    16
#define TT_API_WH_PER_PAGE      20
#define TT_API_WH_PER_PAGE_MAX  100


typedef struct {
    unsigned        has_url:1;
    unsigned        has_events:1;
    unsigned        has_enabled:1;
    unsigned        has_description:1;
    const char     *url;
    const char     *description;            /* NULL: null */
    unsigned        events;
    unsigned        all:1;
    unsigned        enabled:1;
} tt_api_wh_input_t;


static int tt_api_wh_parse(tt_api_ctx_t *c, int patch, tt_api_wh_input_t *in,
    tt_errors_t *e);


/*
 * An absolute https URL (http too when the module allows webhooks to
 * private addresses: a receiver on the host or its network), with a
 * host, no user or password, no fragment, printable ASCII.  Where it
 * leads is checked again at each connection (the scheduler's guard).
 */
static const char *
tt_api_wh_url_problem(const char *s, size_t len, int http_ok)
{
    size_t       i, host, end;
    const char  *p;

    if (len > TT_WEBHOOK_URL_MAX) {
        return "is longer than 2048 characters";
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] <= 0x20 || (unsigned char) s[i] >= 0x7f) {
            return "has a space, a control or a non-ASCII character";
        }
    }

    if (len > 8 && strncasecmp(s, "https://", 8) == 0) {
        host = 8;

    } else if (len > 7 && strncasecmp(s, "http://", 7) == 0) {
        if (!http_ok) {
            return "is not https (plain http only with "
                   "tiktok_webhook_allow_private on)";
        }

        host = 7;

    } else {
        return "is not an https URL";
    }

    for (end = host; end < len && s[end] != '/' && s[end] != '?'
                     && s[end] != '#'; end++)
    {
        /* void */
    }

    p = memchr(s + host, '@', end - host);
    if (p != NULL) {
        return "has a user name or password in it";
    }

    if (end == host || s[host] == ':') {
        return "has no host";
    }

    if (memchr(s, '#', len) != NULL) {
        return "has a fragment (#)";
    }

    return NULL;
}


static void
tt_api_wh_events(tt_json_t *v, tt_api_wh_input_t *in, tt_errors_t *e)
{
    int      ev;
    size_t   i;

    if (v->type != TT_JSON_ARRAY || v->n == 0
        || v->n > TT_API_WH_EVENTS_MAX)
    {
        tt_errors_add(e, "events must be an array of 1 to %d event names "
                      "(or \"*\" for all)", TT_API_WH_EVENTS_MAX);
        return;
    }

    in->events = 0;
    in->all = 0;

    for (i = 0; i < v->n; i++) {
        if (v->items[i]->type != TT_JSON_STRING) {
            tt_errors_add(e, "events[%zu] is not a string", i);
            continue;
        }

        if (strcmp(v->items[i]->str, "*") == 0) {
            in->all = 1;
            continue;
        }

        ev = tt_event_by_name(v->items[i]->str, v->items[i]->len);

        if (ev < 0 || ev == TT_EVT_TEST) {
            tt_errors_add(e, "events[%zu] is not an event: one of "
                          "post.processed, platform_post.published, "
                          "platform_post.failed, "
                          "platform_post.failed_waiting_for_retry, "
                          "media.failed, profile.connected, "
                          "profile.disconnected, profile.expired, or \"*\"",
                          i);
            continue;
        }

        in->events |= 1u << ev;
    }
}


static void
tt_api_wh_member(tt_api_ctx_t *c, const tt_json_member_t *m,
    tt_api_wh_input_t *in, tt_errors_t *e)
{
    const char  *why;
    tt_json_t   *v;

    v = m->value;

    if (strcmp(m->key, "url") == 0) {
        in->has_url = 1;
        why = v->type != TT_JSON_STRING ? "is not a string"
              : tt_api_wh_url_problem(v->str, v->len,
                                      c->req->webhook_http);
        if (why != NULL) {
            tt_errors_add(e, "url %s", why);
        }

        in->url = v->str;

    } else if (strcmp(m->key, "events") == 0) {
        in->has_events = 1;
        tt_api_wh_events(v, in, e);

    } else if (strcmp(m->key, "enabled") == 0) {
        in->has_enabled = 1;
        if (v->type != TT_JSON_TRUE && v->type != TT_JSON_FALSE) {
            tt_errors_add(e, "enabled is not a boolean");
        }

        in->enabled = (v->type == TT_JSON_TRUE);

    } else if (strcmp(m->key, "description") == 0) {
        in->has_description = 1;
        if (v->type != TT_JSON_NULL && (v->type != TT_JSON_STRING
                                        || tt_utf16_len(v->str, v->len)
                                           > TT_WEBHOOK_DESC_MAX))
        {
            tt_errors_add(e, "description is not a string of at most %d "
                          "characters, or null", TT_WEBHOOK_DESC_MAX);
        }

        in->description = v->type == TT_JSON_STRING ? v->str : NULL;

    } else {
        tt_errors_add(e, "%s is not a field of a webhook (url, events, "
                      "enabled, description)", m->key);
    }
}


/* the body: {url, events, enabled, description}, or under "webhook" */
static int
tt_api_wh_parse(tt_api_ctx_t *c, int patch, tt_api_wh_input_t *in,
    tt_errors_t *e)
{
    size_t            i;
    const tt_json_t  *root, *inner;

    memset(in, 0, sizeof(tt_api_wh_input_t));
    in->enabled = 1;
    in->all = 0;

    root = c->req->body;

    if (root == NULL || root->type != TT_JSON_OBJECT) {
        tt_errors_add(e, "the body is not a JSON object");
        return TT_INVALID;
    }

    inner = tt_json_get(root, "webhook");
    if (inner != NULL && root->n == 1 && inner->type == TT_JSON_OBJECT) {
        root = inner;
    }

    for (i = 0; i < root->n; i++) {
        tt_api_wh_member(c, &root->members[i], in, e);
    }

    if (!patch && !in->has_url) {
        tt_errors_add(e, "url is required");
    }

    if (!patch && !in->has_events) {
        tt_errors_add(e, "events is required (\"*\" for all)");
    }

    return e->n || e->failed ? TT_INVALID : TT_OK;
}


/*
 * A webhook is the workspace's: it receives every group's events, so a
 * profile-group scoped key sees none (an empty list, a 404 for an id, as
 * for anything not its own) and may not create one (a 403, as for a
 * group).  *done when answered.
 */
static int
tt_api_wh_admit(tt_api_ctx_t *c, tt_route_e route, int *done)
{
    tt_jw_t  w;

    *done = 0;

    if (c->scope == NULL) {
        return TT_OK;
    }

    *done = 1;

    if (route == TT_ROUTE_WEBHOOKS_CREATE) {
        return tt_api_answer(c, 403, "a profile-group scoped key cannot "
                             "create webhooks: they receive the events of "
                             "every group of the workspace");
    }

    if (route == TT_ROUTE_WEBHOOKS_LIST) {
        if (tt_api_data_begin(c, &w, 1) != TT_OK) {
            return TT_ERR;
        }

        return tt_api_data_end(c, &w, 1, 200);
    }

    return tt_api_reply(c, 404);
}


/* the path's webhook of this workspace; TT_NOTFOUND for a 404 */
static int
tt_api_wh_load(tt_api_ctx_t *c, tt_webhook_t *wh)
{
    int  rc;

    if (c->id[0] == '\0') {
        return TT_NOTFOUND;
    }

    rc = tt_webhook_get(c->t, c->id, c->a, wh);

    if (rc == TT_OK && strcmp(wh->workspace_id, c->ws) != 0) {
        return TT_NOTFOUND;
    }

    return rc;
}


static void
tt_api_wh_apply(tt_webhook_t *wh, const tt_api_wh_input_t *in)
{
    if (in->has_url) {
        wh->url = in->url;
    }

    if (in->has_events) {
        wh->events = in->events;
        wh->all = in->all;
    }

    if (in->has_enabled) {
        wh->enabled = in->enabled;
    }

    if (in->has_description) {
        wh->description = in->description;
    }
}


static int
tt_api_wh_answer(tt_api_ctx_t *c, int status, const tt_webhook_t *wh,
    const char *secret)
{
    tt_jw_t  w;

    if (tt_api_jw_begin(c, &w) != TT_OK) {
        return TT_ERR;
    }

    tt_api_wh_render(&w, wh, secret);

    return tt_api_jw_end(c, &w, status);
}


/* POST /api/webhooks */
static int
tt_api_wh_create(tt_api_ctx_t *c)
{
    int                 rc;
    char                secret[TT_WEBHOOK_SECRET_LEN + 1];
    size_t              n;
    tt_errors_t         e;
    tt_webhook_t        wh, *list;
    tt_api_wh_input_t   in;

    tt_errors_init(&e, c->a);

    if (tt_api_wh_parse(c, 0, &in, &e) != TT_OK) {
        return tt_api_answer_errors(c, &e);
    }

    rc = tt_webhook_list(c->t, c->ws, c->a, &list, &n);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (n >= TT_WEBHOOK_MAX) {
        tt_errors_add(&e, "the workspace has %d webhooks already, the most "
                      "it may have", TT_WEBHOOK_MAX);
        return tt_api_answer_errors(c, &e);
    }

    memset(&wh, 0, sizeof(tt_webhook_t));

    if (tt_id_new("wh_", wh.id) != TT_OK
        || tt_webhook_secret_new(secret) != TT_OK)
    {
        return TT_ERR;
    }

    memcpy(wh.workspace_id, c->ws, strnlen(c->ws, TT_ID_SIZE - 1));
    wh.created_at = c->req->now_ms;
    wh.updated_at = c->req->now_ms;
    wh.secret = secret;
    wh.enabled = 1;
    tt_api_wh_apply(&wh, &in);

    rc = tt_webhook_put(c->t, &wh);

    if (rc == TT_INVALID) {
        /* the module has no tiktok_token_key_file to seal it with */
        explicit_bzero(secret, sizeof(secret));
        return tt_api_answer(c, 503, "webhooks need tiktok_token_key_file "
                             "in nginx.conf: their secrets are sealed with "
                             "it");
    }

    if (rc != TT_OK) {
        explicit_bzero(secret, sizeof(secret));
        return tt_api_fail(rc);
    }

    rc = tt_api_wh_answer(c, 201, &wh, secret);
    explicit_bzero(secret, sizeof(secret));

    return rc;
}


/* PATCH /api/webhooks/:id */
static int
tt_api_wh_patch(tt_api_ctx_t *c)
{
    int                 rc;
    tt_errors_t         e;
    tt_webhook_t        wh;
    tt_api_wh_input_t   in;

    rc = tt_api_wh_load(c, &wh);
    if (rc == TT_NOTFOUND) {
        return tt_api_reply(c, 404);
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    tt_errors_init(&e, c->a);

    if (tt_api_wh_parse(c, 1, &in, &e) != TT_OK) {
        return tt_api_answer_errors(c, &e);
    }

    tt_api_wh_apply(&wh, &in);
    wh.updated_at = c->req->now_ms;

    rc = tt_webhook_put(c->t, &wh);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    return tt_api_wh_answer(c, 200, &wh, NULL);
}


/* POST /api/webhooks/:id/test: a webhook.test event to this one */
static void
tt_api_wh_test_data(tt_jw_t *w, const void *ctx)
{
    const tt_webhook_t  *wh = ctx;

    tt_jw_obj_open(w);
    tt_jw_key(w, "webhook_id");
    tt_jw_cstr(w, wh->id);
    tt_jw_key(w, "test");
    tt_jw_bool(w, 1);
    tt_jw_obj_close(w);
}


static int
tt_api_wh_test(tt_api_ctx_t *c)
{
    int           rc;
    char          evt[TT_ID_SIZE];
    tt_jw_t       w;
    tt_webhook_t  wh;

    rc = tt_api_wh_load(c, &wh);
    if (rc == TT_NOTFOUND) {
        return tt_api_reply(c, 404);
    }

    rc = rc == TT_OK ? tt_event_emit(c->t, c->ws, TT_EVT_TEST, wh.id,
                                     tt_api_wh_test_data, &wh,
                                     c->req->now_ms, evt)
                     : rc;
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    c->resp->wake = 1;

    if (tt_api_jw_begin(c, &w) != TT_OK) {
        return TT_ERR;
    }

    tt_jw_obj_open(&w);
    tt_jw_key(&w, "event_id");
    tt_jw_cstr(&w, evt);
    tt_jw_key(&w, "type");
    tt_jw_cstr(&w, tt_event_name(TT_EVT_TEST));
    tt_jw_obj_close(&w);

    return tt_api_jw_end(c, &w, 202);
}


/* paging of the deliveries: page, per_page */
static int
tt_api_wh_page(tt_api_ctx_t *c, const char *name, uint64_t def,
    uint64_t max, uint64_t *v)
{
    int       rc;
    size_t    i;
    tt_str_t  s;

    *v = def;

    rc = tt_api_arg(c, name, &s);
    if (rc != TT_OK) {
        return TT_OK;
    }

    if (s.len == 0 || s.len > 9) {
        return TT_INVALID;
    }

    *v = 0;

    for (i = 0; i < s.len; i++) {
        if (s.data[i] < '0' || s.data[i] > '9') {
            return TT_INVALID;
        }

        *v = *v * 10 + (uint64_t) (s.data[i] - '0');
    }

    return *v <= max && (max != TT_API_WH_PER_PAGE_MAX || *v > 0)
           ? TT_OK : TT_INVALID;
}


static void
tt_api_wh_attempt(tt_jw_t *w, const tt_attempt_t *at)
{
    tt_jw_obj_open(w);
    tt_jw_key(w, "id");
    tt_jw_cstr(w, at->delivery_id);
    tt_jw_key(w, "event_id");
    tt_jw_cstr(w, at->event_id);
    tt_jw_key(w, "event_type");
    tt_jw_cstr(w, tt_event_name(at->type));
    tt_jw_key(w, "response_status");
    if (at->response_status > 0) {
        tt_jw_int(w, at->response_status);
    } else {
        tt_jw_null(w);
    }
    tt_jw_key(w, "attempt_number");
    tt_jw_int(w, at->attempt_number);
    tt_jw_key(w, "success");
    tt_jw_bool(w, at->status == TT_ATTEMPT_DELIVERED);
    tt_jw_key(w, "status");
    tt_jw_cstr(w, tt_attempt_status_name(at->status));
    tt_jw_key(w, "attempted_at");
    tt_jw_time(w, at->attempted_at);
    tt_jw_key(w, "next_attempt_at");
    tt_jw_time(w, at->next_attempt_at);
    tt_jw_key(w, "duration_ms");
    tt_jw_int(w, at->duration_ms);
    tt_jw_key(w, "error");
    tt_jw_cstr(w, at->error);
    tt_jw_obj_close(w);
}


/* GET /api/webhooks/:id/deliveries: the attempts, newest first */
static int
tt_api_wh_deliveries(tt_api_ctx_t *c)
{
    int            rc;
    size_t         i, n;
    uint64_t       page, per_page, total;
    tt_jw_t        w;
    tt_webhook_t   wh;
    tt_attempt_t  *list;

    rc = tt_api_wh_load(c, &wh);
    if (rc == TT_NOTFOUND) {
        return tt_api_reply(c, 404);
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (tt_api_wh_page(c, "page", 0, 1000000, &page) != TT_OK
        || tt_api_wh_page(c, "per_page", TT_API_WH_PER_PAGE,
                          TT_API_WH_PER_PAGE_MAX, &per_page) != TT_OK)
    {
        return tt_api_answer(c, 400, "page is a number from 0 and per_page "
                             "one from 1 to %d", TT_API_WH_PER_PAGE_MAX);
    }

    rc = tt_attempt_list(c->t, wh.id, page * per_page, per_page, c->a, &list,
                         &n, &total);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (tt_api_jw_begin(c, &w) != TT_OK) {
        return TT_ERR;
    }

    tt_jw_obj_open(&w);
    tt_jw_key(&w, "total");
    tt_jw_int(&w, (int64_t) total);
    tt_jw_key(&w, "page");
    tt_jw_int(&w, (int64_t) page);
    tt_jw_key(&w, "per_page");
    tt_jw_int(&w, (int64_t) per_page);
    tt_jw_key(&w, "data");
    tt_jw_arr_open(&w);

    for (i = 0; i < n; i++) {
        tt_api_wh_attempt(&w, &list[i]);
    }

    tt_jw_arr_close(&w);
    tt_jw_obj_close(&w);

    return tt_api_jw_end(c, &w, 200);
}


/* the webhook object; secret only in the create answer (NULL: the
 * export's lines, tt_api_export.c) */
void
tt_api_wh_render(tt_jw_t *w, const tt_webhook_t *wh, const char *secret)
{
    size_t  i;

    tt_jw_obj_open(w);
    tt_jw_key(w, "id");
    tt_jw_cstr(w, wh->id);
    tt_jw_key(w, "url");
    tt_jw_cstr(w, wh->url);
    tt_jw_key(w, "events");
    tt_jw_arr_open(w);

    if (wh->all) {
        tt_jw_cstr(w, "*");
    }

    for (i = 0; !wh->all && i < TT_EVT_TEST; i++) {
        if (wh->events & (1u << i)) {
            tt_jw_cstr(w, tt_event_name((tt_event_e) i));
        }
    }

    tt_jw_arr_close(w);
    tt_jw_key(w, "enabled");
    tt_jw_bool(w, wh->enabled);
    tt_jw_key(w, "description");
    tt_jw_cstr(w, wh->description);
    tt_jw_key(w, "created_at");
    tt_jw_time(w, wh->created_at);
    tt_jw_key(w, "updated_at");
    tt_jw_time(w, wh->updated_at);

    if (secret != NULL) {
        tt_jw_key(w, "secret");
        tt_jw_cstr(w, secret);
    }

    tt_jw_obj_close(w);
}


int
tt_api_webhooks(tt_api_ctx_t *c, tt_route_e route)
{
    int            rc, done;
    size_t         i, n;
    tt_jw_t        w;
    tt_webhook_t   wh, *list;

    rc = tt_api_wh_admit(c, route, &done);
    if (rc != TT_OK || done) {
        return rc;
    }

    switch (route) {

    case TT_ROUTE_WEBHOOKS_CREATE:
        return tt_api_wh_create(c);

    case TT_ROUTE_WEBHOOK_PATCH:
        return tt_api_wh_patch(c);

    case TT_ROUTE_WEBHOOK_TEST:
        return tt_api_wh_test(c);

    case TT_ROUTE_WEBHOOK_DELIVERIES:
        return tt_api_wh_deliveries(c);

    case TT_ROUTE_WEBHOOKS_LIST:
        rc = tt_webhook_list(c->t, c->ws, c->a, &list, &n);
        if (rc != TT_OK || tt_api_data_begin(c, &w, 1) != TT_OK) {
            return rc != TT_OK ? tt_api_fail(rc) : TT_ERR;
        }

        for (i = 0; i < n; i++) {
            tt_api_wh_render(&w, &list[i], NULL);
        }

        return tt_api_data_end(c, &w, 1, 200);

    default:
        break;
    }

    rc = tt_api_wh_load(c, &wh);

    if (rc == TT_NOTFOUND) {
        return tt_api_reply(c, 404);
    }

    if (rc == TT_OK && route == TT_ROUTE_WEBHOOK_DELETE) {
        rc = tt_webhook_del(c->t, wh.id);
        if (rc == TT_OK) {
            tt_buf_reset(&c->resp->body);
            tt_buf_append_str(&c->resp->body, "{\"deleted\":true}");
            c->resp->status = 200;
            return tt_buf_ok(&c->resp->body) ? TT_OK : TT_ERR;
        }
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    return tt_api_wh_answer(c, 200, &wh, NULL);
}
