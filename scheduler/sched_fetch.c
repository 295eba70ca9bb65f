/*
 * Copyright (C) the ngx_tiktok authors.
 * The downloads of media URLs, each in a child process (tiktok-fetch,
 * sched_fetch.h): one per URL whatever the number of posts that wait for
 * it, counted against the spool's quota as the child says how far it
 * got, stopped when no post needs it any more.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "sched_job.h"
#include "sched_fetch.h"


#define SCHED_FETCH_GRACE_MS  60000         /* past curl's own limit */
#define SCHED_FETCH_ORPHAN_MS 5000
#define SCHED_FETCH_CHECK_MS  2000
#define SCHED_FETCH_BUCKETS   256


/* one download of a URL, for every job that waits for it */
struct sched_fetch_s {
    sched_fetch_t      *next;               /* s->fetches bucket */
    sched_t            *s;
    sched_job_t        *waiters;            /* by fetch_next */
    sched_fetched_pt    done;               /* what each waiter hears */
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


static void sched_fetch_done(sched_t *s, sched_fetch_t *f);
static void sched_fetch_read(sched_t *s, int fd, uint32_t events,
    void *data);


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


sched_fetch_t *
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


/* killed (timed out, or no post needed it), its end not read yet */
int
sched_fetch_busy(const sched_fetch_t *f)
{
    return f->timed_out || f->abandoned;
}


/* is spool_dir/name.part being written by this process? (the spool's) */
static int
sched_fetching(sched_t *s, const char *name)
{
    return sched_fetch_find(s, name) != NULL;
}


void
sched_fetch_join(sched_fetch_t *f, sched_job_t *j)
{
    f->orphan_since = 0;
    j->fetch = f;
    j->fetch_next = f->waiters;
    f->waiters = j;
    j->state = J_MEDIA;
}


void
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

