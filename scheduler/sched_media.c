/*
 * Copyright (C) the ngx_tiktok authors.
 * Media intake: download each media URL to the spool (once, however many
 * posts use it), probe it in a child process (tiktok-probe), record what
 * it found on the post.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "sched_job.h"
#include "sched_fetch.h"
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
#define SCHED_FETCH_GRACE_MS 60000          /* past curl's own limit */
#define SCHED_FETCH_ORPHAN_MS 5000
#define SCHED_FETCH_CHECK_MS 2000
#define SCHED_FETCH_BUCKETS  256
#define SCHED_PROBE_MS       120000
#define SCHED_PROBE_OUT_MAX  65536


/* one download of a URL, for every job that waits for it */
struct sched_fetch_s {
    sched_fetch_t      *next;               /* s->fetches bucket */
    sched_t            *s;
    sched_job_t        *waiters;            /* by fetch_next */
    tt_arena_t         *arena;
    char               *path;               /* spool_dir/name */
    char               *part;               /* spool_dir/name.part */
    pid_t               pid;                /* tiktok-fetch, -1 none */
    int                 fd;                 /* its stdout, -1 */
    tt_buf_t            out;                /* its last, partial line */
    tt_buf_t            report;             /* its last line, the JSON */
    int64_t             got;                /* bytes it says it wrote */
    int64_t             length;             /* it announced, -1 */
    int64_t             deadline;           /* mono ms */
    int64_t             max;                /* the size cap */
    int64_t             reserved;           /* spool bytes taken */
    unsigned            over_quota:1;       /* larger than the quota */
    unsigned            no_room:1;          /* killed for the quota */
    unsigned            timed_out:1;        /* killed at the deadline */
    unsigned            abandoned:1;        /* killed: no job waits */
    unsigned            garbled:1;          /* killed for its output */
    int64_t             orphan_since;       /* mono ms no job waits, 0 */
    char                name[SCHED_SPOOL_NAME];
};


/* what tiktok-fetch said at the end (sched_fetch.h) */
typedef struct {
    int64_t             result;             /* curl's CURLcode */
    int64_t             status;             /* HTTP */
    int64_t             bytes;
    int64_t             total_ms;
    unsigned            too_big:1;
    unsigned            write_error:1;
    unsigned            connected:1;
    const char         *content_type;       /* NULL none */
    const char         *refused;            /* NULL none */
    const char         *error;              /* NULL none */
} sched_fetch_report_t;


/* what a finished download means for the jobs that wait for it */
typedef struct {
    unsigned            ok:1;
    unsigned            retry:1;            /* transient: again later */
    unsigned            too_big:1;          /* past the download's cap */
    unsigned            no_room:1;          /* tiktok_spool_quota */
    int64_t             pass;               /* the sweep that may help */
    int64_t             bytes;
    const char         *content_type;       /* NULL none */
    char                msg[CURL_ERROR_SIZE + 256];
} sched_fetch_out_t;


static void sched_fetch_done(sched_t *s, sched_fetch_t *f);
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
    f->orphan_since = 0;
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


/*
 * Children are reaped without waiting: one that closed its pipe may take
 * a few milliseconds more to exit, and the loop does not wait for that.
 */
static void
sched_reap(sched_t *s, pid_t pid)
{
    pid_t  *z;

    if (waitpid(pid, NULL, WNOHANG) != 0) {
        return;
    }

    z = realloc(s->zombies, (s->nzombies + 1) * sizeof(pid_t));
    if (z == NULL) {
        (void) waitpid(pid, NULL, 0);
        return;
    }

    s->zombies = z;
    s->zombies[s->nzombies++] = pid;
}


static void
sched_reap_tick(sched_t *s, int wait)
{
    size_t  i;

    for (i = 0; i < s->nzombies; /* void */) {
        if (waitpid(s->zombies[i], NULL, wait ? 0 : WNOHANG) == 0) {
            i++;
            continue;
        }

        s->zombies[i] = s->zombies[--s->nzombies];
    }

    if (s->nzombies == 0) {
        free(s->zombies);
        s->zombies = NULL;
    }
}


/*
 * A child with argv, its stdout a pipe (returned in *fd, non-blocking),
 * stdin /dev/null, stderr the daemon's, no other descriptor, and the
 * signals as a new program expects them (the daemon blocks SIGTERM and
 * SIGINT for its signalfd and ignores SIGPIPE).  posix_spawn: no copy of
 * the daemon's page tables, however large it is.
 */
