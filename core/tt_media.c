/*
 * Copyright (C) the ngx_tiktok authors.
 * Media intake: TikTok's rules for a probed file, and the JSON hand-over
 * between tiktok-probe and the daemon.  No libav here: the probe itself
 * is tt_media_probe.c.
 */

#include <inttypes.h>
#include <limits.h>
#include <math.h>           /* isnan(), isfinite(): macros */
#include <stdarg.h>
#include <stdio.h>

#include "tt_media.h"


static void tt_media_add(char (*list)[TT_MEDIA_MSG_LEN], unsigned *n,
    const char *fmt, va_list args);
static void tt_media_fmt_fixed(char *buf, size_t size, double v,
    int decimals);
static void tt_media_aspect(char *buf, size_t size, int w, int h);
static void tt_media_check_video(const tt_media_info_t *info,
    int64_t max_duration_ms, tt_media_result_t *res);
static void tt_media_check_duration(int64_t ms, int64_t max_ms,
    tt_media_result_t *res);
static void tt_media_check_fps(double frame_rate, tt_media_result_t *res);
static void tt_media_check_image(const tt_media_info_t *info,
    tt_media_result_t *res);
static void tt_media_warn_video(const tt_media_info_t *info,
    tt_media_result_t *res);
static int tt_media_json_str(const tt_json_t *obj, const char *key,
    char *dst, size_t size, int nullable, char *err, size_t err_len);
static int tt_media_json_int(const tt_json_t *obj, const char *key,
    int64_t min, int64_t max, int64_t *v, char *err, size_t err_len);
static int tt_media_json_msgs(const tt_json_t *obj, const char *key,
    char (*list)[TT_MEDIA_MSG_LEN], unsigned *n, char *err,
    size_t err_len);


void
tt_media_errf(char *err, size_t err_len, const char *fmt, ...)
{
    va_list  args;

    if (err == NULL || err_len == 0) {
        return;
    }

    va_start(args, fmt);
    (void) vsnprintf(err, err_len, fmt, args);
    va_end(args);
}


const char *
tt_media_kind_name(tt_media_kind_e kind)
{
    return kind == TT_MEDIA_IMAGE ? "image" : "video";
}


static void
tt_media_add(char (*list)[TT_MEDIA_MSG_LEN], unsigned *n, const char *fmt,
    va_list args)
{
    if (*n >= TT_MEDIA_MAX_MSGS) {
        return;
    }

    (void) vsnprintf(list[*n], TT_MEDIA_MSG_LEN, fmt, args);
    (*n)++;
}


void
tt_media_add_error(tt_media_result_t *res, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    tt_media_add(res->errors, &res->nerrors, fmt, args);
    va_end(args);
}


void
tt_media_add_warning(tt_media_result_t *res, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    tt_media_add(res->warnings, &res->nwarnings, fmt, args);
    va_end(args);
}


/* v with at most `decimals` decimals and no trailing zeros: 2.1, 30, 29.97 */
static void
tt_media_fmt_fixed(char *buf, size_t size, double v, int decimals)
{
    int    rc;
    char  *p;

    rc = snprintf(buf, size, "%.*f", decimals, v);
    if (rc < 0 || (size_t) rc >= size || strchr(buf, '.') == NULL) {
        return;
    }

    p = buf + rc - 1;
    while (*p == '0') {
        *p-- = '\0';
    }

    if (*p == '.') {
        *p = '\0';
    }
}


static void
tt_media_aspect(char *buf, size_t size, int w, int h)
{
    int  a, b, t;

    a = w;
    b = h;
    while (b != 0) {
        t = a % b;
        a = b;
        b = t;
    }

    /* 16:9 reads well, 427:240 does not */
    if (a > 0 && w / a <= 64 && h / a <= 64) {
        (void) snprintf(buf, size, "%d:%d", w / a, h / a);
        return;
    }

    tt_media_fmt_fixed(buf, size, (double) w / h, 2);
    if (strlen(buf) + sizeof(":1") <= size) {
        memcpy(buf + strlen(buf), ":1", sizeof(":1"));
    }
}


