/*
 * Copyright (C) the ngx_tiktok authors.
 * Unit tests of the post: input rules, apply, settle, render and record.
 */


#include "tt_test.h"

#include <math.h>

#include "tt_post.h"
#include "tt_time.h"


#define T_NOW       1767225600000LL     /* 2026-01-01T00:00:00Z */
#define T_SEED_AT   1778576400000LL     /* 2026-05-12T09:00:00Z */

/* the record header: [version][workspace 32][group 32][status][3 x 8][4] */
#define T_HDR_GROUP    33
#define T_HDR_STATUS   65
#define T_HDR_API_LEN  90
#define T_HDR_LEN      94


typedef struct {
    tt_arena_t       *a;
    tt_errors_t       errs;
    tt_post_input_t   in;
} t_ctx_t;


static const char  t_seed_video[] =
    "{\"post\": {\"body\": \"New product drop. Link in bio.\","
    "  \"scheduled_at\": \"2026-05-12T09:00:00Z\"},"
    " \"profiles\": [\"tiktok\"],"
    " \"media\": [\"https://yourcdn.com/launch-9x16.mp4\"],"
    " \"platforms\": {\"tiktok\": {\"privacy_status\": "
    "\"PUBLIC_TO_EVERYONE\"}}}";

static const char  t_seed_image[] =
    "{\"post\": { \"body\": \"Behind the scenes \xe2\x80\x94 swipe "
    "\xe2\x86\x92\" },"
    " \"profiles\": [\"tiktok\"],"
    " \"media\": [\"https://yourcdn.com/bts-1.jpg\","
    "   \"https://yourcdn.com/bts-2.jpg\", \"https://yourcdn.com/bts-3.jpg\"],"
    " \"platforms\": {\"tiktok\": {\"format\": \"image\","
    "   \"privacy_status\": \"PUBLIC_TO_EVERYONE\", \"photo_cover_index\": 0"
    "}}}";

static const char  t_seed_queue[] =
    "{\"post\": { \"body\": \"How we shoot this stuff.\" },"
    " \"profiles\": [\"tiktok\"],"
    " \"media\": [\"https://yourcdn.com/bts.mp4\"],"
    " \"queue_id\": \"q1abc\", \"queue_priority\": \"medium\","
    " \"platforms\": {\"tiktok\": { \"privacy_status\": "
    "\"PUBLIC_TO_EVERYONE\" }}}";


static int
t_setup(void **state)
{
    t_ctx_t  *t;

    t = calloc(1, sizeof(t_ctx_t));
    assert_non_null(t);

    t->a = tt_arena_create(4096);
    assert_non_null(t->a);

    tt_errors_init(&t->errs, t->a);

    *state = t;
    return 0;
}


static int
t_teardown(void **state)
{
    t_ctx_t  *t;

    t = *state;
    tt_arena_destroy(t->a);
    free(t);
    return 0;
}


static tt_json_t *
t_json(t_ctx_t *t, const char *s)
{
    char        err[128];
    tt_json_t  *j;

    j = tt_json_parse(t->a, s, strlen(s), err, sizeof(err));
    if (j == NULL) {
        fail_msg("bad test JSON: %s: %s", err, s);
    }

    return j;
}


static int
t_parse(t_ctx_t *t, const char *s, int patch)
{
    tt_errors_init(&t->errs, t->a);
    return tt_post_input_parse(t_json(t, s), patch, NULL, &t->in, &t->errs,
                               t->a);
}


static void
t_print_errors(const tt_errors_t *e)
{
    size_t  i;

    for (i = 0; i < e->n; i++) {
        print_message("  error: %s\n", e->msgs[i]);
    }
}


/* the errors, exactly and in order; the list ends with NULL */
static void
t_expect(const tt_errors_t *e, ...)
{
    size_t       n;
    va_list      ap;
    const char  *want;

    va_start(ap, e);

    for (n = 0; ; n++) {
        want = va_arg(ap, const char *);
        if (want == NULL) {
            break;
        }

        if (n >= e->n) {
            t_print_errors(e);
            fail_msg("missing error %zu: \"%s\"", n, want);
        }

        if (strcmp(e->msgs[n], want) != 0) {
            t_print_errors(e);
        }

        assert_string_equal(e->msgs[n], want);
    }

    va_end(ap);

    if (n != e->n) {
        t_print_errors(e);
    }

    assert_int_equal(e->n, n);
}


/* create a post from a body that must be valid */
static void
t_create(t_ctx_t *t, const char *s, tt_post_t *p)
{
    int  rc;

    rc = t_parse(t, s, 0);
    if (rc != TT_OK) {
        t_print_errors(&t->errs);
    }

    assert_int_equal(rc, TT_OK);

    memcpy(t->in.profile_id, "prof_abc", sizeof("prof_abc"));

    tt_post_init(p, T_NOW);
    rc = tt_post_apply(p, &t->in, T_NOW, NULL, &t->errs, t->a);
    if (rc != TT_OK) {
        t_print_errors(&t->errs);
    }

    assert_int_equal(rc, TT_OK);
}


static int
t_patch(t_ctx_t *t, tt_post_t *p, const char *s, int64_t now)
{
    int  rc;

    rc = t_parse(t, s, 1);
    if (rc != TT_OK) {
        return rc;
    }

    return tt_post_apply(p, &t->in, now, NULL, &t->errs, t->a);
}


static void
test_seed_video(void **state)
{
    t_ctx_t    *t;
    tt_post_t   p;

    t = *state;

    assert_int_equal(t_parse(t, t_seed_video, 0), TT_OK);
    assert_int_equal(t->errs.n, 0);
    assert_true(t->in.has_body);
    assert_int_equal(t->in.body.len, strlen("New product drop. Link in bio."));
    assert_true(t->in.has_scheduled_at);
    assert_int_equal(t->in.scheduled_at, T_SEED_AT);
    assert_false(t->in.has_draft);
    assert_true(t->in.has_profiles);
    assert_int_equal(t->in.nprofiles, 1);
    assert_memory_equal(t->in.profiles[0].data, "tiktok", 6);
    assert_int_equal(t->in.nmedia, 1);
    assert_true(t->in.has_tiktok);
    assert_non_null(t->in.tiktok);
    assert_false(t->in.has_queue_id);
    assert_false(t->in.has_queue_priority);

    t_create(t, t_seed_video, &p);

    assert_true(tt_id_valid("p_", p.id, strlen(p.id)));
    assert_string_equal(p.body, "New product drop. Link in bio.");
    assert_int_equal(p.scheduled_at, T_SEED_AT);
    assert_int_equal(p.created_at, T_NOW);
    assert_int_equal(p.updated_at, T_NOW);
    assert_false(p.draft);
    assert_string_equal(p.queue_id, "");
    assert_int_equal(p.queue_priority, TT_PRIORITY_NONE);

    assert_int_equal(p.nmedia, 1);
    assert_true(tt_id_valid("m_", p.media[0].id, strlen(p.media[0].id)));
    assert_int_equal(p.media[0].status, TT_MEDIA_PENDING);
    assert_string_equal(p.media[0].source_url,
                        "https://yourcdn.com/launch-9x16.mp4");
    assert_int_equal(p.media[0].size, -1);
    assert_null(p.media[0].content_type);

    assert_int_equal(p.nplatforms, 1);
    assert_string_equal(p.platforms[0].profile_id, "prof_abc");
    assert_int_equal(p.platforms[0].status, TT_PLAT_PENDING);
    assert_int_equal(p.platforms[0].params.privacy, TT_PRIVACY_PUBLIC);
    assert_int_equal(p.platforms[0].params.format, TT_FORMAT_VIDEO);
    assert_int_equal(p.platforms[0].params.post_mode, TT_MODE_DIRECT);
    assert_int_equal(p.platforms[0].params.video_cover_timestamp_ms, -1);
    assert_int_equal(p.platforms[0].attempted_at, -1);
    assert_int_equal(p.platforms[0].next_attempt_at, -1);

    /* media to fetch first: pending and due now */
    assert_int_equal(p.status, TT_POST_PENDING);
    assert_int_equal(p.due_at, T_NOW);

    /* once probed it waits for its time */
    p.media[0].status = TT_MEDIA_PROCESSED;
    tt_post_settle(&p, T_NOW + 5);
    assert_int_equal(p.status, TT_POST_SCHEDULED);
    assert_int_equal(p.due_at, T_SEED_AT);
}


static void
test_seed_image(void **state)
{
    t_ctx_t    *t;
    tt_post_t   p;

    t = *state;

    t_create(t, t_seed_image, &p);

    assert_string_equal(p.body, "Behind the scenes \xe2\x80\x94 swipe "
                        "\xe2\x86\x92");
    assert_int_equal(p.nmedia, 3);
    assert_string_equal(p.media[2].source_url,
                        "https://yourcdn.com/bts-3.jpg");
    assert_string_not_equal(p.media[0].id, p.media[1].id);
    assert_int_equal(p.platforms[0].params.format, TT_FORMAT_IMAGE);
    assert_int_equal(p.platforms[0].params.photo_cover_index, 0);
    assert_int_equal(p.scheduled_at, -1);

    /* no time, no queue: as soon as media is processed */
    p.media[0].status = TT_MEDIA_PROCESSED;
    p.media[1].status = TT_MEDIA_PROCESSED;
    p.media[2].status = TT_MEDIA_PROCESSED;
    tt_post_settle(&p, T_NOW + 7);
    assert_int_equal(p.status, TT_POST_SCHEDULED);
    assert_int_equal(p.due_at, T_NOW + 7);

    /* a cover past the last image */
    assert_int_equal(t_parse(t, "{\"post\": {}, \"media\": [\"http://a/1\","
                             "\"http://a/2\"], \"platforms\": {\"tiktok\": "
                             "{\"privacy_status\": \"SELF_ONLY\", \"format\":"
                             " \"image\", \"photo_cover_index\": 2}}}", 0),
                     TT_INVALID);
    t_expect(&t->errs, "platforms.tiktok.photo_cover_index must be less "
             "than the number of media (2)", NULL);
}


