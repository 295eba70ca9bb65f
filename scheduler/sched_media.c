/*
 * Copyright (C) the ngx_tiktok authors.
 * Media intake: download each media URL to the spool (once, however many
 * posts use it), probe it in a child process (tiktok-probe), record what
 * it found on the post.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "sched_job.h"
#include "tt_media.h"


/*
 * A media job walks the post's media in order.  For each pending one:
 *
 *   the URL's file (spool_dir/<SHA-256 hex of the URL>) is there: it is
 *   used as it is -> M_PROBE;
 *   another job downloads that URL now: this one waits for it (the
 *   fetches table, by file name) -> M_PROBE or failed, as that one;
 *   else M_FETCH: room in the spool (tiktok_spool_quota), a curl GET to
 *   "<name>.part" (public addresses only, http and https only, size
 *   capped, time limits), renamed to <name> when complete -> M_PROBE
 *   for every job that waits for it.
 *
 *   M_PROBE: tiktok-probe FILE KIND, read through a pipe in the loop,
 *   killed at a deadline -> recorded as processed or failed.
 *
 * When none is pending, tt_post_settle makes the post scheduled or
 * media_processing_failed and the job ends.  Nothing is saved until the
 * end: a restart finds the completed downloads in the spool and probes
 * them again, which costs little and never publishes anything.
 */

#define SCHED_VIDEO_MAX      ((int64_t) 4 * 1024 * 1024 * 1024)
#define SCHED_IMAGE_MAX      ((int64_t) 20 * 1024 * 1024)
#define SCHED_FETCH_TRIES    3
#define SCHED_FETCH_BLOCK    ((int64_t) 1024 * 1024)
#define SCHED_FETCH_BUCKETS  256
#define SCHED_PROBE_MS       120000
#define SCHED_PROBE_OUT_MAX  65536


/* one download of a URL, for every job that waits for it */
struct sched_fetch_s {
    sched_fetch_t      *next;               /* s->fetches bucket */
    sched_t            *s;
    sched_http_t       *http;
    sched_job_t        *waiters;            /* by fetch_next */
    tt_arena_t         *arena;
    char               *path;               /* spool_dir/name */
    char               *part;               /* spool_dir/name.part */
    int                 fd;
    int64_t             max;                /* the size cap */
    int64_t             reserved;           /* spool bytes taken */
    unsigned            over_quota:1;       /* larger than the quota */
    char                name[SCHED_SPOOL_NAME];
};


/* what a finished download means for the jobs that wait for it */
typedef struct {
    unsigned            ok:1;
    unsigned            retry:1;            /* transient: again later */
    unsigned            too_big:1;          /* past the download's cap */
    unsigned            no_room:1;          /* tiktok_spool_quota */
    int64_t             pass;               /* the sweep that may help */
    char                msg[CURL_ERROR_SIZE + 256];
} sched_fetch_out_t;


static void sched_fetch_done(sched_t *s, sched_http_t *h);
static void sched_probe_start(sched_t *s, sched_job_t *j);


static void
sched_media_failed(sched_t *s, sched_job_t *j, const char *msg)
{
    tt_media_t  *m;

    m = &j->post.media[j->media_i];
    m->status = TT_MEDIA_FAILED;
    m->error_message = tt_arena_strndup(j->arena, msg, strlen(msg));

    sched_log(SCHED_LOG_WARN, "post %s: media %s failed: %s", j->post_id,
              m->id, msg);

    if (j->fd != -1) {
        (void) close(j->fd);
        j->fd = -1;
    }

    /* one failed media fails the post: no need to fetch the others; the
     * files of those done are let go */
    sched_spool_release(s, &j->post);
    sched_job_end(s, j);
}


static int
sched_media_image(sched_job_t *j)
{
    return j->post.nplatforms > 0
           && j->post.platforms[0].params.format == TT_FORMAT_IMAGE;
}


