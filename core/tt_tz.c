/*
 * Copyright (C) the ngx_tiktok authors.
 * IANA time zones through ICU's ucal C API.
 *
 * ICU reads its own copy of the tz database (see README.md, "Queues").
 * Every tt_tz_t owns its UCalendar, so threads never share one; ICU's
 * own caches behind ucal_open() are thread-safe.
 */

#include <stdlib.h>

#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "tt_time.h"
#include "tt_tz.h"


/*
 * The fast path trusts a period of constant offset only this far after
 * its start: a wall time whose instant there is closer to the transition
 * may be the second occurrence of a repeated time, and ICU resolves it.
 * An earlier occurrence is earlier by the offset's change, and no
 * transition has ever moved a clock by more than a day.  Near the end of
 * a period no care is needed: a time that is valid there is the first
 * occurrence, and a time in the next gap lands past the period's end.
 */
#define TT_TZ_MARGIN    (2 * TT_TZ_DAY_MS)

#define TT_TZ_NEVER_LO  (INT64_MIN / 4)
#define TT_TZ_NEVER_HI  (INT64_MAX / 4)

/* the local ms of 1970-01-01 00:00 and of 10000-01-01 00:00 */
#define TT_TZ_LOCAL_MIN  0LL
#define TT_TZ_LOCAL_MAX  253402300800000LL


struct tt_tz_s {
    UCalendar      *cal;
    int64_t         lo;             /* the period [lo, hi) of constant */
    int64_t         hi;             /* offset off, in UTC ms */
    int64_t         off;
    int             cached;
};


static int tt_tz_name(const char *name, size_t len, UChar *id,
    int32_t *id_len, char *canonical);
static int tt_tz_java_only(const char *name, size_t len);
static int tt_tz_period(tt_tz_t *tz, int64_t ms);


/*
 * The ids ICU keeps for Java compatibility that the tz database never had:
 * "PST" would silently mean Los Angeles and "IST" Kolkata.
 */
static const char  *tt_tz_java_ids[] = {
    "ACT", "AET", "AGT", "ART", "AST", "BET", "BST", "CAT", "CNT", "CST",
    "CTT", "EAT", "ECT", "IET", "IST", "JST", "MIT", "NET", "NST", "PLT",
    "PNT", "PRT", "PST", "SST", "VST", "Canada/East-Saskatchewan",
    "US/Pacific-New"
};


