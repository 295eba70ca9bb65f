/*
 * Copyright (C) the ngx_tiktok authors.
 * Operations: GET /api/health (can the store be written, is the
 * scheduler making progress) and the metrics in Prometheus's text
 * format (tiktok_metrics), both read from the store in one transaction.
 */


#include <stdio.h>

#include "tt_api_int.h"


#define TT_API_HEARTBEAT_MS  30000      /* the scheduler is alive if newer */


/*
 * The metric families shown, in order.  A counter the scheduler (or any
 * part) adds with tt_metric_add() under a name listed here gets its HELP
 * and TYPE; a name not listed is still shown, as untyped.  The webhooks'
 * deliveries are counted by their sender under the name given here.
 */
typedef struct {
    const char     *name;
    const char     *type;
    const char     *help;
} tt_metric_def_t;

static const tt_metric_def_t  tt_metric_defs[] = {
    { "tiktok_publishes_total", "counter",
      "Posts TikTok published (one per platform entry)." },
    { "tiktok_publish_failures_total", "counter",
      "Failed publish attempts by TikTok error code; final=\"false\": "
      "retried later." },
    { "tiktok_upload_bytes_total", "counter",
      "Video bytes TikTok acknowledged, chunk by chunk." },
    { "tiktok_dispatch_lag_seconds", "histogram",
      "From a post's due time to its first TikTok call." },
    { "tiktok_token_refreshes_total", "counter",
      "Access token refreshes by result." },
    { "tiktok_webhook_deliveries_total", "counter",
      "Webhook delivery attempts by result." },
    { "tiktok_stats_queries_total", "counter",
      "TikTok video/query calls for posts' counts, by result." }
};


static int tt_api_heartbeat(tt_txn_t *t, int64_t *seen);
static void tt_api_health_store(tt_jw_t *w, int writable,
    const tt_store_usage_t *u);
static void tt_api_health_scheduler(tt_jw_t *w, int alive, int64_t seen,
    uint64_t due, int64_t due_at);


/* "store": whether it can be written, and its map */
static void
tt_api_health_store(tt_jw_t *w, int writable, const tt_store_usage_t *u)
{
    tt_jw_key(w, "store");
    tt_jw_obj_open(w);
    tt_jw_key(w, "writable");
    tt_jw_bool(w, writable);
    tt_jw_key(w, "map_size");
    tt_jw_int(w, (int64_t) u->map_size);
    tt_jw_key(w, "map_max");
    tt_jw_int(w, (int64_t) u->map_max);
    tt_jw_key(w, "used");
    tt_jw_int(w, (int64_t) u->used);
    tt_jw_obj_close(w);
}


/* "scheduler": its heartbeat and its agenda */
static void
tt_api_health_scheduler(tt_jw_t *w, int alive, int64_t seen, uint64_t due,
    int64_t due_at)
{
    tt_jw_key(w, "scheduler");
    tt_jw_obj_open(w);
    tt_jw_key(w, "alive");
    tt_jw_bool(w, alive);
    tt_jw_key(w, "last_seen");
    tt_jw_time(w, seen);
    tt_jw_key(w, "due");
    tt_jw_int(w, (int64_t) due);
    tt_jw_key(w, "next_due_at");
    tt_jw_time(w, due_at);
    tt_jw_obj_close(w);
}


