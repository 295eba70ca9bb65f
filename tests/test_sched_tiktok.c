/*
 * Copyright (C) the ngx_tiktok authors.
 * Unit tests of the scheduler's TikTok logic: answers, error classes,
 * request bodies, int64 ids.  The file under test has no libcurl call,
 * so it is included here and linked with the core library only.
 */

#include "tt_test.h"
#include "../scheduler/sched_tiktok.c"


static tt_arena_t  *arena;


static int
setup(void **state)
{
    arena = tt_arena_create(4096);
    return arena ? 0 : -1;
}


static int
teardown(void **state)
{
    tt_arena_destroy(arena);
    return 0;
}


static void
answer(long status, CURLcode result, const char *body, sched_answer_t *ans)
{
    sched_http_t  h;

    memset(&h, 0, sizeof(h));
    tt_buf_init(&h.resp);
    h.status = status;
    h.result = result;

    if (body) {
        assert_int_equal(tt_buf_append_str(&h.resp, body), TT_OK);
    }

    sched_tt_answer(&h, arena, ans);
    tt_buf_free(&h.resp);
}


static void
test_answer_ok(void **state)
{
    sched_answer_t  ans;

    answer(200, CURLE_OK, "{\"data\":{\"publish_id\":\"v_pub~1\"},"
           "\"error\":{\"code\":\"ok\",\"message\":\"\",\"log_id\":\"x\"}}",
           &ans);
    assert_int_equal(ans.result, SCHED_R_OK);
    assert_string_equal(sched_tt_str(ans.data, "publish_id"), "v_pub~1");
}


static void
test_answer_classes(void **state)
{
    sched_answer_t  ans;

    /* policy: at once, with TikTok's code and a sentence */
    answer(403, CURLE_OK, "{\"data\":{},\"error\":{\"code\":"
           "\"spam_risk_too_many_posts\",\"message\":\"cap\"}}", &ans);
    assert_int_equal(ans.result, SCHED_R_FAIL);
    assert_string_equal(ans.code, "spam_risk_too_many_posts");
    assert_string_equal(ans.message, "cap");
    assert_non_null(ans.human);
    assert_non_null(ans.note);

    /* creator_info answers policy codes with HTTP 200 */
    answer(200, CURLE_OK, "{\"error\":{\"code\":"
           "\"spam_risk_user_banned_from_posting\",\"message\":\"\"}}", &ans);
    assert_int_equal(ans.result, SCHED_R_FAIL);

    answer(403, CURLE_OK, "{\"error\":{\"code\":"
           "\"privacy_level_option_mismatch\"}}", &ans);
    assert_int_equal(ans.result, SCHED_R_FAIL);

    answer(400, CURLE_OK, "{\"error\":{\"code\":\"invalid_params\","
           "\"message\":\"The chunk size is invalid\"}}", &ans);
    assert_int_equal(ans.result, SCHED_R_FAIL);
    assert_string_equal(ans.message, "The chunk size is invalid");

    /* transient */
    answer(429, CURLE_OK, "{\"error\":{\"code\":\"rate_limit_exceeded\"}}",
           &ans);
    assert_int_equal(ans.result, SCHED_R_RETRY);

    answer(500, CURLE_OK, "{\"error\":{\"code\":\"internal_error\"}}", &ans);
    assert_int_equal(ans.result, SCHED_R_RETRY);

    answer(502, CURLE_OK, "<html>bad gateway</html>", &ans);
    assert_int_equal(ans.result, SCHED_R_RETRY);

    answer(0, CURLE_OPERATION_TIMEDOUT, NULL, &ans);
    assert_int_equal(ans.result, SCHED_R_RETRY);
    assert_non_null(ans.human);

    /* a policy code behind a 5xx is still transient */
    answer(503, CURLE_OK, "{\"error\":{\"code\":\"invalid_params\"}}", &ans);
    assert_int_equal(ans.result, SCHED_R_RETRY);

    /* auth */
    answer(401, CURLE_OK, "{\"error\":{\"code\":\"access_token_invalid\"}}",
           &ans);
    assert_int_equal(ans.result, SCHED_R_AUTH);

    answer(401, CURLE_OK, "{\"error\":{\"code\":\"scope_not_authorized\"}}",
           &ans);
    assert_int_equal(ans.result, SCHED_R_FAIL);

    /* an unknown 4xx is permanent, an unparsable 200 transient */
    answer(418, CURLE_OK, "{\"error\":{\"code\":\"teapot\"}}", &ans);
    assert_int_equal(ans.result, SCHED_R_FAIL);
    assert_string_equal(ans.code, "teapot");

    answer(200, CURLE_OK, "{\"data\":", &ans);
    assert_int_equal(ans.result, SCHED_R_RETRY);
}


