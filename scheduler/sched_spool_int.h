/*
 * Copyright (C) the ngx_tiktok authors.
 * The spool's insides, shared by sched_spool.c (names, files, quota,
 * uses) and sched_spool_sweep.c (the sweep); no other file includes this.
 */

#ifndef _SCHED_SPOOL_INT_H_INCLUDED_
#define _SCHED_SPOOL_INT_H_INCLUDED_


#include <sys/stat.h>

#include "sched.h"


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
    char               *dir;                /* its own copy: the conf's
                                             * arena goes at a reload */
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


/* sched_spool.c */
int sched_spool_ours(const char *name);
const char *sched_spool_base(sched_t *s, const char *path);
sched_spool_file_t *sched_spool_find(sched_spool_t *sp, const char *name);
sched_spool_file_t *sched_spool_put(sched_spool_t *sp, const char *name,
    int64_t size, int64_t mtime);
void sched_spool_drop(sched_spool_t *sp, sched_spool_file_t *f);
int64_t sched_mtime_ms(const struct stat *st);
int sched_spool_remove(sched_t *s, sched_spool_file_t *f, int64_t before,
    const char *why);

#endif /* _SCHED_SPOOL_INT_H_INCLUDED_ */
