/*
 * Copyright (C) the ngx_tiktok authors.
 * Media intake's probe: opens a file with libavformat and fills
 * tt_media_info_t.  Only tiktok-probe (and the tests) link it; the rules
 * and the JSON hand-over are in tt_media.c, which needs no libav.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/time.h>

#include "tt_media.h"


/*
 * The probe reads at most this much to find the streams: enough for the
 * header of any sane upload, and it bounds what a hostile file can make
 * FFmpeg buffer and decode.  The deadline stops I/O that drags on (a
 * slow disk, a FIFO swapped in after stat()).
 */
#define TT_MEDIA_PROBESIZE      (5 * 1024 * 1024)
#define TT_MEDIA_ANALYZE_US     (5 * AV_TIME_BASE)
#define TT_MEDIA_MAX_STREAMS    64
#define TT_MEDIA_TIMEOUT_US     ((int64_t) 30 * 1000000)


typedef struct {
    const char      *demuxer;       /* AVInputFormat.name */
    tt_media_kind_e  kind;
    const char      *container;     /* NULL: decided from the file */
    const char      *content_type;
    const char      *label;         /* for error messages */
} tt_media_format_t;


/*
 * Only these demuxers are opened.  They read one self-contained file;
 * playlist-like ones (hls, concat, dash, image2 with patterns) could make
 * the probe open other files or URLs and are refused outright.  Formats
 * TikTok does not take (avi, mkv, ...) are still opened so the user is
 * told "container avi is not one of ..." rather than "not media".
 */
static const tt_media_format_t  tt_media_formats[] = {
    { "mov,mp4,m4a,3gp,3g2,mj2", TT_MEDIA_VIDEO, NULL, NULL, "MP4/MOV" },
    { "matroska,webm", TT_MEDIA_VIDEO, NULL, NULL, "WebM/Matroska" },
    { "avi", TT_MEDIA_VIDEO, "avi", "video/x-msvideo", "AVI" },
    { "flv", TT_MEDIA_VIDEO, "flv", "video/x-flv", "FLV" },
    { "mpegts", TT_MEDIA_VIDEO, "mpegts", "video/mp2t", "MPEG-TS" },
    { "mpeg", TT_MEDIA_VIDEO, "mpeg", "video/mpeg", "MPEG-PS" },
    { "asf", TT_MEDIA_VIDEO, "asf", "video/x-ms-asf", "ASF" },
    { "ogg", TT_MEDIA_VIDEO, "ogg", "video/ogg", "Ogg" },
    { "jpeg_pipe", TT_MEDIA_IMAGE, "jpeg", "image/jpeg", "JPEG" },
    { "webp_pipe", TT_MEDIA_IMAGE, "webp", "image/webp", "WebP" },
    { "png_pipe", TT_MEDIA_IMAGE, "png", "image/png", "PNG" },
    { "gif", TT_MEDIA_IMAGE, "gif", "image/gif", "GIF" },
    { "bmp_pipe", TT_MEDIA_IMAGE, "bmp", "image/bmp", "BMP" },
    { "tiff_pipe", TT_MEDIA_IMAGE, "tiff", "image/tiff", "TIFF" }
};


static int tt_media_av_log_level = AV_LOG_QUIET;


static void tt_media_copy(char *dst, size_t size, const char *src);
static int tt_media_interrupt(void *opaque);
static int tt_media_io_refuse(AVFormatContext *s, AVIOContext **pb,
    const char *url, int flags, AVDictionary **options);
static const tt_media_format_t *tt_media_find_format(const char *name);
static int tt_media_open(const char *path, tt_media_info_t *info,
    char *err, size_t err_len);
static int tt_media_read(AVFormatContext *ctx, const tt_media_format_t *f,
    tt_media_info_t *info, char *err, size_t err_len);
static void tt_media_timing(AVFormatContext *ctx, AVStream *st,
    tt_media_info_t *info);
static int tt_media_video_stream(AVFormatContext *ctx);
static int tt_media_rotation(AVStream *st);
static void tt_media_container(AVFormatContext *ctx,
    const tt_media_format_t *f, tt_media_info_t *info);
