/*
 * Copyright (C) the ngx_tiktok authors.
 * The publish flow: from a due post to TikTok's answer, exactly once.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "sched_job.h"


/*
 * The publish state machine of one post (job->state; what is durable is
 * the platform's status and stage in the store, see tt_post.h):
 *
 *   J_LOAD      read the post (in the write transaction); by its stored
 *               state: pending media -> J_MEDIA (sched_media.c);
 *               scheduled, or retry due -> claim; processing (found at
 *               start or after a lost batch) -> J_TOKEN, resuming;
 *               late at start -> failed.  The claim (platform
 *               processing, attempts+1, attempted_at) is saved, and
 *               committed before any call -> J_TOKEN.
 *   J_TOKEN     load the profile; expiring (or refused by TikTok) ->
 *               J_REFRESH, or wait while another job of the profile
 *               refreshes -> J_ROUTE (or back to the step that got 401).
 *   J_REFRESH   the refresh grant; new tokens saved, committed before
 *               use -> J_ROUTE; invalid_grant -> profile expired, failed.
 *   J_ROUTE     by stage: NONE -> J_CREATOR (direct) or J_SLOT (inbox)
 *               at once, also before the due time (posts are taken
 *               SCHED_LEAD_MS ahead); any other stage is held until the
 *               due time (sched_job_early), then: INIT of a video ->
 *               J_CREATOR or J_SLOT; INIT of a photo -> failed (it may be
 *               publishing already); UPLOAD with a publish_id -> an
 *               upload slot, then J_RESYNC (whatever the URL: TikTok may
 *               have every byte); POLL -> J_POLL.
 *   J_CREATOR   creator_info/query, built ahead and held until the due
 *               time; privacy or duration not allowed -> failed; else
 *               J_SLOT.
 *   J_SLOT      a video takes one of conf.max_uploads slots (waits while
 *               none is free); stage INIT saved, committed -> J_INIT.  A
 *               photo before its due time builds its init and is held
 *               here: its INIT mark is saved at the due time only.
 *   J_INIT      the init call, built ahead and held until the due time
 *               if early; publish_id, upload_url, plan, stage UPLOAD
 *               (video) or POLL (photo) saved -> J_PUT or J_POLL.
 *   J_PUT       one chunk from bytes_sent; 206 -> bytes_sent saved ->
 *               J_PUT; 201 -> stage POLL saved -> J_POLL; 416 -> resync
 *               from Content-Range or J_RESYNC; 403/404 -> J_SLOT (new
 *               init); 5xx -> the same chunk again, a few times; answer
 *               lost (transport error) -> J_RESYNC, never a blind resend.
 *   J_RESYNC    status/fetch: PROCESSING_UPLOAD -> uploaded_bytes: all
 *               of it -> J_POLL; less, with the URL alive -> J_PUT from
 *               there, else J_SLOT (a new init is safe: TikTok publishes
 *               nothing before the last chunk); anything else is handled
 *               as J_POLL's answer.  An attempt that ends keeps the
 *               publish_id of an upload, so the next one comes here too.
 *   J_POLL      status/fetch until PUBLISH_COMPLETE or SEND_TO_USER_INBOX
 *               (published) or FAILED (failed, or retry for internal and
 *               pull failures).
 *   J_END       the outcome is saved; the job is freed after the commit.
 *
 * A save that fails, or finds the record changed by someone else, sets
 * reload: the job goes back to J_LOAD and carries on from what is durable.
 * Any step can end the attempt: a transient error -> platform
 * failed_waiting_for_retry, next_attempt_at after a backoff, the post back
 * on the agenda at that time; a permanent one -> failed with TikTok's code.
 */

#define SCHED_JOBS_MAX       4096
#define SCHED_JOB_BUCKETS    4096
#define SCHED_ATTEMPTS_MAX   8

/*
 * Posts are taken up to this long before they are due: the claim, its
 * commit, the token and the first TikTok call (built, not sent) are done
 * ahead, and the call waits for the due time (sched_job_early), so that
 * 1,000 posts due in the same second all start within a few milliseconds
 * of it.  The price: a PATCH in the last half second before the due time
 * already gets 409.
 */
#define SCHED_LEAD_MS        500


static void sched_job_step(sched_t *s, sched_job_t *j);
static void sched_job_release(sched_t *s, sched_job_t *j);


/* jobs: life and death */

/* the scan asks for every due post whether a job has it: a hash, since
 * in-flight posts stay on the agenda while they publish */
