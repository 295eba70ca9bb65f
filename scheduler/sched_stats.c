/*
 * Copyright (C) the ngx_tiktok authors.
 * Analytics: the TikTok counts of published posts (views, likes,
 * comments, shares), read with the Display API's video/query and
 * recorded as a series per post in the store (tt_store_stats.c), which
 * GET /api/posts/stats answers.
 *
 * A post enters the agenda (stats_due) when TikTok gives its post id, and
 * is asked about at once, then every tiktok_stats_interval (an hour)
 * while it is a day old, daily for a month, weekly after
 * (tt_stats_next()).  Each round takes the due entries, groups them by
 * profile (a call asks with that profile's token for up to 20 videos,
 * TikTok's most), with the entries of the same profiles due within the
 * next interval, so that a creator's posts come to share calls rather
 * than each costing its own; and leases them: their entries move
 * SCHED_STATS_LEASE ahead in the same transaction, so an answer lost (or
 * a crash) only delays them.  An answer records the counts and moves
 * each entry to its next time.  Calls are at most SCHED_STATS_CALLS at
 * once and SCHED_STATS_PER_MIN a minute per token, under TikTok's 600;
 * publishing never waits for them (their own slots, their own
 * transfers).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_job.h"
#include "sched_tiktok.h"


#define SCHED_STATS_CALLS     4
#define SCHED_STATS_IDS       20
#define SCHED_STATS_DUE       64                /* entries a round reads */
#define SCHED_STATS_PER_MIN   500
#define SCHED_STATS_LEASE     (10 * 60 * 1000LL)
#define SCHED_STATS_IDLE      (60 * 1000LL)     /* look again at least */
#define SCHED_STATS_FIELDS    "id,view_count,like_count,comment_count," \
                              "share_count"


typedef struct {
    char                    post_id[TT_ID_SIZE];
    char                    video_id[24];
    int64_t                 lease_at;
    int64_t                 published_at;
} sched_stats_item_t;

typedef struct sched_stats_call_s  sched_stats_call_t;

struct sched_stats_call_s {
    sched_stats_call_t     *next;
    char                    prof_id[TT_ID_SIZE];
    size_t                  n;
    sched_stats_item_t      items[SCHED_STATS_IDS];
};

/* a token's calls in the current minute */
typedef struct sched_stats_rate_s  sched_stats_rate_t;

struct sched_stats_rate_s {
    sched_stats_rate_t     *next;
    char                    prof_id[TT_ID_SIZE];
    int64_t                 start;          /* mono ms */
    unsigned                n;
};

static struct {
    sched_stats_call_t     *calls;          /* in flight */
    size_t                  ncalls;
    sched_stats_rate_t     *rates;
    int64_t                 next_run;       /* wall ms */
} sched_stats;


static int sched_stats_round(sched_t *s, tt_txn_t *t, int64_t wall,
    sched_stats_call_t **out, size_t *nout);
static void sched_stats_send(sched_t *s, tt_txn_t *t,
    sched_stats_call_t *call);
static void sched_stats_done(sched_t *s, sched_http_t *h);


/* TikTok gave a post id: the post's counts are asked for from now on */
void
sched_stats_track(sched_t *s, const char *post_id, int64_t published_at)
{
    tt_txn_t  *t;

    t = sched_txn(s);

    if (t == NULL
        || tt_stats_due_put(t, published_at, post_id, published_at)
           != TT_OK)
    {
        sched_log(SCHED_LOG_WARN, "post %s: its counts cannot be "
                  "scheduled", post_id);
        return;
    }

    sched_stats.next_run = 0;
}


static sched_stats_rate_t *
sched_stats_rate(const char *prof_id, int64_t now)
{
    sched_stats_rate_t  *r;

    for (r = sched_stats.rates; r; r = r->next) {
        if (strcmp(r->prof_id, prof_id) == 0) {
            break;
        }
    }

    if (r == NULL) {
        r = calloc(1, sizeof(sched_stats_rate_t));
        if (r == NULL) {
            return NULL;
        }

        memcpy(r->prof_id, prof_id, TT_ID_SIZE);
        r->start = now;
        r->next = sched_stats.rates;
        sched_stats.rates = r;
    }

    if (now - r->start >= 60000) {
        r->start = now;
        r->n = 0;
    }

    return r;
}


