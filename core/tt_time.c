/*
 * Copyright (C) the ngx_tiktok authors.
 * UTC millisecond times: strict ISO 8601 parsing, formatting and clocks.
 */

#include <stdio.h>
#include <time.h>

#include "tt_time.h"


#define TT_MS_PER_DAY   86400000LL

/* 9999-12-31T23:59:59.999Z, the last instant a stored time may hold */
#define TT_TIME_MAX     253402300799999LL


static int tt_time_digits(const char *s, size_t n, unsigned *v);
static unsigned tt_days_in_month(int64_t y, unsigned m);
static int tt_time_fields(const char *s, int64_t *t);
static int tt_time_fraction(const char *s, size_t len, size_t *i,
    unsigned *frac);
static int tt_time_offset(const char *s, size_t n, int64_t *off);
static char *tt_time_put_digits(char *p, unsigned v, int n);


int64_t
tt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t   era;
    unsigned  yoe, doy, doe;

    /*
     * Howard Hinnant's days_from_civil: the year is shifted to start in
     * March so that the leap day is the last day of the year, then counted
     * in 400-year eras of 146097 days.
     */
    if (m <= 2) {
        y -= 1;
    }

    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned) (y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + (int64_t) doe - 719468;
}


void
tt_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t   era, year;
    unsigned  doe, yoe, doy, mp, month;

    /* the inverse of tt_days_from_civil(), same March-based years */
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned) (z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    year = (int64_t) yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    month = mp < 10 ? mp + 3 : mp - 9;

    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = month;
    *y = year + (month <= 2);
}


static int
tt_time_digits(const char *s, size_t n, unsigned *v)
{
    size_t    i;
    unsigned  r;

    r = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return TT_INVALID;
        }

        r = r * 10 + (unsigned) (s[i] - '0');
    }

    *v = r;

    return TT_OK;
}


static unsigned
tt_days_in_month(int64_t y, unsigned m)
{
    static const unsigned char  days[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) {
        return 29;
    }

    return days[m - 1];
}


/* "YYYY-MM-DDTHH:MM:SS" (or a space for the T), every field in range */
static int
tt_time_fields(const char *s, int64_t *t)
{
    unsigned  year, mon, day, hour, min, sec;

    if (tt_time_digits(s, 4, &year) != TT_OK
        || s[4] != '-'
        || tt_time_digits(s + 5, 2, &mon) != TT_OK
        || s[7] != '-'
        || tt_time_digits(s + 8, 2, &day) != TT_OK
        || (s[10] != 'T' && s[10] != ' ')
        || tt_time_digits(s + 11, 2, &hour) != TT_OK
        || s[13] != ':'
        || tt_time_digits(s + 14, 2, &min) != TT_OK
        || s[16] != ':'
        || tt_time_digits(s + 17, 2, &sec) != TT_OK)
    {
        return TT_INVALID;
    }

    if (year < 1970 || mon < 1 || mon > 12
        || day < 1 || day > tt_days_in_month(year, mon)
        || hour > 23 || min > 59 || sec > 59)
    {
        /* a leap second (:60) too: TikTok takes none, and moving it to
         * :59 would be a time the client did not ask for */
        return TT_INVALID;
    }

    *t = tt_days_from_civil(year, mon, day) * TT_MS_PER_DAY
         + (((int64_t) hour * 60 + min) * 60 + sec) * 1000;

    return TT_OK;
}


/*
 * ".fff..." at *i, if there: any number of digits, of which only the
 * milliseconds are kept, truncated
 */
static int
tt_time_fraction(const char *s, size_t len, size_t *i, unsigned *frac)
{
    unsigned  scale;

    *frac = 0;

    if (*i == len || s[*i] != '.') {
        return TT_OK;
    }

    (*i)++;

    if (*i == len || s[*i] < '0' || s[*i] > '9') {
        return TT_INVALID;
    }

    for (scale = 100; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
        *frac += (unsigned) (s[*i] - '0') * scale;
        scale /= 10;
    }

    return TT_OK;
}