static int64_t
sched_media_max(sched_job_t *j)
{
    return sched_media_image(j) ? SCHED_IMAGE_MAX : SCHED_VIDEO_MAX;
}


static void
sched_media_too_big(sched_t *s, sched_job_t *j)
{
    sched_media_failed(s, j, sched_media_image(j)
                       ? "the media file is larger than 20 MB, TikTok's "
                         "limit for a photo"
                       : "the media file is larger than 4 GB, TikTok's "
                         "limit for a video");
}


/* the fetches table */

static unsigned
sched_fetch_bucket(const char *name)
{
    unsigned  i, b, c;

    b = 0;

    for (i = 0; i < 2; i++) {
        c = (unsigned char) name[i];
        b = b * 16 + ((c >= 'a') ? c - 'a' + 10 : c - '0');
    }

    return b % SCHED_FETCH_BUCKETS;
}


static sched_fetch_t *
sched_fetch_find(sched_t *s, const char *name)
{
    sched_fetch_t  *f;

    if (s->fetches == NULL) {
        return NULL;
    }

    for (f = s->fetches[sched_fetch_bucket(name)]; f; f = f->next) {
        if (strcmp(f->name, name) == 0) {
            return f;
        }
    }

    return NULL;
}


/* is spool_dir/name.part being written by this process? */
int
sched_fetching(sched_t *s, const char *name)
{
    return sched_fetch_find(s, name) != NULL;
}


static void
sched_fetch_join(sched_fetch_t *f, sched_job_t *j)
{
    j->fetch = f;
    j->fetch_next = f->waiters;
    f->waiters = j;
    j->state = J_MEDIA;
}


static void
sched_fetch_leave(sched_job_t *j)
{
    sched_job_t  **pp;

    if (j->fetch == NULL) {
        return;
    }

    for (pp = &j->fetch->waiters; *pp; pp = &(*pp)->fetch_next) {
        if (*pp == j) {
            *pp = j->fetch_next;
            break;
        }
    }

    j->fetch = NULL;
    j->fetch_next = NULL;
}


/* out of the table: a new download of the same URL may start */
static void
sched_fetch_remove(sched_t *s, sched_fetch_t *f)
{
    sched_fetch_t  **pp;

    for (pp = &s->fetches[sched_fetch_bucket(f->name)]; *pp;
         pp = &(*pp)->next)
    {
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    }

    f->next = NULL;
}


static void
sched_fetch_free(sched_t *s, sched_fetch_t *f)
{
    if (f->fd != -1) {
        (void) close(f->fd);
    }

    sched_spool_unreserve(s, f->reserved);
    tt_arena_destroy(f->arena);
    free(f);
}


/* at exit: the transfers are gone already (sched_http_abort_all) */
void
sched_fetches_free(sched_t *s)
{
    unsigned        i;
    sched_fetch_t  *f;

    if (s->fetches == NULL) {
        return;
    }

    for (i = 0; i < SCHED_FETCH_BUCKETS; i++) {
        while (s->fetches[i]) {
            f = s->fetches[i];

            while (f->waiters) {
                sched_fetch_leave(f->waiters);
            }

            (void) unlink(f->part);
            sched_fetch_remove(s, f);
            sched_fetch_free(s, f);
        }
    }

    free(s->fetches);
    s->fetches = NULL;
}


/*
 * The quota, as the bytes arrive: taken a block ahead (or the announced
 * Content-Length at once), so that the spool's table is consulted once
 * a megabyte, not once a write.
 */