/* GET /api/health: 200 when all is well, else 503 saying what is not */
int
tt_api_health(tt_api_ctx_t *c)
{
    int               rc, alive;
    int64_t           seen, due_at;
    uint64_t          due;
    tt_jw_t           w;
    const char       *unwritable;
    tt_store_usage_t  u;
    char              due_id[TT_ID_SIZE];

    rc = tt_api_heartbeat(c->t, &seen);

    if (rc == TT_OK) {
        rc = tt_store_entries(c->t, TT_DB_DUE, &due);
    }

    if (rc == TT_OK) {
        rc = tt_due_first(c->t, &due_at, due_id);
        due_at = (rc == TT_OK) ? due_at : -1;
        rc = (rc == TT_NOTFOUND) ? TT_OK : rc;
    }

    if (rc == TT_OK) {
        rc = tt_store_usage(c->t->st, &u);
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    /* the adapter's write, else whether the map has room */
    unwritable = c->req->unwritable;
    if (unwritable == NULL) {
        unwritable = tt_store_unwritable(c->t->st, &u);
    }
    alive = seen >= 0 && c->req->now_ms - seen < TT_API_HEARTBEAT_MS;

    if (tt_api_jw_begin(c, &w) != TT_OK) {
        return TT_ERR;
    }

    tt_jw_obj_open(&w);
    tt_jw_key(&w, "status");
    tt_jw_cstr(&w, (unwritable == NULL && alive) ? "ok" : "unavailable");
    tt_jw_key(&w, "problems");
    tt_jw_arr_open(&w);

    if (unwritable != NULL) {
        tt_jw_cstr(&w, unwritable);
    }

    if (!alive) {
        tt_jw_cstr(&w, seen < 0 ? "the scheduler has never run on this "
                                  "store"
                                : "the scheduler made no progress in the "
                                  "last 30 s");
    }

    tt_jw_arr_close(&w);

    tt_api_health_store(&w, unwritable == NULL, &u);
    tt_api_health_scheduler(&w, alive, seen, due, due_at);
    tt_jw_obj_close(&w);

    return tt_api_jw_end(c, &w, (unwritable == NULL && alive) ? 200 : 503);
}


/*
 * GET /api/health's probe, in a write transaction of the adapter's: the
 * time in meta's "health_probe".  The store counts as writable when this
 * commits (a full map grows first, as for any write).
 */
int
tt_api_health_probe(tt_api_ctx_t *c)
{
    int      rc, i;
    uint8_t  be[8];

    for (i = 0; i < 8; i++) {
        be[i] = (uint8_t) ((uint64_t) c->req->now_ms >> (56 - 8 * i));
    }

    rc = tt_meta_put(c->t, "health_probe", be, sizeof(be));
    if (rc != TT_OK) {
        return rc;
    }

    c->resp->status = 200;

    return TT_OK;
}


/*
 * The scheduler's heartbeat, 8 bytes of big-endian ms in meta, written
 * by its loop every 5 s (sched_main.c): its time says when the loop last
 * went round.  -1 none.
 */
static int
tt_api_heartbeat(tt_txn_t *t, int64_t *seen)
{
    int       rc, i;
    tt_str_t  v;

    *seen = -1;

    rc = tt_meta_get(t, "scheduler_heartbeat", &v);

    if (rc == TT_OK && v.len == 8) {
        *seen = 0;

        for (i = 0; i < 8; i++) {
            *seen = (int64_t) (((uint64_t) *seen << 8)
                               | (unsigned char) v.data[i]);
        }

    } else if (rc != TT_OK && rc != TT_NOTFOUND) {
        return rc;
    }

    return TT_OK;
}


/* the metrics */

typedef struct {
    tt_buf_t       *out;
    const char     *family;         /* the table's, NULL: untyped ones */
    unsigned        headed:1;
} tt_metrics_ctx_t;


static int
tt_metrics_known(const char *name)
{
    size_t  i, n;

    for (i = 0; i < TT_ARRAY_SIZE(tt_metric_defs); i++) {
        n = strlen(tt_metric_defs[i].name);

        if (strncmp(name, tt_metric_defs[i].name, n) == 0
            && (name[n] == '\0' || strcmp(name + n, "_bucket") == 0
                || strcmp(name + n, "_sum") == 0
                || strcmp(name + n, "_count") == 0))
        {
            return 1;
        }
    }

    return 0;
}


static int
tt_metrics_sample(void *data, const tt_metric_t *m)
{
    tt_metrics_ctx_t *ctx = data;

    int64_t   div;
    unsigned  i;

    if (ctx->family == NULL) {
        if (tt_metrics_known(m->name)) {
            return 0;
        }

        tt_buf_printf(ctx->out, "# TYPE %s untyped\n", m->name);
    }

    tt_buf_printf(ctx->out, "%s%s%s%s ", m->name, m->labels[0] ? "{" : "",
                  m->labels, m->labels[0] ? "}" : "");

    if (m->scale == 0 || m->scale > 9) {
        tt_buf_printf(ctx->out, "%lld\n", (long long) m->value);
        return 0;
    }

    for (div = 1, i = 0; i < m->scale; i++) {
        div *= 10;
    }

    tt_buf_printf(ctx->out, "%s%lld.%0*lld\n", m->value < 0 ? "-" : "",
                  (long long) (m->value < 0 ? -m->value : m->value) / div,
                  (int) m->scale,
                  (long long) (m->value < 0 ? -m->value : m->value) % div);

    return 0;
}


/* posts by status, per workspace, from the lists' counts */
static int
tt_metrics_posts(tt_txn_t *t, tt_arena_t *a, tt_buf_t *out)
{
    int               rc;
    size_t            i, n, k;
    uint64_t          total;
    tt_workspace_t   *ws;
    tt_post_query_t   q;

    static const struct {
        tt_list_class_e   cls;
        const char       *name;
    } classes[] = {
        { TT_LIST_ANY, "all" }, { TT_LIST_DRAFT, "draft" },
        { TT_LIST_SCHEDULED, "scheduled" },
        { TT_LIST_PUBLISHED, "published" }, { TT_LIST_FAILED, "failed" }
    };

    rc = tt_ws_list(t, a, &ws, &n);
    if (rc != TT_OK) {
        return rc;
    }

    tt_buf_printf(out, "# HELP tiktok_posts Posts by the status filter of "
                  "GET /api/posts (a post may be in two).\n"
                  "# TYPE tiktok_posts gauge\n");

    for (i = 0; i < n; i++) {
        for (k = 0; k < TT_ARRAY_SIZE(classes); k++) {
            memset(&q, 0, sizeof(q));
            q.ws_id = ws[i].id;
            q.cls = classes[k].cls;
            q.after = -1;
            q.before = -1;

            rc = tt_post_list(t, &q, &total, NULL, NULL);
            if (rc != TT_OK) {
                return rc;
            }

            tt_buf_printf(out, "tiktok_posts{workspace=\"%s\",status=\"%s\"}"
                          " %llu\n", ws[i].id, classes[k].name,
                          (unsigned long long) total);
        }
    }

    return TT_OK;
}


static int
tt_metrics_store(tt_txn_t *t, int64_t now, tt_buf_t *out)
{
    int               rc;
    int64_t           seen;
    uint64_t          due;
    tt_store_usage_t  u;

    rc = tt_store_usage(t->st, &u);

    if (rc == TT_OK) {
        rc = tt_store_entries(t, TT_DB_DUE, &due);
    }

    if (rc == TT_OK) {
        rc = tt_api_heartbeat(t, &seen);
    }

    if (rc != TT_OK) {
        return rc;
    }

    tt_buf_printf(out,
        "# HELP tiktok_store_map_bytes The store's map now.\n"
        "# TYPE tiktok_store_map_bytes gauge\n"
        "tiktok_store_map_bytes %zu\n"
        "# HELP tiktok_store_map_max_bytes Where the map stops growing "
        "(tiktok_store_map_size).\n"
        "# TYPE tiktok_store_map_max_bytes gauge\n"
        "tiktok_store_map_max_bytes %zu\n"
        "# HELP tiktok_store_used_bytes The store's pages in use.\n"
        "# TYPE tiktok_store_used_bytes gauge\n"
        "tiktok_store_used_bytes %zu\n"
        "# HELP tiktok_store_readers Reader slots: used so far, and the "
        "most.\n"
        "# TYPE tiktok_store_readers gauge\n"
        "tiktok_store_readers{slots=\"used\"} %u\n"
        "tiktok_store_readers{slots=\"max\"} %u\n"
        "# HELP tiktok_agenda_due Entries of the scheduler's agenda.\n"
        "# TYPE tiktok_agenda_due gauge\n"
        "tiktok_agenda_due %llu\n"
        "# HELP tiktok_scheduler_heartbeat_age_seconds Since the "
        "scheduler's loop last went round (-1: never).\n"
        "# TYPE tiktok_scheduler_heartbeat_age_seconds gauge\n"
        "tiktok_scheduler_heartbeat_age_seconds %lld\n",
        u.map_size, u.map_max, u.used, u.readers_used, u.readers_max,
        (unsigned long long) due,
        (long long) (seen < 0 ? -1 : (now - seen) / 1000));

    return TT_OK;
}


int
tt_metrics_render(tt_txn_t *t, int64_t now, tt_arena_t *a, tt_buf_t *out)
{
    int               rc;
    size_t            i;
    tt_metrics_ctx_t  ctx;

    rc = tt_metrics_posts(t, a, out);

    if (rc == TT_OK) {
        rc = tt_metrics_store(t, now, out);
    }

    ctx.out = out;

    for (i = 0; rc == TT_OK && i < TT_ARRAY_SIZE(tt_metric_defs); i++) {
        ctx.family = tt_metric_defs[i].name;
        tt_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", ctx.family,
                      tt_metric_defs[i].help, ctx.family,
                      tt_metric_defs[i].type);
        rc = tt_metric_iter(t, ctx.family, tt_metrics_sample, &ctx);
    }

    ctx.family = NULL;

    if (rc == TT_OK) {
        rc = tt_metric_iter(t, NULL, tt_metrics_sample, &ctx);
    }

    if (rc == TT_OK && !tt_buf_ok(out)) {
        rc = TT_NOMEM;
    }

    return rc;
}
