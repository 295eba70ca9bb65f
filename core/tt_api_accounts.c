/*
 * Copyright (C) the ngx_tiktok authors.
 * Profile groups created and deleted, and profiles deleted (their token
 * revoked at TikTok by the scheduler, their unpublished posts failed).
 */


#include <stdio.h>

#include "tt_api_int.h"


#define TT_GROUP_NAME_MAX   200         /* bytes */
#define TT_API_NAMED_MAX    5           /* ids a 409 names */


typedef struct {
    tt_arena_t     *a;
    char          (*ids)[TT_ID_SIZE];
    size_t          n;
    size_t          cap;
} tt_api_ids_t;


static int tt_api_group_name(tt_api_ctx_t *c, const char **name);
static int tt_api_group_in_use(tt_api_ctx_t *c, const tt_group_t *g,
    int *done);
static int tt_api_group_keys(tt_api_ctx_t *c, const tt_group_t *g,
    int *done);
static int tt_api_group_post_ids(void *ctx, const char *id,
    const tt_str_t *rec);
static int tt_api_group_posts(tt_api_ctx_t *c, const char *group,
    uint64_t limit, tt_api_ids_t *ids, uint64_t *total);
static int tt_api_profile_fail_posts(tt_api_ctx_t *c, const tt_profile_t *p);
static void tt_api_ids_text(const tt_api_ids_t *ids, uint64_t total,
    char *buf, size_t size);


/* 403: what the key may see, it may not do (a group-scoped key) */
int
tt_api_forbidden(tt_api_ctx_t *c, const char *message)
{
    return tt_api_answer(c, 403, "%s", message);
}


/* POST /api/profile_groups {"profile_group": {"name": "…"}} */
int
tt_api_group_create(tt_api_ctx_t *c)
{
    int          rc;
    tt_jw_t      w;
    tt_group_t   g;
    const char  *name;

    if (c->scope != NULL) {
        return tt_api_forbidden(c, "a key scoped to a profile group cannot "
                                "create profile groups");
    }

    rc = tt_api_group_name(c, &name);
    if (rc != TT_OK || name == NULL) {
        return rc;
    }

    memset(&g, 0, sizeof(g));

    if (tt_id_new("pg_", g.id) != TT_OK) {
        return TT_ERR;
    }

    memcpy(g.workspace_id, c->ws, strlen(c->ws) + 1);
    g.name = name;
    g.created_at = c->req->now_ms;

    rc = tt_group_put(c->t, &g);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (tt_api_jw_begin(c, &w) != TT_OK) {
        return TT_ERR;
    }

    tt_api_render_group(&w, &g, 0);

    return tt_api_jw_end(c, &w, 201);
}


/* the body's name; *name NULL when a 422 is set */
static int
tt_api_group_name(tt_api_ctx_t *c, const char **name)
{
    size_t            i;
    const tt_json_t  *root, *pg, *v;

    *name = NULL;
    root = c->req->body;
    pg = root ? tt_json_get(root, "profile_group") : NULL;

    if (root == NULL || root->type != TT_JSON_OBJECT) {
        return tt_api_answer(c, 422, "the body must be a JSON object");
    }

    for (i = 0; i < root->n; i++) {
        if (strcmp(root->members[i].key, "profile_group") != 0) {
            return tt_api_answer(c, 422, "%s is not a known key",
                                 root->members[i].key);
        }
    }

    if (pg == NULL || pg->type != TT_JSON_OBJECT) {
        return tt_api_answer(c, 422, "profile_group must be an object");
    }

    for (i = 0; i < pg->n; i++) {
        if (strcmp(pg->members[i].key, "name") != 0) {
            return tt_api_answer(c, 422, "profile_group.%s is not a known "
                                 "key", pg->members[i].key);
        }
    }

    v = tt_json_get(pg, "name");

    if (v == NULL || v->type != TT_JSON_STRING || v->len == 0) {
        return tt_api_answer(c, 422, "profile_group.name must be a "
                             "non-empty string");
    }

    if (v->len > TT_GROUP_NAME_MAX) {
        return tt_api_answer(c, 422, "profile_group.name is longer than %d "
                             "bytes", TT_GROUP_NAME_MAX);
    }

    for (i = 0; i < v->len; i++) {
        if ((unsigned char) v->str[i] < 0x20) {
            return tt_api_answer(c, 422, "profile_group.name holds a "
                                 "control character");
        }
    }

    *name = v->str;

    return TT_OK;
}


