/*
 * Copyright (C) the ngx_tiktok authors.
 * The network steps of a publish before the upload: token refresh,
 * creator_info and init (the states are in sched_job.c).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "sched_job.h"


#define SCHED_UPLOAD_URL_TTL (3600 * 1000LL)
#define SCHED_TOKEN_DEFAULT  (3600 * 1000LL)

/*
 * A refresh token TikTok refuses (invalid_grant) more than this before
 * its own expiry was revoked, not expired: the clocks may differ a little.
 */
#define SCHED_REFRESH_SKEW   (60 * 1000LL)

#define SCHED_RECONNECT      "Reconnect this TikTok account: connect it " \
                             "again from its profile group " \
                             "(initialize_connection)."


static void sched_profile_dead(sched_t *s, sched_job_t *j,
    tt_profile_status_e status, const char *why);


/* J_TOKEN */

static void sched_refresh_done(sched_t *s, sched_http_t *h);


static int
sched_job_profile(sched_t *s, sched_job_t *j)
{
    tt_txn_t  t, *use;
    int       rc;

    if (sched_read_begin(s, &t, &use) != SCHED_OK) {
        return TT_ERR;
    }

    rc = tt_profile_get(use, j->pl->profile_id, j->arena, &j->profile);
    sched_read_end(s, &t, use);

    return rc;
}


static int
sched_refresh_body(sched_t *s, const char *refresh_token, tt_buf_t *out)
{
    if (sched_http_form_field(out, "client_key", s->conf.client_key,
                              strlen(s->conf.client_key)) != SCHED_OK
        || sched_http_form_field(out, "client_secret", s->client_secret.data,
                                 s->client_secret.len) != SCHED_OK
        || sched_http_form_field(out, "grant_type", "refresh_token",
                                 sizeof("refresh_token") - 1) != SCHED_OK
        || sched_http_form_field(out, "refresh_token", refresh_token,
                                 strlen(refresh_token)) != SCHED_OK)
    {
        return SCHED_ERR;
    }

    return SCHED_OK;
}


static void
sched_job_refresh(sched_t *s, sched_job_t *j)
{
    sched_http_t  *h;
    tt_buf_t       body;
    char          *url;

    tt_buf_init(&body);

    url = sched_tt_url(s, j->arena, "/v2/oauth/token/");
    h = sched_job_http(s, j, sched_refresh_done);
    if (h == NULL) {
        return;
    }

    if (url == NULL
        || sched_refresh_body(s, j->profile.refresh_token, &body)
           != SCHED_OK
        || sched_http_form(h, url, body.data, body.len) != SCHED_OK)
    {
        if (body.data) {
            memset(body.data, 0, body.len);
        }

        tt_buf_free(&body);
        sched_http_free(s, h);
        sched_job_fail_msg(s, j, SCHED_R_RETRY, "Out of memory", NULL);
        return;
    }

    if (body.data) {
        memset(body.data, 0, body.len);
    }

    tt_buf_free(&body);

    sched_log(SCHED_LOG_INFO, "post %s: refreshing the access token of "
              "profile %s", j->post_id, j->profile.id);

    j->prof->refreshing = 1;
    j->state = J_REFRESH;
    (void) sched_job_send(s, j, h);
}


void
sched_job_token(sched_t *s, sched_job_t *j)
{
    int      rc, stale;
    int64_t  now, margin;

    rc = sched_job_profile(s, j);

    if (rc != TT_OK) {
        sched_job_fail_msg(s, j, rc == TT_NOTFOUND ? SCHED_R_FAIL
                                                   : SCHED_R_RETRY,
                           rc == TT_NOTFOUND
                           ? "The TikTok profile of this post no longer exists"
                           : "Could not read the TikTok profile",
                           NULL);
        return;
    }

    if (j->profile.status == TT_PROFILE_REVOKED) {
        sched_job_fail_msg(s, j, SCHED_R_FAIL,
                           "The TikTok account's authorization was revoked",
                           SCHED_RECONNECT);
        return;
    }

    if (j->profile.status != TT_PROFILE_ACTIVE
        || j->profile.access_token == NULL)
    {
        sched_job_fail_msg(s, j, SCHED_R_FAIL,
                           "The TikTok account's authorization expired",
                           SCHED_RECONNECT);
        return;
    }

    now = tt_now_ms();
    margin = s->conf.refresh_margin_ms;         /* never 0: sched_conf.c */

    stale = j->bad_token
            && strcmp(j->bad_token, j->profile.access_token) == 0;

    if (stale || j->profile.expires_at - now < margin) {
        if (j->prof->refreshing) {
            /* another job of this profile refreshes: kicked when done */
            sched_job_wait(s, j, 2000);
            return;
        }

        if (j->profile.refresh_token == NULL
            || j->profile.refresh_token[0] == '\0'
            || (j->profile.refresh_expires_at > 0
                && j->profile.refresh_expires_at <= now))
        {
            sched_profile_dead(s, j, TT_PROFILE_EXPIRED, "its refresh token "
                               "expired");
            return;
        }

        sched_job_refresh(s, j);
        return;
    }

    /* nothing was saved in this step: go on at once, no commit needed */
    j->bad_token = NULL;
    j->state = j->resume_state ? j->resume_state : J_ROUTE;
    j->resume_state = 0;
    sched_job_go(s, j);
}