static void
test_seed_queue(void **state)
{
    t_ctx_t    *t;
    tt_post_t   p;

    t = *state;

    t_create(t, t_seed_queue, &p);

    assert_true(t->in.has_queue_id);
    assert_true(t->in.has_queue_priority);
    assert_int_equal(t->in.queue_priority, TT_PRIORITY_MEDIUM);
    assert_string_equal(p.queue_id, "q1abc");
    assert_int_equal(p.queue_priority, TT_PRIORITY_MEDIUM);
    assert_int_equal(p.scheduled_at, -1);

    /* no priority given: medium once queued */
    t_create(t, "{\"post\": {}, \"media\": [\"https://x.io/v.mp4\"],"
             "\"queue_id\": \"q_abc\", \"platforms\": {\"tiktok\": "
             "{\"privacy_status\": \"SELF_ONLY\"}}}", &p);
    assert_int_equal(p.queue_priority, TT_PRIORITY_MEDIUM);

    t_create(t, "{\"post\": {}, \"media\": [\"https://x.io/v.mp4\"],"
             "\"queue_id\": \"q_abc\", \"queue_priority\": \"high\","
             "\"platforms\": {\"tiktok\": "
             "{\"privacy_status\": \"SELF_ONLY\"}}}", &p);
    assert_int_equal(p.queue_priority, TT_PRIORITY_HIGH);
}


static void
test_all_params(void **state)
{
    t_ctx_t             *t;
    tt_post_t            p;
    tt_tiktok_params_t  *pr;

    t = *state;

    t_create(t, "{\"post\": {\"body\": \"x\", \"draft\": true, "
             "\"scheduled_at\": \"2026-05-12T11:00:00+02:00\"},"
             "\"profiles\": [\"prof_1\"], \"media\": [\"HTTPS://a.b:8443/v\"],"
             "\"platforms\": {\"tiktok\": {\"privacy_status\": "
             "\"FOLLOWER_OF_CREATOR\", \"format\": \"video\", \"post_mode\": "
             "\"MEDIA_UPLOAD\", \"video_cover_timestamp_ms\": 1500, "
             "\"auto_add_music\": true, \"disable_comment\": true, "
             "\"disable_duet\": true, \"disable_stitch\": true, "
             "\"brand_content_toggle\": true, \"brand_organic_toggle\": true,"
             " \"made_with_ai\": true}}}", &p);

    pr = &p.platforms[0].params;

    assert_int_equal(p.scheduled_at, T_SEED_AT);
    assert_true(p.draft);
    assert_int_equal(p.status, TT_POST_DRAFT);
    assert_int_equal(p.due_at, -1);
    assert_int_equal(pr->privacy, TT_PRIVACY_FOLLOWERS);
    assert_int_equal(pr->post_mode, TT_MODE_UPLOAD);
    assert_int_equal(pr->video_cover_timestamp_ms, 1500);
    assert_true(pr->auto_add_music);
    assert_true(pr->disable_comment);
    assert_true(pr->disable_duet);
    assert_true(pr->disable_stitch);
    assert_true(pr->brand_content_toggle);
    assert_true(pr->brand_organic_toggle);
    assert_true(pr->made_with_ai);
}


typedef struct {
    int          patch;
    const char  *json;
    const char  *errors[6];
} t_case_t;


/* a valid create body with one hole: %s is replaced by the case's JSON */
static const t_case_t  t_cases[] = {

    { 0, "[]", { "the request body must be a JSON object" } },
    { 1, "\"x\"", { "the request body must be a JSON object" } },
    { 0, "{}", { "post is required",
                 "platforms.tiktok.privacy_status is required",
                 "media is required" } },
    { 0, "{\"post\": {}, \"media\": [\"https://a.b/v\"], \"platforms\": "
         "{\"tiktok\": {}}}",
      { "platforms.tiktok.privacy_status is required" } },
    { 0, "{\"post\": 3, \"platforms\": {\"tiktok\": {\"privacy_status\": "
         "\"public\"}}}",
      { "post must be an object",
        "platforms.tiktok.privacy_status must be one of PUBLIC_TO_EVERYONE,"
        " MUTUAL_FOLLOW_FRIENDS, FOLLOWER_OF_CREATOR, SELF_ONLY",
        "media is required" } },
    { 1, "{\"post\": {\"body\": 5, \"draft\": \"yes\", \"scheduled_at\": "
         "\"2026-05-12T09:00:00\", \"foo\": 1}}",
      { "post.body must be a string", "post.draft must be a boolean",
        "post.scheduled_at is not an ISO 8601 time with an offset",
        "post.foo is not a known field" } },
    { 1, "{\"post\": {\"scheduled_at\": 17}}",
      { "post.scheduled_at must be a string or null" } },
    { 1, "{\"posts\": {}, \"profile\": [\"tiktok\"]}",
      { "posts is not a known field", "profile is not a known field" } },
    { 1, "{\"profiles\": \"tiktok\"}",
      { "profiles must be an array of strings" } },
    { 1, "{\"profiles\": [\"tiktok\", 3]}",
      { "profiles must be an array of strings" } },
    { 1, "{\"profiles\": []}",
      { "profiles must have between 1 and 10 entries" } },
    { 1, "{\"profiles\": [\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\","
         "\"i\",\"j\",\"k\"]}",
      { "profiles must have between 1 and 10 entries" } },
    { 1, "{\"profiles\": [\"a\", \"\"]}",
      { "profiles[1] must not be empty" } },
    { 1, "{\"media\": {}}", { "media must be an array of strings" } },
    { 1, "{\"media\": [null]}", { "media must be an array of strings" } },
    { 1, "{\"media\": [\"https://a.b/1\", \"ftp://a.b/2\", \"/x.mp4\", "
         "\"https:///x\", \"https://a b/c\", \"http://a.b/\\u0001\"]}",
      { "media[1] is not an http or https URL",
        "media[2] is not an http or https URL",
        "media[3] is not an http or https URL",
        "media[4] contains spaces or control characters",
        "media[4] is not an http or https URL",
        "media[5] contains spaces or control characters" } },
    { 1, "{\"platforms\": []}", { "platforms must be an object" } },
    { 1, "{\"platforms\": {\"instagram\": {}, \"tiktok\": 1}}",
      { "platforms.instagram is not supported",
        "platforms.tiktok must be an object" } },
    { 1, "{\"platforms\": {\"tiktok\": {\"format\": \"reel\", "
         "\"post_mode\": \"DRAFT\", \"privacy\": \"SELF_ONLY\"}}}",
      { "platforms.tiktok.format must be one of video, image",
        "platforms.tiktok.post_mode must be one of DIRECT_POST, "
        "MEDIA_UPLOAD",
        "platforms.tiktok.privacy is not a known field" } },
    { 1, "{\"platforms\": {\"tiktok\": {\"photo_cover_index\": 1.5, "
         "\"video_cover_timestamp_ms\": \"0\", \"disable_duet\": 1, "
         "\"made_with_ai\": null}}}",
      { "platforms.tiktok.photo_cover_index must be an integer",
        "platforms.tiktok.video_cover_timestamp_ms must be an integer or "
        "null",
        "platforms.tiktok.disable_duet must be a boolean",
        "platforms.tiktok.made_with_ai must be a boolean" } },
    { 1, "{\"platforms\": {\"tiktok\": {\"photo_cover_index\": -1, "
         "\"video_cover_timestamp_ms\": 2147483648}}}",
      { "platforms.tiktok.photo_cover_index must not be negative",
        "platforms.tiktok.video_cover_timestamp_ms must be between 0 and "
        "2147483647" } },
    /* what TikTok would refuse: C0 controls, a leap second, a photo
     * cover on a video */
    { 1, "{\"post\": {\"body\": \"a\\u0000b\"}}",
      { "post.body contains a control character (U+0000 to U+001F other "
        "than tab and newline), which TikTok refuses" } },
    { 1, "{\"post\": {\"body\": \"bell\\u0007 and \\r\"}}",
      { "post.body contains a control character (U+0000 to U+001F other "
        "than tab and newline), which TikTok refuses" } },
    { 1, "{\"post\": {\"scheduled_at\": \"2016-12-31T23:59:60Z\"}}",
      { "post.scheduled_at is a leap second (:60), which TikTok does not "
        "take" } },
    { 0, "{\"post\": {}, \"media\": [\"https://a.b/v\"], \"platforms\": "
         "{\"tiktok\": {\"privacy_status\": \"SELF_ONLY\", "
         "\"photo_cover_index\": 0}}}",
      { "platforms.tiktok.photo_cover_index is for format image only; a "
        "video's cover is video_cover_timestamp_ms" } },
    { 1, "{\"queue_id\": 5, \"queue_priority\": \"urgent\"}",
      { "queue_id must be a string or null",
        "queue_priority must be one of high, medium, low" } },
    { 1, "{\"queue_id\": \"\"}", { "queue_id must not be empty" } },
    { 1, "{\"queue_id\": \"q/../x\"}",
      { "queue_id is not a valid queue id" } },
    { 1, "{\"queue_id\": \"q_123456789012345678901234567890\"}",
      { "queue_id is not a valid queue id" } },
    { 1, "{\"queue_id\": null, \"queue_priority\": \"high\"}",
      { "queue_priority needs a queue_id" } },
    { 0, "{\"post\": {}, \"media\": [\"https://a.b/v\"], "
         "\"queue_priority\": \"low\", \"platforms\": {\"tiktok\": "
         "{\"privacy_status\": \"SELF_ONLY\"}}}",
      { "queue_priority needs a queue_id" } },
    { 1, "{\"post\": {\"scheduled_at\": \"2026-05-12T09:00:00Z\"}, "
         "\"queue_id\": \"q_1\"}",
      { "scheduled_at and queue_id cannot both be given" } },
    { 0, "{\"post\": {}, \"media\": [\"https://a.b/1\", \"https://a.b/2\"],"
         " \"platforms\": {\"tiktok\": {\"privacy_status\": \"SELF_ONLY\","
         " \"brand_content_toggle\": true}}}",
      { "media must have exactly 1 URL for format video (2 given)",
        "platforms.tiktok.brand_content_toggle cannot be true with "
        "privacy_status SELF_ONLY: branded content cannot be private" } },
    { 0, "{\"post\": {}, \"media\": [], \"platforms\": {\"tiktok\": "
         "{\"privacy_status\": \"SELF_ONLY\", \"format\": \"image\"}}}",
      { "media is required" } },
    /* the key of a message is cut at 64 bytes, on a UTF-8 boundary */
    { 1, "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "a\xc3\xa9xyz\": 1}",
      { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "... is not a known field" } },
};


