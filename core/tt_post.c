/*
 * Copyright (C) the ngx_tiktok authors.
 * The post model: a new post, input applied to it, its state, its API object.
 */


#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "tt_post_int.h"


/*
 * A photo post has two texts at TikTok: a title (90 UTF-16 units) and a
 * description (4000).  Hashtags and mentions are read from the
 * description, and post.body is where users put them, so the caption of
 * a format "image" post is sent as the photo description and limited to
 * 4000 units; a video caption is the video title, limited to 2200.
 */
#define TT_PHOTO_DESC_MAX   4000


static int tt_post_apply_platform(tt_post_ctx_t *c, tt_post_t *r,
    const tt_post_input_t *in, const tt_tiktok_in_t *tk);
static int tt_post_apply_body(tt_post_t *r, const tt_post_input_t *in,
    tt_arena_t *a);
static void tt_post_apply_queue(tt_post_ctx_t *c, tt_post_t *r,
    const tt_post_input_t *in);
static int tt_post_apply_media(tt_post_t *r, const tt_post_input_t *in,
    tt_arena_t *a);
static void tt_post_check_result(tt_post_ctx_t *c, const tt_post_t *r);
static int tt_post_has_c0(const char *s, size_t len);
static int tt_post_media_same(const tt_post_t *r, const tt_post_input_t *in);
static void tt_post_apply_tiktok(tt_tiktok_params_t *p,
    const tt_tiktok_in_t *tk);
static int tt_post_settle_media(tt_post_t *p, int64_t now_ms);
static void tt_post_settle_retry(tt_post_t *p);
static const char *tt_post_name(const char *const *names, size_t n,
    unsigned i);
static void tt_jw_int_or_null(tt_jw_t *w, int64_t v);
static void tt_post_render_media(tt_jw_t *w, const tt_media_t *m);
static void tt_post_render_platform(tt_jw_t *w, const tt_platform_t *pl);
static void tt_post_render_params(tt_jw_t *w, const tt_tiktok_params_t *p);
static void tt_post_render_error(tt_jw_t *w, const tt_platform_t *pl);


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

static const char *const  tt_post_status_names[] = {
    "draft", "pending", "scheduled", "processing", "processed",
    "media_processing_failed"
};

static const char *const  tt_plat_status_names[] = {
    "pending", "processing", "published", "failed",
    "failed_waiting_for_retry"
};

static const char *const  tt_media_status_names[] = {
    "pending", "processed", "failed"
};


void
tt_post_init(tt_post_t *p, int64_t now_ms)
{
    memset(p, 0, sizeof(tt_post_t));

    p->body = "";
    p->status = TT_POST_PENDING;
    p->scheduled_at = -1;
    p->created_at = now_ms;
    p->updated_at = now_ms;
    p->queue_priority = TT_PRIORITY_NONE;
    p->due_at = -1;
}


/*
 * The result is built in a copy: on TT_INVALID the caller's post is
 * untouched (arrays that change are copied, never edited in place, since
 * a decoded post may share them with other readers of the same arena).
 */
int
tt_post_apply(tt_post_t *p, const tt_post_input_t *in, int64_t now_ms,
    const char *prefix, tt_errors_t *errs, tt_arena_t *a)
{
    int             rc;
    size_t          nerr;
    tt_post_t       r;
    tt_post_ctx_t   c;
    tt_tiktok_in_t  tk;

    tt_post_ctx_init(&c, errs, prefix, a);

    nerr = errs->n;
    r = *p;

    memset(&tk, 0, sizeof(tt_tiktok_in_t));

    if (in->has_tiktok && in->tiktok != NULL) {
        tt_post_parse_tiktok(&c, in->tiktok, &tk);
    }

    if (r.id[0] == '\0' && tt_id_new("p_", r.id) != TT_OK) {
        return TT_ERR;
    }

    rc = tt_post_apply_platform(&c, &r, in, &tk);
    if (rc != TT_OK) {
        return rc;
    }

    rc = tt_post_apply_body(&r, in, a);
    if (rc != TT_OK) {
        return rc;
    }

    tt_post_apply_queue(&c, &r, in);

    if (in->has_media) {
        if (tt_post_apply_media(&r, in, a) != TT_OK) {
            return TT_NOMEM;
        }
    }

    tt_post_check_result(&c, &r);

    /* a PATCH's (a create's input was checked with its rules) */
    if ((tk.given & TT_TK_COVER) && p->id[0] != '\0'
        && r.platforms[0].params.format == TT_FORMAT_VIDEO)
    {
        tt_post_check_cover(&c);
    }

    if (errs->failed) {
        return TT_NOMEM;
    }

    if (errs->n > nerr) {
        return TT_INVALID;
    }

    r.updated_at = now_ms;

    tt_post_settle(&r, now_ms);

    *p = r;

    return TT_OK;
}


