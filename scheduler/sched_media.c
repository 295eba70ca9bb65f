/*
 * Copyright (C) the ngx_tiktok authors.
 * Media intake: each media URL downloaded to the spool (once, however
 * many posts use it: sched_fetch.c), probed in a child process
 * (tiktok-probe), what it found recorded on the post.
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

#include "sched_job.h"
#include "tt_media.h"


/*
 * A media job walks the post's media in order.  For each pending one:
 *
 *   the URL's file (spool_dir/<SHA-256 hex of the URL>) is there: it is
 *   used as it is -> M_PROBE;
 *   another job downloads that URL now: this one waits for it (the
 *   fetches table, by file name) -> M_PROBE or failed, as that one;
 *   else M_FETCH: room in the spool (tiktok_spool_quota), a child
 *   process, tiktok-fetch, downloads to "<name>.part" (public addresses
 *   only, http and https only, size capped, time limits; see
 *   sched_fetch.h) and says on a pipe how far it got, which the quota
 *   counts; renamed to <name> when complete -> M_PROBE for every job
 *   that waits for it.
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
#define SCHED_PROBE_MS       120000
#define SCHED_PROBE_OUT_MAX  65536

/*
 * Probes at once.  A probe takes a core for a moment: a restart that
 * finds a thousand posts in media intake must not start a thousand (the
 * loop would starve for the CPU, its store transaction open, and
 * nginx's writes would wait for it).  The others wait for their turn.
 */
#define SCHED_PROBES_MAX     4


static void sched_probe_start(sched_t *s, sched_job_t *j);
static void sched_media_fetched(sched_t *s, sched_job_t *j,
    const sched_fetch_out_t *o);


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


/* a child that could not start: again a little later, a few times */
static void
sched_media_spawn_failed(sched_t *s, sched_job_t *j, const char *what)
{
    char  msg[160];

    if (++j->chunk_tries < SCHED_FETCH_TRIES) {
        j->state = J_MEDIA;
        sched_job_wait(s, j, 5000);
        return;
    }

    (void) snprintf(msg, sizeof(msg), "%s (the scheduler's log says why)",
                    what);
    sched_media_failed(s, j, msg);
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


/*
 * Room in the spool for a new download: 1 when there is; else 0, and the
 * job waits (for the sweep that may free room) or failed.
 */
static int
sched_media_room(sched_t *s, sched_job_t *j)
{
    char  msg[256];
    int   rc;

    if (j->spool_pass > sched_spool_passes(s)) {
        /* the sweep that may free room for it is under way */
        j->state = J_MEDIA;
        sched_job_wait(s, j, 500);
        return 0;
    }

    rc = sched_spool_reserve(s, 0);

    if (rc == SCHED_AGAIN) {
        /* over the quota, and the first sweep has not said yet which
         * files no post needs: it will, within seconds */
        j->state = J_MEDIA;
        sched_job_wait(s, j, 1000);
        return 0;
    }

    if (rc != SCHED_OK) {
        /* files that posts let go of since the last sweep may go: the
         * next sweep says, and the download waits for it, once */
        if (j->spool_pass == 0) {
            j->spool_pass = sched_spool_fresh(s);

            if (j->spool_pass) {
                j->state = J_MEDIA;
                sched_job_wait(s, j, 500);
                return 0;
            }
        }

        sched_media_failed(s, j, sched_spool_full(s, 0, msg, sizeof(msg)));
        return 0;
    }

    return 1;
}


/* the URL's file is in the spool already: 1 when it is, and it is used */
static int
sched_media_spooled(sched_t *s, sched_job_t *j, tt_media_t *m, char *path)
{
    struct stat  st;

    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        return 0;
    }

    sched_log(SCHED_LOG_INFO, "post %s: media %s is in the spool already",
              j->post_id, m->id);

    m->spool_path = path;
    m->size = st.st_size;
    sched_spool_touch(s, path);

    if (st.st_size > sched_media_max(j)) {
        sched_media_too_big(s, j);
        return 1;
    }

    sched_probe_start(s, j);
    return 1;
}


