/*
 * Copyright (C) the ngx_tiktok authors.
 * tiktok-scheduler: start-up and logging; the configuration is in
 * sched_conf.c.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sched.h"


int  sched_log_level = SCHED_LOG_INFO;

static const char  *sched_level_names[] = { "error", "warn", "info", "debug" };


void
sched_log(int level, const char *fmt, ...)
{
    char        line[2048];
    size_t      n;
    va_list     ap;
    time_t      now;
    struct tm   tm;
    int         rc;

    if (level > sched_log_level) {
        return;
    }

    now = time(NULL);
    localtime_r(&now, &tm);

    n = strftime(line, sizeof(line), "%Y/%m/%d %H:%M:%S", &tm);

    rc = snprintf(line + n, sizeof(line) - n, " [%s] %d#0: ",
                  sched_level_names[level], (int) getpid());
    if (rc < 0 || (size_t) rc >= sizeof(line) - n) {
        return;
    }

    n += rc;

    va_start(ap, fmt);
    rc = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);

    if (rc < 0) {
        return;
    }

    n += ((size_t) rc < sizeof(line) - n - 1) ? (size_t) rc
                                               : sizeof(line) - n - 2;
    line[n++] = '\n';

    /* one write per line so that lines of concurrent writers stay whole */
    if (write(STDERR_FILENO, line, n) < 0) {
        return;
    }
}


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

    if (sched_profs_init(s) != SCHED_OK || sched_spool_init(s) != SCHED_OK) {
        return SCHED_ERR;
    }

    return sched_loop_init(s);
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
    s.curl_tfd = -1;
    s.due_tfd = -1;
    s.tick_tfd = -1;
    s.launch_tfd = -1;
    s.wake_fd = -1;
    s.sig_fd = -1;

    rc = 1;

    if (sched_init(&s) == SCHED_OK) {
        sched_log(SCHED_LOG_INFO, "tiktok-scheduler started, store \"%s\", "
                  "api \"%s\"", s.store_dir, s.conf.api_base);
        rc = (sched_loop_run(&s) == SCHED_OK) ? 0 : 1;
    }

    sched_lag_report(&s);

    /* reverse order of sched_init */
    sched_jobs_free(&s);
    sched_oauth_free(&s);
    sched_loop_done(&s);
    sched_fetches_free(&s);
    sched_spool_done(&s);
    sched_profs_free(&s);

    if (s.store) {
        tt_store_close(s.store);
    }

    sched_conf_free(&s);

    tt_arena_destroy(s.arena);
    curl_global_cleanup();

    sched_log(SCHED_LOG_INFO, "tiktok-scheduler exited");

    return rc;
}
