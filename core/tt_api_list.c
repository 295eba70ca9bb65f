/*
 * Copyright (C) the ngx_tiktok authors.
 * GET /api/posts: the filters, the page, and the matching of stored posts.
 */


#include <inttypes.h>
#include <stdlib.h>

#include "tt_api_int.h"
#include "tt_time.h"


#define TT_API_PER_PAGE      10
#define TT_API_PER_PAGE_MAX  100
#define TT_API_PAGE_MAX      1000000000
#define TT_API_SCRATCH_MAX   (1024 * 1024)


typedef enum {
    TT_API_ST_ANY = 0,
    TT_API_ST_DRAFT,
    TT_API_ST_SCHEDULED,
    TT_API_ST_PUBLISHED,
    TT_API_ST_FAILED
} tt_api_status_filter_e;

/* the filters and the page being written */
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


static int tt_api_list_answer(tt_api_ctx_t *c, tt_api_list_t *l);
static int tt_api_list_params(tt_api_ctx_t *c, tt_api_list_t *l,
    tt_errors_t *errs);
static int tt_api_arg_status(tt_api_ctx_t *c, tt_api_list_t *l,
    tt_errors_t *errs);
static int tt_api_arg_time(tt_api_ctx_t *c, const char *name, int64_t *out,
    tt_errors_t *errs);
static int tt_api_arg_queue(tt_api_ctx_t *c, tt_api_list_t *l,
    tt_errors_t *errs);
static int tt_api_arg_uint(tt_api_ctx_t *c, const char *name, uint64_t min,
    uint64_t max, uint64_t *out, tt_errors_t *errs);
static int tt_api_list_one(void *ctx, const char *id, const tt_str_t *rec);
static int tt_api_list_match(tt_api_list_t *l, const tt_str_t *rec,
    const tt_post_peek_t *peek, int *match);
static int tt_api_list_peek_match(tt_api_list_t *l,
    const tt_post_peek_t *peek, int *need);
static int tt_api_list_decode(tt_api_list_t *l, const tt_str_t *rec,
    tt_post_t *p);
static int tt_api_list_post_match(tt_api_list_t *l,
    const tt_post_peek_t *peek, const tt_post_t *p);


/*
 * GET /api/posts.  The envelope is written by hand so that each item is
 * the stored API bytes, copied, never decoded and re-rendered; a post is
 * decoded only when a filter needs what the header does not hold.  The
 * total is known only at the end, so the page's items wait in l.data.
 */
int
tt_api_posts_list(tt_api_ctx_t *c)
{
    int            rc;
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

    return tt_api_list_answer(c, &l);
}


/* the envelope around the page's items; l->data is freed */
static int
tt_api_list_answer(tt_api_ctx_t *c, tt_api_list_t *l)
{
    tt_buf_t  *out;

    out = &c->resp->body;
    tt_buf_reset(out);
    tt_buf_printf(out, "{\"total\":%" PRIu64 ",\"page\":%" PRIu64
                  ",\"per_page\":%" PRIu64 ",\"data\":[", l->total, l->page,
                  l->per_page);
    tt_buf_append(out, l->data.data, l->data.len);
    tt_buf_append(out, "]}", 2);
    tt_buf_free(&l->data);

    if (!tt_buf_ok(out)) {
        return TT_ERR;
    }

    c->resp->status = 200;

    return TT_OK;
}


