/*
 * Copyright (C) the ngx_tiktok authors.
 * The API's posts: create, batch, get, patch, delete and publish.
 */


#include <stdio.h>

#include "tt_api_int.h"


static int tt_api_group_profiles(tt_api_ctx_t *c, const char *group);
static const tt_profile_t *tt_api_profile_find(tt_api_ctx_t *c,
    const tt_str_t *s);
static int tt_api_resolve(tt_api_ctx_t *c, const char *group,
    tt_post_input_t *in, const char *prefix, tt_errors_t *errs);
static void tt_api_resolve_one(tt_api_ctx_t *c, const char *group,
    tt_post_input_t *in, size_t i, const char *prefix, tt_errors_t *errs);
static int tt_api_check_queue(tt_api_ctx_t *c, const char *group,
    const tt_post_input_t *in, const char *prefix, tt_errors_t *errs);
static int tt_api_input_apply(tt_api_ctx_t *c, const char *group,
    tt_post_input_t *in, int prc, const char *prefix, tt_post_t *p,
    tt_errors_t *errs);
static int tt_api_prepare(tt_api_ctx_t *c, const tt_json_t *root,
    const char *group, const char *prefix, tt_post_t *p, tt_errors_t *errs);
static int tt_api_body_object(tt_api_ctx_t *c);
static int tt_api_bad_body(tt_api_ctx_t *c);
static int tt_api_post_load(tt_api_ctx_t *c, int decode,
    tt_post_peek_t *peek, tt_post_t *p);
static int tt_api_post_editable(tt_api_ctx_t *c, tt_post_peek_t *peek,
    tt_post_t *p, int *done);
static int tt_api_post_save(tt_api_ctx_t *c, tt_post_t *p, int wake,
    int status);
static void tt_api_unknown_fields(const tt_json_t *body, tt_errors_t *errs);
static int tt_api_batch_prepare(tt_api_ctx_t *c, const tt_json_t *list,
    const char *group, tt_post_t *posts, tt_errors_t *errs);
static int tt_api_batch_store(tt_api_ctx_t *c, tt_post_t *posts, size_t n);
static int tt_api_answer_posts(tt_api_ctx_t *c, const tt_post_t *posts,
    size_t n);


/* from a body to a post */

static int
tt_api_group_profiles(tt_api_ctx_t *c, const char *group)
{
    int  rc;

    if (c->profs_loaded && strcmp(c->prof_group, group) == 0) {
        return TT_OK;
    }

    c->profs_loaded = 0;

    rc = tt_profile_list(c->t, c->ws, group, c->a, &c->profs, &c->nprofs);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    snprintf(c->prof_group, TT_ID_SIZE, "%s", group);
    c->profs_loaded = 1;

    return TT_OK;
}


/* the loaded group's tiktok profile that s names, by id or "tiktok" */
static const tt_profile_t *
tt_api_profile_find(tt_api_ctx_t *c, const tt_str_t *s)
{
    size_t  j;

    for (j = 0; j < c->nprofs; j++) {
        if (c->profs[j].platform == NULL
            || strcmp(c->profs[j].platform, "tiktok") != 0)
        {
            continue;
        }

        if (tt_str_eq(s, "tiktok")
            || (strlen(c->profs[j].id) == s->len
                && memcmp(c->profs[j].id, s->data, s->len) == 0))
        {
            return &c->profs[j];
        }
    }

    return NULL;
}


/*
 * profiles: ids of the group's profiles or platform names.  The same
 * message for an unknown id and another group's or workspace's id: the
 * answer must not tell which ids exist.
 */
static int
tt_api_resolve(tt_api_ctx_t *c, const char *group, tt_post_input_t *in,
    const char *prefix, tt_errors_t *errs)
{
    int     rc;
    size_t  i;

    in->profile_id[0] = '\0';

    if (!in->has_profiles || in->profiles == NULL) {
        return TT_OK;
    }

    if (group == NULL) {
        tt_errors_add(errs, "%sprofiles: the workspace has no profile group",
                      prefix);
        return TT_OK;
    }

    rc = tt_api_group_profiles(c, group);
    if (rc != TT_OK) {
        return rc;
    }

    for (i = 0; i < in->nprofiles; i++) {
        tt_api_resolve_one(c, group, in, i, prefix, errs);
    }

    return TT_OK;
}


