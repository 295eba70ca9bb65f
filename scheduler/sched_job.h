/*
 * Copyright (C) the ngx_tiktok authors.
 * The publish job's states and the steps shared by sched_publish.c,
 * sched_flow.c, sched_upload.c, sched_media.c and sched_fetch.c.
 */

#ifndef _SCHED_JOB_H_INCLUDED_
#define _SCHED_JOB_H_INCLUDED_


#include "sched.h"
#include "sched_tiktok.h"


/* job->state; see the block comment in sched_publish.c */
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


void sched_job_wait(sched_t *s, sched_job_t *j, int64_t ms);
int sched_job_early(sched_t *s, sched_job_t *j);
int sched_job_stale(sched_t *s, sched_job_t *j, tt_txn_t *t);
int sched_slot_take(sched_t *s, sched_job_t *j);
void sched_clear_upload(sched_job_t *j);
void sched_slot_release(sched_t *s, sched_job_t *j);

/* the next step at once; only when nothing awaits a commit */
void sched_job_go(sched_t *s, sched_job_t *j);
void sched_job_fail(sched_t *s, sched_job_t *j, const sched_answer_t *ans);
void sched_job_fail_msg(sched_t *s, sched_job_t *j, sched_result_e r,
    const char *human, const char *note);
void sched_job_published(sched_t *s, sched_job_t *j, int64_t id);

/* sched_flow.c: the steps up to the init, and their shared helpers */
void sched_job_token(sched_t *s, sched_job_t *j);
void sched_job_creator(sched_t *s, sched_job_t *j);
void sched_job_init(sched_t *s, sched_job_t *j);
int sched_job_init_ready(sched_t *s, sched_job_t *j);
void sched_job_unready(sched_t *s, sched_job_t *j);
char *sched_jdup(sched_job_t *j, const char *s);
int sched_job_send(sched_t *s, sched_job_t *j, sched_http_t *h);
sched_http_t *sched_job_http(sched_t *s, sched_job_t *j,
    sched_http_done_pt done);
void sched_job_call(sched_t *s, sched_job_t *j, const char *path,
    tt_buf_t *body, sched_http_done_pt done);
sched_job_t *sched_job_of(sched_http_t *h);
int sched_job_limited(sched_t *s, sched_job_t *j, sched_lim_e kind);
int sched_job_answer(sched_t *s, sched_job_t *j, sched_http_t *h,
    tt_arena_t *a, sched_answer_t *ans);
int sched_job_open(sched_t *s, sched_job_t *j, int64_t *size);

/* sched_upload.c */
void sched_job_put(sched_t *s, sched_job_t *j);
void sched_job_status(sched_t *s, sched_job_t *j);
void sched_job_polling(sched_t *s, sched_job_t *j);
void sched_job_id_later(sched_t *s, sched_job_t *j, const char *why);
void sched_job_id_start(sched_t *s, sched_job_t *j);

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

sched_fetch_t *sched_fetch_find(sched_t *s, const char *name);
int sched_fetch_busy(const sched_fetch_t *f);
sched_fetch_t *sched_fetch_new(sched_t *s, const char *name,
    const char *url, int64_t max_bytes);
void sched_fetch_join(sched_fetch_t *f, sched_job_t *j);
void sched_fetch_leave(sched_job_t *j);
void sched_fetches_tick(sched_t *s, int64_t now);
int sched_spawn(char *const argv[], pid_t *pid, int *fd);
void sched_reap(sched_t *s, pid_t pid);
void sched_reap_tick(sched_t *s, int wait);

/* sched_media.c */
void sched_media_cancel(sched_t *s, sched_job_t *j);
void sched_media_fetched(sched_t *s, sched_job_t *j,
    const sched_fetch_out_t *o);

/* sched_loop.c */
void sched_due_arm(sched_t *s, int64_t at);


#endif /* _SCHED_JOB_H_INCLUDED_ */
