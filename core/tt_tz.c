/*
 * Copyright (C) the ngx_tiktok authors.
 * IANA time zones from the system's tz database, through abseil's cctz.
 *
 * The rules come from the TZif files of /usr/share/zoneinfo (Debian's
 * tzdata package; see README.md, "Queues"), read by cctz
 * (tt_tz_cctz.cc), which keeps each zone it loaded for the process's
 * life and shares it between threads.  A name is outside input: it is
 * checked here before any file is opened, and only a regular file under
 * the zone directory is ever read.
 */

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tt_time.h"
#include "tt_tz.h"
#include "tt_tz_int.h"


/*
 * The fast path trusts a period of constant offset only this far after
 * its start: a wall time whose instant there is closer to the transition
 * may be the second occurrence of a repeated time, and cctz resolves it.
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

#define TT_TZ_DIR        "/usr/share/zoneinfo"
#define TT_TZ_DIR_MAX    512
#define TT_TZ_LINK_MAX   (TT_TZ_DIR_MAX + TT_TZ_NAME_MAX + 1)
#define TT_TZ_PATH_MAX   PATH_MAX


struct tt_tz_s {
    tt_tz_zone_t   *zone;
    int64_t         lo;             /* the period [lo, hi) of constant */
    int64_t         hi;             /* offset off, in UTC ms */
    int64_t         off;
    int             cached;
};


static void tt_tz_init(void);
static void tt_tz_read_version(void);
static int tt_tz_path(const char *name, size_t len, char *path);
static int tt_tz_period(tt_tz_t *tz, int64_t ms);


static pthread_once_t  tt_tz_once = PTHREAD_ONCE_INIT;
static char            tt_tz_dir[TT_TZ_DIR_MAX];
static char            tt_tz_real_dir[TT_TZ_PATH_MAX];   /* "" if none */
static char            tt_tz_version[16];


/*
 * Read once: the zone directory, TZDIR as glibc and cctz take it (an
 * absolute path) or /usr/share/zoneinfo; and the release of the tz
 * database there.
 */
static void
tt_tz_init(void)
{
    const char  *dir;

    dir = getenv("TZDIR");
    if (dir == NULL || dir[0] != '/' || strlen(dir) >= TT_TZ_DIR_MAX) {
        dir = TT_TZ_DIR;
    }

    memcpy(tt_tz_dir, dir, strlen(dir) + 1);

    /* where the zones' links must lead: the directory itself, resolved */
    if (realpath(tt_tz_dir, tt_tz_real_dir) == NULL) {
        tt_tz_real_dir[0] = '\0';
    }

    tt_tz_read_version();
}


/* the first line of tzdata.zi: "# version 2025b" */
static void
tt_tz_read_version(void)
{
    FILE    *f;
    char     path[TT_TZ_LINK_MAX + 16], line[64];
    size_t   i;

    if (snprintf(path, sizeof(path), "%s/tzdata.zi", tt_tz_dir)
        >= (int) sizeof(path))
    {
        return;
    }

    f = fopen(path, "re");
    if (f == NULL) {
        return;
    }

    if (fgets(line, sizeof(line), f) != NULL
        && strncmp(line, "# version ", 10) == 0)
    {
        for (i = 0; i + 1 < sizeof(tt_tz_version); i++) {
            if (!((line[10 + i] >= '0' && line[10 + i] <= '9')
                  || (line[10 + i] >= 'a' && line[10 + i] <= 'z')))
            {
                break;
            }
            tt_tz_version[i] = line[10 + i];
        }
        tt_tz_version[i] = '\0';
    }

    fclose(f);
}


/*
 * A zone name to the resolved path of its TZif file, or TT_INVALID.  The
 * name is outside input: only the tz database's characters; each part
 * starts with a letter (no "..", no empty part, no absolute path, no
 * option); not the posix/ and right/ copies, nor localtime and
 * posixrules; and the path, links followed, must be a regular file inside
 * the zone directory.  cctz checks that it is TZif.
 */
