/*
 * Copyright (C) the ngx_tiktok authors.
 * The event loop: epoll, timerfds, signalfd, the wake socket, curl multi.
 */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include "sched_job.h"


/*
 * One iteration: epoll_wait, the handlers of what fired (curl sockets and
 * timers, whose completions change jobs), the agenda scan when it is due,
 * then sched_loop_commit().
 *
 * Store writes: every state change of one iteration goes into one write
 * transaction (sched_txn), committed once at the end of the iteration, so
 * a burst of 1,000 claims or chunk acknowledgements costs one fsync, not
 * 1,000.  The price: a change is durable a few milliseconds later than it
 * could be, and a failed commit loses the whole batch (the jobs then
 * reload their post from the store and carry on from what is durable).
 * A change that must be durable before a network request (the claim, the
 * stage INIT mark, publish_id and upload_url) is never followed by that
 * request in the same iteration: the job is "kicked" and its next step
 * runs only after the commit (sched_run_kicks).
 */

#define SCHED_RESCAN_MS     30000
#define SCHED_HEARTBEAT_MS  5000
#define SCHED_EVENTS        256


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


static int
sched_timer_arm(int tfd, int flags, int64_t sec, int64_t nsec)
{
    struct itimerspec  its;

    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = sec;
    its.it_value.tv_nsec = nsec;

    if (timerfd_settime(tfd, flags, &its, NULL) == -1) {
        sched_log(SCHED_LOG_ERR, "timerfd_settime() failed: %s",
                  strerror(errno));
        return SCHED_ERR;
    }

    return SCHED_OK;
}


static void
sched_timer_drain(int fd)
{
    uint64_t  n;

    /* EAGAIN: a re-arm raced the read; nothing to do */
    if (read(fd, &n, sizeof(n)) < 0) {
        return;
    }
}


/*
 * An absolute timer at the millisecond at (wall or monotonic, as the
 * timerfd's clock), never rounded: it fires when the clock reads at.000,
 * and a time already past fires at once.  at < 0 disarms.
 */
static void
sched_timer_at(int tfd, int64_t *armed, int64_t at)
{
    if (at == *armed) {
        return;
    }

    *armed = at;

    if (at < 0) {
        (void) sched_timer_arm(tfd, 0, 0, 0);
        return;
    }

    /* 0 would disarm: the epoch itself is "now" anyway */
    if (at == 0) {
        at = 1;
    }

    (void) sched_timer_arm(tfd, TFD_TIMER_ABSTIME, at / 1000,
                           (at % 1000) * 1000000);
}


/* the realtime timer for the earliest future agenda item; at < 0 disarms */
void
sched_due_arm(sched_t *s, int64_t at)
{
    sched_timer_at(s->due_tfd, &s->due_armed, at);
}


/* curl multi glue, after curl's ephiperfifo example */

static void sched_curl_check(sched_t *s);


static void
sched_curl_io(sched_t *s, int fd, uint32_t events, void *data)
{
    int  flags;

    flags = 0;

    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        flags |= CURL_CSELECT_IN;
    }

    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
        flags |= CURL_CSELECT_OUT;
    }

    (void) curl_multi_socket_action(s->multi, fd, flags, &s->running);
    sched_curl_check(s);
}


static void
sched_curl_timer(sched_t *s, int fd, uint32_t events, void *data)
{
    sched_timer_drain(fd);
    s->curl_now = 0;
    (void) curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0,
                                    &s->running);
    sched_curl_check(s);
}


static int
sched_curl_sock_cb(CURL *e, curl_socket_t fd, int what, void *userp,
    void *sockp)
{
    sched_t   *s = userp;
    uint32_t   events;

    if (what == CURL_POLL_REMOVE) {
        (void) sched_loop_del(s, fd);
        return 0;
    }

    events = 0;

    if (what & CURL_POLL_IN) {
        events |= EPOLLIN;
    }

    if (what & CURL_POLL_OUT) {
        events |= EPOLLOUT;
    }

    if (sched_loop_add(s, fd, events, sched_curl_io, NULL) != SCHED_OK) {
        return -1;
    }

    return 0;
}


