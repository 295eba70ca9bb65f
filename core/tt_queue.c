/*
 * Copyright (C) the ngx_tiktok authors.
 * Queues: validation of a queue's definition, its slot instants, the next
 * free slot, and the arrangement of its posts in slots.
 */

#include <stdio.h>
#include <stdlib.h>

#include "tt_time.h"
#include "tt_queue.h"


#define TT_QUEUE_WEEK_MIN    (7 * 1440)
#define TT_QUEUE_WEEK_MS     (7 * TT_TZ_DAY_MS)
#define TT_QUEUE_SLOTS_KEY   "queue_timeslots_attributes"


/*
 * The posts that qsort() compares through their indices: qsort_r() is a
 * GNU extension that nginx's build does not enable.  One per thread.
 */
static _Thread_local const tt_queue_post_t  *tt_queue_sorted;


static void tt_queue_err(tt_queue_errs_t *errs, const char *field,
    size_t i, const char *sub, const char *message);
static int tt_queue_slot_cmp(const void *a, const void *b);
static int tt_queue_idx_cmp(const void *a, const void *b);
static int tt_queue_order(const tt_queue_post_t *a,
    const tt_queue_post_t *b);
static int tt_queue_int64_cmp(const void *a, const void *b);
static void tt_queue_place(const tt_queue_def_t *def, tt_queue_post_t *p,
    int64_t slot, int64_t now, tt_queue_rng_t *rng);
static uint64_t tt_queue_random(tt_queue_rng_t *rng);
static int tt_queue_appends(const tt_queue_def_t *def, int64_t now,
    tt_queue_post_t *posts, size_t n, unsigned flags, int64_t *after);


int
tt_queue_check_timezone(const tt_str_t *tz)
{
    return tt_tz_check(tz->data, tz->len);
}


int
tt_queue_check_jitter(int64_t jitter)
{
    return jitter >= 0 && jitter <= TT_QUEUE_JITTER_MAX ? TT_OK : TT_INVALID;
}


int
tt_queue_check_day(int64_t day)
{
    return day >= 0 && day <= 6 ? TT_OK : TT_INVALID;
}


int
tt_queue_parse_time(const tt_str_t *s, unsigned *minute)
{
    const char  *p;
    unsigned     h, m;

    p = s->data;

    if (s->len != 5 || p[2] != ':'
        || p[0] < '0' || p[0] > '2' || p[1] < '0' || p[1] > '9'
        || p[3] < '0' || p[3] > '5' || p[4] < '0' || p[4] > '9')
    {
        return TT_INVALID;
    }

    h = (unsigned) (p[0] - '0') * 10 + (unsigned) (p[1] - '0');
    m = (unsigned) (p[3] - '0') * 10 + (unsigned) (p[4] - '0');

    if (h > 23) {
        return TT_INVALID;
    }

    *minute = h * 60 + m;
    return TT_OK;
}


void
tt_queue_format_time(unsigned minute, char buf[6])
{
    snprintf(buf, 6, "%02u:%02u", (minute / 60) % 24, minute % 60);
}


static void
tt_queue_err(tt_queue_errs_t *errs, const char *field, size_t i,
    const char *sub, const char *message)
{
    tt_queue_err_t  *e;

    if (errs->n == TT_QUEUE_ERRS_MAX) {
        errs->more++;
        return;
    }

    e = &errs->errs[errs->n++];
    e->message = message;

    if (sub == NULL) {
        snprintf(e->field, sizeof(e->field), "%s", field);

    } else {
        snprintf(e->field, sizeof(e->field), "%s[%zu]%s", field, i, sub);
    }
}


static int
tt_queue_slot_cmp(const void *a, const void *b)
{
    const tt_queue_slot_t  *x = a, *y = b;
    unsigned                kx, ky;

    kx = x->day * 1440u + x->minute;
    ky = y->day * 1440u + y->minute;

    return (kx > ky) - (kx < ky);
}


