/*
 * Copyright (C) the ngx_tiktok authors.
 * Tests of the queue's slot arithmetic: validation, slot instants across
 * DST days and week ends, the next free slot, and the arrangement of
 * posts by priority with jitter.
 */

#include "tt_test.h"

#include "tt_time.h"
#include "tt_queue.h"


#define MAX_EXPECT  8


static int64_t
ms_of(const char *iso)
{
    int64_t  ms;

    assert_int_equal(tt_time_parse(iso, strlen(iso), &ms), TT_OK);
    return ms;
}


static void
define(tt_queue_def_t *def, const char *zone, unsigned jitter,
    const char *slots)
{
    size_t              n;
    const char         *p;
    tt_queue_in_t       in;
    tt_queue_errs_t     errs;
    tt_queue_slot_in_t  s[64];

    /* slots: "1 09:00,3 13:00" */
    n = 0;
    for (p = slots; *p != '\0'; p += 7 + (p[7] == ',')) {
        s[n].day = p[0] - '0';
        s[n].time.data = p + 2;
        s[n].time.len = 5;
        n++;
    }

    memset(&in, 0, sizeof(in));
    in.timezone.data = zone;
    in.timezone.len = strlen(zone);
    in.jitter = jitter;
    in.enabled = 1;
    in.slots = s;
    in.nslots = n;

    assert_int_equal(tt_queue_define(&in, def, &errs), TT_OK);
    assert_int_equal(errs.n, 0);
}


static tt_tz_t *
open_zone(const tt_queue_def_t *def)
{
    tt_tz_t  *tz;

    assert_int_equal(tt_tz_open(def->timezone, strlen(def->timezone), &tz),
                     TT_OK);
    return tz;
}


/* the seed's queue */
static void
test_define(void **state)
{
    char            buf[6];
    tt_queue_def_t  def;

    define(&def, "America/Los_Angeles", 10, "5 18:00,1 09:00,3 13:00");
    assert_string_equal(def.timezone, "America/Los_Angeles");
    assert_int_equal(def.jitter, 10);
    assert_int_equal(def.enabled, 1);
    assert_int_equal(def.nslots, 3);

    /* sorted by day and time */
    assert_int_equal(def.slots[0].day, 1);
    assert_int_equal(def.slots[0].minute, 9 * 60);
    assert_int_equal(def.slots[1].day, 3);
    assert_int_equal(def.slots[2].day, 5);
    assert_int_equal(def.slots[2].minute, 18 * 60);

    tt_queue_format_time(def.slots[1].minute, buf);
    assert_string_equal(buf, "13:00");
    tt_queue_format_time(0, buf);
    assert_string_equal(buf, "00:00");
    tt_queue_format_time(1439, buf);
    assert_string_equal(buf, "23:59");
}


typedef struct {
    const char     *zone;
    int64_t         jitter;
    int64_t         days[4];
    const char     *times[4];
    size_t          nslots;
    const char     *fields[6];      /* the errors expected, in order */
} bad_def_t;


static const bad_def_t  bad_defs[] = {
    { "Mars/Olympus", 10, { 1 }, { "09:00" }, 1, { "timezone" } },
    { "PST", 10, { 1 }, { "09:00" }, 1, { "timezone" } },
    { "", 10, { 1 }, { "09:00" }, 1, { "timezone" } },
    { "UTC", 61, { 1 }, { "09:00" }, 1, { "jitter" } },
    { "UTC", -1, { 1 }, { "09:00" }, 1, { "jitter" } },
    { "UTC", 0, { 7 }, { "09:00" }, 1,
      { "queue_timeslots_attributes[0].day" } },
    { "UTC", 0, { 1, -1 }, { "09:00", "10:00" }, 2,
      { "queue_timeslots_attributes[1].day" } },
    { "UTC", 0, { 1, 2, 3, 4 }, { "9:00", "24:00", "12:60", "12-00" }, 4,
      { "queue_timeslots_attributes[0].time",
        "queue_timeslots_attributes[1].time",
        "queue_timeslots_attributes[2].time",
        "queue_timeslots_attributes[3].time" } },
    { "UTC", 0, { 1, 2, 3 }, { "", "09:00:00", " 9:00" }, 3,
      { "queue_timeslots_attributes[0].time",
        "queue_timeslots_attributes[1].time",
        "queue_timeslots_attributes[2].time" } },
    { "UTC", 0, { 1, 3, 1 }, { "09:00", "09:00", "09:00" }, 3,
      { "queue_timeslots_attributes[2]" } },
    /* every failing field at once */
    { "Nowhere/Land", 99, { 9, 1, 1, 2 }, { "09:00", "25:00", "10:00",
      "10:00" }, 4,
      { "timezone", "jitter", "queue_timeslots_attributes[0].day",
        "queue_timeslots_attributes[1].time" } },
};


