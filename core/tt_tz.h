/*
 * Copyright (C) the ngx_tiktok authors.
 * IANA time zones through ICU's ucal C API: names, wall clock <-> UTC.
 */

#ifndef _TT_TZ_H_INCLUDED_
#define _TT_TZ_H_INCLUDED_


#include "tt_core.h"


#define TT_TZ_NAME_MAX   64         /* the longest zone name, NUL included */

#define TT_TZ_MIN_MS     60000LL
#define TT_TZ_HOUR_MS    3600000LL
#define TT_TZ_DAY_MS     86400000LL

/* wall-clock times this layer accepts: years 1970 to 9999 */
#define TT_TZ_YEAR_MIN   1970
#define TT_TZ_YEAR_MAX   9999


/*
 * A zone opened for one thread: it owns an ICU calendar and a cache of
 * the constant-offset period last used.  Open one per transaction or
 * request and close it there; never share one between threads.  Opening
 * costs a few microseconds (see README.md, "Queues").
 */
typedef struct tt_tz_s  tt_tz_t;


/* a local wall-clock time, as read from a zone or given to one */
typedef struct {
    int             year;           /* 1970-9999 */
    int             month;          /* 1-12 */
    int             day;            /* 1-31 */
    int             hour;           /* 0-23 */
    int             minute;         /* 0-59 */
    int             second;         /* 0-59 */
    int             wday;           /* 0 Sunday .. 6 Saturday; out only */
    int             offset;         /* seconds east of UTC; out only */
} tt_tz_tm_t;


/*
 * TT_OK when name is an IANA zone name (or one of its links) that ICU
 * knows; TT_INVALID otherwise: unknown names (which ICU would silently
 * turn into "Etc/Unknown", that is GMT), custom "GMT+3" ids, and the
 * three-letter ids ICU keeps for Java ("PST", "IST") that the tz database
 * does not have.
 */
int tt_tz_check(const char *name, size_t len);

/*
 * tt_tz_open: TT_OK, TT_INVALID (as tt_tz_check) or TT_NOMEM / TT_ERR.
 * Any thread may open and use its own zones at the same time.
 */
int tt_tz_open(const char *name, size_t len, tt_tz_t **tz);
void tt_tz_close(tt_tz_t *tz);

/*
 * A local wall-clock time (tm's year to second) to UTC ms, with the rules
 * of a queue's slots:
 *   - a time in a spring-forward gap moves to the first valid instant
 *     after the gap (02:30 on a 02:00 -> 03:00 day is 03:00);
 *   - a time in a fall-back repeated period is its first occurrence.
 * TT_INVALID when a field is out of range (day 31 of a 30-day month too).
 */
int tt_tz_to_utc(tt_tz_t *tz, const tt_tz_tm_t *tm, int64_t *ms);

/*
 * The same for a wall time given as "local ms": the ms since 1970-01-01
 * 00:00 of the zone's calendar, as if the zone were UTC.  Most calls take
 * a fast path (arithmetic within a period of constant offset known from
 * ICU's transitions); times near a transition always ask ICU.
 */
int tt_tz_local_to_utc(tt_tz_t *tz, int64_t local_ms, int64_t *ms);

/* the same without the fast path: ICU alone (tests compare the two) */
int tt_tz_local_to_utc_icu(tt_tz_t *tz, int64_t local_ms, int64_t *ms);

/* UTC ms (1970-9999) to the local fields, weekday and offset */
int tt_tz_from_utc(tt_tz_t *tz, int64_t ms, tt_tz_tm_t *tm);

/* the zone's UTC offset at ms, in ms */
int tt_tz_offset(tt_tz_t *tz, int64_t ms, int64_t *offset);

/* the tz database release ICU reads, e.g. "2022e"; "" if ICU fails */
const char *tt_tz_data_version(void);


#endif /* _TT_TZ_H_INCLUDED_ */