/*
 * Never calls libcurl: only arms the timerfd.  curl asks for "at once"
 * on every curl_multi_add_handle: while the timer is armed for that and
 * has not fired, asking again changes nothing, and 1,000 calls added at
 * the due time skip 1,000 timerfd_settime()s.
 */
static int
sched_curl_timer_cb(CURLM *multi, long ms, void *userp)
{
    sched_t  *s = userp;

    if (ms == 0 && s->curl_now) {
        return 0;
    }

    s->curl_now = 0;

    if (ms < 0) {
        return sched_timer_arm(s->curl_tfd, 0, 0, 0) == SCHED_OK ? 0 : -1;
    }

    if (ms == 0) {
        if (sched_timer_arm(s->curl_tfd, 0, 0, 1) != SCHED_OK) {
            return -1;
        }

        s->curl_now = 1;
        return 0;
    }

    return sched_timer_arm(s->curl_tfd, 0, ms / 1000, (ms % 1000) * 1000000)
           == SCHED_OK ? 0 : -1;
}


/* the only place that frees a transfer */
static void
sched_curl_check(sched_t *s)
{
    CURLMsg       *msg;
    int            left;
    sched_http_t  *h;
    char          *priv;

    while ((msg = curl_multi_info_read(s->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        priv = NULL;
        (void) curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        h = (sched_http_t *) priv;

        h->result = msg->data.result;
        (void) curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &h->status);

        (void) curl_multi_remove_handle(s->multi, h->easy);

        if (h->done) {
            h->done(s, h);
        }

        sched_http_free(s, h);
    }
}


int
sched_http_start(sched_t *s, sched_http_t *h)
{
    if (curl_multi_add_handle(s->multi, h->easy) != CURLM_OK) {
        return SCHED_ERR;
    }

    h->next = s->https;
    h->prev = NULL;
    if (s->https) {
        s->https->prev = h;
    }
    s->https = h;

    return SCHED_OK;
}


void
sched_http_abort_all(sched_t *s)
{
    sched_http_t  *h;

    while (s->https) {
        h = s->https;
        (void) curl_multi_remove_handle(s->multi, h->easy);
        sched_http_free(s, h);
    }
}


static void
sched_wake_read(sched_t *s, int fd, uint32_t events, void *data)
{
    char  buf[64];

    while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0) {
        /* drain: one scan answers every wake-up of this iteration */
    }

    s->scan_wanted = 1;
}


static void
sched_due_fire(sched_t *s, int fd, uint32_t events, void *data)
{
    sched_timer_drain(fd);
    s->due_armed = -1;
    s->scan_wanted = 1;
}


static void
sched_tick_fire(sched_t *s, int fd, uint32_t events, void *data)
{
    sched_timer_drain(fd);
    s->tick_armed = -1;
}


static void
sched_launch_fire(sched_t *s, int fd, uint32_t events, void *data)
{
    sched_timer_drain(fd);
    s->launch_armed = -1;
    sched_jobs_launch(s);
}


static void
sched_signal(sched_t *s, int fd, uint32_t events, void *data)
{
    struct signalfd_siginfo  si;

    if (read(fd, &si, sizeof(si)) != sizeof(si)) {
        return;
    }

    sched_log(SCHED_LOG_INFO, "signal %u received, stopping",
              (unsigned) si.ssi_signo);
    s->stopping = 1;
}


static int
sched_wake_bind(sched_t *s)
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

    return sched_loop_add(s, s->wake_fd, EPOLLIN, sched_wake_read, NULL);
}


static int
sched_signals(sched_t *s)
{
    sigset_t  set;

    (void) signal(SIGPIPE, SIG_IGN);

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);

    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        return SCHED_ERR;
    }

    s->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->sig_fd == -1) {
        sched_log(SCHED_LOG_ERR, "signalfd() failed: %s", strerror(errno));
        return SCHED_ERR;
    }

    return sched_loop_add(s, s->sig_fd, EPOLLIN, sched_signal, NULL);
}


