/*
 * Copyright (C) the ngx_tiktok authors.
 * The API beside posts: profile groups and profiles, read-only.
 */


#include "tt_api_int.h"


static int tt_api_groups_load(tt_api_ctx_t *c, int one, tt_group_t *g,
    tt_group_t **list, size_t *n);
static int tt_api_profiles_load(tt_api_ctx_t *c, int one, tt_profile_t *p,
    tt_profile_t **list, size_t *n);


/* GET /api/profile_groups/:id (one), else GET /api/profile_groups */
int
tt_api_groups(tt_api_ctx_t *c, int one)
{
    int            rc;
    size_t         i, n, np;
    tt_jw_t        w;
    tt_group_t    *list, g;
    tt_profile_t  *profs;

    rc = tt_api_groups_load(c, one, &g, &list, &n);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? tt_api_reply(c, 404) : rc;
    }

    if (tt_api_data_begin(c, &w, !one) != TT_OK) {
        return TT_ERR;
    }

    for (i = 0; i < n; i++) {
        rc = tt_profile_list(c->t, c->ws, list[i].id, c->a, &profs, &np);
        if (rc != TT_OK) {
            tt_jw_finish(&w);
            return tt_api_fail(rc);
        }

        tt_api_render_group(&w, &list[i], np);
    }

    return tt_api_data_end(c, &w, !one, 200);
}


/*
 * The groups to answer with: the path's, else the one the key or the
 * query narrows to, else the workspace's.  g holds a single one.
 * TT_NOTFOUND for a 404.
 */
static int
tt_api_groups_load(tt_api_ctx_t *c, int one, tt_group_t *g,
    tt_group_t **list, size_t *n)
{
    int          rc;
    const char  *only;

    only = one ? c->id : (c->pg ? c->pg : c->scope);
    *list = NULL;
    *n = 0;

    if (only == NULL) {
        rc = tt_group_list(c->t, c->ws, c->a, list, n);
        return rc == TT_OK ? TT_OK : tt_api_fail(rc);
    }

    if (only[0] == '\0') {
        return TT_NOTFOUND;
    }

    rc = tt_group_get(c->t, only, c->a, g);

    if (rc == TT_OK && tt_api_visible(c, g->workspace_id, g->id)) {
        *list = g;
        *n = 1;

    } else if (rc != TT_OK && rc != TT_NOTFOUND) {
        return tt_api_fail(rc);
    }

    /* a list narrowed to a group it may not see is empty, not a 404 */
    return (one && *n == 0) ? TT_NOTFOUND : TT_OK;
}


void
tt_api_render_group(tt_jw_t *w, const tt_group_t *g, size_t nprofiles)
{
    tt_jw_obj_open(w);
    tt_jw_key(w, "id");
    tt_jw_cstr(w, g->id);
    tt_jw_key(w, "name");
    tt_jw_cstr(w, g->name);
    tt_jw_key(w, "profiles_count");
    tt_jw_int(w, (int64_t) nprofiles);
    tt_jw_obj_close(w);
}


/* GET /api/profiles/:id (one), else GET /api/profiles */
int
tt_api_profiles(tt_api_ctx_t *c, int one)
{
    int            rc;
    size_t         i, n;
    tt_jw_t        w;
    tt_profile_t  *list, p;

    rc = tt_api_profiles_load(c, one, &p, &list, &n);
    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? tt_api_reply(c, 404) : rc;
    }

    if (tt_api_data_begin(c, &w, !one) != TT_OK) {
        return TT_ERR;
    }

    for (i = 0; i < n; i++) {
        tt_profile_render(&w, &list[i]);
    }

    return tt_api_data_end(c, &w, !one, 200);
}


/* the path's profile in p, else the list; TT_NOTFOUND for a 404 */
static int
tt_api_profiles_load(tt_api_ctx_t *c, int one, tt_profile_t *p,
    tt_profile_t **list, size_t *n)
{
    int  rc;

    *list = NULL;
    *n = 0;

    if (!one) {
        rc = tt_profile_list(c->t, c->ws, c->pg ? c->pg : c->scope, c->a,
                             list, n);
        return rc == TT_OK ? TT_OK : tt_api_fail(rc);
    }

    if (c->id[0] == '\0') {
        return TT_NOTFOUND;
    }

    rc = tt_profile_get(c->t, c->id, c->a, p);

    if (rc == TT_NOTFOUND
        || (rc == TT_OK
            && !tt_api_visible(c, p->workspace_id, p->profile_group_id)))
    {
        return TT_NOTFOUND;
    }

    if (rc != TT_OK) {
        return tt_api_fail(rc);
    }

    *list = p;
    *n = 1;

    return TT_OK;
}
