/*
 * Copyright (C) the ngx_tiktok authors.
 * The scheduler daemon: shared types of the loop, HTTP, jobs and limits.
 */

#ifndef _SCHED_H_INCLUDED_
#define _SCHED_H_INCLUDED_


#include <curl/curl.h>
#include <sys/stat.h>

#include "tt_store.h"
#include "tt_conf.h"
#include "tt_time.h"
#include "tt_chunk.h"


#define SCHED_OK      0
#define SCHED_ERR    -1
#define SCHED_AGAIN  -2


/* logging, in nginx's message shape on stderr */
#define SCHED_LOG_ERR    0
#define SCHED_LOG_WARN   1
#define SCHED_LOG_INFO   2
#define SCHED_LOG_DEBUG  3

extern int  sched_log_level;

void sched_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define sched_debug(...)                                                      \
    do { if (sched_log_level >= SCHED_LOG_DEBUG) {                            \
        sched_log(SCHED_LOG_DEBUG, __VA_ARGS__); } } while (0)


typedef struct sched_s       sched_t;
typedef struct sched_job_s   sched_job_t;
typedef struct sched_http_s  sched_http_t;
typedef struct sched_prof_s  sched_prof_t;
typedef struct sched_child_s sched_child_t;
typedef struct sched_fetch_s sched_fetch_t;
typedef struct sched_spool_s sched_spool_t;

typedef struct sched_clock_s sched_clock_t;

typedef void (*sched_io_pt)(sched_t *s, int fd, uint32_t events, void *data);
typedef void (*sched_clock_pt)(sched_t *s, sched_clock_t *c, void *data);


/* an fd's handler record (ae-like) */
typedef struct {
    sched_io_pt     handler;
    void           *data;
    uint32_t        events;
    unsigned        used:1;
} sched_fd_t;


/*
 * What a feature registers with the loop (sched_loop.c): any of
 *
 *   run    each iteration, after the fds' handlers: its periodic work,
 *          due or not (it looks at now, monotonic ms);
 *   flush  after every run, round after round while one returns 1: work
 *          that waits for the store's commit (the commit is one itself);
 *   next   before the loop sleeps: the monotonic ms at which run is
 *          wanted again, -1 none.
 *
 * Hooks run in the order of registration.
 */
typedef struct {
    const char     *name;
    void          (*run)(sched_t *s, int64_t now, void *data);
    int64_t       (*next)(sched_t *s, void *data);
    int           (*flush)(sched_t *s, void *data);
    void           *data;
} sched_hook_t;

typedef void (*sched_txn_fail_pt)(sched_t *s, int64_t gen, void *data);
typedef void (*sched_conf_change_pt)(sched_t *s, const tt_conf_t *old,
    void *data);


/*
 * One HTTP exchange on the multi handle.  Only the completion path in
 * sched_http.c (sched_curl_check) frees it, after calling done.
 */
typedef void (*sched_http_done_pt)(sched_t *s, sched_http_t *h);

struct sched_http_s {
    CURL               *easy;
    struct curl_slist  *headers;
    char               *req_body;           /* owned */
    tt_buf_t            resp;               /* capped */
    size_t              resp_max;
    long                status;
    CURLcode            result;
    char                errbuf[CURL_ERROR_SIZE];

    /* PUT from a file: pread at off, left bytes to go */
    int                 in_fd;
    int64_t             in_off;
    int64_t             in_left;

    /* the Content-Range response header: bytes a-b/total */
    int64_t             range_last;         /* b; -1 nothing yet, -2 none */

    sched_http_done_pt  done;
    void               *data;
    sched_http_t       *next;               /* s->https, for shutdown */
    sched_http_t       *prev;
};


/*
 * A timer node embedded in what waits (a job), in a binary min-heap by at
 * (sched_heap.c): the earliest is found in O(1), and a node is queued,
 * moved or removed in O(log n), so no loop iteration walks every job.
 * index is 1 + the node's place in the heap, 0 when it is not queued (a
 * zeroed node is not); seq keeps nodes of the same at in queueing order.
 */
typedef struct {
    int64_t             at;
    uint64_t            seq;
    size_t              index;
    void               *data;
} sched_hnode_t;

typedef struct {
    sched_hnode_t     **nodes;
    size_t              n;
    size_t              cap;
    uint64_t            seq;
} sched_heap_t;


/* per-profile memory: rate windows, refresh in flight, daily cap */
#define SCHED_WIN_INIT      6
#define SCHED_WIN_CREATOR   20
#define SCHED_WIN_STATUS    30
#define SCHED_DAILY_POSTS   15

