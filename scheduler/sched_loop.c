/*
 * Copyright (C) the ngx_tiktok authors.
 * The event loop: file descriptors, clocks and hooks, after Redis's ae.c.
 * It knows no feature: each registers what it waits for.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include "sched.h"


/*
 * One iteration:
 *
 *   epoll_wait           until an fd is ready or the earliest wake-up a
 *                        hook asked for (its next) comes;
 *   the fds' handlers    each ready fd's (sched_loop_add), clocks too
 *                        (sched_clock_new: an absolute timerfd each);
 *   the ticks            every hook's run, in the order of registration;
 *   the flush            every hook's flush, in order, round after round
 *                        while one says it did work (the store's commit,
 *                        then what had to wait for it);
 *   the next wake-up     every hook's next, the earliest armed.
 *
 * A feature registers a hook (sched_loop_hook) with any of the three, and
 * fds and clocks of its own; the loop calls them and nothing else.
 */

#define SCHED_EVENTS      256
#define SCHED_HOOKS_MAX   16


struct sched_clock_s {
    int                 fd;
    int64_t             armed;              /* at, -1 none, -2 relative */
    sched_clock_pt      handler;
    void               *data;
    sched_clock_t      *next;               /* s->clocks */
};


static int
sched_fd_slot(sched_t *s, int fd)
{
    sched_fd_t  *n;
    int          size;

    if (fd < s->nfds) {
        return SCHED_OK;
    }

    size = s->nfds ? s->nfds : 64;
    while (size <= fd) {
        size *= 2;
    }

    n = realloc(s->fds, size * sizeof(sched_fd_t));
    if (n == NULL) {
        return SCHED_ERR;
    }

    memset(n + s->nfds, 0, (size - s->nfds) * sizeof(sched_fd_t));
    s->fds = n;
    s->nfds = size;

    return SCHED_OK;
}


int
sched_loop_add(sched_t *s, int fd, uint32_t events, sched_io_pt h,
    void *data)
{
    struct epoll_event  ev;

    if (sched_fd_slot(s, fd) != SCHED_OK) {
        return SCHED_ERR;
    }

    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.fd = fd;

    if (epoll_ctl(s->epfd, s->fds[fd].used ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
                  fd, &ev) == -1)
    {
        sched_log(SCHED_LOG_ERR, "epoll_ctl(%d) failed: %s", fd,
                  strerror(errno));
        return SCHED_ERR;
    }

    s->fds[fd].handler = h;
    s->fds[fd].data = data;
    s->fds[fd].events = events;
    s->fds[fd].used = 1;

    return SCHED_OK;
}


int
sched_loop_mod(sched_t *s, int fd, uint32_t events)
{
    if (fd >= s->nfds || !s->fds[fd].used) {
        return SCHED_ERR;
    }

    return sched_loop_add(s, fd, events, s->fds[fd].handler,
                          s->fds[fd].data);
}


int
sched_loop_del(sched_t *s, int fd)
{
    if (fd >= s->nfds || !s->fds[fd].used) {
        return SCHED_OK;
    }

    s->fds[fd].used = 0;

    if (epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL) == -1) {
        sched_log(SCHED_LOG_ERR, "epoll_ctl(DEL %d) failed: %s", fd,
                  strerror(errno));
        return SCHED_ERR;
    }

    return SCHED_OK;
}


/* clocks: a timerfd each, for wake-ups to the millisecond */

static int
sched_clock_set(sched_clock_t *c, int flags, int64_t sec, int64_t nsec)
{
    struct itimerspec  its;

    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = sec;
    its.it_value.tv_nsec = nsec;

    if (timerfd_settime(c->fd, flags, &its, NULL) == -1) {
        sched_log(SCHED_LOG_ERR, "timerfd_settime() failed: %s",
                  strerror(errno));
        return SCHED_ERR;
    }

    return SCHED_OK;
}


static void
sched_clock_fire(sched_t *s, int fd, uint32_t events, void *data)
{
    sched_clock_t  *c = data;
    uint64_t        n;

    /* EAGAIN: a re-arm raced the read; the handler looks anyway */
    if (read(fd, &n, sizeof(n)) < 0) {
        /* void */
    }

    c->armed = -1;
    c->handler(s, c, c->data);
}


/* a clock on clockid (CLOCK_REALTIME or CLOCK_MONOTONIC), disarmed */
sched_clock_t *
sched_clock_new(sched_t *s, int clockid, sched_clock_pt h, void *data)
{
    sched_clock_t  *c;

    c = calloc(1, sizeof(sched_clock_t));
    if (c == NULL) {
        return NULL;
    }

    c->fd = timerfd_create(clockid, TFD_NONBLOCK | TFD_CLOEXEC);
    if (c->fd == -1) {
        sched_log(SCHED_LOG_ERR, "timerfd_create() failed: %s",
                  strerror(errno));
        free(c);
        return NULL;
    }

    c->armed = -1;
    c->handler = h;
    c->data = data;

    if (sched_loop_add(s, c->fd, EPOLLIN, sched_clock_fire, c) != SCHED_OK) {
        (void) close(c->fd);
        free(c);
        return NULL;
    }

    c->next = s->clocks;
    s->clocks = c;

    return c;
}