/*
 * DELETE /api/profile_groups/:id: only an empty group goes; one that
 * still holds a profile, posts or keys answers 409 naming them.
 */
int
tt_api_group_delete(tt_api_ctx_t *c)
{
    int         rc, done;
    tt_jw_t     w;
    tt_group_t  g;

    rc = c->id[0] ? tt_group_get(c->t, c->id, c->a, &g) : TT_NOTFOUND;

    if (rc == TT_NOTFOUND
        || (rc == TT_OK && !tt_api_visible(c, g.workspace_id, g.id)))
    {
        return tt_api_reply(c, 404);
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (c->scope != NULL) {
        return tt_api_forbidden(c, "a key scoped to a profile group cannot "
                                "delete profile groups");
    }

    rc = tt_api_group_in_use(c, &g, &done);
    if (rc != TT_OK || done) {
        return rc;
    }

    rc = tt_group_del(c->t, g.id);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (tt_api_jw_begin(c, &w) != TT_OK) {
        return TT_ERR;
    }

    tt_jw_obj_open(&w);
    tt_jw_key(&w, "deleted");
    tt_jw_bool(&w, 1);
    tt_jw_obj_close(&w);

    return tt_api_jw_end(c, &w, 200);
}


/* the 409s of a group delete; *done when one is set */
static int
tt_api_group_in_use(tt_api_ctx_t *c, const tt_group_t *g, int *done)
{
    int            rc;
    char           names[256];
    size_t         np;
    uint64_t       total;
    tt_profile_t  *profs;
    tt_api_ids_t   ids;

    *done = 1;

    rc = tt_profile_list(c->t, c->ws, g->id, c->a, &profs, &np);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (np > 0) {
        return tt_api_answer(c, 409, "the profile group holds the TikTok "
                             "profile %s: delete it first (DELETE "
                             "/api/profiles/%s)", profs[0].id, profs[0].id);
    }

    memset(&ids, 0, sizeof(ids));
    ids.a = c->a;

    rc = tt_api_group_posts(c, g->id, TT_API_NAMED_MAX, &ids, &total);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    if (total > 0) {
        tt_api_ids_text(&ids, total, names, sizeof(names));
        return tt_api_answer(c, 409, "the profile group has %llu post%s "
                             "(%s): delete %s first",
                             (unsigned long long) total,
                             total == 1 ? "" : "s", names,
                             total == 1 ? "it" : "them");
    }

    return tt_api_group_keys(c, g, done);
}


static int
tt_api_group_keys(tt_api_ctx_t *c, const tt_group_t *g, int *done)
{
    int           rc;
    char          names[256];
    size_t        i, n;
    uint64_t      live;
    tt_apikey_t  *keys;
    tt_api_ids_t  ids;

    rc = tt_apikey_list(c->t, c->ws, c->a, &keys, &n);
    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    memset(&ids, 0, sizeof(ids));
    ids.a = c->a;
    live = 0;

    for (i = 0; i < n; i++) {
        if (keys[i].revoked_at < 0
            && strcmp(keys[i].profile_group_id, g->id) == 0)
        {
            live++;
            (void) tt_api_group_post_ids(&ids, keys[i].id, NULL);
        }
    }

    if (live == 0) {
        *done = 0;
        return TT_OK;
    }

    tt_api_ids_text(&ids, live, names, sizeof(names));

    return tt_api_answer(c, 409, "the profile group has %llu API key%s "
                         "scoped to it (%s): revoke %s first",
                         (unsigned long long) live, live == 1 ? "" : "s",
                         names, live == 1 ? "it" : "them");
}


/* collects ids (the first TT_API_NAMED_MAX, or all when cap allows) */
static int
tt_api_group_post_ids(void *ctx, const char *id, const tt_str_t *rec)
{
    tt_api_ids_t  *ids = ctx;

    (void) rec;

    if (ids->n == ids->cap) {
        char  (*more)[TT_ID_SIZE];

        more = tt_arena_alloc(ids->a, (ids->cap ? ids->cap * 2 : 16)
                                      * TT_ID_SIZE);
        if (more == NULL) {
            return TT_NOMEM;
        }

        if (ids->n) {
            memcpy(more, ids->ids, ids->n * TT_ID_SIZE);
        }

        ids->ids = more;
        ids->cap = ids->cap ? ids->cap * 2 : 16;
    }

    memcpy(ids->ids[ids->n], id, strlen(id) + 1);
    ids->n++;

    return TT_OK;
}


/* every post of a group, from its list (ids in ids, the count in total) */
static int
tt_api_group_posts(tt_api_ctx_t *c, const char *group, uint64_t limit,
    tt_api_ids_t *ids, uint64_t *total)
{
    tt_post_query_t  q;

    memset(&q, 0, sizeof(q));
    q.ws_id = c->ws;
    q.group_id = group;
    q.cls = TT_LIST_ANY;
    q.after = -1;
    q.before = -1;
    q.offset = 0;
    q.limit = limit;

    return tt_post_list(c->t, &q, total, tt_api_group_post_ids, ids);
}


static void
tt_api_ids_text(const tt_api_ids_t *ids, uint64_t total, char *buf,
    size_t size)
{
    size_t  i, n;

    n = 0;
    buf[0] = '\0';

    for (i = 0; i < ids->n && i < TT_API_NAMED_MAX && n < size; i++) {
        n += (size_t) snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
                               ids->ids[i]);
    }

    if (total > TT_API_NAMED_MAX && n < size) {
        (void) snprintf(buf + n, size - n, ", and %llu more",
                        (unsigned long long) (total - TT_API_NAMED_MAX));
    }
}


