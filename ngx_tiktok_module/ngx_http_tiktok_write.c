/*
 * Copyright (C) the ngx_tiktok authors.
 * Writes: group commit on an nginx thread pool.
 *
 * Each worker has one batch in flight at a time.  Writes that arrive
 * while it runs wait in `pending'; when it completes, all of them leave
 * together in the next batch: one LMDB transaction, however many
 * requests, and its syncs: its pages' in the commit, its meta page's
 * after it, once LMDB's writers' lock is free for the other workers'
 * batches.  Inside the batch each request runs in a nested
 * transaction, so one request's 4xx leaves no trace while the others
 * commit.  The event loop never touches the disk for a write; it only
 * moves queues and answers.
 *
 *   pending --post--> running (thread: begin, nested execxN, commit,
 *                       |          sync)
 *                       |
 *                       |- TT_FULL:    grow the map, run the batch again
 *                       |- TT_RESIZED: adopt the map, run it again
 *                       `- done:       answer each request, wake the
 *                                      scheduler, post the next batch
 *
 * Growing or adopting the map needs no transaction open in this process:
 * that holds in the completion handler, because reads are synchronous on
 * the event loop and the batch is the worker's only writer.
 *
 * nginx may free a request whose op the writer holds: a client gone, or
 * the connections a worker_shutdown_timeout closes.  The request's pool
 * cleanup then takes a queued op out of its queue (its write never runs);
 * an op in the thread stays there without its request, its write commits,
 * and the batch's end frees it unanswered (ngx_http_tiktok_op_gone()).
 *
 * A worker told to shut down (a reload, nginx -s quit) leaves as soon as
 * no timer but cancelable ones is left: a batch in the thread or queued
 * holds no timer, so without one of ours the worker would leave with its
 * clients unanswered, some of them committed.  While a batch runs or
 * waits, `hold', a timer that is not cancelable, keeps the worker until
 * every queued write is committed and answered.
 */


#include "ngx_http_tiktok_module.h"

#include <sys/un.h>


#define NGX_HTTP_TIKTOK_BATCH_MAX    1024
#define NGX_HTTP_TIKTOK_PENDING_MAX  65536
#define NGX_HTTP_TIKTOK_RETRIES      8

/* a batch that had a request fail: the next ones nest their requests */
#define NGX_HTTP_TIKTOK_NESTED         (-100)
#define NGX_HTTP_TIKTOK_NESTED_BATCHES 8


typedef struct {
    tt_store_t             *store;
    ngx_http_tiktok_op_t   *ops[NGX_HTTP_TIKTOK_BATCH_MAX];
    ngx_uint_t              nops;
    ngx_uint_t              retries;
    ngx_uint_t              nested;     /* batches still to nest */
    int                     rc;
    ngx_uint_t              pending_count;
    unsigned                wrote:1;        /* a request's write is in */
} ngx_http_tiktok_batch_t;


static void ngx_http_tiktok_post_batch(void);
static void ngx_http_tiktok_batch_thread(void *data, ngx_log_t *log);
static int ngx_http_tiktok_batch_run(ngx_http_tiktok_batch_t *batch,
    int nested);
static void ngx_http_tiktok_batch_reset(ngx_http_tiktok_batch_t *batch);
static void ngx_http_tiktok_batch_done(ngx_event_t *ev);
static void ngx_http_tiktok_batch_refused(ngx_event_t *ev);
static ngx_int_t ngx_http_tiktok_batch_retry(ngx_http_tiktok_batch_t *batch,
    int *rc);
static void ngx_http_tiktok_batch_failed(ngx_http_tiktok_batch_t *batch,
    int rc);
static void ngx_http_tiktok_batch_fail(ngx_http_tiktok_batch_t *batch,
    int rc, ngx_uint_t level, const char *why, const char *detail);
static void ngx_http_tiktok_op_log(ngx_http_tiktok_op_t *op,
    ngx_uint_t level, const char *why, const char *detail);
static void ngx_http_tiktok_hold(void);
static void ngx_http_tiktok_hold_handler(ngx_event_t *ev);
static void ngx_http_tiktok_release(void);
static void ngx_http_tiktok_read_again(void);
static ngx_int_t ngx_http_tiktok_op_done(ngx_http_tiktok_op_t *op);