static void
test_define_errors(void **state)
{
    size_t              i, k, nf;
    tt_queue_in_t       in;
    tt_queue_def_t      def;
    tt_queue_errs_t     errs;
    tt_queue_slot_in_t  s[4];

    for (i = 0; i < TT_ARRAY_SIZE(bad_defs); i++) {
        for (k = 0; k < bad_defs[i].nslots; k++) {
            s[k].day = bad_defs[i].days[k];
            s[k].time.data = bad_defs[i].times[k];
            s[k].time.len = strlen(bad_defs[i].times[k]);
        }

        memset(&in, 0, sizeof(in));
        in.timezone.data = bad_defs[i].zone;
        in.timezone.len = strlen(bad_defs[i].zone);
        in.jitter = bad_defs[i].jitter;
        in.slots = s;
        in.nslots = bad_defs[i].nslots;

        assert_int_equal(tt_queue_define(&in, &def, &errs), TT_INVALID);

        for (nf = 0; nf < 6 && bad_defs[i].fields[nf] != NULL; nf++) {
            /* counted */
        }

        assert_int_equal(errs.n, nf);
        for (k = 0; k < nf; k++) {
            assert_string_equal(errs.errs[k].field, bad_defs[i].fields[k]);
            assert_non_null(errs.errs[k].message);
        }
    }
}


static void
test_define_limits(void **state)
{
    size_t              i;
    char                times[TT_QUEUE_SLOTS_MAX + 1][6];
    tt_queue_in_t       in;
    tt_queue_def_t      def;
    tt_queue_errs_t     errs;
    tt_queue_slot_in_t  s[TT_QUEUE_SLOTS_MAX + 1];

    /* every half hour of the week: the most a queue holds */
    for (i = 0; i <= TT_QUEUE_SLOTS_MAX; i++) {
        tt_queue_format_time((unsigned) (i % 48) * 30, times[i]);
        s[i].day = (int64_t) (i / 48) % 7;
        s[i].time.data = times[i];
        s[i].time.len = 5;
    }

    memset(&in, 0, sizeof(in));
    in.timezone.data = "Europe/London";
    in.timezone.len = 13;
    in.jitter = 60;
    in.slots = s;
    in.nslots = TT_QUEUE_SLOTS_MAX;

    assert_int_equal(tt_queue_define(&in, &def, &errs), TT_OK);
    assert_int_equal(def.nslots, TT_QUEUE_SLOTS_MAX);

    in.nslots = TT_QUEUE_SLOTS_MAX + 1;
    assert_int_equal(tt_queue_define(&in, &def, &errs), TT_INVALID);
    assert_string_equal(errs.errs[0].field, "queue_timeslots_attributes");

    /* no timeslot is a valid definition; posts cannot be slotted */
    in.nslots = 0;
    assert_int_equal(tt_queue_define(&in, &def, &errs), TT_OK);
    assert_int_equal(def.nslots, 0);
}


typedef struct {
    const char     *zone;
    const char     *slots;
    const char     *now;
    const char     *expect[MAX_EXPECT];
} iter_case_t;


