/*
 * Copyright (C) the ngx_tiktok authors.
 * Media probe and TikTok rule check, on files made by ffmpeg at test time.
 */

#include "tt_test.h"

#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>

#include "tt_media.h"


#define FF  "ffmpeg -nostdin -v error -y "

/*
 * Video from a flat colour: a test pattern costs more to draw than to
 * encode, and the probe does not look at pixels.  Photos use the pattern.
 */
#define SRC(size, rate)                                                      \
    "-f lavfi -i color=c=0x3060a0:size=" size ":rate=" rate " "
#define PIC(size)  "-f lavfi -i testsrc=size=" size " -frames:v 1 "
#define TONE  "-f lavfi -i sine=frequency=440 "
#define X264  "-c:v libx264 -preset ultrafast -pix_fmt yuv420p "


static char  *tdir;
static int    have_ffmpeg;


static int
group_setup(void **state)
{
    (void) state;

    tdir = tt_test_mkdtemp();
    have_ffmpeg = system("ffmpeg -hide_banner -version >/dev/null 2>&1")
                  == 0;
    return 0;
}


static int
group_teardown(void **state)
{
    (void) state;

    tt_test_rmdir(tdir);
    return 0;
}


static int
has_encoder(const char *enc)
{
    char  cmd[256];

    snprintf(cmd, sizeof(cmd), "ffmpeg -hide_banner -encoders 2>/dev/null"
             " | grep -q ' %s '", enc);
    return system(cmd) == 0;
}


/*
 * Makes tdir/name with `ffmpeg args tdir/name`; skips the test when
 * ffmpeg or one of the encoders is missing, fails when ffmpeg fails.
 */
static void
gen(char *path, size_t size, const char *encoders, const char *name,
    const char *args)
{
    char         cmd[2048], enc[64];
    const char  *p, *e;
    size_t       n;

    if (!have_ffmpeg) {
        skip();
    }

    for (p = encoders; *p != '\0'; p = *e ? e + 1 : e) {
        e = strchr(p, ',');
        if (e == NULL) {
            e = p + strlen(p);
        }

        n = (size_t) (e - p);
        assert_true(n < sizeof(enc));
        memcpy(enc, p, n);
        enc[n] = '\0';

        if (!has_encoder(enc)) {
            print_message("encoder %s is missing: skipped\n", enc);
            skip();
        }
    }

    snprintf(path, size, "%s/%s", tdir, name);
    snprintf(cmd, sizeof(cmd), FF "%s '%s'", args, path);

    if (system(cmd) != 0) {
        fail_msg("ffmpeg failed: %s", cmd);
    }
}


