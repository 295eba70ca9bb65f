/*
 * Copyright (C) the ngx_tiktok authors.
 * The spool's sweep: which files no post needs any more, and when they go.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "sched_spool_int.h"


/*
 * A file is needed while a post that is not finished (every status but
 * processed and media_processing_failed; a deleted post is gone) has a
 * media whose spool_path is the file, or, still pending, whose URL hashes
 * to its name.  The store is the only record of that, so a sweep walks
 * every post, a slice per loop iteration, and marks what it finds:
 *
 *   SWEEP_IDLE   until next_pass (SCHED_SWEEP_MS after the last pass,
 *                sooner after a post let go of its files with retention
 *                0) -> SWEEP_DIR.
 *   SWEEP_DIR    one readdir: the files table is refreshed (size, mtime)
 *                and "<name>.part" files no download of this process
 *                writes are removed (left by a crash) -> SWEEP_POSTS.
 *   SWEEP_POSTS  SCHED_SWEEP_POSTS posts or SCHED_SWEEP_SLICE_MS per
 *                iteration, in short read transactions; a needed file is
 *                marked, and its mtime refreshed now and then so that it
 *                says when the file was last needed.  At the end of the
 *                walk, every file that was not marked, whose mtime is
 *                older than the pass and than the retention, is removed;
 *                the others that were not marked may be evicted for the
 *                quota until the next pass -> SWEEP_IDLE.
 *
 * mtime is the file's "last needed" time, and so survives a restart: a
 * download sets it, and so does a post that starts using a file, a post
 * that finishes with it, and the sweep (above).  A file touched after
 * the pass began is never removed by that pass, which closes the race
 * with a post created behind the walk's position.
 *
 * Only files named like ours are ever removed: 64 hex digits (what this
 * version writes), with ".part" while downloading, and "m_..." media ids
 * (what earlier versions wrote).
 */


