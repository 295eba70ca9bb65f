/*
 * Copyright (C) the ngx_tiktok authors.
 * GET /api/export: the workspace as NDJSON, one object a line, family by
 * family, produced a slice at a time from one read transaction so that
 * memory stays constant however large the store (the nginx side streams
 * the slices: ngx_http_tiktok_export.c).
 *
 *   {"type":"export","workspace_id":"ws_…","exported_at":"…","schema":4}
 *   {"type":"profile_group","data":{…}}
 *   {"type":"profile","data":{…}}          never a token
 *   {"type":"post_queue","data":{…}}       as GET /api/post_queues/:id
 *   {"type":"webhook","data":{…}}          never its secret
 *   {"type":"post","data":{…}}             as GET /api/posts/:id
 *   {"type":"end","lines":N}
 *
 * A family is one entry of tt_export_families: the database walked, the
 * key prefix that selects the workspace (or none: every record, checked
 * by the visitor) and a visitor that writes a record's line.
 */


#include <stdlib.h>

#include "tt_api_int.h"
#include "tt_webhook.h"


#define TT_EXPORT_SLICE_KEYS   256      /* entries looked at per slice */


struct tt_export_s {
    char            ws[TT_ID_SIZE];
    char            pg[TT_ID_SIZE];     /* "" every group */
    size_t          family;             /* 0: the header line */
    uint8_t         pos[TT_STORE_POS_MAX];
    size_t          pos_len;
    uint64_t        lines;
    int64_t         now;
    size_t          max_bytes;
    tt_buf_t       *out;
    tt_txn_t       *t;
    tt_arena_t     *a;                  /* one slice's decoding */
    unsigned        ended:1;
};


typedef struct {
    const char     *type;
    int             db;
    unsigned        ws_prefix:1;        /* keys start with the ws id */
    int           (*visit)(tt_export_t *x, const void *key, size_t klen,
                           const void *val, size_t vlen);
} tt_export_family_t;


static int tt_export_group(tt_export_t *x, const void *key, size_t klen,
    const void *val, size_t vlen);
static int tt_export_profile(tt_export_t *x, const void *key, size_t klen,
    const void *val, size_t vlen);
static int tt_export_queue(tt_export_t *x, const void *key, size_t klen,
    const void *val, size_t vlen);
static int tt_export_webhook(tt_export_t *x, const void *key, size_t klen,
    const void *val, size_t vlen);
static int tt_export_post(tt_export_t *x, const void *key, size_t klen,
    const void *val, size_t vlen);


/*
 * The families, in the order they are written.  Queues and posts are
 * found in their own families, by each record's workspace (the indexes
 * there are by group, or by group and order).  A new family is one
 * entry here and its visitor.
 */
static const tt_export_family_t  tt_export_families[] = {
    { "profile_group", TT_DB_WS_GROUPS, 1, tt_export_group },
    { "profile", TT_DB_WS_PROFILES, 1, tt_export_profile },
    { "post_queue", TT_DB_QUEUES, 0, tt_export_queue },
    { "webhook", TT_DB_WS_WEBHOOKS, 1, tt_export_webhook },
    { "post", TT_DB_POSTS, 0, tt_export_post }
};


/* GET /api/export: checks done (tt_api_admit); the module streams */
int
tt_api_export_open(tt_api_ctx_t *c)
{
    const char  *group;

    /* a key of one group exports that group; a full key every group, or
     * the one ?profile_group_id names (checked visible by then) */
    group = c->pg ? c->pg : c->scope;

    memset(c->resp->export_ws, 0, TT_ID_SIZE);
    memset(c->resp->export_pg, 0, TT_ID_SIZE);
    memcpy(c->resp->export_ws, c->ws, strnlen(c->ws, TT_ID_SIZE - 1));

    if (group != NULL) {
        memcpy(c->resp->export_pg, group, strnlen(group, TT_ID_SIZE - 1));
    }

    c->resp->status = 200;
    c->resp->stream = 1;

    return TT_OK;
}


tt_export_t *
tt_export_create(const char *ws, const char *pg, int64_t now)
{
    tt_export_t  *x;

    x = calloc(1, sizeof(tt_export_t));
    if (x == NULL) {
        return NULL;
    }

    memcpy(x->ws, ws, strnlen(ws, TT_ID_SIZE - 1));
    memcpy(x->pg, pg, strnlen(pg, TT_ID_SIZE - 1));
    x->now = now;

    return x;
}


void
tt_export_free(tt_export_t *x)
{
    free(x);
}


static void
tt_export_line_open(tt_export_t *x, tt_jw_t *w, const char *type)
{
    tt_jw_init(w, x->out);
    tt_jw_obj_open(w);
    tt_jw_key(w, "type");
    tt_jw_cstr(w, type);
}