int
tt_queue_define(const tt_queue_in_t *in, tt_queue_def_t *def,
    tt_queue_errs_t *errs)
{
    size_t    i, n;
    unsigned  minute, key;
    uint8_t   seen[TT_QUEUE_WEEK_MIN / 8];
    tt_str_t  tz;

    errs->n = 0;
    errs->more = 0;
    memset(seen, 0, sizeof(seen));

    tz = in->timezone;
    if (tt_queue_check_timezone(&tz) != TT_OK) {
        tt_queue_err(errs, "timezone", 0, NULL,
                     "is not a known IANA time zone");
    }

    if (tt_queue_check_jitter(in->jitter) != TT_OK) {
        tt_queue_err(errs, "jitter", 0, NULL,
                     "must be a number of minutes from 0 to 60");
    }

    n = in->nslots;
    if (n > TT_QUEUE_SLOTS_MAX) {
        tt_queue_err(errs, TT_QUEUE_SLOTS_KEY, 0, NULL,
                     "has more than 336 timeslots");
        n = TT_QUEUE_SLOTS_MAX;
    }

    for (i = 0; i < n; i++) {
        minute = 0;

        if (tt_queue_check_day(in->slots[i].day) != TT_OK) {
            tt_queue_err(errs, TT_QUEUE_SLOTS_KEY, i, ".day",
                         "must be 0 (Sunday) to 6 (Saturday)");
            continue;
        }

        if (tt_queue_parse_time(&in->slots[i].time, &minute) != TT_OK) {
            tt_queue_err(errs, TT_QUEUE_SLOTS_KEY, i, ".time",
                         "must be \"HH:MM\", 00:00 to 23:59");
            continue;
        }

        key = (unsigned) in->slots[i].day * 1440 + minute;
        if (seen[key / 8] & (1u << (key % 8))) {
            tt_queue_err(errs, TT_QUEUE_SLOTS_KEY, i, "",
                         "repeats the day and time of another timeslot");
            continue;
        }
        seen[key / 8] |= (uint8_t) (1u << (key % 8));

        def->slots[i].day = (uint8_t) in->slots[i].day;
        def->slots[i].minute = (uint16_t) minute;
    }

    if (errs->n > 0) {
        return TT_INVALID;
    }

    memcpy(def->timezone, tz.data, tz.len);
    def->timezone[tz.len] = '\0';
    def->jitter = (unsigned) in->jitter;
    def->enabled = in->enabled ? 1 : 0;
    def->nslots = (unsigned) n;
    qsort(def->slots, n, sizeof(tt_queue_slot_t), tt_queue_slot_cmp);

    return TT_OK;
}


int
tt_queue_iter_init(tt_queue_iter_t *it, const tt_queue_def_t *def,
    tt_tz_t *tz, int64_t after)
{
    int64_t     days, wday;
    tt_tz_tm_t  tm;

    it->def = def;
    it->tz = tz;
    it->last = after;
    it->next = 0;

    if (tt_tz_from_utc(tz, after, &tm) != TT_OK) {
        return TT_INVALID;
    }

    /*
     * From the day before: a wall time of that day in a gap can move to
     * the day of "after".  Slots of the week before that day are skipped.
     */
    days = tt_days_from_civil(tm.year, (unsigned) tm.month,
                              (unsigned) tm.day) - 1;
    wday = ((days + 4) % 7 + 7) % 7;
    it->week = (days - wday) * TT_TZ_DAY_MS;

    while (it->next < def->nslots && def->slots[it->next].day < wday) {
        it->next++;
    }

    return TT_OK;
}


int
tt_queue_iter_next(tt_queue_iter_t *it, int64_t *slot)
{
    int                     rc;
    int64_t                 local, u;
    const tt_queue_slot_t  *s;

    if (it->def->nslots == 0) {
        return TT_NOTFOUND;
    }

    for ( ;; ) {
        if (it->next == it->def->nslots) {
            it->next = 0;
            it->week += TT_QUEUE_WEEK_MS;
        }

        s = &it->def->slots[it->next++];
        local = it->week + s->day * TT_TZ_DAY_MS + s->minute * TT_TZ_MIN_MS;

        if (local < 0) {
            continue;
        }

        rc = tt_tz_local_to_utc(it->tz, local, &u);
        if (rc == TT_INVALID) {
            return TT_NOTFOUND;             /* past 9999 */
        }

        if (rc != TT_OK) {
            return rc;
        }

        /* two timeslots that a gap or a repeat made one instant: once */
        if (u <= it->last) {
            continue;
        }

        it->last = u;
        *slot = u;
        return TT_OK;
    }
}