static struct sockaddr_un  ngx_http_tiktok_wake_addr;
static socklen_t           ngx_http_tiktok_wake_addrlen;


ngx_int_t
ngx_http_tiktok_write_init(ngx_cycle_t *cycle)
{
    ngx_http_tiktok_batch_t      *batch;
    ngx_http_tiktok_worker_t     *w;
    ngx_http_tiktok_main_conf_t  *tmcf;

    w = &ngx_http_tiktok_worker;
    tmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_tiktok_module);

    w->log = cycle->log;
    w->thread_pool = tmcf->thread_pool;
    ngx_queue_init(&w->pending);
    ngx_queue_init(&w->running);
    ngx_queue_init(&w->readers);

    w->task = ngx_thread_task_alloc(cycle->pool,
                                    sizeof(ngx_http_tiktok_batch_t));
    if (w->task == NULL) {
        return NGX_ERROR;
    }

    batch = w->task->ctx;
    batch->store = w->store;

    w->task->handler = ngx_http_tiktok_batch_thread;
    w->task->event.handler = ngx_http_tiktok_batch_done;
    w->task->event.data = batch;
    w->task->event.log = cycle->log;

    w->refused.handler = ngx_http_tiktok_batch_refused;
    w->refused.data = batch;
    w->refused.log = cycle->log;

    w->hold.handler = ngx_http_tiktok_hold_handler;
    w->hold.log = cycle->log;
    w->hold.cancelable = 0;

    /*
     * The wake-up is a datagram to the scheduler's socket: sent without
     * waiting, and lost harmlessly when the scheduler is down or busy
     * (its periodic rescan finds the work anyway).
     */

    w->wake_fd = (ngx_socket_t) -1;

    if (tmcf->wake_socket.len >= sizeof(ngx_http_tiktok_wake_addr.sun_path))
    {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "tiktok_wake_socket \"%V\" is too long: the scheduler "
                      "will find new work by its periodic rescan only",
                      &tmcf->wake_socket);
        return NGX_OK;
    }

    ngx_http_tiktok_wake_addr.sun_family = AF_UNIX;
    ngx_memcpy(ngx_http_tiktok_wake_addr.sun_path, tmcf->wake_socket.data,
               tmcf->wake_socket.len);
    ngx_http_tiktok_wake_addrlen = offsetof(struct sockaddr_un, sun_path)
                                   + tmcf->wake_socket.len + 1;

    w->wake_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        0);
    if (w->wake_fd == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_socket_errno,
                      ngx_socket_n " for the scheduler's wake-up failed");
    }

    return NGX_OK;
}


void
ngx_http_tiktok_wake(void)
{
    ngx_socket_t  fd;

    fd = ngx_http_tiktok_worker.wake_fd;

    if (fd == (ngx_socket_t) -1) {
        return;
    }

    /* ENOENT, ECONNREFUSED (scheduler down), EAGAIN (it is busy): fine */
    (void) sendto(fd, "w", 1, MSG_DONTWAIT,
                  (struct sockaddr *) &ngx_http_tiktok_wake_addr,
                  ngx_http_tiktok_wake_addrlen);
}


ngx_int_t
ngx_http_tiktok_write(ngx_http_tiktok_op_t *op)
{
    ngx_http_tiktok_batch_t   *batch;
    ngx_http_tiktok_worker_t  *w;

    w = &ngx_http_tiktok_worker;
    batch = w->task->ctx;

    if (batch->pending_count >= NGX_HTTP_TIKTOK_PENDING_MAX) {
        return NGX_ERROR;
    }

    ngx_queue_insert_tail(&w->pending, &op->queue);
    op->held = NGX_HTTP_TIKTOK_OP_PENDING;
    batch->pending_count++;

    if (!w->busy) {
        ngx_http_tiktok_post_batch();
    }

    return NGX_OK;
}


/*
 * Is a request with this key and this Authorization queued or running?
 * The ops' copies are compared: a running op's request may be gone.
 */