/*
 * DELETE /api/profiles/:id: the profile and its tokens go (the access
 * token kept sealed until the scheduler revoked it at TikTok), and its
 * posts that TikTok has not been asked to publish fail with the reason.
 */
int
tt_api_profile_delete(tt_api_ctx_t *c)
{
    int           rc;
    tt_jw_t       w;
    tt_profile_t  p;

    rc = c->id[0] ? tt_profile_get(c->t, c->id, c->a, &p) : TT_NOTFOUND;

    if (rc == TT_NOTFOUND
        || (rc == TT_OK
            && !tt_api_visible(c, p.workspace_id, p.profile_group_id)))
    {
        return tt_api_reply(c, 404);
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    rc = tt_api_profile_fail_posts(c, &p);

    if (rc == TT_OK) {
        rc = tt_profile_forget(c->t, p.id, c->req->now_ms);
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    c->resp->wake = 1;

    if (tt_api_jw_begin(c, &w) != TT_OK) {
        return TT_ERR;
    }

    tt_jw_obj_open(&w);
    tt_jw_key(&w, "deleted");
    tt_jw_bool(&w, 1);
    tt_jw_obj_close(&w);

    return tt_api_jw_end(c, &w, 200);
}


static int
tt_api_profile_fail_posts(tt_api_ctx_t *c, const tt_profile_t *p)
{
    int             rc;
    size_t          i, k, changed;
    uint64_t        total;
    tt_post_t       post;
    tt_api_ids_t    ids;
    tt_platform_t  *pl;

    memset(&ids, 0, sizeof(ids));
    ids.a = c->a;

    rc = tt_api_group_posts(c, p->profile_group_id, UINT64_MAX, &ids,
                            &total);

    for (i = 0; rc == TT_OK && i < ids.n; i++) {
        rc = tt_post_get(c->t, ids.ids[i], c->a, &post);

        if (rc == TT_NOTFOUND) {
            rc = TT_OK;
            continue;
        }

        /* TikTok has it: the scheduler follows it, and fails it when the
         * token it needs is gone */
        if (rc != TT_OK || tt_post_locked(&post) != NULL) {
            continue;
        }

        changed = 0;

        for (k = 0; k < post.nplatforms; k++) {
            pl = &post.platforms[k];

            if (strcmp(pl->profile_id, p->id) != 0
                || pl->status == TT_PLAT_PUBLISHED
                || pl->status == TT_PLAT_FAILED)
            {
                continue;
            }

            pl->status = TT_PLAT_FAILED;
            pl->next_attempt_at = -1;
            pl->error = "The TikTok profile of this post was deleted";
            pl->error_code = NULL;
            pl->error_message = NULL;
            pl->error_note = "Connect the TikTok account again and create "
                             "the post anew.";
            changed++;
        }

        if (changed) {
            post.updated_at = c->req->now_ms;
            tt_post_settle(&post, c->req->now_ms);
            rc = tt_post_put(c->t, &post);
        }
    }

    return rc;
}