typedef enum {
    SCHED_LIM_INIT = 0,
    SCHED_LIM_CREATOR,
    SCHED_LIM_STATUS,
    SCHED_LIM_COUNT
} sched_lim_e;

typedef struct {
    int64_t         at[SCHED_WIN_STATUS];   /* mono ms of the last calls */
    unsigned        head;
    unsigned        n;
} sched_win_t;

struct sched_prof_s {
    char            id[TT_ID_SIZE];
    sched_win_t     win[SCHED_LIM_COUNT];
    int64_t         day[SCHED_DAILY_POSTS]; /* wall ms of the last posts */
    unsigned        day_head;
    unsigned        day_n;
    unsigned        refreshing:1;
    sched_prof_t   *next;
};


/* the states of a job and the step that runs each (sched_job.c) */
typedef void (*sched_step_pt)(sched_t *s, sched_job_t *j);

/*
 * What watches the jobs, registered with sched_job_watch: stop when a job
 * starts over or is freed (let go of what it waits for), freed after.
 */
typedef struct {
    void          (*stop)(sched_t *s, sched_job_t *j);
    void          (*freed)(sched_t *s, sched_job_t *j);
} sched_job_watch_t;

/* a job's own answer to a failure, set by a step: 1 when handled */
typedef struct sched_answer_s sched_answer_t;
typedef int (*sched_job_fail_pt)(sched_t *s, sched_job_t *j,
    const sched_answer_t *ans);


/* a child process (the media probe) read through a pipe */
struct sched_child_s {
    pid_t               pid;
    int                 fd;                 /* stdout pipe */
    tt_buf_t            out;
    int64_t             deadline;           /* mono ms */
    unsigned            timed_out:1;
};


/* the in-memory side of a publish or a media intake; see sched_publish.c */
struct sched_job_s {
    sched_job_t        *next;               /* s->jobs */
    sched_job_t        *prev;
    sched_job_t        *kick_next;          /* s->kicks */
    sched_job_t        *hash_next;          /* s->job_hash */
    char                post_id[TT_ID_SIZE];
    tt_arena_t         *arena;
    tt_post_t           post;
    tt_platform_t      *pl;
    tt_profile_t        profile;
    sched_prof_t       *prof;
    int                 state;
    int                 kind;               /* publish or media */
    sched_http_t       *http;               /* in flight, or NULL */
    sched_child_t      *child;
    sched_fetch_t      *fetch;              /* a download it waits for */
    sched_job_t        *fetch_next;         /* fetch->waiters */
    int64_t             spool_pass;         /* the sweep it waits for */
    sched_hnode_t       wake;               /* s->wakes: at mono ms */
    sched_hnode_t       hold;               /* s->holds: at not_before */
    int64_t             not_before;         /* wall ms of the first call */
    int64_t             saved_gen;          /* txn generation of the
                                             * last save, 0 none */
    uint8_t             rec_hash[32];       /* of the record last seen */
    int                 fd;                 /* spool file, -1 */
    size_t              media_i;

    /* creator_info */
    char               *username;
    unsigned            privacy_ok:1;
    int64_t             max_duration_s;

    /*
     * The first call of the attempt, built ahead while the job waits for
     * its due time (sched_job_early): at the due time it only goes on the
     * multi handle.  ready_state is the step that sends it.
     */
    sched_http_t       *ready;
    const char         *ready_path;
    int                 ready_state;

    /* one attempt */
    int                 resume_state;       /* after a 401 refresh, 0 */
    char               *bad_token;          /* the token TikTok refused */
    int64_t             init_sent_at;       /* wall ms */
    int                 status_errors;
    int                 id_polls;
    int                 chunk_tries;
    int                 polls;
    int64_t             poll_delay;
    unsigned            refreshed:1;
    unsigned            kicked:1;
    unsigned            upload_slot:1;
    unsigned            resuming:1;
    unsigned            lag_noted:1;
    unsigned            late:1;
    unsigned            reload:1;           /* the store changed: J_LOAD */
    unsigned            id_check:1;         /* published: asks for the
                                             * post id (sched_upload.c) */
    unsigned            done:1;
    unsigned            probe_turn:1;       /* waits for a probe's room
                                             * (sched_media.c) */
    sched_job_fail_pt   failing;            /* NULL: sched_job_fail's */
};


#define SCHED_JOB_WATCH_MAX  4


