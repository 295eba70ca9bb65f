/*
 * Copyright (C) the ngx_tiktok authors.
 * Tests of the growable buffer and the arena.
 */

#include "tt_test.h"

#include "tt_buf.h"


static void
test_buf_append(void **state)
{
    size_t    i;
    tt_buf_t  b;

    tt_buf_init(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_true(tt_buf_ok(&b));

    assert_int_equal(tt_buf_append(&b, "abc", 3), TT_OK);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");

    assert_int_equal(tt_buf_append(&b, "", 0), TT_OK);
    assert_int_equal(tt_buf_append_str(&b, "def"), TT_OK);
    assert_string_equal(b.data, "abcdef");

    /* binary data, with NULs, is kept; the NUL after it is added */
    assert_int_equal(tt_buf_append(&b, "\0x", 2), TT_OK);
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.data, "abcdef\0x", 9);

    /* growth keeps every byte */
    for (i = 0; i < 100000; i++) {
        assert_int_equal(tt_buf_append(&b, "0123456789" + i % 10, 1), TT_OK);
    }

    assert_int_equal(b.len, 100008);
    assert_true(b.cap > b.len);
    assert_int_equal(b.data[b.len], '\0');

    for (i = 0; i < 100000; i++) {
        assert_int_equal(b.data[8 + i], '0' + (char) (i % 10));
    }

    tt_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
}


static void
test_buf_printf(void **state)
{
    char      big[1000];
    tt_buf_t  b;

    tt_buf_init(&b);

    assert_int_equal(tt_buf_printf(&b, "%d-%s", 42, "x"), TT_OK);
    assert_string_equal(b.data, "42-x");

    assert_int_equal(tt_buf_printf(&b, "%s", ""), TT_OK);
    assert_string_equal(b.data, "42-x");

    /* longer than the room left: formatted again after growing */
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';

    assert_int_equal(tt_buf_printf(&b, "[%s]%zu", big, sizeof(big)), TT_OK);
    assert_int_equal(b.len, 4 + 1 + 999 + 1 + 4);
    assert_int_equal(b.data[5], 'y');
    assert_string_equal(b.data + b.len - 5, "]1000");

    tt_buf_free(&b);
}


static void
test_buf_sticky(void **state)
{
    tt_buf_t  b;

    tt_buf_init(&b);
    assert_int_equal(tt_buf_append_str(&b, "ok"), TT_OK);

    /* an impossible size fails, and every later call is a no-op */
    assert_int_equal(tt_buf_reserve(&b, SIZE_MAX), TT_NOMEM);
    assert_false(tt_buf_ok(&b));
    assert_int_equal(tt_buf_append_str(&b, "more"), TT_NOMEM);
    assert_int_equal(tt_buf_printf(&b, "%d", 1), TT_NOMEM);
    assert_int_equal(b.len, 2);
    assert_int_equal(tt_buf_reserve(&b, 1), TT_NOMEM);

    assert_int_equal(tt_buf_reserve(&b, SIZE_MAX - 1), TT_NOMEM);

    /* a failed buffer detaches as nothing, and is freed */
    assert_null(tt_buf_detach(&b, NULL));
    assert_null(b.data);
    assert_true(tt_buf_ok(&b));

    /* reset starts over, error included, and keeps the memory */
    assert_int_equal(tt_buf_append_str(&b, "abc"), TT_OK);
    tt_buf_reserve(&b, SIZE_MAX);
    assert_false(tt_buf_ok(&b));
    tt_buf_reset(&b);
    assert_true(tt_buf_ok(&b));
    assert_int_equal(b.len, 0);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    assert_int_equal(tt_buf_append_str(&b, "x"), TT_OK);
    assert_string_equal(b.data, "x");

    tt_buf_free(&b);

    /* reset of an untouched buffer */
    tt_buf_reset(&b);
    assert_null(b.data);
}