int
tt_media_check(const tt_media_info_t *info, tt_media_kind_e expected,
    int64_t max_duration_ms, tt_media_result_t *res)
{
    memset(res, 0, sizeof(tt_media_result_t));

    if (info->kind != expected) {
        tt_media_add_error(res, "expected %s but the file is %s (%s)",
                           expected == TT_MEDIA_VIDEO ? "a video"
                                                      : "an image",
                           info->kind == TT_MEDIA_VIDEO ? "a video"
                                                        : "an image",
                           info->container);
        return TT_INVALID;
    }

    if (expected == TT_MEDIA_VIDEO) {
        tt_media_check_video(info, max_duration_ms, res);
        tt_media_warn_video(info, res);

    } else {
        tt_media_check_image(info, res);
    }

    return res->nerrors == 0 ? TT_OK : TT_INVALID;
}


static void
tt_media_check_video(const tt_media_info_t *info, int64_t max_duration_ms,
    tt_media_result_t *res)
{
    const char  *c;

    c = info->container;
    if (strcmp(c, "mp4") != 0 && strcmp(c, "mov") != 0
        && strcmp(c, "webm") != 0)
    {
        tt_media_add_error(res, "container %s is not one of MP4, MOV, WebM",
                           c[0] ? c : "(unknown)");
    }

    c = info->video_codec;
    if (strcmp(c, "h264") != 0 && strcmp(c, "hevc") != 0
        && strcmp(c, "vp8") != 0 && strcmp(c, "vp9") != 0)
    {
        tt_media_add_error(res, "video codec %s is not one of H.264, H.265, "
                           "VP8, VP9", c[0] ? c : "(unknown)");
    }

    tt_media_check_duration(info->duration_ms, max_duration_ms, res);

    if (info->width < TT_MEDIA_VIDEO_MIN_SIDE) {
        tt_media_add_error(res, "width %d px is under the 360 px minimum",
                           info->width);

    } else if (info->width > TT_MEDIA_VIDEO_MAX_SIDE) {
        tt_media_add_error(res, "width %d px is over the 4096 px maximum",
                           info->width);
    }

    if (info->height < TT_MEDIA_VIDEO_MIN_SIDE) {
        tt_media_add_error(res, "height %d px is under the 360 px minimum",
                           info->height);

    } else if (info->height > TT_MEDIA_VIDEO_MAX_SIDE) {
        tt_media_add_error(res, "height %d px is over the 4096 px maximum",
                           info->height);
    }

    tt_media_check_fps(info->frame_rate, res);

    /* "4 GB" in TikTok's guide, read as 4 GiB (4 * 1024^3 bytes) */
    if (info->size > TT_MEDIA_VIDEO_MAX_SIZE) {
        tt_media_add_error(res, "size %" PRId64 " bytes is over the 4 GB "
                           "(4294967296 bytes) maximum", info->size);
    }
}


static void
tt_media_check_duration(int64_t ms, int64_t max_ms, tt_media_result_t *res)
{
    char  dur[32], lim[32];

    /* milliseconds shown exactly: 2.999 s is under 3 s, not "3.0 s" */
    tt_media_fmt_fixed(dur, sizeof(dur), ms / 1000.0, 3);

    if (ms < 0) {
        tt_media_add_error(res, "duration is unknown");

    } else if (ms < TT_MEDIA_VIDEO_MIN_MS) {
        tt_media_add_error(res, "duration %s s is under the 3 s minimum",
                           dur);

    } else if (max_ms >= 0 && max_ms < TT_MEDIA_VIDEO_MAX_MS && ms > max_ms) {
        tt_media_fmt_fixed(lim, sizeof(lim), max_ms / 1000.0, 3);
        tt_media_add_error(res, "duration %s s is over the creator's %s s "
                           "maximum", dur, lim);

    } else if (ms > TT_MEDIA_VIDEO_MAX_MS) {
        tt_media_add_error(res, "duration %s s is over the 10 min maximum",
                           dur);
    }
}


static void
tt_media_check_fps(double frame_rate, tt_media_result_t *res)
{
    char    fps[32];
    double  rounded;

    /*
     * Compared as shown, to 0.01 fps: an average like 60.0004 from a
     * variable-rate phone video is 60, while 22.99 is still refused.
     */
    rounded = frame_rate;
    if (rounded > 0 && rounded < 1e9) {
        rounded = (double) (int64_t) (rounded * 100 + 0.5) / 100;
    }

    if (frame_rate > 0
        && (rounded < TT_MEDIA_VIDEO_MIN_FPS
            || rounded > TT_MEDIA_VIDEO_MAX_FPS))
    {
        tt_media_fmt_fixed(fps, sizeof(fps), rounded, 2);
        tt_media_add_error(res, "frame rate %s fps is outside 23-60 fps",
                           fps);
    }
}