static int
sched_spawn(char *const argv[], pid_t *pid, int *fd)
{
    int                         p[2], rc;
    sigset_t                    none, dfl;
    posix_spawnattr_t           attr;
    posix_spawn_file_actions_t  fa;

    if (pipe2(p, O_CLOEXEC) == -1) {
        sched_log(SCHED_LOG_ERR, "pipe2() failed: %s", strerror(errno));
        return SCHED_ERR;
    }

    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    sigaddset(&dfl, SIGTERM);
    sigaddset(&dfl, SIGINT);

    rc = posix_spawnattr_init(&attr);

    if (rc == 0) {
        rc = posix_spawn_file_actions_init(&fa);

        if (rc != 0) {
            (void) posix_spawnattr_destroy(&attr);
        }
    }

    if (rc == 0) {
        /* each returns 0 or an error number: the first error stops it */
        rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK
                                             | POSIX_SPAWN_SETSIGDEF);
        if (rc == 0) {
            rc = posix_spawnattr_setsigmask(&attr, &none);
        }

        if (rc == 0) {
            rc = posix_spawnattr_setsigdefault(&attr, &dfl);
        }

        if (rc == 0) {
            rc = posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
        }

        if (rc == 0) {
            rc = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO,
                                                  "/dev/null", O_RDONLY, 0);
        }

        if (rc == 0) {
            rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
        }

        if (rc == 0) {
            rc = posix_spawn(pid, argv[0], &fa, &attr, argv, environ);
        }

        (void) posix_spawn_file_actions_destroy(&fa);
        (void) posix_spawnattr_destroy(&attr);
    }

    (void) close(p[1]);

    if (rc != 0) {
        sched_log(SCHED_LOG_ERR, "posix_spawn(\"%s\") failed: %s", argv[0],
                  strerror(rc));
        (void) close(p[0]);
        return SCHED_ERR;
    }

    (void) fcntl(p[0], F_SETFL, O_NONBLOCK);
    *fd = p[0];

    return SCHED_OK;
}


static void
sched_fetch_stop(sched_t *s, sched_fetch_t *f)
{
    if (f->fd != -1) {
        (void) sched_loop_del(s, f->fd);
        (void) close(f->fd);
        f->fd = -1;
    }

    if (f->pid != -1) {
        (void) kill(f->pid, SIGKILL);
        sched_reap(s, f->pid);
        f->pid = -1;
        s->nfetches--;
    }
}


static void
sched_fetch_free(sched_t *s, sched_fetch_t *f)
{
    sched_fetch_stop(s, f);
    sched_spool_unreserve(s, f->reserved);
    tt_buf_free(&f->out);
    tt_buf_free(&f->report);
    tt_arena_destroy(f->arena);
    free(f);
}


/* at exit: the downloads are killed, their parts removed */
void
sched_fetches_free(sched_t *s)
{
    unsigned        i;
    sched_fetch_t  *f;

    if (s->fetches != NULL) {
        for (i = 0; i < SCHED_FETCH_BUCKETS; i++) {
            while (s->fetches[i]) {
                f = s->fetches[i];

                while (f->waiters) {
                    sched_fetch_leave(f->waiters);
                }

                sched_fetch_stop(s, f);
                (void) unlink(f->part);
                sched_fetch_remove(s, f);
                sched_fetch_free(s, f);
            }
        }

        free(s->fetches);
        s->fetches = NULL;
    }

    sched_reap_tick(s, 1);
}


/*
 * The quota, as the child says how far it got: taken a block ahead (or
 * the announced Content-Length at once), so that the spool's table is
 * consulted once a megabyte.  The child writes on while the daemon
 * reads its lines: the spool may hold a block or so more than the quota
 * for the moment it takes to kill it.
 */
static int
sched_fetch_room(sched_fetch_t *f, int64_t need)
{
    int64_t  want;

    if (need <= f->reserved) {
        return SCHED_OK;
    }

    want = need + SCHED_FETCH_BLOCK;

    if (f->length >= need) {
        want = f->length;
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
                             || f->length > f->s->conf.spool_quota);
            return SCHED_ERR;
        }

        want = need;
    }

    f->reserved = want;

    return SCHED_OK;
}


