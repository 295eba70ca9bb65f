/*
 * Copyright (C) the ngx_tiktok authors.
 * GET /api/export: the workspace as NDJSON, streamed.
 */


#include "ngx_http_tiktok_module.h"


/*
 * A read transaction on the event loop; a map another process grew is
 * adopted when no write batch of this worker has a transaction open (a
 * read of the export keeps no cursor or value between its slices).
 */
int
ngx_http_tiktok_read_begin(tt_txn_t *txn)
{
    int          rc;
    tt_store_t  *st;

    st = ngx_http_tiktok_worker.store;

    rc = tt_txn_begin(st, txn, 0);

    if (rc == TT_RESIZED && !ngx_http_tiktok_worker.busy
        && tt_store_adopt(st) == TT_OK)
    {
        rc = tt_txn_begin(st, txn, 0);
    }

    return rc;
}
