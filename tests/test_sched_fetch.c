/*
 * Copyright (C) the ngx_tiktok authors.
 * Unit tests of the downloads' protocol (sched_fetch.h): the child's
 * lines, the quota counted from them, the report read back, and what
 * each outcome means for the media, in the words of error_message.  The
 * file under test is included here, with the few functions of the
 * daemon it calls stubbed; nothing is spawned.
 */

#include "tt_test.h"
#include "../scheduler/sched_fetch.c"


/* stubs of what sched_log.c, sched_loop.c, sched_txn.c, sched_child.c,
 * sched_spool.c and sched_job.c define */

int  sched_log_level = SCHED_LOG_ERR;

static int64_t  room_left;              /* the spool's, -1 no quota */


void
sched_log(int level, const char *fmt, ...)
{
}


int
sched_loop_add(sched_t *s, int fd, uint32_t events, sched_io_pt h,
    void *data)
{
    return SCHED_OK;
}


int
sched_loop_del(sched_t *s, int fd)
{
    return SCHED_OK;
}


int
sched_spool_reserve(sched_t *s, int64_t bytes)
{
    if (room_left < 0) {
        return SCHED_OK;
    }

    if (bytes > room_left) {
        return SCHED_ERR;
    }

    room_left -= bytes;
    return SCHED_OK;
}


void
sched_spool_unreserve(sched_t *s, int64_t bytes)
{
    if (room_left >= 0) {
        room_left += bytes;
    }
}


char *
sched_spool_path(sched_t *s, const char *name, const char *suffix,
    tt_arena_t *a)
{
    return NULL;
}


void
sched_spool_added(sched_t *s, const char *name, int64_t size)
{
}


int64_t
sched_spool_fresh(sched_t *s)
{
    return 0;
}


int
sched_loop_hook(sched_t *s, const sched_hook_t *h)
{
    return SCHED_OK;
}


void
sched_spool_on_busy(sched_t *s, int (*busy)(sched_t *s, const char *name))
{
}


int
sched_spawn(char *const argv[], pid_t *pid, int *fd)
{
    return SCHED_ERR;
}


void
sched_reap(sched_t *s, pid_t pid)
{
}


void
sched_reap_all(sched_t *s)
{
}


int
sched_job_stale(sched_t *s, sched_job_t *j, tt_txn_t *t)
{
    return 0;
}


int
sched_read_begin(sched_t *s, tt_txn_t *t, tt_txn_t **use)
{
    return SCHED_ERR;
}


void
sched_read_end(sched_t *s, tt_txn_t *t, tt_txn_t *use)
{
}


const char *
curl_easy_strerror(CURLcode rc)
{
    return "curl's message";
}


/* the fixture: a download as sched_fetch_new makes it, no child */

typedef struct {
    sched_t         s;
    sched_fetch_t   f;
} env_t;


static int
setup(void **state)
{
    env_t  *e;

    e = calloc(1, sizeof(env_t));
    assert_non_null(e);

    e->f.s = &e->s;
    e->f.pid = -1;
    e->f.fd = -1;
    e->f.length = -1;
    e->f.max = (int64_t) 4 * 1024 * 1024 * 1024;
    tt_buf_init(&e->f.out);
    tt_buf_init(&e->f.report);
    e->f.arena = tt_arena_create(1024);
    assert_non_null(e->f.arena);

    room_left = -1;
    *state = e;

    return 0;
}


static int
teardown(void **state)
{
    env_t  *e = *state;

    tt_buf_free(&e->f.out);
    tt_buf_free(&e->f.report);
    tt_arena_destroy(e->f.arena);
    free(e);

    return 0;
}


static int
line(env_t *e, const char *s)
{
    return sched_fetch_line(&e->f, s, strlen(s));
}


/* what a download's end means, from the child's last line */
static void
outcome(env_t *e, const char *report, sched_fetch_out_t *o)
{
    e->f.report.len = 0;

    if (report) {
        assert_int_equal(line(e, report), SCHED_OK);
    }

    sched_fetch_outcome(&e->f, o);
}


static void
test_lines(void **state)
{
    env_t  *e = *state;

    assert_int_equal(line(e, "length 5000000"), SCHED_OK);
    assert_int_equal(e->f.length, 5000000);

    /* the first bytes take the whole announced length */
    assert_int_equal(line(e, "got 16384"), SCHED_OK);
    assert_int_equal(e->f.got, 16384);
    assert_int_equal(e->f.reserved, 5000000);

    /* past it (a server that lied): a block ahead of the bytes */
    assert_int_equal(line(e, "got 6000000"), SCHED_OK);
    assert_int_equal(e->f.reserved, 6000000 + SCHED_FETCH_BLOCK);

    /* the report is kept whole, as the last line */
    assert_int_equal(line(e, "{\"result\":0}"), SCHED_OK);
    assert_int_equal(e->f.report.len, strlen("{\"result\":0}"));

    /* what the child never says */
    assert_int_equal(line(e, "hello"), SCHED_ERR);
    assert_int_equal(line(e, "got -1"), SCHED_ERR);
    assert_int_equal(line(e, "got 12x"), SCHED_ERR);
    assert_int_equal(line(e, "got "), SCHED_ERR);
    assert_int_equal(line(e, "length 99999999999999999999"), SCHED_ERR);
    assert_int_equal(line(e, ""), SCHED_ERR);
    assert_false(e->f.no_room);
}