static void
write_file(char *path, size_t size, const char *name, const void *data,
    size_t len)
{
    FILE  *f;

    snprintf(path, size, "%s/%s", tdir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}


/* copies the first len bytes of src to tdir/name */
static void
head_file(char *path, size_t size, const char *src, const char *name,
    size_t len)
{
    char    *buf;
    FILE    *f;
    size_t   n;

    buf = malloc(len);
    assert_non_null(buf);

    f = fopen(src, "rb");
    assert_non_null(f);
    n = fread(buf, 1, len, f);
    assert_int_equal(n, len);
    assert_int_equal(fclose(f), 0);

    write_file(path, size, name, buf, len);
    free(buf);
}


static int64_t
file_size(const char *path)
{
    struct stat  st;

    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}


/* list must hold exactly the NULL-terminated messages in want */
static void
expect_msgs(char (*list)[TT_MEDIA_MSG_LEN], unsigned n, const char **want)
{
    unsigned  i;

    for (i = 0; want[i] != NULL; i++) {
        if (i >= n) {
            fail_msg("missing message \"%s\"", want[i]);
        }

        assert_string_equal(list[i], want[i]);
    }

    if (n != i) {
        fail_msg("unexpected message \"%s\"", list[i]);
    }
}

#define MSGS(...)  ((const char *[]) { __VA_ARGS__, NULL })
#define NONE       ((const char *[]) { NULL })

#define expect_errors(res, want)                                             \
    expect_msgs((res)->errors, (res)->nerrors, want)
#define expect_warnings(res, want)                                           \
    expect_msgs((res)->warnings, (res)->nwarnings, want)


static void
probe_ok(const char *path, tt_media_info_t *info)
{
    char  err[TT_MEDIA_MSG_LEN];

    if (tt_media_probe(path, info, err, sizeof(err)) != TT_OK) {
        fail_msg("probe of %s failed: %s", path, err);
    }

    assert_int_equal(info->size, file_size(path));
}


static void
probe_fails(const char *path, int rc, const char *want)
{
    char             err[TT_MEDIA_MSG_LEN];
    tt_media_info_t  info;

    assert_int_equal(tt_media_probe(path, &info, err, sizeof(err)), rc);
    assert_string_equal(err, want);
}


static void
test_mp4_ok(void **state)
{
    char               path[512];
    tt_media_info_t    info;
    tt_media_result_t  res;

    (void) state;

    gen(path, sizeof(path), "libx264,aac", "ok.mp4",
        SRC("720x1280", "30") TONE "-t 4 " X264 "-c:a aac");

    probe_ok(path, &info);
    assert_int_equal(info.kind, TT_MEDIA_VIDEO);
    assert_string_equal(info.container, "mp4");
    assert_string_equal(info.content_type, "video/mp4");
    assert_string_equal(info.video_codec, "h264");
    assert_string_equal(info.audio_codec, "aac");
    assert_true(info.has_audio);
    assert_int_equal(info.width, 720);
    assert_int_equal(info.height, 1280);
    assert_int_equal(info.rotation, 0);
    assert_true(info.duration_ms >= 3950 && info.duration_ms <= 4100);
    assert_true(fabs(info.frame_rate - 30) < 0.001);

    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    expect_errors(&res, NONE);
    expect_warnings(&res, NONE);

    /* the creator's limit applies only when it is the tighter one */
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, 600000, &res),
                     TT_OK);
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, 3000000, &res),
                     TT_OK);

    assert_int_equal(tt_media_check(&info, TT_MEDIA_IMAGE, -1, &res),
                     TT_INVALID);
    expect_errors(&res, MSGS("expected an image but the file is a video "
                             "(mp4)"));
}


static void
test_mov_ok(void **state)
{
    char               path[512];
    tt_media_info_t    info;
    tt_media_result_t  res;

    (void) state;

    gen(path, sizeof(path), "libx264,aac", "ok.mov",
        SRC("1080x1920", "25") TONE "-t 3.2 " X264 "-c:a aac");

    probe_ok(path, &info);
    assert_string_equal(info.container, "mov");
    assert_string_equal(info.content_type, "video/quicktime");
    assert_string_equal(info.video_codec, "h264");
    assert_int_equal(info.width, 1080);
    assert_int_equal(info.height, 1920);
    assert_true(fabs(info.frame_rate - 25) < 0.001);

    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    expect_warnings(&res, NONE);
}


static void
test_webm_vp9(void **state)
{
    char               path[512];
    tt_media_info_t    info;
    tt_media_result_t  res;

    (void) state;

    gen(path, sizeof(path), "libvpx-vp9,libopus", "ok.webm",
        SRC("720x1280", "30") TONE "-t 3.5 -c:v libvpx-vp9 -deadline "
        "realtime -cpu-used 8 -b:v 200k -c:a libopus");

    probe_ok(path, &info);
    assert_string_equal(info.container, "webm");
    assert_string_equal(info.content_type, "video/webm");
    assert_string_equal(info.video_codec, "vp9");
    assert_string_equal(info.audio_codec, "opus");

    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    expect_warnings(&res, MSGS("audio codec opus is not AAC"));
}


static void
test_hevc_and_mkv(void **state)
{
    char               path[512];
    tt_media_info_t    info;
    tt_media_result_t  res;

    (void) state;

    gen(path, sizeof(path), "libx265", "hevc.mp4",
        SRC("720x1280", "24") "-t 3 -c:v libx265 -preset ultrafast "
        "-x265-params log-level=none -tag:v hvc1");

    probe_ok(path, &info);
    assert_string_equal(info.container, "mp4");
    assert_string_equal(info.video_codec, "hevc");
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    expect_warnings(&res, MSGS("no audio track"));

    /* H.264 in Matroska is not WebM */
    gen(path, sizeof(path), "libx264", "h264.mkv",
        SRC("720x1280", "30") "-t 3 " X264);

    probe_ok(path, &info);
    assert_string_equal(info.container, "mkv");
    assert_string_equal(info.content_type, "video/x-matroska");
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);
    expect_errors(&res, MSGS("container mkv is not one of MP4, MOV, WebM"));
}


