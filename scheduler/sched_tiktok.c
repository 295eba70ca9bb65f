/*
 * Copyright (C) the ngx_tiktok authors.
 * TikTok's Content Posting API: request bodies, answers, error sentences.
 * No libcurl call here, so that tests/test_sched_tiktok.c can include it.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_tiktok.h"


typedef struct {
    const char     *code;
    sched_result_e  result;
    const char     *human;
    const char     *note;
} sched_code_t;


/* tiktok-api.md sections 2, 4, 5, 7, 12 */
static const sched_code_t  sched_codes[] = {
    { "rate_limit_exceeded", SCHED_R_RETRY,
      "TikTok's rate limit was exceeded", NULL },
    { "internal_error", SCHED_R_RETRY,
      "TikTok had an internal error", NULL },
    { "access_token_invalid", SCHED_R_AUTH,
      "TikTok did not accept the access token",
      "Reconnect the TikTok profile." },
    { "scope_not_authorized", SCHED_R_FAIL,
      "The TikTok account did not grant the permission to post",
      "Reconnect the profile and grant video.publish and video.upload." },
    { "spam_risk_too_many_posts", SCHED_R_FAIL,
      "TikTok's daily limit of posts for this creator is reached",
      "Try again tomorrow: the limit is shared by every app posting for "
      "this account." },
    { "spam_risk_user_banned_from_posting", SCHED_R_FAIL,
      "TikTok has banned this account from posting",
      "Check the account in the TikTok app." },
    { "reached_active_user_cap", SCHED_R_FAIL,
      "This TikTok app reached its daily cap of users who post",
      "The cap is for the whole app, not this account: try again "
      "tomorrow or ask TikTok for a higher cap." },
    { "unaudited_client_can_only_post_to_private_accounts", SCHED_R_FAIL,
      "An unaudited TikTok app can only post to private accounts",
      "Make the TikTok account private, or have the app audited." },
    { "privacy_level_option_mismatch", SCHED_R_FAIL,
      "The privacy level is not one this creator can use",
      "Choose one of the creator's privacy options." },
    { "url_ownership_unverified", SCHED_R_FAIL,
      "TikTok cannot pull the media: its domain is not verified for "
      "this app",
      "Verify the domain or URL prefix in the TikTok developer portal." },
    { "spam_risk_too_many_pending_share", SCHED_R_FAIL,
      "The creator has too many drafts waiting in the TikTok inbox",
      "TikTok allows 5 pending drafts per 24 hours: post or delete them "
      "in the TikTok app." },
    { "app_version_check_failed", SCHED_R_FAIL,
      "The creator's TikTok app is too old for drafts of photos",
      "Update the TikTok app to 31.8 or later." },
    { "invalid_params", SCHED_R_FAIL,
      "TikTok rejected the request as invalid", NULL },
    { "invalid_param", SCHED_R_FAIL,
      "TikTok rejected the request as invalid", NULL },
    { "invalid_file_upload", SCHED_R_FAIL,
      "TikTok rejected the uploaded file", NULL },
    { "scope_permission_missed", SCHED_R_FAIL,
      "The TikTok account did not grant a needed permission",
      "Reconnect the profile." },
    { "invalid_publish_id", SCHED_R_FAIL,
      "TikTok does not know this publish any more", NULL },
};


typedef struct {
    const char     *reason;
    int             retry;
    const char     *human;
    const char     *note;
} sched_reason_t;


/* tiktok-api.md section 8.1 */
static const sched_reason_t  sched_reasons[] = {
    { "internal", 1, "A TikTok component was unavailable", NULL },
    { "video_pull_failed", 1, "TikTok could not download the video", NULL },
    { "photo_pull_failed", 1, "TikTok could not download the photos",
      "Check that the image URLs stay reachable." },
    { "file_format_check_failed", 0, "TikTok does not support the file's "
      "format", "Use MP4 with H.264, or JPEG/WebP photos." },
    { "duration_check_failed", 0, "The video's duration is out of "
      "TikTok's bounds", NULL },
    { "frame_rate_check_failed", 0, "The video's frame rate is out of "
      "TikTok's bounds (23-60 fps)", NULL },
    { "picture_size_check_failed", 0, "The resolution is out of TikTok's "
      "bounds", NULL },
    { "publish_cancelled", 0, "The publish was cancelled", NULL },
    { "auth_removed", 0, "The creator revoked this app's access",
      "Reconnect the TikTok profile." },
    { "spam_risk_too_many_posts", 0, "TikTok's daily limit of posts for "
      "this creator is reached", "Try again tomorrow." },
    { "spam_risk_user_banned_from_posting", 0, "TikTok has banned this "
      "account from posting", NULL },
    { "spam_risk_text", 0, "TikTok judged the caption as spam",
      "Change the caption." },
    { "spam_risk", 0, "TikTok judged the post as risky", NULL },
};


const char *
sched_tt_str(const tt_json_t *obj, const char *key)
{
    tt_json_t  *v;

    v = tt_json_get(obj, key);

    return (v && v->type == TT_JSON_STRING) ? v->str : NULL;
}