/* one line of the child's: "length N", "got N", or the report */
static int
sched_fetch_line(sched_fetch_t *f, const char *line, size_t len)
{
    const char  *p;
    char        *end;
    long long    n;

    if (len > 0 && line[0] == '{') {
        f->report.len = 0;
        return tt_buf_append(&f->report, line, len) == TT_OK ? SCHED_OK
                                                             : SCHED_ERR;
    }

    if (len > 7 && memcmp(line, "length ", 7) == 0) {
        p = line + 7;

    } else if (len > 4 && memcmp(line, "got ", 4) == 0) {
        p = line + 4;

    } else {
        return SCHED_ERR;
    }

    errno = 0;
    n = strtoll(p, &end, 10);

    if (errno != 0 || end == p || end != line + len || n < 0) {
        return SCHED_ERR;
    }

    if (p == line + 7) {
        f->length = n;
        return SCHED_OK;
    }

    f->got = n;

    if (sched_fetch_room(f, n) != SCHED_OK) {
        f->no_room = 1;
        return SCHED_ERR;
    }

    return SCHED_OK;
}


static void
sched_fetch_read(sched_t *s, int fd, uint32_t events, void *data)
{
    sched_fetch_t  *f = data;
    char            buf[4096], *nl, *line;
    size_t          used;
    ssize_t         n;

    for ( ;; ) {
        n = read(fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR) {
            continue;
        }

        if (n < 0 && errno == EAGAIN) {
            return;
        }

        if (n <= 0) {
            break;
        }

        if (f->garbled || f->no_room) {
            continue;               /* killed: read on to the EOF */
        }

        if (tt_buf_append(&f->out, buf, n) != TT_OK) {
            sched_log(SCHED_LOG_ERR, "tiktok-fetch for %s: out of memory",
                      f->name);
            f->garbled = 1;
            (void) kill(f->pid, SIGKILL);
            continue;
        }

        line = f->out.data;
        used = 0;

        while ((nl = memchr(line, '\n', f->out.len - used)) != NULL) {
            if (sched_fetch_line(f, line, nl - line) != SCHED_OK) {
                if (!f->no_room) {
                    f->garbled = 1;
                    sched_log(SCHED_LOG_ERR, "tiktok-fetch for %s said "
                              "what it should not: \"%.*s\"", f->name,
                              (int) (nl - line > 80 ? 80 : nl - line), line);
                }

                (void) kill(f->pid, SIGKILL);
                break;
            }

            used += nl + 1 - line;
            line = nl + 1;
        }

        if (f->garbled || f->no_room) {
            continue;
        }

        memmove(f->out.data, f->out.data + used, f->out.len - used);
        f->out.len -= used;

        if (f->out.len > SCHED_FETCH_REPORT_MAX) {
            sched_log(SCHED_LOG_ERR, "tiktok-fetch for %s wrote a line "
                      "too long", f->name);
            f->garbled = 1;
            f->out.len = 0;
            (void) kill(f->pid, SIGKILL);
        }
    }

    /* the EOF: the child is gone, or going */
    (void) sched_loop_del(s, f->fd);
    (void) close(f->fd);
    f->fd = -1;

    sched_reap(s, f->pid);
    f->pid = -1;
    s->nfetches--;

    sched_fetch_done(s, f);
}