static uint32_t
sched_job_bucket(const char *id)
{
    uint32_t  h;

    h = 2166136261u;

    while (*id) {
        h = (h ^ (uint8_t) *id++) * 16777619u;
    }

    return h % SCHED_JOB_BUCKETS;
}


static sched_job_t *
sched_job_find(sched_t *s, const char *id)
{
    sched_job_t  *j;

    if (s->job_hash == NULL) {
        return NULL;
    }

    for (j = s->job_hash[sched_job_bucket(id)]; j; j = j->hash_next) {
        if (strcmp(j->post_id, id) == 0) {
            return j;
        }
    }

    return NULL;
}


static sched_job_t *
sched_job_new(sched_t *s, const char *id)
{
    sched_job_t  *j;
    size_t        len;
    uint32_t      b;

    len = strlen(id);
    if (len >= TT_ID_SIZE) {
        return NULL;
    }

    if (s->job_hash == NULL) {
        s->job_hash = calloc(SCHED_JOB_BUCKETS, sizeof(sched_job_t *));
        if (s->job_hash == NULL) {
            return NULL;
        }
    }

    /* a job is in each heap at most once: queueing it never fails */
    if (sched_heap_reserve(&s->wakes, s->njobs + 1) != SCHED_OK
        || sched_heap_reserve(&s->holds, s->njobs + 1) != SCHED_OK)
    {
        return NULL;
    }

    j = calloc(1, sizeof(sched_job_t));
    if (j == NULL) {
        return NULL;
    }

    j->arena = tt_arena_create(8192);
    if (j->arena == NULL) {
        free(j);
        return NULL;
    }

    memcpy(j->post_id, id, len);
    j->fd = -1;
    j->wake.data = j;
    j->hold.data = j;
    j->state = J_LOAD;

    b = sched_job_bucket(j->post_id);
    j->hash_next = s->job_hash[b];
    s->job_hash[b] = j;

    j->next = s->jobs;
    if (s->jobs) {
        s->jobs->prev = j;
    }
    s->jobs = j;
    s->njobs++;

    return j;
}


static void
sched_job_free(sched_t *s, sched_job_t *j)
{
    sched_job_t  **pp;

    /* a transfer in flight keeps a pointer: detach it */
    if (j->http) {
        j->http->data = NULL;
        j->http->done = NULL;
    }

    sched_media_cancel(s, j);
    sched_job_unready(s, j);
    sched_heap_remove(&s->wakes, &j->wake);
    sched_heap_remove(&s->holds, &j->hold);

    for (pp = &s->kicks; *pp; pp = &(*pp)->kick_next) {
        if (*pp == j) {
            *pp = j->kick_next;
            break;
        }
    }

    for (pp = &s->job_hash[sched_job_bucket(j->post_id)]; *pp;
         pp = &(*pp)->hash_next)
    {
        if (*pp == j) {
            *pp = j->hash_next;
            break;
        }
    }

    if (j->prev) {
        j->prev->next = j->next;

    } else {
        s->jobs = j->next;
    }

    if (j->next) {
        j->next->prev = j->prev;
    }

    sched_slot_release(s, j);

    if (j->fd != -1) {
        (void) close(j->fd);
    }

    tt_arena_destroy(j->arena);
    free(j);
    s->njobs--;

    /* a freed slot or job may let waiting work in */
    s->scan_wanted = 1;
}


void
sched_jobs_free(sched_t *s)
{
    while (s->jobs) {
        sched_job_free(s, s->jobs);
    }

    free(s->job_hash);
    s->job_hash = NULL;

    sched_heap_free(&s->wakes);
    sched_heap_free(&s->holds);
}


/* a video's upload slot, one of conf.max_uploads: 0 if none is free */
int
sched_slot_take(sched_t *s, sched_job_t *j)
{
    int64_t  max;

    if (j->upload_slot || j->pl->params.format != TT_FORMAT_VIDEO) {
        return 1;
    }

    max = s->conf.max_uploads > 0 ? s->conf.max_uploads : 64;

    if ((int64_t) s->uploads >= max) {
        return 0;
    }

    s->uploads++;
    j->upload_slot = 1;

    return 1;
}


/* an upload slot frees: the oldest waiters first would be fairer, but
 * any waiter will do, and the scan is O(jobs) either way */