/* profiles[i] to in->profile_id, or a message in errs */
static void
tt_api_resolve_one(tt_api_ctx_t *c, const char *group, tt_post_input_t *in,
    size_t i, const char *prefix, tt_errors_t *errs)
{
    const tt_str_t      *s;
    const tt_profile_t  *hit;

    s = &in->profiles[i];

    if (s->len == 0) {
        /* tt_post_input_parse() said so already */
        return;
    }

    hit = tt_api_profile_find(c, s);

    if (hit == NULL) {
        if (tt_str_eq(s, "tiktok")) {
            tt_errors_add(errs, "%sprofiles[%zu]: profile group %s has no "
                          "tiktok profile", prefix, i, group);
        } else {
            tt_errors_add(errs, "%sprofiles[%zu] is not a profile of "
                          "profile group %s", prefix, i, group);
        }

        return;
    }

    if (in->profile_id[0] != '\0' && strcmp(in->profile_id, hit->id) != 0) {
        /* a group holds one profile per platform: cannot happen */
        tt_errors_add(errs, "%sprofiles[%zu]: a post goes to one tiktok "
                      "profile", prefix, i);
        return;
    }

    snprintf(in->profile_id, TT_ID_SIZE, "%s", hit->id);
}


static int
tt_api_check_queue(tt_api_ctx_t *c, const char *group,
    const tt_post_input_t *in, const char *prefix, tt_errors_t *errs)
{
    int          rc;
    const char  *why;

    if (!in->has_queue_id || in->queue_id.len == 0) {
        return TT_OK;
    }

    rc = tt_api_queue_of_group(c, group, &in->queue_id, &why);

    if (rc == TT_NOTFOUND) {
        tt_errors_add(errs, "%squeue_id %.*s is not a queue of profile "
                      "group %s", prefix, (int) in->queue_id.len,
                      in->queue_id.data, group ? group : "(none)");
        return TT_OK;
    }

    if (rc == TT_INVALID) {
        tt_errors_add(errs, "%squeue_id %.*s %s", prefix,
                      (int) in->queue_id.len, in->queue_id.data, why);
        return TT_OK;
    }

    return rc;
}


/*
 * A parsed body (prc: the parser's answer) against group: its profiles
 * and queue checked, then applied to p, every failing rule collected in
 * errs.  Not applied when the parser complained: apply's own checks
 * would repeat its complaints.
 */
static int
tt_api_input_apply(tt_api_ctx_t *c, const char *group, tt_post_input_t *in,
    int prc, const char *prefix, tt_post_t *p, tt_errors_t *errs)
{
    int  rc;

    rc = tt_api_resolve(c, group, in, prefix, errs);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_api_check_queue(c, group, in, prefix, errs);
    if (rc != TT_OK) {
        return rc;
    }

    in->unaudited = c->req->conf != NULL && c->req->conf->unaudited;

    if (prc == TT_OK) {
        rc = tt_post_apply(p, in, c->req->now_ms, prefix, errs, c->a);
        if (rc != TT_OK && rc != TT_INVALID) {
            return TT_ERR;
        }
    }

    return TT_OK;
}


/*
 * A new post from a create body: the body's rules, the profiles and the
 * queue, every failing rule collected.  TT_OK with p ready to store,
 * TT_INVALID with errs filled, or a failure.
 */
static int
tt_api_prepare(tt_api_ctx_t *c, const tt_json_t *root, const char *group,
    const char *prefix, tt_post_t *p, tt_errors_t *errs)
{
    int              rc, prc;
    size_t           nerr;
    tt_post_input_t  in;

    nerr = errs->n;

    prc = tt_post_input_parse(root, 0, prefix, &in, errs, c->a);

    if (prc != TT_OK && prc != TT_INVALID) {
        return TT_ERR;
    }

    if (root == NULL || root->type != TT_JSON_OBJECT) {
        return TT_INVALID;
    }

    if (!in.has_profiles) {
        tt_errors_add(errs, "%sprofiles is required", prefix);
    }

    tt_post_init(p, c->req->now_ms);

    rc = tt_api_input_apply(c, group, &in, prc, prefix, p, errs);
    if (rc != TT_OK) {
        return rc;
    }

    if (errs->failed) {
        return TT_ERR;
    }

    if (errs->n > nerr) {
        return TT_INVALID;
    }

    snprintf(p->workspace_id, TT_ID_SIZE, "%s", c->ws);
    snprintf(p->profile_group_id, TT_ID_SIZE, "%s", group);
    tt_post_settle(p, c->req->now_ms);

    return TT_OK;
}


