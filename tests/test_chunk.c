/*
 * Copyright (C) the ngx_tiktok authors.
 * Unit tests of the chunk plan (tiktok-api.md section 6).
 */

#include "tt_test.h"
#include "tt_chunk.h"


/*
 * every rule of section 6 holds for the plan, with TikTok's numbers
 * written here rather than the constants under test: at most 1,000
 * chunks, each 5 MB (the strict 5 MiB reading) to 64 MB, the last up to
 * 128 MB, a video over 64 MB in 2 chunks at least
 */
static void
check_rules(const tt_chunk_plan_t *p)
{
    int64_t  i, first, len, next;

    assert_true(p->count >= 1);
    assert_true(p->count <= 1000);
    assert_int_equal(p->count, p->video_size / p->chunk_size);

    if (p->count == 1) {
        assert_int_equal(p->chunk_size, p->video_size);
    }

    if (p->video_size > 64000000) {
        assert_true(p->count >= 2);
    }

    next = 0;

    for (i = 0; i < p->count; i++) {
        tt_chunk_range(p, i, &first, &len);
        assert_int_equal(first, next);
        assert_int_equal(tt_chunk_at(p, first), i);

        if (i < p->count - 1) {
            assert_int_equal(len, p->chunk_size);
            assert_true(len >= 5242880);
            assert_true(len <= 64000000);

        } else {
            assert_true(len >= p->chunk_size);
            assert_true(len <= 128000000);
        }

        next = first + len;
    }

    assert_int_equal(next, p->video_size);
}


static void
plan(int64_t size, int64_t want, int64_t cs, int64_t count)
{
    tt_chunk_plan_t  p;

    assert_int_equal(tt_chunk_plan(size, want, &p), TT_OK);
    assert_int_equal(p.video_size, size);
    assert_int_equal(p.chunk_size, cs);
    assert_int_equal(p.count, count);
    check_rules(&p);
}


static void
test_small_whole(void **state)
{
    plan(1, 0, 1, 1);
    plan(4194304, 0, 4194304, 1);
    plan(5242879, 0, 5242879, 1);
    plan(5242879, 5242880, 5242879, 1);
}


static void
test_boundaries(void **state)
{
    /* 5 MiB exactly: floor(5242880 / 10e6) = 0 -> whole */
    plan(5242880, 0, 5242880, 1);
    /* with 5 MiB chunks it is exactly one chunk */
    plan(5242880, 5242880, 5242880, 1);
    /* 64,000,000 with the default 10e6: six chunks, last 14e6 */
    plan(64000000, 0, 10000000, 6);
    /* 64,000,000 whole when the chunk size is 64e6 */
    plan(64000000, 64000000, 64000000, 1);
    /* 64,000,001 must be split even with 64e6 chunks */
    plan(64000001, 64000000, 32000000, 2);
    plan(64000001, 0, 10000000, 6);
}


static void
test_doc_example(void **state)
{
    tt_chunk_plan_t  p;
    int64_t          first, len;

    plan(50000123, 10000000, 10000000, 5);

    assert_int_equal(tt_chunk_plan(50000123, 0, &p), TT_OK);
    tt_chunk_range(&p, 4, &first, &len);
    assert_int_equal(first, 40000000);
    assert_int_equal(len, 10000123);
    tt_chunk_range(&p, 1, &first, &len);
    assert_int_equal(first, 10000000);
    assert_int_equal(len, 10000000);
}


static void
test_multi_small_chunks(void **state)
{
    /* the e2e case: 12 MB with 5 MiB chunks -> 2 chunks, last 6.75 MB */
    plan(12000000, 5242880, 5242880, 2);
    /* below 2 chunks: whole */
    plan(9000000, 5242880, 9000000, 1);
}


static void
test_clamp(void **state)
{
    assert_int_equal(tt_chunk_size_clamp(0), TT_CHUNK_DEFAULT);
    assert_int_equal(tt_chunk_size_clamp(-5), TT_CHUNK_DEFAULT);
    assert_int_equal(tt_chunk_size_clamp(1000), 5242880);
    assert_int_equal(tt_chunk_size_clamp(5242879), 5242880);
    assert_int_equal(tt_chunk_size_clamp(5242880), 5242880);
    assert_int_equal(tt_chunk_size_clamp(99000000), 64000000);
    assert_int_equal(tt_chunk_size_clamp(64000001), 64000000);
    assert_int_equal(tt_chunk_size_clamp(64000000), 64000000);
    assert_int_equal(tt_chunk_size_clamp(7000000), 7000000);

    /* a tiny configured size still gives >= 5 MiB chunks */
    plan(20000000, 1, 5242880, 3);
}


static void
test_large(void **state)
{
    tt_chunk_plan_t  p;
    int64_t          size;

    /* 4 GB decimal and 4 GiB */
    plan(4000000000LL, 0, 10000000, 400);
    plan(4294967296LL, 0, 10000000, 429);
    plan(4294967296LL, 5242880, 5242880, 819);
    plan(4294967296LL, 64000000, 64000000, 67);

    /* every size around the edges obeys the rules */
    for (size = 5242870; size < 5242890; size++) {
        assert_int_equal(tt_chunk_plan(size, 5242880, &p), TT_OK);
        check_rules(&p);
    }

    for (size = 127999990; size < 128000010; size++) {
        assert_int_equal(tt_chunk_plan(size, 64000000, &p), TT_OK);
        check_rules(&p);
    }
}


static void
test_invalid(void **state)
{
    tt_chunk_plan_t  p;

    assert_int_equal(tt_chunk_plan(0, 0, &p), TT_INVALID);
    assert_int_equal(tt_chunk_plan(-1, 0, &p), TT_INVALID);
    /* 4 GiB is the largest video; the smallest chunks make 819 of them */
    assert_int_equal(tt_chunk_plan(4294967297LL, 0, &p), TT_INVALID);
    assert_int_equal(tt_chunk_plan(4294967296LL, 1, &p), TT_OK);
    check_rules(&p);
}


static void
test_chunk_at(void **state)
{
    tt_chunk_plan_t  p;

    assert_int_equal(tt_chunk_plan(50000123, 0, &p), TT_OK);
    assert_int_equal(tt_chunk_at(&p, 0), 0);
    assert_int_equal(tt_chunk_at(&p, 30000000), 3);
    assert_int_equal(tt_chunk_at(&p, 30000001), -1);
    assert_int_equal(tt_chunk_at(&p, 50000000), -1);
    assert_int_equal(tt_chunk_at(&p, 50000123), -1);
    assert_int_equal(tt_chunk_at(&p, -1), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_small_whole),
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_doc_example),
        cmocka_unit_test(test_multi_small_chunks),
        cmocka_unit_test(test_clamp),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_chunk_at),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