static int
sched_timerfd(sched_t *s, int clock, int *fd, sched_io_pt h)
{
    *fd = timerfd_create(clock, TFD_NONBLOCK | TFD_CLOEXEC);
    if (*fd == -1) {
        sched_log(SCHED_LOG_ERR, "timerfd_create() failed: %s",
                  strerror(errno));
        return SCHED_ERR;
    }

    return sched_loop_add(s, *fd, EPOLLIN, h, NULL);
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

    s->due_armed = -1;
    s->tick_armed = -1;
    s->launch_armed = -1;

    if (sched_timerfd(s, CLOCK_MONOTONIC, &s->curl_tfd, sched_curl_timer)
        != SCHED_OK
        || sched_timerfd(s, CLOCK_REALTIME, &s->due_tfd, sched_due_fire)
           != SCHED_OK
        || sched_timerfd(s, CLOCK_MONOTONIC, &s->tick_tfd, sched_tick_fire)
           != SCHED_OK
        || sched_timerfd(s, CLOCK_REALTIME, &s->launch_tfd,
                         sched_launch_fire)
           != SCHED_OK
        || sched_signals(s) != SCHED_OK
        || sched_wake_bind(s) != SCHED_OK)
    {
        return SCHED_ERR;
    }

    s->multi = curl_multi_init();
    if (s->multi == NULL) {
        return SCHED_ERR;
    }

    (void) curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION,
                             sched_curl_sock_cb);
    (void) curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
    (void) curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION,
                             sched_curl_timer_cb);
    (void) curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
    (void) curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);

    return SCHED_OK;
}


static void
sched_close(int *fd)
{
    if (*fd != -1) {
        (void) close(*fd);
        *fd = -1;
    }
}


void
sched_loop_done(sched_t *s)
{
    if (s->txn_open) {
        tt_txn_abort(&s->txn);
        s->txn_open = 0;
    }

    if (s->multi) {
        sched_http_abort_all(s);
        (void) curl_multi_cleanup(s->multi);
        s->multi = NULL;
    }

    if (s->wake_fd != -1 && s->conf.wake_socket) {
        (void) unlink(s->conf.wake_socket);
    }

    sched_close(&s->wake_fd);
    sched_close(&s->sig_fd);
    sched_close(&s->launch_tfd);
    sched_close(&s->tick_tfd);
    sched_close(&s->due_tfd);
    sched_close(&s->curl_tfd);
    sched_close(&s->epfd);

    free(s->fds);
    s->fds = NULL;
    s->nfds = 0;
}


tt_txn_t *
sched_txn(sched_t *s)
{
    int  rc;

    if (s->txn_open) {
        return &s->txn;
    }

    rc = tt_txn_begin(s->store, &s->txn, 1);

    if (rc == TT_RESIZED && tt_store_adopt(s->store) == TT_OK) {
        rc = tt_txn_begin(s->store, &s->txn, 1);
    }

    if (rc != TT_OK) {
        sched_log(SCHED_LOG_ERR, "cannot begin a write transaction: %s",
                  tt_store_last_error(s->store));
        return NULL;
    }

    s->txn_open = 1;
    s->txn_gen++;

    return &s->txn;
}


/* a read inside the iteration sees its own uncommitted writes */
int
sched_read_begin(sched_t *s, tt_txn_t *t, tt_txn_t **use)
{
    int  rc;

    if (s->txn_open) {
        *use = &s->txn;
        return SCHED_OK;
    }

    rc = tt_txn_begin(s->store, t, 0);

    if (rc == TT_RESIZED && tt_store_adopt(s->store) == TT_OK) {
        rc = tt_txn_begin(s->store, t, 0);
    }

    if (rc != TT_OK) {
        sched_log(SCHED_LOG_ERR, "cannot begin a read transaction: %s",
                  tt_store_last_error(s->store));
        return SCHED_ERR;
    }

    *use = t;
    return SCHED_OK;
}


void
sched_read_end(sched_t *s, tt_txn_t *t, tt_txn_t *use)
{
    if (use == t) {
        tt_txn_abort(t);
    }
}


static void
sched_heartbeat(sched_t *s)
{
    tt_txn_t  *t;
    uint8_t    be[8];
    int64_t    now;
    int        i;

    t = sched_txn(s);
    if (t == NULL) {
        return;
    }

    now = tt_now_ms();

    for (i = 7; i >= 0; i--) {
        be[i] = (uint8_t) (now & 0xff);
        now >>= 8;
    }

    (void) tt_meta_put(t, "scheduler_heartbeat", be, sizeof(be));
}


