/*
 * Copyright (C) the ngx_tiktok authors.
 * The TikTok calls of a job, shared by its steps (sched_flow.c,
 * sched_upload.c): built ahead or at once, sent, their answers read and
 * judged, the rate windows kept; and the lag of each first call.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "sched_job.h"


#define SCHED_POLL_FIRST     1000


char *
sched_jdup(sched_job_t *j, const char *s)
{
    return s ? tt_arena_strndup(j->arena, s, strlen(s)) : NULL;
}


/* sends a request for the job; the answer comes to done */
int
sched_job_send(sched_t *s, sched_job_t *j, sched_http_t *h)
{
    if (sched_http_start(s, h) != SCHED_OK) {
        sched_http_free(s, h);
        sched_job_fail_msg(s, j, SCHED_R_RETRY, "Could not start a request",
                           NULL);
        return SCHED_ERR;
    }

    j->http = h;
    return SCHED_OK;
}


sched_http_t *
sched_job_http(sched_t *s, sched_job_t *j, sched_http_done_pt done)
{
    sched_http_t  *h;

    h = sched_http_new(s, done, j);
    if (h == NULL) {
        sched_job_fail_msg(s, j, SCHED_R_RETRY, "Out of memory", NULL);
    }

    return h;
}


/* a v2 JSON call with the profile's bearer token, built, not sent */
static sched_http_t *
sched_job_request(sched_t *s, sched_job_t *j, const char *path,
    tt_buf_t *body, sched_http_done_pt done)
{
    sched_http_t  *h;
    char          *url;

    url = sched_tt_url(s, j->arena, path);
    h = sched_job_http(s, j, done);

    if (h == NULL) {
        return NULL;
    }

    if (url == NULL
        || sched_http_json(h, url, j->profile.access_token,
                           body->len ? body->data : "{}",
                           body->len ? body->len : 2) != SCHED_OK)
    {
        sched_http_free(s, h);
        sched_job_fail_msg(s, j, SCHED_R_RETRY, "Out of memory", NULL);
        return NULL;
    }

    return h;
}


static void
sched_job_fire(sched_t *s, sched_job_t *j, sched_http_t *h, const char *path)
{
    sched_debug("post %s: POST %s", j->post_id, path);

    sched_lag_note(s, j);
    (void) sched_job_send(s, j, h);
}


void
sched_job_call(sched_t *s, sched_job_t *j, const char *path, tt_buf_t *body,
    sched_http_done_pt done)
{
    sched_http_t  *h;

    h = sched_job_request(s, j, path, body, done);

    if (h != NULL) {
        sched_job_fire(s, j, h, path);
    }
}


/*
 * The first call of an attempt is built while the job waits for its due
 * time (URL, headers, body, the easy handle set up), so that at the due
 * time a thousand of them only go on the multi handle, one after another
 * in due order (sched_jobs_launch).  Built for the step that sends it
 * (state); a job that starts over drops it (sched_job_unready).
 */
int
sched_job_ready(sched_t *s, sched_job_t *j, int state, const char *path,
    tt_buf_t *body, sched_http_done_pt done)
{
    sched_job_unready(s, j);

    j->ready = sched_job_request(s, j, path, body, done);
    if (j->ready == NULL) {
        return SCHED_ERR;
    }

    j->ready_path = path;
    j->ready_state = state;

    return SCHED_OK;
}


/* 1 when a call built ahead waits for this step */
int
sched_job_has_ready(sched_t *s, sched_job_t *j, int state)
{
    if (j->ready != NULL && j->ready_state != state) {
        sched_job_unready(s, j);
    }

    return j->ready != NULL;
}


void
sched_job_fire_ready(sched_t *s, sched_job_t *j)
{
    sched_http_t  *h;

    h = j->ready;
    j->ready = NULL;

    sched_job_fire(s, j, h, j->ready_path);
}


/* the start of a completion: the job of h, or NULL if it was dropped */
sched_job_t *
sched_job_of(sched_http_t *h)
{
    sched_job_t  *j;

    j = h->data;

    if (j != NULL) {
        j->http = NULL;
    }

    return j;
}


/* waits until the limiter lets one more call of kind through */
int
sched_job_limited(sched_t *s, sched_job_t *j, sched_lim_e kind)
{
    int64_t  now, wait;

    now = tt_mono_ms();
    wait = sched_limit_wait(j->prof, kind, now);

    if (wait > 0) {
        sched_log(SCHED_LOG_INFO, "post %s: the profile's rate window is "
                  "full, waiting %lld ms", j->post_id, (long long) wait);
        sched_job_wait(s, j, wait);
        return 1;
    }

    sched_limit_take(j->prof, kind, now);
    return 0;
}


