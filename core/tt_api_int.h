/*
 * Copyright (C) the ngx_tiktok authors.
 * What the files of the HTTP API share: the request's context and helpers.
 */

#ifndef _TT_API_INT_H_INCLUDED_
#define _TT_API_INT_H_INCLUDED_


#include "tt_api.h"


/* what one request knows once its key is checked */
typedef struct {
    tt_txn_t           *t;
    const tt_api_req_t *req;
    tt_api_resp_t      *resp;
    tt_arena_t         *a;
    tt_apikey_t         key;
    const char         *ws;             /* the key's workspace */
    const char         *scope;          /* the key's group, NULL: full */
    const char         *pg;             /* ?profile_group_id, NULL none */
    char                pg_buf[TT_ID_SIZE];
    char                id[TT_ID_SIZE]; /* the :id, "" if it cannot fit */

    /* the profiles of one group, loaded once per request */
    char                prof_group[TT_ID_SIZE];
    tt_profile_t       *profs;
    size_t              nprofs;
    unsigned            profs_loaded:1;

    /* an Idempotency-Key came: its answer is kept if it is a 2xx */
    unsigned            idem:1;
    uint8_t             idem_hash[32];
} tt_api_ctx_t;


/* tt_api_answer.c: failures and answers */
int tt_api_fail(int rc);
int tt_api_reply(tt_api_ctx_t *c, int status);
int tt_api_answer(tt_api_ctx_t *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int tt_api_answer_errors(tt_api_ctx_t *c, const tt_errors_t *e);
int tt_api_answer_raw(tt_api_ctx_t *c, int status, const tt_str_t *json);
int tt_api_jw_begin(tt_api_ctx_t *c, tt_jw_t *w);
int tt_api_jw_end(tt_api_ctx_t *c, tt_jw_t *w, int status);
int tt_api_data_begin(tt_api_ctx_t *c, tt_jw_t *w, int list);
int tt_api_data_end(tt_api_ctx_t *c, tt_jw_t *w, int list, int status);

/* tt_api_args.c: the query string, and what the key may see */
int tt_api_args_valid(const tt_str_t *args);
const char *tt_api_args_repeated(const tt_str_t *args);
int tt_api_arg(tt_api_ctx_t *c, const char *name, tt_str_t *val);
int tt_api_arg_time(tt_api_ctx_t *c, const char *name, int64_t *out,
    tt_errors_t *errs);
int tt_api_explicit_group(tt_api_ctx_t *c);
int tt_api_in_scope(const tt_api_ctx_t *c, const char *group);
int tt_api_visible(const tt_api_ctx_t *c, const char *ws, const char *group);
int tt_api_acting_group(tt_api_ctx_t *c, const char **group);

/* tt_api_idem.c: *done when the answer is set (a 400, 422 or a replay) */
int tt_api_idem_begin(tt_api_ctx_t *c, int *done);
int tt_api_idem_end(tt_api_ctx_t *c);

/* tt_api_posts.c */
int tt_api_posts_create(tt_api_ctx_t *c);
int tt_api_posts_batch(tt_api_ctx_t *c);
int tt_api_post_get(tt_api_ctx_t *c);
int tt_api_post_patch(tt_api_ctx_t *c);
int tt_api_post_delete(tt_api_ctx_t *c);
int tt_api_post_publish(tt_api_ctx_t *c);

/* tt_api_queues.c: every /api/post_queues route; the queue clock; the
 * queue a post names (TT_INVALID with *why when it cannot take posts) */
int tt_api_queues(tt_api_ctx_t *c);
int64_t tt_api_queue_now(const tt_api_ctx_t *c);
int tt_api_queue_of_group(tt_api_ctx_t *c, const char *group,
    const tt_str_t *id, const char **why);

/* tt_api_list.c */
int tt_api_posts_list(tt_api_ctx_t *c);

/* tt_api_misc.c; one: the :id route, else the list */
int tt_api_health(tt_api_ctx_t *c);
int tt_api_health_probe(tt_api_ctx_t *c);
int tt_api_export_open(tt_api_ctx_t *c);
int tt_api_posts_stats(tt_api_ctx_t *c);
int tt_api_queue_render(tt_api_ctx_t *c, tt_jw_t *w, const tt_queue_t *q);
int tt_api_groups(tt_api_ctx_t *c, int one);
int tt_api_profiles(tt_api_ctx_t *c, int one);
void tt_api_render_group(tt_jw_t *w, const tt_group_t *g, size_t nprofiles);

/* tt_api_accounts.c: groups and profiles, created and deleted */
int tt_api_group_create(tt_api_ctx_t *c);
int tt_api_group_delete(tt_api_ctx_t *c);
int tt_api_profile_delete(tt_api_ctx_t *c);
int tt_api_forbidden(tt_api_ctx_t *c, const char *message);

/* tt_api_oauth.c: connecting a TikTok account */
#define TT_OAUTH_SCOPES  "user.info.basic,video.publish,video.upload,video.list"
int tt_api_group_connect(tt_api_ctx_t *c);
int tt_api_oauth_callback(tt_api_ctx_t *c);
int tt_api_oauth_status(tt_api_ctx_t *c);

/* tt_api_webhooks.c: every /api/webhooks route */
int tt_api_webhooks(tt_api_ctx_t *c, tt_route_e route);


#endif /* _TT_API_INT_H_INCLUDED_ */
