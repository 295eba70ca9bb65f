/*
 * Copyright (C) the ngx_tiktok authors.
 * Media intake: download each media URL to the spool, probe it in a child
 * process (tiktok-probe), record what it found on the post.
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
 * M_FETCH (curl GET to spool_dir/<media id>, size-capped) -> M_PROBE
 * (tiktok-probe FILE kind, read through a pipe in the loop, killed at a
 * deadline) -> recorded as processed or failed.  When none is pending,
 * tt_post_settle makes the post scheduled or media_processing_failed and
 * the job ends.  Nothing is saved until the end: a restart downloads the
 * media again, which costs time but never publishes anything.
 */

#define SCHED_VIDEO_MAX      ((int64_t) 4 * 1024 * 1024 * 1024)
#define SCHED_IMAGE_MAX      ((int64_t) 20 * 1024 * 1024)
#define SCHED_FETCH_TRIES    3
#define SCHED_PROBE_MS       120000
#define SCHED_PROBE_OUT_MAX  65536


static void sched_fetch_done(sched_t *s, sched_http_t *h);
static void sched_probe_start(sched_t *s, sched_job_t *j);


static char *
sched_media_path(sched_t *s, sched_job_t *j, tt_media_t *m)
{
    char  path[4096];
    int   n;

    n = snprintf(path, sizeof(path), "%s/%s",
                 s->conf.spool_dir ? s->conf.spool_dir : ".", m->id);
    if (n < 0 || (size_t) n >= sizeof(path)) {
        return NULL;
    }

    return tt_arena_strndup(j->arena, path, n);
}


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

    /* one failed media fails the post: no need to fetch the others */
    sched_job_end(s, j);
}


static int
sched_media_image(sched_job_t *j)
{
    return j->post.nplatforms > 0
           && j->post.platforms[0].params.format == TT_FORMAT_IMAGE;
}


static void
sched_fetch_start(sched_t *s, sched_job_t *j, tt_media_t *m)
{
    sched_http_t  *h;

    m->spool_path = sched_media_path(s, j, m);
    if (m->spool_path == NULL) {
        sched_media_failed(s, j, "the spool path is too long");
        return;
    }

    j->fd = open(m->spool_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                 0600);
    if (j->fd == -1) {
        sched_log(SCHED_LOG_ERR, "open(\"%s\") failed: %s", m->spool_path,
                  strerror(errno));
        j->state = J_MEDIA;
        sched_job_wait(s, j, 5000);
        return;
    }

    h = sched_http_new(s, sched_fetch_done, j);

    if (h == NULL
        || sched_http_fetch(h, m->source_url, j->fd,
                            sched_media_image(j) ? SCHED_IMAGE_MAX
                                                 : SCHED_VIDEO_MAX)
           != SCHED_OK
        || sched_http_start(s, h) != SCHED_OK)
    {
        if (h) {
            sched_http_free(s, h);
        }

        (void) close(j->fd);
        j->fd = -1;
        sched_job_wait(s, j, 5000);
        return;
    }

    sched_debug("post %s: fetching %s", j->post_id, m->source_url);

    j->http = h;
}


void
sched_media_step(sched_t *s, sched_job_t *j)
{
    tt_media_t  *m;

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


static void
sched_fetch_done(sched_t *s, sched_http_t *h)
{
    sched_job_t  *j;
    tt_media_t   *m;
    char         *ct, msg[CURL_ERROR_SIZE + 64];

    j = h->data;
    if (j == NULL) {
        return;
    }

    j->http = NULL;
    m = &j->post.media[j->media_i];

    (void) close(j->fd);
    j->fd = -1;

    if (h->too_big || h->result == CURLE_FILESIZE_EXCEEDED) {
        (void) snprintf(msg, sizeof(msg), "the file is larger than %s",
                        sched_media_image(j) ? "20 MB" : "4 GB");
        sched_media_failed(s, j, msg);
        return;
    }

    if (h->result != CURLE_OK) {
        if (++j->chunk_tries < SCHED_FETCH_TRIES
            && h->result != CURLE_HTTP_RETURNED_ERROR
            && h->result != CURLE_UNSUPPORTED_PROTOCOL
            && h->result != CURLE_TOO_MANY_REDIRECTS)
        {
            j->state = J_MEDIA;
            sched_job_wait(s, j, 2000 * j->chunk_tries);
            return;
        }

        if (h->result == CURLE_HTTP_RETURNED_ERROR) {
            (void) snprintf(msg, sizeof(msg), "downloading the media failed: "
                            "HTTP %ld", h->status);

        } else {
            (void) snprintf(msg, sizeof(msg), "downloading the media failed: "
                            "%s", h->errbuf[0] ? h->errbuf
                                  : curl_easy_strerror(h->result));
        }

        sched_media_failed(s, j, msg);
        return;
    }

    j->chunk_tries = 0;
    m->size = h->out_len;

    ct = NULL;
    if (curl_easy_getinfo(h->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK
        && ct != NULL && m->content_type == NULL)
    {
        m->content_type = tt_arena_strndup(j->arena, ct, strcspn(ct, "; "));
    }

    sched_probe_start(s, j);
}


/* the probe child */

void
sched_media_cancel(sched_t *s, sched_job_t *j)
{
    sched_child_t  *c;

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

    if (sched_loop_add(s, c->fd, EPOLLIN, sched_child_read, j) != SCHED_OK) {
        sched_media_cancel(s, j);
        j->state = J_MEDIA;
        sched_job_wait(s, j, 5000);
    }
}
