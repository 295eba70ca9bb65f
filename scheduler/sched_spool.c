/*
 * Copyright (C) the ngx_tiktok authors.
 * The spool: downloaded media files, shared by the posts that use the
 * same URL, kept while a post may still need them, then for
 * conf.spool_retention_ms, within conf.spool_quota bytes.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "sched_job.h"


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

#define SCHED_SWEEP_MS          60000
#define SCHED_SWEEP_SOON_MS     2000
#define SCHED_SWEEP_POSTS       256
#define SCHED_SWEEP_SLICE_MS    5
#define SCHED_SPOOL_BUCKETS     1024
#define SCHED_TOUCH_MAX_MS      (10 * 60 * 1000LL)
#define SCHED_NAME_MAX          80

enum {
    SWEEP_IDLE = 0,
    SWEEP_DIR,
    SWEEP_POSTS
};


typedef struct sched_spool_file_s  sched_spool_file_t;

struct sched_spool_file_s {
    sched_spool_file_t *next;               /* bucket chain */
    int64_t             size;
    int64_t             mtime;              /* wall ms */
    unsigned            seen:1;             /* by this pass's readdir */
    unsigned            mark:1;             /* needed, by this pass */
    unsigned            unneeded:1;         /* by the last full pass */
    char                name[SCHED_NAME_MAX];
};


struct sched_spool_s {
    const char         *dir;
    sched_spool_file_t *files[SCHED_SPOOL_BUCKETS];
    size_t              nfiles;
    int64_t             used;               /* bytes of complete files */
    int64_t             reserved;           /* bytes of downloads */
    int                 state;
    char                pos[TT_ID_SIZE];    /* the walk's last post */
    int64_t             pass_start;         /* wall ms */
    int64_t             evict_before;       /* wall ms; -1: no pass yet */
    int64_t             next_pass;          /* mono ms */
    int64_t             passes;             /* completed */
    int64_t             released_at;        /* wall ms, a post's last */
    unsigned            again:1;            /* a pass right after this */
    int64_t             removed;            /* by this pass: files ... */
    int64_t             removed_bytes;      /* ... and bytes */
};


/* names */

/* SCHED_ERR when libcrypto cannot hash (out of memory): no name then */
int
sched_spool_name(const char *url, char name[SCHED_SPOOL_NAME])
{
    uint8_t  h[32];

    if (tt_sha256(url, strlen(url), h) != TT_OK) {
        name[0] = '\0';
        return SCHED_ERR;
    }

    tt_hex(h, sizeof(h), name);

    return SCHED_OK;
}


/* 1: a complete file of ours, 2: a download's ".part", 0: not ours */
static int
sched_spool_ours(const char *name)
{
    size_t  i, len;

    len = strlen(name);

    if (len > 2 && name[0] == 'm' && name[1] == '_') {
        return tt_id_valid("m_", name, len) ? 1 : 0;
    }

    if (len != SCHED_SPOOL_NAME - 1
        && !(len == SCHED_SPOOL_NAME - 1 + 5
             && strcmp(name + SCHED_SPOOL_NAME - 1, ".part") == 0))
    {
        return 0;
    }

    for (i = 0; i < SCHED_SPOOL_NAME - 1; i++) {
        if (!((name[i] >= '0' && name[i] <= '9')
              || (name[i] >= 'a' && name[i] <= 'f')))
        {
            return 0;
        }
    }

    return len == SCHED_SPOOL_NAME - 1 ? 1 : 2;
}


char *
sched_spool_path(sched_t *s, const char *name, const char *suffix,
    tt_arena_t *a)
{
    char  path[4096];
    int   n;

    n = snprintf(path, sizeof(path), "%s/%s%s",
                 s->conf.spool_dir ? s->conf.spool_dir : ".", name,
                 suffix ? suffix : "");
    if (n < 0 || (size_t) n >= sizeof(path)) {
        return NULL;
    }

    return tt_arena_strndup(a, path, n);
}


/* the file name of a path inside the spool directory, or NULL */
static const char *
sched_spool_base(sched_t *s, const char *path)
{
    size_t  len;

    if (path == NULL || s->spool == NULL) {
        return NULL;
    }

    len = strlen(s->spool->dir);

    if (strncmp(path, s->spool->dir, len) != 0 || path[len] != '/'
        || strchr(path + len + 1, '/') != NULL
        || sched_spool_ours(path + len + 1) != 1)
    {
        return NULL;
    }

    return path + len + 1;
}