static void
test_errors(void **state)
{
    int        rc;
    size_t     i, n;
    t_ctx_t   *t;

    t = *state;

    for (i = 0; i < TT_ARRAY_SIZE(t_cases); i++) {
        rc = t_parse(t, t_cases[i].json, t_cases[i].patch);

        for (n = 0; n < 6 && t_cases[i].errors[n]; n++) {
            if (n >= t->errs.n
                || strcmp(t->errs.msgs[n], t_cases[i].errors[n]) != 0)
            {
                break;
            }
        }

        if (rc != TT_INVALID || n != t->errs.n
            || (n < 6 && t_cases[i].errors[n] != NULL))
        {
            print_message("case %zu: %s\n", i, t_cases[i].json);
            t_print_errors(&t->errs);
            fail_msg("case %zu: rc %d, error %zu differs", i, rc, n);
        }
    }
}


static void
test_valid_urls(void **state)
{
    size_t      i;
    t_ctx_t    *t;
    char        json[512];

    static const char *good[] = {
        "http://a", "https://example.com/v.mp4?x=1#f", "http://1.2.3.4:80/",
        "https://[::1]:8443/v", "https://user:pw@cdn.example.com/a",
        "https://a.b?q", "https://a.b#frag", "HTTP://A.B/x%20y",
    };

    static const char *bad[] = {
        "https://", "http:/a.b/", "https://:80/", "https://a.b:/x",
        "https://a.b:123456/", "https://a.b:8x/", "https://[]/",
        "https://[zz]/", "https://[::1/", "https://a^b/", "mailto:a@b.c",
        "https//a.b/", "https://@/x",
    };

    t = *state;

    for (i = 0; i < TT_ARRAY_SIZE(good); i++) {
        snprintf(json, sizeof(json), "{\"media\": [\"%s\"]}", good[i]);
        if (t_parse(t, json, 1) != TT_OK) {
            t_print_errors(&t->errs);
            fail_msg("rejected %s", good[i]);
        }
    }

    for (i = 0; i < TT_ARRAY_SIZE(bad); i++) {
        snprintf(json, sizeof(json), "{\"media\": [\"%s\"]}", bad[i]);
        assert_int_equal(t_parse(t, json, 1), TT_INVALID);
        t_expect(&t->errs, "media[0] is not an http or https URL", NULL);
    }
}


static void
test_media_limits(void **state)
{
    size_t     i;
    t_ctx_t   *t;
    tt_buf_t   b;
    tt_post_t  p;

    t = *state;

    /* 35 images pass, 36 fail */
    tt_buf_init(&b);
    tt_buf_append_str(&b, "{\"post\": {}, \"platforms\": {\"tiktok\": "
                      "{\"privacy_status\": \"SELF_ONLY\", \"format\": "
                      "\"image\", \"photo_cover_index\": 34}}, \"media\": [");

    for (i = 0; i < 35; i++) {
        tt_buf_printf(&b, "%s\"https://cdn.example.com/%zu.jpg\"",
                      i ? "," : "", i);
    }

    tt_buf_append_str(&b, "]}");
    assert_true(tt_buf_ok(&b));

    t_create(t, b.data, &p);
    assert_int_equal(p.nmedia, 35);
    assert_string_equal(p.media[34].source_url,
                        "https://cdn.example.com/34.jpg");

    b.len -= 2;
    tt_buf_append_str(&b, ",\"https://cdn.example.com/35.jpg\"]}");
    assert_true(tt_buf_ok(&b));

    assert_int_equal(t_parse(t, b.data, 0), TT_INVALID);
    t_expect(&t->errs, "media must have at most 35 URLs", NULL);

    /* a URL of 2048 characters passes, 2049 fails */
    tt_buf_reset(&b);
    tt_buf_append_str(&b, "{\"media\": [\"https://a.b/");

    for (i = strlen("https://a.b/"); i < TT_URL_MAX; i++) {
        tt_buf_append(&b, "x", 1);
    }

    tt_buf_append_str(&b, "\"]}");
    assert_true(tt_buf_ok(&b));
    assert_int_equal(t_parse(t, b.data, 1), TT_OK);

    b.len -= 3;
    tt_buf_append_str(&b, "y\"]}");
    assert_int_equal(t_parse(t, b.data, 1), TT_INVALID);
    t_expect(&t->errs, "media[0] is longer than 2048 characters", NULL);

    tt_buf_free(&b);
}


static void
test_many_errors(void **state)
{
    int       i;
    t_ctx_t  *t;

    t = *state;

    assert_int_equal(t_parse(t, "{\"post\": {\"body\": [], \"draft\": 0},"
                             "\"profiles\": [], \"media\": [\"x\"], "
                             "\"platforms\": {\"tiktok\": {\"format\": "
                             "\"image\", \"auto_add_music\": \"yes\"}, "
                             "\"instagram\": {}}, \"queue_id\": \"q_1\", "
                             "\"extra\": true}", 0),
                     TT_INVALID);

    t_expect(&t->errs,
             "post.body must be a string",
             "post.draft must be a boolean",
             "profiles must have between 1 and 10 entries",
             "media[0] is not an http or https URL",
             "platforms.tiktok.auto_add_music must be a boolean",
             "platforms.instagram is not supported",
             "extra is not a known field",
             "platforms.tiktok.privacy_status is required",
             NULL);

    /* a batch's prefix on every message, errors accumulate */
    tt_errors_init(&t->errs, t->a);
    assert_int_equal(tt_post_input_parse(t_json(t, "{\"x\": 1}"), 1,
                                         "posts[3]: ", &t->in, &t->errs,
                                         t->a),
                     TT_INVALID);
    assert_int_equal(tt_post_input_parse(t_json(t, "{\"y\": 1, \"z\": 2}"), 1,
                                         "posts[4]: ", &t->in, &t->errs,
                                         t->a),
                     TT_INVALID);
    assert_int_equal(tt_post_input_parse(t_json(t, "{}"), 1, "posts[5]: ",
                                         &t->in, &t->errs, t->a),
                     TT_OK);
    t_expect(&t->errs, "posts[3]: x is not a known field",
             "posts[4]: y is not a known field",
             "posts[4]: z is not a known field", NULL);

    /* tt_errors_add grows past its first array */
    tt_errors_init(&t->errs, t->a);

    for (i = 0; i < 100; i++) {
        tt_errors_add(&t->errs, "error %d of %s", i, "many");
    }

    assert_int_equal(t->errs.n, 100);
    assert_false(t->errs.failed);
    assert_string_equal(t->errs.msgs[0], "error 0 of many");
    assert_string_equal(t->errs.msgs[99], "error 99 of many");
}


/* n copies of a 4-byte emoji (2 UTF-16 units each) and then tail */
static char *
t_caption_json(size_t n, const char *tail, const char *format)
{
    size_t     i, len;
    tt_buf_t   b;

    tt_buf_init(&b);
    tt_buf_append_str(&b, "{\"post\": {\"body\": \"");

    for (i = 0; i < n; i++) {
        tt_buf_append_str(&b, "\xf0\x9f\x98\x80");
    }

    tt_buf_printf(&b, "%s\"}, \"media\": [\"https://a.b/1\"], \"platforms\": "
                  "{\"tiktok\": {\"privacy_status\": \"SELF_ONLY\", "
                  "\"format\": \"%s\"}}}", tail, format);
    assert_true(tt_buf_ok(&b));

    return tt_buf_detach(&b, &len);
}


static void
test_caption_length(void **state)
{
    char      *s;
    t_ctx_t   *t;
    tt_post_t  p;

    t = *state;

    /* 1100 emoji = 2200 UTF-16 units (4400 bytes): the limit exactly */
    s = t_caption_json(1100, "", "video");
    t_create(t, s, &p);
    assert_int_equal(p.body_len, 4400);
    free(s);

    s = t_caption_json(1100, "!", "video");
    assert_int_equal(t_parse(t, s, 0), TT_INVALID);
    t_expect(&t->errs, "post.body is longer than 2200 characters", NULL);
    free(s);

    /* a photo caption is TikTok's description: 4000 */
    s = t_caption_json(2000, "", "image");
    t_create(t, s, &p);
    free(s);

    s = t_caption_json(2000, "!", "image");
    assert_int_equal(t_parse(t, s, 0), TT_INVALID);
    t_expect(&t->errs, "post.body is longer than 4000 characters", NULL);
    free(s);

    /* a PATCH of the body alone is checked against the post's format */
    s = t_caption_json(1100, "", "video");
    t_create(t, s, &p);
    free(s);

    s = t_caption_json(1500, "", "video");
    *strstr(s, "\"}, \"media\"") = '\0';
    assert_true(strlen(s) > 6000);
    s = realloc(s, strlen(s) + 4);
    assert_non_null(s);
    memcpy(s + strlen(s), "\"}}", 4);

    assert_int_equal(t_parse(t, s, 1), TT_OK);
    assert_int_equal(tt_post_apply(&p, &t->in, T_NOW, NULL, &t->errs, t->a),
                     TT_INVALID);
    t_expect(&t->errs, "post.body is longer than 2200 characters", NULL);
    free(s);
}