int
sched_tt_int64(const tt_json_t *v, int64_t *out)
{
    const char  *p;
    char        *end;
    size_t       i;
    long long    n;

    if (v == NULL
        || (v->type != TT_JSON_NUMBER && v->type != TT_JSON_STRING)
        || v->str == NULL || v->len == 0)
    {
        return SCHED_ERR;
    }

    p = v->str;

    /* only plain digits: "1.2e18" must not turn into a rounded id */
    for (i = 0; i < v->len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return SCHED_ERR;
        }
    }

    errno = 0;
    n = strtoll(p, &end, 10);

    if (errno != 0 || end != p + v->len) {
        return SCHED_ERR;
    }

    *out = n;
    return SCHED_OK;
}


static char *
sched_dup(tt_arena_t *a, const char *s)
{
    return s ? tt_arena_strndup(a, s, strlen(s)) : NULL;
}


static void
sched_tt_transport(sched_http_t *h, tt_arena_t *a, sched_answer_t *ans)
{
    char  buf[CURL_ERROR_SIZE + 64];
    int   n;

    if (h->errbuf[0]) {
        n = snprintf(buf, sizeof(buf), "Could not reach TikTok: %s",
                     h->errbuf);

    } else {
        n = snprintf(buf, sizeof(buf), "Could not reach TikTok (curl error "
                     "%d)", (int) h->result);
    }

    if (n < 0) {
        buf[0] = '\0';
    }

    ans->result = SCHED_R_RETRY;
    ans->human = sched_dup(a, buf);
}


void
sched_tt_answer(sched_http_t *h, tt_arena_t *a, sched_answer_t *ans)
{
    tt_json_t  *err;
    size_t      i;
    char        msg[160];

    memset(ans, 0, sizeof(sched_answer_t));

    if (h->result != CURLE_OK) {
        sched_tt_transport(h, a, ans);
        return;
    }

    if (h->resp.len > 0) {
        ans->root = tt_json_parse(a, h->resp.data, h->resp.len, msg,
                                  sizeof(msg));
    }

    err = tt_json_get(ans->root, "error");
    ans->data = tt_json_get(ans->root, "data");
    ans->code = sched_dup(a, sched_tt_str(err, "code"));
    ans->message = sched_dup(a, sched_tt_str(err, "message"));

    if (h->status == 200 && ans->code && strcmp(ans->code, "ok") == 0) {
        ans->result = SCHED_R_OK;
        return;
    }

    for (i = 0; ans->code && i < TT_ARRAY_SIZE(sched_codes); i++) {
        if (strcmp(ans->code, sched_codes[i].code) == 0) {
            ans->result = sched_codes[i].result;
            ans->human = sched_codes[i].human;
            ans->note = sched_codes[i].note;

            if (h->status == 401 && ans->result == SCHED_R_AUTH) {
                return;
            }

            if (h->status >= 500 || h->status == 429) {
                ans->result = SCHED_R_RETRY;
            }

            return;
        }
    }

    if (h->status == 429 || h->status >= 500 || h->status == 0
        || (h->status == 200 && ans->root == NULL))
    {
        ans->result = SCHED_R_RETRY;
        (void) snprintf(msg, sizeof(msg), "TikTok answered HTTP %ld",
                        h->status);
        ans->human = sched_dup(a, msg);
        return;
    }

    if (h->status == 401) {
        ans->result = SCHED_R_AUTH;
        ans->human = "TikTok did not accept the access token";
        return;
    }

    ans->result = SCHED_R_FAIL;
    (void) snprintf(msg, sizeof(msg), "TikTok refused the request (HTTP %ld)",
                    h->status);
    ans->human = sched_dup(a, msg);
}


void
sched_tt_fail_reason(const char *reason, sched_answer_t *ans)
{
    size_t  i;

    ans->code = reason;
    ans->result = SCHED_R_FAIL;
    ans->human = "TikTok could not publish the post";
    ans->note = NULL;

    for (i = 0; reason && i < TT_ARRAY_SIZE(sched_reasons); i++) {
        if (strcmp(reason, sched_reasons[i].reason) == 0) {
            ans->result = sched_reasons[i].retry ? SCHED_R_RETRY
                                                 : SCHED_R_FAIL;
            ans->human = sched_reasons[i].human;
            ans->note = sched_reasons[i].note;
            return;
        }
    }
}


static void
sched_jw_bool(tt_jw_t *w, const char *key, int v)
{
    tt_jw_key(w, key);
    tt_jw_bool(w, v);
}


