/*
 * Copyright (C) the ngx_tiktok authors.
 * The queue's slot arithmetic at scale, without the store: a queue of
 * 10,000 posts; slotting one more post, re-arranging all of them, and the
 * next free slot.  Each figure includes opening the zone, as a store
 * transaction does.  Prints the median and the worst of the runs.
 *
 *   make bench-queue
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tt_time.h"
#include "tt_queue.h"


#define POSTS  10000


typedef struct {
    const char     *name;
    const char     *zone;
    unsigned        jitter;
    const char     *slots;          /* "1 09:00,3 13:00" */
} scenario_t;


static const scenario_t  scenarios[] = {
    { "the seed's queue: 3 slots a week (10,000 posts: 64 years)",
      "America/Los_Angeles", 10, "1 09:00,3 13:00,5 18:00" },
    { "3 slots a day (10,000 posts: 9 years)",
      "America/Los_Angeles", 10,
      "0 09:00,0 13:00,0 18:00,1 09:00,1 13:00,1 18:00,2 09:00,2 13:00,"
      "2 18:00,3 09:00,3 13:00,3 18:00,4 09:00,4 13:00,4 18:00,5 09:00,"
      "5 13:00,5 18:00,6 09:00,6 13:00,6 18:00" },
    { "every hour (10,000 posts: 60 weeks)", "Australia/Lord_Howe", 30,
      NULL },
};


static int64_t   samples[1000];


static int64_t
now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}


static int
cmp64(const void *a, const void *b)
{
    int64_t  x = *(const int64_t *) a, y = *(const int64_t *) b;

    return (x > y) - (x < y);
}


static void
report(const char *what, size_t n)
{
    qsort(samples, n, sizeof(int64_t), cmp64);
    printf("  %-34s median %9.3f ms   worst %9.3f ms   (%zu runs)\n", what,
           (double) samples[n / 2] / 1e6, (double) samples[n - 1] / 1e6, n);
}


static void
die(const char *what, int rc)
{
    fprintf(stderr, "queue_bench: %s failed: %d\n", what, rc);
    exit(1);
}


static void
define(const scenario_t *sc, tt_queue_def_t *def)
{
    int                 rc;
    size_t              n;
    char                times[TT_QUEUE_SLOTS_MAX][6];
    const char         *p;
    tt_queue_in_t       in;
    tt_queue_errs_t     errs;
    tt_queue_slot_in_t  s[TT_QUEUE_SLOTS_MAX];

    n = 0;

    if (sc->slots == NULL) {
        for (n = 0; n < 168; n++) {
            tt_queue_format_time((unsigned) (n % 24) * 60, times[n]);
            s[n].day = (int64_t) (n / 24);
            s[n].time.data = times[n];
            s[n].time.len = 5;
        }

    } else {
        for (p = sc->slots; *p != '\0'; p += 7 + (p[7] == ',')) {
            s[n].day = p[0] - '0';
            s[n].time.data = p + 2;
            s[n].time.len = 5;
            n++;
        }
    }

    memset(&in, 0, sizeof(in));
    in.timezone.data = sc->zone;
    in.timezone.len = strlen(sc->zone);
    in.jitter = sc->jitter;
    in.enabled = 1;
    in.slots = s;
    in.nslots = n;

    rc = tt_queue_define(&in, def, &errs);
    if (rc != TT_OK) {
        die("tt_queue_define", rc);
    }
}