static void
test_too_short(void **state)
{
    char               path[512];
    tt_media_info_t    info;
    tt_media_result_t  res;

    (void) state;

    gen(path, sizeof(path), "libx264", "short.mp4",
        SRC("720x1280", "30") "-t 2 " X264);

    probe_ok(path, &info);
    assert_int_equal(info.duration_ms, 2000);
    assert_false(info.has_audio);

    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);
    expect_errors(&res, MSGS("duration 2 s is under the 3 s minimum"));
    expect_warnings(&res, MSGS("no audio track"));
}


static void
test_too_long(void **state)
{
    char               path[512], src[512], args[1024];
    tt_media_info_t    info;
    tt_media_result_t  res;

    (void) state;

    /* 601 s by looping a 1 s clip with stream copy: fast, no encoding */
    gen(src, sizeof(src), "libx264", "one.mp4",
        "-f lavfi -i color=c=blue:size=720x1280:rate=24 -t 1 " X264);
    snprintf(args, sizeof(args), "-stream_loop 600 -i '%s' -c copy", src);
    gen(path, sizeof(path), "", "long.mp4", args);

    probe_ok(path, &info);
    assert_int_equal(info.duration_ms, 601000);

    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);
    expect_errors(&res, MSGS("duration 601 s is over the 10 min maximum"));

    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, 300000, &res),
                     TT_INVALID);
    expect_errors(&res, MSGS("duration 601 s is over the creator's 300 s "
                             "maximum"));
}


static void
test_creator_limit(void **state)
{
    char               path[512];
    tt_media_info_t    info;
    tt_media_result_t  res;

    (void) state;

    gen(path, sizeof(path), "libx264", "five.mp4",
        SRC("720x1280", "30") "-t 5 " X264);

    probe_ok(path, &info);
    assert_int_equal(info.duration_ms, 5000);

    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, 4000, &res),
                     TT_INVALID);
    expect_errors(&res, MSGS("duration 5 s is over the creator's 4 s "
                             "maximum"));

    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, 5000, &res),
                     TT_OK);
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, 4999, &res),
                     TT_INVALID);
    expect_errors(&res, MSGS("duration 5 s is over the creator's 4.999 s "
                             "maximum"));
}


static void
test_too_small(void **state)
{
    char               path[512];
    tt_media_info_t    info;
    tt_media_result_t  res;

    (void) state;

    gen(path, sizeof(path), "libx264,aac", "small.mp4",
        SRC("320x240", "30") TONE "-t 3 " X264 "-c:a aac");

    probe_ok(path, &info);
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);
    expect_errors(&res, MSGS("width 320 px is under the 360 px minimum",
                             "height 240 px is under the 360 px minimum"));
    expect_warnings(&res,
        MSGS("aspect ratio 4:3 is not 9:16; TikTok will letterbox it",
             "resolution 320x240 is under the recommended 720x1280"));
}


static void
test_wrong_codec(void **state)
{
    char               path[512];
    tt_media_info_t    info;
    tt_media_result_t  res;

    (void) state;

    gen(path, sizeof(path), "mpeg4,aac", "mpeg4.mp4",
        SRC("720x1280", "30") TONE "-t 3 -c:v mpeg4 -c:a aac");

    probe_ok(path, &info);
    assert_string_equal(info.container, "mp4");
    assert_string_equal(info.video_codec, "mpeg4");
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);
    expect_errors(&res, MSGS("video codec mpeg4 is not one of H.264, H.265, "
                             "VP8, VP9"));
    expect_warnings(&res, NONE);
}


static void
test_low_frame_rate(void **state)
{
    char               path[512];
    tt_media_info_t    info;
    tt_media_result_t  res;

    (void) state;

    gen(path, sizeof(path), "libx264,aac", "fps10.mp4",
        SRC("720x1280", "10") TONE "-t 4 " X264 "-c:a aac");

    probe_ok(path, &info);
    assert_true(fabs(info.frame_rate - 10) < 0.001);
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);
    expect_errors(&res, MSGS("frame rate 10 fps is outside 23-60 fps"));
    expect_warnings(&res, NONE);
}