void
sched_slot_release(sched_t *s, sched_job_t *j)
{
    sched_job_t  *k;

    if (!j->upload_slot) {
        return;
    }

    j->upload_slot = 0;
    s->uploads--;

    /*
     * A photo held for its due time in J_SLOT waits for no slot; an
     * upload to resume waits in J_ROUTE (sched_job_route).
     */
    for (k = s->jobs; k; k = k->next) {
        if (k != j && !k->upload_slot && k->http == NULL
            && k->hold.index == 0
            && (k->state == J_SLOT
                || (k->state == J_ROUTE && k->pl
                    && k->pl->stage == TT_STAGE_UPLOAD)))
        {
            sched_job_kick(s, k);
            return;
        }
    }
}


void
sched_job_kick(sched_t *s, sched_job_t *j)
{
    if (j->kicked) {
        return;
    }

    j->kicked = 1;
    sched_heap_remove(&s->wakes, &j->wake);
    sched_heap_remove(&s->holds, &j->hold);
    j->kick_next = s->kicks;
    s->kicks = j;
}


void
sched_job_wait(sched_t *s, sched_job_t *j, int64_t ms)
{
    sched_heap_remove(&s->holds, &j->hold);

    if (sched_heap_add(&s->wakes, &j->wake, tt_mono_ms() + ms) != SCHED_OK) {
        /* sched_job_new reserved the room: never here */
        sched_log(SCHED_LOG_ERR, "post %s: cannot queue its timer",
                  j->post_id);
    }
}


/*
 * The first call of an attempt waits for the due time (posts are taken
 * SCHED_LEAD_MS ahead): 1 while the job is early, held in s->holds until
 * the launch timer, armed at the due time to the millisecond, steps it
 * again (sched_jobs_launch).  A kicked job comes back here after the
 * commit and is held then.
 */
int
sched_job_early(sched_t *s, sched_job_t *j)
{
    if (j->not_before <= tt_now_ms()) {
        return 0;
    }

    if (j->kicked) {
        return 1;
    }

    sched_heap_remove(&s->wakes, &j->wake);

    if (sched_heap_add(&s->holds, &j->hold, j->not_before) != SCHED_OK) {
        /* sched_job_new reserved the room: never here */
        sched_log(SCHED_LOG_ERR, "post %s: cannot hold it for its due time",
                  j->post_id);
        sched_job_wait(s, j, j->not_before - tt_now_ms());
    }

    return 1;
}


/* runs after the iteration's commit: steps may start network requests */
void
sched_run_kicks(sched_t *s)
{
    sched_job_t  *list, *j;

    list = s->kicks;
    s->kicks = NULL;

    /* steps that kick again land on a new list, run after the commit */
    for (j = list; j; j = list) {
        list = j->kick_next;
        j->kick_next = NULL;
        j->kicked = 0;

        if (j->reload) {
            /* what is durable decides; in-memory progress is dropped */
            j->reload = 0;
            j->done = 0;
            j->state = J_LOAD;
        }

        if (j->done) {
            sched_job_free(s, j);
            continue;
        }

        sched_job_step(s, j);
    }
}


/* the jobs whose timer is due are kicked, the earliest first */
void
sched_jobs_tick(sched_t *s, int64_t now)
{
    sched_hnode_t  *n;

    for ( ;; ) {
        n = sched_heap_min(&s->wakes);

        if (n == NULL || n->at > now) {
            return;
        }

        sched_job_kick(s, n->data);
    }
}


/* the earliest job timer; the probes' deadlines are few, walked if any */
int64_t
sched_jobs_next_wake(sched_t *s)
{
    sched_hnode_t  *n;
    sched_job_t    *j;
    int64_t         at;

    n = sched_heap_min(&s->wakes);
    at = n ? n->at : -1;

    if (s->children == 0) {
        return at;
    }

    for (j = s->jobs; j; j = j->next) {
        if (j->child && (at < 0 || j->child->deadline < at)) {
            at = j->child->deadline;
        }
    }

    return at;
}


/*
 * The launch timer fired: the held jobs that are due go on at once, in
 * due order, in the timer's handler, before anything else of the
 * iteration (the commit, the scan, curl's work on the calls just added).
 * Safe before the commit: a job is held only by the step that sends its
 * call, after whatever had to be durable first was committed.
 */
void
sched_jobs_launch(sched_t *s)
{
    sched_hnode_t  *n;
    sched_job_t    *j;

    while (!s->stopping) {
        n = sched_heap_min(&s->holds);

        /* the clock is read for each: one set back holds the rest */
        if (n == NULL || n->at > tt_now_ms()) {
            return;
        }

        sched_heap_remove(&s->holds, n);

        j = n->data;
        sched_job_step(s, j);
    }
}


