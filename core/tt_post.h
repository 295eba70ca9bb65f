/*
 * Copyright (C) the ngx_tiktok authors.
 * The post: its model, the validation of client input, its store record
 * and its API representation.  Everything that knows what a valid post is
 * lives here, once, for the module and the scheduler alike.
 */

#ifndef _TT_POST_H_INCLUDED_
#define _TT_POST_H_INCLUDED_


#include "tt_json.h"
#include "tt_id.h"


#define TT_CAPTION_MAX       2200   /* UTF-16 units, video title */
#define TT_PHOTO_TITLE_MAX   90     /* UTF-16 units, photo title */
#define TT_IMAGES_MAX        35
#define TT_URL_MAX           2048
#define TT_BATCH_MAX         100


typedef enum {
    TT_POST_DRAFT = 0,
    TT_POST_PENDING,            /* media being fetched and checked */
    TT_POST_SCHEDULED,
    TT_POST_PROCESSING,         /* the publish has started */
    TT_POST_PROCESSED,          /* every platform reached an end */
    TT_POST_MEDIA_FAILED        /* media_processing_failed */
} tt_post_status_e;

typedef enum {
    TT_PLAT_PENDING = 0,
    TT_PLAT_PROCESSING,
    TT_PLAT_PUBLISHED,
    TT_PLAT_FAILED,
    TT_PLAT_RETRY               /* failed_waiting_for_retry */
} tt_plat_status_e;

typedef enum {
    TT_MEDIA_PENDING = 0,
    TT_MEDIA_PROCESSED,
    TT_MEDIA_FAILED
} tt_media_status_e;

typedef enum {
    TT_PRIVACY_PUBLIC = 0,      /* PUBLIC_TO_EVERYONE */
    TT_PRIVACY_MUTUAL,          /* MUTUAL_FOLLOW_FRIENDS */
    TT_PRIVACY_FOLLOWERS,       /* FOLLOWER_OF_CREATOR */
    TT_PRIVACY_SELF             /* SELF_ONLY */
} tt_privacy_e;

typedef enum {
    TT_FORMAT_VIDEO = 0,
    TT_FORMAT_IMAGE
} tt_format_e;

typedef enum {
    TT_MODE_DIRECT = 0,         /* DIRECT_POST */
    TT_MODE_UPLOAD              /* MEDIA_UPLOAD: the creator's inbox */
} tt_post_mode_e;

typedef enum {
    TT_PRIORITY_NONE = -1,
    TT_PRIORITY_LOW = 0,
    TT_PRIORITY_MEDIUM,
    TT_PRIORITY_HIGH
} tt_priority_e;

/* the scheduler's step inside TT_PLAT_PROCESSING; internal */
typedef enum {
    TT_STAGE_NONE = 0,
    TT_STAGE_INIT,              /* init sent, answer not yet recorded */
    TT_STAGE_UPLOAD,            /* publish_id and upload_url committed */
    TT_STAGE_POLL               /* uploaded; following status/fetch */
} tt_stage_e;


typedef struct {
    char            id[TT_ID_SIZE];             /* m_... */
    tt_media_status_e status;
    const char     *source_url;
    const char     *content_type;               /* NULL until probed */
    int64_t         size;                       /* -1 unknown */
    int64_t         width;
    int64_t         height;
    int64_t         duration_ms;
    const char     *codec;
    double          frame_rate;                 /* < 0 unknown */
    const char     *error_message;
    const char    **warnings;
    size_t          nwarnings;

    /* internal */
    const char     *spool_path;                 /* downloaded file */
} tt_media_t;


typedef struct {
    tt_privacy_e    privacy;
    tt_format_e     format;
    tt_post_mode_e  post_mode;
    int64_t         photo_cover_index;          /* 0 default */
    int64_t         video_cover_timestamp_ms;   /* -1 unset */
    unsigned        auto_add_music:1;
    unsigned        disable_comment:1;
    unsigned        disable_duet:1;
    unsigned        disable_stitch:1;
    unsigned        brand_content_toggle:1;
    unsigned        brand_organic_toggle:1;
    unsigned        made_with_ai:1;
} tt_tiktok_params_t;


typedef struct {
    char            profile_id[TT_ID_SIZE];
    tt_plat_status_e status;
    tt_tiktok_params_t params;
    int64_t         attempts;
    int64_t         attempted_at;               /* -1 never */
    int64_t         next_attempt_at;            /* -1 none */
    int64_t         bytes_sent;
    int64_t         bytes_total;
    const char     *publish_id;
    int64_t         platform_id;                /* 0 none; TikTok's int64 */
    const char     *url;
    const char     *error;                      /* a human sentence */
    const char     *error_code;                 /* TikTok's code */
    const char     *error_message;              /* TikTok's message */
    const char     *error_note;                 /* what to do about it */

    /* internal: what makes a publish resumable */
    tt_stage_e      stage;
    const char     *upload_url;
    int64_t         upload_expires_at;
    int64_t         chunk_size;
    int64_t         chunk_count;
    int64_t         id_until;                   /* published, TikTok's post
                                                 * id awaited until then;
                                                 * 0 none */
} tt_platform_t;


typedef struct {
    char            id[TT_ID_SIZE];             /* p_... */
    char            workspace_id[TT_ID_SIZE];
    char            profile_group_id[TT_ID_SIZE];
    const char     *body;                       /* caption, "" if none */
    size_t          body_len;
    tt_post_status_e status;
    unsigned        draft:1;
    int64_t         scheduled_at;               /* -1 none */
    int64_t         created_at;
    int64_t         updated_at;
    char            queue_id[TT_ID_SIZE];       /* "" none */
    tt_priority_e   queue_priority;
    tt_media_t     *media;
    size_t          nmedia;
    tt_platform_t  *platforms;
    size_t          nplatforms;

    /* internal: when the scheduler must look at it next, -1 never */
    int64_t         due_at;
} tt_post_t;


