/*
 * Copyright (C) the ngx_tiktok authors.
 * Client-side limits: TikTok's per-token minute windows, a per-creator
 * daily cap, and the retry backoff.
 */

#include <stdlib.h>
#include <string.h>

#include "sched.h"
#include "tt_id.h"


/*
 * The windows are kept per profile, not per access token: a refresh
 * changes the token but TikTok may well count the old one's calls for a
 * while, so counting per profile is the safe side.  They live in memory
 * only: after a restart the daemon may send up to one window's worth more
 * than allowed in the first minute, which TikTok answers with a 429 that
 * is retried like any other.
 */

#define SCHED_PROF_BUCKETS  4096
#define SCHED_WINDOW_MS     60000
#define SCHED_DAY_MS        (24 * 3600 * 1000LL)
#define SCHED_BACKOFF_BASE  5000
#define SCHED_BACKOFF_CAP   (30 * 60 * 1000LL)


static const unsigned  sched_win_max[SCHED_LIM_COUNT] = {
    SCHED_WIN_INIT, SCHED_WIN_CREATOR, SCHED_WIN_STATUS
};


int
sched_profs_init(sched_t *s)
{
    s->profs = calloc(SCHED_PROF_BUCKETS, sizeof(sched_prof_t *));

    return s->profs ? SCHED_OK : SCHED_ERR;
}


void
sched_profs_free(sched_t *s)
{
    size_t         i;
    sched_prof_t  *p, *next;

    if (s->profs == NULL) {
        return;
    }

    for (i = 0; i < SCHED_PROF_BUCKETS; i++) {
        for (p = s->profs[i]; p; p = next) {
            next = p->next;
            free(p);
        }
    }

    free(s->profs);
    s->profs = NULL;
}


static uint32_t
sched_hash(const char *id)
{
    uint32_t  h;

    h = 2166136261u;

    while (*id) {
        h = (h ^ (uint8_t) *id++) * 16777619u;
    }

    return h;
}


sched_prof_t *
sched_prof_get(sched_t *s, const char *id)
{
    uint32_t       b;
    sched_prof_t  *p;
    size_t         len;

    b = sched_hash(id) % SCHED_PROF_BUCKETS;

    for (p = s->profs[b]; p; p = p->next) {
        if (strcmp(p->id, id) == 0) {
            return p;
        }
    }

    len = strlen(id);
    if (len >= TT_ID_SIZE) {
        return NULL;
    }

    p = calloc(1, sizeof(sched_prof_t));
    if (p == NULL) {
        return NULL;
    }

    memcpy(p->id, id, len);
    p->next = s->profs[b];
    s->profs[b] = p;

    return p;
}


/* ms to wait before one more call of this kind fits the window, 0 now */
int64_t
sched_limit_wait(sched_prof_t *p, sched_lim_e kind, int64_t now)
{
    sched_win_t  *w;
    unsigned      max;
    int64_t       oldest;

    w = &p->win[kind];
    max = sched_win_max[kind];

    if (w->n < max) {
        return 0;
    }

    /* head is the oldest of the max last calls */
    oldest = w->at[w->head];

    if (now - oldest >= SCHED_WINDOW_MS) {
        return 0;
    }

    /* a little slack: clocks of the two sides differ */
    return SCHED_WINDOW_MS - (now - oldest) + 250;
}


void
sched_limit_take(sched_prof_t *p, sched_lim_e kind, int64_t now)
{
    sched_win_t  *w;
    unsigned      max;

    w = &p->win[kind];
    max = sched_win_max[kind];

    if (w->n < max) {
        w->at[(w->head + w->n) % max] = now;
        w->n++;
        return;
    }

    w->at[w->head] = now;
    w->head = (w->head + 1) % max;
}


int64_t
sched_daily_wait(sched_prof_t *p, int64_t now_wall)
{
    int64_t  oldest;

    if (p->day_n < SCHED_DAILY_POSTS) {
        return 0;
    }

    oldest = p->day[p->day_head];

    if (now_wall - oldest >= SCHED_DAY_MS) {
        return 0;
    }

    return SCHED_DAY_MS - (now_wall - oldest);
}


void
sched_daily_take(sched_prof_t *p, int64_t now_wall)
{
    if (p->day_n < SCHED_DAILY_POSTS) {
        p->day[(p->day_head + p->day_n) % SCHED_DAILY_POSTS] = now_wall;
        p->day_n++;
        return;
    }

    p->day[p->day_head] = now_wall;
    p->day_head = (p->day_head + 1) % SCHED_DAILY_POSTS;
}


/* min(cap, base * 2^(attempt-1)) plus up to 20% jitter */
int64_t
sched_backoff_from(int64_t base, int64_t cap, int64_t attempt)
{
    int64_t   d;
    uint32_t  r;

    d = base;

    while (attempt > 1 && d < cap) {
        d *= 2;
        attempt--;
    }

    if (d > cap) {
        d = cap;
    }

    r = 0;
    (void) tt_random(&r, sizeof(r));

    return d + (int64_t) (r % (uint32_t) (d / 5 + 1));
}


/* an attempt's: from 5 s to 30 minutes */
int64_t
sched_backoff(int64_t attempt)
{
    return sched_backoff_from(SCHED_BACKOFF_BASE, SCHED_BACKOFF_CAP,
                              attempt);
}
