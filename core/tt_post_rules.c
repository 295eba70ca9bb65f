/*
 * Copyright (C) the ngx_tiktok authors.
 * What the post's input check and its model share, below both: the API's
 * names, the validation messages and the rules across fields.
 */


#include <stdarg.h>
#include <stdio.h>

#include "tt_post_int.h"


#define TT_ERRORS_MIN       8

/*
 * A photo post has two texts at TikTok: a title (90 UTF-16 units) and a
 * description (4000).  Hashtags and mentions are read from the
 * description, and post.body is where users put them, so the caption of
 * a format "image" post is sent as the photo description and limited to
 * 4000 units; a video caption is the video title, limited to 2200.
 */
#define TT_PHOTO_DESC_MAX   4000


static void tt_errors_vadd(tt_errors_t *e, const char *prefix,
    const char *fmt, va_list ap);
static int tt_post_has_c0(const char *s, size_t len);
static const char *tt_post_name(const char *const *names, size_t n,
    unsigned i);


const char *const  tt_privacy_names[4] = {
    "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR",
    "SELF_ONLY"
};

const char *const  tt_format_names[2] = { "video", "image" };

const char *const  tt_mode_names[2] = { "DIRECT_POST", "MEDIA_UPLOAD" };

/* indexed by tt_priority_e */
const char *const  tt_priority_names[3] = { "low", "medium", "high" };

const char *const  tt_tiktok_bools[TT_TK_NBOOLS] = {
    "auto_add_music", "disable_comment", "disable_duet", "disable_stitch",
    "brand_content_toggle", "brand_organic_toggle", "made_with_ai"
};

const char *const  tt_post_status_names[6] = {
    "draft", "pending", "scheduled", "processing", "processed",
    "media_processing_failed"
};

const char *const  tt_plat_status_names[5] = {
    "pending", "processing", "published", "failed",
    "failed_waiting_for_retry"
};

const char *const  tt_media_status_names[3] = {
    "pending", "processed", "failed"
};


void
tt_errors_init(tt_errors_t *e, tt_arena_t *a)
{
    e->msgs = NULL;
    e->n = 0;
    e->cap = 0;
    e->arena = a;
    e->failed = 0;
}


void
tt_errors_add(tt_errors_t *e, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    tt_errors_vadd(e, "", fmt, ap);
    va_end(ap);
}


static void
tt_errors_vadd(tt_errors_t *e, const char *prefix, const char *fmt,
    va_list ap)
{
    int           n;
    char         *msg;
    size_t        plen;
    va_list       aq;
    const char  **msgs;

    if (e->n == e->cap) {
        /* the arena cannot grow in place: a new array, the old is dropped */
        e->cap = e->cap ? e->cap * 2 : TT_ERRORS_MIN;
        msgs = tt_arena_alloc(e->arena, e->cap * sizeof(const char *));
        if (msgs == NULL) {
            e->cap = e->n;
            e->failed = 1;
            return;
        }

        if (e->n) {
            memcpy(msgs, e->msgs, e->n * sizeof(const char *));
        }

        e->msgs = msgs;
    }

    va_copy(aq, ap);
    n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);

    if (n < 0) {
        e->failed = 1;
        return;
    }

    plen = strlen(prefix);

    msg = tt_arena_alloc(e->arena, plen + (size_t) n + 1);
    if (msg == NULL) {
        e->failed = 1;
        return;
    }

    memcpy(msg, prefix, plen);
    vsnprintf(msg + plen, (size_t) n + 1, fmt, ap);

    /* an answer's messages are JSON strings: a quoted field cut inside a
       character ("%.64s") must not make the whole answer a 500 */
    tt_utf8_scrub(msg, plen + (size_t) n);

    e->msgs[e->n++] = msg;
}


void
tt_post_ctx_init(tt_post_ctx_t *c, tt_errors_t *errs, const char *prefix,
    tt_arena_t *a)
{
    c->errs = errs;
    c->prefix = prefix ? prefix : "";
    c->arena = a;
    c->nomem = 0;
}


void
tt_post_error(tt_post_ctx_t *c, const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    tt_errors_vadd(c->errs, c->prefix, fmt, ap);
    va_end(ap);
}


/* boolean i of tt_tiktok_bools */
void
tt_params_set_bool(tt_tiktok_params_t *p, unsigned i, unsigned v)
{
    switch (i) {
    case 0: p->auto_add_music = v; break;
    case 1: p->disable_comment = v; break;
    case 2: p->disable_duet = v; break;
    case 3: p->disable_stitch = v; break;
    case 4: p->brand_content_toggle = v; break;
    case 5: p->brand_organic_toggle = v; break;
    default: p->made_with_ai = v; break;
    }
}


unsigned
tt_params_bool(const tt_tiktok_params_t *p, unsigned i)
{
    switch (i) {
    case 0: return p->auto_add_music;
    case 1: return p->disable_comment;
    case 2: return p->disable_duet;
    case 3: return p->disable_stitch;
    case 4: return p->brand_content_toggle;
    case 5: return p->brand_organic_toggle;
    default: return p->made_with_ai;
    }
}


/*
 * The rules across fields, on values rather than JSON: tt_post_input_parse()
 * checks a create's input plus defaults with them, and tt_post_apply()
 * every result.
 */
