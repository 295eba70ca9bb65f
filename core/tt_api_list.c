/*
 * Copyright (C) the ngx_tiktok authors.
 * GET /api/posts: the filters, the page, and the matching of stored posts.
 */


#include <inttypes.h>
#include <stdlib.h>

#include "tt_api_int.h"


#define TT_API_PER_PAGE      10
#define TT_API_PER_PAGE_MAX  100
#define TT_API_PAGE_MAX      1000000000


/* the filters and the page being written */
typedef struct {
    tt_api_ctx_t   *c;
    const char     *group;
    tt_list_class_e status;
    int64_t         after;
    int64_t         before;
    tt_str_t        queue_id;
    uint64_t        page;
    uint64_t        per_page;
    uint64_t        total;
    tt_buf_t        data;           /* the page's items, comma-separated */
    int             rc;
} tt_api_list_t;


static int tt_api_list_answer(tt_api_ctx_t *c, tt_api_list_t *l);
static int tt_api_list_params(tt_api_ctx_t *c, tt_api_list_t *l,
    tt_errors_t *errs);
static int tt_api_arg_status(tt_api_ctx_t *c, tt_api_list_t *l,
    tt_errors_t *errs);
static int tt_api_arg_queue(tt_api_ctx_t *c, tt_api_list_t *l,
    tt_errors_t *errs);
static int tt_api_arg_uint(tt_api_ctx_t *c, const char *name, uint64_t min,
    uint64_t max, uint64_t *out, tt_errors_t *errs);
static int tt_api_list_one(void *ctx, const char *id, const tt_str_t *rec);


/*
 * GET /api/posts.  The envelope is written by hand so that each item is
 * the stored API bytes, copied, never decoded and re-rendered.  The
 * filters pick one of the store's lists (tt_store_list.c): the page and
 * its total cost the same whatever the list's length.
 */
int
tt_api_posts_list(tt_api_ctx_t *c)
{
    int              rc;
    tt_errors_t      errs;
    tt_api_list_t    l;
    tt_post_query_t  q;

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

    memset(&q, 0, sizeof(tt_post_query_t));
    q.ws_id = c->ws;
    q.group_id = l.group;
    q.queue_id = l.queue_id.len ? l.queue_id.data : NULL;
    q.cls = l.status;
    q.after = l.after;
    q.before = l.before;
    q.offset = l.page * l.per_page;
    q.limit = l.per_page;

    rc = tt_post_list(c->t, &q, &l.total, tt_api_list_one, &l);

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

    return TT_OK;
}


static int
tt_api_arg_status(tt_api_ctx_t *c, tt_api_list_t *l, tt_errors_t *errs)
{
    int       rc;
    size_t    i;
    tt_str_t  v;

    static const struct {
        const char       *name;
        tt_list_class_e   value;
    }  statuses[] = {
        { "draft", TT_LIST_DRAFT },
        { "scheduled", TT_LIST_SCHEDULED },
        { "published", TT_LIST_PUBLISHED },
        { "failed", TT_LIST_FAILED }
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


/* tt_post_list()'s callback: one post of the page */
static int
tt_api_list_one(void *ctx, const char *id, const tt_str_t *rec)
{
    tt_buf_t       *out;
    tt_api_list_t  *l;
    tt_post_peek_t  peek;

    (void) id;

    l = ctx;

    if (tt_post_peek(rec->data, rec->len, &peek) != TT_OK) {
        l->rc = TT_ERR;
        return 1;
    }

    out = &l->data;

    if (out->len > 0) {
        tt_buf_append(out, ",", 1);
    }

    tt_buf_append(out, peek.api.data, peek.api.len);

    return 0;
}
