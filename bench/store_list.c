/*
 * Copyright (C) the ngx_tiktok authors.
 * GET /api/posts's store work in one process, without HTTP: each list of
 * store_bench.sh (full-access and group key, each filter), its first and
 * last page of 10, read REPEAT times in a read transaction, the stored
 * answers copied out as the API does.  Prints p50 and p99 in µs of the
 * thread's CPU time (the work an event loop would do; on a shared machine
 * wall time adds whatever else ran), the worst wall time, and the entries
 * and counts each page read.  Used by bench/store_bench.sh.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tt_store.h"
#include "tt_time.h"


#define LIST_REPEAT  300


typedef struct {
    char            buf[65536];
    size_t          len;
} list_out_t;


static int
list_cb(void *ctx, const char *id, const tt_str_t *rec)
{
    list_out_t      *o = ctx;
    tt_post_peek_t   peek;

    (void) id;

    if (tt_post_peek(rec->data, rec->len, &peek) == TT_OK
        && o->len + peek.api.len < sizeof(o->buf))
    {
        memcpy(o->buf + o->len, peek.api.data, peek.api.len);
        o->len += peek.api.len;
    }

    return 0;
}


static double
list_us(clockid_t clock)
{
    struct timespec  ts;

    clock_gettime(clock, &ts);

    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}


static int
list_cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}


/* p50 and p99 of one page, and what it read */
static void
list_page(tt_store_t *st, tt_post_query_t *q, char *out, size_t size)
{
    int          i;
    double       t0, w0, wall, us[LIST_REPEAT];
    uint64_t     total, reads;
    tt_txn_t     t;
    list_out_t  *o;

    o = malloc(sizeof(list_out_t));
    reads = 0;
    wall = 0;

    for (i = 0; i < LIST_REPEAT; i++) {
        o->len = 0;
        reads = tt_store_list_reads(st);
        w0 = list_us(CLOCK_MONOTONIC);
        t0 = list_us(CLOCK_THREAD_CPUTIME_ID);

        if (tt_txn_begin(st, &t, 0) != TT_OK
            || tt_post_list(&t, q, &total, list_cb, o) != TT_OK)
        {
            fprintf(stderr, "store_list: %s\n", tt_store_last_error(st));
            exit(1);
        }

        tt_txn_abort(&t);
        us[i] = list_us(CLOCK_THREAD_CPUTIME_ID) - t0;
        w0 = list_us(CLOCK_MONOTONIC) - w0;
        wall = w0 > wall ? w0 : wall;
        reads = tt_store_list_reads(st) - reads;
    }

    qsort(us, LIST_REPEAT, sizeof(double), list_cmp);
    snprintf(out, size, "%5.0f %5.0f %6.0f %5llu", us[LIST_REPEAT / 2],
             us[LIST_REPEAT * 99 / 100], wall, (unsigned long long) reads);
    free(o);
}


int
main(int argc, char **argv)
{
    int              w, f;
    char             err[256], first[64], last[64];
    int64_t          now;
    uint64_t         total;
    tt_txn_t         t;
    tt_store_t      *st;
    tt_store_conf_t  conf;
    tt_post_query_t  q;

    static const char  *names[] = {
        "(none)", "status=draft", "status=scheduled", "status=published",
        "status=failed", "scheduled_after=now", "scheduled_before=+60d",
        "scheduled_after&before", "queue_id=q_b000003"
    };

    if (argc != 4) {
        fprintf(stderr, "usage: store_list STORE WS GROUP\n");
        return 2;
    }

    memset(&conf, 0, sizeof(conf));
    conf.path = argv[1];

    if (tt_store_open(&conf, &st, err, sizeof(err)) != TT_OK) {
        fprintf(stderr, "store_list: %s\n", err);
        return 1;
    }

    now = tt_now_ms();

    printf("%-6s %-24s %8s %25s %25s\n", "key", "filter", "total",
           "first: p50 p99 wall reads", "last: p50 p99 wall reads");

    for (w = 0; w < 2; w++) {
        for (f = 0; f < 9; f++) {
            memset(&q, 0, sizeof(q));
            q.ws_id = argv[2];
            q.group_id = w ? argv[3] : NULL;
            q.cls = (f >= 1 && f <= 4) ? (tt_list_class_e) f : TT_LIST_ANY;
            q.after = (f == 5 || f == 7) ? now : -1;
            q.before = (f == 6 || f == 7) ? now + 60LL * 86400000 : -1;
            q.queue_id = (f == 8) ? "q_b000003" : NULL;
            q.limit = 0;

            if (tt_txn_begin(st, &t, 0) != TT_OK
                || tt_post_list(&t, &q, &total, list_cb, NULL) != TT_OK)
            {
                fprintf(stderr, "store_list: %s\n", tt_store_last_error(st));
                return 1;
            }

            tt_txn_abort(&t);

            q.limit = 10;
            q.offset = 0;
            list_page(st, &q, first, sizeof(first));
            q.offset = total > 0 ? (total - 1) / 10 * 10 : 0;
            list_page(st, &q, last, sizeof(last));

            printf("%-6s %-24s %8llu %25s %25s\n", w ? "group" : "full",
                   names[f], (unsigned long long) total, first, last);
        }
    }

    tt_store_close(st);

    return 0;
}
