/*
 * Copyright (C) the ngx_tiktok authors.
 * Every zone of /usr/share/zoneinfo, 2026 and 2027, against glibc: both
 * read the same TZif files, and every zone must agree.
 *
 * A child process (the only place TZ is ever set) reads each zone with
 * glibc's localtime_r every 3 hours and finds each change of offset to
 * the second by bisection; it sends the parent each zone's periods of
 * constant offset.  The parent then checks, for an instant every hour
 * (at :00, :15, :30 or :45 in turn):
 *   - tt_tz_from_utc: the offset, and the fields against gmtime_r of the
 *     instant plus glibc's offset;
 *   - tt_tz_to_utc of a wall time every hour (same quarter-hours): it must
 *     be the first instant whose wall time is not earlier, which is the
 *     instant itself, the first occurrence of a repeated time, or the end
 *     of a gap.
 */

#include "tt_test.h"

#include <ftw.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "tt_time.h"
#include "tt_tz.h"


/* TT_ZONEINFO=dir compares another copy of the zones (as TZDIR for us) */
#define ZONEINFO     "/usr/share/zoneinfo"
#define MAX_ZONES    1024
#define MAX_PERIODS  64

/* the window compared, and a margin kept at each end */
#define WIN_START    1767225600LL           /* 2026-01-01T00:00:00Z */
#define WIN_END      1830297600LL           /* 2028-01-01T00:00:00Z */
#define WIN_MARGIN   (3 * 86400LL)
#define SCAN_STEP    (3 * 3600LL)


typedef struct {
    int64_t         start;          /* seconds */
    int64_t         off;            /* seconds */
} period_t;


static char        *zones[MAX_ZONES];
static size_t       nzones;
static const char  *zoneinfo;


static int
collect(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    FILE        *f;
    char         magic[4];
    const char  *name;

    name = path + strlen(zoneinfo) + 1;

    if (type == FTW_D
        && (strcmp(name, "posix") == 0 || strcmp(name, "right") == 0))
    {
        return FTW_SKIP_SUBTREE;
    }

    if ((type != FTW_F && type != FTW_SL) || strcmp(name, "localtime") == 0
        || strcmp(name, "posixrules") == 0)
    {
        return FTW_CONTINUE;
    }

    /* only TZif files are zones: not zone.tab, tzdata.zi or leapseconds */
    f = fopen(path, "rb");
    if (f == NULL) {
        return FTW_CONTINUE;
    }

    if (fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0
        && nzones < MAX_ZONES)
    {
        zones[nzones] = strdup(name);
        assert_non_null(zones[nzones]);
        nzones++;
    }

    fclose(f);
    return FTW_CONTINUE;
}


static int64_t
glibc_off(time_t t)
{
    struct tm  tm;

    if (localtime_r(&t, &tm) == NULL) {
        _exit(3);
    }

    return tm.tm_gmtoff;
}


static void
write_all(int fd, const void *p, size_t n)
{
    ssize_t  w;

    while (n > 0) {
        w = write(fd, p, n);
        if (w <= 0) {
            _exit(2);
        }
        p = (const char *) p + w;
        n -= (size_t) w;
    }
}


/* the child: for each zone, its periods in the window, from glibc */
static void
child(int fd)
{
    char      tz[512];
    size_t    i;
    int64_t   t, lo, hi, mid, off, o, n;
    period_t  p[MAX_PERIODS];

    for (i = 0; i < nzones; i++) {
        snprintf(tz, sizeof(tz), ":%s/%s", zoneinfo, zones[i]);
        if (setenv("TZ", tz, 1) != 0) {
            _exit(2);
        }
        tzset();

        n = 0;
        off = glibc_off(WIN_START);
        p[n].start = WIN_START;
        p[n++].off = off;

        for (t = WIN_START + SCAN_STEP; t < WIN_END; t += SCAN_STEP) {
            o = glibc_off(t);
            if (o == off) {
                continue;
            }

            /* the first second of the new offset */
            lo = t - SCAN_STEP;
            hi = t;
            while (hi - lo > 1) {
                mid = lo + (hi - lo) / 2;
                if (glibc_off(mid) == off) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }

            if (n == MAX_PERIODS) {
                _exit(2);
            }

            p[n].start = hi;
            p[n++].off = o;
            off = o;
        }

        write_all(fd, &n, sizeof(n));
        write_all(fd, p, (size_t) n * sizeof(period_t));
    }

    _exit(0);
}


static void
read_all(FILE *f, void *p, size_t n)
{
    assert_int_equal(fread(p, 1, n, f), n);
}