struct sched_s {
    const char         *store_dir;
    tt_store_t         *store;
    tt_arena_t         *arena;              /* helper paths */
    const char         *probe_path;         /* tiktok-probe, or NULL */
    const char         *fetch_path;         /* tiktok-fetch, or NULL */
    int64_t             started_at;         /* wall ms */

    /* the loop: sched_loop.c */
    int                 epfd;
    sched_fd_t         *fds;
    int                 nfds;
    sched_hook_t       *hooks;
    size_t              nhooks;
    sched_clock_t      *clocks;
    sched_clock_t      *tick;               /* the hooks' next wake-up */
    unsigned            stopping:1;

    /* the iteration's write transaction: sched_txn.c */
    tt_txn_t            txn;
    unsigned            txn_open:1;
    int64_t             txn_gen;
    sched_txn_fail_pt   txn_fail;
    void               *txn_fail_data;

    /* the configuration: sched_conf.c */
    tt_conf_t           conf;
    tt_str_t            client_secret;
    tt_arena_t         *conf_arena;         /* conf and client_secret */
    uint8_t             conf_hash[32];      /* of the record applied */
    struct stat         secret_st;          /* the secret file read */
    int64_t             next_conf_check;    /* mono ms */
    sched_conf_change_pt conf_change;
    void               *conf_change_data;

    /* the signals and the heartbeat: sched_main.c */
    int                 sig_fd;
    int64_t             next_heartbeat;     /* mono ms */

    /* HTTP on curl multi: sched_http.c */
    CURLM              *multi;
    int                 running;
    sched_clock_t      *curl_clock;
    unsigned            curl_now:1;         /* armed "at once" */
    sched_http_t       *https;

    /* the agenda: sched_agenda.c */
    int                 wake_fd;
    sched_clock_t      *due_clock;          /* realtime, the next due */
    int64_t             next_rescan;        /* mono ms */
    unsigned            first_scan:1;
    unsigned            scan_wanted:1;

    /* media downloads by the spool name of their URL: sched_fetch.c */
    sched_fetch_t     **fetches;
    size_t              nfetches;           /* tiktok-fetch children */
    int64_t             next_fetch_check;   /* mono ms: their posts */

    /* children not reaped yet: sched_child.c */
    pid_t              *zombies;
    size_t              nzombies;

    /* the spool: sched_spool.c */
    sched_spool_t      *spool;
    int               (*spool_busy)(sched_t *s, const char *name);

    /* the jobs: sched_job.c */
    sched_job_t        *jobs;
    sched_job_t       **job_hash;           /* by post id */
    size_t              njobs;
    sched_job_t        *kicks;
    sched_heap_t        wakes;              /* jobs' timers, mono ms */
    sched_heap_t        holds;              /* jobs held for their due
                                             * time, wall ms */
    sched_clock_t      *launch_clock;       /* realtime, s->holds */
    const sched_step_pt *steps;             /* by job->state */
    sched_job_watch_t   watch[SCHED_JOB_WATCH_MAX];
    size_t              nwatch;
    size_t              uploads;            /* upload slots taken */

    size_t              children;           /* jobs with a probe child */
    sched_prof_t      **profs;              /* hash by profile id */

    /* due time to first TikTok call, ms, reported at exit: sched_call.c */
    int64_t            *lags;
    size_t              nlags;
};


/* sched_log.c */
/* (above: sched_log, sched_debug) */

/* sched_loop.c: fds, clocks, hooks; no feature */
int sched_loop_init(sched_t *s);
void sched_loop_done(sched_t *s);
int sched_loop_run(sched_t *s);
void sched_loop_stop(sched_t *s);
int sched_loop_add(sched_t *s, int fd, uint32_t events, sched_io_pt h,
    void *data);
int sched_loop_mod(sched_t *s, int fd, uint32_t events);
int sched_loop_del(sched_t *s, int fd);
int sched_loop_hook(sched_t *s, const sched_hook_t *h);
sched_clock_t *sched_clock_new(sched_t *s, int clockid, sched_clock_pt h,
    void *data);
void sched_clock_at(sched_clock_t *c, int64_t at);
int sched_clock_after(sched_clock_t *c, int64_t ms);

/* sched_txn.c */
int sched_txn_init(sched_t *s);
void sched_txn_done(sched_t *s);
tt_txn_t *sched_txn(sched_t *s);            /* NULL if it cannot begin */
int sched_read_begin(sched_t *s, tt_txn_t *t, tt_txn_t **use);
void sched_read_end(sched_t *s, tt_txn_t *t, tt_txn_t *use);
void sched_txn_on_fail(sched_t *s, sched_txn_fail_pt h, void *data);