static void
test_quota(void **state)
{
    env_t              *e = *state;
    sched_fetch_out_t   o;

    e->s.conf.spool_quota = 3 * SCHED_FETCH_BLOCK;
    room_left = 3 * SCHED_FETCH_BLOCK;

    /* no length announced: a block ahead at a time */
    assert_int_equal(line(e, "got 1048576"), SCHED_OK);
    assert_int_equal(e->f.reserved, 2 * SCHED_FETCH_BLOCK);

    /* the block ahead does not fit, the bytes do */
    assert_int_equal(line(e, "got 3000000"), SCHED_OK);
    assert_int_equal(e->f.reserved, 3000000);

    /* past the quota: the child is to be killed, the media fails so */
    assert_int_equal(line(e, "got 3200000"), SCHED_ERR);
    assert_true(e->f.no_room);
    assert_true(e->f.over_quota);

    outcome(e, NULL, &o);
    assert_true(o.no_room);
    assert_false(o.ok);

    /* what was taken goes back with the download */
    sched_spool_unreserve(&e->s, e->f.reserved);
    assert_int_equal(room_left, 3 * SCHED_FETCH_BLOCK);
}


/* a larger file than the room left, but not than the quota: it may fit
 * after the sweep, so it is not "over the quota" */
static void
test_quota_room(void **state)
{
    env_t  *e = *state;

    e->s.conf.spool_quota = 100 * SCHED_FETCH_BLOCK;
    room_left = SCHED_FETCH_BLOCK;

    assert_int_equal(line(e, "length 5000000"), SCHED_OK);
    assert_int_equal(line(e, "got 2000000"), SCHED_ERR);
    assert_true(e->f.no_room);
    assert_false(e->f.over_quota);
}