/* 401 access_token_invalid: refresh once, then the same step again */
static void
sched_job_auth(sched_t *s, sched_job_t *j, sched_answer_t *ans)
{
    if (j->refreshed) {
        ans->result = SCHED_R_FAIL;
        ans->note = "Reconnect the TikTok profile.";
        sched_job_fail(s, j, ans);
        return;
    }

    j->refreshed = 1;
    j->bad_token = sched_jdup(j, j->profile.access_token);
    j->resume_state = j->state;
    j->state = J_TOKEN;
    sched_job_kick(s, j);
}


/* the answer decides: 1 when the caller goes on with ans->data */
int
sched_job_answer(sched_t *s, sched_job_t *j, sched_http_t *h,
    tt_arena_t *a, sched_answer_t *ans)
{
    sched_tt_answer(h, a, ans);

    if (ans->result == SCHED_R_OK) {
        return 1;
    }

    sched_log(SCHED_LOG_WARN, "post %s: TikTok answered %ld %s (%s)",
              j->post_id, h->status, ans->code ? ans->code : "-",
              ans->message ? ans->message : (ans->human ? ans->human : ""));

    if (ans->result == SCHED_R_AUTH) {
        sched_job_auth(s, j, ans);
        return 0;
    }

    sched_job_fail(s, j, ans);
    return 0;
}


int
sched_job_open(sched_t *s, sched_job_t *j, int64_t *size)
{
    tt_media_t   *m;
    struct stat   st;
    char          path[4096];
    int           n;

    m = &j->post.media[0];

    if (m->spool_path) {
        n = snprintf(path, sizeof(path), "%s", m->spool_path);

    } else {
        n = snprintf(path, sizeof(path), "%s/%s",
                     s->conf.spool_dir ? s->conf.spool_dir : ".", m->id);
    }

    if (n < 0 || (size_t) n >= sizeof(path)) {
        return SCHED_ERR;
    }

    if (j->fd == -1) {
        j->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (j->fd == -1) {
            sched_log(SCHED_LOG_ERR, "post %s: open(\"%s\") failed: %s",
                      j->post_id, path, strerror(errno));
            return SCHED_ERR;
        }
    }

    if (fstat(j->fd, &st) == -1) {
        return SCHED_ERR;
    }

    *size = st.st_size;
    return SCHED_OK;
}


/* the first status/fetch comes a second after the upload or init */
void
sched_job_polling(sched_t *s, sched_job_t *j)
{
    j->state = J_POLL;
    j->poll_delay = SCHED_POLL_FIRST;
    sched_job_wait(s, j, j->poll_delay);
}


/* the lag from the due time to the first call of a post's first attempt */

#define SCHED_LAGS_MAX  100000

void
sched_lag_note(sched_t *s, sched_job_t *j)
{
    int64_t  due;

    if (j->lag_noted || j->resuming || j->pl->attempts != 1) {
        return;
    }

    j->lag_noted = 1;
    due = j->post.scheduled_at;

    if (due < 0 || due < s->started_at) {
        return;
    }

    sched_metric_lag(s, tt_now_ms() - due);

    if (s->lags == NULL) {
        s->lags = malloc(SCHED_LAGS_MAX * sizeof(int64_t));
        if (s->lags == NULL) {
            return;
        }
    }

    if (s->nlags < SCHED_LAGS_MAX) {
        s->lags[s->nlags++] = tt_now_ms() - due;
    }
}


static int
sched_lag_cmp(const void *a, const void *b)
{
    int64_t  x = *(const int64_t *) a, y = *(const int64_t *) b;

    return (x > y) - (x < y);
}


void
sched_lag_report(sched_t *s)
{
    size_t  n;

    n = s->nlags;

    if (n > 0) {
        qsort(s->lags, n, sizeof(int64_t), sched_lag_cmp);
        sched_log(SCHED_LOG_INFO, "due time to first TikTok call over %zu "
                  "posts: p50 %lld ms, p99 %lld ms, max %lld ms", n,
                  (long long) s->lags[n / 2],
                  (long long) s->lags[n * 99 / 100],
                  (long long) s->lags[n - 1]);
    }

    free(s->lags);
    s->lags = NULL;
    s->nlags = 0;
}