static void
test_buf_detach(void **state)
{
    char      *p;
    size_t     len;
    tt_buf_t   b;

    tt_buf_init(&b);

    /* even an empty buffer gives a string the caller frees */
    p = tt_buf_detach(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 0);
    assert_string_equal(p, "");
    free(p);

    tt_buf_append_str(&b, "hello");
    p = tt_buf_detach(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 5);
    assert_string_equal(p, "hello");
    free(p);

    /* the buffer is empty and usable again */
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(tt_buf_append_str(&b, "again"), TT_OK);
    tt_buf_free(&b);
}


static void
test_arena_alloc(void **state)
{
    size_t       i, n;
    char        *p, *prev;
    tt_arena_t  *a;

    a = tt_arena_create(256);
    assert_non_null(a);
    assert_int_equal(tt_arena_used(a), 0);

    /* every size comes back 16-aligned and writable */
    prev = NULL;

    for (n = 0; n < 600; n++) {
        p = tt_arena_alloc(a, n);
        assert_non_null(p);
        assert_int_equal((uintptr_t) p % 16, 0);
        assert_true(p != prev);
        memset(p, 0xab, n);
        prev = p;
    }

    assert_true(tt_arena_used(a) >= 600 * 599 / 2);

    /* allocations do not overlap */
    for (i = 0; i < 50; i++) {
        p = tt_arena_alloc(a, 24);
        assert_non_null(p);
        memset(p, (int) i, 24);
        prev = tt_arena_alloc(a, 24);
        assert_non_null(prev);
        memset(prev, 0xff, 24);
        assert_int_equal((unsigned char) p[23], i);
    }

    tt_arena_destroy(a);

    tt_arena_destroy(NULL);
}


static void
test_arena_big(void **state)
{
    char        *small1, *big, *small2;
    tt_arena_t  *a;

    a = tt_arena_create(1024);
    assert_non_null(a);

    small1 = tt_arena_alloc(a, 16);
    assert_non_null(small1);

    /* a big allocation gets its own block ... */
    big = tt_arena_alloc(a, 1 << 20);
    assert_non_null(big);
    assert_int_equal((uintptr_t) big % 16, 0);
    memset(big, 1, 1 << 20);

    /* ... and the current block goes on serving small ones */
    small2 = tt_arena_alloc(a, 16);
    assert_non_null(small2);
    assert_true(small2 == small1 + 16);

    /* impossible sizes fail cleanly */
    assert_null(tt_arena_alloc(a, SIZE_MAX));
    assert_null(tt_arena_alloc(a, SIZE_MAX - 8));
    assert_null(tt_arena_strndup(a, "x", SIZE_MAX));

    tt_arena_destroy(a);

    /* block size 0 picks a default */
    a = tt_arena_create(0);
    assert_non_null(a);
    assert_non_null(tt_arena_alloc(a, 100));
    tt_arena_destroy(a);
}


static void
test_arena_helpers(void **state)
{
    size_t       i;
    char        *s;
    unsigned    *z;
    tt_arena_t  *a;

    a = tt_arena_create(64);
    assert_non_null(a);

    /* calloc zeroes, also memory that was recycled from nothing */
    z = tt_arena_calloc(a, 100 * sizeof(unsigned));
    assert_non_null(z);

    for (i = 0; i < 100; i++) {
        assert_int_equal(z[i], 0);
    }

    /* strndup copies exactly n bytes and ends them */
    s = tt_arena_strndup(a, "hello world", 5);
    assert_non_null(s);
    assert_string_equal(s, "hello");

    s = tt_arena_strndup(a, "a\0b", 3);
    assert_non_null(s);
    assert_memory_equal(s, "a\0b\0", 4);

    s = tt_arena_strndup(a, NULL, 0);
    assert_non_null(s);
    assert_string_equal(s, "");

    assert_true(tt_arena_used(a) >= 400 + 6 + 4 + 1);

    tt_arena_destroy(a);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_buf_append),
        cmocka_unit_test(test_buf_printf),
        cmocka_unit_test(test_buf_sticky),
        cmocka_unit_test(test_buf_detach),
        cmocka_unit_test(test_arena_alloc),
        cmocka_unit_test(test_arena_big),
        cmocka_unit_test(test_arena_helpers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