static void
test_fail_reason(void **state)
{
    sched_answer_t  ans;

    memset(&ans, 0, sizeof(ans));

    sched_tt_fail_reason("internal", &ans);
    assert_int_equal(ans.result, SCHED_R_RETRY);

    sched_tt_fail_reason("photo_pull_failed", &ans);
    assert_int_equal(ans.result, SCHED_R_RETRY);

    sched_tt_fail_reason("spam_risk_text", &ans);
    assert_int_equal(ans.result, SCHED_R_FAIL);
    assert_string_equal(ans.code, "spam_risk_text");

    sched_tt_fail_reason("frame_rate_check_failed", &ans);
    assert_int_equal(ans.result, SCHED_R_FAIL);

    sched_tt_fail_reason("something_new", &ans);
    assert_int_equal(ans.result, SCHED_R_FAIL);
    assert_non_null(ans.human);
}


static void
test_int64(void **state)
{
    tt_json_t   *root;
    int64_t      v;
    char         err[64];
    const char  *in;

    /* 19 digits: a double would round this */
    in = "[7317478932345678901, \"7317478932345678903\", 1.5, -3, "
         "99999999999999999999]";
    root = tt_json_parse(arena, in, strlen(in), err, sizeof(err));
    if (root == NULL) {
        fail_msg("%s", err);
    }

    assert_int_equal(sched_tt_int64(root->items[0], &v), SCHED_OK);
    assert_true(v == 7317478932345678901LL);
    assert_int_equal(sched_tt_int64(root->items[1], &v), SCHED_OK);
    assert_true(v == 7317478932345678903LL);
    assert_int_equal(sched_tt_int64(root->items[2], &v), SCHED_ERR);
    assert_int_equal(sched_tt_int64(root->items[3], &v), SCHED_ERR);
    assert_int_equal(sched_tt_int64(root->items[4], &v), SCHED_ERR);
    assert_int_equal(sched_tt_int64(NULL, &v), SCHED_ERR);
}


static void
post_fixture(tt_post_t *p, tt_platform_t *pl, tt_media_t *m)
{
    memset(p, 0, sizeof(*p));
    memset(pl, 0, sizeof(*pl));
    memset(m, 0, 2 * sizeof(*m));

    p->body = "a #cat \"video\"";
    p->body_len = strlen(p->body);
    p->platforms = pl;
    p->nplatforms = 1;
    p->media = m;
    p->nmedia = 2;
    m[0].source_url = "https://cdn.example.com/a.jpg";
    m[1].source_url = "https://cdn.example.com/b.jpg";

    pl->params.privacy = TT_PRIVACY_SELF;
    pl->params.video_cover_timestamp_ms = -1;
    pl->params.disable_comment = 1;
    pl->params.made_with_ai = 1;
}


static tt_json_t *
parse_buf(tt_buf_t *b)
{
    tt_json_t  *root;
    char        err[64];

    root = tt_json_parse(arena, b->data, b->len, err, sizeof(err));
    assert_non_null(root);

    return root;
}


