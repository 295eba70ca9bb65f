/*
 * Copyright (C) the ngx_tiktok authors.
 * The daemon's log: nginx's message shape, one line a write, on stderr.
 */

#include <stdarg.h>
#include <stdio.h>
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