static int
sched_fetch_room(sched_http_t *h, size_t len)
{
    sched_fetch_t  *f = h->data;
    curl_off_t      cl;
    int64_t         need, want;

    need = h->out_len + (int64_t) len;

    if (f == NULL || need <= f->reserved) {
        return SCHED_OK;
    }

    want = need + SCHED_FETCH_BLOCK;

    cl = -1;
    if (curl_easy_getinfo(h->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl)
        == CURLE_OK && cl >= need)
    {
        want = cl;
    }

    if (want > f->max) {
        want = f->max > need ? f->max : need;
    }

    if (sched_spool_reserve(f->s, want - f->reserved) == SCHED_ERR) {

        /* the block ahead may not fit where the bytes themselves do */
        if (want == need
            || sched_spool_reserve(f->s, need - f->reserved) == SCHED_ERR)
        {
            f->over_quota = (need > f->s->conf.spool_quota
                             || cl > f->s->conf.spool_quota);
            return SCHED_ERR;
        }

        want = need;
    }

    f->reserved = want;

    return SCHED_OK;
}


static sched_fetch_t *
sched_fetch_new(sched_t *s, sched_job_t *j, const char *name)
{
    sched_fetch_t  *f;
    sched_http_t   *h;
    tt_media_t     *m;

    m = &j->post.media[j->media_i];

    if (s->fetches == NULL) {
        s->fetches = calloc(SCHED_FETCH_BUCKETS, sizeof(sched_fetch_t *));
        if (s->fetches == NULL) {
            return NULL;
        }
    }

    f = calloc(1, sizeof(sched_fetch_t));
    if (f == NULL) {
        return NULL;
    }

    f->fd = -1;
    f->s = s;
    f->max = sched_media_max(j);
    memcpy(f->name, name, SCHED_SPOOL_NAME);

    f->arena = tt_arena_create(1024);
    if (f->arena == NULL) {
        free(f);
        return NULL;
    }

    f->path = sched_spool_path(s, name, NULL, f->arena);
    f->part = sched_spool_path(s, name, ".part", f->arena);

    if (f->path == NULL || f->part == NULL) {
        goto failed;
    }

    f->fd = open(f->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (f->fd == -1) {
        sched_log(SCHED_LOG_ERR, "open(\"%s\") failed: %s", f->part,
                  strerror(errno));
        goto failed;
    }

    h = sched_http_new(s, sched_fetch_done, f);
    if (h == NULL) {
        goto failed;
    }

    h->out_room = sched_fetch_room;

    if (sched_http_fetch(h, m->source_url, f->fd, f->max,
                         !s->conf.allow_private_media) != SCHED_OK
        || sched_http_start(s, h) != SCHED_OK)
    {
        sched_http_free(s, h);
        goto failed;
    }

    f->http = h;
    f->next = s->fetches[sched_fetch_bucket(name)];
    s->fetches[sched_fetch_bucket(name)] = f;

    return f;

failed:

    if (f->fd != -1) {
        (void) close(f->fd);
        (void) unlink(f->part);
    }

    tt_arena_destroy(f->arena);
    free(f);

    return NULL;
}


/* the media's file: in the spool already, downloading, or to download */
static void
sched_fetch_start(sched_t *s, sched_job_t *j, tt_media_t *m)
{
    sched_fetch_t  *f;
    struct stat     st;
    char           *path, name[SCHED_SPOOL_NAME], msg[256];
    int             rc;

    if (j->fetch) {
        return;
    }

    if (sched_spool_name(m->source_url, name) != SCHED_OK) {
        j->state = J_MEDIA;
        sched_job_wait(s, j, 1000);
        return;
    }

    f = sched_fetch_find(s, name);
    if (f) {
        sched_debug("post %s: waits for the download of %s by another post",
                    j->post_id, m->source_url);
        sched_fetch_join(f, j);
        return;
    }

    path = sched_spool_path(s, name, NULL, j->arena);
    if (path == NULL) {
        sched_media_failed(s, j, "the spool path is too long");
        return;
    }

    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        sched_log(SCHED_LOG_INFO, "post %s: media %s is in the spool "
                  "already", j->post_id, m->id);

        m->spool_path = path;
        m->size = st.st_size;
        sched_spool_touch(s, path);

        if (st.st_size > sched_media_max(j)) {
            sched_media_too_big(s, j);
            return;
        }

        sched_probe_start(s, j);
        return;
    }

    if (j->spool_pass > sched_spool_passes(s)) {
        /* the sweep that may free room for it is under way */
        j->state = J_MEDIA;
        sched_job_wait(s, j, 500);
        return;
    }

    rc = sched_spool_reserve(s, 0);

    if (rc == SCHED_AGAIN) {
        /* over the quota, and the first sweep has not said yet which
         * files no post needs: it will, within seconds */
        j->state = J_MEDIA;
        sched_job_wait(s, j, 1000);
        return;
    }

    if (rc != SCHED_OK) {
        /* files that posts let go of since the last sweep may go: the
         * next sweep says, and the download waits for it, once */
        if (j->spool_pass == 0) {
            j->spool_pass = sched_spool_fresh(s);

            if (j->spool_pass) {
                j->state = J_MEDIA;
                sched_job_wait(s, j, 500);
                return;
            }
        }

        sched_media_failed(s, j, sched_spool_full(s, 0, msg, sizeof(msg)));
        return;
    }

    f = sched_fetch_new(s, j, name);
    if (f == NULL) {
        j->state = J_MEDIA;
        sched_job_wait(s, j, 5000);
        return;
    }

    sched_debug("post %s: fetching %s", j->post_id, m->source_url);

    sched_fetch_join(f, j);
}


