/*
 * Copyright (C) the ngx_tiktok authors.
 * The crash loop's hold on a commit (bench/crash_loop.pl): preloaded into
 * tiktok-scheduler (LD_PRELOAD), it wraps fdatasync() and fsync().  While
 * the file named by TT_HOLD_FILE exists, a sync of the store's data file
 * (a path ending in "/data.mdb": LMDB's commit, its pages written, its
 * meta page not yet) first writes one line to stderr, the scheduler's
 * log:
 *
 *   crash-hold: data.mdb sync held 300 ms from 1733412345.123 (pid 42)
 *
 * then waits TT_HOLD_MS (300) before the real call, so that a SIGKILL
 * sent when the line appears lands in the middle of that commit.  Off
 * while the file is absent: the scheduler runs as it is.  Children
 * (tiktok-fetch, tiktok-probe) do not inherit it: the constructor takes
 * LD_PRELOAD out of the environment.
 */

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#define HOLD_SUFFIX  "/data.mdb"


typedef int (*hold_sync_pt)(int fd);


int fdatasync(int fd);
int fsync(int fd);


static void hold_init(void) __attribute__((constructor));


static void
hold_init(void)
{
    (void) unsetenv("LD_PRELOAD");
}


static void
hold_maybe(int fd)
{
    char             link[64], path[PATH_MAX], line[256];
    const char      *file, *v;
    ssize_t          n;
    size_t           sl;
    long             ms;
    int              len;
    struct timespec  now, wait;

    file = getenv("TT_HOLD_FILE");
    if (file == NULL || access(file, F_OK) != 0) {
        return;
    }

    len = snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    if (len < 0 || (size_t) len >= sizeof(link)) {
        return;
    }

    n = readlink(link, path, sizeof(path) - 1);
    sl = sizeof(HOLD_SUFFIX) - 1;

    if (n < (ssize_t) sl
        || memcmp(path + n - sl, HOLD_SUFFIX, sl) != 0)
    {
        return;
    }

    v = getenv("TT_HOLD_MS");
    ms = v ? strtol(v, NULL, 10) : 300;
    if (ms <= 0 || ms > 10000) {
        ms = 300;
    }

    if (clock_gettime(CLOCK_REALTIME, &now) != 0) {
        return;
    }

    len = snprintf(line, sizeof(line), "crash-hold: data.mdb sync held "
                   "%ld ms from %lld.%03ld (pid %d)\n", ms,
                   (long long) now.tv_sec, now.tv_nsec / 1000000,
                   (int) getpid());

    if (len > 0 && (size_t) len < sizeof(line)
        && write(STDERR_FILENO, line, len) < 0)
    {
        return;
    }

    wait.tv_sec = ms / 1000;
    wait.tv_nsec = (ms % 1000) * 1000000;

    /* EINTR: the rest of the wait */
    while (nanosleep(&wait, &wait) != 0 && errno == EINTR) {
        /* void */
    }
}


static hold_sync_pt
hold_real(const char *name)
{
    hold_sync_pt  f;

    *(void **) &f = dlsym(RTLD_NEXT, name);

    return f;
}


int
fdatasync(int fd)
{
    static hold_sync_pt  real;

    if (real == NULL) {
        real = hold_real("fdatasync");
        if (real == NULL) {
            return -1;
        }
    }

    hold_maybe(fd);

    return real(fd);
}


int
fsync(int fd)
{
    static hold_sync_pt  real;

    if (real == NULL) {
        real = hold_real("fsync");
        if (real == NULL) {
            return -1;
        }
    }

    hold_maybe(fd);

    return real(fd);
}