static const iter_case_t  iter_cases[] = {
    /* the seed's queue, from a Saturday: Monday, Wednesday, Friday, and
     * the next week */
    { "America/Los_Angeles", "1 09:00,3 13:00,5 18:00",
      "2026-12-05T12:00:00Z",
      { "2026-12-07T17:00:00Z", "2026-12-09T21:00:00Z",
        "2026-12-12T02:00:00Z", "2026-12-14T17:00:00Z" } },

    /* a slot at now is not after now */
    { "America/Los_Angeles", "1 09:00,3 13:00", "2026-12-07T17:00:00Z",
      { "2026-12-09T21:00:00Z", "2026-12-14T17:00:00Z" } },

    /* spring forward: 02:30 moves to 03:00, which 03:00 also is: once */
    { "America/Los_Angeles", "0 01:30,0 02:30,0 03:00",
      "2026-03-07T00:00:00Z",
      { "2026-03-08T09:30:00Z", "2026-03-08T10:00:00Z",
        "2026-03-15T08:30:00Z", "2026-03-15T09:30:00Z",
        "2026-03-15T10:00:00Z" } },

    /* fall back: 01:00 and 01:30 at their first occurrence only */
    { "America/Los_Angeles", "0 01:00,0 01:30,0 02:00",
      "2026-10-31T00:00:00Z",
      { "2026-11-01T08:00:00Z", "2026-11-01T08:30:00Z",
        "2026-11-01T10:00:00Z", "2026-11-08T09:00:00Z" } },

    /* now is in the second 01:00-02:00: the 01:30 slot was used */
    { "America/Los_Angeles", "0 01:30", "2026-11-01T09:10:00Z",
      { "2026-11-08T09:30:00Z" } },

    /* London */
    { "Europe/London", "0 01:30,0 09:00", "2026-03-28T00:00:00Z",
      { "2026-03-29T01:00:00Z", "2026-03-29T08:00:00Z",
        "2026-04-05T00:30:00Z" } },
    { "Europe/London", "0 01:30", "2026-10-24T00:00:00Z",
      { "2026-10-25T00:30:00Z", "2026-11-01T01:30:00Z" } },

    /* Lord Howe's half-hour: 02:15 is in the gap, 01:45 repeats */
    { "Australia/Lord_Howe", "0 02:15,0 02:30", "2026-10-01T00:00:00Z",
      { "2026-10-03T15:30:00Z", "2026-10-10T15:15:00Z",
        "2026-10-10T15:30:00Z" } },
    { "Australia/Lord_Howe", "0 01:45", "2026-04-01T00:00:00Z",
      { "2026-04-04T14:45:00Z", "2026-04-11T15:15:00Z" } },

    /* Kathmandu: +05:45, the local Monday starts on Sunday in UTC */
    { "Asia/Kathmandu", "1 00:00,1 09:00", "2026-12-05T00:00:00Z",
      { "2026-12-06T18:15:00Z", "2026-12-07T03:15:00Z",
        "2026-12-13T18:15:00Z" } },

    /* Chatham: 02:45 -> 03:45 on 27 September */
    { "Pacific/Chatham", "0 03:00,0 04:00", "2026-09-20T00:00:00Z",
      { "2026-09-26T14:00:00Z", "2026-09-26T14:15:00Z",
        "2026-10-03T13:15:00Z" } },

    /* Tokyo, no DST: the same UTC time all year */
    { "Asia/Tokyo", "0 02:30", "2026-03-01T00:00:00Z",
      { "2026-03-07T17:30:00Z", "2026-03-14T17:30:00Z",
        "2026-03-21T17:30:00Z" } },

    /* the week wraps: Saturday night to Sunday morning */
    { "Asia/Tokyo", "6 23:30,0 00:30", "2026-12-05T14:00:00Z",
      { "2026-12-05T14:30:00Z", "2026-12-05T15:30:00Z",
        "2026-12-12T14:30:00Z" } },
    { "Asia/Tokyo", "6 23:30,0 00:30", "2026-12-05T14:45:00Z",
      { "2026-12-05T15:30:00Z", "2026-12-12T14:30:00Z" } },

    /* a new year in the middle of a week */
    { "UTC", "4 12:00", "2026-12-30T00:00:00Z",
      { "2026-12-31T12:00:00Z", "2027-01-07T12:00:00Z" } },
};


static void
test_iter(void **state)
{
    size_t           i, k;
    char             got[TT_TIME_LEN + 1];
    int64_t          s;
    tt_tz_t         *tz;
    tt_queue_def_t   def;
    tt_queue_iter_t  it;

    for (i = 0; i < TT_ARRAY_SIZE(iter_cases); i++) {
        define(&def, iter_cases[i].zone, 0, iter_cases[i].slots);
        tz = open_zone(&def);

        assert_int_equal(tt_queue_iter_init(&it, &def, tz,
                                            ms_of(iter_cases[i].now)),
                         TT_OK);

        for (k = 0; k < MAX_EXPECT && iter_cases[i].expect[k] != NULL; k++) {
            assert_int_equal(tt_queue_iter_next(&it, &s), TT_OK);
            tt_time_format(s, got);
            if (strcmp(got, iter_cases[i].expect[k]) != 0) {
                print_error("%s \"%s\" after %s: #%zu is %s, want %s\n",
                            iter_cases[i].zone, iter_cases[i].slots,
                            iter_cases[i].now, k, got,
                            iter_cases[i].expect[k]);
                fail();
            }
        }

        tt_tz_close(tz);
    }
}