static int tt_media_truncated(AVStream *st, int64_t size, int64_t *end);


static void
tt_media_copy(char *dst, size_t size, const char *src)
{
    /* truncation is fine: every source is a short codec or format name */
    (void) snprintf(dst, size, "%s", src != NULL ? src : "");
}


void
tt_media_set_log_level(int av_log_level)
{
    tt_media_av_log_level = av_log_level;
}


int
tt_media_probe(const char *path, tt_media_info_t *info, char *err,
    size_t err_len)
{
    struct stat  st;

    memset(info, 0, sizeof(tt_media_info_t));
    info->duration_ms = -1;
    tt_media_errf(err, err_len, "%s", "");

    if (stat(path, &st) != 0) {
        tt_media_errf(err, err_len, "cannot stat \"%s\": %s", path,
                      strerror(errno));
        return TT_ERR;
    }

    if (!S_ISREG(st.st_mode)) {
        tt_media_errf(err, err_len, "\"%s\" is not a regular file", path);
        return TT_INVALID;
    }

    if (st.st_size == 0) {
        tt_media_errf(err, err_len,
                      "not a recognised media file (the file is empty)");
        return TT_INVALID;
    }

    info->size = st.st_size;

    /* global in libavutil; set on every call so the default is quiet */
    av_log_set_level(tt_media_av_log_level);

    return tt_media_open(path, info, err, err_len);
}


static int
tt_media_interrupt(void *opaque)
{
    const int64_t  *deadline = opaque;

    return av_gettime_relative() > *deadline;
}


static int
tt_media_io_refuse(AVFormatContext *s, AVIOContext **pb, const char *url,
    int flags, AVDictionary **options)
{
    (void) s;
    (void) pb;
    (void) url;
    (void) flags;
    (void) options;

    /* a media file must not make us read anything else (see the table) */
    return AVERROR(EPERM);
}


static const tt_media_format_t *
tt_media_find_format(const char *name)
{
    size_t  i;

    for (i = 0; i < TT_ARRAY_SIZE(tt_media_formats); i++) {
        if (strcmp(tt_media_formats[i].demuxer, name) == 0) {
            return &tt_media_formats[i];
        }
    }

    return NULL;
}


/*
 * Ownership: pb is ours from avio_open2() to avio_closep(), because with a
 * caller-supplied pb (AVFMT_FLAG_CUSTOM_IO) libavformat never closes it;
 * ctx is ours from avformat_alloc_context() until avformat_open_input()
 * fails (it frees ctx then) or avformat_close_input().
 */
static int
tt_media_open(const char *path, tt_media_info_t *info, char *err,
    size_t err_len)
{
    int                       rc, score;
    char                      url[PATH_MAX + sizeof("file:")];
    int64_t                   deadline;
    AVIOContext              *pb;
    AVFormatContext          *ctx;
    AVIOInterruptCB           int_cb;
    const AVInputFormat      *fmt;
    const tt_media_format_t  *f;

    /* "file:" keeps a name like "http://x" or "pipe:0" a plain file */
    rc = snprintf(url, sizeof(url), "file:%s", path);
    if (rc < 0 || (size_t) rc >= sizeof(url)) {
        tt_media_errf(err, err_len, "path is too long");
        return TT_INVALID;
    }

    deadline = av_gettime_relative() + TT_MEDIA_TIMEOUT_US;
    int_cb.callback = tt_media_interrupt;
    int_cb.opaque = &deadline;

    pb = NULL;
    rc = avio_open2(&pb, url, AVIO_FLAG_READ, &int_cb, NULL);
    if (rc < 0) {
        tt_media_errf(err, err_len, "cannot open \"%s\": %s", path,
                      av_err2str(rc));
        return TT_ERR;
    }

    /* by content only: an empty name never matches a demuxer's extension */
    fmt = NULL;
    score = av_probe_input_buffer2(pb, &fmt, "", NULL, 0,
                                   TT_MEDIA_PROBESIZE);
    if (score < AVPROBE_SCORE_RETRY || fmt == NULL) {
        avio_closep(&pb);
        tt_media_errf(err, err_len, "not a recognised media file");
        return TT_INVALID;
    }

    f = tt_media_find_format(fmt->name);
    if (f == NULL) {
        avio_closep(&pb);
        tt_media_errf(err, err_len,
                      "not a recognised media file (%s is not a video or "
                      "image format)", fmt->name);
        return TT_INVALID;
    }

    ctx = avformat_alloc_context();
    if (ctx == NULL) {
        avio_closep(&pb);
        tt_media_errf(err, err_len, "out of memory");
        return TT_NOMEM;
    }

    ctx->pb = pb;
    ctx->flags |= AVFMT_FLAG_CUSTOM_IO;
    ctx->interrupt_callback = int_cb;
    ctx->io_open = tt_media_io_refuse;
    ctx->probesize = TT_MEDIA_PROBESIZE;
    ctx->max_analyze_duration = TT_MEDIA_ANALYZE_US;
    ctx->max_streams = TT_MEDIA_MAX_STREAMS;

    rc = avformat_open_input(&ctx, url, fmt, NULL);
    if (rc < 0) {
        avio_closep(&pb);
        tt_media_errf(err, err_len, "%s file is truncated or corrupt (%s)",
                      f->label, av_err2str(rc));
        return TT_INVALID;
    }

    rc = tt_media_read(ctx, f, info, err, err_len);

    avformat_close_input(&ctx);
    avio_closep(&pb);

    return rc;
}


