/*
 * Copyright (C) the ngx_tiktok authors.
 * A media download, as the daemon and its child tiktok-fetch share it:
 * the limits, and what the child says on its standard output.
 */

#ifndef _SCHED_FETCH_H_INCLUDED_
#define _SCHED_FETCH_H_INCLUDED_


/*
 * Usage: tiktok-fetch URL FILE MAX_BYTES guard|open [PARENT_PID]
 *
 * Downloads URL into FILE (which must exist: the daemon creates it, as
 * "<name>.part"), http and https only, at most SCHED_FETCH_REDIRS
 * redirects, at most MAX_BYTES, within SCHED_FETCH_TIMEOUT_MS in all and
 * never SCHED_FETCH_STALL_S without a byte.  "guard" refuses every
 * connection to an address that is not public (tt_addr_refusal), on the
 * address actually connected, redirects included.  It dies with the
 * daemon (PARENT_PID: also if the daemon died before it could ask).
 *
 * Its standard output, a line each:
 *
 *   length N       the size the server announced (Content-Length), once,
 *                  before the first byte is written;
 *   got N          N bytes written so far, each time N passes another
 *                  SCHED_FETCH_BLOCK, and once more for the last bytes;
 *   {...}          last, one JSON object: the outcome
 *                  {"result": curl's CURLcode, "status": the HTTP status,
 *                   "bytes": N, "too_big": bool, "content_type": s|null,
 *                   "refused": s|null (why an address was refused),
 *                   "write_error": bool (the spool file's),
 *                   "error": s|null (curl's message or the write's),
 *                   "total_ms": N, "connected": bool}
 *
 * The daemon counts the spool's quota by those lines, and kills the
 * child when the quota is reached.  Exit status 0 when it could answer
 * (the download may have failed), 1 when it could not, 2 on a usage
 * error.  The bytes move in the child, never in the daemon's loop.
 */

#define SCHED_FETCH_REDIRS      5
#define SCHED_FETCH_TIMEOUT_MS  (60 * 60 * 1000L)   /* the whole download */
#define SCHED_FETCH_STALL_S     30                  /* no byte for this */
#define SCHED_FETCH_BLOCK       ((int64_t) 1024 * 1024)
#define SCHED_FETCH_REPORT_MAX  4096                /* the JSON line */


#endif /* _SCHED_FETCH_H_INCLUDED_ */
