/*
 * Copyright (C) the ngx_tiktok authors.
 * The spool: downloaded media files, shared by the posts that use the
 * same URL, kept while a post may still need them, then for
 * conf.spool_retention_ms, within conf.spool_quota bytes.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "sched_spool_int.h"


/* the sweep that decides which files go: sched_spool_sweep.c */


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
int
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
const char *
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


sched_spool_file_t *
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


sched_spool_file_t *
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


void
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


int64_t
sched_mtime_ms(const struct stat *st)
{
    return (int64_t) st->st_mtim.tv_sec * 1000
           + st->st_mtim.tv_nsec / 1000000;
}


/*
 * Removes f if it is still unneeded: its mtime, read again, must be older
 * than before (a post that started using it since touched it).
 */
int
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

    /* s->conf.spool_dir lives in the configuration's arena, which a
     * reload frees: the spool keeps a copy (tiktok_spool itself needs a
     * restart to change) */
    sp->dir = strdup(dir);
    if (sp->dir == NULL) {
        free(sp);
        return SCHED_ERR;
    }

    sp->evict_before = -1;
    sp->next_pass = 0;          /* the first pass at once: orphans go */

    s->spool = sp;

    return SCHED_OK;
}


/* who writes "<name>.part" files now, that the sweep leaves alone */
void
sched_spool_on_busy(sched_t *s, int (*busy)(sched_t *s, const char *name))
{
    s->spool_busy = busy;
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

    free(sp->dir);
    free(sp);
    s->spool = NULL;
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