/*
 * At the millisecond at of the clock, never rounded: it fires when the
 * clock reads at.000, and a time already past fires at once.  at < 0
 * disarms; the time it is armed for already costs no system call.
 */
void
sched_clock_at(sched_clock_t *c, int64_t at)
{
    if (at == c->armed) {
        return;
    }

    c->armed = at;

    if (at < 0) {
        (void) sched_clock_set(c, 0, 0, 0);
        return;
    }

    /* 0 would disarm: the epoch itself is "now" anyway */
    if (at == 0) {
        at = 1;
    }

    (void) sched_clock_set(c, TFD_TIMER_ABSTIME, at / 1000,
                           (at % 1000) * 1000000);
}


/* in ms from now; 0 is at once, < 0 disarms */
int
sched_clock_after(sched_clock_t *c, int64_t ms)
{
    if (ms < 0) {
        c->armed = -1;
        return sched_clock_set(c, 0, 0, 0);
    }

    c->armed = -2;

    if (ms == 0) {
        return sched_clock_set(c, 0, 0, 1);
    }

    return sched_clock_set(c, 0, ms / 1000, (ms % 1000) * 1000000);
}


/* hooks */

int
sched_loop_hook(sched_t *s, const sched_hook_t *h)
{
    if (s->hooks == NULL) {
        s->hooks = calloc(SCHED_HOOKS_MAX, sizeof(sched_hook_t));
        if (s->hooks == NULL) {
            return SCHED_ERR;
        }
    }

    if (s->nhooks == SCHED_HOOKS_MAX) {
        sched_log(SCHED_LOG_ERR, "more than %d hooks", SCHED_HOOKS_MAX);
        return SCHED_ERR;
    }

    s->hooks[s->nhooks++] = *h;

    return SCHED_OK;
}


void
sched_loop_stop(sched_t *s)
{
    s->stopping = 1;
}


static void
sched_loop_wake(sched_t *s, sched_clock_t *c, void *data)
{
    /* nothing: the iteration it ends runs the ticks */
}


int
sched_loop_init(sched_t *s)
{
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd == -1) {
        sched_log(SCHED_LOG_ERR, "epoll_create1() failed: %s",
                  strerror(errno));
        return SCHED_ERR;
    }

    s->tick = sched_clock_new(s, CLOCK_MONOTONIC, sched_loop_wake, NULL);

    return s->tick ? SCHED_OK : SCHED_ERR;
}


void
sched_loop_done(sched_t *s)
{
    sched_clock_t  *c;

    while (s->clocks) {
        c = s->clocks;
        s->clocks = c->next;
        (void) close(c->fd);
        free(c);
    }

    s->tick = NULL;

    if (s->epfd != -1) {
        (void) close(s->epfd);
        s->epfd = -1;
    }

    free(s->fds);
    s->fds = NULL;
    s->nfds = 0;

    free(s->hooks);
    s->hooks = NULL;
    s->nhooks = 0;
}


static void
sched_loop_ticks(sched_t *s)
{
    int64_t  now;
    size_t   i;

    now = tt_mono_ms();

    for (i = 0; i < s->nhooks; i++) {
        if (s->hooks[i].run) {
            s->hooks[i].run(s, now, s->hooks[i].data);
        }
    }
}


static void
sched_loop_flush(sched_t *s)
{
    size_t  i;
    int     more;

    do {
        more = 0;

        for (i = 0; i < s->nhooks; i++) {
            if (s->hooks[i].flush
                && s->hooks[i].flush(s, s->hooks[i].data))
            {
                more = 1;
            }
        }

    } while (more && !s->stopping);
}


static void
sched_loop_arm(sched_t *s)
{
    int64_t  at, w;
    size_t   i;

    at = -1;

    for (i = 0; i < s->nhooks; i++) {
        if (s->hooks[i].next == NULL) {
            continue;
        }

        w = s->hooks[i].next(s, s->hooks[i].data);

        if (w >= 0 && (at < 0 || w < at)) {
            at = w;
        }
    }

    sched_clock_at(s->tick, at);
}


int
sched_loop_run(sched_t *s)
{
    struct epoll_event  evs[SCHED_EVENTS];
    int                 n, i, fd;
    sched_fd_t         *f;

    sched_loop_ticks(s);
    sched_loop_flush(s);

    while (!s->stopping) {
        sched_loop_arm(s);

        n = epoll_wait(s->epfd, evs, SCHED_EVENTS, -1);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            sched_log(SCHED_LOG_ERR, "epoll_wait() failed: %s",
                      strerror(errno));
            return SCHED_ERR;
        }

        for (i = 0; i < n; i++) {
            fd = evs[i].data.fd;

            if (fd >= s->nfds || !s->fds[fd].used) {
                continue;
            }

            f = &s->fds[fd];
            f->handler(s, fd, evs[i].events, f->data);
        }

        sched_loop_ticks(s);
        sched_loop_flush(s);
    }

    /*
     * Parked: every change so far is committed; transfers just stop, and
     * are aborted at exit, once their jobs let go of them.
     */

    return SCHED_OK;
}
