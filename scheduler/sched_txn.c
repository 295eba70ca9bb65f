/*
 * Copyright (C) the ngx_tiktok authors.
 * The store's transactions of one loop iteration: one write transaction
 * for every change, committed once at its end; reads that see it.
 */

#include <stdlib.h>

#include "sched.h"


/*
 * Store writes: every state change of one iteration goes into one write
 * transaction (sched_txn), committed once at the end of the iteration
 * (the loop's flush), so a burst of 1,000 claims or chunk
 * acknowledgements costs one fsync, not 1,000.  The price: a change is
 * durable a few milliseconds later than it could be, and a failed commit
 * loses the whole batch: whoever wrote in it registered for that
 * (sched_txn_on_fail) and starts over from what is durable.  A change
 * that must be durable before a network request (the claim, the stage
 * INIT mark, publish_id and upload_url) is never followed by that
 * request in the same round: the job is kicked, and its next step runs
 * in the flush, after the commit (sched_job.c).
 */


tt_txn_t *
sched_txn(sched_t *s)
{
    int  rc;

    if (s->txn_open) {
        return &s->txn;
    }

    rc = tt_txn_begin(s->store, &s->txn, 1);

    if (rc == TT_RESIZED && tt_store_adopt(s->store) == TT_OK) {
        rc = tt_txn_begin(s->store, &s->txn, 1);
    }

    if (rc != TT_OK) {
        sched_log(SCHED_LOG_ERR, "cannot begin a write transaction: %s",
                  tt_store_last_error(s->store));
        return NULL;
    }

    s->txn_open = 1;
    s->txn_gen++;

    return &s->txn;
}


/* a read inside the iteration sees its own uncommitted writes */
int
sched_read_begin(sched_t *s, tt_txn_t *t, tt_txn_t **use)
{
    int  rc;

    if (s->txn_open) {
        *use = &s->txn;
        return SCHED_OK;
    }

    rc = tt_txn_begin(s->store, t, 0);

    if (rc == TT_RESIZED && tt_store_adopt(s->store) == TT_OK) {
        rc = tt_txn_begin(s->store, t, 0);
    }

    if (rc != TT_OK) {
        sched_log(SCHED_LOG_ERR, "cannot begin a read transaction: %s",
                  tt_store_last_error(s->store));
        return SCHED_ERR;
    }

    *use = t;
    return SCHED_OK;
}


void
sched_read_end(sched_t *s, tt_txn_t *t, tt_txn_t *use)
{
    if (use == t) {
        tt_txn_abort(t);
    }
}


/* one who wrote in the iteration's transaction hears of a lost commit */
void
sched_txn_on_fail(sched_t *s, sched_txn_fail_pt h, void *data)
{
    s->txn_fail = h;
    s->txn_fail_data = data;
}


/* the loop's flush: the commit, first of every round */
static int
sched_txn_commit(sched_t *s, void *data)
{
    int      rc;
    int64_t  t0;

    if (!s->txn_open) {
        return 0;
    }

    s->txn_open = 0;
    t0 = tt_mono_ms();
    rc = tt_txn_commit(&s->txn);

    if (tt_mono_ms() - t0 > 5) {
        sched_debug("commit took %lld ms", (long long) (tt_mono_ms() - t0));
    }

    if (rc == TT_OK) {
        return 0;
    }

    sched_log(SCHED_LOG_ERR, "commit failed (%d): %s", rc,
              tt_store_last_error(s->store));

    if (rc == TT_FULL) {
        (void) tt_store_grow(s->store);

    } else if (rc == TT_RESIZED) {
        (void) tt_store_adopt(s->store);
    }

    if (s->txn_fail) {
        s->txn_fail(s, s->txn_gen, s->txn_fail_data);
    }

    return 0;
}


/* registered before every hook that writes */
int
sched_txn_init(sched_t *s)
{
    sched_hook_t  h = { "commit", NULL, NULL, sched_txn_commit, NULL };

    return sched_loop_hook(s, &h);
}


void
sched_txn_done(sched_t *s)
{
    if (s->txn_open) {
        tt_txn_abort(&s->txn);
        s->txn_open = 0;
    }
}
