/*
 * Copyright (C) the ngx_tiktok authors.
 * tiktok-scheduler: start-up, the signals and the heartbeat; every
 * feature is set up here, registering with the loop in the order its
 * hooks run.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include "sched_job.h"


#define SCHED_HEARTBEAT_MS  5000


/* a helper program (tiktok-probe, tiktok-fetch) next to this binary */
static const char *
sched_find_helper(sched_t *s, const char *name)
{
    char     path[4096];
    size_t   len;
    ssize_t  n;
    char    *slash;

    len = strlen(name);

    n = readlink("/proc/self/exe", path, sizeof(path) - len - 1);
    if (n <= 0) {
        return NULL;
    }

    path[n] = '\0';
    slash = strrchr(path, '/');
    if (slash == NULL) {
        return NULL;
    }

    memcpy(slash + 1, name, len + 1);

    if (access(path, X_OK) != 0) {
        return NULL;
    }

    return tt_arena_strndup(s->arena, path, strlen(path));
}


static void
sched_usage(void)
{
    fprintf(stderr, "usage: tiktok-scheduler -s STORE_DIR [-v]\n");
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
    sched_loop_stop(s);
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


/* the store's meta "scheduler_heartbeat": the daemon is alive */
static void
sched_heartbeat(sched_t *s, int64_t now, void *data)
{
    tt_txn_t  *t;
    uint8_t    be[8];
    int        i;

    if (now < s->next_heartbeat) {
        return;
    }

    s->next_heartbeat = now + SCHED_HEARTBEAT_MS;

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


static int64_t
sched_heartbeat_next(sched_t *s, void *data)
{
    return s->next_heartbeat;
}


/*
 * The loop first, then every feature, each registering its hooks: they
 * run in this order.  The commit is the first flush, before the steps
 * that wait for it; the agenda's scan is the last tick.
 */
static int
sched_features(sched_t *s)
{
    sched_hook_t  beat = { "heartbeat", sched_heartbeat,
                           sched_heartbeat_next, NULL, NULL };

    if (sched_loop_init(s) != SCHED_OK
        || sched_txn_init(s) != SCHED_OK
        || sched_loop_hook(s, &beat) != SCHED_OK
        || sched_conf_init(s) != SCHED_OK
        || sched_http_init(s) != SCHED_OK
        || sched_jobs_init(s) != SCHED_OK
        || sched_child_init(s) != SCHED_OK
        || sched_fetch_init(s) != SCHED_OK
        || sched_media_init(s) != SCHED_OK
        || sched_spool_init(s) != SCHED_OK
        || sched_sweep_init(s) != SCHED_OK
        || sched_oauth_init(s) != SCHED_OK
        || sched_stats_init(s) != SCHED_OK
        || sched_agenda_init(s) != SCHED_OK
        || sched_webhook_init(s) != SCHED_OK
        || sched_signals(s) != SCHED_OK)
    {
        return SCHED_ERR;
    }

    sched_publish_init(s);

    return SCHED_OK;
}


static int
sched_init(sched_t *s)
{
    tt_store_conf_t  sc;
    char             err[256];

    /* the map as nginx made it; grown up to its maximum, once read */
    memset(&sc, 0, sizeof(sc));
    sc.path = s->store_dir;
    sc.max_readers = 126;

    if (tt_store_open(&sc, &s->store, err, sizeof(err)) != TT_OK) {
        sched_log(SCHED_LOG_ERR, "cannot open the store \"%s\": %s",
                  s->store_dir, err);
        return SCHED_ERR;
    }

    if (sched_conf_load(s) != SCHED_OK) {
        return SCHED_ERR;
    }

    if (s->conf.map_max > 0) {
        tt_store_set_map_max(s->store, (size_t) s->conf.map_max);
    }

    s->probe_path = sched_find_helper(s, "tiktok-probe");
    s->fetch_path = sched_find_helper(s, "tiktok-fetch");

    if (s->probe_path == NULL) {
        sched_log(SCHED_LOG_ERR, "tiktok-probe is not next to this "
                  "program: media cannot be checked, and fails");
    }

    if (s->fetch_path == NULL) {
        sched_log(SCHED_LOG_ERR, "tiktok-fetch is not next to this "
                  "program: media URLs cannot be downloaded");
    }

    if (sched_profs_init(s) != SCHED_OK) {
        return SCHED_ERR;
    }

    return sched_features(s);
}


/* reverse order of sched_init */
static void
sched_done(sched_t *s)
{
    sched_lag_report(s);

    /* the jobs first let go of their transfers, which are aborted then */
    sched_jobs_free(s);
    sched_oauth_free(s);
    sched_agenda_done(s);
    sched_webhook_done(s);
    sched_http_done(s);
    sched_stats_free(s);
    sched_txn_done(s);

    if (s->sig_fd != -1) {
        (void) close(s->sig_fd);
    }

    sched_loop_done(s);
    sched_fetches_free(s);
    sched_spool_done(s);
    sched_profs_free(s);

    if (s->store) {
        tt_store_close(s->store);
    }

    sched_conf_free(s);

    tt_arena_destroy(s->arena);
    curl_global_cleanup();

    sched_log(SCHED_LOG_INFO, "tiktok-scheduler exited");
}


int
main(int argc, char **argv)
{
    sched_t  s;
    int      c, rc;

    memset(&s, 0, sizeof(s));

    while ((c = getopt(argc, argv, "s:vh")) != -1) {
        switch (c) {
        case 's':
            s.store_dir = optarg;
            break;
        case 'v':
            sched_log_level = SCHED_LOG_DEBUG;
            break;
        default:
            sched_usage();
            return 2;
        }
    }

    if (s.store_dir == NULL || optind != argc) {
        sched_usage();
        return 2;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        sched_log(SCHED_LOG_ERR, "curl_global_init() failed");
        return 1;
    }

    s.arena = tt_arena_create(16384);
    if (s.arena == NULL) {
        sched_log(SCHED_LOG_ERR, "out of memory");
        return 1;
    }

    s.epfd = -1;
    s.wake_fd = -1;
    s.sig_fd = -1;

    rc = 1;

    if (sched_init(&s) == SCHED_OK) {
        sched_log(SCHED_LOG_INFO, "tiktok-scheduler started, store \"%s\", "
                  "api \"%s\"", s.store_dir, s.conf.api_base);
        s.started_at = tt_now_ms();
        rc = (sched_loop_run(&s) == SCHED_OK) ? 0 : 1;
    }

    sched_done(&s);

    return rc;
}
