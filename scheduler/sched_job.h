/*
 * Copyright (C) the ngx_tiktok authors.
 * The job's states and API (sched_job.c), and what its steps share:
 * sched_publish.c, sched_flow.c, sched_upload.c, sched_call.c,
 * sched_media.c, sched_fetch.c and sched_agenda.c.
 */

#ifndef _SCHED_JOB_H_INCLUDED_
#define _SCHED_JOB_H_INCLUDED_


#include "sched.h"
#include "sched_tiktok.h"


/* job->state; see the block comment in sched_job.c */
enum {
    J_LOAD = 0,
    J_TOKEN,
    J_REFRESH,
    J_ROUTE,
    J_CREATOR,
    J_SLOT,
    J_INIT,
    J_PUT,
    J_RESYNC,
    J_POLL,
    J_MEDIA,
    J_END
};

/* job->kind */
#define SCHED_JOB_PUBLISH  0
#define SCHED_JOB_MEDIA    1

/* an upload URL this close to its end is not used for more chunks */
#define SCHED_URL_MARGIN_MS  60000

/* the first status/fetch after an upload or an init, ms */
#define SCHED_POLL_FIRST     1000

/*
 * Posts are taken up to this long before they are due: the claim, its
 * commit, the token and the first TikTok call (built, not sent) are done
 * ahead, and the call waits for the due time (sched_job_early), so that
 * 1,000 posts due in the same second all start within a few milliseconds
 * of it.  The price: a PATCH in the last half second before the due time
 * already gets 409.
 */
#define SCHED_LEAD_MS        500


/* sched_job.c: the job's life; the steps call only this */
int sched_jobs_init(sched_t *s);
void sched_jobs_free(sched_t *s);
void sched_job_steps(sched_t *s, const sched_step_pt *steps);
int sched_job_watch(sched_t *s, const sched_job_watch_t *w);

sched_job_t *sched_job_find(sched_t *s, const char *id);
sched_job_t *sched_job_new(sched_t *s, const char *id);
int sched_job_load(sched_t *s, sched_job_t *j);
void sched_job_reset(sched_t *s, sched_job_t *j);
void sched_job_claim(sched_t *s, sched_job_t *j);

void sched_job_kick(sched_t *s, sched_job_t *j);
void sched_job_go(sched_t *s, sched_job_t *j);  /* at once: nothing
                                                 * awaits a commit */
void sched_job_wait(sched_t *s, sched_job_t *j, int64_t ms);
int sched_job_early(sched_t *s, sched_job_t *j);

void sched_job_save(sched_t *s, sched_job_t *j);
int sched_job_stale(sched_t *s, sched_job_t *j, tt_txn_t *t);
void sched_job_end(sched_t *s, sched_job_t *j);
void sched_job_fail(sched_t *s, sched_job_t *j, const sched_answer_t *ans);
void sched_job_fail_msg(sched_t *s, sched_job_t *j, sched_result_e r,
    const char *human, const char *note);
void sched_job_release(sched_t *s, sched_job_t *j);

int sched_slot_take(sched_t *s, sched_job_t *j);
void sched_slot_release(sched_t *s, sched_job_t *j);
void sched_clear_upload(sched_job_t *j);
void sched_job_unready(sched_t *s, sched_job_t *j);

/* sched_call.c: a job's TikTok calls */
char *sched_jdup(sched_job_t *j, const char *s);
int sched_job_send(sched_t *s, sched_job_t *j, sched_http_t *h);
sched_http_t *sched_job_http(sched_t *s, sched_job_t *j,
    sched_http_done_pt done);
void sched_job_call(sched_t *s, sched_job_t *j, const char *path,
    tt_buf_t *body, sched_http_done_pt done);
int sched_job_ready(sched_t *s, sched_job_t *j, int state, const char *path,
    tt_buf_t *body, sched_http_done_pt done);
int sched_job_has_ready(sched_t *s, sched_job_t *j, int state);
void sched_job_fire_ready(sched_t *s, sched_job_t *j);
sched_job_t *sched_job_of(sched_http_t *h);
int sched_job_limited(sched_t *s, sched_job_t *j, sched_lim_e kind);
int sched_job_answer(sched_t *s, sched_job_t *j, sched_http_t *h,
    tt_arena_t *a, sched_answer_t *ans);
int sched_job_open(sched_t *s, sched_job_t *j, int64_t *size);
void sched_job_polling(sched_t *s, sched_job_t *j);
void sched_lag_note(sched_t *s, sched_job_t *j);

/* sched_metric.c: counters in the iteration's transaction */
void sched_metric_add(sched_t *s, const char *name, const char *labels,
    int64_t delta);
void sched_metric_label(char *out, size_t size, const char *name,
    const char *value);
void sched_metric_failure(sched_t *s, const char *code, int final);
void sched_metric_lag(sched_t *s, int64_t ms);

/* sched_stats.c: the counts of published posts (video/query) */
int sched_stats_init(sched_t *s);
void sched_stats_free(sched_t *s);
void sched_stats_track(sched_t *s, const char *post_id, int64_t published_at);
void sched_lag_report(sched_t *s);

/* sched_flow.c: the steps up to the init */
void sched_job_token(sched_t *s, sched_job_t *j);
void sched_job_creator(sched_t *s, sched_job_t *j);
void sched_job_init(sched_t *s, sched_job_t *j);
int sched_job_init_ready(sched_t *s, sched_job_t *j);

/* sched_upload.c: the chunks, the status, the end */
void sched_job_put(sched_t *s, sched_job_t *j);
void sched_job_status(sched_t *s, sched_job_t *j);
void sched_job_id_later(sched_t *s, sched_job_t *j, const char *why);
void sched_job_id_start(sched_t *s, sched_job_t *j);
void sched_job_published(sched_t *s, sched_job_t *j, int64_t id);

/* sched_publish.c: J_LOAD, J_ROUTE, J_SLOT and the steps' table */
void sched_publish_init(sched_t *s);

/* sched_agenda.c */
int sched_agenda_init(sched_t *s);
void sched_agenda_done(sched_t *s);

/* sched_fetch.c: the downloads, each a tiktok-fetch child */

/* what a finished download means for the jobs that wait for it */
typedef struct {
    unsigned            ok:1;
    unsigned            retry:1;            /* transient: again later */
    unsigned            too_big:1;          /* past the download's cap */
    unsigned            no_room:1;          /* tiktok_spool_quota */
    unsigned            over_quota:1;       /* larger than the quota */
    int64_t             pass;               /* the sweep that may help */
    int64_t             bytes;
    int64_t             max;                /* the download's cap */
    const char         *path;               /* the spool file */
    const char         *content_type;       /* NULL none */
    char                msg[CURL_ERROR_SIZE + 256];
} sched_fetch_out_t;

/* a waiter's share of the end of a download */
typedef void (*sched_fetched_pt)(sched_t *s, sched_job_t *j,
    const sched_fetch_out_t *o);

int sched_fetch_init(sched_t *s);
sched_fetch_t *sched_fetch_find(sched_t *s, const char *name);
int sched_fetch_busy(const sched_fetch_t *f);
sched_fetch_t *sched_fetch_new(sched_t *s, const char *name,
    const char *url, int64_t max_bytes, sched_fetched_pt done);
void sched_fetch_join(sched_fetch_t *f, sched_job_t *j);
void sched_fetch_leave(sched_job_t *j);
void sched_fetches_free(sched_t *s);

/* sched_media.c */
int sched_media_init(sched_t *s);
void sched_media_step(sched_t *s, sched_job_t *j);


#endif /* _SCHED_JOB_H_INCLUDED_ */