void
sched_media_step(sched_t *s, sched_job_t *j)
{
    tt_media_t  *m;

    if (j->fetch || j->child) {
        /* a step while it waits (a reload): the wait goes on */
        return;
    }

    while (j->media_i < j->post.nmedia
           && j->post.media[j->media_i].status != TT_MEDIA_PENDING)
    {
        j->media_i++;
    }

    if (j->media_i == j->post.nmedia) {
        sched_log(SCHED_LOG_INFO, "post %s: media ready", j->post_id);
        sched_job_end(s, j);
        return;
    }

    m = &j->post.media[j->media_i];
    sched_fetch_start(s, j, m);
}


/* what the download's end means, in the words of error_message */
static void
sched_fetch_outcome(sched_http_t *h, sched_fetch_out_t *o)
{
    curl_off_t   total, pre;
    const char  *why;

    memset(o, 0, sizeof(sched_fetch_out_t));

    if (h->too_big || h->result == CURLE_FILESIZE_EXCEEDED) {
        o->too_big = 1;
        return;
    }

    if (h->no_room) {
        o->no_room = 1;         /* the waiters say it: sched_spool_full */
        return;
    }

    if (h->result == CURLE_OK) {
        o->ok = 1;
        return;
    }

    why = NULL;

    switch (h->result) {

    case CURLE_COULDNT_CONNECT:
        if (h->refused) {
            (void) snprintf(o->msg, sizeof(o->msg), "%s", h->refused);
            return;
        }

        o->retry = 1;
        break;

    case CURLE_HTTP_RETURNED_ERROR:
        (void) snprintf(o->msg, sizeof(o->msg), "downloading the media "
                        "failed: HTTP %ld", h->status);
        o->retry = (h->status == 408 || h->status == 429
                    || h->status >= 500);
        return;

    case CURLE_TOO_MANY_REDIRECTS:
        (void) snprintf(o->msg, sizeof(o->msg), "downloading the media "
                        "failed: more than %d redirects (a redirect loop?)",
                        SCHED_FETCH_REDIRS);
        return;

    case CURLE_UNSUPPORTED_PROTOCOL:
        why = "it redirects to a URL that is not http or https";
        break;

    case CURLE_OPERATION_TIMEDOUT:
        total = 0;
        pre = 0;
        (void) curl_easy_getinfo(h->easy, CURLINFO_TOTAL_TIME_T, &total);
        (void) curl_easy_getinfo(h->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);

        if (total / 1000 >= SCHED_FETCH_TIMEOUT_MS - 1000) {
            (void) snprintf(o->msg, sizeof(o->msg), "downloading the media "
                            "failed: it took longer than %ld minutes",
                            SCHED_FETCH_TIMEOUT_MS / 60000);
            return;
        }

        if (pre == 0) {
            o->retry = 1;
            why = "connecting to its host timed out";
            break;
        }

        /* a server that went silent that long is not worth another 30 s
         * of waiting, twice */
        (void) snprintf(o->msg, sizeof(o->msg), "downloading the media "
                        "failed: it stalled, no data for %d s",
                        SCHED_FETCH_STALL_S);
        return;

    default:
        /* DNS, refused or reset connections, TLS, a short body */
        o->retry = 1;
        break;
    }

    if (why == NULL) {
        why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(h->result);
    }

    (void) snprintf(o->msg, sizeof(o->msg), "downloading the media failed: "
                    "%s", why);
}