static void
tt_media_warn_video(const tt_media_info_t *info, tt_media_result_t *res)
{
    int      w, h, s, l;
    char     ratio[32];
    int64_t  d;

    w = info->width;
    h = info->height;

    /* within 1%: encoders pad 1080x1920 to 1088x1920 and the like */
    d = (int64_t) w * 16 - (int64_t) h * 9;
    if (w > 0 && h > 0 && (d < 0 ? -d : d) * 100 > (int64_t) h * 9) {
        tt_media_aspect(ratio, sizeof(ratio), w, h);
        tt_media_add_warning(res, "aspect ratio %s is not 9:16; TikTok will "
                             "letterbox it", ratio);
    }

    /*
     * The guide allows 360 px; a third-party spec (seed 000) says TikTok
     * rejects under 720x1280.  Warn, in either orientation.
     */
    s = w < h ? w : h;
    l = w < h ? h : w;
    if (s < 720 || l < 1280) {
        tt_media_add_warning(res, "resolution %dx%d is under the "
                             "recommended 720x1280", w, h);
    }

    if (info->frame_rate <= 0) {
        tt_media_add_warning(res, "frame rate is unknown");
    }

    if (!info->has_audio) {
        tt_media_add_warning(res, "no audio track");

    } else if (strcmp(info->audio_codec, "aac") != 0) {
        tt_media_add_warning(res, "audio codec %s is not AAC",
                             info->audio_codec[0] ? info->audio_codec
                                                  : "(unknown)");
    }
}


/*
 * TikTok says only "max 1080p".  For a photo of any orientation we read
 * it as a 1080p frame turned either way: the shorter side at most
 * 1080 px and the longer side at most 1920 px.
 */
static void
tt_media_check_image(const tt_media_info_t *info, tt_media_result_t *res)
{
    int          s, l;
    const char  *c;

    c = info->container;
    if (strcmp(c, "png") == 0) {
        tt_media_add_error(res, "PNG images are not accepted by TikTok; use "
                           "JPEG or WebP");

    } else if (strcmp(c, "jpeg") != 0 && strcmp(c, "webp") != 0) {
        tt_media_add_error(res, "image format %s is not one of JPEG, WebP",
                           c[0] ? c : "(unknown)");
    }

    s = info->width < info->height ? info->width : info->height;
    l = info->width < info->height ? info->height : info->width;

    if (s > TT_MEDIA_IMAGE_MAX_SHORT) {
        tt_media_add_error(res, "image %dx%d is over 1080p: the shorter "
                           "side %d px is over 1080 px", info->width,
                           info->height, s);
    }

    if (l > TT_MEDIA_IMAGE_MAX_LONG) {
        tt_media_add_error(res, "image %dx%d is over 1080p: the longer "
                           "side %d px is over 1920 px", info->width,
                           info->height, l);
    }

    if (info->size > TT_MEDIA_IMAGE_MAX_SIZE) {
        tt_media_add_error(res, "size %" PRId64 " bytes is over the 20 MB "
                           "(20971520 bytes) maximum", info->size);
    }
}


void
tt_media_info_to_json(tt_jw_t *w, const tt_media_info_t *info)
{
    tt_jw_obj_open(w);
    tt_jw_key(w, "kind");
    tt_jw_cstr(w, tt_media_kind_name(info->kind));
    tt_jw_key(w, "container");
    tt_jw_cstr(w, info->container);
    tt_jw_key(w, "content_type");
    tt_jw_cstr(w, info->content_type);
    tt_jw_key(w, "size");
    tt_jw_int(w, info->size);
    tt_jw_key(w, "width");
    tt_jw_int(w, info->width);
    tt_jw_key(w, "height");
    tt_jw_int(w, info->height);
    tt_jw_key(w, "rotation");
    tt_jw_int(w, info->rotation);
    tt_jw_key(w, "duration_ms");
    tt_jw_int(w, info->duration_ms);
    tt_jw_key(w, "video_codec");
    tt_jw_cstr(w, info->video_codec);
    tt_jw_key(w, "frame_rate");
    tt_jw_double(w, info->frame_rate);
    tt_jw_key(w, "audio_codec");
    tt_jw_cstr(w, info->has_audio ? info->audio_codec : NULL);
    tt_jw_key(w, "has_audio");
    tt_jw_bool(w, info->has_audio);
    tt_jw_obj_close(w);
}