static int
tt_export_line_close(tt_export_t *x, tt_jw_t *w)
{
    tt_jw_obj_close(w);

    if (tt_jw_finish(w) != TT_OK
        || tt_buf_append(x->out, "\n", 1) != TT_OK)
    {
        return TT_NOMEM;
    }

    x->lines++;

    return TT_OK;
}


/* a visitor's end: 1 stops the slice when it holds enough */
static int
tt_export_visited(tt_export_t *x, int rc)
{
    if (rc != TT_OK && rc != TT_NOTFOUND) {
        return -1;
    }

    return x->out->len >= x->max_bytes ? 1 : 0;
}


static int
tt_export_visit(void *ctx, const void *key, size_t klen, const void *val,
    size_t vlen)
{
    tt_export_t  *x = ctx;

    return tt_export_visited(x, tt_export_families[x->family - 1].visit(
                                    x, key, klen, val, vlen));
}


static int
tt_export_group(tt_export_t *x, const void *key, size_t klen,
    const void *val, size_t vlen)
{
    int          rc;
    char         id[TT_ID_SIZE];
    tt_jw_t      w;
    tt_group_t   g;

    if (klen != 2 * TT_ID_SIZE + 8) {
        return TT_NOTFOUND;
    }

    memcpy(id, (const uint8_t *) key + TT_ID_SIZE + 8, TT_ID_SIZE);
    id[TT_ID_SIZE - 1] = '\0';

    if (x->pg[0] && strcmp(id, x->pg) != 0) {
        return TT_NOTFOUND;
    }

    rc = tt_group_get(x->t, id, x->a, &g);
    if (rc != TT_OK) {
        return rc;
    }

    tt_export_line_open(x, &w, "profile_group");
    tt_jw_key(&w, "data");
    tt_jw_obj_open(&w);
    tt_jw_key(&w, "id");
    tt_jw_cstr(&w, g.id);
    tt_jw_key(&w, "name");
    tt_jw_cstr(&w, g.name);
    tt_jw_key(&w, "created_at");
    tt_jw_time(&w, g.created_at);
    tt_jw_obj_close(&w);

    return tt_export_line_close(x, &w);
}


/* what GET /api/profiles answers: never a token */
static int
tt_export_profile(tt_export_t *x, const void *key, size_t klen,
    const void *val, size_t vlen)
{
    int           rc;
    char          id[TT_ID_SIZE];
    tt_jw_t       w;
    tt_profile_t  p;

    if (klen != 2 * TT_ID_SIZE) {
        return TT_NOTFOUND;
    }

    memcpy(id, (const uint8_t *) key + TT_ID_SIZE, TT_ID_SIZE);
    id[TT_ID_SIZE - 1] = '\0';

    rc = tt_profile_get(x->t, id, x->a, &p);
    if (rc != TT_OK || (x->pg[0] && strcmp(p.profile_group_id, x->pg) != 0))
    {
        return rc == TT_OK ? TT_NOTFOUND : rc;
    }

    tt_export_line_open(x, &w, "profile");
    tt_jw_key(&w, "data");
    tt_jw_obj_open(&w);
    tt_jw_key(&w, "id");
    tt_jw_cstr(&w, p.id);
    tt_jw_key(&w, "platform");
    tt_jw_cstr(&w, p.platform);
    tt_jw_key(&w, "name");
    tt_jw_cstr(&w, p.name);
    tt_jw_key(&w, "username");
    tt_jw_cstr(&w, p.username);
    tt_jw_key(&w, "status");
    tt_jw_cstr(&w, tt_profile_status_name(p.status));
    tt_jw_key(&w, "profile_group_id");
    tt_jw_cstr(&w, p.profile_group_id);
    tt_jw_key(&w, "expires_at");
    tt_jw_time(&w, p.expires_at);
    tt_jw_obj_close(&w);

    return tt_export_line_close(x, &w);
}


/* as GET /api/post_queues/:id answers it */
static int
tt_export_queue(tt_export_t *x, const void *key, size_t klen,
    const void *val, size_t vlen)
{
    int            rc;
    char           id[TT_ID_SIZE];
    tt_jw_t        w;
    tt_queue_t     q;
    tt_api_ctx_t   c;

    if (klen != TT_ID_SIZE) {
        return TT_NOTFOUND;
    }

    memcpy(id, key, TT_ID_SIZE);
    id[TT_ID_SIZE - 1] = '\0';

    rc = tt_queue_get(x->t, id, x->a, &q);
    if (rc != TT_OK || strcmp(q.workspace_id, x->ws) != 0
        || (x->pg[0] && strcmp(q.profile_group_id, x->pg) != 0))
    {
        return rc == TT_OK ? TT_NOTFOUND : rc;
    }

    memset(&c, 0, sizeof(c));
    c.t = x->t;
    c.a = x->a;

    tt_export_line_open(x, &w, "post_queue");
    tt_jw_key(&w, "data");

    rc = tt_api_queue_render(&c, &w, &q);
    if (rc != TT_OK) {
        tt_jw_finish(&w);
        return rc;
    }

    return tt_export_line_close(x, &w);
}