static void
sched_stats_run(sched_t *s, int64_t now, void *data)
{
    size_t               i, n;
    int64_t              wall;
    tt_txn_t            *t;
    sched_stats_call_t  *calls[SCHED_STATS_CALLS];

    wall = tt_now_ms();

    if (wall < sched_stats.next_run
        || sched_stats.ncalls >= SCHED_STATS_CALLS)
    {
        return;
    }

    sched_stats.next_run = wall + SCHED_STATS_IDLE;

    t = sched_txn(s);
    if (t == NULL) {
        return;
    }

    if (sched_stats_round(s, t, wall, calls, &n) != SCHED_OK) {
        return;
    }

    for (i = 0; i < n; i++) {
        sched_stats_send(s, t, calls[i]);
    }
}


static int64_t
sched_stats_next(sched_t *s, void *data)
{
    int64_t  wall;

    if (sched_stats.ncalls >= SCHED_STATS_CALLS) {
        return -1;                  /* a call's end runs a round */
    }

    wall = tt_now_ms();

    return tt_mono_ms() + (sched_stats.next_run > wall
                           ? sched_stats.next_run - wall : 0);
}


/* the call of this profile in the round, a new one, or NULL: all taken */
static sched_stats_call_t *
sched_stats_call_for(const char *prof_id, sched_stats_call_t **calls,
    size_t *n, size_t max)
{
    size_t               i;
    sched_stats_call_t  *c;

    for (i = 0; i < *n; i++) {
        if (strcmp(calls[i]->prof_id, prof_id) == 0) {
            return calls[i]->n < SCHED_STATS_IDS ? calls[i] : NULL;
        }
    }

    if (*n == max) {
        return NULL;
    }

    c = calloc(1, sizeof(sched_stats_call_t));
    if (c == NULL) {
        return NULL;
    }

    memcpy(c->prof_id, prof_id, TT_ID_SIZE);
    calls[(*n)++] = c;

    return c;
}


/* the published platform of a post with TikTok's id, or NULL */
static const tt_platform_t *
sched_stats_platform(const tt_post_t *p)
{
    size_t  i;

    for (i = 0; i < p->nplatforms; i++) {
        if (p->platforms[i].status == TT_PLAT_PUBLISHED
            && p->platforms[i].platform_id > 0)
        {
            return &p->platforms[i];
        }
    }

    return NULL;
}


/*
 * One item of the round: the entry leased (moved ahead), or dropped when
 * its post is gone or has no TikTok id; 0 when the round has no room
 * left for its profile.
 */
static int
sched_stats_take(sched_t *s, tt_txn_t *t, tt_arena_t *a,
    const tt_stats_due_t *d, int64_t wall, sched_stats_call_t **calls,
    size_t *n)
{
    int                   rc;
    tt_post_t             p;
    sched_stats_call_t   *c;
    sched_stats_rate_t   *r;
    sched_stats_item_t   *it;
    const tt_platform_t  *pl;

    rc = tt_post_get(t, d->post_id, a, &p);
    pl = (rc == TT_OK) ? sched_stats_platform(&p) : NULL;

    if (pl == NULL) {
        /* deleted, or no longer published: nothing to ask */
        return tt_stats_due_del(t, d->at, d->post_id) == TT_OK ? 1 : 0;
    }

    r = sched_stats_rate(pl->profile_id, tt_mono_ms());
    if (r == NULL || r->n >= SCHED_STATS_PER_MIN) {
        return 0;
    }

    c = sched_stats_call_for(pl->profile_id, calls, n,
                             SCHED_STATS_CALLS - sched_stats.ncalls);
    if (c == NULL) {
        return 0;
    }

    it = &c->items[c->n];
    memcpy(it->post_id, d->post_id, TT_ID_SIZE);
    snprintf(it->video_id, sizeof(it->video_id), "%lld",
             (long long) pl->platform_id);
    it->published_at = d->published_at;
    it->lease_at = wall + SCHED_STATS_LEASE;

    if (tt_stats_due_del(t, d->at, d->post_id) != TT_OK
        || tt_stats_due_put(t, it->lease_at, d->post_id, d->published_at)
           != TT_OK)
    {
        return 0;
    }

    c->n++;

    return 1;
}


/* is d's post one of c's profile (so it may join c early)? */
static int
sched_stats_has(sched_t *s, tt_txn_t *t, tt_arena_t *a,
    const sched_stats_call_t *c, const tt_stats_due_t *d)
{
    tt_post_t             p;
    const tt_platform_t  *pl;

    if (c->n >= SCHED_STATS_IDS
        || tt_post_get(t, d->post_id, a, &p) != TT_OK)
    {
        return 0;
    }

    pl = sched_stats_platform(&p);

    return pl != NULL && strcmp(pl->profile_id, c->prof_id) == 0;
}


