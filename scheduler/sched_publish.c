/*
 * Copyright (C) the ngx_tiktok authors.
 * The publish's first steps: J_LOAD (what the store says decides where
 * to start), J_ROUTE and J_SLOT, and the table of every step by state
 * (the states are in sched_job.c).
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "sched_job.h"


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


/* a published post whose TikTok post id is awaited, due again */
static void
sched_job_id_due(sched_t *s, sched_job_t *j, int64_t now)
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
}


/* by the platform's stored status: claim, resume or nothing to do */
static void
sched_job_begin(sched_t *s, sched_job_t *j, int64_t now)
{
    unsigned  late;

    /*
     * Late is what the first scan found; a job reloaded since (the post
     * was changed, published now, taken back) follows the post as it is.
     */
    late = j->late;
    j->late = 0;

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

        if (late) {
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
        sched_job_go(s, j);
        return;

    default:
        j->done = 1;
        return;
    }
}


/* J_LOAD */
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

    sched_job_reset(s, j);

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
        sched_job_id_due(s, j, now);
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

    sched_job_begin(s, j, now);
}


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
            sched_job_go(s, j);
            return;
        }

        sched_clear_upload(j);
        break;

    case TT_STAGE_POLL:
        if (pl->publish_id) {
            j->state = J_POLL;
            j->poll_delay = 0;
            sched_job_go(s, j);
            return;
        }

        sched_clear_upload(j);
        break;

    default:
        break;
    }

    j->state = (direct && !(j->resuming && j->username)) ? J_CREATOR : J_SLOT;
    sched_job_go(s, j);
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

/* every step by state, for sched_job.c */
static const sched_step_pt  sched_publish_steps[J_END] = {
    [J_LOAD] = sched_job_start,
    [J_TOKEN] = sched_job_token,
    [J_ROUTE] = sched_job_route,
    [J_CREATOR] = sched_job_creator,
    [J_SLOT] = sched_job_slot,
    [J_INIT] = sched_job_init,
    [J_PUT] = sched_job_put,
    [J_RESYNC] = sched_job_status,
    [J_POLL] = sched_job_status,
    [J_MEDIA] = sched_media_step,
};


void
sched_publish_init(sched_t *s)
{
    sched_job_steps(s, sched_publish_steps);
}