static int
tt_media_read(AVFormatContext *ctx, const tt_media_format_t *f,
    tt_media_info_t *info, char *err, size_t err_len)
{
    int                 rc, idx, tmp;
    int64_t             end;
    AVStream           *st, *ast;
    AVCodecParameters  *par;

    rc = avformat_find_stream_info(ctx, NULL);
    if (rc < 0) {
        tt_media_errf(err, err_len, "%s file is truncated or corrupt (%s)",
                      f->label, av_err2str(rc));
        return TT_INVALID;
    }

    idx = tt_media_video_stream(ctx);
    if (idx < 0) {
        tt_media_errf(err, err_len, "no video stream");
        return TT_INVALID;
    }

    st = ctx->streams[idx];
    par = st->codecpar;

    if (par->width <= 0 || par->height <= 0) {
        tt_media_errf(err, err_len, "%s file is truncated or corrupt "
                      "(the picture size is unknown)", f->label);
        return TT_INVALID;
    }

    info->kind = f->kind;
    info->width = par->width;
    info->height = par->height;
    tt_media_copy(info->video_codec, sizeof(info->video_codec),
                  avcodec_get_name(par->codec_id));
    tt_media_container(ctx, f, info);

    if (f->kind == TT_MEDIA_IMAGE) {
        info->duration_ms = 0;
        return TT_OK;
    }

    info->rotation = tt_media_rotation(st);
    if (info->rotation == 90 || info->rotation == 270) {
        tmp = info->width;
        info->width = info->height;
        info->height = tmp;
    }

    tt_media_timing(ctx, st, info);

    ast = NULL;
    rc = av_find_best_stream(ctx, AVMEDIA_TYPE_AUDIO, -1, idx, NULL, 0);
    if (rc >= 0) {
        ast = ctx->streams[rc];
        info->has_audio = 1;
        tt_media_copy(info->audio_codec, sizeof(info->audio_codec),
                      avcodec_get_name(ast->codecpar->codec_id));
    }

    /*
     * A file cut short after a front moov (faststart) opens fine: only its
     * sample index tells that the media data runs past the end of file.
     */
    if (tt_media_truncated(st, info->size, &end)
        || (ast != NULL && tt_media_truncated(ast, info->size, &end)))
    {
        tt_media_errf(err, err_len, "%s file is truncated (its media data "
                      "ends at byte %" PRId64 " but the file has %" PRId64
                      " bytes)", f->label, end, info->size);
        return TT_INVALID;
    }

    return TT_OK;
}


