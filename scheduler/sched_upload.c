/*
 * Copyright (C) the ngx_tiktok authors.
 * The upload of a publish: chunk PUTs from the spool file, resync after a
 * lost answer or a 416, and status/fetch polling to the end.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched_job.h"


#define SCHED_POLL_MAX       15000
#define SCHED_POLLS_MAX      400
#define SCHED_ID_POLLS       3
#define SCHED_CHUNK_TRIES    3
#define SCHED_STATUS_ERRORS  8

/*
 * TikTok's post id of a public post comes after moderation, minutes or
 * hours after PUBLISH_COMPLETE: asked again for SCHED_ID_WAIT_MS, each
 * time after half the time waited so far (10 s to an hour): about 85
 * questions in 72 hours, far under the 30 status/fetch a minute.
 */
#define SCHED_ID_WAIT_MS     (72 * 3600 * 1000LL)
#define SCHED_ID_NEXT_MIN    10000
#define SCHED_ID_NEXT_MAX    3600000


/* J_PUT */

static void sched_put_done(sched_t *s, sched_http_t *h);
static void sched_upload_over(sched_t *s, sched_job_t *j, const char *why);


static const char *
sched_video_type(const tt_media_t *m)
{
    if (m->content_type
        && (strcmp(m->content_type, "video/quicktime") == 0
            || strcmp(m->content_type, "video/webm") == 0))
    {
        return m->content_type;
    }

    return "video/mp4";
}


static void
sched_plan_of(const tt_platform_t *pl, tt_chunk_plan_t *plan)
{
    plan->video_size = pl->bytes_total;
    plan->chunk_size = pl->chunk_size;
    plan->count = pl->chunk_count;
}


static void
sched_job_uploaded(sched_t *s, sched_job_t *j)
{
    j->pl->bytes_sent = j->pl->bytes_total;
    j->pl->stage = TT_STAGE_POLL;
    sched_job_save(s, j);

    sched_slot_release(s, j);

    sched_log(SCHED_LOG_INFO, "post %s: upload complete", j->post_id);

    sched_job_polling(s, j);
}


void
sched_job_put(sched_t *s, sched_job_t *j)
{
    tt_chunk_plan_t   plan;
    sched_http_t     *h;
    int64_t           i, first, len, size;

    sched_plan_of(j->pl, &plan);

    if (j->pl->bytes_sent >= plan.video_size) {
        sched_job_uploaded(s, j);
        return;
    }

    i = tt_chunk_at(&plan, j->pl->bytes_sent);

    if (i < 0 || sched_job_open(s, j, &size) != SCHED_OK
        || size != plan.video_size)
    {
        sched_job_fail_msg(s, j, SCHED_R_RETRY,
                           "The upload's progress or file is inconsistent",
                           NULL);
        return;
    }

    tt_chunk_range(&plan, i, &first, &len);

    h = sched_job_http(s, j, sched_put_done);
    if (h == NULL) {
        return;
    }

    if (sched_http_put(h, j->pl->upload_url, sched_video_type(
                           &j->post.media[0]), j->fd, first, len,
                       plan.video_size) != SCHED_OK)
    {
        sched_http_free(s, h);
        sched_job_fail_msg(s, j, SCHED_R_RETRY, "Out of memory", NULL);
        return;
    }

    sched_debug("post %s: PUT chunk %lld/%lld bytes %lld-%lld", j->post_id,
                (long long) i + 1, (long long) plan.count, (long long) first,
                (long long) (first + len - 1));

    (void) sched_job_send(s, j, h);
}


/* where TikTok says the upload is, from Content-Range */
static void
sched_put_resync(sched_t *s, sched_job_t *j, sched_http_t *h)
{
    tt_chunk_plan_t  plan;
    int64_t          got;

    sched_plan_of(j->pl, &plan);

    if (h->range_last < -1) {
        j->state = J_RESYNC;
        sched_job_kick(s, j);
        return;
    }

    got = h->range_last + 1;

    if (got >= plan.video_size) {
        sched_job_uploaded(s, j);
        return;
    }

    if (tt_chunk_at(&plan, got) < 0) {
        j->state = J_RESYNC;
        sched_job_kick(s, j);
        return;
    }

    sched_log(SCHED_LOG_INFO, "post %s: TikTok has %lld bytes, going on "
              "from there", j->post_id, (long long) got);

    j->pl->bytes_sent = got;
    sched_job_save(s, j);
    j->state = J_PUT;
    sched_job_kick(s, j);
}