ngx_int_t
ngx_http_tiktok_in_flight(tt_str_t *auth, tt_str_t *key)
{
    ngx_uint_t                 i;
    ngx_queue_t               *q, *queues[2];
    ngx_http_tiktok_op_t      *op;
    ngx_http_tiktok_worker_t  *w;

    w = &ngx_http_tiktok_worker;
    queues[0] = &w->pending;
    queues[1] = &w->running;

    for (i = 0; i < 2; i++) {
        for (q = ngx_queue_head(queues[i]);
             q != ngx_queue_sentinel(queues[i]);
             q = ngx_queue_next(q))
        {
            op = ngx_queue_data(q, ngx_http_tiktok_op_t, queue);

            if (op->req.idem_key.len == key->len
                && op->req.auth.len == auth->len
                && ngx_memcmp(op->req.idem_key.data, key->data, key->len)
                   == 0
                && ngx_memcmp(op->req.auth.data, auth->data, auth->len) == 0)
            {
                return 1;
            }
        }
    }

    return 0;
}


static void
ngx_http_tiktok_post_batch(void)
{
    ngx_queue_t               *q;
    ngx_http_tiktok_op_t      *op;
    ngx_http_tiktok_batch_t   *batch;
    ngx_http_tiktok_worker_t  *w;

    w = &ngx_http_tiktok_worker;
    batch = w->task->ctx;

    if (w->busy || ngx_queue_empty(&w->pending)) {
        return;
    }

    batch->nops = 0;
    batch->retries = 0;
    batch->wrote = 0;

    while (!ngx_queue_empty(&w->pending)
           && batch->nops < NGX_HTTP_TIKTOK_BATCH_MAX)
    {
        q = ngx_queue_head(&w->pending);
        ngx_queue_remove(q);
        ngx_queue_insert_tail(&w->running, q);
        batch->pending_count--;

        op = ngx_queue_data(q, ngx_http_tiktok_op_t, queue);
        op->held = NGX_HTTP_TIKTOK_OP_RUNNING;
        batch->ops[batch->nops++] = op;
    }

    w->busy = 1;
    ngx_http_tiktok_hold();

    if (ngx_thread_task_post(w->thread_pool, w->task) != NGX_OK) {
        /*
         * Its queue is full (nginx said so).  The batch's requests are
         * answered from the event loop, never in the stack of a caller,
         * which may be a request's handler about to take a count.
         */
        ngx_post_event(&w->refused, &ngx_posted_events);
    }
}


/* while a batch runs or waits, the worker stays, even when exiting */
static void
ngx_http_tiktok_hold(void)
{
    ngx_http_tiktok_worker_t  *w;

    w = &ngx_http_tiktok_worker;

    if (!w->hold.timer_set) {
        ngx_add_timer(&w->hold, 1000);
    }
}


static void
ngx_http_tiktok_hold_handler(ngx_event_t *ev)
{
    ngx_http_tiktok_worker_t  *w;

    w = &ngx_http_tiktok_worker;

    if (w->busy || !ngx_queue_empty(&w->pending)
        || !ngx_queue_empty(&w->readers))
    {
        ngx_add_timer(&w->hold, 1000);
    }
}


/* the batch and the queue are empty: an exiting worker may go */
static void
ngx_http_tiktok_release(void)
{
    ngx_http_tiktok_worker_t  *w;

    w = &ngx_http_tiktok_worker;

    if (!w->busy && ngx_queue_empty(&w->pending)
        && ngx_queue_empty(&w->readers) && w->hold.timer_set)
    {
        ngx_del_timer(&w->hold);
    }
}


/*
 * A read found the map grown by another process while the batch had a
 * transaction open: it waits for the batch's end, a wait as bounded as
 * the batch, and the event loop goes on meanwhile.
 */
void
ngx_http_tiktok_wait_map(ngx_http_tiktok_op_t *op)
{
    ngx_http_tiktok_worker_t  *w;

    w = &ngx_http_tiktok_worker;

    ngx_queue_insert_tail(&w->readers, &op->queue);
    op->held = NGX_HTTP_TIKTOK_OP_READER;
    ngx_http_tiktok_hold();
}


/*
 * The request of op is being freed (its pool's cleanup): answered, or
 * closed by nginx with op still held here.  A queued op leaves its queue
 * and its write never runs; one in the thread stays, without a request:
 * its write commits and the batch's end frees it, answering nobody.
 */