/* sched_conf.c */
int sched_conf_load(sched_t *s);
int sched_conf_init(sched_t *s);
void sched_conf_free(sched_t *s);
void sched_conf_on_change(sched_t *s, sched_conf_change_pt h, void *data);

/* sched_heap.c */
int sched_heap_reserve(sched_heap_t *h, size_t n);
int sched_heap_add(sched_heap_t *h, sched_hnode_t *node, int64_t at);
void sched_heap_remove(sched_heap_t *h, sched_hnode_t *node);
sched_hnode_t *sched_heap_min(sched_heap_t *h);
void sched_heap_free(sched_heap_t *h);

/* sched_http.c */
sched_http_t *sched_http_new(sched_t *s, sched_http_done_pt done,
    void *data);
int sched_http_json(sched_http_t *h, const char *url, const char *bearer,
    const char *body, size_t len);
int sched_http_form(sched_http_t *h, const char *url, const char *body,
    size_t len);
int sched_http_get(sched_http_t *h, const char *url, const char *bearer);
int sched_http_form_field(tt_buf_t *out, const char *name, const char *v,
    size_t len);
int sched_http_put(sched_http_t *h, const char *url, const char *ctype,
    int fd, int64_t off, int64_t len, int64_t total);
int sched_http_init(sched_t *s);
void sched_http_done(sched_t *s);
int sched_http_start(sched_t *s, sched_http_t *h);
void sched_http_free(sched_t *s, sched_http_t *h);
void sched_http_abort_all(sched_t *s);

/*
 * sched_oauth.c: connecting TikTok accounts (codes exchanged, the
 * account's name, username and avatar read) and tokens of deleted
 * profiles revoked; a hook that looks at the store at each wake-up and
 * every 30 s.
 */
int sched_oauth_init(sched_t *s);
void sched_oauth_free(sched_t *s);

/* sched_limit.c */
int sched_profs_init(sched_t *s);
void sched_profs_free(sched_t *s);
sched_prof_t *sched_prof_get(sched_t *s, const char *id);
int64_t sched_limit_wait(sched_prof_t *p, sched_lim_e kind, int64_t now);
void sched_limit_take(sched_prof_t *p, sched_lim_e kind, int64_t now);
int64_t sched_daily_wait(sched_prof_t *p, int64_t now_wall);
void sched_daily_take(sched_prof_t *p, int64_t now_wall);
int64_t sched_backoff_from(int64_t base, int64_t cap, int64_t attempt);
int64_t sched_backoff(int64_t attempt);

/* sched_webhook.c: the outbox's deliveries */
int sched_webhook_init(sched_t *s);
void sched_webhook_done(sched_t *s);

/* sched_child.c: children started bare, reaped without waiting */
int sched_child_init(sched_t *s);
int sched_spawn(char *const argv[], pid_t *pid, int *fd);
void sched_reap(sched_t *s, pid_t pid);
void sched_reap_all(sched_t *s);

/*
 * sched_spool.c: the files of spool_dir.  A media URL's file is named by
 * the SHA-256 hex of the URL (SCHED_SPOOL_NAME bytes with the NUL), and
 * is "<name>.part" while it downloads.
 */
#define SCHED_SPOOL_NAME  65

int sched_spool_init(sched_t *s);
int sched_sweep_init(sched_t *s);           /* sched_spool_sweep.c */
void sched_spool_on_busy(sched_t *s,
    int (*busy)(sched_t *s, const char *name));
void sched_spool_done(sched_t *s);
int sched_spool_name(const char *url, char name[SCHED_SPOOL_NAME]);
char *sched_spool_path(sched_t *s, const char *name, const char *suffix,
    tt_arena_t *a);
int sched_spool_reserve(sched_t *s, int64_t bytes);
void sched_spool_unreserve(sched_t *s, int64_t bytes);
void sched_spool_added(sched_t *s, const char *name, int64_t size);
void sched_spool_touch(sched_t *s, const char *path);
void sched_spool_forget(sched_t *s, const char *path);
void sched_spool_release(sched_t *s, const tt_post_t *p);
const char *sched_spool_full(sched_t *s, int larger, char *buf,
    size_t size);
int64_t sched_spool_fresh(sched_t *s);
int64_t sched_spool_passes(sched_t *s);


#endif /* _SCHED_H_INCLUDED_ */