static void
sched_put_retry(sched_t *s, sched_job_t *j, sched_http_t *h)
{
    char  msg[CURL_ERROR_SIZE + 64];

    if (++j->chunk_tries < SCHED_CHUNK_TRIES) {
        sched_log(SCHED_LOG_WARN, "post %s: chunk at %lld failed (%ld %s), "
                  "sending it again", j->post_id,
                  (long long) j->pl->bytes_sent, h->status,
                  h->result != CURLE_OK ? curl_easy_strerror(h->result) : "");
        j->state = J_PUT;
        sched_job_wait(s, j, sched_backoff_from(1000, 30000, j->chunk_tries));
        return;
    }

    (void) snprintf(msg, sizeof(msg), "Uploading a chunk to TikTok failed "
                    "%d times (HTTP %ld%s%s)", j->chunk_tries, h->status,
                    h->result != CURLE_OK ? ", " : "",
                    h->result != CURLE_OK ? curl_easy_strerror(h->result)
                                          : "");
    sched_job_fail_msg(s, j, SCHED_R_RETRY, sched_jdup(j, msg), NULL);
}


static void
sched_put_done(sched_t *s, sched_http_t *h)
{
    sched_job_t      *j;
    tt_chunk_plan_t   plan;
    int64_t           first, len;
    char              msg[256];

    j = sched_job_of(h);
    if (j == NULL) {
        return;
    }

    sched_plan_of(j->pl, &plan);

    if (h->result != CURLE_OK) {
        /* the answer was lost, not the chunk perhaps: ask, never guess */
        if (j->chunk_tries + 1 >= SCHED_CHUNK_TRIES) {
            sched_put_retry(s, j, h);
            return;
        }

        sched_log(SCHED_LOG_WARN, "post %s: the answer to the chunk at %lld "
                  "was lost (%s), asking TikTok where the upload is",
                  j->post_id, (long long) j->pl->bytes_sent,
                  curl_easy_strerror(h->result));
        j->chunk_tries++;
        j->state = J_RESYNC;
        sched_job_wait(s, j, 500 * j->chunk_tries);
        return;
    }

    switch (h->status) {

    case 201:
        tt_chunk_range(&plan, tt_chunk_at(&plan, j->pl->bytes_sent), &first,
                       &len);
        sched_metric_add(s, "tiktok_upload_bytes_total", NULL, len);
        sched_job_uploaded(s, j);
        return;

    case 206:
        tt_chunk_range(&plan, tt_chunk_at(&plan, j->pl->bytes_sent), &first,
                       &len);
        sched_metric_add(s, "tiktok_upload_bytes_total", NULL, len);
        j->pl->bytes_sent = first + len;
        j->chunk_tries = 0;
        sched_job_save(s, j);
        j->state = J_PUT;
        sched_job_kick(s, j);
        return;

    case 416:
        sched_put_resync(s, j, h);
        return;

    case 403:
    case 404:
        /* TikTok refused this chunk: the upload cannot be whole */
        sched_upload_over(s, j, h->status == 403
                                ? "the upload URL is no longer valid (403)"
                                : "the upload URL is no longer valid (404)");
        return;

    default:
        break;
    }

    if (h->status >= 500 || h->status == 429) {
        sched_put_retry(s, j, h);
        return;
    }

    (void) snprintf(msg, sizeof(msg), "TikTok rejected a chunk of the upload "
                    "(HTTP %ld): %.*s", h->status,
                    (int) (h->resp.len > 120 ? 120 : h->resp.len),
                    h->resp.len ? h->resp.data : "");
    sched_job_fail_msg(s, j, SCHED_R_FAIL, sched_jdup(j, msg), NULL);
}