/*
 * The post's one platform, as a new copy: a fresh one for a create (which
 * must say privacy_status), the old one for a PATCH; then the input's
 * profile and platforms.tiktok keys.
 */
static int
tt_post_apply_platform(tt_post_ctx_t *c, tt_post_t *r,
    const tt_post_input_t *in, const tt_tiktok_in_t *tk)
{
    tt_platform_t  *pl;

    pl = tt_arena_alloc(c->arena, sizeof(tt_platform_t));
    if (pl == NULL) {
        return TT_NOMEM;
    }

    if (r->nplatforms == 0) {
        memset(pl, 0, sizeof(tt_platform_t));
        pl->status = TT_PLAT_PENDING;
        pl->params.video_cover_timestamp_ms = -1;
        pl->attempted_at = -1;
        pl->next_attempt_at = -1;
        pl->upload_expires_at = -1;

        if (!(tk->given & TT_TK_PRIVACY)) {
            tt_post_error(c, "platforms.tiktok.privacy_status is required");
        }

    } else {
        *pl = r->platforms[0];
    }

    r->platforms = pl;
    r->nplatforms = 1;

    if (in->profile_id[0] != '\0') {
        memcpy(pl->profile_id, in->profile_id, TT_ID_SIZE);
        pl->profile_id[TT_ID_SIZE - 1] = '\0';
    }

    tt_post_apply_tiktok(&pl->params, tk);

    return TT_OK;
}


/* post.body, post.draft and post.scheduled_at */
static int
tt_post_apply_body(tt_post_t *r, const tt_post_input_t *in, tt_arena_t *a)
{
    char  *s;

    if (in->has_body) {
        s = tt_arena_strndup(a, in->body.data, in->body.len);
        if (s == NULL) {
            return TT_NOMEM;
        }

        r->body = s;
        r->body_len = in->body.len;
    }

    if (r->body == NULL) {
        r->body = "";
        r->body_len = 0;
    }

    if (in->has_draft) {
        r->draft = in->draft ? 1 : 0;
    }

    if (in->has_scheduled_at) {
        r->scheduled_at = in->scheduled_at;
    }

    return TT_OK;
}


/* queue_id and queue_priority, after scheduled_at */
static void
tt_post_apply_queue(tt_post_ctx_t *c, tt_post_t *r,
    const tt_post_input_t *in)
{
    int  same;

    if (in->has_queue_id) {
        /* r->queue_id is still the old post's */
        same = (in->queue_id.len == strlen(r->queue_id)
                && memcmp(in->queue_id.data, r->queue_id, in->queue_id.len)
                   == 0);

        memset(r->queue_id, 0, TT_ID_SIZE);

        if (in->queue_id.len > 0 && in->queue_id.len < TT_ID_SIZE) {
            memcpy(r->queue_id, in->queue_id.data, in->queue_id.len);

            /* joining a queue: the queue assigns the time */
            if (!same && !in->has_scheduled_at) {
                r->scheduled_at = -1;
            }
        }
    }

    if (in->has_queue_priority) {
        r->queue_priority = in->queue_priority;
    }

    if (r->queue_id[0] == '\0') {
        if (in->has_queue_priority && in->queue_priority != TT_PRIORITY_NONE)
        {
            tt_post_error(c, "queue_priority needs a queue_id");
        }

        r->queue_priority = TT_PRIORITY_NONE;

    } else if (r->queue_priority == TT_PRIORITY_NONE) {
        r->queue_priority = TT_PRIORITY_MEDIUM;
    }

    if (in->has_scheduled_at && in->scheduled_at >= 0 && r->queue_id[0]) {
        if (in->has_queue_id) {
            tt_post_error(c, "scheduled_at and queue_id cannot both be "
                          "given");

        } else {
            tt_post_error(c, "post.scheduled_at cannot be set on a post "
                          "in a queue: set queue_id to null to take it out");
        }
    }
}