static void
test_landscape_and_rotation(void **state)
{
    char               path[512], src[512], args[1024];
    tt_media_info_t    info;
    tt_media_result_t  res;

    (void) state;

    gen(src, sizeof(src), "libx264,aac", "wide.mp4",
        SRC("1280x720", "30") TONE "-t 3 " X264 "-c:a aac");

    probe_ok(src, &info);
    assert_int_equal(info.width, 1280);
    assert_int_equal(info.height, 720);
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    expect_errors(&res, NONE);
    expect_warnings(&res,
        MSGS("aspect ratio 16:9 is not 9:16; TikTok will letterbox it"));

    /* the same pixels tagged a quarter turn: a portrait video */
    snprintf(args, sizeof(args), "-i '%s' -c copy -metadata:s:v:0 rotate=90",
             src);
    gen(path, sizeof(path), "", "turned.mp4", args);

    probe_ok(path, &info);
    assert_int_equal(info.width, 720);
    assert_int_equal(info.height, 1280);
    assert_true(info.rotation == 90 || info.rotation == 270);
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    expect_warnings(&res, NONE);
}


static void
test_png(void **state)
{
    char               path[512];
    tt_media_info_t    info;
    tt_media_result_t  res;

    (void) state;

    gen(path, sizeof(path), "png", "pic.png",
        PIC("1080x1920"));

    /* the name does not matter: detection goes by content */
    probe_ok(path, &info);
    assert_int_equal(info.kind, TT_MEDIA_IMAGE);
    assert_string_equal(info.container, "png");
    assert_string_equal(info.content_type, "image/png");
    assert_int_equal(info.duration_ms, 0);

    assert_int_equal(tt_media_check(&info, TT_MEDIA_IMAGE, -1, &res),
                     TT_INVALID);
    expect_errors(&res, MSGS("PNG images are not accepted by TikTok; use "
                             "JPEG or WebP"));

    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);
    expect_errors(&res, MSGS("expected a video but the file is an image "
                             "(png)"));
}


static void
test_jpeg(void **state)
{
    char               path[512];
    tt_media_info_t    info;
    tt_media_result_t  res;

    (void) state;

    gen(path, sizeof(path), "mjpeg", "pic.mp4",
        PIC("1080x1920") "-f image2 -c:v mjpeg");

    probe_ok(path, &info);
    assert_int_equal(info.kind, TT_MEDIA_IMAGE);
    assert_string_equal(info.container, "jpeg");
    assert_string_equal(info.content_type, "image/jpeg");
    assert_int_equal(info.width, 1080);
    assert_int_equal(info.height, 1920);
    assert_int_equal(tt_media_check(&info, TT_MEDIA_IMAGE, -1, &res), TT_OK);
    expect_errors(&res, NONE);
    expect_warnings(&res, NONE);

    /* landscape 1080p is 1080p too */
    gen(path, sizeof(path), "mjpeg", "wide.jpg",
        PIC("1920x1080"));
    probe_ok(path, &info);
    assert_int_equal(tt_media_check(&info, TT_MEDIA_IMAGE, -1, &res), TT_OK);

    gen(path, sizeof(path), "mjpeg", "big.jpg",
        PIC("1440x2560"));
    probe_ok(path, &info);
    assert_int_equal(tt_media_check(&info, TT_MEDIA_IMAGE, -1, &res),
                     TT_INVALID);
    expect_errors(&res,
        MSGS("image 1440x2560 is over 1080p: the shorter side 1440 px is "
             "over 1080 px",
             "image 1440x2560 is over 1080p: the longer side 2560 px is "
             "over 1920 px"));

    gen(path, sizeof(path), "mjpeg", "square.jpg",
        PIC("1200x1200"));
    probe_ok(path, &info);
    assert_int_equal(tt_media_check(&info, TT_MEDIA_IMAGE, -1, &res),
                     TT_INVALID);
    expect_errors(&res,
        MSGS("image 1200x1200 is over 1080p: the shorter side 1200 px is "
             "over 1080 px"));
}


static void
test_webp(void **state)
{
    char               path[512];
    tt_media_info_t    info;
    tt_media_result_t  res;

    (void) state;

    gen(path, sizeof(path), "libwebp", "pic.webp",
        PIC("1080x1350") "-c:v libwebp");

    probe_ok(path, &info);
    assert_int_equal(info.kind, TT_MEDIA_IMAGE);
    assert_string_equal(info.container, "webp");
    assert_string_equal(info.content_type, "image/webp");
    assert_int_equal(info.width, 1080);
    assert_int_equal(info.height, 1350);
    assert_int_equal(tt_media_check(&info, TT_MEDIA_IMAGE, -1, &res), TT_OK);
    expect_errors(&res, NONE);
}