    /* the post was deleted or its media changed; a job that only
     * reloads joins again at once (see sched_fetches_tick) */
    if (j->fetch->waiters == NULL) {
        j->fetch->orphan_since = tt_mono_ms();
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

    sched_reap_all(s);
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


/* the whole lines read so far; a child that says wrong is killed */
static void
sched_fetch_lines(sched_fetch_t *f)
{
    char    *nl, *line;
    size_t   used;

    line = f->out.data;
    used = 0;

    while ((nl = memchr(line, '\n', f->out.len - used)) != NULL) {
        if (sched_fetch_line(f, line, nl - line) != SCHED_OK) {
            if (!f->no_room) {
                f->garbled = 1;
                sched_log(SCHED_LOG_ERR, "tiktok-fetch for %s said what it "
                          "should not: \"%.*s\"", f->name,
                          (int) (nl - line > 80 ? 80 : nl - line), line);
            }

            (void) kill(f->pid, SIGKILL);
            return;
        }

        used += nl + 1 - line;
        line = nl + 1;
    }

    memmove(f->out.data, f->out.data + used, f->out.len - used);
    f->out.len -= used;

    if (f->out.len > SCHED_FETCH_REPORT_MAX) {
        sched_log(SCHED_LOG_ERR, "tiktok-fetch for %s wrote a line too long",
                  f->name);
        f->garbled = 1;
        f->out.len = 0;
        (void) kill(f->pid, SIGKILL);
    }
}


static void
sched_fetch_read(sched_t *s, int fd, uint32_t events, void *data)
{
    sched_fetch_t  *f = data;
    char            buf[4096];
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

        sched_fetch_lines(f);
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


/* the part, created before the child runs, and tiktok-fetch on it */
static int
sched_fetch_spawn(sched_t *s, sched_fetch_t *f, const char *url)
{
    int    fd;
    char   max[32], parent[32], *argv[7];

    /* the part exists before the child runs: the sweep knows it ours */
    fd = open(f->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd == -1) {
        sched_log(SCHED_LOG_ERR, "open(\"%s\") failed: %s", f->part,
                  strerror(errno));
        return SCHED_ERR;
    }

    (void) close(fd);

    (void) snprintf(max, sizeof(max), "%lld", (long long) f->max);
    (void) snprintf(parent, sizeof(parent), "%ld", (long) getpid());

    argv[0] = (char *) s->fetch_path;
    argv[1] = (char *) url;
    argv[2] = f->part;
    argv[3] = max;
    argv[4] = s->conf.allow_private_media ? "open" : "guard";
    argv[5] = parent;
    argv[6] = NULL;

    if (sched_spawn(argv, &f->pid, &f->fd) != SCHED_OK) {
        f->pid = -1;
        (void) unlink(f->part);
        return SCHED_ERR;
    }

    s->nfetches++;
    f->deadline = tt_mono_ms() + SCHED_FETCH_TIMEOUT_MS
                  + SCHED_FETCH_GRACE_MS;

    if (sched_loop_add(s, f->fd, EPOLLIN, sched_fetch_read, f) != SCHED_OK) {
        sched_fetch_stop(s, f);
        (void) unlink(f->part);
        return SCHED_ERR;
    }

    return SCHED_OK;
}


/* a download of url to the spool's name, at most max bytes */
sched_fetch_t *
sched_fetch_new(sched_t *s, const char *name, const char *url,
    int64_t max_bytes, sched_fetched_pt done)
{
    sched_fetch_t  *f;

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
    f->done = done;
    f->max = max_bytes;
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

    if (f->path == NULL || f->part == NULL
        || sched_fetch_spawn(s, f, url) != SCHED_OK)
    {
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
static const char *sched_fetch_failure(const sched_fetch_report_t *r,
    sched_fetch_out_t *o);


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

    why = sched_fetch_failure(r, o);

    if (why == NULL) {
        return;
    }

    (void) snprintf(o->msg, sizeof(o->msg), "downloading the media failed: "
                    "%s", why);
}


/*
 * Why a download failed: a reason for "downloading the media failed: %s",
 * or NULL with o->msg written whole; o->retry when it is transient.
 */
static const char *
sched_fetch_failure(const sched_fetch_report_t *r, sched_fetch_out_t *o)
{
    const char  *why;

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
            return NULL;
        }

        o->retry = 1;
        break;

    case CURLE_HTTP_RETURNED_ERROR:
        (void) snprintf(o->msg, sizeof(o->msg), "downloading the media "
                        "failed: HTTP %lld", (long long) r->status);
        o->retry = (r->status == 408 || r->status == 429
                    || r->status >= 500);
        return NULL;

    case CURLE_TOO_MANY_REDIRECTS:
        (void) snprintf(o->msg, sizeof(o->msg), "downloading the media "
                        "failed: more than %d redirects (a redirect loop?)",
                        SCHED_FETCH_REDIRS);
        return NULL;

    case CURLE_UNSUPPORTED_PROTOCOL:
        why = "it redirects to a URL that is not http or https";
        break;

    case CURLE_OPERATION_TIMEDOUT:
        if (r->total_ms >= SCHED_FETCH_TIMEOUT_MS - 1000) {
            (void) snprintf(o->msg, sizeof(o->msg), "downloading the media "
                            "failed: it took longer than %ld minutes",
                            SCHED_FETCH_TIMEOUT_MS / 60000);
            return NULL;
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
        return NULL;

    default:
        /* DNS, refused or reset connections, TLS, a short body, a spool
         * file that could not be written */
        o->retry = 1;
        break;
    }

    if (why == NULL) {
        why = r->error ? r->error : curl_easy_strerror((CURLcode) r->result);
    }

    return why;
}


static void
sched_fetch_done(sched_t *s, sched_fetch_t *f)
{
    sched_job_t        *j, *list;
    sched_fetch_out_t   o;

    sched_fetch_outcome(f, &o);
    o.path = f->path;
    o.max = f->max;
    o.over_quota = f->over_quota;

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

        f->done(s, j, &o);
    }

    sched_fetch_free(s, f);
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


/* the downloads' checks, deadlines and orphans: the loop's tick */
static void
sched_fetches_tick(sched_t *s, int64_t now, void *data)
{
    unsigned        i;
    sched_fetch_t  *f;

    if (s->nfetches == 0) {
        return;
    }

    if (now >= s->next_fetch_check) {
        s->next_fetch_check = now + SCHED_FETCH_CHECK_MS;
        sched_fetch_check_waiters(s);
    }

    for (i = 0; i < SCHED_FETCH_BUCKETS; i++) {
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
}


/* while downloads run, their checks (above, and the orphans' and the
 * deadlines' in the tick) come every SCHED_FETCH_CHECK_MS; -1 none */
static int64_t
sched_fetches_next_wake(sched_t *s, void *data)
{
    return s->nfetches ? s->next_fetch_check : -1;
}


int
sched_fetch_init(sched_t *s)
{
    sched_hook_t  h = { "fetches", sched_fetches_tick,
                        sched_fetches_next_wake, NULL, NULL };

    sched_spool_on_busy(s, sched_fetching);

    return sched_loop_hook(s, &h);
}