/* validation errors: every failing rule, in order */
typedef struct {
    const char    **msgs;
    size_t          n;
    size_t          cap;
    tt_arena_t     *arena;
    unsigned        failed:1;   /* an allocation failed: messages lost */
} tt_errors_t;

void tt_errors_init(tt_errors_t *e, tt_arena_t *a);
void tt_errors_add(tt_errors_t *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


/*
 * What a create or PATCH body said.  has_* tells which keys were given,
 * so that PATCH changes only those.  Strings point into the JSON tree.
 */
typedef struct {
    unsigned        has_body:1;
    unsigned        has_scheduled_at:1;
    unsigned        has_draft:1;
    unsigned        has_profiles:1;
    unsigned        has_media:1;
    unsigned        has_tiktok:1;
    unsigned        has_queue_id:1;
    unsigned        has_queue_priority:1;

    tt_str_t        body;
    int64_t         scheduled_at;               /* -1: given as null */
    int             draft;
    tt_str_t       *profiles;
    size_t          nprofiles;
    tt_str_t       *media;
    size_t          nmedia;
    const tt_json_t *tiktok;                    /* platforms.tiktok */
    tt_str_t        queue_id;                   /* len 0: null */
    tt_priority_e   queue_priority;

    /* set by the caller after resolving profiles against the store */
    char            profile_id[TT_ID_SIZE];

    /* set by the caller: the TikTok app is not audited (SELF_ONLY only) */
    unsigned        unaudited:1;
} tt_post_input_t;


/*
 * Checks the shape of a create (patch = 0) or PATCH (patch = 1) body:
 * types, enums, lengths, time syntax, URLs, unknown keys.  Field names in
 * messages are the API's ("post.body is longer than 2200 characters").
 * prefix is prepended to each message ("posts[3]: " in a batch).
 * Returns TT_OK or TT_INVALID with errs filled.
 */
int tt_post_input_parse(const tt_json_t *root, int patch, const char *prefix,
    tt_post_input_t *in, tt_errors_t *errs, tt_arena_t *a);

/*
 * Applies input to a post (a new zeroed one from tt_post_init, or an old
 * one for PATCH), then checks the rules across fields (format image needs
 * 1-35 media and a cover index in range; video exactly one media;
 * privacy_status present; scheduled_at with queue_id).  New media get ids
 * and status pending.  Sets status and due_at from the result.
 * Returns TT_OK or TT_INVALID.
 *
 * A post with no platform entry is a create: it gets one (profile_id from
 * in->profile_id) and, if p->id is "", a new "p_" id.  A PATCH keeps the
 * old media objects when the same list is given (unless one failed: then
 * the list is fetched again).  Joining a queue clears scheduled_at for the
 * queue to assign; an exact time on a queued post needs queue_id: null.
 * On any error p is left as it was.  Strings are copied into a.
 */
void tt_post_init(tt_post_t *p, int64_t now_ms);
int tt_post_apply(tt_post_t *p, const tt_post_input_t *in, int64_t now_ms,
    const char *prefix, tt_errors_t *errs, tt_arena_t *a);

/* status and due_at from the state of media and platforms */
void tt_post_settle(tt_post_t *p, int64_t now_ms);

/*
 * Every platform failed: each goes back to pending, or, where TikTok
 * still holds its publish (a publish_id at stage POLL or UPLOAD), to a
 * retry at now that follows that publish; returns how many (else 0).
 */
size_t tt_post_retry(tt_post_t *p, int64_t now_ms);

/* why p can no longer change (TikTok was asked to publish it), or NULL */
const char *tt_post_locked(const tt_post_t *p);
/* held platforms (nothing sent to TikTok) back to pending; how many */
size_t tt_post_unhold(tt_post_t *p);
/* published, TikTok's post id still awaited: the scheduler owns due_at */
int tt_post_id_awaited(const tt_post_t *p);

/* names, as the API spells them */
const char *tt_post_status_name(tt_post_status_e s);
const char *tt_plat_status_name(tt_plat_status_e s);
const char *tt_media_status_name(tt_media_status_e s);
const char *tt_privacy_name(tt_privacy_e p);
const char *tt_format_name(tt_format_e f);
const char *tt_post_mode_name(tt_post_mode_e m);
const char *tt_priority_name(tt_priority_e p);     /* NONE: NULL */


/* the post object of api.md */
void tt_post_render(tt_jw_t *w, const tt_post_t *p);


/*
 * The store record: a fixed header, the API JSON (what GET answers, as
 * bytes) and the internal JSON (everything, to decode).  The header lets
 * the store keep its indexes, and a GET or a list check the workspace and
 * the profile group of a scoped key, without decoding.
 */
#define TT_POST_RECORD_V1  1

typedef struct {
    char            workspace_id[TT_ID_SIZE];
    char            profile_group_id[TT_ID_SIZE];   /* "" none */
    tt_post_status_e status;
    int64_t         created_at;
    int64_t         scheduled_at;
    int64_t         due_at;
    tt_str_t        api;                        /* the rendered object */
} tt_post_peek_t;

/* encode appends to out; peek and decode check every length (TT_INVALID) */
int tt_post_encode(const tt_post_t *p, tt_buf_t *out);
int tt_post_decode(const void *rec, size_t len, tt_arena_t *a, tt_post_t *p);
int tt_post_peek(const void *rec, size_t len, tt_post_peek_t *peek);
int tt_post_retime(const void *rec, size_t len, int64_t at, int64_t now,
    tt_buf_t *out);


#endif /* _TT_POST_H_INCLUDED_ */
