/*
 * Copyright (C) the ngx_tiktok authors.
 * libFuzzer target: tt_media_probe + tt_media_check + the JSON hand-over.
 */

/*
 * Build (scripts/fuzz.sh does the same for the target fuzz_media):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Icore \
 *       fuzz/fuzz_media.c core/tt_media_probe.c <core objects> \
 *       -lyajl -lavformat -lavcodec -lavutil -lm
 * Seeds: small media files help it past the probe quickly, e.g.
 *   ffmpeg -f lavfi -i color=size=360x640:rate=24 -t 0.2 -c:v libx264 a.mp4
 * and the same as .webm, .mov, .jpg, .webp, .png.
 *
 * The probe reads by path, so each input goes into one memfd that lives
 * for the whole run and is read back through /proc/self/fd/N.
 */

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tt_media.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static int   fuzz_fd = -1;
static char  fuzz_path[64];


static void
fuzz_round_trip(const tt_media_info_t *info, const tt_media_result_t *res)
{
    int                has;
    char               err[TT_MEDIA_MSG_LEN];
    tt_jw_t            w;
    tt_buf_t           out;
    tt_json_t         *root;
    tt_arena_t        *a;
    tt_media_info_t    back;
    tt_media_result_t  rback;

    tt_buf_init(&out);
    if (tt_jw_init(&w, &out) != TT_OK) {
        abort();
    }

    tt_media_report_to_json(&w, info, res);

    if (tt_jw_finish(&w) != TT_OK || !tt_buf_ok(&out)) {
        abort();
    }

    a = tt_arena_create(4096);
    if (a == NULL) {
        abort();
    }

    root = tt_json_parse(a, out.data, out.len, err, sizeof(err));

    /* whatever the probe found must survive the pipe to the daemon */
    if (root == NULL
        || tt_media_report_from_json(root, &back, &has, &rback, err,
                                     sizeof(err)) != TT_OK
        || !has
        || back.width != info->width
        || back.height != info->height
        || back.duration_ms != info->duration_ms
        || back.size != info->size
        || strcmp(back.video_codec, info->video_codec) != 0
        || rback.nerrors != res->nerrors
        || rback.nwarnings != res->nwarnings)
    {
        fprintf(stderr, "round trip failed: %s\n%.*s\n", err,
                (int) out.len, out.data);
        abort();
    }

    tt_arena_destroy(a);
    tt_buf_free(&out);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char               err[TT_MEDIA_MSG_LEN];
    tt_media_info_t    info;
    tt_media_result_t  res;

    if (fuzz_fd == -1) {
        fuzz_fd = memfd_create("fuzz_media", MFD_CLOEXEC);
        if (fuzz_fd == -1) {
            perror("memfd_create");
            abort();
        }

        snprintf(fuzz_path, sizeof(fuzz_path), "/proc/self/fd/%d", fuzz_fd);
    }

    if (ftruncate(fuzz_fd, 0) != 0
        || (size > 0 && pwrite(fuzz_fd, data, size, 0) != (ssize_t) size))
    {
        perror("memfd write");
        abort();
    }

    if (tt_media_probe(fuzz_path, &info, err, sizeof(err)) != TT_OK) {
        if (err[0] == '\0') {
            abort();    /* every failure must say why */
        }

        return 0;
    }

    if (info.size != (int64_t) size || info.width <= 0 || info.height <= 0) {
        abort();
    }

    (void) tt_media_check(&info, info.kind, -1, &res);
    fuzz_round_trip(&info, &res);

    (void) tt_media_check(&info, TT_MEDIA_VIDEO, 4000, &res);
    (void) tt_media_check(&info, TT_MEDIA_IMAGE, -1, &res);

    return 0;
}
