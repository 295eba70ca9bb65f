/*
 * Copyright (C) the ngx_tiktok authors.
 * Queues in the store at scale: a queue of 10,000 live posts (the seed's
 * three weekly slots, jitter 10, Los Angeles), then, each in a write
 * transaction that is aborted so that every run starts from the same
 * store: slotting one post that goes last, one high post (all 10,000
 * move, each stored again), re-arranging all of them after a timezone
 * change, next_slot in a read transaction; and the throughput of creating
 * queued posts against exact-time posts, each its own committed
 * transaction (MDB_NOSYNC, as the figures measure the CPU, not the disk).
 *
 *   make bench-queue-store
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tt_store.h"
#include "tt_time.h"


#define POSTS    10000
#define CREATES  2000
#define NOW      1804680000000LL        /* 2027-03-10T12:00:00Z */


static tt_timeslot_t  slots[3] = {
    { "ts_mon", 1, 9 * 60 }, { "ts_wed", 3, 13 * 60 },
    { "ts_fri", 5, 18 * 60 }
};


static int64_t
now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}


/* the process's CPU time: what a loaded machine's waits leave out */
static int64_t
cpu_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}


static int
cmp64(const void *a, const void *b)
{
    int64_t  x = *(const int64_t *) a, y = *(const int64_t *) b;

    return (x > y) - (x < y);
}


static void
fail(const char *what, int rc)
{
    fprintf(stderr, "queue_store_bench: %s failed (%d)\n", what, rc);
    exit(1);
}


static void
make_post(tt_post_t *p, const char *queue, tt_priority_e prio,
    int64_t created, int64_t at)
{
    tt_post_init(p, created);

    if (tt_id_new("p_", p->id) != TT_OK) {
        fail("tt_id_new", TT_ERR);
    }

    snprintf(p->workspace_id, TT_ID_SIZE, "ws_bench");
    snprintf(p->profile_group_id, TT_ID_SIZE, "pg_bench");
    p->body = "a caption of ordinary length, with #tags and a link in bio";
    p->body_len = strlen(p->body);

    if (queue != NULL) {
        snprintf(p->queue_id, TT_ID_SIZE, "%s", queue);
        p->queue_priority = prio;
    }

    p->scheduled_at = at;
    tt_post_settle(p, created);
}


/* one measure: the median and the worst of n runs, in ms, and the
 * median CPU time when cpu is given */
static void
report2(const char *what, int64_t *ns, int64_t *cpu, size_t n)
{
    qsort(ns, n, sizeof(int64_t), cmp64);
    printf("%-52s median %8.3f ms  worst %8.3f ms", what, ns[n / 2] / 1e6,
           ns[n - 1] / 1e6);

    if (cpu != NULL) {
        qsort(cpu, n, sizeof(int64_t), cmp64);
        printf("  cpu %8.3f ms", cpu[n / 2] / 1e6);
    }

    printf("  (%zu runs)\n", n);
}


static void
report(const char *what, int64_t *ns, size_t n)
{
    report2(what, ns, NULL, n);
}


static void
bench_slot(tt_store_t *st, tt_queue_t *q, tt_priority_e prio,
    const char *what, size_t runs)
{
    int          rc;
    size_t       i;
    int64_t      t0, c0, ns[50], cpu[50];
    tt_txn_t     t;
    tt_post_t    p;
    tt_arena_t  *a;

    for (i = 0; i < runs; i++) {
        a = tt_arena_create(65536);
        make_post(&p, q->id, prio, NOW, -1);

        if (tt_txn_begin(st, &t, 1) != TT_OK) {
            fail("txn", TT_ERR);
        }

        t0 = now_ns();
        c0 = cpu_ns();
        rc = tt_queue_post_save(&t, &p, NOW, a);
        cpu[i] = cpu_ns() - c0;
        ns[i] = now_ns() - t0;

        if (rc != TT_OK) {
            fail(what, rc);
        }

        tt_txn_abort(&t);
        tt_arena_destroy(a);
    }

    report2(what, ns, cpu, runs);
}


static void
bench_rearrange(tt_store_t *st, tt_queue_t *q, size_t runs)
{
    int          rc;
    size_t       i, moved;
    int64_t      t0, c0, ns[50], cpu[50];
    tt_txn_t     t;
    tt_queue_t   tokyo;

    tokyo = *q;
    snprintf(tokyo.timezone, TT_TZ_NAME_MAX, "Asia/Tokyo");

    for (i = 0; i < runs; i++) {
        if (tt_txn_begin(st, &t, 1) != TT_OK) {
            fail("txn", TT_ERR);
        }

        t0 = now_ns();
        c0 = cpu_ns();
        rc = tt_queue_put(&t, &tokyo);
        if (rc == TT_OK) {
            rc = tt_queue_rearrange(&t, &tokyo, NOW, 0, &moved);
        }

        cpu[i] = cpu_ns() - c0;
        ns[i] = now_ns() - t0;

        if (rc != TT_OK || moved != POSTS) {
            fail("re-arrange", rc);
        }

        tt_txn_abort(&t);
    }

    report2("re-arrange all 10,000 (timezone changed, all move)", ns, cpu,
            runs);
}