/* one entry of the directory: a file of ours noted, a stale part gone */
static void
sched_sweep_entry(sched_t *s, const char *dname)
{
    struct stat          st;
    sched_spool_t       *sp;
    sched_spool_file_t  *f;
    char                 path[4096], name[SCHED_SPOOL_NAME];
    int                  kind, n;

    sp = s->spool;

    kind = sched_spool_ours(dname);
    if (kind == 0) {
        return;
    }

    n = snprintf(path, sizeof(path), "%s/%s", sp->dir, dname);
    if (n < 0 || (size_t) n >= sizeof(path)
        || lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
    {
        return;
    }

    if (kind == 2) {
        memcpy(name, dname, SCHED_SPOOL_NAME - 1);
        name[SCHED_SPOOL_NAME - 1] = '\0';

        if (s->spool_busy == NULL || !s->spool_busy(s, name)) {
            sched_log(SCHED_LOG_INFO, "spool: removing \"%s\", an "
                      "interrupted download", path);

            if (unlink(path) == -1 && errno != ENOENT) {
                sched_log(SCHED_LOG_WARN, "unlink(\"%s\") failed: %s",
                          path, strerror(errno));
            }
        }

        return;
    }

    f = sched_spool_put(sp, dname, st.st_size, sched_mtime_ms(&st));
    if (f) {
        f->seen = 1;
    }
}


static void
sched_sweep_dir(sched_t *s)
{
    size_t               i;
    DIR                 *d;
    struct dirent       *de;
    sched_spool_t       *sp;
    sched_spool_file_t  *f, *next;

    sp = s->spool;

    d = opendir(sp->dir);
    if (d == NULL) {
        sched_log(SCHED_LOG_ERR, "opendir(\"%s\") failed: %s", sp->dir,
                  strerror(errno));
        return;
    }

    for (i = 0; i < SCHED_SPOOL_BUCKETS; i++) {
        for (f = sp->files[i]; f; f = f->next) {
            f->seen = 0;
            f->mark = 0;
        }
    }

    for ( ;; ) {
        errno = 0;
        de = readdir(d);

        if (de == NULL) {
            if (errno != 0) {
                sched_log(SCHED_LOG_ERR, "readdir(\"%s\") failed: %s",
                          sp->dir, strerror(errno));
            }
            break;
        }

        sched_sweep_entry(s, de->d_name);
    }

    (void) closedir(d);

    /* what went away behind our back */
    for (i = 0; i < SCHED_SPOOL_BUCKETS; i++) {
        for (f = sp->files[i]; f; f = next) {
            next = f->next;

            if (!f->seen) {
                sched_spool_drop(sp, f);
            }
        }
    }
}


/* a file a post needs: marked, and its "last needed" time kept fresh */
static void
sched_sweep_need(sched_t *s, const char *name, int64_t now)
{
    sched_spool_t       *sp;
    sched_spool_file_t  *f;
    int64_t              age;
    char                 path[4096];
    int                  n;

    sp = s->spool;

    f = sched_spool_find(sp, name);
    if (f == NULL) {
        return;
    }

    f->mark = 1;

    age = s->conf.spool_retention_ms / 2;
    if (age > SCHED_TOUCH_MAX_MS) {
        age = SCHED_TOUCH_MAX_MS;
    }

    if (s->conf.spool_retention_ms <= 0 || f->mtime >= now - age) {
        return;
    }

    n = snprintf(path, sizeof(path), "%s/%s", sp->dir, name);

    if (n > 0 && (size_t) n < sizeof(path)
        && utimensat(AT_FDCWD, path, NULL, 0) == 0)
    {
        f->mtime = now;
    }
}


typedef struct {
    sched_t        *s;
    tt_arena_t     *arena;
    int64_t         now;
    int64_t         until;                  /* mono ms */
    size_t          n;
    unsigned        failed:1;
} sched_sweep_ctx_t;


static int
sched_sweep_post(void *data, const char *id, const tt_str_t *rec)
{
    sched_sweep_ctx_t  *c = data;
    size_t              i;
    tt_post_t           p;
    tt_media_t         *m;
    tt_post_peek_t      peek;
    const char         *base;
    char                name[SCHED_SPOOL_NAME];

    c->n++;

    if (tt_post_peek(rec->data, rec->len, &peek) != TT_OK
        || peek.status == TT_POST_PROCESSED
        || peek.status == TT_POST_MEDIA_FAILED)
    {
        return 0;
    }

    if (tt_post_decode(rec->data, rec->len, c->arena, &p) != TT_OK) {
        sched_log(SCHED_LOG_WARN, "spool: post %s is unreadable", id);
        return 0;
    }

    for (i = 0; i < p.nmedia; i++) {
        m = &p.media[i];
        base = sched_spool_base(c->s, m->spool_path);

        if (base) {
            sched_sweep_need(c->s, base, c->now);
        }

        if (m->source_url == NULL) {
            continue;
        }

        if (sched_spool_name(m->source_url, name) != SCHED_OK) {
            /* a file this post needs might go unmarked: stop the pass */
            c->failed = 1;
            return 1;
        }

        sched_sweep_need(c->s, name, c->now);
    }

    /* every few posts: is the slice's time up? */
    return (c->n % 32 == 0) && tt_mono_ms() >= c->until;
}


static void
sched_sweep_end(sched_t *s)
{
    size_t               i;
    int64_t              now, n;
    sched_spool_t       *sp;
    sched_spool_file_t  *f, *next;

    sp = s->spool;
    now = tt_now_ms();

    for (i = 0; i < SCHED_SPOOL_BUCKETS; i++) {
        for (f = sp->files[i]; f; f = next) {
            next = f->next;

            f->unneeded = !f->mark;

            if (f->mark || f->mtime >= sp->pass_start
                || now - f->mtime < s->conf.spool_retention_ms)
            {
                continue;
            }

            n = f->size;

            if (sched_spool_remove(s, f, sp->pass_start, "no post needs it")
                == SCHED_OK)
            {
                sp->removed++;
                sp->removed_bytes += n;
            }
        }
    }

    if (sp->removed > 0) {
        sched_log(SCHED_LOG_INFO, "spool: removed %lld files (%lld bytes) "
                  "that no post needs", (long long) sp->removed,
                  (long long) sp->removed_bytes);
    }

    sp->evict_before = sp->pass_start;
    sp->state = SWEEP_IDLE;
    sp->next_pass = tt_mono_ms() + (sp->again ? 0 : SCHED_SWEEP_MS);
    sp->again = 0;
    sp->passes++;
}


static void
sched_sweep_posts(sched_t *s)
{
    int                 rc;
    tt_txn_t            t, *use;
    sched_spool_t      *sp;
    sched_sweep_ctx_t   c;

    sp = s->spool;

    c.s = s;
    c.now = tt_now_ms();
    c.until = tt_mono_ms() + SCHED_SWEEP_SLICE_MS;
    c.n = 0;
    c.failed = 0;
    c.arena = tt_arena_create(16384);

    if (c.arena == NULL) {
        return;
    }

    if (sched_read_begin(s, &t, &use) != SCHED_OK) {
        tt_arena_destroy(c.arena);
        return;
    }

    rc = tt_post_scan(use, sp->pos, SCHED_SWEEP_POSTS, sched_sweep_post, &c);

    sched_read_end(s, &t, use);
    tt_arena_destroy(c.arena);

    if (rc != TT_OK || c.failed) {
        /* nothing is removed on a partial view: the pass starts over */
        sched_log(SCHED_LOG_ERR, "spool: reading the posts failed (%d): %s",
                  rc, c.failed ? "out of memory"
                               : tt_store_last_error(s->store));
        sp->state = SWEEP_IDLE;
        sp->next_pass = tt_mono_ms() + SCHED_SWEEP_MS;
        return;
    }

    if (sp->pos[0] == '\0') {
        sched_sweep_end(s);
    }
}


/* one slice of the sweep, the loop's tick, when it is due */
static void
sched_sweep_tick(sched_t *s, int64_t now, void *data)
{
    sched_spool_t  *sp;

    sp = s->spool;
    if (sp == NULL || s->stopping) {
        return;
    }

    switch (sp->state) {

    case SWEEP_IDLE:
        if (tt_mono_ms() < sp->next_pass) {
            return;
        }

        sp->pass_start = tt_now_ms();
        sp->removed = 0;
        sp->removed_bytes = 0;
        sched_sweep_dir(s);
        sp->pos[0] = '\0';
        sp->state = SWEEP_POSTS;
        return;

    default: /* SWEEP_POSTS */
        sched_sweep_posts(s);
        return;
    }
}


static int64_t
sched_sweep_next(sched_t *s, void *data)
{
    if (s->spool == NULL) {
        return -1;
    }

    return s->spool->state == SWEEP_IDLE ? s->spool->next_pass
                                         : tt_mono_ms();
}


/* after sched_spool_init */
int
sched_sweep_init(sched_t *s)
{
    sched_hook_t  h = { "spool", sched_sweep_tick, sched_sweep_next, NULL,
                        NULL };

    return sched_loop_hook(s, &h);
}