/* a long run is strictly increasing, every instant is a timeslot's */
static void
test_iter_long(void **state)
{
    size_t           i, k;
    int64_t          s, prev;
    tt_tz_t         *tz;
    tt_tz_tm_t       tm;
    tt_queue_def_t   def;
    tt_queue_iter_t  it;

    static const char  *zones[] = {
        "America/Los_Angeles", "Australia/Lord_Howe", "Pacific/Chatham",
        "Asia/Kathmandu", "America/Santiago",
    };

    for (i = 0; i < TT_ARRAY_SIZE(zones); i++) {
        define(&def, zones[i], 0, "0 00:00,0 02:15,0 02:45,3 12:00,6 23:59");
        tz = open_zone(&def);
        assert_int_equal(tt_queue_iter_init(&it, &def, tz,
                             ms_of("2026-01-01T00:00:00Z")), TT_OK);
        prev = 0;

        for (k = 0; k < 5 * 52 * 10; k++) {
            assert_int_equal(tt_queue_iter_next(&it, &s), TT_OK);
            assert_true(s > prev);
            prev = s;

            assert_int_equal(tt_tz_from_utc(tz, s, &tm), TT_OK);
            assert_true(tm.wday == 0 || tm.wday == 3 || tm.wday == 6);
        }

        tt_tz_close(tz);
    }

    /* no timeslot: nothing */
    define(&def, "UTC", 0, "");
    tz = open_zone(&def);
    assert_int_equal(tt_queue_iter_init(&it, &def, tz, 0), TT_OK);
    assert_int_equal(tt_queue_iter_next(&it, &s), TT_NOTFOUND);

    /* the end of time */
    define(&def, "UTC", 0, "4 12:00");          /* 9999-12-31: Friday */
    assert_int_equal(tt_queue_iter_init(&it, &def, tz,
                         ms_of("9999-12-31T00:00:00Z")), TT_OK);
    assert_int_equal(tt_queue_iter_next(&it, &s), TT_NOTFOUND);
    tt_tz_close(tz);
}


static void
test_next_free(void **state)
{
    int64_t          s, now, taken[4];
    tt_tz_t         *tz;
    tt_queue_def_t   def;

    define(&def, "America/Los_Angeles", 0, "1 09:00,3 13:00,5 18:00");
    tz = open_zone(&def);
    now = ms_of("2026-12-05T12:00:00Z");

    assert_int_equal(tt_queue_next_free(&def, tz, now, NULL, 0, &s), TT_OK);
    assert_int_equal(s, ms_of("2026-12-07T17:00:00Z"));

    /* taken: Monday, Wednesday (twice), a past instant and another one */
    taken[0] = ms_of("2026-12-01T00:00:00Z");
    taken[1] = ms_of("2026-12-07T17:00:00Z");
    taken[2] = ms_of("2026-12-09T21:00:00Z");
    taken[3] = ms_of("2026-12-09T21:00:00Z");
    assert_int_equal(tt_queue_next_free(&def, tz, now, taken, 4, &s), TT_OK);
    assert_int_equal(s, ms_of("2026-12-12T02:00:00Z"));

    /* a hole: Monday free, Wednesday taken */
    taken[1] = ms_of("2026-12-08T17:00:00Z");
    assert_int_equal(tt_queue_next_free(&def, tz, now, taken, 4, &s), TT_OK);
    assert_int_equal(s, ms_of("2026-12-07T17:00:00Z"));

    tt_tz_close(tz);

    define(&def, "UTC", 0, "");
    tz = open_zone(&def);
    assert_int_equal(tt_queue_next_free(&def, tz, now, NULL, 0, &s),
                     TT_NOTFOUND);
    tt_tz_close(tz);
}


/* the arrangement ------------------------------------------------------ */


typedef struct {
    tt_queue_def_t   def;
    tt_tz_t         *tz;
    tt_arena_t      *arena;
    tt_queue_rng_t   rng;
} fix_t;


static int
setup(void **state)
{
    fix_t  *f;

    f = calloc(1, sizeof(fix_t));
    assert_non_null(f);
    define(&f->def, "America/Los_Angeles", 0, "1 09:00,3 13:00,5 18:00");
    f->tz = open_zone(&f->def);
    f->arena = tt_arena_create(4096);
    assert_non_null(f->arena);
    f->rng.state = 42;
    *state = f;
    return 0;
}


static int
teardown(void **state)
{
    fix_t  *f = *state;

    tt_tz_close(f->tz);
    tt_arena_destroy(f->arena);
    free(f);
    return 0;
}