/* a waiter's share of a finished download */
static void
sched_fetch_waiter(sched_t *s, sched_job_t *j, sched_fetch_t *f,
    sched_fetch_out_t *o, const char *ct)
{
    tt_media_t  *m;
    char         msg[256];

    m = &j->post.media[j->media_i];

    if (o->ok) {
        j->chunk_tries = 0;
        m->spool_path = tt_arena_strndup(j->arena, f->path, strlen(f->path));
        m->size = f->http->out_len;

        if (ct != NULL && m->content_type == NULL) {
            m->content_type = tt_arena_strndup(j->arena, ct,
                                               strcspn(ct, "; "));
        }

        if (m->spool_path == NULL) {
            sched_media_failed(s, j, "out of memory");
            return;
        }

        if (m->size > sched_media_max(j)) {
            sched_media_too_big(s, j);
            return;
        }

        sched_probe_start(s, j);
        return;
    }

    if (o->too_big) {
        if (sched_media_max(j) > f->max) {
            /* capped for a photo; this job may take a video's size */
            j->state = J_MEDIA;
            sched_job_kick(s, j);
            return;
        }

        sched_media_too_big(s, j);
        return;
    }

    if (o->no_room) {
        if (j->spool_pass == 0 && o->pass && !f->over_quota) {
            /* again after the sweep that may free room */
            j->spool_pass = o->pass;
            j->state = J_MEDIA;
            sched_job_wait(s, j, 500);
            return;
        }

        sched_media_failed(s, j, sched_spool_full(s, f->over_quota, msg,
                                                  sizeof(msg)));
        return;
    }

    if (o->retry && ++j->chunk_tries < SCHED_FETCH_TRIES) {
        sched_log(SCHED_LOG_WARN, "post %s: %s, trying again", j->post_id,
                  o->msg);
        j->state = J_MEDIA;
        sched_job_wait(s, j, 2000 * j->chunk_tries);
        return;
    }

    sched_media_failed(s, j, o->msg);
}