/* the end: published */

/* why a published platform has no TikTok post id, for the log */
static const char *
sched_no_id_why(const tt_platform_t *pl)
{
    if (pl->params.post_mode == TT_MODE_UPLOAD) {
        return "sent to the creator's TikTok inbox: TikTok gives no post "
               "id until the creator posts it in the app";
    }

    if (pl->params.privacy == TT_PRIVACY_SELF) {
        return "private (SELF_ONLY): TikTok gives no post id for a private "
               "post";
    }

    if (pl->params.privacy != TT_PRIVACY_PUBLIC) {
        return "visible to followers or friends only: TikTok gives a post "
               "id only for a public post";
    }

    if (pl->id_until > 0) {
        return "TikTok gives the post id after its moderation: asking "
               "again for up to 72 hours";
    }

    return "TikTok gave no post id";
}


void
sched_job_published(sched_t *s, sched_job_t *j, int64_t id)
{
    tt_platform_t  *pl;
    const char     *user;
    char            url[512];
    int             n;

    pl = j->pl;
    pl->status = TT_PLAT_PUBLISHED;
    pl->platform_id = id;
    pl->next_attempt_at = -1;
    pl->error = NULL;
    pl->error_code = NULL;
    pl->error_message = NULL;
    pl->error_note = NULL;

    user = j->username ? j->username : j->profile.username;

    if (id > 0 && user && user[0]) {
        /* TikTok's permalink: /photo/ for a photo post, /video/ else */
        n = snprintf(url, sizeof(url), "https://www.tiktok.com/@%s/%s/%lld",
                     user, pl->params.format == TT_FORMAT_IMAGE ? "photo"
                                                                : "video",
                     (long long) id);
        if (n > 0 && (size_t) n < sizeof(url)) {
            pl->url = tt_arena_strndup(j->arena, url, n);
        }
    }

    if (id > 0) {
        pl->id_until = 0;
        sched_stats_track(s, j->post_id, tt_now_ms());
        sched_log(SCHED_LOG_INFO, "post %s %s, publish_id \"%s\", post id "
                  "%lld", j->post_id, j->id_check ? "got its TikTok post id "
                  "after moderation" : "published",
                  pl->publish_id ? pl->publish_id : "", (long long) id);

    } else {
        sched_log(SCHED_LOG_INFO, "post %s published, publish_id \"%s\", "
                  "no post id: %s", j->post_id,
                  pl->publish_id ? pl->publish_id : "", sched_no_id_why(pl));
    }

    /* the id after moderation is the same publish, counted once */
    if (!j->id_check) {
        sched_metric_add(s, "tiktok_publishes_total", NULL, 1);
    }

    sched_job_end(s, j);

    if (!j->id_check) {
        sched_job_release(s, j);
    }
}


/* J_RESYNC and J_POLL: status/fetch */

static void sched_status_done(sched_t *s, sched_http_t *h);


void
sched_job_status(sched_t *s, sched_job_t *j)
{
    tt_buf_t  body;

    if (sched_job_limited(s, j, SCHED_LIM_STATUS)) {
        return;
    }

    tt_buf_init(&body);

    if (sched_tt_status_body(j->pl->publish_id, &body) != SCHED_OK) {
        tt_buf_free(&body);
        sched_job_fail_msg(s, j, SCHED_R_RETRY, "Out of memory", NULL);
        return;
    }

    sched_job_call(s, j, "/v2/post/publish/status/fetch/", &body,
                   sched_status_done);
    tt_buf_free(&body);
}


static void
sched_poll_again(sched_t *s, sched_job_t *j)
{
    if (++j->polls > SCHED_POLLS_MAX) {
        /* stage POLL is kept: the next attempt goes on polling */
        sched_job_fail_msg(s, j, SCHED_R_RETRY,
                           "TikTok is still processing the post", NULL);
        return;
    }

    j->poll_delay = j->poll_delay ? j->poll_delay * 2 : SCHED_POLL_FIRST;
    if (j->poll_delay > SCHED_POLL_MAX) {
        j->poll_delay = SCHED_POLL_MAX;
    }

    j->state = J_POLL;
    sched_job_wait(s, j, j->poll_delay);
}


