/*
 * Copyright (C) the ngx_tiktok authors.
 * The chunk plan of a FILE_UPLOAD (tiktok-api.md section 6).
 */

#ifndef _TT_CHUNK_H_INCLUDED_
#define _TT_CHUNK_H_INCLUDED_


#include "tt_core.h"


#define TT_CHUNK_MIN         5242880LL      /* 5 MiB: the strict reading */
#define TT_CHUNK_MAX         64000000LL     /* 64 MB: the strict reading */
#define TT_CHUNK_DEFAULT     10000000LL
#define TT_CHUNK_LAST_MAX    128000000LL
#define TT_CHUNK_COUNT_MAX   1000
#define TT_VIDEO_SIZE_MAX    4294967296LL   /* 4 GiB, section 9 */


typedef struct {
    int64_t         video_size;
    int64_t         chunk_size;
    int64_t         count;
} tt_chunk_plan_t;


/* the configured chunk size: <= 0 means the default; clamped to MIN..MAX */
int64_t tt_chunk_size_clamp(int64_t want);

/*
 * Plans the upload of size bytes with the wanted chunk size (see
 * tt_chunk.c for the rules).  TT_INVALID when size is <= 0 or larger than
 * TT_VIDEO_SIZE_MAX.
 */
int tt_chunk_plan(int64_t size, int64_t want, tt_chunk_plan_t *plan);

/* the byte range of chunk i (0-based): first byte and length */
void tt_chunk_range(const tt_chunk_plan_t *plan, int64_t i, int64_t *first,
    int64_t *len);

/* the index of the chunk starting at byte off, or -1 if off is not the
 * start of a chunk */
int64_t tt_chunk_at(const tt_chunk_plan_t *plan, int64_t off);


#endif /* _TT_CHUNK_H_INCLUDED_ */