/* the earliest due time of a held job, wall ms, -1 none */
int64_t
sched_jobs_next_launch(sched_t *s)
{
    sched_hnode_t  *n;

    n = sched_heap_min(&s->holds);

    return n ? n->at : -1;
}


/* the batch was lost: start over from what the store holds */
void
sched_jobs_txn_failed(sched_t *s, int64_t gen)
{
    sched_job_t  *j;

    for (j = s->jobs; j; j = j->next) {
        if (j->saved_gen == gen && j->http == NULL && j->child == NULL
            && j->fetch == NULL)
        {
            j->reload = 1;
            sched_job_kick(s, j);
        }
    }
}


/* saving: the job's post goes into the iteration's transaction */

/*
 * Optimistic: the record must still be the one this job last read or
 * wrote (its SHA-256), else someone else changed the post (a PATCH just
 * before the claim, a DELETE) and the job reloads instead of overwriting.
 */
static int
sched_job_check(sched_t *s, sched_job_t *j, tt_txn_t *t)
{
    tt_str_t  rec;
    uint8_t   h[32];
    int       rc;

    rc = tt_post_get_raw(t, j->post_id, &rec);

    if (rc == TT_NOTFOUND) {
        sched_log(SCHED_LOG_INFO, "post %s was deleted, dropping it",
                  j->post_id);
        j->done = 1;
        j->state = J_END;
        return SCHED_ERR;
    }

    if (rc != TT_OK) {
        j->reload = 1;
        return SCHED_ERR;
    }

    if (tt_sha256(rec.data, rec.len, h) != TT_OK
        || memcmp(h, j->rec_hash, sizeof(h)) != 0)
    {
        sched_log(SCHED_LOG_INFO, "post %s changed in the store, reloading",
                  j->post_id);
        j->reload = 1;
        return SCHED_ERR;
    }

    return SCHED_OK;
}


/* for a job that waits long (a download): kicked if its post changed */
int
sched_job_stale(sched_t *s, sched_job_t *j, tt_txn_t *t)
{
    if (sched_job_check(s, j, t) == SCHED_OK) {
        return 0;
    }

    sched_job_kick(s, j);
    return 1;
}


static void
sched_job_hash(sched_job_t *j, tt_txn_t *t)
{
    tt_str_t  rec;

    /* a failed hash is all zeros: the next check reloads, nothing worse */
    if (tt_post_get_raw(t, j->post_id, &rec) == TT_OK) {
        (void) tt_sha256(rec.data, rec.len, j->rec_hash);
    }
}


void
sched_job_save(sched_t *s, sched_job_t *j)
{
    tt_txn_t  *t;
    int        rc;

    t = sched_txn(s);
    if (t == NULL) {
        j->reload = 1;
        return;
    }

    if (sched_job_check(s, j, t) != SCHED_OK) {
        return;
    }

    j->post.updated_at = tt_now_ms();
    tt_post_settle(&j->post, j->post.updated_at);

    rc = tt_post_put(t, &j->post);

    if (rc != TT_OK) {
        sched_log(SCHED_LOG_ERR, "cannot save post %s (%d): %s", j->post_id,
                  rc, tt_store_last_error(s->store));
        j->reload = 1;
        return;
    }

    sched_job_hash(j, t);
    j->saved_gen = s->txn_gen;
}


/* the end of an attempt */

void
sched_clear_upload(sched_job_t *j)
{
    j->pl->stage = TT_STAGE_NONE;
    j->pl->publish_id = NULL;
    j->pl->upload_url = NULL;
    j->pl->upload_expires_at = -1;
    j->pl->bytes_sent = 0;
}


void
sched_job_end(sched_t *s, sched_job_t *j)
{
    sched_job_save(s, j);
    j->done = 1;
    j->state = J_END;
    sched_job_kick(s, j);
}


static void
sched_set_error(sched_job_t *j, const sched_answer_t *ans)
{
    tt_platform_t  *pl;

    pl = j->pl;
    pl->error = ans->human ? tt_arena_strndup(j->arena, ans->human,
                                              strlen(ans->human)) : NULL;
    pl->error_code = ans->code ? tt_arena_strndup(j->arena, ans->code,
                                                  strlen(ans->code)) : NULL;
    pl->error_message = ans->message
                        ? tt_arena_strndup(j->arena, ans->message,
                                           strlen(ans->message))
                        : NULL;
    pl->error_note = ans->note ? tt_arena_strndup(j->arena, ans->note,
                                                  strlen(ans->note)) : NULL;
}