/* an upload TikTok will never publish: a new init is safe */
static void
sched_upload_over(sched_t *s, sched_job_t *j, const char *why)
{
    sched_log(SCHED_LOG_INFO, "post %s: %s, starting the upload again",
              j->post_id, why);

    sched_clear_upload(j);
    j->state = J_SLOT;
    sched_job_kick(s, j);
}


static void
sched_status_upload(sched_t *s, sched_job_t *j, const tt_json_t *data)
{
    tt_chunk_plan_t  plan;
    int64_t          got;

    if (j->state != J_RESYNC) {
        sched_poll_again(s, j);
        return;
    }

    sched_plan_of(j->pl, &plan);

    if (sched_tt_int64(tt_json_get(data, "uploaded_bytes"), &got)
        != SCHED_OK
        || (got < plan.video_size && tt_chunk_at(&plan, got) < 0))
    {
        /* nothing is published before the last chunk: start over */
        sched_upload_over(s, j, "TikTok's count of the bytes is not a "
                          "chunk's end");
        return;
    }

    if (got >= plan.video_size) {
        /* every chunk landed, the last answer was lost: follow it */
        sched_job_uploaded(s, j);
        return;
    }

    if (j->pl->upload_url == NULL
        || j->pl->upload_expires_at <= tt_now_ms() + SCHED_URL_MARGIN_MS)
    {
        sched_upload_over(s, j, "the upload URL expired before the last "
                          "chunk");
        return;
    }

    sched_log(SCHED_LOG_INFO, "post %s: TikTok has %lld of %lld bytes",
              j->post_id, (long long) got, (long long) plan.video_size);

    j->pl->bytes_sent = got;
    sched_job_save(s, j);
    j->state = J_PUT;
    sched_job_kick(s, j);
}


static void
sched_status_complete(sched_t *s, sched_job_t *j, const tt_json_t *data)
{
    tt_json_t  *ids;
    int64_t     id;

    ids = tt_json_get(data, "publicaly_available_post_id");
    id = 0;

    if (ids && ids->type == TT_JSON_ARRAY && ids->n > 0) {
        if (sched_tt_int64(ids->items[0], &id) != SCHED_OK) {
            id = 0;
        }
    }

    if (id > 0) {
        sched_job_published(s, j, id);
        return;
    }

    if (j->id_check) {
        sched_job_id_later(s, j, "not yet");
        return;
    }

    /* TikTok fills the id only for a public post, after moderation */
    if (j->pl->params.privacy == TT_PRIVACY_PUBLIC
        && j->pl->params.post_mode == TT_MODE_DIRECT)
    {
        if (j->id_polls++ < SCHED_ID_POLLS) {
            /* moderation: the id of a public post often comes soon */
            sched_poll_again(s, j);
            return;
        }

        /* published without it: asked again from the agenda */
        j->pl->id_until = tt_now_ms() + SCHED_ID_WAIT_MS;
        j->post.due_at = tt_now_ms() + SCHED_ID_NEXT_MIN;
    }

    sched_job_published(s, j, 0);
}


/* published already: a failed question only asks again later */
static int
sched_id_failing(sched_t *s, sched_job_t *j, const sched_answer_t *ans)
{
    sched_job_id_later(s, j, ans->code ? ans->code
                             : ans->human ? ans->human : "an error");
    return 1;
}


/*
 * A published post whose id is awaited, due again: status/fetch once,
 * through J_TOKEN (a fresh token) and J_ROUTE (stage POLL -> J_POLL).
 */
void
sched_job_id_start(sched_t *s, sched_job_t *j)
{
    j->failing = sched_id_failing;
    j->id_check = 1;
    j->resuming = 1;
    j->state = J_TOKEN;
    sched_job_go(s, j);
}