/* the query's filters and page; a bad value is a message in errs */
static int
tt_api_list_params(tt_api_ctx_t *c, tt_api_list_t *l, tt_errors_t *errs)
{
    int       rc;
    uint64_t  page, per_page;

    rc = tt_api_arg_status(c, l, errs);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_api_arg_time(c, "scheduled_after", &l->after, errs);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_api_arg_time(c, "scheduled_before", &l->before, errs);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_api_arg_queue(c, l, errs);
    if (rc != TT_OK) {
        return rc;
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


static int
tt_api_arg_status(tt_api_ctx_t *c, tt_api_list_t *l, tt_errors_t *errs)
{
    int       rc;
    size_t    i;
    tt_str_t  v;

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

    if (rc == TT_NOTFOUND) {
        return TT_OK;
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    for (i = 0; i < TT_ARRAY_SIZE(statuses); i++) {
        if (strcmp(v.data, statuses[i].name) == 0) {
            l->status = statuses[i].value;
            return TT_OK;
        }
    }

    tt_errors_add(errs, "status must be one of draft, scheduled, published, "
                  "failed");

    return TT_OK;
}


/* an ISO 8601 time; absent or bad leaves *out -1 */
static int
tt_api_arg_time(tt_api_ctx_t *c, const char *name, int64_t *out,
    tt_errors_t *errs)
{
    int       rc;
    tt_str_t  v;

    rc = tt_api_arg(c, name, &v);

    if (rc == TT_NOTFOUND) {
        return TT_OK;
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (tt_time_parse(v.data, v.len, out) != TT_OK) {
        *out = -1;

        if (v.len > 19 && strchr(v.data + 19, ' ') != NULL) {
            /* "+02:00" unescaped: a query string's + is a space */
            tt_errors_add(errs, "%s has a space where its offset's + "
                          "should be: a + in a query string means a "
                          "space, send it as %%2B", name);

        } else {
            tt_errors_add(errs, "%s is not an ISO 8601 time with an "
                          "offset", name);
        }
    }

    return TT_OK;
}


static int
tt_api_arg_queue(tt_api_ctx_t *c, tt_api_list_t *l, tt_errors_t *errs)
{
    int       rc;
    tt_str_t  v;

    rc = tt_api_arg(c, "queue_id", &v);

    if (rc == TT_NOTFOUND) {
        return TT_OK;
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (v.len == 0 || v.len >= TT_ID_SIZE) {
        tt_errors_add(errs, "queue_id is not a valid queue id");
    }

    l->queue_id = v;

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


/* tt_post_iter()'s callback: one stored post, counted if it matches */
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


/* the header's verdict first; the post is decoded only when it must be */
static int
tt_api_list_match(tt_api_list_t *l, const tt_str_t *rec,
    const tt_post_peek_t *peek, int *match)
{
    int        rc, need;
    tt_post_t  p;

    *match = 0;

    if (!tt_api_list_peek_match(l, peek, &need)) {
        return TT_OK;
    }

    if (!need) {
        *match = 1;
        return TT_OK;
    }

    rc = tt_api_list_decode(l, rec, &p);
    if (rc != TT_OK) {
        return rc;
    }

    *match = tt_api_list_post_match(l, peek, &p);

    return TT_OK;
}


/*
 * What the header decides: workspace, group, time and status.  *need:
 * the verdict also needs the decoded post (queue, platforms).
 */
static int
tt_api_list_peek_match(tt_api_list_t *l, const tt_post_peek_t *peek,
    int *need)
{
    *need = 0;

    if (strcmp(peek->workspace_id, l->c->ws) != 0) {
        return 0;
    }

    /* posts without a time never match a time filter */
    if ((l->after >= 0 || l->before >= 0) && peek->scheduled_at < 0) {
        return 0;
    }

    if ((l->after >= 0 && peek->scheduled_at < l->after)
        || (l->before >= 0 && peek->scheduled_at >= l->before))
    {
        return 0;
    }

    if (l->group != NULL && strcmp(peek->profile_group_id, l->group) != 0) {
        return 0;
    }

    *need = (l->queue_id.len > 0);

    switch (l->status) {

    case TT_API_ST_DRAFT:
        return peek->status == TT_POST_DRAFT;

    case TT_API_ST_SCHEDULED:
        return peek->status == TT_POST_PENDING
               || peek->status == TT_POST_SCHEDULED;

    case TT_API_ST_PUBLISHED:
        *need = 1;
        return peek->status == TT_POST_PROCESSED;

    case TT_API_ST_FAILED:
        if (peek->status == TT_POST_PROCESSED
            || peek->status == TT_POST_PROCESSING)
        {
            *need = 1;
            return 1;
        }

        return peek->status == TT_POST_MEDIA_FAILED;

    default:
        return 1;
    }
}


/* decoded posts pile up in the arena: recycle it now and then */
static int
tt_api_list_decode(tt_api_list_t *l, const tt_str_t *rec, tt_post_t *p)
{
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

    if (tt_post_decode(rec->data, rec->len, l->scratch, p) != TT_OK) {
        return TT_ERR;
    }

    return TT_OK;
}


/* queue, and for published or failed a platform that is so */
static int
tt_api_list_post_match(tt_api_list_t *l, const tt_post_peek_t *peek,
    const tt_post_t *p)
{
    size_t            i;
    tt_plat_status_e  want;

    if (l->queue_id.len > 0
        && (strlen(p->queue_id) != l->queue_id.len
            || memcmp(p->queue_id, l->queue_id.data, l->queue_id.len) != 0))
    {
        return 0;
    }

    if (l->status == TT_API_ST_PUBLISHED) {
        want = TT_PLAT_PUBLISHED;

    } else if (l->status == TT_API_ST_FAILED
               && peek->status != TT_POST_MEDIA_FAILED)
    {
        want = TT_PLAT_FAILED;

    } else {
        return 1;
    }

    for (i = 0; i < p->nplatforms; i++) {
        if (p->platforms[i].status == want) {
            return 1;
        }
    }

    return 0;
}