static void
sched_refresh_waiters(sched_t *s, sched_prof_t *prof)
{
    sched_job_t  *k;

    prof->refreshing = 0;

    for (k = s->jobs; k; k = k->next) {
        if (k->prof == prof && k->state == J_TOKEN && k->http == NULL) {
            sched_job_kick(s, k);
        }
    }
}


static int
sched_refresh_store(sched_t *s, sched_job_t *j, const tt_json_t *root)
{
    tt_txn_t    *t;
    tt_profile_t *p;
    const char  *at, *rt;
    int64_t      now, v;

    p = &j->profile;
    now = tt_now_ms();

    /* an answer without a token is no refresh: the profile stays as is */
    at = sched_tt_str(root, "access_token");
    if (at == NULL || at[0] == '\0') {
        return SCHED_ERR;
    }

    p->access_token = sched_jdup(j, at);

    p->expires_at = now + SCHED_TOKEN_DEFAULT;
    if (sched_tt_int64(tt_json_get(root, "expires_in"), &v) == SCHED_OK) {
        p->expires_at = now + v * 1000;
    }

    /* rotation: the new refresh token replaces the old, never by "" */
    rt = sched_tt_str(root, "refresh_token");
    if (rt && rt[0]) {
        p->refresh_token = sched_jdup(j, rt);

        if (sched_tt_int64(tt_json_get(root, "refresh_expires_in"), &v)
            == SCHED_OK)
        {
            p->refresh_expires_at = now + v * 1000;
        }
    }

    if (p->access_token == NULL || p->refresh_token == NULL) {
        return SCHED_ERR;
    }

    p->status = TT_PROFILE_ACTIVE;

    t = sched_txn(s);
    if (t == NULL || tt_profile_put(t, p) != TT_OK) {
        return SCHED_ERR;
    }

    j->saved_gen = s->txn_gen;
    return SCHED_OK;
}


/*
 * The profile cannot publish until it is connected again: marked so (the
 * API shows it), and the job fails saying to reconnect.  The profile's
 * other due posts fail at their token step, on the status.
 */
static void
sched_profile_dead(sched_t *s, sched_job_t *j, tt_profile_status_e status,
    const char *why)
{
    tt_txn_t  *t;

    j->profile.status = status;

    t = sched_txn(s);
    if (t != NULL) {
        (void) tt_profile_put(t, &j->profile);
    }

    sched_log(SCHED_LOG_WARN, "profile %s: %s, the profile is %s",
              j->profile.id, why,
              status == TT_PROFILE_REVOKED ? "revoked" : "expired");

    sched_job_fail_msg(s, j, SCHED_R_FAIL,
                       status == TT_PROFILE_REVOKED
                       ? "The TikTok account's authorization was revoked "
                         "(or its refreshed token was lost)"
                       : "The TikTok account's authorization expired",
                       SCHED_RECONNECT);
}


/*
 * invalid_grant: TikTok says the same for a refresh token that expired
 * and for one whose grant was revoked (the user disconnected the app, or
 * TikTok removed it).  One refused well before its expiry was revoked,
 * or rotated by a refresh whose answer (the new token) was lost: TikTok
 * retires the old token at once, and a scheduler killed between TikTok's
 * answer and its commit never saved the new one.  Either way only a new
 * connection helps.
 */
static void
sched_refresh_refused(sched_t *s, sched_job_t *j)
{
    if (j->profile.refresh_expires_at > tt_now_ms() + SCHED_REFRESH_SKEW) {
        sched_profile_dead(s, j, TT_PROFILE_REVOKED, "TikTok refused its "
                           "refresh token before its expiry: the "
                           "authorization was revoked, or a refresh's "
                           "new token was lost before it was saved");
        return;
    }

    sched_profile_dead(s, j, TT_PROFILE_EXPIRED, "TikTok refused its "
                       "refresh token");
}