static int
tt_media_json_str(const tt_json_t *obj, const char *key, char *dst,
    size_t size, int nullable, char *err, size_t err_len)
{
    tt_json_t  *v;

    v = tt_json_get(obj, key);

    if (v != NULL && v->type == TT_JSON_NULL && nullable) {
        dst[0] = '\0';
        return TT_OK;
    }

    if (v == NULL || v->type != TT_JSON_STRING) {
        tt_media_errf(err, err_len, "\"%s\" must be a string", key);
        return TT_INVALID;
    }

    if (v->len >= size || strlen(v->str) != v->len) {
        tt_media_errf(err, err_len, "\"%s\" is too long or has a NUL", key);
        return TT_INVALID;
    }

    memcpy(dst, v->str, v->len + 1);
    return TT_OK;
}


static int
tt_media_json_int(const tt_json_t *obj, const char *key, int64_t min,
    int64_t max, int64_t *out, char *err, size_t err_len)
{
    tt_json_t  *v;

    v = tt_json_get(obj, key);

    if (v == NULL || v->type != TT_JSON_NUMBER || !v->is_int
        || v->i < min || v->i > max)
    {
        tt_media_errf(err, err_len, "\"%s\" must be an integer in %" PRId64
                      "..%" PRId64, key, min, max);
        return TT_INVALID;
    }

    *out = v->i;
    return TT_OK;
}


int
tt_media_info_from_json(const tt_json_t *obj, tt_media_info_t *info,
    char *err, size_t err_len)
{
    int64_t     size, w, h, rot, dur;
    double      fr;
    tt_json_t  *v;

    memset(info, 0, sizeof(tt_media_info_t));

    if (obj == NULL || obj->type != TT_JSON_OBJECT) {
        tt_media_errf(err, err_len, "media info must be an object");
        return TT_INVALID;
    }

    v = tt_json_get(obj, "kind");
    if (v == NULL || v->type != TT_JSON_STRING
        || (strcmp(v->str, "video") != 0 && strcmp(v->str, "image") != 0))
    {
        tt_media_errf(err, err_len, "\"kind\" must be \"video\" or "
                      "\"image\"");
        return TT_INVALID;
    }

    info->kind = strcmp(v->str, "image") == 0 ? TT_MEDIA_IMAGE
                                              : TT_MEDIA_VIDEO;

    if (tt_media_json_str(obj, "container", info->container,
                          sizeof(info->container), 0, err, err_len)
        || tt_media_json_str(obj, "content_type", info->content_type,
                             sizeof(info->content_type), 0, err, err_len)
        || tt_media_json_str(obj, "video_codec", info->video_codec,
                             sizeof(info->video_codec), 0, err, err_len)
        || tt_media_json_str(obj, "audio_codec", info->audio_codec,
                             sizeof(info->audio_codec), 1, err, err_len)
        || tt_media_json_int(obj, "size", 0, INT64_MAX, &size, err, err_len)
        || tt_media_json_int(obj, "width", 0, INT_MAX, &w, err, err_len)
        || tt_media_json_int(obj, "height", 0, INT_MAX, &h, err, err_len)
        || tt_media_json_int(obj, "rotation", 0, 359, &rot, err, err_len)
        || tt_media_json_int(obj, "duration_ms", -1, INT64_MAX, &dur, err,
                             err_len))
    {
        return TT_INVALID;
    }

    info->size = size;
    info->width = (int) w;
    info->height = (int) h;
    info->rotation = (int) rot;
    info->duration_ms = dur;

    v = tt_json_get(obj, "frame_rate");
    if (v == NULL || v->type != TT_JSON_NUMBER) {
        tt_media_errf(err, err_len, "\"frame_rate\" must be a number");
        return TT_INVALID;
    }

    fr = v->is_int ? (double) v->i : v->d;
    if (!isfinite(fr) || fr < 0) {
        tt_media_errf(err, err_len, "\"frame_rate\" must not be negative");
        return TT_INVALID;
    }

    info->frame_rate = fr;

    v = tt_json_get(obj, "has_audio");
    if (v == NULL || (v->type != TT_JSON_TRUE && v->type != TT_JSON_FALSE)) {
        tt_media_errf(err, err_len, "\"has_audio\" must be a boolean");
        return TT_INVALID;
    }

    info->has_audio = v->type == TT_JSON_TRUE;
    if (!info->has_audio) {
        info->audio_codec[0] = '\0';
    }

    return TT_OK;
}