int
tt_queue_next_free(const tt_queue_def_t *def, tt_tz_t *tz, int64_t after,
    const int64_t *taken, size_t ntaken, int64_t *slot)
{
    int              rc;
    size_t           j, lo, hi;
    int64_t          s;
    tt_queue_iter_t  it;

    rc = tt_queue_iter_init(&it, def, tz, after);
    if (rc != TT_OK) {
        return rc;
    }

    /* the first taken instant after "after" */
    lo = 0;
    hi = ntaken;
    while (lo < hi) {
        j = lo + (hi - lo) / 2;
        if (taken[j] <= after) {
            lo = j + 1;
        } else {
            hi = j;
        }
    }
    j = lo;

    for ( ;; ) {
        rc = tt_queue_iter_next(&it, &s);
        if (rc != TT_OK) {
            return rc;
        }

        while (j < ntaken && taken[j] < s) {
            j++;
        }

        if (j == ntaken || taken[j] != s) {
            *slot = s;
            return TT_OK;
        }
    }
}


static uint64_t
tt_queue_random(tt_queue_rng_t *rng)
{
    uint64_t  z;

    /* splitmix64 */
    rng->state += 0x9e3779b97f4a7c15ULL;
    z = rng->state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;

    return z ^ (z >> 31);
}


static int
tt_queue_order(const tt_queue_post_t *a, const tt_queue_post_t *b)
{
    if (a->priority != b->priority) {
        return a->priority < b->priority ? -1 : 1;
    }

    if (a->created != b->created) {
        return a->created < b->created ? -1 : 1;
    }

    return (a->key > b->key) - (a->key < b->key);
}


static int
tt_queue_idx_cmp(const void *a, const void *b)
{
    return tt_queue_order(&tt_queue_sorted[*(const uint32_t *) a],
                          &tt_queue_sorted[*(const uint32_t *) b]);
}


static int
tt_queue_int64_cmp(const void *a, const void *b)
{
    int64_t  x = *(const int64_t *) a, y = *(const int64_t *) b;

    return (x > y) - (x < y);
}


/*
 * A post that stays where it is: publishing started; or its slot has
 * passed and its time has not (a positive jitter: it publishes within
 * minutes); or, unless TT_QUEUE_RESLOT_DUE, its time has come and the
 * scheduler is about to claim it.
 */
int
tt_queue_pinned(const tt_queue_post_t *p, int64_t now, unsigned flags)
{
    if (p->started) {
        return 1;
    }

    if (p->slot == TT_QUEUE_NO_SLOT) {
        return 0;
    }

    if (p->slot <= now && p->at > now) {
        return 1;
    }

    return p->at <= now && !(flags & TT_QUEUE_RESLOT_DUE);
}


/* the post takes slot; its jitter is kept if still valid, else drawn */
static void
tt_queue_place(const tt_queue_def_t *def, tt_queue_post_t *p, int64_t slot,
    int64_t now, tt_queue_rng_t *rng)
{
    int64_t  j, lo, at, span;

    j = (int64_t) def->jitter * TT_TZ_MIN_MS;

    if (p->slot == slot && p->at > now && p->at >= slot - j
        && p->at <= slot + j)
    {
        p->moved = 0;
        return;
    }

    /* whole minutes in [-jitter, +jitter], never before now */
    lo = -(int64_t) def->jitter;
    if (slot + lo * TT_TZ_MIN_MS < now) {
        lo = -((slot - now) / TT_TZ_MIN_MS);
    }

    span = (int64_t) def->jitter - lo + 1;
    at = slot;

    if (span > 1) {
        at += (lo + (int64_t) (tt_queue_random(rng) % (uint64_t) span))
              * TT_TZ_MIN_MS;
    }

    p->moved = p->slot != slot || p->at != at;
    p->slot = slot;
    p->at = at;
}


int
tt_queue_arrange(const tt_queue_def_t *def, tt_tz_t *tz, int64_t now,
    tt_queue_post_t *posts, size_t n, unsigned flags, tt_queue_rng_t *rng,
    tt_arena_t *arena, size_t *moved)
{
    return tt_queue_arrange_from(def, tz, now, now, posts, n, flags, rng,
                                 arena, moved);
}