/* the files table */

static sched_spool_file_t **
sched_spool_bucket(sched_spool_t *sp, const char *name)
{
    uint32_t  h;

    h = 2166136261u;

    while (*name) {
        h = (h ^ (uint8_t) *name++) * 16777619u;
    }

    return &sp->files[h % SCHED_SPOOL_BUCKETS];
}


static sched_spool_file_t *
sched_spool_find(sched_spool_t *sp, const char *name)
{
    sched_spool_file_t  *f;

    for (f = *sched_spool_bucket(sp, name); f; f = f->next) {
        if (strcmp(f->name, name) == 0) {
            return f;
        }
    }

    return NULL;
}


static sched_spool_file_t *
sched_spool_put(sched_spool_t *sp, const char *name, int64_t size,
    int64_t mtime)
{
    size_t               len;
    sched_spool_file_t  *f, **b;

    f = sched_spool_find(sp, name);

    if (f == NULL) {
        len = strlen(name);
        if (len >= sizeof(f->name)) {
            return NULL;
        }

        f = calloc(1, sizeof(sched_spool_file_t));
        if (f == NULL) {
            return NULL;
        }

        memcpy(f->name, name, len + 1);

        /* new here: needed until a full pass says otherwise */
        b = sched_spool_bucket(sp, name);
        f->next = *b;
        *b = f;
        sp->nfiles++;

    } else {
        sp->used -= f->size;
    }

    f->size = size;
    f->mtime = mtime;
    sp->used += size;

    return f;
}


static void
sched_spool_drop(sched_spool_t *sp, sched_spool_file_t *f)
{
    sched_spool_file_t  **pp;

    for (pp = sched_spool_bucket(sp, f->name); *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    }

    sp->used -= f->size;
    sp->nfiles--;
    free(f);
}


static int64_t
sched_mtime_ms(const struct stat *st)
{
    return (int64_t) st->st_mtim.tv_sec * 1000
           + st->st_mtim.tv_nsec / 1000000;
}


/*
 * Removes f if it is still unneeded: its mtime, read again, must be older
 * than before (a post that started using it since touched it).
 */
static int
sched_spool_remove(sched_t *s, sched_spool_file_t *f, int64_t before,
    const char *why)
{
    sched_spool_t  *sp;
    struct stat     st;
    char            path[4096];
    int             n;

    sp = s->spool;

    n = snprintf(path, sizeof(path), "%s/%s", sp->dir, f->name);
    if (n < 0 || (size_t) n >= sizeof(path)) {
        return SCHED_ERR;
    }

    if (lstat(path, &st) == -1) {
        if (errno == ENOENT) {
            sched_spool_drop(sp, f);
        }
        return SCHED_ERR;
    }

    if (!S_ISREG(st.st_mode) || sched_mtime_ms(&st) >= before) {
        f->mtime = sched_mtime_ms(&st);
        f->unneeded = 0;
        return SCHED_ERR;
    }

    if (unlink(path) == -1) {
        sched_log(SCHED_LOG_WARN, "unlink(\"%s\") failed: %s", path,
                  strerror(errno));
        return SCHED_ERR;
    }

    sched_debug("spool: removed %s (%lld bytes): %s", f->name,
                (long long) st.st_size, why);

    sched_spool_drop(sp, f);

    return SCHED_OK;
}


/* life */

int
sched_spool_init(sched_t *s)
{
    sched_spool_t  *sp;
    const char     *dir;

    dir = s->conf.spool_dir ? s->conf.spool_dir : ".";

    if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
        sched_log(SCHED_LOG_ERR, "mkdir(\"%s\") failed: %s", dir,
                  strerror(errno));
        return SCHED_ERR;
    }

    sp = calloc(1, sizeof(sched_spool_t));
    if (sp == NULL) {
        return SCHED_ERR;
    }

    sp->dir = dir;
    sp->evict_before = -1;
    sp->next_pass = 0;          /* the first pass at once: orphans go */

    s->spool = sp;

    return SCHED_OK;
}


void
sched_spool_done(sched_t *s)
{
    size_t               i;
    sched_spool_t       *sp;
    sched_spool_file_t  *f;

    sp = s->spool;
    if (sp == NULL) {
        return;
    }

    for (i = 0; i < SCHED_SPOOL_BUCKETS; i++) {
        while (sp->files[i]) {
            f = sp->files[i];
            sp->files[i] = f->next;
            free(f);
        }
    }

    free(sp);
    s->spool = NULL;
}