/*
 * The rest of the string: "Z", "+HH:MM" or "+HHMM" (or "-"); a time
 * without an offset is ambiguous and refused
 */
static int
tt_time_offset(const char *s, size_t n, int64_t *off)
{
    unsigned  oh, om;

    if (n == 1 && s[0] == 'Z') {
        *off = 0;
        return TT_OK;
    }

    if (n == 0 || (s[0] != '+' && s[0] != '-')) {
        return TT_INVALID;
    }

    if (n == 6 && s[3] == ':') {
        if (tt_time_digits(s + 1, 2, &oh) != TT_OK
            || tt_time_digits(s + 4, 2, &om) != TT_OK)
        {
            return TT_INVALID;
        }

    } else if (n == 5) {
        if (tt_time_digits(s + 1, 2, &oh) != TT_OK
            || tt_time_digits(s + 3, 2, &om) != TT_OK)
        {
            return TT_INVALID;
        }

    } else {
        return TT_INVALID;
    }

    if (oh > 23 || om > 59) {
        return TT_INVALID;
    }

    *off = ((int64_t) oh * 60 + om) * 60000;

    if (s[0] == '-') {
        *off = -*off;
    }

    return TT_OK;
}


int
tt_time_parse(const char *s, size_t len, int64_t *ms)
{
    size_t    i;
    int64_t   t, off;
    unsigned  frac;

    /* "YYYY-MM-DDTHH:MM:SS" is fixed; what follows is checked below */
    if (s == NULL || len < 20 || tt_time_fields(s, &t) != TT_OK) {
        return TT_INVALID;
    }

    i = 19;

    if (tt_time_fraction(s, len, &i, &frac) != TT_OK
        || tt_time_offset(s + i, len - i, &off) != TT_OK)
    {
        return TT_INVALID;
    }

    /* local time minus its offset is UTC */
    t += frac - off;

    if (t < 0 || t > TT_TIME_MAX) {
        return TT_INVALID;
    }

    *ms = t;

    return TT_OK;
}


size_t
tt_time_format(int64_t ms, char buf[TT_TIME_LEN + 1])
{
    char     *p;
    int64_t   days, rem, y;
    unsigned  m, d, hh, mm, ss, frac;

    /* four-digit years only: anything else does not fit TT_TIME_LEN */
    if (ms < -62167219200000LL || ms > TT_TIME_MAX) {
        buf[0] = '\0';
        return 0;
    }

    days = ms / TT_MS_PER_DAY;
    rem = ms % TT_MS_PER_DAY;

    if (rem < 0) {
        rem += TT_MS_PER_DAY;
        days -= 1;
    }

    tt_civil_from_days(days, &y, &m, &d);

    frac = (unsigned) (rem % 1000);
    rem /= 1000;
    ss = (unsigned) (rem % 60);
    rem /= 60;
    mm = (unsigned) (rem % 60);
    hh = (unsigned) (rem / 60);

    /* by hand: every answer and every moved post formats times, and
     * snprintf() was a twentieth of a queue's re-arrangement */
    p = tt_time_put_digits(buf, (unsigned) y, 4);
    *p++ = '-';
    p = tt_time_put_digits(p, m, 2);
    *p++ = '-';
    p = tt_time_put_digits(p, d, 2);
    *p++ = 'T';
    p = tt_time_put_digits(p, hh, 2);
    *p++ = ':';
    p = tt_time_put_digits(p, mm, 2);
    *p++ = ':';
    p = tt_time_put_digits(p, ss, 2);

    if (frac) {
        *p++ = '.';
        p = tt_time_put_digits(p, frac, 3);
    }

    *p++ = 'Z';
    *p = '\0';

    return (size_t) (p - buf);
}


/* v's last n decimal digits at p; past them */
static char *
tt_time_put_digits(char *p, unsigned v, int n)
{
    int  i;

    for (i = n - 1; i >= 0; i--) {
        p[i] = (char) ('0' + v % 10);
        v /= 10;
    }

    return p + n;
}


int64_t
tt_now_ms(void)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        return -1;
    }

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


int64_t
tt_mono_ms(void)
{
    struct timespec  ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return -1;
    }

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