void
tt_media_report_to_json(tt_jw_t *w, const tt_media_info_t *info,
    const tt_media_result_t *res)
{
    unsigned  i;

    tt_jw_obj_open(w);
    tt_jw_key(w, "ok");
    tt_jw_bool(w, res->nerrors == 0);
    tt_jw_key(w, "info");

    if (info != NULL) {
        tt_media_info_to_json(w, info);

    } else {
        tt_jw_null(w);
    }

    tt_jw_key(w, "errors");
    tt_jw_arr_open(w);
    for (i = 0; i < res->nerrors && i < TT_MEDIA_MAX_MSGS; i++) {
        tt_jw_cstr(w, res->errors[i]);
    }
    tt_jw_arr_close(w);

    tt_jw_key(w, "warnings");
    tt_jw_arr_open(w);
    for (i = 0; i < res->nwarnings && i < TT_MEDIA_MAX_MSGS; i++) {
        tt_jw_cstr(w, res->warnings[i]);
    }
    tt_jw_arr_close(w);

    tt_jw_obj_close(w);
}


static int
tt_media_json_msgs(const tt_json_t *obj, const char *key,
    char (*list)[TT_MEDIA_MSG_LEN], unsigned *n, char *err, size_t err_len)
{
    size_t      i;
    tt_json_t  *v, *item;

    v = tt_json_get(obj, key);
    if (v == NULL || v->type != TT_JSON_ARRAY || v->n > TT_MEDIA_MAX_MSGS) {
        tt_media_errf(err, err_len, "\"%s\" must be an array of at most %d "
                      "strings", key, TT_MEDIA_MAX_MSGS);
        return TT_INVALID;
    }

    for (i = 0; i < v->n; i++) {
        item = v->items[i];

        if (item->type != TT_JSON_STRING || item->len >= TT_MEDIA_MSG_LEN
            || strlen(item->str) != item->len)
        {
            tt_media_errf(err, err_len, "\"%s\" item %zu must be a string "
                          "under %d bytes", key, i, TT_MEDIA_MSG_LEN);
            return TT_INVALID;
        }

        memcpy(list[i], item->str, item->len + 1);
    }

    *n = (unsigned) v->n;
    return TT_OK;
}


int
tt_media_report_from_json(const tt_json_t *root, tt_media_info_t *info,
    int *has_info, tt_media_result_t *res, char *err, size_t err_len)
{
    tt_json_t  *ok, *v;

    memset(res, 0, sizeof(tt_media_result_t));
    memset(info, 0, sizeof(tt_media_info_t));
    *has_info = 0;

    if (root == NULL || root->type != TT_JSON_OBJECT) {
        tt_media_errf(err, err_len, "probe report must be an object");
        return TT_INVALID;
    }

    ok = tt_json_get(root, "ok");
    if (ok == NULL || (ok->type != TT_JSON_TRUE && ok->type != TT_JSON_FALSE))
    {
        tt_media_errf(err, err_len, "\"ok\" must be a boolean");
        return TT_INVALID;
    }

    v = tt_json_get(root, "info");
    if (v == NULL) {
        tt_media_errf(err, err_len, "\"info\" is missing");
        return TT_INVALID;
    }

    if (v->type != TT_JSON_NULL) {
        if (tt_media_info_from_json(v, info, err, err_len) != TT_OK) {
            return TT_INVALID;
        }

        *has_info = 1;
    }

    if (tt_media_json_msgs(root, "errors", res->errors, &res->nerrors, err,
                           err_len) != TT_OK
        || tt_media_json_msgs(root, "warnings", res->warnings,
                              &res->nwarnings, err, err_len) != TT_OK)
    {
        return TT_INVALID;
    }

    /* a report that passes with errors, or fails silently, is corrupt */
    if ((ok->type == TT_JSON_TRUE) != (res->nerrors == 0)) {
        tt_media_errf(err, err_len, "\"ok\" disagrees with \"errors\"");
        return TT_INVALID;
    }

    return TT_OK;
}