static void
tt_media_timing(AVFormatContext *ctx, AVStream *st, tt_media_info_t *info)
{
    AVRational  fr;

    /* the container's duration covers every stream, as a player sees it */
    if (ctx->duration != AV_NOPTS_VALUE && ctx->duration > 0) {
        info->duration_ms = av_rescale(ctx->duration, 1000, AV_TIME_BASE);

    } else if (st->duration != AV_NOPTS_VALUE && st->duration > 0) {
        info->duration_ms = av_rescale_q(st->duration, st->time_base,
                                         (AVRational) { 1, 1000 });
    }

    /* r_frame_rate is a guess at the base rate; the average is what plays */
    fr = st->avg_frame_rate;
    if (fr.num <= 0 || fr.den <= 0) {
        fr = st->r_frame_rate;
    }

    if (fr.num > 0 && fr.den > 0) {
        info->frame_rate = av_q2d(fr);
    }
}


static int
tt_media_video_stream(AVFormatContext *ctx)
{
    int        idx;
    unsigned   i;
    AVStream  *st;

    idx = av_find_best_stream(ctx, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (idx < 0) {
        return -1;
    }

    if (!(ctx->streams[idx]->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
        return idx;
    }

    /* cover art of an audio file is not a video */
    for (i = 0; i < ctx->nb_streams; i++) {
        st = ctx->streams[i];

        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO
            && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
        {
            return (int) i;
        }
    }

    return -1;
}


static int
tt_media_rotation(AVStream *st)
{
    long      deg;
    double    theta;
    size_t    size;
    uint8_t  *sd;

    sd = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (sd == NULL || size < 9 * sizeof(int32_t)) {
        return 0;
    }

    /* counter-clockwise in [-180, 180]; we want clockwise in [0, 360) */
    theta = -av_display_rotation_get((const int32_t *) sd);
    if (isnan(theta)) {
        return 0;
    }

    /* in whole degrees; no libm, the Makefile links none */
    deg = (long) (theta < 0 ? theta - 0.5 : theta + 0.5);
    deg = ((deg % 360) + 360) % 360;

    /* only quarter turns change the shape of the picture */
    if (deg == 90 || deg == 180 || deg == 270) {
        return (int) deg;
    }

    return 0;
}


static void
tt_media_container(AVFormatContext *ctx, const tt_media_format_t *f,
    tt_media_info_t *info)
{
    const char         *c, *ct;
    AVDictionaryEntry  *brand;

    c = f->container;
    ct = f->content_type;

    if (strcmp(f->demuxer, "mov,mp4,m4a,3gp,3g2,mj2") == 0) {

        /*
         * One demuxer reads both.  QuickTime writes the "qt  " brand; a
         * file with no ftyp at all predates ISO BMFF, so it is QuickTime
         * too.  Every other brand (isom, mp42, 3gp4, ...) is ISO MP4.
         */
        brand = av_dict_get(ctx->metadata, "major_brand", NULL, 0);

        if (brand == NULL || strcmp(brand->value, "qt  ") == 0) {
            c = "mov";
            ct = "video/quicktime";

        } else {
            c = "mp4";
            ct = "video/mp4";
        }

    } else if (strcmp(f->demuxer, "matroska,webm") == 0) {

        /* WebM is the Matroska subset with VP8, VP9 or AV1 video */
        if (strcmp(info->video_codec, "vp8") == 0
            || strcmp(info->video_codec, "vp9") == 0
            || strcmp(info->video_codec, "av1") == 0)
        {
            c = "webm";
            ct = "video/webm";

        } else {
            c = "mkv";
            ct = "video/x-matroska";
        }
    }

    tt_media_copy(info->container, sizeof(info->container), c);
    tt_media_copy(info->content_type, sizeof(info->content_type), ct);
}


static int
tt_media_truncated(AVStream *st, int64_t size, int64_t *end)
{
    int                  n;
    const AVIndexEntry  *e;

    n = avformat_index_get_entries_count(st);
    if (n <= 0) {
        return 0;
    }

    e = avformat_index_get_entry(st, n - 1);
    if (e == NULL || e->pos < 0) {
        return 0;
    }

    if (e->pos + e->size > size) {
        *end = e->pos + e->size;
        return 1;
    }

    return 0;
}