static tt_queue_post_t
post(uint64_t key, uint8_t priority, int64_t created)
{
    tt_queue_post_t  p;

    memset(&p, 0, sizeof(p));
    p.key = key;
    p.priority = priority;
    p.created = created;
    p.slot = TT_QUEUE_NO_SLOT;
    p.at = TT_QUEUE_NO_SLOT;
    return p;
}


static void
test_priority(void **state)
{
    fix_t            *f = *state;
    size_t            moved;
    int64_t           now;
    tt_queue_post_t   p[5];

    now = ms_of("2026-12-05T12:00:00Z");

    p[0] = post(1, TT_QUEUE_LOW, 1);
    p[1] = post(2, TT_QUEUE_MEDIUM, 2);
    p[2] = post(3, TT_QUEUE_HIGH, 3);
    p[3] = post(4, TT_QUEUE_MEDIUM, 1);     /* created before post 2 */

    assert_int_equal(tt_queue_arrange(&f->def, f->tz, now, p, 4, 0, &f->rng,
                                      f->arena, &moved), TT_OK);
    assert_int_equal(moved, 4);

    /* high, medium by creation, low; no jitter: at is the slot */
    assert_int_equal(p[2].slot, ms_of("2026-12-07T17:00:00Z"));
    assert_int_equal(p[3].slot, ms_of("2026-12-09T21:00:00Z"));
    assert_int_equal(p[1].slot, ms_of("2026-12-12T02:00:00Z"));
    assert_int_equal(p[0].slot, ms_of("2026-12-14T17:00:00Z"));
    assert_int_equal(p[0].at, p[0].slot);

    /* arranged again, nothing moves */
    assert_int_equal(tt_queue_arrange(&f->def, f->tz, now, p, 4, 0, &f->rng,
                                      f->arena, &moved), TT_OK);
    assert_int_equal(moved, 0);

    /* a medium post added last: the only one to move, after the mediums */
    p[4] = post(5, TT_QUEUE_MEDIUM, 5);
    assert_int_equal(tt_queue_add(&f->def, f->tz, now, p, 5, 0, &f->rng,
                                  f->arena, &moved), TT_OK);
    assert_int_equal(moved, 2);
    assert_int_equal(p[4].slot, ms_of("2026-12-14T17:00:00Z"));
    assert_int_equal(p[0].slot, ms_of("2026-12-16T21:00:00Z"));
    assert_int_equal(p[0].moved, 1);
    assert_int_equal(p[1].moved, 0);
}


static void
test_high_moves_lower(void **state)
{
    fix_t            *f = *state;
    size_t            moved, i;
    int64_t           now, before[4];
    tt_queue_post_t   p[5];

    now = ms_of("2026-12-05T12:00:00Z");

    for (i = 0; i < 4; i++) {
        p[i] = post(i + 1, TT_QUEUE_MEDIUM, (int64_t) i);
    }

    assert_int_equal(tt_queue_arrange(&f->def, f->tz, now, p, 4, 0, &f->rng,
                                      f->arena, &moved), TT_OK);
    for (i = 0; i < 4; i++) {
        before[i] = p[i].slot;
    }

    /* a high-priority post takes the first slot; each other moves one */
    p[4] = post(5, TT_QUEUE_HIGH, 10);
    assert_int_equal(tt_queue_add(&f->def, f->tz, now, p, 5, 0, &f->rng,
                                  f->arena, &moved), TT_OK);
    assert_int_equal(moved, 5);
    assert_int_equal(p[4].slot, before[0]);
    for (i = 0; i < 3; i++) {
        assert_int_equal(p[i].slot, before[i + 1]);
    }
    assert_int_equal(p[3].slot, ms_of("2026-12-16T21:00:00Z"));
}


static void
test_started_never_move(void **state)
{
    fix_t            *f = *state;
    size_t            moved;
    int64_t           now;
    tt_queue_post_t   p[3];

    now = ms_of("2026-12-05T12:00:00Z");

    /* a low post that started publishing holds Monday's slot */
    p[0] = post(1, TT_QUEUE_LOW, 1);
    p[0].slot = ms_of("2026-12-07T17:00:00Z");
    p[0].at = ms_of("2026-12-07T16:55:00Z");
    p[0].started = 1;
    p[1] = post(2, TT_QUEUE_HIGH, 2);
    p[2] = post(3, TT_QUEUE_HIGH, 3);

    assert_int_equal(tt_queue_arrange(&f->def, f->tz, now, p, 3, 0, &f->rng,
                                      f->arena, &moved), TT_OK);
    assert_int_equal(moved, 2);
    assert_int_equal(p[0].slot, ms_of("2026-12-07T17:00:00Z"));
    assert_int_equal(p[0].at, ms_of("2026-12-07T16:55:00Z"));
    assert_int_equal(p[0].moved, 0);
    assert_int_equal(p[1].slot, ms_of("2026-12-09T21:00:00Z"));
    assert_int_equal(p[2].slot, ms_of("2026-12-12T02:00:00Z"));
}