static void
test_truncated(void **state)
{
    char             path[512], src[512], args[1024];
    int64_t          size;
    tt_media_info_t  info;

    (void) state;

    /* ffmpeg writes moov at the end: the first half has none */
    gen(src, sizeof(src), "libx264,aac", "whole.mp4",
        SRC("720x1280", "30") TONE "-t 4 " X264 "-c:a aac");
    size = file_size(src);
    head_file(path, sizeof(path), src, "half.mp4", (size_t) size / 2);
    probe_fails(path, TT_INVALID, "MP4/MOV file is truncated or corrupt "
                "(Invalid data found when processing input)");

    /* with moov first the file opens; its sample index gives it away */
    snprintf(args, sizeof(args), "-i '%s' -c copy -movflags +faststart",
             src);
    gen(src, sizeof(src), "", "fast.mp4", args);
    size = file_size(src);
    probe_ok(src, &info);
    head_file(path, sizeof(path), src, "fasthalf.mp4", (size_t) size / 2);
    assert_int_equal(tt_media_probe(path, &info, args, sizeof(args)),
                     TT_INVALID);
    assert_non_null(strstr(args, "MP4/MOV file is truncated (its media "
                                 "data ends at byte "));
}


static void
test_not_media(void **state)
{
    char                 path[512];
    static const char    text[] = "This is a text file, not a video.\n";
    static const char    junk[] = { 0x00, 0x00, 0x00, 0x18, 'f', 't',
                                    'y', 'p', 'i', 's', 'o', 'm' };

    (void) state;

    write_file(path, sizeof(path), "text.mp4", text, sizeof(text) - 1);
    probe_fails(path, TT_INVALID, "not a recognised media file");

    write_file(path, sizeof(path), "empty.mp4", "", 0);
    probe_fails(path, TT_INVALID,
                "not a recognised media file (the file is empty)");

    /* an ftyp box and nothing else */
    write_file(path, sizeof(path), "ftyp.mp4", junk, sizeof(junk));
    assert_int_equal(tt_media_probe(path, &(tt_media_info_t) { 0 }, NULL, 0),
                     TT_INVALID);

    snprintf(path, sizeof(path), "%s/missing.mp4", tdir);
    assert_int_equal(tt_media_probe(path, &(tt_media_info_t) { 0 }, NULL, 0),
                     TT_ERR);

    assert_int_equal(tt_media_probe(tdir, &(tt_media_info_t) { 0 }, path,
                                    sizeof(path)), TT_INVALID);
    assert_non_null(strstr(path, "\" is not a regular file"));
}


static void
test_no_video_stream(void **state)
{
    char  path[512];

    (void) state;

    gen(path, sizeof(path), "aac", "tone.mp4", TONE "-t 3 -c:a aac");
    probe_fails(path, TT_INVALID, "no video stream");
}


static void
test_audio_file(void **state)
{
    char  path[512];

    (void) state;

    /* a WAV is a real media file but not video: refused by format */
    gen(path, sizeof(path), "pcm_s16le", "tone.webm", TONE "-t 1 -f wav");
    probe_fails(path, TT_INVALID, "not a recognised media file (wav is not "
                "a video or image format)");
}


static tt_media_info_t
good_video(void)
{
    tt_media_info_t  info;

    memset(&info, 0, sizeof(info));
    info.kind = TT_MEDIA_VIDEO;
    memcpy(info.container, "mp4", sizeof("mp4"));
    memcpy(info.content_type, "video/mp4", sizeof("video/mp4"));
    memcpy(info.video_codec, "h264", sizeof("h264"));
    memcpy(info.audio_codec, "aac", sizeof("aac"));
    info.has_audio = 1;
    info.size = 1000000;
    info.width = 1080;
    info.height = 1920;
    info.duration_ms = 15000;
    info.frame_rate = 30000.0 / 1001;
    return info;
}


/*
 * Every bound with TikTok's number written here, not the constant under
 * test: 360-4,096 px a side, 23-60 fps, 3 s to 10 min, 4 GiB a video; a
 * photo up to 1080p (1,080 by 1,920 px) and 20 MB.  Each number passes
 * and the next one out fails.
 */