void
ngx_http_tiktok_op_gone(ngx_http_tiktok_op_t *op)
{
    ngx_http_tiktok_batch_t   *batch;
    ngx_http_tiktok_worker_t  *w;

    w = &ngx_http_tiktok_worker;

    switch (op->held) {

    case NGX_HTTP_TIKTOK_OP_RUNNING:
        op->request = NULL;
        return;

    case NGX_HTTP_TIKTOK_OP_PENDING:
        batch = w->task->ctx;
        batch->pending_count--;
        ngx_queue_remove(&op->queue);
        break;

    case NGX_HTTP_TIKTOK_OP_READER:
        ngx_queue_remove(&op->queue);
        break;

    default: /* NGX_HTTP_TIKTOK_OP_FREE */
        break;
    }

    ngx_http_tiktok_op_free(op);
    ngx_http_tiktok_release();
}


void
ngx_http_tiktok_op_free(ngx_http_tiktok_op_t *op)
{
    tt_api_resp_free(&op->resp);
    tt_arena_destroy(op->req.arena);
    ngx_free(op);
}


/*
 * The batch lets op go: NGX_OK when its request is there to be answered;
 * else op is freed, its client gone
 */
static ngx_int_t
ngx_http_tiktok_op_done(ngx_http_tiktok_op_t *op)
{
    ngx_queue_remove(&op->queue);
    op->held = NGX_HTTP_TIKTOK_OP_FREE;

    if (op->request != NULL) {
        return NGX_OK;
    }

    ngx_http_tiktok_op_log(op, NGX_LOG_INFO, "tiktok write done for a "
                           "client that is gone: not answered", "");

    ngx_http_tiktok_op_free(op);

    return NGX_DECLINED;
}


/* the batch's end: no transaction is open, a read adopts the map */
static void
ngx_http_tiktok_read_again(void)
{
    ngx_queue_t               *q;
    ngx_http_tiktok_op_t      *op;
    ngx_http_tiktok_worker_t  *w;

    w = &ngx_http_tiktok_worker;

    while (!ngx_queue_empty(&w->readers)) {
        q = ngx_queue_head(&w->readers);
        op = ngx_queue_data(q, ngx_http_tiktok_op_t, queue);

        /* not busy now: it reads, or answers why not */
        if (ngx_http_tiktok_op_done(op) == NGX_OK) {
            op->done(op);
        }
    }
}


/*
 * On a pool thread: plain data only, no nginx calls but logging.
 *
 * Most batches are all 2xx: their requests run one after the other in
 * the batch's transaction.  A request that is not (a 4xx, or a store
 * error of its own) must leave no trace while the others commit: the
 * transaction is dropped and the batch runs again with each request in
 * a nested transaction of its own, as do the next few batches.  Nested
 * transactions cost a copy of every page a request changes that an
 * earlier one changed too: a fifth of a post's work.
 */
static void
ngx_http_tiktok_batch_thread(void *data, ngx_log_t *log)
{
    ngx_http_tiktok_batch_t *batch = data;

    int  rc;

    if (batch->nested == 0) {
        rc = ngx_http_tiktok_batch_run(batch, 0);

        if (rc != NGX_HTTP_TIKTOK_NESTED) {
            batch->rc = rc;
            return;
        }

        batch->nested = NGX_HTTP_TIKTOK_NESTED_BATCHES;
        ngx_http_tiktok_batch_reset(batch);

    } else {
        batch->nested--;
    }

    batch->rc = ngx_http_tiktok_batch_run(batch, 1);
}


/*
 * The batch's requests in one transaction, each in a nested one or not;
 * NGX_HTTP_TIKTOK_NESTED when without nesting a request failed (nothing
 * committed)
 */
