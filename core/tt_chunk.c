/*
 * Copyright (C) the ngx_tiktok authors.
 * The chunk plan of a FILE_UPLOAD (tiktok-api.md section 6).
 */

#include "tt_chunk.h"


/*
 * The rules, and the choices where the documentation leaves room:
 *
 * - total_chunk_count = floor(video_size / chunk_size); the last chunk
 *   absorbs the remainder, so it is shorter than 2 * chunk_size, which is
 *   at most 128,000,000 bytes.
 * - chunk_size is kept in 5,242,880..64,000,000, which satisfies both the
 *   decimal and the binary reading of "5 MB" and "64 MB".
 * - A file smaller than 5,242,880 bytes goes whole; so does any file for
 *   which the floor division gives one chunk.  Whenever the count is 1,
 *   chunk_size is set to video_size (the safe reading of the doc).
 * - A file larger than 64,000,000 bytes always goes in at least two
 *   chunks ("files > 64 MB must be sent in multiple chunks"), even when
 *   the configured chunk size would give one: chunk_size becomes half the
 *   file.
 * - At most 1,000 chunks: the chunk size is raised to ceil(size / 1000)
 *   when needed (only files above 5.24 GB, beyond the 4 GiB cap, need it;
 *   the rule is kept so that the plan never breaks the count limit).
 */

int64_t
tt_chunk_size_clamp(int64_t want)
{
    if (want <= 0) {
        return TT_CHUNK_DEFAULT;
    }

    if (want < TT_CHUNK_MIN) {
        return TT_CHUNK_MIN;
    }

    if (want > TT_CHUNK_MAX) {
        return TT_CHUNK_MAX;
    }

    return want;
}


int
tt_chunk_plan(int64_t size, int64_t want, tt_chunk_plan_t *plan)
{
    int64_t  cs, count;

    if (size <= 0 || size > TT_VIDEO_SIZE_MAX) {
        return TT_INVALID;
    }

    plan->video_size = size;

    cs = tt_chunk_size_clamp(want);

    if (size < TT_CHUNK_MIN) {
        plan->chunk_size = size;
        plan->count = 1;
        return TT_OK;
    }

    count = size / cs;

    if (count > TT_CHUNK_COUNT_MAX) {
        cs = (size + TT_CHUNK_COUNT_MAX - 1) / TT_CHUNK_COUNT_MAX;
        count = size / cs;
    }

    if (count < 2 && size > TT_CHUNK_MAX) {
        cs = size / 2;
        count = size / cs;
    }

    if (count <= 1) {
        plan->chunk_size = size;
        plan->count = 1;
        return TT_OK;
    }

    plan->chunk_size = cs;
    plan->count = count;

    return TT_OK;
}


void
tt_chunk_range(const tt_chunk_plan_t *plan, int64_t i, int64_t *first,
    int64_t *len)
{
    *first = i * plan->chunk_size;

    if (i == plan->count - 1) {
        *len = plan->video_size - *first;

    } else {
        *len = plan->chunk_size;
    }
}


int64_t
tt_chunk_at(const tt_chunk_plan_t *plan, int64_t off)
{
    int64_t  i;

    if (off < 0 || plan->chunk_size <= 0 || off % plan->chunk_size != 0) {
        return -1;
    }

    i = off / plan->chunk_size;

    return (i < plan->count) ? i : -1;
}