static void
test_rules_numbers(void **state)
{
    tt_media_info_t    info, img;
    tt_media_result_t  res;

    (void) state;

    info = good_video();
    info.width = 360;
    info.height = 360;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    info.width = 359;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);
    info.width = 360;
    info.height = 359;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);

    info = good_video();
    info.width = 4096;
    info.height = 4096;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    info.height = 4097;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);
    info.height = 4096;
    info.width = 4097;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);

    info = good_video();
    info.frame_rate = 23;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    info.frame_rate = 22.99;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);
    info.frame_rate = 60;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    info.frame_rate = 60.01;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);
    info.frame_rate = 61;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);

    info = good_video();
    info.duration_ms = 3000;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    info.duration_ms = 2999;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);
    info.duration_ms = 10 * 60 * 1000;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    info.duration_ms = 10 * 60 * 1000 + 1;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);

    info = good_video();
    info.size = 4294967296LL;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    info.size = 4294967297LL;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res),
                     TT_INVALID);

    memset(&img, 0, sizeof(img));
    img.kind = TT_MEDIA_IMAGE;
    memcpy(img.container, "jpeg", sizeof("jpeg"));
    memcpy(img.content_type, "image/jpeg", sizeof("image/jpeg"));
    memcpy(img.video_codec, "mjpeg", sizeof("mjpeg"));
    img.size = 20971520;
    img.width = 1080;
    img.height = 1920;
    assert_int_equal(tt_media_check(&img, TT_MEDIA_IMAGE, -1, &res), TT_OK);
    img.width = 1920;
    img.height = 1080;
    assert_int_equal(tt_media_check(&img, TT_MEDIA_IMAGE, -1, &res), TT_OK);
    img.height = 1081;
    assert_int_equal(tt_media_check(&img, TT_MEDIA_IMAGE, -1, &res),
                     TT_INVALID);
    img.height = 1080;
    img.width = 1921;
    assert_int_equal(tt_media_check(&img, TT_MEDIA_IMAGE, -1, &res),
                     TT_INVALID);
    img.width = 1920;
    img.size = 20971521;
    assert_int_equal(tt_media_check(&img, TT_MEDIA_IMAGE, -1, &res),
                     TT_INVALID);
}


static void
test_rules(void **state)
{
    tt_media_info_t    info;
    tt_media_result_t  res;

    (void) state;

    info = good_video();
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    expect_warnings(&res, NONE);

    info.duration_ms = 2999;
    tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res);
    expect_errors(&res, MSGS("duration 2.999 s is under the 3 s minimum"));

    info.duration_ms = 2100;
    tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res);
    expect_errors(&res, MSGS("duration 2.1 s is under the 3 s minimum"));

    info.duration_ms = 3000;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    info.duration_ms = 600000;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);

    info.duration_ms = 600001;
    tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res);
    expect_errors(&res, MSGS("duration 600.001 s is over the 10 min "
                             "maximum"));

    info.duration_ms = -1;
    tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res);
    expect_errors(&res, MSGS("duration is unknown"));

    info = good_video();
    info.width = 4096;
    info.height = 4097;
    tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res);
    expect_errors(&res, MSGS("height 4097 px is over the 4096 px maximum"));

    info = good_video();
    info.frame_rate = 23.976;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    info.frame_rate = 60.0004;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    info.frame_rate = 22.99;
    tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res);
    expect_errors(&res, MSGS("frame rate 22.99 fps is outside 23-60 fps"));
    info.frame_rate = 120;
    tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res);
    expect_errors(&res, MSGS("frame rate 120 fps is outside 23-60 fps"));
    info.frame_rate = 0;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    expect_warnings(&res, MSGS("frame rate is unknown"));

    /* 4 GB is 4 GiB */
    info = good_video();
    info.size = (int64_t) 4 * 1024 * 1024 * 1024;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    info.size++;
    tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res);
    expect_errors(&res, MSGS("size 4294967297 bytes is over the 4 GB "
                             "(4294967296 bytes) maximum"));

    info = good_video();
    info.width = 1088;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res), TT_OK);
    expect_warnings(&res, NONE);
    info.width = 854;
    info.height = 480;
    info.has_audio = 0;
    tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res);
    expect_warnings(&res,
        MSGS("aspect ratio 1.78:1 is not 9:16; TikTok will letterbox it",
             "resolution 854x480 is under the recommended 720x1280",
             "no audio track"));

    info = good_video();
    memcpy(info.container, "avi", sizeof("avi"));
    memcpy(info.video_codec, "av1", sizeof("av1"));
    memcpy(info.audio_codec, "mp3", sizeof("mp3"));
    tt_media_check(&info, TT_MEDIA_VIDEO, -1, &res);
    expect_errors(&res, MSGS("container avi is not one of MP4, MOV, WebM",
                             "video codec av1 is not one of H.264, H.265, "
                             "VP8, VP9"));
    expect_warnings(&res, MSGS("audio codec mp3 is not AAC"));

    memset(&info, 0, sizeof(info));
    info.kind = TT_MEDIA_IMAGE;
    memcpy(info.container, "jpeg", sizeof("jpeg"));
    info.width = 1080;
    info.height = 1920;
    info.size = (int64_t) 20 * 1024 * 1024;
    assert_int_equal(tt_media_check(&info, TT_MEDIA_IMAGE, -1, &res), TT_OK);
    info.size++;
    tt_media_check(&info, TT_MEDIA_IMAGE, -1, &res);
    expect_errors(&res, MSGS("size 20971521 bytes is over the 20 MB "
                             "(20971520 bytes) maximum"));

    memcpy(info.container, "gif", sizeof("gif"));
    info.size = 1;
    tt_media_check(&info, TT_MEDIA_IMAGE, -1, &res);
    expect_errors(&res, MSGS("image format gif is not one of JPEG, WebP"));
}