static void
test_due_and_paused(void **state)
{
    fix_t            *f = *state;
    size_t            moved;
    int64_t           now;
    tt_queue_post_t   p[3];

    /* Wednesday 13:05: Monday's post is overdue (the queue was paused),
     * Wednesday's slot passed but its jittered time has not */
    now = ms_of("2026-12-09T21:05:00Z");

    p[0] = post(1, TT_QUEUE_MEDIUM, 1);
    p[0].slot = ms_of("2026-12-07T17:00:00Z");
    p[0].at = p[0].slot;
    p[1] = post(2, TT_QUEUE_MEDIUM, 2);
    p[1].slot = ms_of("2026-12-09T21:00:00Z");
    p[1].at = ms_of("2026-12-09T21:08:00Z");
    p[2] = post(3, TT_QUEUE_MEDIUM, 3);

    /* without the flag, the due post waits for the scheduler */
    assert_int_equal(tt_queue_arrange(&f->def, f->tz, now, p, 3, 0, &f->rng,
                                      f->arena, &moved), TT_OK);
    assert_int_equal(moved, 1);
    assert_int_equal(p[0].slot, ms_of("2026-12-07T17:00:00Z"));
    assert_int_equal(p[1].at, ms_of("2026-12-09T21:08:00Z"));
    assert_int_equal(p[2].slot, ms_of("2026-12-12T02:00:00Z"));

    /* enabled again: the overdue post takes the first future slot */
    assert_int_equal(tt_queue_arrange(&f->def, f->tz, now, p, 3,
                                      TT_QUEUE_RESLOT_DUE, &f->rng,
                                      f->arena, &moved), TT_OK);
    assert_int_equal(moved, 2);
    assert_int_equal(p[0].slot, ms_of("2026-12-12T02:00:00Z"));
    assert_int_equal(p[1].at, ms_of("2026-12-09T21:08:00Z"));
    assert_int_equal(p[2].slot, ms_of("2026-12-14T17:00:00Z"));
}


static void
test_no_slots(void **state)
{
    fix_t            *f = *state;
    size_t            moved;
    tt_tz_t          *tz;
    tt_queue_def_t    def;
    tt_queue_post_t   p[1];

    define(&def, "UTC", 0, "");
    tz = open_zone(&def);
    p[0] = post(1, TT_QUEUE_MEDIUM, 1);
    assert_int_equal(tt_queue_arrange(&def, tz, 0, p, 1, 0, &f->rng,
                                      f->arena, &moved), TT_NOTFOUND);
    assert_int_equal(tt_queue_add(&def, tz, 0, p, 1, 0, &f->rng, f->arena,
                                  &moved), TT_NOTFOUND);

    /* no posts: nothing to do */
    assert_int_equal(tt_queue_arrange(&def, tz, 0, p, 0, 0, &f->rng,
                                      f->arena, &moved), TT_OK);
    assert_int_equal(moved, 0);
    tt_tz_close(tz);
}