static int
ngx_http_tiktok_batch_run(ngx_http_tiktok_batch_t *batch, int nested)
{
    int                    rc;
    tt_txn_t               txn, child, *t;
    ngx_uint_t             i;
    ngx_http_tiktok_op_t  *op;

    ngx_memzero(&txn, sizeof(tt_txn_t));

    rc = tt_txn_begin(batch->store, &txn, 1);

    for (i = 0; rc == TT_OK && i < batch->nops; i++) {
        op = batch->ops[i];
        t = &txn;

        if (nested) {
            rc = tt_txn_begin_nested(&txn, &child);
            if (rc != TT_OK) {
                break;
            }

            t = &child;
        }

        op->rc = tt_api_exec(t, &op->req, &op->resp);

        if (op->rc == TT_FULL || op->rc == TT_RESIZED) {
            /* the map: the whole batch runs again once it is larger */
            tt_txn_abort(t);
            rc = op->rc;
            break;
        }

        /* an error leaves no trace; the OAuth callback's answers are
         * redirects that keep what they wrote (a state used up) */
        if (op->rc == TT_OK
            && ((op->resp.status >= 200 && op->resp.status < 300)
                || op->resp.oauth))
        {
            if (nested) {
                rc = tt_txn_commit(&child);
            }

            /* in, once the batch's transaction commits */
            batch->wrote |= (rc == TT_OK);

            continue;
        }

        if (!nested) {
            rc = NGX_HTTP_TIKTOK_NESTED;
            break;
        }

        if (op->rc != TT_OK) {
            /* this request alone fails (a 500); the others go on; the
             * event loop logs it */
            op->store_error = tt_store_last_error(batch->store);
        }

        tt_txn_abort(&child);
    }

    if (rc == TT_OK) {
        rc = tt_txn_commit(&txn);

    } else if (txn.txn) {
        tt_txn_abort(&txn);
    }

    /*
     * The commit synced its pages; its meta page, which makes them the
     * store's, is synced here, with the writers' lock let go: the other
     * workers' batches run meanwhile.  Nobody is answered before.  A sync
     * that fails leaves the batch committed (others may read it already)
     * but not known to be on disk: its clients are told so (TT_UNSYNCED).
     */
    if (rc == TT_OK && tt_store_sync(batch->store) != TT_OK) {
        rc = TT_UNSYNCED;
    }

    return rc;
}


static void
ngx_http_tiktok_batch_done(ngx_event_t *ev)
{
    ngx_http_tiktok_batch_t *batch = ev->data;

    int                        rc, wake;
    ngx_uint_t                 i;
    ngx_http_tiktok_op_t      *op;
    ngx_http_tiktok_worker_t  *w;

    w = &ngx_http_tiktok_worker;
    w->busy = 0;
    rc = batch->rc;

    if ((rc == TT_FULL || rc == TT_RESIZED)
        && batch->retries++ < NGX_HTTP_TIKTOK_RETRIES)
    {
        if (ngx_http_tiktok_batch_retry(batch, &rc) == NGX_OK) {
            return;
        }
    }

    ngx_http_tiktok_read_again();

    /* what GET /api/health says of the store's writes */
    if (rc != TT_OK || batch->wrote) {
        ngx_http_tiktok_write_result(rc, tt_store_last_error(batch->store));
    }

    if (rc != TT_OK) {
        ngx_http_tiktok_batch_failed(batch, rc);
        return;
    }

    wake = 0;

    for (i = 0; i < batch->nops; i++) {
        op = batch->ops[i];
        wake |= op->resp.wake;

        if (op->rc != TT_OK) {
            ngx_http_tiktok_op_log(op, NGX_LOG_ALERT,
                                   "tiktok store write failed: ",
                                   op->store_error ? op->store_error
                                                   : "unknown");
        }

        if (ngx_http_tiktok_op_done(op) == NGX_OK) {
            op->done(op);
        }
    }

    batch->nops = 0;

    if (wake) {
        ngx_http_tiktok_wake();
    }

    ngx_http_tiktok_post_batch();
    ngx_http_tiktok_release();
}


/*
 * A full map (grown here) or one another process grew (adopted): nothing
 * was committed, so the same requests run again.  NGX_OK when the batch
 * is running again (or the thread pool's refusal is posted); else *rc
 * says what fails it.
 */
static ngx_int_t
ngx_http_tiktok_batch_retry(ngx_http_tiktok_batch_t *batch, int *rc)
{
    ngx_http_tiktok_worker_t  *w;

    w = &ngx_http_tiktok_worker;

    *rc = (*rc == TT_FULL) ? tt_store_grow(batch->store)
                           : tt_store_adopt(batch->store);

    if (*rc != TT_OK) {
        return NGX_DECLINED;
    }

    ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                  "tiktok store map is now %uz bytes",
                  tt_store_map_size(batch->store));

    ngx_http_tiktok_batch_reset(batch);
    ngx_http_tiktok_read_again();

    w->busy = 1;

    if (ngx_thread_task_post(w->thread_pool, w->task) != NGX_OK) {
        ngx_post_event(&w->refused, &ngx_posted_events);
    }

    return NGX_OK;
}