static void
test_patch(void **state)
{
    char        mid[TT_ID_SIZE], pid[TT_ID_SIZE];
    t_ctx_t    *t;
    tt_post_t   p, old;
    tt_media_t *media;

    t = *state;

    t_create(t, t_seed_video, &p);
    memcpy(mid, p.media[0].id, TT_ID_SIZE);
    memcpy(pid, p.id, TT_ID_SIZE);
    p.media[0].status = TT_MEDIA_PROCESSED;
    p.media[0].size = 1234;
    tt_post_settle(&p, T_NOW);
    media = p.media;

    /* the caption only */
    assert_int_equal(t_patch(t, &p, "{\"post\": {\"body\": \"new\"}}",
                             T_NOW + 10), TT_OK);
    assert_string_equal(p.id, pid);
    assert_string_equal(p.body, "new");
    assert_int_equal(p.body_len, 3);
    assert_int_equal(p.scheduled_at, T_SEED_AT);
    assert_int_equal(p.created_at, T_NOW);
    assert_int_equal(p.updated_at, T_NOW + 10);
    assert_ptr_equal(p.media, media);
    assert_string_equal(p.platforms[0].profile_id, "prof_abc");
    assert_int_equal(p.status, TT_POST_SCHEDULED);

    /* the same media list keeps the probed media */
    assert_int_equal(t_patch(t, &p, "{\"media\": "
                             "[\"https://yourcdn.com/launch-9x16.mp4\"]}",
                             T_NOW + 11), TT_OK);
    assert_string_equal(p.media[0].id, mid);
    assert_int_equal(p.media[0].size, 1234);
    assert_int_equal(p.status, TT_POST_SCHEDULED);

    /* one key of the params: the others stay */
    assert_int_equal(t_patch(t, &p, "{\"platforms\": {\"tiktok\": "
                             "{\"disable_comment\": true}}}", T_NOW + 12),
                     TT_OK);
    assert_true(p.platforms[0].params.disable_comment);
    assert_false(p.platforms[0].params.disable_duet);
    assert_int_equal(p.platforms[0].params.privacy, TT_PRIVACY_PUBLIC);

    assert_int_equal(t_patch(t, &p, "{\"platforms\": {\"tiktok\": "
                             "{\"privacy_status\": \"SELF_ONLY\", "
                             "\"video_cover_timestamp_ms\": 10}}}",
                             T_NOW + 13), TT_OK);
    assert_true(p.platforms[0].params.disable_comment);
    assert_int_equal(p.platforms[0].params.privacy, TT_PRIVACY_SELF);
    assert_int_equal(p.platforms[0].params.video_cover_timestamp_ms, 10);

    assert_int_equal(t_patch(t, &p, "{\"platforms\": {\"tiktok\": "
                             "{\"video_cover_timestamp_ms\": null}}}",
                             T_NOW + 13), TT_OK);
    assert_int_equal(p.platforms[0].params.video_cover_timestamp_ms, -1);

    /* a rule across fields with the old post: brand vs SELF_ONLY */
    old = p;
    assert_int_equal(t_patch(t, &p, "{\"post\": {\"body\": \"z\"}, "
                             "\"platforms\": {\"tiktok\": "
                             "{\"brand_content_toggle\": true}}}",
                             T_NOW + 14), TT_INVALID);
    t_expect(&t->errs, "platforms.tiktok.brand_content_toggle cannot be "
             "true with privacy_status SELF_ONLY: branded content cannot "
             "be private", NULL);

    /* a failed apply leaves the post as it was */
    assert_memory_equal(&p, &old, sizeof(tt_post_t));
    assert_string_equal(p.body, "new");
    assert_false(p.platforms[0].params.brand_content_toggle);

    /* format image with one video: the cover index is checked too */
    assert_int_equal(t_patch(t, &p, "{\"platforms\": {\"tiktok\": "
                             "{\"format\": \"image\", \"photo_cover_index\":"
                             " 1}}}", T_NOW + 15), TT_INVALID);
    t_expect(&t->errs, "platforms.tiktok.photo_cover_index must be less "
             "than the number of media (1)", NULL);

    /* a photo cover on what stays a video */
    assert_int_equal(t_patch(t, &p, "{\"platforms\": {\"tiktok\": "
                             "{\"photo_cover_index\": 0}}}", T_NOW + 15),
                     TT_INVALID);
    t_expect(&t->errs, "platforms.tiktok.photo_cover_index is for format "
             "image only; a video's cover is video_cover_timestamp_ms", NULL);

    /* tab and newline are a caption's own */
    assert_int_equal(t_patch(t, &p, "{\"post\": {\"body\": "
                             "\"one\\ttwo\\nthree\"}}", T_NOW + 15), TT_OK);
    assert_string_equal(p.body, "one\ttwo\nthree");

    /* new media: new ids, pending again, due now */
    assert_int_equal(t_patch(t, &p, "{\"media\": [\"https://b.c/x.mp4\"]}",
                             T_NOW + 16), TT_OK);
    assert_string_not_equal(p.media[0].id, mid);
    assert_int_equal(p.media[0].status, TT_MEDIA_PENDING);
    assert_int_equal(p.media[0].size, -1);
    assert_int_equal(p.status, TT_POST_PENDING);
    assert_int_equal(p.due_at, T_NOW + 16);

    /* the same list again after a failure: a new try */
    memcpy(mid, p.media[0].id, TT_ID_SIZE);
    p.media[0].status = TT_MEDIA_FAILED;
    p.media[0].error_message = "too short";
    tt_post_settle(&p, T_NOW + 16);
    assert_int_equal(p.status, TT_POST_MEDIA_FAILED);
    assert_int_equal(t_patch(t, &p, "{\"media\": [\"https://b.c/x.mp4\"]}",
                             T_NOW + 16), TT_OK);
    assert_string_not_equal(p.media[0].id, mid);
    assert_int_equal(p.media[0].status, TT_MEDIA_PENDING);
    assert_null(p.media[0].error_message);
    assert_int_equal(p.status, TT_POST_PENDING);

    assert_int_equal(t_patch(t, &p, "{\"media\": []}", T_NOW + 17),
                     TT_INVALID);
    t_expect(&t->errs, "media is required", NULL);

    /* draft and back */
    assert_int_equal(t_patch(t, &p, "{\"post\": {\"draft\": true}}",
                             T_NOW + 18), TT_OK);
    assert_int_equal(p.status, TT_POST_DRAFT);
    assert_int_equal(p.due_at, -1);
    assert_int_equal(t_patch(t, &p, "{\"post\": {\"draft\": false, "
                             "\"body\": null}}", T_NOW + 19), TT_OK);
    assert_int_equal(p.status, TT_POST_PENDING);
    assert_string_equal(p.body, "");
    assert_int_equal(p.body_len, 0);

    /* a new profile from the caller */
    assert_int_equal(t_parse(t, "{\"profiles\": [\"prof_2\"]}", 1), TT_OK);
    memcpy(t->in.profile_id, "prof_2", sizeof("prof_2"));
    assert_int_equal(tt_post_apply(&p, &t->in, T_NOW + 20, NULL, &t->errs,
                                   t->a), TT_OK);
    assert_string_equal(p.platforms[0].profile_id, "prof_2");

    /* an empty PATCH changes nothing but updated_at */
    old = p;
    assert_int_equal(t_patch(t, &p, "{}", T_NOW + 21), TT_OK);
    assert_int_equal(p.updated_at, T_NOW + 21);
    p.updated_at = old.updated_at;
    p.due_at = old.due_at;
    p.platforms = old.platforms;
    assert_memory_equal(&p, &old, sizeof(tt_post_t));
}


static void
test_patch_queue(void **state)
{
    t_ctx_t    *t;
    tt_post_t   p;

    t = *state;

    t_create(t, t_seed_queue, &p);

    /* the queue assigned a time */
    p.scheduled_at = T_SEED_AT;

    /* a caption change keeps the slot */
    assert_int_equal(t_patch(t, &p, "{\"post\": {\"body\": \"b\"}, "
                             "\"queue_priority\": \"low\"}", T_NOW), TT_OK);
    assert_int_equal(p.scheduled_at, T_SEED_AT);
    assert_string_equal(p.queue_id, "q1abc");
    assert_int_equal(p.queue_priority, TT_PRIORITY_LOW);

    /* an exact time on a queued post is refused */
    assert_int_equal(t_patch(t, &p, "{\"post\": {\"scheduled_at\": "
                             "\"2026-06-01T00:00:00Z\"}}", T_NOW),
                     TT_INVALID);
    t_expect(&t->errs, "post.scheduled_at cannot be set on a post in a "
             "queue: set queue_id to null to take it out", NULL);

    /* leaving the queue with a time */
    assert_int_equal(t_patch(t, &p, "{\"post\": {\"scheduled_at\": "
                             "\"2026-06-01T00:00:00Z\"}, \"queue_id\": null}",
                             T_NOW), TT_OK);
    assert_string_equal(p.queue_id, "");
    assert_int_equal(p.queue_priority, TT_PRIORITY_NONE);
    assert_true(p.scheduled_at > T_SEED_AT);

    /* joining another queue: the queue assigns the time */
    assert_int_equal(t_patch(t, &p, "{\"queue_id\": \"q_other\", "
                             "\"queue_priority\": \"high\"}", T_NOW), TT_OK);
    assert_string_equal(p.queue_id, "q_other");
    assert_int_equal(p.queue_priority, TT_PRIORITY_HIGH);
    assert_int_equal(p.scheduled_at, -1);

    /* a priority with no queue */
    assert_int_equal(t_patch(t, &p, "{\"queue_id\": null}", T_NOW), TT_OK);
    assert_int_equal(t_patch(t, &p, "{\"queue_priority\": \"high\"}", T_NOW),
                     TT_INVALID);
    t_expect(&t->errs, "queue_priority needs a queue_id", NULL);
}


static void
test_settle(void **state)
{
    t_ctx_t    *t;
    tt_post_t   p;

    t = *state;

    t_create(t, t_seed_video, &p);

    p.media[0].status = TT_MEDIA_FAILED;
    tt_post_settle(&p, T_NOW);
    assert_int_equal(p.status, TT_POST_MEDIA_FAILED);
    assert_int_equal(p.due_at, -1);

    p.draft = 1;
    tt_post_settle(&p, T_NOW);
    assert_int_equal(p.status, TT_POST_DRAFT);
    assert_int_equal(p.due_at, -1);
    p.draft = 0;

    p.media[0].status = TT_MEDIA_PROCESSED;
    p.platforms[0].status = TT_PLAT_PROCESSING;
    p.due_at = 42;
    tt_post_settle(&p, T_NOW);
    assert_int_equal(p.status, TT_POST_PROCESSING);
    assert_int_equal(p.due_at, 42);

    p.platforms[0].status = TT_PLAT_RETRY;
    p.platforms[0].next_attempt_at = T_NOW + 60000;
    tt_post_settle(&p, T_NOW);
    assert_int_equal(p.status, TT_POST_PROCESSING);
    assert_int_equal(p.due_at, T_NOW + 60000);

    p.platforms[0].status = TT_PLAT_PUBLISHED;
    tt_post_settle(&p, T_NOW);
    assert_int_equal(p.status, TT_POST_PROCESSED);
    assert_int_equal(p.due_at, -1);

    p.platforms[0].status = TT_PLAT_FAILED;
    tt_post_settle(&p, T_NOW);
    assert_int_equal(p.status, TT_POST_PROCESSED);
    assert_int_equal(p.due_at, -1);

    p.platforms[0].status = TT_PLAT_PENDING;
    p.scheduled_at = -1;
    tt_post_settle(&p, T_NOW + 3);
    assert_int_equal(p.status, TT_POST_SCHEDULED);
    assert_int_equal(p.due_at, T_NOW + 3);
}


