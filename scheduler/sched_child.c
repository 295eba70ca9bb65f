/*
 * Copyright (C) the ngx_tiktok authors.
 * The daemon's children (tiktok-fetch, tiktok-probe): started bare with
 * posix_spawn, their stdout a pipe the loop reads, reaped without waiting.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "sched.h"


/*
 * Children are reaped without waiting: one that closed its pipe may take
 * a few milliseconds more to exit, and the loop does not wait for that.
 */
void
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


/* the loop's tick: the children that exited since */
static void
sched_child_tick(sched_t *s, int64_t now, void *data)
{
    if (s->nzombies) {
        sched_reap_tick(s, 0);
    }
}


/* at exit: every child that is left, waited for */
void
sched_reap_all(sched_t *s)
{
    sched_reap_tick(s, 1);
}


int
sched_child_init(sched_t *s)
{
    sched_hook_t  h = { "children", sched_child_tick, NULL, NULL, NULL };

    return sched_loop_hook(s, &h);
}


/*
 * A child with argv, its stdout a pipe (returned in *fd, non-blocking),
 * stdin /dev/null, stderr the daemon's, no other descriptor, and the
 * signals as a new program expects them (the daemon blocks SIGTERM and
 * SIGINT for its signalfd and ignores SIGPIPE).  posix_spawn: no copy of
 * the daemon's page tables, however large it is.
 */
int
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
