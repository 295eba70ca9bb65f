/*
 * Copyright (C) the ngx_tiktok authors.
 * Tests of ids, API keys, randomness, SHA-256 and hex.
 */

#include "tt_test.h"

#include "tt_id.h"
#include "tt_time.h"


#define N_IDS  10000


static int
is_base62(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
           || (c >= 'a' && c <= 'z');
}


static int
cmp_ids(const void *a, const void *b)
{
    return strcmp(a, b);
}


static void
test_id_new(void **state)
{
    size_t        i, k;
    char          id[TT_ID_SIZE];
    const char   *prefixes[] = {
        "p_", "q_", "pg_", "prof_", "wh_", "m_", "ws_", "key_", "evt_", "req_"
    };

    for (i = 0; i < TT_ARRAY_SIZE(prefixes); i++) {
        memset(id, 'X', sizeof(id));
        assert_int_equal(tt_id_new(prefixes[i], id), TT_OK);
        assert_int_equal(strlen(id), strlen(prefixes[i]) + TT_ID_CHARS);
        assert_memory_equal(id, prefixes[i], strlen(prefixes[i]));

        for (k = strlen(prefixes[i]); id[k]; k++) {
            assert_true(is_base62(id[k]));
        }

        assert_true(tt_id_valid(prefixes[i], id, strlen(id)));
    }

    /* the longest prefix that fits, and one byte more */
    assert_int_equal(tt_id_new("abcdefghi_", id), TT_OK);
    assert_int_equal(strlen(id), TT_ID_SIZE - 1);
    assert_int_equal(tt_id_new("abcdefghij_", id), TT_INVALID);

    assert_int_equal(tt_id_new("", id), TT_OK);
    assert_int_equal(strlen(id), TT_ID_CHARS);
}


static void
test_id_unique(void **state)
{
    size_t   i, k, counts[62];
    char   (*ids)[TT_ID_SIZE];
    char    *c;

    ids = calloc(N_IDS, TT_ID_SIZE);
    assert_non_null(ids);

    for (i = 0; i < N_IDS; i++) {
        assert_int_equal(tt_id_new("p_", ids[i]), TT_OK);
    }

    qsort(ids, N_IDS, TT_ID_SIZE, cmp_ids);

    for (i = 1; i < N_IDS; i++) {
        assert_string_not_equal(ids[i], ids[i - 1]);
    }

    /*
     * The random part, 130k characters over 62 symbols: each is expected
     * 2097 times with a standard deviation of 45, so 1800..2400 only
     * fails if the mapping is biased (a plain byte % 62 gives '0'-'7'
     * 25% more).
     */
    memset(counts, 0, sizeof(counts));

    for (i = 0; i < N_IDS; i++) {
        for (k = 2 + TT_ID_TIME; k < 2 + TT_ID_CHARS; k++) {
            c = strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "abcdefghijklmnopqrstuvwxyz", ids[i][k]);
            assert_non_null(c);
            counts[c - "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "abcdefghijklmnopqrstuvwxyz"]++;
        }
    }

    for (k = 0; k < 62; k++) {
        if (counts[k] < 1800 || counts[k] > 2400) {
            fail_msg("symbol %zu seen %zu times", k, counts[k]);
        }
    }

    free(ids);
}


/* the first 8 characters are the time: later ids sort after */
static void
test_id_time(void **state)
{
    int64_t  ms;
    char     a[TT_ID_SIZE], b[TT_ID_SIZE];

    /* 2026-12-05T00:00:00Z is 1,796,428,800,000 ms: "0VcsiAaW" in base62 */
    assert_int_equal(tt_id_new_at("p_", 1796428800000LL, a), TT_OK);
    assert_memory_equal(a, "p_0VcsiAaW", 10);
    assert_true(tt_id_valid("p_", a, strlen(a)));

    /* a millisecond later sorts after, whatever the random part */
    for (ms = 1796428800000LL; ms < 1796428800000LL + 200; ms++) {
        assert_int_equal(tt_id_new_at("p_", ms, a), TT_OK);
        assert_int_equal(tt_id_new_at("p_", ms + 1, b), TT_OK);
        assert_true(strcmp(a, b) < 0);
    }

    /* a carry into every digit: 62^2 - 1 and 62^2 */
    assert_int_equal(tt_id_new_at("p_", 3843, a), TT_OK);
    assert_memory_equal(a, "p_000000zz", 10);
    assert_int_equal(tt_id_new_at("p_", 3844, b), TT_OK);
    assert_memory_equal(b, "p_00000100", 10);
    assert_true(strcmp(a, b) < 0);

    /* a clock before 1970 counts as 1970 */
    assert_int_equal(tt_id_new_at("q_", -5, a), TT_OK);
    assert_memory_equal(a, "q_00000000", 10);

    /* tt_id_new() stamps the clock's time */
    ms = tt_now_ms();
    assert_int_equal(tt_id_new("p_", a), TT_OK);
    assert_int_equal(tt_id_new_at("p_", ms, b), TT_OK);
    assert_true(memcmp(a, b, 2 + TT_ID_TIME) >= 0);
    assert_int_equal(tt_id_new_at("p_", ms + 60000, b), TT_OK);
    assert_true(memcmp(a, b, 2 + TT_ID_TIME) < 0);
}