/*
 * A queue's post moved by tt_post_retime() is, byte for byte, the record
 * of the same post decoded, given its new time and updated_at, settled
 * and encoded again: for times with and without milliseconds, numbers
 * of other lengths, and a body that holds the members' names and
 * escapes.  It declines a post that does not simply wait for its time.
 */
static void
test_retime(void **state)
{
    size_t      i, j;
    t_ctx_t    *t;
    tt_buf_t    rec, fast, slow;
    tt_post_t   p, q;

    static const char  *bodies[] = {
        "plain",
        "\\\"scheduled_at\\\":\\\"x\\\", \\\"due_at\\\": 1 } { [ ] \\\\",
        "caf\\u00e9 \\ud83d\\ude00 \\n\\t updated_at"
    };
    static const int64_t  times[][2] = {
        /* at, now */
        { 1790000040000LL, 1789000000123LL },
        { 1790000040456LL, 1789000000000LL },
        { 9999999999000LL, 1789000000001LL },
        { 1000000000000LL, 999999999999LL }
    };

    t = *state;

    for (i = 0; i < TT_ARRAY_SIZE(bodies); i++)
    for (j = 0; j < TT_ARRAY_SIZE(times); j++) {
        char  doc[1024];

        snprintf(doc, sizeof(doc),
                 "{\"post\": {\"body\": \"%s\","
                 "  \"scheduled_at\": \"2026-05-12T09:00:00Z\"},"
                 " \"profiles\": [\"tiktok\"],"
                 " \"media\": [\"https://yourcdn.com/a.mp4\"],"
                 " \"platforms\": {\"tiktok\": {\"privacy_status\": "
                 "\"PUBLIC_TO_EVERYONE\"}}}", bodies[i]);
        t_create(t, doc, &p);

        p.media[0].status = TT_MEDIA_PROCESSED;
        snprintf(p.queue_id, TT_ID_SIZE, "q_retime");
        tt_post_settle(&p, T_NOW);
        assert_int_equal(p.status, TT_POST_SCHEDULED);

        tt_buf_init(&rec);
        tt_buf_init(&fast);
        tt_buf_init(&slow);
        assert_int_equal(tt_post_encode(&p, &rec), TT_OK);

        assert_int_equal(tt_post_retime(rec.data, rec.len, times[j][0],
                                        times[j][1], &fast), TT_OK);

        assert_int_equal(tt_post_decode(rec.data, rec.len, t->a, &q),
                         TT_OK);
        q.scheduled_at = times[j][0];
        q.updated_at = times[j][1];
        tt_post_settle(&q, times[j][1]);
        assert_int_equal(tt_post_encode(&q, &slow), TT_OK);

        assert_int_equal(fast.len, slow.len);
        assert_memory_equal(fast.data, slow.data, slow.len);

        /* moved again, from the patched record */
        fast.len = 0;
        assert_int_equal(tt_post_retime(slow.data, slow.len, 1790000000000LL,
                                        times[j][1] + 1, &fast), TT_OK);
        assert_int_equal(tt_post_decode(fast.data, fast.len, t->a, &q),
                         TT_OK);
        assert_int_equal(q.scheduled_at, 1790000000000LL);
        assert_int_equal(q.due_at, 1790000000000LL);
        assert_int_equal(q.updated_at, times[j][1] + 1);

        /* the same time, or a post that is not simply waiting */
        fast.len = 0;
        assert_int_equal(tt_post_retime(rec.data, rec.len, p.scheduled_at,
                                        T_NOW, &fast), TT_DECLINED);
        p.platforms[0].status = TT_PLAT_PROCESSING;
        tt_post_settle(&p, T_NOW);
        rec.len = 0;
        assert_int_equal(tt_post_encode(&p, &rec), TT_OK);
        assert_int_equal(tt_post_retime(rec.data, rec.len, times[j][0],
                                        T_NOW, &fast), TT_DECLINED);
        assert_int_equal(fast.len, 0);

        tt_buf_free(&rec);
        tt_buf_free(&fast);
        tt_buf_free(&slow);
    }
}


static void
test_names(void **state)
{
    (void) state;

    assert_string_equal(tt_post_status_name(TT_POST_DRAFT), "draft");
    assert_string_equal(tt_post_status_name(TT_POST_PENDING), "pending");
    assert_string_equal(tt_post_status_name(TT_POST_SCHEDULED), "scheduled");
    assert_string_equal(tt_post_status_name(TT_POST_PROCESSING),
                        "processing");
    assert_string_equal(tt_post_status_name(TT_POST_PROCESSED), "processed");
    assert_string_equal(tt_post_status_name(TT_POST_MEDIA_FAILED),
                        "media_processing_failed");
    assert_string_equal(tt_plat_status_name(TT_PLAT_PENDING), "pending");
    assert_string_equal(tt_plat_status_name(TT_PLAT_PROCESSING),
                        "processing");
    assert_string_equal(tt_plat_status_name(TT_PLAT_PUBLISHED), "published");
    assert_string_equal(tt_plat_status_name(TT_PLAT_FAILED), "failed");
    assert_string_equal(tt_plat_status_name(TT_PLAT_RETRY),
                        "failed_waiting_for_retry");
    assert_string_equal(tt_media_status_name(TT_MEDIA_PENDING), "pending");
    assert_string_equal(tt_media_status_name(TT_MEDIA_PROCESSED),
                        "processed");
    assert_string_equal(tt_media_status_name(TT_MEDIA_FAILED), "failed");
    assert_string_equal(tt_privacy_name(TT_PRIVACY_PUBLIC),
                        "PUBLIC_TO_EVERYONE");
    assert_string_equal(tt_privacy_name(TT_PRIVACY_MUTUAL),
                        "MUTUAL_FOLLOW_FRIENDS");
    assert_string_equal(tt_privacy_name(TT_PRIVACY_FOLLOWERS),
                        "FOLLOWER_OF_CREATOR");
    assert_string_equal(tt_privacy_name(TT_PRIVACY_SELF), "SELF_ONLY");
    assert_string_equal(tt_format_name(TT_FORMAT_VIDEO), "video");
    assert_string_equal(tt_format_name(TT_FORMAT_IMAGE), "image");
    assert_string_equal(tt_post_mode_name(TT_MODE_DIRECT), "DIRECT_POST");
    assert_string_equal(tt_post_mode_name(TT_MODE_UPLOAD), "MEDIA_UPLOAD");
    assert_string_equal(tt_priority_name(TT_PRIORITY_HIGH), "high");
    assert_string_equal(tt_priority_name(TT_PRIORITY_MEDIUM), "medium");
    assert_string_equal(tt_priority_name(TT_PRIORITY_LOW), "low");
    assert_null(tt_priority_name(TT_PRIORITY_NONE));
    assert_string_equal(tt_post_status_name((tt_post_status_e) 99),
                        "unknown");
}


/* a post with every field set to something that is not its default */
static void
t_full_post(t_ctx_t *t, tt_post_t *p)
{
    static const char  *warnings[] = { "letterboxed", "w\xc3\xa9ird" };

    t_create(t, t_seed_image, p);

    memcpy(p->workspace_id, "ws_12345678901234567890",
           sizeof("ws_12345678901234567890"));
    memcpy(p->profile_group_id, "pg_x", sizeof("pg_x"));
    memcpy(p->queue_id, "q_1234567890123456789012345678",
           sizeof("q_1234567890123456789012345678"));
    p->queue_priority = TT_PRIORITY_LOW;
    p->body = "caption with \"quotes\", a\\b, nul\0after";
    p->body_len = 37;
    p->status = TT_POST_PROCESSING;
    p->scheduled_at = T_SEED_AT;
    p->created_at = T_NOW - 1;
    p->updated_at = T_NOW + 123;
    p->due_at = T_NOW + 999;

    p->media[0].status = TT_MEDIA_PROCESSED;
    p->media[0].content_type = "image/jpeg";
    p->media[0].size = 5000000000LL;
    p->media[0].width = 1080;
    p->media[0].height = 1920;
    p->media[0].duration_ms = 0;
    p->media[0].codec = "mjpeg";
    p->media[0].frame_rate = 29.97002997002997;
    p->media[0].error_message = NULL;
    p->media[0].warnings = warnings;
    p->media[0].nwarnings = 2;
    p->media[0].spool_path = "/var/spool/tt/m_1";
    p->media[1].status = TT_MEDIA_FAILED;
    p->media[1].error_message = "PNG is not accepted by TikTok";
    p->media[1].frame_rate = 30;

    p->platforms[0].status = TT_PLAT_RETRY;
    p->platforms[0].params.privacy = TT_PRIVACY_MUTUAL;
    p->platforms[0].params.post_mode = TT_MODE_UPLOAD;
    p->platforms[0].params.photo_cover_index = 2;
    p->platforms[0].params.video_cover_timestamp_ms = 2500;
    p->platforms[0].params.disable_duet = 1;
    p->platforms[0].params.made_with_ai = 1;
    p->platforms[0].attempts = 3;
    p->platforms[0].attempted_at = T_NOW + 1;
    p->platforms[0].next_attempt_at = T_NOW + 2;
    p->platforms[0].bytes_sent = 10000000;
    p->platforms[0].bytes_total = 50000123;
    p->platforms[0].publish_id = "v_pub_file~v2-1.123456789";
    p->platforms[0].platform_id = 7234567890123456789LL;
    p->platforms[0].url = "https://www.tiktok.com/@u/video/7234567890123456789";
    p->platforms[0].error = "TikTok is busy";
    p->platforms[0].error_code = "internal_error";
    p->platforms[0].error_message = "Something went wrong";
    p->platforms[0].error_note = "retrying";
    p->platforms[0].stage = TT_STAGE_UPLOAD;
    p->platforms[0].upload_url = "https://open-upload.tiktokapis.com/v/?u=1";
    p->platforms[0].upload_expires_at = T_NOW + 3600000;
    p->platforms[0].chunk_size = 10000000;
    p->platforms[0].chunk_count = 5;
}


