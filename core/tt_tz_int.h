/*
 * Copyright (C) the ngx_tiktok authors.
 * Between tt_tz.c and tt_tz_cctz.cc: the tz database's rules as abseil's
 * cctz reads them from TZif files.  C linkage; no other file uses it.
 */

#ifndef _TT_TZ_INT_H_INCLUDED_
#define _TT_TZ_INT_H_INCLUDED_


#include <stdint.h>


#ifdef __cplusplus
extern "C" {
#endif


/* a zone loaded by cctz; cctz keeps its rules for the process's life */
typedef struct tt_tz_zone_s  tt_tz_zone_t;


/*
 * Loads the TZif file at the absolute path (checked by the caller: a
 * regular file under the zone directory).  TT_OK; TT_INVALID when cctz
 * does not take it as a zone (not TZif, leap-second "right" data);
 * TT_NOMEM.
 */
int tt_tz_zone_load(const char *path, tt_tz_zone_t **zone);
void tt_tz_zone_free(tt_tz_zone_t *zone);

/*
 * A wall time (proleptic Gregorian, fields in range) to UTC seconds: a
 * time in a gap is the instant the gap ends, a repeated time its first
 * occurrence.  *gap is 1 in a gap, else 0.
 */
int tt_tz_zone_to_utc(const tt_tz_zone_t *zone, int64_t year, int month,
    int day, int hour, int minute, int second, int64_t *sec, int *gap);

/*
 * The period [*lo, *hi) of UTC seconds around sec in which the offset is
 * *off seconds.  *lo is INT64_MIN when no change is known before sec,
 * and *hi INT64_MAX when none is known after it.
 */
int tt_tz_zone_period(const tt_tz_zone_t *zone, int64_t sec, int64_t *off,
    int64_t *lo, int64_t *hi);


#ifdef __cplusplus
}
#endif


#endif /* _TT_TZ_INT_H_INCLUDED_ */