void
sched_job_fail(sched_t *s, sched_job_t *j, const sched_answer_t *ans)
{
    tt_platform_t  *pl;
    int64_t         now;

    pl = j->pl;
    now = tt_now_ms();

    if (j->id_check) {
        /* published already: a failed question only asks again later */
        sched_job_id_later(s, j, ans->code ? ans->code
                                 : ans->human ? ans->human : "an error");
        return;
    }

    sched_set_error(j, ans);

    if (ans->result == SCHED_R_RETRY && pl->attempts < SCHED_ATTEMPTS_MAX) {
        pl->status = TT_PLAT_RETRY;
        pl->next_attempt_at = now + sched_backoff(pl->attempts);

        /*
         * What TikTok already holds is kept while polling, and while
         * uploading: the last chunk may have landed with its answer
         * lost, so the next attempt asks TikTok (J_RESYNC) before it
         * would ever init again.
         */
        if (pl->stage != TT_STAGE_POLL
            && !(pl->stage == TT_STAGE_UPLOAD && pl->publish_id))
        {
            sched_clear_upload(j);
        }

        sched_log(SCHED_LOG_WARN, "post %s: attempt %lld failed (%s%s%s), "
                  "retrying in %lld s", j->post_id, (long long) pl->attempts,
                  pl->error ? pl->error : "", pl->error_code ? ": " : "",
                  pl->error_code ? pl->error_code : "",
                  (long long) ((pl->next_attempt_at - now) / 1000));

    } else {
        pl->status = TT_PLAT_FAILED;
        pl->next_attempt_at = -1;

        if (ans->result == SCHED_R_RETRY && pl->attempts >= SCHED_ATTEMPTS_MAX
            && pl->error_note == NULL)
        {
            pl->error_note = "The scheduler gave up after 8 attempts.";
        }

        sched_log(SCHED_LOG_WARN, "post %s failed: %s%s%s", j->post_id,
                  pl->error ? pl->error : "", pl->error_code ? ": " : "",
                  pl->error_code ? pl->error_code : "");
    }

    sched_job_end(s, j);

    if (pl->status == TT_PLAT_FAILED) {
        sched_job_release(s, j);
    }
}


void
sched_job_fail_msg(sched_t *s, sched_job_t *j, sched_result_e r,
    const char *human, const char *note)
{
    sched_answer_t  ans;

    memset(&ans, 0, sizeof(ans));
    ans.result = r;
    ans.human = human;
    ans.note = note;

    sched_job_fail(s, j, &ans);
}


/*
 * The post is finished (published, failed): its spool files may go once
 * no other post needs them and tiktok_spool_retention has passed, which
 * the spool's sweep decides (sched_spool.c); a save that did not happen
 * (reload) keeps the post unfinished.
 */
static void
sched_job_release(sched_t *s, sched_job_t *j)
{
    if (j->done == 0 || j->reload) {
        return;
    }

    if (j->fd != -1) {
        (void) close(j->fd);
        j->fd = -1;
    }

    sched_spool_release(s, &j->post);
}


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
        sched_log(SCHED_LOG_INFO, "post %s %s, publish_id \"%s\", post id "
                  "%lld", j->post_id, j->id_check ? "got its TikTok post id "
                  "after moderation" : "published",
                  pl->publish_id ? pl->publish_id : "", (long long) id);

    } else {
        sched_log(SCHED_LOG_INFO, "post %s published, publish_id \"%s\", "
                  "no post id: %s", j->post_id,
                  pl->publish_id ? pl->publish_id : "", sched_no_id_why(pl));
    }

    sched_job_end(s, j);

    if (!j->id_check) {
        sched_job_release(s, j);
    }
}


/* J_LOAD: what the store says decides where to start */

/*
 * Read inside the iteration's write transaction: LMDB serialises it with
 * the module's writers, so no PATCH can slip in between this read and the
 * claim written in the same transaction.
 */