static void
test_outcomes(void **state)
{
    env_t              *e = *state;
    sched_fetch_out_t   o;

    /* done: the bytes the lines counted, the type for the media */
    e->f.got = 1234;
    outcome(e, "{\"result\":0,\"status\":200,\"bytes\":1234,"
            "\"too_big\":false,\"write_error\":false,"
            "\"content_type\":\"video/mp4\",\"refused\":null,"
            "\"error\":null,\"total_ms\":5,\"connected\":true}", &o);
    assert_true(o.ok);
    assert_int_equal(o.bytes, 1234);
    assert_string_equal(o.content_type, "video/mp4");

    /* the lines and the report disagree: not trusted, tried again */
    outcome(e, "{\"result\":0,\"status\":200,\"bytes\":999,"
            "\"content_type\":null,\"refused\":null,\"error\":null,"
            "\"total_ms\":5}", &o);
    assert_false(o.ok);
    assert_true(o.retry);
    assert_string_equal(o.msg, "downloading the media failed: the "
                        "download's size is not what was written");

    /* the guard: its sentence, never again */
    outcome(e, "{\"result\":7,\"status\":0,\"bytes\":0,"
            "\"content_type\":null,\"refused\":\"the media URL resolves "
            "to 127.0.0.1, a loopback address\",\"error\":\"x\","
            "\"total_ms\":0}", &o);
    assert_false(o.retry);
    assert_string_equal(o.msg, "the media URL resolves to 127.0.0.1, a "
                        "loopback address");

    /* a refused connection without the guard: again later */
    outcome(e, "{\"result\":7,\"status\":0,\"bytes\":0,"
            "\"content_type\":null,\"refused\":null,"
            "\"error\":\"Failed to connect\",\"total_ms\":0}", &o);
    assert_true(o.retry);
    assert_string_equal(o.msg, "downloading the media failed: Failed to "
                        "connect");

    /* HTTP: 404 is final, 503 and 429 are not */
    outcome(e, "{\"result\":22,\"status\":404,\"bytes\":0,"
            "\"content_type\":null,\"refused\":null,\"error\":null,"
            "\"total_ms\":1}", &o);
    assert_false(o.retry);
    assert_string_equal(o.msg, "downloading the media failed: HTTP 404");

    outcome(e, "{\"result\":22,\"status\":503,\"bytes\":0,"
            "\"content_type\":null,\"refused\":null,\"error\":null,"
            "\"total_ms\":1}", &o);
    assert_true(o.retry);

    outcome(e, "{\"result\":22,\"status\":429,\"bytes\":0,"
            "\"content_type\":null,\"refused\":null,\"error\":null,"
            "\"total_ms\":1}", &o);
    assert_true(o.retry);

    /* redirects */
    outcome(e, "{\"result\":47,\"status\":302,\"bytes\":0,"
            "\"content_type\":null,\"refused\":null,\"error\":null,"
            "\"total_ms\":1}", &o);
    assert_false(o.retry);
    assert_string_equal(o.msg, "downloading the media failed: more than 5 "
                        "redirects (a redirect loop?)");

    outcome(e, "{\"result\":1,\"status\":302,\"bytes\":0,"
            "\"content_type\":null,\"refused\":null,\"error\":null,"
            "\"total_ms\":1}", &o);
    assert_string_equal(o.msg, "downloading the media failed: it redirects "
                        "to a URL that is not http or https");

    /* time: the whole hour, the connect, a stall */
    outcome(e, "{\"result\":28,\"status\":200,\"bytes\":10,"
            "\"content_type\":null,\"refused\":null,\"error\":null,"
            "\"total_ms\":3600000,\"connected\":true}", &o);
    assert_false(o.retry);
    assert_string_equal(o.msg, "downloading the media failed: it took "
                        "longer than 60 minutes");

    outcome(e, "{\"result\":28,\"status\":0,\"bytes\":0,"
            "\"content_type\":null,\"refused\":null,\"error\":null,"
            "\"total_ms\":10000,\"connected\":false}", &o);
    assert_true(o.retry);
    assert_string_equal(o.msg, "downloading the media failed: connecting "
                        "to its host timed out");

    outcome(e, "{\"result\":28,\"status\":200,\"bytes\":1024,"
            "\"content_type\":null,\"refused\":null,\"error\":null,"
            "\"total_ms\":31000,\"connected\":true}", &o);
    assert_false(o.retry);
    assert_string_equal(o.msg, "downloading the media failed: it stalled, "
                        "no data for 30 s");

    /* the cap, and the spool's disk */
    outcome(e, "{\"result\":63,\"status\":200,\"bytes\":0,"
            "\"too_big\":true,\"content_type\":null,\"refused\":null,"
            "\"error\":null,\"total_ms\":1}", &o);
    assert_true(o.too_big);

    outcome(e, "{\"result\":23,\"status\":200,\"bytes\":100,"
            "\"write_error\":true,\"content_type\":null,\"refused\":null,"
            "\"error\":\"the spool file could not be written: No space "
            "left on device\",\"total_ms\":1}", &o);
    assert_true(o.retry);
    assert_string_equal(o.msg, "downloading the media failed: the spool "
                        "file could not be written: No space left on "
                        "device");

    /* no curl message: curl's own words for the code */
    outcome(e, "{\"result\":6,\"status\":0,\"bytes\":0,"
            "\"content_type\":null,\"refused\":null,\"error\":null,"
            "\"total_ms\":1}", &o);
    assert_true(o.retry);
    assert_string_equal(o.msg, "downloading the media failed: curl's "
                        "message");
}


/* a child that said nothing whole: killed, crashed, or garbled */
static void
test_no_report(void **state)
{
    env_t              *e = *state;
    sched_fetch_out_t   o;

    outcome(e, NULL, &o);
    assert_true(o.retry);
    assert_string_equal(o.msg, "downloading the media failed: the download "
                        "process ended without an answer");

    /* a report of the wrong shape is none */
    outcome(e, "{\"result\":\"0\",\"status\":200,\"bytes\":0,"
            "\"content_type\":null,\"refused\":null,\"error\":null,"
            "\"total_ms\":1}", &o);
    assert_true(o.retry);
    assert_false(o.ok);

    outcome(e, "{\"result\":0,\"status\":200,\"bytes\":0,"
            "\"content_type\":5,\"refused\":null,\"error\":null,"
            "\"total_ms\":1}", &o);
    assert_false(o.ok);

    outcome(e, "{\"result\":0", &o);
    assert_false(o.ok);

    /* killed at the daemon's deadline */
    e->f.timed_out = 1;
    outcome(e, NULL, &o);
    assert_false(o.retry);
    assert_string_equal(o.msg, "downloading the media failed: it took "
                        "longer than 60 minutes");

    /* garbled output: whatever came after is not believed */
    e->f.timed_out = 0;
    e->f.garbled = 1;
    e->f.got = 0;
    outcome(e, "{\"result\":0,\"status\":200,\"bytes\":0,"
            "\"content_type\":null,\"refused\":null,\"error\":null,"
            "\"total_ms\":1}", &o);
    assert_false(o.ok);
    assert_true(o.retry);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quota, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quota_room, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_report, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