static int
tt_api_body_object(tt_api_ctx_t *c)
{
    return c->req->body != NULL && c->req->body->type == TT_JSON_OBJECT;
}


static int
tt_api_bad_body(tt_api_ctx_t *c)
{
    return tt_api_answer(c, 400, "the request body must be a JSON object");
}


/* the post of the path */

/*
 * The post of the path, if the key may see it: same workspace, and same
 * group for a scoped key or an explicit ?profile_group_id.  TT_NOTFOUND
 * for a 404 either way.  The header decides; the post is decoded only
 * when decode is set.
 */
static int
tt_api_post_load(tt_api_ctx_t *c, int decode, tt_post_peek_t *peek,
    tt_post_t *p)
{
    int       rc;
    tt_str_t  rec;

    if (c->id[0] == '\0') {
        return TT_NOTFOUND;
    }

    rc = tt_post_get_raw(c->t, c->id, &rec);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? rc : tt_api_fail(rc);
    }

    if (tt_post_peek(rec.data, rec.len, peek) != TT_OK) {
        return TT_ERR;
    }

    if (!tt_api_visible(c, peek->workspace_id, peek->profile_group_id)) {
        return TT_NOTFOUND;
    }

    if (decode && tt_post_decode(rec.data, rec.len, c->a, p) != TT_OK) {
        return TT_ERR;
    }

    return TT_OK;
}


/* the post of the path, decoded, if it may still change: else 404, 409 */
static int
tt_api_post_editable(tt_api_ctx_t *c, tt_post_peek_t *peek, tt_post_t *p,
    int *done)
{
    int          rc;
    const char  *why;

    *done = 1;

    rc = tt_api_post_load(c, 1, peek, p);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? tt_api_reply(c, 404) : rc;
    }

    why = tt_post_locked(p);
    if (why != NULL) {
        return tt_api_answer(c, 409, "post %s %s", p->id, why);
    }

    /* held back before TikTok got anything: the change takes it back */
    (void) tt_post_unhold(p);

    *done = 0;

    return TT_OK;
}


/*
 * p stored and answered with the bytes stored for it, which a GET answers
 * (rendered once, in its record); the scheduler wakes if it was or is due
 */
static int
tt_api_post_save(tt_api_ctx_t *c, tt_post_t *p, int wake, int status)
{
    int             rc;
    tt_str_t        rec;
    tt_post_peek_t  peek;

    /* a queued post takes its slot here, in the same transaction */
    rc = tt_queue_post_save(c->t, p, tt_api_queue_now(c), c->a);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    c->resp->wake = (wake || p->due_at >= 0);

    rc = tt_post_get_raw(c->t, p->id, &rec);
    if (rc != TT_OK) {
        return tt_api_fail(rc == TT_NOTFOUND ? TT_ERR : rc);
    }

    if (tt_post_peek(rec.data, rec.len, &peek) != TT_OK) {
        return TT_ERR;
    }

    return tt_api_answer_raw(c, status, &peek.api);
}


/* POST /api/posts */
int
tt_api_posts_create(tt_api_ctx_t *c)
{
    int           rc;
    tt_post_t     p;
    const char   *group;
    tt_errors_t   errs;

    if (!tt_api_body_object(c)) {
        return tt_api_bad_body(c);
    }

    rc = tt_api_acting_group(c, &group);
    if (rc != TT_OK) {
        return rc;
    }

    tt_errors_init(&errs, c->a);

    rc = tt_api_prepare(c, c->req->body, group, "", &p, &errs);

    if (rc == TT_INVALID) {
        return tt_api_answer_errors(c, &errs);
    }

    if (rc != TT_OK) {
        return rc;
    }

    return tt_api_post_save(c, &p, 0, 201);
}


