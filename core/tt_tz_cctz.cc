/*
 * Copyright (C) the ngx_tiktok authors.
 * The tz database's rules through abseil's cctz (Debian's libabsl-dev),
 * which reads the system's TZif files: Debian's tzdata package, the same
 * files as glibc.  tt_tz.c checks names and builds the path; this file
 * only loads and asks.  No exception leaves it.
 *
 * cctz keeps each zone it loaded for the life of the process, shared by
 * every thread (lookups are const and thread-safe); a tt_tz_zone_t is a
 * handle to one.
 */

#include <cstdint>
#include <limits>
#include <new>
#include <string>

#include <absl/time/internal/cctz/include/cctz/civil_time.h>
#include <absl/time/internal/cctz/include/cctz/time_zone.h>

#include "tt_core.h"
#include "tt_tz_int.h"


namespace cctz = absl::time_internal::cctz;


struct tt_tz_zone_s {
    cctz::time_zone     tz;
};


/*
 * cctz lists a zone's changes for 400 years after its last explicit
 * transition, and none after a zone's last change.  So no change known
 * after an instant before 2200 means none ever; later, the period known
 * is the second asked about alone.
 */
static const int64_t  tt_tz_trust_end = 7258118400LL;   /* 2200-01-01 */


static cctz::time_point<cctz::seconds>
tt_tz_tp(int64_t sec)
{
    return cctz::time_point<cctz::seconds>(cctz::seconds(sec));
}


static int64_t
tt_tz_sec(const cctz::time_point<cctz::seconds> &tp)
{
    return (int64_t) tp.time_since_epoch().count();
}


extern "C" int
tt_tz_zone_load(const char *path, tt_tz_zone_t **zone)
{
    tt_tz_zone_t  *z;

    *zone = NULL;

    try {
        z = new tt_tz_zone_t;

        /* cctz takes an absolute path as is: no TZDIR, no "file:" */
        if (!cctz::load_time_zone(std::string(path), &z->tz)) {
            delete z;
            return TT_INVALID;
        }

    } catch (const std::bad_alloc &) {
        return TT_NOMEM;

    } catch (...) {
        return TT_ERR;
    }

    *zone = z;
    return TT_OK;
}


extern "C" void
tt_tz_zone_free(tt_tz_zone_t *zone)
{
    delete zone;
}


extern "C" int
tt_tz_zone_to_utc(const tt_tz_zone_t *zone, int64_t year, int month,
    int day, int hour, int minute, int second, int64_t *sec, int *gap)
{
    cctz::civil_second               cs(year, month, day, hour, minute,
                                        second);
    cctz::time_zone::civil_lookup    cl;

    cl = zone->tz.lookup(cs);

    /* the rules of a queue's slots */
    switch (cl.kind) {

    case cctz::time_zone::civil_lookup::SKIPPED:
        *sec = tt_tz_sec(cl.trans);
        *gap = 1;
        return TT_OK;

    case cctz::time_zone::civil_lookup::REPEATED:
    case cctz::time_zone::civil_lookup::UNIQUE:
        *sec = tt_tz_sec(cl.pre);
        *gap = 0;
        return TT_OK;
    }

    return TT_ERR;
}


/* the instant of the civil-time change that ends at civil time to */
static int64_t
tt_tz_change(const cctz::time_zone &tz, const cctz::civil_second &to)
{
    return tt_tz_sec(tz.lookup(to).trans);
}


extern "C" int
tt_tz_zone_period(const tt_tz_zone_t *zone, int64_t sec, int64_t *off,
    int64_t *lo, int64_t *hi)
{
    cctz::time_zone::civil_transition  ct;

    *off = zone->tz.lookup(tt_tz_tp(sec)).offset;
    *lo = std::numeric_limits<int64_t>::min();
    *hi = std::numeric_limits<int64_t>::max();

    /* the last change at or before sec, the first after it */
    if (zone->tz.prev_transition(tt_tz_tp(sec + 1), &ct)) {
        *lo = tt_tz_change(zone->tz, ct.to);
    }

    if (zone->tz.next_transition(tt_tz_tp(sec), &ct)) {
        *hi = tt_tz_change(zone->tz, ct.to);

    } else if (sec >= tt_tz_trust_end) {
        *lo = sec;
        *hi = sec + 1;
    }

    return *lo <= sec && sec < *hi ? TT_OK : TT_ERR;
}