/* the media's file: in the spool already, downloading, or to download */
static void
sched_media_file(sched_t *s, sched_job_t *j, tt_media_t *m)
{
    sched_fetch_t  *f;
    char           *path, name[SCHED_SPOOL_NAME];

    if (j->fetch) {
        return;
    }

    if (sched_spool_name(m->source_url, name) != SCHED_OK) {
        j->state = J_MEDIA;
        sched_job_wait(s, j, 1000);
        return;
    }

    f = sched_fetch_find(s, name);

    if (f && sched_fetch_busy(f)) {
        /* killed, its end not read yet: a new download once it is */
        j->state = J_MEDIA;
        sched_job_wait(s, j, 500);
        return;
    }

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

    if (sched_media_spooled(s, j, m, path) || !sched_media_room(s, j)) {
        return;
    }

    if (s->fetch_path == NULL) {
        sched_media_failed(s, j, "the media cannot be downloaded: "
                           "tiktok-fetch is not installed next to "
                           "tiktok-scheduler");
        return;
    }

    f = sched_fetch_new(s, name, m->source_url, sched_media_max(j),
                        sched_media_fetched);
    if (f == NULL) {
        sched_media_spawn_failed(s, j, "the download could not be started");
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
        /* a step while it waits (a kick from its timer): it goes on */
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
    sched_media_file(s, j, m);
}


/* a job's share of a finished download (sched_fetch_done) */
static void
sched_media_fetched(sched_t *s, sched_job_t *j, const sched_fetch_out_t *o)
{
    tt_media_t  *m;
    const char  *ct;
    char         msg[256];

    m = &j->post.media[j->media_i];

    if (o->ok) {
        j->chunk_tries = 0;
        m->spool_path = tt_arena_strndup(j->arena, o->path, strlen(o->path));
        m->size = o->bytes;
        ct = o->content_type;

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
        if (sched_media_max(j) > o->max) {
            /* capped for a photo; this job may take a video's size */
            j->state = J_MEDIA;
            sched_job_kick(s, j);
            return;
        }

        sched_media_too_big(s, j);
        return;
    }

    if (o->no_room) {
        if (j->spool_pass == 0 && o->pass && !o->over_quota) {
            /* again after the sweep that may free room */
            j->spool_pass = o->pass;
            j->state = J_MEDIA;
            sched_job_wait(s, j, 500);
            return;
        }

        sched_media_failed(s, j, sched_spool_full(s, o->over_quota, msg,
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


/* the probe child */

/* a probe ended: the first job that waits for a probe's room goes on */
static void
sched_probe_next_turn(sched_t *s)
{
    sched_job_t  *j;

    for (j = s->jobs; j; j = j->next) {
        if (j->probe_turn) {
            j->probe_turn = 0;
            sched_job_kick(s, j);
            return;
        }
    }
}


/*
 * The job stops waiting: for a download (which goes on for the others,
 * and is stopped if for SCHED_FETCH_ORPHAN_MS no job waits for it: the
 * post was deleted or its media changed, while a job that only reloads
 * joins it again at once) or for its probe (which is killed).
 */
static void
sched_media_cancel(sched_t *s, sched_job_t *j)
{
    sched_child_t  *c;

    sched_fetch_leave(j);
    j->probe_turn = 0;

    c = j->child;
    if (c == NULL) {
        return;
    }

    (void) sched_loop_del(s, c->fd);
    (void) close(c->fd);
    (void) kill(c->pid, SIGKILL);
    sched_reap(s, c->pid);
    tt_buf_free(&c->out);
    free(c);
    j->child = NULL;
    s->children--;
    sched_probe_next_turn(s);
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
    sched_reap(s, c->pid);
    j->child = NULL;
    s->children--;
    sched_probe_next_turn(s);

    sched_probe_record(s, j, c);

    tt_buf_free(&c->out);
    free(c);
}


static void
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


/* the loop's tick: the probes past their deadline are killed */
static void
sched_probes_tick(sched_t *s, int64_t now, void *data)
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
sched_probe_start(sched_t *s, sched_job_t *j)
{
    tt_media_t     *m;
    sched_child_t  *c;
    char           *argv[4];

    m = &j->post.media[j->media_i];

    if (s->probe_path == NULL) {
        /* unchecked media never passes */
        sched_media_failed(s, j, "the media cannot be checked: tiktok-probe "
                           "is not installed next to tiktok-scheduler");
        return;
    }

    if (s->children >= SCHED_PROBES_MAX) {
        /* kicked when a probe ends; its step finds the file again */
        sched_debug("post %s: waits for a probe's turn", j->post_id);
        j->probe_turn = 1;
        return;
    }

    j->probe_turn = 0;

    argv[0] = (char *) s->probe_path;
    argv[1] = (char *) m->spool_path;
    argv[2] = sched_media_image(j) ? "image" : "video";
    argv[3] = NULL;

    c = calloc(1, sizeof(sched_child_t));
    if (c == NULL || sched_spawn(argv, &c->pid, &c->fd) != SCHED_OK) {
        free(c);
        sched_media_spawn_failed(s, j, "the media probe could not be "
                                 "started");
        return;
    }

    tt_buf_init(&c->out);
    c->deadline = tt_mono_ms() + SCHED_PROBE_MS;
    j->child = c;
    s->children++;

    if (sched_loop_add(s, c->fd, EPOLLIN, sched_child_read, j) != SCHED_OK) {
        sched_media_cancel(s, j);
        sched_media_spawn_failed(s, j, "the media probe could not be "
                                 "started");
    }
}


/* the earliest probe deadline; the probes are few, walked if any */
static int64_t
sched_probes_next(sched_t *s, void *data)
{
    sched_job_t  *j;
    int64_t       at;

    if (s->children == 0) {
        return -1;
    }

    at = -1;

    for (j = s->jobs; j; j = j->next) {
        if (j->child && (at < 0 || j->child->deadline < at)) {
            at = j->child->deadline;
        }
    }

    return at;
}


int
sched_media_init(sched_t *s)
{
    sched_hook_t       h = { "probes", sched_probes_tick, sched_probes_next,
                             NULL, NULL };
    sched_job_watch_t  w = { sched_media_cancel, NULL };

    if (sched_job_watch(s, &w) != SCHED_OK) {
        return SCHED_ERR;
    }

    return sched_loop_hook(s, &h);
}