static int
sched_job_load(sched_t *s, sched_job_t *j)
{
    tt_txn_t  *t;
    int        rc;

    t = sched_txn(s);
    if (t == NULL) {
        return SCHED_ERR;
    }

    rc = tt_post_get(t, j->post_id, j->arena, &j->post);

    if (rc != TT_OK) {
        return rc == TT_NOTFOUND ? TT_NOTFOUND : rc;
    }

    sched_job_hash(j, t);

    j->pl = (j->post.nplatforms > 0) ? &j->post.platforms[0] : NULL;

    return SCHED_OK;
}


static void
sched_job_late(sched_t *s, sched_job_t *j)
{
    char     due[TT_TIME_LEN + 1], msg[160];
    int64_t  late;

    late = s->started_at - j->post.due_at;
    (void) tt_time_format(j->post.due_at, due);
    (void) snprintf(msg, sizeof(msg), "due at %s, more than %lld s ago when "
                    "the scheduler started", due,
                    (long long) (s->conf.max_lateness_ms / 1000));

    sched_log(SCHED_LOG_WARN, "post %s is %lld s late, not publishing",
              j->post_id, (long long) (late / 1000));

    sched_job_fail_msg(s, j, SCHED_R_FAIL,
                       tt_arena_strndup(j->arena, msg, strlen(msg)),
                       "Publish it again with POST /api/posts/:id/publish.");
}


/*
 * A video is uploaded from its spool file: one that is gone (a failed
 * post published again after tiktok_spool_retention, or someone cleaned
 * the spool) is downloaded and checked again before the claim, with the
 * post back in pending meanwhile.  The file that is there is touched:
 * the spool's sweep leaves it alone from now on.
 */
static int
sched_job_refetch(sched_t *s, sched_job_t *j)
{
    size_t       i;
    tt_media_t  *m;
    struct stat  st;
    int          gone;

    if (j->pl->params.format != TT_FORMAT_VIDEO
        || j->pl->stage != TT_STAGE_NONE)
    {
        return 0;
    }

    gone = 0;

    for (i = 0; i < j->post.nmedia; i++) {
        m = &j->post.media[i];

        if (m->status != TT_MEDIA_PROCESSED || m->spool_path == NULL) {
            continue;
        }

        if (stat(m->spool_path, &st) == 0) {
            sched_spool_touch(s, m->spool_path);
            continue;
        }

        if (errno != ENOENT) {
            continue;
        }

        sched_log(SCHED_LOG_INFO, "post %s: media %s is no longer in the "
                  "spool, downloading it again", j->post_id, m->id);

        m->status = TT_MEDIA_PENDING;
        m->spool_path = NULL;
        gone = 1;
    }

    if (!gone) {
        return 0;
    }

    /* pending again, durable before the download, as a new post is */
    j->kind = SCHED_JOB_MEDIA;
    j->media_i = 0;
    sched_job_save(s, j);
    j->state = J_MEDIA;
    sched_job_kick(s, j);

    return 1;
}


static void
sched_job_claim(sched_t *s, sched_job_t *j)
{
    tt_platform_t  *pl;
    int64_t         now, wait;

    pl = j->pl;
    now = tt_now_ms();

    /*
     * The creator's daily cap: wait, don't fail and don't count it.  An
     * upload TikTok has already (a publish_id) was counted at its init.
     */
    wait = sched_daily_wait(j->prof, now);

    if (wait > 0 && pl->params.post_mode == TT_MODE_DIRECT
        && pl->publish_id == NULL)
    {
        pl->status = TT_PLAT_RETRY;
        pl->next_attempt_at = now + wait;
        pl->error = "Waiting: this creator reached the daily number of "
                    "posts the scheduler sends";
        sched_job_end(s, j);
        return;
    }

    pl->status = TT_PLAT_PROCESSING;
    pl->attempts++;
    pl->attempted_at = now > j->not_before ? now : j->not_before;
    pl->next_attempt_at = -1;
    pl->error = NULL;
    pl->error_code = NULL;
    pl->error_message = NULL;
    pl->error_note = NULL;

    /* while processing, the scheduler owns due_at: keeping the claim
     * time there makes a crashed publish show up in the first scan */
    j->post.due_at = now;

    sched_log(SCHED_LOG_INFO, "post %s: attempt %lld", j->post_id,
              (long long) pl->attempts);

    sched_job_save(s, j);
    j->state = J_TOKEN;
    sched_job_kick(s, j);
}