static int
tt_post_apply_media(tt_post_t *r, const tt_post_input_t *in, tt_arena_t *a)
{
    size_t       i;
    tt_media_t  *m;

    if (tt_post_media_same(r, in)) {
        return TT_OK;
    }

    m = NULL;

    if (in->nmedia) {
        m = tt_arena_calloc(a, in->nmedia * sizeof(tt_media_t));
        if (m == NULL) {
            return TT_NOMEM;
        }
    }

    for (i = 0; i < in->nmedia; i++) {
        if (tt_id_new("m_", m[i].id) != TT_OK) {
            return TT_ERR;
        }

        m[i].status = TT_MEDIA_PENDING;
        m[i].source_url = tt_arena_strndup(a, in->media[i].data,
                                           in->media[i].len);
        if (m[i].source_url == NULL) {
            return TT_NOMEM;
        }

        m[i].size = -1;
        m[i].width = -1;
        m[i].height = -1;
        m[i].duration_ms = -1;
        m[i].frame_rate = -1;
    }

    r->media = m;
    r->nmedia = in->nmedia;

    return TT_OK;
}


/*
 * The same list keeps what was fetched and probed, unless something
 * failed: sending the list again is then how a client asks for a new try
 * (the file behind the URL may have been fixed).
 */
static int
tt_post_media_same(const tt_post_t *r, const tt_post_input_t *in)
{
    size_t             i;
    const tt_media_t  *m;

    if (in->nmedia != r->nmedia) {
        return 0;
    }

    for (i = 0; i < in->nmedia; i++) {
        m = &r->media[i];

        if (m->status == TT_MEDIA_FAILED
            || m->source_url == NULL
            || strlen(m->source_url) != in->media[i].len
            || memcmp(m->source_url, in->media[i].data, in->media[i].len)
               != 0)
        {
            return 0;
        }
    }

    return 1;
}


/* the rules across fields, on the result of an apply */
static void
tt_post_check_result(tt_post_ctx_t *c, const tt_post_t *r)
{
    const tt_tiktok_params_t  *params;

    params = &r->platforms[0].params;

    tt_post_check_body(c, r->body, r->body_len, params->format);
    tt_post_check_media(c, params->format, r->nmedia,
                        params->photo_cover_index);
    tt_post_check_brand(c, params->brand_content_toggle, params->privacy);
}


