/*
 * Copyright (C) the ngx_tiktok authors.
 * The agenda: the store's due index scanned for posts to take, when the
 * module wakes the scheduler (a datagram on tiktok_wake_socket), at the
 * next due time (a realtime clock), and every SCHED_RESCAN_MS in case a
 * wake-up was lost.
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "sched_job.h"


#define SCHED_RESCAN_MS     30000
#define SCHED_JOBS_MAX      4096


typedef struct {
    sched_t        *s;
    int64_t         now;
    int64_t         next;
} sched_scan_ctx_t;


static int
sched_scan_item(void *data, int64_t at, const char *id)
{
    sched_scan_ctx_t  *c = data;
    sched_job_t       *j;

    if (sched_job_find(c->s, id)) {
        return 0;
    }

    if (at > c->now + SCHED_LEAD_MS) {
        c->next = at - SCHED_LEAD_MS;
        return 1;
    }

    if (c->s->njobs >= SCHED_JOBS_MAX) {
        return 1;
    }

    j = sched_job_new(c->s, id);
    if (j == NULL) {
        return 1;
    }

    j->not_before = at;
    j->late = c->s->first_scan && c->s->conf.max_lateness_ms > 0
              && at < c->s->started_at - c->s->conf.max_lateness_ms;

    sched_job_kick(c->s, j);

    return 0;
}


static void
sched_scan(sched_t *s)
{
    sched_scan_ctx_t  c;
    tt_txn_t          t, *use;

    c.s = s;
    c.now = tt_now_ms();
    c.next = -1;

    if (sched_read_begin(s, &t, &use) != SCHED_OK) {
        return;
    }

    /* every job started here runs after the commit, via its kick */
    (void) tt_due_iter(use, INT64_MAX, sched_scan_item, &c);
    sched_read_end(s, &t, use);

    sched_clock_at(s->due_clock, c.next);
}


/* the loop's tick: last of all, after the hooks that may want a scan */
static void
sched_agenda_tick(sched_t *s, int64_t now, void *data)
{
    if (now >= s->next_rescan) {
        s->next_rescan = now + SCHED_RESCAN_MS;
        s->scan_wanted = 1;
    }

    if (!s->scan_wanted || s->stopping) {
        return;
    }

    s->scan_wanted = 0;
    now = tt_mono_ms();
    sched_scan(s);
    s->first_scan = 0;

    if (tt_mono_ms() - now > 5) {
        sched_debug("the scan took %lld ms", (long long) (tt_mono_ms() - now));
    }
}


static int64_t
sched_agenda_next(sched_t *s, void *data)
{
    return s->scan_wanted ? tt_mono_ms() : s->next_rescan;
}


static void
sched_agenda_due(sched_t *s, sched_clock_t *c, void *data)
{
    s->scan_wanted = 1;
}


static void
sched_agenda_wake(sched_t *s, int fd, uint32_t events, void *data)
{
    char  buf[64];

    while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0) {
        /* drain: one scan answers every wake-up of this iteration */
    }

    s->scan_wanted = 1;
}


/* a freed job (its upload slot, its place) may let waiting work in */
static void
sched_agenda_freed(sched_t *s, sched_job_t *j)
{
    s->scan_wanted = 1;
}


static int
sched_agenda_bind(sched_t *s)
{
    struct sockaddr_un  sa;
    size_t              len;

    if (s->conf.wake_socket == NULL) {
        sched_log(SCHED_LOG_WARN, "no tiktok_wake_socket: relying on the "
                  "periodic rescan");
        return SCHED_OK;
    }

    len = strlen(s->conf.wake_socket);
    if (len >= sizeof(sa.sun_path)) {
        sched_log(SCHED_LOG_ERR, "wake socket path too long");
        return SCHED_ERR;
    }

    s->wake_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        0);
    if (s->wake_fd == -1) {
        sched_log(SCHED_LOG_ERR, "socket() failed: %s", strerror(errno));
        return SCHED_ERR;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, s->conf.wake_socket, len);

    /* a stale socket of a previous run */
    (void) unlink(s->conf.wake_socket);

    if (bind(s->wake_fd, (struct sockaddr *) &sa, sizeof(sa)) == -1) {
        sched_log(SCHED_LOG_ERR, "bind() to \"%s\" failed: %s",
                  s->conf.wake_socket, strerror(errno));
        return SCHED_ERR;
    }

    /*
     * nginx's workers may run as another user and need write permission
     * to send; a datagram only triggers a scan of the store, so letting
     * any local user wake the scheduler costs nothing
     */
    if (chmod(s->conf.wake_socket, 0666) == -1) {
        sched_log(SCHED_LOG_WARN, "chmod(\"%s\") failed: %s",
                  s->conf.wake_socket, strerror(errno));
    }

    return sched_loop_add(s, s->wake_fd, EPOLLIN, sched_agenda_wake, NULL);
}


/* registered last: its tick scans after every other hook's */
int
sched_agenda_init(sched_t *s)
{
    sched_hook_t       h = { "agenda", sched_agenda_tick, sched_agenda_next,
                             NULL, NULL };
    sched_job_watch_t  w = { NULL, sched_agenda_freed };

    s->first_scan = 1;
    s->next_rescan = 0;

    s->due_clock = sched_clock_new(s, CLOCK_REALTIME, sched_agenda_due,
                                   NULL);

    if (s->due_clock == NULL
        || sched_agenda_bind(s) != SCHED_OK
        || sched_job_watch(s, &w) != SCHED_OK)
    {
        return SCHED_ERR;
    }

    return sched_loop_hook(s, &h);
}


void
sched_agenda_done(sched_t *s)
{
    if (s->wake_fd == -1) {
        return;
    }

    (void) sched_loop_del(s, s->wake_fd);
    (void) close(s->wake_fd);
    s->wake_fd = -1;

    if (s->conf.wake_socket) {
        (void) unlink(s->conf.wake_socket);
    }
}
