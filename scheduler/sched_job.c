/*
 * Copyright (C) the ngx_tiktok authors.
 * The job's life: a job per post in work, claimed, kicked, waiting,
 * saved, failed and released here, whatever its steps (sched_publish.c,
 * sched_flow.c, sched_upload.c, sched_media.c), which call only this.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

#define SCHED_JOB_BUCKETS    4096
#define SCHED_ATTEMPTS_MAX   8


static void sched_job_step(sched_t *s, sched_job_t *j);


/*
 * The steps, by state, are the publish's (sched_publish.c registers them
 * with sched_job_steps); the life below never names one.  A job moves on
 * by one of:
 *
 *   sched_job_kick    the next step after the iteration's commit;
 *   sched_job_go      the next step at once (nothing awaits a commit);
 *   sched_job_wait    the step again after a while;
 *   sched_job_early   held until its due time (the launch clock);
 *   sched_job_end     saved, done, freed after the commit;
 *   sched_job_fail    the attempt ends: retry later or failed.
 */


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


sched_job_t *
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


sched_job_t *
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
    size_t         i;

    /* a transfer in flight keeps a pointer: detach it */
    if (j->http) {
        j->http->data = NULL;
        j->http->done = NULL;
    }

    sched_job_reset(s, j);
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

    /* a freed slot or job may let waiting work in */
    for (i = 0; i < s->nwatch; i++) {
        if (s->watch[i].freed) {
            s->watch[i].freed(s, j);
        }
    }

    tt_arena_destroy(j->arena);
    free(j);
    s->njobs--;
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
    if (j->upload_slot || j->pl->params.format != TT_FORMAT_VIDEO) {
        return 1;
    }

    /* never 0: sched_conf.c puts the default there */
    if ((int64_t) s->uploads >= s->conf.max_uploads) {
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


/* tiktok_max_uploads changed: every upload waiting for a slot looks again */
static void
sched_slots_changed(sched_t *s, const tt_conf_t *old, void *data)
{
    sched_job_t  *k;

    if (s->conf.max_uploads == old->max_uploads) {
        return;
    }

    for (k = s->jobs; k; k = k->next) {
        if (!k->upload_slot && k->http == NULL && k->hold.index == 0
            && (k->state == J_SLOT
                || (k->state == J_ROUTE && k->pl
                    && k->pl->stage == TT_STAGE_UPLOAD)))
        {
            sched_job_kick(s, k);
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
 * the launch clock, armed at the due time to the millisecond, steps it
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


/*
 * The loop's flush, after the iteration's commit: steps may start
 * network requests.  1 when it ran any: their saves are committed next.
 */
static int
sched_run_kicks(sched_t *s, void *data)
{
    sched_job_t  *list, *j;
    int64_t       t0;

    if (s->kicks == NULL || s->stopping) {
        return 0;
    }

    t0 = tt_mono_ms();
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

    if (tt_mono_ms() - t0 > 5) {
        sched_debug("a round of steps took %lld ms",
                    (long long) (tt_mono_ms() - t0));
    }

    return 1;
}


/* the jobs whose timer is due are kicked, the earliest first */
static void
sched_jobs_tick(sched_t *s, int64_t now, void *data)
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


/*
 * Before the loop sleeps: the launch clock at the earliest due time of a
 * held job (wall ms, as the agenda's), and the earliest job timer.
 */
static int64_t
sched_jobs_next_wake(sched_t *s, void *data)
{
    sched_hnode_t  *n;

    n = sched_heap_min(&s->holds);
    sched_clock_at(s->launch_clock, n ? n->at : -1);

    n = sched_heap_min(&s->wakes);

    return n ? n->at : -1;
}


/*
 * The launch clock fired: the held jobs that are due go on at once, in
 * due order, in the timer's handler, before anything else of the
 * iteration (the commit, the scan, curl's work on the calls just added).
 * Safe before the commit: a job is held only by the step that sends its
 * call, after whatever had to be durable first was committed.
 */
static void
sched_jobs_launch(sched_t *s, sched_clock_t *c, void *data)
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


/* the batch was lost: start over from what the store holds */
static void
sched_jobs_txn_failed(sched_t *s, int64_t gen, void *data)
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


/*
 * A post that fails while TikTok holds its publish (stage POLL: every
 * chunk sent, or the photos' init answered; stage UPLOAD with a
 * publish_id, outside a chunk's answer: the last chunk may have landed),
 * without TikTok's own verdict (an authorization lost, a status that
 * could not be read): TikTok goes on without the scheduler and may
 * publish it, so the note says so, with the publish_id.  TikTok's FAILED
 * sets stage NONE first.
 */
static void
sched_fail_may_publish(sched_job_t *j)
{
    tt_platform_t  *pl;
    char            buf[512], *note;
    const char     *was;
    int             n;

    pl = j->pl;

    /* a chunk's own answer (J_PUT) says the upload cannot be whole */
    if (pl->publish_id == NULL
        || (pl->stage != TT_STAGE_POLL
            && (pl->stage != TT_STAGE_UPLOAD || j->state == J_PUT)))
    {
        return;
    }

    was = pl->error_note;

    for ( ;; ) {
        n = snprintf(buf, sizeof(buf), "%s%sTikTok had this post "
                     "(publish_id %s) and may publish it all the same: "
                     "check the TikTok profile before publishing this post "
                     "again.", was ? was : "", was ? " " : "",
                     pl->publish_id);

        if (n >= 0 && (size_t) n < sizeof(buf)) {
            break;
        }

        if (was == NULL) {
            return;
        }

        /* too long with the note before: this one matters more */
        was = NULL;
    }

    note = tt_arena_strndup(j->arena, buf, (size_t) n);
    if (note != NULL) {
        pl->error_note = note;
    }
}


void
sched_job_fail(sched_t *s, sched_job_t *j, const sched_answer_t *ans)
{
    tt_platform_t  *pl;
    int64_t         now;

    pl = j->pl;
    now = tt_now_ms();

    /* a step with an answer of its own (a published post's question) */
    if (j->failing && j->failing(s, j, ans)) {
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

        sched_fail_may_publish(j);

        sched_log(SCHED_LOG_WARN, "post %s failed: %s%s%s", j->post_id,
                  pl->error ? pl->error : "", pl->error_code ? ": " : "",
                  pl->error_code ? pl->error_code : "");
    }

    sched_metric_failure(s, pl->error_code, pl->status == TT_PLAT_FAILED);
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
void
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


/*
 * Read inside the iteration's write transaction: LMDB serialises it with
 * the module's writers, so no PATCH can slip in between this read and the
 * claim written in the same transaction.
 */
int
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


void
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
sched_job_step(sched_t *s, sched_job_t *j)
{
    if (s->stopping) {
        return;
    }

    if (j->state >= 0 && j->state < J_END && s->steps[j->state]) {
        s->steps[j->state](s, j);
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


/*
 * A fresh start (J_LOAD, also after a reload) or the end: what the job
 * waits for is let go of (a download, a probe: sched_job_watch), and the
 * call built ahead is dropped.
 */
void
sched_job_reset(sched_t *s, sched_job_t *j)
{
    size_t  i;

    for (i = 0; i < s->nwatch; i++) {
        if (s->watch[i].stop) {
            s->watch[i].stop(s, j);
        }
    }

    sched_job_unready(s, j);
    sched_heap_remove(&s->holds, &j->hold);
    j->failing = NULL;
}


void
sched_job_unready(sched_t *s, sched_job_t *j)
{
    if (j->ready != NULL) {
        sched_http_free(s, j->ready);
        j->ready = NULL;
    }
}


/* registration: the steps by state, and who watches the jobs */

void
sched_job_steps(sched_t *s, const sched_step_pt *steps)
{
    s->steps = steps;
}


int
sched_job_watch(sched_t *s, const sched_job_watch_t *w)
{
    if (s->nwatch == SCHED_JOB_WATCH_MAX) {
        return SCHED_ERR;
    }

    s->watch[s->nwatch++] = *w;

    return SCHED_OK;
}


int
sched_jobs_init(sched_t *s)
{
    sched_hook_t  h = { "jobs", sched_jobs_tick, sched_jobs_next_wake,
                        sched_run_kicks, NULL };

    s->launch_clock = sched_clock_new(s, CLOCK_REALTIME, sched_jobs_launch,
                                      NULL);
    if (s->launch_clock == NULL) {
        return SCHED_ERR;
    }

    sched_txn_on_fail(s, sched_jobs_txn_failed, NULL);
    sched_conf_on_change(s, sched_slots_changed, NULL);

    return sched_loop_hook(s, &h);
}