/* as GET /api/webhooks/:id answers it: never the secret; the
 * workspace's, so not for a key of one group */
static int
tt_export_webhook(tt_export_t *x, const void *key, size_t klen,
    const void *val, size_t vlen)
{
    int           rc;
    char          id[TT_ID_SIZE];
    tt_jw_t       w;
    tt_webhook_t  wh;

    if (klen != 2 * TT_ID_SIZE + 8 || x->pg[0]) {
        return TT_NOTFOUND;
    }

    memcpy(id, (const uint8_t *) key + TT_ID_SIZE + 8, TT_ID_SIZE);
    id[TT_ID_SIZE - 1] = '\0';

    rc = tt_webhook_get(x->t, id, x->a, &wh);
    if (rc != TT_OK) {
        return rc;
    }

    tt_export_line_open(x, &w, "webhook");
    tt_jw_key(&w, "data");
    tt_api_wh_render(&w, &wh, NULL);

    return tt_export_line_close(x, &w);
}


/* the stored API representation, as bytes: the record's header says
 * whose it is */
static int
tt_export_post(tt_export_t *x, const void *key, size_t klen,
    const void *val, size_t vlen)
{
    tt_post_peek_t  peek;

    if (tt_post_peek(val, vlen, &peek) != TT_OK
        || strncmp(peek.workspace_id, x->ws, TT_ID_SIZE) != 0
        || (x->pg[0] && strcmp(peek.profile_group_id, x->pg) != 0))
    {
        return TT_NOTFOUND;
    }

    if (tt_buf_append_str(x->out, "{\"type\":\"post\",\"data\":") != TT_OK
        || tt_buf_append(x->out, peek.api.data, peek.api.len) != TT_OK
        || tt_buf_append(x->out, "}\n", 2) != TT_OK)
    {
        return TT_NOMEM;
    }

    x->lines++;

    return TT_OK;
}


static int
tt_export_header(tt_export_t *x)
{
    tt_jw_t  w;

    tt_export_line_open(x, &w, "export");
    tt_jw_key(&w, "workspace_id");
    tt_jw_cstr(&w, x->ws);
    tt_jw_key(&w, "profile_group_id");
    tt_jw_cstr(&w, x->pg[0] ? x->pg : NULL);
    tt_jw_key(&w, "exported_at");
    tt_jw_time(&w, x->now);
    tt_jw_key(&w, "schema");
    tt_jw_int(&w, TT_SCHEMA_VERSION);

    return tt_export_line_close(x, &w);
}


static int
tt_export_footer(tt_export_t *x)
{
    tt_jw_t   w;
    uint64_t  lines;

    lines = x->lines;

    tt_export_line_open(x, &w, "end");
    tt_jw_key(&w, "lines");
    tt_jw_int(&w, (int64_t) lines);

    return tt_export_line_close(x, &w);
}


/*
 * The next slice, appended to out: about max_bytes at most (a line is
 * never cut), from at most a few hundred entries.  TT_OK: more follows;
 * TT_NOTFOUND: this was the last slice; else a failure.
 */
int
tt_export_next(tt_export_t *x, tt_txn_t *t, tt_buf_t *out, size_t max_bytes)
{
    int                        rc;
    uint8_t                    prefix[TT_ID_SIZE];
    const tt_export_family_t  *f;

    if (x->ended) {
        return TT_NOTFOUND;
    }

    x->t = t;
    x->out = out;
    x->max_bytes = max_bytes;

    if (x->family == 0) {
        x->family = 1;
        x->pos_len = 0;
        return tt_export_header(x);
    }

    if (x->family > TT_ARRAY_SIZE(tt_export_families)) {
        x->ended = 1;
        rc = tt_export_footer(x);
        return rc == TT_OK ? TT_NOTFOUND : rc;
    }

    f = &tt_export_families[x->family - 1];

    memset(prefix, 0, sizeof(prefix));
    memcpy(prefix, x->ws, strnlen(x->ws, TT_ID_SIZE - 1));

    x->a = tt_arena_create(4096);
    if (x->a == NULL) {
        return TT_NOMEM;
    }

    rc = tt_store_walk(t, f->db, prefix, f->ws_prefix ? TT_ID_SIZE : 0,
                       x->pos, &x->pos_len, TT_EXPORT_SLICE_KEYS,
                       tt_export_visit, x);

    tt_arena_destroy(x->a);
    x->a = NULL;

    if (rc == TT_NOTFOUND) {
        x->family++;
        x->pos_len = 0;
        return TT_OK;
    }

    return rc;
}