int
tt_queue_arrange_from(const tt_queue_def_t *def, tt_tz_t *tz, int64_t now,
    int64_t from, tt_queue_post_t *posts, size_t n, unsigned flags,
    tt_queue_rng_t *rng, tt_arena_t *arena, size_t *moved)
{
    int              rc;
    size_t            i, k, m, t, j;
    int64_t           s, *taken;
    uint32_t         *idx;
    tt_queue_post_t  *p;
    tt_queue_iter_t   it;

    *moved = 0;

    if (n == 0) {
        return TT_OK;
    }

    if (n > UINT32_MAX) {
        return TT_INVALID;
    }

    idx = tt_arena_alloc(arena, n * sizeof(uint32_t));
    taken = tt_arena_alloc(arena, n * sizeof(int64_t));
    if (idx == NULL || taken == NULL) {
        return TT_NOMEM;
    }

    m = t = 0;
    for (i = 0; i < n; i++) {
        p = &posts[i];
        p->moved = 0;

        if (!tt_queue_pinned(p, now, flags)) {
            idx[m++] = (uint32_t) i;

        } else if (p->slot != TT_QUEUE_NO_SLOT && p->slot > now) {
            taken[t++] = p->slot;
        }
    }

    if (m == 0) {
        return TT_OK;
    }

    qsort(taken, t, sizeof(int64_t), tt_queue_int64_cmp);
    tt_queue_sorted = posts;
    qsort(idx, m, sizeof(uint32_t), tt_queue_idx_cmp);
    tt_queue_sorted = NULL;

    rc = tt_queue_iter_init(&it, def, tz, from > now ? from : now);
    if (rc != TT_OK) {
        return rc;
    }

    j = 0;
    for (k = 0; k < m; k++) {
        do {
            rc = tt_queue_iter_next(&it, &s);
            if (rc != TT_OK) {
                return rc;
            }

            while (j < t && taken[j] < s) {
                j++;
            }
        } while (j < t && taken[j] == s);

        p = &posts[idx[k]];
        tt_queue_place(def, p, s, now, rng);
        *moved += p->moved;
    }

    return TT_OK;
}


/*
 * Whether the new post goes after every post that may move, each of them
 * in a slot with a valid jitter: then *after is the last of their slots.
 */
static int
tt_queue_appends(const tt_queue_def_t *def, int64_t now,
    tt_queue_post_t *posts, size_t n, unsigned flags, int64_t *after)
{
    size_t            i;
    int64_t           j;
    tt_queue_post_t  *p, *fresh;

    fresh = &posts[n - 1];
    j = (int64_t) def->jitter * TT_TZ_MIN_MS;
    *after = now;

    if ((flags & TT_QUEUE_RESLOT_DUE) || tt_queue_pinned(fresh, now, flags)) {
        return 0;
    }

    for (i = 0; i + 1 < n; i++) {
        p = &posts[i];
        p->moved = 0;

        if (tt_queue_pinned(p, now, flags)) {
            continue;
        }

        if (p->slot == TT_QUEUE_NO_SLOT || p->at < p->slot - j
            || p->at > p->slot + j || tt_queue_order(p, fresh) > 0)
        {
            return 0;
        }

        if (p->slot > *after) {
            *after = p->slot;
        }
    }

    return 1;
}


int
tt_queue_add(const tt_queue_def_t *def, tt_tz_t *tz, int64_t now,
    tt_queue_post_t *posts, size_t n, unsigned flags, tt_queue_rng_t *rng,
    tt_arena_t *arena, size_t *moved)
{
    int  rc;

    rc = tt_queue_append(def, tz, now, posts, n, flags, rng, arena, moved);
    if (rc != TT_CONFLICT) {
        return rc;
    }

    return tt_queue_arrange(def, tz, now, posts, n, flags, rng, arena, moved);
}


int
tt_queue_append(const tt_queue_def_t *def, tt_tz_t *tz, int64_t now,
    tt_queue_post_t *posts, size_t n, unsigned flags, tt_queue_rng_t *rng,
    tt_arena_t *arena, size_t *moved)
{
    int       rc;
    size_t    i, t;
    int64_t   after, s, *taken;

    *moved = 0;

    if (n == 0) {
        return TT_OK;
    }

    if (!tt_queue_appends(def, now, posts, n, flags, &after)) {
        return TT_CONFLICT;
    }

    /* the slots that stay taken past the last post that may move */
    taken = tt_arena_alloc(arena, n * sizeof(int64_t));
    if (taken == NULL) {
        return TT_NOMEM;
    }

    t = 0;
    for (i = 0; i + 1 < n; i++) {
        if (posts[i].slot != TT_QUEUE_NO_SLOT && posts[i].slot > after
            && tt_queue_pinned(&posts[i], now, flags))
        {
            taken[t++] = posts[i].slot;
        }
    }

    qsort(taken, t, sizeof(int64_t), tt_queue_int64_cmp);

    rc = tt_queue_next_free(def, tz, after, taken, t, &s);
    if (rc != TT_OK) {
        return rc;
    }

    tt_queue_place(def, &posts[n - 1], s, now, rng);
    *moved = posts[n - 1].moved;
    return TT_OK;
}
