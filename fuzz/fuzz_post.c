/*
 * Copyright (C) the ngx_tiktok authors.
 * libFuzzer target: post bodies through validation, apply and the record.
 */


#include <stdio.h>
#include <stdlib.h>

#include "tt_post.h"


#define FUZZ_NOW  1767225600000LL


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define fuzz_check(cond)                                                     \
    if (!(cond)) {                                                           \
        fprintf(stderr, "fuzz_post: %s:%d: %s\n", __FILE__, __LINE__,       \
                #cond);                                                      \
        abort();                                                             \
    }


/* render, encode, peek, decode, encode again: every step must agree */
static void
fuzz_record(const tt_post_t *p, tt_arena_t *a)
{
    char            err[128];
    tt_buf_t        api, rec, again;
    tt_jw_t         w;
    tt_post_t       d;
    tt_post_peek_t  peek;

    tt_buf_init(&api);
    tt_buf_init(&rec);
    tt_buf_init(&again);

    fuzz_check(tt_jw_init(&w, &api) == TT_OK);
    tt_post_render(&w, p);
    fuzz_check(tt_jw_finish(&w) == TT_OK);

    /* what GET answers is valid JSON */
    fuzz_check(tt_json_parse(a, api.data, api.len, err, sizeof(err))
               != NULL);

    fuzz_check(tt_post_encode(p, &rec) == TT_OK);
    fuzz_check(tt_post_peek(rec.data, rec.len, &peek) == TT_OK);
    fuzz_check(peek.api.len == api.len);
    fuzz_check(memcmp(peek.api.data, api.data, api.len) == 0);
    fuzz_check(peek.status == p->status);
    fuzz_check(peek.due_at == p->due_at);
    fuzz_check(peek.scheduled_at == p->scheduled_at);

    fuzz_check(tt_post_decode(rec.data, rec.len, a, &d) == TT_OK);
    fuzz_check(d.body_len == p->body_len);
    fuzz_check(memcmp(d.body, p->body, p->body_len) == 0);
    fuzz_check(d.nmedia == p->nmedia);
    fuzz_check(d.nplatforms == p->nplatforms);

    fuzz_check(tt_post_encode(&d, &again) == TT_OK);
    fuzz_check(again.len == rec.len);
    fuzz_check(memcmp(again.data, rec.data, rec.len) == 0);

    tt_buf_free(&api);
    tt_buf_free(&rec);
    tt_buf_free(&again);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int               rc, ok;
    char              err[128];
    tt_post_t         p;
    tt_arena_t       *a;
    tt_json_t        *root;
    tt_errors_t       errs;
    tt_post_input_t   in;
    tt_post_peek_t    peek;

    a = tt_arena_create(4096);
    if (a == NULL) {
        return 0;
    }

    /* the record parser must survive any bytes */
    if (tt_post_peek(data, size, &peek) == TT_OK) {
        fuzz_check(peek.api.len <= size);
    }

    (void) tt_post_decode(data, size, a, &p);

    root = tt_json_parse(a, data, size, err, sizeof(err));
    if (root == NULL) {
        goto done;
    }

    /* create */
    tt_errors_init(&errs, a);
    rc = tt_post_input_parse(root, 0, "posts[0]: ", &in, &errs, a);
    fuzz_check(rc == TT_OK || rc == TT_INVALID);
    fuzz_check((rc == TT_OK) == (errs.n == 0));

    ok = 0;

    if (rc == TT_OK) {
        memcpy(in.profile_id, "prof_fuzz", sizeof("prof_fuzz"));

        tt_post_init(&p, FUZZ_NOW);
        memcpy(p.workspace_id, "ws_fuzz", sizeof("ws_fuzz"));

        /* on create every rule is checked by the parse: apply agrees */
        rc = tt_post_apply(&p, &in, FUZZ_NOW, NULL, &errs, a);
        fuzz_check(rc == TT_OK);
        fuzz_check(errs.n == 0);

        fuzz_record(&p, a);
        ok = 1;
    }

    /* PATCH, on the post just created */
    tt_errors_init(&errs, a);
    rc = tt_post_input_parse(root, 1, NULL, &in, &errs, a);
    fuzz_check(rc == TT_OK || rc == TT_INVALID);
    fuzz_check((rc == TT_OK) == (errs.n == 0));

    if (rc != TT_OK || !ok) {
        goto done;
    }

    rc = tt_post_apply(&p, &in, FUZZ_NOW + 1000, NULL, &errs, a);
    fuzz_check(rc == TT_OK || rc == TT_INVALID);
    fuzz_check((rc == TT_OK) == (errs.n == 0));

    if (rc == TT_OK) {
        fuzz_check(p.updated_at == FUZZ_NOW + 1000);
        fuzz_record(&p, a);
    }

done:

    tt_arena_destroy(a);

    return 0;
}