static void
sched_job_start(sched_t *s, sched_job_t *j)
{
    int      rc;
    int64_t  now;

    /* a fresh start, also after a reload */
    if (j->fd != -1) {
        (void) close(j->fd);
        j->fd = -1;
    }

    sched_media_cancel(s, j);
    sched_job_unready(s, j);
    sched_heap_remove(&s->holds, &j->hold);

    j->media_i = 0;
    j->chunk_tries = 0;
    j->spool_pass = 0;
    j->polls = 0;
    j->id_polls = 0;
    j->status_errors = 0;
    j->refreshed = 0;
    j->resuming = 0;
    j->resume_state = 0;
    j->bad_token = NULL;
    j->id_check = 0;

    rc = sched_job_load(s, j);

    if (rc == TT_NOTFOUND) {
        j->done = 1;
        return;
    }

    if (rc != SCHED_OK) {
        sched_log(SCHED_LOG_ERR, "post %s: cannot read it from the store "
                  "(%d: %s), trying again in 10 s", j->post_id, rc,
                  tt_store_last_error(s->store));
        sched_job_wait(s, j, 10000);
        return;
    }

    now = tt_now_ms();

    if (j->post.status == TT_POST_PENDING) {
        j->kind = SCHED_JOB_MEDIA;
        j->state = J_MEDIA;
        sched_media_step(s, j);
        return;
    }

    if (j->pl != NULL && j->post.status == TT_POST_PROCESSED
        && tt_post_id_awaited(&j->post) && j->pl->publish_id != NULL)
    {
        if (j->post.due_at > now + SCHED_LEAD_MS) {
            j->done = 1;
            return;
        }

        j->prof = sched_prof_get(s, j->pl->profile_id);
        if (j->prof == NULL) {
            sched_job_wait(s, j, 1000);
            return;
        }

        sched_job_id_start(s, j);
        return;
    }

    if (j->pl == NULL
        || (j->post.status != TT_POST_SCHEDULED
            && j->post.status != TT_POST_PROCESSING))
    {
        j->done = 1;
        return;
    }

    j->prof = sched_prof_get(s, j->pl->profile_id);
    if (j->prof == NULL) {
        sched_job_wait(s, j, 1000);
        return;
    }

    switch (j->pl->status) {

    case TT_PLAT_PENDING:
        /*
         * A post taken back by a PATCH or a publish while the job held
         * it (an upload slot, a creator_info call) is due at its time
         * now: the scan brings it back then.  One with no due time (a
         * paused queue's) waits for its queue.
         */
        if (j->post.due_at < 0 || j->post.due_at > now + SCHED_LEAD_MS) {
            j->done = 1;
            return;
        }

        if (j->post.due_at > j->not_before) {
            j->not_before = j->post.due_at;
        }

        if (j->late) {
            sched_job_late(s, j);
            return;
        }

        if (sched_job_refetch(s, j)) {
            return;
        }

        sched_job_claim(s, j);
        return;

    case TT_PLAT_RETRY:
        if (j->pl->next_attempt_at > now + SCHED_LEAD_MS) {
            j->done = 1;
            return;
        }

        if (sched_job_refetch(s, j)) {
            return;
        }

        sched_job_claim(s, j);
        return;

    case TT_PLAT_PROCESSING:
        sched_log(SCHED_LOG_INFO, "post %s: resuming at stage %d",
                  j->post_id, (int) j->pl->stage);
        j->resuming = 1;
        j->state = J_TOKEN;
        sched_job_step(s, j);
        return;

    default:
        j->done = 1;
        return;
    }
}


/* J_ROUTE: where the stored stage says to go on */

static void
sched_job_route(sched_t *s, sched_job_t *j)
{
    tt_platform_t  *pl;
    int             direct, photo;

    pl = j->pl;
    direct = (pl->params.post_mode == TT_MODE_DIRECT);
    photo = (pl->params.format == TT_FORMAT_IMAGE);

    /*
     * Taken ahead (SCHED_LEAD_MS): an attempt from the start goes on to
     * the step of its first call, which builds the call now and holds it
     * until the due time; any other waits here for its time.
     */
    if (pl->stage != TT_STAGE_NONE && sched_job_early(s, j)) {
        j->state = J_ROUTE;
        return;
    }

    switch (pl->stage) {

    case TT_STAGE_INIT:
        if (photo) {
            sched_job_fail_msg(s, j, SCHED_R_FAIL,
                "The scheduler stopped after asking TikTok to publish the "
                "photos and before TikTok answered",
                "TikTok may have published them: check the TikTok profile "
                "before publishing this post again.");
            return;
        }

        /* no chunk was sent: TikTok publishes nothing, a new init is safe */
        sched_clear_upload(j);
        break;

    case TT_STAGE_UPLOAD:
        /*
         * TikTok says how far the upload got, even once its URL expired:
         * all of it (the last answer was lost) is followed, never sent
         * again; less goes on while the URL lives, else starts over.
         */
        if (pl->publish_id) {
            if (!sched_slot_take(s, j)) {
                j->state = J_ROUTE;
                sched_job_wait(s, j, 1000);
                return;
            }

            j->state = J_RESYNC;
            sched_job_step(s, j);
            return;
        }

        sched_clear_upload(j);
        break;

    case TT_STAGE_POLL:
        if (pl->publish_id) {
            j->state = J_POLL;
            j->poll_delay = 0;
            sched_job_step(s, j);
            return;
        }

        sched_clear_upload(j);
        break;

    default:
        break;
    }

    j->state = (direct && !(j->resuming && j->username)) ? J_CREATOR : J_SLOT;
    sched_job_step(s, j);
}


