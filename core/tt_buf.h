/*
 * Copyright (C) the ngx_tiktok authors.
 * A growable byte buffer (malloc) and an arena allocator.
 */

#ifndef _TT_BUF_H_INCLUDED_
#define _TT_BUF_H_INCLUDED_


#include "tt_core.h"


/*
 * tt_buf_t: the error is sticky: after a failed allocation every append is
 * a no-op and tt_buf_ok() is false, so callers check once at the end.
 * data is always NUL-terminated when len > 0 and no error happened.
 */
typedef struct {
    char           *data;
    size_t          len;
    size_t          cap;
    int             failed;
} tt_buf_t;


void tt_buf_init(tt_buf_t *b);
void tt_buf_free(tt_buf_t *b);
void tt_buf_reset(tt_buf_t *b);                 /* len = 0, keeps memory */
int tt_buf_reserve(tt_buf_t *b, size_t more);
int tt_buf_append(tt_buf_t *b, const void *p, size_t n);
int tt_buf_append_str(tt_buf_t *b, const char *s);
int tt_buf_printf(tt_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *tt_buf_detach(tt_buf_t *b, size_t *len);  /* caller frees */

/* len hex digits (either case) into len / 2 bytes; TT_ERR if not hex */
int tt_hex_decode(const char *s, size_t len, uint8_t *out);

#define tt_buf_ok(b)  (!(b)->failed)


/*
 * tt_arena_t: many small allocations freed at once; used for parsed JSON
 * trees and decoded records.  Blocks are malloc'ed; an allocation larger
 * than the block size gets a block of its own.
 */
typedef struct tt_arena_s  tt_arena_t;

tt_arena_t *tt_arena_create(size_t block_size);
void tt_arena_destroy(tt_arena_t *a);
void *tt_arena_alloc(tt_arena_t *a, size_t n);          /* aligned 16 */
void *tt_arena_calloc(tt_arena_t *a, size_t n);
char *tt_arena_strndup(tt_arena_t *a, const char *s, size_t n); /* NUL */
size_t tt_arena_used(const tt_arena_t *a);


#endif /* _TT_BUF_H_INCLUDED_ */
