/*
 * Copyright (C) the ngx_tiktok authors.
 * When a post may still change: a post held back before TikTok got
 * anything of it, and a published post whose TikTok id is still to come.
 */


#include "tt_post_int.h"


/*
 * TikTok was asked to publish this platform: its init was sent (stage
 * INIT, or an upload or a poll with TikTok's publish_id).  A platform
 * that waits for a retry, for the creator's daily cap or for an upload
 * slot has stage NONE and no publish_id: TikTok holds nothing of it.
 */
static int
tt_plat_started(const tt_platform_t *pl)
{
    return pl->stage != TT_STAGE_NONE || pl->publish_id != NULL;
}


/*
 * Why the post can no longer be changed, deleted or published now, or
 * NULL if it can: a published platform, or one TikTok was asked to
 * publish.  Everything else, held back or not, is the user's to change.
 */
const char *
tt_post_locked(const tt_post_t *p)
{
    size_t  i;

    for (i = 0; i < p->nplatforms; i++) {
        if (p->platforms[i].status == TT_PLAT_PUBLISHED) {
            return "has already been published";
        }
    }

    for (i = 0; i < p->nplatforms; i++) {
        if ((p->platforms[i].status == TT_PLAT_PROCESSING
             || p->platforms[i].status == TT_PLAT_RETRY)
            && tt_plat_started(&p->platforms[i]))
        {
            return "is being published: TikTok was already asked to "
                   "publish it (its init was sent), and that cannot be "
                   "recalled";
        }
    }

    if (p->status == TT_POST_PROCESSED) {
        return "has already been processed";
    }

    return NULL;
}


/*
 * A held platform (waiting for a retry, the creator's daily cap or an
 * upload slot, nothing sent to TikTok) goes back to pending, as new: the
 * change takes it from the scheduler, which finds the record changed
 * when it next saves and starts over from what the store says.  Returns
 * how many platforms were reset; the caller settles the post.
 */
size_t
tt_post_unhold(tt_post_t *p)
{
    size_t          i, n;
    tt_platform_t  *pl;

    n = 0;

    for (i = 0; i < p->nplatforms; i++) {
        pl = &p->platforms[i];

        if ((pl->status != TT_PLAT_PROCESSING && pl->status != TT_PLAT_RETRY)
            || tt_plat_started(pl))
        {
            continue;
        }

        pl->status = TT_PLAT_PENDING;
        pl->attempts = 0;
        pl->attempted_at = -1;
        pl->next_attempt_at = -1;
        pl->bytes_sent = 0;
        pl->error = NULL;
        pl->error_code = NULL;
        pl->error_message = NULL;
        pl->error_note = NULL;
        pl->upload_url = NULL;
        pl->upload_expires_at = -1;
        n++;
    }

    return n;
}


/*
 * A published platform whose TikTok post id comes after moderation: the
 * scheduler asks again until id_until, and keeps the post on the agenda
 * meanwhile (its due_at is the next question).
 */
int
tt_post_id_awaited(const tt_post_t *p)
{
    size_t  i;

    for (i = 0; i < p->nplatforms; i++) {
        if (p->platforms[i].status == TT_PLAT_PUBLISHED
            && p->platforms[i].platform_id == 0
            && p->platforms[i].id_until > 0)
        {
            return 1;
        }
    }

    return 0;
}