static void
sched_refresh_done(sched_t *s, sched_http_t *h)
{
    sched_job_t  *j;
    tt_arena_t   *a;
    tt_json_t    *root;
    const char   *err;
    char          msg[160];

    j = sched_job_of(h);
    if (j == NULL) {
        return;
    }

    a = tt_arena_create(4096);
    root = NULL;

    if (a && h->result == CURLE_OK && h->resp.len) {
        root = tt_json_parse(a, h->resp.data, h->resp.len, msg, sizeof(msg));
    }

    err = sched_tt_str(root, "error");

    /* success iff the body has an access_token, whatever the HTTP
     * status; an empty one is none */
    if (sched_tt_str(root, "access_token") != NULL
        && sched_tt_str(root, "access_token")[0] != '\0')
    {
        if (sched_refresh_store(s, j, root) == SCHED_OK) {
            sched_metric_add(s, "tiktok_token_refreshes_total",
                             "result=\"ok\"", 1);
            j->bad_token = NULL;
            j->state = j->resume_state ? j->resume_state : J_ROUTE;
            j->resume_state = 0;
            sched_job_kick(s, j);

        } else {
            sched_job_fail_msg(s, j, SCHED_R_RETRY,
                               "Could not store the refreshed token", NULL);
        }

    } else if (err && strcmp(err, "invalid_grant") == 0) {
        sched_metric_add(s, "tiktok_token_refreshes_total",
                         "result=\"expired\"", 1);
        sched_refresh_refused(s, j);

    } else if (err && h->status < 500 && strcmp(err, "invalid_client") == 0) {
        sched_job_fail_msg(s, j, SCHED_R_FAIL,
                           "TikTok refused the app's client key or secret",
                           "Check tiktok_client_key and "
                           "tiktok_client_secret_file.");

    } else {
        sched_metric_add(s, "tiktok_token_refreshes_total",
                         "result=\"failed\"", 1);
        sched_job_fail_msg(s, j, SCHED_R_RETRY,
                           "Could not refresh the TikTok access token", NULL);
    }

    /* the waiters run after the commit that made the tokens durable */
    sched_refresh_waiters(s, j->prof);
    tt_arena_destroy(a);
}


/* J_CREATOR */

static void sched_creator_done(sched_t *s, sched_http_t *h);


void
sched_job_creator(sched_t *s, sched_job_t *j)
{
    tt_buf_t  body;

    if (!sched_job_has_ready(s, j, J_CREATOR)) {
        tt_buf_init(&body);

        if (sched_job_ready(s, j, J_CREATOR,
                            "/v2/post/publish/creator_info/query/", &body,
                            sched_creator_done)
            != SCHED_OK)
        {
            return;
        }
    }

    if (sched_job_early(s, j) || sched_job_limited(s, j, SCHED_LIM_CREATOR)) {
        return;
    }

    sched_job_fire_ready(s, j);
}


static void
sched_creator_check(sched_t *s, sched_job_t *j, const tt_json_t *data)
{
    tt_json_t   *opts;
    const char  *want;
    size_t       i;
    int64_t      max, dur;
    char         msg[200];

    j->username = sched_jdup(j, sched_tt_str(data, "creator_username"));

    want = tt_privacy_name(j->pl->params.privacy);
    opts = tt_json_get(data, "privacy_level_options");

    for (i = 0; opts && opts->type == TT_JSON_ARRAY && i < opts->n; i++) {
        if (opts->items[i]->type == TT_JSON_STRING
            && strcmp(opts->items[i]->str, want) == 0)
        {
            break;
        }
    }

    if (opts == NULL || opts->type != TT_JSON_ARRAY || i == opts->n) {
        (void) snprintf(msg, sizeof(msg), "The privacy level %s is not "
                        "among this creator's options", want);
        sched_job_fail_msg(s, j, SCHED_R_FAIL, sched_jdup(j, msg),
                           "Choose one of the privacy options the creator "
                           "has in TikTok (see the profile).");
        return;
    }

    dur = (j->pl->params.format == TT_FORMAT_VIDEO && j->post.nmedia > 0)
          ? j->post.media[0].duration_ms : -1;

    if (dur >= 0
        && sched_tt_int64(tt_json_get(data, "max_video_post_duration_sec"),
                          &max) == SCHED_OK
        && dur > max * 1000)
    {
        (void) snprintf(msg, sizeof(msg), "The video is %lld s long; this "
                        "creator can post at most %lld s",
                        (long long) ((dur + 999) / 1000), (long long) max);
        sched_job_fail_msg(s, j, SCHED_R_FAIL, sched_jdup(j, msg),
                           "Shorten the video.");
        return;
    }

    j->state = J_SLOT;
    sched_job_kick(s, j);
}


static void
sched_creator_done(sched_t *s, sched_http_t *h)
{
    sched_job_t     *j;
    tt_arena_t      *a;
    sched_answer_t   ans;

    j = sched_job_of(h);
    if (j == NULL) {
        return;
    }

    a = tt_arena_create(4096);
    if (a == NULL) {
        sched_job_fail_msg(s, j, SCHED_R_RETRY, "Out of memory", NULL);
        return;
    }

    if (sched_job_answer(s, j, h, a, &ans)) {
        sched_creator_check(s, j, ans.data);
    }

    tt_arena_destroy(a);
}