/* field by field: struct copies need not keep padding bytes */
static void
expect_info(const tt_media_info_t *a, const tt_media_info_t *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_string_equal(a->container, b->container);
    assert_string_equal(a->content_type, b->content_type);
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->width, b->width);
    assert_int_equal(a->height, b->height);
    assert_int_equal(a->rotation, b->rotation);
    assert_int_equal(a->duration_ms, b->duration_ms);
    assert_string_equal(a->video_codec, b->video_codec);
    assert_true(a->frame_rate == b->frame_rate);
    assert_string_equal(a->audio_codec, b->audio_codec);
    assert_int_equal(a->has_audio, b->has_audio);
}


static char *
to_json(const tt_media_info_t *info, const tt_media_result_t *res)
{
    tt_buf_t  out;
    tt_jw_t   w;
    char     *s;

    tt_buf_init(&out);
    assert_int_equal(tt_jw_init(&w, &out), TT_OK);

    if (res != NULL) {
        tt_media_report_to_json(&w, info, res);

    } else {
        tt_media_info_to_json(&w, info);
    }

    assert_int_equal(tt_jw_finish(&w), TT_OK);
    assert_true(tt_buf_ok(&out));

    s = strndup(out.data, out.len);
    assert_non_null(s);
    tt_buf_free(&out);
    return s;
}


static void
test_json_round_trip(void **state)
{
    int                has;
    char              *s, err[160];
    tt_json_t         *root;
    tt_arena_t        *a;
    tt_media_info_t    info, back;
    tt_media_result_t  res, rback;

    (void) state;

    a = tt_arena_create(4096);
    assert_non_null(a);

    info = good_video();
    info.rotation = 90;
    s = to_json(&info, NULL);
    root = tt_json_parse(a, s, strlen(s), err, sizeof(err));
    assert_non_null(root);
    assert_int_equal(tt_media_info_from_json(root, &back, err, sizeof(err)),
                     TT_OK);
    expect_info(&info, &back);
    free(s);

    /* no audio: null codec, and it comes back as "" */
    info.has_audio = 0;
    info.audio_codec[0] = '\0';
    info.frame_rate = 0;
    s = to_json(&info, NULL);
    assert_non_null(strstr(s, "\"audio_codec\":null"));
    root = tt_json_parse(a, s, strlen(s), err, sizeof(err));
    assert_non_null(root);
    assert_int_equal(tt_media_info_from_json(root, &back, err, sizeof(err)),
                     TT_OK);
    expect_info(&info, &back);
    free(s);

    /* a whole report */
    tt_media_check(&info, TT_MEDIA_VIDEO, 1000, &res);
    assert_true(res.nerrors > 0);
    s = to_json(&info, &res);
    root = tt_json_parse(a, s, strlen(s), err, sizeof(err));
    assert_non_null(root);
    assert_int_equal(tt_media_report_from_json(root, &back, &has, &rback,
                                               err, sizeof(err)), TT_OK);
    assert_true(has);
    expect_info(&info, &back);
    assert_memory_equal(&res, &rback, sizeof(res));
    assert_non_null(strstr(s, "\"ok\":false"));
    free(s);

    /* a failed probe: info null */
    memset(&res, 0, sizeof(res));
    tt_media_add_error(&res, "%s", "not a recognised media file");
    s = to_json(NULL, &res);
    assert_string_equal(s, "{\"ok\":false,\"info\":null,\"errors\":"
                        "[\"not a recognised media file\"],"
                        "\"warnings\":[]}");
    root = tt_json_parse(a, s, strlen(s), err, sizeof(err));
    assert_non_null(root);
    assert_int_equal(tt_media_report_from_json(root, &back, &has, &rback,
                                               err, sizeof(err)), TT_OK);
    assert_false(has);
    assert_int_equal(rback.nerrors, 1);
    free(s);

    tt_arena_destroy(a);
}