static void
test_id_valid(void **state)
{
    /* 21 characters, and the 20 random ones of ids made before */
    assert_true(tt_id_valid("p_", "p_0VcsiAaW0123456789abc", 23));
    assert_true(tt_id_valid("p_", "p_0123456789abcdefghIJ", 22));
    assert_true(tt_id_valid("p_", "p_0123456789abcdefghIJxx", 22));

    /* wrong prefix, or a prefix of the prefix */
    assert_false(tt_id_valid("q_", "p_0123456789abcdefghIJ", 22));
    assert_false(tt_id_valid("pg_", "p_0123456789abcdefghIJ", 22));
    assert_false(tt_id_valid("prof_", "pg_0123456789abcdefghI", 22));

    /* 19 or 22 characters */
    assert_false(tt_id_valid("p_", "p_0123456789abcdefghI", 21));
    assert_false(tt_id_valid("p_", "p_0123456789abcdefghIJKL", 24));

    /* outside base62 */
    assert_false(tt_id_valid("p_", "p_0123456789abcdefgh-J", 22));
    assert_false(tt_id_valid("p_", "p_0123456789abcdefgh_J", 22));
    assert_false(tt_id_valid("p_", "p_0123456789abcdefgh J", 22));
    assert_false(tt_id_valid("p_", "p_0123456789abcdefgh\0J", 22));
    assert_false(tt_id_valid("p_", "p_0123456789abcdefgh\xc3\xa9", 22));
    assert_false(tt_id_valid("p_", "p_0123456789abcdefgh/.", 22));

    assert_false(tt_id_valid("p_", "", 0));
    assert_false(tt_id_valid("p_", NULL, 0));
    assert_false(tt_id_valid(NULL, "p_0123456789abcdefghIJ", 22));
}


static void
test_key_new(void **state)
{
    size_t  i;
    char    k1[TT_KEY_LEN + 1], k2[TT_KEY_LEN + 1];

    memset(k1, 'X', sizeof(k1));
    assert_int_equal(tt_key_new(k1), TT_OK);
    assert_int_equal(strlen(k1), TT_KEY_LEN);
    assert_memory_equal(k1, "tt_", 3);

    for (i = 3; i < TT_KEY_LEN; i++) {
        assert_true(is_base62(k1[i]));
    }

    assert_int_equal(tt_key_new(k2), TT_OK);
    assert_string_not_equal(k1, k2);
}


static void
test_random(void **state)
{
    size_t   i, zero;
    uint8_t  a[4096], b[4096];

    memset(a, 0, sizeof(a));
    assert_int_equal(tt_random(a, sizeof(a)), TT_OK);
    assert_int_equal(tt_random(b, sizeof(b)), TT_OK);
    assert_memory_not_equal(a, b, sizeof(a));

    /* about 16 zero bytes expected out of 4096 */
    for (i = 0, zero = 0; i < sizeof(a); i++) {
        zero += (a[i] == 0);
    }

    assert_true(zero < 64);

    /* more than one getrandom() call may give at a time */
    {
        uint8_t  *big;

        big = calloc(1, 1 << 20);
        assert_non_null(big);
        assert_int_equal(tt_random(big, 1 << 20), TT_OK);

        for (i = 0, zero = 0; i < 1 << 20; i++) {
            zero += (big[i] == 0);
        }

        assert_true(zero < 5000);
        free(big);
    }

    assert_int_equal(tt_random(a, 0), TT_OK);
}


static void
test_sha256(void **state)
{
    char     hex[65];
    uint8_t  d[32];

    /* FIPS 180-2 test vectors */
    assert_int_equal(tt_sha256("abc", 3, d), TT_OK);
    tt_hex(d, sizeof(d), hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");

    assert_int_equal(tt_sha256("", 0, d), TT_OK);
    tt_hex(d, sizeof(d), hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                             "27ae41e4649b934ca495991b7852b855");

    assert_int_equal(tt_sha256("abcdbcdecdefdefgefghfghighijhijk"
                               "ijkljklmklmnlmnomnopnopq", 56, d), TT_OK);
    tt_hex(d, sizeof(d), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039"
                             "a33ce45964ff2167f6ecedd419db06c1");
}


static void
test_hex(void **state)
{
    char           out[16];
    const uint8_t  in[] = { 0x00, 0x0f, 0xa5, 0xff, 0x10 };

    memset(out, 'X', sizeof(out));
    tt_hex(in, sizeof(in), out);
    assert_string_equal(out, "000fa5ff10");

    tt_hex(in, 0, out);
    assert_string_equal(out, "");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_id_new),
        cmocka_unit_test(test_id_unique),
        cmocka_unit_test(test_id_time),
        cmocka_unit_test(test_id_valid),
        cmocka_unit_test(test_key_new),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_hex),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