static sched_fetch_t *
sched_fetch_new(sched_t *s, sched_job_t *j, const char *name)
{
    sched_fetch_t  *f;
    tt_media_t     *m;
    int             fd;
    char            max[32], parent[32], *argv[7];

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
    f->pid = -1;
    f->s = s;
    f->max = sched_media_max(j);
    f->length = -1;
    tt_buf_init(&f->out);
    tt_buf_init(&f->report);
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

    /* the part exists before the child runs: the sweep knows it ours */
    fd = open(f->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd == -1) {
        sched_log(SCHED_LOG_ERR, "open(\"%s\") failed: %s", f->part,
                  strerror(errno));
        goto failed;
    }

    (void) close(fd);

    (void) snprintf(max, sizeof(max), "%lld", (long long) f->max);
    (void) snprintf(parent, sizeof(parent), "%ld", (long) getpid());

    argv[0] = (char *) s->fetch_path;
    argv[1] = (char *) m->source_url;
    argv[2] = f->part;
    argv[3] = max;
    argv[4] = s->conf.allow_private_media ? "open" : "guard";
    argv[5] = parent;
    argv[6] = NULL;

    if (sched_spawn(argv, &f->pid, &f->fd) != SCHED_OK) {
        f->pid = -1;
        (void) unlink(f->part);
        goto failed;
    }

    s->nfetches++;
    f->deadline = tt_mono_ms() + SCHED_FETCH_TIMEOUT_MS
                  + SCHED_FETCH_GRACE_MS;

    if (sched_loop_add(s, f->fd, EPOLLIN, sched_fetch_read, f) != SCHED_OK) {
        sched_fetch_stop(s, f);
        (void) unlink(f->part);
        goto failed;
    }

    f->next = s->fetches[sched_fetch_bucket(name)];
    s->fetches[sched_fetch_bucket(name)] = f;

    return f;

failed:

    tt_buf_free(&f->out);
    tt_buf_free(&f->report);
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

    if (f && (f->timed_out || f->abandoned)) {
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

    if (s->fetch_path == NULL) {
        sched_media_failed(s, j, "the media cannot be downloaded: "
                           "tiktok-fetch is not installed next to "
                           "tiktok-scheduler");
        return;
    }

    f = sched_fetch_new(s, j, name);
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
    sched_fetch_start(s, j, m);
}


/* the child's last line, read back; NULL if it gave none that is whole */
static sched_fetch_report_t *
sched_fetch_report(sched_fetch_t *f, sched_fetch_report_t *r)
{
    tt_json_t   *root, *v;
    unsigned     i;
    char         err[128];

    struct {
        const char   *key;
        int64_t      *to;
    } ints[] = {
        { "result", &r->result }, { "status", &r->status },
        { "bytes", &r->bytes }, { "total_ms", &r->total_ms }
    };

    struct {
        const char   *key;
        const char  **to;
    } strs[] = {
        { "content_type", &r->content_type }, { "refused", &r->refused },
        { "error", &r->error }
    };

    if (f->report.len == 0) {
        return NULL;
    }

    root = tt_json_parse(f->arena, f->report.data, f->report.len, err,
                         sizeof(err));
    if (root == NULL || root->type != TT_JSON_OBJECT) {
        return NULL;
    }

    memset(r, 0, sizeof(sched_fetch_report_t));

    for (i = 0; i < TT_ARRAY_SIZE(ints); i++) {
        v = tt_json_get(root, ints[i].key);
        if (v == NULL || v->type != TT_JSON_NUMBER || !v->is_int) {
            return NULL;
        }

        *ints[i].to = v->i;
    }

    for (i = 0; i < TT_ARRAY_SIZE(strs); i++) {
        v = tt_json_get(root, strs[i].key);
        if (v == NULL
            || (v->type != TT_JSON_STRING && v->type != TT_JSON_NULL))
        {
            return NULL;
        }

        *strs[i].to = (v->type == TT_JSON_STRING) ? v->str : NULL;
    }

    v = tt_json_get(root, "too_big");
    r->too_big = (v != NULL && v->type == TT_JSON_TRUE);
    v = tt_json_get(root, "write_error");
    r->write_error = (v != NULL && v->type == TT_JSON_TRUE);
    v = tt_json_get(root, "connected");
    r->connected = (v != NULL && v->type == TT_JSON_TRUE);

    return r;
}


/* what the download's end means, in the words of error_message */
static void
sched_fetch_outcome(sched_fetch_t *f, sched_fetch_out_t *o)
{
    const char            *why;
    sched_fetch_report_t   rep, *r;

    memset(o, 0, sizeof(sched_fetch_out_t));

    if (f->no_room) {
        o->no_room = 1;         /* the waiters say it: sched_spool_full */
        return;
    }

    r = f->garbled ? NULL : sched_fetch_report(f, &rep);

    if (r == NULL) {
        if (f->timed_out) {
            (void) snprintf(o->msg, sizeof(o->msg), "downloading the media "
                            "failed: it took longer than %ld minutes",
                            SCHED_FETCH_TIMEOUT_MS / 60000);
            return;
        }

        o->retry = 1;
        (void) snprintf(o->msg, sizeof(o->msg), "downloading the media "
                        "failed: the download process ended without an "
                        "answer");
        return;
    }

    o->bytes = r->bytes;

    if (r->too_big) {
        o->too_big = 1;
        return;
    }

    if (r->result == CURLE_OK && r->bytes == f->got) {
        o->ok = 1;
        o->content_type = r->content_type;
        return;
    }

    why = NULL;

    switch (r->result) {

    case CURLE_OK:
        /* the child's count and its lines disagree: not to be trusted */
        o->retry = 1;
        why = "the download's size is not what was written";
        break;

    case CURLE_COULDNT_CONNECT:
        if (r->refused) {
            (void) snprintf(o->msg, sizeof(o->msg), "%s", r->refused);
            return;
        }

        o->retry = 1;
        break;

    case CURLE_HTTP_RETURNED_ERROR:
        (void) snprintf(o->msg, sizeof(o->msg), "downloading the media "
                        "failed: HTTP %lld", (long long) r->status);
        o->retry = (r->status == 408 || r->status == 429
                    || r->status >= 500);
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
        if (r->total_ms >= SCHED_FETCH_TIMEOUT_MS - 1000) {
            (void) snprintf(o->msg, sizeof(o->msg), "downloading the media "
                            "failed: it took longer than %ld minutes",
                            SCHED_FETCH_TIMEOUT_MS / 60000);
            return;
        }

        if (!r->connected) {
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
        /* DNS, refused or reset connections, TLS, a short body, a spool
         * file that could not be written */
        o->retry = 1;
        break;
    }

    if (why == NULL) {
        why = r->error ? r->error : curl_easy_strerror((CURLcode) r->result);
    }

    (void) snprintf(o->msg, sizeof(o->msg), "downloading the media failed: "
                    "%s", why);
}


/* a waiter's share of a finished download */
static void
sched_fetch_waiter(sched_t *s, sched_job_t *j, sched_fetch_t *f,
    sched_fetch_out_t *o)
{
    const char  *ct;

    tt_media_t  *m;
    char         msg[256];

    m = &j->post.media[j->media_i];

    if (o->ok) {
        j->chunk_tries = 0;
        m->spool_path = tt_arena_strndup(j->arena, f->path, strlen(f->path));
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
sched_fetch_done(sched_t *s, sched_fetch_t *f)
{
    sched_job_t        *j, *list;
    sched_fetch_out_t   o;

    sched_fetch_outcome(f, &o);

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
        sched_spool_added(s, f->name, o.bytes);
        sched_debug("downloaded %s, %lld bytes", f->name,
                    (long long) o.bytes);

    } else if (unlink(f->part) == -1 && errno != ENOENT) {
        sched_log(SCHED_LOG_WARN, "unlink(\"%s\") failed: %s", f->part,
                  strerror(errno));
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

        sched_fetch_waiter(s, j, f, &o);
    }

    sched_fetch_free(s, f);
}


/* the probe child */

/*
 * The job stops waiting: for a download (which goes on for the others,
 * and is stopped if for SCHED_FETCH_ORPHAN_MS no job waits for it: the
 * post was deleted or its media changed, while a job that only reloads
 * joins it again at once) or for its probe (which is killed).
 */
void
sched_media_cancel(sched_t *s, sched_job_t *j)
{
    sched_child_t  *c;
    sched_fetch_t  *f;

    f = j->fetch;
    sched_fetch_leave(j);

    if (f != NULL && f->waiters == NULL) {
        f->orphan_since = tt_mono_ms();
    }

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


/*
 * A download may take an hour: now and then its waiters' posts are read
 * again, so that one deleted or changed meanwhile lets go of it (and a
 * download no post needs stops, see sched_media_cancel).
 */
static void
sched_fetch_check_waiters(sched_t *s)
{
    unsigned        i;
    tt_txn_t        t, *use;
    sched_job_t    *j;
    sched_fetch_t  *f;

    if (sched_read_begin(s, &t, &use) != SCHED_OK) {
        return;
    }

    for (i = 0; i < SCHED_FETCH_BUCKETS; i++) {
        for (f = s->fetches[i]; f; f = f->next) {
            for (j = f->waiters; j; j = j->fetch_next) {
                (void) sched_job_stale(s, j, use);
            }
        }
    }

    sched_read_end(s, &t, use);
}


/* while downloads run, their checks (above, and the orphans' and the
 * deadlines' in the tick) come every SCHED_FETCH_CHECK_MS; -1 none */
int64_t
sched_media_next_wake(sched_t *s)
{
    return s->nfetches ? s->next_fetch_check : -1;
}


void
sched_children_tick(sched_t *s, int64_t now)
{
    unsigned        i;
    sched_job_t    *j;
    sched_fetch_t  *f;

    if (s->nzombies) {
        sched_reap_tick(s, 0);
    }

    if (s->nfetches && now >= s->next_fetch_check) {
        s->next_fetch_check = now + SCHED_FETCH_CHECK_MS;
        sched_fetch_check_waiters(s);
    }

    for (i = 0; s->nfetches && i < SCHED_FETCH_BUCKETS; i++) {
        for (f = s->fetches[i]; f; f = f->next) {
            if (f->pid == -1 || f->timed_out || f->abandoned) {
                continue;
            }

            if (now >= f->deadline) {
                sched_log(SCHED_LOG_WARN, "the download of %s outlived its "
                          "time limit", f->name);
                f->timed_out = 1;
                (void) kill(f->pid, SIGKILL);
                /* the pipe's EOF ends it in sched_fetch_read */

            } else if (f->orphan_since
                       && now - f->orphan_since >= SCHED_FETCH_ORPHAN_MS)
            {
                sched_log(SCHED_LOG_INFO, "the download of %s stopped: no "
                          "post needs it any more", f->name);
                f->abandoned = 1;
                (void) kill(f->pid, SIGKILL);
            }
        }
    }

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