static int
sched_stats_round(sched_t *s, tt_txn_t *t, int64_t wall,
    sched_stats_call_t **calls, size_t *n)
{
    size_t           i, k, nd;
    int64_t          next;
    tt_arena_t      *a;
    tt_stats_due_t   due[SCHED_STATS_DUE];

    *n = 0;

    if (tt_stats_due_list(t, wall + s->conf.stats_interval_ms,
                          SCHED_STATS_DUE, due, &nd, &next)
        != TT_OK)
    {
        sched_log(SCHED_LOG_ERR, "stats: the agenda cannot be read: %s",
                  tt_store_last_error(s->store));
        return SCHED_ERR;
    }

    next = (next >= 0) ? next - s->conf.stats_interval_ms : -1;

    if (next >= 0 && next < sched_stats.next_run) {
        sched_stats.next_run = next;
    }

    a = tt_arena_create(8192);
    if (a == NULL) {
        return SCHED_ERR;
    }

    for (i = 0; i < nd; i++) {
        if (due[i].at > wall) {
            /* early: only beside a due one of its profile's */
            for (k = 0; k < *n; k++) {
                if (sched_stats_has(s, t, a, calls[k], &due[i])) {
                    break;
                }
            }

            if (k == *n) {
                if (due[i].at < sched_stats.next_run) {
                    sched_stats.next_run = due[i].at;
                }

                continue;
            }
        }

        if (!sched_stats_take(s, t, a, &due[i], wall, calls, n)) {
            /* no room now: the rest waits for a call's end */
            sched_stats.next_run = wall + 1000;
        }
    }

    tt_arena_destroy(a);

    return SCHED_OK;
}


static int
sched_stats_body(const sched_stats_call_t *c, tt_buf_t *out)
{
    size_t   i;
    tt_jw_t  w;

    if (tt_jw_init(&w, out) != TT_OK) {
        return SCHED_ERR;
    }

    tt_jw_obj_open(&w);
    tt_jw_key(&w, "filters");
    tt_jw_obj_open(&w);
    tt_jw_key(&w, "video_ids");
    tt_jw_arr_open(&w);

    for (i = 0; i < c->n; i++) {
        tt_jw_cstr(&w, c->items[i].video_id);
    }

    tt_jw_arr_close(&w);
    tt_jw_obj_close(&w);
    tt_jw_obj_close(&w);

    return tt_jw_finish(&w) == TT_OK ? SCHED_OK : SCHED_ERR;
}


/* the call goes with its profile's token; a failure leaves the lease */
static void
sched_stats_send(sched_t *s, tt_txn_t *t, sched_stats_call_t *c)
{
    tt_buf_t             body;
    char                *url;
    tt_arena_t          *a;
    tt_profile_t         prof;
    sched_http_t        *h;
    sched_stats_rate_t  *r;

    h = NULL;
    a = tt_arena_create(4096);
    tt_buf_init(&body);

    if (a == NULL
        || tt_profile_get(t, c->prof_id, a, &prof) != TT_OK
        || prof.status != TT_PROFILE_ACTIVE
        || prof.access_token == NULL
        || sched_stats_body(c, &body) != SCHED_OK)
    {
        sched_debug("stats: profile %s cannot be asked now", c->prof_id);
        goto failed;
    }

    url = sched_tt_url(s, a, "/v2/video/query/?fields=" SCHED_STATS_FIELDS);
    h = sched_http_new(s, sched_stats_done, c);

    if (url == NULL || h == NULL
        || sched_http_json(h, url, prof.access_token, body.data, body.len)
           != SCHED_OK
        || sched_http_start(s, h) != SCHED_OK)
    {
        goto failed;
    }

    r = sched_stats_rate(c->prof_id, tt_mono_ms());
    if (r != NULL) {
        r->n++;
    }

    c->next = sched_stats.calls;
    sched_stats.calls = c;
    sched_stats.ncalls++;

    sched_debug("stats: asking TikTok for %zu videos of profile %s", c->n,
                c->prof_id);

    tt_buf_free(&body);
    tt_arena_destroy(a);
    return;

failed:

    if (h != NULL) {
        sched_http_free(s, h);
    }

    tt_buf_free(&body);
    tt_arena_destroy(a);
    free(c);
}


static void
sched_stats_unlink(sched_stats_call_t *c)
{
    sched_stats_call_t  **pp;

    for (pp = &sched_stats.calls; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            sched_stats.ncalls--;
            return;
        }
    }
}


