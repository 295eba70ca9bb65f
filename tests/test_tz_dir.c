/*
 * Copyright (C) the ngx_tiktok authors.
 * The zone directory: TZDIR names it (as for glibc), only regular TZif
 * files under it are zones, and an update of a zone's file reaches a
 * process that has not loaded that zone yet.  A directory of its own,
 * made here: a copy of a real zone, a file that is not TZif, a link to a
 * zone, links out of the directory, a subdirectory.
 */

#include "tt_test.h"

#include <sys/stat.h>

#include "tt_time.h"
#include "tt_tz.h"


static char  dir[64];


static void
copy_file(const char *from, const char *to)
{
    FILE    *in, *out;
    char     buf[4096];
    size_t   n;

    in = fopen(from, "rb");
    assert_non_null(in);
    out = fopen(to, "wb");
    assert_non_null(out);

    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
        assert_int_equal(fwrite(buf, 1, n, out), n);
    }

    assert_int_equal(fclose(out), 0);
    fclose(in);
}


static void
path(char *buf, size_t size, const char *name)
{
    assert_true(snprintf(buf, size, "%s/%s", dir, name) < (int) size);
}


static int
setup(void **state)
{
    char   p[128];
    FILE  *f;

    memcpy(dir, "/tmp/tt_tz_dir_XXXXXX", 22);
    assert_non_null(mkdtemp(dir));

    path(p, sizeof(p), "Test");
    assert_int_equal(mkdir(p, 0700), 0);
    path(p, sizeof(p), "Test/Zone");
    copy_file("/usr/share/zoneinfo/Europe/London", p);
    path(p, sizeof(p), "Test/Later");
    copy_file("/usr/share/zoneinfo/Europe/London", p);

    path(p, sizeof(p), "Test/Text");
    f = fopen(p, "w");
    assert_non_null(f);
    assert_true(fputs("not a zone\n", f) >= 0);
    assert_int_equal(fclose(f), 0);

    path(p, sizeof(p), "Test/Link");
    assert_int_equal(symlink("Zone", p), 0);
    path(p, sizeof(p), "Test/Out");
    assert_int_equal(symlink("/etc/passwd", p), 0);
    path(p, sizeof(p), "Test/Away");
    assert_int_equal(symlink("/usr/share/zoneinfo/Europe/London", p), 0);
    path(p, sizeof(p), "Test/Up");
    assert_int_equal(symlink("../../usr/share/zoneinfo/Asia/Tokyo", p), 0);

    path(p, sizeof(p), "tzdata.zi");
    f = fopen(p, "w");
    assert_non_null(f);
    assert_true(fputs("# version 2099z\n", f) >= 0);
    assert_int_equal(fclose(f), 0);

    /* read once, at the first use of tt_tz */
    assert_int_equal(setenv("TZDIR", dir, 1), 0);
    return 0;
}


static int
teardown(void **state)
{
    char         p[128];
    size_t       i;
    const char  *names[] = {
        "Test/Zone", "Test/Later", "Test/Text", "Test/Link", "Test/Out",
        "Test/Away", "Test/Up", "tzdata.zi"
    };

    for (i = 0; i < TT_ARRAY_SIZE(names); i++) {
        path(p, sizeof(p), names[i]);
        unlink(p);
    }

    path(p, sizeof(p), "Test");
    rmdir(p);
    rmdir(dir);
    return 0;
}


static void
test_dir(void **state)
{
    int          i;
    int64_t      ms, want;
    tt_tz_t     *tz;
    tt_tz_tm_t   tm;

    /* a copy of London's file is London */
    assert_int_equal(tt_tz_open("Test/Zone", 9, &tz), TT_OK);
    memset(&tm, 0, sizeof(tm));
    tm.year = 2026;
    tm.month = 7;
    tm.day = 1;
    tm.hour = 9;
    assert_int_equal(tt_tz_to_utc(tz, &tm, &ms), TT_OK);
    assert_int_equal(tt_time_parse("2026-07-01T08:00:00Z", 20, &want),
                     TT_OK);
    assert_int_equal(ms, want);
    tt_tz_close(tz);

    assert_int_equal(tt_tz_check("Test/Link", 9), TT_OK);

    /* twice: a refused file stays refused */
    for (i = 0; i < 2; i++) {
        assert_int_equal(tt_tz_check("Test/Text", 9), TT_INVALID);
        assert_int_equal(tt_tz_check("Test/Out", 8), TT_INVALID);
        /* a real zone, but through a link that leaves the directory */
        assert_int_equal(tt_tz_check("Test/Away", 9), TT_INVALID);
        assert_int_equal(tt_tz_check("Test/Up", 7), TT_INVALID);
        assert_int_equal(tt_tz_check("Test", 4), TT_INVALID);
    }

    /* the system's zones are not in this directory */
    assert_int_equal(tt_tz_check("Europe/London", 13), TT_INVALID);

    assert_string_equal(tt_tz_data_version(), "2099z");
}


/* a zone's file replaced before its first load: the new rules are read */
static void
test_update(void **state)
{
    char         p[128];
    int64_t      ms, want;
    tt_tz_t     *tz;
    tt_tz_tm_t   tm;

    path(p, sizeof(p), "Test/Later");
    copy_file("/usr/share/zoneinfo/Asia/Tokyo", p);

    assert_int_equal(tt_tz_open("Test/Later", 10, &tz), TT_OK);
    memset(&tm, 0, sizeof(tm));
    tm.year = 2026;
    tm.month = 7;
    tm.day = 1;
    tm.hour = 9;
    assert_int_equal(tt_tz_to_utc(tz, &tm, &ms), TT_OK);
    assert_int_equal(tt_time_parse("2026-07-01T00:00:00Z", 20, &want),
                     TT_OK);
    assert_int_equal(ms, want);
    tt_tz_close(tz);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_dir),
        cmocka_unit_test(test_update),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
