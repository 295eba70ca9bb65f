/*
 * Copyright (C) the ngx_tiktok authors.
 * Media intake: probe a video or photo with libavformat, check it against
 * TikTok's upload rules, and carry the result across a pipe as JSON.
 */

#ifndef _TT_MEDIA_H_INCLUDED_
#define _TT_MEDIA_H_INCLUDED_


#include "tt_core.h"
#include "tt_json.h"


typedef enum {
    TT_MEDIA_VIDEO = 0,
    TT_MEDIA_IMAGE
} tt_media_kind_e;


#define TT_MEDIA_NAME_LEN   32


/*
 * What tt_media_probe() found.  Strings are fixed arrays so the struct has
 * no owner to free and copies by assignment; "" means unknown or absent
 * (audio_codec is "" when has_audio is 0, and JSON writes it as null).
 *
 * width and height are the displayed size: a phone video stored as
 * 1920x1080 with a quarter-turn display matrix is reported as 1080x1920,
 * since that is what TikTok shows and what the 9:16 advice is about.
 * rotation is the clockwise turn a player applies, as FFmpeg's own
 * autorotate does (FFmpeg 5.1 plays a file tagged "rotate=90" turned
 * 270 clockwise, and so do we).
 */
typedef struct {
    tt_media_kind_e  kind;
    char             container[TT_MEDIA_NAME_LEN];    /* "mp4", "jpeg" */
    char             content_type[TT_MEDIA_NAME_LEN]; /* "video/mp4" */
    int64_t          size;              /* bytes, from stat() */
    int              width;
    int              height;
    int              rotation;          /* 0, 90, 180 or 270 */
    int64_t          duration_ms;       /* -1 unknown; 0 for images */
    char             video_codec[TT_MEDIA_NAME_LEN];  /* "h264", "png" */
    double           frame_rate;        /* 0 unknown or an image */
    char             audio_codec[TT_MEDIA_NAME_LEN];  /* "aac" or "" */
    unsigned         has_audio:1;
} tt_media_info_t;


#define TT_MEDIA_MAX_MSGS   12
#define TT_MEDIA_MSG_LEN    160

typedef struct {
    unsigned         nerrors;
    unsigned         nwarnings;
    char             errors[TT_MEDIA_MAX_MSGS][TT_MEDIA_MSG_LEN];
    char             warnings[TT_MEDIA_MAX_MSGS][TT_MEDIA_MSG_LEN];
} tt_media_result_t;


/* TikTok's limits, from the media transfer guide (tiktok-api.md sec. 9) */
#define TT_MEDIA_VIDEO_MIN_MS      3000
#define TT_MEDIA_VIDEO_MAX_MS      600000
#define TT_MEDIA_VIDEO_MIN_SIDE    360
#define TT_MEDIA_VIDEO_MAX_SIDE    4096
#define TT_MEDIA_VIDEO_MIN_FPS     23
#define TT_MEDIA_VIDEO_MAX_FPS     60
#define TT_MEDIA_VIDEO_MAX_SIZE    ((int64_t) 4 * 1024 * 1024 * 1024)
#define TT_MEDIA_IMAGE_MAX_SHORT   1080     /* "max 1080p", see .c */
#define TT_MEDIA_IMAGE_MAX_LONG    1920
#define TT_MEDIA_IMAGE_MAX_SIZE    ((int64_t) 20 * 1024 * 1024)


/*
 * Opens path with libavformat and fills info.  TT_OK on success;
 * TT_INVALID when the file is not usable media ("not a recognised media
 * file", "no video stream", "MP4/MOV file is truncated or corrupt ...");
 * TT_ERR when the file cannot be read at all (errno-like text in err).
 * Detection goes by content only, never by the file name.  Only plain
 * demuxers are opened and nested opens are refused, so a playlist cannot
 * make the probe read other files or URLs.  Still, a hostile file can
 * cost CPU and memory inside FFmpeg: the daemon runs this in a child
 * process (tiktok-probe), never in its own loop.
 */
int tt_media_probe(const char *path, tt_media_info_t *info, char *err,
    size_t err_len);

/* FFmpeg's own log goes to stderr at this av_log level; quiet by default */
void tt_media_set_log_level(int av_log_level);

/* formats a message into err, when err is given (err_len > 0) */
void tt_media_errf(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Checks info against TikTok's rules for the expected kind; the limit
 * max_duration_ms is the creator's max_video_post_duration_sec * 1000, or
 * -1 when unknown.  Fills res with errors (TikTok will refuse the file)
 * and warnings (it will be accepted but look worse).  Returns TT_OK when
 * there is no error, TT_INVALID otherwise.
 */
int tt_media_check(const tt_media_info_t *info, tt_media_kind_e expected,
    int64_t max_duration_ms, tt_media_result_t *res);

const char *tt_media_kind_name(tt_media_kind_e kind);   /* "video" */


/*
 * JSON form of info, an object:
 *   {"kind":"video","container":"mp4","content_type":"video/mp4",
 *    "size":1234,"width":720,"height":1280,"rotation":0,
 *    "duration_ms":4000,"video_codec":"h264","frame_rate":30,
 *    "audio_codec":"aac","has_audio":true}
 * from_json ignores unknown members, requires the others and returns
 * TT_INVALID with a message when one is missing or out of range.
 */
void tt_media_info_to_json(tt_jw_t *w, const tt_media_info_t *info);
int tt_media_info_from_json(const tt_json_t *obj, tt_media_info_t *info,
    char *err, size_t err_len);

/*
 * The whole answer of tiktok-probe, one object:
 *   {"ok":bool,"info":{...}|null,"errors":[...],"warnings":[...]}
 * "ok" is true when there is no error.  info may be NULL (probe failed).
 * from_json sets *has_info to whether "info" was an object.
 */
void tt_media_report_to_json(tt_jw_t *w, const tt_media_info_t *info,
    const tt_media_result_t *res);
int tt_media_report_from_json(const tt_json_t *root, tt_media_info_t *info,
    int *has_info, tt_media_result_t *res, char *err, size_t err_len);

/* appends a formatted message; silently drops it when the list is full */
void tt_media_add_error(tt_media_result_t *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tt_media_add_warning(tt_media_result_t *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


#endif /* _TT_MEDIA_H_INCLUDED_ */
