/*
 * Copyright (C) the ngx_tiktok authors.
 * GET /api/posts/stats?post_ids=a,b&from=&to=: the TikTok counts the
 * scheduler recorded for each post (sched_stats.c), oldest first.
 */


#include <stdio.h>

#include "tt_api_int.h"
#include "tt_time.h"


#define TT_API_STATS_POSTS   50         /* ids per request */
#define TT_API_STATS_MAX     2000       /* records per post */


static int tt_api_stats_ids(tt_api_ctx_t *c, char (**ids)[TT_ID_SIZE],
    size_t *n, tt_errors_t *errs);
static int tt_api_stats_post(tt_api_ctx_t *c, tt_jw_t *w, const char *id,
    int64_t from, int64_t to);


int
tt_api_posts_stats(tt_api_ctx_t *c)
{
    int           rc;
    size_t        i, n;
    int64_t       from, to;
    tt_jw_t       w;
    tt_post_t     p;
    tt_errors_t   errs;
    char        (*ids)[TT_ID_SIZE];

    tt_errors_init(&errs, c->a);
    from = -1;
    to = -1;

    rc = tt_api_stats_ids(c, &ids, &n, &errs);

    if (rc == TT_OK) {
        rc = tt_api_arg_time(c, "from", &from, &errs);
    }

    if (rc == TT_OK) {
        rc = tt_api_arg_time(c, "to", &to, &errs);
    }

    if (rc != TT_OK) {
        return rc;
    }

    if (from >= 0 && to >= 0 && from > to) {
        tt_errors_add(&errs, "from is after to");
    }

    if (errs.n > 0 || errs.failed) {
        return tt_api_answer_errors(c, &errs);
    }

    /* every id must be a post the key may see: else 404, as a GET */
    for (i = 0; i < n; i++) {
        rc = tt_post_get(c->t, ids[i], c->a, &p);

        if (rc == TT_NOTFOUND
            || (rc == TT_OK
                && !tt_api_visible(c, p.workspace_id, p.profile_group_id)))
        {
            return tt_api_reply(c, 404);
        }

        if (rc != TT_OK) {
            return tt_api_fail(rc);
        }
    }

    if (tt_api_data_begin(c, &w, 1) != TT_OK) {
        return TT_ERR;
    }

    for (i = 0; i < n; i++) {
        rc = tt_api_stats_post(c, &w, ids[i], from, to);
        if (rc != TT_OK) {
            tt_jw_finish(&w);
            return tt_api_fail(rc);
        }
    }

    return tt_api_data_end(c, &w, 1, 200);
}


/* post_ids: 1 to 50 ids, comma-separated, each once */
static int
tt_api_stats_ids(tt_api_ctx_t *c, char (**ids)[TT_ID_SIZE], size_t *n,
    tt_errors_t *errs)
{
    int          rc;
    size_t       i, len;
    tt_str_t     v;
    const char  *p, *end, *comma;

    *n = 0;
    *ids = tt_arena_alloc(c->a, TT_API_STATS_POSTS * TT_ID_SIZE);
    if (*ids == NULL) {
        return TT_ERR;
    }

    rc = tt_api_arg(c, "post_ids", &v);

    if (rc == TT_NOTFOUND || (rc == TT_OK && v.len == 0)) {
        tt_errors_add(errs, "post_ids is required: a comma-separated list "
                      "of post ids");
        return TT_OK;
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    for (p = v.data, end = v.data + v.len; p <= end; p = comma + 1) {
        comma = memchr(p, ',', end - p);
        comma = comma ? comma : end;
        len = comma - p;

        if (*n == TT_API_STATS_POSTS) {
            tt_errors_add(errs, "post_ids names more than %d posts",
                          TT_API_STATS_POSTS);
            return TT_OK;
        }

        if (len == 0 || len >= TT_ID_SIZE) {
            tt_errors_add(errs, "post_ids has an empty or invalid id");
            return TT_OK;
        }

        memcpy((*ids)[*n], p, len);
        (*ids)[*n][len] = '\0';

        for (i = 0; i < *n; i++) {
            if (strcmp((*ids)[i], (*ids)[*n]) == 0) {
                tt_errors_add(errs, "post_ids names %s twice", (*ids)[i]);
                return TT_OK;
            }
        }

        (*n)++;
    }

    return TT_OK;
}


static int
tt_api_stats_post(tt_api_ctx_t *c, tt_jw_t *w, const char *id,
    int64_t from, int64_t to)
{
    int         rc;
    size_t      i, n;
    tt_stat_t  *s;

    rc = tt_stats_get(c->t, id, from, to, TT_API_STATS_MAX, c->a, &s, &n);
    if (rc != TT_OK) {
        return rc;
    }

    tt_jw_obj_open(w);
    tt_jw_key(w, "post_id");
    tt_jw_cstr(w, id);
    tt_jw_key(w, "platform");
    tt_jw_cstr(w, "tiktok");
    tt_jw_key(w, "stats");
    tt_jw_arr_open(w);

    for (i = 0; i < n; i++) {
        tt_jw_obj_open(w);
        tt_jw_key(w, "views");
        tt_jw_int(w, s[i].views);
        tt_jw_key(w, "likes");
        tt_jw_int(w, s[i].likes);
        tt_jw_key(w, "comments");
        tt_jw_int(w, s[i].comments);
        tt_jw_key(w, "shares");
        tt_jw_int(w, s[i].shares);
        tt_jw_key(w, "recorded_at");
        tt_jw_time(w, s[i].recorded_at);
        tt_jw_obj_close(w);
    }

    tt_jw_arr_close(w);
    tt_jw_obj_close(w);

    return TT_OK;
}