/* the sweep */

static void
sched_sweep_dir(sched_t *s)
{
    size_t               i;
    DIR                 *d;
    struct dirent       *de;
    struct stat          st;
    sched_spool_t       *sp;
    sched_spool_file_t  *f, *next;
    char                 path[4096], name[SCHED_SPOOL_NAME];
    int                  kind, n;

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

        kind = sched_spool_ours(de->d_name);
        if (kind == 0) {
            continue;
        }

        n = snprintf(path, sizeof(path), "%s/%s", sp->dir, de->d_name);
        if (n < 0 || (size_t) n >= sizeof(path)
            || lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
        {
            continue;
        }

        if (kind == 2) {
            memcpy(name, de->d_name, SCHED_SPOOL_NAME - 1);
            name[SCHED_SPOOL_NAME - 1] = '\0';

            if (!sched_fetching(s, name)) {
                sched_log(SCHED_LOG_INFO, "spool: removing \"%s\", an "
                          "interrupted download", path);

                if (unlink(path) == -1 && errno != ENOENT) {
                    sched_log(SCHED_LOG_WARN, "unlink(\"%s\") failed: %s",
                              path, strerror(errno));
                }
            }

            continue;
        }

        f = sched_spool_put(sp, de->d_name, st.st_size, sched_mtime_ms(&st));
        if (f) {
            f->seen = 1;
        }
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


/* one slice of the sweep, from the loop's timers, when it is due */
void
sched_spool_tick(sched_t *s)
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


int64_t
sched_spool_next_wake(sched_t *s)
{
    if (s->spool == NULL) {
        return -1;
    }

    return s->spool->state == SWEEP_IDLE ? s->spool->next_pass
                                         : tt_mono_ms();
}


/* the quota */

static int
sched_spool_cmp(const void *a, const void *b)
{
    const sched_spool_file_t  *x = *(sched_spool_file_t *const *) a;
    const sched_spool_file_t  *y = *(sched_spool_file_t *const *) b;

    return (x->mtime > y->mtime) - (x->mtime < y->mtime);
}


/* the files no post needed at the last pass, least recently needed first */
static int
sched_spool_evict(sched_t *s, int64_t want)
{
    size_t                i, n, k;
    int64_t               gone, bytes, size;
    sched_spool_t        *sp;
    sched_spool_file_t   *f, **all;

    sp = s->spool;

    all = malloc(sp->nfiles * sizeof(sched_spool_file_t *) + 1);
    if (all == NULL) {
        return SCHED_ERR;
    }

    n = 0;

    for (i = 0; i < SCHED_SPOOL_BUCKETS; i++) {
        for (f = sp->files[i]; f; f = f->next) {
            if (f->unneeded && f->mtime < sp->evict_before) {
                all[n++] = f;
            }
        }
    }

    qsort(all, n, sizeof(sched_spool_file_t *), sched_spool_cmp);

    gone = 0;
    bytes = 0;

    for (k = 0; k < n && sp->used + sp->reserved + want
                         > s->conf.spool_quota; k++)
    {
        size = all[k]->size;

        if (sched_spool_remove(s, all[k], sp->evict_before,
                               "evicted for tiktok_spool_quota")
            == SCHED_OK)
        {
            gone++;
            bytes += size;
        }
    }

    free(all);

    if (gone > 0) {
        sched_log(SCHED_LOG_INFO, "spool: evicted %lld files (%lld bytes) "
                  "that no post needs, for tiktok_spool_quota",
                  (long long) gone, (long long) bytes);
    }

    return sp->used + sp->reserved + want <= s->conf.spool_quota
           ? SCHED_OK : SCHED_ERR;
}


/*
 * Room for bytes more of a download: SCHED_OK (taken), SCHED_ERR (the
 * files that posts need fill the quota), or SCHED_AGAIN (over the quota
 * but no pass has said yet what may go; taken anyway, the caller decides
 * whether to wait).
 */
int
sched_spool_reserve(sched_t *s, int64_t bytes)
{
    sched_spool_t  *sp;
    int             rc;

    sp = s->spool;

    if (sp == NULL || s->conf.spool_quota <= 0
        || sp->used + sp->reserved + bytes <= s->conf.spool_quota)
    {
        rc = SCHED_OK;

    } else if (sp->evict_before < 0) {
        rc = SCHED_AGAIN;

    } else {
        rc = sched_spool_evict(s, bytes);

        if (rc != SCHED_OK) {
            return SCHED_ERR;
        }
    }

    if (sp) {
        sp->reserved += bytes;
    }

    return rc;
}


void
sched_spool_unreserve(sched_t *s, int64_t bytes)
{
    if (s->spool) {
        s->spool->reserved -= bytes;
    }
}


/* a download completed as spool_dir/name */
void
sched_spool_added(sched_t *s, const char *name, int64_t size)
{
    sched_spool_file_t  *f;

    if (s->spool == NULL) {
        return;
    }

    f = sched_spool_put(s->spool, name, size, tt_now_ms());
    if (f) {
        f->mark = 1;
        f->unneeded = 0;
    }
}


/*
 * Why a download cannot have room, for the media's error_message: the
 * file alone is larger than the quota, or the quota is full.
 */
const char *
sched_spool_full(sched_t *s, int larger, char *buf, size_t size)
{
    int64_t      q;
    const char  *unit;

    q = s->conf.spool_quota;
    unit = "";

    if (q % (1024LL * 1024 * 1024) == 0) {
        q /= 1024LL * 1024 * 1024;
        unit = "g";

    } else if (q % (1024 * 1024) == 0) {
        q /= 1024 * 1024;
        unit = "m";

    } else if (q % 1024 == 0) {
        q /= 1024;
        unit = "k";
    }

    if (larger) {
        (void) snprintf(buf, size, "the media file is larger than "
                        "tiktok_spool_quota (%lld%s)", (long long) q, unit);

    } else {
        (void) snprintf(buf, size, "the spool is full: tiktok_spool_quota "
                        "(%lld%s) is taken up by media that posts not yet "
                        "published need", (long long) q, unit);
    }

    return buf;
}


/*
 * For a download the quota refused: did a post let go of files since the
 * last pass began (files that pass could not yet know to be unneeded)?
 * Then the number of the pass that will know, requested at once; else 0.
 */
int64_t
sched_spool_fresh(sched_t *s)
{
    sched_spool_t  *sp;

    sp = s->spool;

    if (sp == NULL || sp->released_at < sp->evict_before) {
        return 0;
    }

    if (sp->state == SWEEP_IDLE) {
        sp->next_pass = tt_mono_ms();
        return sp->passes + 1;
    }

    sp->again = 1;
    return sp->passes + 2;
}


int64_t
sched_spool_passes(sched_t *s)
{
    return s->spool ? s->spool->passes : 0;
}


/* uses and releases */

/* a post starts or stops using the file: it was needed until now */
void
sched_spool_touch(sched_t *s, const char *path)
{
    const char          *base;
    sched_spool_file_t  *f;

    base = sched_spool_base(s, path);
    if (base == NULL) {
        return;
    }

    if (utimensat(AT_FDCWD, path, NULL, 0) == -1) {
        if (errno != ENOENT) {
            sched_log(SCHED_LOG_WARN, "utimensat(\"%s\") failed: %s", path,
                      strerror(errno));
        }
        return;
    }

    f = sched_spool_find(s->spool, base);
    if (f) {
        f->mtime = tt_now_ms();
        f->unneeded = 0;
    }
}


/* a file that must not be reused (its media failed the checks) */
void
sched_spool_forget(sched_t *s, const char *path)
{
    const char          *base;
    sched_spool_file_t  *f;

    base = sched_spool_base(s, path);
    if (base == NULL) {
        return;
    }

    if (unlink(path) == -1 && errno != ENOENT) {
        sched_log(SCHED_LOG_WARN, "unlink(\"%s\") failed: %s", path,
                  strerror(errno));
        return;
    }

    f = sched_spool_find(s->spool, base);
    if (f) {
        sched_spool_drop(s->spool, f);
    }
}


/*
 * A post finished (published, failed): its files were needed until now;
 * with no retention, the next pass comes soon to remove what no other
 * post needs.
 */
void
sched_spool_release(sched_t *s, const tt_post_t *p)
{
    size_t   i;
    int64_t  soon;

    if (s->spool == NULL) {
        return;
    }

    for (i = 0; i < p->nmedia; i++) {
        sched_spool_touch(s, p->media[i].spool_path);
    }

    s->spool->released_at = tt_now_ms();

    if (s->conf.spool_retention_ms <= 0 && s->spool->state == SWEEP_IDLE) {
        soon = tt_mono_ms() + SCHED_SWEEP_SOON_MS;

        if (soon < s->spool->next_pass) {
            s->spool->next_pass = soon;
        }
    }
}