static void
bench_next(tt_store_t *st, tt_queue_t *q)
{
    int       rc;
    size_t    i;
    int64_t   t0, slot, ns[1000];
    tt_txn_t  t;

    for (i = 0; i < 1000; i++) {
        t0 = now_ns();

        if (tt_txn_begin(st, &t, 0) != TT_OK) {
            fail("txn", TT_ERR);
        }

        rc = tt_queue_next_slot(&t, q, NOW, &slot);
        tt_txn_abort(&t);
        ns[i] = now_ns() - t0;

        if (rc != TT_OK) {
            fail("next_slot", rc);
        }
    }

    report("next_slot (its read transaction included)", ns, 1000);
}


/* creates per second, each in its own committed write transaction */
static double
bench_creates(tt_store_t *st, const char *queue)
{
    size_t       i;
    int64_t      t0;
    tt_txn_t     t;
    tt_post_t    p;
    tt_arena_t  *a;

    a = tt_arena_create(65536);
    t0 = now_ns();

    for (i = 0; i < CREATES; i++) {
        make_post(&p, queue, TT_PRIORITY_MEDIUM, NOW + (int64_t) i,
                  queue ? -1 : NOW + 86400000 + (int64_t) i * 60000);

        if (tt_txn_begin(st, &t, 1) != TT_OK
            || tt_queue_post_save(&t, &p, NOW, a) != TT_OK
            || tt_txn_commit(&t) != TT_OK)
        {
            fail("create", TT_ERR);
        }
    }

    tt_arena_destroy(a);

    return CREATES / ((now_ns() - t0) / 1e9);
}


static void
seed(tt_store_t *st, tt_queue_t *q)
{
    size_t       i;
    tt_txn_t     t;
    tt_post_t    p;
    tt_arena_t  *a;

    if (tt_txn_begin(st, &t, 1) != TT_OK || tt_queue_put(&t, q) != TT_OK) {
        fail("queue", TT_ERR);
    }

    /* in the queue's order, so that each joins last */
    for (i = 0; i < POSTS; i++) {
        a = tt_arena_create(16384);
        make_post(&p, q->id, i < POSTS / 7 ? TT_PRIORITY_HIGH
                             : i >= POSTS - POSTS / 5 ? TT_PRIORITY_LOW
                             : TT_PRIORITY_MEDIUM,
                  NOW - POSTS + (int64_t) i, -1);

        if (tt_queue_post_save(&t, &p, NOW, a) != TT_OK) {
            fail("seed", TT_ERR);
        }

        tt_arena_destroy(a);
    }

    if (tt_txn_commit(&t) != TT_OK) {
        fail("seed commit", TT_ERR);
    }
}


int
main(int argc, char **argv)
{
    char             err[256], dir[] = "/tmp/tt-qbench-XXXXXX", cmd[64];
    double           queued, exact;
    tt_store_t      *st;
    tt_queue_t       q, other;
    tt_store_conf_t  conf;

    if (mkdtemp(dir) == NULL) {
        fail("mkdtemp", TT_ERR);
    }

    memset(&conf, 0, sizeof(conf));
    conf.path = dir;
    conf.nosync = 1;
    conf.map_size = (size_t) 2 << 30;

    if (tt_store_open(&conf, &st, err, sizeof(err)) != TT_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }

    memset(&q, 0, sizeof(q));
    snprintf(q.id, TT_ID_SIZE, "q_bench");
    snprintf(q.workspace_id, TT_ID_SIZE, "ws_bench");
    snprintf(q.profile_group_id, TT_ID_SIZE, "pg_bench");
    snprintf(q.timezone, TT_TZ_NAME_MAX, "America/Los_Angeles");
    q.name = "evergreen";
    q.jitter = 10;
    q.enabled = 1;
    q.created_at = NOW;
    q.slots = slots;
    q.nslots = 3;

    /* "creates", "rearrange": that measure alone (for a profiler) */
    if (argc > 1 && strcmp(argv[1], "rearrange") == 0) {
        seed(st, &q);
        bench_rearrange(st, &q, 10);

    } else if (argc < 2 || strcmp(argv[1], "creates") != 0) {
        seed(st, &q);
        printf("a queue of %d posts (one in 7 high, one in 5 low), 3 slots "
               "a week, jitter 10\n", POSTS);

        bench_slot(st, &q, TT_PRIORITY_LOW, "slot one post that goes last",
                   50);
        bench_slot(st, &q, TT_PRIORITY_MEDIUM,
                   "slot one medium post (the 2,000 low ones move)", 10);
        bench_slot(st, &q, TT_PRIORITY_HIGH,
                   "slot one high post (the others move, each stored)", 10);
        bench_rearrange(st, &q, 10);
        bench_next(st, &q);
    }

    /* throughput in a queue of its own, from empty, and exact times */
    other = q;
    snprintf(other.id, TT_ID_SIZE, "q_creates");

    {
        tt_txn_t  t;

        if (tt_txn_begin(st, &t, 1) != TT_OK
            || tt_queue_put(&t, &other) != TT_OK || tt_txn_commit(&t) != TT_OK)
        {
            fail("queue", TT_ERR);
        }
    }

    if (argc > 1 && strcmp(argv[1], "rearrange") == 0) {
        tt_store_close(st);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : 1;
    }

    exact = bench_creates(st, NULL);
    queued = bench_creates(st, other.id);
    printf("%d creates, one committed transaction each: exact time "
           "%.0f/s, queued %.0f/s (%.0f%%)\n", CREATES, exact, queued,
           100.0 * queued / exact);

    tt_store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);

    return system(cmd) == 0 ? 0 : 1;
}
