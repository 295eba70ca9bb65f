/*
 * Copyright (C) the ngx_tiktok authors.
 * Times: stored as int64 UTC milliseconds; ISO 8601 in and out.
 */

#ifndef _TT_TIME_H_INCLUDED_
#define _TT_TIME_H_INCLUDED_


#include "tt_core.h"


#define TT_TIME_LEN  24     /* "2026-05-12T09:00:00.123Z" */


/*
 * "2026-05-12T09:00:00Z", "2026-05-12T11:00:00+02:00", "...+0200",
 * fractional seconds (any digits, truncated to ms), 'T' or ' ' separator.
 * An offset or Z is required.  Checks ranges (month 1-12, day in month,
 * hour 0-23, minute 0-59, second 0-60 (leap second clamps to 59), year
 * 1970-9999).  TT_INVALID on anything else.
 */
int tt_time_parse(const char *s, size_t len, int64_t *ms);

/* UTC with Z; ".mmm" only when ms % 1000 != 0; returns length, buf NUL'd */
size_t tt_time_format(int64_t ms, char buf[TT_TIME_LEN + 1]);

int64_t tt_now_ms(void);            /* CLOCK_REALTIME */
int64_t tt_mono_ms(void);           /* CLOCK_MONOTONIC */

/* days since 1970-01-01 of a civil date and back (proleptic Gregorian) */
int64_t tt_days_from_civil(int64_t y, unsigned m, unsigned d);
void tt_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);


#endif /* _TT_TIME_H_INCLUDED_ */
