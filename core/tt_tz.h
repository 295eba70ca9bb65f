/*
 * Copyright (C) the ngx_tiktok authors.
 * IANA time zones from the system's tz database (/usr/share/zoneinfo,
 * read by abseil's cctz): names, wall clock <-> UTC.
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
 * A zone opened for one thread: a handle to the zone's rules (loaded
 * once per process and shared) and a cache of the constant-offset period
 * last used.  Open one per transaction or request and close it there;
 * never share one between threads.  Opening costs about a microsecond
 * (see README.md, "Queues").
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
 * TT_OK when name is a zone of the system's tz database (a TZif file of
 * /usr/share/zoneinfo, or of TZDIR when set, links included; not posix/,
 * right/, localtime or posixrules); TT_INVALID otherwise: unknown names,
 * "PST", "GMT+3", paths ("../x", "/etc/x"), other characters than the tz
 * database's, 64 bytes or more.  No file outside the zone directory is
 * ever opened.
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
 * the zone's transitions); times near a transition always ask cctz.
 */
int tt_tz_local_to_utc(tt_tz_t *tz, int64_t local_ms, int64_t *ms);

/* the same without the fast path: cctz alone (tests compare the two) */
int tt_tz_local_to_utc_slow(tt_tz_t *tz, int64_t local_ms, int64_t *ms);

/* UTC ms (1970-9999) to the local fields, weekday and offset */
int tt_tz_from_utc(tt_tz_t *tz, int64_t ms, tt_tz_tm_t *tm);

/* the zone's UTC offset at ms, in ms */
int tt_tz_offset(tt_tz_t *tz, int64_t ms, int64_t *offset);

/*
 * The tz database release in the zone directory, e.g. "2025b", from its
 * tzdata.zi as first read by the process; "" when it has none.
 */
const char *tt_tz_data_version(void);


#endif /* _TT_TZ_H_INCLUDED_ */