static void
json_bad(const char *json, const char *want)
{
    int                has;
    char               err[160];
    tt_json_t         *root;
    tt_arena_t        *a;
    tt_media_info_t    info;
    tt_media_result_t  res;

    a = tt_arena_create(4096);
    assert_non_null(a);
    root = tt_json_parse(a, json, strlen(json), err, sizeof(err));
    assert_non_null(root);

    err[0] = '\0';
    assert_int_equal(tt_media_report_from_json(root, &info, &has, &res, err,
                                               sizeof(err)), TT_INVALID);
    assert_string_equal(err, want);
    tt_arena_destroy(a);
}


#define INFO_A  "{\"kind\":\"video\",\"container\":\"mp4\","                \
                "\"content_type\":\"video/mp4\",\"size\":1,\"width\":2,"    \
                "\"height\":3,\"rotation\":0,\"duration_ms\":"

static void
test_json_bad(void **state)
{
    (void) state;

    json_bad("[]", "probe report must be an object");
    json_bad("{\"info\":null,\"errors\":[],\"warnings\":[]}",
             "\"ok\" must be a boolean");
    json_bad("{\"ok\":true,\"info\":null,\"errors\":[\"x\"],"
             "\"warnings\":[]}", "\"ok\" disagrees with \"errors\"");
    json_bad("{\"ok\":false,\"info\":null,\"errors\":[],\"warnings\":[]}",
             "\"ok\" disagrees with \"errors\"");
    json_bad("{\"ok\":true,\"info\":null,\"errors\":[1],\"warnings\":[]}",
             "\"errors\" item 0 must be a string under 160 bytes");
    json_bad("{\"ok\":true,\"info\":null,\"errors\":[],"
             "\"warnings\":[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
             "\"a\",\"a\",\"a\",\"a\",\"a\"]}",
             "\"warnings\" must be an array of at most 12 strings");
    json_bad("{\"ok\":true,\"info\":{\"kind\":\"audio\"},\"errors\":[],"
             "\"warnings\":[]}", "\"kind\" must be \"video\" or \"image\"");
    json_bad("{\"ok\":true,\"info\":" INFO_A "-2,\"video_codec\":\"h264\","
             "\"frame_rate\":30,\"audio_codec\":null,\"has_audio\":false},"
             "\"errors\":[],\"warnings\":[]}",
             "\"duration_ms\" must be an integer in -1..9223372036854775807");
    json_bad("{\"ok\":true,\"info\":" INFO_A "5,\"video_codec\":"
             "\"0123456789012345678901234567890123\",\"frame_rate\":30,"
             "\"audio_codec\":null,\"has_audio\":false},\"errors\":[],"
             "\"warnings\":[]}", "\"video_codec\" is too long or has a NUL");
    json_bad("{\"ok\":true,\"info\":" INFO_A "5,\"video_codec\":\"h264\","
             "\"frame_rate\":\"30\",\"audio_codec\":null,\"has_audio\":false},"
             "\"errors\":[],\"warnings\":[]}",
             "\"frame_rate\" must be a number");
    json_bad("{\"ok\":true,\"info\":" INFO_A "5,\"video_codec\":\"h264\","
             "\"frame_rate\":30,\"audio_codec\":null},"
             "\"errors\":[],\"warnings\":[]}",
             "\"has_audio\" must be a boolean");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_mp4_ok),
        cmocka_unit_test(test_mov_ok),
        cmocka_unit_test(test_webm_vp9),
        cmocka_unit_test(test_hevc_and_mkv),
        cmocka_unit_test(test_too_short),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_creator_limit),
        cmocka_unit_test(test_too_small),
        cmocka_unit_test(test_wrong_codec),
        cmocka_unit_test(test_low_frame_rate),
        cmocka_unit_test(test_landscape_and_rotation),
        cmocka_unit_test(test_png),
        cmocka_unit_test(test_jpeg),
        cmocka_unit_test(test_webp),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_not_media),
        cmocka_unit_test(test_no_video_stream),
        cmocka_unit_test(test_audio_file),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_rules_numbers),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_bad),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