static void
sched_job_slot(sched_t *s, sched_job_t *j)
{
    /*
     * Early, a video takes its slot and the INIT mark now: a video found
     * at stage INIT is initialised anew, TikTok got nothing yet.  A
     * photo's mark means "may be publishing" (J_ROUTE fails it): saved at
     * the due time only, with the init built meanwhile.
     */
    if (j->pl->params.format == TT_FORMAT_IMAGE && sched_job_early(s, j)) {
        j->state = J_SLOT;

        if (!j->ready) {
            (void) sched_job_init_ready(s, j);
        }

        return;
    }

    if (!sched_slot_take(s, j)) {
        /* kicked when a slot frees (sched_slot_release); the timer is
         * only a safety net */
        j->state = J_SLOT;
        sched_job_wait(s, j, 5000);
        return;
    }

    /* the mark must be durable before the init is sent */
    j->pl->stage = TT_STAGE_INIT;
    sched_job_save(s, j);
    j->state = J_INIT;
    sched_job_kick(s, j);
}


static void
sched_job_step(sched_t *s, sched_job_t *j)
{
    if (s->stopping) {
        return;
    }

    switch (j->state) {
    case J_LOAD:
        sched_job_start(s, j);
        break;
    case J_TOKEN:
        sched_job_token(s, j);
        break;
    case J_ROUTE:
        sched_job_route(s, j);
        break;
    case J_CREATOR:
        sched_job_creator(s, j);
        break;
    case J_SLOT:
        sched_job_slot(s, j);
        break;
    case J_INIT:
        sched_job_init(s, j);
        break;
    case J_PUT:
        sched_job_put(s, j);
        break;
    case J_RESYNC:
    case J_POLL:
        sched_job_status(s, j);
        break;
    case J_MEDIA:
        sched_media_step(s, j);
        break;
    default:
        break;
    }

    if (j->done && !j->kicked) {
        sched_job_kick(s, j);
    }
}


void
sched_job_go(sched_t *s, sched_job_t *j)
{
    sched_job_step(s, j);
}


/* the agenda */

typedef struct {
    sched_t        *s;
    int64_t         now;
    int64_t         next;
} sched_scan_ctx_t;


static int
sched_scan_item(void *data, int64_t at, const char *id)
{
    sched_scan_ctx_t  *c = data;
    sched_job_t       *j;

    if (sched_job_find(c->s, id)) {
        return 0;
    }

    if (at > c->now + SCHED_LEAD_MS) {
        c->next = at - SCHED_LEAD_MS;
        return 1;
    }

    if (c->s->njobs >= SCHED_JOBS_MAX) {
        return 1;
    }

    j = sched_job_new(c->s, id);
    if (j == NULL) {
        return 1;
    }

    j->not_before = at;
    j->late = c->s->first_scan && c->s->conf.max_lateness_ms > 0
              && at < c->s->started_at - c->s->conf.max_lateness_ms;

    sched_job_kick(c->s, j);

    return 0;
}


void
sched_scan(sched_t *s)
{
    sched_scan_ctx_t  c;
    tt_txn_t          t, *use;

    c.s = s;
    c.now = tt_now_ms();
    c.next = -1;

    if (sched_read_begin(s, &t, &use) != SCHED_OK) {
        return;
    }

    /* every job started here runs after the commit, via its kick */
    (void) tt_due_iter(use, INT64_MAX, sched_scan_item, &c);
    sched_read_end(s, &t, use);

    sched_due_arm(s, c.next);
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
