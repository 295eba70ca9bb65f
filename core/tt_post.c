/*
 * Copyright (C) the ngx_tiktok authors.
 * The post model: a new post, input applied to it, its state.
 */


#include "tt_post_int.h"


static int tt_post_apply_platform(tt_post_ctx_t *c, tt_post_t *r,
    const tt_post_input_t *in, const tt_tiktok_in_t *tk);
static int tt_post_apply_body(tt_post_t *r, const tt_post_input_t *in,
    tt_arena_t *a);
static void tt_post_apply_queue(tt_post_ctx_t *c, tt_post_t *r,
    const tt_post_input_t *in);
static int tt_post_apply_media(tt_post_t *r, const tt_post_input_t *in,
    tt_arena_t *a);
static void tt_post_check_result(tt_post_ctx_t *c, const tt_post_t *r);
static int tt_post_media_same(const tt_post_t *r, const tt_post_input_t *in);
static void tt_post_apply_tiktok(tt_tiktok_params_t *p,
    const tt_tiktok_in_t *tk);
static int tt_post_settle_media(tt_post_t *p, int64_t now_ms);
static void tt_post_settle_retry(tt_post_t *p);


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

    if (r.id[0] == '\0' && tt_id_new(TT_ID_POST, r.id) != TT_OK) {
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

    if (in->unaudited) {
        tt_post_check_audit(&c, &r.platforms[0].params);
    }

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

    /*
     * A time for a post that stays in its queue; with queue_id as well,
     * the input check (tt_post_check_schedule) has refused it already.
     */
    if (in->has_scheduled_at && in->scheduled_at >= 0 && r->queue_id[0]
        && !in->has_queue_id)
    {
        tt_post_error(c, "post.scheduled_at cannot be set on a post in a "
                      "queue: set queue_id to null to take it out");
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


/*
 * A post that failed on TikTok, tried again: its failed platforms go back
 * to pending with nothing of the old attempt kept (TikTok published
 * nothing for a FAILED publish, so a new init is safe).  Nothing changes
 * while a platform is published or still in progress.  Returns how many
 * platforms were reset; the caller settles the post.
 */
size_t
tt_post_retry(tt_post_t *p, int64_t now_ms)
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
        n++;

        pl->attempts = 0;
        pl->error = NULL;
        pl->error_code = NULL;
        pl->error_message = NULL;
        pl->error_note = NULL;

        /*
         * TikTok may still publish what it holds (the scheduler failed
         * without TikTok's verdict: sched_fail_may_publish()): a new
         * init could publish the post twice.  The retry asks TikTok
         * about that publish first, as after a crash: its status, or how
         * much of the upload it has.
         */
        if (pl->publish_id != NULL
            && (pl->stage == TT_STAGE_POLL || pl->stage == TT_STAGE_UPLOAD))
        {
            pl->status = TT_PLAT_RETRY;
            pl->next_attempt_at = now_ms;
            continue;
        }

        pl->status = TT_PLAT_PENDING;
        pl->attempted_at = -1;
        pl->next_attempt_at = -1;
        pl->bytes_sent = 0;
        pl->bytes_total = 0;
        pl->publish_id = NULL;
        pl->platform_id = 0;
        pl->url = NULL;
        pl->stage = TT_STAGE_NONE;
        pl->upload_url = NULL;
        pl->upload_expires_at = -1;
        pl->chunk_size = 0;
        pl->chunk_count = 0;
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