static void
run(const scenario_t *sc, int64_t now)
{
    int               rc;
    size_t            i, k, moved, nt;
    int64_t           t0, s, *taken;
    tt_tz_t          *tz;
    tt_arena_t       *arena;
    tt_queue_def_t    def;
    tt_queue_rng_t    rng;
    tt_queue_post_t  *arranged, *p;

    printf("%s, %s, jitter %u\n", sc->name, sc->zone, sc->jitter);
    define(sc, &def);

    arranged = calloc(POSTS + 1, sizeof(tt_queue_post_t));
    p = calloc(POSTS + 1, sizeof(tt_queue_post_t));
    taken = calloc(POSTS, sizeof(int64_t));
    arena = tt_arena_create(64 * 1024);
    if (arranged == NULL || p == NULL || taken == NULL || arena == NULL) {
        die("malloc", TT_NOMEM);
    }

    rng.state = 1;

    for (i = 0; i < POSTS; i++) {
        arranged[i].key = i + 1;
        arranged[i].created = now - (int64_t) (POSTS - i) * 1000;
        arranged[i].priority = (uint8_t) (i % 7 == 0 ? TT_QUEUE_HIGH
                                          : i % 5 == 0 ? TT_QUEUE_LOW
                                          : TT_QUEUE_MEDIUM);
        arranged[i].slot = TT_QUEUE_NO_SLOT;
        arranged[i].at = TT_QUEUE_NO_SLOT;
    }

    rc = tt_tz_open(def.timezone, strlen(def.timezone), &tz);
    if (rc != TT_OK) {
        die("tt_tz_open", rc);
    }
    rc = tt_queue_arrange(&def, tz, now, arranged, POSTS, 0, &rng, arena,
                          &moved);
    if (rc != TT_OK) {
        die("tt_queue_arrange", rc);
    }
    tt_tz_close(tz);
    tt_arena_destroy(arena);

    for (i = 0; i < POSTS; i++) {
        taken[i] = arranged[i].slot;
    }
    qsort(taken, POSTS, sizeof(int64_t), cmp64);
    printf("  the last post's slot: %lld (ms)\n",
           (long long) taken[POSTS - 1]);

    /* slotting one low post, created now: it goes after the others */
    for (k = 0; k < 1000; k++) {
        memcpy(p, arranged, POSTS * sizeof(tt_queue_post_t));
        p[POSTS] = arranged[1];
        p[POSTS].key = POSTS + 1;
        p[POSTS].priority = TT_QUEUE_LOW;
        p[POSTS].created = now;
        p[POSTS].slot = p[POSTS].at = TT_QUEUE_NO_SLOT;

        t0 = now_ns();
        arena = tt_arena_create(64 * 1024);
        rc = tt_tz_open(def.timezone, strlen(def.timezone), &tz);
        if (rc == TT_OK) {
            rc = arena == NULL ? TT_NOMEM
                 : tt_queue_add(&def, tz, now, p, POSTS + 1, 0, &rng, arena,
                                &moved);
        }
        tt_tz_close(tz);
        tt_arena_destroy(arena);
        samples[k] = now_ns() - t0;

        if (rc != TT_OK || moved != 1) {
            die("tt_queue_add", rc);
        }
    }
    report("slot one post (after the others)", k);

    /* a high-priority post: every other post moves one slot later */
    for (k = 0; k < 50; k++) {
        memcpy(p, arranged, POSTS * sizeof(tt_queue_post_t));
        p[POSTS] = arranged[1];
        p[POSTS].key = POSTS + 1;
        p[POSTS].priority = TT_QUEUE_HIGH;
        p[POSTS].created = now;
        p[POSTS].slot = p[POSTS].at = TT_QUEUE_NO_SLOT;

        t0 = now_ns();
        arena = tt_arena_create(64 * 1024);
        rc = tt_tz_open(def.timezone, strlen(def.timezone), &tz);
        if (rc == TT_OK) {
            rc = arena == NULL ? TT_NOMEM
                 : tt_queue_add(&def, tz, now, p, POSTS + 1, 0, &rng, arena,
                                &moved);
        }
        tt_tz_close(tz);
        tt_arena_destroy(arena);
        samples[k] = now_ns() - t0;

        if (rc != TT_OK) {
            die("tt_queue_add", rc);
        }
    }
    report("slot one high post (all move)", k);

    /* re-arranging all 10,000, none placed yet (a new time zone) */
    for (k = 0; k < 50; k++) {
        memcpy(p, arranged, POSTS * sizeof(tt_queue_post_t));
        for (i = 0; i < POSTS; i++) {
            p[i].slot = p[i].at = TT_QUEUE_NO_SLOT;
        }

        t0 = now_ns();
        arena = tt_arena_create(64 * 1024);
        rc = tt_tz_open(def.timezone, strlen(def.timezone), &tz);
        if (rc == TT_OK) {
            rc = arena == NULL ? TT_NOMEM
                 : tt_queue_arrange(&def, tz, now, p, POSTS, 0, &rng, arena,
                                    &moved);
        }
        tt_tz_close(tz);
        tt_arena_destroy(arena);
        samples[k] = now_ns() - t0;

        if (rc != TT_OK || moved != POSTS) {
            die("tt_queue_arrange", rc);
        }
    }
    report("re-arrange all 10,000", k);

    /* next_slot: the first free slot, every slot up to the 10,000th taken */
    nt = 0;
    for (k = 0; k < 1000; k++) {
        t0 = now_ns();
        rc = tt_tz_open(def.timezone, strlen(def.timezone), &tz);
        rc = rc == TT_OK ? tt_queue_next_free(&def, tz, now, taken, POSTS, &s)
                         : rc;
        tt_tz_close(tz);
        samples[k] = now_ns() - t0;

        if (rc != TT_OK || s <= taken[POSTS - 1]) {
            die("tt_queue_next_free", rc);
        }
        nt++;
    }
    report("next_slot, walking from now", nt);

    /* next_slot from the last taken slot, as an arranged queue allows */
    for (k = 0; k < 1000; k++) {
        t0 = now_ns();
        rc = tt_tz_open(def.timezone, strlen(def.timezone), &tz);
        rc = rc == TT_OK ? tt_queue_next_free(&def, tz, taken[POSTS - 1],
                                              NULL, 0, &s) : rc;
        tt_tz_close(tz);
        samples[k] = now_ns() - t0;

        if (rc != TT_OK) {
            die("tt_queue_next_free", rc);
        }
    }
    report("next_slot, from the last slot", k);

    /* the cost of a zone alone */
    for (k = 0; k < 1000; k++) {
        t0 = now_ns();
        rc = tt_tz_open(def.timezone, strlen(def.timezone), &tz);
        tt_tz_close(tz);
        samples[k] = now_ns() - t0;

        if (rc != TT_OK) {
            die("tt_tz_open", rc);
        }
    }
    report("open and close the zone", k);

    free(taken);
    free(p);
    free(arranged);
}


int
main(void)
{
    size_t   i;
    int64_t  now;

    /* a fixed "now", so that runs compare */
    if (tt_time_parse("2026-12-05T12:00:00Z", 20, &now) != TT_OK) {
        die("tt_time_parse", TT_ERR);
    }

    printf("queue slot arithmetic, %d posts, tz data %s\n", POSTS,
           tt_tz_data_version());

    for (i = 0; i < TT_ARRAY_SIZE(scenarios); i++) {
        run(&scenarios[i], now);
    }

    return 0;
}