int
sched_tt_video_init(const tt_post_t *p, const tt_platform_t *pl,
    const tt_chunk_plan_t *plan, tt_buf_t *out)
{
    tt_jw_t                    w;
    const tt_tiktok_params_t  *tp;

    tp = &pl->params;

    if (tt_jw_init(&w, out) != TT_OK) {
        return SCHED_ERR;
    }

    tt_jw_obj_open(&w);

    if (tp->post_mode == TT_MODE_DIRECT) {
        tt_jw_key(&w, "post_info");
        tt_jw_obj_open(&w);

        if (p->body_len > 0) {
            tt_jw_key(&w, "title");
            tt_jw_str(&w, p->body, p->body_len);
        }

        tt_jw_key(&w, "privacy_level");
        tt_jw_cstr(&w, tt_privacy_name(tp->privacy));
        sched_jw_bool(&w, "disable_duet", tp->disable_duet);
        sched_jw_bool(&w, "disable_comment", tp->disable_comment);
        sched_jw_bool(&w, "disable_stitch", tp->disable_stitch);

        if (tp->video_cover_timestamp_ms >= 0) {
            tt_jw_key(&w, "video_cover_timestamp_ms");
            tt_jw_int(&w, tp->video_cover_timestamp_ms);
        }

        sched_jw_bool(&w, "brand_content_toggle", tp->brand_content_toggle);
        sched_jw_bool(&w, "brand_organic_toggle", tp->brand_organic_toggle);
        sched_jw_bool(&w, "is_aigc", tp->made_with_ai);
        tt_jw_obj_close(&w);
    }

    tt_jw_key(&w, "source_info");
    tt_jw_obj_open(&w);
    tt_jw_key(&w, "source");
    tt_jw_cstr(&w, "FILE_UPLOAD");
    tt_jw_key(&w, "video_size");
    tt_jw_int(&w, plan->video_size);
    tt_jw_key(&w, "chunk_size");
    tt_jw_int(&w, plan->chunk_size);
    tt_jw_key(&w, "total_chunk_count");
    tt_jw_int(&w, plan->count);
    tt_jw_obj_close(&w);

    tt_jw_obj_close(&w);

    return tt_jw_finish(&w) == TT_OK ? SCHED_OK : SCHED_ERR;
}


int
sched_tt_photo_init(const tt_post_t *p, const tt_platform_t *pl,
    tt_buf_t *out)
{
    tt_jw_t                    w;
    size_t                     i;
    const tt_tiktok_params_t  *tp;
    int                        direct;

    tp = &pl->params;
    direct = (tp->post_mode == TT_MODE_DIRECT);

    if (tt_jw_init(&w, out) != TT_OK) {
        return SCHED_ERR;
    }

    tt_jw_obj_open(&w);

    /* the caption goes to description (4000); title stays empty */
    tt_jw_key(&w, "post_info");
    tt_jw_obj_open(&w);

    if (p->body_len > 0) {
        tt_jw_key(&w, "description");
        tt_jw_str(&w, p->body, p->body_len);
    }

    if (direct) {
        tt_jw_key(&w, "privacy_level");
        tt_jw_cstr(&w, tt_privacy_name(tp->privacy));
        sched_jw_bool(&w, "disable_comment", tp->disable_comment);
        sched_jw_bool(&w, "auto_add_music", tp->auto_add_music);
        sched_jw_bool(&w, "brand_content_toggle", tp->brand_content_toggle);
        sched_jw_bool(&w, "brand_organic_toggle", tp->brand_organic_toggle);
    }

    tt_jw_obj_close(&w);

    tt_jw_key(&w, "source_info");
    tt_jw_obj_open(&w);
    tt_jw_key(&w, "source");
    tt_jw_cstr(&w, "PULL_FROM_URL");
    tt_jw_key(&w, "photo_cover_index");
    tt_jw_int(&w, tp->photo_cover_index);
    tt_jw_key(&w, "photo_images");
    tt_jw_arr_open(&w);

    for (i = 0; i < p->nmedia; i++) {
        tt_jw_cstr(&w, p->media[i].source_url);
    }

    tt_jw_arr_close(&w);
    tt_jw_obj_close(&w);

    tt_jw_key(&w, "post_mode");
    tt_jw_cstr(&w, tt_post_mode_name(tp->post_mode));
    tt_jw_key(&w, "media_type");
    tt_jw_cstr(&w, "PHOTO");

    tt_jw_obj_close(&w);

    return tt_jw_finish(&w) == TT_OK ? SCHED_OK : SCHED_ERR;
}


int
sched_tt_status_body(const char *publish_id, tt_buf_t *out)
{
    tt_jw_t  w;

    if (tt_jw_init(&w, out) != TT_OK) {
        return SCHED_ERR;
    }

    tt_jw_obj_open(&w);
    tt_jw_key(&w, "publish_id");
    tt_jw_cstr(&w, publish_id);
    tt_jw_obj_close(&w);

    return tt_jw_finish(&w) == TT_OK ? SCHED_OK : SCHED_ERR;
}


char *
sched_tt_url(sched_t *s, tt_arena_t *a, const char *path)
{
    size_t   l1, l2;
    char    *u;

    l1 = strlen(s->conf.api_base);
    l2 = strlen(path);

    u = tt_arena_alloc(a, l1 + l2 + 1);
    if (u == NULL) {
        return NULL;
    }

    memcpy(u, s->conf.api_base, l1);
    memcpy(u + l1, path, l2 + 1);

    return u;
}