/* J_INIT */

static void sched_init_done(sched_t *s, sched_http_t *h);


/* builds the init ahead (j->ready); SCHED_ERR: the job failed */
int
sched_job_init_ready(sched_t *s, sched_job_t *j)
{
    tt_chunk_plan_t  plan;
    tt_buf_t         body;
    int64_t          size;
    const char      *path;
    int              rc;

    tt_buf_init(&body);

    if (j->pl->params.format == TT_FORMAT_IMAGE) {
        rc = sched_tt_photo_init(&j->post, j->pl, &body);
        path = "/v2/post/publish/content/init/";

    } else {
        if (j->post.nmedia == 0 || sched_job_open(s, j, &size) != SCHED_OK
            || tt_chunk_plan(size, s->conf.chunk_size, &plan) != TT_OK)
        {
            sched_job_fail_msg(s, j, SCHED_R_FAIL,
                               "The video file is missing or unusable",
                               "Publish the post again to fetch the media "
                               "anew.");
            return SCHED_ERR;
        }

        j->pl->bytes_total = plan.video_size;
        j->pl->chunk_size = plan.chunk_size;
        j->pl->chunk_count = plan.count;

        rc = sched_tt_video_init(&j->post, j->pl, &plan, &body);
        path = (j->pl->params.post_mode == TT_MODE_DIRECT)
               ? "/v2/post/publish/video/init/"
               : "/v2/post/publish/inbox/video/init/";
    }

    if (rc != SCHED_OK) {
        tt_buf_free(&body);
        sched_job_fail_msg(s, j, SCHED_R_FAIL, "Could not build the request",
                           NULL);
        return SCHED_ERR;
    }

    rc = sched_job_ready(s, j, J_INIT, path, &body, sched_init_done);
    tt_buf_free(&body);

    return rc;
}


void
sched_job_init(sched_t *s, sched_job_t *j)
{
    if (!sched_job_has_ready(s, j, J_INIT)
        && sched_job_init_ready(s, j) != SCHED_OK)
    {
        return;
    }

    if (sched_job_early(s, j) || sched_job_limited(s, j, SCHED_LIM_INIT)) {
        return;
    }

    j->init_sent_at = tt_now_ms();
    sched_job_fire_ready(s, j);
}


static void
sched_init_ok(sched_t *s, sched_job_t *j, const tt_json_t *data)
{
    tt_platform_t  *pl;
    const char     *pid, *url;

    pl = j->pl;
    pid = sched_tt_str(data, "publish_id");
    url = sched_tt_str(data, "upload_url");

    if (pid == NULL || (pl->params.format == TT_FORMAT_VIDEO && url == NULL))
    {
        sched_job_fail_msg(s, j, SCHED_R_RETRY,
                           "TikTok's init answer lacks publish_id or "
                           "upload_url", NULL);
        return;
    }

    pl->publish_id = sched_jdup(j, pid);
    sched_daily_take(j->prof, tt_now_ms());

    if (pl->params.format == TT_FORMAT_IMAGE) {
        pl->stage = TT_STAGE_POLL;
        sched_job_save(s, j);
        sched_job_polling(s, j);
        return;
    }

    /* committed before the first byte: a restart continues this upload */
    pl->upload_url = sched_jdup(j, url);
    pl->upload_expires_at = j->init_sent_at + SCHED_UPLOAD_URL_TTL;
    pl->bytes_sent = 0;
    pl->stage = TT_STAGE_UPLOAD;
    sched_job_save(s, j);

    sched_log(SCHED_LOG_INFO, "post %s: init ok, publish_id \"%s\", %lld "
              "bytes in %lld chunks", j->post_id, pl->publish_id,
              (long long) pl->bytes_total, (long long) pl->chunk_count);

    j->chunk_tries = 0;
    j->state = J_PUT;
    sched_job_kick(s, j);
}


static void
sched_init_done(sched_t *s, sched_http_t *h)
{
    sched_job_t     *j;
    tt_arena_t      *a;
    sched_answer_t   ans;

    j = sched_job_of(h);
    if (j == NULL) {
        return;
    }

    a = tt_arena_create(4096);
    if (a == NULL) {
        sched_job_fail_msg(s, j, SCHED_R_RETRY, "Out of memory", NULL);
        return;
    }

    /* a photo init whose answer was lost may be publishing: never again */
    if (j->pl->params.format == TT_FORMAT_IMAGE && h->result != CURLE_OK) {
        sched_job_fail_msg(s, j, SCHED_R_FAIL,
            "The answer to the photo publish request was lost",
            "TikTok may have published the photos: check the TikTok "
            "profile before publishing this post again.");

    } else if (sched_job_answer(s, j, h, a, &ans)) {
        sched_init_ok(s, j, ans.data);
    }

    tt_arena_destroy(a);
}