static int
tt_tz_java_only(const char *name, size_t len)
{
    size_t  i;

    if (len > 8 && memcmp(name, "SystemV/", 8) == 0) {
        return 1;
    }

    for (i = 0; i < TT_ARRAY_SIZE(tt_tz_java_ids); i++) {
        if (strlen(tt_tz_java_ids[i]) == len
            && memcmp(tt_tz_java_ids[i], name, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static int
tt_tz_name(const char *name, size_t len, UChar *id, int32_t *id_len,
    char *canonical)
{
    size_t      i;
    UBool       system;
    UChar       canon[TT_TZ_NAME_MAX];
    int32_t     n;
    UErrorCode  st;

    if (len == 0 || len >= TT_TZ_NAME_MAX || tt_tz_java_only(name, len)) {
        return TT_INVALID;
    }

    /* the characters of tz database names; ICU would take more */
    for (i = 0; i < len; i++) {
        if (!((name[i] >= 'A' && name[i] <= 'Z')
              || (name[i] >= 'a' && name[i] <= 'z')
              || (name[i] >= '0' && name[i] <= '9')
              || name[i] == '/' || name[i] == '_' || name[i] == '-'
              || name[i] == '+'))
        {
            return TT_INVALID;
        }
    }

    u_charsToUChars(name, id, (int32_t) len);
    *id_len = (int32_t) len;

    st = U_ZERO_ERROR;
    system = 0;
    n = ucal_getCanonicalTimeZoneID(id, *id_len, canon, TT_TZ_NAME_MAX,
                                    &system, &st);

    if (U_FAILURE(st) || !system || n <= 0 || n >= TT_TZ_NAME_MAX) {
        return TT_INVALID;
    }

    u_UCharsToChars(canon, canonical, n);
    canonical[n] = '\0';

    if (strcmp(canonical, "Etc/Unknown") == 0) {
        return TT_INVALID;
    }

    return TT_OK;
}


int
tt_tz_check(const char *name, size_t len)
{
    UChar    id[TT_TZ_NAME_MAX];
    char     canonical[TT_TZ_NAME_MAX];
    int32_t  id_len;

    return tt_tz_name(name, len, id, &id_len, canonical);
}


int
tt_tz_open(const char *name, size_t len, tt_tz_t **out)
{
    int         rc;
    char        canonical[TT_TZ_NAME_MAX];
    UChar       id[TT_TZ_NAME_MAX];
    int32_t     id_len;
    tt_tz_t    *tz;
    UErrorCode  st;

    *out = NULL;

    tz = calloc(1, sizeof(tt_tz_t));
    if (tz == NULL) {
        return TT_NOMEM;
    }

    rc = tt_tz_name(name, len, id, &id_len, canonical);
    if (rc != TT_OK) {
        free(tz);
        return rc;
    }

    st = U_ZERO_ERROR;
    tz->cal = ucal_open(id, id_len, "en_US_POSIX", UCAL_GREGORIAN, &st);
    if (U_FAILURE(st) || tz->cal == NULL) {
        free(tz);
        return st == U_MEMORY_ALLOCATION_ERROR ? TT_NOMEM : TT_ERR;
    }

    /* the rules of a queue's slots; lenient so that gaps resolve */
    ucal_setAttribute(tz->cal, UCAL_LENIENT, 1);
    ucal_setAttribute(tz->cal, UCAL_REPEATED_WALL_TIME, UCAL_WALLTIME_FIRST);
    ucal_setAttribute(tz->cal, UCAL_SKIPPED_WALL_TIME,
                      UCAL_WALLTIME_NEXT_VALID);

    *out = tz;
    return TT_OK;
}


void
tt_tz_close(tt_tz_t *tz)
{
    if (tz == NULL) {
        return;
    }

    ucal_close(tz->cal);
    free(tz);
}


/* learns the period of constant offset that holds ms, from ICU */
static int
tt_tz_period(tt_tz_t *tz, int64_t ms)
{
    UDate       t;
    int32_t     zone, dst;
    UErrorCode  st;

    st = U_ZERO_ERROR;
    ucal_setMillis(tz->cal, (UDate) ms, &st);
    zone = ucal_get(tz->cal, UCAL_ZONE_OFFSET, &st);
    dst = ucal_get(tz->cal, UCAL_DST_OFFSET, &st);

    if (U_FAILURE(st)) {
        return TT_ERR;
    }

    tz->off = (int64_t) zone + dst;
    tz->lo = TT_TZ_NEVER_LO;
    tz->hi = TT_TZ_NEVER_HI;

    if (ucal_getTimeZoneTransitionDate(tz->cal,
                                       UCAL_TZ_TRANSITION_PREVIOUS_INCLUSIVE,
                                       &t, &st))
    {
        tz->lo = (int64_t) t;
    }

    if (ucal_getTimeZoneTransitionDate(tz->cal, UCAL_TZ_TRANSITION_NEXT,
                                       &t, &st))
    {
        tz->hi = (int64_t) t;
    }

    if (U_FAILURE(st) || ms < tz->lo || ms >= tz->hi) {
        tz->cached = 0;
        return TT_ERR;
    }

    tz->cached = 1;
    return TT_OK;
}


int
tt_tz_local_to_utc_icu(tt_tz_t *tz, int64_t local_ms, int64_t *ms)
{
    int64_t     y, days, rest;
    unsigned    m, d;
    UDate       t;
    UErrorCode  st;

    if (local_ms < TT_TZ_LOCAL_MIN || local_ms >= TT_TZ_LOCAL_MAX) {
        return TT_INVALID;
    }

    days = local_ms / TT_TZ_DAY_MS;
    rest = local_ms % TT_TZ_DAY_MS;
    tt_civil_from_days(days, &y, &m, &d);

    st = U_ZERO_ERROR;
    ucal_clear(tz->cal);
    ucal_setDateTime(tz->cal, (int32_t) y, (int32_t) m - 1, (int32_t) d,
                     (int32_t) (rest / TT_TZ_HOUR_MS),
                     (int32_t) (rest / TT_TZ_MIN_MS % 60),
                     (int32_t) (rest / 1000 % 60), &st);
    ucal_set(tz->cal, UCAL_MILLISECOND, (int32_t) (rest % 1000));
    t = ucal_getMillis(tz->cal, &st);

    if (U_FAILURE(st)) {
        return TT_ERR;
    }

    *ms = (int64_t) t;
    return TT_OK;
}


int
tt_tz_local_to_utc(tt_tz_t *tz, int64_t local_ms, int64_t *ms)
{
    int64_t  u;

    if (local_ms < TT_TZ_LOCAL_MIN || local_ms >= TT_TZ_LOCAL_MAX) {
        return TT_INVALID;
    }

    /*
     * Within a period of constant offset, far enough from its start, the
     * wall time's first instant is local - offset.  Elsewhere ICU applies
     * the gap and repeat rules, and the period of its answer is learnt.
     */
    if (tz->cached) {
        u = local_ms - tz->off;

        if (u >= tz->lo + TT_TZ_MARGIN && u < tz->hi) {
            *ms = u;
            return TT_OK;
        }
    }

    if (tt_tz_local_to_utc_icu(tz, local_ms, &u) != TT_OK) {
        return TT_ERR;
    }

    if ((!tz->cached || u < tz->lo || u >= tz->hi)
        && tt_tz_period(tz, u) != TT_OK)
    {
        return TT_ERR;
    }

    *ms = u;
    return TT_OK;
}


int
tt_tz_to_utc(tt_tz_t *tz, const tt_tz_tm_t *tm, int64_t *ms)
{
    int64_t  days, end;

    if (tm->year < TT_TZ_YEAR_MIN || tm->year > TT_TZ_YEAR_MAX
        || tm->month < 1 || tm->month > 12 || tm->day < 1
        || tm->hour < 0 || tm->hour > 23 || tm->minute < 0
        || tm->minute > 59 || tm->second < 0 || tm->second > 59)
    {
        return TT_INVALID;
    }

    days = tt_days_from_civil(tm->year, (unsigned) tm->month,
                              (unsigned) tm->day);

    /* the first day of the next month, to check the day of the month */
    end = tm->month == 12
          ? tt_days_from_civil(tm->year + 1, 1, 1)
          : tt_days_from_civil(tm->year, (unsigned) tm->month + 1, 1);

    if (days >= end) {
        return TT_INVALID;
    }

    return tt_tz_local_to_utc(tz,
                              days * TT_TZ_DAY_MS + tm->hour * TT_TZ_HOUR_MS
                              + tm->minute * TT_TZ_MIN_MS
                              + tm->second * 1000LL, ms);
}


int
tt_tz_offset(tt_tz_t *tz, int64_t ms, int64_t *offset)
{
    if (!tz->cached || ms < tz->lo || ms >= tz->hi) {
        if (tt_tz_period(tz, ms) != TT_OK) {
            return TT_ERR;
        }
    }

    *offset = tz->off;
    return TT_OK;
}


int
tt_tz_from_utc(tt_tz_t *tz, int64_t ms, tt_tz_tm_t *tm)
{
    int64_t   off, local, days, rest, y;
    unsigned  m, d;

    if (ms < -TT_TZ_DAY_MS || ms >= TT_TZ_LOCAL_MAX + TT_TZ_DAY_MS) {
        return TT_INVALID;
    }

    if (tt_tz_offset(tz, ms, &off) != TT_OK) {
        return TT_ERR;
    }

    local = ms + off;

    if (local < TT_TZ_LOCAL_MIN || local >= TT_TZ_LOCAL_MAX) {
        return TT_INVALID;
    }

    days = local / TT_TZ_DAY_MS;
    rest = local % TT_TZ_DAY_MS;
    tt_civil_from_days(days, &y, &m, &d);

    tm->year = (int) y;
    tm->month = (int) m;
    tm->day = (int) d;
    tm->hour = (int) (rest / TT_TZ_HOUR_MS);
    tm->minute = (int) (rest / TT_TZ_MIN_MS % 60);
    tm->second = (int) (rest / 1000 % 60);
    tm->wday = (int) ((days + 4) % 7);          /* 1970-01-01: Thursday */
    tm->offset = (int) (off / 1000);

    return TT_OK;
}


const char *
tt_tz_data_version(void)
{
    const char  *v;
    UErrorCode   st;

    st = U_ZERO_ERROR;
    v = ucal_getTZDataVersion(&st);

    return U_FAILURE(st) || v == NULL ? "" : v;
}