/*
 * No id this time (not yet, or the question failed): the next question
 * goes on the agenda, durable, so that a restart keeps asking; past
 * SCHED_ID_WAIT_MS the post stays published without an id.
 */
void
sched_job_id_later(sched_t *s, sched_job_t *j, const char *why)
{
    int64_t  now, waited, next;

    now = tt_now_ms();
    waited = now - (j->pl->id_until - SCHED_ID_WAIT_MS);

    if (now >= j->pl->id_until) {
        sched_log(SCHED_LOG_WARN, "post %s: TikTok gave no post id within "
                  "%lld hours of publishing (%s): no longer asking; the "
                  "post stays without platform_id and url", j->post_id,
                  (long long) (SCHED_ID_WAIT_MS / 3600000), why);
        j->pl->id_until = 0;
        sched_job_end(s, j);
        return;
    }

    next = waited / 2;
    next = next < SCHED_ID_NEXT_MIN ? SCHED_ID_NEXT_MIN
           : next > SCHED_ID_NEXT_MAX ? SCHED_ID_NEXT_MAX : next;

    if (now + next > j->pl->id_until) {
        next = j->pl->id_until - now;
    }

    sched_debug("post %s: no TikTok post id yet (%s), asking again in "
                "%lld s", j->post_id, why, (long long) (next / 1000));

    j->post.due_at = now + next;
    sched_job_end(s, j);
}


static void
sched_status_ok(sched_t *s, sched_job_t *j, const tt_json_t *data)
{
    const char      *st;
    sched_answer_t   ans;

    st = sched_tt_str(data, "status");
    j->status_errors = 0;

    sched_debug("post %s: status %s", j->post_id, st ? st : "(none)");

    if (j->id_check && (st == NULL || strcmp(st, "PUBLISH_COMPLETE") != 0)) {
        sched_job_id_later(s, j, st ? st : "no status");
        return;
    }

    if (st == NULL) {
        sched_poll_again(s, j);

    } else if (strcmp(st, "PROCESSING_UPLOAD") == 0) {
        sched_status_upload(s, j, data);

    } else if (strcmp(st, "PUBLISH_COMPLETE") == 0) {
        sched_status_complete(s, j, data);

    } else if (strcmp(st, "SEND_TO_USER_INBOX") == 0) {
        /* inbox mode ends here: the creator finishes it in the app */
        sched_job_published(s, j, 0);

    } else if (strcmp(st, "FAILED") == 0) {
        memset(&ans, 0, sizeof(ans));
        sched_tt_fail_reason(sched_jdup(j, sched_tt_str(data, "fail_reason")),
                             &ans);

        /* this publish is over at TikTok: a retry starts a new one */
        j->pl->stage = TT_STAGE_NONE;
        sched_job_fail(s, j, &ans);

    } else {
        sched_poll_again(s, j);
    }
}


static void
sched_status_done(sched_t *s, sched_http_t *h)
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

    sched_tt_answer(h, a, &ans);

    if (ans.result == SCHED_R_OK) {
        sched_status_ok(s, j, ans.data);

    } else if (j->id_check) {
        /* the post is published whatever the answer: ask again later */
        sched_job_id_later(s, j, ans.code ? ans.code : "an error");

    } else if (ans.result == SCHED_R_RETRY
               && ++j->status_errors < SCHED_STATUS_ERRORS)
    {
        /* TikTok has the post: keep asking, don't restart the attempt */
        sched_log(SCHED_LOG_WARN, "post %s: status/fetch failed (%ld %s)",
                  j->post_id, h->status, ans.code ? ans.code : "");
        sched_job_wait(s, j, 1000LL << (j->status_errors > 5 ? 5
                                        : j->status_errors));

    } else if (ans.code && strcmp(ans.code, "invalid_publish_id") == 0
               && j->pl->stage == TT_STAGE_UPLOAD)
    {
        /* an upload TikTok forgot: nothing was published, start over */
        sched_upload_over(s, j, "TikTok does not know the upload");

    } else {
        (void) sched_job_answer(s, j, h, a, &ans);
    }

    tt_arena_destroy(a);
}
