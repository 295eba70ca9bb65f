/*
 * Copyright (C) the ngx_tiktok authors.
 * Tests of the strict JSON parser, the writer and the configuration record.
 */

#include "tt_test.h"

#include <errno.h>
#include <math.h>

#include "tt_conf.h"
#include "tt_json.h"


typedef struct {
    const char     *in;
    const char     *out;        /* what the writer makes of the tree */
} golden_t;


typedef struct {
    const char     *in;
    size_t          len;        /* 0: strlen(in) */
    tt_json_err_e   kind;
    const char     *msg;
} bad_t;


/* parses in chunks of chunk bytes (0: one chunk) and writes it back */
static int
parse_chunked(const char *in, size_t len, size_t chunk, unsigned depth,
    size_t max_string, char *out, size_t out_len, tt_json_err_e *kind)
{
    int                rc;
    size_t             off, n;
    tt_buf_t           b;
    tt_jw_t            w;
    tt_json_t         *root;
    tt_arena_t        *a;
    tt_json_parser_t  *p;

    a = tt_arena_create(512);
    assert_non_null(a);

    p = tt_json_parser_create(a, depth, max_string);
    assert_non_null(p);
    assert_null(tt_json_parser_error(p));

    rc = TT_OK;

    for (off = 0; off < len && rc == TT_OK; off += n) {
        n = (chunk == 0 || len - off < chunk) ? len - off : chunk;
        rc = tt_json_parser_feed(p, in + off, n);
    }

    if (rc == TT_OK) {
        rc = tt_json_parser_finish(p, &root);
    }

    if (rc != TT_OK) {
        assert_int_equal(rc, TT_INVALID);
        assert_non_null(tt_json_parser_error(p));
        snprintf(out, out_len, "%s", tt_json_parser_error(p));
        *kind = tt_json_parser_err_kind(p);

        /* errors are sticky */
        assert_int_equal(tt_json_parser_feed(p, "1", 1), rc);

    } else {
        assert_non_null(root);
        *kind = 0;

        tt_buf_init(&b);
        assert_int_equal(tt_jw_init(&w, &b), TT_OK);
        tt_jw_value(&w, root);
        assert_int_equal(tt_jw_finish(&w), TT_OK);
        snprintf(out, out_len, "%s", b.data);
        tt_buf_free(&b);
    }

    tt_json_parser_destroy(p);
    tt_arena_destroy(a);

    return rc;
}