static void
test_jitter(void **state)
{
    fix_t            *f = *state;
    size_t            moved, i, n;
    int64_t           now, at0, seen_lo, seen_hi;
    int64_t           slots_of[300], ats_of[300];
    tt_queue_post_t  *p;

    n = 300;
    p = calloc(n + 1, sizeof(tt_queue_post_t));
    assert_non_null(p);

    define(&f->def, "America/Los_Angeles", 10, "1 09:00,3 13:00,5 18:00");
    now = ms_of("2026-12-05T12:00:00Z");

    for (i = 0; i < n; i++) {
        p[i] = post(i + 1, TT_QUEUE_MEDIUM, (int64_t) i);
    }

    assert_int_equal(tt_queue_arrange(&f->def, f->tz, now, p, n, 0, &f->rng,
                                      f->arena, &moved), TT_OK);

    /* whole minutes within +/-10, both ends met, slots in order */
    seen_lo = seen_hi = 0;
    for (i = 0; i < n; i++) {
        assert_true(p[i].at >= p[i].slot - 10 * TT_TZ_MIN_MS);
        assert_true(p[i].at <= p[i].slot + 10 * TT_TZ_MIN_MS);
        assert_int_equal((p[i].at - p[i].slot) % TT_TZ_MIN_MS, 0);
        seen_lo += p[i].at == p[i].slot - 10 * TT_TZ_MIN_MS;
        seen_hi += p[i].at == p[i].slot + 10 * TT_TZ_MIN_MS;
        if (i > 0) {
            assert_true(p[i].slot > p[i - 1].slot);
        }
    }
    assert_true(seen_lo > 0 && seen_hi > 0);

    /* a post whose slot changes draws again: the times now differ from
     * the old ones shifted by one slot (a few may match by chance) */
    at0 = 0;
    for (i = 0; i + 1 < n; i++) {
        slots_of[i] = p[i + 1].slot;
        ats_of[i] = p[i + 1].at;
    }
    p[n] = post(n + 1, TT_QUEUE_HIGH, 0);
    assert_int_equal(tt_queue_add(&f->def, f->tz, now, p, n + 1, 0,
                                  &f->rng, f->arena, &moved), TT_OK);
    assert_int_equal(moved, n + 1);
    assert_int_equal(p[n].slot, ms_of("2026-12-07T17:00:00Z"));
    for (i = 0; i + 1 < n; i++) {
        assert_int_equal(p[i].slot, slots_of[i]);
        at0 += p[i].at == ats_of[i];
    }
    assert_true(at0 < (int64_t) n / 4);

    at0 = p[5].at;
    assert_int_equal(tt_queue_arrange(&f->def, f->tz, now, p, n + 1, 0,
                                      &f->rng, f->arena, &moved), TT_OK);
    assert_int_equal(moved, 0);
    assert_int_equal(p[5].at, at0);

    /* a smaller jitter: times outside it are drawn again */
    define(&f->def, "America/Los_Angeles", 2, "1 09:00,3 13:00,5 18:00");
    assert_int_equal(tt_queue_arrange(&f->def, f->tz, now, p, n + 1, 0,
                                      &f->rng, f->arena, &moved), TT_OK);
    assert_true(moved > 0);
    for (i = 0; i <= n; i++) {
        assert_true(p[i].at >= p[i].slot - 2 * TT_TZ_MIN_MS);
        assert_true(p[i].at <= p[i].slot + 2 * TT_TZ_MIN_MS);
    }

    free(p);
}


/* a slot 3 minutes away with jitter 10: never before now */
static void
test_jitter_not_before_now(void **state)
{
    fix_t            *f = *state;
    size_t            moved, i;
    int64_t           now;
    tt_queue_post_t   p[1];

    define(&f->def, "America/Los_Angeles", 10, "1 09:00");
    now = ms_of("2026-12-07T16:57:00Z");

    for (i = 0; i < 200; i++) {
        p[0] = post(1, TT_QUEUE_MEDIUM, 1);
        f->rng.state = i;
        assert_int_equal(tt_queue_arrange(&f->def, f->tz, now, p, 1, 0,
                                          &f->rng, f->arena, &moved), TT_OK);
        assert_int_equal(p[0].slot, ms_of("2026-12-07T17:00:00Z"));
        assert_true(p[0].at >= now);
        assert_true(p[0].at <= p[0].slot + 10 * TT_TZ_MIN_MS);
    }

    /* kept, it would be past now: drawn again */
    p[0].at = ms_of("2026-12-07T16:51:00Z");
    assert_int_equal(tt_queue_arrange(&f->def, f->tz, now, p, 1,
                                      TT_QUEUE_RESLOT_DUE, &f->rng, f->arena,
                                      &moved), TT_OK);
    assert_int_equal(moved, 1);
    assert_true(p[0].at >= now);
}


/*
 * a post whose slot is now, its time 5 minutes later (a positive
 * jitter): it publishes within minutes and keeps both, slot and time,
 * even when due posts are slotted again
 */
static void
test_slot_now_kept(void **state)
{
    fix_t            *f = *state;
    size_t            moved;
    int64_t           now;
    tt_queue_post_t   p[1];

    define(&f->def, "America/Los_Angeles", 10, "1 09:00,3 13:00");
    now = ms_of("2026-12-07T17:00:00Z");

    p[0] = post(1, TT_QUEUE_MEDIUM, 1);
    p[0].slot = now;
    p[0].at = now + 5 * 60000;

    assert_int_equal(tt_queue_arrange(&f->def, f->tz, now, p, 1,
                                      TT_QUEUE_RESLOT_DUE, &f->rng, f->arena,
                                      &moved), TT_OK);
    assert_int_equal(moved, 0);
    assert_int_equal(p[0].slot, now);
    assert_int_equal(p[0].at, now + 5 * 60000);

    /* a millisecond later the same holds */
    assert_int_equal(tt_queue_arrange(&f->def, f->tz, now + 1, p, 1,
                                      TT_QUEUE_RESLOT_DUE, &f->rng, f->arena,
                                      &moved), TT_OK);
    assert_int_equal(p[0].slot, now);
}