void
tt_post_check_body(tt_post_ctx_t *c, const char *body, size_t len,
    tt_format_e format)
{
    size_t  max;

    max = (format == TT_FORMAT_IMAGE) ? TT_PHOTO_DESC_MAX : TT_CAPTION_MAX;

    if (tt_utf16_len(body, len) > max) {
        tt_post_error(c, "post.body is longer than %zu characters", max);
    }

    if (tt_post_has_c0(body, len)) {
        tt_post_error(c, "post.body contains a control character (U+0000 "
                      "to U+001F other than tab and newline), which TikTok "
                      "refuses");
    }
}


/* a C0 control character other than tab and newline */
static int
tt_post_has_c0(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 && s[i] != '\t' && s[i] != '\n') {
            return 1;
        }
    }

    return 0;
}


/* photo_cover_index was given for a video, where TikTok has no such key */
void
tt_post_check_cover(tt_post_ctx_t *c)
{
    tt_post_error(c, "platforms.tiktok.photo_cover_index is for format "
                  "image only; a video's cover is video_cover_timestamp_ms");
}


void
tt_post_check_media(tt_post_ctx_t *c, tt_format_e format, size_t nmedia,
    int64_t cover)
{
    if (nmedia == 0) {
        tt_post_error(c, "media is required");
        return;
    }

    if (format == TT_FORMAT_VIDEO) {
        if (nmedia != 1) {
            tt_post_error(c, "media must have exactly 1 URL for format video "
                          "(%zu given)", nmedia);
        }

        return;
    }

    if (nmedia > TT_IMAGES_MAX) {
        tt_post_error(c, "media must have at most %d URLs", TT_IMAGES_MAX);
    }

    if (cover >= 0 && (uint64_t) cover >= nmedia) {
        tt_post_error(c, "platforms.tiktok.photo_cover_index must be less "
                      "than the number of media (%zu)", nmedia);
    }
}


void
tt_post_check_brand(tt_post_ctx_t *c, int brand, tt_privacy_e privacy)
{
    if (brand && privacy == TT_PRIVACY_SELF) {
        tt_post_error(c, "platforms.tiktok.brand_content_toggle cannot be "
                      "true with privacy_status SELF_ONLY: branded content "
                      "cannot be private");
    }
}


/*
 * An app TikTok has not audited may post SELF_ONLY only (tiktok-api.md
 * section 10): anything else would be refused at its due time, so it is
 * refused now.  A draft for the inbox (MEDIA_UPLOAD) sends no privacy:
 * the creator picks it in the app.
 */
void
tt_post_check_audit(tt_post_ctx_t *c, const tt_tiktok_params_t *params)
{
    if (params->post_mode == TT_MODE_DIRECT
        && params->privacy != TT_PRIVACY_SELF)
    {
        tt_post_error(c, "platforms.tiktok.privacy_status must be SELF_ONLY "
                      "while the TikTok app is not audited: TikTok refuses "
                      "%s from an unaudited app (tiktok_app_audited off; "
                      "its posting accounts must also be private)",
                      tt_privacy_name(params->privacy));
    }
}


/* names[i], or "unknown" past the end (a corrupt or newer value) */
static const char *
tt_post_name(const char *const *names, size_t n, unsigned i)
{
    return i < n ? names[i] : "unknown";
}


const char *
tt_post_status_name(tt_post_status_e s)
{
    return tt_post_name(tt_post_status_names,
                        TT_ARRAY_SIZE(tt_post_status_names), (unsigned) s);
}


const char *
tt_plat_status_name(tt_plat_status_e s)
{
    return tt_post_name(tt_plat_status_names,
                        TT_ARRAY_SIZE(tt_plat_status_names), (unsigned) s);
}


const char *
tt_media_status_name(tt_media_status_e s)
{
    return tt_post_name(tt_media_status_names,
                        TT_ARRAY_SIZE(tt_media_status_names), (unsigned) s);
}


const char *
tt_privacy_name(tt_privacy_e p)
{
    return tt_post_name(tt_privacy_names, TT_ARRAY_SIZE(tt_privacy_names),
                        (unsigned) p);
}


const char *
tt_format_name(tt_format_e f)
{
    return tt_post_name(tt_format_names, TT_ARRAY_SIZE(tt_format_names),
                        (unsigned) f);
}


const char *
tt_post_mode_name(tt_post_mode_e m)
{
    return tt_post_name(tt_mode_names, TT_ARRAY_SIZE(tt_mode_names),
                        (unsigned) m);
}


const char *
tt_priority_name(tt_priority_e p)
{
    /* NULL for TT_PRIORITY_NONE: the API renders it as null */
    if (p < TT_PRIORITY_LOW || p > TT_PRIORITY_HIGH) {
        return NULL;
    }

    return tt_priority_names[p];
}


/* a queue assigns the time: a request gives one or the other */
void
tt_post_check_schedule(tt_post_ctx_t *c, const tt_post_input_t *in)
{
    if (in->has_scheduled_at && in->scheduled_at >= 0
        && in->has_queue_id && in->queue_id.len > 0)
    {
        tt_post_error(c, "scheduled_at and queue_id cannot both be given");
    }
}