static const golden_t  goldens[] = {
    { "null", "null" },
    { "true", "true" },
    { "false", "false" },
    { "0", "0" },
    { "-0", "-0" },
    { "123", "123" },
    { " 42 ", "42" },
    { "3.25", "3.25" },
    { "-1.5e+3", "-1.5e+3" },
    { "1E-7", "1E-7" },
    { "123456789012345678901234567890", "123456789012345678901234567890" },
    { "\"\"", "\"\"" },
    { "\"hello\"", "\"hello\"" },
    { "[]", "[]" },
    { "{}", "{}" },
    { " \t\r\n[ 1 , 2 ]\n", "[1,2]" },
    { "[[[]],[{}]]", "[[[]],[{}]]" },
    { "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
      "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}" },
    /* members keep their input order */
    { "{\"z\":1,\"a\":2,\"m\":3}", "{\"z\":1,\"a\":2,\"m\":3}" },
    /* the same key in different objects is fine */
    { "[{\"a\":1},{\"a\":2}]", "[{\"a\":1},{\"a\":2}]" },
    { "{\"a\":{\"a\":{\"a\":null}}}", "{\"a\":{\"a\":{\"a\":null}}}" },
    { "{\"\":\"\"}", "{\"\":\"\"}" },
    /* escapes decode; the writer escapes only what it must */
    { "\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"", "\"/\\b\\f\\n\\r\\t\\\"\\\\\"" },
    { "\"caf\\u00e9\"", "\"caf\xc3\xa9\"" },
    { "\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"" },
    { "\"\\uD83D\\uDE00\"", "\"\xf0\x9f\x98\x80\"" },
    { "\"a\\u0000b\"", "\"a\\u0000b\"" },
    /* yajl_gen writes control characters with upper-case hex */
    { "\"\\u001f\"", "\"\\u001F\"" },
    { "\"\\u20ac\"", "\"\xe2\x82\xac\"" },
    /* raw UTF-8 of every length passes */
    { "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"",
      "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"" },
    { "\"\xed\x9f\xbf\xee\x80\x80\"", "\"\xed\x9f\xbf\xee\x80\x80\"" },
    { "\"\x7f\"", "\"\x7f\"" },
    { "[-9223372036854775808,9223372036854775807,9223372036854775808]",
      "[-9223372036854775808,9223372036854775807,9223372036854775808]" },
    { "{\"caption\":\"Hi \xf0\x9f\x98\x80 #fyp\",\"at\":"
      "\"2026-05-12T09:00:00Z\",\"media\":[\"https://x/y.mp4\"],"
      "\"draft\":false,\"n\":[0.5,-2]}",
      "{\"caption\":\"Hi \xf0\x9f\x98\x80 #fyp\",\"at\":"
      "\"2026-05-12T09:00:00Z\",\"media\":[\"https://x/y.mp4\"],"
      "\"draft\":false,\"n\":[0.5,-2]}" },
};


static void
test_golden_chunks(void **state)
{
    int            rc;
    size_t         i, chunk;
    char           whole[1024], got[1024];
    tt_json_err_e  kind;

    for (i = 0; i < TT_ARRAY_SIZE(goldens); i++) {
        rc = parse_chunked(goldens[i].in, strlen(goldens[i].in), 0, 0, 0,
                           whole, sizeof(whole), &kind);
        if (rc != TT_OK || strcmp(whole, goldens[i].out) != 0) {
            fail_msg("golden %zu: %s: got %s", i, goldens[i].in, whole);
        }

        /* like yajl's own test runner: every buffer size gives one tree */
        for (chunk = 1; chunk <= 31; chunk++) {
            rc = parse_chunked(goldens[i].in, strlen(goldens[i].in), chunk,
                               0, 0, got, sizeof(got), &kind);
            if (rc != TT_OK || strcmp(got, whole) != 0) {
                fail_msg("golden %zu chunk %zu: got %s", i, chunk, got);
            }
        }
    }
}


static const bad_t  bads[] = {
    { "", 0, TT_JSON_ESYNTAX, "unexpected end of input" },
    { "   ", 0, TT_JSON_ESYNTAX, "unexpected end of input" },
    { "[", 0, TT_JSON_ESYNTAX, "unexpected end of input" },
    { "{\"a\":", 0, TT_JSON_ESYNTAX, "unexpected end of input" },
    { "\"abc", 0, TT_JSON_ESYNTAX, "unexpected end of input" },
    { "[1,2", 0, TT_JSON_ESYNTAX, "unexpected end of input" },
    { "[x]", 0, TT_JSON_ESYNTAX, "unexpected character 'x' at byte 1" },
    { "[1,]", 0, TT_JSON_ESYNTAX, "unexpected character ']' at byte 3" },
    { "]", 0, TT_JSON_ESYNTAX, "unexpected character ']' at byte 0" },
    { "[}", 0, TT_JSON_ESYNTAX, "unexpected character '}' at byte 1" },
    { "{]", 0, TT_JSON_ESYNTAX, "unexpected character ']' at byte 1" },
    { "{\"a\" 1}", 0, TT_JSON_ESYNTAX, "unexpected number at byte 5" },
    { "{\"a\":1 \"b\":2}", 0, TT_JSON_ESYNTAX,
      "unexpected string at byte 7" },
    { "[1 \"abc\"]", 0, TT_JSON_ESYNTAX, "unexpected string at byte 3" },
    { "{1:2}", 0, TT_JSON_ESYNTAX, "unexpected number at byte 1" },
    { "{\"a\":1,}", 0, TT_JSON_ESYNTAX,
      "unexpected character '}' at byte 7" },
    /* trailing garbage and multiple values are refused */
    { "[1] x", 0, TT_JSON_ESYNTAX,
      "unexpected data after the JSON value at byte 4" },
    { "[1]]", 0, TT_JSON_ESYNTAX,
      "unexpected data after the JSON value at byte 3" },
    { "{} {}", 0, TT_JSON_ESYNTAX,
      "unexpected data after the JSON value at byte 3" },
    { "01", 0, TT_JSON_ESYNTAX,
      "unexpected data after the JSON value at byte 1" },
    { "truex", 0, TT_JSON_ESYNTAX,
      "unexpected data after the JSON value at byte 4" },
    { "[-01]", 0, TT_JSON_ESYNTAX, "unexpected number at byte 3" },
    /* where yajl's own offset is rewound, or lost across chunks */
    { "{\"a\":1 23}", 0, TT_JSON_ESYNTAX, "unexpected number at byte 7" },
    { "{\"a\":1 \"xy\"}", 0, TT_JSON_ESYNTAX,
      "unexpected string at byte 7" },
    { "{\"a\":[1,2.5,\"x\"]26,\"b\":null}", 0, TT_JSON_ESYNTAX,
      "unexpected number at byte 16" },
    { "[1 23", 0, TT_JSON_ESYNTAX, "unexpected number at byte 3" },
    { "[1,,]", 0, TT_JSON_ESYNTAX, "unexpected character ',' at byte 3" },
    { "[[],]", 0, TT_JSON_ESYNTAX, "unexpected character ']' at byte 4" },
    { "{,}", 0, TT_JSON_ESYNTAX, "unexpected character ',' at byte 1" },
    { "{\"a\":,}", 0, TT_JSON_ESYNTAX, "unexpected character ',' at byte 5" },
    { "{\"a\":1,,}", 0, TT_JSON_ESYNTAX,
      "unexpected character ',' at byte 7" },
    { "[true false]", 0, TT_JSON_ESYNTAX, "unexpected literal at byte 6" },
    /* the syntax error comes before the bad UTF-8 inside the token,
     * even when the chunk boundary falls inside it */
    { "\"\"\"\xc1" "e", 0, TT_JSON_ESYNTAX,
      "unexpected data after the JSON value at byte 2" },
    { "\"\" \"\xc0\x80\"", 0, TT_JSON_ESYNTAX,
      "unexpected data after the JSON value at byte 3" },
    { "[1 \"\xc0\x80\"]", 0, TT_JSON_ESYNTAX,
      "unexpected string at byte 3" },
    /* numbers */
    { "-", 0, TT_JSON_ESYNTAX, "malformed number at byte 0" },
    { "[1.]", 0, TT_JSON_ESYNTAX, "malformed number at byte 1" },
    { "1e", 0, TT_JSON_ESYNTAX, "malformed number at byte 0" },
    { "[1e5x]", 0, TT_JSON_ESYNTAX, "unexpected character 'x' at byte 4" },
    { "[+1]", 0, TT_JSON_ESYNTAX, "unexpected character '+' at byte 1" },
    { "[.5]", 0, TT_JSON_ESYNTAX, "unexpected character '.' at byte 1" },
    { "NaN", 0, TT_JSON_ESYNTAX, "unexpected character 'N' at byte 0" },
    /* literals */
    { "nul", 0, TT_JSON_ESYNTAX, "invalid literal at byte 0" },
    { "[tru]", 0, TT_JSON_ESYNTAX, "invalid literal at byte 1" },
    { "True", 0, TT_JSON_ESYNTAX, "unexpected character 'T' at byte 0" },
    /* strings */
    { "\"\\q\"", 0, TT_JSON_ESYNTAX, "invalid escape in string at byte 2" },
    { "\"\\u12\"", 0, TT_JSON_ESYNTAX,
      "invalid \\u escape in string at byte 5" },
    { "\"a\x01\"", 0, TT_JSON_ESYNTAX,
      "control character in string at byte 2" },
    { "\"a\nb\"", 0, TT_JSON_ESYNTAX,
      "control character in string at byte 2" },
    { "'a'", 0, TT_JSON_ESYNTAX, "unexpected character ''' at byte 0" },
    /* no comments */
    { "[1,/", 0, TT_JSON_ESYNTAX, "comments are not allowed at byte 3" },
    { "/* c */ 1", 0, TT_JSON_ESYNTAX, "comments are not allowed at byte 0" },
    /* a byte order mark is not JSON */
    { "\xef\xbb\xbf[]", 0, TT_JSON_ESYNTAX,
      "unexpected byte 0xef at byte 0" },
    { "[1,\x7f]", 0, TT_JSON_ESYNTAX, "unexpected byte 0x7f at byte 3" },
    { "\0", 1, TT_JSON_ESYNTAX, "unexpected byte 0x00 at byte 0" },
    /* duplicates */
    { "{\"a\":1,\"a\":2}", 0, TT_JSON_ESYNTAX,
      "duplicate key \"a\" at byte 7" },
    { "{\"ab\":{\"a\":1},\"ab\":3}", 0, TT_JSON_ESYNTAX,
      "duplicate key \"ab\" at byte 14" },
    { "[{\"x\":[],\"y\":1,\"x\":2}]", 0, TT_JSON_ESYNTAX,
      "duplicate key \"x\" at byte 15" },
    /* keys are compared decoded */
    { "{\"\\u0061\":1,\"a\":2}", 0, TT_JSON_ESYNTAX,
      "duplicate key \"a\" at byte 12" },
    { "{\"a\\u0000\":1,\"a\":2,\"a\\u0000\":3}", 0, TT_JSON_ESYNTAX,
      "duplicate key \"a?\" at byte 19" },

    /*
     * UTF-8.  yajl 2.1 by itself rejects only a byte that cannot start a
     * sequence (a lone continuation, F8-FF) or a missing continuation;
     * it accepts overlong forms (C0 80), surrogates encoded in UTF-8
     * (ED A0 80) and code points above U+10FFFF (F4 90 80 80), turns a
     * lone "\ud83d" into "?" and pairs "\ud800\u0041" into U+10041.  Our
     * scanner rejects all of them; the offset is the sequence's start.
     */
    { "\"\x80\"", 0, TT_JSON_EUTF8, "invalid UTF-8 in string at byte 1" },
    { "\"ab\xbf\"", 0, TT_JSON_EUTF8, "invalid UTF-8 in string at byte 3" },
    { "\"\xc0\x80\"", 0, TT_JSON_EUTF8,
      "invalid UTF-8 in string at byte 1" },
    { "\"\xc1\xbf\"", 0, TT_JSON_EUTF8,
      "invalid UTF-8 in string at byte 1" },
    { "\"\xe0\x80\xaf\"", 0, TT_JSON_EUTF8,
      "invalid UTF-8 in string at byte 1" },
    { "\"\xf0\x80\x80\xaf\"", 0, TT_JSON_EUTF8,
      "invalid UTF-8 in string at byte 1" },
    { "\"ab\xed\xa0\x80\"", 0, TT_JSON_EUTF8,
      "invalid UTF-8 in string at byte 3" },
    { "\"\xed\xbf\xbf\"", 0, TT_JSON_EUTF8,
      "invalid UTF-8 in string at byte 1" },
    { "\"\xf4\x90\x80\x80\"", 0, TT_JSON_EUTF8,
      "invalid UTF-8 in string at byte 1" },
    { "\"\xf5\x80\x80\x80\"", 0, TT_JSON_EUTF8,
      "invalid UTF-8 in string at byte 1" },
    { "\"\xf8\x88\x80\x80\x80\"", 0, TT_JSON_EUTF8,
      "invalid UTF-8 in string at byte 1" },
    { "\"\xff\"", 0, TT_JSON_EUTF8, "invalid UTF-8 in string at byte 1" },
    { "[\"\xe2\x82\"]", 0, TT_JSON_EUTF8,
      "invalid UTF-8 in string at byte 2" },
    { "[\"\xc3\"", 0, TT_JSON_EUTF8, "invalid UTF-8 in string at byte 2" },
    { "{\"k\xc3\":1}", 0, TT_JSON_EUTF8,
      "invalid UTF-8 in string at byte 3" },
    { "[1 \"\xc1\"]", 0, TT_JSON_EUTF8,
      "invalid UTF-8 in string at byte 4" },
    { "\"\xc0\x80\\q\"", 0, TT_JSON_EUTF8,
      "invalid UTF-8 in string at byte 1" },
    /* an unfinished string that is already bad reports the bad bytes */
    { "[\"\xc0", 0, TT_JSON_EUTF8, "invalid UTF-8 in string at byte 2" },
    { "\"\\ud83d\"", 0, TT_JSON_EUTF8,
      "unpaired UTF-16 surrogate escape in string at byte 1" },
    { "\"ab\\ud83dx\"", 0, TT_JSON_EUTF8,
      "unpaired UTF-16 surrogate escape in string at byte 3" },
    { "\"\\ude00\"", 0, TT_JSON_EUTF8,
      "unpaired UTF-16 surrogate escape in string at byte 1" },
    { "\"\\ud800\\u0041\"", 0, TT_JSON_EUTF8,
      "unpaired UTF-16 surrogate escape in string at byte 1" },
    { "\"\\ud800\\ud800\"", 0, TT_JSON_EUTF8,
      "unpaired UTF-16 surrogate escape in string at byte 1" },
    { "\"\\ud800\\n\"", 0, TT_JSON_EUTF8,
      "unpaired UTF-16 surrogate escape in string at byte 1" },
};


static void
test_errors(void **state)
{
    int            rc;
    size_t         i, len, chunk;
    char           got[256];
    tt_json_err_e  kind;

    for (i = 0; i < TT_ARRAY_SIZE(bads); i++) {
        len = bads[i].len ? bads[i].len : strlen(bads[i].in);

        /* the same error, at the same byte, however the input is cut */
        for (chunk = 0; chunk <= 31; chunk++) {
            rc = parse_chunked(bads[i].in, len, chunk, 0, 0,
                               got, sizeof(got), &kind);

            if (rc != TT_INVALID || kind != bads[i].kind
                || strcmp(got, bads[i].msg) != 0)
            {
                fail_msg("bad %zu chunk %zu: rc %d kind %d \"%s\"",
                         i, chunk, rc, (int) kind, got);
            }
        }
    }
}


static char *
nested(const char *open, const char *close, unsigned levels)
{
    char      *s, *p;
    size_t     lo, lc;
    unsigned   i;

    lo = strlen(open);
    lc = strlen(close);

    s = malloc((lo + lc) * levels + 1);
    assert_non_null(s);

    p = s;

    for (i = 0; i < levels; i++) {
        memcpy(p, open, lo);
        p += lo;
    }

    for (i = 0; i < levels; i++) {
        memcpy(p, close, lc);
        p += lc;
    }

    *p = '\0';

    return s;
}


static void
test_depth(void **state)
{
    int            rc;
    char          *s, got[256], want[256];
    size_t         chunk;
    tt_json_err_e  kind;

    /* exactly at the limit passes, one more fails, in any chunking */
    for (chunk = 0; chunk <= 31; chunk++) {
        s = nested("[", "]", TT_JSON_MAX_DEPTH);
        rc = parse_chunked(s, strlen(s), chunk, 0, 0, got, sizeof(got),
                           &kind);
        assert_int_equal(rc, TT_OK);
        assert_string_equal(got, s);
        free(s);

        s = nested("[", "]", TT_JSON_MAX_DEPTH + 1);
        rc = parse_chunked(s, strlen(s), chunk, 0, 0, got, sizeof(got),
                           &kind);
        assert_int_equal(rc, TT_INVALID);
        assert_int_equal(kind, TT_JSON_EDEPTH);
        assert_string_equal(got,
                            "JSON nested deeper than 16 levels at byte 16");
        free(s);

        s = nested("{\"k\":", "}", TT_JSON_MAX_DEPTH + 1);
        rc = parse_chunked(s, strlen(s) - TT_JSON_MAX_DEPTH - 1, chunk, 0,
                           0, got, sizeof(got), &kind);
        assert_int_equal(rc, TT_INVALID);
        assert_int_equal(kind, TT_JSON_EDEPTH);
        snprintf(want, sizeof(want),
                 "JSON nested deeper than 16 levels at byte %d",
                 TT_JSON_MAX_DEPTH * 5);
        assert_string_equal(got, want);
        free(s);
    }

    /* a custom limit, and mixed containers */
    s = "[{\"a\":[1]}]";
    assert_int_equal(parse_chunked(s, strlen(s), 0, 3, 0, got, sizeof(got),
                                   &kind), TT_OK);
    assert_int_equal(parse_chunked(s, strlen(s), 0, 2, 0, got, sizeof(got),
                                   &kind), TT_INVALID);
    assert_string_equal(got, "JSON nested deeper than 2 levels at byte 6");

    /* scalars have no depth */
    assert_int_equal(parse_chunked("1", 1, 0, 1, 0, got, sizeof(got),
                                   &kind), TT_OK);

    /* far deeper than the limit stops early, with no leak */
    s = nested("[", "]", 100000);
    assert_int_equal(parse_chunked(s, strlen(s), 0, 0, 0, got, sizeof(got),
                                   &kind), TT_INVALID);
    assert_int_equal(kind, TT_JSON_EDEPTH);
    free(s);
}


static void
test_limits(void **state)
{
    char           got[256];
    size_t         chunk;
    tt_json_err_e  kind;

    for (chunk = 0; chunk <= 7; chunk++) {
        /* the limit is on decoded bytes: "\u00e9" is 2 */
        assert_int_equal(parse_chunked("[\"\\u00e9\\u00e9\"]", 16, chunk, 0,
                                       4, got, sizeof(got), &kind), TT_OK);
        assert_int_equal(parse_chunked("[\"abcd\",\"abcde\"]", 16, chunk, 0,
                                       4, got, sizeof(got), &kind),
                         TT_INVALID);
        assert_int_equal(kind, TT_JSON_ELIMIT);
        assert_string_equal(got, "string longer than 4 bytes at byte 8");

        /* keys too */
        assert_int_equal(parse_chunked("{\"abcde\":1}", 11, chunk, 0, 4,
                                       got, sizeof(got), &kind),
                         TT_INVALID);
        assert_int_equal(kind, TT_JSON_ELIMIT);
        assert_string_equal(got, "string longer than 4 bytes at byte 1");
    }
}


static void
test_duplicates_big(void **state)
{
    int            rc;
    char           got[256], want[64];
    size_t         i, n, dup_off;
    tt_buf_t       b;
    tt_json_err_e  kind;

    /* objects beyond the pairwise check are sorted when they close */
    for (n = 2; n <= 200; n += 33) {
        tt_buf_init(&b);
        tt_buf_append_str(&b, "{");
        dup_off = 0;

        for (i = 0; i < n; i++) {
            tt_buf_printf(&b, "%s\"k%zu\":%zu", i ? "," : "", i, i);

            if (i == n - 1) {
                dup_off = b.len + 1;
            }
        }

        /* the first key again, and the 3rd key again later still */
        tt_buf_append_str(&b, ",\"k0\":0,\"k2\":0}");
        assert_true(tt_buf_ok(&b));

        rc = parse_chunked(b.data, b.len, 0, 0, 0, got, sizeof(got), &kind);
        assert_int_equal(rc, TT_INVALID);
        assert_int_equal(kind, TT_JSON_ESYNTAX);
        snprintf(want, sizeof(want), "duplicate key \"k0\" at byte %zu",
                 dup_off);
        assert_string_equal(got, want);

        rc = parse_chunked(b.data, b.len, 7, 0, 0, got, sizeof(got), &kind);
        assert_int_equal(rc, TT_INVALID);
        assert_string_equal(got, want);

        tt_buf_free(&b);
    }

    /* long keys are cut in the message on a character boundary */
    tt_buf_init(&b);
    tt_buf_append_str(&b, "{\"");
    for (i = 0; i < 31; i++) {
        tt_buf_append_str(&b, "a");
    }
    tt_buf_append_str(&b, "\xc3\xa9zzz\":1,\"");
    for (i = 0; i < 31; i++) {
        tt_buf_append_str(&b, "a");
    }
    tt_buf_append_str(&b, "\xc3\xa9zzz\":2}");
    rc = parse_chunked(b.data, b.len, 0, 0, 0, got, sizeof(got), &kind);
    assert_int_equal(rc, TT_INVALID);
    assert_string_equal(got, "duplicate key "
                        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" at byte 42");
    tt_buf_free(&b);
}


static void
test_big_document(void **state)
{
    size_t       i;
    tt_buf_t     b;
    tt_json_t   *root, *v;
    tt_arena_t  *a;
    char         err[128];

    /* growth of the entry stack and of wide objects */
    tt_buf_init(&b);
    tt_buf_append_str(&b, "{\"list\":[");

    for (i = 0; i < 20000; i++) {
        tt_buf_printf(&b, "%s{\"id\":%zu,\"s\":\"v%zu\"}", i ? "," : "", i,
                      i);
    }

    tt_buf_append_str(&b, "],\"wide\":{");

    for (i = 0; i < 5000; i++) {
        tt_buf_printf(&b, "%s\"key%zu\":%zu", i ? "," : "", i, i);
    }

    tt_buf_append_str(&b, "}}");
    assert_true(tt_buf_ok(&b));

    a = tt_arena_create(0);
    assert_non_null(a);

    root = tt_json_parse(a, b.data, b.len, err, sizeof(err));
    assert_non_null(root);

    v = tt_json_get(root, "list");
    assert_non_null(v);
    assert_int_equal(v->type, TT_JSON_ARRAY);
    assert_int_equal(v->n, 20000);
    assert_int_equal(tt_json_get(v->items[19999], "id")->i, 19999);
    assert_string_equal(tt_json_get(v->items[123], "s")->str, "v123");

    v = tt_json_get(root, "wide");
    assert_int_equal(v->n, 5000);
    assert_string_equal(v->members[4321].key, "key4321");
    assert_int_equal(tt_json_get(v, "key4999")->i, 4999);

    tt_arena_destroy(a);
    tt_buf_free(&b);
}


static void
test_numbers(void **state)
{
    const char   doc[] = "[0, -0, 42, -17, 9223372036854775807,"
                         "-9223372036854775808, 9223372036854775808,"
                         "-9223372036854775809, 1.5, 1e2, 2E-1,"
                         "123456789012345678901234567890, 1e999, 7.0]";
    tt_json_t   *r;
    tt_arena_t  *a;
    char         err[128];

    a = tt_arena_create(0);
    assert_non_null(a);

    r = tt_json_parse(a, doc, sizeof(doc) - 1, err, sizeof(err));
    assert_non_null(r);
    assert_int_equal(r->n, 14);

    assert_true(r->items[0]->is_int);
    assert_int_equal(r->items[0]->i, 0);
    assert_true(r->items[1]->is_int);
    assert_string_equal(r->items[1]->str, "-0");
    assert_int_equal(r->items[2]->i, 42);
    assert_true(r->items[2]->d == 42.0);
    assert_int_equal(r->items[3]->i, -17);
    assert_true(r->items[4]->is_int);
    assert_true(r->items[4]->i == INT64_MAX);
    assert_true(r->items[5]->is_int);
    assert_true(r->items[5]->i == INT64_MIN);

    /* beyond int64: text and double only */
    assert_false(r->items[6]->is_int);
    assert_string_equal(r->items[6]->str, "9223372036854775808");
    assert_int_equal(r->items[6]->len, 19);
    assert_true(r->items[6]->d == 9223372036854775808.0);
    assert_false(r->items[7]->is_int);

    assert_false(r->items[8]->is_int);
    assert_true(r->items[8]->d == 1.5);
    assert_false(r->items[9]->is_int);
    assert_true(r->items[9]->d == 100.0);
    assert_true(r->items[10]->d == 0.2);
    assert_false(r->items[11]->is_int);
    assert_true(r->items[11]->d > 1.2e29);
    assert_true(isinf(r->items[12]->d));
    assert_false(r->items[13]->is_int);
    assert_int_equal(r->items[13]->type, TT_JSON_NUMBER);

    tt_arena_destroy(a);
}


static void
test_strings_tree(void **state)
{
    const char   doc[] = "{\"e\":\"\\u00e9\",\"smile\":\"\\ud83d\\ude00\","
                         "\"nul\":\"a\\u0000b\",\"k\\u0000\":1,"
                         "\"t\":true,\"f\":false,\"z\":null,\"arr\":[]}";
    tt_json_t   *r, *v;
    tt_arena_t  *a;
    char         err[128];

    a = tt_arena_create(64);
    assert_non_null(a);

    r = tt_json_parse(a, doc, sizeof(doc) - 1, err, sizeof(err));
    assert_non_null(r);
    assert_int_equal(r->type, TT_JSON_OBJECT);
    assert_int_equal(r->n, 8);

    v = tt_json_get(r, "e");
    assert_int_equal(v->type, TT_JSON_STRING);
    assert_int_equal(v->len, 2);
    assert_memory_equal(v->str, "\xc3\xa9", 3);

    v = tt_json_get(r, "smile");
    assert_int_equal(v->len, 4);
    assert_memory_equal(v->str, "\xf0\x9f\x98\x80", 5);

    v = tt_json_get(r, "nul");
    assert_int_equal(v->len, 3);
    assert_memory_equal(v->str, "a\0b", 4);

    /* a key with a NUL is kept whole but cannot be looked up by C string */
    assert_int_equal(r->members[3].key_len, 2);
    assert_memory_equal(r->members[3].key, "k\0", 3);
    assert_null(tt_json_get(r, "k"));

    assert_int_equal(tt_json_get(r, "t")->type, TT_JSON_TRUE);
    assert_int_equal(tt_json_get(r, "f")->type, TT_JSON_FALSE);
    assert_int_equal(tt_json_get(r, "z")->type, TT_JSON_NULL);
    assert_int_equal(tt_json_get(r, "arr")->type, TT_JSON_ARRAY);
    assert_int_equal(tt_json_get(r, "arr")->n, 0);

    assert_null(tt_json_get(r, "missing"));
    assert_null(tt_json_get(r, NULL));
    assert_null(tt_json_get(NULL, "e"));
    assert_null(tt_json_get(tt_json_get(r, "arr"), "e"));

    assert_string_equal(tt_json_type_name(TT_JSON_NULL), "null");
    assert_string_equal(tt_json_type_name(TT_JSON_TRUE), "boolean");
    assert_string_equal(tt_json_type_name(TT_JSON_FALSE), "boolean");
    assert_string_equal(tt_json_type_name(TT_JSON_NUMBER), "number");
    assert_string_equal(tt_json_type_name(TT_JSON_STRING), "string");
    assert_string_equal(tt_json_type_name(TT_JSON_ARRAY), "array");
    assert_string_equal(tt_json_type_name(TT_JSON_OBJECT), "object");

    tt_arena_destroy(a);
}


static void
test_parse_api(void **state)
{
    tt_json_t         *root;
    tt_arena_t        *a;
    tt_json_parser_t  *p;
    char               err[16];

    a = tt_arena_create(0);
    assert_non_null(a);

    /* tt_json_parse reports into a short buffer, truncated */
    assert_null(tt_json_parse(a, "[1,]", 4, err, sizeof(err)));
    assert_string_equal(err, "unexpected char");
    assert_null(tt_json_parse(a, "[1,]", 4, NULL, 0));

    /* empty feeds are harmless; finishing twice is an error */
    p = tt_json_parser_create(a, 0, 0);
    assert_non_null(p);
    assert_int_equal(tt_json_parser_feed(p, "", 0), TT_OK);
    assert_int_equal(tt_json_parser_feed(p, "[1", 2), TT_OK);
    assert_int_equal(tt_json_parser_feed(p, "", 0), TT_OK);
    assert_int_equal(tt_json_parser_feed(p, "]", 1), TT_OK);
    assert_null(tt_json_parser_error(p));
    assert_int_equal(tt_json_parser_err_kind(p), 0);
    assert_int_equal(tt_json_parser_finish(p, &root), TT_OK);
    assert_int_equal(root->n, 1);
    assert_int_not_equal(tt_json_parser_finish(p, &root), TT_OK);
    assert_null(root);
    tt_json_parser_destroy(p);

    /* feeding after finish is an error */
    p = tt_json_parser_create(a, 0, 0);
    assert_non_null(p);
    assert_int_equal(tt_json_parser_feed(p, "7", 1), TT_OK);
    assert_int_equal(tt_json_parser_finish(p, &root), TT_OK);
    assert_int_equal(root->i, 7);
    assert_int_equal(tt_json_parser_feed(p, "7", 1), TT_INVALID);
    tt_json_parser_destroy(p);

    /* destroying a parser in the middle of a document frees it all */
    p = tt_json_parser_create(a, 0, 0);
    assert_non_null(p);
    assert_int_equal(tt_json_parser_feed(p, "{\"a\":[1,{\"b\":\"c", 15),
                     TT_OK);
    tt_json_parser_destroy(p);
    tt_json_parser_destroy(NULL);

    tt_arena_destroy(a);
}


static void
test_writer(void **state)
{
    tt_buf_t  b;
    tt_jw_t   w;

    tt_buf_init(&b);

    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_obj_open(&w);
    tt_jw_key(&w, "s");
    tt_jw_str(&w, "a\"b\\c\n\x01/", 8);
    tt_jw_key(&w, "c");
    tt_jw_cstr(&w, "caf\xc3\xa9");
    tt_jw_key(&w, "n");
    tt_jw_cstr(&w, NULL);
    tt_jw_key(&w, "i");
    tt_jw_int(&w, INT64_MIN);
    tt_jw_key(&w, "d");
    tt_jw_arr_open(&w);
    tt_jw_double(&w, 0.1);
    tt_jw_double(&w, 1.0 / 3);
    tt_jw_double(&w, 2.5);
    tt_jw_double(&w, 1e300);
    tt_jw_double(&w, -0.0);
    tt_jw_arr_close(&w);
    tt_jw_key(&w, "b");
    tt_jw_bool(&w, 7);
    tt_jw_key(&w, "f");
    tt_jw_bool(&w, 0);
    tt_jw_key(&w, "t");
    tt_jw_time(&w, 1778576400000LL);
    tt_jw_key(&w, "tms");
    tt_jw_time(&w, 1778576400123LL);
    tt_jw_key(&w, "tnull");
    tt_jw_time(&w, -1);
    tt_jw_key(&w, "e");
    tt_jw_str(&w, NULL, 0);
    tt_jw_obj_close(&w);
    assert_int_equal(tt_jw_finish(&w), TT_OK);
    assert_null(w.gen);

    assert_string_equal(b.data,
        "{\"s\":\"a\\\"b\\\\c\\n\\u0001/\",\"c\":\"caf\xc3\xa9\",\"n\":null,"
        "\"i\":-9223372036854775808,"
        "\"d\":[0.1,0.3333333333333333,2.5,1e+300,-0],"
        "\"b\":true,\"f\":false,\"t\":\"2026-05-12T09:00:00Z\","
        "\"tms\":\"2026-05-12T09:00:00.123Z\",\"tnull\":null,\"e\":\"\"}");
    assert_int_equal(b.len, strlen(b.data));

    /* appending keeps what the buffer held */
    tt_buf_reset(&b);
    tt_buf_append_str(&b, "x=");
    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_arr_open(&w);
    tt_jw_arr_close(&w);
    assert_int_equal(tt_jw_finish(&w), TT_OK);
    assert_string_equal(b.data, "x=[]");

    tt_buf_free(&b);
}


static void
test_writer_failures(void **state)
{
    tt_buf_t  b;
    tt_jw_t   w;

    tt_buf_init(&b);
    tt_buf_append_str(&b, "keep");

    /* invalid UTF-8, even the kinds yajl's own check lets through */
    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_arr_open(&w);
    tt_jw_str(&w, "ok", 2);
    tt_jw_str(&w, "\xc0\x80", 2);
    tt_jw_str(&w, "more", 4);
    tt_jw_arr_close(&w);
    assert_int_equal(tt_jw_finish(&w), TT_ERR);
    assert_string_equal(b.data, "keep");
    assert_int_equal(b.len, 4);

    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_str(&w, "\xed\xa0\x80", 3);
    assert_int_equal(tt_jw_finish(&w), TT_ERR);

    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_str(&w, "\xe2\x82", 2);
    assert_int_equal(tt_jw_finish(&w), TT_ERR);

    /* a container left open */
    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_obj_open(&w);
    tt_jw_key(&w, "a");
    tt_jw_arr_open(&w);
    tt_jw_arr_close(&w);
    assert_int_equal(tt_jw_finish(&w), TT_ERR);
    assert_string_equal(b.data, "keep");

    /* nothing written */
    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    assert_int_equal(tt_jw_finish(&w), TT_ERR);

    /* a second top-level value */
    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_int(&w, 1);
    tt_jw_int(&w, 2);
    assert_int_equal(tt_jw_finish(&w), TT_ERR);

    /* a key that is not a string */
    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_obj_open(&w);
    tt_jw_int(&w, 1);
    tt_jw_int(&w, 2);
    tt_jw_obj_close(&w);
    assert_int_equal(tt_jw_finish(&w), TT_ERR);

    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_obj_open(&w);
    tt_jw_key(&w, NULL);
    tt_jw_null(&w);
    tt_jw_obj_close(&w);
    assert_int_equal(tt_jw_finish(&w), TT_ERR);

    /* mismatched close */
    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_arr_open(&w);
    tt_jw_obj_close(&w);
    assert_int_equal(tt_jw_finish(&w), TT_ERR);

    /* no infinities or NaN in JSON */
    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_double(&w, INFINITY);
    assert_int_equal(tt_jw_finish(&w), TT_ERR);

    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_double(&w, NAN);
    assert_int_equal(tt_jw_finish(&w), TT_ERR);

    /* a time past 9999 cannot be written */
    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_time(&w, INT64_MAX);
    assert_int_equal(tt_jw_finish(&w), TT_ERR);

    /* a NULL string with a length */
    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_str(&w, NULL, 3);
    assert_int_equal(tt_jw_finish(&w), TT_ERR);

    /* a NULL tree */
    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_value(&w, NULL);
    assert_int_equal(tt_jw_finish(&w), TT_ERR);

    /* an output buffer that failed fails the writer */
    assert_int_equal(tt_jw_init(&w, &b), TT_OK);
    tt_jw_arr_open(&w);
    assert_int_equal(tt_buf_reserve(&b, SIZE_MAX), TT_NOMEM);
    tt_jw_arr_close(&w);
    assert_int_equal(tt_jw_finish(&w), TT_ERR);

    tt_buf_free(&b);
}


static void
test_writer_roundtrip(void **state)
{
    size_t       i;
    tt_buf_t     b1, b2;
    tt_jw_t      w;
    tt_json_t   *r1, *r2;
    tt_arena_t  *a;
    char         err[128];

    a = tt_arena_create(0);
    assert_non_null(a);

    /* parse, write, parse again: the second write is the same bytes */
    for (i = 0; i < TT_ARRAY_SIZE(goldens); i++) {
        r1 = tt_json_parse(a, goldens[i].in, strlen(goldens[i].in),
                           err, sizeof(err));
        assert_non_null(r1);

        tt_buf_init(&b1);
        assert_int_equal(tt_jw_init(&w, &b1), TT_OK);
        tt_jw_value(&w, r1);
        assert_int_equal(tt_jw_finish(&w), TT_OK);

        r2 = tt_json_parse(a, b1.data, b1.len, err, sizeof(err));
        assert_non_null(r2);
        assert_int_equal(r2->type, r1->type);

        tt_buf_init(&b2);
        assert_int_equal(tt_jw_init(&w, &b2), TT_OK);
        tt_jw_value(&w, r2);
        assert_int_equal(tt_jw_finish(&w), TT_OK);

        assert_int_equal(b1.len, b2.len);
        assert_memory_equal(b1.data, b2.data, b1.len);

        tt_buf_free(&b1);
        tt_buf_free(&b2);
    }

    tt_arena_destroy(a);
}


static void
test_utf8_scrub(void **state)
{
    size_t  i;
    char    s[32];

    static const struct {
        const char  *in;
        const char  *out;
    } cases[] = {
        { "plain", "plain" },
        { "caf\xc3\xa9", "caf\xc3\xa9" },              /* whole: kept */
        { "caf\xc3", "caf?" },                         /* cut after lead */
        { "\xe2\x82", "??" },                          /* cut 3-byte */
        { "a\xff" "b", "a?b" },                          /* never UTF-8 */
        { "\xc0\xaf", "??" },                          /* overlong */
        { "\xf0\x9f\x9a\x80!", "\xf0\x9f\x9a\x80!" },   /* 4 bytes */
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(s, sizeof(s), "%s", cases[i].in);
        tt_utf8_scrub(s, strlen(s));
        assert_string_equal(s, cases[i].out);
        assert_true(tt_utf8_valid(s, strlen(s)));
    }
}


static void
test_utf16_len(void **state)
{
    assert_int_equal(tt_utf16_len("", 0), 0);
    assert_int_equal(tt_utf16_len("abc", 3), 3);
    /* an accent is one unit, precomposed or not */
    assert_int_equal(tt_utf16_len("caf\xc3\xa9", 5), 4);
    assert_int_equal(tt_utf16_len("cafe\xcc\x81", 6), 5);
    assert_int_equal(tt_utf16_len("\xe2\x82\xac", 3), 1);
    /* an emoji beyond the BMP is a surrogate pair */
    assert_int_equal(tt_utf16_len("\xf0\x9f\x98\x80", 4), 2);
    assert_int_equal(tt_utf16_len("hi \xf0\x9f\x98\x80\xf0\x9f\x98\x80!", 12),
                     8);
    /* the family emoji: 4 people and 3 zero width joiners */
    assert_int_equal(tt_utf16_len("\xf0\x9f\x91\xa8\xe2\x80\x8d"
                                  "\xf0\x9f\x91\xa9\xe2\x80\x8d"
                                  "\xf0\x9f\x91\xa7\xe2\x80\x8d"
                                  "\xf0\x9f\x91\xa6", 25), 11);
}


static void
test_conf_roundtrip(void **state)
{
    tt_buf_t     b;
    tt_conf_t    c, d;
    tt_arena_t  *a;

    memset(&c, 0, sizeof(c));
    c.store_path = "/var/lib/tiktok";
    c.wake_socket = "/run/tiktok/wake.sock";
    c.spool_dir = NULL;
    c.api_base = "https://open.tiktokapis.com";
    c.auth_url = "https://www.tiktok.com/v2/auth/authorize/";
    c.client_key = "aw\"k\\ey\xc3\xa9";
    c.client_secret_file = "/etc/tiktok/secret";
    c.token_key_file = "/etc/tiktok/token.key";
    c.max_lateness_ms = 3600000;
    c.max_uploads = 64;
    c.chunk_size = 10485760;
    c.refresh_margin_ms = INT64_MAX;
    c.spool_retention_ms = 0;
    c.spool_quota = (int64_t) 3 << 40;
    c.allow_private_media = 1;

    tt_buf_init(&b);
    assert_int_equal(tt_conf_encode(&c, &b), TT_OK);

    a = tt_arena_create(0);
    assert_non_null(a);

    memset(&d, 0xff, sizeof(d));
    assert_int_equal(tt_conf_decode(b.data, b.len, a, &d), TT_OK);

    assert_string_equal(d.store_path, c.store_path);
    assert_string_equal(d.wake_socket, c.wake_socket);
    assert_null(d.spool_dir);
    assert_string_equal(d.api_base, c.api_base);
    assert_string_equal(d.auth_url, c.auth_url);
    assert_string_equal(d.client_key, c.client_key);
    assert_string_equal(d.client_secret_file, c.client_secret_file);
    assert_string_equal(d.token_key_file, c.token_key_file);
    assert_true(d.max_lateness_ms == c.max_lateness_ms);
    assert_true(d.max_uploads == c.max_uploads);
    assert_true(d.chunk_size == c.chunk_size);
    assert_true(d.refresh_margin_ms == c.refresh_margin_ms);
    assert_true(d.spool_retention_ms == 0);
    assert_true(d.spool_quota == c.spool_quota);
    assert_int_equal(d.allow_private_media, 1);

    /* the keys are named as the fields */
    assert_non_null(strstr(b.data, "\"store_path\":\"/var/lib/tiktok\""));
    assert_non_null(strstr(b.data, "\"spool_dir\":null"));
    assert_non_null(strstr(b.data, "\"allow_private_media\":true"));

    tt_buf_free(&b);
    tt_arena_destroy(a);
}


static int
conf_decode(const char *s, tt_arena_t *a, tt_conf_t *c)
{
    return tt_conf_decode(s, strlen(s), a, c);
}


static void
test_conf_decode(void **state)
{
    tt_conf_t    c;
    tt_arena_t  *a;

    a = tt_arena_create(0);
    assert_non_null(a);

    /* missing keys are zero or NULL; unknown ones are ignored */
    memset(&c, 0xff, sizeof(c));
    assert_int_equal(conf_decode("{\"max_uploads\":3,\"future\":[1,{}]}",
                                 a, &c), TT_OK);
    assert_true(c.max_uploads == 3);
    assert_null(c.store_path);
    assert_null(c.token_key_file);
    assert_true(c.chunk_size == 0);
    assert_int_equal(c.allow_private_media, 0);

    /* except the spool's, where 0 means something: their defaults */
    assert_true(c.spool_retention_ms == TT_SPOOL_RETENTION_DEFAULT);
    assert_true(c.spool_quota == TT_SPOOL_QUOTA_DEFAULT);
    assert_int_equal(conf_decode("{\"spool_retention_ms\":0,"
                                 "\"spool_quota\":0}", a, &c), TT_OK);
    assert_true(c.spool_retention_ms == 0);
    assert_true(c.spool_quota == 0);
    assert_int_equal(conf_decode("{\"spool_quota\":\"10g\"}", a, &c),
                     TT_INVALID);

    assert_int_equal(conf_decode("{}", a, &c), TT_OK);

    /* wrong types, and what is not a JSON object */
    assert_int_equal(conf_decode("{\"max_uploads\":\"3\"}", a, &c),
                     TT_INVALID);
    assert_int_equal(conf_decode("{\"max_uploads\":3.5}", a, &c),
                     TT_INVALID);
    assert_int_equal(conf_decode("{\"max_uploads\":1e30}", a, &c),
                     TT_INVALID);
    assert_int_equal(conf_decode("{\"store_path\":1}", a, &c),
                     TT_INVALID);
    assert_int_equal(conf_decode("{\"store_path\":\"a\\u0000b\"}", a, &c),
                     TT_INVALID);
    assert_int_equal(conf_decode("{\"allow_private_media\":1}", a, &c),
                     TT_INVALID);
    assert_int_equal(conf_decode("[]", a, &c), TT_INVALID);
    assert_int_equal(conf_decode("{", a, &c), TT_INVALID);
    assert_int_equal(conf_decode("", a, &c), TT_INVALID);

    tt_arena_destroy(a);
}


static void
write_file(const char *path, const char *data, size_t len)
{
    FILE  *f;

    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}


static void
test_read_secret(void **state)
{
    char        *dir, path[512];
    char         big[5000];
    tt_str_t     s;
    tt_arena_t  *a;

    dir = tt_test_mkdtemp();
    a = tt_arena_create(0);
    assert_non_null(a);

    snprintf(path, sizeof(path), "%s/s", dir);

    write_file(path, "sekrit\n", 7);
    assert_int_equal(tt_read_secret(path, a, &s), TT_OK);
    assert_int_equal(s.len, 6);
    assert_string_equal(s.data, "sekrit");

    write_file(path, "sekrit\r\n", 8);
    assert_int_equal(tt_read_secret(path, a, &s), TT_OK);
    assert_int_equal(s.len, 6);

    /* only one newline goes; inner bytes stay */
    write_file(path, " a b\n\n", 6);
    assert_int_equal(tt_read_secret(path, a, &s), TT_OK);
    assert_int_equal(s.len, 5);
    assert_memory_equal(s.data, " a b\n", 5);

    write_file(path, "nonl", 4);
    assert_int_equal(tt_read_secret(path, a, &s), TT_OK);
    assert_string_equal(s.data, "nonl");

    write_file(path, "\n", 1);
    errno = 0;
    assert_int_equal(tt_read_secret(path, a, &s), TT_ERR);
    assert_int_equal(errno, ENODATA);

    memset(big, 'x', sizeof(big));
    write_file(path, big, sizeof(big));
    errno = 0;
    assert_int_equal(tt_read_secret(path, a, &s), TT_ERR);
    assert_int_equal(errno, EFBIG);

    write_file(path, big, 4096);
    assert_int_equal(tt_read_secret(path, a, &s), TT_OK);
    assert_int_equal(s.len, 4096);

    snprintf(path, sizeof(path), "%s/missing", dir);
    errno = 0;
    assert_int_equal(tt_read_secret(path, a, &s), TT_ERR);
    assert_int_equal(errno, ENOENT);

    errno = 0;
    assert_int_equal(tt_read_secret(dir, a, &s), TT_ERR);
    assert_int_equal(errno, EINVAL);

    tt_arena_destroy(a);
    tt_test_rmdir(dir);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_golden_chunks),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_duplicates_big),
        cmocka_unit_test(test_big_document),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_strings_tree),
        cmocka_unit_test(test_parse_api),
        cmocka_unit_test(test_writer),
        cmocka_unit_test(test_writer_failures),
        cmocka_unit_test(test_writer_roundtrip),
        cmocka_unit_test(test_utf16_len),
        cmocka_unit_test(test_utf8_scrub),
        cmocka_unit_test(test_conf_roundtrip),
        cmocka_unit_test(test_conf_decode),
        cmocka_unit_test(test_read_secret),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