/* POST /api/posts/batch: every post valid, or none stored */
int
tt_api_posts_batch(tt_api_ctx_t *c)
{
    int               rc;
    tt_post_t        *posts;
    const char       *group;
    tt_errors_t       errs;
    const tt_json_t  *list;

    if (!tt_api_body_object(c)) {
        return tt_api_bad_body(c);
    }

    tt_errors_init(&errs, c->a);
    tt_api_unknown_fields(c->req->body, &errs);

    list = tt_json_get(c->req->body, "posts");

    if (list == NULL || list->type != TT_JSON_ARRAY || list->n == 0
        || list->n > TT_BATCH_MAX)
    {
        tt_errors_add(&errs, "posts must be an array of 1 to %d posts",
                      TT_BATCH_MAX);
        return tt_api_answer_errors(c, &errs);
    }

    rc = tt_api_acting_group(c, &group);
    if (rc != TT_OK) {
        return rc;
    }

    posts = tt_arena_calloc(c->a, list->n * sizeof(tt_post_t));
    if (posts == NULL) {
        return TT_ERR;
    }

    rc = tt_api_batch_prepare(c, list, group, posts, &errs);

    if (rc == TT_INVALID) {
        return tt_api_answer_errors(c, &errs);
    }

    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_api_batch_store(c, posts, list->n);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_api_answer_posts(c, posts, list->n);
}


/* a batch body holds "posts" and nothing else */
static void
tt_api_unknown_fields(const tt_json_t *body, tt_errors_t *errs)
{
    size_t                   i, n;
    const tt_json_member_t  *m;

    for (i = 0; i < body->n; i++) {
        m = &body->members[i];

        if (strcmp(m->key, "posts") == 0) {
            continue;
        }

        n = m->key_len;

        /* quote at most 64 bytes, cut where a character starts */
        if (n > 64) {
            n = 64;

            while (n > 0 && ((unsigned char) m->key[n] & 0xc0) == 0x80) {
                n--;
            }
        }

        tt_errors_add(errs, "%.*s%s is not a known field", (int) n, m->key,
                      n < m->key_len ? "..." : "");
    }
}


/* every item of list into posts; TT_INVALID when any rule failed */
static int
tt_api_batch_prepare(tt_api_ctx_t *c, const tt_json_t *list,
    const char *group, tt_post_t *posts, tt_errors_t *errs)
{
    int     rc, bad;
    char    prefix[32];
    size_t  i;

    bad = 0;

    for (i = 0; i < list->n; i++) {
        snprintf(prefix, sizeof(prefix), "posts[%zu]: ", i);

        if (list->items[i]->type != TT_JSON_OBJECT) {
            tt_errors_add(errs, "posts[%zu] must be an object", i);
            bad = 1;
            continue;
        }

        rc = tt_api_prepare(c, list->items[i], group, prefix, &posts[i],
                            errs);

        if (rc == TT_INVALID) {
            bad = 1;

        } else if (rc != TT_OK) {
            return rc;
        }
    }

    return (bad || errs->n > 0) ? TT_INVALID : TT_OK;
}


static int
tt_api_batch_store(tt_api_ctx_t *c, tt_post_t *posts, size_t n)
{
    int     rc;
    size_t  i;

    for (i = 0; i < n; i++) {
        /* in order: each queued post sees the slots taken before it */
        rc = tt_queue_post_save(c->t, &posts[i], tt_api_queue_now(c), c->a);
        if (rc != TT_OK) {
            return tt_api_fail(rc);
        }

        if (posts[i].due_at >= 0) {
            c->resp->wake = 1;
        }
    }

    return TT_OK;
}


static int
tt_api_answer_posts(tt_api_ctx_t *c, const tt_post_t *posts, size_t n)
{
    size_t   i;
    tt_jw_t  w;

    if (tt_api_data_begin(c, &w, 1) != TT_OK) {
        return TT_ERR;
    }

    for (i = 0; i < n; i++) {
        tt_post_render(&w, &posts[i]);
    }

    return tt_api_data_end(c, &w, 1, 201);
}