static void
sched_fetch_done(sched_t *s, sched_http_t *h)
{
    sched_fetch_t      *f;
    sched_job_t        *j, *list;
    sched_fetch_out_t   o;
    char               *ct;

    f = h->data;

    (void) close(f->fd);
    f->fd = -1;

    sched_fetch_outcome(h, &o);

    if (o.no_room) {
        o.pass = sched_spool_fresh(s);
    }

    if (o.ok && rename(f->part, f->path) == -1) {
        sched_log(SCHED_LOG_ERR, "rename(\"%s\", \"%s\") failed: %s",
                  f->part, f->path, strerror(errno));
        o.ok = 0;
        o.retry = 1;
        (void) snprintf(o.msg, sizeof(o.msg), "the downloaded media could "
                        "not be kept in the spool: %s", strerror(errno));
    }

    if (o.ok) {
        sched_spool_added(s, f->name, h->out_len);
        sched_debug("downloaded %s, %lld bytes", f->name,
                    (long long) h->out_len);

    } else if (unlink(f->part) == -1 && errno != ENOENT) {
        sched_log(SCHED_LOG_WARN, "unlink(\"%s\") failed: %s", f->part,
                  strerror(errno));
    }

    ct = NULL;
    if (!o.ok
        || curl_easy_getinfo(h->easy, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK)
    {
        ct = NULL;
    }

    /* the waiters may start a new download of the same name at once */
    sched_fetch_remove(s, f);
    sched_spool_unreserve(s, f->reserved);
    f->reserved = 0;

    list = f->waiters;
    f->waiters = NULL;

    while (list) {
        j = list;
        list = j->fetch_next;
        j->fetch_next = NULL;
        j->fetch = NULL;

        sched_fetch_waiter(s, j, f, &o, ct);
    }

    sched_fetch_free(s, f);
}
/* the probe child */

/* the job stops waiting: for a download (which goes on for the others,
 * or to the spool) or for its probe (which is killed) */
void
sched_media_cancel(sched_t *s, sched_job_t *j)
{
    sched_child_t  *c;

    sched_fetch_leave(j);

    c = j->child;
    if (c == NULL) {
        return;
    }

    (void) sched_loop_del(s, c->fd);
    (void) close(c->fd);
    (void) kill(c->pid, SIGKILL);
    (void) waitpid(c->pid, NULL, 0);
    tt_buf_free(&c->out);
    free(c);
    j->child = NULL;
    s->children--;
}


/*
 * A file that fails the checks is not kept for the next post with the
 * same URL: whoever fixes the media at its URL and asks again gets it
 * downloaded anew.  Unless another job probes it right now.
 */
static void
sched_media_discard(sched_t *s, sched_job_t *j, tt_media_t *m)
{
    sched_job_t  *k;
    tt_media_t   *km;

    if (m->spool_path == NULL) {
        return;
    }

    for (k = s->jobs; k; k = k->next) {
        if (k == j || k->child == NULL || k->media_i >= k->post.nmedia) {
            continue;
        }

        km = &k->post.media[k->media_i];

        if (km->spool_path && strcmp(km->spool_path, m->spool_path) == 0) {
            return;
        }
    }

    sched_spool_forget(s, m->spool_path);
}


static void
sched_probe_record(sched_t *s, sched_job_t *j, sched_child_t *c)
{
    tt_media_t         *m;
    tt_arena_t         *a;
    tt_json_t          *root;
    tt_media_info_t     info;
    tt_media_result_t   res;
    int                 has_info;
    unsigned            i;
    char                err[160];

    m = &j->post.media[j->media_i];

    a = tt_arena_create(4096);
    root = NULL;

    if (a && c->out.len) {
        root = tt_json_parse(a, c->out.data, c->out.len, err, sizeof(err));
    }

    memset(&res, 0, sizeof(res));

    if (root == NULL
        || tt_media_report_from_json(root, &info, &has_info, &res, err,
                                     sizeof(err)) != TT_OK)
    {
        tt_arena_destroy(a);
        sched_media_failed(s, j, c->timed_out ? "probing the media timed out"
                                              : "the media probe failed");
        return;
    }

    tt_arena_destroy(a);

    if (has_info) {
        m->content_type = tt_arena_strndup(j->arena, info.content_type,
                                           strlen(info.content_type));
        m->size = info.size;
        m->width = info.width;
        m->height = info.height;
        m->duration_ms = info.duration_ms;
        m->codec = tt_arena_strndup(j->arena, info.video_codec,
                                    strlen(info.video_codec));
        m->frame_rate = info.frame_rate;
    }

    m->nwarnings = 0;
    m->warnings = tt_arena_alloc(j->arena,
                                 (res.nwarnings + 1) * sizeof(char *));

    for (i = 0; m->warnings && i < res.nwarnings; i++) {
        m->warnings[m->nwarnings++] = tt_arena_strndup(j->arena,
                                          res.warnings[i],
                                          strlen(res.warnings[i]));
    }

    if (res.nerrors > 0) {
        sched_media_discard(s, j, m);
        sched_media_failed(s, j, res.errors[0]);
        return;
    }

    m->status = TT_MEDIA_PROCESSED;
    j->media_i++;
    j->state = J_MEDIA;
    sched_job_kick(s, j);
}


static void
sched_probe_end(sched_t *s, sched_job_t *j)
{
    sched_child_t  *c;

    c = j->child;

    (void) sched_loop_del(s, c->fd);
    (void) close(c->fd);
    (void) waitpid(c->pid, &c->status, 0);
    j->child = NULL;
    s->children--;

    sched_probe_record(s, j, c);

    tt_buf_free(&c->out);
    free(c);
}


void
sched_child_read(sched_t *s, int fd, uint32_t events, void *data)
{
    sched_job_t    *j = data;
    sched_child_t  *c;
    char            buf[4096];
    ssize_t         n;

    c = j->child;

    for ( ;; ) {
        n = read(fd, buf, sizeof(buf));

        if (n > 0) {
            if (c->out.len + n <= SCHED_PROBE_OUT_MAX) {
                (void) tt_buf_append(&c->out, buf, n);
            }
            continue;
        }

        if (n < 0 && errno == EINTR) {
            continue;
        }

        if (n < 0 && errno == EAGAIN) {
            return;
        }

        break;
    }

    sched_probe_end(s, j);
}


void
sched_children_tick(sched_t *s, int64_t now)
{
    sched_job_t  *j;

    /* no walk over every job on each iteration while no probe runs */
    if (s->children == 0) {
        return;
    }

    for (j = s->jobs; j; j = j->next) {
        if (j->child && !j->child->timed_out && now >= j->child->deadline) {
            sched_log(SCHED_LOG_WARN, "post %s: the media probe timed out",
                      j->post_id);
            j->child->timed_out = 1;
            (void) kill(j->child->pid, SIGKILL);
            /* the pipe's EOF ends it in sched_child_read */
        }
    }
}


static void
sched_probe_exec(const char *probe, const char *path, const char *kind,
    int out)
{
    int  null;

    if (dup2(out, STDOUT_FILENO) == -1) {
        _exit(127);
    }

    null = open("/dev/null", O_RDONLY);
    if (null != -1) {
        (void) dup2(null, STDIN_FILENO);
    }

    execl(probe, probe, path, kind, (char *) NULL);
    _exit(127);
}


static void
sched_probe_start(sched_t *s, sched_job_t *j)
{
    tt_media_t     *m;
    sched_child_t  *c;
    int             p[2];
    pid_t           pid;

    m = &j->post.media[j->media_i];

    if (s->probe_path == NULL) {
        /* no probe built: the size and type from the download only */
        m->status = TT_MEDIA_PROCESSED;
        j->media_i++;
        j->state = J_MEDIA;
        sched_job_kick(s, j);
        return;
    }

    c = calloc(1, sizeof(sched_child_t));
    if (c == NULL || pipe2(p, O_CLOEXEC) == -1) {
        free(c);
        j->state = J_MEDIA;
        sched_job_wait(s, j, 5000);
        return;
    }

    pid = fork();

    if (pid == 0) {
        sched_probe_exec(s->probe_path, m->spool_path,
                         sched_media_image(j) ? "image" : "video", p[1]);
    }

    (void) close(p[1]);

    if (pid == -1) {
        (void) close(p[0]);
        free(c);
        j->state = J_MEDIA;
        sched_job_wait(s, j, 5000);
        return;
    }

    (void) fcntl(p[0], F_SETFL, O_NONBLOCK);

    tt_buf_init(&c->out);
    c->pid = pid;
    c->fd = p[0];
    c->status = -1;
    c->deadline = tt_mono_ms() + SCHED_PROBE_MS;
    j->child = c;
    s->children++;

    if (sched_loop_add(s, c->fd, EPOLLIN, sched_child_read, j) != SCHED_OK) {
        sched_media_cancel(s, j);
        j->state = J_MEDIA;
        sched_job_wait(s, j, 5000);
    }
}