static int
tt_tz_path(const char *name, size_t len, char *path)
{
    char         c, link[TT_TZ_LINK_MAX];
    size_t       i, dir_len;
    struct stat  st;

    if (len == 0 || len >= TT_TZ_NAME_MAX || name[len - 1] == '/') {
        return TT_INVALID;
    }

    for (i = 0; i < len; i++) {
        c = name[i];

        if (i == 0 || name[i - 1] == '/') {
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
                return TT_INVALID;
            }

        } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                     || (c >= '0' && c <= '9') || c == '/' || c == '_'
                     || c == '-' || c == '+'))
        {
            return TT_INVALID;
        }
    }

    if ((len > 6 && memcmp(name, "posix/", 6) == 0)
        || (len > 6 && memcmp(name, "right/", 6) == 0)
        || (len == 9 && memcmp(name, "localtime", 9) == 0)
        || (len == 10 && memcmp(name, "posixrules", 10) == 0))
    {
        return TT_INVALID;
    }

    if (pthread_once(&tt_tz_once, tt_tz_init) != 0) {
        return TT_ERR;
    }

    dir_len = strlen(tt_tz_dir);
    memcpy(link, tt_tz_dir, dir_len);
    link[dir_len] = '/';
    memcpy(link + dir_len + 1, name, len);
    link[dir_len + 1 + len] = '\0';

    /* links (US/Pacific -> ../America/Los_Angeles) stay in the directory */
    if (realpath(link, path) == NULL) {
        return TT_INVALID;
    }

    dir_len = strlen(tt_tz_real_dir);

    if (dir_len == 0 || strncmp(path, tt_tz_real_dir, dir_len) != 0
        || (path[dir_len] != '/' && tt_tz_real_dir[dir_len - 1] != '/')
        || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
    {
        return TT_INVALID;
    }

    return TT_OK;
}


int
tt_tz_check(const char *name, size_t len)
{
    int            rc;
    char           path[TT_TZ_PATH_MAX];
    tt_tz_zone_t  *zone;

    rc = tt_tz_path(name, len, path);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_tz_zone_load(path, &zone);
    tt_tz_zone_free(zone);

    return rc;
}


int
tt_tz_open(const char *name, size_t len, tt_tz_t **out)
{
    int       rc;
    char      path[TT_TZ_PATH_MAX];
    tt_tz_t  *tz;

    *out = NULL;

    rc = tt_tz_path(name, len, path);
    if (rc != TT_OK) {
        return rc;
    }

    tz = calloc(1, sizeof(tt_tz_t));
    if (tz == NULL) {
        return TT_NOMEM;
    }

    rc = tt_tz_zone_load(path, &tz->zone);
    if (rc != TT_OK) {
        free(tz);
        return rc;
    }

    *out = tz;
    return TT_OK;
}


void
tt_tz_close(tt_tz_t *tz)
{
    if (tz == NULL) {
        return;
    }

    tt_tz_zone_free(tz->zone);
    free(tz);
}


/* learns the period of constant offset that holds ms, from cctz */
static int
tt_tz_period(tt_tz_t *tz, int64_t ms)
{
    int64_t  sec, off, lo, hi;

    sec = ms / 1000 - (ms % 1000 < 0);

    if (tt_tz_zone_period(tz->zone, sec, &off, &lo, &hi) != TT_OK) {
        tz->cached = 0;
        return TT_ERR;
    }

    tz->off = off * 1000;
    tz->lo = lo == INT64_MIN ? TT_TZ_NEVER_LO : lo * 1000;
    tz->hi = hi == INT64_MAX ? TT_TZ_NEVER_HI : hi * 1000;
    tz->cached = 1;

    return TT_OK;
}


int
tt_tz_local_to_utc_slow(tt_tz_t *tz, int64_t local_ms, int64_t *ms)
{
    int       gap;
    int64_t   y, days, rest, sec;
    unsigned  m, d;

    if (local_ms < TT_TZ_LOCAL_MIN || local_ms >= TT_TZ_LOCAL_MAX) {
        return TT_INVALID;
    }

    days = local_ms / TT_TZ_DAY_MS;
    rest = local_ms % TT_TZ_DAY_MS;
    tt_civil_from_days(days, &y, &m, &d);

    if (tt_tz_zone_to_utc(tz->zone, y, (int) m, (int) d,
                          (int) (rest / TT_TZ_HOUR_MS),
                          (int) (rest / TT_TZ_MIN_MS % 60),
                          (int) (rest / 1000 % 60), &sec, &gap)
        != TT_OK)
    {
        return TT_ERR;
    }

    /* a time in a gap is the gap's end, to the ms */
    *ms = sec * 1000 + (gap ? 0 : rest % 1000);
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
     * wall time's first instant is local - offset.  Elsewhere cctz applies
     * the gap and repeat rules, and the period of its answer is learnt.
     */
    if (tz->cached) {
        u = local_ms - tz->off;

        if (u >= tz->lo + TT_TZ_MARGIN && u < tz->hi) {
            *ms = u;
            return TT_OK;
        }
    }

    if (tt_tz_local_to_utc_slow(tz, local_ms, &u) != TT_OK) {
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
    if (pthread_once(&tt_tz_once, tt_tz_init) != 0) {
        return "";
    }

    return tt_tz_version;
}