/* GET /api/posts/:id: the stored bytes as they are */
int
tt_api_post_get(tt_api_ctx_t *c)
{
    int             rc;
    tt_post_t       p;
    tt_post_peek_t  peek;

    rc = tt_api_post_load(c, 0, &peek, &p);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? tt_api_reply(c, 404) : rc;
    }

    return tt_api_answer_raw(c, 200, &peek.api);
}


/* PATCH /api/posts/:id */
int
tt_api_post_patch(tt_api_ctx_t *c)
{
    int              rc, prc, done;
    tt_post_t        p;
    tt_errors_t      errs;
    tt_post_peek_t   peek;
    tt_post_input_t  in;

    if (!tt_api_body_object(c)) {
        return tt_api_bad_body(c);
    }

    rc = tt_api_post_editable(c, &peek, &p, &done);
    if (rc != TT_OK || done) {
        return rc;
    }

    tt_errors_init(&errs, c->a);

    prc = tt_post_input_parse(c->req->body, 1, "", &in, &errs, c->a);

    if (prc != TT_OK && prc != TT_INVALID) {
        return TT_ERR;
    }

    /* the post stays in its group: profiles and queue are of that one */
    rc = tt_api_input_apply(c, p.profile_group_id, &in, prc, "", &p, &errs);
    if (rc != TT_OK) {
        return rc;
    }

    if (errs.n > 0 || errs.failed) {
        return tt_api_answer_errors(c, &errs);
    }

    p.updated_at = c->req->now_ms;
    tt_post_settle(&p, c->req->now_ms);

    return tt_api_post_save(c, &p, peek.due_at >= 0, 200);
}


/*
 * DELETE /api/posts/:id.  A post TikTok was asked to publish is refused:
 * its upload may be in flight and cannot be recalled.  One held back
 * before that (a retry, the creator's daily cap, an upload slot) is
 * deleted: the scheduler finds it gone when it next saves, before it
 * sends anything.  A finished one only loses our record of it.
 */
int
tt_api_post_delete(tt_api_ctx_t *c)
{
    int             rc;
    const char     *why;
    tt_post_t       p;
    tt_post_peek_t  peek;

    rc = tt_api_post_load(c, 0, &peek, &p);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? tt_api_reply(c, 404) : rc;
    }

    if (peek.status == TT_POST_PROCESSING) {
        rc = tt_api_post_load(c, 1, &peek, &p);
        if (rc != TT_OK) {
            return rc == TT_NOTFOUND ? tt_api_reply(c, 404) : rc;
        }

        why = tt_post_locked(&p);
        if (why != NULL) {
            return tt_api_answer(c, 409, "post %s cannot be deleted now: it "
                                 "%s", c->id, why);
        }
    }

    rc = tt_queue_post_delete(c->t, c->id, tt_api_queue_now(c));
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    c->resp->wake = (peek.due_at >= 0);

    tt_buf_reset(&c->resp->body);
    tt_buf_append_str(&c->resp->body, "{\"deleted\":true}");

    if (!tt_buf_ok(&c->resp->body)) {
        return TT_ERR;
    }

    c->resp->status = 200;

    return TT_OK;
}


/*
 * POST /api/posts/:id/publish: now, whatever time it had; a post that
 * failed on TikTok (every platform failed) is tried again from the start.
 */
int
tt_api_post_publish(tt_api_ctx_t *c)
{
    int             rc;
    const char     *why;
    tt_post_t       p;
    tt_post_peek_t  peek;

    rc = tt_api_post_load(c, 1, &peek, &p);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? tt_api_reply(c, 404) : rc;
    }

    if (tt_post_retry(&p, c->req->now_ms) == 0) {
        why = tt_post_locked(&p);
        if (why != NULL) {
            return tt_api_answer(c, 409, "post %s %s", p.id, why);
        }

        (void) tt_post_unhold(&p);
    }

    if (p.status == TT_POST_MEDIA_FAILED) {
        return tt_api_answer(c, 409, "post %s has media that failed "
                             "processing: change its media first", p.id);
    }

    p.draft = 0;
    p.scheduled_at = c->req->now_ms;
    p.updated_at = c->req->now_ms;
    tt_post_settle(&p, c->req->now_ms);

    return tt_api_post_save(c, &p, 1, 200);
}