/* glibc's rule for a wall time: the first instant not earlier on the wall */
static int64_t
expected_utc(const period_t *p, int64_t n, int64_t wall)
{
    int64_t  i, u, end;

    for (i = 0; i < n; i++) {
        end = i + 1 < n ? p[i + 1].start : WIN_END;
        u = wall - p[i].off;
        if (u < p[i].start) {
            u = p[i].start;
        }
        if (u < end) {
            return u;
        }
    }

    return INT64_MIN;
}


static int
check_instant(tt_tz_t *tz, const char *zone, int64_t t, int64_t off,
    int verbose)
{
    time_t      local;
    struct tm   gm;
    tt_tz_tm_t  tm;

    if (tt_tz_from_utc(tz, t * 1000, &tm) != TT_OK) {
        return 0;
    }

    local = (time_t) (t + off);
    if (gmtime_r(&local, &gm) == NULL) {
        return 0;
    }

    if (tm.offset != off || tm.year != gm.tm_year + 1900
        || tm.month != gm.tm_mon + 1 || tm.day != gm.tm_mday
        || tm.hour != gm.tm_hour || tm.minute != gm.tm_min
        || tm.second != gm.tm_sec || tm.wday != gm.tm_wday)
    {
        if (verbose) {
            print_message("%s: at %lld UTC offset %d, glibc %lld\n", zone,
                          (long long) t, tm.offset, (long long) off);
        }
        return 0;
    }

    return 1;
}


static int
check_wall(tt_tz_t *tz, const char *zone, const period_t *p, int64_t n,
    int64_t wall, int verbose)
{
    int64_t  ms, want;

    want = expected_utc(p, n, wall);

    if (tt_tz_local_to_utc(tz, wall * 1000, &ms) != TT_OK
        || ms != want * 1000)
    {
        if (verbose) {
            print_message("%s: wall %lld: %lld, glibc %lld\n", zone,
                          (long long) wall, (long long) ms / 1000,
                          (long long) want);
        }
        return 0;
    }

    return 1;
}


/* TT_OK when tt_tz agrees with glibc on the zone over the whole window */
static int
compare_zone(const char *zone, const period_t *p, int64_t n, int verbose)
{
    int64_t   t, k, i, wall;
    tt_tz_t  *tz;
    int       ok;

    if (tt_tz_open(zone, strlen(zone), &tz) != TT_OK) {
        return TT_NOTFOUND;
    }

    ok = 1;
    i = 0;

    for (k = 0; ok; k++) {
        t = WIN_START + WIN_MARGIN + k * 3600 + (k % 4) * 900;
        if (t >= WIN_END - WIN_MARGIN) {
            break;
        }

        while (i + 1 < n && p[i + 1].start <= t) {
            i++;
        }

        ok = check_instant(tz, zone, t, p[i].off, verbose);

        /* a wall time on the same grid, in the zone's own calendar */
        wall = WIN_START + WIN_MARGIN + k * 3600 + (k % 4) * 900;
        ok = ok && check_wall(tz, zone, p, n, wall, verbose);
    }

    tt_tz_close(tz);
    return ok ? TT_OK : TT_ERR;
}


static void
test_every_zone(void **state)
{
    int       fds[2], status, rc, failed;
    FILE     *f;
    pid_t     pid;
    size_t    i, same;
    int64_t   n;
    period_t  p[MAX_PERIODS];

    zoneinfo = getenv("TT_ZONEINFO");
    if (zoneinfo == NULL) {
        zoneinfo = ZONEINFO;
    }

    /* tt_tz reads its zone directory once, at its first use */
    assert_int_equal(setenv("TZDIR", zoneinfo, 1), 0);

    nzones = 0;
    assert_int_equal(nftw(zoneinfo, collect, 16, FTW_PHYS | FTW_ACTIONRETVAL),
                     0);
    assert_true(nzones > 300);

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);

    if (pid == 0) {
        close(fds[0]);
        child(fds[1]);
    }

    close(fds[1]);
    f = fdopen(fds[0], "rb");
    assert_non_null(f);

    failed = 0;
    same = 0;

    for (i = 0; i < nzones; i++) {
        read_all(f, &n, sizeof(n));
        assert_true(n > 0 && n <= MAX_PERIODS);
        read_all(f, p, (size_t) n * sizeof(period_t));

        rc = compare_zone(zones[i], p, n, 1);

        if (rc == TT_NOTFOUND) {
            print_error("%s: refused by tt_tz\n", zones[i]);
            failed = 1;

        } else if (rc != TT_OK) {
            print_error("%s: tt_tz and glibc differ\n", zones[i]);
            failed = 1;

        } else {
            same++;
        }

        free(zones[i]);
    }

    fclose(f);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    print_message("zones: %zu of %zu agree with glibc (tz %s)\n", same,
                  nzones, tt_tz_data_version());
    assert_false(failed);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_every_zone),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
