/*
 * Copyright (C) the ngx_tiktok authors.
 * libFuzzer target: the JSON parser in two chunks, the writer, re-parsing.
 *
 * clang -g -O1 -fsanitize=fuzzer,address,undefined -Icore \
 *     fuzz/fuzz_json.c core/tt_json.c core/tt_buf.c core/tt_time.c \
 *     -lyajl -o fuzz_json
 */

#include <stdio.h>
#include <stdlib.h>

#include "tt_json.h"
#include "tt_time.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(tt_arena_t *a, const uint8_t *data, size_t size,
    size_t split, tt_json_t **root, char *err, size_t err_len);
static void write_tree(const tt_json_t *root, tt_buf_t *out);


/* a fuzz target reports a broken property by crashing, loudly */
#define check(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_json: %s:%d: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                  \
            abort();                                                         \
        }                                                                    \
    } while (0)


static int
parse(tt_arena_t *a, const uint8_t *data, size_t size, size_t split,
    tt_json_t **root, char *err, size_t err_len)
{
    int                rc;
    tt_json_parser_t  *p;

    p = tt_json_parser_create(a, TT_JSON_MAX_DEPTH, 1 << 16);
    check(p != NULL);

    rc = tt_json_parser_feed(p, data, split);

    if (rc == TT_OK) {
        rc = tt_json_parser_feed(p, data + split, size - split);
    }

    if (rc == TT_OK) {
        rc = tt_json_parser_finish(p, root);
    }

    if (rc != TT_OK) {
        check(rc == TT_INVALID);
        check(tt_json_parser_error(p) != NULL);
        check(tt_json_parser_err_kind(p) >= TT_JSON_ESYNTAX
              && tt_json_parser_err_kind(p) <= TT_JSON_ELIMIT);
        snprintf(err, err_len, "%s", tt_json_parser_error(p));

    } else {
        check(*root != NULL);
        err[0] = '\0';
    }

    tt_json_parser_destroy(p);

    return rc;
}


static void
write_tree(const tt_json_t *root, tt_buf_t *out)
{
    tt_jw_t  w;

    check(tt_jw_init(&w, out) == TT_OK);
    tt_jw_value(&w, root);
    check(tt_jw_finish(&w) == TT_OK);
    check(out->len > 0 && out->data[out->len] == '\0');
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int          rc1, rc2;
    size_t       split, n;
    int64_t      ms, back;
    tt_buf_t     out1, out2;
    tt_json_t   *r1, *r2;
    tt_arena_t  *a;
    char         err1[256], err2[256], tbuf[TT_TIME_LEN + 1];

    split = size ? data[0] % size : 0;

    a = tt_arena_create(1024);
    check(a != NULL);

    rc1 = parse(a, data, size, split, &r1, err1, sizeof(err1));

    /* how the input is cut never changes the outcome or the message */
    rc2 = parse(a, data, size, 0, &r2, err2, sizeof(err2));
    check(rc1 == rc2);
    check(strcmp(err1, err2) == 0);

    if (rc1 == TT_OK) {
        /* what was accepted can be written, and reads back the same */
        tt_buf_init(&out1);
        write_tree(r1, &out1);

        rc2 = parse(a, (const uint8_t *) out1.data, out1.len, out1.len / 2,
                    &r2, err2, sizeof(err2));
        if (rc2 != TT_OK) {
            fprintf(stderr, "fuzz_json: re-parse failed: %s\n", err2);
            abort();
        }

        check(r2->type == r1->type);

        tt_buf_init(&out2);
        write_tree(r2, &out2);
        check(out1.len == out2.len);
        check(memcmp(out1.data, out2.data, out1.len) == 0);

        tt_buf_free(&out1);
        tt_buf_free(&out2);

        if (r1->type == TT_JSON_STRING) {
            check(tt_utf16_len(r1->str, r1->len) <= r1->len);
        }
    }

    tt_arena_destroy(a);

    /* the same bytes as a time: whatever parses formats and parses back */
    if (tt_time_parse((const char *) data, size, &ms) == TT_OK) {
        check(ms >= 0);
        n = tt_time_format(ms, tbuf);
        check(n == 20 || n == TT_TIME_LEN);
        check(tt_time_parse(tbuf, n, &back) == TT_OK);
        check(back == ms);
    }

    return 0;
}