/* one video of the answer: its counts, under the post that asked */
static void
sched_stats_record(sched_t *s, tt_txn_t *t, sched_stats_call_t *c,
    const tt_json_t *v, int64_t now)
{
    size_t       i;
    tt_stat_t    st;
    const char  *id;

    id = sched_tt_str(v, "id");
    if (id == NULL) {
        return;
    }

    for (i = 0; i < c->n; i++) {
        if (strcmp(c->items[i].video_id, id) != 0) {
            continue;
        }

        st.recorded_at = now;

        if (sched_tt_int64(tt_json_get(v, "view_count"), &st.views)
            != SCHED_OK
            || sched_tt_int64(tt_json_get(v, "like_count"), &st.likes)
               != SCHED_OK
            || sched_tt_int64(tt_json_get(v, "comment_count"), &st.comments)
               != SCHED_OK
            || sched_tt_int64(tt_json_get(v, "share_count"), &st.shares)
               != SCHED_OK
            || tt_stats_put(t, c->items[i].post_id, &st) != TT_OK)
        {
            sched_log(SCHED_LOG_WARN, "post %s: TikTok's counts could not "
                      "be read or stored", c->items[i].post_id);
            return;
        }

        sched_debug("post %s: %lld views, %lld likes", c->items[i].post_id,
                    (long long) st.views, (long long) st.likes);
        return;
    }
}


/* every item to its next time: after the answer, or later for a scope */
static void
sched_stats_reschedule(sched_t *s, tt_txn_t *t, sched_stats_call_t *c,
    int64_t now, int64_t delay)
{
    size_t   i;
    int64_t  next;

    for (i = 0; i < c->n; i++) {
        next = delay ? now + delay
                     : tt_stats_next(c->items[i].published_at, now,
                                     s->conf.stats_interval_ms);

        if (tt_stats_due_del(t, c->items[i].lease_at, c->items[i].post_id)
            != TT_OK
            || tt_stats_due_put(t, next, c->items[i].post_id,
                                c->items[i].published_at) != TT_OK)
        {
            sched_debug("post %s: its lease stays", c->items[i].post_id);
        }
    }
}


static void
sched_stats_done(sched_t *s, sched_http_t *h)
{
    size_t               i;
    int64_t              now;
    tt_txn_t            *t;
    tt_json_t           *root, *videos;
    tt_arena_t          *a;
    const char          *code;
    sched_stats_call_t  *c;
    char                 err[128], label[96];

    c = h->data;
    sched_stats_unlink(c);
    sched_stats.next_run = 0;           /* the next round at once */

    now = tt_now_ms();
    a = tt_arena_create(8192);
    t = sched_txn(s);
    root = NULL;

    if (a != NULL && h->result == CURLE_OK && h->resp.len > 0) {
        root = tt_json_parse(a, h->resp.data, h->resp.len, err,
                             sizeof(err));
    }

    code = sched_tt_str(tt_json_get(root, "error"), "code");
    videos = tt_json_get(tt_json_get(root, "data"), "videos");

    if (t == NULL) {
        /* nothing can be written: the leases bring them back */

    } else if (h->status == 200 && videos != NULL
               && videos->type == TT_JSON_ARRAY)
    {
        for (i = 0; i < videos->n; i++) {
            sched_stats_record(s, t, c, videos->items[i], now);
        }

        sched_stats_reschedule(s, t, c, now, 0);
        code = "ok";

    } else if (code != NULL && (strcmp(code, "scope_not_authorized") == 0
                                || strcmp(code, "scope_permission_missed")
                                   == 0))
    {
        /* the creator did not grant video.list: asked again daily */
        sched_log(SCHED_LOG_WARN, "profile %s: no video.list scope, its "
                  "posts' counts cannot be read", c->prof_id);
        sched_stats_reschedule(s, t, c, now,
                               24 * s->conf.stats_interval_ms);

    } else {
        sched_log(SCHED_LOG_WARN, "profile %s: video/query failed (%s, "
                  "HTTP %ld), asked again in %lld s", c->prof_id,
                  code ? code : curl_easy_strerror(h->result), h->status,
                  (long long) (SCHED_STATS_LEASE / 1000));
    }

    sched_metric_label(label, sizeof(label), "result",
                       code ? code : "failed");
    sched_metric_add(s, "tiktok_stats_queries_total", label, 1);

    tt_arena_destroy(a);
    free(c);
}


int
sched_stats_init(sched_t *s)
{
    sched_hook_t  h = { "stats", sched_stats_run, sched_stats_next, NULL,
                        NULL };

    return sched_loop_hook(s, &h);
}


/* after the transfers are aborted (sched_http_done): what they held */
void
sched_stats_free(sched_t *s)
{
    sched_stats_call_t  *c;
    sched_stats_rate_t  *r;

    while (sched_stats.calls != NULL) {
        c = sched_stats.calls;
        sched_stats.calls = c->next;
        free(c);
    }

    while (sched_stats.rates != NULL) {
        r = sched_stats.rates;
        sched_stats.rates = r->next;
        free(r);
    }

    sched_stats.ncalls = 0;
}