static void
t_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        assert_ptr_equal(a, b);
        return;
    }

    assert_string_equal(a, b);
}


static void
t_expect_keys(const tt_json_t *o, const char *const *keys, size_t n)
{
    size_t  i;

    assert_int_equal(o->type, TT_JSON_OBJECT);

    for (i = 0; i < n && i < o->n; i++) {
        assert_string_equal(o->members[i].key, keys[i]);
    }

    assert_int_equal(o->n, n);
}


static const tt_json_t *
t_get(const tt_json_t *o, const char *key, tt_json_type_e type)
{
    tt_json_t  *v;

    v = tt_json_get(o, key);
    if (v == NULL) {
        fail_msg("no key \"%s\"", key);
    }

    if (v->type != type) {
        fail_msg("key \"%s\": %s, not %s", key, tt_json_type_name(v->type),
                 tt_json_type_name(type));
    }

    return v;
}


static void
t_expect_str(const tt_json_t *o, const char *key, const char *want)
{
    const tt_json_t  *v;

    if (want == NULL) {
        t_get(o, key, TT_JSON_NULL);
        return;
    }

    v = t_get(o, key, TT_JSON_STRING);
    assert_string_equal(v->str, want);
}


static void
t_expect_int(const tt_json_t *o, const char *key, int64_t want)
{
    const tt_json_t  *v;

    v = t_get(o, key, TT_JSON_NUMBER);
    assert_true(v->is_int);
    assert_int_equal(v->i, want);
}


static void
test_render(void **state)
{
    char              tbuf[TT_TIME_LEN + 1];
    t_ctx_t          *t;
    tt_buf_t          out;
    tt_jw_t           w;
    tt_post_t         p;
    tt_json_t        *root;
    const tt_json_t  *m, *pl, *pr, *v;

    static const char *post_keys[] = {
        "id", "body", "status", "draft", "scheduled_at", "created_at",
        "updated_at", "queue_id", "queue_priority", "media", "platforms"
    };

    static const char *media_keys[] = {
        "id", "status", "source_url", "content_type", "size", "width",
        "height", "duration_ms", "codec", "frame_rate", "error_message",
        "warnings"
    };

    static const char *plat_keys[] = {
        "platform", "profile_id", "status", "params", "attempts",
        "attempted_at", "next_attempt_at", "upload", "publish_id",
        "platform_id", "url", "error", "error_details"
    };

    static const char *param_keys[] = {
        "privacy_status", "format", "post_mode", "photo_cover_index",
        "video_cover_timestamp_ms", "auto_add_music", "disable_comment",
        "disable_duet", "disable_stitch", "brand_content_toggle",
        "brand_organic_toggle", "made_with_ai"
    };

    t = *state;

    t_full_post(t, &p);

    tt_buf_init(&out);
    assert_int_equal(tt_jw_init(&w, &out), TT_OK);
    tt_post_render(&w, &p);
    assert_int_equal(tt_jw_finish(&w), TT_OK);

    root = t_json(t, out.data);

    /* nothing internal */
    assert_null(strstr(out.data, "ws_1234"));
    assert_null(strstr(out.data, "pg_x"));
    assert_null(strstr(out.data, "spool"));
    assert_null(strstr(out.data, "open-upload"));
    assert_null(strstr(out.data, "stage"));
    assert_null(strstr(out.data, "due_at"));

    t_expect_keys(root, post_keys, TT_ARRAY_SIZE(post_keys));
    t_expect_str(root, "id", p.id);
    v = t_get(root, "body", TT_JSON_STRING);
    assert_int_equal(v->len, p.body_len);
    assert_memory_equal(v->str, p.body, p.body_len);
    t_expect_str(root, "status", "processing");
    t_get(root, "draft", TT_JSON_FALSE);
    t_expect_str(root, "scheduled_at", "2026-05-12T09:00:00Z");
    tt_time_format(T_NOW - 1, tbuf);
    t_expect_str(root, "created_at", tbuf);
    t_expect_str(root, "created_at", "2025-12-31T23:59:59.999Z");
    tt_time_format(T_NOW + 123, tbuf);
    t_expect_str(root, "updated_at", tbuf);
    t_expect_str(root, "queue_id", "q_1234567890123456789012345678");
    t_expect_str(root, "queue_priority", "low");

    v = t_get(root, "media", TT_JSON_ARRAY);
    assert_int_equal(v->n, 3);

    m = v->items[0];
    t_expect_keys(m, media_keys, TT_ARRAY_SIZE(media_keys));
    t_expect_str(m, "id", p.media[0].id);
    t_expect_str(m, "status", "processed");
    t_expect_str(m, "source_url", "https://yourcdn.com/bts-1.jpg");
    t_expect_str(m, "content_type", "image/jpeg");
    t_expect_int(m, "size", 5000000000LL);
    t_expect_int(m, "width", 1080);
    t_expect_int(m, "height", 1920);
    t_expect_int(m, "duration_ms", 0);
    t_expect_str(m, "codec", "mjpeg");
    v = t_get(m, "frame_rate", TT_JSON_NUMBER);
    assert_true(fabs(v->d - 29.97002997002997) < 1e-9);
    t_expect_str(m, "error_message", NULL);
    v = t_get(m, "warnings", TT_JSON_ARRAY);
    assert_int_equal(v->n, 2);
    assert_string_equal(v->items[1]->str, "w\xc3\xa9ird");

    m = t_get(root, "media", TT_JSON_ARRAY)->items[1];
    t_expect_str(m, "status", "failed");
    t_expect_str(m, "error_message", "PNG is not accepted by TikTok");
    t_get(m, "size", TT_JSON_NULL);
    t_get(m, "width", TT_JSON_NULL);
    t_get(m, "duration_ms", TT_JSON_NULL);
    t_get(m, "content_type", TT_JSON_NULL);
    t_get(m, "codec", TT_JSON_NULL);
    assert_int_equal(t_get(m, "warnings", TT_JSON_ARRAY)->n, 0);

    m = t_get(root, "media", TT_JSON_ARRAY)->items[2];
    t_expect_str(m, "status", "pending");
    t_get(m, "frame_rate", TT_JSON_NULL);

    v = t_get(root, "platforms", TT_JSON_ARRAY);
    assert_int_equal(v->n, 1);

    pl = v->items[0];
    t_expect_keys(pl, plat_keys, TT_ARRAY_SIZE(plat_keys));
    t_expect_str(pl, "platform", "tiktok");
    t_expect_str(pl, "profile_id", "prof_abc");
    t_expect_str(pl, "status", "failed_waiting_for_retry");
    t_expect_int(pl, "attempts", 3);
    tt_time_format(T_NOW + 1, tbuf);
    t_expect_str(pl, "attempted_at", tbuf);
    tt_time_format(T_NOW + 2, tbuf);
    t_expect_str(pl, "next_attempt_at", tbuf);
    v = t_get(pl, "upload", TT_JSON_OBJECT);
    assert_int_equal(v->n, 2);
    t_expect_int(v, "bytes_sent", 10000000);
    t_expect_int(v, "bytes_total", 50000123);
    t_expect_str(pl, "publish_id", "v_pub_file~v2-1.123456789");
    t_expect_str(pl, "platform_id", "7234567890123456789");
    t_expect_str(pl, "url",
                 "https://www.tiktok.com/@u/video/7234567890123456789");
    t_expect_str(pl, "error", "TikTok is busy");
    v = t_get(pl, "error_details", TT_JSON_OBJECT);
    assert_int_equal(v->n, 3);
    t_expect_str(v, "platform_error_code", "internal_error");
    t_expect_str(v, "platform_error_message", "Something went wrong");
    t_expect_str(v, "note", "retrying");

    pr = t_get(pl, "params", TT_JSON_OBJECT);
    t_expect_keys(pr, param_keys, TT_ARRAY_SIZE(param_keys));
    t_expect_str(pr, "privacy_status", "MUTUAL_FOLLOW_FRIENDS");
    t_expect_str(pr, "format", "image");
    t_expect_str(pr, "post_mode", "MEDIA_UPLOAD");
    t_expect_int(pr, "photo_cover_index", 2);
    t_expect_int(pr, "video_cover_timestamp_ms", 2500);
    t_get(pr, "auto_add_music", TT_JSON_FALSE);
    t_get(pr, "disable_comment", TT_JSON_FALSE);
    t_get(pr, "disable_duet", TT_JSON_TRUE);
    t_get(pr, "disable_stitch", TT_JSON_FALSE);
    t_get(pr, "brand_content_toggle", TT_JSON_FALSE);
    t_get(pr, "brand_organic_toggle", TT_JSON_FALSE);
    t_get(pr, "made_with_ai", TT_JSON_TRUE);

    /* a fresh post: nulls where nothing is known yet */
    t_create(t, t_seed_queue, &p);
    memset(p.platforms[0].profile_id, 0, TT_ID_SIZE);

    tt_buf_reset(&out);
    assert_int_equal(tt_jw_init(&w, &out), TT_OK);
    tt_post_render(&w, &p);
    assert_int_equal(tt_jw_finish(&w), TT_OK);

    root = t_json(t, out.data);
    t_expect_str(root, "status", "pending");
    t_get(root, "scheduled_at", TT_JSON_NULL);
    t_expect_str(root, "queue_id", "q1abc");
    t_expect_str(root, "queue_priority", "medium");
    pl = t_get(root, "platforms", TT_JSON_ARRAY)->items[0];
    t_expect_str(pl, "profile_id", NULL);
    t_expect_str(pl, "status", "pending");
    t_expect_int(pl, "attempts", 0);
    t_get(pl, "attempted_at", TT_JSON_NULL);
    t_get(pl, "next_attempt_at", TT_JSON_NULL);
    t_get(pl, "publish_id", TT_JSON_NULL);
    t_get(pl, "platform_id", TT_JSON_NULL);
    t_get(pl, "url", TT_JSON_NULL);
    t_get(pl, "error", TT_JSON_NULL);
    t_get(pl, "error_details", TT_JSON_NULL);
    pr = t_get(pl, "params", TT_JSON_OBJECT);
    t_get(pr, "video_cover_timestamp_ms", TT_JSON_NULL);
    /* a video has no photo cover */
    assert_null(tt_json_get(pr, "photo_cover_index"));
    t_expect_str(pr, "post_mode", "DIRECT_POST");

    t_create(t, t_seed_video, &p);

    tt_buf_reset(&out);
    assert_int_equal(tt_jw_init(&w, &out), TT_OK);
    tt_post_render(&w, &p);
    assert_int_equal(tt_jw_finish(&w), TT_OK);

    root = t_json(t, out.data);
    t_get(root, "queue_id", TT_JSON_NULL);
    t_get(root, "queue_priority", TT_JSON_NULL);

    tt_buf_free(&out);
}