/* the batch's answers as before it ran: it runs again */
static void
ngx_http_tiktok_batch_reset(ngx_http_tiktok_batch_t *batch)
{
    ngx_uint_t             i;
    ngx_http_tiktok_op_t  *op;

    batch->wrote = 0;

    for (i = 0; i < batch->nops; i++) {
        op = batch->ops[i];
        tt_buf_reset(&op->resp.body);
        op->resp.status = 0;
        op->resp.retry_after = 0;
        op->resp.wake = 0;
        op->resp.replayed = 0;
        op->rc = TT_OK;
        op->store_error = NULL;
    }
}


/* posted: the thread pool refused the batch, its requests are told 503 */
static void
ngx_http_tiktok_batch_refused(ngx_event_t *ev)
{
    ngx_http_tiktok_batch_t *batch = ev->data;

    ngx_uint_t                 i;
    ngx_http_tiktok_worker_t  *w;

    w = &ngx_http_tiktok_worker;
    w->busy = 0;

    for (i = 0; i < batch->nops; i++) {
        batch->ops[i]->refused = 1;
    }

    ngx_http_tiktok_read_again();
    ngx_http_tiktok_batch_fail(batch, TT_ERR, NGX_LOG_ERR,
                               "tiktok write refused: the thread pool's "
                               "queue is full", "");
    ngx_http_tiktok_post_batch();
    ngx_http_tiktok_release();
}


/* the batch failed as a whole: every client is told, the queue goes on */
static void
ngx_http_tiktok_batch_failed(ngx_http_tiktok_batch_t *batch, int rc)
{
    if (rc == TT_FULL) {
        /* the operator's to fix: the clients were told with a 507 */
        ngx_http_tiktok_batch_fail(batch, rc, NGX_LOG_ERR,
                                   "tiktok store is full at the maximum of "
                                   "tiktok_store_map_size: the write is "
                                   "refused", "");

    } else if (rc == TT_UNSYNCED) {
        ngx_http_tiktok_batch_fail(batch, rc, NGX_LOG_ALERT,
                                   "tiktok store write committed but not "
                                   "synced to disk: ",
                                   tt_store_last_error(batch->store));

    } else {
        ngx_http_tiktok_batch_fail(batch, rc, NGX_LOG_ALERT,
                                   "tiktok store write failed: ",
                                   tt_store_last_error(batch->store));
    }

    ngx_http_tiktok_post_batch();
    ngx_http_tiktok_release();
}


/* each request of the batch fails with rc, a line each in the log */
static void
ngx_http_tiktok_batch_fail(ngx_http_tiktok_batch_t *batch, int rc,
    ngx_uint_t level, const char *why, const char *detail)
{
    ngx_uint_t             i;
    ngx_http_tiktok_op_t  *op;

    for (i = 0; i < batch->nops; i++) {
        op = batch->ops[i];
        op->rc = (rc == TT_OK) ? TT_ERR : rc;

        ngx_http_tiktok_op_log(op, level, why, detail);

        if (ngx_http_tiktok_op_done(op) == NGX_OK) {
            op->done(op);
        }
    }

    batch->nops = 0;
}


/*
 * A line about op's request, "why" and "detail": on the request's log,
 * whose context carries its id, or once nginx freed the request, on the
 * worker's with the id
 */
static void
ngx_http_tiktok_op_log(ngx_http_tiktok_op_t *op, ngx_uint_t level,
    const char *why, const char *detail)
{
    if (op->request != NULL) {
        ngx_log_error(level, op->request->connection->log, 0, "%s%s",
                      why, detail ? detail : "");
        return;
    }

    ngx_log_error(level, ngx_http_tiktok_worker.log, 0,
                  "%s%s, request_id: %*s", why, detail ? detail : "",
                  op->request_id_len, op->request_id);
}
