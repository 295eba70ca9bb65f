/*
 * Copyright (C) the ngx_tiktok authors.
 * The scheduler's metrics: counters added in the iteration's write
 * transaction, the one that records the change they count, so that a
 * lost commit loses both and nginx's metrics endpoint reads them from the
 * store (tt_store_metric.c).  A counter that cannot be written is
 * dropped with a debug line: metrics never fail a publish.
 */

#include <stdio.h>
#include <string.h>

#include "sched_job.h"


/* the dispatch lag's buckets, ms: from due time to the first call */
static const int64_t  sched_lag_bounds[] = {
    10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000
};


void
sched_metric_add(sched_t *s, const char *name, const char *labels,
    int64_t delta)
{
    tt_txn_t  *t;

    t = sched_txn(s);

    if (t == NULL
        || tt_metric_add(t, name, labels, 0, delta, 0) != TT_OK)
    {
        sched_debug("metric %s not counted", name);
    }
}


/* a label value from TikTok's codes: [a-z0-9_.] kept, others '_' */
void
sched_metric_label(char *out, size_t size, const char *name,
    const char *value)
{
    size_t  i, n;
    char    v[64];

    value = (value && value[0]) ? value : "none";

    for (i = 0; value[i] && i < sizeof(v) - 1; i++) {
        n = (unsigned char) value[i];
        v[i] = ((n >= 'a' && n <= 'z') || (n >= 'A' && n <= 'Z')
                || (n >= '0' && n <= '9') || n == '_' || n == '.')
               ? (char) n : '_';
    }

    v[i] = '\0';

    snprintf(out, size, "%s=\"%s\"", name, v);
}


void
sched_metric_failure(sched_t *s, const char *code, int final)
{
    char  labels[128], c[96];

    sched_metric_label(c, sizeof(c), "code", code);
    snprintf(labels, sizeof(labels), "%s,final=\"%s\"", c,
             final ? "true" : "false");

    sched_metric_add(s, "tiktok_publish_failures_total", labels, 1);
}


void
sched_metric_lag(sched_t *s, int64_t ms)
{
    tt_txn_t  *t;

    t = sched_txn(s);

    if (t == NULL
        || tt_metric_observe(t, "tiktok_dispatch_lag_seconds",
                             sched_lag_bounds,
                             sizeof(sched_lag_bounds)
                             / sizeof(sched_lag_bounds[0]),
                             ms < 0 ? 0 : ms) != TT_OK)
    {
        sched_debug("dispatch lag not counted");
    }
}