/*
 * tt_queue_add gives what tt_queue_arrange gives, on random queues that
 * were arranged and then saw time pass and posts start.
 */
static void
test_add_is_arrange(void **state)
{
    fix_t            *f = *state;
    size_t            moved, i, n, round;
    int64_t           now;
    tt_queue_rng_t    r1, r2, pick;
    tt_queue_post_t   a[41], b[41];

    define(&f->def, "Australia/Lord_Howe", 15,
           "0 02:15,0 09:00,2 12:00,4 18:30");
    pick.state = 7;

    for (round = 0; round < 300; round++) {
        n = 1 + (size_t) (pick.state % 40);
        now = ms_of("2026-09-01T00:00:00Z");

        for (i = 0; i < n; i++) {
            a[i] = post(i + 1, (uint8_t) (pick.state >> (i % 60) & 3) % 3,
                        (int64_t) (i * 7 % 13));
        }

        r1.state = round;
        assert_int_equal(tt_queue_arrange(&f->def, f->tz, now, a, n, 0,
                                          &r1, f->arena, &moved), TT_OK);

        /* time passes; some posts start */
        now += (int64_t) (round % 11) * TT_TZ_DAY_MS;
        for (i = 0; i < n; i++) {
            a[i].started = a[i].at <= now && i % 2 == 0;
        }

        a[n] = post(n + 1, (uint8_t) (round % 3), 20);
        memcpy(b, a, sizeof(a));
        r1.state = r2.state = round * 31;

        assert_int_equal(tt_queue_add(&f->def, f->tz, now, a, n + 1, 0, &r1,
                                      f->arena, &moved), TT_OK);
        assert_int_equal(tt_queue_arrange(&f->def, f->tz, now, b, n + 1, 0,
                                          &r2, f->arena, &moved), TT_OK);

        for (i = 0; i <= n; i++) {
            assert_int_equal(a[i].slot, b[i].slot);
            assert_int_equal(a[i].at, b[i].at);
        }

        pick.state = pick.state * 6364136223846793005ULL
                     + 1442695040888963407ULL;
    }
}


static int
cmp_int64(const void *a, const void *b)
{
    int64_t  x = *(const int64_t *) a, y = *(const int64_t *) b;

    return (x > y) - (x < y);
}


static void
test_many(void **state)
{
    fix_t            *f = *state;
    size_t            moved, i, n;
    int64_t           now, *slots;
    tt_queue_post_t  *p;

    n = 10000;
    p = calloc(n, sizeof(tt_queue_post_t));
    slots = calloc(n, sizeof(int64_t));
    assert_non_null(p);
    assert_non_null(slots);

    define(&f->def, "Europe/London", 30, "0 01:30,1 09:00,2 09:00,3 09:00,"
           "4 09:00,5 09:00,6 12:00");
    now = ms_of("2026-12-05T12:00:00Z");

    for (i = 0; i < n; i++) {
        p[i] = post(i + 1, (uint8_t) (i % 3), (int64_t) (n - i));
    }

    assert_int_equal(tt_queue_arrange(&f->def, f->tz, now, p, n, 0, &f->rng,
                                      f->arena, &moved), TT_OK);
    assert_int_equal(moved, n);

    /* every slot distinct; in the order of priority then creation */
    for (i = 0; i < n; i++) {
        slots[i] = p[i].slot;
        assert_true(p[i].at >= now);
        if (i >= 3) {
            assert_true(p[i].slot < p[i - 3].slot);
        }
    }

    qsort(slots, n, sizeof(int64_t), cmp_int64);
    for (i = 1; i < n; i++) {
        assert_true(slots[i] > slots[i - 1]);
    }

    free(slots);
    free(p);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_define),
        cmocka_unit_test(test_define_errors),
        cmocka_unit_test(test_define_limits),
        cmocka_unit_test(test_iter),
        cmocka_unit_test(test_iter_long),
        cmocka_unit_test(test_next_free),
        cmocka_unit_test_setup_teardown(test_priority, setup, teardown),
        cmocka_unit_test_setup_teardown(test_high_moves_lower, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_started_never_move, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_due_and_paused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_slots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jitter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slot_now_kept, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_jitter_not_before_now, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_add_is_arrange, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_many, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