static void
t_expect_same(const tt_post_t *a, const tt_post_t *b)
{
    size_t               i, k;
    const tt_media_t    *ma, *mb;
    const tt_platform_t *pa, *pb;

    assert_string_equal(a->id, b->id);
    assert_string_equal(a->workspace_id, b->workspace_id);
    assert_string_equal(a->profile_group_id, b->profile_group_id);
    assert_int_equal(a->body_len, b->body_len);
    assert_memory_equal(a->body, b->body, a->body_len);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->draft, b->draft);
    assert_int_equal(a->scheduled_at, b->scheduled_at);
    assert_int_equal(a->created_at, b->created_at);
    assert_int_equal(a->updated_at, b->updated_at);
    assert_string_equal(a->queue_id, b->queue_id);
    assert_int_equal(a->queue_priority, b->queue_priority);
    assert_int_equal(a->due_at, b->due_at);
    assert_int_equal(a->nmedia, b->nmedia);
    assert_int_equal(a->nplatforms, b->nplatforms);

    for (i = 0; i < a->nmedia; i++) {
        ma = &a->media[i];
        mb = &b->media[i];

        assert_string_equal(ma->id, mb->id);
        assert_int_equal(ma->status, mb->status);
        t_str_eq(ma->source_url, mb->source_url);
        t_str_eq(ma->content_type, mb->content_type);
        assert_int_equal(ma->size, mb->size);
        assert_int_equal(ma->width, mb->width);
        assert_int_equal(ma->height, mb->height);
        assert_int_equal(ma->duration_ms, mb->duration_ms);
        t_str_eq(ma->codec, mb->codec);
        assert_memory_equal(&ma->frame_rate, &mb->frame_rate,
                            sizeof(double));
        t_str_eq(ma->error_message, mb->error_message);
        assert_int_equal(ma->nwarnings, mb->nwarnings);

        for (k = 0; k < ma->nwarnings; k++) {
            assert_string_equal(ma->warnings[k], mb->warnings[k]);
        }

        t_str_eq(ma->spool_path, mb->spool_path);
    }

    for (i = 0; i < a->nplatforms; i++) {
        pa = &a->platforms[i];
        pb = &b->platforms[i];

        assert_string_equal(pa->profile_id, pb->profile_id);
        assert_int_equal(pa->status, pb->status);
        assert_int_equal(pa->params.privacy, pb->params.privacy);
        assert_int_equal(pa->params.format, pb->params.format);
        assert_int_equal(pa->params.post_mode, pb->params.post_mode);
        assert_int_equal(pa->params.photo_cover_index,
                         pb->params.photo_cover_index);
        assert_int_equal(pa->params.video_cover_timestamp_ms,
                         pb->params.video_cover_timestamp_ms);
        assert_int_equal(pa->params.auto_add_music,
                         pb->params.auto_add_music);
        assert_int_equal(pa->params.disable_comment,
                         pb->params.disable_comment);
        assert_int_equal(pa->params.disable_duet, pb->params.disable_duet);
        assert_int_equal(pa->params.disable_stitch,
                         pb->params.disable_stitch);
        assert_int_equal(pa->params.brand_content_toggle,
                         pb->params.brand_content_toggle);
        assert_int_equal(pa->params.brand_organic_toggle,
                         pb->params.brand_organic_toggle);
        assert_int_equal(pa->params.made_with_ai, pb->params.made_with_ai);
        assert_int_equal(pa->attempts, pb->attempts);
        assert_int_equal(pa->attempted_at, pb->attempted_at);
        assert_int_equal(pa->next_attempt_at, pb->next_attempt_at);
        assert_int_equal(pa->bytes_sent, pb->bytes_sent);
        assert_int_equal(pa->bytes_total, pb->bytes_total);
        t_str_eq(pa->publish_id, pb->publish_id);
        assert_int_equal(pa->platform_id, pb->platform_id);
        t_str_eq(pa->url, pb->url);
        t_str_eq(pa->error, pb->error);
        t_str_eq(pa->error_code, pb->error_code);
        t_str_eq(pa->error_message, pb->error_message);
        t_str_eq(pa->error_note, pb->error_note);
        assert_int_equal(pa->stage, pb->stage);
        t_str_eq(pa->upload_url, pb->upload_url);
        assert_int_equal(pa->upload_expires_at, pb->upload_expires_at);
        assert_int_equal(pa->chunk_size, pb->chunk_size);
        assert_int_equal(pa->chunk_count, pb->chunk_count);
    }
}


static void
test_record(void **state)
{
    t_ctx_t         *t;
    tt_buf_t         rec, api, again;
    tt_jw_t          w;
    tt_post_t        p, d;
    tt_post_peek_t   peek;

    t = *state;

    t_full_post(t, &p);

    tt_buf_init(&rec);
    tt_buf_init(&api);
    tt_buf_init(&again);

    assert_int_equal(tt_post_encode(&p, &rec), TT_OK);

    /* the header */
    assert_int_equal((uint8_t) rec.data[0], TT_POST_RECORD_V1);
    assert_string_equal(rec.data + 1, "ws_12345678901234567890");
    assert_string_equal(rec.data + T_HDR_GROUP, "pg_x");
    assert_int_equal((uint8_t) rec.data[T_HDR_STATUS], TT_POST_PROCESSING);

    assert_int_equal(tt_post_peek(rec.data, rec.len, &peek), TT_OK);
    assert_string_equal(peek.workspace_id, "ws_12345678901234567890");
    assert_string_equal(peek.profile_group_id, "pg_x");
    assert_int_equal(peek.status, TT_POST_PROCESSING);
    assert_int_equal(peek.created_at, T_NOW - 1);
    assert_int_equal(peek.scheduled_at, T_SEED_AT);
    assert_int_equal(peek.due_at, T_NOW + 999);

    /* the api slice is tt_post_render's bytes */
    assert_int_equal(tt_jw_init(&w, &api), TT_OK);
    tt_post_render(&w, &p);
    assert_int_equal(tt_jw_finish(&w), TT_OK);
    assert_int_equal(peek.api.len, api.len);
    assert_memory_equal(peek.api.data, api.data, api.len);

    assert_int_equal(tt_post_decode(rec.data, rec.len, t->a, &d), TT_OK);
    t_expect_same(&p, &d);

    /* and again from the decoded post: the same bytes */
    assert_int_equal(tt_post_encode(&d, &again), TT_OK);
    assert_int_equal(again.len, rec.len);
    assert_memory_equal(again.data, rec.data, rec.len);

    /* a fresh post too (NULLs, -1s, empty arrays) */
    t_create(t, t_seed_queue, &p);
    p.media = NULL;
    p.nmedia = 0;

    tt_buf_reset(&rec);
    assert_int_equal(tt_post_encode(&p, &rec), TT_OK);
    assert_int_equal(tt_post_decode(rec.data, rec.len, t->a, &d), TT_OK);
    t_expect_same(&p, &d);
    assert_string_equal(d.workspace_id, "");
    assert_int_equal(tt_post_peek(rec.data, rec.len, &peek), TT_OK);
    assert_string_equal(peek.profile_group_id, "");

    /* encode appends */
    tt_buf_reset(&again);
    tt_buf_append_str(&again, "prefix");
    assert_int_equal(tt_post_encode(&p, &again), TT_OK);
    assert_int_equal(again.len, rec.len + 6);
    assert_memory_equal(again.data + 6, rec.data, rec.len);

    tt_buf_free(&rec);
    tt_buf_free(&api);
    tt_buf_free(&again);
}


/*
 * Records written by earlier code (tests/fixtures/post_records/, made by
 * TT_WRITE_GOLDEN=1 from the hand-written encoder the field tables
 * replaced): today's encoder must write the same bytes, api slice and
 * internal JSON alike, and its decoder must read them back as the post.
 * Ids are fixed so that the bytes are.
 */
#define T_GOLDEN_DIR  "tests/fixtures/post_records/"


static void
t_golden_ids(tt_post_t *p)
{
    size_t  i;

    memset(p->id, 0, TT_ID_SIZE);
    memcpy(p->id, "p_golden", sizeof("p_golden"));

    for (i = 0; i < p->nmedia; i++) {
        memset(p->media[i].id, 0, TT_ID_SIZE);
        snprintf(p->media[i].id, TT_ID_SIZE, "m_golden%zu", i);
    }
}


static void
t_golden(t_ctx_t *t, const char *name, const tt_post_t *p)
{
    char       path[256];
    FILE      *f;
    size_t     n;
    tt_buf_t   rec, old;
    tt_post_t  d;

    snprintf(path, sizeof(path), T_GOLDEN_DIR "%s.rec", name);

    tt_buf_init(&rec);
    tt_buf_init(&old);
    assert_int_equal(tt_post_encode(p, &rec), TT_OK);

    if (getenv("TT_WRITE_GOLDEN") != NULL) {
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(rec.data, 1, rec.len, f), rec.len);
        assert_int_equal(fclose(f), 0);
    }

    f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("no %s (run the test from the top directory)", path);
    }

    assert_int_equal(tt_buf_reserve(&old, 65536), TT_OK);
    n = fread(old.data, 1, 65536, f);
    assert_int_equal(fclose(f), 0);
    old.len = n;

    if (rec.len != old.len || memcmp(rec.data, old.data, rec.len) != 0) {
        print_message("%s: written  %.*s\n%s: expected %.*s\n", name,
                      (int) (rec.len - T_HDR_LEN), rec.data + T_HDR_LEN,
                      name, (int) (old.len - T_HDR_LEN),
                      old.data + T_HDR_LEN);
        fail_msg("%s: the record's bytes changed", name);
    }

    assert_int_equal(tt_post_decode(old.data, old.len, t->a, &d), TT_OK);
    t_expect_same(p, &d);
    assert_int_equal(d.platforms[0].id_until, p->platforms[0].id_until);

    tt_buf_free(&rec);
    tt_buf_free(&old);
}