static void
sched_loop_commit(sched_t *s)
{
    int      rc;
    int64_t  t0;

    for ( ;; ) {
        if (s->txn_open) {
            s->txn_open = 0;
            t0 = tt_mono_ms();
            rc = tt_txn_commit(&s->txn);

            if (tt_mono_ms() - t0 > 5) {
                sched_debug("commit took %lld ms",
                            (long long) (tt_mono_ms() - t0));
            }

            if (rc != TT_OK) {
                sched_log(SCHED_LOG_ERR, "commit failed (%d): %s", rc,
                          tt_store_last_error(s->store));

                if (rc == TT_FULL) {
                    (void) tt_store_grow(s->store);

                } else if (rc == TT_RESIZED) {
                    (void) tt_store_adopt(s->store);
                }

                sched_jobs_txn_failed(s, s->txn_gen);
            }
        }

        if (s->kicks == NULL || s->stopping) {
            return;
        }

        t0 = tt_mono_ms();
        sched_run_kicks(s);

        if (tt_mono_ms() - t0 > 5) {
            sched_debug("a round of steps took %lld ms",
                        (long long) (tt_mono_ms() - t0));
        }
    }
}


static void
sched_tick_arm(sched_t *s, int64_t now)
{
    int64_t  at, w;

    at = s->next_rescan;

    if (s->next_heartbeat < at) {
        at = s->next_heartbeat;
    }

    if (s->next_conf_check < at) {
        at = s->next_conf_check;
    }

    w = sched_jobs_next_wake(s);
    if (w >= 0 && w < at) {
        at = w;
    }

    w = sched_spool_next_wake(s);
    if (w >= 0 && w < at) {
        at = w;
    }

    w = sched_fetches_next_wake(s);
    if (w >= 0 && w < at) {
        at = w;
    }

    if (s->scan_wanted) {
        at = now;
    }

    sched_timer_at(s->tick_tfd, &s->tick_armed, at);

    /* the held jobs' due times, on the wall clock as the agenda's */
    sched_timer_at(s->launch_tfd, &s->launch_armed,
                   sched_jobs_next_launch(s));
}


static void
sched_loop_timers(sched_t *s)
{
    int64_t  now;

    now = tt_mono_ms();

    if (now >= s->next_heartbeat) {
        s->next_heartbeat = now + SCHED_HEARTBEAT_MS;
        sched_heartbeat(s);
    }

    if (now >= s->next_rescan) {
        s->next_rescan = now + SCHED_RESCAN_MS;
        s->scan_wanted = 1;
    }

    /* a reloaded nginx.conf, before the scan that may start new work */
    sched_conf_check(s, now);

    sched_jobs_tick(s, now);
    sched_children_tick(s, now);
    sched_spool_tick(s);

    if (s->scan_wanted && !s->stopping) {
        s->scan_wanted = 0;
        now = tt_mono_ms();
        sched_scan(s);
        sched_oauth_scan(s);

        if (tt_mono_ms() - now > 5) {
            sched_debug("the scan took %lld ms",
                        (long long) (tt_mono_ms() - now));
        }
    }
}


int
sched_loop_run(sched_t *s)
{
    struct epoll_event  evs[SCHED_EVENTS];
    int                 n, i, fd;
    sched_fd_t         *f;

    s->started_at = tt_now_ms();
    s->first_scan = 1;
    s->next_heartbeat = 0;
    s->next_rescan = 0;

    sched_loop_timers(s);
    s->first_scan = 0;
    sched_loop_commit(s);

    while (!s->stopping) {
        sched_tick_arm(s, tt_mono_ms());

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

        sched_loop_timers(s);
        sched_loop_commit(s);
    }

    /*
     * Parked: every change so far is committed; transfers just stop.
     * They are aborted in sched_loop_done, after sched_jobs_free has
     * detached them from their jobs: a job keeps a pointer to its
     * transfer, which an abort here would leave dangling.
     */

    return SCHED_OK;
}