static void
test_video_init(void **state)
{
    tt_post_t         p;
    tt_platform_t     pl;
    tt_media_t        m[2];
    tt_chunk_plan_t   plan;
    tt_buf_t          b;
    tt_json_t        *root, *pi, *si;
    int64_t           v;

    post_fixture(&p, &pl, m);
    assert_int_equal(tt_chunk_plan(50000123, 10000000, &plan), TT_OK);

    tt_buf_init(&b);
    assert_int_equal(sched_tt_video_init(&p, &pl, &plan, &b), SCHED_OK);
    root = parse_buf(&b);

    pi = tt_json_get(root, "post_info");
    assert_string_equal(sched_tt_str(pi, "title"), "a #cat \"video\"");
    assert_string_equal(sched_tt_str(pi, "privacy_level"), "SELF_ONLY");
    assert_int_equal(tt_json_get(pi, "disable_comment")->type, TT_JSON_TRUE);
    assert_int_equal(tt_json_get(pi, "is_aigc")->type, TT_JSON_TRUE);
    assert_int_equal(tt_json_get(pi, "brand_content_toggle")->type,
                     TT_JSON_FALSE);
    assert_int_equal(tt_json_get(pi, "brand_organic_toggle")->type,
                     TT_JSON_FALSE);
    assert_null(tt_json_get(pi, "video_cover_timestamp_ms"));

    si = tt_json_get(root, "source_info");
    assert_string_equal(sched_tt_str(si, "source"), "FILE_UPLOAD");
    assert_int_equal(sched_tt_int64(tt_json_get(si, "video_size"), &v), 0);
    assert_int_equal(v, 50000123);
    assert_int_equal(sched_tt_int64(tt_json_get(si, "chunk_size"), &v), 0);
    assert_int_equal(v, 10000000);
    assert_int_equal(sched_tt_int64(tt_json_get(si, "total_chunk_count"),
                                    &v), 0);
    assert_int_equal(v, 5);
    tt_buf_free(&b);

    /* inbox: source_info only */
    pl.params.post_mode = TT_MODE_UPLOAD;
    pl.params.video_cover_timestamp_ms = 1500;
    tt_buf_init(&b);
    assert_int_equal(sched_tt_video_init(&p, &pl, &plan, &b), SCHED_OK);
    root = parse_buf(&b);
    assert_null(tt_json_get(root, "post_info"));
    assert_non_null(tt_json_get(root, "source_info"));
    tt_buf_free(&b);

    /* the cover timestamp when set */
    pl.params.post_mode = TT_MODE_DIRECT;
    tt_buf_init(&b);
    assert_int_equal(sched_tt_video_init(&p, &pl, &plan, &b), SCHED_OK);
    root = parse_buf(&b);
    pi = tt_json_get(root, "post_info");
    assert_int_equal(sched_tt_int64(tt_json_get(pi,
                                    "video_cover_timestamp_ms"), &v), 0);
    assert_int_equal(v, 1500);
    tt_buf_free(&b);
}


static void
test_photo_init(void **state)
{
    tt_post_t       p;
    tt_platform_t   pl;
    tt_media_t      m[2];
    tt_buf_t        b;
    tt_json_t      *root, *pi, *si, *imgs;
    int64_t         v;

    post_fixture(&p, &pl, m);
    pl.params.format = TT_FORMAT_IMAGE;
    pl.params.photo_cover_index = 1;

    tt_buf_init(&b);
    assert_int_equal(sched_tt_photo_init(&p, &pl, &b), SCHED_OK);
    root = parse_buf(&b);

    assert_string_equal(sched_tt_str(root, "media_type"), "PHOTO");
    assert_string_equal(sched_tt_str(root, "post_mode"), "DIRECT_POST");

    pi = tt_json_get(root, "post_info");
    assert_null(tt_json_get(pi, "title"));
    assert_string_equal(sched_tt_str(pi, "description"), p.body);
    assert_string_equal(sched_tt_str(pi, "privacy_level"), "SELF_ONLY");

    si = tt_json_get(root, "source_info");
    assert_string_equal(sched_tt_str(si, "source"), "PULL_FROM_URL");
    assert_int_equal(sched_tt_int64(tt_json_get(si, "photo_cover_index"),
                                    &v), 0);
    assert_int_equal(v, 1);
    imgs = tt_json_get(si, "photo_images");
    assert_int_equal(imgs->n, 2);
    assert_string_equal(imgs->items[1]->str, "https://cdn.example.com/b.jpg");
    tt_buf_free(&b);

    /* a draft: no privacy, no interaction settings */
    pl.params.post_mode = TT_MODE_UPLOAD;
    tt_buf_init(&b);
    assert_int_equal(sched_tt_photo_init(&p, &pl, &b), SCHED_OK);
    root = parse_buf(&b);
    assert_string_equal(sched_tt_str(root, "post_mode"), "MEDIA_UPLOAD");
    pi = tt_json_get(root, "post_info");
    assert_null(tt_json_get(pi, "privacy_level"));
    assert_null(tt_json_get(pi, "disable_comment"));
    tt_buf_free(&b);
}


static void
test_status_body(void **state)
{
    tt_buf_t  b;

    tt_buf_init(&b);
    assert_int_equal(sched_tt_status_body("v_pub_file~v2-1.12", &b),
                     SCHED_OK);
    assert_string_equal(b.data, "{\"publish_id\":\"v_pub_file~v2-1.12\"}");
    tt_buf_free(&b);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_answer_ok),
        cmocka_unit_test(test_answer_classes),
        cmocka_unit_test(test_fail_reason),
        cmocka_unit_test(test_int64),
        cmocka_unit_test(test_video_init),
        cmocka_unit_test(test_photo_init),
        cmocka_unit_test(test_status_body),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