/* a record from before platforms had id_until decodes with none */
static void
t_golden_no_id_until(t_ctx_t *t)
{
    char        *at;
    FILE        *f;
    size_t       n, cut;
    tt_post_t    d;
    static char  rec[65536];

    f = fopen(T_GOLDEN_DIR "video.rec", "rb");
    assert_non_null(f);
    n = fread(rec, 1, sizeof(rec) - 1, f);
    assert_int_equal(fclose(f), 0);
    rec[n] = '\0';

    at = strstr(rec + T_HDR_LEN, ",\"id_until\":0}");
    assert_non_null(at);
    cut = sizeof(",\"id_until\":0") - 1;
    memmove(at, at + cut, n - (size_t) (at - rec) - cut);
    n -= cut;

    assert_int_equal(tt_post_decode(rec, n, t->a, &d), TT_OK);
    assert_int_equal(d.platforms[0].id_until, 0);
    assert_int_equal(d.platforms[0].status, TT_PLAT_PENDING);
    assert_string_equal(d.platforms[0].profile_id, "prof_abc");
}


static void
test_record_golden(void **state)
{
    t_ctx_t    *t;
    tt_post_t   p;

    t = *state;

    t_full_post(t, &p);
    t_golden_ids(&p);
    t_golden(t, "full", &p);

    p.platforms[0].status = TT_PLAT_PUBLISHED;
    p.platforms[0].id_until = T_NOW + 72 * 3600000LL;
    p.platforms[0].error_code = NULL;
    p.platforms[0].error_message = "only the message";
    p.platforms[0].error_note = NULL;
    p.platforms[0].params.format = TT_FORMAT_VIDEO;
    p.platforms[0].params.auto_add_music = 1;
    p.platforms[0].params.brand_organic_toggle = 1;
    p.draft = 1;
    p.status = TT_POST_DRAFT;
    p.media[0].frame_rate = 24;
    p.media[1].frame_rate = -1;
    t_golden(t, "published", &p);

    t_create(t, t_seed_queue, &p);
    t_golden_ids(&p);
    t_golden(t, "queue", &p);

    t_create(t, t_seed_video, &p);
    t_golden_ids(&p);
    t_golden(t, "video", &p);

    t_create(t, t_seed_image, &p);
    t_golden_ids(&p);
    p.media = NULL;
    p.nmedia = 0;
    t_golden(t, "empty", &p);

    t_golden_no_id_until(t);
}


/*
 * Headers of another size with the same version: the header before the
 * profile group (62 bytes), and one with 4 bytes too many whose api_len
 * still fits.
 */
static void
t_corrupt_header(t_ctx_t *t, const tt_buf_t *rec)
{
    char            *bad;
    tt_post_t        d;
    tt_post_peek_t   peek;

    bad = malloc(rec->len + 4);
    assert_non_null(bad);

    memcpy(bad, rec->data, T_HDR_GROUP);
    memcpy(bad + T_HDR_GROUP, rec->data + T_HDR_STATUS,
           rec->len - T_HDR_STATUS);
    assert_int_equal(tt_post_peek(bad, rec->len - TT_ID_SIZE, &peek),
                     TT_INVALID);
    assert_int_equal(tt_post_decode(bad, rec->len - TT_ID_SIZE, t->a, &d),
                     TT_INVALID);

    memcpy(bad, rec->data, T_HDR_LEN);
    memset(bad + T_HDR_LEN, 0, 4);
    memcpy(bad + T_HDR_LEN + 4, rec->data + T_HDR_LEN,
           rec->len - T_HDR_LEN);
    assert_int_equal(tt_post_peek(bad, rec->len + 4, &peek), TT_INVALID);
    assert_int_equal(tt_post_decode(bad, rec->len + 4, t->a, &d),
                     TT_INVALID);

    free(bad);
}


static void
test_corrupt(void **state)
{
    char            *bad;
    size_t           i, api_len;
    t_ctx_t         *t;
    tt_buf_t         rec;
    tt_post_t        p, d;
    tt_post_peek_t   peek;

    t = *state;

    t_full_post(t, &p);

    tt_buf_init(&rec);
    assert_int_equal(tt_post_encode(&p, &rec), TT_OK);

    assert_int_equal(tt_post_peek(rec.data, rec.len, &peek), TT_OK);
    api_len = peek.api.len;

    /* every truncation: peek fails while the header or api is cut */
    for (i = 0; i < rec.len; i++) {
        bad = malloc(i ? i : 1);
        assert_non_null(bad);
        memcpy(bad, rec.data, i);

        if (i < T_HDR_LEN + api_len) {
            assert_int_equal(tt_post_peek(bad, i, &peek), TT_INVALID);
        }

        assert_int_equal(tt_post_decode(bad, i, t->a, &d), TT_INVALID);
        free(bad);
    }

    assert_int_equal(tt_post_peek(NULL, 0, &peek), TT_INVALID);

    bad = malloc(rec.len);
    assert_non_null(bad);

    /* a version from the future */
    memcpy(bad, rec.data, rec.len);
    bad[0] = 2;
    assert_int_equal(tt_post_peek(bad, rec.len, &peek), TT_INVALID);
    assert_int_equal(tt_post_decode(bad, rec.len, t->a, &d), TT_INVALID);

    /* a workspace id with no NUL */
    memcpy(bad, rec.data, rec.len);
    memset(bad + 1, 'w', TT_ID_SIZE);
    assert_int_equal(tt_post_peek(bad, rec.len, &peek), TT_INVALID);

    /* an unknown status */
    memcpy(bad, rec.data, rec.len);
    bad[T_HDR_STATUS] = 6;
    assert_int_equal(tt_post_peek(bad, rec.len, &peek), TT_INVALID);

    /* a header that disagrees with the body */
    memcpy(bad, rec.data, rec.len);
    bad[T_HDR_STATUS] = TT_POST_SCHEDULED;
    assert_int_equal(tt_post_peek(bad, rec.len, &peek), TT_OK);
    assert_int_equal(tt_post_decode(bad, rec.len, t->a, &d), TT_INVALID);

    memcpy(bad, rec.data, rec.len);
    bad[2] = 'x';
    assert_int_equal(tt_post_decode(bad, rec.len, t->a, &d), TT_INVALID);

    /* the profile group: NUL-terminated, and the body's */
    memcpy(bad, rec.data, rec.len);
    memset(bad + T_HDR_GROUP, 'g', TT_ID_SIZE);
    assert_int_equal(tt_post_peek(bad, rec.len, &peek), TT_INVALID);

    memcpy(bad, rec.data, rec.len);
    bad[T_HDR_GROUP + 1] = 'x';
    assert_int_equal(tt_post_peek(bad, rec.len, &peek), TT_OK);
    assert_string_equal(peek.profile_group_id, "px_x");
    assert_int_equal(tt_post_decode(bad, rec.len, t->a, &d), TT_INVALID);

    /* api_len past the end, and zero */
    memcpy(bad, rec.data, rec.len);
    bad[T_HDR_API_LEN] = (char) 0xff;
    assert_int_equal(tt_post_peek(bad, rec.len, &peek), TT_INVALID);

    memcpy(bad, rec.data, rec.len);
    memset(bad + T_HDR_API_LEN, 0, 4);
    assert_int_equal(tt_post_peek(bad, rec.len, &peek), TT_INVALID);

    /* api_len one short: the internal JSON starts with garbage */
    memcpy(bad, rec.data, rec.len);
    bad[T_HDR_API_LEN + 3]--;
    assert_int_equal(tt_post_peek(bad, rec.len, &peek), TT_INVALID);
    assert_int_equal(tt_post_decode(bad, rec.len, t->a, &d), TT_INVALID);

    /* every single byte flip of the internal JSON: never a crash */
    for (i = T_HDR_LEN + api_len; i < rec.len; i++) {
        memcpy(bad, rec.data, rec.len);
        bad[i] ^= 0x5a;
        (void) tt_post_decode(bad, rec.len, t->a, &d);
    }

    free(bad);

    t_corrupt_header(t, &rec);

    tt_buf_free(&rec);
}


static void
t_decode_json(t_ctx_t *t, const char *internal, int want)
{
    tt_buf_t         rec;
    tt_post_t        p, d;
    tt_post_peek_t   peek;

    t_create(t, t_seed_video, &p);

    tt_buf_init(&rec);
    assert_int_equal(tt_post_encode(&p, &rec), TT_OK);
    assert_int_equal(tt_post_peek(rec.data, rec.len, &peek), TT_OK);

    rec.len = T_HDR_LEN + peek.api.len;
    tt_buf_append_str(&rec, internal);
    assert_true(tt_buf_ok(&rec));

    assert_int_equal(tt_post_decode(rec.data, rec.len, t->a, &d), want);
    tt_buf_free(&rec);
}


static void
test_decode_types(void **state)
{
    t_ctx_t  *t;

    t = *state;

    t_decode_json(t, "[]", TT_INVALID);
    t_decode_json(t, "{}", TT_INVALID);
    t_decode_json(t, "{\"id\": 1}", TT_INVALID);
    t_decode_json(t, "nul", TT_INVALID);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_seed_video, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_seed_image, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_seed_queue, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_retime, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_all_params, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_errors, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_valid_urls, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_media_limits, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_many_errors, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_caption_length, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_patch, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_patch_queue, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_settle, t_setup, t_teardown),
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_render, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_record, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_record_golden, t_setup,
                                        t_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_decode_types, t_setup,
                                        t_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