static void
tt_post_apply_tiktok(tt_tiktok_params_t *p, const tt_tiktok_in_t *tk)
{
    unsigned  b;

    if (tk->given & TT_TK_PRIVACY) {
        p->privacy = tk->privacy;
    }

    if (tk->given & TT_TK_FORMAT) {
        p->format = tk->format;
    }

    if (tk->given & TT_TK_MODE) {
        p->post_mode = tk->post_mode;
    }

    if (tk->given & TT_TK_COVER) {
        p->photo_cover_index = tk->cover;
    }

    if (tk->given & TT_TK_COVER_TS) {
        p->video_cover_timestamp_ms = tk->cover_ts;
    }

    for (b = 0; b < TT_TK_NBOOLS; b++) {
        if (tk->given & TT_TK_BOOL(b)) {
            tt_params_set_bool(p, b, (tk->bools >> b) & 1);
        }
    }
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
 * A post that failed on TikTok, tried again: its failed platforms go back
 * to pending with nothing of the old attempt kept (TikTok published
 * nothing for a FAILED publish, so a new init is safe).  Nothing changes
 * while a platform is published or still in progress.  Returns how many
 * platforms were reset; the caller settles the post.
 */
size_t
tt_post_retry(tt_post_t *p)
{
    size_t          i, n;
    tt_platform_t  *pl;

    for (i = 0; i < p->nplatforms; i++) {
        if (p->platforms[i].status != TT_PLAT_FAILED) {
            return 0;
        }
    }

    n = 0;

    for (i = 0; i < p->nplatforms; i++) {
        pl = &p->platforms[i];

        pl->status = TT_PLAT_PENDING;
        pl->attempts = 0;
        pl->attempted_at = -1;
        pl->next_attempt_at = -1;
        pl->bytes_sent = 0;
        pl->bytes_total = 0;
        pl->publish_id = NULL;
        pl->platform_id = 0;
        pl->url = NULL;
        pl->error = NULL;
        pl->error_code = NULL;
        pl->error_message = NULL;
        pl->error_note = NULL;
        pl->stage = TT_STAGE_NONE;
        pl->upload_url = NULL;
        pl->upload_expires_at = -1;
        pl->chunk_size = 0;
        pl->chunk_count = 0;
        n++;
    }

    return n;
}


/*
 * The post's status and due time, from its parts:
 *
 *   draft flag                      -> draft, never due
 *   any media failed                -> media_processing_failed, never due
 *   any media pending               -> pending, due now (media intake)
 *   a platform processing or retry  -> processing
 *   a platform pending              -> scheduled, due at scheduled_at/now
 *   every platform at an end        -> processed, never due (unless
 *                                      TikTok's post id is awaited)
 *
 * While processing, due_at belongs to the scheduler (the next poll, or
 * next_attempt_at for a retry) and is kept.
 */
void
tt_post_settle(tt_post_t *p, int64_t now_ms)
{
    int     pending, busy;
    size_t  i;

    if (p->draft) {
        p->status = TT_POST_DRAFT;
        p->due_at = -1;
        return;
    }

    if (tt_post_settle_media(p, now_ms)) {
        return;
    }

    pending = (p->nplatforms == 0);
    busy = 0;

    for (i = 0; i < p->nplatforms; i++) {
        switch (p->platforms[i].status) {
        case TT_PLAT_PENDING:
            pending = 1;
            break;
        case TT_PLAT_PROCESSING:
        case TT_PLAT_RETRY:
            busy = 1;
            break;
        default:
            break;
        }
    }

    if (busy) {
        p->status = TT_POST_PROCESSING;
        tt_post_settle_retry(p);
        return;
    }

    if (pending) {
        p->status = TT_POST_SCHEDULED;
        p->due_at = p->scheduled_at >= 0 ? p->scheduled_at : now_ms;
        return;
    }

    p->status = TT_POST_PROCESSED;

    if (!tt_post_id_awaited(p)) {
        p->due_at = -1;
    }
}


/* the media decide while one failed or one is pending: returns 1 then */
static int
tt_post_settle_media(tt_post_t *p, int64_t now_ms)
{
    int     pending;
    size_t  i;

    pending = 0;

    for (i = 0; i < p->nmedia; i++) {
        if (p->media[i].status == TT_MEDIA_FAILED) {
            p->status = TT_POST_MEDIA_FAILED;
            p->due_at = -1;
            return 1;
        }

        if (p->media[i].status == TT_MEDIA_PENDING) {
            pending = 1;
        }
    }

    if (pending) {
        p->status = TT_POST_PENDING;
        p->due_at = now_ms;
        return 1;
    }

    return 0;
}


/* a processing post: due at its earliest retry if nothing is in flight */
static void
tt_post_settle_retry(tt_post_t *p)
{
    size_t  i;

    for (i = 0; i < p->nplatforms; i++) {
        if (p->platforms[i].status == TT_PLAT_PROCESSING) {
            /* the scheduler owns due_at while it works */
            return;
        }
    }

    p->due_at = -1;

    for (i = 0; i < p->nplatforms; i++) {
        if (p->platforms[i].status == TT_PLAT_RETRY
            && (p->due_at < 0
                || p->platforms[i].next_attempt_at < p->due_at))
        {
            p->due_at = p->platforms[i].next_attempt_at;
        }
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


static void
tt_jw_int_or_null(tt_jw_t *w, int64_t v)
{
    if (v < 0) {
        tt_jw_null(w);

    } else {
        tt_jw_int(w, v);
    }
}


void
tt_post_render(tt_jw_t *w, const tt_post_t *p)
{
    tt_jw_obj_open(w);

    tt_jw_key(w, "id");
    tt_jw_cstr(w, p->id);
    tt_jw_key(w, "body");
    tt_jw_str(w, p->body ? p->body : "", p->body ? p->body_len : 0);
    tt_jw_key(w, "status");
    tt_jw_cstr(w, tt_post_status_name(p->status));
    tt_jw_key(w, "draft");
    tt_jw_bool(w, p->draft);
    tt_jw_key(w, "scheduled_at");
    tt_jw_time(w, p->scheduled_at);
    tt_jw_key(w, "created_at");
    tt_jw_time(w, p->created_at);
    tt_jw_key(w, "updated_at");
    tt_jw_time(w, p->updated_at);
    tt_jw_key(w, "queue_id");
    tt_jw_cstr(w, p->queue_id[0] ? p->queue_id : NULL);
    tt_jw_key(w, "queue_priority");
    tt_jw_cstr(w, tt_priority_name(p->queue_priority));

    tt_post_render_lists(w, p, tt_post_render_media,
                         tt_post_render_platform);

    tt_jw_obj_close(w);
}


/* "media" and "platforms", each item written by its writer */
void
tt_post_render_lists(tt_jw_t *w, const tt_post_t *p,
    tt_post_media_writer_pt media, tt_post_platform_writer_pt platform)
{
    size_t  i;

    tt_jw_key(w, "media");
    tt_jw_arr_open(w);

    for (i = 0; i < p->nmedia; i++) {
        media(w, &p->media[i]);
    }

    tt_jw_arr_close(w);

    tt_jw_key(w, "platforms");
    tt_jw_arr_open(w);

    for (i = 0; i < p->nplatforms; i++) {
        platform(w, &p->platforms[i]);
    }

    tt_jw_arr_close(w);
}


static void
tt_post_render_media(tt_jw_t *w, const tt_media_t *m)
{
    tt_jw_obj_open(w);

    tt_jw_key(w, "id");
    tt_jw_cstr(w, m->id);
    tt_jw_key(w, "status");
    tt_jw_cstr(w, tt_media_status_name(m->status));
    tt_jw_key(w, "source_url");
    tt_jw_cstr(w, m->source_url);
    tt_jw_key(w, "content_type");
    tt_jw_cstr(w, m->content_type);
    tt_jw_key(w, "size");
    tt_jw_int_or_null(w, m->size);
    tt_jw_key(w, "width");
    tt_jw_int_or_null(w, m->width);
    tt_jw_key(w, "height");
    tt_jw_int_or_null(w, m->height);
    tt_jw_key(w, "duration_ms");
    tt_jw_int_or_null(w, m->duration_ms);
    tt_jw_key(w, "codec");
    tt_jw_cstr(w, m->codec);
    tt_jw_key(w, "frame_rate");

    if (m->frame_rate >= 0 && isfinite(m->frame_rate)) {
        tt_jw_double(w, m->frame_rate);

    } else {
        tt_jw_null(w);
    }

    tt_jw_key(w, "error_message");
    tt_jw_cstr(w, m->error_message);

    tt_post_render_warnings(w, m);

    tt_jw_obj_close(w);
}


/* "warnings": [...]; the API object and the record's alike */
void
tt_post_render_warnings(tt_jw_t *w, const tt_media_t *m)
{
    size_t  i;

    tt_jw_key(w, "warnings");
    tt_jw_arr_open(w);

    for (i = 0; i < m->nwarnings; i++) {
        tt_jw_cstr(w, m->warnings[i]);
    }

    tt_jw_arr_close(w);
}


static void
tt_post_render_platform(tt_jw_t *w, const tt_platform_t *pl)
{
    char  id[24];

    tt_jw_obj_open(w);

    tt_jw_key(w, "platform");
    tt_jw_cstr(w, "tiktok");
    tt_jw_key(w, "profile_id");
    tt_jw_cstr(w, pl->profile_id[0] ? pl->profile_id : NULL);
    tt_jw_key(w, "status");
    tt_jw_cstr(w, tt_plat_status_name(pl->status));

    tt_jw_key(w, "params");
    tt_post_render_params(w, &pl->params);

    tt_jw_key(w, "attempts");
    tt_jw_int(w, pl->attempts);
    tt_jw_key(w, "attempted_at");
    tt_jw_time(w, pl->attempted_at);
    tt_jw_key(w, "next_attempt_at");
    tt_jw_time(w, pl->next_attempt_at);

    tt_jw_key(w, "upload");
    tt_jw_obj_open(w);
    tt_jw_key(w, "bytes_sent");
    tt_jw_int(w, pl->bytes_sent);
    tt_jw_key(w, "bytes_total");
    tt_jw_int(w, pl->bytes_total);
    tt_jw_obj_close(w);

    tt_jw_key(w, "publish_id");
    tt_jw_cstr(w, pl->publish_id);

    /* a string: 19-digit ids do not survive a JavaScript double */
    tt_jw_key(w, "platform_id");

    if (pl->platform_id != 0) {
        snprintf(id, sizeof(id), "%" PRId64, pl->platform_id);
        tt_jw_cstr(w, id);

    } else {
        tt_jw_null(w);
    }

    tt_jw_key(w, "url");
    tt_jw_cstr(w, pl->url);
    tt_jw_key(w, "error");
    tt_jw_cstr(w, pl->error);

    tt_post_render_error(w, pl);

    tt_jw_obj_close(w);
}


static void
tt_post_render_params(tt_jw_t *w, const tt_tiktok_params_t *p)
{
    tt_jw_obj_open(w);

    tt_jw_key(w, "privacy_status");
    tt_jw_cstr(w, tt_privacy_name(p->privacy));
    tt_jw_key(w, "format");
    tt_jw_cstr(w, tt_format_name(p->format));
    tt_jw_key(w, "post_mode");
    tt_jw_cstr(w, tt_post_mode_name(p->post_mode));
    /* a video has no photo cover: only a photo post shows its index */
    if (p->format == TT_FORMAT_IMAGE) {
        tt_jw_key(w, "photo_cover_index");
        tt_jw_int(w, p->photo_cover_index);
    }

    tt_jw_key(w, "video_cover_timestamp_ms");
    tt_jw_int_or_null(w, p->video_cover_timestamp_ms);

    tt_post_render_bools(w, p);

    tt_jw_obj_close(w);
}


/* the booleans of the params under their API names, in the open object */
void
tt_post_render_bools(tt_jw_t *w, const tt_tiktok_params_t *p)
{
    unsigned  b;

    for (b = 0; b < TT_TK_NBOOLS; b++) {
        tt_jw_key(w, tt_tiktok_bools[b]);
        tt_jw_bool(w, tt_params_bool(p, b));
    }
}


/* "error_details": what TikTok said, or null */
static void
tt_post_render_error(tt_jw_t *w, const tt_platform_t *pl)
{
    tt_jw_key(w, "error_details");

    if (pl->error_code == NULL && pl->error_message == NULL
        && pl->error_note == NULL)
    {
        tt_jw_null(w);
        return;
    }

    tt_jw_obj_open(w);
    tt_jw_key(w, "platform_error_code");
    tt_jw_cstr(w, pl->error_code);
    tt_jw_key(w, "platform_error_message");
    tt_jw_cstr(w, pl->error_message);
    tt_jw_key(w, "note");
    tt_jw_cstr(w, pl->error_note);
    tt_jw_obj_close(w);
}
